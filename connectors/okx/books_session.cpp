// connectors/okx/books_session.cpp — the OKX v5 order-book session (books_session.h): the
// connection (endpoints, subscribe requests and their answers, pings), frame dispatch and
// the books. Rules and sources: docs/venues/okx.md.
#include "connectors/okx/books_session.h"

#include <simdjson.h>

#include <algorithm>

#include "book/okx_checksum.h"
#include "connectors/protocol/book_registry.h"
#include "connectors/protocol/book_requests.h"
#include "connectors/protocol/frame_buffer.h"
#include "connectors/protocol/rest_book.h"
#include "connectors/protocol/session_basics.h"

namespace obr::connectors::okx {

std::string_view channel_for(int depth) noexcept {
  switch (depth) {
    case 400:
      return "books";
    case 5:
      return "books5";
    case 50:
      return "books50-l2-tbt";
    default:
      return {};
  }
}

int depth_of(std::string_view channel) noexcept {
  if (channel == "books" || channel == "books-l2-tbt") return 400;
  if (channel == "books5") return 5;
  if (channel == "books50-l2-tbt") return 50;
  return 0;
}

namespace {

namespace od = simdjson::ondemand;
using book::BookState;
using book::Side;

// ChannelBook: a book fed by its channel's snapshots and updates. BridgedBook gives the
// shared part (trusted range, refused, out_of_range, the halts); OKX's books need no REST
// snapshot, so its buffer and fetch stay unused.
struct ChannelBook : BridgedBook {
  using BridgedBook::BridgedBook;
  std::string channel;         // "books"
  int depth = 0;               // levels of its snapshot
  std::int64_t last_seq = -1;  // the last applied seqId; -1: none
  bool sequenced = false;      // its last snapshot carried a seqId
  std::uint64_t checksums = 0;
  std::uint64_t dropped = 0;   // updates while not live
  book::OkxChecksumCache crc;  // the checksum, rewriting only the levels a message changed
};

// Message: one frame's fields as read in one forward pass (its levels in `raw`).
struct Message {
  std::string_view channel, inst, action, event, code, msg, id;
  bool has_arg = false, has_data = false;
  std::int64_t checksum = 0;
  std::int64_t prev = -1, seq = -1;
  bool has_seq = false;
};

// read_data reads the first element of `data` (OKX sends one per push).
bool read_data(od::value v, Message& m, std::vector<RawChange>& raw) {
  od::array arr;
  if (v.get_array().get(arr)) return false;
  bool first = true;
  for (auto element : arr) {
    if (!first) return false;  // OKX documents one book per push
    first = false;
    od::object d;
    if (element.get_object().get(d)) return false;
    bool prev_seen = false;
    for (auto field : d) {
      std::string_view key;
      od::value fv;
      if (field.unescaped_key().get(key) || field.value().get(fv)) return false;
      if (key == "asks") {
        if (!read_changes(fv, Side::kAsk, false, raw)) return false;
      } else if (key == "bids") {
        if (!read_changes(fv, Side::kBid, false, raw)) return false;
      } else if (key == "checksum") {
        if (fv.get_int64().get(m.checksum)) return false;
      } else if (key == "prevSeqId") {
        if (fv.get_int64().get(m.prev)) return false;
        prev_seen = true;
      } else if (key == "seqId") {
        if (fv.get_int64().get(m.seq)) return false;
        m.has_seq = true;
      } else if (key == "instId") {
        if (fv.get_string().get(m.inst)) return false;
      }
    }
    if (m.has_seq != prev_seen) return false;  // both or neither
  }
  m.has_data = !first;
  return m.has_data;
}

// read_message reads a frame's fields in one forward pass, in any order.
bool read_message(od::object& obj, Message& m, std::vector<RawChange>& raw) {
  raw.clear();
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) return false;
    if (key == "arg") {
      od::object arg;
      if (v.get_object().get(arg)) return false;
      for (auto af : arg) {
        std::string_view ak;
        od::value av;
        if (af.unescaped_key().get(ak) || af.value().get(av)) return false;
        if (ak == "channel") {
          if (av.get_string().get(m.channel)) return false;
        } else if (ak == "instId") {
          if (av.get_string().get(m.inst)) return false;
        }
      }
      m.has_arg = true;
    } else if (key == "action") {
      if (v.get_string().get(m.action)) return false;
    } else if (key == "data") {
      if (!read_data(v, m, raw)) return false;
    } else if (key == "event") {
      if (v.get_string().get(m.event)) return false;
    } else if (key == "code") {
      if (v.get_string().get(m.code)) return false;
    } else if (key == "msg") {
      if (v.get_string().get(m.msg)) return false;
    } else if (key == "id") {
      if (v.get_string().get(m.id)) return false;
    }
  }
  return true;
}

}  // namespace

