// tests/connectors/kucoin_spot_session_test.cpp — the KuCoin spot session, sans I/O.
//
// Helpers first (KucoinSink records connection actions; delta() and snapshot() build
// frames; Connected is a session past welcome and ack), then sections: connection protocol
// (token, welcome, subscriptions, pings, backoffs, deadlines near the end of int64),
// calibration (snapshot and buffered deltas by sequence, gaps, malformed deltas, trusted
// depth, steady-state allocations), numbers past the book's range (halt, not resync),
// resource bounds, and signing.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "connectors/kucoin/signing.h"
#include "connectors/kucoin/spot_session.h"
#include "connectors/kucoin/venue.h"
#include "tests/common/alloc_counter.h"
#include "tests/connectors/session_test_util.h"

namespace obr::connectors::kucoin {
namespace {

using book::BookState;

// Records the connection actions too.
using KucoinSink = obr::testing::ActionSink;

constexpr std::int64_t kSec = 1'000'000'000;
constexpr const char* kBullet =
    R"({"code":"200000","data":{"token":"TOKEN1","instanceServers":[{"endpoint":"wss://ws-api-spot.kucoin.com/","encrypt":true,"protocol":"websocket","pingInterval":18000,"pingTimeout":10000},{"endpoint":"wss://backup.kucoin.example/","encrypt":true,"protocol":"websocket","pingInterval":18000,"pingTimeout":10000}]}})";

std::string delta(const std::string& symbol, std::int64_t start, std::int64_t end, const std::string& asks,
                  const std::string& bids) {
  return R"({"type":"message","topic":"/market/level2:)" + symbol +
         R"(","subject":"trade.l2update","data":{"changes":{"asks":[)" + asks + R"(],"bids":[)" + bids +
         R"(]},"sequenceEnd":)" + std::to_string(end) + R"(,"sequenceStart":)" + std::to_string(start) +
         R"(,"symbol":")" + symbol + R"("}})";
}

std::string snapshot(std::int64_t seq, const std::string& bids, const std::string& asks) {
  return R"({"code":"200000","data":{"time":1729176273859,"sequence":")" + std::to_string(seq) + R"(","bids":[)" +
         bids + R"(],"asks":[)" + asks + "]}}";
}

const std::string kSnapUrl = "https://api.kucoin.com/api/v1/market/orderbook/level2_100?symbol=BTC-USDT";

// A session that is connected and subscribed to BTC-USDT (ack received).
struct Connected {
  Connected() : Connected(SpotConfig{}) {}
  explicit Connected(SpotConfig c) : session(c) {
    session.subscribe({"BTC-USDT"});
    session.start(0, sink);
    session.on_http_response(sink.requests.back().id, sink.requests.back().url, 200, kBullet, 0, sink);
    session.on_connected(1, sink);
    session.on_frame(R"({"id":"obr1","type":"welcome"})", 2, sink);
    ack_id = sink.sent.back().substr(6, sink.sent.back().find(',') - 6);
    session.on_frame(R"({"id":")" + ack_id + R"(","type":"ack"})", 3, sink);
    sink.requests.clear();
    sink.sent.clear();
  }
  // feed a delta; returns the snapshot request it triggered, if any.
  void send(const std::string& frame, std::int64_t t = 10) { session.on_frame(frame, t, sink); }
  void answer(std::int64_t seq, const std::string& bids, const std::string& asks, std::int64_t t = 20) {
    ASSERT_FALSE(sink.requests.empty());
    const HttpRequest r = sink.requests.back();
    session.on_http_response(r.id, r.url, 200, snapshot(seq, bids, asks), t, sink);
  }
  const book::OrderBook& ob() const { return session.book(0); }

  SpotSession session;
  KucoinSink sink;
  std::string ack_id;
};

// ---- connection protocol ------------------------------------------------------------

TEST(KucoinConnection, TokenWelcomeSubscribeAck) {
  SpotSession session(SpotConfig{});
  KucoinSink sink;
  ASSERT_TRUE(session.subscribe({"BTC-USDT", "ETH-USDT"}));
  session.start(0, sink);
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.requests[0].method, "POST");
  EXPECT_EQ(sink.requests[0].url, "https://api.kucoin.com/api/v1/bullet-public");
  EXPECT_EQ(session.conn_state(), ConnState::kFetchingToken);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kBullet, 0, sink);
  ASSERT_EQ(sink.opened.size(), 1u);
  EXPECT_EQ(sink.opened[0], "wss://ws-api-spot.kucoin.com/?token=TOKEN1&connectId=obr1");
  session.on_connected(1, sink);
  EXPECT_EQ(session.conn_state(), ConnState::kAwaitingWelcome);
  EXPECT_TRUE(sink.sent.empty());  // nothing before the welcome
  session.on_frame(R"({"id":"obr1","type":"welcome"})", 2, sink);
  EXPECT_EQ(session.conn_state(), ConnState::kReady);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(
      sink.sent[0],
      R"({"id":2,"type":"subscribe","topic":"/market/level2:BTC-USDT,ETH-USDT","privateChannel":false,"response":true})");
  session.on_frame(R"({"id":"2","type":"ack"})", 3, sink);
  EXPECT_EQ(session.book(0).state(), BookState::kAwaitingSnapshot);
  EXPECT_EQ(session.book(1).state(), BookState::kAwaitingSnapshot);
  EXPECT_TRUE(sink.closed.empty());
}

TEST(KucoinConnection, HundredSymbolsPerTopicAndThreeHundredTopicsPerConnection) {
  SpotSession session(SpotConfig{});
  KucoinSink sink;
  std::vector<std::string> symbols;
  for (int i = 0; i < 250; ++i) symbols.push_back(std::to_string(i).append("-USDT"));
  ASSERT_TRUE(session.subscribe(symbols));
  session.start(0, sink);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kBullet, 0, sink);
  session.on_connected(1, sink);
  session.on_frame(R"({"id":"obr1","type":"welcome"})", 2, sink);
  ASSERT_EQ(sink.sent.size(), 3u);  // 100 + 100 + 50
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string& f = sink.sent[i];
    const std::size_t commas =
        static_cast<std::size_t>(std::count(f.begin() + static_cast<std::ptrdiff_t>(f.find("level2:")),
                                            f.begin() + static_cast<std::ptrdiff_t>(f.find("\",\"private")), ','));
    EXPECT_EQ(commas + 1, i < 2 ? 100u : 50u);
  }
  std::vector<std::string> too_many;
  for (int i = 0; i < 29'751; ++i) too_many.push_back(std::to_string(i).append("-T"));
  EXPECT_FALSE(session.subscribe(too_many));  // 250 + 29 751 > 100 x 300
  EXPECT_EQ(session.book_count(), 250u);
}

TEST(KucoinConnection, EveryReconnectFetchesAFreshTokenAndFailsOverEndpoints) {
  SpotSession session(SpotConfig{});
  KucoinSink sink;
  session.subscribe({"BTC-USDT"});
  session.start(0, sink);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kBullet, 0, sink);
  session.on_connected(1, sink);
  // The connection dies before its welcome: the next attempt uses a new token and the
  // next endpoint.
  session.on_disconnected(2, sink);
  ASSERT_EQ(sink.requests.size(), 2u);
  EXPECT_EQ(sink.requests[1].url, "https://api.kucoin.com/api/v1/bullet-public");
  EXPECT_EQ(session.conn_state(), ConnState::kFetchingToken);
  session.on_http_response(sink.requests[1].id, sink.requests[1].url, 200, kBullet, 3, sink);
  ASSERT_EQ(sink.opened.size(), 2u);
  EXPECT_EQ(sink.opened[1], "wss://backup.kucoin.example/?token=TOKEN1&connectId=obr2");
  // A stale answer to the first token request is ignored.
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kBullet, 4, sink);
  EXPECT_EQ(sink.opened.size(), 2u);
}

