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
// In order: time and symbol helpers; the Peer interface and Simulator::Impl declared; then
// sections — peers (PeerOn: one WebSocket connection, plain or TLS; HttpConn: the HTTP
// connection before an upgrade), lifecycle (start, stop, accept, on_tick, heartbeats),
// REST (bullet-public, level2 snapshots), WebSocket peers (subscriptions and pings per
// venue), market fan-out (Kraken checksums and depth views, KuCoin l2update and
// snapshots), faults (the schedule applied to outbound frames and to connections), and
// the public Simulator API.
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
#include <simdjson.h>

#include "book/kraken_checksum.h"
#include "book/order_book.h"
#include "tools/sim/tls_cert.h"

namespace obr::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using book::Level;
using book::Side;

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

namespace {

enum class Venue : std::uint8_t { kNone, kKraken, kKucoin };

std::string kraken_time(std::int64_t ns) {
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>((ns / 1000) % 1'000'000));
  return buf;
}

std::int64_t since_ns(std::int64_t start) { return net::now_ns() - start; }

}  // namespace

// Peer is one WebSocket client of the simulator; the stream type lives in PeerOn<Stream>.
class Peer {
 public:
  virtual ~Peer() = default;
  virtual void send(std::string frame) = 0;   // queued; dropped while stalled
  virtual void close_abrupt() = 0;
  virtual void close_code(std::uint16_t code) = 0;

  std::uint64_t id = 0;
  Venue venue = Venue::kNone;
  bool closed = false;
  std::int64_t stall_until_ns = 0;  // > now: silent; INT64_MAX: until closed
  std::vector<int> depth;            // Kraken: subscribed depth per symbol (0: none)
  std::vector<std::optional<std::string>> held;  // reorder: a frame waiting for the next
  std::vector<bool> subscribed;      // KuCoin: per symbol
  bool stalled(std::int64_t now) const { return stall_until_ns > now; }
};

class Simulator::Impl {
 public:
  Impl(net::EventLoop& loop, SimConfig cfg)
      : io(loop.context()),
        config(std::move(cfg)),
        acceptor(io),
        clock(io),
        tls(asio::ssl::context::tls_server),
        kraken_market(this->config.kraken_market
                          ? this->config.kraken_market
                          : std::make_shared<SyntheticMarket>(specs_or(this->config.kraken_symbols, default_kraken_symbols()),
                                                              this->config.seed)),
        kucoin_market(this->config.kucoin_market
                          ? this->config.kucoin_market
                          : std::make_shared<SyntheticMarket>(specs_or(this->config.kucoin_symbols, default_kucoin_symbols()),
                                                              this->config.seed * 7919 + 1)),
        kraken(*kraken_market),
        kucoin(*kucoin_market) {
    for (std::size_t i = 0; i < kraken.symbol_count(); ++i) {
      book::BookConfig bc;
      bc.price_scale = kraken.spec(i).price_scale;
      bc.qty_scale = kraken.spec(i).qty_scale;
      bc.depth_limit = 10;
      checksum_books.push_back(std::make_unique<book::OrderBook>(bc));
      KrakenCache c;
      c.bids.assign(kraken.bids(i).begin(), kraken.bids(i).end());
      c.asks.assign(kraken.asks(i).begin(), kraken.asks(i).end());
      c.checksum = checksum_of(i);
      kraken_cache.push_back(std::move(c));
    }
    kraken_history.resize(kraken.symbol_count());
    kucoin_history.resize(kucoin.symbol_count());
    for (std::size_t i = 0; i < kraken.symbol_count(); ++i) kraken_history[i].push(kraken.bids(i), kraken.asks(i));
    for (std::size_t i = 0; i < kucoin.symbol_count(); ++i) kucoin_history[i].push(kucoin.bids(i), kucoin.asks(i));
    seq_offset.assign(kucoin.symbol_count(), 0);
    old_snapshots.assign(kucoin.symbol_count(), std::string());
  }

  static std::vector<SymbolSpec> specs_or(const std::vector<SymbolSpec>& given, std::vector<SymbolSpec> fallback) {
    return given.empty() ? std::move(fallback) : given;
  }

