// tests/engine/replayer_test.cpp — replay_files (engine/replayer.h) on real and generated
// recordings. Sections, in order: Kraken v2 and v1 (plain and gzip, bad lines, unreadable
// inputs); KuCoin and Binance bridged to their REST snapshots, against the independent
// references; Bybit and OKX, against theirs; trouble and output (a removed delta, a lone
// REST file, the JSON summary); JSON-lines captures (several connections in one file).
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

#include "engine/engine.h"
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

// ---- Kraken v2 and v1 -------------------------------------------------------------------

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
  EXPECT_EQ(no_venue.status().message(), path +
                                             ":1: cannot tell the venue: none of the 1 frame(s) (the first on this "
                                             "line) names one by the end of the file; pass --venue VENUE (VENUE: " +
                                             venue_names() + ")")
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

// ---- KuCoin and Binance, bridged to REST snapshots --------------------------------------

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

// ---- Bybit and OKX -----------------------------------------------------------------------

// expect_reference_books: `capture` replays with no malformed frame to exactly the books of
// an independent reference's expected file (tests/reference/), in its order: state, every
// counter, the last sequence and the top 10. Books of a JSON-lines capture name their
// connection ("conn", the file then "FILE#CONN") and their venue; the others are `venue`'s.
void expect_reference_books(const std::string& capture, const std::string& expected_file, std::size_t books,
                            std::string_view venue = {}) {
  absl::StatusOr<ReplaySummary> s = replay_files({obr::testing::data_path(capture)}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->malformed, 0u);
  EXPECT_TRUE(s->errors.empty()) << s->errors.front();
  simdjson::padded_string json;
  ASSERT_EQ(simdjson::padded_string::load(obr::testing::data_path(expected_file)).get(json), simdjson::SUCCESS);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);
  const simdjson::dom::array expected = root["books"].get_array().value_unsafe();
  ASSERT_EQ(s->books.size(), books);
  ASSERT_EQ(expected.size(), books);
  std::size_t i = 0;
  for (simdjson::dom::element e : expected) {
    const ReplayBook& b = s->books[i++];
    std::string_view conn;
    if (e["conn"].get_string().get(conn) == simdjson::SUCCESS) {
      EXPECT_EQ(b.file, obr::testing::data_path(capture) + "#" + std::string(conn));
      EXPECT_EQ(b.venue, e["venue"].get_string().value_unsafe());
    } else {
      EXPECT_EQ(b.file, obr::testing::data_path(capture));
      EXPECT_EQ(b.venue, venue);
    }
    SCOPED_TRACE(std::string(conn) + " " + b.symbol);
    EXPECT_EQ(b.symbol, e["symbol"].get_string().value_unsafe());
    EXPECT_EQ(book::to_string(b.state), e["state"].get_string().value_unsafe());
    EXPECT_EQ(b.counters.snapshots, e["snapshots"].get_uint64().value_unsafe());
    EXPECT_EQ(b.counters.updates, e["updates"].get_uint64().value_unsafe());
    EXPECT_EQ(b.counters.checks_passed, e["checks_passed"].get_uint64().value_unsafe());
    EXPECT_EQ(b.counters.checks_failed, e["checks_failed"].get_uint64().value_unsafe());
    EXPECT_EQ(b.counters.resyncs_requested, e["resyncs_requested"].get_uint64().value_unsafe());
    EXPECT_EQ(b.sequence, e["sequence"].get_int64().value_unsafe());
    std::vector<ReplayLevel> bids, asks;
    for (const auto& pair : obr::testing::level_pairs(e, "bids")) bids.push_back({pair[0], pair[1]});
    for (const auto& pair : obr::testing::level_pairs(e, "asks")) asks.push_back({pair[0], pair[1]});
    EXPECT_EQ(b.bids, bids);
    EXPECT_EQ(b.asks, asks);
  }
}

// Bybit (docs/venues/bybit.md): a JSON-lines capture's connections each replay through
// their own session, their category told by the frames' form; every book equals the
// independent reference's (tests/reference/bybit_reference.py), keyed by connection and
// symbol.
void expect_bybit_reference(const std::string& capture, const std::string& expected_file, std::size_t books) {
  expect_reference_books(capture, expected_file, books);
}

