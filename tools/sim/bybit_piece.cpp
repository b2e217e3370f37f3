// tools/sim/bybit_piece.cpp — the simulator's Bybit v5 pieces (see bybit_piece.h): one
// BybitPiece parameterised by a Category (path, number format, field order), in sections:
// the venue's constants; the WebSocket (requests, subscriptions, pings and the silence
// cut); the fan-out (depth windows, u per topic per connection, the snapshot faults, the
// level-1 repeat); then the factories with the bundled books, and the wire helpers.
#include "tools/sim/bybit_piece.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/sim/venue_piece.h"
#include "tools/sim/venue_pieces.h"

namespace obr::sim {
namespace {

using book::Level;
using book::Side;

constexpr std::int64_t kSecondNs = 1'000'000'000;
// docs/venues/bybit.md, "Keepalive": the venue cuts a connection whose client has not pinged
// for about 10 minutes (SimConfig::timers' client_ping_timeout_ns).
constexpr std::int64_t kClientPingTimeoutNs = 600 * kSecondNs;
// docs/venues/bybit.md, "Books": a level-1 book that has not changed for 3 s is pushed again,
// with the same u (SimConfig::timers' level1_repeat_ns).
constexpr std::int64_t kLevel1RepeatNs = 3 * kSecondNs;
// The depths every category offers (docs/venues/bybit.md, "Subscribing"); bit k of
// Peer::subscribed[symbol] is kDepths[k].
constexpr int kDepths[] = {1, 50, 200, 1000};
constexpr std::size_t kDepthCount = std::size(kDepths);
constexpr std::size_t kMaxDepth = 1000;
// A subscription's first u: this plus the market's sequence of the symbol then (ids in the
// tens of millions, as on the venue, and a later subscription starts higher).
constexpr std::int64_t kUBase = 18'000'000;
// skip_sequence's default jump, in u ids left out.
constexpr std::int64_t kDefaultSkip = 5;

constexpr FaultKind kOwnFaults[] = {FaultKind::kSkipSequence, FaultKind::kUnpromptedSnapshot,
                                    FaultKind::kRestartSnapshot, FaultKind::kRefuseTopic};
// A snapshot replaces the book, whatever came before: one sent unprompted, or as after a
// restart, is correct and leaves nothing to detect.
constexpr FaultKind kAbsorbable[] = {FaultKind::kUnpromptedSnapshot, FaultKind::kRestartSnapshot};

// Category: what differs between the spot, linear and inverse APIs.
struct Category {
  std::string_view name;
  std::string_view display_name;
  std::string_view ws_path;
  bool spot;  // "ts" before "type"; numbers trimmed (else at the symbol's fixed decimals)
};
constexpr Category kSpot{
    .name = "bybit-spot", .display_name = "Bybit spot", .ws_path = "/v5/public/spot", .spot = true};
constexpr Category kLinear{
    .name = "bybit-linear", .display_name = "Bybit linear", .ws_path = "/v5/public/linear", .spot = false};
constexpr Category kInverse{
    .name = "bybit-inverse", .display_name = "Bybit inverse", .ws_path = "/v5/public/inverse", .spot = false};

// json_escaped: `text` as the inside of a JSON string (a client's req_id or topic echoed back).
std::string json_escaped(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

// conn_id: a UUID-shaped connection id, the peer's own and different per seed.
std::string conn_id(std::uint64_t seed, std::uint64_t peer_id) {
  detail::SplitMix64 rng(seed * 0x9e3779b97f4a7c15ULL + peer_id);
  const std::uint64_t a = rng.next(), b = rng.next();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>((b >> 48) & 0xfff), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

class BybitPiece final : public VenuePiece {
 public:
  BybitPiece(const Category& category, SimHost& host, Market& market)
      : VenuePiece(host, market),
        category_(category),
        stats_(host.sim_stats().venues[std::string(category.name)]),
        cache_(market.symbol_count()) {
    const SimConfig& config = host.sim_config();
    ping_timeout_ns_ = kClientPingTimeoutNs;
    repeat_ns_ = kLevel1RepeatNs;
    if (const auto it = config.timers.find(category.name); it != config.timers.end()) {
      if (it->second.client_ping_timeout_ns > 0) ping_timeout_ns_ = it->second.client_ping_timeout_ns;
      if (it->second.level1_repeat_ns > 0) repeat_ns_ = it->second.level1_repeat_ns;
    }
  }

  std::string_view name() const override { return category_.name; }
  std::string_view ws_path() const override { return category_.ws_path; }
  std::string entry_url(bool tls, std::uint16_t port) const override {
    return std::string(tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port) + std::string(category_.ws_path);
  }

  void on_tick(std::int64_t now_ns) override;
  void on_open(Peer& peer, std::string_view target) override;
  void on_message(Peer& peer, std::string_view text) override;
  void on_change(const Change& c) override;
  std::uint64_t book_messages() const override { return stats_.book_messages; }

 private:
  // Sub: one topic (a symbol at one depth) on one connection.
  struct Sub {
    std::int64_t u = 0;        // of the last message sent (or dropped by a fault)
    std::int64_t seq = 0;      // of the last message
    std::int64_t last_ns = 0;  // when the last message went out (the level-1 repeat)
  };
  // Conn: what the piece keeps of one WebSocket peer.
  struct Conn {
    std::string id;  // conn_id
    std::int64_t last_ping_ns = 0;
    std::vector<std::array<Sub, kDepthCount>> subs;  // per symbol, per depth index
  };
  // Cache: a symbol's truth as of its last change, its top kMaxDepth (the windows' "before"),
  // kept while a peer carries the book.
  struct Cache {
    std::vector<Level> bids, asks;
  };

  Conn& conn_of(const Peer& peer) {
    Conn& conn = conns_[peer.id];
    if (conn.id.empty()) {
      conn.id = conn_id(host_.sim_config().seed, peer.id);
      conn.last_ping_ns = peer.opened_ns;
      conn.subs.resize(market_.symbol_count());
    }
    return conn;
  }
  void keep(std::size_t i) {
    const auto b = market_.bids(i), a = market_.asks(i);
    cache_[i].bids.assign(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(std::min(kMaxDepth, b.size())));
    cache_[i].asks.assign(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(std::min(kMaxDepth, a.size())));
  }
  std::string answer(const Conn& conn, bool success, std::string_view ret_msg, const std::optional<std::string>& req_id,
                     std::string_view op) const;
  std::string number(std::int64_t units, int scale) const {
    return category_.spot ? bybit_trimmed(units, scale) : format_fixed(units, scale);
  }
  // head: a book message up to its levels, "{"topic":...,"data":{"s":"SYM","b":[" at `ms`.
  std::string head(std::size_t i, int depth, bool snapshot, const std::string& ms) const;
  // append_deltas: the levels of a delta, "...],"a":[..." after head.
  void append_deltas(std::string& out, std::size_t i, std::span<const LevelDelta> bids,
                     std::span<const LevelDelta> asks) const;
  // append_window: the market's top `depth` of symbol i, after head.
  void append_window(std::string& out, std::size_t i, int depth) const;
  static std::string tail(std::int64_t u, std::int64_t seq, const std::string& ms) {
    return R"(],"u":)" + std::to_string(u) + R"(,"seq":)" + std::to_string(seq) + R"(},"cts":)" + ms + "}";
  }
  std::string snapshot(std::size_t i, int depth, std::int64_t u, std::int64_t seq, const std::string& ms) const {
    std::string out = head(i, depth, true, ms);
    append_window(out, i, depth);
    return out + tail(u, seq, ms);
  }

  const Category& category_;
  // This venue's counters in the host's SimStats (a map's entry stays put, so this holds).
  VenueStats& stats_;
  std::vector<Cache> cache_;
  std::map<std::uint64_t, Conn> conns_;  // by Peer::id
  std::int64_t last_prune_ns_ = 0;
  std::int64_t ping_timeout_ns_ = 0, repeat_ns_ = 0;
  std::vector<LevelDelta> diff_bids_, diff_asks_;
  simdjson::dom::parser parser_;
};

// ---- WebSocket ------------------------------------------------------------------------

void BybitPiece::on_open(Peer& peer, std::string_view target) {
  (void)target;
  conn_of(peer);  // nothing is sent on open; the silence clock starts now
}

std::string BybitPiece::answer(const Conn& conn, bool success, std::string_view ret_msg,
                               const std::optional<std::string>& req_id, std::string_view op) const {
  std::string out = R"({"success":)";
  out += success ? "true" : "false";
  out += R"(,"ret_msg":")" + json_escaped(ret_msg) + R"(","conn_id":")" + conn.id + "\"";
  if (req_id) out += R"(,"req_id":")" + json_escaped(*req_id) + "\"";
  return out + R"(,"op":")" + json_escaped(op) + "\"}";
}

void BybitPiece::on_message(Peer& peer, std::string_view text) {
  Conn& conn = conn_of(peer);
  const std::int64_t now = net::now_ns();
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser_.parse(text.data(), text.size()).get(doc) || doc.get(obj)) {
    peer.send(answer(conn, false, "error:request is not a JSON object", std::string(), ""));
    return;
  }
  // req_id: the client's, echoed back as a string ("" when it sent none).
  std::string req_id;
  if (simdjson::dom::element r; !obj["req_id"].get(r)) {
    std::string_view s;
    std::int64_t n = 0;
    if (!r.get(s)) {
      req_id = s;
    } else if (!r.get(n)) {
      req_id = std::to_string(n);
    }
  }
  std::string_view op;
  if (obj["op"].get(op)) {
    peer.send(answer(conn, false, "error:op is missing", req_id, ""));
    return;
  }
  // docs/venues/bybit.md, "Keepalive": every ping is answered and keeps the connection; the
  // spot form has no req_id, the derivatives' form echoes it.
  if (op == "ping") {
    conn.last_ping_ns = now;
    peer.send(answer(conn, true, "pong", category_.spot ? std::nullopt : std::optional<std::string>(req_id), "ping"));
    return;
  }
  if (op != "subscribe" && op != "unsubscribe") {
    peer.send(answer(conn, false, "error:unsupported op " + std::string(op), req_id, op));
    return;
  }
  const bool subscribe = op == "subscribe";
  simdjson::dom::array args;
  std::vector<std::string> topics;
  bool ok = !obj["args"].get(args);
  if (ok) {
    for (simdjson::dom::element e : args) {
      std::string_view s;
      if (e.get(s)) {
        ok = false;
        break;
      }
      topics.emplace_back(s);
    }
  }
  if (!ok) {
    peer.send(answer(conn, false, "error:args must be an array of topics", req_id, op));
    return;
  }
  // docs/venues/bybit.md, "Subscribing": at most 10 args a request; more refuse it whole.
  if (topics.size() > kBybitMaxArgs) {
    peer.send(
        answer(conn, false, "error:args count exceeds the limit of " + std::to_string(kBybitMaxArgs), req_id, op));
    return;
  }
  std::string refused;
  const auto refuse = [&](std::string_view why, const std::string& topic) {
    if (!refused.empty()) refused += ';';
    refused += "error:" + std::string(why) + ",topic:" + topic;
  };
  std::vector<std::pair<std::size_t, std::size_t>> added;  // (symbol, depth index) to snapshot
  for (const std::string& topic : topics) {
    // orderbook.{depth}.{symbol}, with a depth the category offers and a symbol it lists.
    std::optional<std::size_t> i, k;
    if (std::string_view t = topic; t.starts_with("orderbook.")) {
      t.remove_prefix(10);
      const std::size_t dot = t.find('.');
      if (dot != std::string_view::npos) {
        for (std::size_t d = 0; d < kDepthCount; ++d) {
          if (t.substr(0, dot) == std::to_string(kDepths[d])) k = d;
        }
        i = symbol_index(market_, t.substr(dot + 1));
      }
    }
    if (!i || !k) {
      refuse("handler not found", topic);
      continue;
    }
    const int bit = 1 << *k;
    if (!subscribe) {
      peer.subscribed[*i] &= ~bit;
      if (peer.subscribed[*i] == 0) peer.held[*i].reset();
      continue;
    }
    if ((peer.subscribed[*i] & bit) != 0) {
      refuse("already subscribed", topic);
      continue;
    }
    if (host_.take_fault(*this, market_.spec(*i).name, {FaultKind::kRefuseTopic}, peer.id)) {
      refuse("handler not found", topic);
      continue;
    }
    peer.subscribed[*i] |= bit;
    added.emplace_back(*i, *k);
  }
  peer.send(answer(conn, refused.empty(), refused, req_id, op));
  // The snapshot of each new topic, after the answer: its window now, the topic's first u.
  const std::string ms = std::to_string(now / 1'000'000);
  for (const auto& [i, k] : added) {
    keep(i);
    Sub& sub = conn.subs[i][k];
    sub.u = kUBase + market_.sequence(i);
    sub.seq = kBybitSeqOffset + market_.sequence(i);
    sub.last_ns = now;
    ++stats_.book_messages;
    ++stats_.snapshots_served;
    peer.send(snapshot(i, kDepths[k], sub.u, sub.seq, ms));
  }
}

