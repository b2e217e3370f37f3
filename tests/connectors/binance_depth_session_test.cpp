// tests/connectors/binance_depth_session_test.cpp — the Binance diff-depth session, sans
// I/O (docs/venues/binance.md).
//
// Helpers first (BinanceSink records connection actions; event() and snapshot() build
// frames; Subscribed is a session whose SUBSCRIBE was answered), then sections: the
// connection (SUBSCRIBE batches, answers, pacing, timeouts, rotation), bridging (the
// documented examples, the u == lastUpdateId edge on both markets, stale snapshots,
// refetches), continuity (gaps, duplicates, the breaker), REST answers (weights, -1121,
// 429), trusted depth, malformed frames, and steady-state allocations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/binance/depth_session.h"
#include "connectors/binance/venue.h"
#include "tests/common/alloc_counter.h"
#include "tests/connectors/session_test_util.h"

namespace obr::connectors::binance {
namespace {

using book::BookState;

using BinanceSink = obr::testing::ActionSink;

constexpr std::int64_t kSec = 1'000'000'000;

// event: a combined-stream depthUpdate; `pu` < 0 leaves it out (spot).
std::string event(const std::string& symbol, std::int64_t first, std::int64_t last, const std::string& bids,
                  const std::string& asks, std::int64_t pu = -1) {
  std::string stream;
  for (char ch : symbol) stream += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  std::string out = R"({"stream":")" + stream + R"(@depth@100ms","data":{"e":"depthUpdate","E":1,"s":")" + symbol +
                    R"(","U":)" + std::to_string(first) + R"(,"u":)" + std::to_string(last);
  if (pu >= 0) out += R"(,"pu":)" + std::to_string(pu);
  return out + R"(,"b":[)" + bids + R"(],"a":[)" + asks + "]}}";
}

std::string snapshot(std::int64_t last_update_id, const std::string& bids, const std::string& asks) {
  return R"({"lastUpdateId":)" + std::to_string(last_update_id) + R"(,"bids":[)" + bids + R"(],"asks":[)" + asks + "]}";
}

// Subscribed: a session on `market` with `symbols` subscribed, connected and answered.
struct Subscribed {
  explicit Subscribed(Market market = Market::kSpot, std::vector<std::string> symbols = {"BTCUSDT"},
                      DepthConfig config = {})
      : session([&] {
          config.market = market;
          return config;
        }()) {
    EXPECT_TRUE(session.subscribe(symbols, now, sink).ok());
    session.start(now, sink);
    session.on_connected(now, sink);
    session.on_frame(R"({"result":null,"id":1})", now, sink);
  }
  void send(const std::string& frame) { session.on_frame(frame, now, sink); }
  // answer: the last snapshot request answered with `body` (status 200 unless given).
  void answer(const std::string& body, int status = 200) {
    ASSERT_FALSE(sink.requests.empty());
    const HttpRequest r = sink.requests.back();
    session.on_http_response(r.id, r.url, status, body, now, sink);
  }
  const book::OrderBook& ob(BookId id = 0) const { return session.book(id); }
  std::int64_t now = 1000 * kSec;
  BinanceSink sink;
  DepthSession session;
};

// ---- connection -------------------------------------------------------------------

TEST(BinanceConnection, SubscribesEveryStreamInOneFrameAndWaitsForTheAnswer) {
  DepthSession s(DepthConfig{});
  BinanceSink sink;
  ASSERT_TRUE(s.subscribe({"BTCUSDT", "ETHUSDT"}, 0, sink).ok());
  s.start(0, sink);
  ASSERT_EQ(sink.opened, std::vector<std::string>{"wss://stream.binance.com:9443/stream"});
  s.on_connected(0, sink);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(sink.sent[0], R"({"method":"SUBSCRIBE","params":["btcusdt@depth@100ms","ethusdt@depth@100ms"],"id":1})");
  EXPECT_EQ(s.book(0).state(), BookState::kSubscribing);
  s.on_frame(R"({"result":null,"id":1})", 0, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kAwaitingSnapshot);
  EXPECT_EQ(s.book(1).state(), BookState::kAwaitingSnapshot);
  EXPECT_TRUE(sink.requests.empty());  // the snapshot waits for the first buffered event
}

