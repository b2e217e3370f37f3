// engine/engine.cpp — the live engine (see engine.h).
//
// One Conn per venue connection. A Conn is the SessionSink of its session and the
// WsListener of its WebSocket: it turns transport events into session calls and session
// actions into transport calls, adding reconnects, the watchdog and timers. Book events go
// through the registry (a dense index per venue book) to the listener and to the
// published top of book.
//
// In order: helpers (symbol lists, token redaction); BookEntry and BookRegistry; the Conn
// base class and Engine::Impl declared; then sections — Conn (recording, connection
// state, watchdog, publishing book events), Kraken v2 (KrakenConn), KuCoin spot
// (KucoinConn: token and snapshot requests over HTTP), Engine (HTTP endpoint, subscribe,
// recording, run/start/stop, the read side: top, book_at, consolidated).
#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <deque>
#include <thread>
#include <utility>

#include "connectors/kraken/v2_session.h"
#include "connectors/kucoin/spot_session.h"
#include "connectors/net/event_loop.h"
#include "connectors/net/http_client.h"
#include "connectors/net/http_server.h"
#include "engine/observability.h"
#include "connectors/net/websocket_client.h"
#include "engine/recorder.h"
#include "engine/session_configs.h"

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

std::string join_symbols(const std::vector<std::string>& symbols) {
  std::string out;
  for (const std::string& s : symbols) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

// redact_token: text for logs and recordings (a URL, or a reason quoting one) with the
// value of every `token` query parameter (KuCoin's WebSocket bearer token) replaced by ***.
std::string redact_token(std::string_view url) {
  std::string out(url);
  for (std::size_t p = out.find("token="); p != std::string::npos; p = out.find("token=", p + 1)) {
    if (p == 0 || (out[p - 1] != '?' && out[p - 1] != '&')) continue;
    const std::size_t start = p + 6, end = std::min(out.find_first_of("& :\"", start), out.size());
    out.replace(start, end - start, "***");
  }
  return out;
}
}  // namespace

struct BookEntry {
  std::string venue;
  std::string symbol;
  const book::OrderBook* book = nullptr;
  TopOfBookCell cell;
  std::uint64_t version = 0;
};

// BookRegistry: every book of the engine, append-only, in a fixed array, so that other
// threads can walk it (top, consolidated) while the engine thread adds books: an entry is
// complete before the count that makes it visible is published (release/acquire), and is
// never moved or changed afterwards except for `book` and `version`, which only the engine
// thread reads.
class BookRegistry {
 public:
  explicit BookRegistry(std::size_t capacity) : entries_(new BookEntry[capacity]), capacity_(capacity) {}
  std::size_t size() const noexcept { return count_.load(std::memory_order_acquire); }
  std::size_t capacity() const noexcept { return capacity_; }
  BookEntry& operator[](std::size_t i) noexcept { return entries_[i]; }
  const BookEntry& operator[](std::size_t i) const noexcept { return entries_[i]; }
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  // find: the index of (venue, symbol), or npos when absent. Any thread.
  std::size_t find(std::string_view venue, std::string_view symbol) const noexcept {
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) {
      if (entries_[i].venue == venue && entries_[i].symbol == symbol) return i;
    }
    return npos;
  }
  // append: engine thread only. False when full.
  bool append(std::string_view venue, std::string_view symbol, const book::OrderBook* b) {
    const std::size_t n = count_.load(std::memory_order_relaxed);
    if (n == capacity_) return false;
    entries_[n].venue.assign(venue);
    entries_[n].symbol.assign(symbol);
    entries_[n].book = b;
    count_.store(n + 1, std::memory_order_release);
    return true;
  }

 private:
  std::unique_ptr<BookEntry[]> entries_;
  std::size_t capacity_;
  std::atomic<std::size_t> count_{0};
};

