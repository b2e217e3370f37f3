// tools/sim/simulator.cpp — the exchange simulator's shared part (see simulator.h and
// simulator_impl.h).
//
// One acceptor serves every route. A connection starts as HTTP (after TLS when on): a
// WebSocket upgrade whose path starts with a venue piece's ws_path() becomes that piece's
// peer; a request for one of a piece's rest_paths() is that piece's REST call, answered on
// the same connection; anything else is refused (close 1008, or 404). The market clock (a
// timer) draws changes from one Market per piece (synthetic, or a recording: SimConfig's
// markets under the piece's name), at changes_per_s or, for a recording with times when
// SimConfig::speed is set, at its recorded pace (on_tick), records each in the truth's
// history and hands it to the piece, which fans it out to its subscribed peers through
// deliver (the fault schedule) in its wire format. The pieces are made from the list
// (venue_pieces.cpp), in its order.
//
// This file, in sections: construction; peers (PeerOn: one WebSocket connection, plain or
// TLS; HttpConn: the HTTP connection before an upgrade); lifecycle (start, stop, accept,
// on_tick); routing (REST, WebSocket peers, finding a book); faults (the schedule, the
// frame faults in deliver, the connection faults); the public Simulator API.
#include "tools/sim/simulator.h"

#include <algorithm>
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
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <optional>
#include <utility>

#include "tools/sim/simulator_impl.h"
#include "tools/sim/tls_cert.h"