// The real capture: 6 books on 2 connections (linear and spot), 6 snapshots and 2 142
// contiguous deltas, all live with no failed check; exit status 0.
TEST(Replayer, BybitCaptureTellsEachConnectionsCategoryAndMatchesReference) {
  expect_bybit_reference("bybit/bybit_v5_orderbook200.ndjson", "bybit/bybit_v5_orderbook200.expected.json", 6);
  absl::StatusOr<ReplaySummary> s = replay_files({obr::testing::data_path("bybit/bybit_v5_orderbook200.ndjson")}, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->frames, 2148u);
  std::uint64_t updates = 0, snapshots = 0;
  for (const ReplayBook& b : s->books) {
    updates += b.counters.updates;
    snapshots += b.counters.snapshots;
    EXPECT_EQ(b.depth, 200);
  }
  EXPECT_EQ(updates, 2142u);
  EXPECT_EQ(snapshots, 6u);
  EXPECT_EQ(s->books[0].venue, "bybit-linear");
  EXPECT_EQ(s->books[4].venue, "bybit-spot");
  EXPECT_EQ(replay_verdict(*s, {}).status, 0);
}

// Generated Bybit captures, each with one kind of trouble (tests/reference/bybit_sessions.py):
// the states, counters, last u and books of the independent reference, and the exit status
// (1 where a check failed; 3 for depth 1, whose messages are all snapshots: nothing there
// is a check).
class BybitGenerated : public ::testing::TestWithParam<std::pair<const char*, std::size_t>> {};

TEST_P(BybitGenerated, ReplaysToTheReference) {
  const std::string base = std::string("bybit/generated/") + GetParam().first;
  expect_bybit_reference(base + ".ndjson", base + ".expected.json", GetParam().second);
  absl::StatusOr<ReplaySummary> s = replay_files({obr::testing::data_path(base + ".ndjson")}, {});
  ASSERT_TRUE(s.ok());
  const bool nothing_checked = std::string(GetParam().first) == "level1";
  EXPECT_EQ(replay_verdict(*s, {}).status, nothing_checked ? 3 : s->all_checks_passed() ? 0 : 1);
  EXPECT_EQ(s->validated_books() == 0, nothing_checked);
}

INSTANTIATE_TEST_SUITE_P(Sessions, BybitGenerated,
                         ::testing::Values(std::pair{"gap", 2u}, std::pair{"duplicate", 2u}, std::pair{"reorder", 2u},
                                           std::pair{"unprompted", 3u}, std::pair{"restart", 2u},
                                           std::pair{"level1", 2u}, std::pair{"both", 4u}, std::pair{"depth50", 2u},
                                           std::pair{"unfinished", 2u}, std::pair{"inverse", 2u}),
                         [](const auto& param_info) { return std::string(param_info.param.first); });

// OKX (docs/venues/okx.md): the real recording (cryptofeed, 2022-05-13, before seqId): 3
// books, 290 checksums (3 snapshots + 287 updates), every one valid; every final book equals
// the independent reference (tests/reference/okx_reference.py). And generated captures, each
// with one kind of trouble (tests/reference/okx_sessions.py), to the reference's states,
// counters, last seqId and books, with their exit status.
void expect_okx_reference(const std::string& capture, const std::string& expected_file, std::size_t books) {
  expect_reference_books(capture, expected_file, books, "okx");
}

TEST(Replayer, OkxRecordingValidatesEveryChecksumAndMatchesReference) {
  expect_okx_reference("okx/OKX.ws.1.0", "okx/OKX.ws.1.0.expected.json", 3);
  absl::StatusOr<ReplaySummary> s = replay_files({obr::testing::data_path("okx/OKX.ws.1.0")}, {});
  ASSERT_TRUE(s.ok());
  std::uint64_t passed = 0, snapshots = 0;
  for (const ReplayBook& b : s->books) {
    passed += b.counters.checks_passed;
    snapshots += b.counters.snapshots;
    EXPECT_EQ(b.counters.checks_failed, 0u);
    EXPECT_EQ(b.state, book::BookState::kLive);
    EXPECT_EQ(b.depth, 400);
  }
  EXPECT_EQ(passed, 290u);  // 3 snapshots + 287 updates
  EXPECT_EQ(snapshots, 3u);
  EXPECT_EQ(replay_verdict(*s, {}).status, 0);
}

