// tools/sim/venue_pieces.cpp — the simulator's list of venues (venue_pieces.h). With the
// pieces themselves, the only file of tools/sim whose code names a venue: one line per
// piece below, and the engine's venues the simulator deliberately does not serve.
//
// A piece may land before the engine lists its venue (docs/architecture.md, "Adding a
// venue", step 4): the simulator serves it, `obr demo` and `obr soak` leave it out until
// engine/venues.cpp lists it (scenario.cpp and soak_command.cpp ask engine::is_venue), and
// tests/tools/sim_venues_test.cpp names it among the pieces ahead of the engine. Today: okx.
#include "tools/sim/venue_pieces.h"

#include <cstdio>
#include <cstring>

#include "tools/sim/binance_piece.h"
#include "tools/sim/bybit_piece.h"
#include "tools/sim/kraken_piece.h"
#include "tools/sim/kucoin_piece.h"
#include "tools/sim/okx_piece.h"

namespace obr::sim {
namespace {

const ReplayOnlyVenue kReplayOnly[] = {
    // Kraken v1 is recording-only: the engine records and replays it but never connects to
    // it live (its live venues are "kraken", WebSocket v2, and "kucoin"), so no client
    // would come. A v1 recording's books are the same books with the same checksum, and
    // RecordedMarket serves them as Kraken v2 books through the kraken piece.
    {.name = "kraken-v1",
     .served_as = "kraken",
     .why = "recording-only: the engine never connects to Kraken v1 live; its recordings are "
            "served as Kraken v2 books by the kraken piece"},
};

}  // namespace

std::span<const VenuePieceFactory> venue_pieces() {
  static const VenuePieceFactory kPieces[] = {
      kraken_venue_piece(),
      kucoin_venue_piece(),
      binance_venue_piece(),
      binance_usdm_venue_piece(),
      bybit_spot_venue_piece(),
      bybit_linear_venue_piece(),
      bybit_inverse_venue_piece(),
      // Ahead of the engine's list (see above).
      okx_venue_piece(),
  };
  return kPieces;
}

std::span<const ReplayOnlyVenue> replay_only_venues() { return kReplayOnly; }

const VenuePieceFactory* find_venue_piece(std::string_view name) {
  for (const VenuePieceFactory& f : venue_pieces()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const VenuePieceFactory* venue_piece_for_recording(std::string_view venue) {
  if (const VenuePieceFactory* f = find_venue_piece(venue)) return f;
  for (const ReplayOnlyVenue& r : replay_only_venues()) {
    if (r.name == venue) return find_venue_piece(r.served_as);
  }
  return nullptr;
}

std::string venue_piece_names() {
  const auto pieces = venue_pieces();
  std::string out;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) out += i + 1 == pieces.size() ? " or " : ", ";
    out += pieces[i].name;
  }
  return out;
}

std::vector<SymbolSpec> make_venue_symbols(std::size_t k, const VenuePieceFactory& venue, detail::SplitMix64& rng,
                                           std::size_t levels) {
  static constexpr const char* kBases[] = {"BTC", "ETH", "XRP",  "SOL", "ADA",  "DOT",  "LTC", "LINK", "AVAX", "ATOM",
                                           "XLM", "UNI", "ALGO", "FIL", "NEAR", "AAVE", "ETC", "TRX",  "BCH",  "XTZ"};
  const std::string model = venue.default_symbols().front().name;
  const std::size_t sep = model.find_first_of("/-_");
  std::string suffix = sep == std::string::npos ? std::string() : model.substr(sep);
  if (sep == std::string::npos && model.starts_with(kBases[0])) suffix = model.substr(std::strlen(kBases[0]));
  std::vector<SymbolSpec> out;
  for (std::size_t i = 0; i < k; ++i) {
    SymbolSpec s;
    char name[32];
    if (i < std::size(kBases))
      std::snprintf(name, sizeof name, "%s%s", kBases[i], suffix.c_str());
    else
      std::snprintf(name, sizeof name, "C%zu%s", i, suffix.c_str());
    s.name = name;
    s.price_scale = 1 + static_cast<int>(rng.below(5));
    s.qty_scale = 4 + static_cast<int>(rng.below(5));
    s.mid = 10'000 + static_cast<std::int64_t>(rng.below(5'000'000));
    s.tick = 1;
    s.levels = levels;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace obr::sim
