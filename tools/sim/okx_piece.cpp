// tools/sim/okx_piece.cpp — the simulator's OKX v5 piece (see okx_piece.h), in sections: the
// venue's constants; the WebSocket (requests, subscriptions, pings and the silence cut, the
// no-change timer); the fan-out (depth windows, seqId per channel per connection, the
// piece's own faults); then the factory with the bundled books, and the wire helpers.
#include "tools/sim/okx_piece.h"

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

#include "book/crc32.h"
#include "tools/sim/bybit_piece.h"
#include "tools/sim/venue_piece.h"
#include "tools/sim/venue_pieces.h"

namespace obr::sim {
namespace {

using book::Level;
using book::Side;

constexpr std::int64_t kSecondNs = 1'000'000'000;
// docs/venues/okx.md, "Keepalive": a connection on which the client sends nothing for 30 s is
// dropped (SimConfig::timers' client_ping_timeout_ns).
constexpr std::int64_t kSilenceTimeoutNs = 30 * kSecondNs;
// docs/venues/okx.md, "Books": a book with no change for about 60 s gets a no-change
// update (SimConfig::timers' no_change_ns).
constexpr std::int64_t kNoChangeNs = 60 * kSecondNs;

// Channel: one of the order-book channels the piece serves (docs/venues/okx.md,
// "Subscribing"); bit k of Peer::subscribed[symbol] is kChannels[k].
struct Channel {
  std::string_view name;
  std::size_t depth;
  bool snapshots_only;  // books5: every message a full snapshot without "action"
  bool tbt;             // tick-by-tick: refused below VIP4 (VenueOptions::refuse_tbt)
};
constexpr Channel kChannels[] = {
    {.name = "books", .depth = 400, .snapshots_only = false, .tbt = false},
    {.name = "books5", .depth = 5, .snapshots_only = true, .tbt = false},
    {.name = "books50-l2-tbt", .depth = 50, .snapshots_only = false, .tbt = true},
    {.name = "books-l2-tbt", .depth = 400, .snapshots_only = false, .tbt = true},
};
constexpr std::size_t kChannelCount = std::size(kChannels);
constexpr std::size_t kMaxDepth = 400;

constexpr FaultKind kOwnFaults[] = {FaultKind::kCorruptChecksum, FaultKind::kUnpromptedSnapshot,
                                    FaultKind::kSequenceReset, FaultKind::kRefuseChannel, FaultKind::kNoChange};
// A snapshot replaces the book; a reset's seqId and a no-change message keep the chain
// (prevSeqId == the last seqId): all three are correct and leave nothing to detect.
constexpr FaultKind kAbsorbable[] = {FaultKind::kUnpromptedSnapshot, FaultKind::kSequenceReset, FaultKind::kNoChange};

// json_escaped: `text` as the inside of a JSON string (a client's id or arg echoed back).
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

// conn_id: an 8-hex-digit connection id like the venue's ("a4d3ae55"), per peer and seed.
std::string conn_id(std::uint64_t seed, std::uint64_t peer_id) {
  detail::SplitMix64 rng(seed * 0x9e3779b97f4a7c15ULL + peer_id + 0x6f6b78);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rng.next() >> 32));
  return buf;
}

// orders: a level's order count; the synthetic market has no orders, so a stable function
// of the level (1 to 37).
std::int64_t orders(std::int64_t price, std::int64_t qty) {
  return 1 + static_cast<std::int64_t>((static_cast<std::uint64_t>(price) * 31 + static_cast<std::uint64_t>(qty)) % 37);
}

class OkxPiece final : public VenuePiece {
 public:
  OkxPiece(SimHost& host, Market& market)
      : VenuePiece(host, market), stats_(host.sim_stats().venues["okx"]), cache_(market.symbol_count()) {
    const SimConfig& config = host.sim_config();
    silence_ns_ = kSilenceTimeoutNs;
    no_change_ns_ = kNoChangeNs;
    if (const auto it = config.timers.find("okx"); it != config.timers.end()) {
      if (it->second.client_ping_timeout_ns > 0) silence_ns_ = it->second.client_ping_timeout_ns;
      if (it->second.no_change_ns > 0) no_change_ns_ = it->second.no_change_ns;
    }
    if (const auto it = config.options.find("okx"); it != config.options.end()) {
      refuse_tbt_ = it->second.refuse_tbt;
      checksum_zero_ = it->second.checksum_zero;
    }
  }