class Conn : public connectors::SessionSink, public net::WsListener {
 public:
  Conn(Engine::Impl& engine, std::string venue);
  ~Conn() override = default;
  // init subscribes the session's books (nothing is sent before the connection opens) and
  // registers them, so the registry is complete before any other thread can read it.
  virtual void init() = 0;
  // add_symbols subscribes more books (sent now if connected) and registers them.
  virtual void add_symbols(const std::vector<std::string>& symbols) = 0;
  virtual void start() = 0;
  virtual void shutdown();
  const std::string& venue() const noexcept { return venue_; }

  // SessionSink: book events (common to every venue).
  void send_frame(std::string_view frame) override {
    record(RecordKind::kSend, frame);
    ws_.send(frame);
  }
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
  // record writes one session input or output to the recording, if the run is recorded.
  // Every call into the session is preceded by one, so a replay feeds the same calls.
  void record(RecordKind kind, std::string_view payload = {}, std::int64_t ts = -1);
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
  std::int64_t frame_ns_ = -1;  // the frame being processed (-1: an update not from a frame)
  bool opened_ = false;
  bool ever_opened_ = false;
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
  std::unique_ptr<Recorder> recorder;  // before conns: outlives every connection
  // Work posted to the loop holds a weak reference: on a loop the caller owns, the engine
  // may be gone before the loop runs it (stop() then destroy), and then it does nothing.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  absl::Status recording_closed;       // what close_recording() returned
  std::atomic<std::size_t> pending_books{0};  // subscribed, posted, not yet added
  std::vector<std::unique_ptr<Conn>> conns;
  BookRegistry books{config.max_books};  // read from other threads: see BookRegistry
  EngineStats stats;
  std::thread thread;
  bool connected = false;             // engine thread: connect() ran
  std::atomic<bool> running{false};   // any thread: start() or connect() was called
  LatencyHistogram latency;
  std::unique_ptr<net::HttpServer> http;
  // Consolidated instruments: registry indices per configured name (fixed after construction).
  std::vector<std::pair<std::string, std::vector<std::size_t>>> instruments;

  void add_symbols(std::string_view venue, const std::vector<std::string>& fresh);  // engine thread
  // record_config writes the venue's `config` line (the symbols configured so far).
  void record_config(std::string_view venue, std::int64_t now) {
    recorder->event(now, venue, RecordKind::kConfig,
                    format_config(venue == "kraken" ? recorded_kraken(config) : recorded_kucoin(config)));
  }

  std::vector<BookStatus> statuses() const {
    std::vector<BookStatus> out;
    for (std::size_t i = 0; i < books.size(); ++i) {
      const BookEntry& e = books[i];
      BookStatus b;
      b.venue = e.venue;
      b.symbol = e.symbol;
      if (e.book != nullptr) {
        b.state = e.book->state();
        b.counters = e.book->counters();
      }
      out.push_back(b);
    }
    return out;
  }

  // register_book: the registry index of (venue, symbol), added if new; npos when the
  // registry is full (reported through on_error).
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t register_book(std::string_view venue, std::string_view symbol, const book::OrderBook* b) {
    const std::size_t i = books.find(venue, symbol);
    if (i != BookRegistry::npos) {
      if (b != nullptr) books[i].book = b;
      return i;
    }
    if (!books.append(venue, symbol, b)) {
      listener->on_error(venue, std::string(symbol) + ": not published: the engine's book registry is full (" +
                                    std::to_string(books.capacity()) + " books, EngineConfig::max_books)");
      return npos;
    }
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

void Conn::record(RecordKind kind, std::string_view payload, std::int64_t ts) {
  if (engine_.recorder) engine_.recorder->event(ts >= 0 ? ts : net::now_ns(), venue_, kind, payload);
}

void Conn::set_conn_state(ConnectionState s, std::string_view detail) {
  engine_.listener->on_connection(venue_, s, detail);
}

void Conn::note_open(std::string_view detail) {
  opened_ = true;
  ++engine_.stats.connects;
  if (ever_opened_) ++engine_.stats.reconnects;
  ever_opened_ = true;
  last_frame_ns_ = net::now_ns();
  backoff_.connected(last_frame_ns_);
  set_conn_state(ConnectionState::kOpen, detail);
}

void Conn::note_frame(std::size_t bytes, std::int64_t recv_ns) {
  ++engine_.stats.frames;
  engine_.stats.bytes += bytes;
  last_frame_ns_ = recv_ns;
  recv_ns_ = recv_ns;
  frame_ns_ = recv_ns;
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
    const std::int64_t now = net::now_ns();
    if (engine_.recorder) engine_.recorder->flush_if_due(now);
    on_tick(now);
    if (!stopping_) start_ticks();
  });
}

