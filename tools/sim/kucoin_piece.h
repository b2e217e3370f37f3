// tools/sim/kucoin_piece.h — the simulator's KuCoin spot level2 piece (kucoin_piece.cpp;
// listed in venue_pieces.cpp). The venue's rules: docs/venues/kucoin.md.
//
// What the piece speaks: `POST /api/v1/bullet-public` (a token and the instance servers),
// its WebSocket on /kucoin/ws (token check, welcome, ping/pong, subscribe/unsubscribe of
// `/market/level2:` topics with the ack when asked, `trade.l2update` with a sequence per
// change), and the snapshots `/api/v1/market/orderbook/level2_100` and
// `/api/v3/market/orderbook/level2` (the latter wants a KC-API-KEY header, as on the venue).
// Its own faults: skip_sequence, refuse_token, expire_token, fail_endpoint, rest_429,
// rest_418, rest_500 and stale_snapshot (a snapshot kept from about a second ago).
#pragma once

namespace obr::sim {

struct VenuePieceFactory;
// kucoin_venue_piece: the piece's factory, for the list (venue_pieces.cpp) only.
const VenuePieceFactory& kucoin_venue_piece();

}  // namespace obr::sim
