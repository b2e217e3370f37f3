// tools/sim/simulator.h — a local exchange for tests and demos: Kraken v2, KuCoin spot
// level2, Binance spot and USD-M depth streams, Bybit v5 and OKX v5 order books on loopback,
// over ws:// or TLS, fed by a seeded synthetic market or a recording (SimConfig::markets),
// with faults injected on command.
//
//   obr::net::EventLoop loop;
//   obr::sim::SimConfig config;                       // defaults: 127.0.0.1, TLS, 3+3 symbols
//   obr::sim::Simulator sim(loop, config);
//   std::string error;
//   if (!sim.start(error)) { ... }                    // binds, writes the certificate file
//   // connect a client to sim.url("kraken") / sim.url("kucoin"), trusting sim.cert_file()
//   loop.run();
//
// What it speaks: one piece per venue, listed in venue_pieces.cpp, each named as the piece's
// venue is (or will be) named by the engine, behind one interface (venue_piece.h), on one
// port:
//   - "kraken": Kraken v2 `book` on /v2 (subscribe/unsubscribe acks, snapshot then updates
//     with the CRC32 of the true top 10, depth semantics: a level pushed out is not
//     deleted, a deleted level is refilled in the same message; `status`, `heartbeat` at
//     1 Hz, `ping`/`pong`): kraken_piece.h, after docs/venues/kraken.md;
//   - "kucoin": KuCoin `POST /api/v1/bullet-public`, its WebSocket on /kucoin/ws (token
//     check, welcome, ping/pong, subscribe ack, `trade.l2update` with per-change
//     sequences), and the snapshots `/api/v1/market/orderbook/level2_100` and
//     `/api/v3/market/orderbook/level2` (the latter wants a KC-API-KEY header, as on the
//     venue): kucoin_piece.h, after docs/venues/kucoin.md;
//   - "binance" and "binance-usdm": Binance spot and USD-M futures combined streams on
//     /stream and /fstream (SUBSCRIBE/UNSUBSCRIBE, `depthUpdate` with U/u (and pu) update
//     ids, server pings with a pong deadline, a 24 h connection life), and the snapshots
//     /api/v3/depth and /fapi/v1/depth with request weights, 429 and the 418 ban:
//     binance_piece.h;
//   - "bybit-spot", "bybit-linear" and "bybit-inverse": Bybit v5 public orderbook on
//     /v5/public/spot, /linear and /inverse (subscribe/unsubscribe answers, refused topics,
//     ping/pong with the silence cut, a snapshot then deltas keeping the client at the top
//     `depth` levels, u per topic per connection, the level-1 repeat): bybit_piece.h;
//   - "okx": OKX v5 public books on /ws/v5/public (per-arg subscribe answers, 60018/64003
//     refusals, text ping/pong with the silence cut, books/books5/books50-l2-tbt/
//     books-l2-tbt with seqId/prevSeqId and the top-25 CRC32 checksum, the no-change
//     update): okx_piece.h.
// The engine's "kraken-v1" is recording-only and has no piece (venue_pieces.cpp says why).
//
// The simulator owns the truth: truth(venue, symbol) is the book every correct replica
// must hold, at every moment (it changes only on the loop's thread, between messages).
//
// Per-venue data (SimConfig::symbols and markets, SimStats::venues) is keyed by the piece's
// name, so that adding a venue to the simulator is a piece and one line in the list, with
// nothing to add here.
//
// Thread-safety: everything on the loop's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "book/level.h"
#include "connectors/net/event_loop.h"
#include "tools/sim/faults.h"
#include "tools/sim/market.h"

