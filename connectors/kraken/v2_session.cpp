#include "connectors/kraken/v2_session.h"

#include <absl/container/flat_hash_map.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "book/decimal.h"
#include "connectors/kraken/book_set.h"
#include "connectors/kraken/v2_book_frame.h"
#include "connectors/protocol/frame_buffer.h"
#include "connectors/protocol/json_text.h"
#include "connectors/protocol/json_validator.h"

namespace obr::connectors::kraken {
namespace {

namespace od = simdjson::ondemand;
using book::BookState;
using detail::KrakenBook;
using detail::RawLevel;

// read_levels collects one side's [{"price":…,"qty":…}] as raw number tokens.
// A side with no changes may be absent (`absent` set). Kraken sends both sides in practice,
// and a syntax error met while looking for the key can also end in NO_SUCH_FIELD, so the
// caller validates the frame whole before reading on (json_validator.h; found by fuzzing).
bool read_levels(od::object& entry, std::string_view key, std::vector<RawLevel>& out, bool& absent) noexcept {
  out.clear();
  od::array arr;
  const auto err = entry.find_field_unordered(key).get_array().get(arr);
  absent = err == simdjson::NO_SUCH_FIELD;
  if (absent) return true;
  if (err) return false;
  // A syntax error inside the array can end the range-for below without yielding it,
  // leaving the entry in an error state: count the elements first (a structural scan that
  // reports such an error), then expect exactly that many (found by fuzzing).
  std::size_t expected = 0, seen = 0;
  if (arr.count_elements().get(expected)) return false;
  for (auto element : arr) {
    ++seen;
    od::object level;
    if (element.get_object().get(level)) return false;
    std::string_view p, q;
    if (level.find_field_unordered("price").raw_json_token().get(p)) return false;
    if (level.find_field_unordered("qty").raw_json_token().get(q)) return false;
    out.push_back(RawLevel{trim_token(p), trim_token(q)});  // capacity kept across messages
  }
  return seen == expected;
}

// Debian's Abseil has its own string_view type; lookups go through it (no allocation).
absl::string_view key(std::string_view s) noexcept { return absl::string_view(s.data(), s.size()); }

}  // namespace

struct V2Session::Impl : detail::BookSet {
  explicit Impl(const V2Config& c) : BookSet(c), config(c) {}

  V2Config config;
  od::parser parser;
  FrameBuffer frame{simdjson::SIMDJSON_PADDING};
  JsonValidator validator;                                          // control messages are validated whole first
  absl::flat_hash_map<std::string, std::pair<int, int>> precision;  // from the instrument channel
  std::vector<RawLevel> bids, asks;
  std::string out;  // outbound frame under construction
  std::int64_t next_req_id = 1;
  char detail_buf[192];  // a frame error's detail (error path; no allocation)

  // track_v2 applies the instrument channel's precision to a newly tracked book.
  KrakenBook& track_v2(std::string_view symbol) {
    KrakenBook& b = track(symbol);
    if (!b.info.precision_from_instrument) {
      if (auto p = precision.find(key(symbol)); p != precision.end()) {
        b.info.precision_from_instrument = b.ob.set_scales(p->second.first, p->second.second);
        b.scales_known = b.info.precision_from_instrument;
      }
    }
    return b;
  }

