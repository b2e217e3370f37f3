// tests/connectors/okx_books_session_test.cpp — the OKX v5 order-book session, sans I/O
// (docs/venues/okx.md).
//
// Helpers first (push() builds a book message; the checksums are OKX's documented ones or a
// twin book's; Subscribed is a session whose subscribe was answered), then sections: the
// connection (requests, answers, refusals, pings), the books (snapshots, updates, the
// documented seqId example, gaps, checksums sent or 0, recordings without seqId, books5),
// malformed frames, the breaker, and steady-state allocations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "book/okx_checksum.h"
#include "connectors/okx/books_session.h"
#include "connectors/okx/venue.h"
#include "tests/common/alloc_counter.h"
#include "tests/connectors/session_test_util.h"

namespace obr::connectors::okx {
namespace {

using book::BookState;
using OkxSink = obr::testing::ActionSink;
using Levels = std::vector<std::vector<std::string>>;

// top10: a side's best 10 as OKX writes numbers (book/decimal.h append_plain_decimal).
Levels top10(const book::OrderBook& ob, bool bids) {
  Levels out;
  const std::size_t n = std::min<std::size_t>(10, bids ? ob.bids().size() : ob.asks().size());
  for (std::size_t i = 0; i < n; ++i) {
    const book::Level& l = bids ? ob.bids().at(i) : ob.asks().at(i);
    char p[64 + book::kDigitTextSlack], q[64 + book::kDigitTextSlack];
    const char* pe = book::append_plain_decimal(p, l.price, ob.price_scale());
    const char* qe = book::append_plain_decimal(q, l.qty, ob.qty_scale());
    out.push_back({std::string(static_cast<const char*>(p), pe), std::string(static_cast<const char*>(q), qe)});
  }
  return out;
}

constexpr std::int64_t kSec = 1'000'000'000;

// push: a `books` message. `seq` < 0 leaves seqId and prevSeqId out (recordings before 2023).
std::string push(const std::string& action, const std::string& inst, const std::string& bids, const std::string& asks,
                 std::int64_t checksum, std::int64_t prev = -2, std::int64_t seq = -1,
                 const std::string& channel = "books") {
  std::string out = R"({"arg":{"channel":")" + channel + R"(","instId":")" + inst + R"("},"action":")" + action +
                    R"(","data":[{"asks":[)" + asks + R"(],"bids":[)" + bids + R"(],"ts":"1597026383085","checksum":)" +
                    std::to_string(checksum);
  if (seq >= 0 || prev != -2) out += R"(,"prevSeqId":)" + std::to_string(prev) + R"(,"seqId":)" + std::to_string(seq);
  return out + "}]}";
}

// The book of OKX's first documented checksum string, and its checksum.
const std::string kBids = R"(["3366.1","7","0","1"],["3366","6","0","1"])";
const std::string kAsks = R"(["3366.8","9","0","1"],["3368","8","0","1"])";
const std::int64_t kCrc = -1881014294;

struct Subscribed {
  explicit Subscribed(std::vector<std::string> symbols = {"BTC-USDT"}, BooksConfig config = {}) : session(config) {
    EXPECT_TRUE(session.subscribe(symbols, now, sink).ok());
    session.start(now, sink);
    session.on_connected(now, sink);
    for (const std::string& s : symbols) {
      session.on_frame(R"({"id":"1","event":"subscribe","arg":{"channel":")" + std::string(channel_for(config.depth)) +
                           R"(","instId":")" + s + R"("},"connId":"a4d3ae55"})",
                       now, sink);
    }
  }
  void send(const std::string& frame) { session.on_frame(frame, now, sink); }
  const book::OrderBook& ob(BookId id = 0) const { return session.book(id); }
  std::int64_t now = 1000 * kSec;
  OkxSink sink;
  BooksSession session;
};

// ---- connection -------------------------------------------------------------------

