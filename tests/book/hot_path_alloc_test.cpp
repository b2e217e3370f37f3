// The book's update path allocates nothing once warm: apply, truncate, checksum,
// crossed check, sequence tracking. Proven with a counting global operator new.
#include <gtest/gtest.h>

#include <random>

#include "book/decimal.h"
#include "book/kraken_checksum.h"
#include "book/order_book.h"
#include "book/sequence_tracker.h"
#include "tests/common/alloc_counter.h"

namespace obr::book {
namespace {

TEST(HotPathAllocations, CounterSeesAllocations) {
  // Guards the guard: if the counter were not linked in, the zero below would be vacuous.
  obr::testing::AllocationScope scope;
  void* volatile p = ::operator new(16);  // a direct call cannot be elided
  ::operator delete(p);
  EXPECT_EQ(scope.allocations(), 1u);
}

TEST(HotPathAllocations, SteadyStateUpdatePathAllocatesNothing) {
  OrderBook book(BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 25});
  KrakenChecksumCache cache;
  SequenceTracker seq;
  std::mt19937_64 rng(7);
  const std::int64_t mid = 630000;
  auto one_message = [&](std::uint64_t n) {
    for (int e = 0; e < 3; ++e) {
      const bool bid = rng() & 1;
      const std::int64_t off = static_cast<std::int64_t>(rng() % 40);
      const std::int64_t qty = (rng() % 4 == 0) ? 0 : static_cast<std::int64_t>(1 + rng() % 100000000);
      book.apply(bid ? Side::kBid : Side::kAsk, bid ? mid - off : mid + 1 + off, qty);
    }
    book.truncate();
    (void)cache.get(book);
    (void)book.is_crossed();
    (void)seq.check_range(static_cast<std::int64_t>(n), static_cast<std::int64_t>(n));
    char buf[kMaxDecimalChars];
    (void)format_decimal(book.bids().empty() ? 0 : book.bids().best().price, 1, buf);
    (void)parse_decimal("63004.9", 1);
  };
  seq.reset(0);
  for (std::uint64_t n = 1; n <= 1000; ++n) one_message(n);  // warm-up
  obr::testing::AllocationScope scope;
  for (std::uint64_t n = 1001; n <= 200000; ++n) one_message(n);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(seq.last(), 200000);
  EXPECT_LE(book.bids().size(), 25u);
}

}  // namespace
}  // namespace obr::book
