// connectors/net/websocket_client.cpp — WebSocketClient on Boost.Beast (plain and TLS).
//
// One Impl per connection attempt. Every asynchronous step holds a shared_ptr to it, so a
// dropped connection finishes its pending handlers harmlessly; `listener` is cleared when
// the owner lets go, after which no callback runs.
#include "connectors/net/websocket_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <string>
#include <utility>

#include "connectors/net/detail/tls_context.h"
#include "connectors/net/url.h"

namespace obr::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

class WebSocketClient::Impl {
 public:
  virtual ~Impl() = default;
  virtual void start() = 0;
  virtual bool send(std::string_view text) = 0;
  virtual void close(std::string_view reason) = 0;
  virtual void abort() = 0;  // drop without a callback
  // fail_soon ends the connection with `reason` from a handler of its own, never inside
  // the caller's call: a listener must not see on_close nested in its own send() or
  // close() (the session that sent is still in the middle of a frame). send() refuses
  // from now on.
  virtual void fail_soon(std::string reason) = 0;
  bool open = false;
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
  std::uint64_t discarded = 0;  // messages read after close(): not delivered
};

namespace {

template <bool Tls>
class Connection final : public WebSocketClient::Impl, public std::enable_shared_from_this<Connection<Tls>> {
  using Lower = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

 public:
  Connection(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls, Url url, const WsOptions& options,
             WsListener* listener)
      : strand_(asio::make_strand(io)),
        resolver_(strand_),
        tls_(std::move(tls)),
        ws_(make_stream()),
        close_timer_(strand_),
        url_(std::move(url)),
        options_(options),
        listener_(listener) {}

  void start() override {
    ws_.read_message_max(options_.max_message_bytes);
    ws_.auto_fragment(false);
    resolver_.async_resolve(url_.host, url_.port,
                            [self = this->shared_from_this()](error_code ec, tcp::resolver::results_type r) {
                              self->on_resolve(ec, std::move(r));
                            });
  }

  bool send(std::string_view text) override {
    if (!open || closing_) return false;
    if (queue_.size() >= options_.max_queued_frames) {
      fail_soon("send queue full (the peer stopped reading)");
      return false;
    }
    queue_.emplace_back(text);
    if (queue_.size() == 1) write_next();
    return true;
  }

