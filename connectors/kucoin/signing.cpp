#include "connectors/kucoin/signing.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <fstream>
#include <string_view>

namespace obr::connectors::kucoin {

std::string Credentials::redacted() const {
  return "key=" + key.substr(0, 4) + (key.size() > 4 ? "…" : "") + " secret=*** passphrase=***";
}

Credentials credentials_from_env() {
  Credentials c;
  const char* k = std::getenv("KUCOIN_API_KEY");
  const char* s = std::getenv("KUCOIN_API_SECRET");
  const char* p = std::getenv("KUCOIN_API_PASSPHRASE");
  if (k == nullptr || s == nullptr || p == nullptr) return c;
  c.key = k;
  c.secret = s;
  c.passphrase = p;
  return c;
}

Credentials credentials_from_file(const std::string& path, std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error != nullptr) *error = path + ": " + why;
    return Credentials{};
  };
  std::ifstream in(path);
  if (!in) return fail("cannot open");
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
    return v;
  };
  Credentials c;
  std::size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    const std::string_view l = trim(line);
    if (l.empty() || l.front() == '#') continue;
    const std::size_t eq = l.find('=');
    if (eq == std::string_view::npos) return fail("line " + std::to_string(line_no) + ": expected NAME=value");
    const std::string_view name = trim(l.substr(0, eq));
    const std::string value(trim(l.substr(eq + 1)));
    if (name == "KUCOIN_API_KEY") {
      c.key = value;
    } else if (name == "KUCOIN_API_SECRET") {
      c.secret = value;
    } else if (name == "KUCOIN_API_PASSPHRASE") {
      c.passphrase = value;
    }
  }
  if (c.key.empty()) return fail("KUCOIN_API_KEY missing");
  if (c.secret.empty()) return fail("KUCOIN_API_SECRET missing");
  if (c.passphrase.empty()) return fail("KUCOIN_API_PASSPHRASE missing");
  return c;
}

std::string hmac_sha256_base64(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), digest, &len);
  std::string out(4 * ((len + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::vector<std::pair<std::string, std::string>> sign_headers(const Credentials& c, std::string_view timestamp_ms,
                                                              std::string_view method, std::string_view endpoint,
                                                              std::string_view body) {
  std::string prehash;
  prehash.reserve(timestamp_ms.size() + method.size() + endpoint.size() + body.size());
  prehash.append(timestamp_ms).append(method).append(endpoint).append(body);
  return {{"KC-API-KEY", c.key},
          {"KC-API-SIGN", hmac_sha256_base64(c.secret, prehash)},
          {"KC-API-TIMESTAMP", std::string(timestamp_ms)},
          {"KC-API-PASSPHRASE", hmac_sha256_base64(c.secret, c.passphrase)},
          {"KC-API-KEY-VERSION", "2"}};
}

}  // namespace obr::connectors::kucoin
