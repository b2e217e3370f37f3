// tools/sim/tls_cert.h — a throwaway self-signed certificate for the simulator's TLS
// listeners, generated at start with OpenSSL.
//
//   obr::sim::SelfSigned cert;
//   std::string error;
//   if (!obr::sim::make_self_signed("localhost", cert, error)) { ... }
//   // cert.cert_pem / cert.key_pem for the server; write cert_pem to a file clients trust.
//
// The certificate names `localhost` and 127.0.0.1/::1 (subjectAltName), is valid for one
// day, and uses a fresh P-256 key. It is for loopback tests only.
#pragma once

#include <string>

namespace obr::sim {

struct SelfSigned {
  std::string cert_pem;
  std::string key_pem;
};

// make_self_signed: false with `error` naming the OpenSSL step that failed.
bool make_self_signed(const std::string& common_name, SelfSigned& out, std::string& error);

}  // namespace obr::sim
