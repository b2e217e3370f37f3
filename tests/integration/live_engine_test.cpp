// tests/integration/live_engine_test.cpp — the engine against the exchange simulator on
// loopback (TLS): books go live, equal the simulator's truth, and every fault kind is
// detected, confined to what it hit, and recovered from.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "tests/integration/sim_harness.h"
#include "tools/sim/faults.h"

namespace {

using obr::book::BookState;
using obr::connectors::StateReason;
using obr::testing::SimHarness;

obr::sim::Fault fault(const std::string& spec) {
  std::string error;
  auto f = obr::sim::parse_fault(spec, error);
  EXPECT_TRUE(f.has_value()) << error;
  return f.value_or(obr::sim::Fault{});
}

// Compare every replica with the truth exactly once the market is paused and drained.
void expect_books_equal_truth(SimHarness& h) {
  h.sim().pause_market(true);
  h.run_for_ms(300);
  std::size_t compared = 0;
  h.engine().for_each_book([&](std::string_view venue, std::string_view symbol, const obr::book::OrderBook& b) {
    const auto tb = h.sim().truth_bids(venue, symbol);
    const auto ta = h.sim().truth_asks(venue, symbol);
    const auto rb = obr::testing::top_levels(b.bids(), 10);
    const auto ra = obr::testing::top_levels(b.asks(), 10);
    ASSERT_GE(tb.size(), 10u);
    EXPECT_TRUE(std::equal(rb.begin(), rb.end(), tb.begin(), tb.begin() + 10)) << venue << " " << symbol;
    EXPECT_TRUE(std::equal(ra.begin(), ra.end(), ta.begin(), ta.begin() + 10)) << venue << " " << symbol;
    EXPECT_EQ(rb.size(), 10u);
    ++compared;
  });
  EXPECT_EQ(compared, 6u);
  h.sim().pause_market(false);
}

TEST(LiveEngine, NoFaultsEveryBookLiveAndEqualToTheTruth) {
  SimHarness h({});
  ASSERT_TRUE(h.started()) << h.error();
  ASSERT_TRUE(h.run_until([&] { return h.all_live(); }, 15000)) << "live books: " << h.live_books();
  h.run_for_ms(2000);
  EXPECT_EQ(h.live_books(), 6u);
  EXPECT_EQ(h.left_live(), 0u);
  EXPECT_EQ(h.wrong_live, 0u);
  EXPECT_GT(h.live_callbacks, 500u);
  EXPECT_EQ(h.engine().stats().malformed, 0u);
  expect_books_equal_truth(h);
  // The published top of book agrees with the book.
  obr::engine::TopOfBook top;
  ASSERT_TRUE(h.engine().top("kraken", "BTC/USD", top));
  EXPECT_EQ(top.state, BookState::kLive);
  EXPECT_EQ(top.bid_count, 5);
  EXPECT_EQ(top.bids[0], h.sim().truth_bids("kraken", "BTC/USD")[0]);
  EXPECT_FALSE(h.engine().top("kraken", "NOPE/USD", top));
}

TEST(LiveEngine, PlainWebSocketWorksToo) {
  SimHarness h({}, /*tls=*/false);
  ASSERT_TRUE(h.started()) << h.error();
  ASSERT_TRUE(h.run_until([&] { return h.all_live(); }, 15000)) << "live books: " << h.live_books();
  EXPECT_EQ(h.wrong_live, 0u);
}

// One fault, and what must follow: `reason` seen on `symbol` (empty: any book), only the
// expected books left live, and everything live again with no wrong book shown.
struct FaultCase {
  const char* spec;
  StateReason reason;        // the detection (kSubscribed = none expected: the fault is harmless)
  const char* symbol;        // the book that must react ("" = a whole connection)
  bool others_stay_live;     // book-level faults must not touch other books
  const char* error = "";    // a reported error that must appear (the detection, when not a state)
};

class LiveEngineFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(LiveEngineFault, IsDetectedConfinedAndRecovered) {
  const FaultCase& c = GetParam();
  std::vector<obr::sim::Fault> faults{fault(c.spec)};
  if (std::string(c.spec).starts_with("stale_snapshot")) {
    faults.push_back(fault("drop@t=2.5s,venue=kucoin,symbol=ETH-USDT"));  // forces a new snapshot
  }
  SimHarness h(faults);
  ASSERT_TRUE(h.started()) << h.error();
  ASSERT_TRUE(h.run_until([&] { return h.sim().fired().size() == faults.size(); }, 20000))
      << "fault did not fire: " << c.spec;
  const bool healthy = h.run_until(
      [&] {
        bool detected = c.reason == StateReason::kSubscribed || h.saw_reason(c.reason, c.symbol);
        if (*c.error != 0) {
          detected = std::any_of(h.errors.begin(), h.errors.end(),
                                 [&](const std::string& e) { return e.find(c.error) != std::string::npos; });
        }
        return detected && h.all_live();
      },
      20000);
  h.run_for_ms(500);
  EXPECT_TRUE(healthy) << "detected: " << h.saw_reason(c.reason, c.symbol) << " live: " << h.live_books();
  EXPECT_EQ(h.live_books(), 6u);
  EXPECT_EQ(h.wrong_live, 0u);
  EXPECT_GT(h.live_callbacks, 100u);
  if (c.others_stay_live) {
    for (const auto& t : h.transitions) {
      if (t.from == BookState::kLive) {
        EXPECT_EQ(t.symbol, c.symbol) << "an unaffected book left live";
      }
    }
  }
  expect_books_equal_truth(h);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, LiveEngineFault,
    ::testing::Values(
        // A dropped or reordered Kraken update is usually caught by the next checksum, but the
        // next update can also overwrite it (absolute quantities): then the book is right and
        // nothing is detectable. Detection is not required; no wrong live book still is.
        FaultCase{"drop@t=1.5s,venue=kraken,symbol=ETH/USD", StateReason::kSubscribed, "ETH/USD", true},
        FaultCase{"drop@t=1.5s,venue=kucoin,symbol=SOL-USDT", StateReason::kSequenceGap, "SOL-USDT", true},
        FaultCase{"corrupt_checksum@t=1.5s,symbol=BTC/USD", StateReason::kChecksumMismatch, "BTC/USD", true},
        FaultCase{"skip_sequence=3@t=1.5s,symbol=BTC-USDT", StateReason::kSequenceGap, "BTC-USDT", true},
        FaultCase{"duplicate@t=1.5s,venue=kraken,symbol=XRP/USD", StateReason::kSubscribed, "XRP/USD", true},
        FaultCase{"duplicate@t=1.5s,venue=kucoin,symbol=ETH-USDT", StateReason::kSubscribed, "ETH-USDT", true},
        FaultCase{"reorder@t=1.5s,venue=kraken,symbol=BTC/USD", StateReason::kSubscribed, "BTC/USD", true},
        FaultCase{"reorder@t=1.5s,venue=kucoin,symbol=BTC-USDT", StateReason::kSequenceGap, "BTC-USDT", true},
        FaultCase{"stall@t=1.5s,venue=kraken", StateReason::kDisconnected, "", false},
        FaultCase{"stall@t=1.5s,venue=kucoin", StateReason::kDisconnected, "", false},
        FaultCase{"close@t=1.5s,venue=kraken", StateReason::kDisconnected, "", false},
        FaultCase{"close_code=4000@t=1.5s,venue=kucoin", StateReason::kDisconnected, "", false},
        FaultCase{"maintenance@t=1.5s", StateReason::kMaintenance, "", false},
        FaultCase{"malformed@t=1.5s,venue=kraken", StateReason::kSubscribed, "", true, "kraken: not JSON"},
        FaultCase{"oversized@t=1.5s,venue=kucoin", StateReason::kDisconnected, "", false},
        FaultCase{"refuse_token", StateReason::kSubscribed, "", false, "bullet-public: refused"},
        FaultCase{"expire_token", StateReason::kSubscribed, "", false, "token is expired"},
        FaultCase{"fail_endpoint", StateReason::kSubscribed, "", false},
        FaultCase{"rest_429,symbol=BTC-USDT", StateReason::kSubscribed, "", false, "BTC-USDT: order book snapshot: HTTP error"},
        FaultCase{"rest_418,symbol=ETH-USDT", StateReason::kSubscribed, "", false, "ETH-USDT: order book snapshot: HTTP error"},
        FaultCase{"rest_500,symbol=SOL-USDT", StateReason::kSubscribed, "", false, "SOL-USDT: order book snapshot: HTTP error"},
        FaultCase{"stale_snapshot@t=2.5s,symbol=ETH-USDT", StateReason::kSubscribed, "ETH-USDT", true,
                  "kucoin: ETH-USDT: snapshot does not line up"}),
    [](const ::testing::TestParamInfo<FaultCase>& param) {
      std::string name = param.param.spec;
      name = name.substr(0, name.find('@'));
      name = name.substr(0, name.find(','));
      name = name.substr(0, name.find('='));
      return name + "_" + std::to_string(param.index);
    });

}  // namespace
