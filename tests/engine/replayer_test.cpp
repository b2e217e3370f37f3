#include "engine/replayer.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/book/test_data.h"
#include "tests/common/expected_json.h"

namespace obr::engine {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("obr_replayer_test_" + name)).string();
}

void write_gz(const std::string& path, const std::string& content) {
  gzFile out = gzopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(gzwrite(out, content.data(), static_cast<unsigned>(content.size())), static_cast<int>(content.size()));
  gzclose(out);
}

TEST(Replayer, RealRecordingPlainAndGzipGiveTheSameResult) {
  const std::string plain = obr::testing::data_path("kraken-v2/btcusd_d10_resubscribe.ndjson");
  const std::string gz = temp_path("d10.ndjson.gz");
  write_gz(gz, obr::testing::read_file(plain));
  for (const std::string& f : {plain, gz}) {
    absl::StatusOr<ReplaySummary> s = replay_files({f}, ReplayOptions{});
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->frames, 377u);
    EXPECT_EQ(s->malformed, 0u);
    ASSERT_EQ(s->books.size(), 1u);
    const ReplayBook& b = s->books[0];
    EXPECT_EQ(b.symbol, "BTC/USD");
    EXPECT_EQ(b.state, book::BookState::kLive);
    EXPECT_EQ(b.depth, 10);
    EXPECT_EQ(b.counters.snapshots, 5u);
    EXPECT_EQ(b.counters.updates, 296u);
    EXPECT_EQ(b.counters.checks_passed, 301u);
    EXPECT_EQ(b.counters.checks_failed, 0u);
    ASSERT_EQ(b.bids.size(), 10u);
    EXPECT_EQ(b.bids[0].price, "63004.9");
    EXPECT_EQ(b.bids[0].qty, "0.01661321");
    EXPECT_EQ(b.asks[0].price, "63005.0");
    EXPECT_EQ(b.asks[0].qty, "0.74804549");
    EXPECT_TRUE(s->all_checks_passed());
  }
  std::remove(gz.c_str());
}

TEST(Replayer, AllFourKrakenV2RecordingsInOneRun) {
  std::vector<std::string> files;
  for (const char* f : {"btcusd_d10_resubscribe", "btcusd_d25", "ethusd_d25", "xrpusd_d25"}) {
    files.push_back(obr::testing::data_path(std::string("kraken-v2/") + f + ".ndjson"));
  }
  absl::StatusOr<ReplaySummary> s = replay_files(files, ReplayOptions{});
  ASSERT_TRUE(s.ok()) << s.status();
  std::uint64_t passed = 0, failed = 0;
  for (const ReplayBook& b : s->books) {
    passed += b.counters.checks_passed;
    failed += b.counters.checks_failed;
  }
  ASSERT_EQ(s->books.size(), 4u);  // one book per file: BTC/USD twice
  EXPECT_EQ(s->books[0].file, files[0]);
  EXPECT_EQ(s->books[1].symbol, "BTC/USD");
  EXPECT_EQ(s->books[1].counters.checks_passed, 2052u);
  EXPECT_EQ(passed, 301u + 2052u + 1129u + 1147u);
  EXPECT_EQ(failed, 0u);
  EXPECT_EQ(s->malformed, 0u);
}

TEST(Replayer, GarbageLinesAreCountedWithFileAndLine) {
  const std::string path = temp_path("garbage.ndjson");
  std::string text = obr::testing::read_file(obr::testing::data_path("kraken-v2/btcusd_d25.ndjson"));
  const std::size_t third = text.find('\n', text.find('\n', text.find('\n') + 1) + 1);
  text.insert(third + 1, "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/USD\"}\n{oops\n");
  std::ofstream(path) << text;
  absl::StatusOr<ReplaySummary> s = replay_files({path}, ReplayOptions{});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->malformed, 2u);
  ASSERT_GE(s->errors.size(), 2u);
  EXPECT_EQ(s->errors[0].rfind(path + ":4: ", 0), 0u) << s->errors[0];
  EXPECT_EQ(s->errors[1].rfind(path + ":5: ", 0), 0u) << s->errors[1];
  // The truncated update named a live book: an update was lost, so that book is
  // invalidated and resynced (never served as live again without a snapshot).
  EXPECT_EQ(s->books[0].counters.checks_passed, 1u);  // the snapshot only
  EXPECT_EQ(s->books[0].state, book::BookState::kResyncing);
  EXPECT_EQ(s->books[0].counters.resyncs_requested, 1u);
  EXPECT_EQ(s->books[0].counters.updates, 0u);
  std::remove(path.c_str());
}

