#include <gtest/gtest.h>
#include <simdjson.h>

#include <limits>
#include <string>
#include <vector>

#include "book/decimal.h"
#include "connectors/kraken/v2_session.h"
#include "tests/book/test_data.h"
#include "tests/common/alloc_counter.h"
#include "tests/common/expected_json.h"
#include "tests/connectors/session_test_util.h"

namespace obr::connectors::kraken {
namespace {

using book::BookState;

using obr::testing::lines_of;
using obr::testing::RecordingSink;
using obr::testing::top10;
using obr::testing::Transition;

V2Config replay_config() { return V2Config{.depth = 10, .track_any_symbol = true}; }

// first_top10_update returns the index of the first update line, after `skip` updates,
// whose first level is a modification inside the current top 10 (tampering with a level
// below the top 10 cannot change Kraken's checksum until it rises into it).
std::size_t first_top10_update(const std::vector<std::string>& lines, int skip) {
  V2Session session(replay_config());
  NullSink sink;
  int seen = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.find(R"("channel":"book","type":"update")") != std::string::npos && ++seen > skip) {
      const std::size_t p = l.find("\"price\":") + 8;
      const std::string price = l.substr(p, l.find(',', p) - p);
      const bool bid = l.find("\"bids\":[]") == std::string::npos;
      const auto top = top10(session.book(0), bid);
      for (const auto& level : top) {
        if (level[0] == price && l.find("\"qty\":0.00000000") == std::string::npos) return i;
      }
    }
    session.on_frame(l, 0, sink);
  }
  return 0;
}

struct Expected {
  std::string symbol;
  std::uint64_t snapshots, updates, passed, failed;
  std::vector<std::vector<std::string>> bids, asks;
};

Expected load_expected(const std::string& name) {
  simdjson::padded_string json;
  EXPECT_EQ(simdjson::padded_string::load(obr::testing::data_path("kraken-v2/" + name + ".expected.json")).get(json),
            simdjson::SUCCESS);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);
  simdjson::dom::element b = root["books"].at(0).value_unsafe();
  Expected e;
  e.symbol = std::string(b["symbol"].get_string().value_unsafe());
  e.snapshots = b["snapshots"].get_uint64().value_unsafe();
  e.updates = b["updates"].get_uint64().value_unsafe();
  e.passed = b["checks_passed"].get_uint64().value_unsafe();
  e.failed = b["checks_failed"].get_uint64().value_unsafe();
  e.bids = obr::testing::level_pairs(b, "bids");
  e.asks = obr::testing::level_pairs(b, "asks");
  return e;
}

class RealRecording : public ::testing::TestWithParam<const char*> {};

// Every checksum in the real recordings validates, and the final book equals the
// independent Decimal reference (tests/reference/kraken_v2_reference.py).
TEST_P(RealRecording, EveryChecksumValidatesAndFinalBookMatchesReference) {
  const std::string name = GetParam();
  const Expected want = load_expected(name);
  V2Session session(replay_config());
  RecordingSink sink;
  std::int64_t t = 0;
  for (const std::string& line :
       lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/" + name + ".ndjson")))) {
    session.on_frame(line, ++t, sink);
  }
  EXPECT_EQ(session.malformed_frames(), 0u);
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(session.book_count(), 1u);
  const book::OrderBook& ob = session.book(0);
  EXPECT_EQ(session.info(0).symbol, want.symbol);
  EXPECT_EQ(ob.state(), BookState::kLive);
  EXPECT_EQ(ob.counters().snapshots, want.snapshots);
  EXPECT_EQ(ob.counters().updates, want.updates);
  EXPECT_EQ(ob.counters().checks_passed, want.passed);
  EXPECT_EQ(ob.counters().checks_failed, 0u);
  EXPECT_EQ(ob.counters().resyncs_requested, 0u);
  EXPECT_TRUE(sink.sent.empty());
  EXPECT_EQ(top10(ob, true), want.bids);
  EXPECT_EQ(top10(ob, false), want.asks);
}