  // ---- lifecycle -------------------------------------------------------------------
  bool start(std::string& error);
  void stop();
  void accept();
  void on_tick();
  void heartbeat();

  // ---- routing ---------------------------------------------------------------------
  template <class Stream>
  void serve_http(std::shared_ptr<Stream> stream);
  http::response<http::string_body> rest(const http::request<http::string_body>& req);
  void on_open(const std::shared_ptr<Peer>& peer, std::string_view target);
  void on_message(const std::shared_ptr<Peer>& peer, std::string_view text);
  void on_closed(const Peer& peer);

  // ---- venues ----------------------------------------------------------------------
  void kraken_message(Peer& peer, std::string_view text);
  void kucoin_message(Peer& peer, std::string_view text);
  void kraken_change(const Change& c);
  void kucoin_change(const Change& c);
  std::string kraken_book_frame(std::size_t i, bool snapshot, std::span<const LevelDelta> bids,
                                std::span<const LevelDelta> asks, int depth, std::uint32_t checksum);
  std::string kucoin_snapshot_json(std::size_t i, std::size_t limit);
  std::uint32_t checksum_of(std::size_t i);
  static std::optional<std::size_t> index_in(const Market& market, std::string_view symbol);
  std::optional<std::size_t> kraken_index(std::string_view symbol) const { return index_in(kraken, symbol); }
  std::optional<std::size_t> kucoin_index(std::string_view symbol) const { return index_in(kucoin, symbol); }
  // find: a venue's book by name, with its market and truth history (nullopt if unknown).
  class TruthRing;
  struct Found {
    const Market* market;
    std::size_t index;
    const TruthRing* history;
  };
  std::optional<Found> find(std::string_view venue, std::string_view symbol) const;

  // ---- faults ----------------------------------------------------------------------
  // take_fault: the first pending fault of one of `kinds` due now for (venue, symbol).
  std::optional<Fault> take_fault(Venue venue, std::string_view symbol, std::initializer_list<FaultKind> kinds,
                                  std::uint64_t peer_id);
  void deliver(Peer& peer, Venue venue, std::size_t symbol, std::string frame, bool checksummed_update,
               bool top_changed);
  void connection_faults();

  struct KrakenCache {
    std::vector<Level> bids, asks;  // the truth as of the last message (the "before")
    std::uint32_t checksum = 0;
  };

  asio::io_context& io;
  SimConfig config;
  tcp::acceptor acceptor;
  asio::steady_timer clock;
  asio::ssl::context tls;
  std::shared_ptr<Market> kraken_market;  // the config's, else a SyntheticMarket
  std::shared_ptr<Market> kucoin_market;
  Market& kraken;
  Market& kucoin;
  std::vector<std::unique_ptr<book::OrderBook>> checksum_books;
  std::vector<KrakenCache> kraken_cache;
  std::vector<std::int64_t> seq_offset;        // KuCoin: skip_sequence adds to every later sequence
  std::vector<std::string> old_snapshots;      // KuCoin: a snapshot from about a second ago
  std::int64_t old_snapshot_ns = 0;
  std::vector<std::weak_ptr<Peer>> peers;
  std::vector<Fault> pending;
  std::vector<FiredFault> fired;
  SimStats stats;
  std::int64_t start_ns = 0;
  // What a fault's t= counts from: start, or arm_timed_faults() under timed_faults_wait
  // (-1 until then: timed faults wait).
  std::int64_t fault_origin_ns = -1;
  std::int64_t last_heartbeat_ns = 0;
  double carry = 0;
  double market_clock_ns = 0;  // the clocked markets' time: speed * the unpaused time played
  std::int64_t last_tick_ns = 0;
  bool paused = false;
  bool running = false;
  std::uint64_t next_peer_id = 1;
  std::uint64_t next_token = 1;
  std::vector<std::string> tokens;          // valid KuCoin tokens
  bool expire_next_token = false;
  bool fail_next_endpoint = false;
  std::uint16_t dead_port = 0;
  std::vector<LevelDelta> diff_bids, diff_asks;
  simdjson::dom::parser parser;
  // Recent truths per book: top kTruthLevels of each side, in a ring of kTruthHistory
  // moments allocated (and touched) up front, so the simulator's memory is flat from the
  // start and a soak's memory figures show the engine's.
  class TruthRing {
   public:
    static constexpr std::size_t kSlot = 2 * Simulator::kTruthLevels;
    TruthRing() : levels_(Simulator::kTruthHistory * kSlot), sizes_(Simulator::kTruthHistory * 2) {}
    void push(std::span<const Level> b, std::span<const Level> a) {
      head_ = (head_ + 1) % Simulator::kTruthHistory;
      count_ = std::min(count_ + 1, Simulator::kTruthHistory);
      const std::size_t nb = std::min(Simulator::kTruthLevels, b.size());
      const std::size_t na = std::min(Simulator::kTruthLevels, a.size());
      std::copy_n(b.begin(), nb, levels_.begin() + static_cast<std::ptrdiff_t>(head_ * kSlot));
      std::copy_n(a.begin(), na,
                  levels_.begin() + static_cast<std::ptrdiff_t>(head_ * kSlot + Simulator::kTruthLevels));
      sizes_[head_ * 2] = static_cast<std::uint8_t>(nb);
      sizes_[head_ * 2 + 1] = static_cast<std::uint8_t>(na);
    }
    // any_equal: whether some remembered moment, newest first, has exactly these tops.
    bool any_equal(std::span<const Level> b, std::span<const Level> a) const {
      for (std::size_t k = 0; k < count_; ++k) {
        const std::size_t i = (head_ + Simulator::kTruthHistory - k) % Simulator::kTruthHistory;
        const Level* base = levels_.data() + i * kSlot;
        if (std::equal(b.begin(), b.end(), base, base + sizes_[i * 2]) &&
            std::equal(a.begin(), a.end(), base + Simulator::kTruthLevels,
                       base + Simulator::kTruthLevels + sizes_[i * 2 + 1])) {
          return true;
        }
      }
      return false;
    }

