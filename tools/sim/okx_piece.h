// tools/sim/okx_piece.h — the simulator's OKX v5 public order-book piece ("okx";
// okx_piece.cpp, listed in venue_pieces.cpp) and its wire helpers, tested on their own. The
// venue's rules: docs/venues/okx.md.
//
// What the piece speaks, on the simulator's one port:
//   - WebSocket on /ws/v5/public; nothing is sent on open (docs/venues/okx.md, "Subscribing").
//     Client frames {"id":"N","op":"subscribe"|"unsubscribe","args":[{"channel":"books",
//     "instId":"BTC-USDT"},...]}; each arg is answered on its own,
//     {"id":"N","event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"<id>"}
//     ("id" left out when the request had none). A refused arg answers
//     {"id":"N","event":"error","code":"<code>","msg":"...","connId":"<id>"}: code 60018 for an
//     unknown instId or channel ("Wrong URL or channel:books,instId:XYZ doesn't exist."), code
//     64003 for a tick-by-tick channel (books50-l2-tbt, books-l2-tbt) when SimConfig::options
//     says the account is below VIP4, and for the refuse_channel fault. A request that is not
//     JSON, or lacks op or args, answers code 60012 ("Invalid request: ..."). Subscribing a
//     channel already subscribed answers again and sends a fresh snapshot (how a client
//     resyncs). Unsubscribing answers {"id":"N","event":"unsubscribe","arg":{...},"connId":..}.
//   - Keepalive (docs/venues/okx.md, "Keepalive"): the text frame `ping` is answered by the
//     text frame `pong`; a client that sends no frame for 30 s is dropped (the TCP connection
//     closed), SimConfig::timers["okx"].client_ping_timeout_ns.
//   - Books (docs/venues/okx.md, "Books"): after a subscribe,
//       books (400 levels), books-l2-tbt (400), books50-l2-tbt (50): a snapshot
//       {"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":
//       [["65140.5","0.0001","0","3"],...],"bids":[...],"ts":"<ms>","checksum":c,
//       "prevSeqId":-1,"seqId":n}]} then an "update" per market change that moves the
//       channel's window: only the changed levels, size "0" deleting; a level leaving the
//       window is deleted and one entering it (a refill) is sent, so every message leaves the
//       client's book equal to the market's top `depth` (bybit_depth_diff). prevSeqId is the
//       previous message's seqId on that channel and connection.
//       books5: every message a full 5-level snapshot without "action":
//       {"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[..],"bids":[..],
//       "instId":"BTC-USDT","ts":"<ms>","seqId":n,"prevSeqId":p}]} (no checksum), sent when
//       the top 5 moves.
//     Numbers are written without trailing zeros ("29351.2", "0.0001", "415"); the third
//     field of a level is "0" (deprecated) and the fourth its order count (a stable function
//     of price and size: the synthetic market has no orders).
//     seqId = kOkxSeqOffset + the market's sequence of the symbol (so it grows per message and
//     skips the changes a window did not see) until a sequence_reset (below).
//     checksum (docs/venues/okx.md, "Checksum"): okx_checksum over the client's book after
//     the message; SimConfig::options["okx"].checksum_zero writes 0 instead, as OKX does
//     since the field's deprecation.
//     A channel whose book has not changed for about 60 s (SimConfig::timers["okx"].
//     no_change_ns) gets a no-change update: "asks":[],"bids":[], seqId == prevSeqId == the
//     last seqId, the checksum of the unchanged book (not on books5).
// Its own faults: refuse_channel (the next subscribe of a channel is refused with 64003),
// sequence_reset (an update whose seqId is 1, smaller than its prevSeqId; later messages go
// on from it, seqId = 1 + the market's changes since: correct, nothing to detect), no_change
// (a no-change update on the next tick: correct too), and, shared with Kraken,
// corrupt_checksum (an update's checksum is wrong; waits while checksums are 0) and, shared
// with Bybit, unprompted_snapshot (an update replaced by a snapshot of the window, prevSeqId
// -1: correct, the client replaces its book). The shared faults reach it like any venue's:
// drop (an update lost: the next one's prevSeqId no longer matches), duplicate, reorder,
// stall, close, close_code, malformed, oversized.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "book/level.h"

namespace obr::sim {

struct VenuePieceFactory;
// okx_venue_piece: the piece's factory, for the list (venue_pieces.cpp) only.
const VenuePieceFactory& okx_venue_piece();

// A message's seqId: the market's sequence of the symbol plus this (until a sequence_reset).
inline constexpr std::int64_t kOkxSeqOffset = 12'000'000'000;
// The levels a side okx_checksum covers.
inline constexpr std::size_t kOkxChecksumLevels = 25;

// okx_number: `units` at `scale` as OKX writes numbers, trailing fractional zeros (and a bare
// point) trimmed: okx_number(293512, 1) == "29351.2", okx_number(10000, 8) == "0.0001",
// okx_number(415, 0) == "415".
std::string okx_number(std::int64_t units, int scale);

// okx_checksum_text: the string OKX's checksum hashes (docs/venues/okx.md, "Checksum"): the
// top kOkxChecksumLevels of each side (best first), interleaved bid1px:bid1sz:ask1px:ask1sz:
// bid2px:..., a shorter side simply ending, numbers as okx_number writes them.
std::string okx_checksum_text(std::span<const obr::book::Level> bids, std::span<const obr::book::Level> asks,
                              int price_scale, int qty_scale);
// okx_checksum: the CRC32 (zlib's) of `text` as a signed 32-bit integer:
// okx_checksum("3366.1:7:3366.8:9:3366:6:3368:8") == -1881014294.
std::int32_t okx_checksum(std::string_view text);

}  // namespace obr::sim