class OkxGenerated : public ::testing::TestWithParam<std::pair<const char*, std::size_t>> {};

TEST_P(OkxGenerated, ReplaysToTheReference) {
  const std::string base = std::string("okx/generated/") + GetParam().first;
  expect_okx_reference(base + ".ws.1.0", base + ".expected.json", GetParam().second);
  absl::StatusOr<ReplaySummary> s = replay_files({obr::testing::data_path(base + ".ws.1.0")}, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(replay_verdict(*s, {}).status, s->all_checks_passed() ? 0 : 1);
}

INSTANTIATE_TEST_SUITE_P(Sessions, OkxGenerated,
                         ::testing::Values(std::pair{"gap", 3u}, std::pair{"duplicate", 2u}, std::pair{"reorder", 2u},
                                           std::pair{"bad_checksum", 2u}, std::pair{"reset", 2u},
                                           std::pair{"nochange", 2u}, std::pair{"unprompted", 3u},
                                           std::pair{"checksum_zero", 2u}, std::pair{"doc_example", 2u},
                                           std::pair{"unfinished", 2u}),
                         [](const auto& param_info) { return std::string(param_info.param.first); });

// ---- trouble and output ----------------------------------------------------------------

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

// ---- JSON-lines captures: several connections in one file ----

// A received frame and its recorded time (Unix seconds, as text).
struct TimedFrame {
  std::string ts;
  std::string frame;
};

// cryptofeed_frames: a cryptofeed file's received frames (`TS: FRAME`) with their times.
std::vector<TimedFrame> cryptofeed_frames(const std::string& path) {
  std::vector<TimedFrame> out;
  std::istringstream in(obr::testing::read_file(path));
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    const std::size_t colon = l.find(": ");
    if (l.empty() || l[0] < '0' || l[0] > '9' || colon == std::string::npos) continue;
    out.push_back({l.substr(0, colon), l.substr(colon + 2)});
  }
  return out;
}

// raw_frames: a raw capture's frames, given times 1 ms apart from `start_s` (7 fraction
// digits, as cryptofeed writes them).
std::vector<TimedFrame> raw_frames(const std::string& path, std::int64_t start_s) {
  std::vector<TimedFrame> out;
  std::istringstream in(obr::testing::read_file(path));
  for (std::string l; std::getline(in, l);) {
    if (l.empty()) continue;
    const std::size_t i = out.size();
    char ts[32];
    std::snprintf(ts, sizeof ts, "%lld.%07lld", static_cast<long long>(start_s + static_cast<std::int64_t>(i / 1000)),
                  static_cast<long long>(i % 1000) * 10000);
    out.push_back({ts, l});
  }
  return out;
}

// acks: n frames no venue recognises (subscribe acknowledgements, which name no market).
std::vector<TimedFrame> acks(std::size_t n) {
  std::vector<TimedFrame> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back({"1699999999." + std::to_string(1000000 + i),
                   i % 2 == 0
                       ? R"({"success":true,"ret_msg":"","conn_id":"c)" + std::to_string(i) + R"(","op":"subscribe"})"
                       : R"({"result":null,"id":)" + std::to_string(i) + "}"});
  }
  return out;
}