   private:
    std::vector<Level> levels_;
    std::vector<std::uint8_t> sizes_;
    std::size_t head_ = 0, count_ = 0;
  };
  std::vector<TruthRing> kraken_history, kucoin_history;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

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

// ---- REST -------------------------------------------------------------------------

http::response<http::string_body> Simulator::Impl::rest(const http::request<http::string_body>& req) {
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/json");
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  auto query = [&](std::string_view key) -> std::string {
    const std::size_t q = target.find('?');
    if (q == std::string_view::npos) return {};
    std::string_view rest_q = target.substr(q + 1);
    while (!rest_q.empty()) {
      std::string_view item = rest_q.substr(0, rest_q.find('&'));
      rest_q = item.size() < rest_q.size() ? rest_q.substr(item.size() + 1) : std::string_view();
      if (item.substr(0, item.find('=')) == key && item.find('=') != std::string_view::npos) {
        return std::string(item.substr(item.find('=') + 1));
      }
    }
    return {};
  };
  if (path == "/api/v1/bullet-public" && req.method() == http::verb::post) {
    if (take_fault(Venue::kKucoin, "", {FaultKind::kRefuseToken}, 0)) {
      res.body() = R"({"code":"400100","msg":"simulated: token refused"})";
      return res;
    }
    std::string token = "sim-" + std::to_string(next_token++) + "-" + std::to_string(config.seed);
    if (!expire_next_token && take_fault(Venue::kKucoin, "", {FaultKind::kExpireToken}, 0)) expire_next_token = true;
    if (expire_next_token) {
      expire_next_token = false;  // issued, but the WebSocket will refuse it
    } else {
      tokens.push_back(token);
    }
    ++stats.tokens_issued;
    const std::string scheme = config.tls ? "wss" : "ws";
    std::string servers;
    if (fail_next_endpoint || take_fault(Venue::kKucoin, "", {FaultKind::kFailEndpoint}, 0)) {
      fail_next_endpoint = false;
      servers += R"({"endpoint":")" + scheme + "://127.0.0.1:" + std::to_string(dead_port) +
                 R"(/kucoin/ws","encrypt":true,"protocol":"websocket","pingInterval":2000,"pingTimeout":2000},)";
    }
    servers += R"({"endpoint":")" + scheme + "://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) +
               R"(/kucoin/ws","encrypt":true,"protocol":"websocket","pingInterval":2000,"pingTimeout":2000})";
    res.body() = R"({"code":"200000","data":{"token":")" + token + R"(","instanceServers":[)" + servers + "]}}";
    return res;
  }
  const bool l2_100 = path == "/api/v1/market/orderbook/level2_100";
  const bool l2_full = path == "/api/v3/market/orderbook/level2";
  if (l2_100 || l2_full) {
    const std::string symbol = query("symbol");
    const auto i = kucoin_index(symbol);
    if (!i) {
      res.body() = R"({"code":"400100","msg":"symbol not found"})";
      return res;
    }
    if (l2_full && req.find("KC-API-KEY") == req.end()) {
      res.result(http::status::unauthorized);
      res.body() = R"({"code":"400003","msg":"KC-API-KEY not exists"})";
      return res;
    }
    if (auto f = take_fault(Venue::kKucoin, symbol, {FaultKind::kRest429, FaultKind::kRest418, FaultKind::kRest500},
                            0)) {
      const auto code = f->kind == FaultKind::kRest429   ? http::status::too_many_requests
                        : f->kind == FaultKind::kRest418 ? http::status{418}
                                                          : http::status::internal_server_error;
      res.result(code);
      if (f->kind != FaultKind::kRest500) res.set(http::field::retry_after, "1");
      res.body() = R"({"code":"429000","msg":"simulated"})";
      return res;
    }
    ++stats.snapshots_served;
    if (!old_snapshots[*i].empty() && take_fault(Venue::kKucoin, symbol, {FaultKind::kStaleSnapshot}, 0)) {
      res.body() = old_snapshots[*i];
      return res;
    }
    res.body() = kucoin_snapshot_json(*i, l2_100 ? 100 : 0);
    return res;
  }
  res.result(http::status::not_found);
  res.body() = R"({"code":"404000","msg":"no such route: )" + std::string(path) + "\"}";
  return res;
}