INSTANTIATE_TEST_SUITE_P(KrakenV2, RealRecording,
                         ::testing::Values("btcusd_d10_resubscribe", "btcusd_d25", "ethusd_d25", "xrpusd_d25"));

TEST(KrakenV2Counts, FixtureTotals) {
  // The totals the recordings promise (tests/data/README.md): 301 + 2052 + 1129 + 1147.
  EXPECT_EQ(load_expected("btcusd_d10_resubscribe").passed, 301u);
  EXPECT_EQ(load_expected("btcusd_d25").passed, 2052u);
  EXPECT_EQ(load_expected("ethusd_d25").passed, 1129u);
  EXPECT_EQ(load_expected("xrpusd_d25").passed, 1147u);
}

TEST(KrakenV2Session, DepthComesFromTheSubscribeAck) {
  V2Session session(replay_config());
  RecordingSink sink;
  for (const std::string& line :
       lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/btcusd_d25.ndjson")))) {
    session.on_frame(line, 0, sink);
  }
  EXPECT_EQ(session.info(0).depth, 25);
  EXPECT_EQ(session.book(0).bids().size(), 25u);
  EXPECT_EQ(session.book(0).price_scale(), 1);
  EXPECT_EQ(session.book(0).qty_scale(), 8);
}

TEST(KrakenV2Session, WithoutTruncationTheRecordingFails) {
  // Proves the test data can catch a missing truncation: at depth 1000 the d25
  // recording's checksums stop matching.
  V2Session session(V2Config{.depth = 1000, .track_any_symbol = true, .depth_from_ack = false});
  RecordingSink sink;
  for (const std::string& line :
       lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/btcusd_d25.ndjson")))) {
    session.on_frame(line, 0, sink);
  }
  EXPECT_GE(session.book(0).counters().checks_failed, 1u);
}

// A recording with one update altered is caught at exactly that message; the book stays
// invalid (resubscribe requested) until the next snapshot, then is live again.
TEST(KrakenV2Session, AlteredUpdateIsCaughtAtItsChecksumAndResyncedByTheNextSnapshot) {
  std::vector<std::string> lines =
      lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/btcusd_d25.ndjson")));
  // Change the last digit of the first quantity of an update inside the top 10.
  const std::size_t altered = first_top10_update(lines, 99);
  ASSERT_NE(altered, 0u);
  std::size_t good_updates = 0;
  for (std::size_t i = 0; i < altered; ++i)
    good_updates += lines[i].find(R"("channel":"book","type":"update")") != std::string::npos;
  {
    std::string& l = lines[altered];
    const std::size_t q = l.find("\"qty\":");
    char& digit = l[l.find_first_of(",}", q) - 1];
    digit = digit == '9' ? '8' : static_cast<char>(digit + 1);
  }
  V2Session session(replay_config());
  RecordingSink sink;
  for (std::size_t i = 0; i <= altered; ++i) session.on_frame(lines[i], static_cast<std::int64_t>(i), sink);
  const book::OrderBook& ob = session.book(0);
  EXPECT_EQ(ob.counters().checks_passed, 1 + good_updates);  // the snapshot and every good update
  EXPECT_GE(good_updates, 99u);
  EXPECT_EQ(ob.counters().checks_failed, 1u);
  EXPECT_EQ(ob.state(), BookState::kResyncing);
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_NE(sink.sent[0].find(R"("method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25})"),
            std::string::npos)
      << sink.sent[0];
  EXPECT_NE(sink.sent[1].find(
                R"("method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25,"snapshot":true})"),
            std::string::npos)
      << sink.sent[1];
  EXPECT_EQ(ob.counters().resyncs_requested, 1u);
  // Later updates are not applied.
  const std::uint64_t updates = ob.counters().updates;
  for (std::size_t i = altered + 1; i < altered + 50; ++i) session.on_frame(lines[i], 0, sink);
  EXPECT_EQ(ob.counters().updates, updates);
  EXPECT_EQ(ob.state(), BookState::kResyncing);
  // The fresh snapshot (here: the recording's own) makes it live again.
  session.on_frame(lines[2], 0, sink);
  EXPECT_EQ(ob.state(), BookState::kLive);
  EXPECT_EQ(ob.counters().snapshots, 2u);
  bool saw_mismatch = false;
  for (const Transition& t : sink.transitions) saw_mismatch |= t.why == StateReason::kChecksumMismatch;
  EXPECT_TRUE(saw_mismatch);
}

