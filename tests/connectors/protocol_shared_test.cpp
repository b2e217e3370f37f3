// The pieces every venue shares (connectors/protocol/book_registry.h, snapshot_bridge.h):
// the per-book registry with its circuit breaker, the delta buffer and the snapshot fetch.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/protocol/book_registry.h"
#include "connectors/protocol/snapshot_bridge.h"

namespace obr::connectors {
namespace {

using book::BookState;

struct TestBook : TrackedBook {
  TestBook(BookId book_id, std::string book_symbol, int tag_value)
      : TrackedBook(book_id, std::move(book_symbol), book::BookConfig{}), tag(tag_value) {}
  int tag;
};

struct Transitions : NullSink {
  struct T {
    BookId id;
    std::string symbol;
    BookState from, to;
    StateReason why;
  };
  std::vector<T> seen;
  void book_state_changed(BookId id, std::string_view symbol, BookState from, BookState to, StateReason why) override {
    seen.push_back({id, std::string(symbol), from, to, why});
  }
};

TEST(BookRegistry, TracksBooksByDenseIdAndSymbol) {
  BookRegistry<TestBook> r;
  EXPECT_EQ(r.find("BTCUSDT"), nullptr);
  TestBook& a = r.track("BTCUSDT", 7);
  TestBook& b = r.track("ETHUSDT", 8);
  EXPECT_EQ(&r.track("BTCUSDT", 99), &a);  // tracked once; the arguments are not used again
  EXPECT_EQ(a.id, 0u);
  EXPECT_EQ(b.id, 1u);
  EXPECT_EQ(a.tag, 7);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.find("ETHUSDT"), &b);
  EXPECT_EQ(&r.at(1), &b);
  EXPECT_EQ(r.all()[0]->symbol, "BTCUSDT");
}

TEST(BookRegistry, ReportsEachTransitionOnceWithItsReason) {
  BookRegistry<TestBook> r;
  TestBook& b = r.track("X", 0);
  Transitions sink;
  r.set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);
  r.set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);  // already there: nothing
  ASSERT_EQ(sink.seen.size(), 1u);
  EXPECT_EQ(sink.seen[0].symbol, "X");
  EXPECT_EQ(sink.seen[0].from, BookState::kSubscribing);
  EXPECT_EQ(sink.seen[0].to, BookState::kLive);
  EXPECT_EQ(sink.seen[0].why, StateReason::kSnapshotValid);
}

// Three failures in a row halt the book; its retry comes after the backoff, doubled per
// trip and capped; a pass in between starts the count over.
TEST(BookRegistry, CircuitBreakerHaltsAfterFailuresInARowAndBacksOff) {
  BookRegistry<TestBook> r;
  TestBook& b = r.track("X", 0);
  Transitions sink;
  const BreakerConfig c{.failures = 3, .backoff_ns = 100, .backoff_max_ns = 300};
  EXPECT_FALSE(r.fail(b, StateReason::kSequenceGap, c, 0, sink));
  EXPECT_EQ(b.ob.state(), BookState::kInvalid);
  EXPECT_FALSE(r.fail(b, StateReason::kSequenceGap, c, 0, sink));
  b.breaker.passed();
  EXPECT_FALSE(r.fail(b, StateReason::kSequenceGap, c, 0, sink));
  EXPECT_FALSE(r.fail(b, StateReason::kSequenceGap, c, 0, sink));
  EXPECT_TRUE(r.fail(b, StateReason::kChecksumMismatch, c, 1000, sink));
  EXPECT_EQ(b.ob.state(), BookState::kHalted);
  EXPECT_EQ(sink.seen.back().why, StateReason::kCircuitOpen);
  EXPECT_EQ(b.breaker.retry_at_ns, 1100);
  EXPECT_EQ(r.retries_pending(), 1u);

  std::vector<BookId> retried;
  r.run_due_retries(1099, [&](TestBook& t) { retried.push_back(t.id); });
  EXPECT_TRUE(retried.empty());
  r.run_due_retries(1100, [&](TestBook& t) { retried.push_back(t.id); });
  EXPECT_EQ(retried, std::vector<BookId>{0});
  EXPECT_EQ(r.retries_pending(), 0u);

  for (int i = 0; i < 3; ++i) r.fail(b, StateReason::kSequenceGap, c, 2000, sink);
  EXPECT_EQ(b.breaker.retry_at_ns, 2200);  // second trip: doubled
  r.cancel_retry(b);
  EXPECT_EQ(r.retries_pending(), 0u);
  for (int i = 0; i < 3; ++i) r.fail(b, StateReason::kSequenceGap, c, 3000, sink);
  EXPECT_EQ(b.breaker.retry_at_ns, 3300);  // third: 400, capped at 300
  EXPECT_EQ(b.breaker.trips, 3);
}