  std::string_view name() const override { return "okx"; }
  std::string_view ws_path() const override { return "/ws/v5/public"; }
  std::string entry_url(bool tls, std::uint16_t port) const override {
    return std::string(tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port) + "/ws/v5/public";
  }

  void on_tick(std::int64_t now_ns) override;
  void on_open(Peer& peer, std::string_view target) override;
  void on_message(Peer& peer, std::string_view text) override;
  void on_change(const Change& c) override;
  std::uint64_t book_messages() const override { return stats_.book_messages; }

 private:
  // Sub: one channel of one instId on one connection.
  struct Sub {
    std::int64_t seq = -1;                // seqId of the last message sent (or dropped by a fault)
    std::int64_t offset = kOkxSeqOffset;  // seqId = offset + the market's sequence
    std::int64_t last_ns = 0;             // when the last message went out (the no-change timer)
  };
  // Conn: what the piece keeps of one WebSocket peer.
  struct Conn {
    std::string id;                                    // connId
    std::int64_t last_heard_ns = 0;                    // the client's last frame
    std::vector<std::array<Sub, kChannelCount>> subs;  // per symbol, per channel index
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
      conn.last_heard_ns = peer.opened_ns;
      conn.subs.resize(market_.symbol_count());
    }
    return conn;
  }
  void keep(std::size_t i) {
    const auto b = market_.bids(i), a = market_.asks(i);
    cache_[i].bids.assign(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(std::min(kMaxDepth, b.size())));
    cache_[i].asks.assign(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(std::min(kMaxDepth, a.size())));
  }
  // checksum: the market's book of symbol i now (the client's after the message), or 0.
  std::int32_t checksum(std::size_t i) const {
    if (checksum_zero_) return 0;
    const SymbolSpec& s = market_.spec(i);
    return okx_checksum(okx_checksum_text(market_.bids(i), market_.asks(i), s.price_scale, s.qty_scale));
  }
  static std::string arg_json(std::string_view channel, std::string_view inst) {
    return R"({"channel":")" + json_escaped(channel) + R"(","instId":")" + json_escaped(inst) + R"("})";
  }
  static std::string id_field(const std::optional<std::string>& id) {
    return id ? R"("id":")" + json_escaped(*id) + "\"," : std::string();
  }
  std::string error(const Conn& conn, const std::optional<std::string>& id, std::string_view code,
                    std::string_view msg) const {
    std::string out = "{";
    out += id_field(id);
    out += R"("event":"error","code":")";
    out += code;
    out += R"(","msg":")";
    out += json_escaped(msg);
    out += R"(","connId":")";
    out += conn.id;
    out += "\"}";
    return out;
  }
  // answer: {"id":"N","event":"<event>","arg":{...},"connId":"<id>"}.
  static std::string answer(const Conn& conn, const std::optional<std::string>& id, std::string_view event,
                            std::string_view channel, std::string_view inst) {
    std::string out = "{";
    out += id_field(id);
    out += R"("event":")";
    out += event;
    out += R"(","arg":)";
    out += arg_json(channel, inst);
    out += R"(,"connId":")";
    out += conn.id;
    out += "\"}";
    return out;
  }
  // head: a book message up to its first level, {"arg":{...},["action":"...",]"data":[{"asks":[
  std::string head(std::size_t i, std::size_t k, std::string_view action) const {
    std::string out = R"({"arg":)" + arg_json(kChannels[k].name, market_.spec(i).name);
    if (!action.empty()) out += R"(,"action":")" + std::string(action) + "\"";
    return out + R"(,"data":[{"asks":[)";
  }
  void append_level(std::string& out, const SymbolSpec& s, std::int64_t price, std::int64_t qty) const {
    out += "[\"" + okx_number(price, s.price_scale) + "\",\"" + (qty == 0 ? "0" : okx_number(qty, s.qty_scale)) +
           "\",\"0\",\"" + std::to_string(qty == 0 ? 0 : orders(price, qty)) + "\"]";
  }
  // append_deltas: the levels of an update, asks then bids, after head.
  void append_deltas(std::string& out, std::size_t i, std::span<const LevelDelta> bids,
                     std::span<const LevelDelta> asks) const;
  // append_window: the market's top `depth` of symbol i, asks then bids, after head.
  void append_window(std::string& out, std::size_t i, std::size_t depth) const;
  // tail: the rest of a books / l2-tbt message.
  static std::string tail(const std::string& ms, std::int32_t checksum, std::int64_t prev, std::int64_t seq) {
    return R"(],"ts":")" + ms + R"(","checksum":)" + std::to_string(checksum) + R"(,"prevSeqId":)" +
           std::to_string(prev) + R"(,"seqId":)" + std::to_string(seq) + "}]}";
  }
  std::string books5_tail(std::size_t i, const std::string& ms, std::int64_t prev, std::int64_t seq) const {
    return R"(],"instId":")" + market_.spec(i).name + R"(","ts":")" + ms + R"(","seqId":)" + std::to_string(seq) +
           R"(,"prevSeqId":)" + std::to_string(prev) + "}]}";
  }
  // snapshot: channel k's window of symbol i now, as a snapshot with seqId `seq`.
  std::string snapshot(std::size_t i, std::size_t k, std::int64_t prev, std::int64_t seq, const std::string& ms) const {
    const Channel& ch = kChannels[k];
    std::string out = head(i, k, ch.snapshots_only ? "" : "snapshot");
    append_window(out, i, ch.depth);
    return out + (ch.snapshots_only ? books5_tail(i, ms, prev, seq) : tail(ms, checksum(i), -1, seq));
  }
  // no_change: the no-change update of channel k (docs/venues/okx.md, "Books"), seqId kept.
  std::string no_change(std::size_t i, std::size_t k, std::int64_t seq, const std::string& ms) const {
    return head(i, k, "update") + R"(],"bids":[)" + tail(ms, checksum(i), seq, seq);
  }
  void send_no_change(Peer& peer, std::size_t i, std::size_t k, Sub& sub, std::int64_t now_ns) {
    sub.last_ns = now_ns;
    ++stats_.book_messages;
    // Losing or reordering it shows nothing (the chain is the same without it).
    host_.deliver(peer, i, no_change(i, k, sub.seq, std::to_string(now_ns / 1'000'000)), /*visible=*/false);
  }

  VenueStats& stats_;
  std::vector<Cache> cache_;
  std::map<std::uint64_t, Conn> conns_;  // by Peer::id
  std::int64_t last_prune_ns_ = 0;
  std::int64_t silence_ns_ = 0, no_change_ns_ = 0;
  bool refuse_tbt_ = false, checksum_zero_ = false;
  std::vector<LevelDelta> diff_bids_, diff_asks_;
  simdjson::dom::parser parser_;
};