std::vector<TimedFrame> operator+(std::vector<TimedFrame> a, const std::vector<TimedFrame>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

using Connections = std::vector<std::pair<std::string, std::vector<TimedFrame>>>;

// json_lines: the connections' frames as `{"conn": NAME, "ts": TS, "data": FRAME}` lines,
// interleaved one line of each connection in turn (a connection whose frames ran out is
// passed over).
std::string json_lines(const Connections& conns) {
  std::string out;
  std::vector<std::size_t> next(conns.size());
  for (bool more = true; more;) {
    more = false;
    for (std::size_t k = 0; k < conns.size(); ++k) {
      if (next[k] == conns[k].second.size()) continue;
      const TimedFrame& f = conns[k].second[next[k]++];
      out += R"({"conn": )" + json_quote(conns[k].first) + R"(, "ts": )" + f.ts + R"(, "data": )" +
             json_quote(f.frame) + "}\n";
      more = true;
    }
  }
  return out;
}

// expect_same_book: a book replayed from a JSON-lines connection equals the one replayed
// from its original file alone, but for `file`.
void expect_same_book(const ReplayBook& got, const ReplayBook& want, const std::string& file) {
  SCOPED_TRACE(want.symbol);
  EXPECT_EQ(got.file, file);
  EXPECT_EQ(got.venue, want.venue);
  EXPECT_EQ(got.symbol, want.symbol);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.depth, want.depth);
  EXPECT_EQ(got.counters.snapshots, want.counters.snapshots);
  EXPECT_EQ(got.counters.updates, want.counters.updates);
  EXPECT_EQ(got.counters.levels_applied, want.counters.levels_applied);
  EXPECT_EQ(got.counters.checks_passed, want.counters.checks_passed);
  EXPECT_EQ(got.counters.checks_failed, want.counters.checks_failed);
  EXPECT_EQ(got.counters.resyncs_requested, want.counters.resyncs_requested);
  EXPECT_EQ(got.counters.crossed, want.counters.crossed);
  EXPECT_EQ(got.counters.truncated_levels, want.counters.truncated_levels);
  EXPECT_EQ(got.sequence, want.sequence);
  EXPECT_EQ(got.trusted_depth, want.trusted_depth);
  EXPECT_EQ(got.bids, want.bids);
  EXPECT_EQ(got.asks, want.asks);
}

