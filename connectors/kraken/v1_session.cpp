#include "connectors/kraken/v1_session.h"

#include <absl/container/flat_hash_map.h>
#include <simdjson.h>

#include <charconv>
#include <limits>

#include "connectors/kraken/book_set.h"
#include "connectors/protocol/frame_buffer.h"
#include "connectors/protocol/json_text.h"
#include "connectors/protocol/json_validator.h"

namespace obr::connectors::kraken {
namespace {

namespace od = simdjson::ondemand;
using book::BookState;
using detail::KrakenBook;
using detail::RawLevel;

// read_levels appends one side's [[price, volume, timestamp(, "r")], …] as raw text.
bool read_levels(od::value value, std::vector<RawLevel>& out) noexcept {
  od::array levels;
  if (value.get_array().get(levels)) return false;
  for (auto level_result : levels) {
    od::array level;
    if (level_result.get_array().get(level)) return false;
    std::string_view fields[2];
    std::size_t n = 0;
    for (auto field : level) {
      if (n < 2) {
        std::string_view token;
        if (field.raw_json_token().get(token)) return false;
        fields[n] = unquote(token);
        if (fields[n].empty()) return false;
      } else if (field.error()) {
        return false;  // a syntax error here would otherwise end the walk silently
      }
      ++n;  // timestamp and the republish flag are not part of the book
    }
    if (n < 3) return false;
    out.push_back(RawLevel{fields[0], fields[1]});  // capacity kept across messages
  }
  return true;
}

constexpr std::int32_t kNotABook = -1;   // a channel of another kind (trade, ticker, …)
constexpr std::int32_t kUntracked = -2;  // a book channel for a pair this session ignores

}  // namespace

struct V1Session::Impl : detail::BookSet {
  explicit Impl(const V1Config& c) : BookSet(c), config(c) {}

  V1Config config;
  od::parser parser;
  FrameBuffer frame{simdjson::SIMDJSON_PADDING};
  JsonValidator validator;                                   // control messages are validated whole first
  absl::flat_hash_map<std::int64_t, std::int32_t> channels;  // channelID -> book, kNotABook, kUntracked
  std::vector<RawLevel> bids, asks;
  std::string out;
  char detail_buf[192];  // a frame error's detail (error path; no allocation)
  std::int64_t next_req_id = 1;

  void send_subscription(std::string_view event, const std::vector<const KrakenBook*>& list, int depth,
                         SessionSink& sink) {
    out.clear();
    out += R"({"event":")";
    out += event;
    out += R"(","pair":[)";
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i) out.push_back(',');
      detail::append_json_string(out, list[i]->info.symbol);
    }
    out += R"(],"subscription":{"name":"book","depth":)";
    out += std::to_string(depth);
    out += R"(},"reqid":)";
    out += std::to_string(next_req_id++);
    out += '}';
    sink.send_frame(out);
  }

  void send_ping(SessionSink& sink) override {
    out = R"({"event":"ping","reqid":)" + std::to_string(next_req_id++) + "}";
    sink.send_frame(out);
  }
  void send_subscribe(const std::vector<const KrakenBook*>& list, SessionSink& sink) override {
    send_subscription("subscribe", list, config.depth, sink);
  }
  void send_resubscribe(const KrakenBook& b, SessionSink& sink) override {
    const std::vector<const KrakenBook*> one{&b};
    send_subscription("unsubscribe", one, b.info.depth, sink);
    send_subscription("subscribe", one, b.info.depth, sink);
  }

  // channel_for resolves a book channel from the pair named in the frame or the ack.
  std::int32_t channel_for(std::string_view channel_name, std::string_view pair) {
    if (channel_name.substr(0, 5) != "book-") return kNotABook;
    KrakenBook* b = find(pair);
    if (b == nullptr) {
      if (!config.track_any_symbol || pair.empty()) return kUntracked;
      b = &track(pair);
    }
    return static_cast<std::int32_t>(b->id);
  }

  // on_book_frame: a channel array (book snapshot or update, or another channel's data).
  void on_book_frame(od::document& doc, std::int64_t recv_ns, SessionSink& sink, V1Session& self);
  // What one book message held besides its levels (in `bids`, `asks`).
  struct BookFrame {
    bool shape_ok = true, not_json = false, snapshot = false, update = false, has_checksum = false;
    std::uint64_t checksum = 0;
  };
  // read_book_frame parses a channel array into `f`, `bids` and `asks`. The book it is for,
  // or nullptr when nothing more is to be done (another channel's data, or an error
  // already reported).
  KrakenBook* read_book_frame(od::document& doc, BookFrame& f, SessionSink& sink, V1Session& self);
  // read_book_part reads one {"as"/"bs"/"a"/"b"/"c": …} object of a book message.
  bool read_book_part(od::object& part, BookFrame& f);
  // apply_book_frame applies a book message to its book and checks it.
  void apply_book_frame(KrakenBook& b, const BookFrame& f, std::int64_t recv_ns, SessionSink& sink, V1Session& self);
  void bad(V1Session& self, SessionSink& sink, FrameError e, std::string_view detail) {
    ++self.malformed_;
    sink.frame_error(e, detail);
  }
  void on_event(od::object& obj, SessionSink& sink, V1Session& self);
};