namespace obr::sim {

// VenueTimers: the connection timers of a venue whose server pings its clients and cuts
// old connections, or waits for its clients' pings, or repeats an unchanged book (0: the
// piece's default, which is the venue's documented value; a piece reads the fields its
// venue has and leaves the others).
struct VenueTimers {
  std::int64_t ping_interval_ns = 0;  // between the server's WebSocket ping frames
  std::int64_t pong_timeout_ns = 0;   // no pong this long after a ping: the server closes
  std::int64_t lifetime_ns = 0;       // a connection's longest life: the server closes it then
  // Bybit: a client that sends no ping message this long is dropped (the venue: 10 minutes).
  // OKX: a client that sends no frame at all this long is dropped (the venue: 30 s).
  std::int64_t client_ping_timeout_ns = 0;
  // Bybit: a level-1 book unchanged this long is pushed again with the same u (the venue: 3 s).
  std::int64_t level1_repeat_ns = 0;
  // OKX: a channel whose book is unchanged this long gets a no-change update (seqId ==
  // prevSeqId, no levels; the venue: about 60 s).
  std::int64_t no_change_ns = 0;
};

// VenueOptions: what a venue's server says differently by account or by era (false: the
// piece's default); a piece reads the fields its venue has and leaves the others.
struct VenueOptions {
  // OKX: the account is below VIP4, so the tick-by-tick channels (books50-l2-tbt,
  // books-l2-tbt) are refused with error 64003. Default: allowed.
  bool refuse_tbt = false;
  // OKX: the checksum field is always 0, as OKX sends since the field's deprecation.
  // Default: the CRC32 of the top 25 levels.
  bool checksum_zero = false;
};

struct SimConfig {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  std::uint16_t port = 0;          // 0: any free port (see Simulator::port())
  bool tls = true;
  std::string cert_file;  // where the generated certificate is written (TLS)
  // Per venue, keyed by the piece's name (e.g. "kraken"). A venue missing from a map keeps
  // its piece's defaults; a key that names no piece is refused by Simulator::start (a
  // misspelt name would otherwise serve the defaults unnoticed).
  // symbols: the books of the venue's synthetic market (missing or empty: the piece's own,
  // e.g. BTC/USD, ETH/USD, XRP/USD).
  std::map<std::string, std::vector<SymbolSpec>, std::less<>> symbols;
  // markets: a venue's market, e.g. a RecordedMarket (recorded_market.h); when set (not
  // null) it replaces that venue's synthetic market and its symbols. The simulator moves it
  // on its loop thread.
  std::map<std::string, std::shared_ptr<Market>, std::less<>> markets;
  // timers: a venue's connection timers, for the pieces that have them (server pings, a
  // pong deadline, a longest connection life, a client's ping deadline, a book's repeat); a
  // field left 0 keeps the venue's own value. Tests compress them from minutes and hours to
  // fractions of a second.
  std::map<std::string, VenueTimers, std::less<>> timers;
  // options: a venue's account or era settings (VenueOptions), for the pieces that have them.
  std::map<std::string, VenueOptions, std::less<>> options;
  // serve_only: the pieces served (their names); empty: every piece. A piece left out has
  // no market and no endpoint (`obr cluster-demo` serves Kraken alone: each served venue's
  // market draws changes_per_s events a second, subscribed or not).
  std::vector<std::string> serve_only;
  std::uint64_t seed = 1;
  double changes_per_s = 400;  // market events per second, per venue
  // speed > 0: a market with a clock (a recording with times, Market::next_at_ns) plays at
  // `speed` times its recorded pace instead of at changes_per_s; at most
  // kMaxChangesPerTick of its events go out per tick (a burst beyond waits a tick).
  double speed = 0;
  static constexpr std::size_t kMaxChangesPerTick = 10'000;
  std::int64_t tick_ns = 5'000'000;  // market clock granularity
  std::vector<Fault> faults;
  // true: a fault with a time trigger (t=) waits for Simulator::arm_timed_faults(), and its
  // time counts from that call instead of from start(). A test arms them once every book is
  // live, so a slow (sanitizer) build still has each fault hit a live book. Faults without a
  // time trigger are not held back.
  bool timed_faults_wait = false;
};

// FiredFault is one injected fault, for the summary and for matching against detection.
struct FiredFault {
  Fault fault;
  std::int64_t at_ns = 0;        // net::now_ns() when it took effect
  std::string venue;             // the piece that took it (a fault without venue= may hit any of several)
  std::string symbol;            // the book it hit (empty: a whole connection or request)
  std::uint64_t connection = 0;  // the peer it hit (0: none / a REST request)
};

// VenueStats: one venue's counters, counted by its piece; a counter the venue has no use
// for stays 0.
struct VenueStats {
  std::uint64_t book_messages = 0;     // book messages sent (Kraken: snapshots and updates; KuCoin: l2updates)
  std::uint64_t snapshots_served = 0;  // REST snapshots (KuCoin's, Binance's); Bybit's WebSocket snapshots
  std::uint64_t tokens_issued = 0;     // connection tokens (KuCoin's bullet-public)
};

struct SimStats {
  std::uint64_t connections = 0;
  std::uint64_t market_changes = 0;
  // venues: by piece name, an entry for every piece from the simulator's construction on,
  // so venues.at(name) throws only for a name that is no piece's (a misspelt name fails a
  // test instead of reading a zero).
  std::map<std::string, VenueStats, std::less<>> venues;
};

class Simulator {
 public:
  Simulator(net::EventLoop& loop, SimConfig config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // start binds the listener (and writes the certificate when TLS); false with `error`.
  bool start(std::string& error);
  // stop closes the listener and every connection.
  void stop();

  std::uint16_t port() const;
  // url: where a client of `venue` (a piece's name, e.g. "kraken") starts: its WebSocket URL
  // (e.g. ws[s]://127.0.0.1:PORT/v2), or its REST base when its connection starts with a
  // REST call (e.g. KuCoin's http[s]://127.0.0.1:PORT); empty for a venue without a piece.
  std::string url(std::string_view venue) const;
  // rest_url: the http[s]://127.0.0.1:PORT base of `venue`'s REST calls when its piece
  // answers any (KuCoin's tokens and snapshots, Binance's snapshots), else empty.
  std::string rest_url(std::string_view venue) const;
  const std::string& cert_file() const;

  // The true book of `symbol` on `venue` (a piece's name: "kraken", "kucoin"): bids and
  // asks best first. Empty spans for an unknown book.
  std::span<const book::Level> truth_bids(std::string_view venue, std::string_view symbol) const;
  std::span<const book::Level> truth_asks(std::string_view venue, std::string_view symbol) const;
  const SymbolSpec* spec(std::string_view venue, std::string_view symbol) const;
  // symbols: every book `venue` (a piece's name) serves, in the market's order.
  std::vector<std::string> symbols(std::string_view venue) const;
  // matches_recent_truth: whether `bids`/`asks` (best first, at most kTruthLevels each)
  // equal the truth's top kTruthLevels at one of the last kTruthHistory moments of that
  // book. A replica lags the truth by the frames in flight, so "equal to the truth" means
  // equal to the truth as of some recent change, never to a book that never existed.
  static constexpr std::size_t kTruthLevels = 10;
  static constexpr std::size_t kTruthHistory = 8192;
  bool matches_recent_truth(std::string_view venue, std::string_view symbol, std::span<const book::Level> bids,
                            std::span<const book::Level> asks) const;

  // add_fault schedules a fault at run time (the trigger time counts from start(), or from
  // arm_timed_faults() under SimConfig::timed_faults_wait).
  void add_fault(const Fault& fault);
  // arm_timed_faults: under SimConfig::timed_faults_wait, timed faults may fire from now on,
  // their times counted from now. Later calls do nothing; without the option, nothing.
  void arm_timed_faults();
  bool timed_faults_armed() const;
  const std::vector<FiredFault>& fired() const;
  const SimStats& stats() const;
  // pause/resume the market clock (no new changes; connections keep working).
  void pause_market(bool paused);

  class Impl;  // internal

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace obr::sim
