// connectors/net/http_client.cpp — HttpClient on Boost.Beast: one connection per request.
#include "connectors/net/http_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <optional>
#include <utility>

#include "connectors/net/detail/tls_context.h"
#include "connectors/net/url.h"

namespace obr::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Shared: what outlives the client (so an in-flight request can tell it is orphaned).
struct HttpClient::Shared {
  bool alive = true;
  std::shared_ptr<asio::ssl::context> tls;
  std::string tls_error;
};

namespace {

template <bool Tls>
class Request final : public std::enable_shared_from_this<Request<Tls>> {
  using Stream = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

 public:
  Request(asio::io_context& io, std::shared_ptr<HttpClient::Shared> shared, Url url, const HttpOptions& options,
          http::request<http::string_body> req, std::function<void(const HttpResponse&)> done)
      : strand_(asio::make_strand(io)),
        resolver_(strand_),
        shared_(std::move(shared)),
        stream_(make_stream()),
        url_(std::move(url)),
        options_(options),
        req_(std::move(req)),
        done_(std::move(done)) {}

  void start() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::nanoseconds(options_.timeout_ns));
    resolver_.async_resolve(url_.host, url_.port, [self = this->shared_from_this()](error_code ec, auto results) {
      if (ec) return self->complete("resolve " + self->url_.host + ": " + ec.message());
      beast::get_lowest_layer(self->stream_).async_connect(results, [self](error_code e, const tcp::endpoint&) {
        self->on_connect(e);
      });
    });
  }

 private:
  Stream make_stream() {
    if constexpr (Tls) {
      return Stream(strand_, *shared_->tls);
    } else {
      return Stream(strand_);
    }
  }

  void on_connect(error_code ec) {
    if (ec) return complete("connect " + url_.host + ":" + url_.port + ": " + ec.message());
    if constexpr (Tls) {
      if (!detail::set_sni(stream_.native_handle(), url_.host)) {
        return complete("TLS: cannot set SNI host name");
      }
      stream_.set_verify_callback(asio::ssl::host_name_verification(url_.host));
      stream_.async_handshake(asio::ssl::stream_base::client, [self = this->shared_from_this()](error_code e) {
        if (e) return self->complete("TLS handshake with " + self->url_.host + ": " + e.message());
        self->write();
      });
    } else {
      write();
    }
  }

  void write() {
    http::async_write(stream_, req_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->complete("write: " + ec.message());
      self->parser_.emplace();
      self->parser_->body_limit(self->options_.max_body_bytes);
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](error_code e, std::size_t) { self->on_read(e); });
    });
  }

  void on_read(error_code ec) {
    if (ec) return complete("read response from " + url_.host + url_.target + ": " + ec.message());
    auto& res = parser_->get();
    response_.status = static_cast<int>(res.result_int());
    response_.body = std::move(res.body());
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      response_.retry_after.assign(it->value().data(), it->value().size());
    }
    complete("");
  }

  void complete(std::string error) {
    response_.error = std::move(error);
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).socket().close(ignored);
    if (shared_->alive && done_) {
      auto done = std::move(done_);
      done(response_);
    }
  }

  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  std::shared_ptr<HttpClient::Shared> shared_;
  Stream stream_;
  Url url_;
  HttpOptions options_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  beast::flat_buffer buffer_;
  HttpResponse response_;
  std::function<void(const HttpResponse&)> done_;
};

}  // namespace

HttpClient::HttpClient(EventLoop& loop, const HttpOptions& options)
    : loop_(loop), options_(options), shared_(std::make_shared<Shared>()) {}

HttpClient::~HttpClient() { shared_->alive = false; }

void HttpClient::request(const connectors::HttpRequest& request, std::function<void(const HttpResponse&)> done) {
  Url url;
  if (!parse_url(request.url, url) || (url.scheme != "http" && url.scheme != "https")) {
    HttpResponse r;
    r.error = "bad HTTP URL '" + request.url + "'";
    loop_.post([done = std::move(done), r, shared = shared_] {
      if (shared->alive) done(r);
    });
    return;
  }
  http::request<http::string_body> req;
  req.method(request.method == "POST" ? http::verb::post : http::verb::get);
  req.target(url.target);
  req.version(11);
  const bool default_port = url.port == (url.tls ? "443" : "80");
  req.set(http::field::host, default_port ? url.host : url.host + ":" + url.port);
  req.set(http::field::user_agent, "obr/0.1");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty() || request.method == "POST") {
    req.body() = request.body;
    if (!request.body.empty()) req.set(http::field::content_type, "application/json");
    req.prepare_payload();
  }
  if (url.tls) {
    if (!shared_->tls && shared_->tls_error.empty()) {
      shared_->tls = detail::make_client_tls(options_.tls, shared_->tls_error);
    }
    if (!shared_->tls) {
      HttpResponse r;
      r.error = shared_->tls_error;
      loop_.post([done = std::move(done), r, shared = shared_] {
        if (shared->alive) done(r);
      });
      return;
    }
    std::make_shared<Request<true>>(loop_.context(), shared_, std::move(url), options_, std::move(req), std::move(done))
        ->start();
  } else {
    std::make_shared<Request<false>>(loop_.context(), shared_, std::move(url), options_, std::move(req),
                                     std::move(done))
        ->start();
  }
}

}  // namespace obr::net