V1Session::V1Session(const V1Config& config) : impl_(std::make_unique<Impl>(config)) {}
V1Session::~V1Session() = default;

std::size_t V1Session::book_count() const noexcept { return impl_->size(); }
const book::OrderBook& V1Session::book(BookId id) const { return impl_->at(id).ob; }
const BookInfo& V1Session::info(BookId id) const { return impl_->at(id).info; }

void V1Session::subscribe(const std::vector<std::string>& pairs, SessionSink& sink) {
  impl_->subscribe_books(pairs, sink);
}

void V1Session::ping(SessionSink& sink) { impl_->send_ping(sink); }

void V1Session::start(std::int64_t now_ns, SessionSink& sink) { impl_->start(now_ns, sink); }

absl::Status V1Session::subscribe(const std::vector<std::string>& pairs, std::int64_t now_ns, SessionSink& sink) {
  (void)now_ns;
  if (absl::Status st = connectors::check_symbols("kraken", pairs); !st.ok()) return st;
  impl_->subscribe_books(pairs, sink);
  return absl::OkStatus();
}

void V1Session::on_connected(std::int64_t now_ns, SessionSink& sink) {
  impl_->channels.clear();  // channel IDs belong to a connection
  impl_->connected(now_ns, sink);
}
void V1Session::on_connected(SessionSink& sink) { on_connected(0, sink); }

void V1Session::on_disconnected(std::int64_t now_ns, SessionSink& sink) { impl_->disconnected(now_ns, sink); }
void V1Session::on_disconnected(SessionSink& sink) { impl_->disconnected(0, sink); }

void V1Session::on_tick(std::int64_t now_ns, SessionSink& sink) { impl_->tick(now_ns, sink); }

BookReport V1Session::report(BookId id) const {
  const KrakenBook& b = impl_->at(id);
  return BookReport{.symbol = b.info.symbol, .book = &b.ob, .depth = b.info.depth};
}

void V1Session::on_frame(std::string_view frame, std::int64_t recv_ns, SessionSink& sink) {
  Impl& im = *impl_;
  if (frame.size() > im.config.max_frame_bytes) {
    ++malformed_;
    sink.frame_error(FrameError::kTooLarge, "frame exceeds max_frame_bytes");
    return;
  }
  im.frame.load(frame);
  od::document doc;
  od::json_type type;
  if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) || doc.type().get(type)) {
    ++malformed_;
    sink.frame_error(FrameError::kNotJson, "not JSON");
    return;
  }
  if (type == od::json_type::array) return im.on_book_frame(doc, recv_ns, sink, *this);
  // Events are read with fallbacks: validate them whole first (json_validator.h).
  if (type == od::json_type::object && !im.validator.valid(im.frame)) {
    ++malformed_;
    sink.frame_error(FrameError::kNotJson, "event object is not valid JSON");
    return;
  }
  od::object obj;
  if (type != od::json_type::object || doc.get_object().get(obj)) {
    ++malformed_;
    sink.frame_error(FrameError::kUnexpectedShape, "neither a channel array nor an event object");
    return;
  }
  im.on_event(obj, sink, *this);
}

void V1Session::Impl::on_book_frame(od::document& doc, std::int64_t recv_ns, SessionSink& sink, V1Session& self) {
  BookFrame f;
  if (KrakenBook* b = read_book_frame(doc, f, sink, self)) apply_book_frame(*b, f, recv_ns, sink, self);
}