TEST(BinanceConnection, UsdmUsesItsOwnEndpointAndThe1000msStreamOnRequest) {
  DepthConfig c;
  c.market = Market::kUsdm;
  c.fast_updates = false;
  DepthSession s(c);
  BinanceSink sink;
  ASSERT_TRUE(s.subscribe({"BTCUSDT"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  EXPECT_EQ(sink.opened, std::vector<std::string>{"wss://fstream.binance.com/stream"});
  EXPECT_EQ(sink.sent, std::vector<std::string>{R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})"});
}

TEST(BinanceConnection, ARefusedSubscribeHaltsItsBooksAndNamesTheVenuesMessage) {
  DepthSession s(DepthConfig{});
  BinanceSink sink;
  ASSERT_TRUE(s.subscribe({"BTCUSDT"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  s.on_frame(R"({"error":{"code":2,"msg":"Invalid request: unknown stream"},"id":1})", 0, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kHalted);
  EXPECT_TRUE(sink.saw(StateReason::kSubscribeRefused));
  EXPECT_EQ(sink.venue_errors, std::vector<std::string>{"Invalid request: unknown stream"});
  EXPECT_EQ(sink.venue_error_symbols, std::vector<std::string>{"BTCUSDT"});
  // Its events are ignored from then on.
  s.on_frame(event("BTCUSDT", 1, 2, R"(["1.0","1"])", ""), 0, sink);
  EXPECT_TRUE(sink.requests.empty());
}

TEST(BinanceConnection, OutgoingFramesArePacedAtTheVenuesLimit) {
  DepthConfig c;
  c.streams_per_request = 1;  // one SUBSCRIBE per book: 7 frames
  DepthSession s(c);
  BinanceSink sink;
  ASSERT_TRUE(s.subscribe({"A1", "A2", "A3", "A4", "A5", "A6", "A7"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  EXPECT_EQ(sink.sent.size(), 5u);  // spot: 5 messages a second
  s.on_tick(kSec / 2, sink);
  EXPECT_EQ(sink.sent.size(), 5u);
  s.on_tick(kSec, sink);
  EXPECT_EQ(sink.sent.size(), 7u);
  EXPECT_EQ(sink.sent[6], R"({"method":"SUBSCRIBE","params":["a7@depth@100ms"],"id":7})");
}

TEST(BinanceConnection, AnUnansweredSubscribeClosesTheConnectionAndTheNextOneResubscribes) {
  DepthSession s(DepthConfig{});
  BinanceSink sink;
  ASSERT_TRUE(s.subscribe({"BTCUSDT"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  s.on_tick(9 * kSec, sink);
  EXPECT_TRUE(sink.closed.empty());
  s.on_tick(10 * kSec, sink);
  EXPECT_EQ(sink.closed, std::vector<std::string>{"SUBSCRIBE not answered within ack_timeout"});
  s.on_disconnected(10 * kSec, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kStale);
  EXPECT_EQ(sink.opened.size(), 2u);
  s.on_connected(11 * kSec, sink);
  EXPECT_EQ(sink.sent.back(), R"({"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":2})");
}

TEST(BinanceConnection, RotatesBeforeTheVenuesLimitAndClosesOnServerShutdown) {
  DepthConfig c;
  c.rotate_after_ns = 60 * kSec;
  Subscribed s(Market::kSpot, {"BTCUSDT"}, c);
  s.session.on_tick(s.now + 59 * kSec, s.sink);
  EXPECT_TRUE(s.sink.closed.empty());
  s.session.on_tick(s.now + 60 * kSec, s.sink);
  EXPECT_EQ(s.sink.closed, std::vector<std::string>{"rotating the connection before Binance's 24-hour limit"});

  Subscribed t;
  t.send(R"({"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}})");
  EXPECT_EQ(t.sink.closed, std::vector<std::string>{"the venue announced a server shutdown"});
}

// The engine rotates the connection itself (docs/architecture.md "Rotation") and says so
// with SessionSettings::rotate_after_ns < 0: the session then never closes it for age.
// 0 keeps the session's 23 h; a positive value replaces it.
TEST(BinanceConnection, SettingsChooseWhetherTheSessionRotatesItself) {
  obr::connectors::SessionSettings settings;
  EXPECT_EQ(session_config(settings, Market::kSpot).rotate_after_ns, 23LL * 3600 * kSec);
  settings.rotate_after_ns = 90 * kSec;
  EXPECT_EQ(session_config(settings, Market::kUsdm).rotate_after_ns, 90 * kSec);
  settings.rotate_after_ns = -1;
  const DepthConfig c = session_config(settings, Market::kSpot);
  EXPECT_EQ(c.rotate_after_ns, DepthConfig::kNeverRotate);
  Subscribed s(Market::kSpot, {"BTCUSDT"}, c);
  s.session.on_tick(s.now + 25LL * 3600 * kSec, s.sink);
  EXPECT_TRUE(s.sink.closed.empty());
  EXPECT_EQ(kSpotVenue.connection_lifetime_ns, 24LL * 3600 * kSec);
  EXPECT_EQ(kUsdmVenue.connection_lifetime_ns, 24LL * 3600 * kSec);
}

TEST(BinanceConnection, SubscribeRefusesBadSymbolsAndTooManyStreams) {
  DepthConfig c;
  c.streams_per_connection = 2;
  DepthSession s(c);
  BinanceSink sink;
  const absl::Status bad = s.subscribe({"BTC USDT"}, 0, sink);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "binance: symbol 'BTC USDT' is empty or has a blank, comma or control character");
  const absl::Status many = s.subscribe({"A", "B", "C"}, 0, sink);
  EXPECT_EQ(many.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.book_count(), 0u);
}

// ---- bridging ---------------------------------------------------------------------

// Binance's documented procedure with lastUpdateId 160: the events wholly covered are
// dropped, the first kept one brackets 161, the next continues at u + 1.
TEST(BinanceBridge, SpotDocumentedExample) {
  Subscribed s;
  s.send(event("BTCUSDT", 150, 160, R"(["100.00","9"])", ""));  // covered by the snapshot
  ASSERT_EQ(s.sink.requests.size(), 1u);
  EXPECT_EQ(s.sink.requests[0].url, "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000");
  EXPECT_EQ(s.sink.requests[0].weight, 50);
  s.send(event("BTCUSDT", 157, 165, R"(["100.00","2"])", R"(["101.00","0"])"));
  s.send(event("BTCUSDT", 166, 170, "", R"(["102.00","4"])"));
  s.answer(snapshot(160, R"(["100.00","1"],["99.00","3"])", R"(["101.00","5"])"));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.info(0).last_update_id, 170);
  EXPECT_EQ(s.session.info(0).stale_events, 1u);
  EXPECT_EQ(obr::testing::top10(s.ob(), true),
            (std::vector<std::vector<std::string>>{{"100.00", "2"}, {"99.00", "3"}}));
  EXPECT_EQ(obr::testing::top10(s.ob(), false), (std::vector<std::vector<std::string>>{{"102.00", "4"}}));
  EXPECT_EQ(s.ob().counters().updates, 2u);
  EXPECT_EQ(s.ob().counters().checks_passed, 2u);
  EXPECT_EQ(s.ob().counters().checks_failed, 0u);
  s.send(event("BTCUSDT", 171, 171, R"(["99.00","0"])", ""));
  EXPECT_EQ(obr::testing::top10(s.ob(), true), (std::vector<std::vector<std::string>>{{"100.00", "2"}}));
  EXPECT_EQ(s.session.report(0).sequence, 171);
}

// Spot: an event whose u equals lastUpdateId is already in the snapshot (dropped); the
// next, starting at lastUpdateId + 1, is the bridge.
TEST(BinanceBridge, SpotEventEndingAtLastUpdateIdIsDropped) {
  Subscribed s;
  s.send(event("BTCUSDT", 155, 160, R"(["100.00","7"])", ""));
  s.send(event("BTCUSDT", 161, 163, R"(["99.00","2"])", ""));
  s.answer(snapshot(160, R"(["100.00","1"])", R"(["101.00","1"])"));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.info(0).stale_events, 1u);
  EXPECT_EQ(obr::testing::top10(s.ob(), true),
            (std::vector<std::vector<std::string>>{{"100.00", "1"}, {"99.00", "2"}}));
  EXPECT_EQ(s.ob().counters().checks_passed, 1u);
}

// USD-M: events with u < lastUpdateId are dropped and the first processed has
// U <= lastUpdateId <= u, so the event ending at lastUpdateId is the bridge; afterwards pu
// names the previous u, whatever U says.
TEST(BinanceBridge, UsdmEventEndingAtLastUpdateIdIsTheBridge) {
  Subscribed s(Market::kUsdm);
  s.send(event("BTCUSDT", 150, 159, R"(["100.0","9"])", "", 140));
  ASSERT_EQ(s.sink.requests.size(), 1u);
  EXPECT_EQ(s.sink.requests[0].url, "https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
  EXPECT_EQ(s.sink.requests[0].weight, 20);
  s.send(event("BTCUSDT", 155, 160, R"(["100.0","7"])", "", 159));
  s.send(event("BTCUSDT", 164, 166, R"(["98.0","1"])", "", 160));  // U skips ahead: pu links it
  s.answer(snapshot(160, R"(["100.0","1"])", R"(["101.0","1"])"));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.info(0).last_update_id, 166);
  EXPECT_EQ(s.session.info(0).stale_events, 1u);
  EXPECT_EQ(obr::testing::top10(s.ob(), true), (std::vector<std::vector<std::string>>{{"100.0", "7"}, {"98.0", "1"}}));
  EXPECT_EQ(s.ob().counters().checks_passed, 2u);
  s.send(event("BTCUSDT", 167, 168, R"(["97.0","1"])", "", 165));  // pu is not the last u
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);
  EXPECT_EQ(s.ob().counters().checks_failed, 1u);
  EXPECT_TRUE(s.sink.saw(StateReason::kSequenceGap));
}

TEST(BinanceBridge, ASnapshotOlderThanTheFirstEventIsFetchedAgainThenHalts) {
  DepthConfig c;
  c.max_snapshot_attempts = 2;
  Subscribed s(Market::kSpot, {"BTCUSDT"}, c);
  s.send(event("BTCUSDT", 200, 205, R"(["100.00","1"])", ""));
  s.answer(snapshot(190, R"(["100.00","3"])", ""));  // 191..199 missing
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);
  EXPECT_TRUE(s.sink.saw(StateReason::kSnapshotRetry));
  ASSERT_EQ(s.sink.requests.size(), 2u);
  EXPECT_EQ(s.session.info(0).buffered, 1u);       // the event waits for the next snapshot
  EXPECT_EQ(s.ob().counters().checks_failed, 0u);  // no gap in the stream
  s.answer(snapshot(195, "", ""));
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
  EXPECT_TRUE(s.sink.saw(StateReason::kCircuitOpen));
  // After the backoff it fetches again, and a snapshot that lines up makes it live.
  s.session.on_tick(s.now + 5 * kSec, s.sink);
  ASSERT_EQ(s.sink.requests.size(), 3u);
  s.answer(snapshot(204, R"(["100.00","3"])", ""));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(obr::testing::top10(s.ob(), true), (std::vector<std::vector<std::string>>{{"100.00", "1"}}));
}

// A snapshot fetched before any event (the book was quiet) is the book until the first
// event bridges it.
TEST(BinanceBridge, AQuietBookFetchesItsSnapshotAfterTheTimeoutAndBridgesLater) {
  Subscribed s;
  s.session.on_tick(s.now + 9 * kSec, s.sink);
  EXPECT_TRUE(s.sink.requests.empty());
  s.session.on_tick(s.now + 10 * kSec, s.sink);
  ASSERT_EQ(s.sink.requests.size(), 1u);
  s.answer(snapshot(50, R"(["10.5","1"])", R"(["11.5","1"])"));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  s.send(event("BTCUSDT", 49, 52, R"(["10.5","2"])", ""));
  EXPECT_EQ(obr::testing::top10(s.ob(), true), (std::vector<std::vector<std::string>>{{"10.5", "2"}}));
  EXPECT_EQ(s.session.report(0).sequence, 52);
}

TEST(BinanceBridge, AnUnknownSymbolIsRefusedByItsSnapshotsAnswer) {
  Subscribed s;
  s.session.on_tick(s.now + 10 * kSec, s.sink);
  s.answer(R"({"code":-1121,"msg":"Invalid symbol."})", 400);
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
  EXPECT_TRUE(s.sink.saw(StateReason::kSubscribeRefused));
  EXPECT_EQ(s.sink.venue_errors, std::vector<std::string>{"depth snapshot: HTTP 400: Invalid symbol."});
  s.session.on_tick(s.now + 100 * kSec, s.sink);
  EXPECT_EQ(s.sink.requests.size(), 1u);
}

TEST(BinanceBridge, ThrottledSnapshotsAreAskedAgainWithoutCountingAsFailures) {
  DepthConfig c;
  c.max_snapshot_attempts = 1;
  Subscribed s(Market::kSpot, {"BTCUSDT"}, c);
  s.send(event("BTCUSDT", 10, 11, R"(["1.00","1"])", ""));
  s.answer("", 429);
  s.answer("", 418);
  ASSERT_EQ(s.sink.requests.size(), 3u);
  EXPECT_NE(s.ob().state(), BookState::kHalted);
  s.answer(snapshot(10, "", R"(["2.00","1"])"));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
}

// ---- continuity -------------------------------------------------------------------

TEST(BinanceContinuity, DuplicatesAreSkippedAndAGapResyncsOnlyThatBook) {
  Subscribed s(Market::kSpot, {"BTCUSDT", "ETHUSDT"});
  s.send(event("BTCUSDT", 10, 11, "", ""));
  s.answer(snapshot(10, R"(["100.00","1"])", R"(["101.00","1"])"));
  s.send(event("ETHUSDT", 5, 6, "", ""));
  s.answer(snapshot(5, R"(["10.00","1"])", R"(["11.00","1"])"));
  ASSERT_EQ(s.ob(1).state(), BookState::kLive);
  s.send(event("BTCUSDT", 12, 13, R"(["100.00","4"])", ""));
  s.send(event("BTCUSDT", 12, 13, R"(["100.00","4"])", ""));  // the same event again
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.info(0).stale_events, 1u);
  EXPECT_EQ(s.ob().counters().checks_failed, 0u);
  s.send(event("BTCUSDT", 15, 16, R"(["100.00","5"])", ""));  // 14 missing
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);
  EXPECT_EQ(s.ob().counters().checks_failed, 1u);
  EXPECT_EQ(s.ob().counters().resyncs_requested, 1u);
  EXPECT_EQ(s.ob(1).state(), BookState::kLive);
  ASSERT_EQ(s.sink.requests.size(), 3u);  // the gapping event starts the new bridge
  EXPECT_EQ(s.session.info(0).buffered, 1u);
  s.answer(snapshot(15, R"(["100.00","9"])", R"(["101.00","1"])"));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(obr::testing::top10(s.ob(), true), (std::vector<std::vector<std::string>>{{"100.00", "5"}}));
}

TEST(BinanceContinuity, ABookThatKeepsGappingTripsTheBreakerThenRetries) {
  Subscribed s;
  auto go_live = [&](std::int64_t id) {
    s.send(event("BTCUSDT", id, id, "", ""));
    s.answer(snapshot(id, R"(["1.00","1"])", R"(["2.00","1"])"));
  };
  go_live(10);
  s.send(event("BTCUSDT", 20, 20, "", ""));  // gap 1: the gapping event bridges again
  s.answer(snapshot(20, R"(["1.00","1"])", R"(["2.00","1"])"));
  ASSERT_EQ(s.ob().state(), BookState::kLive);
  s.send(event("BTCUSDT", 30, 30, "", ""));  // gap 2
  s.answer(snapshot(30, R"(["1.00","1"])", R"(["2.00","1"])"));
  s.send(event("BTCUSDT", 40, 40, "", ""));  // gap 3: three in a row without an event applied
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
  EXPECT_TRUE(s.sink.saw(StateReason::kCircuitOpen));
  const std::size_t asked = s.sink.requests.size();
  s.send(event("BTCUSDT", 41, 41, "", ""));  // ignored while halted
  EXPECT_EQ(s.sink.requests.size(), asked);
  s.session.on_tick(s.now + kSec, s.sink);  // the breaker's first backoff: 1 s
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);
  s.send(event("BTCUSDT", 42, 42, "", ""));
  EXPECT_EQ(s.sink.requests.size(), asked + 1);
}

// A capture whose recorder fetched a snapshot while the book was live: a newer one
// replaces the book, an older one is ignored.
TEST(BinanceContinuity, CaptureSnapshotsWhileLiveReplaceOnlyWhenNewer) {
  DepthConfig c;
  c.track_any_symbol = true;
  c.drive_connection = false;
  DepthSession s(c);
  BinanceSink sink;
  const std::string url = "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000";
  s.on_frame(event("BTCUSDT", 10, 10, "", ""), 0, sink);
  s.on_http_response(0, url, 200, snapshot(10, R"(["1.00","1"])", R"(["2.00","1"])"), 0, sink);
  ASSERT_EQ(s.book(0).state(), BookState::kLive);
  s.on_frame(event("BTCUSDT", 11, 12, R"(["1.00","3"])", ""), 0, sink);
  s.on_http_response(0, url, 200, snapshot(11, R"(["1.00","8"])", ""), 0, sink);  // older than the book
  EXPECT_EQ(s.info(0).stale_snapshots, 1u);
  EXPECT_EQ(obr::testing::top10(s.book(0), true), (std::vector<std::vector<std::string>>{{"1.00", "3"}}));
  s.on_http_response(0, url, 200, snapshot(20, R"(["1.50","2"])", R"(["2.00","1"])"), 0, sink);
  EXPECT_EQ(s.book(0).counters().snapshots, 2u);
  EXPECT_EQ(obr::testing::top10(s.book(0), true), (std::vector<std::vector<std::string>>{{"1.50", "2"}}));
  s.on_frame(event("BTCUSDT", 15, 20, "", ""), 0, sink);  // covered by the new snapshot
  s.on_frame(event("BTCUSDT", 21, 21, R"(["1.50","0"])", ""), 0, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kLive);
  EXPECT_TRUE(obr::testing::top10(s.book(0), true).empty());
  EXPECT_EQ(s.report(0).sequence, 21);
}

// Replaying someone else's capture nothing is fetched, so stale snapshots in a row are not
// attempts to count: the book waits for the next recorded one and never halts.
TEST(BinanceContinuity, CaptureStaleSnapshotsNeverHaltTheBook) {
  DepthConfig c;
  c.track_any_symbol = true;
  c.drive_connection = false;
  DepthSession s(c);
  BinanceSink sink;
  const std::string url = "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000";
  s.on_frame(event("BTCUSDT", 100, 101, R"(["1.00","1"])", ""), 0, sink);
  for (int i = 0; i < 7; ++i) s.on_http_response(0, url, 200, snapshot(90 + i, "", R"(["2.00","1"])"), 0, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kResyncing);
  EXPECT_FALSE(sink.saw(StateReason::kCircuitOpen));
  EXPECT_EQ(s.book(0).counters().snapshots, 7u);
  s.on_http_response(0, url, 200, snapshot(100, "", R"(["2.00","1"])"), 0, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kLive);
  EXPECT_EQ(s.report(0).sequence, 101);
}

// ---- trusted depth, malformed frames ------------------------------------------------

TEST(BinanceBooks, LevelsBeyondAPartialSnapshotAreNotVouchedFor) {
  DepthConfig c;
  c.snapshot_limit = 2;
  Subscribed s(Market::kSpot, {"BTCUSDT"}, c);
  s.send(event("BTCUSDT", 5, 5, "", ""));
  EXPECT_EQ(s.sink.requests[0].weight, 5);
  s.answer(snapshot(5, R"(["10.00","1"],["9.00","1"])", R"(["11.00","1"],["12.00","1"])"));
  EXPECT_EQ(s.session.trusted_depth(0), 2u);
  s.send(event("BTCUSDT", 6, 6, R"(["8.00","1"])", ""));  // below the snapshot's range
  EXPECT_EQ(s.ob().bids().size(), 3u);
  EXPECT_EQ(s.session.trusted_depth(0), 2u);
  s.send(event("BTCUSDT", 7, 7, R"(["10.00","0"])", ""));
  EXPECT_EQ(s.session.trusted_depth(0), 1u);  // 9.00 only: 8.00 is past the range
  EXPECT_EQ(s.session.report(0).trusted_depth, 1);
}

TEST(BinanceBooks, MalformedFramesAreCountedAndALiveBookThatLostAnEventResyncs) {
  Subscribed s;
  s.send(event("BTCUSDT", 5, 5, "", ""));
  s.answer(snapshot(5, R"(["10.00","1"])", R"(["11.00","1"])"));
  s.send("not json");
  EXPECT_EQ(s.session.malformed_frames(), 1u);
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  s.send(R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","s":"BTCUSDT","U":6}})");
  EXPECT_EQ(s.session.malformed_frames(), 2u);
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);
  EXPECT_TRUE(s.sink.saw(StateReason::kMalformed));
  EXPECT_EQ(s.sink.details.back(), "depthUpdate without U/u/b/a (or U > u)");
  s.send(event("ETHUSDT", 1, 1, "", ""));
  EXPECT_EQ(s.sink.errors.back(), FrameError::kUnknownSymbol);
  EXPECT_EQ(s.sink.details.back(), "ETHUSDT");
  // Streams that are not diff depth are not ours, and not errors.
  s.send(R"({"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT"}})");
  s.send(R"({"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":1,"bids":[],"asks":[]}})");
  EXPECT_EQ(s.session.malformed_frames(), 3u);
}

// Fields in another order than Binance's are read too (after the whole frame is validated);
// a damaged frame is counted, not walked (tests/fuzz/regressions/binance).
TEST(BinanceBooks, FieldsInAnyOrderAreReadAndDamagedFramesCounted) {
  Subscribed s;
  s.send(event("BTCUSDT", 5, 5, "", ""));
  s.answer(snapshot(5, R"(["10.00","1"])", R"(["11.00","1"])"));
  s.send(R"({"data":{"a":[["11.00","0"]],"b":[["10.50","2"]],"u":6,"U":6,"s":"BTCUSDT","e":"depthUpdate"},)"
         R"("stream":"btcusdt@depth@100ms"})");
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.report(0).sequence, 6);
  EXPECT_EQ(obr::testing::top10(s.ob(), true), (std::vector<std::vector<std::string>>{{"10.50", "2"}, {"10.00", "1"}}));
  EXPECT_TRUE(obr::testing::top10(s.ob(), false).empty());
  s.send(R"({"stream":"btcusdt@depth@100ms","data":{"s":"BTCUSDT","U":7,"u":7,"b":[["1"]],"a":[],"x":tru}})");
  EXPECT_EQ(s.session.malformed_frames(), 1u);
  EXPECT_EQ(s.sink.details.back(), "not valid JSON");
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);  // the book named by the stream lost an event
}