// ---- WebSocket ------------------------------------------------------------------------

void OkxPiece::on_open(Peer& peer, std::string_view target) {
  (void)target;
  conn_of(peer);  // nothing is sent on open; the silence clock starts now
}

void OkxPiece::on_message(Peer& peer, std::string_view text) {
  Conn& conn = conn_of(peer);
  const std::int64_t now = net::now_ns();
  // docs/venues/okx.md, "Keepalive": any frame shows the client is there; `ping` gets `pong`.
  conn.last_heard_ns = now;
  if (text == "ping") {
    peer.send("pong");
    return;
  }
  const auto invalid = [&] {
    const std::string_view shown = text.substr(0, 200);
    peer.send(error(conn, std::nullopt, "60012", "Invalid request: " + std::string(shown)));
  };
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser_.parse(text.data(), text.size()).get(doc) || doc.get(obj)) {
    invalid();
    return;
  }
  // id: the client's, echoed back as a string (left out when it sent none).
  std::optional<std::string> id;
  if (simdjson::dom::element r; !obj["id"].get(r)) {
    std::string_view s;
    std::int64_t n = 0;
    if (!r.get(s)) {
      id.emplace(s);
    } else if (!r.get(n)) {
      id = std::to_string(n);
    }
  }
  std::string_view op;
  simdjson::dom::array args;
  if (obj["op"].get(op) || (op != "subscribe" && op != "unsubscribe") || obj["args"].get(args)) {
    invalid();
    return;
  }
  struct Arg {
    std::string channel, inst;
  };
  std::vector<Arg> list;
  for (simdjson::dom::element e : args) {
    std::string_view channel, inst;
    if (e["channel"].get(channel) || e["instId"].get(inst)) {
      invalid();
      return;
    }
    list.push_back({std::string(channel), std::string(inst)});
  }
  const bool subscribe = op == "subscribe";
  // docs/venues/okx.md, "Subscribing": each arg is answered on its own; the snapshots of the
  // subscribed ones follow the answers.
  std::vector<std::pair<std::size_t, std::size_t>> added;  // (symbol, channel index)
  for (const Arg& a : list) {
    std::optional<std::size_t> k;
    for (std::size_t c = 0; c < kChannelCount; ++c) {
      if (kChannels[c].name == a.channel) k = c;
    }
    const std::optional<std::size_t> i = symbol_index(market_, a.inst);
    if (!i || !k) {
      peer.send(
          error(conn, id, "60018", "Wrong URL or channel:" + a.channel + ",instId:" + a.inst + " doesn't exist."));
      continue;
    }
    const int bit = 1 << *k;
    if (!subscribe) {
      peer.subscribed[*i] &= ~bit;
      if (peer.subscribed[*i] == 0) peer.held[*i].reset();
      peer.send(answer(conn, id, "unsubscribe", a.channel, a.inst));
      continue;
    }
    if ((kChannels[*k].tbt && refuse_tbt_) ||
        host_.take_fault(*this, market_.spec(*i).name, {FaultKind::kRefuseChannel}, peer.id)) {
      peer.send(error(conn, id, "64003",
                      "Your trading fee tier doesn't meet the requirement to access this channel:" + a.channel +
                          ",instId:" + a.inst));
      continue;
    }
    peer.subscribed[*i] |= bit;
    added.emplace_back(*i, *k);
    peer.send(answer(conn, id, "subscribe", a.channel, a.inst));
  }
  // The snapshot of each new subscription (a repeated one too: how a client resyncs).
  const std::string ms = std::to_string(now / 1'000'000);
  for (const auto& [i, k] : added) {
    keep(i);
    Sub& sub = conn.subs[i][k];
    sub.offset = kOkxSeqOffset;
    const std::int64_t prev = sub.seq;
    sub.seq = sub.offset + market_.sequence(i);
    sub.last_ns = now;
    ++stats_.book_messages;
    ++stats_.snapshots_served;
    peer.send(snapshot(i, k, kChannels[k].snapshots_only ? prev : -1, sub.seq, ms));
  }
}

