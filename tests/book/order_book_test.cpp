#include "book/order_book.h"

#include <gtest/gtest.h>

namespace obr::book {
namespace {

OrderBook make(std::size_t depth) {
  return OrderBook(BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = depth});
}

TEST(OrderBook, SnapshotReplacesNeverMerges) {
  OrderBook b(BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 0});
  const Level bids1[] = {{1000, 1}, {999, 2}};
  const Level asks1[] = {{1001, 1}, {1002, 2}};
  b.replace(bids1, asks1);
  const Level bids2[] = {{990, 5}};
  const Level asks2[] = {{1010, 6}};
  b.replace(bids2, asks2);
  ASSERT_EQ(b.bids().size(), 1u);
  ASSERT_EQ(b.asks().size(), 1u);
  EXPECT_EQ(b.bids().best(), (Level{990, 5}));
  EXPECT_EQ(b.asks().best(), (Level{1010, 6}));
}

TEST(OrderBook, TruncatesToDepthLimitOnlyWhenAsked) {
  OrderBook b(BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 3});
  for (std::int64_t p = 0; p < 5; ++p) b.apply(Side::kBid, 100 - p, 1);
  EXPECT_EQ(b.bids().size(), 5u);  // apply never truncates mid-message
  EXPECT_EQ(b.truncate(), 2u);
  EXPECT_EQ(b.bids().size(), 3u);
  EXPECT_EQ(b.bids().at(2).price, 98);
  EXPECT_EQ(b.counters().truncated_levels, 2u);
}

TEST(OrderBook, TopVersionMovesOnlyWhenTheTopTenMayChange) {
  OrderBook b = make(0);
  for (std::int64_t p = 0; p < 20; ++p) b.apply(Side::kAsk, 100 + p, 1);
  const std::uint64_t v = b.top_version();
  b.apply(Side::kAsk, 115, 7);   // index 15: outside the top
  b.apply(Side::kAsk, 200, 1);   // insert at the bottom
  b.apply(Side::kAsk, 119, 0);   // delete at index 19
  b.apply(Side::kAsk, 5000, 0);  // delete of an absent level
  EXPECT_EQ(b.top_version(), v);
  b.apply(Side::kAsk, 109, 3);  // index 9: inside
  EXPECT_EQ(b.top_version(), v + 1);
  b.apply(Side::kBid, 99, 1);
  EXPECT_EQ(b.top_version(), v + 2);
}

TEST(OrderBook, CrossedCheck) {
  OrderBook b = make(0);
  EXPECT_FALSE(b.is_crossed());
  b.apply(Side::kBid, 100, 1);
  EXPECT_FALSE(b.is_crossed());
  b.apply(Side::kAsk, 101, 1);
  EXPECT_FALSE(b.is_crossed());
  b.apply(Side::kBid, 101, 1);
  EXPECT_TRUE(b.is_crossed());  // locked counts as crossed: best bid >= best ask
  b.apply(Side::kBid, 101, 0);
  b.apply(Side::kBid, 102, 1);
  EXPECT_TRUE(b.is_crossed());
}

TEST(OrderBook, StateAndScales) {
  OrderBook b = make(10);
  EXPECT_EQ(b.state(), BookState::kSubscribing);
  EXPECT_FALSE(b.is_valid());
  b.set_state(BookState::kLive);
  EXPECT_TRUE(b.is_valid());
  EXPECT_EQ(to_string(BookState::kAwaitingSnapshot), "awaiting_snapshot");
  EXPECT_FALSE(b.set_scales(-1, 4));  // scales outside [0, kMaxScale] are refused
  EXPECT_FALSE(b.set_scales(2, 19));
  EXPECT_EQ(b.price_scale(), 1);  // make(): unchanged by the refusals
  EXPECT_EQ(b.qty_scale(), 8);
  EXPECT_TRUE(b.set_scales(18, 0));
  EXPECT_EQ(b.price_scale(), 18);
  EXPECT_TRUE(b.set_scales(2, 4));
  b.apply(Side::kBid, 1, 1);
  EXPECT_FALSE(b.set_scales(3, 3));
  EXPECT_EQ(b.price_scale(), 2);
  EXPECT_EQ(b.qty_scale(), 4);
}

TEST(OrderBook, IncrementalSnapshotMatchesReplace) {
  OrderBook a = make(2);
  OrderBook b = make(2);
  const Level bids[] = {{100, 1}, {99, 2}, {98, 3}};
  const Level asks[] = {{101, 1}, {102, 0}, {103, 3}};
  a.replace(bids, asks);
  b.snapshot_begin();
  for (const Level& l : bids) b.snapshot_add(Side::kBid, l);
  for (const Level& l : asks) b.snapshot_add(Side::kAsk, l);
  b.snapshot_end();
  ASSERT_EQ(a.bids().size(), 2u);
  ASSERT_EQ(a.asks().size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a.bids().at(i), b.bids().at(i));
    EXPECT_EQ(a.asks().at(i), b.asks().at(i));
  }
  EXPECT_EQ(a.asks().at(1), (Level{103, 3}));
}

}  // namespace
}  // namespace obr::book