TEST(OkxConnection, SubscribesWithAnIdAndEachChannelsAnswerMovesItsBook) {
  BooksSession s(BooksConfig{});
  OkxSink sink;
  ASSERT_TRUE(s.subscribe({"BTC-USDT", "BTC-USDT-SWAP"}, 0, sink).ok());
  s.start(0, sink);
  ASSERT_EQ(sink.opened, std::vector<std::string>{"wss://ws.okx.com:8443/ws/v5/public"});
  s.on_connected(0, sink);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(sink.sent[0], R"({"id":"1","op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},)"
                          R"({"channel":"books","instId":"BTC-USDT-SWAP"}]})");
  s.on_frame(R"({"id":"1","event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a"})", 0, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kAwaitingSnapshot);
  EXPECT_EQ(s.book(1).state(), BookState::kSubscribing);
  s.on_tick(10 * kSec, sink);  // the second answer never came
  EXPECT_EQ(sink.closed, std::vector<std::string>{"subscribe request not answered within ack_timeout"});
}

TEST(OkxConnection, DepthsPickTheChannel) {
  EXPECT_EQ(channel_for(400), "books");
  EXPECT_EQ(channel_for(5), "books5");
  EXPECT_EQ(channel_for(50), "books50-l2-tbt");
  EXPECT_EQ(channel_for(25), "");
  EXPECT_TRUE(kVenue.depth_ok(5));
  EXPECT_FALSE(kVenue.depth_ok(100));
  BooksConfig c;
  c.depth = 50;
  BooksSession s(c);
  OkxSink sink;
  ASSERT_TRUE(s.subscribe({"BTC-USDT"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  EXPECT_EQ(sink.sent[0], R"({"id":"1","op":"subscribe","args":[{"channel":"books50-l2-tbt","instId":"BTC-USDT"}]})");
  EXPECT_EQ(s.subscribe({"BAD SYMBOL"}, 0, sink).code(), absl::StatusCode::kInvalidArgument);
}

// The venue's refusal (e.g. 64003 for a tick-by-tick channel the account may not have)
// refuses the book it names with the venue's message; the others are asked again.
TEST(OkxConnection, AnErrorNamingAnInstIdRefusesThatBookWithTheVenuesMessage) {
  BooksSession s(BooksConfig{});
  OkxSink sink;
  ASSERT_TRUE(s.subscribe({"BTC-USDT", "NOPE-USDT"}, 0, sink).ok());
  s.start(0, sink);
  s.on_connected(0, sink);
  s.on_frame(
      R"({"id":"1","event":"error","code":"60018","msg":"Wrong URL or channel:books,instId:NOPE-USDT doesn't exist","connId":"a"})",
      0, sink);
  EXPECT_EQ(s.book(1).state(), BookState::kHalted);
  EXPECT_TRUE(s.info(1).refused);
  EXPECT_EQ(sink.venue_error_symbols, std::vector<std::string>{"NOPE-USDT"});
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_EQ(sink.sent[1], R"({"id":"2","op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]})");
  s.on_frame(
      R"({"id":"2","event":"error","code":"64003","msg":"Your trading fee tier doesn't meet the requirement to access this channel","connId":"a"})",
      0, sink);
  EXPECT_EQ(s.book(0).state(), BookState::kHalted);  // a one-book request: refused
  EXPECT_EQ(sink.venue_errors.back(), "Your trading fee tier doesn't meet the requirement to access this channel");
}

// `ping` when nothing arrived for 20 s, `pong` due within 10 s.
TEST(OkxConnection, PingsWhenQuietAndClosesWithoutAPong) {
  Subscribed s;
  const std::size_t sent = s.sink.sent.size();
  s.session.on_tick(s.now + 20 * kSec - 1, s.sink);
  EXPECT_EQ(s.sink.sent.size(), sent);
  s.session.on_tick(s.now + 20 * kSec, s.sink);
  EXPECT_EQ(s.sink.sent.back(), "ping");
  s.session.on_frame("pong", s.now + 21 * kSec, s.sink);
  s.session.on_tick(s.now + 40 * kSec, s.sink);
  EXPECT_EQ(s.sink.sent.size(), sent + 1);  // 19 s since the pong
  s.session.on_tick(s.now + 41 * kSec, s.sink);
  EXPECT_EQ(s.sink.sent.size(), sent + 2);
  s.session.on_tick(s.now + 51 * kSec, s.sink);
  EXPECT_EQ(s.sink.closed, std::vector<std::string>{"no pong within pong_timeout"});
  EXPECT_EQ(s.session.malformed_frames(), 0u);
}

// ---- books ----------------------------------------------------------------------------

TEST(OkxBooks, TheDocumentedChecksumBookGoesLiveAndUpdatesApply) {
  Subscribed s;
  s.send(push("snapshot", "BTC-USDT", kBids, kAsks, kCrc, -1, 10));
  ASSERT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.ob().counters().checks_passed, 1u);
  // Delete 3366 (a bid), add 3372 x 8 on the asks: OKX's second documented string.
  s.send(push("update", "BTC-USDT", R"(["3366","0","0","0"])", R"(["3372","8","0","1"])", 831078360, 10, 15));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(top10(s.ob(), true), (Levels{{"3366.1", "7"}}));
  EXPECT_EQ(top10(s.ob(), false), (Levels{{"3366.8", "9"}, {"3368", "8"}, {"3372", "8"}}));
  EXPECT_EQ(s.session.report(0).sequence, 15);
  EXPECT_EQ(s.ob().counters().updates, 1u);
  EXPECT_EQ(s.ob().counters().checks_passed, 2u);
  EXPECT_EQ(s.session.info(0).checksums_checked, 2u);
}