  void close(std::string_view reason) override {
    if (finished_) return;
    close_reason_.assign(reason);
    if (!open) {  // still connecting: cancel everything
      fail_soon(close_reason_);
      return;
    }
    if (closing_) return;
    closing_ = true;
    // The close handshake is bounded by a timer of our own: the TCP stream's timer must not
    // be re-armed while a read and a write may be pending, and the WebSocket stream's
    // handshake_timeout only starts once a write stuck on a peer that stopped reading lets
    // the close frame out.
    close_timer_.expires_after(std::chrono::seconds(3));
    close_timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec) self->fail(self->close_reason_);
    });
    ws_.async_close(websocket::close_code::normal,
                    [self = this->shared_from_this()](error_code) { self->finish(self->close_reason_); });
  }

  void fail_soon(std::string reason) override {
    if (finished_ || failing_) return;
    failing_ = true;
    failure_ = std::move(reason);
    closing_ = true;
    asio::post(strand_, [self = this->shared_from_this()] { self->fail(self->failure_); });
  }

  void abort() override {
    listener_ = nullptr;
    finished_ = true;
    open = false;
    resolver_.cancel();
    close_timer_.cancel();
    error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  websocket::stream<Lower> make_stream() {
    if constexpr (Tls) {
      return websocket::stream<Lower>(strand_, *tls_);
    } else {
      return websocket::stream<Lower>(strand_);
    }
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    if (finished_) return;
    if (ec) return fail("resolve " + url_.host + ": " + ec.message());
    auto& lowest = beast::get_lowest_layer(ws_);
    lowest.expires_after(std::chrono::nanoseconds(options_.connect_timeout_ns));
    lowest.async_connect(
        results, [self = this->shared_from_this()](error_code e, const tcp::endpoint&) { self->on_connect(e); });
  }

  void on_connect(error_code ec) {
    if (finished_) return;
    if (ec) return fail("connect " + url_.host + ":" + url_.port + ": " + ec.message());
    if constexpr (Tls) {
      auto& ssl = ws_.next_layer();
      // SNI, and the certificate must name the host we asked for.
      if (!detail::set_sni(ssl.native_handle(), url_.host)) {
        return fail("TLS: cannot set SNI host name");
      }
      ssl.set_verify_callback(asio::ssl::host_name_verification(url_.host));
      ssl.async_handshake(asio::ssl::stream_base::client,
                          [self = this->shared_from_this()](error_code e) { self->on_tls(e); });
    } else {
      ws_handshake();
    }
  }

  void on_tls(error_code ec) {
    if (finished_) return;
    if (ec) return fail("TLS handshake with " + url_.host + ": " + ec.message());
    ws_handshake();
  }

  void ws_handshake() {
    const bool default_port = url_.port == (url_.tls ? "443" : "80");
    const std::string host = default_port ? url_.host : url_.host + ":" + url_.port;
    ws_.async_handshake(host, url_.target, [self = this->shared_from_this()](error_code e) { self->on_handshake(e); });
  }

  void on_handshake(error_code ec) {
    if (finished_ || failing_) return;  // failing: the caller closed while connecting
    if (ec) return fail("WebSocket handshake with " + url_.host + url_.target + ": " + ec.message());
    // The handshake is done: Beast's own timeouts take over (no idle timeout: the
    // engine's data watchdog decides when a silent connection is dead).
    beast::get_lowest_layer(ws_).expires_never();
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
    timeouts.handshake_timeout = std::chrono::seconds(3);  // from now on: the close handshake
    ws_.set_option(timeouts);
    open = true;
    if (listener_ != nullptr) listener_->on_open();
    read();
  }

  void read() {
    if (finished_) return;
    ws_.async_read(buffer_, [self = this->shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(error_code ec, std::size_t n) {
    if (finished_) return;
    if (ec) {
      if (ec == websocket::error::closed) {
        const auto& r = ws_.reason();
        return finish("closed by peer (code " + std::to_string(r.code) + (r.reason.empty() ? "" : ": ") +
                      std::string(r.reason.data(), r.reason.size()) + ")");
      }
      if (ec == websocket::error::message_too_big) {
        return fail("message over the " + std::to_string(options_.max_message_bytes) + "-byte limit");
      }
      return fail(closing_ ? close_reason_ : "read: " + ec.message());
    }
    bytes += n;
    ++messages;
    const auto data = buffer_.cdata();
    // After close() the listener is done with this connection: a message read during the
    // close handshake is discarded (counted in `discarded`), never delivered.
    if (closing_) ++discarded;
    if (listener_ != nullptr && !closing_) {
      listener_->on_message(std::string_view(static_cast<const char*>(data.data()), data.size()), now_ns());
    }
    buffer_.consume(buffer_.size());
    read();
  }

  void write_next() {
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    if (finished_) return;
    if (ec) return fail("write: " + ec.message());
    queue_.pop_front();
    if (!queue_.empty() && !closing_) write_next();
  }

  // fail ends the connection now.
  void fail(const std::string& reason) {
    if (finished_) return;
    resolver_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    finish(reason);
  }

  // finish reports the end once; a failure already decided by fail_soon keeps its reason
  // (a handler of an operation it cancels, or one already queued, may run first).
  void finish(const std::string& reason) {
    if (finished_) return;
    finished_ = true;
    open = false;
    close_timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (WsListener* l = std::exchange(listener_, nullptr)) l->on_close(failing_ ? failure_ : reason);
  }

  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  std::shared_ptr<asio::ssl::context> tls_;
  websocket::stream<Lower> ws_;
  asio::steady_timer close_timer_;
  Url url_;
  WsOptions options_;
  WsListener* listener_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::string close_reason_;
  bool closing_ = false;
  bool finished_ = false;
  bool failing_ = false;  // fail_soon was called: failure_ is the reason
  std::string failure_;
};

}  // namespace

WebSocketClient::WebSocketClient(EventLoop& loop, const WsOptions& options, WsListener& listener)
    : loop_(loop), options_(options), listener_(listener) {}

WebSocketClient::~WebSocketClient() {
  if (impl_) impl_->abort();
}

void WebSocketClient::connect(std::string_view url_text) {
  if (impl_) impl_->abort();
  impl_.reset();
  Url url;
  // A connection that cannot even start still reports through on_close after connect()
  // returns, like every other failure.
  auto refuse = [&](std::string reason) {
    impl_ = std::make_shared<Connection<false>>(loop_.context(), nullptr, Url{}, options_, &listener_);
    impl_->fail_soon(std::move(reason));
  };
  if (!parse_url(url_text, url) || (url.scheme != "ws" && url.scheme != "wss")) {
    refuse("bad WebSocket URL '" + std::string(url_text) + "' (want ws://host[:port]/path or wss://...)");
    return;
  }
  if (url.tls) {
    std::string error;
    auto ctx = detail::make_client_tls(options_.tls, error);
    if (!ctx) {
      refuse(error);
      return;
    }
    impl_ = std::make_shared<Connection<true>>(loop_.context(), std::move(ctx), std::move(url), options_, &listener_);
  } else {
    impl_ = std::make_shared<Connection<false>>(loop_.context(), nullptr, std::move(url), options_, &listener_);
  }
  impl_->start();
}

bool WebSocketClient::send(std::string_view text) { return impl_ && impl_->send(text); }

void WebSocketClient::close(std::string_view reason) {
  if (impl_) impl_->close(reason);
}

bool WebSocketClient::is_open() const noexcept { return impl_ && impl_->open; }
std::uint64_t WebSocketClient::bytes_received() const noexcept { return impl_ ? impl_->bytes : 0; }
std::uint64_t WebSocketClient::messages_received() const noexcept { return impl_ ? impl_->messages : 0; }
std::uint64_t WebSocketClient::messages_discarded() const noexcept { return impl_ ? impl_->discarded : 0; }

}  // namespace obr::net
