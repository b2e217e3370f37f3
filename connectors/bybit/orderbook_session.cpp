// connectors/bybit/orderbook_session.cpp — the Bybit v5 orderbook session
// (orderbook_session.h): the connection (endpoints, subscribe requests and their answers,
// pings), frame dispatch, and the books. Rules and sources: docs/venues/bybit.md.
#include "connectors/bybit/orderbook_session.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "book/sequence_tracker.h"
#include "connectors/protocol/book_registry.h"
#include "connectors/protocol/book_requests.h"
#include "connectors/protocol/frame_buffer.h"
#include "connectors/protocol/json_validator.h"
#include "connectors/protocol/rest_book.h"
#include "connectors/protocol/session_basics.h"

namespace obr::connectors::bybit {

std::string_view default_endpoint(Category c) noexcept {
  switch (c) {
    case Category::kSpot:
      return "wss://stream.bybit.com/v5/public/spot";
    case Category::kInverse:
      return "wss://stream.bybit.com/v5/public/inverse";
    case Category::kLinear:
      break;
  }
  return "wss://stream.bybit.com/v5/public/linear";
}

std::string_view venue_name(Category c) noexcept {
  switch (c) {
    case Category::kSpot:
      return "bybit-spot";
    case Category::kInverse:
      return "bybit-inverse";
    case Category::kLinear:
      break;
  }
  return "bybit-linear";
}

bool depth_ok(Category, int depth) noexcept { return depth == 1 || depth == 50 || depth == 200 || depth == 1000; }

namespace {

namespace od = simdjson::ondemand;
using book::BookState;
using book::Side;

constexpr std::string_view kTopicPrefix = "orderbook.";

// Topic: `orderbook.{depth}.{symbol}` taken apart; false when it is not that.
bool parse_topic(std::string_view topic, int& depth, std::string_view& symbol) noexcept {
  if (topic.substr(0, kTopicPrefix.size()) != kTopicPrefix) return false;
  topic.remove_prefix(kTopicPrefix.size());
  const std::size_t dot = topic.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const auto [end, ec] = std::from_chars(topic.data(), topic.data() + dot, depth);
  if (ec != std::errc() || end != topic.data() + dot || depth <= 0) return false;
  symbol = topic.substr(dot + 1);
  return !symbol.empty();
}

// TopicBook: a book fed by its topic's snapshots and deltas. BridgedBook gives the shared
// part (sequence tracker, trusted range, refused, out_of_range); Bybit's books need no REST
// snapshot, so its buffer and fetch stay unused.
struct TopicBook : BridgedBook {
  using BridgedBook::BridgedBook;
  std::string topic;  // "orderbook.200.BTCUSDT"
  int depth = 0;
  std::int64_t last_u = -1;   // the last applied u (kept across a resync); -1: none yet
  std::uint64_t dropped = 0;  // deltas while not live
};

}  // namespace

struct OrderbookSession::Impl : SessionBasics {
  explicit Impl(const OrderbookConfig& c) : config(c) {
    if (config.endpoints.empty()) config.endpoints.emplace_back(default_endpoint(config.category));
  }

  OrderbookConfig config;
  od::parser parser;
  FrameBuffer frame{simdjson::SIMDJSON_PADDING};
  JsonValidator validator;  // frames that fail the fast path are validated whole first
  BookRegistry<TopicBook> books;
  std::vector<RawChange> raw;  // the current message's levels
  RangeError range;
  std::int64_t last_now_ns = 0;

  // connection
  bool open = false;
  std::size_t endpoint_index = 0;
  BookRequests requests;
  std::int64_t next_ping_at = -1;
  std::int64_t pong_deadline = -1;  // a ping is out: its pong is due by then

  bool driving() const { return config.drive_connection; }
  const std::string& endpoint() const { return config.endpoints[endpoint_index % config.endpoints.size()]; }
  void set_state(TopicBook& b, BookState to, StateReason why, SessionSink& sink) {
    BookRegistry<TopicBook>::set_state(b, to, why, sink);
  }