std::size_t Conn::entry(BookId id, std::string_view symbol, const book::OrderBook& book) {
  if (id >= index_of_.size()) index_of_.resize(id + 1, 0);
  constexpr std::size_t kFull = static_cast<std::size_t>(-1);  // not published: reported once
  if (index_of_[id] == 0) {
    const std::size_t r = engine_.register_book(venue_, symbol, &book);
    index_of_[id] = r == Engine::Impl::npos ? kFull : r + 1;
  }
  return index_of_[id] == kFull ? Engine::Impl::npos : index_of_[id] - 1;
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
  if (top_changed && i != Engine::Impl::npos) publish(i, book);
  if (frame_ns_ >= 0) {  // one sample per frame: to its first callback (one clock read)
    engine_.latency.record(net::now_ns() - frame_ns_);
    frame_ns_ = -1;
  }
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

// SessionConn: what every venue connection does the same way with its session — feed it
// the frames (recorded first) and register its books.
template <class Session>
class SessionConn : public Conn {
 public:
  template <class Config>
  SessionConn(Engine::Impl& engine, std::string venue, const Config& config)
      : Conn(engine, std::move(venue)), session_(config) {}

  void on_message(std::string_view message, std::int64_t recv_ns) override {
    note_frame(message.size(), recv_ns);
    record(RecordKind::kRecv, message, recv_ns);
    session_.on_frame(message, recv_ns, *this);
    frame_ns_ = -1;
  }

 protected:
  // register_books gives every book the session tracks its registry entry (idempotent).
  void register_books() {
    for (BookId id = 0; id < session_.book_count(); ++id) entry(id, session_.info(id).symbol, session_.book(id));
  }

  Session session_;
};

// ---- Kraken v2 --------------------------------------------------------------------

class KrakenConn final : public SessionConn<connectors::kraken::V2Session> {
 public:
  explicit KrakenConn(Engine::Impl& engine)
      : SessionConn(engine, "kraken", kraken_session_config(recorded_kraken(engine.config))) {}

  void init() override {
    session_.subscribe(engine_.config.kraken.symbols, *this);  // sent once connected
    register_books();
  }
  void add_symbols(const std::vector<std::string>& symbols) override {
    record(RecordKind::kSubscribe, join_symbols(symbols));
    session_.subscribe(symbols, *this);  // sent now when open; else resubscribed on open
    register_books();
  }

  void start() override {
    start_ticks();
    connect();
  }

  void on_open() override {
    note_open(endpoint());
    last_ping_ns_ = last_frame_ns_;
    record(RecordKind::kOpen, endpoint(), last_frame_ns_);
    session_.on_connected(*this);
  }

  void on_close(std::string_view reason) override {
    ++engine_.stats.disconnects;
    record(RecordKind::kClose, reason);
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
    record(RecordKind::kTick, {}, now);
    session_.on_tick(now, *this);
    if (!ws_.is_open() || watchdog(now)) return;
    if (now - last_ping_ns_ >= engine_.config.ping_interval_ns) {
      last_ping_ns_ = now;
      record(RecordKind::kPing, {}, now);
      session_.ping(*this);
    }
  }

  std::size_t endpoint_index_ = 0;
  std::int64_t last_ping_ns_ = 0;
};

// ---- KuCoin spot ------------------------------------------------------------------

class KucoinConn final : public SessionConn<connectors::kucoin::SpotSession> {
 public:
  explicit KucoinConn(Engine::Impl& engine)
      : SessionConn(engine, "kucoin",
                    kucoin_session_config(recorded_kucoin(engine.config), engine.config.kucoin.credentials)),
        http_(engine.loop, [&] {
          net::HttpOptions o;
          o.tls = engine.config.tls;
          return o;
        }()),
        http_timer_(engine.loop),
        bucket_(engine.config.snapshot_rate_per_s, engine.config.snapshot_burst) {}

  void init() override {
    session_.subscribe(engine_.config.kucoin.symbols, this);
    register_books();
  }
  void add_symbols(const std::vector<std::string>& symbols) override {
    record(RecordKind::kSubscribe, join_symbols(symbols));
    if (!session_.subscribe(symbols, this)) {
      engine_.listener->on_error(venue_, "subscribe refused: over KuCoin's topics-per-connection limit");
    }
    register_books();
  }

  void start() override {
    start_ticks();
    const std::int64_t now = net::now_ns();
    record(RecordKind::kStart, {}, now);
    session_.start(now, *this);
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
    url_.assign(url);
    set_conn_state(ConnectionState::kConnecting, redact_token(url));
    ws_.connect(url);
  }
  void close_connection(std::string_view reason) override { ws_.close(reason); }

  void on_open() override {
    note_open("");
    record(RecordKind::kOpen, redact_token(url_), last_frame_ns_);
    session_.on_connected(last_frame_ns_, *this);
  }
  void on_close(std::string_view reason_with_token) override {
    // A failed handshake's reason names the URL, token included: never shown or recorded.
    const std::string reason = redact_token(reason_with_token);
    ++engine_.stats.disconnects;
    opened_ = false;
    set_conn_state(ConnectionState::kClosed, reason);
    // The session is told even when stopping (its books go stale, as Kraken's do); its
    // token request then stays queued. Otherwise the transport spaces reconnects out.
    const std::int64_t now = net::now_ns();
    if (!stopping_) token_not_before_ns_ = now + backoff_.next(now);
    record(RecordKind::kClose, reason, now);
    session_.on_disconnected(now, *this);
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
      if (engine_.recorder) engine_.recorder->request(now, venue_, id, req.method, url);
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
    if (engine_.recorder) engine_.recorder->http(now, venue_, id, res.status, url, res.body);
    session_.on_http_response(id, url, res.status, res.body, now, *this);
  }

  void on_tick(std::int64_t now) override {
    record(RecordKind::kTick, {}, now);
    session_.on_tick(now, *this);
    watchdog(now);
  }

  net::HttpClient http_;
  net::Timer http_timer_;
  net::TokenBucket bucket_;
  std::deque<HttpRequest> queue_;
  std::int64_t token_not_before_ns_ = 0;
  std::string url_;  // the WebSocket URL being opened
};

// ---- Engine -----------------------------------------------------------------------

Engine::Engine(const EngineConfig& config, Listener* listener, net::EventLoop* loop)
    : impl_(std::make_unique<Impl>(config, listener, loop)) {
  if (!config.kraken.symbols.empty() && !config.kraken.endpoints.empty()) {
    impl_->conns.push_back(std::make_unique<KrakenConn>(*impl_));
  }
  if (!config.kucoin.symbols.empty()) impl_->conns.push_back(std::make_unique<KucoinConn>(*impl_));
  for (auto& c : impl_->conns) c->init();
  // A consolidated member that is not subscribed is registered anyway: it is never live,
  // so it never contributes, and /health names it.
  for (const ConsolidatedInstrument& inst : config.consolidated) {
    std::vector<std::size_t> members;
    for (const BookRef& ref : inst.books) {
      const std::size_t i = impl_->register_book(ref.venue, ref.symbol, nullptr);
      if (i != Impl::npos) members.push_back(i);
    }
    impl_->instruments.emplace_back(inst.name, std::move(members));
  }
}

namespace {
// split_listen parses "ADDRESS:PORT" or "[IPV6]:PORT".
bool split_listen(std::string_view s, std::string& address, std::uint16_t& port) {
  const std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == s.size()) return false;
  std::string_view host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view digits = s.substr(colon + 1);
  unsigned value = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size() || value > 65535 || host.empty()) return false;
  address.assign(host);
  port = static_cast<std::uint16_t>(value);
  return true;
}
}  // namespace