// ---- WebSocket peers --------------------------------------------------------------

void Simulator::Impl::on_open(const std::shared_ptr<Peer>& peer, std::string_view target) {
  peer->id = next_peer_id++;
  ++stats.connections;
  peers.push_back(peer);
  if (target.starts_with("/v2")) {
    peer->venue = Venue::kKraken;
    peer->depth.assign(kraken.symbol_count(), 0);
    peer->held.assign(kraken.symbol_count(), std::nullopt);
    peer->send(R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":)" +
               std::to_string(9'000'000'000'000'000'000ULL + peer->id) + "}]}");
    return;
  }
  if (target.starts_with("/kucoin/ws")) {
    peer->venue = Venue::kKucoin;
    peer->subscribed.assign(kucoin.symbol_count(), false);
    peer->held.assign(kucoin.symbol_count(), std::nullopt);
    auto param = [&](std::string_view key) {
      const std::size_t at = target.find(std::string(key) + "=");
      if (at == std::string_view::npos) return std::string();
      std::string_view v = target.substr(at + key.size() + 1);
      return std::string(v.substr(0, v.find('&')));
    };
    const std::string token = param("token");
    const std::string connect_id = param("connectId");
    if (std::find(tokens.begin(), tokens.end(), token) == tokens.end()) {
      peer->send(R"({"id":")" + connect_id + R"(","type":"error","code":401,"data":"token is expired"})");
      peer->close_code(1008);
      return;
    }
    peer->send(R"({"id":")" + connect_id + R"(","type":"welcome"})");
    return;
  }
  peer->close_code(1008);
}

void Simulator::Impl::on_closed(const Peer& peer) { (void)peer; }

void Simulator::Impl::on_message(const std::shared_ptr<Peer>& peer, std::string_view text) {
  if (peer->venue == Venue::kKraken) kraken_message(*peer, text);
  if (peer->venue == Venue::kKucoin) kucoin_message(*peer, text);
}

std::optional<std::size_t> Simulator::Impl::index_in(const Market& market, std::string_view symbol) {
  for (std::size_t i = 0; i < market.symbol_count(); ++i) {
    if (market.spec(i).name == symbol) return i;
  }
  return std::nullopt;
}

