// tests/connectors/net_http_server_test.cpp — HttpServer on loopback: responses through the
// project's HttpClient and byte-exact exchanges over a plain blocking socket (keep-alive,
// HEAD, 405/413/400, timeouts, the connection limit, shutdown, listen errors).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "connectors/net/event_loop.h"
#include "connectors/net/http_client.h"
#include "connectors/net/http_server.h"

namespace {

using obr::net::EventLoop;
using obr::net::HttpClient;
using obr::net::HttpResponse;
using obr::net::HttpServer;
using obr::net::HttpServerOptions;
using obr::net::HttpServerResponse;

constexpr std::string_view kText = "text/plain; charset=utf-8";

HttpServerResponse handle(std::string_view method, std::string_view target) {
  (void)method;
  if (target == "/health") return {200, std::string(kText), "ok\n"};
  if (target == "/metrics") return {200, "text/plain; version=0.0.4", "obr_books_live 6\n"};
  if (target == "/throw") throw std::runtime_error("boom");
  if (target == "/bad-status") return {42, std::string(kText), "?"};
  return {404, std::string(kText), "not found\n"};
}

// RawClient: one blocking loopback TCP connection; every read gives up after 10 s (a
// safety bound for a broken server, never a timing assertion).
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{};
    tv.tv_sec = 10;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // read_until_eof returns everything up to the server's close; `eof` is false when the
  // read failed or gave up instead.
  std::string read_until_eof(bool& eof) {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof = n == 0;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }

  // read_response reads one response: the header and Content-Length bytes of body (none
  // for HEAD). Returns what arrived if the connection ends first.
  std::string read_response(bool head = false) {
    std::string out;
    char c;
    while (out.find("\r\n\r\n") == std::string::npos) {
      if (::recv(fd_, &c, 1, 0) != 1) return out;
      out.push_back(c);
    }
    std::size_t length = 0;
    const std::size_t at = out.find("Content-Length: ");
    if (at != std::string::npos) length = std::stoul(out.substr(at + 16));
    if (head) length = 0;
    while (length > 0) {
      if (::recv(fd_, &c, 1, 0) != 1) return out;
      out.push_back(c);
      --length;
    }
    return out;
  }

 private:
  int fd_;
  bool connected_ = false;
};

std::string response(std::string_view status_line, std::string_view content_type, std::string_view body,
                     std::string_view extra_headers = {}, bool head = false) {
  std::string r = "HTTP/1.1 " + std::string(status_line) + "\r\nContent-Type: " + std::string(content_type) +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nCache-Control: no-store\r\n" +
                  std::string(extra_headers) + "\r\n";
  if (!head) r += body;
  return r;
}

// The server and client on a loop running in a background thread; the test body talks to
// them through loop.post and over sockets.
class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(loop_, std::move(options), handle);
    const absl::Status st = server_->listen();
    ASSERT_TRUE(st.ok()) << st;
    port_ = server_->port();
    thread_ = std::thread([this] { loop_.run(); });
  }

  void TearDown() override {
    loop_.stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  HttpResponse fetch(const std::string& method, const std::string& path, const std::string& body = "") {
    auto done = std::make_shared<std::promise<HttpResponse>>();
    auto result = done->get_future();
    obr::connectors::HttpRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    req.body = body;
    loop_.post([this, req, done] { client_.request(req, [done](const HttpResponse& r) { done->set_value(r); }); });
    if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "no response for " << method << " " << path;
      return {};
    }
    return result.get();
  }

  // on_loop runs `fn` on the loop's thread and waits for it.
  void on_loop(std::function<void()> fn) {
    std::promise<void> done;
    loop_.post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  EventLoop loop_;
  HttpClient client_{loop_, [] {
                       obr::net::HttpOptions o;
                       o.timeout_ns = 10'000'000'000;
                       return o;
                     }()};
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST(HttpServer, BindsToLoopbackByDefault) {
  EventLoop loop;
  EXPECT_EQ(HttpServerOptions{}.address, "127.0.0.1");
  HttpServer server(loop, {}, handle);
  EXPECT_EQ(server.port(), 0);
  EXPECT_EQ(server.endpoint(), "");
  ASSERT_TRUE(server.listen().ok());
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(server.endpoint(), "127.0.0.1:" + std::to_string(server.port()));
  server.close();
  EXPECT_EQ(server.port(), 0);
  EXPECT_EQ(server.endpoint(), "");
}

TEST(HttpServer, ListenOnAPortInUseNamesAddressPortAndReason) {
  EventLoop loop;
  HttpServer first(loop, {}, handle);
  ASSERT_TRUE(first.listen().ok());
  HttpServerOptions options;
  options.port = first.port();
  HttpServer second(loop, options, handle);
  const absl::Status st = second.listen();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);  // absl::ErrnoToStatus(EADDRINUSE)
  EXPECT_EQ(st.message(),
            "http server: cannot listen on 127.0.0.1:" + std::to_string(first.port()) + ": Address already in use");
  EXPECT_EQ(second.port(), 0);
}

