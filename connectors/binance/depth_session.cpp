// connectors/binance/depth_session.cpp — the Binance diff-depth session (depth_session.h):
// the connection (endpoints, SUBSCRIBE batches and their answers, pacing, timeouts,
// rotation), the public API and frame dispatch. The books' side is depth_bridge.cpp. Rules
// and sources: docs/venues/binance.md.
#include "connectors/binance/depth_session.h"

#include <algorithm>
#include <cctype>

#include "connectors/binance/depth_session_impl.h"

namespace obr::connectors::binance {

std::string_view default_endpoint(Market m) noexcept {
  return m == Market::kUsdm ? "wss://fstream.binance.com/stream" : "wss://stream.binance.com:9443/stream";
}
std::string_view default_rest_base(Market m) noexcept {
  return m == Market::kUsdm ? "https://fapi.binance.com" : "https://api.binance.com";
}
std::string_view venue_name(Market m) noexcept { return m == Market::kUsdm ? "binance-usdm" : "binance"; }

int snapshot_weight(Market m, int limit) noexcept {
  if (m == Market::kUsdm) return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
  return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

bool limit_ok(Market m, int limit) noexcept {
  if (m == Market::kUsdm) {
    for (int ok : {5, 10, 20, 50, 100, 500, 1000}) {
      if (limit == ok) return true;
    }
    return false;
  }
  return limit >= 1 && limit <= 5000;
}

namespace {

// messages_per_second: what a connection may send (docs/venues/binance.md "Limits").
int pace_of(const DepthConfig& c) noexcept {
  if (c.messages_per_second > 0) return c.messages_per_second;
  return c.market == Market::kUsdm ? 10 : 5;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// is_diff_depth_stream: `<symbol>@depth` or `<symbol>@depth@<speed>` (not the partial
// book streams `<symbol>@depth<levels>`, whose payload is another shape).
bool is_diff_depth_stream(std::string_view stream) noexcept {
  const std::size_t at = stream.find("@depth");
  if (at == std::string_view::npos) return false;
  const std::string_view rest = stream.substr(at + 6);
  return rest.empty() || rest.front() == '@';
}

}  // namespace

DepthSession::Impl::Impl(const DepthConfig& c) : config(c) {
  if (config.endpoints.empty()) config.endpoints.emplace_back(default_endpoint(config.market));
  if (config.rest_base.empty()) config.rest_base = std::string(default_rest_base(config.market));
}

// ---- connection -------------------------------------------------------------------

void DepthSession::Impl::send(std::string frame_text, std::int64_t now_ns, SessionSink& sink) {
  outbox.push_back(std::move(frame_text));
  flush(now_ns, sink);
}

void DepthSession::Impl::flush(std::int64_t now_ns, SessionSink& sink) {
  const auto pace = static_cast<std::size_t>(pace_of(config));
  while (!sent_at.empty() && now_ns - sent_at.front() >= 1'000'000'000) sent_at.pop_front();
  while (!outbox.empty() && sent_at.size() < pace) {
    sink.send_frame(outbox.front());
    outbox.pop_front();
    sent_at.push_back(now_ns);
  }
}

void DepthSession::Impl::send_subscriptions(const std::vector<DepthBook*>& list, std::int64_t now_ns,
                                            SessionSink& sink) {
  for (std::size_t i = 0; i < list.size(); i += config.streams_per_request) {
    // The answer's deadline counts from when the pace lets the frame out.
    const auto queued = static_cast<std::int64_t>(outbox.size() / static_cast<std::size_t>(pace_of(config)));
    PendingAck ack{
        next_id++, deadline_after(now_ns, saturating_mul(queued, 1'000'000'000) + config.ack_timeout_ns), {}};
    std::string frame_text = R"({"method":"SUBSCRIBE","params":[)";
    for (std::size_t k = i; k < std::min(list.size(), i + config.streams_per_request); ++k) {
      if (k > i) frame_text += ',';
      frame_text += '"' + list[k]->stream + '"';
      ack.books.push_back(list[k]->id);
    }
    frame_text += R"(],"id":)" + std::to_string(ack.id) + "}";
    acks.push_back(std::move(ack));
    send(std::move(frame_text), now_ns, sink);
  }
}

void DepthSession::Impl::on_answer(od::object& obj, SessionSink& sink) {
  std::uint64_t id = 0;
  const bool has_id = obj.find_field_unordered("id").get_uint64().get(id) == simdjson::SUCCESS;
  auto pending = std::find_if(acks.begin(), acks.end(), [&](const PendingAck& a) { return has_id && a.id == id; });
  od::value result;
  if (obj.find_field_unordered("result").get(result) == simdjson::SUCCESS) {
    if (pending == acks.end()) return;  // an answer to something else
    for (BookId bid : pending->books) {
      DepthBook& b = books.at(bid);
      b.quiet_since_ns = last_now_ns;
      if (!b.refused && !b.out_of_range && b.ob.state() == BookState::kSubscribing) {
        set_state(b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
      }
    }
    acks.erase(pending);
    return;
  }
  // An error: {"error":{"code":2,"msg":"..."},"id":N}, or the older {"code":2,"msg":"...","id":N}.
  std::string_view message;
  od::object error;
  if (obj.find_field_unordered("error").get_object().get(error) == simdjson::SUCCESS) {
    if (error.find_field_unordered("msg").get_string().get(message)) message = {};
  } else if (obj.find_field_unordered("msg").get_string().get(message)) {
    return bad(sink, FrameError::kUnexpectedShape, "frame is neither an event nor an answer");
  }
  if (message.empty()) message = "request refused (no message)";
  if (pending == acks.end()) {
    sink.venue_error("", message);
    return;
  }
  for (BookId bid : pending->books) refuse_book(books, books.at(bid), message, sink);
  acks.erase(pending);
}

// ---- public API -------------------------------------------------------------------

DepthSession::DepthSession(const DepthConfig& config) : impl_(std::make_unique<Impl>(config)) {}
DepthSession::~DepthSession() = default;

std::size_t DepthSession::book_count() const noexcept { return impl_->books.size(); }
const book::OrderBook& DepthSession::book(BookId id) const { return impl_->books.at(id).ob; }
std::uint64_t DepthSession::malformed_frames() const noexcept { return impl_->malformed; }
bool DepthSession::connected() const noexcept { return impl_->open; }

DepthBookInfo DepthSession::info(BookId id) const {
  const DepthBook& b = impl_->books.at(id);
  return DepthBookInfo{b.symbol, b.seq.last(), b.buffer.size(), b.stale, b.stale_snapshots, b.overflows};
}

std::size_t DepthSession::trusted_depth(BookId id) const {
  const DepthBook& b = impl_->books.at(id);
  return b.ob.state() == BookState::kLive ? b.trusted.depth(b.ob) : 0;
}

BookReport DepthSession::report(BookId id) const {
  const DepthBook& b = impl_->books.at(id);
  return BookReport{.symbol = b.symbol,
                    .book = &b.ob,
                    .depth = 0,
                    .sequence = b.seq.has_snapshot() ? b.seq.last() : -1,
                    .trusted_depth = static_cast<std::int64_t>(trusted_depth(id))};
}

absl::Status DepthSession::subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  const std::string_view venue = venue_name(im.config.market);
  if (absl::Status st = check_symbols(venue, symbols); !st.ok()) return st;
  std::size_t adding = 0;
  for (const std::string& s : symbols) adding += im.books.find(s) == nullptr;
  if (im.books.size() + adding > im.config.streams_per_connection) {
    return absl::ResourceExhaustedError(std::string(venue) + ": " + std::to_string(adding) +
                                        " more stream(s) would pass Binance's limit of " +
                                        std::to_string(im.config.streams_per_connection) +
                                        " per connection (docs/venues/binance.md); nothing was subscribed");
  }
  std::vector<DepthBook*> fresh;
  for (const std::string& s : symbols) {
    if (im.books.find(s) != nullptr) continue;
    DepthBook& b = im.books.track(s);
    b.stream = lower(s) + (im.config.fast_updates ? "@depth@100ms" : "@depth");
    b.fetch.wanted = true;
    fresh.push_back(&b);
  }
  im.last_now_ns = std::max(im.last_now_ns, now_ns);
  if (im.open && im.driving() && !fresh.empty()) im.send_subscriptions(fresh, now_ns, sink);
  return absl::OkStatus();
}

void DepthSession::start(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (im.driving()) sink.open_connection(im.endpoint());
}

void DepthSession::on_connected(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  im.open = true;
  im.closing = false;
  im.connected_at = now_ns;
  if (!im.driving()) return;
  std::vector<DepthBook*> list;
  for (const auto& b : im.books.all()) {
    if (!b->refused) list.push_back(b.get());
  }
  im.send_subscriptions(list, now_ns, sink);
}

void DepthSession::on_disconnected(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (!im.open) ++im.endpoint_index;  // failed before it opened: the next endpoint
  im.open = false;
  im.acks.clear();
  im.outbox.clear();
  im.sent_at.clear();
  for (const auto& b : im.books.all()) {
    b->buffer.clear();
    b->seq.clear();
    b->quiet_since_ns = -1;
    b->fetch.new_connection(!b->refused);
    b->out_of_range = false;  // a new connection bridges a book halted out of range once more
    im.books.cancel_retry(*b);
    if (!b->refused) im.set_state(*b, BookState::kStale, StateReason::kDisconnected, sink);
  }
  if (im.driving()) sink.open_connection(im.endpoint());
}

void DepthSession::on_tick(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (!im.driving()) return;  // replay: the recording decides what came next
  im.flush(now_ns, sink);
  im.books.run_due_retries(now_ns, [&](DepthBook& b) { restart_bridge(b, StateReason::kResubscribing, sink); });
  for (const auto& b : im.books.all()) {
    if (b->fetch.halt_due(now_ns)) {
      im.set_state(*b, BookState::kResyncing, StateReason::kResubscribing, sink);
      b->fetch.restart(true);
      im.request_snapshot(*b, sink);  // events buffered during the halt may bridge it
    }
    // Subscribed and silent: fetch the snapshot anyway (an unknown symbol's answer says so;
    // a quiet book's snapshot is the book until its first event bridges it).
    if (im.open && b->quiet_since_ns >= 0 && now_ns - b->quiet_since_ns >= im.config.first_event_timeout_ns &&
        b->fetch.due()) {
      b->quiet_since_ns = -1;
      im.request_snapshot(*b, sink);
    }
  }
  if (!im.open) return;
  for (const PendingAck& a : im.acks) {
    if (now_ns >= a.deadline_ns) return im.close(sink, "SUBSCRIBE not answered within ack_timeout");
  }
  if (now_ns - im.connected_at >= im.config.rotate_after_ns) {
    im.close(sink, "rotating the connection before Binance's 24-hour limit");
  }
}

// ---- frames -----------------------------------------------------------------------

void DepthSession::on_frame(std::string_view text, std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (text.size() > im.config.max_frame_bytes)
    return im.bad(sink, FrameError::kTooLarge, "frame exceeds max_frame_bytes");
  im.frame.load(text);
  od::document doc;
  od::object obj;
  if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) || doc.get_object().get(obj)) {
    return im.bad(sink, FrameError::kNotJson, "not a JSON object");
  }
  // The fast path: a combined stream's event, its fields read in Binance's order
  // ({"stream":"btcusdt@depth@100ms","data":{"e",…,"s","U","u",("pu"),"b","a"}}) without
  // validating the text first.
  std::string_view stream;
  if (obj.find_field("stream").get_string().get(stream) == simdjson::SUCCESS) {
    if (stream == "!serverShutdown") return im.close(sink, "the venue announced a server shutdown");
    if (!is_diff_depth_stream(stream)) return;  // trades, tickers, partial books: not ours
    od::object data;
    Impl::Event ev;
    if (obj.find_field("data").get_object().get(data) == simdjson::SUCCESS && im.read_event(data, true, ev)) {
      return im.on_event(ev, stream, now_ns, sink);
    }
  } else {
    stream = {};
  }
  // Anything else (answers, raw events, fields in another order, damaged frames) is
  // validated whole first (json_validator.h), then read in any order.
  if (!im.validator.valid(im.frame)) {
    if (!stream.empty()) im.lost_event(im.books.find(upper_symbol(stream)), now_ns, sink);
    return im.bad(sink, FrameError::kNotJson, "not valid JSON");
  }
  if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) || doc.get_object().get(obj)) {
    return im.bad(sink, FrameError::kNotJson, "not a JSON object");
  }
  if (obj.find_field_unordered("stream").get_string().get(stream) == simdjson::SUCCESS) {
    if (stream == "!serverShutdown") return im.close(sink, "the venue announced a server shutdown");
    if (!is_diff_depth_stream(stream)) return;
    od::object data;
    if (obj.find_field_unordered("data").get_object().get(data)) {
      im.lost_event(im.books.find(upper_symbol(stream)), now_ns, sink);
      return im.bad(sink, FrameError::kUnexpectedShape, "depth stream frame without data");
    }
    Impl::Event ev;
    im.read_event(data, false, ev);
    return im.on_event(ev, stream, now_ns, sink);
  }
  std::string_view event;
  if (obj.find_field_unordered("e").get_string().get(event) == simdjson::SUCCESS) {
    // A raw stream's event (the /ws/<stream> form).
    if (event == "depthUpdate") {
      Impl::Event ev;
      im.read_event(obj, false, ev);
      return im.on_event(ev, {}, now_ns, sink);
    }
    if (event == "serverShutdown") return im.close(sink, "the venue announced a server shutdown");
    return;  // other events are not ours
  }
  im.on_answer(obj, sink);
}

}  // namespace obr::connectors::binance

static_assert(obr::connectors::VenueSession<obr::connectors::binance::DepthSession>);