absl::Status Engine::start_http() {
  Impl* im = impl_.get();
  if (im->http) return absl::OkStatus();
  if (im->config.http_listen.empty()) return absl::FailedPreconditionError("no http_listen address configured");
  net::HttpServerOptions o;
  if (!split_listen(im->config.http_listen, o.address, o.port)) {
    return absl::InvalidArgumentError("http_listen '" + im->config.http_listen +
                                      "' is not ADDRESS:PORT (e.g. 127.0.0.1:9100 or [::1]:9100)");
  }
  auto server = std::make_unique<net::HttpServer>(im->loop, o, [im](std::string_view, std::string_view target) {
    net::HttpServerResponse res;
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/health") {
      HealthReport h = render_health(im->statuses());
      res.status = h.status;
      res.content_type = "application/json";
      res.body = std::move(h.body);
    } else if (path == "/metrics") {
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      res.body = render_metrics(im->stats, im->statuses(), im->latency);
    } else {
      res.status = 404;
      res.body = "not found: try /health or /metrics\n";
    }
    return res;
  });
  if (absl::Status st = server->listen(); !st.ok()) return st;
  im->http = std::move(server);
  return absl::OkStatus();
}

std::uint16_t Engine::http_port() const { return impl_->http ? impl_->http->port() : 0; }
const LatencyHistogram& Engine::latency() const { return impl_->latency; }