  // ---- requests ------------------------------------------------------------------
  // request_text: Bybit's `op` frame for `list` (docs/venues/bybit.md "Subscribing").
  static std::string request_text(std::string_view id, bool subscribe, std::span<TopicBook* const> list) {
    std::string text = R"({"req_id":")" + std::string(id) + R"(","op":")" + (subscribe ? "subscribe" : "unsubscribe") +
                       R"(","args":[)";
    for (std::size_t k = 0; k < list.size(); ++k) {
      if (k > 0) text += ',';
      text += '"' + list[k]->topic + '"';
    }
    return text + "]}";
  }
  void subscribe_books(const std::vector<TopicBook*>& list, std::size_t per_request, std::int64_t now_ns,
                       SessionSink& sink) {
    requests.send_batches(true, list, per_request, now_ns, config.ack_timeout_ns, request_text, sink);
  }
  // resubscribe asks for a fresh snapshot of `b`: its topic unsubscribed and subscribed
  // again (Bybit answers a topic already subscribed with an error).
  void resubscribe(TopicBook& b, std::int64_t now_ns, SessionSink& sink) {
    if (driving() && open) requests.renew(b, now_ns, config.ack_timeout_ns, request_text, sink);
  }
  void on_answer(od::object& obj, std::int64_t now_ns, SessionSink& sink);

  // ---- books ---------------------------------------------------------------------
  // fail: a check failed on `b` (a gap, a side past the depth, a message that could not be
  // applied): invalid, then resubscribed (or halted by the breaker, when driving).
  void fail(TopicBook& b, StateReason why, std::int64_t now_ns, SessionSink& sink) {
    if (!fail_live(books, b, why, driving() ? &config.breaker : nullptr, now_ns, sink)) resubscribe(b, now_ns, sink);
  }
  void halt_out_of_range(TopicBook& b, bool in_delta, SessionSink& sink) {
    ++malformed;
    connectors::halt_out_of_range(books, b, range, in_delta, sink);
  }
  // Message: one book message's fields as read (its levels in `raw`).
  struct Message {
    std::string_view topic, type, symbol;
    std::int64_t u = 0;
  };
  // read_message reads a book message's fields. `ordered`: in Bybit's order, forward only
  // (safe before validation); else in any order (validated text only).
  bool read_message(od::object& obj, bool ordered, Message& m);
  void on_book_message(const Message& m, std::int64_t now_ns, SessionSink& sink);
  // lost_message: a message for the book of `topic` could not be read or applied.
  void lost_message(std::string_view topic, std::int64_t now_ns, SessionSink& sink) {
    int depth = 0;
    std::string_view symbol;
    if (!parse_topic(topic, depth, symbol)) return;
    TopicBook* b = books.find(symbol);
    if (b != nullptr && b->ob.state() == BookState::kLive && b->depth == depth)
      fail(*b, StateReason::kMalformed, now_ns, sink);
  }
  // over_depth: a side holds more levels than the topic's depth.
  static bool over_depth(const TopicBook& b) noexcept {
    const auto d = static_cast<std::size_t>(b.depth);
    return b.ob.bids().size() > d || b.ob.asks().size() > d;
  }
};

// ---- frames ---------------------------------------------------------------------------

namespace {
// raw_topic: the topic a frame that does not parse names in its text ("" when none). Error
// path only.
std::string_view raw_topic(std::string_view text) noexcept {
  constexpr std::string_view kKey = "\"topic\":\"";
  const std::size_t at = text.find(kKey);
  if (at == std::string_view::npos) return {};
  const std::string_view rest = text.substr(at + kKey.size());
  return rest.substr(0, rest.find('"'));
}
}  // namespace

bool OrderbookSession::Impl::read_message(od::object& obj, bool ordered, Message& m) {
  raw.clear();
  auto field = [&](od::object& o, std::string_view key, od::value& v) {
    return (ordered ? o.find_field(key) : o.find_field_unordered(key)).get(v) == simdjson::SUCCESS;
  };
  od::value v;
  if (!field(obj, "topic", v) || v.get_string().get(m.topic)) return false;
  if (!field(obj, "type", v) || v.get_string().get(m.type)) return false;
  od::object data;
  if (!field(obj, "data", v) || v.get_object().get(data)) return false;
  if (!field(data, "s", v) || v.get_string().get(m.symbol)) return false;
  if (!field(data, "b", v) || !read_changes(v, Side::kBid, false, raw)) return false;
  if (!field(data, "a", v) || !read_changes(v, Side::kAsk, false, raw)) return false;
  return field(data, "u", v) && v.get_int64().get(m.u) == simdjson::SUCCESS;
}

