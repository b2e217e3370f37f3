// connectors/kucoin/spot_session.cpp — KuCoin spot level2 session (see spot_session.h).
//
// In order: the connection (token, endpoint, subscriptions); then the public API
// (subscribe, start, HTTP responses, connect/disconnect, ticks) and frame handling
// (on_frame). SpotSession::Impl and the wire helpers are in spot_session_impl.h; the
// books' side (REST snapshot, calibration, deltas) is in spot_calibration.cpp.
#include "connectors/kucoin/spot_session.h"

#include "connectors/kucoin/spot_session_impl.h"

namespace obr::connectors::kucoin {

std::string_view to_string(ConnState s) noexcept {
  switch (s) {
    case ConnState::kIdle:
      return "idle";
    case ConnState::kFetchingToken:
      return "fetching_token";
    case ConnState::kConnecting:
      return "connecting";
    case ConnState::kAwaitingWelcome:
      return "awaiting_welcome";
    case ConnState::kReady:
      return "ready";
  }
  return "unknown";
}

// ---- connection -------------------------------------------------------------------

void SpotSession::Impl::request_token(SessionSink& sink) {
  conn = ConnState::kFetchingToken;
  token.clear();  // never reuse a token
  token_retry_at = -1;
  HttpRequest r;
  r.id = token_request = next_id++;
  r.method = "POST";
  r.url = config.rest_base + "/api/v1/bullet-public";
  r.weight = 0;              // not a snapshot: outside the snapshot budget
  r.connection_step = true;  // a new connection's first step: the driver's backoff spaces it
  sink.http_request(r);
}

void SpotSession::Impl::token_failed(std::int64_t now_ns, SessionSink& sink, std::string_view why) {
  sink.venue_error("", why);
  token_backoff_ns = token_backoff_ns == 0 ? config.token_retry_ns
                                           : std::min(saturating_mul(token_backoff_ns, 2), config.token_retry_max_ns);
  token_retry_at = deadline_after(now_ns, token_backoff_ns);
  conn = ConnState::kFetchingToken;
}

void SpotSession::Impl::on_token(std::string_view body, int status, std::int64_t now_ns, SessionSink& sink) {
  if (status != 200) return token_failed(now_ns, sink, "bullet-public: HTTP error");
  frame.load(body);
  if (!validator.valid(frame)) return token_failed(now_ns, sink, "bullet-public: response is not valid JSON");
  od::document doc;
  od::object root, data;
  std::string_view code, tok;
  od::array list;
  if (parser.iterate(frame.data(), frame.size(), frame.capacity()).get(doc) || doc.get_object().get(root) ||
      root.find_field_unordered("code").get_string().get(code)) {
    return token_failed(now_ns, sink, "bullet-public: response is not the documented JSON");
  }
  if (code != kSuccessCode) return token_failed(now_ns, sink, "bullet-public: refused (code is not 200000)");
  if (root.find_field_unordered("data").get_object().get(data) ||
      data.find_field_unordered("token").get_string().get(tok) ||
      data.find_field_unordered("instanceServers").get_array().get(list)) {
    return token_failed(now_ns, sink, "bullet-public: no token or instanceServers");
  }
  std::string new_token(tok);
  std::vector<Server> found;
  for (auto item : list) {
    od::object s;
    std::string_view endpoint;
    std::int64_t interval = 0, timeout = 0;
    if (item.get_object().get(s) || s.find_field_unordered("endpoint").get_string().get(endpoint)) continue;
    Server server;
    server.endpoint = std::string(endpoint);
    if (s.find_field_unordered("pingInterval").get_int64().get(interval) == simdjson::SUCCESS && interval > 0) {
      server.ping_interval_ns = saturating_mul(interval, 1'000'000);
    }
    if (s.find_field_unordered("pingTimeout").get_int64().get(timeout) == simdjson::SUCCESS && timeout > 0) {
      server.ping_timeout_ns = saturating_mul(timeout, 1'000'000);
    }
    found.push_back(std::move(server));
  }
  if (found.empty() || new_token.empty()) return token_failed(now_ns, sink, "bullet-public: no usable endpoint");
  token_backoff_ns = 0;
  token = std::move(new_token);
  servers = std::move(found);
  const Server& s = servers[server_index % servers.size()];
  connect_id = "obr" + std::to_string(++connects);
  conn = ConnState::kConnecting;
  closing = false;
  std::string url = s.endpoint;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "token=" + token + "&connectId=" + connect_id;
  sink.open_connection(url);
}

void SpotSession::Impl::send_subscriptions(const std::vector<SpotBook*>& list, std::int64_t now_ns, SessionSink& sink) {
  for (std::size_t i = 0; i < list.size(); i += config.symbols_per_topic) {
    PendingAck ack{next_id++, deadline_after(now_ns, config.ack_timeout_ns), {}};
    out = R"({"id":)" + std::to_string(ack.id) + R"(,"type":"subscribe","topic":"/market/level2:)";
    for (std::size_t k = i; k < std::min(list.size(), i + config.symbols_per_topic); ++k) {
      if (k > i) out += ',';
      out += list[k]->symbol;
      ack.books.push_back(list[k]->id);
    }
    out += R"(","privateChannel":false,"response":true})";
    sink.send_frame(out);
    acks.push_back(std::move(ack));
  }
}

