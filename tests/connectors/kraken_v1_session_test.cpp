#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "connectors/kraken/v1_session.h"
#include "tests/book/test_data.h"
#include "tests/common/alloc_counter.h"
#include "tests/common/expected_json.h"
#include "tests/connectors/session_test_util.h"

namespace obr::connectors::kraken {
namespace {

using book::BookState;
using obr::testing::RecordingSink;
using obr::testing::top10;

constexpr const char* kRecording = "kraken-v1/KRAKEN.ws.50.0";

// received_frames returns the frames the venue sent, from the cryptofeed "TS: FRAME" lines.
std::vector<std::string> received_frames() {
  std::vector<std::string> out;
  for (const std::string& line : obr::testing::lines_of(obr::testing::read_file(obr::testing::data_path(kRecording)))) {
    if (line[0] >= '0' && line[0] <= '9') out.push_back(line.substr(line.find(": ") + 2));
  }
  return out;
}

V1Config replay_config() { return V1Config{.depth = 10, .track_any_symbol = true}; }

struct Expected {
  int depth = 0;
  std::uint64_t snapshots = 0, updates = 0, passed = 0, failed = 0;
  std::vector<std::vector<std::string>> bids, asks;
};

// The independent Decimal reference (tests/reference/kraken_v1_reference.py), per pair.
std::map<std::string, Expected> load_expected() {
  simdjson::padded_string json;
  EXPECT_EQ(
      simdjson::padded_string::load(obr::testing::data_path(std::string(kRecording) + ".expected.json")).get(json),
      simdjson::SUCCESS);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);
  std::map<std::string, Expected> out;
  const simdjson::dom::array books = root["books"].get_array().value_unsafe();
  for (simdjson::dom::element b : books) {
    Expected& e = out[std::string(b["symbol"].get_string().value_unsafe())];
    e.depth = static_cast<int>(b["depth"].get_int64().value_unsafe());
    e.snapshots = b["snapshots"].get_uint64().value_unsafe();
    e.updates = b["updates"].get_uint64().value_unsafe();
    e.passed = b["checks_passed"].get_uint64().value_unsafe();
    e.failed = b["checks_failed"].get_uint64().value_unsafe();
    e.bids = obr::testing::level_pairs(b, "bids");
    e.asks = obr::testing::level_pairs(b, "asks");
  }
  return out;
}

// Every one of the recording's 4 269 update checksums validates across its 10 pairs, and
// every final book equals the independent reference.
TEST(KrakenV1Session, RealRecordingEveryChecksumValidatesAndBooksMatchReference) {
  const auto want = load_expected();
  ASSERT_EQ(want.size(), 10u);
  V1Session session(replay_config());
  RecordingSink sink;
  std::int64_t t = 0;
  for (const std::string& frame : received_frames()) session.on_frame(frame, ++t, sink);
  EXPECT_EQ(session.malformed_frames(), 0u);
  EXPECT_TRUE(sink.errors.empty());
  EXPECT_TRUE(sink.sent.empty());
  EXPECT_EQ(session.heartbeats(), 31u);
  ASSERT_EQ(session.book_count(), 10u);
  std::uint64_t passed = 0;
  for (BookId id = 0; id < session.book_count(); ++id) {
    const std::string& pair = session.info(id).symbol;
    SCOPED_TRACE(pair);
    ASSERT_EQ(want.count(pair), 1u);
    const Expected& e = want.at(pair);
    const book::OrderBook& ob = session.book(id);
    EXPECT_EQ(session.info(id).depth, 1000);
    EXPECT_EQ(e.depth, 1000);
    EXPECT_EQ(ob.state(), BookState::kLive);
    EXPECT_EQ(ob.counters().snapshots, e.snapshots);
    EXPECT_EQ(ob.counters().updates, e.updates);
    EXPECT_EQ(ob.counters().checks_passed, e.passed);
    EXPECT_EQ(ob.counters().checks_failed, 0u);
    EXPECT_EQ(e.failed, 0u);
    EXPECT_EQ(top10(ob, true), e.bids);
    EXPECT_EQ(top10(ob, false), e.asks);
    passed += ob.counters().checks_passed;
  }
  EXPECT_EQ(passed, 4269u);
}

TEST(KrakenV1Session, SnapshotPrecisionComesFromItsLexemes) {
  V1Session session(replay_config());
  RecordingSink sink;
  for (const std::string& frame : received_frames()) session.on_frame(frame, 0, sink);
  for (BookId id = 0; id < session.book_count(); ++id) {
    if (session.info(id).symbol == "ADA/XBT") {
      EXPECT_EQ(session.book(id).price_scale(), 9);  // "0.000022900"
      EXPECT_EQ(session.book(id).qty_scale(), 8);
    }
  }
}

// index of the first update, after `skip` updates, whose first level modifies a level in
// the current top 10 of its side (only those move the checksum at once).
std::size_t first_top10_update(const std::vector<std::string>& frames, int skip, std::string* pair_out) {
  V1Session session(replay_config());
  NullSink sink;
  int seen = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::string& f = frames[i];
    const bool update = f[0] == '[' && f.find("{\"as\"") == std::string::npos && f.find("\"book-") != std::string::npos;
    if (update && ++seen > skip) {
      const bool bid = f.find("{\"b\":") != std::string::npos && f.find("{\"a\":") == std::string::npos;
      const std::size_t p = f.find("[[\"") + 3;
      const std::string price = f.substr(p, f.find('"', p) - p);
      const std::size_t q = f.find('"', f.find('"', p) + 1) + 1;
      const std::string qty = f.substr(q, f.find('"', q) - q);
      const std::string pair = f.substr(f.rfind(",\"") + 2, f.size() - f.rfind(",\"") - 4);
      for (BookId id = 0; id < session.book_count(); ++id) {
        if (session.info(id).symbol != pair || qty.find_first_not_of("0.") == std::string::npos) continue;
        for (const auto& level : top10(session.book(id), bid)) {
          if (level[0] == price) {
            *pair_out = pair;
            return i;
          }
        }
      }
    }
    session.on_frame(f, 0, sink);
  }
  return 0;
}