TEST(HttpServer, ListenRefusesANonIpAddressAndASecondListen) {
  EventLoop loop;
  HttpServerOptions options;
  options.address = "localhost";
  HttpServer named(loop, options, handle);
  const absl::Status bad = named.listen();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "http server: 'localhost' is not an IP address");

  HttpServer server(loop, {}, handle);
  ASSERT_TRUE(server.listen().ok());
  const absl::Status again = server.listen();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.message(), "http server: already listening on " + server.endpoint());
}

TEST_F(HttpServerTest, ServesTheHandlersResponsesThroughHttpClient) {
  start();
  const HttpResponse health = fetch("GET", "/health");
  EXPECT_EQ(health.error, "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  const HttpResponse metrics = fetch("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body, "obr_books_live 6\n");
  const HttpResponse missing = fetch("GET", "/nope?x=1");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "not found\n");
  EXPECT_EQ(server_->requests(), 3u);
  EXPECT_EQ(server_->rejected(), 0u);
}

TEST_F(HttpServerTest, KeepAliveAnswersPipelinedRequestsInOrderThenClosesOnRequest) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool eof = false;
  EXPECT_EQ(c.read_until_eof(eof),
            response("200 OK", kText, "ok\n") +
                response("200 OK", "text/plain; version=0.0.4", "obr_books_live 6\n", "Connection: close\r\n"));
  EXPECT_TRUE(eof);
  EXPECT_EQ(server_->requests(), 2u);
}

TEST_F(HttpServerTest, KeepAliveServesSequentialRequestsOnOneConnection) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(c.read_response(), response("200 OK", kText, "ok\n"));
  }
  EXPECT_EQ(server_->requests(), 3u);
}

TEST_F(HttpServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_EQ(c.read_response(),
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
            "Cache-Control: no-store\r\nConnection: keep-alive\r\n\r\nok\n");
  ASSERT_TRUE(c.send_all("GET /health HTTP/1.0\r\n\r\n"));
  bool eof = false;
  EXPECT_EQ(c.read_until_eof(eof),
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\nok\n");
  EXPECT_TRUE(eof);
}

TEST_F(HttpServerTest, HeadSendsTheHeadersOnly) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response(true), response("200 OK", "text/plain; version=0.0.4", "obr_books_live 6\n", {}, true));
  // Nothing else was sent: the next response on the connection starts right after.
  ASSERT_TRUE(c.send_all("HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool eof = false;
  EXPECT_EQ(c.read_until_eof(eof), response("404 Not Found", kText, "not found\n", "Connection: close\r\n", true));
  EXPECT_TRUE(eof);
  EXPECT_EQ(server_->requests(), 2u);
}

TEST_F(HttpServerTest, OtherMethodsGet405WithAllow) {
  start();
  const HttpResponse post = fetch("POST", "/health");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.body, "method not allowed: POST\n");
  // Without a body the connection stays usable.
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.send_all("DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool eof = false;
  EXPECT_EQ(c.read_until_eof(eof),
            response("405 Method Not Allowed", kText, "method not allowed: DELETE\n", "Allow: GET, HEAD\r\n") +
                response("200 OK", kText, "ok\n", "Connection: close\r\n"));
  EXPECT_TRUE(eof);
  EXPECT_EQ(server_->rejected(), 2u);
  EXPECT_EQ(server_->requests(), 1u);
}

TEST_F(HttpServerTest, ARequestBodyGets413AndTheConnectionCloses) {
  start();
  const HttpResponse with_body = fetch("GET", "/health", R"({"a":1})");
  EXPECT_EQ(with_body.error, "");
  EXPECT_EQ(with_body.status, 413);
  EXPECT_EQ(with_body.body, "request bodies are not accepted (GET and HEAD only)\n");

  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.send_all("GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
  bool eof = false;
  EXPECT_EQ(c.read_until_eof(eof),
            response("413 Payload Too Large", kText, "request bodies are not accepted (GET and HEAD only)\n",
                     "Connection: close\r\n"));
  EXPECT_TRUE(eof);
  EXPECT_EQ(server_->rejected(), 2u);
  EXPECT_EQ(server_->requests(), 0u);
}

TEST_F(HttpServerTest, AGarbageRequestLineGets400AndTheConnectionCloses) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all("GARBAGE\r\n\r\n"));
  bool eof = false;
  EXPECT_EQ(c.read_until_eof(eof),
            response("400 Bad Request", kText, "bad request: bad method\n", "Connection: close\r\n"));
  EXPECT_TRUE(eof);

  RawClient v(port_);
  ASSERT_TRUE(v.connected());
  ASSERT_TRUE(v.send_all("GET /health HTTP/9.9\r\n\r\n"));
  EXPECT_EQ(v.read_until_eof(eof),
            response("400 Bad Request", kText, "bad request: bad version\n", "Connection: close\r\n"));
  EXPECT_TRUE(eof);
  EXPECT_EQ(server_->rejected(), 2u);
  EXPECT_EQ(server_->requests(), 0u);
}