TEST(KucoinConnection, RefusedTokenIsReportedAndRetriedWithBackoff) {
  SpotSession session(SpotConfig{});
  KucoinSink sink;
  session.start(0, sink);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, R"({"code":"400100","msg":"refused"})", 0,
                           sink);
  ASSERT_EQ(sink.venue_errors.size(), 1u);
  EXPECT_NE(sink.venue_errors[0].find("refused"), std::string::npos);
  EXPECT_TRUE(sink.opened.empty());
  session.on_tick(kSec - 1, sink);
  EXPECT_EQ(sink.requests.size(), 1u);
  session.on_tick(kSec, sink);  // token_retry_ns = 1 s
  ASSERT_EQ(sink.requests.size(), 2u);
  session.on_http_response(sink.requests[1].id, sink.requests[1].url, 503, "", kSec, sink);
  session.on_tick(kSec + 2 * kSec - 1, sink);  // the backoff doubled
  EXPECT_EQ(sink.requests.size(), 2u);
  session.on_tick(3 * kSec, sink);
  EXPECT_EQ(sink.requests.size(), 3u);
}

// The token backoff doubles per failure; past int64 it is the longest wait. 2^62 ns doubled
// was signed overflow: the ASan+UBSan build aborts on it; in release the wrapped, negative
// value happened to read as "no retry scheduled", the same as the longest wait.
TEST(KucoinConnection, ATokenBackoffDoubledPastInt64NeverRetries) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kFirst = std::int64_t{1} << 62;
  SpotConfig config;
  config.token_retry_ns = kFirst;
  config.token_retry_max_ns = kMax;
  SpotSession session(config);
  KucoinSink sink;
  session.start(0, sink);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 503, "", 0, sink);
  session.on_tick(kFirst, sink);
  ASSERT_EQ(sink.requests.size(), 2u);
  session.on_http_response(sink.requests[1].id, sink.requests[1].url, 503, "", kFirst, sink);
  session.on_tick(kFirst + 1, sink);
  session.on_tick(kMax - 1, sink);
  EXPECT_EQ(sink.requests.size(), 2u);
}

TEST(KucoinConnection, NoWelcomeInTimeClosesTheConnection) {
  SpotSession session(SpotConfig{});
  KucoinSink sink;
  session.start(0, sink);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kBullet, 0, sink);
  session.on_connected(kSec, sink);
  session.on_tick(kSec + 10 * kSec - 1, sink);
  EXPECT_TRUE(sink.closed.empty());
  session.on_tick(kSec + 10 * kSec, sink);
  ASSERT_EQ(sink.closed.size(), 1u);
  EXPECT_NE(sink.closed[0].find("welcome"), std::string::npos);
}

// Times come from the driver, and a recording may hold any time up to INT64_MAX: the
// deadlines set from such a time saturate (deadline_after) instead of overflowing (UBSan
// stopped the recording fuzzer on `now + welcome_timeout`), and a saturated deadline is
// one that never comes.
TEST(KucoinConnection, TimesNearTheEndOfInt64NeverOverflowADeadline) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(obr::connectors::deadline_after(kMax - 5, 10 * kSec), kMax);
  EXPECT_EQ(obr::connectors::deadline_after(kMax - 10 * kSec, 10 * kSec), kMax);
  EXPECT_EQ(obr::connectors::deadline_after(5, 10 * kSec), 5 + 10 * kSec);
  EXPECT_EQ(obr::connectors::deadline_after(std::numeric_limits<std::int64_t>::min() + 5, -10),
            std::numeric_limits<std::int64_t>::min());
  SpotConfig cfg;
  cfg.max_snapshot_attempts = 1;
  SpotSession session(cfg);
  KucoinSink sink;
  session.subscribe({"BTC-USDT"});
  session.start(kMax - 100, sink);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kBullet, kMax - 90, sink);
  session.on_connected(kMax - 80, sink);  // welcome deadline: saturated
  session.on_tick(kMax - 1, sink);
  EXPECT_TRUE(sink.closed.empty());
  session.on_frame(R"({"id":"obr1","type":"welcome"})", kMax - 70, sink);  // ack deadline, ping times
  ASSERT_EQ(sink.sent.size(), 1u);
  const std::string ack_id = sink.sent[0].substr(6, sink.sent[0].find(',') - 6);
  session.on_frame(R"({"id":")" + ack_id + R"(","type":"ack"})", kMax - 60, sink);
  session.on_frame(delta("BTC-USDT", 30, 30, R"(["101","1","30"])", ""), kMax - 50, sink);
  ASSERT_FALSE(sink.requests.empty());
  const HttpRequest r = sink.requests.back();
  session.on_http_response(r.id, r.url, 200, snapshot(10, "", ""), kMax - 40, sink);  // halt backoff
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  const std::size_t requests = sink.requests.size();
  session.on_tick(kMax - 1, sink);
  EXPECT_EQ(sink.requests.size(), requests);  // the retry is past the end of time
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  EXPECT_EQ(session.conn_state(), ConnState::kReady);
}

// A pingInterval or pingTimeout past int64 in ns (milliseconds times 10^6 overflowed) is
// one that never ends: no ping is due, and no pong is awaited.
TEST(KucoinConnection, APingIntervalPastInt64NeverComesDue) {
  constexpr const char* kHuge =
      R"({"code":"200000","data":{"token":"T","instanceServers":[{"endpoint":"wss://x/","encrypt":true,"protocol":"websocket","pingInterval":9223372036855,"pingTimeout":9223372036855}]}})";
  SpotSession session(SpotConfig{});
  KucoinSink sink;
  session.subscribe({"BTC-USDT"});
  session.start(0, sink);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kHuge, 0, sink);
  ASSERT_EQ(sink.opened.size(), 1u);
  session.on_connected(1, sink);
  session.on_frame(R"({"id":"obr1","type":"welcome"})", 2, sink);
  ASSERT_EQ(session.conn_state(), ConnState::kReady);
  const std::string ack_id = sink.sent[0].substr(6, sink.sent[0].find(',') - 6);
  session.on_frame(R"({"id":")" + ack_id + R"(","type":"ack"})", 3, sink);
  session.on_tick(1000 * kSec, sink);
  EXPECT_EQ(sink.sent.size(), 1u);  // the subscription only: no ping
  EXPECT_TRUE(sink.closed.empty());
}

TEST(KucoinConnection, PingEveryIntervalAndMissingPongClosesTheConnection) {
  Connected c;
  c.session.on_tick(2 + 18 * kSec - 1, c.sink);
  EXPECT_TRUE(c.sink.sent.empty());
  c.session.on_tick(2 + 18 * kSec, c.sink);
  ASSERT_EQ(c.sink.sent.size(), 1u);
  const std::string ping = c.sink.sent[0];
  EXPECT_NE(ping.find(R"("type":"ping")"), std::string::npos);
  const std::string id = ping.substr(7, ping.find('"', 7) - 7);
  c.session.on_frame(R"({"id":")" + id + R"(","type":"pong"})", 2 + 19 * kSec, c.sink);
  c.session.on_tick(2 + 30 * kSec, c.sink);  // the pong came: no close
  EXPECT_TRUE(c.sink.closed.empty());
  c.session.on_tick(2 + 36 * kSec, c.sink);  // next ping, never answered
  ASSERT_EQ(c.sink.sent.size(), 2u);
  c.session.on_tick(2 + 46 * kSec - 1, c.sink);
  EXPECT_TRUE(c.sink.closed.empty());
  c.session.on_tick(2 + 46 * kSec, c.sink);  // pingTimeout 10 s
  ASSERT_EQ(c.sink.closed.size(), 1u);
  EXPECT_NE(c.sink.closed[0].find("pong"), std::string::npos);
}