namespace obr::sim {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;
using book::Level;

// ---- construction -----------------------------------------------------------------

namespace {

// specs_or: the symbols `config` gives the venue `name`, or `fallback` when it gives none.
std::vector<SymbolSpec> specs_or(const SimConfig& config, std::string_view name, std::vector<SymbolSpec> fallback) {
  const auto it = config.symbols.find(name);
  return it == config.symbols.end() || it->second.empty() ? std::move(fallback) : it->second;
}

// market_of: the market `config` gives the venue `name`, or null (it then gets a synthetic one).
std::shared_ptr<Market> market_of(const SimConfig& config, std::string_view name) {
  const auto it = config.markets.find(name);
  return it == config.markets.end() ? nullptr : it->second;
}

// unserved_venue: the first key of `config`'s per-venue maps that names no piece, or empty.
std::string unserved_venue(const SimConfig& config) {
  for (const auto& [name, symbols] : config.symbols) {
    if (find_venue_piece(name) == nullptr) return name;
  }
  for (const auto& [name, market] : config.markets) {
    if (find_venue_piece(name) == nullptr) return name;
  }
  for (const auto& [name, timers] : config.timers) {
    if (find_venue_piece(name) == nullptr) return name;
  }
  for (const auto& [name, options] : config.options) {
    if (find_venue_piece(name) == nullptr) return name;
  }
  return {};
}

std::int64_t since_ns(std::int64_t start) { return net::now_ns() - start; }

}  // namespace

Simulator::Impl::Impl(net::EventLoop& loop, SimConfig cfg)
    : io(loop.context()), config(std::move(cfg)), acceptor(io), clock(io), tls(asio::ssl::context::tls_server) {
  for (const VenuePieceFactory& f : venue_pieces()) {
    stats.venues.try_emplace(std::string(f.name));
    if (!config.serve_only.empty() &&
        std::find(config.serve_only.begin(), config.serve_only.end(), f.name) == config.serve_only.end()) {
      continue;
    }
    Served v;
    v.factory = &f;
    v.market = market_of(config, f.name);
    if (!v.market) {
      v.market =
          std::make_shared<SyntheticMarket>(specs_or(config, f.name, f.default_symbols()), f.market_seed(config.seed));
    }
    v.history.resize(v.market->symbol_count());
    for (std::size_t i = 0; i < v.market->symbol_count(); ++i) v.history[i].push(v.market->bids(i), v.market->asks(i));
    // The piece's counters exist before the piece, which keeps a reference to them (a map's
    // entries stay put, and none is ever removed).
    stats.venues.try_emplace(std::string(f.name));
    v.piece = f.make(*this, *v.market);
    venues.push_back(std::move(v));
  }
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
    // Pongs are control frames, which Beast consumes inside a read; this is where a piece
    // learns that its client is alive (Peer::last_pong_ns). The stream, and so the
    // callback, dies with the peer.
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) last_pong_ns = net::now_ns();
    });
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

  void ping(std::string payload) override {
    if (closed || pinging_ || stalled(net::now_ns())) return;
    if (payload.size() > websocket::ping_data::static_capacity) payload.resize(websocket::ping_data::static_capacity);
    pinging_ = true;
    // Beast allows one ping in flight beside one write, so a ping never waits for the queue.
    ws_.async_ping(websocket::ping_data(payload.data(), payload.size()),
                   [self = this->shared_from_this()](error_code) { self->pinging_ = false; });
  }

  void close_code(std::uint16_t code) override {
    if (closed) return;
    closed = true;
    out_.clear();
    websocket::close_reason why;
    why.code = code;
    why.reason = "simulated close";
    ws_.async_close(why, [self = this->shared_from_this()](error_code) {
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
  bool pinging_ = false;
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
  if (const std::string name = unserved_venue(config); !name.empty()) {
    error = "simulator: the configuration names the venue '" + name +
            "', which has no piece (its venues: " + venue_piece_names() + ")";
    return false;
  }
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
  last_prune_ns = start_ns;
  for (Served& v : venues) v.piece->on_start(start_ns);
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
    // others draw changes_per_s events a second, one per venue in turn.
    for (Served& v : venues) v.clocked = config.speed > 0 && v.market->next_at_ns() >= 0;
    carry += config.changes_per_s * static_cast<double>(config.tick_ns) / 1e9;
    while (carry >= 1.0) {
      carry -= 1.0;
      for (Served& v : venues) {
        if (v.clocked) continue;
        change(v, v.market->next());
        ++stats.market_changes;
      }
    }
    market_clock_ns += config.speed * static_cast<double>(now - previous_tick_ns);  // late ticks catch up
    const auto market_now = static_cast<std::int64_t>(market_clock_ns);
    // A clocked market plays its events due by now, at most kMaxChangesPerTick a tick; the
    // cap holds the clock back (play_due, market.h).
    constexpr std::size_t cap = SimConfig::kMaxChangesPerTick;
    for (Served& v : venues) {
      if (v.clocked)
        stats.market_changes +=
            play_due(*v.market, market_now, market_clock_ns, cap, [&](const Change& c) { change(v, c); });
    }
  }
  if (now - last_prune_ns >= 1'000'000'000) {
    last_prune_ns = now;
    peers.erase(std::remove_if(peers.begin(), peers.end(), [](const auto& w) { return w.expired(); }), peers.end());
  }
  for (Served& v : venues) v.piece->on_tick(now);
  clock.expires_after(std::chrono::nanoseconds(config.tick_ns));
  clock.async_wait([this, alive = alive](error_code e) {
    if (!e && *alive) on_tick();
  });
}

void Simulator::Impl::change(Served& v, const Change& c) {
  v.history[c.symbol].push(v.market->bids(c.symbol), v.market->asks(c.symbol));
  v.piece->on_change(c);
}

// ---- routing ----------------------------------------------------------------------

HttpResponse Simulator::Impl::rest(const HttpRequest& req) {
  HttpResponse res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/json");
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  for (Served& v : venues) {
    const auto paths = v.piece->rest_paths();
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) continue;
    if (v.piece->on_rest(req, path, target, res)) return res;
  }
  res.result(http::status::not_found);
  res.body() = R"({"code":"404000","msg":"no such route: )" + std::string(path) + "\"}";
  return res;
}

void Simulator::Impl::on_open(const std::shared_ptr<Peer>& peer, std::string_view target) {
  peer->id = next_peer_id++;
  peer->opened_ns = net::now_ns();
  ++stats.connections;
  peers.push_back(peer);
  for (Served& v : venues) {
    if (!target.starts_with(v.piece->ws_path())) continue;
    peer->piece = v.piece.get();
    peer->subscribed.assign(v.market->symbol_count(), 0);
    peer->held.assign(v.market->symbol_count(), std::nullopt);
    v.piece->on_open(*peer, target);
    return;
  }
  peer->close_code(1008);
}

void Simulator::Impl::on_closed(const Peer& peer) { (void)peer; }

void Simulator::Impl::on_message(const std::shared_ptr<Peer>& peer, std::string_view text) {
  if (peer->piece != nullptr) peer->piece->on_message(*peer, text);
}