void OkxPiece::on_tick(std::int64_t now_ns) {
  const bool prune = now_ns - last_prune_ns_ >= kSecondNs;
  std::set<std::uint64_t> alive;
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (!p || p->closed || p->piece != this) continue;
    if (prune) alive.insert(p->id);
    Conn& conn = conn_of(*p);
    // A stalled server hears nothing: the client's frames are lost, not missing.
    if (p->stalled(now_ns)) {
      conn.last_heard_ns = now_ns;
      continue;
    }
    // docs/venues/okx.md, "Keepalive": nothing from the client for 30 s: dropped.
    if (now_ns - conn.last_heard_ns >= silence_ns_) {
      p->close_abrupt();
      continue;
    }
    // docs/venues/okx.md, "Books": a quiet book gets a no-change update; the no_change
    // fault sends one at once (on the first books channel the peer carries).
    for (std::size_t i = 0; i < conn.subs.size(); ++i) {
      if (p->subscribed[i] == 0) continue;
      bool fault_done = false;
      for (std::size_t k = 0; k < kChannelCount; ++k) {
        if ((p->subscribed[i] & (1 << k)) == 0 || kChannels[k].snapshots_only) continue;
        Sub& sub = conn.subs[i][k];
        if (now_ns - sub.last_ns >= no_change_ns_) {
          send_no_change(*p, i, k, sub, now_ns);
        } else if (!fault_done &&
                   host_.take_fault(*this, market_.spec(i).name, {FaultKind::kNoChange}, p->id).has_value()) {
          fault_done = true;
          send_no_change(*p, i, k, sub, now_ns);
        }
      }
    }
  }
  if (prune) {
    last_prune_ns_ = now_ns;
    std::erase_if(conns_, [&](const auto& kv) { return alive.count(kv.first) == 0; });
  }
}

