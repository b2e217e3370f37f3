// connectors/net/http_client.h — one-shot HTTP/1.1 requests over TLS or plain TCP, on
// Boost.Beast, with Beast kept out of the header.
//
//   obr::net::HttpClient http(loop, tls);
//   http.request({.method = "POST", .url = "https://api.kucoin.com/api/v1/bullet-public"},
//                [](const obr::net::HttpResponse& r) { ... });
//
// Each request opens its own connection (token and snapshot calls are rare; no pooling),
// verifies the peer like the WebSocket client, and is bounded in time and body size.
//
// Thread-safety: calls and callbacks on the loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "connectors/net/event_loop.h"
#include "connectors/net/tls.h"
#include "connectors/protocol/session.h"

namespace obr::net {

// HttpResponse: `status` is 0 when no response arrived (then `error` says why).
struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, when present
  std::string error;
};

struct HttpOptions {
  std::int64_t timeout_ns = 15'000'000'000;
  std::size_t max_body_bytes = 64u << 20;
  TlsOptions tls;
};

class HttpClient {
 public:
  HttpClient(EventLoop& loop, const HttpOptions& options);
  ~HttpClient();  // pending requests complete without calling back
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void request(const connectors::HttpRequest& request, std::function<void(const HttpResponse&)> done);

  struct Shared;  // internal: state that in-flight requests share with the client

 private:
  EventLoop& loop_;
  HttpOptions options_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace obr::net