struct BooksSession::Impl : SessionBasics {
  explicit Impl(const BooksConfig& c) : config(c) {
    if (config.endpoints.empty()) config.endpoints.emplace_back(kDefaultEndpoint);
  }

  BooksConfig config;
  od::parser parser;
  FrameBuffer frame{simdjson::SIMDJSON_PADDING};
  BookRegistry<ChannelBook> books;
  std::vector<RawChange> raw;
  RangeError range;
  std::int64_t last_now_ns = 0;

  // connection
  bool open = false;
  std::size_t endpoint_index = 0;
  BookRequests requests;  // each answered channel by channel
  std::int64_t last_rx_ns = 0;
  std::int64_t pong_deadline = -1;

  bool driving() const { return config.drive_connection; }
  const std::string& endpoint() const { return config.endpoints[endpoint_index % config.endpoints.size()]; }
  void set_state(ChannelBook& b, BookState to, StateReason why, SessionSink& sink) {
    BookRegistry<ChannelBook>::set_state(b, to, why, sink);
  }

  // ---- requests ------------------------------------------------------------------
  // request_text: OKX's `op` frame for `list` (docs/venues/okx.md "Subscribing").
  static std::string request_text(std::string_view id, bool subscribe, std::span<ChannelBook* const> list) {
    std::string text =
        R"({"id":")" + std::string(id) + R"(","op":")" + (subscribe ? "subscribe" : "unsubscribe") + R"(","args":[)";
    for (std::size_t k = 0; k < list.size(); ++k) {
      if (k > 0) text += ',';
      text += R"({"channel":")" + list[k]->channel + R"(","instId":")" + list[k]->symbol + R"("})";
    }
    return text + "]}";
  }
  void subscribe_books(const std::vector<ChannelBook*>& list, std::size_t per_request, std::int64_t now_ns,
                       SessionSink& sink) {
    requests.send_batches(true, list, per_request, now_ns, config.ack_timeout_ns, request_text, sink);
  }
  // resubscribe asks for a fresh snapshot of `b`: unsubscribed, then subscribed again.
  void resubscribe(ChannelBook& b, std::int64_t now_ns, SessionSink& sink) {
    if (driving() && open) requests.renew(b, now_ns, config.ack_timeout_ns, request_text, sink);
  }
  void on_answer(const Message& m, std::int64_t now_ns, SessionSink& sink);

  // ---- books ---------------------------------------------------------------------
  void fail(ChannelBook& b, StateReason why, std::int64_t now_ns, SessionSink& sink) {
    if (!fail_live(books, b, why, driving() ? &config.breaker : nullptr, now_ns, sink)) resubscribe(b, now_ns, sink);
  }
  void halt_out_of_range(ChannelBook& b, bool in_update, SessionSink& sink) {
    ++malformed;
    connectors::halt_out_of_range(books, b, range, in_update, sink);
  }
  void on_book_message(const Message& m, std::int64_t now_ns, SessionSink& sink);
  // lost_message: a message for `inst` on `channel` could not be read.
  void lost_message(std::string_view channel, std::string_view inst, std::int64_t now_ns, SessionSink& sink) {
    ChannelBook* b = books.find(inst);
    if (b != nullptr && b->channel == channel && b->ob.state() == BookState::kLive) {
      fail(*b, StateReason::kMalformed, now_ns, sink);
    }
  }
  // checksum_ok: the message's checksum (0: none sent) against the book; counted.
  bool checksum_ok(ChannelBook& b, std::int64_t checksum) {
    if (checksum == 0) return true;
    ++b.checksums;
    return b.crc.get(b.ob) == checksum;
  }
};

