// engine/engine_conns.cpp — the engine's venue connections (see engine_impl.h).
//
// A Conn turns transport events into session calls and session actions into transport
// calls, adding reconnects, the watchdog and timers. In order: helpers (symbol lists,
// token redaction); then sections — Conn (recording, connection state, watchdog,
// publishing book events), Kraken v2 (KrakenConn), KuCoin spot (KucoinConn: token and
// snapshot requests over HTTP), and the factories Engine uses.
#include "engine/engine_impl.h"

namespace obr::engine {
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
  if (!what.empty()) what += ": ";  // a refusal without a symbol is the message alone
  what += message;
  engine_.listener->on_error(venue_, what);
}

void Conn::venue_status(std::string_view status) {
  set_venue_status(engine_.venue_statuses, venue_, status);
  engine_.listener->on_venue_status(venue_, status);
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
    note_open(redact_token(url_));  // the URL, its token hidden
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

// ---- factories --------------------------------------------------------------------

std::unique_ptr<Conn> make_kraken_conn(Engine::Impl& engine) { return std::make_unique<KrakenConn>(engine); }
std::unique_ptr<Conn> make_kucoin_conn(Engine::Impl& engine) { return std::make_unique<KucoinConn>(engine); }

}  // namespace obr::engine
