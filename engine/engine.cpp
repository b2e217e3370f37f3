// engine/engine.cpp — the live engine (see engine.h).
//
// One Conn per venue connection. A Conn is the SessionSink of its session and the
// WsListener of its WebSocket: it turns transport events into session calls and session
// actions into transport calls, adding reconnects, the watchdog and timers. Book events go
// through the registry (a dense index per venue book) to the listener and to the
// published top of book.
#include "engine/engine.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <thread>
#include <utility>

#include "connectors/kraken/v2_session.h"
#include "connectors/kucoin/spot_session.h"
#include "connectors/net/event_loop.h"
#include "connectors/net/http_client.h"
#include "connectors/net/websocket_client.h"

namespace obr::engine {

using connectors::BookId;
using connectors::FrameError;
using connectors::HttpRequest;
using connectors::StateReason;

std::string_view to_string(ConnectionState s) noexcept {
  switch (s) {
    case ConnectionState::kConnecting: return "connecting";
    case ConnectionState::kOpen: return "open";
    case ConnectionState::kClosed: return "closed";
  }
  return "unknown";
}

namespace {
constexpr std::int64_t kTickNs = 100'000'000;  // session timers and the watchdog check
}

struct BookEntry {
  std::string venue;
  std::string symbol;
  const book::OrderBook* book = nullptr;
  TopOfBookCell cell;
  std::uint64_t version = 0;
};

class Conn : public connectors::SessionSink, public net::WsListener {
 public:
  Conn(Engine::Impl& engine, std::string venue);
  ~Conn() override = default;
  // init subscribes the session's books (nothing is sent before the connection opens) and
  // registers them, so the registry is complete before any other thread can read it.
  virtual void init() = 0;
  virtual void start() = 0;
  virtual void shutdown();

  // SessionSink: book events (common to every venue).
  void send_frame(std::string_view frame) override { ws_.send(frame); }
  void book_updated(BookId id, std::string_view symbol, const book::OrderBook& book, bool top_changed) override;
  void book_state_changed(BookId id, std::string_view symbol, book::BookState from, book::BookState to,
                          StateReason reason) override;
  void frame_error(FrameError error, std::string_view detail) override;
  void venue_error(std::string_view symbol, std::string_view message) override;

 protected:
  void set_conn_state(ConnectionState s, std::string_view detail);
  // note_open / note_frame: the bookkeeping every venue does on open and per frame.
  void note_open(std::string_view detail);
  void note_frame(std::size_t bytes, std::int64_t recv_ns);
  // watchdog closes an open connection that sent nothing for watchdog_ns; true if it did.
  bool watchdog(std::int64_t now);
  void start_ticks();
  virtual void on_tick(std::int64_t now) = 0;
  std::size_t entry(BookId id, std::string_view symbol, const book::OrderBook& book);
  void publish(std::size_t index, const book::OrderBook& book);

  Engine::Impl& engine_;
  std::string venue_;
  net::WebSocketClient ws_;
  net::Timer tick_timer_;
  net::Timer reconnect_timer_;
  net::Backoff backoff_;
  std::vector<std::size_t> index_of_;  // BookId → registry index (+1; 0 = unknown)
  std::int64_t last_frame_ns_ = 0;
  std::int64_t recv_ns_ = 0;
  bool opened_ = false;
  bool stopping_ = false;
};

class Engine::Impl {
 public:
  Impl(const EngineConfig& c, Listener* l, net::EventLoop* external)
      : config(c), listener(l != nullptr ? l : &null_listener), owned(external ? nullptr : new net::EventLoop()),
        loop(external ? *external : *owned) {}

  EngineConfig config;
  Listener null_listener;
  Listener* listener;
  std::unique_ptr<net::EventLoop> owned;
  net::EventLoop& loop;
  std::vector<std::unique_ptr<Conn>> conns;
  std::deque<BookEntry> books;  // stable addresses (cells are read from other threads)
  EngineStats stats;
  std::thread thread;
  bool connected = false;