TEST(BinanceBooks, APricePastTheBooksRangeHaltsTheBook) {
  Subscribed s;
  s.send(event("BTCUSDT", 5, 5, "", ""));
  s.answer(snapshot(5, R"(["10.00000000","1"])", ""));
  s.send(event("BTCUSDT", 6, 6, R"(["99999999999.00000000","1"])", ""));
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
  EXPECT_TRUE(s.sink.saw(StateReason::kOutOfRange));
  EXPECT_EQ(s.sink.errors.back(), FrameError::kOutOfRange);
}

TEST(BinanceBooks, SnapshotWeightsFollowTheLimit) {
  EXPECT_EQ(snapshot_weight(Market::kSpot, 100), 5);
  EXPECT_EQ(snapshot_weight(Market::kSpot, 101), 25);
  EXPECT_EQ(snapshot_weight(Market::kSpot, 1000), 50);
  EXPECT_EQ(snapshot_weight(Market::kSpot, 5000), 250);
  EXPECT_EQ(snapshot_weight(Market::kUsdm, 50), 2);
  EXPECT_EQ(snapshot_weight(Market::kUsdm, 100), 5);
  EXPECT_EQ(snapshot_weight(Market::kUsdm, 500), 10);
  EXPECT_EQ(snapshot_weight(Market::kUsdm, 1000), 20);
  EXPECT_TRUE(limit_ok(Market::kSpot, 5000));
  EXPECT_FALSE(limit_ok(Market::kSpot, 5001));
  EXPECT_TRUE(limit_ok(Market::kUsdm, 500));
  EXPECT_FALSE(limit_ok(Market::kUsdm, 200));
}

TEST(BinanceBooks, LiveEventsAllocateNothingAfterWarmUp) {
  Subscribed s;
  // Ids of four digits throughout: the warm-up sees frames as long as the rest.
  s.send(event("BTCUSDT", 1000, 1000, "", ""));
  s.answer(snapshot(1000, R"(["99.00","1"])", R"(["101.00","1"])"));
  std::vector<std::string> frames;
  for (std::int64_t id = 1001; id < 3000; ++id) {
    const std::string price = std::to_string(50 + id % 40) + ".50";
    frames.push_back(event("BTCUSDT", id, id, id % 3 ? R"([")" + price + R"(","1.50"])" : "",
                           id % 3 ? "" : R"(["10)" + std::to_string(id % 10) + R"(.00","0"])"));
  }
  for (std::size_t i = 0; i < 200; ++i) s.send(frames[i]);  // warm-up
  obr::testing::AllocationScope scope;
  for (std::size_t i = 200; i < frames.size(); ++i) s.send(frames[i]);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.report(0).sequence, 2999);
}

}  // namespace
}  // namespace obr::connectors::binance
