#include "book/book_side.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <vector>

namespace obr::book {
namespace {

TEST(BookSide, BestIsAtTheBackForBothSides) {
  BidSide bids;
  AskSide asks;
  for (std::int64_t p : {100, 103, 101, 102}) {
    bids.set(p, 1);
    asks.set(p, 1);
  }
  EXPECT_EQ(bids.best().price, 103);
  EXPECT_EQ(asks.best().price, 100);
  EXPECT_EQ(bids.worst_to_best().back().price, 103);
  EXPECT_EQ(asks.worst_to_best().front().price, 103);
  std::vector<std::int64_t> seen;
  for (const Level& l : bids.best_first()) seen.push_back(l.price);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{103, 102, 101, 100}));
  seen.clear();
  for (const Level& l : asks.best_first()) seen.push_back(l.price);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{100, 101, 102, 103}));
}

TEST(BookSide, SetReportsChangeAndDepthIndex) {
  BidSide s;
  EXPECT_EQ(s.set(100, 5).change, LevelChange::kInserted);
  EXPECT_EQ(s.set(101, 5).depth_index, 0u);  // new best
  const ApplyResult r = s.set(99, 7);
  EXPECT_EQ(r.change, LevelChange::kInserted);
  EXPECT_EQ(r.depth_index, 2u);
  const ApplyResult m = s.set(100, 9);
  EXPECT_EQ(m.change, LevelChange::kModified);
  EXPECT_EQ(m.depth_index, 1u);
  EXPECT_EQ(s.find(100), 9);
  const ApplyResult d = s.set(101, 0);
  EXPECT_EQ(d.change, LevelChange::kDeleted);
  EXPECT_EQ(d.depth_index, 0u);
  EXPECT_EQ(s.set(555, 0).change, LevelChange::kNone);
  EXPECT_EQ(s.erase(99).change, LevelChange::kDeleted);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.best(), (Level{100, 9}));
}

TEST(BookSide, TruncateDropsTheWorst) {
  AskSide s;
  for (std::int64_t p = 1; p <= 30; ++p) s.set(p, p);
  EXPECT_EQ(s.truncate(25), 5u);
  EXPECT_EQ(s.size(), 25u);
  EXPECT_EQ(s.best().price, 1);
  EXPECT_EQ(s.at(24).price, 25);
  EXPECT_EQ(s.truncate(25), 0u);
}

TEST(BookSide, AssignSortsDedupsLastWinsAndDropsZeros) {
  BidSide s;
  const Level best_first[] = {{105, 1}, {104, 2}, {104, 3}, {103, 0}, {102, 4}};
  s.assign(best_first);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.at(0), (Level{105, 1}));
  EXPECT_EQ(s.at(1), (Level{104, 3}));
  EXPECT_EQ(s.at(2), (Level{102, 4}));

  const Level shuffled[] = {{102, 4}, {105, 1}, {104, 2}, {103, 5}, {104, 7}};
  s.assign(shuffled);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.at(1), (Level{104, 7}));
  EXPECT_EQ(s.at(2), (Level{103, 5}));

  const Level worst_first[] = {{101, 1}, {102, 2}, {102, 9}, {103, 3}};
  s.assign(worst_first);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.at(1), (Level{102, 9}));
}

TEST(BookSide, NoAllocationOnceReserved) {
  AskSide s;
  s.reserve(64);
  const Level* data_before = s.worst_to_best().data();
  for (std::int64_t p = 0; p < 64; ++p) s.set(1000 - p, 1);
  for (std::int64_t p = 0; p < 64; ++p) s.set(1000 - p, 0);
  EXPECT_EQ(s.worst_to_best().data(), data_before);
  EXPECT_EQ(s.capacity(), 64u);
}

// A trivially correct reference: a std::map keyed so that begin() is the best price.
template <Side S>
using Reference =
    std::map<std::int64_t, std::int64_t, std::conditional_t<S == Side::kBid, std::greater<>, std::less<>>>;