TEST(Replayer, UnreadableAndUnsupportedInputsNameTheFile) {
  absl::StatusOr<ReplaySummary> missing = replay_files({"/nonexistent/x.ndjson"}, ReplayOptions{});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/x.ndjson"), std::string::npos);
  const std::string path = temp_path("unknown.txt");
  std::ofstream(path) << "hello world\n";
  absl::StatusOr<ReplaySummary> unknown = replay_files({path}, ReplayOptions{});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find(path + ":1: unknown recording format"), std::string::npos)
      << unknown.status();
  std::ofstream(path) << "{\"hello\":1}\n";
  absl::StatusOr<ReplaySummary> no_venue = replay_files({path}, ReplayOptions{});
  EXPECT_EQ(no_venue.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_venue.status().message().find(path + ":1: cannot tell the venue"), std::string::npos)
      << no_venue.status();
  std::remove(path.c_str());
  ReplayOptions unknown_venue;
  unknown_venue.venue = "deribit";
  EXPECT_EQ(replay_files({path}, unknown_venue).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Replayer, KrakenV1CryptofeedRecordingDetectedAndValidated) {
  const std::string path = obr::testing::data_path("kraken-v1/KRAKEN.ws.50.0");
  absl::StatusOr<ReplaySummary> s = replay_files({path}, ReplayOptions{});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->frames, 4321u);
  EXPECT_EQ(s->malformed, 0u);
  ASSERT_EQ(s->books.size(), 10u);
  std::uint64_t passed = 0;
  for (const ReplayBook& b : s->books) {
    EXPECT_EQ(b.venue, "kraken-v1");
    EXPECT_EQ(b.state, book::BookState::kLive) << b.symbol;
    EXPECT_EQ(b.depth, 1000);
    EXPECT_EQ(b.counters.checks_failed, 0u);
    passed += b.counters.checks_passed;
  }
  EXPECT_EQ(passed, 4269u);
  EXPECT_EQ(s->books[1].symbol, "XMR/USD");
  EXPECT_EQ(s->books[1].bids[0].price, "353.64000000");
  EXPECT_EQ(s->books[1].bids[0].qty, "30.30000000");
  // --symbol keeps one book; --venue kraken (v2) on a v1 file is the user's call and
  // shows up as malformed frames, not a crash.
  ReplayOptions one;
  one.symbol = "SC/EUR";
  absl::StatusOr<ReplaySummary> only = replay_files({path}, one);
  ASSERT_TRUE(only.ok());
  ASSERT_EQ(only->books.size(), 1u);
  EXPECT_EQ(only->books[0].counters.checks_passed, 818u);
  ReplayOptions forced;
  forced.venue = "kraken";
  absl::StatusOr<ReplaySummary> wrong = replay_files({path}, forced);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->malformed, 4321u);
  EXPECT_TRUE(wrong->books.empty());
}

// The expected books written by an independent Decimal reference (tests/reference/), per
// symbol: KuCoin's and Binance's have the same form.
struct KucoinExpected {
  std::string state;
  std::uint64_t snapshots, updates, passed, failed;
  std::int64_t sequence;
  std::vector<ReplayLevel> bids, asks;
  std::uint64_t resyncs = 0;  // where the reference writes it (resyncs_requested)
};

// The independent Decimal reference (tests/reference/kucoin_reference.py), per symbol.
std::map<std::string, KucoinExpected> load_kucoin_expected(const char* file = "kucoin/KUCOIN.expected.json") {
  simdjson::padded_string json;
  EXPECT_EQ(simdjson::padded_string::load(obr::testing::data_path(file)).get(json), simdjson::SUCCESS);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);
  std::map<std::string, KucoinExpected> out;
  const simdjson::dom::array books = root["books"].get_array().value_unsafe();
  for (simdjson::dom::element b : books) {
    KucoinExpected& e = out[std::string(b["symbol"].get_string().value_unsafe())];
    e.state = std::string(b["state"].get_string().value_unsafe());
    e.snapshots = b["snapshots"].get_uint64().value_unsafe();
    e.updates = b["updates"].get_uint64().value_unsafe();
    e.passed = b["checks_passed"].get_uint64().value_unsafe();
    e.failed = b["checks_failed"].get_uint64().value_unsafe();
    e.sequence = b["sequence"].get_int64().value_unsafe();
    std::uint64_t resyncs = 0;
    if (b["resyncs_requested"].get_uint64().get(resyncs) == simdjson::SUCCESS) e.resyncs = resyncs;
    for (const char* side : {"bids", "asks"}) {
      for (const auto& pair : obr::testing::level_pairs(b, side)) {
        (std::string_view(side) == "bids" ? e.bids : e.asks).push_back({pair[0], pair[1]});
      }
    }
  }
  return out;
}