  void send_subscription(std::string_view method, const std::vector<const KrakenBook*>& list, int depth, bool snapshot,
                         SessionSink& sink) {
    out.clear();
    out += R"({"method":")";
    out += method;
    out += R"(","params":{"channel":"book","symbol":[)";
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i) out.push_back(',');
      detail::append_json_string(out, list[i]->info.symbol);
    }
    out += R"(],"depth":)";
    out += std::to_string(depth);
    if (snapshot) out += R"(,"snapshot":true)";
    out += R"(},"req_id":)";
    out += std::to_string(next_req_id++);
    out += '}';
    sink.send_frame(out);
  }

  // book_for: the tracked book of `symbol`, tracking it when the session takes any symbol;
  // nullptr for an unknown symbol.
  KrakenBook* book_for(std::string_view symbol) {
    KrakenBook* b = find(symbol);
    if (b == nullptr && config.track_any_symbol) b = &track_v2(symbol);
    return b;
  }

  // on_entry applies one book entry whose levels are in `bids` and `asks`: a snapshot
  // replaces the book, an update applies to a live book; then the checksum is checked.
  // Returns true, or false when a level could not be read at the book's scales (the book
  // has then failed or halted: reject_levels) with the frame error in `rejected`.
  bool on_entry(KrakenBook& b, bool snapshot, std::uint64_t wire_checksum, std::int64_t recv_ns, SessionSink& sink,
                Rejection& rejected) {
    book::OrderBook& ob = b.ob;
    if (snapshot) {
      if (const detail::LevelsResult r = load_snapshot(b, bids, asks); !r.ok()) [[unlikely]] {
        rejected = reject_levels(b, r, true, recv_ns, detail_buf, sink);
        return false;
      }
      b.subscribe_pending = false;
      check(b, wire_checksum, true, recv_ns, sink);
      sink.book_updated(b.id, b.info.symbol, ob, true);
      return true;
    }
    if (ob.state() != BookState::kLive) return true;  // after a failure: wait for a snapshot
    const std::uint64_t top_before = ob.top_version();
    if (const detail::LevelsResult r = apply_update(b, bids, asks); !r.ok()) [[unlikely]] {
      rejected = reject_levels(b, r, false, recv_ns, detail_buf, sink);
      return false;
    }
    check(b, wire_checksum, false, recv_ns, sink);
    sink.book_updated(b.id, b.info.symbol, ob, ob.top_version() != top_before);
    return true;
  }

  // Parts of on_frame, by message kind (v2_session.cpp, after on_frame).
  void on_book_message(od::object& obj, std::int64_t recv_ns, SessionSink& sink, V2Session& self);
  void on_instrument(od::object& obj, SessionSink& sink, V2Session& self);
  void on_method(od::object& obj, SessionSink& sink, V2Session& self);

  KrakenBook& track_for_subscribe(std::string_view symbol) override { return track_v2(symbol); }
  void send_ping(SessionSink& sink) override {
    out = R"({"method":"ping","req_id":)" + std::to_string(next_req_id++) + "}";
    sink.send_frame(out);
  }
  void send_subscribe(const std::vector<const KrakenBook*>& list, SessionSink& sink) override {
    send_subscription("subscribe", list, config.depth, true, sink);
  }
  // Unsubscribe echoing the depth, then subscribe (docs/venues/kraken.md "Resync of one book").
  void send_resubscribe(const KrakenBook& b, SessionSink& sink) override {
    const std::vector<const KrakenBook*> one{&b};
    send_subscription("unsubscribe", one, b.info.depth, false, sink);
    send_subscription("subscribe", one, b.info.depth, true, sink);
  }
};

V2Session::V2Session(const V2Config& config) : impl_(std::make_unique<Impl>(config)) {}
V2Session::~V2Session() = default;

std::size_t V2Session::book_count() const noexcept { return impl_->size(); }
const book::OrderBook& V2Session::book(BookId id) const { return impl_->at(id).ob; }
const V2BookInfo& V2Session::info(BookId id) const { return impl_->at(id).info; }

void V2Session::subscribe(const std::vector<std::string>& symbols, SessionSink& sink) {
  impl_->subscribe_books(symbols, sink);
}

void V2Session::ping(SessionSink& sink) { impl_->send_ping(sink); }

void V2Session::start(std::int64_t now_ns, SessionSink& sink) { impl_->start(now_ns, sink); }

