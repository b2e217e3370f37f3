// engine/engine_conns.cpp — the engine's venue connection, any venue (see engine_impl.h).
//
// A Conn turns transport events into session calls and session actions into transport
// calls, adding reconnects, the watchdog, REST pacing and timers. In order: helpers
// (token redaction); then Conn: construction and start, recording, connection state,
// watchdog, publishing book events, the WebSocket (open, close, reconnect), REST requests,
// and rotation: a replacement connection in shadow, the switch to it, or giving it up.
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
      // The configured REST budget, else the venue's own (its descriptor's, in its request
      // weights), else the engine's default; a replacement connection shares it (rotation).
      bucket_(std::make_shared<net::TokenBucket>(
          engine.config.snapshot_rate_per_s.value_or(venue.rest_weight_per_s > 0 ? venue.rest_weight_per_s
                                                                                 : EngineConfig::kDefaultSnapshotRate),
          engine.config.snapshot_burst.value_or(venue.rest_weight_burst > 0 ? venue.rest_weight_burst
                                                                            : EngineConfig::kDefaultSnapshotBurst))) {}

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
  if (replacement_) replacement_->shutdown();
}

void Conn::record(RecordKind kind, std::string_view payload, std::int64_t ts) {
  // Only the connection that publishes is recorded: while recording, the engine rotates by
  // reconnecting (rotation_tick), so a recording holds one session per venue.
  if (engine_.recorder && publishing()) engine_.recorder->event(ts >= 0 ? ts : net::now_ns(), venue_, kind, payload);
}

void Conn::set_conn_state(ConnectionState s, std::string_view detail) {
  if (!publishing()) return;
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
    rotation_tick(now);  // may retire this connection (stopping_): the last thing it does
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
  if (!publishing()) return;  // a shadow's or a muted connection's book is nobody's
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
  if (!publishing()) return;  // e.g. the old connection's books going stale as it closes
  // The book object is not passed here; the registry entry is made by the first update.
  for (std::size_t i = 0; i < engine_.books.size(); ++i) {
    BookEntry& e = engine_.books[i];
    if (e.venue == venue_ && e.symbol == symbol && e.book != nullptr) publish(i, *e.book);
  }
  engine_.listener->on_book_state(venue_, symbol, from, to, reason);
}

void Conn::frame_error(FrameError error, std::string_view detail) {
  if (!publishing()) return;
  ++engine_.stats.malformed;
  std::string what(connectors::to_string(error));  // error path: a frame already lost
  what += ": ";
  what += detail;
  engine_.listener->on_error(EngineError{venue_, {}, ErrorKind::kFrame, what});
}

void Conn::venue_error(std::string_view symbol, std::string_view message) {
  if (!publishing()) return;
  engine_.listener->on_error(EngineError{venue_, symbol, ErrorKind::kVenue, message});
}

void Conn::venue_status(std::string_view status) {
  if (!publishing()) return;
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
  opened_at_ns_ = last_frame_ns_;
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
  if (muted_) closed_ = true;  // a replaced connection: it may now be destroyed
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
    if (wait <= 0 && r.weight > 0) wait = bucket_->acquire(now, r.weight);
    if (wait > 0) {
      http_timer_.start_after(wait, [this] { pump(); });
      return;
    }
    HttpRequest req = std::move(r);
    queue_.pop_front();
    ++engine_.stats.http_requests;
    const std::uint64_t id = req.id;
    const std::string url = req.url;
    if (engine_.recorder && publishing()) engine_.recorder->request(now, venue_, id, req.method, url);
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
    bucket_->block_until(now + std::clamp<std::int64_t>(secs, 1, 3 * 86'400) * 1'000'000'000);
  }
  // A stopped (or retired) connection's session does no more work: an answer arriving
  // after the stop would otherwise make a book live after it (the 429/418 above still
  // holds back the REST budget the replacement shares).
  if (stopping_) return;
  if (!res.error.empty() && publishing())
    engine_.listener->on_error(EngineError{venue_, {}, ErrorKind::kRequest, res.error});
  if (engine_.recorder && publishing()) engine_.recorder->http(now, venue_, id, res.status, url, res.body);
  session_http(id, url, res.status, res.body, now);
}

// ---- rotation (docs/architecture.md "Rotation") ------------------------------------------

std::int64_t Conn::rotate_after_ns() const noexcept {
  if (engine_.config.rotate_after_ns > 0) return engine_.config.rotate_after_ns;
  const std::int64_t life = descriptor_.connection_lifetime_ns;
  return life > 2 * EngineConfig::kRotationMarginNs ? life - EngineConfig::kRotationMarginNs : life / 2;
}

void Conn::rotation_tick(std::int64_t now) {
  if (!publishing() || stopping_ || descriptor_.connection_lifetime_ns <= 0) return;
  engine_.reap_retired(this, now);
  if (replacement_) {
    if (replacement_ready()) return switch_to_replacement(now);
    if (now - replacement_since_ns_ >= engine_.config.rotate_timeout_ns) abandon_replacement(now);
    return;
  }
  if (!opened_ || now - opened_at_ns_ < rotate_after_ns() || now < next_rotation_ns_) return;
  // By reconnecting, as the sessions did on their own: while the run is recorded (a
  // recording holds one session per venue, and its close replays exactly), and when a
  // replacement could no longer be ready before the venue cuts this connection.
  const bool late = now - opened_at_ns_ + engine_.config.rotate_timeout_ns >= descriptor_.connection_lifetime_ns;
  if (!engine_.recorder && !late) return start_replacement(now);
  next_rotation_ns_ = now + 10 * kTickNs;  // one close asked for, not one per tick until it completes
  ws_.close(
      engine_.recorder
          ? "rotating the connection before the venue's connection lifetime (by reconnecting: the run is recorded)"
          : "rotating the connection before the venue's connection lifetime (by reconnecting: no time left for a "
            "replacement)");
}