  std::size_t register_book(std::string_view venue, std::string_view symbol, const book::OrderBook* b) {
    for (std::size_t i = 0; i < books.size(); ++i) {
      if (books[i].venue == venue && books[i].symbol == symbol) {
        books[i].book = b;
        return i;
      }
    }
    BookEntry& e = books.emplace_back();
    e.venue.assign(venue);
    e.symbol.assign(symbol);
    e.book = b;
    return books.size() - 1;
  }
};

// ---- Conn -----------------------------------------------------------------------

Conn::Conn(Engine::Impl& engine, std::string venue)
    : engine_(engine),
      venue_(std::move(venue)),
      ws_(engine.loop, [&] {
        net::WsOptions o;
        o.max_message_bytes = engine.config.max_message_bytes;
        o.tls = engine.config.tls;
        return o;
      }(), *this),
      tick_timer_(engine.loop),
      reconnect_timer_(engine.loop),
      backoff_(engine.config.backoff) {}

void Conn::shutdown() {
  stopping_ = true;
  tick_timer_.cancel();
  reconnect_timer_.cancel();
  ws_.close("engine stopping");
}

void Conn::set_conn_state(ConnectionState s, std::string_view detail) {
  engine_.listener->on_connection(venue_, s, detail);
}

void Conn::note_open(std::string_view detail) {
  opened_ = true;
  ++engine_.stats.connects;
  last_frame_ns_ = net::now_ns();
  backoff_.connected(last_frame_ns_);
  set_conn_state(ConnectionState::kOpen, detail);
}

void Conn::note_frame(std::size_t bytes, std::int64_t recv_ns) {
  ++engine_.stats.frames;
  engine_.stats.bytes += bytes;
  last_frame_ns_ = recv_ns;
  recv_ns_ = recv_ns;
}

bool Conn::watchdog(std::int64_t now) {
  if (!ws_.is_open() || now - last_frame_ns_ <= engine_.config.watchdog_ns) return false;
  ++engine_.stats.watchdog_fired;
  last_frame_ns_ = now;
  ws_.close("watchdog: no data frame within the limit");
  return true;
}

void Conn::start_ticks() {
  tick_timer_.start_after(kTickNs, [this] {
    on_tick(net::now_ns());
    if (!stopping_) start_ticks();
  });
}

std::size_t Conn::entry(BookId id, std::string_view symbol, const book::OrderBook& book) {
  if (id >= index_of_.size()) index_of_.resize(id + 1, 0);
  if (index_of_[id] == 0) index_of_[id] = engine_.register_book(venue_, symbol, &book) + 1;
  return index_of_[id] - 1;
}

void Conn::publish(std::size_t index, const book::OrderBook& book) {
  BookEntry& e = engine_.books[index];
  TopOfBook t;
  t.price_scale = book.price_scale();
  t.qty_scale = book.qty_scale();
  t.state = book.state();
  t.updated_ns = recv_ns_;
  t.version = ++e.version;
  std::size_t n = 0;
  for (; n < TopOfBook::kLevels && n < book.bids().size(); ++n) t.bids[n] = book.bids().at(n);
  t.bid_count = static_cast<std::uint8_t>(n);
  for (n = 0; n < TopOfBook::kLevels && n < book.asks().size(); ++n) t.asks[n] = book.asks().at(n);
  t.ask_count = static_cast<std::uint8_t>(n);
  e.cell.publish(t);
}

void Conn::book_updated(BookId id, std::string_view symbol, const book::OrderBook& book, bool top_changed) {
  const std::size_t i = entry(id, symbol, book);
  if (top_changed) publish(i, book);
  engine_.listener->on_book(venue_, symbol, book, top_changed, recv_ns_);
}

void Conn::book_state_changed(BookId id, std::string_view symbol, book::BookState from, book::BookState to,
                              StateReason reason) {
  (void)id;
  // The book object is not passed here; the registry entry is made by the first update.
  for (std::size_t i = 0; i < engine_.books.size(); ++i) {
    BookEntry& e = engine_.books[i];
    if (e.venue == venue_ && e.symbol == symbol && e.book != nullptr) publish(i, *e.book);
  }
  engine_.listener->on_book_state(venue_, symbol, from, to, reason);
}

void Conn::frame_error(FrameError error, std::string_view detail) {
  ++engine_.stats.malformed;
  std::string what(connectors::to_string(error));
  what += ": ";
  what += detail;
  engine_.listener->on_error(venue_, what);
}

void Conn::venue_error(std::string_view symbol, std::string_view message) {
  std::string what(symbol);
  what += ": ";
  what += message;
  engine_.listener->on_error(venue_, what);
}

// ---- Kraken v2 --------------------------------------------------------------------

class KrakenConn final : public Conn {
 public:
  explicit KrakenConn(Engine::Impl& engine)
      : Conn(engine, "kraken"), session_(make_config(engine.config)) {}