// ---- market ---------------------------------------------------------------------------

void OkxPiece::on_change(const Change& c) {
  const std::size_t i = c.symbol;
  const std::string& symbol = market_.spec(i).name;
  const auto after_b = market_.bids(i), after_a = market_.asks(i);
  const std::int64_t mseq = market_.sequence(i);
  const std::int64_t now = net::now_ns();
  const std::string ms = std::to_string(now / 1'000'000);
  // Per channel, computed for the first subscriber: whether the window moved, and the
  // update's levels (or books5's snapshot) up to its tail, shared by every subscriber.
  enum class Moved : std::uint8_t { kUnknown, kNo, kYes };
  std::array<Moved, kChannelCount> moved{};
  std::array<std::string, kChannelCount> body, snapshot_body;
  std::optional<std::int32_t> sum;
  bool any = false;
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (!p || p->closed || p->piece != this || p->subscribed[i] == 0) continue;
    any = true;
    Conn& conn = conn_of(*p);
    for (std::size_t k = 0; k < kChannelCount; ++k) {
      if ((p->subscribed[i] & (1 << k)) == 0) continue;
      const Channel& ch = kChannels[k];
      if (moved[k] == Moved::kUnknown) {
        bybit_depth_diff(Side::kBid, cache_[i].bids, after_b, ch.depth, diff_bids_);
        bybit_depth_diff(Side::kAsk, cache_[i].asks, after_a, ch.depth, diff_asks_);
        moved[k] = diff_bids_.empty() && diff_asks_.empty() ? Moved::kNo : Moved::kYes;
        if (moved[k] == Moved::kYes) {
          if (ch.snapshots_only) {
            body[k] = head(i, k, "");
            append_window(body[k], i, ch.depth);
          } else {
            body[k] = head(i, k, "update");
            append_deltas(body[k], i, diff_bids_, diff_asks_);
          }
        }
      }
      if (moved[k] == Moved::kNo) continue;
      Sub& sub = conn.subs[i][k];
      sub.last_ns = now;
      ++stats_.book_messages;
      const std::int64_t prev = sub.seq;
      if (ch.snapshots_only) {
        sub.seq = sub.offset + mseq;
        ++stats_.snapshots_served;
        // Every books5 message replaces the book: only a duplicate may hit it.
        host_.deliver(*p, i, body[k] + books5_tail(i, ms, prev, sub.seq), /*visible=*/false);
        continue;
      }
      if (!sum) sum = checksum(i);
      // The piece's own faults on this update. A reset needs room below the last seqId; a
      // corrupt checksum needs a checksum (none while they are 0).
      std::array<FaultKind, 3> kinds{};
      std::size_t n = 0;
      kinds[n++] = FaultKind::kUnpromptedSnapshot;
      if (sub.seq >= 2) kinds[n++] = FaultKind::kSequenceReset;
      if (!checksum_zero_) kinds[n++] = FaultKind::kCorruptChecksum;
      const std::optional<Fault> f =
          host_.take_fault(*this, symbol, std::span<const FaultKind>(kinds.data(), n), p->id);
      std::string frame;
      if (f && f->kind == FaultKind::kUnpromptedSnapshot) {
        // docs/venues/okx.md, "Books": a snapshot replaces the book (prevSeqId -1).
        if (snapshot_body[k].empty()) {
          snapshot_body[k] = head(i, k, "snapshot");
          append_window(snapshot_body[k], i, ch.depth);
        }
        sub.seq = sub.offset + mseq;
        frame = snapshot_body[k] + tail(ms, *sum, -1, sub.seq);
        ++stats_.snapshots_served;
      } else {
        if (f && f->kind == FaultKind::kSequenceReset) sub.offset = 1 - mseq;  // this seqId is 1
        sub.seq = sub.offset + mseq;
        std::int32_t s = *sum;
        if (f && f->kind == FaultKind::kCorruptChecksum) {
          s = static_cast<std::int32_t>(static_cast<std::uint32_t>(s) ^ 0x5a5a5a5aU);
          if (s == 0 || s == *sum) s = *sum + 1;
        }
        frame = body[k] + tail(ms, s, prev, sub.seq);
      }
      // Every update's prevSeqId is checked, so any loss, repeat or swap shows.
      host_.deliver(*p, i, std::move(frame), /*visible=*/true);
    }
  }
  // The windows' "before" for the next change; a book nobody carries is kept when someone
  // subscribes to it (the market between changes is the truth as of the last one).
  if (any) keep(i);
}