TEST_F(HttpServerTest, HeadersOverTheLimitGet400AndTheConnectionCloses) {
  HttpServerOptions options;
  options.max_request_bytes = 256;
  start(options);
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all("GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(1000, 'a') + "\r\n\r\n"));
  bool eof = false;
  EXPECT_EQ(c.read_until_eof(eof),
            response("400 Bad Request", kText, "bad request: request header too large (limit 256 bytes)\n",
                     "Connection: close\r\n"));
  EXPECT_TRUE(eof);
  EXPECT_EQ(server_->rejected(), 1u);
}

TEST_F(HttpServerTest, HandlerFailuresBecome500AndClose) {
  start();
  const HttpResponse thrown = fetch("GET", "/throw");
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.body, "internal error: handler failed\n");
  const HttpResponse bad = fetch("GET", "/bad-status");
  EXPECT_EQ(bad.status, 500);
  EXPECT_EQ(bad.body, "internal error: invalid handler response\n");
  EXPECT_EQ(server_->requests(), 2u);
  EXPECT_EQ(server_->rejected(), 0u);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAfterTheRequestTimeout) {
  HttpServerOptions options;
  options.request_timeout_ns = 200'000'000;
  start(options);
  RawClient silent(port_);
  ASSERT_TRUE(silent.connected());
  bool eof = false;
  EXPECT_EQ(silent.read_until_eof(eof), "");
  EXPECT_TRUE(eof);

  RawClient partial(port_);  // a request that never completes
  ASSERT_TRUE(partial.connected());
  ASSERT_TRUE(partial.send_all("GET /health HTTP/1.1\r\nHost:"));
  eof = false;
  EXPECT_EQ(partial.read_until_eof(eof), "");
  EXPECT_TRUE(eof);

  RawClient kept(port_);  // idle after a keep-alive response
  ASSERT_TRUE(kept.connected());
  ASSERT_TRUE(kept.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  eof = false;
  EXPECT_EQ(kept.read_until_eof(eof), response("200 OK", kText, "ok\n"));
  EXPECT_TRUE(eof);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  HttpServerOptions options;
  options.max_connections = 1;
  start(options);
  RawClient first(port_);
  ASSERT_TRUE(first.connected());
  ASSERT_TRUE(first.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(first.read_response(), response("200 OK", kText, "ok\n"));  // accepted and open

  RawClient second(port_);
  ASSERT_TRUE(second.connected());  // the kernel accepts; the server closes it
  bool eof = false;
  EXPECT_EQ(second.read_until_eof(eof), "");
  EXPECT_TRUE(eof);
  EXPECT_EQ(server_->rejected(), 1u);

  ASSERT_TRUE(first.send_all("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(first.read_response(), response("200 OK", "text/plain; version=0.0.4", "obr_books_live 6\n"));
}

TEST_F(HttpServerTest, DestroyingTheServerClosesItsConnections) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(c.read_response(), response("200 OK", kText, "ok\n"));
  on_loop([this] { server_.reset(); });
  bool eof = false;
  EXPECT_EQ(c.read_until_eof(eof), "");
  EXPECT_TRUE(eof);
  RawClient after(port_);
  EXPECT_FALSE(after.connected());
}

}  // namespace