TEST(KrakenV2Session, DroppedUpdateIsCaughtAtTheNextChecksum) {
  const std::vector<std::string> lines =
      lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/ethusd_d25.ndjson")));
  const std::size_t dropped = first_top10_update(lines, 10);
  ASSERT_NE(dropped, 0u);
  V2Session session(replay_config());
  RecordingSink sink;
  for (std::size_t i = 0; i < dropped; ++i) session.on_frame(lines[i], 0, sink);
  ASSERT_EQ(session.book(0).counters().checks_failed, 0u);
  // Skip `dropped`; the very next update's checksum no longer matches.
  session.on_frame(lines[dropped + 1], 0, sink);
  EXPECT_EQ(session.book(0).counters().checks_failed, 1u);
  EXPECT_EQ(session.book(0).state(), BookState::kResyncing);
  for (std::size_t i = dropped + 2; i < lines.size(); ++i) session.on_frame(lines[i], 0, sink);
  EXPECT_EQ(session.book(0).counters().checks_failed, 1u);  // nothing applied until a snapshot
  EXPECT_NE(session.book(0).state(), BookState::kLive);     // and this file has no later one
}

TEST(KrakenV2Session, MalformedFramesAreCountedNotFatal) {
  V2Session session(replay_config());
  RecordingSink sink;
  const std::vector<std::string> lines =
      lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/btcusd_d25.ndjson")));
  for (std::size_t i = 0; i < 3; ++i) session.on_frame(lines[i], 0, sink);
  ASSERT_EQ(session.book(0).state(), BookState::kLive);
  session.on_frame("not json at all", 0, sink);
  session.on_frame(R"({"channel":"book","type":"update"})", 0, sink);
  session.on_frame(R"({"channel":7})", 0, sink);
  session.on_frame(R"({"foo":"bar"})", 0, sink);
  session.on_frame(R"([1,2,3])", 0, sink);
  EXPECT_EQ(session.malformed_frames(), 5u);
  ASSERT_EQ(sink.errors.size(), 5u);
  EXPECT_EQ(sink.errors[0], FrameError::kNotJson);
  EXPECT_EQ(sink.errors[1], FrameError::kUnexpectedShape);
  EXPECT_EQ(session.book(0).state(), BookState::kLive);  // untouched
  // A bad number inside an update for a live book invalidates that book only.
  session.on_frame(
      R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":"x","qty":1.0}],"asks":[],"checksum":1}]})",
      0, sink);
  EXPECT_EQ(sink.errors.back(), FrameError::kBadNumber);
  EXPECT_EQ(session.book(0).state(), BookState::kResyncing);
}

TEST(KrakenV2Session, RefusedDepthIsAnErrorTheUserSees) {
  V2Session session(V2Config{.depth = 7});
  RecordingSink sink;
  session.subscribe({"BTC/USD"}, sink);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_NE(sink.sent[0].find(R"("depth":7)"), std::string::npos);
  EXPECT_EQ(session.book(0).state(), BookState::kSubscribing);
  session.on_frame(
      R"({"error":"Subscription depth not supported","method":"subscribe","success":false,"time_in":"2026-08-16T23:54:19.629313Z","time_out":"2026-08-16T23:54:19.629343Z"})",
      0, sink);
  ASSERT_EQ(sink.venue_errors.size(), 1u);
  EXPECT_EQ(sink.venue_errors[0], "Subscription depth not supported");
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  EXPECT_EQ(sink.transitions.back().why, StateReason::kSubscribeRefused);
}