ReplaySummary replay_ok(const std::vector<std::string>& files, const ReplayOptions& options = {}) {
  absl::StatusOr<ReplaySummary> s = replay_files(files, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : ReplaySummary{};
}

const std::string kV2 = "kraken-v2/btcusd_d25.ndjson";
const std::string kV1 = "kraken-v1/KRAKEN.ws.50.0";
const std::string kKucoin = "kucoin/KUCOIN.ws.1.0";

// Three recorded connections of three venues (Kraken v2 raw, Kraken v1 and KuCoin
// cryptofeed) interleaved line by line in one JSON-lines file, plain and gzip: one session
// per connection, each book exactly as its original file alone gives it, reported per
// connection in the order the connections first appear, its file "FILE#CONN".
TEST(Replayer, JsonLinesConnectionsReplayAsEachFileAlone) {
  const Connections conns = {{"KRAKEN.v2", raw_frames(obr::testing::data_path(kV2), 1700000000)},
                             {"KRAKEN.ws.50.0", cryptofeed_frames(obr::testing::data_path(kV1))},
                             {"KUCOIN.ws.1.0", cryptofeed_frames(obr::testing::data_path(kKucoin))}};
  ASSERT_EQ(conns[0].second.size(), 2104u);
  ASSERT_EQ(conns[1].second.size(), 4321u);
  ASSERT_EQ(conns[2].second.size(), 4721u);
  std::vector<ReplayBook> alone;
  std::vector<std::string> conn_of;  // the connection of each book of `alone`
  for (std::size_t k = 0; k < 3; ++k) {
    const ReplaySummary s = replay_ok({obr::testing::data_path(std::vector{kV2, kV1, kKucoin}[k])});
    for (const ReplayBook& b : s.books) {
      alone.push_back(b);
      conn_of.push_back(conns[k].first);
    }
  }
  ASSERT_EQ(alone.size(), 1u + 10u + 9u);
  const std::string text = json_lines(conns);
  const std::string plain = temp_path("three.jsonl"), gz = temp_path("three.jsonl.gz");
  std::ofstream(plain) << text;
  write_gz(gz, text);
  for (const std::string& path : {plain, gz}) {
    SCOPED_TRACE(path);
    const ReplaySummary s = replay_ok({path});
    EXPECT_EQ(s.frames, 2104u + 4321u + 4721u);
    EXPECT_EQ(s.malformed, 0u);
    EXPECT_EQ(s.bad_lines, 0u);
    EXPECT_TRUE(s.errors.empty());
    EXPECT_TRUE(s.input_errors.empty());
    ASSERT_EQ(s.books.size(), alone.size());
    for (std::size_t i = 0; i < alone.size(); ++i) expect_same_book(s.books[i], alone[i], path + "#" + conn_of[i]);
    EXPECT_EQ(s.books[0].counters.checks_passed, 2052u);  // README's btcusd_d25: 2 052 checksums
    EXPECT_EQ(s.books[1].venue, "kraken-v1");
    EXPECT_EQ(s.books[11].venue, "kucoin");
    EXPECT_EQ(s.validated_books(), 11u);
    EXPECT_EQ(replay_verdict(s, {}).status, 0);
  }
  // The KuCoin connection alone: its deltas have no REST snapshot, said of the connection
  // (not as a cryptofeed file's missing .http. companion, though its name holds ".ws.").
  const std::string kucoin_only = temp_path("kucoin.jsonl");
  std::ofstream(kucoin_only) << json_lines({conns[2]});
  const ReplaySummary k = replay_ok({kucoin_only});
  ASSERT_EQ(k.books.size(), 9u);
  const ReplayVerdict v = replay_verdict(k, {});
  EXPECT_EQ(v.status, 3);
  EXPECT_EQ(v.why, "nothing was validated: the kucoin deltas in " + kucoin_only +
                       "#KUCOIN.ws.1.0 have no REST snapshot to calibrate from (replay an obr recording, or a "
                       "cryptofeed X.ws.N.M with its X.http.N.M)");
  // A gzip cut short: the books up to the cut, the cut named.
  std::string bytes = obr::testing::read_file(gz);
  bytes.resize(bytes.size() / 2);
  const std::string cut = temp_path("cut.jsonl.gz");
  std::ofstream(cut, std::ios::binary) << bytes;
  const ReplaySummary c = replay_ok({cut});
  ASSERT_EQ(c.input_errors.size(), 1u);
  EXPECT_EQ(c.input_errors[0].rfind(cut + ":", 0), 0u) << c.input_errors[0];
  EXPECT_NE(c.input_errors[0].find(": gzip stream ends early"), std::string::npos) << c.input_errors[0];
  EXPECT_GT(c.frames, 0u);
  EXPECT_LT(c.frames, 2104u + 4321u + 4721u);
  EXPECT_FALSE(c.books.empty());
  EXPECT_EQ(c.books[0].file, cut + "#KRAKEN.v2");
  for (const std::string& p : {plain, gz, kucoin_only, cut}) std::remove(p.c_str());
}

// A connection whose first frames tell no venue (subscribe acks) is held until a frame
// does; the held frames are then fed in order, counted as frames (Kraken's session finds
// them malformed), and the books are those of the connection without them. The same for
// a raw capture, up to 64 held frames.
TEST(Replayer, FramesThatTellNoVenueAreHeldUntilOneDoes) {
  const auto d10 = raw_frames(obr::testing::data_path("kraken-v2/btcusd_d10_resubscribe.ndjson"), 1700000000);
  const ReplaySummary alone = replay_ok({obr::testing::data_path("kraken-v2/btcusd_d10_resubscribe.ndjson")});
  const ReplaySummary v1_alone = replay_ok({obr::testing::data_path(kV1)});
  ASSERT_EQ(alone.frames, 377u);
  ASSERT_EQ(alone.books.size(), 1u);
  const std::string path = temp_path("held.jsonl");
  // Connection ACKED starts with 5 acks (lines 1, 3, 5, 7, 9: interleaved with the v1
  // connection), the Kraken v1 connection with frames that tell its venue.
  std::ofstream(path) << json_lines(
      {{"ACKED", acks(5) + d10}, {"V1", cryptofeed_frames(obr::testing::data_path(kV1))}});
  const ReplaySummary s = replay_ok({path});
  EXPECT_EQ(s.frames, 5u + 377u + 4321u);
  EXPECT_EQ(s.malformed, 5u);
  EXPECT_EQ(s.bad_lines, 0u);
  ASSERT_EQ(s.errors.size(), 5u);
  EXPECT_EQ(s.errors[0].rfind(path + ":1: ", 0), 0u) << s.errors[0];  // each held frame named by its own line
  EXPECT_EQ(s.errors[4].rfind(path + ":9: ", 0), 0u) << s.errors[4];
  ASSERT_EQ(s.books.size(), 11u);
  expect_same_book(s.books[0], alone.books[0], path + "#ACKED");
  for (std::size_t i = 0; i < 10; ++i) expect_same_book(s.books[1 + i], v1_alone.books[i], path + "#V1");

  // A raw capture: 64 leading acks are held (the bound), one more is refused.
  for (const std::size_t n : {std::size_t{64}, std::size_t{65}}) {
    std::string text;
    for (const TimedFrame& f : acks(n) + d10) text += f.frame + "\n";
    const std::string raw = temp_path("held.ndjson");
    std::ofstream(raw) << text;
    absl::StatusOr<ReplaySummary> r = replay_files({raw}, {});
    if (n == 64) {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->frames, 64u + 377u);
      EXPECT_EQ(r->malformed, 64u);
      ASSERT_EQ(r->books.size(), 1u);
      expect_same_book(r->books[0], alone.books[0], raw);
    } else {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(r.status().message(), raw +
                                          ":1: cannot tell the venue: none of the first 65 frames (the first on this "
                                          "line) names one, and at most 64 are held until one does; pass --venue VENUE "
                                          "(VENUE: " +
                                          venue_names() + ")");
    }
    std::remove(raw.c_str());
  }
  std::remove(path.c_str());
}