absl::Status V2Session::subscribe(const std::vector<std::string>& symbols, std::int64_t now_ns, SessionSink& sink) {
  (void)now_ns;
  if (absl::Status st = connectors::check_symbols("kraken", symbols); !st.ok()) return st;
  impl_->subscribe_books(symbols, sink);
  return absl::OkStatus();
}

void V2Session::on_connected(std::int64_t now_ns, SessionSink& sink) { impl_->connected(now_ns, sink); }
void V2Session::on_connected(SessionSink& sink) { impl_->connected(0, sink); }

void V2Session::on_disconnected(std::int64_t now_ns, SessionSink& sink) { impl_->disconnected(now_ns, sink); }
void V2Session::on_disconnected(SessionSink& sink) { impl_->disconnected(0, sink); }

void V2Session::on_tick(std::int64_t now_ns, SessionSink& sink) { impl_->tick(now_ns, sink); }

BookReport V2Session::report(BookId id) const {
  const KrakenBook& b = impl_->at(id);
  return BookReport{.symbol = b.info.symbol, .book = &b.ob, .depth = b.info.depth};
}

void V2Session::on_frame(std::string_view frame, std::int64_t recv_ns, SessionSink& sink) {
  Impl& im = *impl_;
  if (frame.size() > im.config.max_frame_bytes) {
    ++malformed_;
    sink.frame_error(FrameError::kTooLarge, "frame exceeds max_frame_bytes");
    return;
  }
  im.frame.load(frame);
  auto bad = [&](FrameError e, std::string_view detail) {
    ++malformed_;
    sink.frame_error(e, detail);
  };

  // The compact frames Kraken sends are read by the strict scanner (v2_book_frame.h);
  // anything else, including every malformed frame, goes through simdjson below.
  if (im.config.compact_scanner) {
    const std::string_view text(im.frame.data(), im.frame.size());
    detail::CompactBookFrame compact;
    if (detail::scan_compact_book_frame(text, compact, im.bids, im.asks)) {
      KrakenBook* b = im.book_for(compact.symbol);
      if (b == nullptr) {
        return bad(FrameError::kUnknownSymbol, unknown_symbol_detail(compact.symbol));
      }
      if (Impl::Rejection r; !im.on_entry(*b, compact.snapshot, compact.checksum, recv_ns, sink, r)) {
        return bad(r.error, r.detail);
      }
      return;
    }
    if (detail::is_compact_heartbeat(text)) {
      ++heartbeats_;
      return;
    }
  }

  od::document doc;
  od::object obj;
  if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) || doc.get_object().get(obj)) {
    return bad(FrameError::kNotJson, "not a JSON object");
  }
  std::string_view channel;
  const auto channel_err = obj.find_field_unordered("channel").get_string().get(channel);
  // Everything but book data is read with fallbacks: validate it whole first (json_validator.h).
  if ((channel_err != simdjson::SUCCESS || (channel != "book" && channel != "heartbeat")) &&
      !im.validator.valid(im.frame)) {
    return bad(FrameError::kNotJson, "not valid JSON");
  }
  if (channel_err == simdjson::SUCCESS) {
    if (channel == "heartbeat") {
      ++heartbeats_;
      return;
    }
    if (channel == "book") return im.on_book_message(obj, recv_ns, sink, *this);
    if (channel == "status") {
      od::array data;
      if (obj.find_field_unordered("data").get_array().get(data)) return bad(FrameError::kUnexpectedShape, "status");
      for (auto item : data) {
        std::string_view system;
        if (item.find_field_unordered("system").get_string().get(system)) continue;
        im.on_venue_status(system, sink);
      }
      return;
    }
    if (channel == "instrument") return im.on_instrument(obj, sink, *this);
    return;  // other channels (trade, ticker, ...) are not ours
  }
  if (channel_err != simdjson::NO_SUCH_FIELD) return bad(FrameError::kUnexpectedShape, "channel is not a string");

  im.on_method(obj, sink, *this);
}

