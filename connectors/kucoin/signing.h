// connectors/kucoin/signing.h — KuCoin REST request signing (API key version 2).
//
//   KC-API-SIGN       = base64(HMAC-SHA256(secret, timestamp + METHOD + endpoint + body))
//   KC-API-PASSPHRASE = base64(HMAC-SHA256(secret, passphrase))      (key version 2)
// where endpoint is the path with its query string ("/api/v3/market/orderbook/level2?
// symbol=BTC-USDT") and body is "" for GET (docs/venues/kucoin.md "Snapshot endpoint";
// KuCoin's documented example is the KucoinSigning tests in
// tests/connectors/kucoin_spot_session_test.cpp).
//
// Credentials come only from the environment or a config file; Credentials never prints
// its secret (to_string shows the key only) and nothing here logs.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obr::connectors::kucoin {

struct Credentials {
  std::string key;
  std::string secret;
  std::string passphrase;

  bool empty() const noexcept { return key.empty() || secret.empty() || passphrase.empty(); }
  // redacted: "key=5c2d… secret=*** passphrase=***", safe for logs.
  std::string redacted() const;
};

// credentials_from_env reads KUCOIN_API_KEY, KUCOIN_API_SECRET, KUCOIN_API_PASSPHRASE;
// empty Credentials when any is missing.
Credentials credentials_from_env();

// credentials_from_file reads the same three names from a file of `NAME=value` lines
// (blank lines and lines starting with '#' ignored; whitespace around names and values
// trimmed). Empty Credentials when the file cannot be read or a name is missing; `error`
// then says which (never quoting a value).
Credentials credentials_from_file(const std::string& path, std::string* error = nullptr);

// hmac_sha256_base64 is base64(HMAC-SHA256(key, message)).
std::string hmac_sha256_base64(std::string_view key, std::string_view message);

// sign_headers returns the KC-API-* headers for one request.
std::vector<std::pair<std::string, std::string>> sign_headers(const Credentials& c, std::string_view timestamp_ms,
                                                              std::string_view method, std::string_view endpoint,
                                                              std::string_view body);

}  // namespace obr::connectors::kucoin