TEST(KucoinConnection, MissingAckClosesAndRefusalHaltsThatBatch) {
  {
    SpotSession session(SpotConfig{});
    KucoinSink sink;
    session.subscribe({"BTC-USDT"});
    session.start(0, sink);
    session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kBullet, 0, sink);
    session.on_connected(1, sink);
    session.on_frame(R"({"id":"obr1","type":"welcome"})", 2, sink);
    session.on_tick(2 + 10 * kSec, sink);
    ASSERT_EQ(sink.closed.size(), 1u);
    EXPECT_NE(sink.closed[0].find("not acknowledged"), std::string::npos);
  }
  SpotSession session(SpotConfig{});
  KucoinSink sink;
  session.subscribe({"NOPE-USDT"});
  session.start(0, sink);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kBullet, 0, sink);
  session.on_connected(1, sink);
  session.on_frame(R"({"id":"obr1","type":"welcome"})", 2, sink);
  session.on_frame(R"({"id":"2","type":"error","code":404,"data":"topic /market/level2:NOPE-USDT is not found"})", 3,
                   sink);
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  ASSERT_EQ(sink.venue_errors.size(), 1u);
  EXPECT_EQ(sink.venue_error_symbols[0], "NOPE-USDT");
  EXPECT_TRUE(sink.saw(StateReason::kSubscribeRefused));
  session.on_tick(3 + 60 * kSec, sink);
  EXPECT_TRUE(sink.closed.empty());  // the refusal was the answer: no ack timeout
}

TEST(KucoinConnection, RotatesBeforeTheDayLimit) {
  Connected c;
  c.session.on_frame(R"({"id":"x","type":"pong"})", 5, c.sink);
  for (std::int64_t t = 2 + 18 * kSec; t < 23LL * 3600 * kSec; t += 18 * kSec) {
    c.session.on_tick(t, c.sink);
    ASSERT_FALSE(c.sink.sent.empty());
    const std::string& ping = c.sink.sent.back();
    c.session.on_frame(R"({"id":")" + ping.substr(7, ping.find('"', 7) - 7) + R"(","type":"pong"})", t + 1, c.sink);
  }
  EXPECT_TRUE(c.sink.closed.empty());
  c.session.on_tick(1 + 23LL * 3600 * kSec, c.sink);
  ASSERT_EQ(c.sink.closed.size(), 1u);
  EXPECT_NE(c.sink.closed[0].find("24-hour"), std::string::npos);
}

// The engine rotates the connection itself (docs/architecture.md "Rotation") and says so
// with SessionSettings::rotate_after_ns < 0: the session then never closes it for age
// (pings go on); 0 keeps the session's 23 h.
TEST(KucoinConnection, SettingsChooseWhetherTheSessionRotatesItself) {
  connectors::SessionSettings settings;
  EXPECT_EQ(session_config(settings).rotate_after_ns, 23LL * 3600 * kSec);
  settings.rotate_after_ns = -1;
  Connected c(session_config(settings));
  c.session.on_tick(1 + 25LL * 3600 * kSec, c.sink);
  EXPECT_TRUE(c.sink.closed.empty());
  EXPECT_EQ(kSpotVenue.connection_lifetime_ns, 24LL * 3600 * kSec);
}

// ---- calibration --------------------------------------------------------------------

TEST(KucoinCalibration, FirstBufferedDeltaRequestsThePublicSnapshot) {
  Connected c;
  EXPECT_TRUE(c.sink.requests.empty());
  c.send(delta("BTC-USDT", 16, 16, R"(["100.5","1","16"])", ""));
  ASSERT_EQ(c.sink.requests.size(), 1u);
  EXPECT_EQ(c.sink.requests[0].method, "GET");
  EXPECT_EQ(c.sink.requests[0].url, kSnapUrl);
  EXPECT_TRUE(c.sink.requests[0].headers.empty());
  c.send(delta("BTC-USDT", 17, 17, "", R"(["99","2","17"])"));
  EXPECT_EQ(c.sink.requests.size(), 1u);  // one snapshot in flight
  EXPECT_EQ(c.session.info(0).buffered, 2u);
}

// KuCoin's documented example (docs/venues/kucoin.md "Continuity"): snapshot 16; entries at 16 and 15 are
// ignored, 19 removes 3988.61, 18 updates 3988.50 to 44.
TEST(KucoinCalibration, DocumentedExampleStaleBufferAndStraddlingDelta) {
  Connected c;
  c.send(delta("BTC-USDT", 14, 15, R"(["3988.62","8","15"])", ""));  // all <= 16: dropped
  c.send(delta("BTC-USDT", 16, 19, R"(["3988.59","3","16"],["3988.61","0","19"],["3988.62","8","15"])",
               R"(["3988.50","44","18"])"));
  c.answer(16, R"(["3988.50","1"],["3988.49","2"])", R"(["3988.59","9"],["3988.61","5"],["3988.62","7"])");
  const book::OrderBook& ob = c.ob();
  EXPECT_EQ(ob.state(), BookState::kLive);
  EXPECT_EQ(c.session.info(0).sequence, 19);
  EXPECT_EQ(c.session.info(0).stale_deltas, 1u);
  EXPECT_EQ(obr::testing::top10(ob, true),
            (std::vector<std::vector<std::string>>{{"3988.50", "44"}, {"3988.49", "2"}}));
  EXPECT_EQ(obr::testing::top10(ob, false),
            (std::vector<std::vector<std::string>>{{"3988.59", "9"}, {"3988.62", "7"}}));
  EXPECT_EQ(ob.counters().updates, 1u);
  EXPECT_EQ(ob.counters().checks_passed, 1u);
  // Then strictly in order.
  c.send(delta("BTC-USDT", 20, 20, R"(["3988.70","1","20"])", ""));
  EXPECT_EQ(c.session.info(0).sequence, 20);
  EXPECT_EQ(ob.asks().size(), 3u);
}

// KuCoin's continuity rule holds for every delta, not only the first after the snapshot
// (docs/venues/kucoin.md "Continuity"): a delta with sequenceStart <= last+1 and sequenceEnd
// > last is in order even when it overlaps the book (its entries at or below the book's
// sequence are skipped); sequenceEnd <= last is a duplicate, ignored and not a failure;
// only sequenceStart > last+1 is a gap. Before, an overlapping delta on a live book was a gap.
TEST(KucoinCalibration, LiveDeltaOverlappingTheBookIsInOrderAndADuplicateIsIgnored) {
  Connected c;
  c.send(delta("BTC-USDT", 11, 11, R"(["101","3","11"])", ""));
  c.answer(10, R"(["99","1"])", R"(["101","1"])");
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  ASSERT_EQ(c.session.info(0).sequence, 11);
  const std::size_t transitions = c.sink.transitions.size();
  const std::size_t requests = c.sink.requests.size();
  // Overlaps the book (10..13 against 11): the entry at 11 is already in the book.
  c.send(delta("BTC-USDT", 10, 13, R"(["101","7","11"],["102","2","12"])", R"(["98","4","13"])"));
  EXPECT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.info(0).sequence, 13);
  EXPECT_EQ(obr::testing::top10(c.ob(), false), (std::vector<std::vector<std::string>>{{"101", "3"}, {"102", "2"}}));
  EXPECT_EQ(obr::testing::top10(c.ob(), true), (std::vector<std::vector<std::string>>{{"99", "1"}, {"98", "4"}}));
  EXPECT_EQ(c.ob().counters().checks_passed, 2u);
  // Duplicates (sequenceEnd <= 13): ignored, not failures.
  c.send(delta("BTC-USDT", 12, 13, R"(["102","9","12"])", ""));
  c.send(delta("BTC-USDT", 5, 8, R"(["102","9","8"])", ""));
  EXPECT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.info(0).stale_deltas, 2u);
  EXPECT_EQ(obr::testing::top10(c.ob(), false), (std::vector<std::vector<std::string>>{{"101", "3"}, {"102", "2"}}));
  c.send(delta("BTC-USDT", 14, 14, R"(["103","1","14"])", ""));
  EXPECT_EQ(c.session.info(0).sequence, 14);
  EXPECT_EQ(c.ob().counters().checks_passed, 3u);
  EXPECT_EQ(c.ob().counters().checks_failed, 0u);
  EXPECT_EQ(c.sink.transitions.size(), transitions);  // live throughout
  EXPECT_EQ(c.sink.requests.size(), requests);        // no snapshot asked for
  EXPECT_EQ(c.session.malformed_frames(), 0u);
  // Only sequenceStart > last+1 is a gap.
  c.send(delta("BTC-USDT", 16, 16, R"(["104","1","16"])", ""));
  EXPECT_EQ(c.ob().state(), BookState::kResyncing);
  EXPECT_TRUE(c.sink.saw(StateReason::kSequenceGap));
  EXPECT_EQ(c.ob().counters().checks_failed, 1u);
}