// An ack whose depth Kraken does not offer is malformed: the depth would size the book
// (4 294 967 306 also wrapped to 10 as an int). The book keeps waiting for a good ack.
TEST(KrakenV2Session, AnAckWithADepthKrakenDoesNotOfferIsMalformed) {
  V2Session session(V2Config{.depth = 10});
  RecordingSink sink;
  session.subscribe({"BTC/USD"}, sink);
  session.on_frame(
      R"({"method":"subscribe","result":{"channel":"book","depth":4294967306,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2026-08-16T23:54:19.629313Z","time_out":"2026-08-16T23:54:19.629343Z"})",
      0, sink);
  EXPECT_EQ(session.malformed_frames(), 1u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0], FrameError::kUnexpectedShape);
  EXPECT_EQ(sink.details[0], "ack depth is not 10, 25, 100, 500 or 1000");
  EXPECT_EQ(session.book(0).state(), BookState::kSubscribing);
  EXPECT_EQ(session.info(0).depth, 10);
  session.on_frame(
      R"({"method":"subscribe","result":{"channel":"book","depth":25,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2026-08-16T23:54:19.629313Z","time_out":"2026-08-16T23:54:19.629343Z"})",
      0, sink);
  EXPECT_EQ(session.book(0).state(), BookState::kAwaitingSnapshot);
  EXPECT_EQ(session.info(0).depth, 25);
  EXPECT_EQ(session.malformed_frames(), 1u);
}

TEST(KrakenV2Session, CircuitBreakerHaltsThenRetriesAfterBackoff) {
  V2Session session(V2Config{.depth = 10, .track_any_symbol = true, .breaker_failures = 2, .breaker_backoff_ns = 1000});
  RecordingSink sink;
  const std::string bad_snapshot =
      R"({"channel":"book","type":"snapshot","data":[{"symbol":"X/Y","bids":[{"price":1.0,"qty":1.0}],"asks":[{"price":2.0,"qty":1.0}],"checksum":1}]})";
  session.on_frame(bad_snapshot, 100, sink);
  EXPECT_EQ(session.book(0).state(), BookState::kResyncing);
  EXPECT_EQ(sink.sent.size(), 2u);
  session.on_frame(bad_snapshot, 200, sink);  // second failure in a row: circuit opens
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  EXPECT_EQ(sink.sent.size(), 2u);  // no resubscribe storm
  session.on_tick(1100, sink);      // before 200 + 1000
  EXPECT_EQ(sink.sent.size(), 2u);
  session.on_tick(1200, sink);
  EXPECT_EQ(sink.sent.size(), 4u);
  EXPECT_EQ(session.book(0).state(), BookState::kResyncing);
  EXPECT_EQ(session.book(0).counters().checks_failed, 2u);
  EXPECT_EQ(session.book(0).counters().resyncs_requested, 2u);
}