// on_book_message: a `book` channel message read with simdjson (the compact scanner
// declined it): every entry of `data` applied to its book and checked.
void V2Session::Impl::on_book_message(od::object& obj, std::int64_t recv_ns, SessionSink& sink, V2Session& self) {
  auto bad = [&](FrameError e, std::string_view detail) {
    ++self.malformed_;
    sink.frame_error(e, detail);
  };
  Impl& im = *this;
  std::string_view type;
  od::array data;
  if (obj.find_field_unordered("type").get_string().get(type) ||
      obj.find_field_unordered("data").get_array().get(data)) {
    return bad(FrameError::kUnexpectedShape, "book message without type/data");
  }
  const bool snapshot = type == "snapshot";
  if (!snapshot && type != "update") return bad(FrameError::kUnexpectedShape, "book message of unknown type");
  for (auto item : data) {
    od::object entry;
    std::string_view symbol;
    if (item.get_object().get(entry) || entry.find_field_unordered("symbol").get_string().get(symbol)) {
      return bad(FrameError::kUnexpectedShape, "book entry without symbol");
    }
    KrakenBook* b = im.book_for(symbol);
    if (b == nullptr) {
      return bad(FrameError::kUnknownSymbol, unknown_symbol_detail(symbol));
    }
    std::uint64_t wire_checksum = 0;
    bool no_bids = false, no_asks = false, not_json = false;
    bool levels_ok = read_levels(entry, "bids", im.bids, no_bids);
    if (levels_ok && no_bids && !im.validator.valid(im.frame)) levels_ok = false, not_json = true;
    levels_ok = levels_ok && read_levels(entry, "asks", im.asks, no_asks);
    if (levels_ok && no_asks && !no_bids && !im.validator.valid(im.frame)) levels_ok = false, not_json = true;
    if (!levels_ok || entry.find_field_unordered("checksum").get_uint64().get(wire_checksum)) {
      // The frame names this book and cannot be read: an update was lost
      // (docs/venues/kraken.md "Malformed frames").
      if (snapshot || b->ob.state() == BookState::kLive) im.fail(*b, StateReason::kMalformed, recv_ns, sink);
      if (not_json) return bad(FrameError::kNotJson, "book entry is not valid JSON");
      return bad(FrameError::kUnexpectedShape, "book entry without bids/asks/checksum");
    }
    if (Impl::Rejection r; !im.on_entry(*b, snapshot, wire_checksum, recv_ns, sink, r)) {
      return bad(r.error, r.detail);
    }
  }
  return;
}

// on_instrument: the instrument channel's pairs give books their precision.
void V2Session::Impl::on_instrument(od::object& obj, SessionSink& sink, V2Session& self) {
  auto bad = [&](FrameError e, std::string_view detail) {
    ++self.malformed_;
    sink.frame_error(e, detail);
  };
  Impl& im = *this;
  od::object data;
  od::array pairs;
  if (obj.find_field_unordered("data").get_object().get(data) ||
      data.find_field_unordered("pairs").get_array().get(pairs)) {
    return;  // instrument messages without pairs carry nothing for books
  }
  std::size_t skipped = 0;         // pairs unusable for a book's precision: reported once per frame
  std::string_view first_skipped;  // valid while the frame is (frame_error's detail allocates nothing)
  for (auto pair : pairs) {
    std::string_view symbol;
    std::int64_t pp = 0, qp = 0;
    if (pair.find_field_unordered("symbol").get_string().get(symbol) ||
        pair.find_field_unordered("price_precision").get_int64().get(pp) ||
        pair.find_field_unordered("qty_precision").get_int64().get(qp) || pp < 0 || qp < 0 || pp > book::kMaxScale ||
        qp > book::kMaxScale) {
      if (skipped++ == 0) first_skipped = symbol.empty() ? std::string_view("(no symbol)") : symbol;
      continue;
    }
    im.precision[std::string(symbol)] = {static_cast<int>(pp), static_cast<int>(qp)};
    if (KrakenBook* b = im.find(symbol)) {
      if (b->ob.set_scales(static_cast<int>(pp), static_cast<int>(qp))) {
        b->info.precision_from_instrument = true;
        b->scales_known = true;
      }
    }
  }
  if (skipped != 0) {
    char detail[192];
    const int n =
        std::snprintf(detail, sizeof detail,
                      "instrument: %zu pair(s) without a symbol, or with a price_precision or "
                      "qty_precision missing or outside 0..%d (first: %.*s); the other pairs were used",
                      skipped, book::kMaxScale, static_cast<int>(std::min<std::size_t>(first_skipped.size(), 32)),
                      first_skipped.data());
    if (n <= 0) return bad(FrameError::kUnexpectedShape, "instrument: pairs without a usable precision");
    return bad(FrameError::kUnexpectedShape,
               std::string_view(detail, std::min(static_cast<std::size_t>(n), sizeof detail - 1)));
  }
  return;
}