  static connectors::kraken::V2Config make_config(const EngineConfig& c) {
    connectors::kraken::V2Config v;
    v.depth = c.kraken.depth;
    v.max_frame_bytes = c.max_message_bytes;
    return v;
  }

  void init() override {
    session_.subscribe(engine_.config.kraken.symbols, *this);  // sent once connected
    for (BookId id = 0; id < session_.book_count(); ++id) entry(id, session_.info(id).symbol, session_.book(id));
  }

  void start() override {
    start_ticks();
    connect();
  }

  void on_open() override {
    note_open(endpoint());
    last_ping_ns_ = last_frame_ns_;
    session_.on_connected(*this);
  }

  void on_message(std::string_view message, std::int64_t recv_ns) override {
    note_frame(message.size(), recv_ns);
    session_.on_frame(message, recv_ns, *this);
  }

  void on_close(std::string_view reason) override {
    ++engine_.stats.disconnects;
    session_.on_disconnected(*this);
    set_conn_state(ConnectionState::kClosed, reason);
    if (stopping_) return;
    if (!opened_) ++endpoint_index_;  // never opened: try the next endpoint
    opened_ = false;
    const std::int64_t delay = backoff_.next(net::now_ns());
    reconnect_timer_.start_after(delay, [this] { connect(); });
  }

 private:
  std::string endpoint() const {
    const auto& eps = engine_.config.kraken.endpoints;
    return eps[endpoint_index_ % eps.size()];
  }
  void connect() {
    if (stopping_) return;
    set_conn_state(ConnectionState::kConnecting, endpoint());
    ws_.connect(endpoint());
  }
  void on_tick(std::int64_t now) override {
    session_.on_tick(now, *this);
    if (!ws_.is_open() || watchdog(now)) return;
    if (now - last_ping_ns_ >= engine_.config.ping_interval_ns) {
      last_ping_ns_ = now;
      session_.ping(*this);
    }
  }

  connectors::kraken::V2Session session_;
  std::size_t endpoint_index_ = 0;
  std::int64_t last_ping_ns_ = 0;
};

// ---- KuCoin spot ------------------------------------------------------------------

class KucoinConn final : public Conn {
 public:
  explicit KucoinConn(Engine::Impl& engine)
      : Conn(engine, "kucoin"),
        session_(make_config(engine.config)),
        http_(engine.loop, [&] {
          net::HttpOptions o;
          o.tls = engine.config.tls;
          return o;
        }()),
        http_timer_(engine.loop),
        bucket_(engine.config.snapshot_rate_per_s, engine.config.snapshot_burst) {}

  static connectors::kucoin::SpotConfig make_config(const EngineConfig& c) {
    connectors::kucoin::SpotConfig s;
    s.rest_base = c.kucoin.rest_base;
    s.credentials = c.kucoin.credentials;
    s.max_frame_bytes = c.max_message_bytes;
    return s;
  }

  void init() override {
    session_.subscribe(engine_.config.kucoin.symbols, this);
    for (BookId id = 0; id < session_.book_count(); ++id) entry(id, session_.info(id).symbol, session_.book(id));
  }

  void start() override {
    start_ticks();
    session_.start(net::now_ns(), *this);
  }

  void shutdown() override {
    Conn::shutdown();
    http_timer_.cancel();
    queue_.clear();
  }

  // Connection actions from the session.
  void http_request(const HttpRequest& request) override {
    queue_.push_back(request);
    pump();
  }
  void open_connection(std::string_view url) override {
    if (stopping_) return;
    set_conn_state(ConnectionState::kConnecting, url);
    ws_.connect(url);
  }
  void close_connection(std::string_view reason) override { ws_.close(reason); }

  void on_open() override {
    note_open("");
    session_.on_connected(last_frame_ns_, *this);
  }
  void on_message(std::string_view message, std::int64_t recv_ns) override {
    note_frame(message.size(), recv_ns);
    session_.on_frame(message, recv_ns, *this);
  }
  void on_close(std::string_view reason) override {
    ++engine_.stats.disconnects;
    opened_ = false;
    set_conn_state(ConnectionState::kClosed, reason);
    if (stopping_) return;
    // The session asks for a new token at once; the transport spaces reconnects out.
    token_not_before_ns_ = net::now_ns() + backoff_.next(net::now_ns());
    session_.on_disconnected(net::now_ns(), *this);
  }