// The backoff doubles per trip; past int64 it is the longest wait, not a wrapped one (a
// backoff of 2^62 ns doubled to 2^63 used to wrap negative and retry at once).
TEST(KrakenV2Session, ABackoffDoubledPastInt64NeverRetries) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  V2Session session(V2Config{.depth = 10,
                             .track_any_symbol = true,
                             .breaker_failures = 2,
                             .breaker_backoff_ns = std::int64_t{1} << 62,
                             .breaker_backoff_max_ns = kMax});
  RecordingSink sink;
  const std::string bad_snapshot =
      R"({"channel":"book","type":"snapshot","data":[{"symbol":"X/Y","bids":[{"price":1.0,"qty":1.0}],"asks":[{"price":2.0,"qty":1.0}],"checksum":1}]})";
  session.on_frame(bad_snapshot, 100, sink);
  session.on_frame(bad_snapshot, 200, sink);  // first trip: 2^62 ns
  ASSERT_EQ(session.book(0).state(), BookState::kHalted);
  session.on_tick(200 + (std::int64_t{1} << 62), sink);
  ASSERT_EQ(session.book(0).state(), BookState::kResyncing);
  ASSERT_EQ(sink.sent.size(), 4u);
  const std::int64_t t = 300 + (std::int64_t{1} << 62);
  session.on_frame(bad_snapshot, t, sink);
  ASSERT_EQ(sink.sent.size(), 6u);              // the first failure resubscribes
  session.on_frame(bad_snapshot, t + 1, sink);  // second trip: 2^63 ns, past int64
  ASSERT_EQ(session.book(0).state(), BookState::kHalted);
  session.on_tick(t + 2, sink);
  session.on_tick(kMax - 1, sink);
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  EXPECT_EQ(sink.sent.size(), 6u);
}

TEST(KrakenV2Session, MaintenanceMakesLiveBooksStale) {
  V2Session session(replay_config());
  RecordingSink sink;
  const std::vector<std::string> lines =
      lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/btcusd_d25.ndjson")));
  for (std::size_t i = 0; i < 3; ++i) session.on_frame(lines[i], 0, sink);
  session.on_frame(R"({"channel":"status","type":"update","data":[{"system":"maintenance","api_version":"v2"}]})", 0,
                   sink);
  EXPECT_EQ(session.book(0).state(), BookState::kStale);
  EXPECT_EQ(sink.transitions.back().why, StateReason::kMaintenance);
  // Back online: the stale book is resubscribed (unsubscribe echoing depth 25, subscribe).
  const std::size_t sent_before = sink.sent.size();
  session.on_frame(R"({"channel":"status","type":"update","data":[{"system":"online","api_version":"v2"}]})", 0, sink);
  ASSERT_EQ(sink.sent.size(), sent_before + 2);
  EXPECT_NE(sink.sent[sent_before].find(
                R"("method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25)"),
            std::string::npos)
      << sink.sent[sent_before];
  EXPECT_NE(sink.sent[sent_before + 1].find(R"("method":"subscribe")"), std::string::npos);
  EXPECT_EQ(session.book(0).state(), BookState::kResyncing);
  EXPECT_EQ(sink.transitions.back().why, StateReason::kResubscribing);
  // A second online changes nothing.
  session.on_frame(R"({"channel":"status","type":"update","data":[{"system":"online","api_version":"v2"}]})", 0, sink);
  EXPECT_EQ(sink.sent.size(), sent_before + 2);
}

// Only `maintenance` stops the book's data (docs/venues/kraken.md "System status"):
// cancel_only, post_only and limit_only restrict order entry, and the books keep changing
// with valid checksums, so they stay live and every update is applied and checked.
TEST(KrakenV2Session, RestrictedTradingStatusesKeepBooksLive) {
  V2Session plain(replay_config());
  NullSink null_sink;
  const std::vector<std::string> lines =
      lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/btcusd_d25.ndjson")));
  for (const std::string& l : lines) plain.on_frame(l, 0, null_sink);

  V2Session session(replay_config());
  RecordingSink sink;
  const std::vector<std::string> statuses{"cancel_only", "post_only", "limit_only", "online"};
  std::size_t next_status = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    session.on_frame(lines[i], 0, sink);
    if (i >= 3 && i % 200 == 0 && next_status < statuses.size()) {
      session.on_frame(R"({"channel":"status","type":"update","data":[{"system":")" + statuses[next_status++] +
                           R"(","api_version":"v2"}]})",
                       0, sink);
      ASSERT_EQ(session.book(0).state(), BookState::kLive) << statuses[next_status - 1];
    }
  }
  ASSERT_EQ(next_status, statuses.size());
  std::vector<std::string> expected_statuses{"online"};  // the recording's own, on connect
  expected_statuses.insert(expected_statuses.end(), statuses.begin(), statuses.end());
  EXPECT_EQ(sink.statuses, expected_statuses);
  EXPECT_FALSE(sink.saw(StateReason::kMaintenance));
  EXPECT_EQ(session.book(0).state(), BookState::kLive);
  EXPECT_EQ(session.book(0).counters().updates, plain.book(0).counters().updates);
  EXPECT_EQ(session.book(0).counters().checks_passed, 2052u);
  EXPECT_EQ(session.book(0).counters().checks_failed, 0u);
  EXPECT_EQ(top10(session.book(0), true), top10(plain.book(0), true));
}