const book::OrderBook* book_of(const V1Session& s, const std::string& pair) {
  for (BookId id = 0; id < s.book_count(); ++id) {
    if (s.info(id).symbol == pair) return &s.book(id);
  }
  return nullptr;
}

TEST(KrakenV1Session, AlteredUpdateIsCaughtAtItsChecksumAndOnlyThatPairResyncs) {
  std::vector<std::string> frames = received_frames();
  std::string pair;
  const std::size_t altered = first_top10_update(frames, 200, &pair);
  ASSERT_NE(altered, 0u);
  {
    // Change the last digit of the first volume.
    std::string& f = frames[altered];
    const std::size_t p = f.find("[[\"") + 3;
    const std::size_t q = f.find('"', f.find('"', p) + 1) + 1;
    char& digit = f[f.find('"', q) - 1];
    digit = digit == '9' ? '8' : static_cast<char>(digit + 1);
  }
  V1Session session(replay_config());
  RecordingSink sink;
  for (std::size_t i = 0; i < altered; ++i) session.on_frame(frames[i], 0, sink);
  const book::OrderBook* ob = book_of(session, pair);
  ASSERT_NE(ob, nullptr);
  const std::uint64_t passed_before = ob->counters().checks_passed;
  session.on_frame(frames[altered], 0, sink);
  EXPECT_EQ(ob->counters().checks_failed, 1u);
  EXPECT_EQ(ob->counters().checks_passed, passed_before);
  EXPECT_EQ(ob->state(), BookState::kResyncing);
  EXPECT_TRUE(sink.saw(StateReason::kChecksumMismatch));
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_EQ(sink.sent[0], R"({"event":"unsubscribe","pair":[")" + pair +
                              R"("],"subscription":{"name":"book","depth":1000},"reqid":1})");
  EXPECT_EQ(sink.sent[1], R"({"event":"subscribe","pair":[")" + pair +
                              R"("],"subscription":{"name":"book","depth":1000},"reqid":2})");
  // The rest of the recording: that pair applies nothing more; the others all validate.
  const std::uint64_t updates = ob->counters().updates;
  for (std::size_t i = altered + 1; i < frames.size(); ++i) session.on_frame(frames[i], 0, sink);
  EXPECT_EQ(ob->counters().updates, updates);
  EXPECT_EQ(ob->counters().checks_failed, 1u);
  for (BookId id = 0; id < session.book_count(); ++id) {
    if (session.info(id).symbol == pair) continue;
    EXPECT_EQ(session.book(id).state(), BookState::kLive) << session.info(id).symbol;
    EXPECT_EQ(session.book(id).counters().checks_failed, 0u) << session.info(id).symbol;
  }
}

