// tools/sim/venue_pieces.h — the simulator's one list of venues: a factory per venue piece
// (venue_piece.h), and the engine's venues it deliberately does not serve. venue_pieces.cpp
// is the only file of tools/sim outside the pieces that names a venue; the shared
// simulator, the fault parser and the recorded market reach every venue through this list,
// and the per-venue data of simulator.h and recorded_market.h is keyed by a piece's name,
// so adding a venue to the simulator is a piece and one line there.
//
//   for (const obr::sim::VenuePieceFactory& f : obr::sim::venue_pieces()) use(f.name);
//
// tests/tools/sim_venues_test.cpp holds the list to the engine's (engine/venues_impl.h):
// every registered venue has a piece here or is listed as replay-only, with the reason.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/sim/faults.h"
#include "tools/sim/market.h"

namespace obr::sim {

class SimHost;
class VenuePiece;

// VenuePieceFactory: what the simulator knows of a venue before it makes its piece.
struct VenuePieceFactory {
  std::string_view name;          // the engine's venue name ("kraken", ...)
  std::string_view display_name;  // for messages ("Kraken", ...)
  // own_faults: the fault kinds only this venue has (fault_venue, parse_fault).
  std::span<const FaultKind> own_faults;
  // The venue's market: SimConfig::markets under `name` (a recording's, else none), else a
  // SyntheticMarket of SimConfig::symbols under `name` (missing or empty:
  // default_symbols(), the piece's bundled books), seeded by market_seed(SimConfig::seed).
  // A recording of the venue lands in RecordedMarket::Loaded under `name` too.
  std::vector<SymbolSpec> (*default_symbols)();
  std::uint64_t (*market_seed)(std::uint64_t seed);
  std::unique_ptr<VenuePiece> (*make)(SimHost& host, Market& market);
  // absorbable: fault kinds that can do this venue's books no harm when nothing reacts to
  // them (a scenario counts such a fault as absorbed, not missed, when no wrong book was
  // shown): Kraken's updates carry absolute quantities, so a dropped, duplicated or
  // reordered one can be overwritten before any checksum sees it; a KuCoin delta sent
  // twice is skipped by its sequence, and a stale snapshot the buffered deltas still bridge
  // is what the venue's procedure intends.
  std::span<const FaultKind> absorbable = {};
  // How `obr serve` announces url(): "<entry_label>: URL<entry_note>" (empty label: the
  // name), e.g. "kraken v2: wss://127.0.0.1:PORT/v2". Scripts read these lines.
  std::string_view entry_label = {};
  std::string_view entry_note = {};
};

// ReplayOnlyVenue: a venue of the engine's list that the simulator does not serve, and why.
struct ReplayOnlyVenue {
  std::string_view name;       // the engine's venue name
  std::string_view served_as;  // the piece whose market takes its recordings (RecordedMarket)
  std::string_view why;
};

// venue_pieces: every venue the simulator serves, in the order it routes, ticks and fans
// out to them.
std::span<const VenuePieceFactory> venue_pieces();
// replay_only_venues: the engine's venues that have no piece, each with its reason.
std::span<const ReplayOnlyVenue> replay_only_venues();
// find_venue_piece: the piece named `name`, or nullptr.
const VenuePieceFactory* find_venue_piece(std::string_view name);
// venue_piece_for_recording: the piece whose market serves the books of a recording of the
// engine's venue `venue` (its own piece, or a replay-only venue's served_as), or nullptr.
const VenuePieceFactory* venue_piece_for_recording(std::string_view venue);
// make_venue_symbols: k synthetic books spelt like the venue's own defaults ("BTC/USD",
// "BTC-USDT" or "BTCUSDT": the separator and quote currency of its first default symbol,
// or without a separator what follows the first base, BTC, in it), with random scales and
// mids from `rng`, `levels` a side (`obr soak`, `obr cluster-demo`).
std::vector<SymbolSpec> make_venue_symbols(std::size_t k, const VenuePieceFactory& venue, detail::SplitMix64& rng,
                                           std::size_t levels = 300);
// venue_piece_names: the pieces' names, "kraken or kucoin" (for messages).
std::string venue_piece_names();

}  // namespace obr::sim