// A snapshot with no levels is a legal book: live, checked against the CRC32 of the empty
// text (0). It carries no lexemes, so it must not fix the precision: the first levels that
// arrive set it (here 1 and 8 decimals, "452835" "10000000": CRC32 2647523524).
TEST(KrakenV2Session, AnEmptySnapshotIsLiveAndTheFirstLevelsSetThePrecision) {
  for (const bool compact : {true, false}) {
    SCOPED_TRACE(compact ? "compact scanner" : "simdjson");
    V2Config config = replay_config();
    config.compact_scanner = compact;
    V2Session session(config);
    RecordingSink sink;
    session.on_frame(
        R"({"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":0}]})", 0,
        sink);
    ASSERT_EQ(session.book_count(), 1u);
    EXPECT_EQ(session.book(0).state(), BookState::kLive);
    EXPECT_EQ(session.book(0).counters().checks_passed, 1u);
    session.on_frame(
        R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,"qty":0.10000000}],"asks":[],"checksum":2647523524}]})",
        0, sink);
    const book::OrderBook& ob = session.book(0);
    EXPECT_TRUE(sink.errors.empty()) << (sink.details.empty() ? "" : sink.details[0]);
    EXPECT_EQ(ob.state(), BookState::kLive);
    EXPECT_EQ(ob.price_scale(), 1);
    EXPECT_EQ(ob.qty_scale(), 8);
    EXPECT_EQ(ob.counters().checks_passed, 2u);
    EXPECT_EQ(ob.counters().checks_failed, 0u);
    EXPECT_EQ(top10(ob, true), (std::vector<std::vector<std::string>>{{"45283.5", "0.10000000"}}));
  }
}

// A number past what an int64 holds at the book's scale is not "not a decimal": the error
// names the value and the limit, and the book halts with that reason. A fresh snapshot
// would fail the same way, so nothing is resubscribed and no timer retries it.
TEST(KrakenV2Session, ANumberPastTheBooksRangeHaltsTheBookWithTheLimitNamed) {
  for (const bool compact : {true, false}) {
    SCOPED_TRACE(compact ? "compact scanner" : "simdjson");
    V2Config config = replay_config();
    config.compact_scanner = compact;
    V2Session session(config);
    RecordingSink sink;
    session.on_frame(
        R"({"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,"qty":123456789012.12345678}],"asks":[],"checksum":1}]})",
        0, sink);
    ASSERT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.errors[0], FrameError::kOutOfRange);
    EXPECT_EQ(sink.details[0],
              "qty 123456789012.12345678 is past the book's range (at 8 decimals at most 92233720368.54775807)");
    EXPECT_EQ(session.book(0).state(), BookState::kHalted);
    EXPECT_EQ(sink.transitions.back().why, StateReason::kOutOfRange);
    EXPECT_TRUE(sink.sent.empty());
    session.on_tick(std::int64_t{1} << 62, sink);
    EXPECT_EQ(session.book(0).state(), BookState::kHalted);
    EXPECT_TRUE(sink.sent.empty());
    EXPECT_EQ(session.book(0).counters().resyncs_requested, 0u);
  }
}