 private:
  static bool is_token_request(const HttpRequest& r) { return r.url.find("bullet-public") != std::string::npos; }

  // pump sends queued requests as the backoff and the token bucket allow.
  void pump() {
    const std::int64_t now = net::now_ns();
    while (!queue_.empty() && !stopping_) {
      HttpRequest& r = queue_.front();
      std::int64_t wait = 0;
      if (is_token_request(r)) {
        wait = token_not_before_ns_ - now;
      } else {
        wait = bucket_.acquire(now);
      }
      if (wait > 0) {
        http_timer_.start_after(wait, [this] { pump(); });
        return;
      }
      HttpRequest req = std::move(r);
      queue_.pop_front();
      ++engine_.stats.http_requests;
      const std::uint64_t id = req.id;
      const std::string url = req.url;
      http_.request(req, [this, id, url](const net::HttpResponse& res) { on_http(id, url, res); });
    }
  }

  void on_http(std::uint64_t id, const std::string& url, const net::HttpResponse& res) {
    const std::int64_t now = net::now_ns();
    if (res.status == 429 || res.status == 418) {
      ++engine_.stats.http_throttled;
      std::int64_t secs = 1;
      std::from_chars(res.retry_after.data(), res.retry_after.data() + res.retry_after.size(), secs);
      bucket_.block_until(now + std::clamp<std::int64_t>(secs, 1, 600) * 1'000'000'000);
    }
    if (!res.error.empty()) engine_.listener->on_error(venue_, res.error);
    session_.on_http_response(id, url, res.status, res.body, now, *this);
  }

  void on_tick(std::int64_t now) override {
    session_.on_tick(now, *this);
    watchdog(now);
  }

  connectors::kucoin::SpotSession session_;
  net::HttpClient http_;
  net::Timer http_timer_;
  net::TokenBucket bucket_;
  std::deque<HttpRequest> queue_;
  std::int64_t token_not_before_ns_ = 0;
};

// ---- Engine -----------------------------------------------------------------------

Engine::Engine(const EngineConfig& config, Listener* listener, net::EventLoop* loop)
    : impl_(std::make_unique<Impl>(config, listener, loop)) {
  if (!config.kraken.symbols.empty() && !config.kraken.endpoints.empty()) {
    impl_->conns.push_back(std::make_unique<KrakenConn>(*impl_));
  }
  if (!config.kucoin.symbols.empty()) impl_->conns.push_back(std::make_unique<KucoinConn>(*impl_));
  for (auto& c : impl_->conns) c->init();
}

Engine::~Engine() {
  if (impl_->thread.joinable()) stop();
  for (auto& c : impl_->conns) c->shutdown();
}

void Engine::connect() {
  if (impl_->connected) return;
  impl_->connected = true;
  for (auto& c : impl_->conns) c->start();
}

void Engine::run() {
  connect();
  impl_->loop.run();
}

void Engine::start() {
  impl_->thread = std::thread([this] { run(); });
}

void Engine::stop() {
  Impl* im = impl_.get();
  im->loop.post([im] {
    for (auto& c : im->conns) c->shutdown();
    if (im->owned) {
      // Let the close handshakes go out, then end run().
      auto t = std::make_shared<net::Timer>(im->loop);
      t->start_after(200'000'000, [im, t] { im->loop.stop(); });
    }
  });
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) impl_->thread.join();
}

bool Engine::top(std::string_view venue, std::string_view symbol, TopOfBook& out) const {
  for (const BookEntry& e : impl_->books) {  // fixed after construction: safe to walk from any thread
    if (e.venue == venue && e.symbol == symbol) {
      out = e.cell.read();
      return true;
    }
  }
  return false;
}

EngineStats Engine::stats() const { return impl_->stats; }
net::EventLoop& Engine::loop() { return impl_->loop; }
std::size_t Engine::book_count() const { return impl_->books.size(); }
const book::OrderBook* Engine::book_at(std::size_t i, std::string_view& venue, std::string_view& symbol) const {
  const BookEntry& e = impl_->books[i];
  venue = e.venue;
  symbol = e.symbol;
  return e.book;
}

}  // namespace obr::engine
