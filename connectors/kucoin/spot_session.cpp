// connectors/kucoin/spot_session.cpp — KuCoin spot level2 session (see spot_session.h).
//
// In order: wire helpers (RawChange, decimal places, query parameters, saturating_mul);
// the per-book and per-server state; SpotSession::Impl, in sections — connection (token, endpoint,
// subscriptions), calibration (REST snapshot, buffering, applying deltas by sequence,
// depth bound, retries); then the public API (subscribe, start, HTTP responses,
// connect/disconnect, ticks) and frame handling (on_frame, on_delta).
#include "connectors/kucoin/spot_session.h"

#include <absl/container/flat_hash_map.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "book/decimal.h"
#include "book/sequence_tracker.h"
#include "connectors/protocol/frame_buffer.h"
#include "connectors/protocol/json_validator.h"
#include "connectors/protocol/json_text.h"

namespace obr::connectors::kucoin {
namespace {

namespace od = simdjson::ondemand;
using book::BookState;
using book::Side;

constexpr std::string_view kSuccessCode = "200000";

absl::string_view key(std::string_view s) noexcept { return absl::string_view(s.data(), s.size()); }

// saturating_mul: v * m (m > 0), held at the ends of int64. Used where the product keeps
// its meaning there: a venue's interval in ms as ns (past int64, one that never ends), and a
// trusted-range bound in finer units (past int64, every price the book can hold lies on the
// same side of it).
std::int64_t saturating_mul(std::int64_t v, std::int64_t m) noexcept {
  std::int64_t out = 0;
  if (!__builtin_mul_overflow(v, m, &out)) return out;
  return v > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

bool parse_int64(std::string_view s, std::int64_t& out) noexcept {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// read_seq reads a sequence that may be a JSON integer or a string of digits.
bool read_seq(od::value v, std::int64_t& out) noexcept {
  std::int64_t n = 0;
  const auto err = v.get_int64().get(n);
  if (err == simdjson::SUCCESS) {
    out = n;
    return true;
  }
  if (err != simdjson::INCORRECT_TYPE) return false;
  std::string_view s;
  return v.get_string().get(s) == simdjson::SUCCESS && parse_int64(s, out);
}

// One change as the wire spelled it.
struct RawChange {
  Side side;
  std::string_view price;
  std::string_view size;
  std::int64_t seq;  // -1 when the entry has no sequence (REST snapshot levels)
};

// read_changes appends [[price, size(, sequence)], …] for one side.
bool read_changes(od::value v, Side side, bool with_seq, std::vector<RawChange>& out) noexcept {
  od::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto entry_result : arr) {
    od::array entry;
    if (entry_result.get_array().get(entry)) return false;
    RawChange c{side, {}, {}, -1};
    std::size_t n = 0;
    for (auto field_result : entry) {
      od::value field;
      if (field_result.get(field)) return false;
      if (n < 2) {
        const std::string_view text = unquote(field.raw_json_token());
        if (text.empty()) return false;
        (n == 0 ? c.price : c.size) = text;
      } else if (n == 2 && with_seq) {
        if (!read_seq(field, c.seq)) return false;
      }
      ++n;
    }
    if (n < (with_seq ? 3u : 2u)) return false;
    out.push_back(c);
  }
  return true;
}

int max_places(const std::vector<RawChange>& changes, bool price) {
  int p = 0;
  for (const RawChange& c : changes) p = std::max(p, book::decimal_places(price ? c.price : c.size));
  return p;
}

std::string query_param(std::string_view url, std::string_view name) {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = url.substr(q + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    if (kv.size() > name.size() && kv.substr(0, name.size()) == name && kv[name.size()] == '=') {
      return std::string(kv.substr(name.size() + 1));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

// Buffered deltas keep their own copy of the text (the frame buffer is reused).
struct StoredChange {
  Side side;
  std::uint32_t price_off, price_len, size_off, size_len;
  std::int64_t seq;
};
struct StoredDelta {
  std::int64_t start, end;
  std::uint32_t first, count;
};

struct SpotBook {
  SpotBook(BookId book_id, std::string sym)
      : id(book_id), symbol(std::move(sym)), ob(book::BookConfig{.price_scale = 0, .qty_scale = 0, .depth_limit = 0,
                                                                 .reserve_levels = 0}) {}
  BookId id;
  std::string symbol;
  book::OrderBook ob;
  book::SequenceTracker seq;
  // calibration buffer
  std::string arena;
  std::vector<StoredChange> changes;
  std::vector<StoredDelta> deltas;
  bool refused = false;
  std::uint64_t snapshot_request = 0;  // id of the snapshot in flight; 0 none
  bool snapshot_wanted = false;  // a snapshot is needed once a delta is buffered
  int attempts = 0;
  std::int64_t retry_at_ns = -1;  // a scheduled snapshot request
  std::uint64_t stale = 0;
  std::uint64_t overflows = 0;
  int snapshot_limit = 0;        // levels per side of the last snapshot's endpoint; 0 full
  bool bid_bounded = false, ask_bounded = false;
  std::int64_t bid_floor = 0, ask_ceiling = 0;

  std::string_view text(std::uint32_t off, std::uint32_t len) const { return {arena.data() + off, len}; }
  void clear_buffer() {
    arena.clear();
    changes.clear();
    deltas.clear();
  }
};

struct Server {
  std::string endpoint;
  std::int64_t ping_interval_ns = 18'000'000'000;
  std::int64_t ping_timeout_ns = 10'000'000'000;
};

struct PendingAck {
  std::uint64_t id;
  std::int64_t deadline_ns;
  std::vector<BookId> books;
};

}  // namespace

std::string_view to_string(ConnState s) noexcept {
  switch (s) {
    case ConnState::kIdle: return "idle";
    case ConnState::kFetchingToken: return "fetching_token";
    case ConnState::kConnecting: return "connecting";
    case ConnState::kAwaitingWelcome: return "awaiting_welcome";
    case ConnState::kReady: return "ready";
  }
  return "unknown";
}

struct SpotSession::Impl {
  explicit Impl(const SpotConfig& c) : config(c) {}

  SpotConfig config;
  od::parser parser;
  FrameBuffer frame{simdjson::SIMDJSON_PADDING};
  JsonValidator validator;  // control messages are validated whole first
  std::vector<std::unique_ptr<SpotBook>> books;
  absl::flat_hash_map<std::string, BookId> by_symbol;
  std::vector<RawChange> raw;  // the current message's changes
  std::string out;
  std::uint64_t malformed = 0;

  // connection
  ConnState conn = ConnState::kIdle;
  std::uint64_t next_id = 1;
  std::uint64_t token_request = 0;
  std::int64_t token_retry_at = -1;
  std::int64_t token_backoff_ns = 0;
  std::vector<Server> servers;
  std::size_t server_index = 0;
  std::string token;
  std::string connect_id;
  std::uint64_t connects = 0;
  std::int64_t connected_at = 0;
  std::int64_t welcome_deadline = -1;
  std::int64_t next_ping_at = -1;
  std::int64_t pong_deadline = -1;
  std::string ping_id;
  std::vector<PendingAck> acks;
  bool closing = false;

  bool driving() const { return config.drive_connection; }

  SpotBook* find(std::string_view symbol) {
    auto it = by_symbol.find(key(symbol));
    return it == by_symbol.end() ? nullptr : books[it->second].get();
  }
  SpotBook& track(std::string_view symbol) {
    if (SpotBook* b = find(symbol)) return *b;
    const auto id = static_cast<BookId>(books.size());
    books.push_back(std::make_unique<SpotBook>(id, std::string(symbol)));
    by_symbol.emplace(std::string(symbol), id);
    return *books.back();
  }
  void set_state(SpotBook& b, BookState to, StateReason why, SessionSink& sink) {
    const BookState from = b.ob.state();
    if (from == to) return;
    b.ob.set_state(to);
    sink.book_state_changed(b.id, b.symbol, from, to, why);
  }
  void bad(SessionSink& sink, FrameError e, std::string_view detail) {
    ++malformed;
    sink.frame_error(e, detail);
  }
  void close(SessionSink& sink, std::string_view why) {
    if (closing) return;
    closing = true;
    sink.close_connection(why);
  }

  // ---- connection ----------------------------------------------------------------
  void request_token(SessionSink& sink) {
    conn = ConnState::kFetchingToken;
    token.clear();  // never reuse a token
    token_retry_at = -1;
    HttpRequest r;
    r.id = token_request = next_id++;
    r.method = "POST";
    r.url = config.rest_base + "/api/v1/bullet-public";
    sink.http_request(r);
  }

  void token_failed(std::int64_t now_ns, SessionSink& sink, std::string_view why) {
    sink.venue_error("", why);
    token_backoff_ns = token_backoff_ns == 0 ? config.token_retry_ns
                                             : std::min(token_backoff_ns * 2, config.token_retry_max_ns);
    token_retry_at = deadline_after(now_ns, token_backoff_ns);
    conn = ConnState::kFetchingToken;
  }

  void on_token(std::string_view body, int status, std::int64_t now_ns, SessionSink& sink) {
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

  void send_subscriptions(const std::vector<SpotBook*>& list, std::int64_t now_ns, SessionSink& sink) {
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

  // ---- calibration ---------------------------------------------------------------
  void request_snapshot(SpotBook& b, SessionSink& sink) {
    HttpRequest r;
    r.id = b.snapshot_request = next_id++;
    r.method = "GET";
    b.retry_at_ns = -1;
    b.snapshot_wanted = false;
    if (!config.credentials.empty()) {
      const std::string endpoint = "/api/v3/market/orderbook/level2?symbol=" + b.symbol;
      r.url = config.rest_base + endpoint;
      // KC-API-TIMESTAMP is wall-clock ms; the sans-I/O session uses the caller's clock.
      r.headers = sign_headers(config.credentials, std::to_string(last_now_ns / 1'000'000 + config.clock_ms_offset),
                               "GET", endpoint, "");
    } else {
      r.url = config.rest_base + "/api/v1/market/orderbook/level2_100?symbol=" + b.symbol;
    }
    sink.http_request(r);
  }

  // restart_calibration: the book is no longer trusted; buffer from now and re-snapshot.
  void restart(SpotBook& b, StateReason why, SessionSink& sink) {
    ++b.ob.counters().resyncs_requested;
    b.clear_buffer();
    b.seq.clear();
    b.attempts = 0;
    b.snapshot_request = 0;
    b.snapshot_wanted = true;  // requested when the next delta is buffered
    set_state(b, BookState::kResyncing, why, sink);
  }

  void gap(SpotBook& b, StateReason why, SessionSink& sink) {
    ++b.ob.counters().checks_failed;
    set_state(b, BookState::kInvalid, why, sink);
    restart(b, why, sink);
  }

  // The buffer's texts are addressed by 32-bit offsets: it restarts before it could pass
  // this many bytes (a frame is far smaller: max_frame_bytes).
  static constexpr std::size_t kMaxBufferedBytes = std::size_t{1} << 30;

  void buffer(SpotBook& b, std::int64_t start, std::int64_t end, SessionSink& sink) {
    std::size_t incoming = 0;
    for (const RawChange& c : raw) incoming += c.price.size() + c.size.size();
    if (b.deltas.size() >= config.max_buffered_deltas || b.arena.size() + incoming > kMaxBufferedBytes) {
      ++b.overflows;
      ++b.ob.counters().resyncs_requested;
      b.clear_buffer();
      b.snapshot_request = 0;  // the snapshot in flight can no longer line up
      b.snapshot_wanted = true;
      set_state(b, BookState::kResyncing, StateReason::kBufferOverflow, sink);
      sink.venue_error(b.symbol, "calibration buffer overflow: restarted");
    }
    StoredDelta d{start, end, static_cast<std::uint32_t>(b.changes.size()), static_cast<std::uint32_t>(raw.size())};
    for (const RawChange& c : raw) {
      StoredChange s{c.side, static_cast<std::uint32_t>(b.arena.size()), static_cast<std::uint32_t>(c.price.size()),
                     0, static_cast<std::uint32_t>(c.size.size()), c.seq};
      b.arena.append(c.price);
      s.size_off = static_cast<std::uint32_t>(b.arena.size());
      b.arena.append(c.size);
      b.changes.push_back(s);
    }
    b.deltas.push_back(d);
    if (b.snapshot_wanted && b.snapshot_request == 0 && b.retry_at_ns < 0) request_snapshot(b, sink);
  }

  // parse_level parses a change at the book's scales, refining them when the venue sends
  // more decimals than seen so far (KuCoin strings vary: "5", "242.649").
  bool parse_level(SpotBook& b, std::string_view price, std::string_view size, std::int64_t& p, std::int64_t& q) {
    book::DecimalResult pr = book::parse_decimal(price, b.ob.price_scale());
    book::DecimalResult qr = book::parse_decimal(size, b.ob.qty_scale());
    if (pr.error == book::DecimalError::kTooManyDecimals || qr.error == book::DecimalError::kTooManyDecimals) {
      const int old_ps = b.ob.price_scale();
      const int ps = std::max(old_ps, book::decimal_places(price));
      const int qs = std::max(b.ob.qty_scale(), book::decimal_places(size));
      if (!b.ob.rescale(ps, qs)) return false;
      b.bid_floor = saturating_mul(b.bid_floor, book::pow10(ps - old_ps));  // the trusted range in the new units
      b.ask_ceiling = saturating_mul(b.ask_ceiling, book::pow10(ps - old_ps));
      pr = book::parse_decimal(price, b.ob.price_scale());
      qr = book::parse_decimal(size, b.ob.qty_scale());
    }
    if (!pr.ok() || !qr.ok()) return false;
    p = pr.value;
    q = qr.value;
    return true;
  }

  // apply_change: per-entry rules (KC-docs 2.4 step 5).
  bool apply_change(SpotBook& b, Side side, std::string_view price, std::string_view size, std::int64_t seq,
                    std::int64_t floor_seq) {
    if (seq >= 0 && seq <= floor_seq) return true;  // already in the book
    std::int64_t p = 0, q = 0;
    if (!parse_level(b, price, size, p, q)) return false;
    if (p == 0) return true;  // price "0": only the sequence advances
    b.ob.apply(side, p, q);   // size 0 deletes
    ++b.ob.counters().levels_applied;
    return true;
  }

  // apply_delta classifies one delta against the book's sequence and applies it.
  // Returns false on a gap (the caller decides what a gap means at that point).
  enum class Outcome { kApplied, kStale, kGap, kBad };
  template <typename Changes>
  Outcome apply_delta(SpotBook& b, std::int64_t start, std::int64_t end, const Changes& for_each) {
    const std::int64_t floor_seq = b.seq.last();
    switch (b.seq.check_range(start, end)) {
      case book::SeqCheck::kStale:
        ++b.stale;
        return Outcome::kStale;
      case book::SeqCheck::kGap:
        return Outcome::kGap;
      case book::SeqCheck::kInOrder:
        break;
    }
    if (!for_each(floor_seq)) return Outcome::kBad;
    ++b.ob.counters().updates;
    ++b.ob.counters().checks_passed;
    if (b.ob.is_crossed()) ++b.ob.counters().crossed;
    return Outcome::kApplied;
  }

  void on_snapshot(SpotBook& b, std::string_view url, int status, std::string_view body, std::int64_t now_ns,
                   SessionSink& sink) {
    b.snapshot_request = 0;
    auto failed = [&](std::string_view why) {
      sink.venue_error(b.symbol, why);
      retry_snapshot(b, now_ns, sink);
    };
    if (status != 200) return failed("order book snapshot: HTTP error");
    frame.load(body);
    od::document doc;
    od::object root, data;
    std::string_view code;
    if (!validator.valid(frame) || parser.iterate(frame.data(), frame.size(), frame.capacity()).get(doc) ||
        doc.get_object().get(root) || root.find_field_unordered("code").get_string().get(code)) {
      ++malformed;
      sink.frame_error(FrameError::kNotJson, "order book snapshot is not the documented JSON");
      return retry_snapshot(b, now_ns, sink);
    }
    if (code != kSuccessCode) return failed("order book snapshot refused (code is not 200000)");
    raw.clear();
    std::int64_t sequence = 0;
    od::value seq_value, bids_value, asks_value;
    if (root.find_field_unordered("data").get_object().get(data) ||
        data.find_field_unordered("sequence").get(seq_value) || !read_seq(seq_value, sequence) ||
        data.find_field_unordered("bids").get(bids_value) || !read_changes(bids_value, Side::kBid, false, raw) ||
        data.find_field_unordered("asks").get(asks_value) || !read_changes(asks_value, Side::kAsk, false, raw)) {
      ++malformed;
      sink.frame_error(FrameError::kUnexpectedShape, "order book snapshot without sequence/bids/asks");
      return retry_snapshot(b, now_ns, sink);
    }
    // Scales: the finest of the snapshot and the buffered deltas.
    int ps = max_places(raw, true), qs = max_places(raw, false);
    for (const StoredChange& c : b.changes) {
      ps = std::max(ps, book::decimal_places(b.text(c.price_off, c.price_len)));
      qs = std::max(qs, book::decimal_places(b.text(c.size_off, c.size_len)));
    }
    b.ob.clear();
    b.ob.set_scales(std::min(ps, book::kMaxScale), std::min(qs, book::kMaxScale));
    b.ob.snapshot_begin();
    std::size_t nbids = 0, nasks = 0;
    for (const RawChange& c : raw) {
      const book::DecimalResult p = book::parse_decimal(c.price, b.ob.price_scale());
      const book::DecimalResult q = book::parse_decimal(c.size, b.ob.qty_scale());
      if (!p.ok() || !q.ok()) {
        b.ob.snapshot_end();
        b.ob.clear();
        ++malformed;
        sink.frame_error(FrameError::kBadNumber, "order book snapshot price/size is not a decimal");
        return retry_snapshot(b, now_ns, sink);
      }
      b.ob.snapshot_add(c.side, book::Level{p.value, q.value});
      (c.side == Side::kBid ? nbids : nasks) += 1;
    }
    b.ob.snapshot_end();
    ++b.ob.counters().snapshots;
    // Trusted range: a partial snapshot that came back full on a side says nothing beyond it.
    b.snapshot_limit = url.find("level2_100") != std::string_view::npos  ? 100
                       : url.find("level2_20") != std::string_view::npos ? 20
                                                                         : 0;
    b.bid_bounded = b.snapshot_limit > 0 && nbids >= static_cast<std::size_t>(b.snapshot_limit) && !b.ob.bids().empty();
    b.ask_bounded = b.snapshot_limit > 0 && nasks >= static_cast<std::size_t>(b.snapshot_limit) && !b.ob.asks().empty();
    if (b.bid_bounded) b.bid_floor = b.ob.bids().at(b.ob.bids().size() - 1).price;
    if (b.ask_bounded) b.ask_ceiling = b.ob.asks().at(b.ob.asks().size() - 1).price;
    b.seq.reset(sequence);

    // Play the buffer back: drop what the snapshot covers, bridge, then strictly in order.
    std::size_t used = 0;
    for (; used < b.deltas.size(); ++used) {
      const StoredDelta& d = b.deltas[used];
      const Outcome o = apply_delta(b, d.start, d.end, [&](std::int64_t floor_seq) {
        for (std::uint32_t k = d.first; k < d.first + d.count; ++k) {
          const StoredChange& c = b.changes[k];
          if (!apply_change(b, c.side, b.text(c.price_off, c.price_len), b.text(c.size_off, c.size_len), c.seq,
                            floor_seq)) {
            return false;
          }
        }
        return true;
      });
      if (o == Outcome::kBad) {
        ++malformed;
        sink.frame_error(FrameError::kBadNumber, "buffered delta price/size is not a decimal");
        gap(b, StateReason::kMalformed, sink);
        return;
      }
      if (o == Outcome::kGap) {
        // The snapshot is older than the buffer (or the buffer has a hole): keep the
        // deltas from here and fetch a newer snapshot.
        b.deltas.erase(b.deltas.begin(), b.deltas.begin() + static_cast<std::ptrdiff_t>(used));
        b.ob.clear();
        b.seq.clear();
        sink.venue_error(b.symbol, "snapshot does not line up with the buffered deltas: fetching a newer one");
        return retry_snapshot(b, now_ns, sink);
      }
    }
    bound_depth(b);
    b.clear_buffer();
    b.attempts = 0;
    set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);
    sink.book_updated(b.id, b.symbol, b.ob, true);
  }

  // bound_depth: keeps each side within max_book_levels. A side cut here is bounded from
  // then on: levels beyond its last kept price are unknown (trusted_depth stops there).
  void bound_depth(SpotBook& b) noexcept {
    const std::size_t cap = config.max_book_levels;
    if (cap == 0 || (b.ob.bids().size() <= cap && b.ob.asks().size() <= cap)) return;
    const bool cut_bids = b.ob.bids().size() > cap, cut_asks = b.ob.asks().size() > cap;
    b.ob.set_depth_limit(cap);
    b.ob.truncate();
    b.ob.set_depth_limit(0);
    if (cut_bids) {
      const std::int64_t last = b.ob.bids().at(cap - 1).price;
      b.bid_floor = b.bid_bounded ? std::max(b.bid_floor, last) : last;
      b.bid_bounded = true;
    }
    if (cut_asks) {
      const std::int64_t last = b.ob.asks().at(cap - 1).price;
      b.ask_ceiling = b.ask_bounded ? std::min(b.ask_ceiling, last) : last;
      b.ask_bounded = true;
    }
  }

  void retry_snapshot(SpotBook& b, std::int64_t now_ns, SessionSink& sink) {
    if (++b.attempts >= config.max_snapshot_attempts) {
      b.attempts = 0;
      b.retry_at_ns = deadline_after(now_ns, config.halt_backoff_ns);
      set_state(b, BookState::kHalted, StateReason::kCircuitOpen, sink);
      return;
    }
    set_state(b, BookState::kResyncing, StateReason::kSnapshotRetry, sink);
    if (driving()) {
      request_snapshot(b, sink);
    } else {
      b.snapshot_wanted = true;  // replay: the recording holds whatever came next
    }
  }

  void on_delta(od::object& data, SessionSink& sink);
  std::int64_t last_now_ns = 0;
};

// ---- public API -------------------------------------------------------------------

SpotSession::SpotSession(const SpotConfig& config) : impl_(std::make_unique<Impl>(config)) {}
SpotSession::~SpotSession() = default;

ConnState SpotSession::conn_state() const noexcept { return impl_->conn; }
const std::string& SpotSession::connect_id() const noexcept { return impl_->connect_id; }
std::size_t SpotSession::book_count() const noexcept { return impl_->books.size(); }
const book::OrderBook& SpotSession::book(BookId id) const { return impl_->books.at(id)->ob; }
std::uint64_t SpotSession::malformed_frames() const noexcept { return impl_->malformed; }

SpotBookInfo SpotSession::info(BookId id) const {
  const SpotBook& b = *impl_->books.at(id);
  return SpotBookInfo{b.symbol, b.seq.last(), b.deltas.size(), b.stale, b.overflows, b.snapshot_limit};
}

std::size_t SpotSession::trusted_depth(BookId id) const {
  const SpotBook& b = *impl_->books.at(id);
  if (b.ob.state() != BookState::kLive) return 0;
  std::size_t bids = b.ob.bids().size(), asks = b.ob.asks().size();
  if (b.bid_bounded) {
    bids = 0;
    while (bids < b.ob.bids().size() && b.ob.bids().at(bids).price >= b.bid_floor) ++bids;
  }
  if (b.ask_bounded) {
    asks = 0;
    while (asks < b.ob.asks().size() && b.ob.asks().at(asks).price <= b.ask_ceiling) ++asks;
  }
  return std::min(bids, asks);
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
    b.snapshot_wanted = true;
    fresh.push_back(&b);
  }
  if (sink != nullptr && im.conn == ConnState::kReady && !fresh.empty()) {
    im.send_subscriptions(fresh, im.last_now_ns, *sink);
  }
  return true;
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
  if (id != 0 && id != b->snapshot_request) return;  // superseded (e.g. after an overflow)
  if (b->ob.state() == BookState::kLive) return;    // a late answer for a book already calibrated
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
  for (auto& b : im.books) {
    b->clear_buffer();
    b->seq.clear();
    b->snapshot_request = 0;
    b->snapshot_wanted = !b->refused;
    b->retry_at_ns = -1;
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
  for (auto& b : im.books) {
    if (b->retry_at_ns >= 0 && now_ns >= b->retry_at_ns) {
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
  if (frame.size() > im.config.max_frame_bytes) return im.bad(sink, FrameError::kTooLarge, "frame exceeds max_frame_bytes");
  im.frame.load(frame);
  od::document doc;
  od::object obj;
  if (im.parser.iterate(im.frame.data(), im.frame.size(), im.frame.capacity()).get(doc) ||
      doc.get_object().get(obj)) {
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
    od::object data;
    if (obj.find_field_unordered("data").get_object().get(data)) {
      return im.bad(sink, FrameError::kUnexpectedShape, "l2update without data");
    }
    return im.on_delta(data, sink);
  }
  std::string_view id;
  const bool has_id = obj.find_field_unordered("id").get_string().get(id) == simdjson::SUCCESS;
  if (type == "welcome") {
    if (im.conn != ConnState::kAwaitingWelcome && im.driving()) return;
    // A welcome with no endpoint known (no token response yet) happens only in a damaged
    // recording; there is no ping interval to keep (found by fuzzing).
    if (im.driving() && im.servers.empty()) return im.bad(sink, FrameError::kUnexpectedShape, "welcome before any token");
    im.conn = ConnState::kReady;
    im.welcome_deadline = -1;
    if (!im.driving()) return;
    const Server& s = im.servers[im.server_index % im.servers.size()];
    im.next_ping_at = deadline_after(now_ns, s.ping_interval_ns);
    std::vector<SpotBook*> list;
    for (auto& b : im.books) {
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
  auto pending = std::find_if(im.acks.begin(), im.acks.end(),
                              [&](const PendingAck& a) { return id_ok && a.id == numeric_id; });
  if (type == "ack") {
    if (pending == im.acks.end()) return;  // an ack for something else (or a recording's)
    for (BookId bid : pending->books) {
      SpotBook& b = *im.books[bid];
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
        SpotBook& b = *im.books[bid];
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

void SpotSession::Impl::on_delta(od::object& data, SessionSink& sink) {
  std::string_view symbol;
  if (data.find_field_unordered("symbol").get_string().get(symbol)) {
    return bad(sink, FrameError::kUnexpectedShape, "l2update without symbol");
  }
  SpotBook* b = find(symbol);
  if (b == nullptr) {
    if (!config.track_any_symbol) {
      return bad(sink, FrameError::kUnknownSymbol, unknown_symbol_detail(symbol));
    }
    b = &track(symbol);
    b->snapshot_wanted = true;
    set_state(*b, BookState::kAwaitingSnapshot, StateReason::kSubscribed, sink);
  }
  raw.clear();
  std::int64_t start = 0, end = 0;
  od::value start_v, end_v, asks_v, bids_v;
  od::object changes;
  bool ok = data.find_field_unordered("sequenceStart").get(start_v) == simdjson::SUCCESS && read_seq(start_v, start) &&
            data.find_field_unordered("sequenceEnd").get(end_v) == simdjson::SUCCESS && read_seq(end_v, end) &&
            start <= end && data.find_field_unordered("changes").get_object().get(changes) == simdjson::SUCCESS;
  if (ok) {
    const auto a = changes.find_field_unordered("asks").get(asks_v);
    ok = (a == simdjson::NO_SUCH_FIELD || (a == simdjson::SUCCESS && read_changes(asks_v, Side::kAsk, true, raw)));
  }
  if (ok) {
    const auto bi = changes.find_field_unordered("bids").get(bids_v);
    ok = (bi == simdjson::NO_SUCH_FIELD || (bi == simdjson::SUCCESS && read_changes(bids_v, Side::kBid, true, raw)));
  }
  if (!ok) {
    // An update we cannot read is an update lost: a live book can no longer be trusted.
    if (b->ob.state() == BookState::kLive) gap(*b, StateReason::kMalformed, sink);
    return bad(sink, FrameError::kUnexpectedShape, "l2update without sequenceStart/sequenceEnd/changes");
  }
  if (b->refused) return;
  if (b->ob.state() != BookState::kLive) {
    buffer(*b, start, end, sink);  // calibrating: wait for the snapshot
    return;
  }
  const std::uint64_t top_before = b->ob.top_version();
  const Outcome o = apply_delta(*b, start, end, [&](std::int64_t floor_seq) {
    for (const RawChange& c : raw) {
      if (!apply_change(*b, c.side, c.price, c.size, c.seq, floor_seq)) return false;
    }
    return true;
  });
  switch (o) {
    case Outcome::kApplied:
      bound_depth(*b);
      sink.book_updated(b->id, b->symbol, b->ob, b->ob.top_version() != top_before);
      return;
    case Outcome::kStale:
      return;  // a duplicate: already in the book
    case Outcome::kGap:
      gap(*b, StateReason::kSequenceGap, sink);
      buffer(*b, start, end, sink);  // the first delta of the new calibration
      return;
    case Outcome::kBad:
      gap(*b, StateReason::kMalformed, sink);
      return bad(sink, FrameError::kBadNumber, "l2update price/size is not a decimal");
  }
}

}  // namespace obr::connectors::kucoin
