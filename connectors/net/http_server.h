// connectors/net/http_server.h — a small HTTP/1.1 server for the engine's /health and
// /metrics endpoints, on Boost.Beast, with Beast kept out of the header.
//
//   obr::net::HttpServer server(loop, {}, [](std::string_view method, std::string_view target) {
//     if (target == "/health") return obr::net::HttpServerResponse{200, "text/plain; charset=utf-8", "ok\n"};
//     return obr::net::HttpServerResponse{404, "text/plain; charset=utf-8", "not found\n"};
//   });
//   if (absl::Status s = server.listen(); !s.ok()) { ... }   // then loop.run()
//
// Scope: GET and HEAD only, no request bodies, plain TCP, bound to loopback unless told
// otherwise. Keep-alive is supported with one request at a time per connection (pipelined
// requests are answered in order). Every response carries Content-Length, Content-Type and
// `Cache-Control: no-store`, plus `Connection: close` when the server closes afterwards.
// The server answers these itself, without calling the handler:
//   - a method other than GET/HEAD: 405 with `Allow: GET, HEAD` (closed if it had a body);
//   - a request with a body (Content-Length > 0 or chunked): 413, then closed;
//   - a malformed request (Beast's parser error, e.g. a bad request line) or headers over
//     `max_request_bytes`: 400 with a one-line text body naming the fault, then closed;
//   - the handler throwing, or returning a status outside 200..599 or a Content-Type that
//     is not one line of printable ASCII (at most 1024 bytes): 500, then closed.
// A connection closes when no complete request header arrives within `request_timeout_ns`
// of the previous response (or of connecting), so idle keep-alive connections end too.
// After an error response the server stops sending, discards what the client still sends
// (at most 64 KiB, for at most a second) and closes: so the client reads the response
// instead of a connection reset.
//
// PERFORMANCE: control path. Each request allocates (parser, response header); the
// handler's body is moved into the response, not copied.
//
// Thread-safety: construct, listen(), close() and destroy on the loop's thread (or while
// the loop is not running); the handler runs on the loop's thread. requests() and
// rejected() may be read from any thread. The loop must outlive the server.
#pragma once

#include <absl/status/status.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/net/event_loop.h"

namespace obr::net {

struct HttpServerOptions {
  std::string address = "127.0.0.1";                // loopback unless told otherwise; an IPv4/IPv6 literal
  std::uint16_t port = 0;                           // 0: any free port (port() tells which)
  std::size_t max_connections = 64;                 // further connections are closed at once
  std::int64_t request_timeout_ns = 5'000'000'000;  // a request header must arrive within this
  std::size_t max_request_bytes = 8192;             // request line + headers; bodies are refused
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;  // not sent for HEAD (Content-Length still says its size)
};

// HttpHandler answers one GET or HEAD request; `target` is the request target as sent
// (path and query). Both views are valid during the call only. It runs on the loop's
// thread and must not destroy the server (close() is allowed).
using HttpHandler = std::function<HttpServerResponse(std::string_view method, std::string_view target)>;

class HttpServer {
 public:
  HttpServer(EventLoop& loop, HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // stops accepting and closes every connection; the handler is not called again
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // listen binds, listens and starts accepting. Errors (nothing is left open):
  //   InvalidArgument: `address` is not an IP literal;
  //   FailedPrecondition: already listening;
  //   an OS error, coded by absl::ErrnoToStatus (EADDRINUSE: FailedPrecondition, EACCES:
  //   PermissionDenied), the message naming address:port and the OS reason:
  //   "http server: cannot listen on 127.0.0.1:8080: Address already in use".
  absl::Status listen();
  // port is the bound port while listening (the chosen one when options.port was 0), else 0.
  std::uint16_t port() const;
  // endpoint is "address:port" while listening ("[::1]:8080" for IPv6), else "".
  std::string endpoint() const;
  // close stops accepting and closes every connection (in-flight responses are dropped).
  // listen() may be called again afterwards.
  void close();

  // requests counts requests passed to the handler (whatever it answered). rejected counts
  // what the server refused without calling it: requests answered 400/405/413 and
  // connections closed at once because max_connections were open. Relaxed atomics.
  std::uint64_t requests() const;
  std::uint64_t rejected() const;

  struct Impl;  // internal: shared with in-flight connections

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace obr::net