// ---- public API -------------------------------------------------------------------

SpotSession::SpotSession(const SpotConfig& config) : impl_(std::make_unique<Impl>(config)) {}
SpotSession::~SpotSession() = default;

ConnState SpotSession::conn_state() const noexcept { return impl_->conn; }
const std::string& SpotSession::connect_id() const noexcept { return impl_->connect_id; }
std::size_t SpotSession::book_count() const noexcept { return impl_->books.size(); }
const book::OrderBook& SpotSession::book(BookId id) const { return impl_->books.at(id).ob; }
std::uint64_t SpotSession::malformed_frames() const noexcept { return impl_->malformed; }

SpotBookInfo SpotSession::info(BookId id) const {
  const SpotBook& b = impl_->books.at(id);
  return SpotBookInfo{b.symbol, b.seq.last(), b.buffer.size(), b.stale, b.overflows, b.snapshot_limit};
}

std::size_t SpotSession::trusted_depth(BookId id) const {
  const SpotBook& b = impl_->books.at(id);
  return b.ob.state() == BookState::kLive ? b.trusted.depth(b.ob) : 0;
}

bool SpotSession::subscribe(const std::vector<std::string>& symbols, SessionSink* sink) {
  Impl& im = *impl_;
  std::size_t adding = 0;
  for (const std::string& s : symbols) adding += im.find(s) == nullptr;
  if (im.books.size() + adding > im.config.symbols_per_topic * im.config.topics_per_connection) return false;
  std::vector<SpotBook*> fresh;
  for (const std::string& s : symbols) {
    if (im.find(s) != nullptr) continue;
    SpotBook& b = im.track(s);
    b.fetch.wanted = true;
    fresh.push_back(&b);
  }
  if (sink != nullptr && im.conn == ConnState::kReady && !fresh.empty()) {
    im.send_subscriptions(fresh, im.last_now_ns, *sink);
  }
  return true;
}

absl::Status SpotSession::subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns, SessionSink& sink) {
  if (absl::Status st = check_symbols("kucoin", symbols); !st.ok()) return st;
  (void)now_ns;  // a subscription sent now is stamped with the last time the session was given
  if (!subscribe(symbols, &sink)) {
    return absl::ResourceExhaustedError(
        "kucoin: " + std::to_string(symbols.size()) + " more symbol(s) would pass KuCoin's limit of " +
        std::to_string(impl_->config.symbols_per_topic * impl_->config.topics_per_connection) +
        " per connection (docs/venues/kucoin.md); nothing was subscribed");
  }
  return absl::OkStatus();
}

BookReport SpotSession::report(BookId id) const {
  const SpotBookInfo i = info(id);
  const auto& b = impl_->books.at(id);
  return BookReport{.symbol = b.symbol,
                    .book = &b.ob,
                    .depth = 0,
                    .sequence = i.sequence,
                    .trusted_depth = static_cast<std::int64_t>(trusted_depth(id))};
}

void SpotSession::start(std::int64_t now_ns, SessionSink& sink) {
  impl_->last_now_ns = now_ns;
  impl_->request_token(sink);
}