void BooksSession::Impl::on_book_message(const Message& m, std::int64_t now_ns, SessionSink& sink) {
  const int depth = depth_of(m.channel);
  if (depth == 0) return;  // tickers, trades, ...: not ours
  if (m.inst.empty()) return bad(sink, FrameError::kUnexpectedShape, "book message without instId");
  ChannelBook* found = books.find(m.inst);
  if (found == nullptr) {
    if (!config.track_any_symbol) return bad(sink, FrameError::kUnknownSymbol, unknown_symbol_detail(m.inst));
    found = &books.track(m.inst);
    found->channel = std::string(m.channel);
    found->depth = depth;
  }
  ChannelBook& b = *found;
  if (m.channel != b.channel) return bad(sink, FrameError::kUnexpectedShape, "book message on another channel");
  if (b.refused || b.out_of_range || b.ob.state() == BookState::kHalted) {
    ++b.dropped;
    return;
  }
  // books5 pushes whole snapshots without an action (docs/venues/okx.md "Books").
  const bool snapshot = m.action == "snapshot" || (m.action.empty() && depth == 5);
  if (snapshot) {
    switch (load_snapshot(b.ob, b.trusted, raw, b.buffer, static_cast<std::size_t>(depth), range)) {
      case LevelResult::kOk:
        break;
      case LevelResult::kBad:
        bad(sink, FrameError::kBadNumber, "book snapshot with a price or size that is not a decimal");
        if (b.ob.state() == BookState::kLive) return fail(b, StateReason::kMalformed, now_ns, sink);
        return;
      case LevelResult::kOutOfRange:
        return halt_out_of_range(b, false, sink);
    }
    b.sequenced = m.has_seq;
    b.last_seq = m.has_seq ? m.seq : -1;
    if (!checksum_ok(b, m.checksum)) return fail(b, StateReason::kChecksumMismatch, now_ns, sink);
    if (m.checksum != 0) ++b.ob.counters().checks_passed;
    if (b.ob.is_crossed()) ++b.ob.counters().crossed;
    set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);
    sink.book_updated(b.id, b.symbol, b.ob, true);
    return;
  }
  if (m.action != "update")
    return bad(sink, FrameError::kUnexpectedShape, "book message action is not snapshot or update");
  if (b.ob.state() != BookState::kLive) {
    ++b.dropped;
    return;
  }
  // prevSeqId must be the last seqId: this admits the no-change message and the reset.
  if (m.has_seq && (!b.sequenced || m.prev != b.last_seq)) return fail(b, StateReason::kSequenceGap, now_ns, sink);
  const std::uint64_t top_before = b.ob.top_version();
  for (const RawChange& c : raw) {
    std::int64_t p = 0, q = 0;
    switch (parse_level(b.ob, b.trusted, c.price, c.size, p, q, range)) {
      case LevelResult::kOk:
        break;
      case LevelResult::kBad:
        bad(sink, FrameError::kBadNumber, "book update with a price or size that is not a decimal");
        return fail(b, StateReason::kMalformed, now_ns, sink);
      case LevelResult::kOutOfRange:
        return halt_out_of_range(b, true, sink);
    }
    b.ob.apply(c.side, p, q);  // size 0 deletes; an unknown price inserts
    ++b.ob.counters().levels_applied;
  }
  // Applied (counted as Kraken's are, before the checksum): the checksum then says whether
  // the book is still right.
  if (m.has_seq) b.last_seq = m.seq;
  ++b.ob.counters().updates;
  if (!checksum_ok(b, m.checksum)) return fail(b, StateReason::kChecksumMismatch, now_ns, sink);
  b.breaker.passed();
  if (m.has_seq || m.checksum != 0) ++b.ob.counters().checks_passed;
  if (b.ob.is_crossed()) ++b.ob.counters().crossed;
  sink.book_updated(b.id, b.symbol, b.ob, b.ob.top_version() != top_before);
}