std::optional<Simulator::Impl::Found> Simulator::Impl::find(std::string_view venue, std::string_view symbol) const {
  const bool is_kraken = venue == "kraken";
  if (!is_kraken && venue != "kucoin") return std::nullopt;
  const Market& m = is_kraken ? kraken : kucoin;
  const auto i = index_in(m, symbol);
  if (!i) return std::nullopt;
  return Found{&m, *i, is_kraken ? &kraken_history[*i] : &kucoin_history[*i]};
}

void Simulator::Impl::kraken_message(Peer& peer, std::string_view text) {
  const std::int64_t now = net::now_ns();
  const std::string times = R"(,"time_in":")" + kraken_time(now) + R"(","time_out":")" + kraken_time(now) + "\"";
  simdjson::dom::element doc;
  std::string_view method;
  if (parser.parse(text.data(), text.size()).get(doc) || doc["method"].get(method)) {
    peer.send(R"({"error":"Invalid JSON","success":false)" + times + "}");
    return;
  }
  std::int64_t req_id = -1;
  const bool has_req = !doc["req_id"].get(req_id);
  const std::string req = has_req ? R"(,"req_id":)" + std::to_string(req_id) : std::string();
  if (method == "ping") {
    peer.send(R"({"method":"pong")" + req + times + "}");
    return;
  }
  if (method != "subscribe" && method != "unsubscribe") {
    peer.send(R"({"error":"Method not found","method":")" + std::string(method) + R"(","success":false)" + times +
              req + "}");
    return;
  }
  std::string_view channel;
  simdjson::dom::array symbols;
  if (doc["params"]["channel"].get(channel) || doc["params"]["symbol"].get(symbols) || channel != "book") {
    peer.send(R"({"error":"Invalid params","method":")" + std::string(method) + R"(","success":false)" + times + req +
              "}");
    return;
  }
  std::int64_t depth = 10;
  if (doc["params"]["depth"].get(depth) == simdjson::SUCCESS) {
    if (depth != 10 && depth != 25 && depth != 100 && depth != 500 && depth != 1000) {
      peer.send(R"({"error":"Subscription depth not supported","method":")" + std::string(method) +
                R"(","success":false)" + times + req + "}");
      return;
    }
  }
  for (simdjson::dom::element s : symbols) {
    std::string_view name;
    if (s.get(name)) continue;
    const auto i = kraken_index(name);
    if (!i) {
      peer.send(R"({"error":"Currency pair not supported )" + std::string(name) + R"(","method":")" +
                std::string(method) + R"(","success":false,"symbol":")" + std::string(name) + "\"" + times + req + "}");
      continue;
    }
    const std::string result = R"({"method":")" + std::string(method) + R"(","result":{"channel":"book","depth":)" +
                               std::to_string(depth) + (method == "subscribe" ? R"(,"snapshot":true)" : "") +
                               R"(,"symbol":")" + std::string(name) + R"("},"success":true)" + times + req + "}";
    if (method == "unsubscribe") {
      if (peer.depth[*i] == 0) {
        peer.send(R"({"error":"Subscription Not Found","method":"unsubscribe","success":false,"symbol":")" +
                  std::string(name) + "\"" + times + req + "}");
        continue;
      }
      peer.depth[*i] = 0;
      peer.held[*i].reset();
      peer.send(result);
      continue;
    }
    if (peer.depth[*i] != 0) {
      peer.send(R"({"error":"Already subscribed","method":"subscribe","success":false,"symbol":")" +
                std::string(name) + "\"" + times + req + "}");
      continue;
    }
    peer.depth[*i] = static_cast<int>(depth);
    peer.send(result);
    // The snapshot: the true top `depth` now, with its checksum.
    const auto& c = kraken_cache[*i];
    diff_bids.clear();
    diff_asks.clear();
    for (std::size_t k = 0; k < std::min<std::size_t>(c.bids.size(), static_cast<std::size_t>(depth)); ++k) {
      diff_bids.push_back({Side::kBid, c.bids[k].price, c.bids[k].qty});
    }
    for (std::size_t k = 0; k < std::min<std::size_t>(c.asks.size(), static_cast<std::size_t>(depth)); ++k) {
      diff_asks.push_back({Side::kAsk, c.asks[k].price, c.asks[k].qty});
    }
    ++stats.kraken_messages;
    peer.send(kraken_book_frame(*i, true, diff_bids, diff_asks, static_cast<int>(depth), c.checksum));
  }
}

