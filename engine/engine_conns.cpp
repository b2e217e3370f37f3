// engine/engine_conns.cpp — the engine's venue connection, any venue (see engine_impl.h).
//
// A Conn turns transport events into session calls and session actions into transport
// calls, adding reconnects, the watchdog, REST pacing and timers. In order: helpers
// (token redaction); then Conn: construction and start, recording, connection state,
// watchdog, publishing book events, the WebSocket (open, close, reconnect), REST requests.
#include "engine/engine_impl.h"

namespace obr::engine {
namespace {
constexpr std::int64_t kTickNs = 100'000'000;  // session timers and the watchdog check

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

Conn::Conn(Engine::Impl& engine, const connectors::VenueDescriptor& venue)
    : engine_(engine),
      descriptor_(venue),
      venue_(venue.name),
      ws_(
          engine.loop,
          [&] {
            net::WsOptions o;
            o.max_message_bytes = engine.config.max_message_bytes;
            o.tls = engine.config.tls;
            return o;
          }(),
          *this),
      tick_timer_(engine.loop),
      reconnect_timer_(engine.loop),
      http_timer_(engine.loop),
      backoff_(engine.config.backoff),
      // The venue's own REST budget when its descriptor names one (in its request weights),
      // else the engine's generic one.
      bucket_(venue.rest_weight_per_s > 0 ? venue.rest_weight_per_s : engine.config.snapshot_rate_per_s,
              venue.rest_weight_burst > 0 ? venue.rest_weight_burst : engine.config.snapshot_burst) {}

void Conn::start() {
  start_ticks();
  const std::int64_t now = net::now_ns();
  record(RecordKind::kStart, {}, now);
  session_start(now);
}

void Conn::shutdown() {
  stopping_ = true;
  tick_timer_.cancel();
  reconnect_timer_.cancel();
  http_timer_.cancel();
  queue_.clear();
  ws_.close("engine stopping");
}

void Conn::record(RecordKind kind, std::string_view payload, std::int64_t ts) {
  if (engine_.recorder) engine_.recorder->event(ts >= 0 ? ts : net::now_ns(), venue_, kind, payload);
}

void Conn::set_conn_state(ConnectionState s, std::string_view detail) {
  engine_.listener->on_connection(venue_, s, detail);
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
    record(RecordKind::kTick, {}, now);
    session_tick(now);
    watchdog(now);
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
  std::string what(connectors::to_string(error));  // error path: a frame already lost
  what += ": ";
  what += detail;
  engine_.listener->on_error(EngineError{venue_, {}, ErrorKind::kFrame, what});
}

void Conn::venue_error(std::string_view symbol, std::string_view message) {
  engine_.listener->on_error(EngineError{venue_, symbol, ErrorKind::kVenue, message});
}

void Conn::venue_status(std::string_view status) {
  set_venue_status(engine_.venue_statuses, venue_, status);
  engine_.listener->on_venue_status(venue_, status);
}

// ---- the WebSocket ------------------------------------------------------------------

void Conn::open_connection(std::string_view url) {
  if (stopping_) return;
  url_.assign(url);
  // After a disconnect the next connection waits for the backoff (full jitter, capped).
  const std::int64_t wait = reconnect_not_before_ns_ - net::now_ns();
  if (wait > 0) {
    reconnect_timer_.start_after(wait, [this] { connect_now(); });
  } else {
    connect_now();
  }
}

void Conn::connect_now() {
  if (stopping_) return;
  set_conn_state(ConnectionState::kConnecting, redact_token(url_));
  ws_.connect(url_);
}

void Conn::on_open() {
  opened_ = true;
  ++engine_.stats.connects;
  if (ever_opened_) ++engine_.stats.reconnects;
  ever_opened_ = true;
  last_frame_ns_ = net::now_ns();
  backoff_.connected(last_frame_ns_);
  set_conn_state(ConnectionState::kOpen, redact_token(url_));  // the URL, any token hidden
  record(RecordKind::kOpen, redact_token(url_), last_frame_ns_);
  session_connected(last_frame_ns_);
}

void Conn::on_close(std::string_view reason_with_token) {
  // A failed handshake's reason may name the URL, token included: never shown or recorded.
  const std::string reason = redact_token(reason_with_token);
  ++engine_.stats.disconnects;
  opened_ = false;
  set_conn_state(ConnectionState::kClosed, reason);
  // The session is told even when stopping (its books go stale); what it asks for then is
  // dropped. Otherwise its next connection waits for the backoff.
  const std::int64_t now = net::now_ns();
  if (!stopping_) reconnect_not_before_ns_ = now + backoff_.next(now);
  record(RecordKind::kClose, reason, now);
  session_disconnected(now);
}

// ---- REST requests --------------------------------------------------------------------

void Conn::http_request(const HttpRequest& request) {
  queue_.push_back(request);
  pump();
}

void Conn::pump() {
  const std::int64_t now = net::now_ns();
  while (!queue_.empty() && !stopping_) {
    HttpRequest& r = queue_.front();
    std::int64_t wait = 0;
    if (r.connection_step) wait = reconnect_not_before_ns_ - now;  // a new connection's first step
    if (wait <= 0 && r.weight > 0) wait = bucket_.acquire(now, r.weight);
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
    if (!http_) {
      net::HttpOptions o;
      o.tls = engine_.config.tls;
      http_ = std::make_unique<net::HttpClient>(engine_.loop, o);
    }
    http_->request(req, [this, id, url](const net::HttpResponse& res) { on_http(id, url, res); });
  }
}

void Conn::on_http(std::uint64_t id, const std::string& url, const net::HttpResponse& res) {
  const std::int64_t now = net::now_ns();
  if (res.status == 429 || res.status == 418) {
    ++engine_.stats.http_throttled;
    std::int64_t secs = 1;
    std::from_chars(res.retry_after.data(), res.retry_after.data() + res.retry_after.size(), secs);
    // Up to 3 days: Binance's IP bans (418) last "from 2 minutes to 3 days"
    // (docs/venues/binance.md "REST weights, 429 and 418").
    bucket_.block_until(now + std::clamp<std::int64_t>(secs, 1, 3 * 86'400) * 1'000'000'000);
  }
  if (!res.error.empty()) engine_.listener->on_error(EngineError{venue_, {}, ErrorKind::kRequest, res.error});
  if (engine_.recorder) engine_.recorder->http(now, venue_, id, res.status, url, res.body);
  session_http(id, url, res.status, res.body, now);
}

}  // namespace obr::engine