// A connection whose venue no frame tells fails the replay, naming the file, the
// connection, the line of its first frame and the option that names it; --conn-venue
// names it (before --venue, which names every other connection), and a --conn-venue that
// names no connection of the input, or no venue replay knows, is refused.
TEST(Replayer, AConnectionNoFrameTellsIsAnErrorUntilNamed) {
  const auto d10 = raw_frames(obr::testing::data_path("kraken-v2/btcusd_d10_resubscribe.ndjson"), 1700000000);
  const ReplaySummary alone = replay_ok({obr::testing::data_path("kraken-v2/btcusd_d10_resubscribe.ndjson")});
  const ReplaySummary v1_alone = replay_ok({obr::testing::data_path(kV1)});
  const std::string venues = " (VENUE: " + venue_names() + ")";
  const std::string path = temp_path("untold.jsonl");
  // K: Kraken v2 frames (lines 1, 3, 5, ...); SILENT: 3 acks (lines 2, 4, 6) and nothing more.
  std::ofstream(path) << json_lines({{"K", d10}, {"SILENT", acks(3)}});
  absl::StatusOr<ReplaySummary> r = replay_files({path}, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), path +
                                      ":2: cannot tell the venue of connection SILENT: none of its 3 frame(s) (the "
                                      "first on this line) names one by the end of the file; name it with --conn-venue "
                                      "SILENT=VENUE, or every connection's with --venue VENUE" +
                                      venues);
  ReplayOptions named;
  named.conn_venues = {{"SILENT", "kraken"}};
  const ReplaySummary s = replay_ok({path}, named);
  EXPECT_EQ(s.frames, 377u + 3u);
  EXPECT_EQ(s.malformed, 3u);  // acks are no Kraken frames
  ASSERT_EQ(s.books.size(), 1u);
  expect_same_book(s.books[0], alone.books[0], path + "#K");

  // CHATTY: 65 acks before its Kraken v2 frames (its first on line 2): more than are held.
  const std::string chatty = temp_path("chatty.jsonl");
  std::ofstream(chatty) << json_lines(
      {{"V1", cryptofeed_frames(obr::testing::data_path(kV1))}, {"CHATTY", acks(65) + d10}});
  r = replay_files({chatty}, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            chatty +
                ":2: cannot tell the venue of connection CHATTY: none of its first 65 frames (the "
                "first on this line) names one, and at most 64 are held until one does; name it "
                "with --conn-venue CHATTY=VENUE, or every connection's with --venue VENUE" +
                venues);
  // --conn-venue names CHATTY's venue, --venue every other connection's.
  ReplayOptions both;
  both.venue = "kraken-v1";
  both.conn_venues = {{"CHATTY", "kraken"}};
  const ReplaySummary c = replay_ok({chatty}, both);
  EXPECT_EQ(c.frames, 4321u + 65u + 377u);
  EXPECT_EQ(c.malformed, 65u);
  ASSERT_EQ(c.books.size(), 11u);
  for (std::size_t i = 0; i < 10; ++i) expect_same_book(c.books[i], v1_alone.books[i], chatty + "#V1");
  expect_same_book(c.books[10], alone.books[0], chatty + "#CHATTY");

  ReplayOptions nope;
  nope.conn_venues = {{"NOPE", "kraken"}, {"SILENT", "kraken"}};
  r = replay_files({path}, nope);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "--conn-venue NOPE=kraken: no connection NOPE in the input (its connections: K, SILENT)");
  ReplayOptions raw_only;
  raw_only.conn_venues = {{"K", "kraken"}};
  r = replay_files({obr::testing::data_path(kV2)}, raw_only);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "--conn-venue K=kraken: no connection K in the input (it has no JSON-lines capture, the only one whose "
            "connections have names)");
  ReplayOptions unknown;
  unknown.conn_venues = {{"SILENT", "deribit"}};
  r = replay_files({path}, unknown);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      r.status().message(),
      "--conn-venue SILENT=deribit: venue 'deribit' is not supported by replay (supported: " + venue_names() + ")");
  std::remove(path.c_str());
  std::remove(chatty.c_str());
}