void BybitPiece::on_tick(std::int64_t now_ns) {
  const bool prune = now_ns - last_prune_ns_ >= kSecondNs;
  std::set<std::uint64_t> alive;
  std::string ms;
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (!p || p->closed || p->piece != this) continue;
    if (prune) alive.insert(p->id);
    Conn& conn = conn_of(*p);
    // A stalled server hears nothing: the client's pings are lost, not missing.
    if (p->stalled(now_ns)) {
      conn.last_ping_ns = now_ns;
      continue;
    }
    // docs/venues/bybit.md, "Keepalive": no ping for the timeout: the server takes the
    // client for gone and drops the TCP connection.
    if (now_ns - conn.last_ping_ns >= ping_timeout_ns_) {
      p->close_abrupt();
      continue;
    }
    // docs/venues/bybit.md, "Books": an unchanged level-1 book is pushed again, same u.
    for (std::size_t i = 0; i < conn.subs.size(); ++i) {
      if ((p->subscribed[i] & 1) == 0) continue;
      Sub& sub = conn.subs[i][0];
      if (now_ns - sub.last_ns < repeat_ns_) continue;
      if (ms.empty()) ms = std::to_string(now_ns / 1'000'000);
      sub.last_ns = now_ns;
      ++stats_.book_messages;
      ++stats_.snapshots_served;
      host_.deliver(*p, i, snapshot(i, 1, sub.u, sub.seq, ms), /*visible=*/false);
    }
  }
  if (prune) {
    last_prune_ns_ = now_ns;
    std::erase_if(conns_, [&](const auto& kv) { return alive.count(kv.first) == 0; });
  }
}