void BooksSession::Impl::on_answer(const Message& m, std::int64_t now_ns, SessionSink& sink) {
  if (m.event == "subscribe" || m.event == "unsubscribe") {
    const bool subscribe = m.event == "subscribe";
    ChannelBook* b = books.find(m.inst);
    for (auto a = requests.pending().begin(); b != nullptr && a != requests.pending().end(); ++a) {
      if (a->subscribe != subscribe || (!m.id.empty() && a->id != m.id)) continue;
      if (std::find(a->books.begin(), a->books.end(), b->id) == a->books.end()) continue;
      requests.answered(a, b->id);
      break;
    }
    if (subscribe && b != nullptr && m.channel == b->channel && !b->refused &&
        b->ob.state() == BookState::kSubscribing) {
      set_state(*b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
    }
    return;
  }
  if (m.event != "error") {
    if (!m.msg.empty()) sink.venue_error("", m.msg);  // a notice: said, nothing to do
    return;
  }
  const std::string_view message = m.msg.empty() ? std::string_view("request refused (no message)") : m.msg;
  // An error without the request's id is for the oldest subscribe.
  auto pending = requests.find(m.id, true);
  if (pending == requests.end()) pending = requests.find(m.id, false);
  if (pending == requests.end()) {
    sink.venue_error("", message);
    return;
  }
  const PendingRequest ack = requests.take(pending);
  if (!ack.subscribe) {
    sink.venue_error("", message);
    return;
  }
  // The error names the instIds it refused ("…channel:books,instId:X doesn't exist").
  std::vector<ChannelBook*> named, unnamed;
  split_refusal(
      ack, books, message, [](const ChannelBook& b) -> std::string_view { return b.symbol; }, named, unnamed);
  for (ChannelBook* b : named) refuse_book(books, *b, message, sink);
  if (!named.empty() || unnamed.empty()) {
    // OKX refuses a request whole: ask again for the books it did not name.
    if (!unnamed.empty() && open && driving()) subscribe_books(unnamed, config.args_per_request, now_ns, sink);
    return;
  }
  if (unnamed.size() == 1) return refuse_book(books, *unnamed.front(), message, sink);
  if (open && driving()) subscribe_books(unnamed, 1, now_ns, sink);  // one by one: the answer says which
}

// ---- public API -----------------------------------------------------------------------

BooksSession::BooksSession(const BooksConfig& config) : impl_(std::make_unique<Impl>(config)) {}
BooksSession::~BooksSession() = default;

std::size_t BooksSession::book_count() const noexcept { return impl_->books.size(); }
const book::OrderBook& BooksSession::book(BookId id) const { return impl_->books.at(id).ob; }
std::uint64_t BooksSession::malformed_frames() const noexcept { return impl_->malformed; }
bool BooksSession::connected() const noexcept { return impl_->open; }

BooksBookInfo BooksSession::info(BookId id) const {
  const ChannelBook& b = impl_->books.at(id);
  return BooksBookInfo{b.symbol, b.channel, b.last_seq, b.checksums, b.dropped, b.refused};
}

BookReport BooksSession::report(BookId id) const {
  const ChannelBook& b = impl_->books.at(id);
  const bool live = b.ob.state() == BookState::kLive;
  return BookReport{.symbol = b.symbol,
                    .book = &b.ob,
                    .depth = b.depth,
                    .sequence = b.last_seq,
                    .trusted_depth = live ? static_cast<std::int64_t>(b.trusted.depth(b.ob)) : 0};
}

absl::Status BooksSession::subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  if (absl::Status st = check_symbols("okx", symbols); !st.ok()) return st;
  const std::string_view channel = channel_for(im.config.depth);
  if (channel.empty()) {
    return absl::InvalidArgumentError("okx: depth " + std::to_string(im.config.depth) +
                                      " has no book channel (5, 50 or 400)");
  }
  std::vector<ChannelBook*> fresh;
  for (const std::string& s : symbols) {
    if (im.books.find(s) != nullptr) continue;
    ChannelBook& b = im.books.track(s);
    b.channel = std::string(channel);
    b.depth = im.config.depth;
    fresh.push_back(&b);
  }
  im.last_now_ns = std::max(im.last_now_ns, now_ns);
  if (im.open && im.driving() && !fresh.empty()) im.subscribe_books(fresh, im.config.args_per_request, now_ns, sink);
  return absl::OkStatus();
}