TEST(KucoinCalibration, SnapshotOlderThanTheBufferIsFetchedAgain) {
  Connected c;
  c.send(delta("BTC-USDT", 30, 30, R"(["101","1","30"])", ""));
  c.answer(20, R"(["99","1"])", R"(["101","2"])");  // 21..29 missing
  EXPECT_NE(c.ob().state(), BookState::kLive);
  EXPECT_TRUE(c.sink.saw(StateReason::kSnapshotRetry));
  ASSERT_EQ(c.sink.requests.size(), 2u);      // fetched again
  EXPECT_EQ(c.session.info(0).buffered, 1u);  // the buffer is kept
  c.answer(29, R"(["99","1"])", R"(["101","2"])");
  EXPECT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.info(0).sequence, 30);
  EXPECT_EQ(obr::testing::top10(c.ob(), false), (std::vector<std::vector<std::string>>{{"101", "1"}}));
}

TEST(KucoinCalibration, SnapshotsThatNeverLineUpHaltThenRetryAfterBackoff) {
  SpotConfig cfg;
  cfg.max_snapshot_attempts = 3;
  Connected c(cfg);
  c.send(delta("BTC-USDT", 30, 30, R"(["101","1","30"])", ""));
  c.answer(10, "", "");
  c.answer(10, "", "");
  c.answer(10, "", "", 50);
  EXPECT_EQ(c.ob().state(), BookState::kHalted);
  EXPECT_TRUE(c.sink.saw(StateReason::kCircuitOpen));
  const std::size_t requests = c.sink.requests.size();
  c.session.on_tick(50 + 5 * kSec - 1, c.sink);
  EXPECT_EQ(c.sink.requests.size(), requests);
  c.session.on_tick(50 + 5 * kSec, c.sink);
  EXPECT_EQ(c.sink.requests.size(), requests + 1);
  c.answer(29, R"(["99","1"])", "");
  EXPECT_EQ(c.ob().state(), BookState::kLive);
}

TEST(KucoinCalibration, GapInvalidatesThatBookOnlyAndRecalibrates) {
  SpotConfig cfg;
  cfg.track_any_symbol = true;
  cfg.drive_connection = false;
  SpotSession session(cfg);
  KucoinSink sink;
  session.on_http_response(0, "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=A-B", 200,
                           snapshot(10, R"(["1.0","1"])", R"(["2.0","1"])"), 0, sink);
  session.on_http_response(0, "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=C-D", 200,
                           snapshot(50, R"(["1.0","1"])", R"(["2.0","1"])"), 0, sink);
  ASSERT_EQ(session.book(0).state(), BookState::kLive);
  session.on_frame(delta("A-B", 11, 11, R"(["2.5","1","11"])", ""), 1, sink);
  session.on_frame(delta("A-B", 13, 13, R"(["2.6","1","13"])", ""), 2, sink);  // 12 is missing
  EXPECT_EQ(session.book(0).counters().checks_failed, 1u);
  EXPECT_EQ(session.book(0).counters().checks_passed, 1u);
  EXPECT_EQ(session.book(0).state(), BookState::kResyncing);
  EXPECT_TRUE(sink.saw(StateReason::kSequenceGap));
  EXPECT_EQ(session.info(0).buffered, 1u);  // the gap delta starts the new calibration
  session.on_frame(delta("C-D", 51, 51, R"(["2.5","1","51"])", ""), 3, sink);
  EXPECT_EQ(session.book(1).state(), BookState::kLive);  // the other book is untouched
  EXPECT_EQ(session.book(1).counters().checks_passed, 1u);
  // The next snapshot in the stream recalibrates it.
  session.on_http_response(0, "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=A-B", 200,
                           snapshot(12, R"(["1.0","1"])", R"(["2.0","1"])"), 4, sink);
  EXPECT_EQ(session.book(0).state(), BookState::kLive);
  EXPECT_EQ(session.info(0).sequence, 13);
  EXPECT_EQ(session.book(0).counters().resyncs_requested, 1u);
}

TEST(KucoinCalibration, DuplicatePriceZeroAndSizeZero) {
  Connected c;
  c.send(delta("BTC-USDT", 5, 5, "", ""));
  c.answer(4, R"(["99","1"],["98","3"])", R"(["101","2"])");
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  c.send(delta("BTC-USDT", 6, 6, "", R"(["98","0","6"])"));     // size 0: delete
  c.send(delta("BTC-USDT", 6, 6, "", R"(["97","5","6"])"));     // duplicate: skipped
  c.send(delta("BTC-USDT", 7, 7, R"(["0","0","7"])", ""));      // price 0: sequence only
  c.send(delta("BTC-USDT", 8, 8, "", R"(["99","1.25","8"])"));  // a new size, more decimals
  EXPECT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.info(0).sequence, 8);
  EXPECT_EQ(c.session.info(0).stale_deltas, 1u);
  EXPECT_EQ(c.ob().counters().checks_failed, 0u);
  EXPECT_EQ(obr::testing::top10(c.ob(), true), (std::vector<std::vector<std::string>>{{"99", "1.25"}}));
  EXPECT_EQ(c.ob().qty_scale(), 2);  // rescaled for the finer size
}

TEST(KucoinCalibration, BufferOverflowRestartsCalibrationAndIsReported) {
  SpotConfig cfg;
  cfg.max_buffered_deltas = 3;
  Connected c(cfg);
  for (std::int64_t s = 1; s <= 3; ++s) c.send(delta("BTC-USDT", s, s, R"(["101","1","1"])", ""));
  const std::uint64_t first_request = c.sink.requests.back().id;
  c.send(delta("BTC-USDT", 4, 4, R"(["101","2","4"])", ""));
  EXPECT_EQ(c.session.info(0).buffer_overflows, 1u);
  EXPECT_EQ(c.session.info(0).buffered, 1u);
  EXPECT_TRUE(c.sink.saw(StateReason::kBufferOverflow));
  ASSERT_FALSE(c.sink.venue_errors.empty());
  EXPECT_NE(c.sink.venue_errors.back().find("overflow"), std::string::npos);
  ASSERT_EQ(c.sink.requests.size(), 2u);  // a new snapshot for the new buffer
  // The superseded snapshot's answer is ignored.
  c.session.on_http_response(first_request, kSnapUrl, 200, snapshot(0, "", ""), 30, c.sink);
  EXPECT_NE(c.ob().state(), BookState::kLive);
  c.answer(3, "", R"(["101","1"])");
  EXPECT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(obr::testing::top10(c.ob(), false), (std::vector<std::vector<std::string>>{{"101", "2"}}));
}