void Simulator::Impl::kucoin_message(Peer& peer, std::string_view text) {
  simdjson::dom::element doc;
  std::string_view type;
  if (parser.parse(text.data(), text.size()).get(doc) || doc["type"].get(type)) {
    peer.send(R"({"type":"error","code":400,"data":"invalid message"})");
    return;
  }
  std::string id;
  if (std::string_view sid; !doc["id"].get(sid)) {
    id = sid;
  } else if (std::int64_t nid = 0; !doc["id"].get(nid)) {
    id = std::to_string(nid);
  }
  if (type == "ping") {
    peer.send(R"({"id":")" + id + R"(","type":"pong"})");
    return;
  }
  if (type != "subscribe" && type != "unsubscribe") return;
  std::string_view topic;
  if (doc["topic"].get(topic) || !topic.starts_with("/market/level2:")) {
    peer.send(R"({"id":")" + id + R"(","type":"error","code":404,"data":"topic is not supported"})");
    return;
  }
  std::string_view list = topic.substr(15);
  std::vector<std::size_t> found;
  while (!list.empty()) {
    std::string_view s = list.substr(0, list.find(','));
    list = s.size() < list.size() ? list.substr(s.size() + 1) : std::string_view();
    const auto i = kucoin_index(s);
    if (!i) {
      peer.send(R"({"id":")" + id + R"(","type":"error","code":404,"data":"topic /market/level2:)" + std::string(s) +
                R"( is not found"})");
      return;
    }
    found.push_back(*i);
  }
  for (std::size_t i : found) peer.subscribed[i] = type == "subscribe";
  bool response = false;
  if (!doc["response"].get(response) && response) peer.send(R"({"id":")" + id + R"(","type":"ack"})");
}

// ---- market fan-out ---------------------------------------------------------------

std::uint32_t Simulator::Impl::checksum_of(std::size_t i) {
  book::OrderBook& ob = *checksum_books[i];
  const auto b = kraken.bids(i);
  const auto a = kraken.asks(i);
  ob.replace(b.first(std::min<std::size_t>(b.size(), 10)), a.first(std::min<std::size_t>(a.size(), 10)));
  return book::kraken_checksum(ob);
}

std::string Simulator::Impl::kraken_book_frame(std::size_t i, bool snapshot, std::span<const LevelDelta> bids,
                                               std::span<const LevelDelta> asks, int depth, std::uint32_t checksum) {
  (void)depth;
  return kraken_v2_book_frame(kraken.spec(i), snapshot, bids, asks, checksum, kraken_time(net::now_ns()));
}

void Simulator::Impl::kraken_change(const Change& c) {
  const std::size_t i = c.symbol;
  KrakenCache& cache = kraken_cache[i];
  const std::uint32_t checksum = checksum_of(i);
  const bool top_changed = checksum != cache.checksum;
  kraken_history[i].push(kraken.bids(i), kraken.asks(i));
  const auto after_b = kraken.bids(i);
  const auto after_a = kraken.asks(i);
  for (auto& w : peers) {
    auto p = w.lock();
    if (!p || p->closed || p->venue != Venue::kKraken || p->depth[i] == 0) continue;
    const auto d = static_cast<std::size_t>(p->depth[i]);
    kraken_depth_diff(Side::kBid, cache.bids, after_b, d, diff_bids);
    kraken_depth_diff(Side::kAsk, cache.asks, after_a, d, diff_asks);
    if (diff_bids.empty() && diff_asks.empty()) continue;
    ++stats.kraken_messages;
    deliver(*p, Venue::kKraken, i, kraken_book_frame(i, false, diff_bids, diff_asks, p->depth[i], checksum), true,
            top_changed);
  }
  cache.bids.assign(after_b.begin(), after_b.end());
  cache.asks.assign(after_a.begin(), after_a.end());
  cache.checksum = checksum;
}

