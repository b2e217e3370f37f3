// tools/sim/simulator.cpp — the exchange simulator (see simulator.h).
//
// One acceptor serves every route. A connection starts as HTTP (after TLS when on): a
// WebSocket upgrade on /v2 becomes a Kraken peer, on /kucoin/ws a KuCoin peer; anything
// else is a REST call answered on the same connection. The market clock (a timer) draws
// changes from one Market per venue (synthetic, or a recording: SimConfig::*_market), at
// changes_per_s or, for a recording with times when SimConfig::speed is set, at its
// recorded pace (on_tick), and fans each one out to the subscribed peers, passing every
// outbound book message through the fault schedule first.
//
// This file: the default symbols; then sections — peers (PeerOn: one WebSocket connection,
// plain or TLS; HttpConn: the HTTP connection before an upgrade), lifecycle (start, stop,
// accept, on_tick, heartbeats) and the public Simulator API. The venues' side (REST,
// WebSocket messages, market fan-out, faults) is simulator_venues.cpp; Simulator::Impl is
// declared in simulator_impl.h.
#include "tools/sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <optional>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "tools/sim/simulator_impl.h"
#include "tools/sim/tls_cert.h"

namespace obr::sim {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;
using book::Level;

namespace {

SymbolSpec make_spec(const char* name, int price_scale, int qty_scale, std::int64_t mid) {
  SymbolSpec s;
  s.name = name;
  s.price_scale = price_scale;
  s.qty_scale = qty_scale;
  s.mid = mid;
  s.tick = 1;
  s.levels = 300;
  return s;
}

}  // namespace

std::vector<SymbolSpec> default_kraken_symbols() {
  return {make_spec("BTC/USD", 1, 8, 630049), make_spec("ETH/USD", 2, 8, 345012), make_spec("XRP/USD", 5, 8, 52341)};
}

std::vector<SymbolSpec> default_kucoin_symbols() {
  return {make_spec("BTC-USDT", 1, 8, 630042), make_spec("ETH-USDT", 2, 7, 345001),
          make_spec("SOL-USDT", 3, 4, 145123)};
}

// ---- peers ------------------------------------------------------------------------

namespace {

template <class Stream>
class PeerOn final : public Peer, public std::enable_shared_from_this<PeerOn<Stream>> {
 public:
  PeerOn(Simulator::Impl& sim, Stream&& stream, std::shared_ptr<bool> alive)
      : sim_(sim), ws_(std::move(stream)), alive_(std::move(alive)) {}

  void start(http::request<http::string_body> req) {
    target_ = std::string(req.target());
    ws_.read_message_max(1 << 20);
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.async_accept(req, [self = this->shared_from_this()](error_code ec) {
      if (ec || !*self->alive_) return;
      self->sim_.on_open(self, self->target_);
      self->read();
    });
  }

  void send(std::string frame) override {
    if (closed || stalled(net::now_ns())) return;
    if (out_.size() > 200'000) return close_abrupt();  // a client that stopped reading
    out_.push_back(std::move(frame));
    if (out_.size() == 1) write();
  }

  void close_abrupt() override {
    if (closed) return;
    closed = true;
    error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).socket().close(ec);
    if (*alive_) sim_.on_closed(*this);
  }

  void close_code(std::uint16_t code) override {
    if (closed) return;
    closed = true;
    out_.clear();
    websocket::close_reason why;
    why.code = code;
    why.reason = "simulated close";
    ws_.async_close(why,
                    [self = this->shared_from_this()](error_code) {
                      error_code e;
                      beast::get_lowest_layer(self->ws_).socket().close(e);
                    });
    if (*alive_) sim_.on_closed(*this);
  }

 private:
  void read() {
    ws_.async_read(buf_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (!*self->alive_) return;
      if (ec) {
        if (!self->closed) {
          self->closed = true;
          self->sim_.on_closed(*self);
        }
        return;
      }
      const auto d = self->buf_.cdata();
      const std::string text(static_cast<const char*>(d.data()), d.size());
      self->buf_.consume(self->buf_.size());
      if (!self->closed && !self->stalled(net::now_ns())) self->sim_.on_message(self, text);
      self->read();
    });
  }

  void write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(out_.front()), [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        self->out_.clear();
        return;
      }
      if (!self->out_.empty()) self->out_.pop_front();
      if (!self->out_.empty() && !self->closed) self->write();
    });
  }

  Simulator::Impl& sim_;
  websocket::stream<Stream> ws_;
  std::shared_ptr<bool> alive_;
  beast::flat_buffer buf_;
  std::deque<std::string> out_;
  std::string target_;
};