bool Engine::consolidated(std::string_view name, ConsolidatedBbo& out) const {
  for (const auto& [n, members] : impl_->instruments) {
    if (n != name) continue;
    std::vector<TopOfBook> tops;
    tops.reserve(members.size());
    for (std::size_t i : members) tops.push_back(impl_->books[i].cell.read());
    out = consolidate(tops);
    return true;
  }
  return false;
}

Engine::~Engine() {
  if (impl_->thread.joinable()) stop();
  for (auto& c : impl_->conns) c->shutdown();
}

absl::Status Engine::subscribe(std::string_view venue, const std::vector<std::string>& symbols) {
  Impl* im = impl_.get();
  if (venue != "kraken" && venue != "kucoin") {
    return absl::InvalidArgumentError("subscribe: unknown venue '" + std::string(venue) + "' (kraken, kucoin)");
  }
  std::vector<std::string> fresh;
  for (const std::string& s : symbols) {
    if (s.empty() || s.find_first_of(" ,\t\r\n") != std::string::npos) {
      return absl::InvalidArgumentError("subscribe: symbol '" + s + "' for " + std::string(venue) +
                                        " is empty or has a blank or comma");
    }
    const std::size_t at = im->books.find(venue, s);
    if (at == BookRegistry::npos) fresh.push_back(s);
  }
  if (fresh.empty()) return absl::OkStatus();
  // Books already asked for but not yet added (posted) count too.
  if (im->books.size() + im->pending_books.load() + fresh.size() > im->books.capacity()) {
    return absl::ResourceExhaustedError("subscribe: " + std::to_string(fresh.size()) + " more books would pass max_books (" +
                                        std::to_string(im->books.capacity()) + ")");
  }
  if (venue == "kraken" && im->config.kraken.endpoints.empty()) {
    return absl::FailedPreconditionError("subscribe: no Kraken endpoints configured");
  }
  // Once connected, the work runs on the engine thread after the current handler: never
  // inside a session call (a listener callback), and from any thread.
  if (im->running.load()) {
    im->pending_books += fresh.size();
    im->loop.post([im, alive = std::weak_ptr<bool>(im->alive), v = std::string(venue), fresh] {
      if (alive.expired()) return;
      im->add_symbols(v, fresh);
      im->pending_books -= fresh.size();
    });
  } else {
    im->add_symbols(venue, fresh);
  }
  return absl::OkStatus();
}