void Simulator::Impl::kucoin_change(const Change& c) {
  const std::size_t i = c.symbol;
  const SymbolSpec& s = kucoin.spec(i);
  kucoin_history[i].push(kucoin.bids(i), kucoin.asks(i));
  bool any = false;
  for (auto& w : peers) {
    auto p = w.lock();
    if (p && !p->closed && p->venue == Venue::kKucoin && p->subscribed[i]) any = true;
  }
  if (auto f = take_fault(Venue::kKucoin, s.name, {FaultKind::kSkipSequence}, 0)) {
    seq_offset[i] += f->arg > 0 ? f->arg : 5;
  }
  if (!any) return;
  const std::int64_t off = seq_offset[i];
  std::string out;
  out += R"({"type":"message","topic":"/market/level2:)";
  out += s.name;
  out += R"(","subject":"trade.l2update","data":{"changes":{"asks":[)";
  for (int side = 1; side >= 0; --side) {
    bool first = true;
    std::int64_t seq = c.first_sequence + off;
    for (const LevelDelta& d : c.deltas) {
      const std::int64_t this_seq = seq++;
      if ((d.side == Side::kBid) != (side == 0)) continue;
      if (!first) out += ',';
      first = false;
      out += "[\"" + format_fixed(d.price, s.price_scale) + "\",\"" + format_fixed(d.qty, s.qty_scale) + "\",\"" +
             std::to_string(this_seq) + "\"]";
    }
    if (side == 1) out += R"(],"bids":[)";
  }
  out += R"(]},"sequenceEnd":)" + std::to_string(c.sequence + off) + R"(,"sequenceStart":)" +
         std::to_string(c.first_sequence + off) + R"(,"symbol":")" + s.name + R"(","time":)" +
         std::to_string(net::now_ns() / 1'000'000) + "}}";
  for (auto& w : peers) {
    auto p = w.lock();
    if (!p || p->closed || p->venue != Venue::kKucoin || !p->subscribed[i]) continue;
    ++stats.kucoin_messages;
    deliver(*p, Venue::kKucoin, i, out, false, true);
  }
}

std::string Simulator::Impl::kucoin_snapshot_json(std::size_t i, std::size_t limit) {
  const SymbolSpec& s = kucoin.spec(i);
  std::string out = R"({"code":"200000","data":{"time":)" + std::to_string(net::now_ns() / 1'000'000) +
                    R"(,"sequence":")" + std::to_string(kucoin.sequence(i) + seq_offset[i]) + "\"";
  for (int side = 0; side < 2; ++side) {
    const auto levels = side == 0 ? kucoin.bids(i) : kucoin.asks(i);
    out += side == 0 ? R"(,"bids":[)" : R"(],"asks":[)";
    const std::size_t n = limit == 0 ? levels.size() : std::min(limit, levels.size());
    for (std::size_t k = 0; k < n; ++k) {
      if (k) out += ',';
      out += "[\"" + format_fixed(levels[k].price, s.price_scale) + "\",\"" + format_fixed(levels[k].qty, s.qty_scale) +
             "\"]";
    }
  }
  out += "]}}";
  return out;
}

// ---- faults -----------------------------------------------------------------------

std::optional<Fault> Simulator::Impl::take_fault(Venue venue, std::string_view symbol,
                                                 std::initializer_list<FaultKind> kinds, std::uint64_t peer_id) {
  const std::string_view vname = venue == Venue::kKraken ? "kraken" : "kucoin";
  const bool timed_armed = fault_origin_ns >= 0;
  const std::int64_t elapsed = since_ns(fault_origin_ns);
  const std::uint64_t msgs = venue == Venue::kKraken ? stats.kraken_messages : stats.kucoin_messages;
  for (auto it = pending.begin(); it != pending.end(); ++it) {
    if (std::find(kinds.begin(), kinds.end(), it->kind) == kinds.end()) continue;
    const std::string_view fv = fault_venue(*it);
    if (!fv.empty() && fv != vname) continue;
    if (!it->symbol.empty() && !symbol.empty() && it->symbol != symbol) continue;
    if ((it->at_ns > 0 && !timed_armed) || elapsed < it->at_ns || msgs < it->at_message) continue;
    Fault f = *it;
    pending.erase(it);
    FiredFault ff;
    ff.fault = f;
    ff.at_ns = net::now_ns();
    ff.symbol.assign(symbol);
    ff.connection = peer_id;
    fired.push_back(std::move(ff));
    return f;
  }
  return std::nullopt;
}