// Lines of a JSON-lines capture that do not fit are counted and listed as FILE:LINE: why,
// belong to no connection, and leave every connection's books as they were.
TEST(Replayer, JsonLinesBadLinesAreListedWithTheirLine) {
  const auto d10 = raw_frames(obr::testing::data_path("kraken-v2/btcusd_d10_resubscribe.ndjson"), 1700000000);
  const ReplaySummary alone = replay_ok({obr::testing::data_path("kraken-v2/btcusd_d10_resubscribe.ndjson")});
  std::string text = json_lines({{"K", d10}});
  // After line 3: lines 4 to 8 are bad; the Kraken frames go on from line 9.
  const std::size_t third = text.find('\n', text.find('\n', text.find('\n') + 1) + 1);
  text.insert(third + 1, R"({"conn":"K","ts":1700000000.5})"
                         "\n"
                         R"({"conn":"K","ts":1.5e9,"data":"{}"})"
                         "\n"
                         R"({"conn":"K","ts":1700000000.5,"data":["x"]})"
                         "\n"
                         "[1]\n"
                         R"({"conn":"K","ts":1700000000.5,"data":"x"} trailing)"
                         "\n");
  const std::string path = temp_path("bad.jsonl");
  std::ofstream(path) << text;
  const ReplaySummary s = replay_ok({path});
  EXPECT_EQ(s.frames, 377u);
  EXPECT_EQ(s.bad_lines, 5u);
  EXPECT_EQ(s.malformed, 5u);
  const std::vector<std::string> want = {
      path + R"(:4: JSON lines: no "data" member (the frame))",
      path + R"(:5: JSON lines: "ts" is not Unix seconds (a number written digits[.digits]))",
      path + R"(:6: JSON lines: "data" is not a string (the frame, as a JSON string))",
      path + ":7: JSON lines: not a JSON object",
      path + ":8: JSON lines: not valid JSON",
  };
  EXPECT_EQ(s.errors, want);
  ASSERT_EQ(s.books.size(), 1u);
  expect_same_book(s.books[0], alone.books[0], path + "#K");
  EXPECT_EQ(replay_verdict(s, {}).why, "5 frame(s) or line(s) could not be used");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace obr::engine
