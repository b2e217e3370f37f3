// tools/sim/bybit_piece.h — the simulator's Bybit v5 pieces: spot ("bybit-spot"), USDT
// perpetuals ("bybit-linear") and inverse contracts ("bybit-inverse"), one implementation
// parameterised by the category (bybit_piece.cpp; listed in venue_pieces.cpp), and its wire
// helpers, tested on their own. The venue's rules: docs/venues/bybit.md.
//
// What the pieces speak, on the simulator's one port (docs/venues/bybit.md, "Subscribing"):
//   - WebSocket on /v5/public/spot, /v5/public/linear and /v5/public/inverse; nothing is sent
//     on open. Client frames {"req_id":"N","op":"subscribe"|"unsubscribe","args":[topic,...]}
//     with topics orderbook.{1|50|200|1000}.{symbol}, at most kBybitMaxArgs a request, each
//     answered {"success":true,"ret_msg":"","conn_id":"<id>","req_id":"N","op":"subscribe"}
//     (req_id "" when the request had none). A topic the piece refuses (an unknown symbol or
//     channel, a depth the category does not offer, the refuse_topic fault) fails the answer,
//     {"success":false,"ret_msg":"error:handler not found,topic:orderbook.40.BTCUSDT",...},
//     while the request's good topics are subscribed all the same; a topic already subscribed
//     fails as "error:already subscribed,topic:..."; several refused topics are named one
//     after the other, joined by ";". More than kBybitMaxArgs args refuse the whole request
//     ("error:args count exceeds the limit of 10"). Unsubscribing a well-formed topic that is
//     not subscribed succeeds and does nothing.
//   - Keepalive (docs/venues/bybit.md, "Keepalive"): the client sends {"req_id":"N","op":
//     "ping"}; spot answers {"success":true,"ret_msg":"pong","conn_id":"<id>","op":"ping"},
//     linear and inverse {"success":true,"ret_msg":"pong","conn_id":"<id>","req_id":"N","op":
//     "ping"}. A client that sends no ping for the client ping timeout (10 minutes) is
//     dropped. The timeout, and the level-1 repeat below, are SimConfig::timers under the
//     piece's name (client_ping_timeout_ns, level1_repeat_ns).
//   - Books (docs/venues/bybit.md, "Books"): after a successful subscribe, a `snapshot` of the
//     topic's depth, then a `delta` per market change that moves the topic's window:
//     {"topic":"orderbook.200.BTCUSDT","type":"delta","ts":ms,"data":{"s":"BTCUSDT","b":
//     [["p","q"],...],"a":[...],"u":n,"seq":n},"cts":ms}, with "ts" before "type" on spot.
//     Spot writes prices and sizes with trailing zeros trimmed ("65140", "0.000123"); linear
//     and inverse at the symbol's fixed decimals ("65114.20", "0.010"); a delete is "0". The
//     client never truncates: a level that leaves the top `depth` is deleted and one that
//     enters (a refill) is sent (bybit_depth_diff), so every message leaves the client's book
//     equal to the market's top `depth`. u counts a topic's messages on the connection (+1 a
//     message, from a base tied to the market's sequence at subscribe); seq is the market's
//     sequence of the symbol plus kBybitSeqOffset. Depth 1 is snapshot-only (every change of
//     the best bid or ask is a snapshot with the next u), and an unchanged level-1 book is
//     pushed again every 3 s with the SAME u and seq.
// Their own faults, which the three pieces share (so a schedule names one with venue=):
// skip_sequence (a topic's u jumps ahead by ARG, default 5: a gap, no data lost),
// unprompted_snapshot (a delta replaced by a snapshot of the window with the next u: correct,
// the client replaces its book), restart_snapshot (a delta replaced by a snapshot with u = 1,
// after which u goes on 2, 3, ...: the venue's service restart) and refuse_topic (the next
// subscribe of a topic is refused as "handler not found"). On a level-1 topic, whose
// messages are all snapshots, the snapshot faults take its next message (restart_snapshot
// then carries u = 1) and skip_sequence waits for a deeper topic, since nothing checks a
// level-1 u. The shared faults reach them like
// any venue's: drop (a delta lost: u skips by exactly 2 once), duplicate, reorder, stall,
// close, close_code, malformed, oversized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "book/level.h"
#include "tools/sim/market.h"

namespace obr::sim {

struct VenuePieceFactory;
// bybit_spot_venue_piece / bybit_linear_venue_piece / bybit_inverse_venue_piece: the pieces'
// factories, for the list (venue_pieces.cpp) only.
const VenuePieceFactory& bybit_spot_venue_piece();
const VenuePieceFactory& bybit_linear_venue_piece();
const VenuePieceFactory& bybit_inverse_venue_piece();

// The most args one subscribe or unsubscribe request may carry.
inline constexpr std::size_t kBybitMaxArgs = 10;
// A book message's seq: the market's sequence of the symbol (Market::sequence) plus this.
inline constexpr std::int64_t kBybitSeqOffset = 7'000'000'000;

// bybit_depth_diff: the entries of one side of a Bybit delta for a client that holds the top
// `depth` levels of `before` (best first; longer spans are cut to `depth`) so that it holds
// the top `depth` of `after` once it applies them: every level of the old window missing from
// the new one is deleted (qty 0), whether the market deleted it or pushed it below the window;
// every level of the new window that is new to it (an insert, or a refill pulled up from
// below) or whose quantity changed is sent with its quantity. Best first, each price once.
// Cost: one merge pass, O(depth); `out` is cleared first.
void bybit_depth_diff(obr::book::Side side, std::span<const obr::book::Level> before,
                      std::span<const obr::book::Level> after, std::size_t depth, std::vector<LevelDelta>& out);

// bybit_trimmed: `units` at `scale` with the trailing fractional zeros (and a bare point)
// trimmed, as Bybit spot writes numbers: bybit_trimmed(6514040, 2) == "65140.4",
// bybit_trimmed(6514000, 2) == "65140", bybit_trimmed(123, 6) == "0.000123".
std::string bybit_trimmed(std::int64_t units, int scale);

}  // namespace obr::sim