TEST(KucoinCalibration, PartialSnapshotLimitsTrustedDepth) {
  Connected c;
  c.send(delta("BTC-USDT", 300, 300, "", ""));
  std::string bids, asks;
  // GCC 12 warns (-Wrestrict, a known false positive) on chained string operator+ here.
  auto level = [](std::string& out, int price) {
    if (!out.empty()) out.append(",");
    out.append("[\"").append(std::to_string(price)).append("\",\"1\"]");
  };
  for (int i = 0; i < 100; ++i) level(bids, 1000 - i);
  for (int i = 0; i < 40; ++i) level(asks, 2000 + i);
  c.answer(299, bids, asks);
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.info(0).snapshot_depth_limit, 100);
  EXPECT_EQ(c.session.trusted_depth(0), 40u);  // asks came back short: the whole side is known
  // A bid inserted below the snapshot's range is kept but not trusted; one removed inside
  // it shrinks the trusted range.
  c.send(delta("BTC-USDT", 301, 301, "", R"(["800","1","301"])"));
  c.send(delta("BTC-USDT", 302, 302, "", R"(["1000","0","302"])"));
  c.send(delta("BTC-USDT", 303, 303, R"(["2100","1","303"],["2101","1","303"])", ""));
  EXPECT_EQ(c.ob().bids().size(), 100u);
  EXPECT_EQ(c.session.trusted_depth(0), 42u);
  c.send(delta("BTC-USDT", 304, 304, R"(["2000","0","304"])", ""));
  EXPECT_EQ(c.session.trusted_depth(0), 41u);
  // An entry whose own sequence is not newer than the book's is skipped (docs/venues/kucoin.md "Entries").
  c.send(delta("BTC-USDT", 305, 305, R"(["2001","0","1"])", ""));
  EXPECT_EQ(c.session.trusted_depth(0), 41u);
  EXPECT_EQ(c.session.info(0).sequence, 305);
}

TEST(KucoinCalibration, SignedFullDepthSnapshotWhenCredentialsAreSet) {
  SpotConfig cfg;
  cfg.credentials = Credentials{"5c2db93503aa674c74a31734", "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3", "Abc123456"};
  Connected c(cfg);
  c.send(delta("BTC-USDT", 1, 1, "", ""));
  ASSERT_EQ(c.sink.requests.size(), 1u);
  const HttpRequest& r = c.sink.requests[0];
  EXPECT_EQ(r.url, "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=BTC-USDT");
  ASSERT_EQ(r.headers.size(), 5u);
  EXPECT_EQ(r.headers[0].first, "KC-API-KEY");
  EXPECT_EQ(r.headers[2].first, "KC-API-TIMESTAMP");
  EXPECT_EQ(r.headers[2].second, "0");  // the session's clock at the request (10 ns -> 0 ms)
  EXPECT_EQ(r.headers[1].second,
            hmac_sha256_base64(cfg.credentials.secret, "0GET/api/v3/market/orderbook/level2?symbol=BTC-USDT"));
  EXPECT_EQ(r.headers[4], (std::pair<std::string, std::string>{"KC-API-KEY-VERSION", "2"}));
  c.answer(0, R"(["1","1"])", R"(["2","1"])");
  EXPECT_EQ(c.session.info(0).snapshot_depth_limit, 0);
  EXPECT_EQ(c.session.trusted_depth(0), 1u);
}

TEST(KucoinCalibration, SequencesAsStringsAndMalformedDeltas) {
  Connected c;
  c.send(
      R"({"type":"message","subject":"trade.l2update","data":{"sequenceStart":"5","sequenceEnd":"5","symbol":"BTC-USDT","changes":{"asks":[["101","1","5"]],"bids":[]}}})");
  c.answer(4, "", "");
  EXPECT_EQ(c.session.info(0).sequence, 5);
  EXPECT_EQ(c.ob().state(), BookState::kLive);
  c.send("{not json");
  c.send(R"({"type":"message","subject":"trade.l2update","data":{"symbol":"OTHER-USDT"}})");
  c.send(R"({"foo":1})");
  EXPECT_EQ(c.session.malformed_frames(), 3u);
  EXPECT_EQ(c.ob().state(), BookState::kLive);  // nothing of this book was lost
  c.send(R"({"type":"message","subject":"trade.l2update","data":{"sequenceStart":6,"symbol":"BTC-USDT"}})");
  EXPECT_EQ(c.session.malformed_frames(), 4u);
  EXPECT_EQ(c.ob().state(), BookState::kResyncing);  // its update could not be read
  EXPECT_TRUE(c.sink.saw(StateReason::kMalformed));
}

// A changes array broken by a syntax error inside it (where simdjson On Demand can end a
// range-for early) must not pass as a shorter array: the delta is malformed, the book
// leaves live and recalibrates (KuCoin has no checksum to catch a partial apply).
TEST(KucoinCalibration, AChangesArrayBrokenInsideIsMalformedAndRecalibrates) {
  for (const std::string& broken :
       {std::string(R"(["102","1","6"] x ["103","1","7"]],"bids":[)"),
        std::string(R"(["102","1","6"],["103","1","7"}],"bids":[)"),
        std::string(R"(["102","1","6"],["103",,"1","7"]],"bids":[)"),
        std::string(R"(["102","1","6"],["103","1","7"]],"bids":[["99","1","8"] ["98","1","9"])")}) {
    SCOPED_TRACE(broken);
    Connected c;
    c.send(delta("BTC-USDT", 5, 5, R"(["101","1","5"])", ""));
    c.answer(4, "", "");
    ASSERT_EQ(c.ob().state(), BookState::kLive);
    const std::string frame =
        R"({"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update","data":{"changes":{"asks":[)" +
        broken + R"(]},"sequenceEnd":9,"sequenceStart":6,"symbol":"BTC-USDT"}})";
    c.send(frame);
    EXPECT_EQ(c.session.malformed_frames(), 1u);
    EXPECT_EQ(c.ob().state(), BookState::kResyncing);
    EXPECT_TRUE(c.sink.saw(StateReason::kMalformed));
    // It recalibrates from the next delta and a fresh snapshot.
    c.sink.requests.clear();
    c.send(delta("BTC-USDT", 10, 10, R"(["104","2","10"])", ""), 30);
    c.answer(9, R"(["99","3"])", R"(["101","1"])", 40);
    EXPECT_EQ(c.ob().state(), BookState::kLive);
    EXPECT_EQ(c.session.info(0).sequence, 10);
    EXPECT_EQ(c.ob().asks().size(), 2u);
    EXPECT_EQ(c.ob().bids().size(), 1u);
  }
}