// ---- market ---------------------------------------------------------------------------

void BybitPiece::on_change(const Change& c) {
  const std::size_t i = c.symbol;
  const std::string& symbol = market_.spec(i).name;
  const auto after_b = market_.bids(i), after_a = market_.asks(i);
  const std::int64_t seq = kBybitSeqOffset + market_.sequence(i);
  const std::int64_t now = net::now_ns();
  const std::string ms = std::to_string(now / 1'000'000);
  // Per depth, computed for the first subscriber: whether the window moved, the delta's
  // frame up to its u (shared by every subscriber at that depth) and the window's snapshot.
  enum class Moved : std::uint8_t { kUnknown, kNo, kYes };
  std::array<Moved, kDepthCount> moved{};
  std::array<std::string, kDepthCount> delta_head, snapshot_head;
  bool any = false;
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (!p || p->closed || p->piece != this || p->subscribed[i] == 0) continue;
    any = true;
    Conn& conn = conn_of(*p);
    for (std::size_t k = 0; k < kDepthCount; ++k) {
      if ((p->subscribed[i] & (1 << k)) == 0) continue;
      const int depth = kDepths[k];
      if (moved[k] == Moved::kUnknown) {
        bybit_depth_diff(Side::kBid, cache_[i].bids, after_b, static_cast<std::size_t>(depth), diff_bids_);
        bybit_depth_diff(Side::kAsk, cache_[i].asks, after_a, static_cast<std::size_t>(depth), diff_asks_);
        moved[k] = diff_bids_.empty() && diff_asks_.empty() ? Moved::kNo : Moved::kYes;
        if (moved[k] == Moved::kYes && depth > 1) {
          delta_head[k] = head(i, depth, false, ms);
          append_deltas(delta_head[k], i, diff_bids_, diff_asks_);
        }
      }
      if (moved[k] == Moved::kNo) continue;
      Sub& sub = conn.subs[i][k];
      // Level 1 is snapshot-only; deeper topics get a delta, or a snapshot by a fault. A
      // level-1 topic's u is not checked (every message replaces the book), so a skip there
      // would show nothing: skip_sequence waits for a deeper topic.
      bool is_snapshot = depth == 1;
      std::optional<Fault> f;
      if (depth == 1) {
        f = host_.take_fault(*this, symbol, {FaultKind::kUnpromptedSnapshot, FaultKind::kRestartSnapshot}, p->id);
      } else {
        f = host_.take_fault(*this, symbol,
                             {FaultKind::kSkipSequence, FaultKind::kUnpromptedSnapshot, FaultKind::kRestartSnapshot},
                             p->id);
      }
      if (f && f->kind == FaultKind::kSkipSequence) sub.u += f->arg > 0 ? f->arg : kDefaultSkip;
      if (f && f->kind == FaultKind::kUnpromptedSnapshot) is_snapshot = true;
      if (f && f->kind == FaultKind::kRestartSnapshot) {
        is_snapshot = true;
        sub.u = 0;  // the restart's snapshot is u = 1, and u goes on from there
      }
      ++sub.u;
      sub.seq = seq;
      sub.last_ns = now;
      std::string frame;
      if (is_snapshot) {
        if (snapshot_head[k].empty()) {
          snapshot_head[k] = head(i, depth, true, ms);
          append_window(snapshot_head[k], i, depth);
        }
        frame = snapshot_head[k];
        ++stats_.snapshots_served;
      } else {
        frame = delta_head[k];
      }
      frame += tail(sub.u, seq, ms);
      ++stats_.book_messages;
      // A deeper topic's u is checked on every delta, so any loss shows; a level-1 topic's
      // is not, so only a duplicate (harmless) may hit it.
      host_.deliver(*p, i, std::move(frame), /*visible=*/depth > 1);
    }
  }
  // The windows' "before" for the next change; a book nobody carries is kept when someone
  // subscribes to it (the market between changes is the truth as of the last one).
  if (any) keep(i);
}