// HttpConn reads requests; answers REST calls or hands the stream to a WebSocket peer.
template <class Stream>
class HttpConn final : public std::enable_shared_from_this<HttpConn<Stream>> {
 public:
  HttpConn(Simulator::Impl& sim, Stream&& stream, std::shared_ptr<bool> alive)
      : sim_(sim), stream_(std::move(stream)), alive_(std::move(alive)) {}

  void read() {
    req_ = {};
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buf_, req_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec || !*self->alive_) return;
      self->on_request();
    });
  }

 private:
  void on_request() {
    beast::get_lowest_layer(stream_).expires_never();
    if (websocket::is_upgrade(req_)) {
      auto peer = std::make_shared<PeerOn<Stream>>(sim_, std::move(stream_), alive_);
      peer->start(std::move(req_));
      return;
    }
    res_ = sim_.rest(req_);
    res_.keep_alive(req_.keep_alive());
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec || !*self->alive_) return;
      if (self->res_.keep_alive()) self->read();
    });
  }

  Simulator::Impl& sim_;
  Stream stream_;
  std::shared_ptr<bool> alive_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

}  // namespace

// ---- lifecycle --------------------------------------------------------------------

bool Simulator::Impl::start(std::string& error) {
  error_code ec;
  const auto address = asio::ip::make_address(config.host, ec);
  if (ec) {
    error = "simulator: '" + config.host + "' is not an IP address";
    return false;
  }
  if (config.tls) {
    SelfSigned cert;
    if (!make_self_signed("localhost", cert, error)) return false;
    tls.use_certificate_chain(asio::buffer(cert.cert_pem), ec);
    if (!ec) tls.use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem, ec);
    if (ec) {
      error = "simulator: loading the generated certificate: " + ec.message();
      return false;
    }
    if (config.cert_file.empty()) config.cert_file = "obr-sim-cert.pem";
    std::ofstream out(config.cert_file, std::ios::binary | std::ios::trunc);
    out << cert.cert_pem;
    if (!out.flush()) {
      error = "simulator: cannot write the certificate to '" + config.cert_file + "'";
      return false;
    }
  }
  const tcp::endpoint ep(address, config.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "simulator: cannot listen on " + config.host + ":" + std::to_string(config.port) + ": " + ec.message();
    return false;
  }
  {  // a port that refuses connections, for fail_endpoint
    tcp::acceptor probe(io, tcp::endpoint(address, 0));
    dead_port = probe.local_endpoint().port();
  }
  for (const Fault& f : config.faults) pending.push_back(f);
  start_ns = net::now_ns();
  fault_origin_ns = config.timed_faults_wait ? -1 : start_ns;
  last_tick_ns = start_ns;
  last_heartbeat_ns = start_ns;
  running = true;
  accept();
  clock.expires_after(std::chrono::nanoseconds(config.tick_ns));
  clock.async_wait([this, alive = alive](error_code e) {
    if (!e && *alive) on_tick();
  });
  return true;
}

void Simulator::Impl::stop() {
  if (!running) return;
  running = false;
  error_code ec;
  acceptor.close(ec);
  clock.cancel();
  for (auto& w : peers) {
    if (auto p = w.lock()) p->close_abrupt();
  }
  peers.clear();
}

void Simulator::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this, alive = alive](error_code ec, tcp::socket socket) {
    if (!*alive || !running) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      if (config.tls) {
        using S = beast::ssl_stream<beast::tcp_stream>;
        auto s = std::make_shared<S>(beast::tcp_stream(std::move(socket)), tls);
        beast::get_lowest_layer(*s).expires_after(std::chrono::seconds(10));
        s->async_handshake(asio::ssl::stream_base::server, [this, s, alive](error_code e) {
          if (e || !*alive) return;
          std::make_shared<HttpConn<S>>(*this, std::move(*s), alive)->read();
        });
      } else {
        std::make_shared<HttpConn<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)), alive)->read();
      }
    }
    accept();
  });
}