void OkxPiece::append_deltas(std::string& out, std::size_t i, std::span<const LevelDelta> bids,
                             std::span<const LevelDelta> asks) const {
  const SymbolSpec& s = market_.spec(i);
  for (int side = 0; side < 2; ++side) {
    if (side == 1) out += R"(],"bids":[)";
    bool first = true;
    for (const LevelDelta& d : side == 0 ? asks : bids) {
      if (!first) out += ',';
      first = false;
      append_level(out, s, d.price, d.qty);
    }
  }
}

void OkxPiece::append_window(std::string& out, std::size_t i, std::size_t depth) const {
  const SymbolSpec& s = market_.spec(i);
  for (int side = 0; side < 2; ++side) {
    if (side == 1) out += R"(],"bids":[)";
    const auto levels = side == 0 ? market_.asks(i) : market_.bids(i);
    const std::size_t n = std::min(levels.size(), depth);
    for (std::size_t k = 0; k < n; ++k) {
      if (k > 0) out += ',';
      append_level(out, s, levels[k].price, levels[k].qty);
    }
  }
}

// ---- factory --------------------------------------------------------------------------

// spec: a bundled book with the venue's tick (in price units).
SymbolSpec spec(const char* name, int price_scale, int qty_scale, std::int64_t mid, std::int64_t tick) {
  SymbolSpec s = bundled_spec(name, price_scale, qty_scale, mid);
  s.tick = tick;
  return s;
}
// BTC-USDT: a 0.1 tick, sizes to 8 decimals; ETH-USDT: a 0.01 tick, sizes to 6; the
// BTC-USDT perpetual swap: a 0.1 tick, sizes in whole contracts.
std::vector<SymbolSpec> okx_symbols() {
  return {spec("BTC-USDT", 1, 8, 651'404, 1), spec("ETH-USDT", 2, 6, 345'012, 1),
          spec("BTC-USDT-SWAP", 1, 0, 651'203, 1)};
}
// A different stream from the other venues' under one SimConfig::seed.
std::uint64_t okx_seed(std::uint64_t seed) { return seed * 104'729 + 17; }
std::unique_ptr<VenuePiece> make_okx(SimHost& host, Market& market) { return std::make_unique<OkxPiece>(host, market); }

}  // namespace

const VenuePieceFactory& okx_venue_piece() {
  static const VenuePieceFactory factory{
      .name = "okx",
      .display_name = "OKX",
      .own_faults = kOwnFaults,
      .default_symbols = okx_symbols,
      .market_seed = okx_seed,
      .make = make_okx,
      .absorbable = kAbsorbable,
  };
  return factory;
}

// ---- wire helpers -----------------------------------------------------------------

std::string okx_number(std::int64_t units, int scale) {
  std::string s = format_fixed(units, scale);
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string okx_checksum_text(std::span<const Level> bids, std::span<const Level> asks, int price_scale,
                              int qty_scale) {
  std::string out;
  const auto add = [&](const Level& l) {
    if (!out.empty()) out += ':';
    out += okx_number(l.price, price_scale);
    out += ':';
    out += okx_number(l.qty, qty_scale);
  };
  for (std::size_t k = 0; k < kOkxChecksumLevels; ++k) {
    if (k < bids.size()) add(bids[k]);
    if (k < asks.size()) add(asks[k]);
  }
  return out;
}

std::int32_t okx_checksum(std::string_view text) {
  return static_cast<std::int32_t>(book::crc32(0, text.data(), text.size()));
}

}  // namespace obr::sim