TEST(KrakenV1Session, DroppedUpdateIsCaughtAtThatPairsNextChecksum) {
  const std::vector<std::string> frames = received_frames();
  std::string pair;
  const std::size_t dropped = first_top10_update(frames, 50, &pair);
  ASSERT_NE(dropped, 0u);
  V1Session session(replay_config());
  RecordingSink sink;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (i != dropped) session.on_frame(frames[i], 0, sink);
  }
  const book::OrderBook* ob = book_of(session, pair);
  ASSERT_NE(ob, nullptr);
  EXPECT_EQ(ob->counters().checks_failed, 1u);
  EXPECT_NE(ob->state(), BookState::kLive);
  std::uint64_t others_failed = 0;
  for (BookId id = 0; id < session.book_count(); ++id) {
    if (session.info(id).symbol != pair) others_failed += session.book(id).counters().checks_failed;
  }
  EXPECT_EQ(others_failed, 0u);
}

TEST(KrakenV1Session, SubscribeAndPingFrames) {
  V1Session session(V1Config{.depth = 25});
  RecordingSink sink;
  session.subscribe({"XBT/USD", "ETH/USD"}, sink);
  session.ping(sink);
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_EQ(
      sink.sent[0],
      R"({"event":"subscribe","pair":["XBT/USD","ETH/USD"],"subscription":{"name":"book","depth":25},"reqid":1})");
  EXPECT_EQ(sink.sent[1], R"({"event":"ping","reqid":2})");
  EXPECT_EQ(session.book_count(), 2u);
  session.on_frame(
      R"({"channelID":336,"channelName":"book-25","event":"subscriptionStatus","pair":"XBT/USD","reqid":1,"status":"subscribed","subscription":{"depth":25,"name":"book"}})",
      0, sink);
  EXPECT_EQ(session.book(0).state(), BookState::kAwaitingSnapshot);
  session.on_frame(R"({"event":"pong","reqid":2})", 0, sink);
  EXPECT_EQ(session.malformed_frames(), 0u);
}

// A subscriptionStatus whose depth Kraken does not offer is malformed (2 147 483 648 was
// INT_MIN as the book's int depth); the pair keeps waiting for a good one.
TEST(KrakenV1Session, AStatusWithADepthKrakenDoesNotOfferIsMalformed) {
  V1Session session(V1Config{.depth = 25});
  RecordingSink sink;
  session.subscribe({"XBT/USD"}, sink);
  session.on_frame(
      R"({"channelID":336,"channelName":"book-25","event":"subscriptionStatus","pair":"XBT/USD","reqid":1,"status":"subscribed","subscription":{"depth":2147483648,"name":"book"}})",
      0, sink);
  EXPECT_EQ(session.malformed_frames(), 1u);
  ASSERT_EQ(sink.details.size(), 1u);
  EXPECT_EQ(sink.details[0], "subscriptionStatus depth is not 10, 25, 100, 500 or 1000");
  EXPECT_EQ(session.book(0).state(), BookState::kSubscribing);
  EXPECT_EQ(session.info(0).depth, 25);
}

TEST(KrakenV1Session, RefusedSubscriptionReachesTheUserAndHaltsThatPair) {
  V1Session session(V1Config{.depth = 7});
  RecordingSink sink;
  session.subscribe({"XBT/USD", "ETH/USD"}, sink);
  session.on_frame(
      R"({"errorMessage":"Subscription depth not supported","event":"subscriptionStatus","pair":"XBT/USD","status":"error","subscription":{"depth":7,"name":"book"}})",
      0, sink);
  ASSERT_EQ(sink.venue_errors.size(), 1u);
  EXPECT_EQ(sink.venue_errors[0], "Subscription depth not supported");
  EXPECT_EQ(sink.venue_error_symbols[0], "XBT/USD");
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  EXPECT_EQ(session.book(1).state(), BookState::kSubscribing);  // the other pair is untouched
}