void Simulator::Impl::deliver(Peer& peer, Venue venue, std::size_t symbol, std::string frame, bool checksummed_update,
                              bool top_changed) {
  const std::string& name = venue == Venue::kKraken ? kraken.spec(symbol).name : kucoin.spec(symbol).name;
  auto& held = peer.held[symbol];
  // A Kraken drop or reorder that does not touch the top 10 would be invisible to the
  // checksum (and harmless to the validated part of the book), so those wait for one that does.
  const bool visible = venue == Venue::kKucoin || top_changed;
  if (!held) {
    std::optional<Fault> f;
    if (visible) {
      f = take_fault(venue, name, {FaultKind::kDrop, FaultKind::kReorder, FaultKind::kDuplicate}, peer.id);
    } else {
      f = take_fault(venue, name, {FaultKind::kDuplicate}, peer.id);
    }
    if (!f && checksummed_update) f = take_fault(venue, name, {FaultKind::kCorruptChecksum}, peer.id);
    if (f) {
      switch (f->kind) {
        case FaultKind::kDrop:
          return;
        case FaultKind::kReorder:
          held = std::move(frame);
          return;
        case FaultKind::kDuplicate:
          peer.send(frame);
          break;
        case FaultKind::kCorruptChecksum: {
          const std::size_t at = frame.rfind(R"("checksum":)");
          const std::size_t end = frame.find(',', at);
          const std::uint32_t wrong = static_cast<std::uint32_t>(std::stoul(frame.substr(at + 11, end - at - 11))) ^ 0x5a5a5a5aU;
          frame.replace(at + 11, end - at - 11, std::to_string(wrong));
          break;
        }
        default:
          break;
      }
    }
  }
  peer.send(std::move(frame));
  if (held) {  // the reordered frame goes after the one that overtook it
    std::string h = std::move(*held);
    held.reset();
    peer.send(std::move(h));
  }
}

void Simulator::Impl::connection_faults() {
  const std::int64_t now = net::now_ns();
  for (auto& w : peers) {
    auto p = w.lock();
    if (!p || p->closed || p->venue == Venue::kNone) continue;
    const Venue v = p->venue;
    // The book this peer carries (for symbol-targeted connection faults).
    std::string carried;
    if (v == Venue::kKraken) {
      for (std::size_t i = 0; i < p->depth.size() && carried.empty(); ++i) {
        if (p->depth[i] > 0) carried = kraken.spec(i).name;
      }
    } else {
      for (std::size_t i = 0; i < p->subscribed.size() && carried.empty(); ++i) {
        if (p->subscribed[i]) carried = kucoin.spec(i).name;
      }
    }
    if (carried.empty()) continue;  // not serving books yet
    auto f = take_fault(v, carried,
                        {FaultKind::kStall, FaultKind::kClose, FaultKind::kCloseCode, FaultKind::kMaintenance,
                         FaultKind::kMalformed, FaultKind::kOversized},
                        p->id);
    if (!f) continue;
    fired.back().symbol.clear();  // a connection fault hits every book on it
    switch (f->kind) {
      case FaultKind::kStall:
        p->stall_until_ns = f->arg > 0 ? now + f->arg : INT64_MAX;
        break;
      case FaultKind::kClose:
        p->close_abrupt();
        break;
      case FaultKind::kCloseCode:
        p->close_code(static_cast<std::uint16_t>(f->arg > 0 ? f->arg : 1001));
        break;
      case FaultKind::kMaintenance: {
        p->send(R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"maintenance","api_version":"v2","connection_id":1}]})");
        auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(1));
        std::weak_ptr<Peer> weak = p;
        timer->async_wait([timer, weak, alive = alive](error_code) {
          if (!*alive) return;
          if (auto peer = weak.lock()) {
            peer->send(R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":1}]})");
          }
        });
        break;
      }
      case FaultKind::kMalformed:
        p->send(std::string("\x01\x02{\"channel\":\"book\",\"type\":\"upd\xff\xfe", 24));
        break;
      case FaultKind::kOversized:
        p->send(R"({"channel":"book","pad":")" + std::string(8u << 20, 'x') + "\"}");
        break;
      default:
        break;
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