void OrderbookSession::Impl::on_book_message(const Message& m, std::int64_t now_ns, SessionSink& sink) {
  int depth = 0;
  std::string_view topic_symbol;
  if (!parse_topic(m.topic, depth, topic_symbol) || topic_symbol != m.symbol) {
    return bad(sink, FrameError::kUnexpectedShape, "orderbook message whose topic does not name its symbol");
  }
  TopicBook* found = books.find(m.symbol);
  if (found == nullptr) {
    if (!config.track_any_symbol) return bad(sink, FrameError::kUnknownSymbol, unknown_symbol_detail(m.symbol));
    found = &books.track(m.symbol);
    found->topic = std::string(m.topic);
    found->depth = depth;
  }
  TopicBook& b = *found;
  if (depth != b.depth) {
    return bad(sink, FrameError::kUnexpectedShape, "orderbook message at another depth than the book's topic");
  }
  if (b.refused || b.out_of_range || b.ob.state() == BookState::kHalted) {
    ++b.dropped;
    return;
  }
  const bool snapshot = m.type == "snapshot" || m.u == 1;
  if (snapshot) {
    // A snapshot replaces the book; u == 1 is the restart snapshot (docs/venues/bybit.md
    // "Books"). The whole book is the venue's top `depth`: every level is exact.
    switch (load_snapshot(b.ob, b.trusted, raw, b.buffer, 0, range)) {
      case LevelResult::kOk:
        break;
      case LevelResult::kBad:
        bad(sink, FrameError::kBadNumber, "orderbook snapshot with a price or size that is not a decimal");
        if (b.ob.state() == BookState::kLive) return fail(b, StateReason::kMalformed, now_ns, sink);
        return;
      case LevelResult::kOutOfRange:
        return halt_out_of_range(b, false, sink);
    }
    b.seq.reset(m.u);
    b.last_u = m.u;
    if (over_depth(b)) {
      b.seq.clear();
      sink.venue_error(b.symbol, "snapshot holds more levels than the topic's depth");
      return fail(b, StateReason::kMalformed, now_ns, sink);
    }
    if (b.ob.is_crossed()) ++b.ob.counters().crossed;
    set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);
    sink.book_updated(b.id, b.symbol, b.ob, true);
    return;
  }
  if (m.type != "delta")
    return bad(sink, FrameError::kUnexpectedShape, "orderbook message type is not snapshot or delta");
  if (b.ob.state() != BookState::kLive) {
    ++b.dropped;  // waiting for a snapshot: nothing to apply it to
    return;
  }
  if (b.seq.check_next(m.u) != book::SeqCheck::kInOrder) return fail(b, StateReason::kSequenceGap, now_ns, sink);
  const std::uint64_t top_before = b.ob.top_version();
  for (const RawChange& c : raw) {
    std::int64_t p = 0, q = 0;
    switch (parse_level(b.ob, b.trusted, c.price, c.size, p, q, range)) {
      case LevelResult::kOk:
        break;
      case LevelResult::kBad:
        bad(sink, FrameError::kBadNumber, "orderbook delta with a price or size that is not a decimal");
        return fail(b, StateReason::kMalformed, now_ns, sink);
      case LevelResult::kOutOfRange:
        return halt_out_of_range(b, true, sink);
    }
    b.ob.apply(c.side, p, q);  // size 0 deletes; an unknown price inserts
    ++b.ob.counters().levels_applied;
  }
  if (over_depth(b)) {
    sink.venue_error(b.symbol, "delta left a side longer than the topic's depth");
    return fail(b, StateReason::kMalformed, now_ns, sink);
  }
  b.last_u = m.u;
  b.breaker.passed();
  ++b.ob.counters().updates;
  ++b.ob.counters().checks_passed;
  if (b.ob.is_crossed()) ++b.ob.counters().crossed;
  sink.book_updated(b.id, b.symbol, b.ob, b.ob.top_version() != top_before);
}