template <Side S, SearchPolicy P>
void run_differential(std::size_t depth, std::size_t steps, std::uint64_t seed) {
  BookSide<S, P> side;
  Reference<S> ref;
  std::mt19937_64 rng(seed);
  const std::int64_t mid = 1'000'000;
  const std::int64_t sign = S == Side::kBid ? -1 : 1;  // direction away from the top
  // Fill to `depth` levels with gaps between prices so inserts land inside the book.
  for (std::size_t i = 0; i < depth; ++i) {
    const std::int64_t price = mid + sign * static_cast<std::int64_t>(3 * i);
    side.set(price, 1 + static_cast<std::int64_t>(rng() % 1000));
    ref[price] = side.find(price);
  }
  const std::int64_t span = static_cast<std::int64_t>(3 * depth + 10);
  for (std::size_t step = 0; step < steps; ++step) {
    // Top-heavy: 80% within ~10 levels of the top, the rest anywhere (and a bit beyond).
    const std::int64_t offset = (rng() % 10 < 8) ? static_cast<std::int64_t>(rng() % 30)
                                                 : static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span));
    const std::int64_t price = mid + sign * offset - (rng() % 4 == 0 ? sign * 5 : 0);
    const std::uint64_t action = rng() % 10;
    std::int64_t qty;
    if (action < 4) {
      qty = 0;  // delete (maybe absent)
    } else {
      qty = 1 + static_cast<std::int64_t>(rng() % 100000);
    }
    const bool existed = ref.count(price) != 0;
    // The depth index: how many levels are better than the price (before the update).
    const auto better_count = static_cast<std::uint32_t>(std::distance(ref.begin(), ref.lower_bound(price)));
    const ApplyResult r = side.set(price, qty);
    ASSERT_EQ(r.depth_index, better_count) << "step " << step;
    if (qty == 0) {
      ref.erase(price);
      ASSERT_EQ(r.change, existed ? LevelChange::kDeleted : LevelChange::kNone);
    } else {
      ref[price] = qty;
      ASSERT_EQ(r.change, existed ? LevelChange::kModified : LevelChange::kInserted);
    }
    if (rng() % 50 == 0) {
      const std::size_t keep = depth / 2 + rng() % (depth + 1);
      side.truncate(keep);
      while (ref.size() > keep) ref.erase(std::prev(ref.end()));
    }
    // Agree after every step: size, best and the touched price always; every level after
    // every step up to depth 1 000, every 64 steps at 10 000 (a full walk is 10k levels).
    ASSERT_EQ(side.size(), ref.size()) << "step " << step;
    if (!ref.empty()) {
      ASSERT_EQ(side.best().price, ref.begin()->first) << "step " << step;
      ASSERT_EQ(side.best().qty, ref.begin()->second) << "step " << step;
    }
    ASSERT_EQ(side.find(price), ref.count(price) != 0 ? ref.at(price) : 0) << "step " << step;
    if (step % 64 == 0 || depth <= 1000) {
      std::size_t i = 0;
      for (const auto& [p, q] : ref) {
        ASSERT_EQ(side.at(i).price, p) << "step " << step << " level " << i;
        ASSERT_EQ(side.at(i).qty, q) << "step " << step << " level " << i;
        ++i;
      }
    }
  }
}

class Differential : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Differential, BidsHybridAgreeWithStdMap) {
  run_differential<Side::kBid, SearchPolicy::kHybrid>(GetParam(), 100000, 1);
}
TEST_P(Differential, AsksHybridAgreeWithStdMap) {
  run_differential<Side::kAsk, SearchPolicy::kHybrid>(GetParam(), 100000, 2);
}
TEST_P(Differential, BidsBinaryAgreeWithStdMap) {
  run_differential<Side::kBid, SearchPolicy::kBinary>(GetParam(), 30000, 3);
}
TEST_P(Differential, AsksLinearAgreeWithStdMap) {
  run_differential<Side::kAsk, SearchPolicy::kLinear>(GetParam(), 30000, 4);
}

INSTANTIATE_TEST_SUITE_P(Depths, Differential, ::testing::Values(10, 1000, 10000));