std::string BybitPiece::head(std::size_t i, int depth, bool snapshot, const std::string& ms) const {
  const std::string_view type = snapshot ? "snapshot" : "delta";
  std::string out = R"({"topic":"orderbook.)" + std::to_string(depth) + "." + market_.spec(i).name + "\"";
  // docs/venues/bybit.md, "Books": spot writes "ts" before "type", the derivatives after.
  if (category_.spot) {
    out += R"(,"ts":)" + ms + R"(,"type":")" + std::string(type) + "\"";
  } else {
    out += R"(,"type":")" + std::string(type) + R"(","ts":)" + ms;
  }
  return out + R"(,"data":{"s":")" + market_.spec(i).name + R"(","b":[)";
}

void BybitPiece::append_deltas(std::string& out, std::size_t i, std::span<const LevelDelta> bids,
                               std::span<const LevelDelta> asks) const {
  const SymbolSpec& s = market_.spec(i);
  for (int side = 0; side < 2; ++side) {
    if (side == 1) out += R"(],"a":[)";
    bool first = true;
    for (const LevelDelta& d : side == 0 ? bids : asks) {
      if (!first) out += ',';
      first = false;
      out += "[\"" + number(d.price, s.price_scale) + "\",\"" + (d.qty == 0 ? "0" : number(d.qty, s.qty_scale)) + "\"]";
    }
  }
}