// expect_reference_book: a replayed book equals the reference's: state, counters, the last
// sequence and the top 10 levels.
void expect_reference_book(const ReplayBook& b, const KucoinExpected& e) {
  EXPECT_EQ(book::to_string(b.state), e.state);
  EXPECT_EQ(b.counters.snapshots, e.snapshots);
  EXPECT_EQ(b.counters.updates, e.updates);
  EXPECT_EQ(b.counters.checks_passed, e.passed);
  EXPECT_EQ(b.counters.checks_failed, e.failed);
  EXPECT_EQ(b.sequence, e.sequence);
  EXPECT_EQ(b.bids, e.bids);
  EXPECT_EQ(b.asks, e.asks);
}

// All 9 symbols of the real KuCoin recording calibrate from the recorded REST snapshots
// and end live with 0 gaps; every final book equals the independent reference.
TEST(Replayer, KucoinRecordingCalibratesEverySymbolAndMatchesReference) {
  const auto want = load_kucoin_expected();
  ASSERT_EQ(want.size(), 9u);
  absl::StatusOr<ReplaySummary> s =
      replay_files({obr::testing::data_path("kucoin/KUCOIN.ws.1.0"), obr::testing::data_path("kucoin/KUCOIN.http.0.0")},
                   ReplayOptions{});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->malformed, 0u);
  EXPECT_TRUE(s->errors.empty());
  ASSERT_EQ(s->books.size(), 9u);
  std::uint64_t applied = 0;
  for (const ReplayBook& b : s->books) {
    SCOPED_TRACE(b.symbol);
    ASSERT_EQ(want.count(b.symbol), 1u);
    const KucoinExpected& e = want.at(b.symbol);
    EXPECT_EQ(b.venue, "kucoin");
    EXPECT_EQ(b.state, book::BookState::kLive);
    expect_reference_book(b, e);
    EXPECT_EQ(b.counters.checks_failed, 0u);
    EXPECT_EQ(b.counters.crossed, 0u);
    EXPECT_GT(b.trusted_depth, 0);  // full-depth snapshots: every level is exact
    applied += b.counters.updates;
  }
  EXPECT_EQ(applied, 3805u);  // docs/venues/kucoin.md: 3 805 applied messages
}

// The real Binance spot recording (cryptofeed, 2021-10-12): all 4 symbols bridge their
// recorded REST snapshots (limit 1000) with 0 gaps; every final book equals the independent
// reference (tests/reference/binance_reference.py), in the venue's own fixed decimals.
TEST(Replayer, BinanceRecordingBridgesEverySymbolAndMatchesReference) {
  const auto want = load_kucoin_expected("binance/BINANCE.expected.json");
  ASSERT_EQ(want.size(), 4u);
  absl::StatusOr<ReplaySummary> s = replay_files(
      {obr::testing::data_path("binance/BINANCE.ws.1.0"), obr::testing::data_path("binance/BINANCE.http.0.0")},
      ReplayOptions{});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->malformed, 0u);
  EXPECT_TRUE(s->errors.empty());
  ASSERT_EQ(s->books.size(), 4u);
  std::uint64_t applied = 0;
  const std::map<std::string, std::int64_t> trusted = {
      {"NKNUSDT", 614}, {"BLZETH", 173}, {"LRCBTC", 176}, {"RUNEEUR", 222}};
  for (const ReplayBook& b : s->books) {
    SCOPED_TRACE(b.symbol);
    ASSERT_EQ(want.count(b.symbol), 1u);
    const KucoinExpected& e = want.at(b.symbol);
    EXPECT_EQ(b.venue, "binance");
    EXPECT_EQ(b.state, book::BookState::kLive);
    expect_reference_book(b, e);
    EXPECT_EQ(b.counters.checks_failed, 0u);
    EXPECT_EQ(b.counters.crossed, 0u);
    // A 1000-level snapshot that came back full on a side vouches for its range only.
    EXPECT_EQ(b.trusted_depth, trusted.at(b.symbol));
    applied += b.counters.updates;
  }
  EXPECT_EQ(applied, 172u);  // docs/venues/binance.md: 4 bridges and 168 contiguous events
}

// Generated Binance captures, each with one kind of trouble (tests/reference/
// binance_sessions.py: a stale first snapshot, a gap, a duplicate, a reorder, snapshots
// fetched while live, snapshots after newer events were buffered, USD-M, a session that
// ends resyncing), replay to the states, counters and books of the independent reference.
class BinanceGenerated : public ::testing::TestWithParam<const char*> {};