void Simulator::Impl::on_tick() {
  const std::int64_t now = net::now_ns();
  const std::int64_t previous_tick_ns = std::exchange(last_tick_ns, now);
  connection_faults();
  if (!paused) {
    // A market with a clock plays at its recorded pace when config.speed says so; the
    // others draw changes_per_s events a second.
    const bool kraken_clocked = config.speed > 0 && kraken.next_at_ns() >= 0;
    const bool kucoin_clocked = config.speed > 0 && kucoin.next_at_ns() >= 0;
    carry += config.changes_per_s * static_cast<double>(config.tick_ns) / 1e9;
    while (carry >= 1.0) {
      carry -= 1.0;
      if (!kraken_clocked) kraken_change(kraken.next());
      if (!kucoin_clocked) kucoin_change(kucoin.next());
      stats.market_changes += static_cast<std::uint64_t>(!kraken_clocked) + static_cast<std::uint64_t>(!kucoin_clocked);
    }
    market_clock_ns += config.speed * static_cast<double>(now - previous_tick_ns);  // late ticks catch up
    const auto market_now = static_cast<std::int64_t>(market_clock_ns);
    // A clocked market plays its events due by now, at most kMaxChangesPerTick a tick; the
    // cap holds the clock back (play_due, market.h).
    constexpr std::size_t cap = SimConfig::kMaxChangesPerTick;
    auto to_kraken = [&](const Change& c) { kraken_change(c); };
    auto to_kucoin = [&](const Change& c) { kucoin_change(c); };
    if (kraken_clocked) stats.market_changes += play_due(kraken, market_now, market_clock_ns, cap, to_kraken);
    if (kucoin_clocked) stats.market_changes += play_due(kucoin, market_now, market_clock_ns, cap, to_kucoin);
  }
  if (now - old_snapshot_ns >= 1'000'000'000) {  // keep a second-old snapshot for stale_snapshot
    for (std::size_t i = 0; i < kucoin.symbol_count(); ++i) old_snapshots[i] = kucoin_snapshot_json(i, 100);
    old_snapshot_ns = now;
  }
  if (now - last_heartbeat_ns >= 1'000'000'000) {
    last_heartbeat_ns = now;
    heartbeat();
  }
  clock.expires_after(std::chrono::nanoseconds(config.tick_ns));
  clock.async_wait([this, alive = alive](error_code e) {
    if (!e && *alive) on_tick();
  });
}

void Simulator::Impl::heartbeat() {
  peers.erase(std::remove_if(peers.begin(), peers.end(), [](const auto& w) { return w.expired(); }), peers.end());
  for (auto& w : peers) {
    auto p = w.lock();
    if (!p || p->closed || p->venue != Venue::kKraken) continue;
    if (std::any_of(p->depth.begin(), p->depth.end(), [](int d) { return d > 0; })) {
      p->send(R"({"channel":"heartbeat"})");
    }
  }
}

// ---- public -----------------------------------------------------------------------

Simulator::Simulator(net::EventLoop& loop, SimConfig config) : impl_(std::make_unique<Impl>(loop, std::move(config))) {}
Simulator::~Simulator() {
  *impl_->alive = false;
  impl_->stop();
}
bool Simulator::start(std::string& error) { return impl_->start(error); }
void Simulator::stop() { impl_->stop(); }
std::uint16_t Simulator::port() const {
  error_code ec;
  const auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}
std::string Simulator::kraken_url() const {
  return std::string(impl_->config.tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port()) + "/v2";
}
std::string Simulator::kucoin_rest_base() const {
  return std::string(impl_->config.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}
const std::string& Simulator::cert_file() const { return impl_->config.cert_file; }

std::span<const book::Level> Simulator::truth_bids(std::string_view venue, std::string_view symbol) const {
  const auto b = impl_->find(venue, symbol);
  return b ? b->market->bids(b->index) : std::span<const book::Level>();
}
std::span<const book::Level> Simulator::truth_asks(std::string_view venue, std::string_view symbol) const {
  const auto b = impl_->find(venue, symbol);
  return b ? b->market->asks(b->index) : std::span<const book::Level>();
}
const SymbolSpec* Simulator::spec(std::string_view venue, std::string_view symbol) const {
  const auto b = impl_->find(venue, symbol);
  return b ? &b->market->spec(b->index) : nullptr;
}
std::vector<std::string> Simulator::symbols(std::string_view venue) const {
  std::vector<std::string> out;
  if (venue != "kraken" && venue != "kucoin") return out;
  const Market& m = venue == "kraken" ? impl_->kraken : impl_->kucoin;
  for (std::size_t i = 0; i < m.symbol_count(); ++i) out.push_back(m.spec(i).name);
  return out;
}
bool Simulator::matches_recent_truth(std::string_view venue, std::string_view symbol, std::span<const book::Level> bids,
                                     std::span<const book::Level> asks) const {
  const auto b = impl_->find(venue, symbol);
  return b && b->history->any_equal(bids, asks);
}

void Simulator::add_fault(const Fault& fault) { impl_->pending.push_back(fault); }
void Simulator::arm_timed_faults() {
  if (impl_->fault_origin_ns < 0) impl_->fault_origin_ns = net::now_ns();
}
bool Simulator::timed_faults_armed() const { return impl_->fault_origin_ns >= 0; }
const std::vector<FiredFault>& Simulator::fired() const { return impl_->fired; }
const SimStats& Simulator::stats() const { return impl_->stats; }
void Simulator::pause_market(bool paused) { impl_->paused = paused; }

}  // namespace obr::sim