void BybitPiece::append_window(std::string& out, std::size_t i, int depth) const {
  const SymbolSpec& s = market_.spec(i);
  for (int side = 0; side < 2; ++side) {
    if (side == 1) out += R"(],"a":[)";
    const auto levels = side == 0 ? market_.bids(i) : market_.asks(i);
    const std::size_t n = std::min(levels.size(), static_cast<std::size_t>(depth));
    for (std::size_t k = 0; k < n; ++k) {
      if (k > 0) out += ',';
      out += "[\"" + number(levels[k].price, s.price_scale) + "\",\"" + number(levels[k].qty, s.qty_scale) + "\"]";
    }
  }
}

// ---- factories ------------------------------------------------------------------------

// spec: a bundled book with the venue's tick (in price units).
SymbolSpec spec(const char* name, int price_scale, int qty_scale, std::int64_t mid, std::int64_t tick) {
  SymbolSpec s = bundled_spec(name, price_scale, qty_scale, mid);
  s.tick = tick;
  return s;
}
// Spot: prices on a 0.01 tick, sizes to the coin's precision (written trimmed). Linear: the
// USDT perpetuals' ticks and sizes ("65114.20", "0.010"). Inverse: sizes in whole USD
// contracts ("1200").
std::vector<SymbolSpec> spot_symbols() {
  return {spec("BTCUSDT", 2, 6, 6'514'040, 1), spec("ETHUSDT", 2, 5, 345'012, 1), spec("SOLUSDT", 2, 3, 14'567, 1)};
}
std::vector<SymbolSpec> linear_symbols() {
  return {spec("BTCUSDT", 2, 3, 6'511'420, 10), spec("ETHUSDT", 2, 2, 345'010, 1), spec("SOLUSDT", 3, 1, 145'670, 10)};
}
std::vector<SymbolSpec> inverse_symbols() {
  return {spec("BTCUSD", 2, 0, 6'511'450, 50), spec("ETHUSD", 2, 0, 345'010, 5), spec("XRPUSD", 4, 0, 5'234, 1)};
}
// Different streams from the other venues', and from each other, under one SimConfig::seed.
std::uint64_t spot_seed(std::uint64_t seed) { return seed * 104'729 + 7; }
std::uint64_t linear_seed(std::uint64_t seed) { return seed * 104'729 + 11; }
std::uint64_t inverse_seed(std::uint64_t seed) { return seed * 104'729 + 13; }
std::unique_ptr<VenuePiece> make_spot(SimHost& host, Market& market) {
  return std::make_unique<BybitPiece>(kSpot, host, market);
}
std::unique_ptr<VenuePiece> make_linear(SimHost& host, Market& market) {
  return std::make_unique<BybitPiece>(kLinear, host, market);
}
std::unique_ptr<VenuePiece> make_inverse(SimHost& host, Market& market) {
  return std::make_unique<BybitPiece>(kInverse, host, market);
}

// better(side, a, b): price a sits closer to the top of book than b.
constexpr bool better(Side side, std::int64_t a, std::int64_t b) noexcept { return side == Side::kBid ? a > b : a < b; }

}  // namespace

const VenuePieceFactory& bybit_spot_venue_piece() {
  static const VenuePieceFactory factory{
      .name = kSpot.name,
      .display_name = kSpot.display_name,
      .own_faults = kOwnFaults,
      .default_symbols = spot_symbols,
      .market_seed = spot_seed,
      .make = make_spot,
      .absorbable = kAbsorbable,
  };
  return factory;
}

const VenuePieceFactory& bybit_linear_venue_piece() {
  static const VenuePieceFactory factory{
      .name = kLinear.name,
      .display_name = kLinear.display_name,
      .own_faults = kOwnFaults,
      .default_symbols = linear_symbols,
      .market_seed = linear_seed,
      .make = make_linear,
      .absorbable = kAbsorbable,
  };
  return factory;
}

const VenuePieceFactory& bybit_inverse_venue_piece() {
  static const VenuePieceFactory factory{
      .name = kInverse.name,
      .display_name = kInverse.display_name,
      .own_faults = kOwnFaults,
      .default_symbols = inverse_symbols,
      .market_seed = inverse_seed,
      .make = make_inverse,
      .absorbable = kAbsorbable,
  };
  return factory;
}

// ---- wire helpers -----------------------------------------------------------------

void bybit_depth_diff(Side side, std::span<const Level> before, std::span<const Level> after, std::size_t depth,
                      std::vector<LevelDelta>& out) {
  out.clear();
  before = before.first(std::min(before.size(), depth));
  after = after.first(std::min(after.size(), depth));
  std::size_t i = 0, j = 0;
  while (i < before.size() || j < after.size()) {
    if (j == after.size() || (i < before.size() && better(side, before[i].price, after[j].price))) {
      out.push_back({side, before[i].price, 0});  // gone from the window: deleted or pushed out
      ++i;
    } else if (i == before.size() || better(side, after[j].price, before[i].price)) {
      out.push_back({side, after[j].price, after[j].qty});  // new to the window: inserted or refilled
      ++j;
    } else {
      if (before[i].qty != after[j].qty) out.push_back({side, after[j].price, after[j].qty});
      ++i;
      ++j;
    }
  }
}

std::string bybit_trimmed(std::int64_t units, int scale) {
  std::string s = format_fixed(units, scale);
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace obr::sim