TEST_P(BinanceGenerated, ReplaysToTheReference) {
  const std::string base = std::string("binance/generated/") + GetParam();
  const auto want = load_kucoin_expected((base + ".expected.json").c_str());
  ASSERT_EQ(want.size(), 2u);
  absl::StatusOr<ReplaySummary> s =
      replay_files({obr::testing::data_path(base + ".ws.1.0"), obr::testing::data_path(base + ".http.0.0")}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->malformed, 0u);
  ASSERT_EQ(s->books.size(), 2u);
  for (const ReplayBook& b : s->books) {
    SCOPED_TRACE(b.symbol);
    ASSERT_EQ(want.count(b.symbol), 1u);
    const KucoinExpected& e = want.at(b.symbol);
    EXPECT_EQ(b.venue, std::string(GetParam()) == "usdm" ? "binance-usdm" : "binance");
    expect_reference_book(b, e);
    EXPECT_EQ(b.counters.resyncs_requested, e.resyncs);
  }
}

INSTANTIATE_TEST_SUITE_P(Sessions, BinanceGenerated,
                         ::testing::Values("stale", "gap", "duplicate", "reorder", "refetch", "buffered", "usdm",
                                           "unfinished"));

// A recording with one delta removed is caught at the gap; with no later snapshot in the
// file that book never claims to be live again, and every other book is unaffected.
TEST(Replayer, KucoinRemovedDeltaIsCaughtAtTheGap) {
  std::vector<std::string> lines;
  {
    std::istringstream in(obr::testing::read_file(obr::testing::data_path("kucoin/KUCOIN.ws.1.0")));
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  // Remove the 100th SNX-BTC delta (well after calibration).
  int seen = 0;
  std::size_t removed = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("\"symbol\":\"SNX-BTC\"") != std::string::npos && ++seen == 100) removed = i;
  }
  ASSERT_NE(removed, 0u);
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(removed));
  const std::string dir = temp_path("kucoin_gap");
  std::filesystem::create_directories(dir);
  const std::string ws = dir + "/KUCOIN.ws.1.0", http = dir + "/KUCOIN.http.0.0";
  {
    std::ofstream out(ws);
    for (const std::string& l : lines) out << l << '\n';
  }
  std::filesystem::copy_file(obr::testing::data_path("kucoin/KUCOIN.http.0.0"), http,
                             std::filesystem::copy_options::overwrite_existing);
  absl::StatusOr<ReplaySummary> s = replay_files({ws, http}, ReplayOptions{});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->all_checks_passed());
  for (const ReplayBook& b : s->books) {
    if (b.symbol == "SNX-BTC") {
      EXPECT_EQ(b.counters.checks_failed, 1u);
      // The 99 deltas before the removed one, less the 4 the snapshot already covered
      // (the reference applies 600 of SNX-BTC's 604).
      EXPECT_EQ(b.counters.checks_passed, 95u);
      EXPECT_NE(b.state, book::BookState::kLive);
      EXPECT_EQ(b.counters.resyncs_requested, 1u);
    } else {
      EXPECT_EQ(b.counters.checks_failed, 0u) << b.symbol;
      EXPECT_EQ(b.state, book::BookState::kLive) << b.symbol;
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(Replayer, HttpFileWithoutItsWebSocketFileIsAnError) {
  absl::StatusOr<ReplaySummary> s = replay_files({obr::testing::data_path("kucoin/KUCOIN.http.0.0")}, ReplayOptions{});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("KUCOIN.http.0.0: REST responses without their WebSocket recording"),
            std::string::npos)
      << s.status();
}

TEST(Replayer, JsonSummaryParsesAndCarriesTheCounts) {
  absl::StatusOr<ReplaySummary> s =
      replay_files({obr::testing::data_path("kraken-v2/xrpusd_d25.ndjson")}, ReplayOptions{});
  ASSERT_TRUE(s.ok());
  const std::string json = to_json(*s);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(root["frames"].get_uint64().value_unsafe(), 1192u);
  EXPECT_EQ(root["malformed"].get_uint64().value_unsafe(), 0u);
  simdjson::dom::element b = root["books"].at(0).value_unsafe();
  EXPECT_EQ(b["venue"].get_string().value_unsafe(), "kraken");
  EXPECT_EQ(b["symbol"].get_string().value_unsafe(), "XRP/USD");
  EXPECT_EQ(b["state"].get_string().value_unsafe(), "live");
  EXPECT_EQ(b["checks_passed"].get_uint64().value_unsafe(), 1147u);
  EXPECT_EQ(b["checks_failed"].get_uint64().value_unsafe(), 0u);
  EXPECT_EQ(b["bids"].at(0).at(0).get_string().value_unsafe(), "1.08083");
  EXPECT_EQ(b["asks"].at(0).at(1).get_string().value_unsafe(), "4822.20340504");
}

}  // namespace
}  // namespace obr::engine