void BooksSession::start(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (im.driving()) sink.open_connection(im.endpoint());
}

void BooksSession::on_connected(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  im.open = true;
  im.closing = false;
  im.last_rx_ns = now_ns;
  im.pong_deadline = -1;
  if (!im.driving()) return;
  std::vector<ChannelBook*> list;
  for (const auto& b : im.books.all()) {
    if (!b->refused) list.push_back(b.get());
  }
  im.subscribe_books(list, im.config.args_per_request, now_ns, sink);
}

void BooksSession::on_disconnected(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (!im.open) ++im.endpoint_index;  // failed before it opened: the next endpoint
  im.open = false;
  im.requests.clear();
  im.pong_deadline = -1;
  for (const auto& b : im.books.all()) {
    b->out_of_range = false;
    im.books.cancel_retry(*b);
    if (!b->refused) im.set_state(*b, BookState::kStale, StateReason::kDisconnected, sink);
  }
  if (im.driving()) sink.open_connection(im.endpoint());
}

void BooksSession::on_http_response(std::uint64_t, std::string_view, int, std::string_view, std::int64_t now_ns,
                                    SessionSink&) {
  impl_->last_now_ns = now_ns;
}

void BooksSession::on_tick(std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  if (!im.driving() || !im.open) return;  // replay: the recording decides what came next
  im.books.run_due_retries(now_ns, [&](ChannelBook& b) {
    ++b.ob.counters().resyncs_requested;
    im.set_state(b, BookState::kResyncing, StateReason::kResubscribing, sink);
    im.resubscribe(b, now_ns, sink);
  });
  if (im.requests.overdue(now_ns)) return im.close(sink, "subscribe request not answered within ack_timeout");
  if (im.pong_deadline >= 0) {
    if (now_ns >= im.pong_deadline) im.close(sink, "no pong within pong_timeout");
    return;
  }
  if (now_ns - im.last_rx_ns >= im.config.ping_interval_ns) {
    sink.send_frame("ping");
    im.pong_deadline = deadline_after(now_ns, im.config.pong_timeout_ns);
  }
}

void BooksSession::on_frame(std::string_view text, std::int64_t now_ns, SessionSink& sink) {
  Impl& im = *impl_;
  im.last_now_ns = now_ns;
  im.last_rx_ns = now_ns;
  if (text == "pong") {
    im.pong_deadline = -1;
    return;
  }
  if (text.size() > im.config.max_frame_bytes)
    return im.bad(sink, FrameError::kTooLarge, "frame exceeds max_frame_bytes");
  im.frame.load(text);
  od::document doc;
  od::object obj;
  if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) || doc.get_object().get(obj)) {
    return im.bad(sink, FrameError::kNotJson, "not a JSON object");
  }
  Message m;
  if (!read_message(obj, m, im.raw)) {
    // A damaged book message: the book it names, when the fields before the damage said.
    if (m.has_arg && depth_of(m.channel) != 0 && !m.inst.empty()) im.lost_message(m.channel, m.inst, now_ns, sink);
    return im.bad(sink, FrameError::kUnexpectedShape, "not a book message or an answer as OKX documents them");
  }
  if (!m.event.empty()) return im.on_answer(m, now_ns, sink);
  if (m.has_arg && m.has_data) return im.on_book_message(m, now_ns, sink);
  if (m.has_arg && depth_of(m.channel) == 0) return;  // another channel's frame: not ours
  im.bad(sink, FrameError::kUnexpectedShape, "frame is neither a book message nor an answer");
}

}  // namespace obr::connectors::okx

static_assert(obr::connectors::VenueSession<obr::connectors::okx::BooksSession>);
