// tools/sim/kraken_piece.h — the simulator's Kraken v2 piece (kraken_piece.cpp; listed in
// venue_pieces.cpp) and its wire helpers: the depth view and the `book` frame, also used by
// synthetic_session.cpp and tested on their own. The venue's rules: docs/venues/kraken.md.
//
// What the piece speaks on /v2: the `status` greeting, `subscribe`/`unsubscribe` of the
// `book` channel (acks and refusals as the venue words them, depths 10, 25, 100, 500 and
// 1000), the snapshot then updates with the CRC32 of the true top 10 and the venue's depth
// semantics (kraken_depth_diff), `heartbeat` at 1 Hz to a peer with a book, `ping`/`pong`.
// Its own faults: corrupt_checksum (an update's checksum) and maintenance (`status`
// maintenance, then online a second later).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "book/level.h"
#include "tools/sim/market.h"

namespace obr::sim {

struct VenuePieceFactory;
// kraken_venue_piece: the piece's factory, for the list (venue_pieces.cpp) only.
const VenuePieceFactory& kraken_venue_piece();

// kraken_depth_diff returns the Kraken v2 `book` update entries for one side that a client
// subscribed at `depth` must receive for one Change, given that side's top-`depth` before
// and after it (best first; longer spans are cut to `depth`, so the full truth may be passed).
// Applying the entries in order and then truncating to `depth` turns `before_top` into
// `after_top` exactly (docs/venues/kraken.md, "Truncation"):
//   - every level of the new top whose quantity differs from the old top's, or that was not
//     in it (an insert, or a deeper level pulled up by a delete: Kraken re-sends the level
//     that enters at the boundary), is sent with its quantity;
//   - a level of the old top that is gone from the new top and is better than the new top's
//     worst level, or any gone level when the new top is not full, was deleted from the
//     truth and is sent with qty 0;
//   - a level merely pushed out below `depth` is not sent: "you will not receive qty 0 for
//     levels that fall out of scope". (A level that was deleted and would also have been
//     pushed out is indistinguishable from one pushed out here and is not sent either; the
//     client's truncation drops it all the same.)
// Deletes come first, then the sets in best-first order. Precondition: depth > 0 (depth 0
// returns nothing); each span sorted best first with distinct prices and qty > 0.
// Cost: one merge pass, O(depth).
std::vector<LevelDelta> kraken_depth_diff(obr::book::Side side, std::span<const obr::book::Level> before_top,
                                          std::span<const obr::book::Level> after_top, std::size_t depth);

// kraken_depth_diff into a caller's buffer (cleared first), so a simulator serving many
// subscribers reuses one vector and allocates nothing once it is warm.
void kraken_depth_diff(obr::book::Side side, std::span<const obr::book::Level> before_top,
                       std::span<const obr::book::Level> after_top, std::size_t depth, std::vector<LevelDelta>& out);

// kraken_v2_book_frame: a Kraken v2 `book` message (snapshot or update) for one symbol, as
// the venue writes it: prices and quantities as JSON numbers with exactly the symbol's
// decimals, then the checksum and `timestamp` (RFC 3339 text). Allocates.
std::string kraken_v2_book_frame(const SymbolSpec& spec, bool snapshot, std::span<const LevelDelta> bids,
                                 std::span<const LevelDelta> asks, std::uint32_t checksum, std::string_view timestamp);

}  // namespace obr::sim