// OKX's documented sequence: snapshot (-1, 10), (10, 15), the no-change (15, 15), the reset
// (15, 3), then (3, 5): every one in order.
TEST(OkxBooks, TheDocumentedSeqIdExampleIsInOrderThroughout) {
  Subscribed s;
  s.send(push("snapshot", "BTC-USDT", kBids, kAsks, 0, -1, 10));
  s.send(push("update", "BTC-USDT", R"(["3366","5","0","1"])", "", 0, 10, 15));
  s.send(push("update", "BTC-USDT", "", "", 0, 15, 15));                        // no change for a while
  s.send(push("update", "BTC-USDT", "", R"(["3368","0","0","0"])", 0, 15, 3));  // maintenance reset
  s.send(push("update", "BTC-USDT", R"(["3365","1","0","1"])", "", 0, 3, 5));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.ob().counters().checks_failed, 0u);
  EXPECT_EQ(s.ob().counters().checks_passed, 4u);  // seqId checked on each update
  EXPECT_EQ(s.ob().counters().updates, 4u);
  EXPECT_EQ(s.session.report(0).sequence, 5);
  EXPECT_EQ(top10(s.ob(), true), (Levels{{"3366.1", "7"}, {"3366", "5"}, {"3365", "1"}}));
  EXPECT_EQ(top10(s.ob(), false), (Levels{{"3366.8", "9"}}));
}

// prevSeqId other than the last seqId (a gap, a duplicate, a reorder) invalidates that book
// alone, which is unsubscribed and subscribed again; its next snapshot restores it.
TEST(OkxBooks, AGapOrADuplicateResubscribesOnlyThatBook) {
  Subscribed s({"BTC-USDT", "ETH-USDT"});
  s.send(push("snapshot", "BTC-USDT", kBids, kAsks, 0, -1, 10));
  s.send(push("snapshot", "ETH-USDT", kBids, kAsks, 0, -1, 10));
  s.send(push("update", "BTC-USDT", "", "", 0, 10, 11));
  s.send(push("update", "BTC-USDT", "", "", 0, 10, 11));  // the same update again
  EXPECT_EQ(s.ob(0).state(), BookState::kResyncing);
  EXPECT_EQ(s.ob(1).state(), BookState::kLive);
  EXPECT_TRUE(s.sink.saw(StateReason::kSequenceGap));
  ASSERT_GE(s.sink.sent.size(), 3u);
  EXPECT_EQ(s.sink.sent[s.sink.sent.size() - 2],
            R"({"id":"2","op":"unsubscribe","args":[{"channel":"books","instId":"BTC-USDT"}]})");
  EXPECT_EQ(s.sink.sent.back(), R"({"id":"3","op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]})");
  EXPECT_EQ(s.session.report(0).sequence, 11);
  s.send(push("update", "ETH-USDT", "", "", 0, 12, 13));  // 11 is missing
  EXPECT_EQ(s.ob(1).state(), BookState::kResyncing);
  s.send(push("snapshot", "BTC-USDT", kBids, kAsks, kCrc, -1, 20));
  EXPECT_EQ(s.ob(0).state(), BookState::kLive);
  EXPECT_EQ(s.ob(0).counters().checks_failed, 1u);
  EXPECT_EQ(s.ob(0).counters().resyncs_requested, 1u);
}