// One rule for a frame naming a book that cannot be applied, whatever is wrong with it:
// the live book leaves live as malformed (live -> invalid -> resyncing, both kMalformed),
// the frame is counted once, and the book recalibrates from the next delta. An l2update
// whose data or symbol cannot be read names its book by its topic.
TEST(KucoinCalibration, AMalformedLiveDeltaLeavesLiveAsMalformedAndRecalibrates) {
  const std::string head = R"({"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update",)";
  const struct {
    const char* name;
    std::string frame;
    FrameError error;
  } cases[] = {
      {"bad_decimal", delta("BTC-USDT", 6, 6, R"(["1.2.3","1","6"])", ""), FrameError::kBadNumber},
      {"size_not_a_decimal", delta("BTC-USDT", 6, 6, "", R"(["99","x","6"])"), FrameError::kBadNumber},
      {"more_decimals_than_a_book_holds", delta("BTC-USDT", 6, 6, R"(["1.1234567890123456789","1","6"])", ""),
       FrameError::kBadNumber},
      {"changes_not_arrays",
       head + R"("data":{"changes":{"asks":"x"},"sequenceEnd":6,"sequenceStart":6,"symbol":"BTC-USDT"}})",
       FrameError::kUnexpectedShape},
      {"change_too_short", delta("BTC-USDT", 6, 6, R"(["101","1"])", ""), FrameError::kUnexpectedShape},
      {"no_changes", head + R"("data":{"sequenceEnd":6,"sequenceStart":6,"symbol":"BTC-USDT"}})",
       FrameError::kUnexpectedShape},
      {"start_after_end", delta("BTC-USDT", 7, 6, R"(["101","1","6"])", ""), FrameError::kUnexpectedShape},
      {"data_not_an_object", head + R"("data":"x"})", FrameError::kUnexpectedShape},
      {"no_data", head + R"("x":1})", FrameError::kUnexpectedShape},
      {"data_without_symbol", head + R"("data":{"changes":{"asks":[],"bids":[]},"sequenceEnd":6,"sequenceStart":6}})",
       FrameError::kUnexpectedShape},
  };
  // A lambda per case: an ASSERT ends that case, not the test.
  auto check = [](const std::string& name, const std::string& frame, FrameError error) {
    SCOPED_TRACE(name);
    Connected c;
    c.send(delta("BTC-USDT", 5, 5, R"(["101","1","5"])", ""));
    c.answer(4, R"(["99","1"])", "");
    ASSERT_EQ(c.ob().state(), BookState::kLive);
    const std::size_t before = c.sink.transitions.size();
    c.send(frame);
    EXPECT_EQ(c.session.malformed_frames(), 1u);
    ASSERT_EQ(c.sink.errors.size(), 1u);
    EXPECT_EQ(c.sink.errors[0], error) << c.sink.details[0];
    ASSERT_EQ(c.sink.transitions.size(), before + 2);
    EXPECT_EQ(c.sink.transitions[before].from, BookState::kLive);
    EXPECT_EQ(c.sink.transitions[before].to, BookState::kInvalid);
    EXPECT_EQ(c.sink.transitions[before].why, StateReason::kMalformed);
    EXPECT_EQ(c.sink.transitions[before + 1].to, BookState::kResyncing);
    EXPECT_EQ(c.sink.transitions[before + 1].why, StateReason::kMalformed);
    EXPECT_EQ(c.ob().counters().checks_failed, 1u);
    c.sink.requests.clear();
    c.send(delta("BTC-USDT", 10, 10, R"(["104","2","10"])", ""), 30);
    ASSERT_EQ(c.sink.requests.size(), 1u);
    c.answer(9, R"(["99","3"])", R"(["101","1"])", 40);
    EXPECT_EQ(c.ob().state(), BookState::kLive);
    EXPECT_EQ(c.session.info(0).sequence, 10);
  };
  for (const auto& k : cases) check(k.name, k.frame, k.error);
}

// A frame that names no book (no symbol, no topic) leaves every book as it is.
TEST(KucoinCalibration, AnL2UpdateNamingNoBookLeavesTheBooksLive) {
  Connected c;
  c.send(delta("BTC-USDT", 5, 5, R"(["101","1","5"])", ""));
  c.answer(4, R"(["99","1"])", "");
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  c.send(
      R"({"type":"message","subject":"trade.l2update","data":{"changes":{"asks":[],"bids":[]},"sequenceEnd":6,"sequenceStart":6}})");
  c.send(R"({"type":"message","topic":"/market/level2:ETH-USDT","subject":"trade.l2update","data":"x"})");
  EXPECT_EQ(c.session.malformed_frames(), 2u);
  EXPECT_EQ(c.ob().state(), BookState::kLive);
}

// The circuit breaker (docs/venues/kucoin.md "Continuity"): three gaps in a row on a live
// book, with no delta applied between them, halt it for the breaker's backoff (1 s); its
// deltas are ignored meanwhile; then it calibrates again.
TEST(KucoinCalibration, ABookThatKeepsGappingTripsTheBreakerThenRetries) {
  Connected c;
  c.send(delta("BTC-USDT", 10, 10, "", ""));
  c.answer(10, R"(["99","1"])", R"(["101","1"])");
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  c.send(delta("BTC-USDT", 20, 20, "", ""), 30);  // gap 1: this delta starts the new calibration
  c.answer(20, R"(["99","1"])", R"(["101","1"])", 40);
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  c.send(delta("BTC-USDT", 30, 30, "", ""), 50);  // gap 2
  c.answer(30, R"(["99","1"])", R"(["101","1"])", 60);
  c.send(delta("BTC-USDT", 40, 40, "", ""), 70);  // gap 3: halted
  EXPECT_EQ(c.ob().state(), BookState::kHalted);
  EXPECT_TRUE(c.sink.saw(StateReason::kCircuitOpen));
  EXPECT_EQ(c.ob().counters().checks_failed, 3u);
  const std::size_t asked = c.sink.requests.size();
  c.send(delta("BTC-USDT", 41, 41, "", ""), 80);  // ignored while halted
  EXPECT_EQ(c.sink.requests.size(), asked);
  c.session.on_tick(70 + 1'000'000'000, c.sink);
  EXPECT_EQ(c.ob().state(), BookState::kResyncing);
  c.send(delta("BTC-USDT", 42, 42, "", ""), 2'000'000'000);
  EXPECT_EQ(c.sink.requests.size(), asked + 1);
  c.answer(41, R"(["99","1"])", R"(["101","2"])", 2'000'000'100);
  EXPECT_EQ(c.ob().state(), BookState::kLive);
}

TEST(KucoinCalibration, LiveDeltasAllocateNothingAfterWarmUp) {
  Connected c;
  c.send(delta("BTC-USDT", 1, 1, "", ""));
  c.answer(0, R"(["99","1"])", R"(["101","1"])");
  std::vector<std::string> frames;
  for (std::int64_t s = 2; s < 2000; ++s) {
    const std::string price = std::to_string(100 + s % 50) + ".5";
    frames.push_back(
        delta("BTC-USDT", s, s, s % 3 ? R"([")" + price + R"(","1.5",")" + std::to_string(s) + R"("])" : "",
              s % 3 ? "" : R"(["9)" + std::to_string(s % 10) + R"(","0",")" + std::to_string(s) + R"("])"));
  }
  for (std::size_t i = 0; i < 200; ++i) c.send(frames[i]);  // warm-up
  obr::testing::AllocationScope scope;
  for (std::size_t i = 200; i < frames.size(); ++i) c.send(frames[i]);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.info(0).sequence, 1999);
}

// A partial snapshot bounds the trusted range at its last level; when more decimals arrive
// the bound is scaled with the book. A bound that no longer fits int64 (the snapshot's last
// ask, deleted since, was at 10^18) saturates: every ask the book can hold is below it.
TEST(KucoinCalibration, ATrustedBoundPastInt64AfterARescaleSaturates) {
  Connected c;
  c.send(delta("BTC-USDT", 300, 300, "", ""));
  std::string bids, asks;
  auto level = [](std::string& out, const std::string& price) {
    if (!out.empty()) out.append(",");
    out.append("[\"").append(price).append("\",\"1\"]");
  };
  for (int i = 0; i < 100; ++i) level(bids, std::to_string(1000 - i));
  for (int i = 0; i < 99; ++i) level(asks, std::to_string(2000 + i));
  level(asks, "1000000000000000000");
  c.answer(299, bids, asks);
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.trusted_depth(0), 100u);
  c.send(delta("BTC-USDT", 301, 301, R"(["1000000000000000000","0","301"])", ""));
  c.send(delta("BTC-USDT", 302, 302, R"(["2100.5","1","302"])", ""));  // one more decimal
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.ob().price_scale(), 1);
  EXPECT_EQ(c.ob().asks().size(), 100u);
  EXPECT_EQ(c.ob().asks().at(99).price, 21005);
  EXPECT_EQ(c.session.trusted_depth(0), 100u);  // 100 bids down to the floor, 100 asks
  EXPECT_EQ(c.session.malformed_frames(), 0u);
}