// A snapshot, then an update whose checksum is known (computed by hand for this book).
TEST(KrakenV1Session, HandMadeSnapshotAndUpdate) {
  V1Session session(replay_config());
  RecordingSink sink;
  session.on_frame(
      R"([0,{"as":[["0.05005","0.00000500","1582905487.684110"]],"bs":[["0.05000","0.00000304","1582905487.684110"]]},"book-10","BTC/USD"])",
      0, sink);
  ASSERT_EQ(session.book_count(), 1u);
  EXPECT_EQ(session.book(0).state(), BookState::kLive);
  EXPECT_EQ(session.book(0).counters().checks_passed, 0u);  // v1 snapshots carry no checksum
  // After the update the CRC input is "5005500" "5006100" "5000304" (asks low to high,
  // then bids; docs/venues/kraken.md's v1 formatting example): zlib.crc32 = 533248936. The
  // republish flag "r" is applied like any update.
  session.on_frame(
      R"([0,{"a":[["0.05006","0.00000100","1582905487.684111","r"]],"c":"533248936"},"book-10","BTC/USD"])", 0, sink);
  const book::OrderBook& ob = session.book(0);
  EXPECT_EQ(ob.asks().size(), 2u);
  EXPECT_EQ(ob.counters().updates, 1u);
  EXPECT_EQ(ob.counters().checks_passed, 1u);
  EXPECT_EQ(ob.counters().checks_failed, 0u);
  // The same update with one digit of the checksum off fails.
  session.on_frame(
      R"([0,{"a":[["0.05006","0.00000100","1582905487.684111","r"]],"c":"533248937"},"book-10","BTC/USD"])", 0, sink);
  EXPECT_EQ(ob.counters().checks_failed, 1u);
  EXPECT_EQ(ob.state(), BookState::kResyncing);
}

// A levels array broken by a syntax error after its first level must not pass as that one
// level: here the first level alone would even match the checksum (533248936, as above).
TEST(KrakenV1Session, ALevelsArrayBrokenInsideIsMalformedEvenWhenItsStartWouldMatch) {
  for (const std::string& broken :
       {std::string(R"(["0.05006","0.00000100","1582905487.684111"] x ["0.05007","0.00000100","1582905487.684111"])"),
        std::string(R"(["0.05006","0.00000100","1582905487.684111"],["0.05007",,"0.00000100","1582905487.684111"])"),
        std::string(R"(["0.05006","0.00000100","1582905487.684111"],["0.05007","0.00000100","1582905487.684111"})")}) {
    SCOPED_TRACE(broken);
    V1Session session(replay_config());
    RecordingSink sink;
    session.on_frame(
        R"([0,{"as":[["0.05005","0.00000500","1582905487.684110"]],"bs":[["0.05000","0.00000304","1582905487.684110"]]},"book-10","BTC/USD"])",
        0, sink);
    ASSERT_EQ(session.book(0).state(), BookState::kLive);
    session.on_frame(R"([0,{"a":[)" + broken + R"(],"c":"533248936"},"book-10","BTC/USD"])", 0, sink);
    EXPECT_EQ(session.malformed_frames(), 1u);
    EXPECT_EQ(session.book(0).counters().checks_passed, 0u);
    EXPECT_EQ(session.book(0).counters().updates, 0u);
    EXPECT_NE(session.book(0).state(), BookState::kLive);
  }
}