TEST(OkxBooks, AChecksumMismatchInvalidatesTheBookAndZeroMeansNone) {
  Subscribed s;
  s.send(push("snapshot", "BTC-USDT", kBids, kAsks, kCrc, -1, 10));
  s.send(push("update", "BTC-USDT", R"(["3366","9","0","1"])", "", 0, 10, 11));  // 0: not sent
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.info(0).checksums_checked, 1u);
  s.send(push("update", "BTC-USDT", R"(["3366","8","0","1"])", "", 12345, 11, 12));
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);
  EXPECT_TRUE(s.sink.saw(StateReason::kChecksumMismatch));
  EXPECT_EQ(s.ob().counters().checks_failed, 1u);
  // A snapshot whose checksum does not match never goes live.
  s.send(push("snapshot", "BTC-USDT", kBids, kAsks, kCrc + 1, -1, 30));
  EXPECT_NE(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.ob().counters().checks_failed, 2u);
}

// Recordings from before 2023 carry no seqId: the checksum is the only check.
TEST(OkxBooks, WithoutSeqIdTheChecksumAloneIsChecked) {
  Subscribed s;
  s.send(push("snapshot", "BTC-USDT", kBids, kAsks, kCrc));
  s.send(push("update", "BTC-USDT", R"(["3366","0","0","0"])", R"(["3372","8","0","1"])", 831078360));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.ob().counters().checks_passed, 2u);
  EXPECT_EQ(s.session.report(0).sequence, -1);
  s.send(push("update", "BTC-USDT", R"(["3300","1","0","1"])", "", 0));  // neither: applied, nothing checked
  EXPECT_EQ(s.ob().counters().updates, 2u);
  EXPECT_EQ(s.ob().counters().checks_passed, 2u);
}

// books5: every message is a whole 5-level snapshot, with no action.
TEST(OkxBooks, BooksFiveMessagesAreSnapshots) {
  BooksConfig c;
  c.depth = 5;
  Subscribed s({"BTC-USDT"}, c);
  s.send(
      R"({"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["3366.8","9","0","1"]],"bids":[["3366.1","7","0","1"]],"instId":"BTC-USDT","ts":"1","seqId":5,"prevSeqId":-1}]})");
  s.send(
      R"({"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["3367","1","0","1"]],"bids":[["3366","2","0","1"]],"instId":"BTC-USDT","ts":"2","seqId":9,"prevSeqId":-1}]})");
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.ob().counters().snapshots, 2u);
  EXPECT_EQ(top10(s.ob(), true), (Levels{{"3366", "2"}}));
  EXPECT_EQ(s.session.report(0).sequence, 9);
}

TEST(OkxBooks, ABookThatKeepsFailingTripsTheBreakerThenRetries) {
  Subscribed s;
  for (std::int64_t seq : {10, 20, 30}) {
    s.send(push("snapshot", "BTC-USDT", kBids, kAsks, 0, -1, seq));
    s.send(push("update", "BTC-USDT", "", "", 0, seq + 5, seq + 6));
  }
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
  EXPECT_TRUE(s.sink.saw(StateReason::kCircuitOpen));
  s.session.on_tick(s.now + kSec, s.sink);
  EXPECT_EQ(s.ob().state(), BookState::kResyncing);
  s.send(push("snapshot", "BTC-USDT", kBids, kAsks, 0, -1, 50));
  EXPECT_EQ(s.ob().state(), BookState::kLive);
}

// ---- malformed frames -----------------------------------------------------------------

