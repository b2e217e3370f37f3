// tests/connectors/bybit_orderbook_session_test.cpp — the Bybit v5 orderbook session, sans
// I/O (docs/venues/bybit.md).
//
// Helpers first (message() builds book messages in either category's field order;
// Subscribed is a session whose subscribe was answered), then sections: the connection
// (batches of 10, answers and refusals, deadlines, pings), the books (snapshots, deltas,
// gaps, restart and repeated snapshots, the depth bound, the breaker), malformed frames,
// telling a recording's category, the real capture, and steady-state allocations.
#include <absl/strings/str_cat.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "connectors/bybit/orderbook_session.h"
#include "connectors/bybit/venue.h"
#include "tests/book/test_data.h"
#include "tests/common/alloc_counter.h"
#include "tests/common/expected_json.h"
#include "tests/connectors/session_test_util.h"

namespace obr::connectors::bybit {
namespace {

using book::BookState;
using BybitSink = obr::testing::ActionSink;
using obr::testing::top10;
using Levels = std::vector<std::vector<std::string>>;

constexpr std::int64_t kSec = 1'000'000'000;

// message: a book message of `symbol` at `depth`; `spot` writes "ts" before "type".
std::string message(const std::string& type, const std::string& symbol, std::int64_t u, const std::string& bids,
                    const std::string& asks, int depth = 200, bool spot = false) {
  const std::string topic = R"({"topic":"orderbook.)" + std::to_string(depth) + "." + symbol + R"(",)";
  const std::string head = spot ? topic + R"("ts":1786310816516,"type":")" + type + R"(",)"
                                : topic + R"("type":")" + type + R"(","ts":1786310818129,)";
  return head + R"("data":{"s":")" + symbol + R"(","b":[)" + bids + R"(],"a":[)" + asks + R"(],"u":)" +
         std::to_string(u) + R"(,"seq":7961638724},"cts":1786310818127})";
}
std::string snapshot(const std::string& symbol, std::int64_t u, const std::string& bids, const std::string& asks,
                     int depth = 200) {
  return message("snapshot", symbol, u, bids, asks, depth);
}
std::string delta(const std::string& symbol, std::int64_t u, const std::string& bids, const std::string& asks,
                  int depth = 200) {
  return message("delta", symbol, u, bids, asks, depth);
}

// Subscribed: a session with `symbols` subscribed, connected and answered.
struct Subscribed {
  explicit Subscribed(std::vector<std::string> symbols = {"BTCUSDT"}, OrderbookConfig config = {}) : session(config) {
    EXPECT_TRUE(session.subscribe(symbols, now, sink).ok());
    session.start(now, sink);
    session.on_connected(now, sink);
    session.on_frame(R"({"success":true,"ret_msg":"","conn_id":"c1","req_id":"1","op":"subscribe"})", now, sink);
  }
  void send(const std::string& frame) { session.on_frame(frame, now, sink); }
  const book::OrderBook& ob(BookId id = 0) const { return session.book(id); }
  std::int64_t now = 1000 * kSec;
  BybitSink sink;
  OrderbookSession session;
};

const std::string kBids = R"(["100.10","1.000"],["100.00","2.000"])";
const std::string kAsks = R"(["100.20","3.000"],["100.30","4.000"])";

// ---- connection -------------------------------------------------------------------

TEST(BybitConnection, SubscribesTenTopicsPerRequestEachWithItsReqId) {
  OrderbookSession s(OrderbookConfig{});
  BybitSink sink;
  std::vector<std::string> symbols;
  for (int i = 0; i < 23; ++i) symbols.push_back(absl::StrCat("S", i, "USDT"));
  ASSERT_TRUE(s.subscribe(symbols, 0, sink).ok());
  s.start(0, sink);
  ASSERT_EQ(sink.opened, std::vector<std::string>{"wss://stream.bybit.com/v5/public/linear"});
  s.on_connected(0, sink);
  ASSERT_EQ(sink.sent.size(), 3u);
  EXPECT_EQ(sink.sent[2], R"({"req_id":"3","op":"subscribe","args":["orderbook.200.S20USDT",)"
                          R"("orderbook.200.S21USDT","orderbook.200.S22USDT"]})");
  EXPECT_EQ(std::count(sink.sent[0].begin(), sink.sent[0].end(), ','), 11);  // 10 topics, 2 other fields
  s.on_frame(R"({"success":true,"ret_msg":"","conn_id":"c","req_id":"3","op":"subscribe"})", 0, sink);
  EXPECT_EQ(s.book(22).state(), BookState::kAwaitingSnapshot);
  EXPECT_EQ(s.book(0).state(), BookState::kSubscribing);  // its answer has not come
}

TEST(BybitConnection, EachCategoryHasItsEndpointAndDepthsAreChecked) {
  EXPECT_EQ(default_endpoint(Category::kSpot), "wss://stream.bybit.com/v5/public/spot");
  EXPECT_EQ(default_endpoint(Category::kInverse), "wss://stream.bybit.com/v5/public/inverse");
  EXPECT_EQ(venue_name(Category::kSpot), "bybit-spot");
  EXPECT_EQ(venue_name(Category::kLinear), "bybit-linear");
  EXPECT_EQ(venue_name(Category::kInverse), "bybit-inverse");
  for (int d : {1, 50, 200, 1000}) EXPECT_TRUE(depth_ok(Category::kSpot, d)) << d;
  for (int d : {0, 5, 25, 100, 500}) EXPECT_FALSE(kLinearVenue.depth_ok(d)) << d;
  OrderbookConfig c;
  c.category = Category::kSpot;
  c.depth = 50;
  OrderbookSession s(c);
  BybitSink sink;
  ASSERT_TRUE(s.subscribe({"ETHUSDT"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  EXPECT_EQ(sink.opened, std::vector<std::string>{"wss://stream.bybit.com/v5/public/spot"});
  EXPECT_EQ(sink.sent, std::vector<std::string>{R"({"req_id":"1","op":"subscribe","args":["orderbook.50.ETHUSDT"]})"});
  const absl::Status st = s.subscribe({"BAD SYMBOL"}, 0, sink);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("bybit-spot: symbol 'BAD SYMBOL'"), std::string_view::npos) << st.message();
}

// A connection's args stay within Bybit's 21 000 characters: the topic that would pass it
// is refused, nothing of the call is added, and the ones before it stand.
TEST(BybitConnection, SubscribeRefusesTopicsPastTheConnectionsArgsLimit) {
  OrderbookSession s(OrderbookConfig{});
  BybitSink sink;
  // "orderbook.200.SYMnnnnUSDT" is 25 characters, 28 in the array: 749 fit in 21 000.
  std::vector<std::string> symbols;
  for (int i = 0; i < 749; ++i) symbols.push_back(absl::StrCat("SYM", 1000 + i, "USDT"));
  ASSERT_TRUE(s.subscribe(symbols, 0, sink).ok());
  const absl::Status st = s.subscribe({"SYM9999USDT", "SYM9998USDT"}, 0, sink);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(),
            "bybit-linear: these topics would take the connection's args to 21030 characters, past Bybit's limit of "
            "21000 (docs/venues/bybit.md); nothing was subscribed");
  EXPECT_EQ(s.book_count(), 749u);
}

// A refusal that names a topic refuses that book alone; the others were subscribed.
TEST(BybitConnection, ARefusalNamingATopicHaltsThatBookWithTheVenuesMessage) {
  OrderbookSession s(OrderbookConfig{});
  BybitSink sink;
  ASSERT_TRUE(s.subscribe({"BTCUSDT", "NOPEUSDT"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  s.on_frame(R"({"success":false,"ret_msg":"error:handler not found,topic:orderbook.200.NOPEUSDT",)"
             R"("conn_id":"c","req_id":"1","op":"subscribe"})",
             0, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kAwaitingSnapshot);
  EXPECT_EQ(s.book(1).state(), BookState::kHalted);
  EXPECT_TRUE(s.info(1).refused);
  ASSERT_EQ(sink.venue_errors.size(), 1u);
  EXPECT_EQ(sink.venue_error_symbols[0], "NOPEUSDT");
  EXPECT_EQ(sink.venue_errors[0], "error:handler not found,topic:orderbook.200.NOPEUSDT");
  // A refused book is not asked for again on the next connection.
  s.on_disconnected(0, sink);
  s.on_connected(0, sink);
  EXPECT_EQ(sink.sent.back(), R"({"req_id":"2","op":"subscribe","args":["orderbook.200.BTCUSDT"]})");
}

// A refusal of several topics that names none is asked again topic by topic, so that the
// venue says which; a one-topic refusal refuses its book.
TEST(BybitConnection, ARefusalNamingNoTopicIsRetriedTopicByTopic) {
  OrderbookSession s(OrderbookConfig{});
  BybitSink sink;
  ASSERT_TRUE(s.subscribe({"BTCUSDT", "ETHUSDT"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  s.on_frame(R"({"success":false,"ret_msg":"Invalid request","conn_id":"c","req_id":"1","op":"subscribe"})", 0, sink);
  ASSERT_EQ(sink.sent.size(), 3u);
  EXPECT_EQ(sink.sent[1], R"({"req_id":"2","op":"subscribe","args":["orderbook.200.BTCUSDT"]})");
  EXPECT_EQ(sink.sent[2], R"({"req_id":"3","op":"subscribe","args":["orderbook.200.ETHUSDT"]})");
  s.on_frame(R"({"success":true,"ret_msg":"","conn_id":"c","req_id":"2","op":"subscribe"})", 0, sink);
  s.on_frame(R"({"success":false,"ret_msg":"Invalid request","conn_id":"c","req_id":"3","op":"subscribe"})", 0, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kAwaitingSnapshot);
  EXPECT_EQ(s.book(1).state(), BookState::kHalted);
  EXPECT_EQ(sink.venue_errors, std::vector<std::string>{"Invalid request"});
}

TEST(BybitConnection, AnUnansweredSubscribeClosesTheConnectionAndTheNextOneSubscribesAgain) {
  OrderbookSession s(OrderbookConfig{});
  BybitSink sink;
  ASSERT_TRUE(s.subscribe({"BTCUSDT"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  s.on_tick(10 * kSec - 1, sink);
  EXPECT_TRUE(sink.closed.empty());
  s.on_tick(10 * kSec, sink);
  EXPECT_EQ(sink.closed, std::vector<std::string>{"subscribe request not answered within ack_timeout"});
  s.on_disconnected(11 * kSec, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kStale);
  EXPECT_EQ(sink.opened.size(), 2u);
  s.on_connected(12 * kSec, sink);
  EXPECT_EQ(sink.sent.back(), R"({"req_id":"2","op":"subscribe","args":["orderbook.200.BTCUSDT"]})");
}

// {"op":"ping"} every 20 s; either documented pong form answers it; none within the pong
// timeout closes the connection.
TEST(BybitConnection, PingsEveryTwentySecondsAndClosesWithoutAPong) {
  Subscribed s;
  const std::size_t sent = s.sink.sent.size();
  s.session.on_tick(s.now + 20 * kSec - 1, s.sink);
  EXPECT_EQ(s.sink.sent.size(), sent);
  s.session.on_tick(s.now + 20 * kSec, s.sink);
  ASSERT_EQ(s.sink.sent.size(), sent + 1);
  EXPECT_EQ(s.sink.sent.back(), R"({"req_id":"ping-2","op":"ping"})");
  // Spot's pong.
  s.session.on_frame(R"({"success":true,"ret_msg":"pong","conn_id":"c","op":"ping"})", s.now + 21 * kSec, s.sink);
  s.session.on_tick(s.now + 40 * kSec, s.sink);
  // Linear's pong, with an empty req_id.
  s.session.on_frame(R"({"success":true,"ret_msg":"pong","conn_id":"c","req_id":"","op":"ping"})", s.now + 41 * kSec,
                     s.sink);
  s.session.on_tick(s.now + 60 * kSec, s.sink);
  s.session.on_frame(R"({"req_id":"ping-4","op":"pong","args":["1675418560633"],"conn_id":"c"})", s.now + 61 * kSec,
                     s.sink);
  s.session.on_tick(s.now + 80 * kSec, s.sink);  // this ping goes unanswered
  EXPECT_TRUE(s.sink.closed.empty());
  s.session.on_tick(s.now + 90 * kSec - 1, s.sink);
  EXPECT_TRUE(s.sink.closed.empty());
  s.session.on_tick(s.now + 90 * kSec, s.sink);
  EXPECT_EQ(s.sink.closed, std::vector<std::string>{"no pong within pong_timeout"});
  EXPECT_EQ(s.session.malformed_frames(), 0u);
}

// ---- books --------------------------------------------------------------------------

TEST(BybitBooks, ASnapshotThenDeltasThatUpdateInsertAndDelete) {
  Subscribed s;
  s.send(snapshot("BTCUSDT", 100, kBids, kAsks));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  s.send(delta("BTCUSDT", 101, R"(["100.10","0"],["100.05","5.500"])", R"(["100.20","2.500"],["100.25","0.001"])"));
  s.send(delta("BTCUSDT", 102, R"(["99.00","0"])", ""));  // a price the book does not hold: nothing to delete
  EXPECT_EQ(top10(s.ob(), true), (Levels{{"100.05", "5.500"}, {"100.00", "2.000"}}));
  EXPECT_EQ(top10(s.ob(), false), (Levels{{"100.20", "2.500"}, {"100.25", "0.001"}, {"100.30", "4.000"}}));
  const BookReport r = s.session.report(0);
  EXPECT_EQ(r.symbol, "BTCUSDT");
  EXPECT_EQ(r.sequence, 102);
  EXPECT_EQ(r.depth, 200);
  EXPECT_EQ(r.trusted_depth, -1);  // the venue keeps the book at its depth: every level is exact
  EXPECT_EQ(s.ob().counters().snapshots, 1u);
  EXPECT_EQ(s.ob().counters().updates, 2u);
  EXPECT_EQ(s.ob().counters().checks_passed, 2u);
  EXPECT_EQ(s.ob().counters().checks_failed, 0u);
  EXPECT_EQ(s.ob().counters().levels_applied, 5u);
}

// Spot trims trailing zeros and linear keeps fixed decimals: the same numbers give the
// same integers at the same scale.
TEST(BybitBooks, TrimmedAndFixedDecimalsGiveTheSameIntegers) {
  OrderbookConfig spot_config;
  spot_config.category = Category::kSpot;
  Subscribed spot({"BTCUSDT"}, spot_config);
  Subscribed linear;
  spot.send(
      message("snapshot", "BTCUSDT", 7, R"(["65140","0.5"],["65139.9","0.885797"])", R"(["65140.4","1"])", 200, true));
  linear.send(
      snapshot("BTCUSDT", 7, R"(["65140.00","0.500000"],["65139.90","0.885797"])", R"(["65140.40","1.000000"])"));
  spot.send(message("delta", "BTCUSDT", 8, R"(["65140.05","2"])", "", 200, true));  // a finer price: rescaled
  linear.send(delta("BTCUSDT", 8, R"(["65140.05","2.000000"])", ""));
  ASSERT_EQ(spot.ob().state(), BookState::kLive);
  ASSERT_EQ(spot.ob().price_scale(), linear.ob().price_scale());
  ASSERT_EQ(spot.ob().qty_scale(), linear.ob().qty_scale());
  ASSERT_EQ(spot.ob().bids().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(spot.ob().bids().at(i).price, linear.ob().bids().at(i).price);
    EXPECT_EQ(spot.ob().bids().at(i).qty, linear.ob().bids().at(i).qty);
  }
  EXPECT_EQ(spot.ob().bids().at(0).price, 6514005);
  EXPECT_EQ(spot.ob().asks().at(0).qty, linear.ob().asks().at(0).qty);
}

// A gap invalidates that book alone: its topic is unsubscribed and subscribed again, its
// deltas are dropped until the fresh snapshot, and the other book stays live.
TEST(BybitBooks, AGapResubscribesOnlyThatBookAndItsSnapshotRestoresIt) {
  Subscribed s({"BTCUSDT", "ETHUSDT"});
  s.send(snapshot("BTCUSDT", 100, kBids, kAsks));
  s.send(snapshot("ETHUSDT", 500, kBids, kAsks));
  const std::size_t sent = s.sink.sent.size();
  s.send(delta("BTCUSDT", 102, R"(["100.10","9.000"])", ""));  // 101 is missing
  EXPECT_EQ(s.ob(0).state(), BookState::kResyncing);
  EXPECT_EQ(s.ob(1).state(), BookState::kLive);
  ASSERT_EQ(s.sink.sent.size(), sent + 2);
  EXPECT_EQ(s.sink.sent[sent], R"({"req_id":"2","op":"unsubscribe","args":["orderbook.200.BTCUSDT"]})");
  EXPECT_EQ(s.sink.sent[sent + 1], R"({"req_id":"3","op":"subscribe","args":["orderbook.200.BTCUSDT"]})");
  EXPECT_TRUE(s.sink.saw(StateReason::kSequenceGap));
  EXPECT_EQ(s.ob(0).counters().checks_failed, 1u);
  EXPECT_EQ(s.ob(0).counters().resyncs_requested, 1u);
  EXPECT_EQ(s.session.report(0).sequence, 100);                                       // the last applied u
  EXPECT_EQ(top10(s.ob(0), true)[0], (std::vector<std::string>{"100.10", "1.000"}));  // not applied
  s.send(delta("BTCUSDT", 103, R"(["100.10","8.000"])", ""));
  EXPECT_EQ(s.session.info(0).dropped_deltas, 1u);
  s.send(delta("ETHUSDT", 501, "", ""));
  EXPECT_EQ(s.ob(1).counters().checks_passed, 1u);
  s.send(R"({"success":true,"ret_msg":"","conn_id":"c","req_id":"2","op":"unsubscribe"})");
  s.send(R"({"success":true,"ret_msg":"","conn_id":"c","req_id":"3","op":"subscribe"})");
  s.send(snapshot("BTCUSDT", 104, R"(["100.10","7.000"])", kAsks));
  EXPECT_EQ(s.ob(0).state(), BookState::kLive);
  EXPECT_EQ(s.session.report(0).sequence, 104);
  EXPECT_EQ(top10(s.ob(0), true), (Levels{{"100.10", "7.000"}}));
  EXPECT_EQ(s.session.malformed_frames(), 0u);
}

// A repeated u (a duplicate) and an older u (a reorder's late delta) are gaps too: only the
// last u + 1 follows.
TEST(BybitBooks, ADuplicateOrAnOlderDeltaIsAGap) {
  Subscribed s({"BTCUSDT", "ETHUSDT"});
  s.send(snapshot("BTCUSDT", 100, kBids, kAsks));
  s.send(snapshot("ETHUSDT", 100, kBids, kAsks));
  s.send(delta("BTCUSDT", 101, "", ""));
  s.send(delta("BTCUSDT", 101, "", ""));
  EXPECT_EQ(s.ob(0).state(), BookState::kResyncing);
  s.send(delta("ETHUSDT", 102, "", ""));  // reordered: 102 before 101
  EXPECT_EQ(s.ob(1).state(), BookState::kResyncing);
  EXPECT_EQ(s.ob(0).counters().checks_failed, 1u);
  EXPECT_EQ(s.ob(1).counters().checks_failed, 1u);
}

// A snapshot at any time replaces the book, never merges; u == 1 is the restart snapshot
// (whatever its type says), and the level-1 repeat with the same u is admitted.
TEST(BybitBooks, SnapshotsReplaceTheBookIncludingRestartAndRepeats) {
  Subscribed s;
  s.send(snapshot("BTCUSDT", 100, kBids, kAsks));
  s.send(snapshot("BTCUSDT", 180, R"(["99.00","1.000"])", R"(["101.00","1.000"])"));  // unprompted
  EXPECT_EQ(top10(s.ob(), true), (Levels{{"99.00", "1.000"}}));
  EXPECT_EQ(top10(s.ob(), false), (Levels{{"101.00", "1.000"}}));
  s.send(delta("BTCUSDT", 1, R"(["98.00","1.000"])", R"(["102.00","2.000"])"));  // the service restarted
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(top10(s.ob(), true), (Levels{{"98.00", "1.000"}}));
  EXPECT_EQ(s.session.report(0).sequence, 1);
  s.send(delta("BTCUSDT", 2, R"(["98.50","1.000"])", ""));
  s.send(snapshot("BTCUSDT", 2, R"(["98.50","1.000"],["98.00","1.000"])", R"(["102.00","2.000"])"));  // repeat
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.ob().counters().snapshots, 4u);
  EXPECT_EQ(s.ob().counters().updates, 1u);
  EXPECT_EQ(s.ob().counters().checks_failed, 0u);
  s.send(delta("BTCUSDT", 3, "", ""));
  EXPECT_EQ(s.ob().counters().checks_passed, 2u);
}

TEST(BybitBooks, ASideLongerThanTheTopicsDepthIsAFailedCheck) {
  OrderbookConfig c;
  c.depth = 1;
  Subscribed s({"BTCUSDT"}, c);
  s.send(snapshot("BTCUSDT", 10, R"(["100.00","1"])", R"(["101.00","1"])", 1));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  s.send(delta("BTCUSDT", 11, R"(["100.50","1"])", "", 1));  // two bids at depth 1
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);
  EXPECT_EQ(s.ob().counters().checks_failed, 1u);
  EXPECT_TRUE(s.sink.saw(StateReason::kMalformed));
  EXPECT_EQ(s.sink.venue_errors, std::vector<std::string>{"delta left a side longer than the topic's depth"});
  EXPECT_EQ(s.ob().counters().updates, 0u);  // not counted as applied
  EXPECT_EQ(s.ob().counters().checks_passed, 0u);
  EXPECT_EQ(s.session.report(0).sequence, 10);
  s.send(snapshot("BTCUSDT", 12, R"(["100.00","1"],["99.00","1"])", R"(["101.00","1"])", 1));
  EXPECT_NE(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.ob().counters().checks_failed, 2u);
}

TEST(BybitBooks, ABookThatKeepsFailingTripsTheBreakerThenRetries) {
  Subscribed s;
  for (std::int64_t u : {10, 20, 30}) {
    s.send(snapshot("BTCUSDT", u, kBids, kAsks));
    s.send(delta("BTCUSDT", u + 5, "", ""));  // a gap each time
  }
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
  EXPECT_TRUE(s.sink.saw(StateReason::kCircuitOpen));
  const std::size_t sent = s.sink.sent.size();
  s.send(snapshot("BTCUSDT", 40, kBids, kAsks));  // ignored while halted
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
  s.session.on_tick(s.now + kSec, s.sink);  // the breaker's first backoff: 1 s
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);
  ASSERT_EQ(s.sink.sent.size(), sent + 2);
  EXPECT_NE(s.sink.sent.back().find(R"("op":"subscribe","args":["orderbook.200.BTCUSDT"])"), std::string::npos);
  s.send(snapshot("BTCUSDT", 50, kBids, kAsks));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
}

// ---- malformed frames -----------------------------------------------------------------

TEST(BybitMalformed, DamagedFramesAreCountedAndALiveBookThatLostAMessageResubscribes) {
  Subscribed s({"BTCUSDT", "ETHUSDT"});
  s.send(snapshot("BTCUSDT", 100, kBids, kAsks));
  s.send(snapshot("ETHUSDT", 100, kBids, kAsks));
  s.send("not json");
  s.send(R"({"topic":"orderbook.200.BTCUSDT","type":"delta","data":{"s":"BTCUSDT","b":[["1.0"],)");  // cut
  EXPECT_EQ(s.ob(0).state(), BookState::kResyncing);
  EXPECT_EQ(s.ob(1).state(), BookState::kLive);
  s.send(delta("ETHUSDT", 101, R"(["abc","1"])", ""));
  EXPECT_EQ(s.ob(1).state(), BookState::kResyncing);
  s.send(delta("NOPEUSDT", 1, "", ""));
  s.send(R"({"topic":"orderbook.200.XRPUSDT","type":"delta","data":{"s":"BTCUSDT","b":[],"a":[],"u":5}})");
  s.send(R"({"hello":1})");
  EXPECT_EQ(s.session.malformed_frames(), 6u);
  EXPECT_EQ(s.sink.details,
            (std::vector<std::string>{"not a JSON object", "not a JSON object",
                                      "orderbook delta with a price or size that is not a decimal", "NOPEUSDT",
                                      "orderbook message whose topic does not name its symbol",
                                      "frame is neither an orderbook message nor an answer"}));
  // Other topics on the connection are not the books' and not errors.
  s.send(R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[]})");
  EXPECT_EQ(s.session.malformed_frames(), 6u);
}

TEST(BybitMalformed, FieldsInAnyOrderAreReadAfterValidation) {
  Subscribed s;
  s.send(R"({"data":{"u":100,"b":[["100.00","1"]],"a":[["101.00","1"]],"s":"BTCUSDT"},"type":"snapshot",)"
         R"("topic":"orderbook.200.BTCUSDT"})");
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.report(0).sequence, 100);
  EXPECT_EQ(s.session.malformed_frames(), 0u);
}

TEST(BybitMalformed, APricePastTheBooksRangeHaltsTheBook) {
  Subscribed s;
  s.send(snapshot("BTCUSDT", 100, R"(["100.00000000","1"])", R"(["101.00000000","1"])"));
  s.send(delta("BTCUSDT", 101, R"(["123456789012.12345678","1"])", ""));
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
  EXPECT_TRUE(s.sink.saw(StateReason::kOutOfRange));
  ASSERT_FALSE(s.sink.details.empty());
  EXPECT_EQ(s.sink.details.back(),
            "price 123456789012.12345678 is past the book's range (at 8 decimals at most 92233720368.54775807)");
  s.send(snapshot("BTCUSDT", 200, kBids, kAsks));  // ignored until the connection is replaced
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
}

// ---- a recording's category ----------------------------------------------------------

TEST(BybitVenue, TheCategoryComesFromTheFramesFormAndTheSymbol) {
  const std::string linear = snapshot("BTCUSDT", 1, "", "");
  const std::string spot = message("snapshot", "BTCUSDT", 1, "", "", 200, true);
  EXPECT_TRUE(kLinearVenue.first_frame_is(linear));
  EXPECT_FALSE(kSpotVenue.first_frame_is(linear));
  EXPECT_FALSE(kInverseVenue.first_frame_is(linear));
  EXPECT_TRUE(kSpotVenue.first_frame_is(spot));
  EXPECT_FALSE(kLinearVenue.first_frame_is(spot));
  for (const char* sym : {"BTCUSDC", "BTCPERP", "BTC-26DEC25"}) {
    EXPECT_TRUE(kLinearVenue.first_frame_is(snapshot(sym, 1, "", ""))) << sym;
  }
  for (const char* sym : {"BTCUSD", "ETHUSD", "BTCUSDH25", "BTCUSDZ26"}) {
    EXPECT_TRUE(kInverseVenue.first_frame_is(snapshot(sym, 1, "", ""))) << sym;
    EXPECT_FALSE(kLinearVenue.first_frame_is(snapshot(sym, 1, "", ""))) << sym;
  }
  // Nothing to tell from: an unknown settlement, an answer, a pong.
  const std::string odd = snapshot("BTCEUR", 1, "", "");
  EXPECT_FALSE(kLinearVenue.first_frame_is(odd) || kInverseVenue.first_frame_is(odd) || kSpotVenue.first_frame_is(odd));
  const std::string ack = R"({"success":true,"ret_msg":"","conn_id":"c","req_id":"","op":"subscribe"})";
  EXPECT_FALSE(kLinearVenue.first_frame_is(ack) || kInverseVenue.first_frame_is(ack) || kSpotVenue.first_frame_is(ack));
}

// ---- recordings: the real capture and the generated sessions ---------------------------

// CaptureRun: a JSON-lines capture (`{"conn","ts","data"}` per line) through one capture
// session per connection, each connection's category told by its first book message
// (frames before it, the answers, are held and fed after). `each_message` runs after
// every frame a session was fed.
struct CaptureRun {
  struct Conn {
    std::unique_ptr<OrderbookSession> session;
    const VenueDescriptor* venue = nullptr;
    std::vector<std::string> held;
  };
  std::map<std::string, Conn> conns;
  std::vector<std::string> order;  // connections in the order first seen
  obr::testing::RecordingSink sink;
  std::uint64_t frames = 0;

  template <class Each>
  void run(const std::string& relative, Each&& each_message) {
    std::ifstream in(obr::testing::data_path(relative));
    ASSERT_TRUE(in.good()) << relative;
    simdjson::dom::parser parser;
    for (std::string line; std::getline(in, line);) {
      simdjson::dom::element e;
      ASSERT_EQ(parser.parse(line).get(e), simdjson::SUCCESS);
      const std::string name(e["conn"].get_string().value_unsafe());
      const std::string data(e["data"].get_string().value_unsafe());
      if (conns.count(name) == 0) order.push_back(name);
      Conn& c = conns[name];
      if (c.venue == nullptr) {
        for (const VenueDescriptor* v : {&kSpotVenue, &kLinearVenue, &kInverseVenue}) {
          if (v->first_frame_is(data)) c.venue = v;
        }
        if (c.venue == nullptr) {
          c.held.push_back(data);
          continue;
        }
        SessionSettings settings;
        settings.mode = SessionMode::kCapture;
        const Category cat = c.venue == &kSpotVenue     ? Category::kSpot
                             : c.venue == &kLinearVenue ? Category::kLinear
                                                        : Category::kInverse;
        c.session = std::make_unique<OrderbookSession>(session_config(settings, cat));
        for (const std::string& h : c.held) feed(c, h, each_message);
      }
      feed(c, data, each_message);
    }
    for (const auto& [name, c] : conns) EXPECT_NE(c.venue, nullptr) << name << ": no frame told its category";
  }
  template <class Each>
  void feed(Conn& c, const std::string& data, Each&& each_message) {
    c.session->on_frame(data, static_cast<std::int64_t>(++frames), sink);
    each_message(*c.session);
  }
};

// A book's side as the replay prints it: spot without trailing zeros, the derivatives at
// the decimals the venue writes.
Levels printed(const book::OrderBook& ob, bool bids, bool trim) {
  Levels out = top10(ob, bids);
  if (!trim) return out;
  for (auto& level : out) {
    for (std::string& text : level) {
      if (text.find('.') == std::string::npos) continue;
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
    }
  }
  return out;
}

// expect_reference: every book of `run` equals its entry in the independent reference's
// expected file (tests/reference/bybit_reference.py), and there are no others.
void expect_reference(const CaptureRun& run, const std::string& expected_file) {
  simdjson::padded_string json;
  ASSERT_EQ(simdjson::padded_string::load(obr::testing::data_path(expected_file)).get(json), simdjson::SUCCESS);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);
  std::size_t expected_books = 0;
  const simdjson::dom::array expected = root["books"].get_array().value_unsafe();
  for (simdjson::dom::element e : expected) {
    ++expected_books;
    const std::string conn(e["conn"].get_string().value_unsafe());
    const std::string symbol(e["symbol"].get_string().value_unsafe());
    SCOPED_TRACE(conn + " " + symbol);
    ASSERT_EQ(run.conns.count(conn), 1u);
    const CaptureRun::Conn& c = run.conns.at(conn);
    EXPECT_EQ(c.venue->name, e["venue"].get_string().value_unsafe());
    bool found = false;
    for (std::size_t i = 0; i < c.session->book_count(); ++i) {
      const BookReport r = c.session->report(static_cast<BookId>(i));
      if (r.symbol != symbol) continue;
      found = true;
      const book::BookCounters& n = r.book->counters();
      EXPECT_EQ(book::to_string(r.book->state()), e["state"].get_string().value_unsafe());
      EXPECT_EQ(n.snapshots, e["snapshots"].get_uint64().value_unsafe());
      EXPECT_EQ(n.updates, e["updates"].get_uint64().value_unsafe());
      EXPECT_EQ(n.checks_passed, e["checks_passed"].get_uint64().value_unsafe());
      EXPECT_EQ(n.checks_failed, e["checks_failed"].get_uint64().value_unsafe());
      EXPECT_EQ(n.resyncs_requested, e["resyncs_requested"].get_uint64().value_unsafe());
      EXPECT_EQ(r.sequence, e["sequence"].get_int64().value_unsafe());
      const bool trim = !c.venue->fixed_precision_text;
      EXPECT_EQ(printed(*r.book, true, trim), obr::testing::level_pairs(e, "bids"));
      EXPECT_EQ(printed(*r.book, false, trim), obr::testing::level_pairs(e, "asks"));
    }
    EXPECT_TRUE(found);
  }
  std::size_t books = 0;
  for (const auto& [name, c] : run.conns) books += c.session->book_count();
  EXPECT_EQ(books, expected_books);
}

// The real capture (tests/data/bybit/, cryptofeed; docs/venues/bybit.md "The real
// capture"): 2 connections, 6 books (4 linear, 2 spot), 6 snapshots and 2 142 deltas, every
// delta contiguous, every side at 200 levels after every message, and the final books equal
// the independent reference's.
TEST(BybitRecordings, TheRealCaptureIsContiguousAtTwoHundredLevelsAndMatchesTheReference) {
  CaptureRun run;
  std::size_t sides_checked = 0;
  run.run("bybit/bybit_v5_orderbook200.ndjson", [&](const OrderbookSession& session) {
    for (std::size_t i = 0; i < session.book_count(); ++i) {
      const book::OrderBook& ob = session.book(static_cast<BookId>(i));
      ASSERT_EQ(ob.bids().size(), 200u);
      ASSERT_EQ(ob.asks().size(), 200u);
      ++sides_checked;
    }
  });
  EXPECT_EQ(run.frames, 2148u);
  EXPECT_EQ(run.order, (std::vector<std::string>{"BYBIT.ws.2", "BYBIT.ws.3"}));
  EXPECT_EQ(run.conns["BYBIT.ws.2"].venue, &kLinearVenue);
  EXPECT_EQ(run.conns["BYBIT.ws.3"].venue, &kSpotVenue);
  std::map<std::string, std::uint64_t> updates;
  std::uint64_t snapshots = 0;
  for (const auto& [name, c] : run.conns) {
    EXPECT_EQ(c.session->malformed_frames(), 0u);
    for (std::size_t i = 0; i < c.session->book_count(); ++i) {
      const BookReport r = c.session->report(static_cast<BookId>(i));
      EXPECT_EQ(r.book->state(), BookState::kLive) << r.symbol;
      EXPECT_EQ(r.book->counters().checks_failed, 0u) << r.symbol;
      EXPECT_EQ(r.book->counters().crossed, 0u) << r.symbol;
      updates[std::string(c.venue->name) + ":" + std::string(r.symbol)] = r.book->counters().updates;
      snapshots += r.book->counters().snapshots;
    }
  }
  EXPECT_EQ(snapshots, 6u);
  EXPECT_EQ(updates, (std::map<std::string, std::uint64_t>{{"bybit-linear:BTCUSDT", 413},
                                                           {"bybit-linear:ETHUSDT", 420},
                                                           {"bybit-linear:SOLUSDT", 382},
                                                           {"bybit-linear:DOGEUSDT", 379},
                                                           {"bybit-spot:BTCUSDT", 299},
                                                           {"bybit-spot:ETHUSDT", 249}}));
  EXPECT_EQ(sides_checked, 7389u);  // every book of its connection, after each of its messages
  EXPECT_TRUE(run.sink.errors.empty());
  expect_reference(run, "bybit/bybit_v5_orderbook200.expected.json");
}

// Generated sessions, each with one kind of trouble (tests/reference/bybit_sessions.py: a
// gap, a duplicate, a reorder, unprompted and restart snapshots, depth-1 repeats, spot and
// linear books of the same symbols, deletes and refills at depth 50, a session that ends
// resyncing, inverse contracts), through the sessions: the states, counters, last u and
// books of the independent reference.
class BybitGenerated : public ::testing::TestWithParam<const char*> {};

TEST_P(BybitGenerated, MatchesTheReference) {
  const std::string base = std::string("bybit/generated/") + GetParam();
  CaptureRun run;
  run.run(base + ".ndjson", [](const OrderbookSession&) {});
  for (const auto& [name, c] : run.conns) EXPECT_EQ(c.session->malformed_frames(), 0u) << name;
  expect_reference(run, base + ".expected.json");
}

INSTANTIATE_TEST_SUITE_P(Sessions, BybitGenerated,
                         ::testing::Values("gap", "duplicate", "reorder", "unprompted", "restart", "level1", "both",
                                           "depth50", "unfinished", "inverse"));

// ---- allocations --------------------------------------------------------------------------

TEST(BybitBooks, DeltasAllocateNothingAfterWarmUp) {
  Subscribed s;
  s.send(snapshot("BTCUSDT", 1000, R"(["99.00","1.000"])", R"(["101.00","1.000"])"));
  std::vector<std::string> frames;
  for (std::int64_t u = 1001; u < 3000; ++u) {
    const std::string price = std::to_string(50 + u % 40) + ".50";
    frames.push_back(delta("BTCUSDT", u, u % 3 ? R"([")" + price + R"(","1.500"])" : "",
                           u % 3 ? "" : R"(["10)" + std::to_string(u % 10) + R"(.00","0"])"));
  }
  for (std::size_t i = 0; i < 200; ++i) s.send(frames[i]);  // warm-up
  obr::testing::AllocationScope scope;
  for (std::size_t i = 200; i < frames.size(); ++i) s.send(frames[i]);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.report(0).sequence, 2999);
}

}  // namespace
}  // namespace obr::connectors::bybit