// ---- numbers past the book's range --------------------------------------------------

// A price or size that does not fit int64 at the book's scale is out of range
// (docs/venues/kucoin.md "Numbers past the book's range"): reported as such, naming the
// value and the limit, and the book halts. A fresh snapshot would hold the same number, so
// none is fetched on this connection; a new connection calibrates the book once more.
constexpr const char* kSizeTooBig =
    "size 123456789012.12345678 is past the book's range (at 8 decimals at most 92233720368.54775807)";
constexpr const char* kPriceTooBig =
    "price 123456789012.12345678 is past the book's range (at 8 decimals at most 92233720368.54775807)";

TEST(KucoinOutOfRange, ASnapshotSizePastTheRangeHaltsTheBookUntilANewConnection) {
  Connected c;
  c.send(delta("BTC-USDT", 5, 5, R"(["101","1","5"])", ""));
  ASSERT_EQ(c.sink.requests.size(), 1u);
  c.answer(4, R"(["99","123456789012.12345678"])", R"(["101","2"])");
  ASSERT_EQ(c.sink.errors.size(), 1u);
  EXPECT_EQ(c.sink.errors[0], FrameError::kOutOfRange);
  EXPECT_EQ(c.sink.details[0], kSizeTooBig);
  EXPECT_EQ(c.session.malformed_frames(), 1u);
  EXPECT_EQ(c.ob().state(), BookState::kHalted);
  ASSERT_FALSE(c.sink.transitions.empty());
  EXPECT_EQ(c.sink.transitions.back().why, StateReason::kOutOfRange);
  EXPECT_EQ(c.ob().counters().checks_failed, 0u);
  // No snapshot loop: later deltas are ignored and nothing is fetched, even past the
  // circuit breaker's backoff.
  c.send(delta("BTC-USDT", 6, 6, R"(["101","1","6"])", ""), 30);
  c.send(delta("BTC-USDT", 7, 7, R"(["101","1","7"])", ""), 40);
  c.session.on_tick(60 * kSec, c.sink);
  EXPECT_EQ(c.sink.requests.size(), 1u);
  EXPECT_EQ(c.session.info(0).buffered, 0u);
  EXPECT_EQ(c.ob().state(), BookState::kHalted);
  EXPECT_FALSE(c.sink.saw(StateReason::kSnapshotRetry));
  EXPECT_FALSE(c.sink.saw(StateReason::kCircuitOpen));
  // A new connection tries the book once more.
  c.session.on_disconnected(61 * kSec, c.sink);
  EXPECT_EQ(c.ob().state(), BookState::kStale);
  ASSERT_EQ(c.sink.requests.size(), 2u);  // the token
  c.session.on_http_response(c.sink.requests.back().id, c.sink.requests.back().url, 200, kBullet, 62 * kSec, c.sink);
  c.session.on_connected(63 * kSec, c.sink);
  c.session.on_frame(R"({"id":"obr2","type":"welcome"})", 64 * kSec, c.sink);
  const std::string sub = c.sink.sent.back();
  c.session.on_frame(R"({"id":")" + sub.substr(6, sub.find(',') - 6) + R"(","type":"ack"})", 65 * kSec, c.sink);
  EXPECT_EQ(c.ob().state(), BookState::kAwaitingSnapshot);
  c.send(delta("BTC-USDT", 9, 9, R"(["101","1","9"])", ""), 66 * kSec);
  ASSERT_EQ(c.sink.requests.size(), 3u);  // the snapshot
  c.answer(8, R"(["99","1.5"])", R"(["101","2"])", 67 * kSec);
  EXPECT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.info(0).sequence, 9);
}

TEST(KucoinOutOfRange, ALiveDeltaPricePastTheRangeHaltsTheBook) {
  Connected c;
  c.send(delta("BTC-USDT", 5, 5, R"(["101.5","1","5"])", ""));
  c.answer(4, R"(["99.12345678","1"])", "");
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  ASSERT_EQ(c.ob().price_scale(), 8);
  const std::size_t before = c.sink.transitions.size();
  const std::size_t requests = c.sink.requests.size();
  c.send(delta("BTC-USDT", 6, 6, R"(["123456789012.12345678","1","6"])", ""));
  ASSERT_EQ(c.sink.errors.size(), 1u);
  EXPECT_EQ(c.sink.errors[0], FrameError::kOutOfRange);
  EXPECT_EQ(c.sink.details[0], kPriceTooBig);
  ASSERT_EQ(c.sink.transitions.size(), before + 2);
  EXPECT_EQ(c.sink.transitions[before].to, BookState::kInvalid);
  EXPECT_EQ(c.sink.transitions[before].why, StateReason::kOutOfRange);
  EXPECT_EQ(c.sink.transitions[before + 1].to, BookState::kHalted);
  EXPECT_EQ(c.sink.transitions[before + 1].why, StateReason::kOutOfRange);
  EXPECT_EQ(c.ob().counters().checks_failed, 1u);
  c.send(delta("BTC-USDT", 7, 7, R"(["101","1","7"])", ""), 30);
  c.session.on_tick(60 * kSec, c.sink);
  EXPECT_EQ(c.sink.requests.size(), requests);
  EXPECT_EQ(c.session.info(0).buffered, 0u);
  EXPECT_EQ(c.ob().state(), BookState::kHalted);
  EXPECT_EQ(c.sink.transitions.size(), before + 2);
}

// More decimals than the book has seen rescale it; when a level already in the book would
// not fit int64 at the finer scale, that level is what is out of range.
TEST(KucoinOutOfRange, ALevelThatAFinerScalePushesPastTheRangeHaltsTheBook) {
  Connected c;
  c.send(delta("BTC-USDT", 5, 5, "", ""));
  c.answer(4, R"(["99","1"])", R"(["100000000000","1"])");
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  c.send(delta("BTC-USDT", 6, 6, "", R"(["99.12345678","1","6"])"));
  ASSERT_EQ(c.sink.errors.size(), 1u);
  EXPECT_EQ(c.sink.errors[0], FrameError::kOutOfRange);
  EXPECT_EQ(c.sink.details[0],
            "price 100000000000 is past the book's range (at 8 decimals at most 92233720368.54775807)");
  EXPECT_EQ(c.ob().state(), BookState::kHalted);
  EXPECT_TRUE(c.sink.saw(StateReason::kOutOfRange));
}

TEST(KucoinOutOfRange, ABufferedDeltaSizePastTheRangeHaltsTheBookAtPlayback) {
  Connected c;
  c.send(delta("BTC-USDT", 5, 5, "", R"(["99","123456789012.12345678","5"])"));
  c.answer(4, R"(["99","1"])", R"(["101","1"])");
  ASSERT_EQ(c.sink.errors.size(), 1u);
  EXPECT_EQ(c.sink.errors[0], FrameError::kOutOfRange);
  EXPECT_EQ(c.sink.details[0], kSizeTooBig);
  EXPECT_EQ(c.ob().state(), BookState::kHalted);
  EXPECT_TRUE(c.sink.saw(StateReason::kOutOfRange));
  EXPECT_FALSE(c.sink.saw(StateReason::kMalformed));
  EXPECT_EQ(c.sink.requests.size(), 1u);
  c.send(delta("BTC-USDT", 6, 6, R"(["101","1","6"])", ""), 30);
  EXPECT_EQ(c.sink.requests.size(), 1u);
  EXPECT_EQ(c.ob().state(), BookState::kHalted);
}