// Every kind of update at every depth index of sides of 0 to 40 levels: the edges of the
// branch-free windows (the top kWindow levels, the next kWindow, below), a side that is
// full (it must grow) and one with room, against std::map.
template <Side S>
void every_place(bool with_room) {
  constexpr std::int64_t kTop = 1'000'000;
  const std::int64_t away = S == Side::kBid ? -1 : 1;  // direction away from the top
  for (std::size_t n = 0; n <= 40; ++n) {
    for (std::size_t at = 0; at <= n; ++at) {
      for (int kind = 0; kind < 5; ++kind) {
        BookSide<S> side;
        if (with_room) side.reserve(64);
        Reference<S> ref;
        for (std::size_t i = 0; i < n; ++i) {  // levels 2 apart: a free price between any two
          const std::int64_t price = kTop + away * 2 * static_cast<std::int64_t>(i);
          side.set(price, 10 + static_cast<std::int64_t>(i));
          ref[price] = 10 + static_cast<std::int64_t>(i);
        }
        // 0 modify, 1 delete the level at `at`; 2 insert just above it, 3 delete an absent
        // price there, 4 insert just below it (below the worst level when at == n).
        std::int64_t price = kTop + away * 2 * static_cast<std::int64_t>(at) - (kind == 2 || kind == 3 ? away : 0);
        if (kind == 4) price = kTop + away * (2 * static_cast<std::int64_t>(at) + 1);
        if (at == n && kind < 2) continue;  // no level there
        const std::int64_t qty = (kind == 1 || kind == 3) ? 0 : 777;
        const auto better_count = static_cast<std::uint32_t>(std::distance(ref.begin(), ref.lower_bound(price)));
        const bool existed = ref.count(price) != 0;
        const ApplyResult r = side.set(price, qty);
        if (qty == 0) {
          ref.erase(price);
        } else {
          ref[price] = qty;
        }
        const LevelChange want = qty == 0 ? (existed ? LevelChange::kDeleted : LevelChange::kNone)
                                          : (existed ? LevelChange::kModified : LevelChange::kInserted);
        ASSERT_EQ(r.change, want) << "n " << n << " at " << at << " kind " << kind;
        ASSERT_EQ(r.depth_index, better_count) << "n " << n << " at " << at << " kind " << kind;
        ASSERT_EQ(side.size(), ref.size());
        std::size_t i = 0;
        for (const auto& [p, q] : ref) {
          ASSERT_EQ(side.at(i), (Level{p, q})) << "n " << n << " at " << at << " kind " << kind << " level " << i;
          ++i;
        }
      }
    }
  }
}

// Prices at the ends of int64, the sentinels' own prices (INT64_MIN below the bids,
// INT64_MAX above the asks): an update there on a side of any size is an ordinary level.
template <Side S>
void extreme_prices() {
  for (std::int64_t extreme : {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    for (std::size_t n = 0; n <= 40; ++n) {
      BookSide<S> side;
      side.reserve(64);
      Reference<S> ref;
      for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t price = 1'000'000 + static_cast<std::int64_t>(i);
        side.set(price, 1);
        ref[price] = 1;
      }
      const auto depth = [&] {
        return static_cast<std::uint32_t>(std::distance(ref.begin(), ref.lower_bound(extreme)));
      };
      const std::uint32_t before = depth();
      EXPECT_EQ(side.set(extreme, 0).change, LevelChange::kNone) << n << " " << extreme;  // absent
      const ApplyResult inserted = side.set(extreme, 5);
      ref[extreme] = 5;
      EXPECT_EQ(inserted.change, LevelChange::kInserted) << n << " " << extreme;
      EXPECT_EQ(inserted.depth_index, before) << n << " " << extreme;
      EXPECT_EQ(side.set(extreme, 6).change, LevelChange::kModified) << n << " " << extreme;
      ref[extreme] = 6;
      ASSERT_EQ(side.size(), ref.size());
      std::size_t i = 0;
      for (const auto& [p, q] : ref) EXPECT_EQ(side.at(i++), (Level{p, q})) << n << " " << extreme;
      const ApplyResult deleted = side.set(extreme, 0);
      EXPECT_EQ(deleted.change, LevelChange::kDeleted) << n << " " << extreme;
      EXPECT_EQ(deleted.depth_index, before) << n << " " << extreme;
      EXPECT_EQ(side.size(), n);
    }
  }
}

TEST(BookSide, PricesAtTheEndsOfInt64AreOrdinaryLevels) {
  extreme_prices<Side::kBid>();
  extreme_prices<Side::kAsk>();
}

TEST(BookSide, EveryUpdateAtEveryPlaceOfSmallSides) {
  every_place<Side::kBid>(true);
  every_place<Side::kAsk>(true);
  every_place<Side::kBid>(false);
  every_place<Side::kAsk>(false);
}

}  // namespace
}  // namespace obr::book