TEST(OkxMalformed, DamagedFramesAreCountedAndALiveBookThatLostAMessageResubscribes) {
  Subscribed s({"BTC-USDT", "ETH-USDT"});
  s.send(push("snapshot", "BTC-USDT", kBids, kAsks, 0, -1, 10));
  s.send(push("snapshot", "ETH-USDT", kBids, kAsks, 0, -1, 10));
  s.send("not json");
  s.send(R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["1"]]}]})");
  EXPECT_EQ(s.ob(0).state(), BookState::kResyncing);
  EXPECT_EQ(s.ob(1).state(), BookState::kLive);
  s.send(push("update", "ETH-USDT", R"(["abc","1","0","1"])", "", 0, 10, 11));
  EXPECT_EQ(s.ob(1).state(), BookState::kResyncing);
  s.send(push("update", "NOPE-USDT", "", "", 0, 1, 2));
  s.send(R"({"hello":1})");
  EXPECT_EQ(s.session.malformed_frames(), 5u);
  EXPECT_EQ(s.sink.details,
            (std::vector<std::string>{"not a JSON object", "not a book message or an answer as OKX documents them",
                                      "book update with a price or size that is not a decimal", "NOPE-USDT",
                                      "frame is neither a book message nor an answer"}));
  s.send(R"({"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"px":"1"}]})");  // not ours
  EXPECT_EQ(s.session.malformed_frames(), 5u);
}

TEST(OkxMalformed, APricePastTheBooksRangeHaltsTheBook) {
  Subscribed s;
  s.send(push("snapshot", "BTC-USDT", R"(["100.00000001","1","0","1"])", R"(["101","1","0","1"])", 0, -1, 1));
  s.send(push("update", "BTC-USDT", R"(["123456789012.12345678","1","0","1"])", "", 0, 1, 2));
  EXPECT_EQ(s.ob().state(), BookState::kHalted);
  EXPECT_TRUE(s.sink.saw(StateReason::kOutOfRange));
}

TEST(OkxVenue, FramesWithAnArgChannelAreOkxs) {
  EXPECT_TRUE(kVenue.first_frame_is(R"({"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"}})"));
  EXPECT_TRUE(kVenue.first_frame_is(push("snapshot", "BTC-USDT", "", "", 0)));
  EXPECT_FALSE(kVenue.first_frame_is(R"({"channel":"book","type":"snapshot"})"));
  EXPECT_FALSE(kVenue.first_frame_is(R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot"})"));
}

// ---- allocations ------------------------------------------------------------------------

TEST(OkxBooks, UpdatesWithChecksumsAllocateNothingAfterWarmUp) {
  Subscribed s;
  s.send(push("snapshot", "BTC-USDT", R"(["99.5","1","0","1"])", R"(["101","1","0","1"])", 0, -1, 1000));
  // Each update's checksum from a twin book kept by the test, so every update is checked.
  book::OrderBook twin(book::BookConfig{.price_scale = 1, .qty_scale = 1, .depth_limit = 0, .reserve_levels = 0});
  twin.apply(book::Side::kBid, 995, 10);
  twin.apply(book::Side::kAsk, 1010, 10);
  std::vector<std::string> frames;
  for (std::int64_t seq = 1001; seq < 3000; ++seq) {
    const std::int64_t ticks = 505 + 10 * (seq % 40);  // 50.5 ... 440.5
    twin.apply(book::Side::kBid, ticks, 15);
    const std::string price = std::to_string(ticks / 10) + ".5";
    frames.push_back(push("update", "BTC-USDT", R"([")" + price + R"(","1.5","0","1"])", "", book::okx_checksum(twin),
                          seq - 1, seq));
  }
  for (std::size_t i = 0; i < 200; ++i) s.send(frames[i]);  // warm-up
  obr::testing::AllocationScope scope;
  for (std::size_t i = 200; i < frames.size(); ++i) s.send(frames[i]);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(s.ob().state(), BookState::kLive);
  EXPECT_EQ(s.session.report(0).sequence, 2999);
}

}  // namespace
}  // namespace obr::connectors::okx
