// RecordedMarket: real recordings become the simulator's market, step by step, and the
// books it ends on are the ones the independent references computed from the same files.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "book/decimal.h"
#include "connectors/net/event_loop.h"
#include "engine/replayer.h"
#include "tests/book/test_data.h"
#include "tests/common/expected_json.h"
#include "tools/sim/recorded_market.h"
#include "tools/sim/simulator.h"

namespace {

using obr::book::Level;
using obr::book::Side;
using obr::sim::LevelDelta;
using obr::sim::RecordedMarket;

const std::string kData = obr::testing::data_path("").substr(0, obr::testing::data_path("").size() - 1);

// canonical drops trailing fractional zeros (KuCoin's expected books are written so).
std::string canonical(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::vector<std::vector<std::string>> top_text(std::span<const Level> side, int ps, int qs, bool trim) {
  std::vector<std::vector<std::string>> out;
  for (std::size_t i = 0; i < side.size() && i < 10; ++i) {
    std::string p = obr::book::to_decimal_string(side[i].price, ps);
    std::string q = obr::book::to_decimal_string(side[i].qty, qs);
    out.push_back(trim ? std::vector<std::string>{canonical(p), canonical(q)} : std::vector<std::string>{p, q});
  }
  return out;
}

// expect_books_as_expected: every book of `m` has the top 10 of the expected file's book of
// the same symbol; returns how many books were compared.
std::size_t expect_books_as_expected(const RecordedMarket& m, const std::vector<std::string>& expected_files,
                                     bool trim) {
  std::size_t compared = 0;
  for (const std::string& f : expected_files) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array books;
    EXPECT_EQ(parser.load(f).get(doc), simdjson::SUCCESS) << f;
    EXPECT_EQ(doc["books"].get(books), simdjson::SUCCESS) << f;
    for (simdjson::dom::element b : books) {
      const std::string symbol(b["symbol"].get_string().value_unsafe());
      for (std::size_t i = 0; i < m.symbol_count(); ++i) {
        if (m.spec(i).name != symbol) continue;
        const auto& s = m.spec(i);
        EXPECT_EQ(top_text(m.bids(i), s.price_scale, s.qty_scale, trim), obr::testing::level_pairs(b, "bids"))
            << symbol;
        EXPECT_EQ(top_text(m.asks(i), s.price_scale, s.qty_scale, trim), obr::testing::level_pairs(b, "asks"))
            << symbol;
        ++compared;
      }
    }
  }
  return compared;
}

TEST(DiffLevels, DeletesGoneSetsNewAndChanged) {
  const std::vector<Level> before = {{100, 5}, {99, 7}, {97, 1}};
  const std::vector<Level> after = {{101, 2}, {100, 5}, {97, 3}, {96, 4}};
  std::vector<LevelDelta> out;
  obr::sim::diff_levels(Side::kBid, before, after, out);
  const std::vector<LevelDelta> want = {
      {Side::kBid, 101, 2}, {Side::kBid, 99, 0}, {Side::kBid, 97, 3}, {Side::kBid, 96, 4}};
  EXPECT_EQ(out, want);
  out.clear();
  obr::sim::diff_levels(Side::kAsk, std::vector<Level>{{10, 1}, {12, 2}}, std::vector<Level>{{11, 1}, {12, 2}}, out);
  const std::vector<LevelDelta> want_asks = {{Side::kAsk, 10, 0}, {Side::kAsk, 11, 1}};
  EXPECT_EQ(out, want_asks);
  out.clear();
  obr::sim::diff_levels(Side::kAsk, std::vector<Level>{{1, 1}}, std::vector<Level>{{1, 1}}, out);
  EXPECT_TRUE(out.empty());  // unchanged: nothing
}

TEST(RecordedMarket, KrakenV2RecordingsPlayToTheReferenceBooksAndLoop) {
  const std::string d = kData + "/kraken-v2/";
  auto loaded = RecordedMarket::load({d + "btcusd_d25.ndjson", d + "ethusd_d25.ndjson", d + "xrpusd_d25.ndjson"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_NE(loaded->market("kraken"), nullptr);
  EXPECT_EQ(loaded->market("kucoin"), nullptr);
  RecordedMarket& m = *loaded->market("kraken");
  ASSERT_EQ(m.symbol_count(), 3u);
  EXPECT_EQ(m.spec(0).name, "BTC/USD");
  EXPECT_EQ(m.spec(1).name, "ETH/USD");
  EXPECT_EQ(m.spec(2).name, "XRP/USD");
  EXPECT_EQ(m.spec(0).price_scale, 1);
  EXPECT_EQ(m.spec(0).qty_scale, 8);
  EXPECT_EQ(m.spec(2).price_scale, 5);
  // Every one of the 2 051 + 1 128 + 1 146 updates after the three snapshots moved a book.
  EXPECT_EQ(m.step_count(), 4325u);
  // The first state is each recording's snapshot: 25 levels a side.
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(m.bids(i).size(), 25u);
    EXPECT_EQ(m.asks(i).size(), 25u);
  }
  const std::vector<Level> start_bids(m.bids(0).begin(), m.bids(0).end());
  std::vector<std::int64_t> last_seq(3, 0);
  for (std::size_t k = 0; k < m.step_count(); ++k) {
    const obr::sim::Change& c = m.next();
    ASSERT_FALSE(c.deltas.empty());
    ASSERT_EQ(c.first_sequence, last_seq[c.symbol] + 1);  // contiguous per symbol
    ASSERT_EQ(c.sequence, c.first_sequence + static_cast<std::int64_t>(c.deltas.size()) - 1);
    last_seq[c.symbol] = c.sequence;
    ASSERT_EQ(m.bids(c.symbol).size(), 25u) << "step " << k;  // depth kept: deletes are refilled
  }
  EXPECT_EQ(m.laps(), 0u);
  EXPECT_EQ(
      expect_books_as_expected(
          m, {d + "btcusd_d25.expected.json", d + "ethusd_d25.expected.json", d + "xrpusd_d25.expected.json"}, false),
      3u);
  // Past the end: each symbol returns to its first state in one Change, then lap 2 starts.
  for (std::size_t k = 0; k < 3; ++k) m.next();
  EXPECT_TRUE(std::equal(start_bids.begin(), start_bids.end(), m.bids(0).begin(), m.bids(0).end()));
  EXPECT_EQ(m.laps(), 0u);
  m.next();
  EXPECT_EQ(m.laps(), 1u);
}

TEST(RecordedMarket, KucoinRecordingWithItsRestSnapshotsPlaysToTheReferenceBooks) {
  const std::string d = kData + "/kucoin/";
  auto loaded = RecordedMarket::load({d + "KUCOIN.ws.1.0", d + "KUCOIN.http.0.0"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->market("kraken"), nullptr);
  ASSERT_NE(loaded->market("kucoin"), nullptr);
  RecordedMarket& m = *loaded->market("kucoin");
  EXPECT_EQ(m.symbol_count(), 9u);
  // 3 805 deltas applied; the recording's price-"0" entries only advance the sequence
  // (docs/venues/kucoin.md, "Entries"), so 2 469 messages moved a book.
  EXPECT_EQ(m.step_count(), 2469u);
  for (std::size_t k = 0; k < m.step_count(); ++k) m.next();
  EXPECT_EQ(expect_books_as_expected(m, {d + "KUCOIN.expected.json"}, true), 9u);
}

TEST(RecordedMarket, KrakenV1RecordingServesAsKrakenBooksAtItsDepth) {
  auto loaded = RecordedMarket::load({kData + "/kraken-v1/KRAKEN.ws.50.0"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_NE(loaded->market("kraken"), nullptr);
  RecordedMarket& m = *loaded->market("kraken");
  EXPECT_EQ(m.symbol_count(), 10u);
  EXPECT_EQ(m.step_count(), 4269u);  // one per checksummed update
  for (std::size_t k = 0; k < m.step_count(); ++k) m.next();
  EXPECT_EQ(expect_books_as_expected(m, {kData + "/kraken-v1/KRAKEN.ws.50.0.expected.json"}, false), 10u);
}

// An obr recording (one engine run, both venues) gives both markets at once, each ending on
// the books `obr replay` reports for the same file.
TEST(RecordedMarket, ObrRecordingGivesBothVenuesEndingOnTheReplayedBooks) {
  const std::string file = kData + "/../fuzz/seeds/recording/obr_kraken_kucoin.rec";
  auto loaded = RecordedMarket::load({file});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const auto kraken = loaded->market("kraken");
  const auto kucoin = loaded->market("kucoin");
  ASSERT_NE(kraken, nullptr);
  ASSERT_NE(kucoin, nullptr);
  EXPECT_EQ(loaded->markets.size(), 2u);
  EXPECT_EQ(kraken->symbol_count(), 1u);
  EXPECT_EQ(kraken->spec(0).name, "BTC/USD");
  EXPECT_EQ(kucoin->symbol_count(), 1u);
  EXPECT_EQ(kucoin->spec(0).name, "BTC-USDT");
  EXPECT_EQ(kraken->step_count(), 23u);  // its 23 updates
  EXPECT_EQ(kucoin->step_count(), 14u);  // messages that moved the live book
  const auto summary = obr::engine::replay_files({file}, {});
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(summary->books.size(), 2u);
  for (const obr::engine::ReplayBook& b : summary->books) {
    RecordedMarket& m = b.venue == "kraken" ? *kraken : *kucoin;
    for (std::size_t k = 0; k < m.step_count(); ++k) m.next();
    const bool trim = b.venue == "kucoin";
    std::vector<std::vector<std::string>> bids, asks;
    for (const auto& l : b.bids) bids.push_back({l.price, l.qty});
    for (const auto& l : b.asks) asks.push_back({l.price, l.qty});
    EXPECT_EQ(top_text(m.bids(0), m.spec(0).price_scale, m.spec(0).qty_scale, trim), bids) << b.venue;
    EXPECT_EQ(top_text(m.asks(0), m.spec(0).price_scale, m.spec(0).qty_scale, trim), asks) << b.venue;
  }
}

// A recording with times has a clock: each step at its recorded time after the venue's
// first live book, the return to the start one mean step interval (at least 1 ms) after
// the last step, and the next lap the same times again, one lap later.
TEST(RecordedMarketClock, StepsKeepTheirTimesAndLapsFollowOneAnother) {
  RecordedMarket::Start start;
  start.spec.name = "PACE/USD";
  start.bids = {Level{100, 1}};
  start.asks = {Level{101, 1}};
  constexpr std::int64_t kMs = 1'000'000;
  const std::vector<RecordedMarket::Step> steps = {
      {0, {LevelDelta{Side::kBid, 99, 1}}, 0},
      {0, {LevelDelta{Side::kBid, 98, 1}}, 5 * kMs},
      {0, {LevelDelta{Side::kBid, 99, 0}}, 5 * kMs},
      {0, {LevelDelta{Side::kAsk, 102, 1}}, 20 * kMs},
  };
  RecordedMarket m({start}, steps);
  ASSERT_TRUE(m.has_clock());
  EXPECT_EQ(m.lap_ns(), 25 * kMs);  // 20 ms + the mean interval, 20 / 4 = 5 ms
  std::vector<std::int64_t> at;
  for (int k = 0; k < 10; ++k) {
    at.push_back(m.next_at_ns());
    m.next();
  }
  // 4 steps, the return to the start (one Change: one symbol), then lap 2.
  EXPECT_EQ(at, (std::vector<std::int64_t>{0, 5 * kMs, 5 * kMs, 20 * kMs, 25 * kMs, 25 * kMs, 30 * kMs, 30 * kMs,
                                           45 * kMs, 50 * kMs}));
  EXPECT_EQ(m.laps(), 1u);

  // No clock: a step without a time, or times that go back.
  auto untimed = steps;
  untimed[2].at_ns = -1;
  EXPECT_FALSE(RecordedMarket({start}, untimed).has_clock());
  EXPECT_EQ(RecordedMarket({start}, untimed).next_at_ns(), -1);
  auto backwards = steps;
  backwards[3].at_ns = 4 * kMs;
  EXPECT_FALSE(RecordedMarket({start}, backwards).has_clock());
}

// cryptofeed_time_span: the earliest and latest times in a cryptofeed file: received frames
// are "SECONDS: frame", sent ones and connections "url <- SECONDS: ..." / "url <-> SECONDS".
std::pair<double, double> cryptofeed_time_span(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  double first = -1, last = -1;
  while (std::getline(in, line)) {
    const char* at = nullptr;
    if (!line.empty() && line[0] >= '0' && line[0] <= '9') {
      at = line.c_str();
    } else if (const std::size_t arrow = line.find(" <-"); arrow != std::string::npos) {
      at = line.c_str() + line.find(' ', arrow + 1) + 1;
    }
    if (at == nullptr) continue;
    const double t = std::strtod(at, nullptr);
    first = first < 0 ? t : std::min(first, t);
    last = std::max(last, t);
  }
  return {first, last};
}

TEST(RecordedMarketClock, KucoinRecordingKeepsItsTimesARawCaptureHasNone) {
  const std::string d = kData + "/kucoin/";
  auto loaded = RecordedMarket::load({d + "KUCOIN.ws.1.0", d + "KUCOIN.http.0.0"});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_NE(loaded->market("kucoin"), nullptr);
  RecordedMarket& m = *loaded->market("kucoin");
  ASSERT_TRUE(m.has_clock());
  const auto [first_s, last_s] = cryptofeed_time_span(d + "KUCOIN.ws.1.0");
  ASSERT_GT(last_s, first_s);
  std::vector<std::int64_t> lap1;
  for (std::size_t k = 0; k < m.step_count(); ++k) {
    lap1.push_back(m.next_at_ns());
    m.next();
  }
  EXPECT_GE(lap1.front(), 0);
  EXPECT_TRUE(std::is_sorted(lap1.begin(), lap1.end()));
  // Every step lies within the time the file spans.
  EXPECT_LE(lap1.back(), static_cast<std::int64_t>((last_s - first_s) * 1e9) + 1);
  EXPECT_EQ(m.lap_ns(), lap1.back() + std::max<std::int64_t>(1'000'000, lap1.back() / 2469));
  // The returns to the start, then lap 2 at the same times one lap later.
  while (m.laps() == 0) {
    EXPECT_EQ(m.next_at_ns(), m.lap_ns());
    m.next();
  }
  for (std::size_t k = 1; k < 100; ++k) {
    ASSERT_EQ(m.next_at_ns(), lap1[k] + m.lap_ns()) << k;
    m.next();
  }

  auto raw = RecordedMarket::load({kData + "/kraken-v2/btcusd_d25.ndjson"});
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_NE(raw->market("kraken"), nullptr);
  EXPECT_FALSE(raw->market("kraken")->has_clock());
  EXPECT_EQ(raw->market("kraken")->next_at_ns(), -1);
  // use_recordings refuses to pace it by its recorded times, naming the file.
  obr::sim::SimConfig config;
  config.speed = 1;
  auto refused = obr::sim::use_recordings({kData + "/kraken-v2/btcusd_d25.ndjson"}, config);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            kData +
                "/kraken-v2/btcusd_d25.ndjson: the Kraken books have no usable recorded times (a raw capture has "
                "none; times that go backwards are not usable), so they cannot be played at their recorded pace; "
                "pace them by a rate of changes instead");
  EXPECT_FALSE(config.markets.contains("kraken"));
}

// The simulator plays a market with a clock at `speed` times its pace: after T of wall time
// it has sent the steps due by about speed * T, never more than those due by then.
TEST(RecordedMarketClock, TheSimulatorPlaysAClockedMarketAtItsPace) {
  constexpr std::int64_t kMs = 1'000'000;
  auto make = [](const std::string& name) {
    RecordedMarket::Start start;
    start.spec.name = name;
    start.bids = {Level{100, 1}};
    start.asks = {Level{101, 1}};
    std::vector<RecordedMarket::Step> steps;
    for (std::int64_t k = 0; k < 1000; ++k)
      steps.push_back({0, {LevelDelta{Side::kBid, 100, 2 + k % 2}}, 20 * kMs * k});
    return std::make_shared<RecordedMarket>(std::vector<RecordedMarket::Start>{start}, std::move(steps));
  };
  obr::net::EventLoop loop;
  obr::sim::SimConfig config;
  config.tls = false;
  config.speed = 2;  // one step every 10 ms of wall time
  // The other pieces' synthetic markets stay still, so market_changes counts these two.
  config.changes_per_s = 0;
  config.markets["kraken"] = make("PACE/USD");
  config.markets["kucoin"] = make("PACE-USDT");
  obr::sim::Simulator sim(loop, config);
  std::string error;
  const std::int64_t t0 = obr::net::now_ns();
  ASSERT_TRUE(sim.start(error)) << error;
  loop.run_for(500 * kMs);
  sim.pause_market(true);
  const std::int64_t wall = obr::net::now_ns() - t0;
  const std::uint64_t changes = sim.stats().market_changes;
  // Due by the market clock (2 x the time since start): steps at 0, 20, 40 ... ms of it.
  const auto due = [&](std::int64_t wall_ns) {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, 2 * wall_ns / (20 * kMs) + 1));
  };
  EXPECT_LE(changes, 2 * due(wall)) << "wall " << wall;
  EXPECT_GE(changes, 2 * due(wall - 100 * kMs)) << "wall " << wall;
  EXPECT_EQ(changes % 2, 0u);  // both venues keep the same clock
}

TEST(RecordedMarket, ErrorsNameTheFileAndWhatWasWrong) {
  auto missing = RecordedMarket::load({"/nonexistent/rec.ndjson"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/rec.ndjson"), std::string::npos) << missing.status();

  const std::string quiet = ::testing::TempDir() + "obr-recorded-quiet.ndjson";
  std::ofstream(quiet) << R"({"channel":"heartbeat"})"
                       << "\n"
                       << R"({"channel":"heartbeat"})"
                       << "\n";
  auto none = RecordedMarket::load({quiet});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(),
            quiet + ": no book went live in these recordings (2 frames, 0 malformed), so there is no market to serve");
}

}  // namespace
