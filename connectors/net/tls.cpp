#include "connectors/net/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace obr::net {

absl::Status check_ca_file(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::InvalidArgumentError("tls.ca_file '" + path + "': cannot open (" + std::strerror(errno) + ")");
  }
  int certificates = 0;
  while (X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    ++certificates;
    X509_free(cert);
  }
  ERR_clear_error();  // the read that ends the loop leaves "no start line" behind
  std::fclose(f);
  if (certificates == 0) {
    return absl::InvalidArgumentError("tls.ca_file '" + path + "': holds no PEM certificate");
  }
  return absl::OkStatus();
}

}  // namespace obr::net
