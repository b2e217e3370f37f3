// tests/tools/sim_venues_test.cpp — the simulator's list of venue pieces
// (tools/sim/venue_pieces.h) against the engine's list of venues (engine/venues_impl.h):
// every venue the engine registers has a simulator piece of the same name, or is listed as
// replay-only with its reason and the piece that serves its recordings; every piece is a
// registered venue (or one of the pieces named as ahead of the engine), and a started
// simulator serves each one. Adding a venue to the engine
// without a piece (or an entry saying why not) fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/net/event_loop.h"
#include "engine/venues_impl.h"
#include "tools/sim/faults.h"
#include "tools/sim/simulator.h"
#include "tools/sim/venue_pieces.h"

namespace {

using obr::sim::FaultKind;
using obr::sim::VenuePieceFactory;

// The pieces that landed before the engine lists their venue (docs/architecture.md, "Adding
// a venue", step 4; venue_pieces.cpp): served by the simulator, left out of `obr demo` and
// `obr soak` until engine/venues.cpp lists them. A name stays here until then; any other
// piece must be a venue of the engine.
const std::set<std::string_view> kAheadOfTheEngine = {};  // none today

const obr::sim::ReplayOnlyVenue* replay_only(std::string_view name) {
  for (const auto& r : obr::sim::replay_only_venues()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

TEST(SimVenues, EveryEngineVenueHasAPieceOrIsReplayOnly) {
  ASSERT_FALSE(obr::engine::venues().empty());
  for (const obr::engine::Venue& v : obr::engine::venues()) {
    const std::string_view name = v.descriptor->name;
    const bool piece = obr::sim::find_venue_piece(name) != nullptr;
    const bool exempt = replay_only(name) != nullptr;
    EXPECT_TRUE(piece || exempt) << "the engine's venue '" << name
                                 << "' has no simulator piece: add one to tools/sim/venue_pieces.cpp, or list it "
                                    "there as replay-only with the reason";
    EXPECT_FALSE(piece && exempt) << "'" << name << "' is both served and listed as replay-only";
  }
}

TEST(SimVenues, ReplayOnlyVenuesAreRegisteredExplainedAndServedAsAPiece) {
  for (const auto& r : obr::sim::replay_only_venues()) {
    EXPECT_NE(obr::engine::find_venue(r.name), nullptr) << "'" << r.name << "' is not a venue of the engine";
    EXPECT_FALSE(r.why.empty()) << r.name;
    const VenuePieceFactory* served_as = obr::sim::find_venue_piece(r.served_as);
    ASSERT_NE(served_as, nullptr) << r.name << " is served as '" << r.served_as << "', which is no piece";
    EXPECT_EQ(obr::sim::venue_piece_for_recording(r.name), served_as);
  }
  // Today's one exception, pinned so that it is not widened unnoticed.
  ASSERT_EQ(obr::sim::replay_only_venues().size(), 1u);
  EXPECT_EQ(obr::sim::replay_only_venues()[0].name, "kraken-v1");
  EXPECT_EQ(obr::sim::replay_only_venues()[0].served_as, "kraken");
}

TEST(SimVenues, EveryPieceIsARegisteredVenueOnce) {
  std::set<std::string_view> names;
  for (const VenuePieceFactory& f : obr::sim::venue_pieces()) {
    EXPECT_TRUE(obr::engine::find_venue(f.name) != nullptr || kAheadOfTheEngine.count(f.name) != 0)
        << "piece '" << f.name << "' is not a venue of the engine";
    EXPECT_TRUE(names.insert(f.name).second) << "two pieces named '" << f.name << "'";
    EXPECT_FALSE(f.display_name.empty()) << f.name;
    EXPECT_EQ(obr::sim::venue_piece_for_recording(f.name), &f);
    ASSERT_NE(f.default_symbols, nullptr);
    EXPECT_FALSE(f.default_symbols().empty()) << f.name;
    EXPECT_NE(f.make, nullptr) << f.name;
  }
  EXPECT_EQ(obr::sim::find_venue_piece("bitstamp"), nullptr);
  EXPECT_EQ(obr::sim::venue_piece_for_recording("bitstamp"), nullptr);
}

// A fault kind that only some venues have belongs to the pieces that list it (fault_owners);
// fault_venue names the owner when there is one, and none when several share the kind (it
// then goes to the fault's venue=, or to any of them).
TEST(SimVenues, OwnFaultKindsBelongToThePiecesThatListThem) {
  std::map<FaultKind, std::vector<std::string_view>> owners;
  for (const VenuePieceFactory& f : obr::sim::venue_pieces()) {
    for (FaultKind k : f.own_faults) owners[k].push_back(f.name);
  }
  for (const auto& [k, names] : owners) {
    EXPECT_EQ(obr::sim::fault_owners(k), names) << obr::sim::to_string(k);
    obr::sim::Fault fault;
    fault.kind = k;
    EXPECT_EQ(obr::sim::fault_venue(fault), names.size() == 1 ? names[0] : "") << obr::sim::to_string(k);
    fault.venue = names.back();
    EXPECT_EQ(obr::sim::fault_venue(fault), names.back()) << obr::sim::to_string(k);
  }
  obr::sim::Fault shared;
  shared.kind = FaultKind::kDrop;
  EXPECT_EQ(obr::sim::fault_venue(shared), "");
  EXPECT_TRUE(obr::sim::fault_owners(FaultKind::kDrop).empty());
}

// A started simulator serves every piece: an entry URL, the default books and their truth;
// a venue without a piece has none of them.
TEST(SimVenues, ASimulatorServesEveryPiece) {
  obr::net::EventLoop loop;
  obr::sim::SimConfig config;
  config.tls = false;
  obr::sim::Simulator sim(loop, config);
  std::string error;
  ASSERT_TRUE(sim.start(error)) << error;
  const std::string authority = "127.0.0.1:" + std::to_string(sim.port());
  for (const VenuePieceFactory& f : obr::sim::venue_pieces()) {
    const std::string url = sim.url(f.name);
    EXPECT_NE(url.find(authority), std::string::npos) << f.name << ": " << url;
    const auto symbols = sim.symbols(f.name);
    ASSERT_EQ(symbols.size(), f.default_symbols().size()) << f.name;
    for (const std::string& s : symbols) {
      EXPECT_FALSE(sim.truth_bids(f.name, s).empty()) << f.name << " " << s;
      EXPECT_FALSE(sim.truth_asks(f.name, s).empty()) << f.name << " " << s;
    }
  }
  // Where each venue's client starts: Kraken's, Binance's and Bybit's WebSockets, KuCoin's
  // REST base (no TLS here).
  EXPECT_EQ(sim.url("kraken"), "ws://" + authority + "/v2");
  EXPECT_EQ(sim.url("kucoin"), "http://" + authority);
  EXPECT_EQ(sim.url("binance"), "ws://" + authority + "/stream");
  EXPECT_EQ(sim.url("binance-usdm"), "ws://" + authority + "/fstream");
  EXPECT_EQ(sim.url("bybit-spot"), "ws://" + authority + "/v5/public/spot");
  EXPECT_EQ(sim.url("bybit-linear"), "ws://" + authority + "/v5/public/linear");
  EXPECT_EQ(sim.url("bybit-inverse"), "ws://" + authority + "/v5/public/inverse");
  EXPECT_EQ(sim.url("okx"), "ws://" + authority + "/ws/v5/public");
  // The REST base of the pieces that answer REST; none for Kraken's and Bybit's, which answer none.
  EXPECT_EQ(sim.rest_url("kucoin"), "http://" + authority);
  EXPECT_EQ(sim.rest_url("binance"), "http://" + authority);
  EXPECT_EQ(sim.rest_url("binance-usdm"), "http://" + authority);
  EXPECT_EQ(sim.rest_url("kraken"), "");
  EXPECT_EQ(sim.rest_url("bybit-linear"), "");
  EXPECT_EQ(sim.rest_url("okx"), "");
  for (const auto& r : obr::sim::replay_only_venues()) {
    EXPECT_TRUE(sim.url(r.name).empty()) << r.name;
    EXPECT_TRUE(sim.symbols(r.name).empty()) << r.name;
  }
  sim.stop();
}

// SimConfig's per-venue data is keyed by a piece's name: symbols under one piece's name
// replace that piece's bundled books and no other's, every piece has its counters from the
// start, and a name that is no piece's is refused instead of quietly serving the defaults.
TEST(SimVenues, PerVenueConfigIsKeyedByThePiecesName) {
  const auto pieces = obr::sim::venue_pieces();
  ASSERT_FALSE(pieces.empty());
  const VenuePieceFactory& first = pieces.front();
  obr::sim::SymbolSpec spec = first.default_symbols().front();
  spec.name = "KEYED" + spec.name;
  obr::net::EventLoop loop;
  obr::sim::SimConfig config;
  config.tls = false;
  config.symbols[std::string(first.name)] = {spec};
  obr::sim::Simulator sim(loop, config);
  EXPECT_EQ(sim.stats().venues.size(), pieces.size());
  for (const VenuePieceFactory& f : pieces) {
    EXPECT_EQ(sim.stats().venues.count(f.name), 1u) << f.name;
    if (&f == &first) {
      EXPECT_EQ(sim.symbols(f.name), std::vector<std::string>{spec.name});
    } else {
      EXPECT_EQ(sim.symbols(f.name).size(), f.default_symbols().size()) << f.name;
    }
  }

  // A misspelt name, and a replay-only venue (its recordings go to the piece it is served as).
  for (const std::string& name : {std::string("krakn"), std::string(obr::sim::replay_only_venues()[0].name)}) {
    obr::sim::SimConfig wrong;
    wrong.tls = false;
    wrong.markets[name] = nullptr;
    obr::sim::Simulator refused(loop, wrong);
    std::string error;
    EXPECT_FALSE(refused.start(error)) << name;
    EXPECT_EQ(error, "simulator: the configuration names the venue '" + name +
                         "', which has no piece (its venues: " + obr::sim::venue_piece_names() + ")");
  }
  // ... and in the per-venue timers too.
  obr::sim::SimConfig timed;
  timed.tls = false;
  timed.timers["krakn"].lifetime_ns = 1;
  obr::sim::Simulator refused(loop, timed);
  std::string error;
  EXPECT_FALSE(refused.start(error));
  EXPECT_EQ(error, "simulator: the configuration names the venue 'krakn', which has no piece (its venues: " +
                       obr::sim::venue_piece_names() + ")");
}

}  // namespace