KrakenBook* V1Session::Impl::read_book_frame(od::document& doc, BookFrame& f, SessionSink& sink, V1Session& self) {
  auto fail_with = [&](FrameError e, std::string_view detail) -> KrakenBook* {
    bad(self, sink, e, detail);
    return nullptr;
  };
  // One pass reads the channelID first; a channel seen for the first time without its ack
  // is resolved from the last two strings (channel name, pair) and the frame parsed again.
  std::string_view strings[2];  // the last two strings seen: channel name, pair
  std::size_t string_count = 0;
  std::int32_t target = kUntracked;
  std::int64_t new_channel = 0;
  for (int pass = 0; pass < 2; ++pass) {
    od::array arr;
    if (doc.get_array().get(arr)) return fail_with(FrameError::kNotJson, "channel array is not valid JSON");
    bids.clear();
    asks.clear();
    f = BookFrame{};
    string_count = 0;
    bool resolved = false;
    std::size_t index = 0;
    for (auto element_result : arr) {
      od::value element;
      if (element_result.get(element)) {
        f.shape_ok = false;
        f.not_json = true;  // On Demand validates as it goes: a truncated or broken frame
        break;
      }
      if (index++ == 0) {
        std::int64_t channel_id = 0;
        if (const auto err = element.get_int64().get(channel_id)) {
          if (err == simdjson::INCORRECT_TYPE) {
            return fail_with(FrameError::kUnexpectedShape, "channel message without a numeric channelID first");
          }
          return fail_with(FrameError::kNotJson, "channel array is not valid JSON");
        }
        if (auto it = channels.find(channel_id); it != channels.end()) {
          target = it->second;
          resolved = true;
          if (target == kNotABook) return nullptr;  // trade, ticker, spread, ohlc: not ours
        } else {
          target = kUntracked;
          resolved = false;
          new_channel = channel_id;  // registered once the pair is known (below)
        }
        continue;
      }
      od::object part;
      if (resolved && element.get_object().get(part) == simdjson::SUCCESS) {
        if (!read_book_part(part, f)) break;
        continue;
      }
      std::string_view str;
      if (element.get_string().get(str) == simdjson::SUCCESS) strings[string_count++ % 2] = str;
    }
    const std::string_view name = string_count >= 2 ? strings[string_count % 2] : std::string_view();
    const std::string_view pair = string_count >= 1 ? strings[(string_count + 1) % 2] : std::string_view();
    if (resolved) {
      if (target == kUntracked) return fail_with(FrameError::kUnknownSymbol, "book channel of an untracked pair");
      if (!pair.empty() && pair != at(static_cast<BookId>(target)).info.symbol) {
        return fail_with(FrameError::kUnexpectedShape, "book message pair does not match its channel");
      }
      return &at(static_cast<BookId>(target));
    }
    if (!f.shape_ok) {
      return fail_with(f.not_json ? FrameError::kNotJson : FrameError::kUnexpectedShape, "channel array");
    }
    target = channel_for(name, pair);
    channels.emplace(new_channel, target);
    if (target == kNotABook) return nullptr;
    if (target == kUntracked) {
      return fail_with(FrameError::kUnknownSymbol, pair.empty() ? std::string_view("(empty pair)") : pair);
    }
    doc.rewind();
  }
  return fail_with(FrameError::kUnexpectedShape, "channel array");
}

bool V1Session::Impl::read_book_part(od::object& part, BookFrame& f) {
  for (auto field : part) {
    std::string_view k;
    od::value v;
    if (field.unescaped_key().get(k) || field.value().get(v)) {
      f.shape_ok = false;
      return false;
    }
    if (k == "as" || k == "bs") {
      f.snapshot = true;
      f.shape_ok = f.shape_ok && read_levels(v, k[0] == 'a' ? asks : bids);
    } else if (k == "a" || k == "b") {
      f.update = true;
      f.shape_ok = f.shape_ok && read_levels(v, k[0] == 'a' ? asks : bids);
    } else if (k == "c") {
      const std::string_view digits = unquote(v.raw_json_token());
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), f.checksum);
      f.has_checksum = ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() &&
                       f.checksum <= std::numeric_limits<std::uint32_t>::max();
      f.shape_ok = f.shape_ok && f.has_checksum;
    }
  }
  return f.shape_ok;
}

void V1Session::Impl::apply_book_frame(KrakenBook& b, const BookFrame& f, std::int64_t recv_ns, SessionSink& sink,
                                       V1Session& self) {
  if (!f.shape_ok || f.snapshot == f.update || (f.update && !f.has_checksum)) {
    // A book message that cannot be read means a lost update: the book cannot be trusted
    // (docs/venues/kraken.md "Malformed frames").
    if (f.snapshot || b.ob.state() == BookState::kLive) fail(b, StateReason::kMalformed, recv_ns, sink);
    if (f.not_json) return bad(self, sink, FrameError::kNotJson, "book message is not valid JSON");
    return bad(self, sink, FrameError::kUnexpectedShape,
               "book message: levels or checksum missing or not as specified");
  }
  if (f.snapshot) {
    // v1 snapshots carry no checksum: the book is live from here and checked by every update
    // (docs/venues/kraken.md "v1 messages").
    if (const detail::LevelsResult r = load_snapshot(b, bids, asks); !r.ok()) [[unlikely]] {
      const Rejection rejected = reject_levels(b, r, true, recv_ns, detail_buf, sink);
      return bad(self, sink, rejected.error, rejected.detail);
    }
    b.crc.invalidate();
    b.subscribe_pending = false;
    set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);
    sink.book_updated(b.id, b.info.symbol, b.ob, true);
    return;
  }
  if (b.ob.state() != BookState::kLive) return;  // after a failure: wait for a snapshot
  const std::uint64_t top_before = b.ob.top_version();
  if (const detail::LevelsResult r = apply_update(b, bids, asks); !r.ok()) [[unlikely]] {
    const Rejection rejected = reject_levels(b, r, false, recv_ns, detail_buf, sink);
    return bad(self, sink, rejected.error, rejected.detail);
  }
  check(b, f.checksum, false, recv_ns, sink);
  sink.book_updated(b.id, b.info.symbol, b.ob, b.ob.top_version() != top_before);
}