void SpotSession::on_http_response(std::uint64_t id, std::string_view url, int status, std::string_view body,
                                   std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (url.find("/bullet-") != std::string_view::npos) {
    if (id != 0 && id != im.token_request) return;  // an answer nobody waits for any more
    im.on_token(body, status, now_ns, sink);
    return;
  }
  if (url.find("/market/orderbook/level2") == std::string_view::npos) return;  // not ours
  const std::string symbol = query_param(url, "symbol");
  SpotBook* b = im.find(symbol);
  if (b == nullptr) {
    if (!im.config.track_any_symbol || symbol.empty()) return;
    b = &im.track(symbol);
  }
  // Halted out of range: no snapshot was asked for (and a recording's is ignored too).
  if (b->out_of_range) return;
  if (!b->fetch.answers(id)) return;              // superseded (e.g. after an overflow)
  if (b->ob.state() == BookState::kLive) return;  // a late answer for a book already calibrated
  im.on_snapshot(*b, url, status, body, now_ns, sink);
}

void SpotSession::on_connected(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  im.conn = ConnState::kAwaitingWelcome;
  im.connected_at = now_ns;
  im.welcome_deadline = deadline_after(now_ns, im.config.welcome_timeout_ns);
  im.closing = false;
  (void)sink;
}

void SpotSession::on_disconnected(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (im.conn != ConnState::kReady) ++im.server_index;  // failed before welcome: next endpoint
  im.acks.clear();
  im.pong_deadline = -1;
  im.next_ping_at = -1;
  im.welcome_deadline = -1;
  for (const auto& b : im.books.all()) {
    b->buffer.clear();
    b->seq.clear();
    b->fetch.new_connection(!b->refused);
    b->out_of_range = false;    // a new connection calibrates a book halted out of range once more
    im.books.cancel_retry(*b);  // and one halted by the breaker
    im.set_state(*b, BookState::kStale, StateReason::kDisconnected, sink);
  }
  if (im.driving()) {
    im.request_token(sink);  // a fresh token for every connection
  } else {
    im.conn = ConnState::kIdle;
  }
}

void SpotSession::on_tick(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (!im.driving()) return;  // replay: the recording decides the connection's and snapshots' fate
  im.books.run_due_retries(now_ns, [&](SpotBook& b) { restart_bridge(b, StateReason::kResubscribing, sink); });
  for (const auto& b : im.books.all()) {
    if (b->fetch.halt_due(now_ns)) {
      im.set_state(*b, BookState::kResyncing, StateReason::kResubscribing, sink);
      im.request_snapshot(*b, sink);
    }
  }
  switch (im.conn) {
    case ConnState::kFetchingToken:
      if (im.token_retry_at >= 0 && now_ns >= im.token_retry_at) im.request_token(sink);
      break;
    case ConnState::kAwaitingWelcome:
      if (now_ns >= im.welcome_deadline) im.close(sink, "no welcome message within welcome_timeout");
      break;
    case ConnState::kReady: {
      if (im.pong_deadline >= 0 && now_ns >= im.pong_deadline) {
        im.close(sink, "no pong within pingTimeout");
        break;
      }
      for (const PendingAck& a : im.acks) {
        if (now_ns >= a.deadline_ns) {
          im.close(sink, "subscription not acknowledged within ack_timeout");
          return;
        }
      }
      if (now_ns - im.connected_at >= im.config.rotate_after_ns) {
        im.close(sink, "rotating the connection before KuCoin's 24-hour limit");
        break;
      }
      if (now_ns >= im.next_ping_at && im.pong_deadline < 0) {
        const Server& s = im.servers[im.server_index % im.servers.size()];
        im.ping_id = std::to_string(im.next_id++);
        im.out = R"({"id":")" + im.ping_id + R"(","type":"ping"})";
        sink.send_frame(im.out);
        im.pong_deadline = deadline_after(now_ns, s.ping_timeout_ns);
        im.next_ping_at = deadline_after(now_ns, s.ping_interval_ns);
      }
      break;
    }
    default:
      break;
  }
}

// ---- frames -----------------------------------------------------------------------

