// connectors/net/http_server.cpp — HttpServer on Boost.Beast: one acceptor, one
// Connection object per accepted socket, each reading one request header at a time.
//
// Every Asio call uses its error_code overload and every completion handler checks
// `closed_` first, so nothing throws across the loop and a closed connection (or server)
// ignores late completions (`operation_aborted`).
#include "connectors/net/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

namespace obr::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::string_view kAllow = "GET, HEAD";
// After an error response: how much of what the client still sends is read and dropped,
// and for how long, before closing (closing with unread data would send a reset, which can
// destroy the response before the client reads it).
constexpr std::size_t kDrainBytes = 64u << 10;
constexpr std::int64_t kDrainNs = 1'000'000'000;
constexpr std::chrono::milliseconds kAcceptRetry{100};  // after e.g. EMFILE, without spinning

std::string format_endpoint(const asio::ip::address& address, std::uint16_t port) {
  const std::string host = address.to_string();
  return address.is_v6() ? "[" + host + "]:" + std::to_string(port) : host + ":" + std::to_string(port);
}

// os_status carries an OS error as the matching absl code, with `what` and the OS reason.
absl::Status os_status(const error_code& ec, const std::string& what) {
  if (ec.category() == boost::system::system_category() || ec.category() == boost::system::generic_category()) {
    return absl::ErrnoToStatus(ec.value(), what);  // "what: <strerror>"
  }
  return absl::UnknownError(what + ": " + ec.message());
}

bool is_http_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

// valid_content_type: one line of visible ASCII (and spaces), so it cannot split the header.
bool valid_content_type(std::string_view s) {
  if (s.empty() || s.size() > 1024) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  class Connection;

  Impl(asio::io_context& io_context, HttpServerOptions opts, HttpHandler fn)
      : options(std::move(opts)), handler(std::move(fn)), acceptor(io_context), retry(io_context) {}

  void accept();
  void on_accept(std::uint64_t gen, error_code ec, tcp::socket socket);
  void close();

  HttpServerOptions options;
  HttpHandler handler;
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  bool listening = false;
  std::uint64_t generation = 0;  // bumped by listen() and close(): stale accepts are ignored
  std::uint16_t port = 0;
  std::string endpoint;
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> connections;
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> rejected{0};
};

class HttpServer::Impl::Connection final : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Impl> server, tcp::socket socket)
      : server_(std::move(server)),
        stream_(std::move(socket)),
        buffer_(std::max<std::size_t>(server_->options.max_request_bytes, 1)) {}

  ~Connection() {
    if (!closed_) server_->connections.erase(this);
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start() { read_request(); }

  // close: idempotent; pending operations complete with operation_aborted and are ignored.
  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();  // noexcept: closes the socket, cancels the timer
    server_->connections.erase(this);
  }

 private:
  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(server_->options.max_request_bytes, std::numeric_limits<std::uint32_t>::max())));
    stream_.expires_after(std::chrono::nanoseconds(server_->options.request_timeout_ns));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (closed_) return;
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return reject(11, 400,
                    "bad request: request header too large (limit " +
                        std::to_string(server_->options.max_request_bytes) + " bytes)\n",
                    true);
    }
    if (is_http_error(ec) && ec != http::error::end_of_stream) {
      return reject(11, 400, "bad request: " + ec.message() + "\n", true);
    }
    // end_of_stream: the client closed between requests; timeout: idle; others: the socket.
    if (ec) return close();

    const auto& req = parser_->get();
    const unsigned version = req.version() == 10 ? 10 : 11;
    const bool has_body = !parser_->is_done();  // Content-Length > 0 or chunked
    const bool keep_alive = req.keep_alive();
    const http::verb method = req.method();
    if (method != http::verb::get && method != http::verb::head) {
      return reject(version, 405, "method not allowed: " + std::string(view(req.method_string())) + "\n",
                    has_body || !keep_alive, kAllow);
    }
    if (has_body) return reject(version, 413, "request bodies are not accepted (GET and HEAD only)\n", true);

    server_->requests.fetch_add(1, std::memory_order_relaxed);
    HttpServerResponse r;
    bool handled = true;
    try {
      r = server_->handler(view(req.method_string()), view(req.target()));
    } catch (...) {
      handled = false;
    }
    if (closed_) return;  // the handler closed the server
    if (!handled || r.status < 200 || r.status > 599 || !valid_content_type(r.content_type)) {
      HttpServerResponse error;
      error.status = 500;
      error.body = handled ? "internal error: invalid handler response\n" : "internal error: handler failed\n";
      return respond(version, std::move(error), method == http::verb::head, true, {});
    }
    respond(version, std::move(r), method == http::verb::head, !keep_alive, {});
  }

  void reject(unsigned version, int status, std::string body, bool close_after, std::string_view allow = {}) {
    server_->rejected.fetch_add(1, std::memory_order_relaxed);
    HttpServerResponse r;
    r.status = status;
    r.body = std::move(body);
    respond(version, std::move(r), false, close_after, allow);
  }

  void respond(unsigned version, HttpServerResponse r, bool head, bool close_after, std::string_view allow) {
    res_ = {};
    res_.version(version);
    res_.result(static_cast<http::status>(r.status));  // the enum overload: never throws
    res_.set(http::field::content_type, r.content_type);
    res_.content_length(r.body.size());
    res_.set(http::field::cache_control, "no-store");
    if (!allow.empty()) res_.set(http::field::allow, allow);
    if (close_after) {
      res_.set(http::field::connection, "close");
    } else if (version == 10) {
      res_.set(http::field::connection, "keep-alive");
    }
    if (!head) res_.body() = std::move(r.body);
    stream_.expires_after(std::chrono::nanoseconds(server_->options.request_timeout_ns));
    http::async_write(stream_, res_, [self = shared_from_this(), close_after](error_code ec, std::size_t) {
      if (self->closed_) return;
      if (ec) return self->close();
      if (close_after) return self->drain_and_close();
      self->read_request();
    });
  }

  // drain_and_close: a lingering close (see kDrainBytes).
  void drain_and_close() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(std::chrono::nanoseconds(std::min(kDrainNs, server_->options.request_timeout_ns)));
    drain_.resize(4096);
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (self->closed_) return;
      self->drained_ += n;
      if (ec || self->drained_ >= kDrainBytes) return self->close();
      self->drain();
    });
  }

  std::shared_ptr<Impl> server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;  // bounded by max_request_bytes; may hold a pipelined request
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> res_;
  std::string drain_;
  std::size_t drained_ = 0;
  bool closed_ = false;
};

void HttpServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this(), gen = generation](error_code ec, tcp::socket socket) {
    self->on_accept(gen, ec, std::move(socket));
  });
}

void HttpServer::Impl::on_accept(std::uint64_t gen, error_code ec, tcp::socket socket) {
  if (!listening || gen != generation) return;  // closed (the socket, if any, closes here)
  if (ec) {
    retry.expires_after(kAcceptRetry);
    retry.async_wait([self = shared_from_this(), gen](error_code e) {
      if (!e && self->listening && gen == self->generation) self->accept();
    });
    return;
  }
  error_code ignored;
  if (connections.size() >= options.max_connections) {
    rejected.fetch_add(1, std::memory_order_relaxed);
    socket.close(ignored);
  } else {
    socket.set_option(tcp::no_delay(true), ignored);
    auto conn = std::make_shared<Connection>(shared_from_this(), std::move(socket));
    connections.emplace(conn.get(), conn);
    conn->start();
  }
  accept();
}

void HttpServer::Impl::close() {
  listening = false;
  ++generation;
  port = 0;
  endpoint.clear();
  error_code ignored;
  acceptor.close(ignored);
  retry.cancel();
  auto open = std::move(connections);
  connections.clear();
  for (auto& [ptr, weak] : open) {
    if (auto conn = weak.lock()) conn->close();
  }
}

HttpServer::HttpServer(EventLoop& loop, HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_shared<Impl>(loop.context(), std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  impl_->close();
  impl_->handler = nullptr;  // late completions hold impl_, never the handler's captures
}

absl::Status HttpServer::listen() {
  Impl& im = *impl_;
  if (im.listening) return absl::FailedPreconditionError("http server: already listening on " + im.endpoint);
  error_code ec;
  const auto address = asio::ip::make_address(im.options.address, ec);
  if (ec) return absl::InvalidArgumentError("http server: '" + im.options.address + "' is not an IP address");
  const tcp::endpoint requested(address, im.options.port);
  im.acceptor.open(requested.protocol(), ec);
  if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(requested, ec);
  if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  tcp::endpoint bound;
  if (!ec) bound = im.acceptor.local_endpoint(ec);
  if (ec) {
    error_code ignored;
    im.acceptor.close(ignored);
    return os_status(ec, "http server: cannot listen on " + format_endpoint(address, im.options.port));
  }
  im.listening = true;
  ++im.generation;
  im.port = bound.port();
  im.endpoint = format_endpoint(bound.address(), im.port);
  im.accept();
  return absl::OkStatus();
}

std::uint16_t HttpServer::port() const { return impl_->port; }
std::string HttpServer::endpoint() const { return impl_->endpoint; }
void HttpServer::close() { impl_->close(); }
std::uint64_t HttpServer::requests() const { return impl_->requests.load(std::memory_order_relaxed); }
std::uint64_t HttpServer::rejected() const { return impl_->rejected.load(std::memory_order_relaxed); }

}  // namespace obr::net