void Conn::start_replacement(std::int64_t now) {
  const VenueConfig* v = engine_.config.find_venue(venue_);
  if (v == nullptr) return;
  std::unique_ptr<Conn> next = make_replacement();
  next->shadow_ = true;  // before anything it does: nothing of it is published until the switch
  next->bucket_ = bucket_;
  if (absl::Status st = next->init(v->symbols); !st.ok()) {
    // Refused now, it would be refused at the switch: keep this connection, try later.
    next_rotation_ns_ = now + engine_.config.rotate_timeout_ns;
    const std::string detail = "rotation: the replacement connection refused the books (" + std::string(st.message()) +
                               "); keeping the current connection";
    engine_.listener->on_error(EngineError{venue_, {}, ErrorKind::kRotation, detail});
    return;
  }
  replacement_ = std::move(next);
  replacement_since_ns_ = now;
  replacement_->start();
}

const book::OrderBook* Conn::find_book(BookId hint, std::string_view symbol) const {
  // Both sessions subscribed the same symbols in the same order: the same id, mostly.
  if (hint < session_book_count()) {
    const connectors::BookReport r = session_report(hint);
    if (r.symbol == symbol) return r.book;
  }
  for (BookId id = 0; id < session_book_count(); ++id) {
    const connectors::BookReport r = session_report(id);
    if (r.symbol == symbol) return r.book;
  }
  return nullptr;
}

bool Conn::replacement_ready() const {
  if (!replacement_->opened_) return false;
  std::size_t live = 0;
  for (BookId id = 0; id < replacement_->session_book_count(); ++id) {
    if (replacement_->session_report(id).book->state() == book::BookState::kLive) ++live;
  }
  if (live == 0) return false;
  for (BookId id = 0; id < session_book_count(); ++id) {
    const connectors::BookReport r = session_report(id);
    if (r.book->state() != book::BookState::kLive) continue;
    const book::OrderBook* b = replacement_->find_book(id, r.symbol);
    if (b == nullptr || b->state() != book::BookState::kLive) return false;
  }
  return true;
}

void Conn::switch_to_replacement(std::int64_t now) {
  std::unique_ptr<Conn> next = std::move(replacement_);
  // Muted first: from here nothing of this connection reaches the listener or the
  // registry — not its last frames, not its books going stale as it closes.
  muted_ = true;
  retired_ns_ = now;
  next->shadow_ = false;
  // The registry entries (same indices: readers keep their handles) point at the new
  // books, and each publishes its top of book. A book that was not live here and is on the
  // replacement (this connection was lost meanwhile) reports its transition.
  for (BookId id = 0; id < next->session_book_count(); ++id) {
    const connectors::BookReport r = next->session_report(id);
    const book::OrderBook* old = find_book(id, r.symbol);
    const std::size_t i = next->entry(id, r.symbol, *r.book);
    if (i == Engine::Impl::npos) continue;
    next->publish(i, *r.book);
    const book::BookState from = old != nullptr ? old->state() : book::BookState::kSubscribing;
    const book::BookState to = r.book->state();
    if (from != to) {
      engine_.listener->on_book_state(
          venue_, r.symbol, from, to,
          to == book::BookState::kLive ? StateReason::kSnapshotValid : StateReason::kResubscribing);
    }
  }
  next->ever_opened_ = true;
  ++engine_.stats.rotations;
  next->set_conn_state(ConnectionState::kOpen,
                       redact_token(next->url_) + " (replacement, ready " +
                           std::to_string((now - replacement_since_ns_) / 1'000'000) +
                           " ms after it was started: rotated before the venue's connection lifetime)");
  Conn* self = this;
  engine_.adopt(self, std::move(next));  // this connection now lives in retired
  stopping_ = true;
  tick_timer_.cancel();
  reconnect_timer_.cancel();
  http_timer_.cancel();
  queue_.clear();
  ws_.close("rotated: replaced by a new connection");
  if (!opened_) closed_ = true;  // no close to wait for
}

void Conn::abandon_replacement(std::int64_t now) {
  std::size_t live = 0, books = replacement_->session_book_count();
  for (BookId id = 0; id < books; ++id) {
    if (replacement_->session_report(id).book->state() == book::BookState::kLive) ++live;
  }
  replacement_->muted_ = true;
  replacement_->retired_ns_ = now;
  replacement_->shutdown();
  if (!replacement_->opened_) replacement_->closed_ = true;  // no close to wait for
  engine_.retired.push_back(std::move(replacement_));
  next_rotation_ns_ = now + engine_.config.rotate_timeout_ns;
  ++engine_.stats.rotations_dropped;
  const std::string detail = "rotation: the replacement connection had " + std::to_string(live) + " of " +
                             std::to_string(books) + " books live after rotate_timeout_ns (" +
                             std::to_string(engine_.config.rotate_timeout_ns / 1'000'000) +
                             " ms); dropped, the current connection serves on, another attempt in " +
                             std::to_string(engine_.config.rotate_timeout_ns / 1'000'000) + " ms";
  engine_.listener->on_error(EngineError{venue_, {}, ErrorKind::kRotation, detail});
}

void Conn::forward_symbols(const std::vector<std::string>& symbols) {
  if (!replacement_) return;
  if (absl::Status st = replacement_->add_symbols(symbols); !st.ok()) abandon_replacement(net::now_ns());
}

}  // namespace obr::engine