const Simulator::Impl::Served* Simulator::Impl::served(std::string_view venue) const {
  for (const Served& v : venues) {
    if (v.factory->name == venue) return &v;
  }
  return nullptr;
}

std::optional<Simulator::Impl::Found> Simulator::Impl::find(std::string_view venue, std::string_view symbol) const {
  const Served* v = served(venue);
  if (v == nullptr) return std::nullopt;
  const auto i = symbol_index(*v->market, symbol);
  if (!i) return std::nullopt;
  return Found{v->market.get(), *i, &v->history[*i]};
}

std::uint16_t Simulator::Impl::listen_port() const {
  error_code ec;
  const auto ep = acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

// ---- faults -----------------------------------------------------------------------

std::optional<Fault> Simulator::Impl::take_fault(const VenuePiece& piece, std::string_view symbol,
                                                 std::span<const FaultKind> kinds, std::uint64_t peer_id) {
  const std::string_view vname = piece.name();
  const bool timed_armed = fault_origin_ns >= 0;
  const std::int64_t elapsed = since_ns(fault_origin_ns);
  const std::uint64_t msgs = piece.book_messages();
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
    ff.venue.assign(vname);
    ff.symbol.assign(symbol);
    ff.connection = peer_id;
    fired.push_back(std::move(ff));
    return f;
  }
  return std::nullopt;
}

void Simulator::Impl::deliver(Peer& peer, std::size_t symbol, std::string frame, bool visible) {
  VenuePiece& piece = *peer.piece;
  const std::string& name = piece.market().spec(symbol).name;
  auto& held = peer.held[symbol];
  if (!held) {
    std::optional<Fault> f;
    if (visible) {
      f = take_fault(piece, name, {FaultKind::kDrop, FaultKind::kReorder, FaultKind::kDuplicate}, peer.id);
    } else {
      f = take_fault(piece, name, {FaultKind::kDuplicate}, peer.id);
    }
    if (!f && !piece.frame_faults().empty()) f = take_fault(piece, name, piece.frame_faults(), peer.id);
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
        default:  // one of the piece's own
          piece.apply_frame_fault(*f, frame);
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
  static constexpr FaultKind kShared[] = {FaultKind::kStall, FaultKind::kClose, FaultKind::kCloseCode,
                                          FaultKind::kMalformed, FaultKind::kOversized};
  const std::int64_t now = net::now_ns();
  for (auto& w : peers) {
    auto p = w.lock();
    if (!p || p->closed || p->piece == nullptr) continue;
    VenuePiece& piece = *p->piece;
    // The book this peer carries (for symbol-targeted connection faults).
    std::string carried;
    for (std::size_t i = 0; i < p->subscribed.size() && carried.empty(); ++i) {
      if (p->subscribed[i] > 0) carried = piece.market().spec(i).name;
    }
    if (carried.empty()) continue;  // not serving books yet
    kinds_buffer.assign(std::begin(kShared), std::end(kShared));
    kinds_buffer.insert(kinds_buffer.end(), piece.connection_faults().begin(), piece.connection_faults().end());
    auto f = take_fault(piece, carried, kinds_buffer, p->id);
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
      case FaultKind::kMalformed:
        p->send(std::string("\x01\x02{\"channel\":\"book\",\"type\":\"upd\xff\xfe", 24));
        break;
      case FaultKind::kOversized:
        p->send(R"({"channel":"book","pad":")" + std::string(8u << 20, 'x') + "\"}");
        break;
      default:  // one of the piece's own
        piece.apply_connection_fault(*f, p);
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
std::uint16_t Simulator::port() const { return impl_->listen_port(); }
std::string Simulator::url(std::string_view venue) const {
  const Impl::Served* v = impl_->served(venue);
  return v ? v->piece->entry_url(impl_->config.tls, port()) : std::string();
}
std::string Simulator::rest_url(std::string_view venue) const {
  const Impl::Served* v = impl_->served(venue);
  if (v == nullptr || v->piece->rest_paths().empty()) return {};
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
  const Impl::Served* v = impl_->served(venue);
  if (v == nullptr) return out;
  for (std::size_t i = 0; i < v->market->symbol_count(); ++i) out.push_back(v->market->spec(i).name);
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
