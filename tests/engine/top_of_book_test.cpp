// tests/engine/top_of_book_test.cpp — the seqlock top of book: a reader on another thread
// never sees a torn value (run under TSan in CI's sanitizer job as well).
#include "engine/top_of_book.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace {

using obr::engine::TopOfBook;
using obr::engine::TopOfBookCell;

// Every field of value v is derived from v, so a torn read shows as a mismatch.
TopOfBook make(std::uint64_t v) {
  TopOfBook t;
  for (std::size_t i = 0; i < TopOfBook::kLevels; ++i) {
    t.bids[i] = {static_cast<std::int64_t>(v * 10 - i), static_cast<std::int64_t>(v + i)};
    t.asks[i] = {static_cast<std::int64_t>(v * 10 + 1 + i), static_cast<std::int64_t>(v + 2 * i)};
  }
  t.bid_count = 5;
  t.ask_count = 5;
  t.updated_ns = static_cast<std::int64_t>(v * 7);
  t.version = v;
  return t;
}

bool consistent(const TopOfBook& t) {
  const TopOfBook expect = make(t.version);
  return t.bids == expect.bids && t.asks == expect.asks && t.updated_ns == expect.updated_ns;
}

TEST(TopOfBookCell, ReadsWhatWasPublished) {
  TopOfBookCell cell;
  EXPECT_EQ(cell.read().version, 0u);
  cell.publish(make(42));
  const TopOfBook t = cell.read();
  EXPECT_EQ(t.version, 42u);
  EXPECT_TRUE(consistent(t));
  EXPECT_EQ(t.bids[0].price, 420);
}

TEST(TopOfBookCell, ConcurrentReadersNeverSeeATornValue) {
  TopOfBookCell cell;
  cell.publish(make(1));
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> torn{0}, reads{0}, backwards{0};
  std::thread reader([&] {
    std::uint64_t last = 0;
    // do/while: at least one read even when the writer finishes before this thread runs.
    do {
      const TopOfBook t = cell.read();
      if (!consistent(t)) torn.fetch_add(1);
      if (t.version < last) backwards.fetch_add(1);
      last = t.version;
      reads.fetch_add(1, std::memory_order_relaxed);
    } while (!done.load(std::memory_order_relaxed));
  });
  // The writer starts once the reader is reading, so the two overlap on a loaded host too
  // (CI once saw the writer finish before the reader's first read: reads == 0).
  while (reads.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
  for (std::uint64_t v = 2; v < 200'000; ++v) cell.publish(make(v));
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(backwards.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(cell.read().version, 199'999u);
}

}  // namespace