// on_method: a message without a channel: a subscribe/unsubscribe ack (success checked),
// a pong, or a method error.
void V2Session::Impl::on_method(od::object& obj, SessionSink& sink, V2Session& self) {
  auto bad = [&](FrameError e, std::string_view detail) {
    ++self.malformed_;
    sink.frame_error(e, detail);
  };
  Impl& im = *this;
  std::string_view method;
  if (obj.find_field_unordered("method").get_string().get(method)) {
    std::string_view error;
    if (obj.find_field_unordered("error").get_string().get(error) == simdjson::SUCCESS) {
      sink.venue_error("", error);
      return;
    }
    return bad(FrameError::kUnexpectedShape, "neither channel nor method");
  }
  if (method == "pong") return;
  if (method != "subscribe" && method != "unsubscribe") return;
  bool success = false;
  if (obj.find_field_unordered("success").get_bool().get(success)) {
    return bad(FrameError::kUnexpectedShape, "ack without success");
  }
  if (!success) {
    std::string_view error;
    if (obj.find_field_unordered("error").get_string().get(error)) error = "subscription refused";
    sink.venue_error("", error);
    if (method == "subscribe") {
      // The refusal carries no symbol: every book still waiting for its ack is refused
      // (docs/venues/kraken.md "Refused subscription").
      for (auto& b : im.all()) {
        if (b->subscribe_pending) {
          b->subscribe_pending = false;
          im.set_state(*b, BookState::kHalted, StateReason::kSubscribeRefused, sink);
        }
      }
    }
    return;
  }
  od::object result;
  std::string_view symbol;
  if (obj.find_field_unordered("result").get_object().get(result) ||
      result.find_field_unordered("symbol").get_string().get(symbol)) {
    return bad(FrameError::kUnexpectedShape, "ack without result.symbol");
  }
  std::string symbol_copy(symbol);  // control path; the next lookups may reuse the string buffer
  std::int64_t depth = 0;
  const bool has_depth = result.find_field_unordered("depth").get_int64().get(depth) == simdjson::SUCCESS;
  if (has_depth && !is_book_depth(depth)) {
    return bad(FrameError::kUnexpectedShape, "ack depth is not " OBR_KRAKEN_BOOK_DEPTHS);
  }
  KrakenBook* b = im.find(symbol_copy);
  if (b == nullptr) {
    if (!im.config.track_any_symbol) return;
    b = &im.track_v2(symbol_copy);
  }
  if (method == "subscribe") {
    if (has_depth && im.config.depth_from_ack) {
      b->info.depth = static_cast<int>(depth);
      b->ob.set_depth_limit(static_cast<std::size_t>(depth));
    }
    im.set_state(*b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
  } else if (b->ob.state() != BookState::kResyncing) {
    im.set_state(*b, BookState::kStale, StateReason::kUnsubscribed, sink);
  }
}

}  // namespace obr::connectors::kraken

static_assert(obr::connectors::VenueSession<obr::connectors::kraken::V2Session>);