TEST(KrakenV1Session, MalformedFramesAreCountedAndOtherChannelsIgnored) {
  V1Session session(replay_config());
  RecordingSink sink;
  const std::vector<std::string> frames = received_frames();
  for (std::size_t i = 0; i < 30; ++i) session.on_frame(frames[i], 0, sink);  // acks and snapshots
  ASSERT_EQ(session.book_count(), 10u);
  ASSERT_EQ(session.info(1).symbol, "XMR/USD");
  ASSERT_EQ(session.book(1).state(), BookState::kLive);
  // Other channels on the same connection are not errors.
  session.on_frame(
      R"([340,{"a":["5525.40000",1,"1.000"],"b":["5525.10000",1,"1.000"],"c":["5525.10000","0.00398963"]},"ticker","XBT/USD"])",
      0, sink);
  session.on_frame(R"([341,[["5541.20000","0.15850568","1534614057.321597","s","l",""]],"trade","XBT/USD"])", 0, sink);
  EXPECT_EQ(session.malformed_frames(), 0u);
  // Truncated frames fail simdjson's structural pass before anything says which book they
  // were for: counted as not JSON (a lost top-10 change shows at that book's next checksum).
  session.on_frame("[992,", 0, sink);
  session.on_frame(R"([992,{"b":[["354.15000000","5.0)", 0, sink);
  EXPECT_EQ(session.book(1).state(), BookState::kLive);
  session.on_frame(R"(["x",{}])", 0, sink);             // no channelID
  session.on_frame(R"({"status":"online"})", 0, sink);  // no event
  session.on_frame(R"([992,{"b":[["354.15000000","5.00000000"]],"c":"1"},"book-1000","XMR/USD"])", 0,
                   sink);  // 2 fields
  EXPECT_EQ(session.malformed_frames(), 5u);
  ASSERT_EQ(sink.errors.size(), 5u);
  EXPECT_EQ(sink.errors[0], FrameError::kNotJson);
  EXPECT_EQ(sink.errors[1], FrameError::kNotJson);
  EXPECT_EQ(sink.errors[2], FrameError::kUnexpectedShape);
  EXPECT_EQ(sink.errors[3], FrameError::kUnexpectedShape);
  EXPECT_EQ(sink.errors[4], FrameError::kUnexpectedShape);
  // The short level belonged to a live book: that book is invalidated and resynced.
  EXPECT_EQ(session.book(1).state(), BookState::kResyncing);
  EXPECT_EQ(session.book(1).counters().resyncs_requested, 1u);
  // A checksum that is not a uint32 string is malformed too, and a pair that does not
  // match its channel is rejected without touching either book.
  session.on_frame(
      R"([1664,{"a":[["13.284500","1396.00000000","1618678133.383209"]],"c":"99999999999"},"book-1000","WAVES/EUR"])",
      0, sink);
  session.on_frame(R"([496,{"a":[["13.284500","1396.00000000","1618678133.383209"]],"c":"1"},"book-1000","WAVES/EUR"])",
                   0, sink);
  EXPECT_EQ(session.malformed_frames(), 7u);
  EXPECT_EQ(session.book(0).state(), BookState::kResyncing);
}

TEST(KrakenV1Session, MaintenanceMakesLiveBooksStaleAndOnlineResubscribesThem) {
  V1Session session(replay_config());
  RecordingSink sink;
  const std::vector<std::string> frames = received_frames();
  for (std::size_t i = 0; i < 30; ++i) session.on_frame(frames[i], 0, sink);
  session.on_frame(R"({"connectionID":1,"event":"systemStatus","status":"maintenance","version":"1.8.3"})", 0, sink);
  for (BookId id = 0; id < session.book_count(); ++id) EXPECT_EQ(session.book(id).state(), BookState::kStale);
  EXPECT_TRUE(sink.saw(StateReason::kMaintenance));
  // Back online: every stale book asks for a fresh snapshot (unsubscribe + subscribe), and
  // its next snapshot makes it live again.
  const std::size_t sent_before = sink.sent.size();
  session.on_frame(R"({"connectionID":1,"event":"systemStatus","status":"online","version":"1.8.3"})", 0, sink);
  EXPECT_EQ(sink.sent.size(), sent_before + 2 * session.book_count());
  for (BookId id = 0; id < session.book_count(); ++id) EXPECT_EQ(session.book(id).state(), BookState::kResyncing);
  EXPECT_EQ(sink.statuses, (std::vector<std::string>{"online", "maintenance", "online"}));  // first: the recording's
}