void OrderbookSession::Impl::on_answer(od::object& obj, std::int64_t now_ns, SessionSink& sink) {
  std::string_view op, req_id, message;
  bool success = false;
  if (obj.find_field_unordered("op").get_string().get(op)) {
    return bad(sink, FrameError::kUnexpectedShape, "frame is neither an orderbook message nor an answer");
  }
  if (obj.find_field_unordered("req_id").get_string().get(req_id)) req_id = {};
  const bool has_success = obj.find_field_unordered("success").get_bool().get(success) == simdjson::SUCCESS;
  if (obj.find_field_unordered("ret_msg").get_string().get(message)) message = {};
  // The pong: {"op":"pong",…} or {"success":true,"ret_msg":"pong","op":"ping",…}
  // (docs/venues/bybit.md "Keepalive").
  if (op == "pong" || (op == "ping" && message == "pong")) {
    pong_deadline = -1;
    return;
  }
  if (op != "subscribe" && op != "unsubscribe") {
    if (op == "ping") return;  // an answer to a ping that is not a pong: nothing to keep
    return bad(sink, FrameError::kUnexpectedShape, "answer to an unknown op");
  }
  if (!has_success) return bad(sink, FrameError::kUnexpectedShape, "answer without success");
  const bool subscribe = op == "subscribe";
  // An answer that does not echo the req_id is for the oldest request of its op.
  const auto pending = requests.find(req_id, subscribe);
  if (pending == requests.end()) {
    if (!success) sink.venue_error("", message.empty() ? std::string_view("request refused (no message)") : message);
    return;  // an answer to nothing in flight (a capture's, or a late one)
  }
  const PendingRequest ack = requests.take(pending);
  if (success) {
    if (!subscribe) return;
    for (BookId id : ack.books) {
      TopicBook& b = books.at(id);
      if (!b.refused && b.ob.state() == BookState::kSubscribing) {
        set_state(b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
      }
    }
    return;
  }
  if (!subscribe) {
    sink.venue_error("", message.empty() ? std::string_view("unsubscribe refused (no message)") : message);
    return;
  }
  // A refusal names the topics it refused ("error:handler not found,topic:orderbook.40.X").
  std::vector<TopicBook*> named, unnamed;
  split_refusal(
      ack, books, message, [](const TopicBook& b) -> std::string_view { return b.topic; }, named, unnamed);
  for (TopicBook* b : named) refuse_book(books, *b, message, sink);
  if (!named.empty() || unnamed.empty()) {
    // The topics it did not name were subscribed.
    for (TopicBook* b : unnamed) {
      if (b->ob.state() == BookState::kSubscribing)
        set_state(*b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
    }
    return;
  }
  if (unnamed.size() == 1) {
    return refuse_book(books, *unnamed.front(),
                       message.empty() ? std::string_view("subscribe refused (no message)") : message, sink);
  }
  // Several topics and none named: ask for each alone, so that the answer says which.
  if (open && driving()) subscribe_books(unnamed, 1, now_ns, sink);
}

// ---- public API -----------------------------------------------------------------------

OrderbookSession::OrderbookSession(const OrderbookConfig& config) : impl_(std::make_unique<Impl>(config)) {}
OrderbookSession::~OrderbookSession() = default;

std::size_t OrderbookSession::book_count() const noexcept { return impl_->books.size(); }
const book::OrderBook& OrderbookSession::book(BookId id) const { return impl_->books.at(id).ob; }
std::uint64_t OrderbookSession::malformed_frames() const noexcept { return impl_->malformed; }
bool OrderbookSession::connected() const noexcept { return impl_->open; }

OrderbookBookInfo OrderbookSession::info(BookId id) const {
  const TopicBook& b = impl_->books.at(id);
  return OrderbookBookInfo{b.symbol, b.topic, b.last_u, b.dropped, b.refused};
}

BookReport OrderbookSession::report(BookId id) const {
  const TopicBook& b = impl_->books.at(id);
  return BookReport{.symbol = b.symbol, .book = &b.ob, .depth = b.depth, .sequence = b.last_u, .trusted_depth = -1};
}

absl::Status OrderbookSession::subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns,
                                         SessionSink& sink) {
  Impl& im = *impl_;
  const std::string_view venue = venue_name(im.config.category);
  if (absl::Status st = check_symbols(venue, symbols); !st.ok()) return st;
  // Bybit's limit on one public connection: its "args" together at most 21 000 characters
  // (docs/venues/bybit.md "Subscribing"), counted as the JSON array writes them.
  std::size_t chars = 2;
  for (const auto& b : im.books.all()) chars += b->topic.size() + 3;
  for (const std::string& s : symbols) {
    if (im.books.find(s) == nullptr)
      chars += kTopicPrefix.size() + std::to_string(im.config.depth).size() + s.size() + 4;
  }
  if (chars > im.config.max_args_chars) {
    return absl::ResourceExhaustedError(std::string(venue) + ": these topics would take the connection's args to " +
                                        std::to_string(chars) + " characters, past Bybit's limit of " +
                                        std::to_string(im.config.max_args_chars) +
                                        " (docs/venues/bybit.md); nothing was subscribed");
  }
  std::vector<TopicBook*> fresh;
  for (const std::string& s : symbols) {
    if (im.books.find(s) != nullptr) continue;
    TopicBook& b = im.books.track(s);
    b.depth = im.config.depth;
    b.topic = std::string(kTopicPrefix) + std::to_string(b.depth) + "." + s;
    fresh.push_back(&b);
  }
  im.last_now_ns = std::max(im.last_now_ns, now_ns);
  if (im.open && im.driving() && !fresh.empty()) im.subscribe_books(fresh, im.config.topics_per_request, now_ns, sink);
  return absl::OkStatus();
}

void OrderbookSession::start(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (im.driving()) sink.open_connection(im.endpoint());
}

void OrderbookSession::on_connected(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  im.open = true;
  im.closing = false;
  if (!im.driving()) return;
  im.next_ping_at = deadline_after(now_ns, im.config.ping_interval_ns);
  im.pong_deadline = -1;
  std::vector<TopicBook*> list;
  for (const auto& b : im.books.all()) {
    if (!b->refused) list.push_back(b.get());
  }
  im.subscribe_books(list, im.config.topics_per_request, now_ns, sink);
}

void OrderbookSession::on_disconnected(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (!im.open) ++im.endpoint_index;  // failed before it opened: the next endpoint
  im.open = false;
  im.requests.clear();
  im.next_ping_at = -1;
  im.pong_deadline = -1;
  for (const auto& b : im.books.all()) {
    b->seq.clear();
    b->out_of_range = false;  // a new connection subscribes a book halted out of range once more
    im.books.cancel_retry(*b);
    if (!b->refused) im.set_state(*b, BookState::kStale, StateReason::kDisconnected, sink);
  }
  if (im.driving()) sink.open_connection(im.endpoint());
}

void OrderbookSession::on_http_response(std::uint64_t, std::string_view, int, std::string_view, std::int64_t now_ns,
                                        SessionSink&) {
  impl_->last_now_ns = now_ns;
}

void OrderbookSession::on_tick(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (!im.driving() || !im.open) return;  // replay: the recording decides what came next
  im.books.run_due_retries(now_ns, [&](TopicBook& b) {
    ++b.ob.counters().resyncs_requested;
    im.set_state(b, BookState::kResyncing, StateReason::kResubscribing, sink);
    im.resubscribe(b, now_ns, sink);
  });
  if (im.requests.overdue(now_ns)) return im.close(sink, "subscribe request not answered within ack_timeout");
  if (im.pong_deadline >= 0 && now_ns >= im.pong_deadline) return im.close(sink, "no pong within pong_timeout");
  if (im.next_ping_at >= 0 && now_ns >= im.next_ping_at) {
    sink.send_frame(R"({"req_id":"ping-)" + std::to_string(im.requests.next_id()) + R"(","op":"ping"})");
    if (im.pong_deadline < 0) im.pong_deadline = deadline_after(now_ns, im.config.pong_timeout_ns);
    im.next_ping_at = deadline_after(now_ns, im.config.ping_interval_ns);
  }
}

void OrderbookSession::on_frame(std::string_view text, std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (text.size() > im.config.max_frame_bytes) {
    return im.bad(sink, FrameError::kTooLarge, "frame exceeds max_frame_bytes");
  }
  im.frame.load(text);
  od::document doc;
  od::object obj;
  if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) || doc.get_object().get(obj)) {
    im.lost_message(raw_topic(text), now_ns, sink);
    return im.bad(sink, FrameError::kNotJson, "not a JSON object");
  }
  // The fast path: a book message, its fields read in Bybit's order ({"topic","type"
  // (spot: "ts" first),…,"data":{"s","b","a","u",…}}) without validating the text first.
  Impl::Message m;
  std::string topic;  // a book message's topic when the fast path fails: error path only
  if (im.read_message(obj, true, m)) {
    if (m.topic.substr(0, kTopicPrefix.size()) != kTopicPrefix) return;  // another topic: not ours
    return im.on_book_message(m, now_ns, sink);
  }
  if (m.topic.substr(0, kTopicPrefix.size()) == kTopicPrefix) topic = std::string(m.topic);
  // Anything else (answers, pongs, fields in another order, damaged frames) is validated
  // whole first (json_validator.h), then read in any order.
  if (!im.validator.valid(im.frame)) {
    if (!topic.empty()) im.lost_message(topic, now_ns, sink);
    return im.bad(sink, FrameError::kNotJson, "not valid JSON");
  }
  if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) || doc.get_object().get(obj)) {
    return im.bad(sink, FrameError::kNotJson, "not a JSON object");
  }
  std::string_view any_topic;
  if (obj.find_field_unordered("topic").get_string().get(any_topic) == simdjson::SUCCESS) {
    if (any_topic.substr(0, kTopicPrefix.size()) != kTopicPrefix) return;  // another topic: not ours
    topic = std::string(any_topic);
    if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) ||
        doc.get_object().get(obj) || !im.read_message(obj, false, m)) {
      im.lost_message(topic, now_ns, sink);
      return im.bad(sink, FrameError::kUnexpectedShape, "orderbook message without topic, type, data.s, b, a or u");
    }
    return im.on_book_message(m, now_ns, sink);
  }
  im.on_answer(obj, now_ns, sink);
}

}  // namespace obr::connectors::bybit

static_assert(obr::connectors::VenueSession<obr::connectors::bybit::OrderbookSession>);