void Engine::Impl::add_symbols(std::string_view venue, const std::vector<std::string>& fresh) {
  Impl* im = this;
  auto& configured = venue == "kraken" ? im->config.kraken.symbols : im->config.kucoin.symbols;
  for (auto& c : im->conns) {
    if (c->venue() == venue) {
      configured.insert(configured.end(), fresh.begin(), fresh.end());  // what record_to writes
      c->add_symbols(fresh);
      return;
    }
  }
  // A venue without a connection so far: configure it with these symbols and start it.
  std::unique_ptr<Conn> conn;
  if (venue == "kraken") {
    im->config.kraken.symbols = fresh;
    conn = std::make_unique<KrakenConn>(*im);
  } else {
    im->config.kucoin.symbols = fresh;
    conn = std::make_unique<KucoinConn>(*im);
  }
  if (im->recorder) im->record_config(venue, net::now_ns());
  conn->init();
  if (im->connected) conn->start();
  im->conns.push_back(std::move(conn));
}

absl::Status Engine::record_to(const std::string& path) {
  if (impl_->connected) return absl::FailedPreconditionError("record_to must be called before the engine connects");
  if (impl_->recorder) return absl::FailedPreconditionError("record_to: already recording to " + impl_->recorder->path());
  auto rec = Recorder::open(path);
  if (!rec.ok()) return rec.status();
  impl_->recorder = std::move(*rec);
  const std::int64_t now = net::now_ns();
  for (auto& c : impl_->conns) impl_->record_config(c->venue(), now);
  return absl::OkStatus();
}

absl::Status Engine::recording_status() const {
  return impl_->recorder ? impl_->recorder->status() : impl_->recording_closed;
}

absl::Status Engine::close_recording() {
  if (!impl_->recorder) return impl_->recording_closed;
  impl_->recording_closed = impl_->recorder->close();
  impl_->recorder.reset();  // later events are not recorded (nothing half-written)
  return impl_->recording_closed;
}

void Engine::connect() {
  if (impl_->connected) return;
  impl_->connected = true;
  impl_->running = true;
  if (!impl_->config.http_listen.empty()) {
    if (absl::Status st = start_http(); !st.ok()) impl_->listener->on_error("engine", std::string(st.message()));
  }
  for (auto& c : impl_->conns) c->start();
}

void Engine::run() {
  connect();
  impl_->loop.run();
}

void Engine::start() {
  impl_->running = true;  // from here on, subscribe() posts to the engine thread
  impl_->thread = std::thread([this] { run(); });
}

void Engine::stop() {
  Impl* im = impl_.get();
  im->loop.post([im, alive = std::weak_ptr<bool>(im->alive)] {
    if (alive.expired()) return;
    for (auto& c : im->conns) c->shutdown();
    if (im->http) im->http->close();
    if (im->owned) {
      // Let the close handshakes go out, then end run().
      auto t = std::make_shared<net::Timer>(im->loop);
      t->start_after(200'000'000, [im, t] { im->loop.stop(); });
    }
  });
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) impl_->thread.join();
}

bool Engine::top(std::string_view venue, std::string_view symbol, TopOfBook& out) const {
  const std::size_t i = impl_->books.find(venue, symbol);  // any thread: see BookRegistry
  if (i == BookRegistry::npos) return false;
  out = impl_->books[i].cell.read();
  return true;
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