// cancel_only, post_only and limit_only restrict order entry, not the feed: the books stay
// live and the real recording still validates every checksum (4 269).
TEST(KrakenV1Session, RestrictedTradingStatusesKeepBooksLive) {
  V1Session session(replay_config());
  RecordingSink sink;
  const std::vector<std::string> frames = received_frames();
  const std::vector<std::string> statuses{"cancel_only", "post_only", "limit_only"};
  for (std::size_t i = 0; i < frames.size(); ++i) {
    session.on_frame(frames[i], 0, sink);
    if (i >= 30 && i % 1000 == 0 && i / 1000 <= statuses.size()) {
      session.on_frame(
          R"({"connectionID":1,"event":"systemStatus","status":")" + statuses[i / 1000 - 1] + R"(","version":"1.8.3"})",
          0, sink);
      for (BookId id = 0; id < session.book_count(); ++id) ASSERT_EQ(session.book(id).state(), BookState::kLive);
    }
  }
  std::vector<std::string> expected_statuses{"online"};  // the recording's own, on connect
  expected_statuses.insert(expected_statuses.end(), statuses.begin(), statuses.end());
  EXPECT_EQ(sink.statuses, expected_statuses);
  std::uint64_t passed = 0, failed = 0;
  for (BookId id = 0; id < session.book_count(); ++id) {
    EXPECT_EQ(session.book(id).state(), BookState::kLive);
    passed += session.book(id).counters().checks_passed;
    failed += session.book(id).counters().checks_failed;
  }
  EXPECT_EQ(passed, 4269u);
  EXPECT_EQ(failed, 0u);
}

// An empty snapshot is a live, empty book whose precision the first levels set
// ("5006100": CRC32 3407528997).
TEST(KrakenV1Session, AnEmptySnapshotIsLiveAndTheFirstLevelsSetThePrecision) {
  V1Session session(replay_config());
  RecordingSink sink;
  session.on_frame(R"([0,{"as":[],"bs":[]},"book-10","BTC/USD"])", 0, sink);
  ASSERT_EQ(session.book_count(), 1u);
  EXPECT_EQ(session.book(0).state(), BookState::kLive);
  session.on_frame(R"([0,{"a":[["0.05006","0.00000100","1582905487.684111"]],"c":"3407528997"},"book-10","BTC/USD"])",
                   0, sink);
  EXPECT_TRUE(sink.errors.empty());
  EXPECT_EQ(session.book(0).state(), BookState::kLive);
  EXPECT_EQ(session.book(0).price_scale(), 5);
  EXPECT_EQ(session.book(0).qty_scale(), 8);
  EXPECT_EQ(session.book(0).counters().checks_passed, 1u);
}

TEST(KrakenV1Session, ANumberPastTheBooksRangeHaltsTheBookWithTheLimitNamed) {
  V1Session session(replay_config());
  RecordingSink sink;
  session.on_frame(
      R"([0,{"as":[["0.05005","123456789012.12345678","1582905487.684110"]],"bs":[["0.05000","0.00000304","1582905487.684110"]]},"book-10","BTC/USD"])",
      0, sink);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0], FrameError::kOutOfRange);
  EXPECT_EQ(sink.details[0],
            "qty 123456789012.12345678 is past the book's range (at 8 decimals at most 92233720368.54775807)");
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  EXPECT_EQ(sink.transitions.back().why, StateReason::kOutOfRange);
  session.on_tick(std::int64_t{1} << 62, sink);
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  EXPECT_EQ(session.book(0).counters().resyncs_requested, 0u);
}

TEST(KrakenV1Session, SteadyStateUpdatesAllocateNothing) {
  const std::vector<std::string> frames = received_frames();
  V1Session session(replay_config());
  NullSink sink;
  const std::size_t warm = frames.size() / 2;
  for (std::size_t i = 0; i < warm; ++i) session.on_frame(frames[i], 0, sink);
  obr::testing::AllocationScope scope;
  for (std::size_t i = warm; i < frames.size(); ++i) session.on_frame(frames[i], 0, sink);
  EXPECT_EQ(scope.allocations(), 0u);
  std::uint64_t failed = 0, passed = 0;
  for (BookId id = 0; id < session.book_count(); ++id) {
    failed += session.book(id).counters().checks_failed;
    passed += session.book(id).counters().checks_passed;
  }
  EXPECT_EQ(failed, 0u);
  EXPECT_EQ(passed, 4269u);
}

}  // namespace
}  // namespace obr::connectors::kraken
