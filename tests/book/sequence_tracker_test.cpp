#include "book/sequence_tracker.h"

#include <gtest/gtest.h>

namespace obr::book {
namespace {

TEST(SequenceTracker, NoSnapshotMeansGap) {
  SequenceTracker t;
  EXPECT_EQ(t.check_range(1, 1), SeqCheck::kGap);
  EXPECT_EQ(t.check_linked(-1, 1), SeqCheck::kGap);
}

// KuCoin's documented example (docs/venues/kucoin.md "Calibration procedure"): snapshot 16, buffered messages at or
// below 16 are discarded, then 17.. apply strictly.
TEST(SequenceTracker, KucoinCalibration) {
  SequenceTracker t;
  t.reset(16);
  EXPECT_EQ(t.check_range(15, 15), SeqCheck::kStale);
  EXPECT_EQ(t.check_range(16, 16), SeqCheck::kStale);
  EXPECT_EQ(t.check_range(14, 18), SeqCheck::kInOrder);  // straddles S+1: bridges
  EXPECT_EQ(t.last(), 18);
  EXPECT_TRUE(t.bridged());
  EXPECT_EQ(t.check_range(19, 19), SeqCheck::kInOrder);
  EXPECT_EQ(t.check_range(19, 19), SeqCheck::kStale);  // duplicate
  EXPECT_EQ(t.check_range(21, 22), SeqCheck::kGap);    // 20 missing
  EXPECT_EQ(t.last(), 19);                             // a gap does not advance
}

// KuCoin's rule holds for every delta, not only the first: an overlap with the book is in
// order (its entries at or below the book's sequence are skipped by the session).
TEST(SequenceTracker, KucoinOverlapIsInOrderAfterTheFirstDeltaToo) {
  SequenceTracker t;
  EXPECT_EQ(t.check_overlapping(1, 1), SeqCheck::kGap);  // no snapshot yet
  t.reset(16);
  EXPECT_EQ(t.check_overlapping(10, 16), SeqCheck::kStale);
  EXPECT_EQ(t.check_overlapping(14, 18), SeqCheck::kInOrder);
  EXPECT_EQ(t.check_overlapping(17, 20), SeqCheck::kInOrder);  // check_range calls this a gap
  EXPECT_EQ(t.last(), 20);
  EXPECT_EQ(t.check_overlapping(20, 20), SeqCheck::kStale);
  EXPECT_EQ(t.check_overlapping(22, 23), SeqCheck::kGap);  // 21 missing
  EXPECT_EQ(t.last(), 20);
  EXPECT_EQ(t.check_overlapping(21, 21), SeqCheck::kInOrder);
}

TEST(SequenceTracker, FirstDeltaAfterSnapshotMustReachSPlusOne) {
  SequenceTracker t;
  t.reset(100);
  EXPECT_EQ(t.check_range(102, 103), SeqCheck::kGap);
  t.reset(100);
  EXPECT_EQ(t.check_range(101, 101), SeqCheck::kInOrder);
}

TEST(SequenceTracker, OverlapAfterBridgeIsAGap) {
  SequenceTracker t;
  t.reset(10);
  EXPECT_EQ(t.check_range(11, 12), SeqCheck::kInOrder);
  EXPECT_EQ(t.check_range(12, 13), SeqCheck::kGap);
}

// Binance spot (its documented bridge): lastUpdateId 160; first kept event brackets 161.
TEST(SequenceTracker, BinanceUu) {
  SequenceTracker t;
  t.reset(160);
  EXPECT_EQ(t.check_range(150, 160), SeqCheck::kStale);
  EXPECT_EQ(t.check_range(157, 165), SeqCheck::kInOrder);
  EXPECT_EQ(t.check_range(166, 170), SeqCheck::kInOrder);
  EXPECT_EQ(t.check_range(172, 175), SeqCheck::kGap);
}

// Bybit v5: u contiguous.
// Binance USD-M (docs/venues/binance.md "Continuity"): the first event brackets the
// snapshot's id itself (u == lastUpdateId is the bridge, u < lastUpdateId stale), then each
// event's pu names the previous u, whatever its U.
TEST(SequenceTracker, BinanceFuturesChainedByPu) {
  SequenceTracker t;
  t.reset(100);
  EXPECT_EQ(t.check_chained(90, 99, 80), SeqCheck::kStale);     // u < lastUpdateId: dropped
  EXPECT_EQ(t.check_chained(95, 100, 89), SeqCheck::kInOrder);  // U <= 100 <= u: the bridge
  EXPECT_EQ(t.last(), 100);
  EXPECT_EQ(t.check_chained(105, 110, 100), SeqCheck::kInOrder);  // U skips ahead: pu decides
  EXPECT_EQ(t.check_chained(105, 110, 100), SeqCheck::kStale);    // the same event again
  EXPECT_EQ(t.check_chained(111, 112, 109), SeqCheck::kGap);      // pu names an event never seen
  t.reset(100);
  EXPECT_EQ(t.check_chained(101, 105, 100), SeqCheck::kGap);  // does not bracket 100
  t.reset(100);
  EXPECT_EQ(t.check_chained(100, 100, 99), SeqCheck::kInOrder);
  t.clear();
  EXPECT_EQ(t.check_chained(1, 2, 0), SeqCheck::kGap);
}

TEST(SequenceTracker, SingleIds) {
  SequenceTracker t;
  t.reset(18521288);
  EXPECT_EQ(t.check_single(18521289), SeqCheck::kInOrder);
  EXPECT_EQ(t.check_single(18521289), SeqCheck::kStale);
  EXPECT_EQ(t.check_single(18521291), SeqCheck::kGap);
}

// Bybit's u: only last + 1 follows; a repeat or an older id is a gap, not stale.
TEST(SequenceTracker, BybitNextIdsOnly) {
  SequenceTracker t;
  EXPECT_EQ(t.check_next(1), SeqCheck::kGap);  // no snapshot yet
  t.reset(18521288);
  EXPECT_EQ(t.check_next(18521289), SeqCheck::kInOrder);
  EXPECT_EQ(t.last(), 18521289);
  EXPECT_EQ(t.check_next(18521289), SeqCheck::kGap);
  EXPECT_EQ(t.check_next(18521288), SeqCheck::kGap);
  EXPECT_EQ(t.check_next(18521291), SeqCheck::kGap);
  EXPECT_EQ(t.last(), 18521289);
  EXPECT_EQ(t.check_next(18521290), SeqCheck::kInOrder);
}

// OKX, its documentation's example: snapshot (-1,10), (10,15), keep-alive (15,15),
// reset (15,3), (3,5).
TEST(SequenceTracker, OkxLinkedIdsIncludingKeepAliveAndReset) {
  SequenceTracker t;
  t.reset(10);
  EXPECT_EQ(t.check_linked(10, 15), SeqCheck::kInOrder);
  EXPECT_EQ(t.check_linked(15, 15), SeqCheck::kInOrder);
  EXPECT_EQ(t.check_linked(15, 3), SeqCheck::kInOrder);
  EXPECT_EQ(t.last(), 3);
  EXPECT_EQ(t.check_linked(3, 5), SeqCheck::kInOrder);
  EXPECT_EQ(t.check_linked(3, 5), SeqCheck::kStale);  // replayed message
  EXPECT_EQ(t.check_linked(7, 9), SeqCheck::kGap);    // 5 -> 7 missing
  EXPECT_EQ(t.last(), 5);
}

TEST(SequenceTracker, ClearForgets) {
  SequenceTracker t;
  t.reset(5);
  t.clear();
  EXPECT_FALSE(t.has_snapshot());
  EXPECT_EQ(t.check_range(6, 6), SeqCheck::kGap);
  EXPECT_EQ(to_string(SeqCheck::kGap), "gap");
}

}  // namespace
}  // namespace obr::book