// Any other number that cannot be read at the book's precision fails the book (malformed)
// and resubscribes it, naming the field, the text and the precision.
TEST(KrakenV2Session, ANumberFinerThanTheBooksPrecisionFailsTheBookAsMalformed) {
  V2Session session(replay_config());
  RecordingSink sink;
  session.on_frame(
      R"({"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,"qty":0.10000000}],"asks":[],"checksum":2647523524}]})",
      0, sink);
  ASSERT_EQ(session.book(0).state(), BookState::kLive);
  session.on_frame(
      R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45283.55,"qty":0.10000000}],"asks":[],"checksum":1}]})",
      0, sink);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0], FrameError::kBadNumber);
  EXPECT_EQ(sink.details[0],
            "update price '45283.55' is not a decimal at the book's 1 decimals (more decimals than the scale allows)");
  EXPECT_EQ(session.book(0).state(), BookState::kResyncing);
  EXPECT_TRUE(sink.saw(StateReason::kMalformed));
}

TEST(KrakenV2Session, InstrumentChannelSetsPrecision) {
  V2Session session(replay_config());
  RecordingSink sink;
  session.on_frame(
      R"({"channel":"instrument","type":"snapshot","data":{"assets":[],"pairs":[{"symbol":"BTC/USD","price_precision":1,"qty_precision":8}]}})",
      0, sink);
  // A snapshot whose lexemes are shorter than the precision still hashes at the precision.
  session.on_frame(
      R"({"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":45285.2,"qty":0.001}],"checksum":2099347975}]})",
      0, sink);
  EXPECT_EQ(session.book(0).qty_scale(), 8);
  EXPECT_EQ(session.book(0).state(), BookState::kLive);
}

// Pairs that cannot give a book its precision are reported (once per frame, counted as a
// malformed frame), and the frame's good pairs are still used.
TEST(KrakenV2Session, InstrumentPairsThatCannotBeUsedAreReported) {
  V2Session session(replay_config());
  RecordingSink sink;
  session.on_frame(R"({"channel":"instrument","type":"snapshot","data":{"assets":[],"pairs":[)"
                   R"({"symbol":"ETH/USD","price_precision":19,"qty_precision":8},)"
                   R"({"symbol":"BTC/USD","price_precision":1,"qty_precision":8},)"
                   R"({"price_precision":1,"qty_precision":8},{"symbol":"XRP/USD","price_precision":5}]}})",
                   0, sink);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0], FrameError::kUnexpectedShape);
  EXPECT_EQ(sink.details[0],
            "instrument: 3 pair(s) without a symbol, or with a price_precision or qty_precision missing or outside "
            "0..18 (first: ETH/USD); the other pairs were used");
  EXPECT_EQ(session.malformed_frames(), 1u);
  session.on_frame(
      R"({"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":45285.2,"qty":0.001}],"checksum":2099347975}]})",
      0, sink);
  EXPECT_EQ(session.book(0).qty_scale(), 8);
  EXPECT_EQ(session.book(0).state(), BookState::kLive);
}

TEST(KrakenV2Session, SteadyStateBookMessagesAllocateNothing) {
  const std::vector<std::string> lines =
      lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/btcusd_d25.ndjson")));
  for (bool scanner : {true, false}) {  // compact frames by the scanner, and all by simdjson
    V2Config config = replay_config();
    config.compact_scanner = scanner;
    V2Session session(config);
    NullSink sink;
    for (const std::string& line : lines) session.on_frame(line, 0, sink);  // warm-up pass
    obr::testing::AllocationScope scope;
    for (const std::string& line : lines) session.on_frame(line, 0, sink);  // snapshot, then every update
    EXPECT_EQ(scope.allocations(), 0u) << "scanner " << scanner;
    EXPECT_EQ(session.book(0).counters().checks_failed, 0u);
    EXPECT_EQ(session.book(0).counters().checks_passed, 2 * 2052u) << "scanner " << scanner;
  }
}

}  // namespace
}  // namespace obr::connectors::kraken
