// tools/sim/binance_piece.h — the simulator's Binance pieces: spot ("binance") and USD-M
// futures ("binance-usdm"), one implementation parameterised by the market kind
// (binance_piece.cpp; listed in venue_pieces.cpp). After Binance's public documentation of
// its WebSocket market streams and of GET /api/v3/depth and /fapi/v1/depth.
//
// What the pieces speak, on the simulator's one port:
//   - WebSocket combined streams on /stream (spot) and /fstream (USD-M); nothing is sent on
//     open (streams may also be named in the URL, /stream?streams=a/b). Client frames:
//     {"method":"SUBSCRIBE"|"UNSUBSCRIBE","params":["btcusdt@depth@100ms",...],"id":7} →
//     {"result":null,"id":7}; LIST_SUBSCRIPTIONS; a malformed request → {"error":{"code":2,
//     "msg":"Invalid request: ..."},"id":...}, not JSON → code 3 "Invalid JSON: ...". A
//     stream of a symbol the market does not have is accepted and stays silent (as on the
//     venue). More than 1024 streams on a connection refuse the request (code 2); more than
//     5 client messages in one second (USD-M: 10) close the connection (1008).
//   - Book events, one per market change, {"stream":"<as subscribed>","data":{"e":
//     "depthUpdate","E":ms,["T":ms,]"s":"BTCUSDT","U":first,"u":last,["pu":prev u,]"b":
//     [["price","qty"],...],"a":[...]}}. Update ids count the venue's internal updates: each
//     event advances u by 1 to 3; spot's next U is the previous u + 1; USD-M's pu is the
//     previous u, and its U now and then skips ahead (seeded), so only pu links events.
//   - Keepalive: a WebSocket ping frame every ping interval (spot 20 s, USD-M 3 min); no
//     pong within the pong timeout (spot 1 min, USD-M 10 min) drops the connection; every
//     connection is closed (1000) after its lifetime (24 h). All three are
//     SimConfig::timers under the piece's name.
//   - REST depth snapshots, {"lastUpdateId":<u of the last event>,["E":ms,"T":ms,]"bids":
//     [...],"asks":[...]}, the best `limit` levels (spot from 1, default 100, at most 5000
//     answered; USD-M 5, 10, 20, 50, 100, 500 or 1000, default 500), errors as {"code":-1121,"msg":"Invalid symbol."}
//     and the like with HTTP 400; the request weight per minute in X-MBX-USED-WEIGHT-1M, 429 with Retry-After past the
//     venue's limit (spot 6000, USD-M 2400), 418 (an IP ban) for a request made during a 429's Retry-After.
// Their own faults: skip_sequence (U and u jump ahead: a gap, no data lost), rest_429,
// rest_418, rest_500 and stale_snapshot (a snapshot kept from about a second ago, whose
// lastUpdateId is older than events already sent). The shared faults (drop, duplicate,
// reorder, stall, close, close_code, malformed, oversized) reach them through
// SimHost::deliver and the connection faults like any venue's.
#pragma once

namespace obr::sim {

struct VenuePieceFactory;
// binance_venue_piece / binance_usdm_venue_piece: the pieces' factories, for the list
// (venue_pieces.cpp) only.
const VenuePieceFactory& binance_venue_piece();
const VenuePieceFactory& binance_usdm_venue_piece();

}  // namespace obr::sim