void V1Session::Impl::on_event(od::object& obj, SessionSink& sink, V1Session& self) {
  auto bad = [&](FrameError e, std::string_view detail) {
    ++self.malformed_;
    sink.frame_error(e, detail);
  };
  std::string_view event;
  if (obj.find_field_unordered("event").get_string().get(event)) {
    return bad(FrameError::kUnexpectedShape, "object without event");
  }
  if (event == "heartbeat") {
    ++self.heartbeats_;
    return;
  }
  if (event == "pong") return;
  if (event == "systemStatus") {
    std::string_view status;
    if (obj.find_field_unordered("status").get_string().get(status))
      return bad(FrameError::kUnexpectedShape, "systemStatus");
    on_venue_status(status, sink);
    return;
  }
  if (event == "error") {
    std::string_view message;
    if (obj.find_field_unordered("errorMessage").get_string().get(message)) message = "error event";
    sink.venue_error("", message);
    return;
  }
  if (event != "subscriptionStatus") return;
  std::string_view status;
  if (obj.find_field_unordered("status").get_string().get(status)) {
    return bad(FrameError::kUnexpectedShape, "subscriptionStatus without status");
  }
  std::string pair;
  {
    std::string_view p;
    if (obj.find_field_unordered("pair").get_string().get(p) == simdjson::SUCCESS) pair = std::string(p);
  }
  if (status == "error") {
    std::string_view message;
    if (obj.find_field_unordered("errorMessage").get_string().get(message)) message = "subscription refused";
    sink.venue_error(pair, message);
    for (auto& b : all()) {
      if (b->subscribe_pending && (pair.empty() || b->info.symbol == pair)) {
        b->subscribe_pending = false;
        set_state(*b, BookState::kHalted, StateReason::kSubscribeRefused, sink);
      }
    }
    return;
  }
  std::string channel_name;
  {
    std::string_view n;
    if (obj.find_field_unordered("channelName").get_string().get(n) == simdjson::SUCCESS) channel_name = std::string(n);
  }
  od::object subscription;
  std::string_view name;
  std::int64_t depth = 0;
  bool has_depth = false;
  if (obj.find_field_unordered("subscription").get_object().get(subscription) == simdjson::SUCCESS) {
    if (subscription.find_field_unordered("name").get_string().get(name) || name != "book") return;
    has_depth = subscription.find_field_unordered("depth").get_int64().get(depth) == simdjson::SUCCESS;
  } else if (channel_name.substr(0, 5) != "book-") {
    return;
  }
  if (pair.empty()) return bad(FrameError::kUnexpectedShape, "book subscriptionStatus without pair");
  if (has_depth && !is_book_depth(depth)) {
    return bad(FrameError::kUnexpectedShape, "subscriptionStatus depth is not " OBR_KRAKEN_BOOK_DEPTHS);
  }
  if (channel_name.empty()) channel_name = "book-";
  const std::int32_t target = channel_for(channel_name, pair);
  if (target < 0) return;
  std::int64_t channel_id = 0;
  KrakenBook& b = at(static_cast<BookId>(target));
  if (status == "subscribed") {
    if (obj.find_field_unordered("channelID").get_int64().get(channel_id) == simdjson::SUCCESS) {
      channels[channel_id] = target;
    }
    if (has_depth && config.depth_from_ack) {
      b.info.depth = static_cast<int>(depth);
      b.ob.set_depth_limit(static_cast<std::size_t>(depth));
    }
    set_state(b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
  } else if (status == "unsubscribed" && b.ob.state() != BookState::kResyncing) {
    set_state(b, BookState::kStale, StateReason::kUnsubscribed, sink);
  }
}

}  // namespace obr::connectors::kraken

static_assert(obr::connectors::VenueSession<obr::connectors::kraken::V1Session>);