TEST(BookRegistry, StaleAllCanSpareBooksThatAreNotLive) {
  BookRegistry<TestBook> r;
  Transitions sink;
  r.set_state(r.track("A", 0), BookState::kLive, StateReason::kSnapshotValid, sink);
  r.track("B", 0);  // subscribing
  r.stale_all(true, StateReason::kMaintenance, sink);
  EXPECT_EQ(r.at(0).ob.state(), BookState::kStale);
  EXPECT_EQ(r.at(1).ob.state(), BookState::kSubscribing);
  r.stale_all(false, StateReason::kDisconnected, sink);
  EXPECT_EQ(r.at(1).ob.state(), BookState::kStale);
}

TEST(DeltaBuffer, KeepsItsOwnCopyOfEachDeltasText) {
  DeltaBuffer buf;
  std::string frame = R"(["1.5","2"],["1.25","0"])";
  std::vector<RawChange> one{
      {book::Side::kBid, std::string_view(frame).substr(2, 3), std::string_view(frame).substr(8, 1), 17}};
  buf.push(10, 12, -1, one);
  one = {{book::Side::kAsk, std::string_view(frame).substr(14, 4), std::string_view(frame).substr(21, 1), -1},
         {book::Side::kBid, "9", "1", -1}};
  buf.push(13, 13, 12, one);
  frame.assign(frame.size(), 'x');  // the frame buffer is reused by the next frame
  ASSERT_EQ(buf.size(), 2u);
  EXPECT_EQ(buf.delta(0).start, 10);
  EXPECT_EQ(buf.delta(0).end, 12);
  EXPECT_EQ(buf.delta(1).prev, 12);
  EXPECT_EQ(buf.delta(1).first, 1u);
  EXPECT_EQ(buf.delta(1).count, 2u);
  EXPECT_EQ(buf.change(0).price, "1.5");
  EXPECT_EQ(buf.change(0).size, "2");
  EXPECT_EQ(buf.change(0).seq, 17);
  EXPECT_EQ(buf.change(1).side, book::Side::kAsk);
  EXPECT_EQ(buf.change(1).price, "1.25");
  EXPECT_EQ(buf.change(1).size, "0");
  buf.drop_front(1);
  EXPECT_EQ(buf.size(), 1u);
  EXPECT_EQ(buf.delta(0).start, 13);
  EXPECT_EQ(buf.change(buf.delta(0).first + 1).price, "9");
  buf.clear();
  EXPECT_TRUE(buf.empty());
  EXPECT_EQ(buf.change_count(), 0u);
}

TEST(DeltaBuffer, FitsStopsAtTheDeltaLimit) {
  DeltaBuffer buf;
  const std::vector<RawChange> one{{book::Side::kBid, "1", "1", -1}};
  EXPECT_TRUE(buf.fits(one, 2));
  buf.push(1, 1, -1, one);
  EXPECT_TRUE(buf.fits(one, 2));
  buf.push(2, 2, -1, one);
  EXPECT_FALSE(buf.fits(one, 2));
}

TEST(SnapshotFetch, BoundedRetriesThenAHaltThenAFreshStart) {
  SnapshotFetch f;
  EXPECT_FALSE(f.due());
  f.restart();
  EXPECT_TRUE(f.due());
  f.sent(5);
  EXPECT_FALSE(f.due());
  EXPECT_TRUE(f.answers(5));
  EXPECT_TRUE(f.answers(0));  // a recording's answer carries no id
  EXPECT_FALSE(f.answers(4));
  EXPECT_FALSE(f.failed(3, 1000, 10));  // 1 of 3
  f.sent(6);
  EXPECT_FALSE(f.failed(3, 1000, 20));  // 2 of 3
  f.sent(7);
  EXPECT_TRUE(f.failed(3, 1000, 30));  // 3 of 3: halted until 1030
  EXPECT_EQ(f.retry_at_ns, 1030);
  EXPECT_FALSE(f.halt_due(1029));
  EXPECT_TRUE(f.halt_due(1030));
  f.sent(8);  // the halt is over: counting starts again
  EXPECT_EQ(f.retry_at_ns, -1);
  EXPECT_FALSE(f.failed(3, 1000, 2000));
  f.succeeded();
  EXPECT_EQ(f.attempts, 0);
  f.restart(true);
  EXPECT_EQ(f.request, 0u);
  f.sent(9);
  EXPECT_TRUE(f.failed(1, 1000, 3000));  // halted until 4000
  f.new_connection(true);                // a new connection: no halt, nothing in flight
  EXPECT_TRUE(f.due());
  f.new_connection(false);  // a refused book wants nothing
  EXPECT_FALSE(f.due());
  f.stop();
  EXPECT_FALSE(f.due());
}

}  // namespace
}  // namespace obr::connectors