// In replay the recording decides, as live: a halted book ignores the snapshots recorded
// after it (the live session asked for none) until the recorded connection ends.
TEST(KucoinOutOfRange, InReplayAHaltedBookIgnoresLaterSnapshotsUntilTheConnectionEnds) {
  SpotConfig cfg;
  cfg.track_any_symbol = true;
  cfg.drive_connection = false;
  SpotSession session(cfg);
  KucoinSink sink;
  const std::string url = "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=A-B";
  session.on_http_response(0, url, 200, snapshot(10, R"(["123456789012.12345678","1"])", R"(["2","1"])"), 0, sink);
  ASSERT_EQ(session.book_count(), 1u);
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0], FrameError::kOutOfRange);
  EXPECT_EQ(sink.details[0], kPriceTooBig);
  session.on_http_response(0, url, 200, snapshot(12, R"(["1.0","1"])", R"(["2.0","1"])"), 1, sink);
  session.on_frame(delta("A-B", 13, 13, R"(["2.5","1","13"])", ""), 2, sink);
  EXPECT_EQ(session.book(0).state(), BookState::kHalted);
  session.on_disconnected(3, sink);
  session.on_http_response(0, url, 200, snapshot(20, R"(["1.0","1"])", R"(["2.0","1"])"), 4, sink);
  EXPECT_EQ(session.book(0).state(), BookState::kLive);
  EXPECT_EQ(session.info(0).sequence, 20);
}

// ---- resource bounds ----------------------------------------------------------------

// Memory bound: a side never holds more than max_book_levels; the worst levels go, and the
// side is then bounded like a partial snapshot (trusted_depth stops at its last kept level).
TEST(KucoinResourceBounds, BookSidesStayWithinMaxBookLevels) {
  SpotConfig config;
  config.max_book_levels = 5;
  Connected c(config);
  c.send(delta("BTC-USDT", 1, 1, "", ""));
  c.answer(0, R"(["99","1"],["98","1"],["97","1"])", R"(["101","1"],["102","1"],["103","1"])");
  ASSERT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.trusted_depth(0), 3u);
  // Five more bids, below the book: 8 would be kept without the bound.
  c.send(delta("BTC-USDT", 2, 6, "", R"(["96","1","2"],["95","1","3"],["94","1","4"],["93","1","5"],["92","1","6"])"));
  ASSERT_EQ(c.ob().bids().size(), 5u);
  EXPECT_EQ(c.ob().bids().at(0).price, 99);
  EXPECT_EQ(c.ob().bids().at(4).price, 95);  // 94, 93, 92 dropped
  EXPECT_EQ(c.ob().asks().size(), 3u);
  EXPECT_EQ(c.session.trusted_depth(0), 3u);  // the asks' 3
  // Delete the best three bids: two known levels remain, both within the kept range.
  c.send(delta("BTC-USDT", 7, 9, "", R"(["99","0","7"],["98","0","8"],["97","0","9"])"));
  EXPECT_EQ(c.ob().bids().size(), 2u);
  EXPECT_EQ(c.session.trusted_depth(0), 2u);
  // A level below the cut is applied, but not vouched for: 94 was dropped, so what lies
  // between 95 and 90 is unknown.
  c.send(delta("BTC-USDT", 10, 10, "", R"(["90","4","10"])"));
  EXPECT_EQ(c.ob().bids().size(), 3u);
  EXPECT_EQ(c.session.trusted_depth(0), 2u);
  EXPECT_EQ(c.ob().state(), BookState::kLive);
  EXPECT_EQ(c.session.info(0).sequence, 10);
}

// ---- signing ------------------------------------------------------------------------

TEST(KucoinSigning, KucoinsDocumentedExample) {
  // KuCoin API docs, "Signing a Message": KC-API-SECRET f03a5284-…, TIMESTAMP 1547015186532,
  // POST /api/v1/deposit-addresses {"currency":"BTC"} -> KC-API-SIGN 7QP/oM0y…
  const Credentials c{"5c2db93503aa674c74a31734", "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3", "Abc123456"};
  const auto h = sign_headers(c, "1547015186532", "POST", "/api/v1/deposit-addresses", R"({"currency":"BTC"})");
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[1].first, "KC-API-SIGN");
  EXPECT_EQ(h[1].second, "7QP/oM0ykidMdrfNEUmng8eZjg/ZvPafjIqmxiVfYu4=");
  // Key version 2 signs the passphrase too (value from Python's hmac/base64).
  EXPECT_EQ(h[3].first, "KC-API-PASSPHRASE");
  EXPECT_EQ(h[3].second, "BKrtDi9RgDYbLigltBjNLvwvVf6/iCxWK6slmjr8DF8=");
}

TEST(KucoinSigning, CredentialsAreNeverPrinted) {
  const Credentials c{"5c2db93503aa674c74a31734", "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3", "Abc123456"};
  const std::string shown = c.redacted();
  EXPECT_EQ(shown.find("f03a5284"), std::string::npos);
  EXPECT_EQ(shown.find("Abc123456"), std::string::npos);
  EXPECT_EQ(shown.find("5c2db93503aa674c74a31734"), std::string::npos);
  EXPECT_NE(shown.find("5c2d"), std::string::npos);
}

TEST(KucoinSigning, CredentialsFromEnvironmentAndFile) {
  ::unsetenv("KUCOIN_API_KEY");
  EXPECT_TRUE(credentials_from_env().empty());
  ::setenv("KUCOIN_API_KEY", "k", 1);
  ::setenv("KUCOIN_API_SECRET", "s", 1);
  ::setenv("KUCOIN_API_PASSPHRASE", "p", 1);
  const Credentials env = credentials_from_env();
  EXPECT_EQ(env.key, "k");
  EXPECT_EQ(env.secret, "s");
  EXPECT_EQ(env.passphrase, "p");
  ::unsetenv("KUCOIN_API_KEY");
  ::unsetenv("KUCOIN_API_SECRET");
  ::unsetenv("KUCOIN_API_PASSPHRASE");

  const std::string path = ::testing::TempDir() + "obr_kucoin_credentials";
  {
    std::ofstream(path) << "# obr KuCoin credentials\n\nKUCOIN_API_KEY = abc\r\nKUCOIN_API_SECRET=sec ret\n"
                           "KUCOIN_API_PASSPHRASE=pass\n";
  }
  std::string error;
  const Credentials file = credentials_from_file(path, &error);
  EXPECT_EQ(file.key, "abc");
  EXPECT_EQ(file.secret, "sec ret");
  EXPECT_EQ(file.passphrase, "pass");
  { std::ofstream(path) << "KUCOIN_API_KEY=abc\nKUCOIN_API_SECRET=topsecret\n"; }
  EXPECT_TRUE(credentials_from_file(path, &error).empty());
  EXPECT_EQ(error, path + ": KUCOIN_API_PASSPHRASE missing");
  EXPECT_EQ(error.find("topsecret"), std::string::npos);  // errors never quote a value
  { std::ofstream(path) << "KUCOIN_API_KEY abc\n"; }
  EXPECT_TRUE(credentials_from_file(path, &error).empty());
  EXPECT_EQ(error, path + ": line 1: expected NAME=value");
  EXPECT_TRUE(credentials_from_file("/nonexistent/creds", &error).empty());
  EXPECT_EQ(error, "/nonexistent/creds: cannot open");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace obr::connectors::kucoin