void SpotSession::on_frame(std::string_view frame, std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (frame.size() > im.config.max_frame_bytes)
    return im.bad(sink, FrameError::kTooLarge, "frame exceeds max_frame_bytes");
  im.frame.load(frame);
  od::document doc;
  od::object obj;
  if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) || doc.get_object().get(obj)) {
    return im.bad(sink, FrameError::kNotJson, "not a JSON object");
  }
  std::string_view type;
  const auto type_err = obj.find_field_unordered("type").get_string().get(type);
  // Everything but l2update data is read with fallbacks: validate it whole first
  // (json_validator.h).
  if ((type_err != simdjson::SUCCESS || type != "message") && !im.validator.valid(im.frame)) {
    return im.bad(sink, FrameError::kNotJson, "not valid JSON");
  }
  if (type_err != simdjson::SUCCESS) return im.bad(sink, FrameError::kUnexpectedShape, "message without type");
  if (type == "message") {
    std::string_view subject;
    if (obj.find_field_unordered("subject").get_string().get(subject)) {
      return im.bad(sink, FrameError::kUnexpectedShape, "message without subject");
    }
    if (subject != "trade.l2update") return;  // other channels are not ours
    // An l2update whose data or symbol cannot be read names its book by its topic: that
    // book has lost an update (Impl::lost_update).
    od::object data;
    if (obj.find_field_unordered("data").get_object().get(data)) {
      im.lost_update(im.find(topic_symbol(frame)), sink);
      return im.bad(sink, FrameError::kUnexpectedShape, "l2update without data");
    }
    if (!im.on_delta(data, sink)) {
      im.lost_update(im.find(topic_symbol(frame)), sink);
      return im.bad(sink, FrameError::kUnexpectedShape, "l2update without symbol");
    }
    return;
  }
  std::string_view id;
  const bool has_id = obj.find_field_unordered("id").get_string().get(id) == simdjson::SUCCESS;
  if (type == "welcome") {
    if (im.conn != ConnState::kAwaitingWelcome && im.driving()) return;
    // A welcome with no endpoint known (no token response yet) happens only in a damaged
    // recording; there is no ping interval to keep (found by fuzzing).
    if (im.driving() && im.servers.empty())
      return im.bad(sink, FrameError::kUnexpectedShape, "welcome before any token");
    im.conn = ConnState::kReady;
    im.welcome_deadline = -1;
    if (!im.driving()) return;
    const Server& s = im.servers[im.server_index % im.servers.size()];
    im.next_ping_at = deadline_after(now_ns, s.ping_interval_ns);
    std::vector<SpotBook*> list;
    for (const auto& b : im.books.all()) {
      if (!b->refused) list.push_back(b.get());
    }
    im.send_subscriptions(list, now_ns, sink);
    return;
  }
  if (type == "pong") {
    if (has_id && id == im.ping_id) im.pong_deadline = -1;
    return;
  }
  std::uint64_t numeric_id = 0;
  const bool id_ok = has_id && std::from_chars(id.data(), id.data() + id.size(), numeric_id).ec == std::errc();
  auto pending =
      std::find_if(im.acks.begin(), im.acks.end(), [&](const PendingAck& a) { return id_ok && a.id == numeric_id; });
  if (type == "ack") {
    if (pending == im.acks.end()) return;  // an ack for something else (or a recording's)
    for (BookId bid : pending->books) {
      SpotBook& b = im.books.at(bid);
      im.set_state(b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
    }
    im.acks.erase(pending);
    return;
  }
  if (type == "error") {
    std::string_view message;
    if (obj.find_field_unordered("data").get_string().get(message)) message = "error message";
    if (pending != im.acks.end()) {
      for (BookId bid : pending->books) {
        SpotBook& b = im.books.at(bid);
        b.refused = true;
        sink.venue_error(b.symbol, message);
        im.set_state(b, BookState::kHalted, StateReason::kSubscribeRefused, sink);
      }
      im.acks.erase(pending);
      return;
    }
    sink.venue_error("", message);
    return;
  }
  // notice, command and other types carry nothing for books.
}

}  // namespace obr::connectors::kucoin

static_assert(obr::connectors::VenueSession<obr::connectors::kucoin::SpotSession>);
