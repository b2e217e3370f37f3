// tests/book/okx_checksum_test.cpp — OKX's order-book CRC32 (book/okx_checksum.h) on OKX's
// two documented strings (docs/venues/okx.md "Checksum"), the text of numbers without
// trailing zeros, and books longer than 25 levels; OkxChecksumCache against okx_checksum
// after every message of the OKX recording (tests/data/okx) and every step of random books.
#include "book/okx_checksum.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/common/alloc_counter.h"

namespace obr::book {
namespace {

OrderBook make_book(int price_scale, int qty_scale) {
  return OrderBook(
      BookConfig{.price_scale = price_scale, .qty_scale = qty_scale, .depth_limit = 0, .reserve_levels = 0});
}

std::string input(const OrderBook& b) {
  char buf[kOkxChecksumInputMax];
  return std::string(buf, okx_checksum_input(b, buf));
}

std::string plain(std::int64_t v, int scale) {
  char buf[64 + kDigitTextSlack];
  return std::string(buf, static_cast<std::size_t>(append_plain_decimal(buf, v, scale) - buf));
}

// OKX's first example: both sides of two levels, interleaved.
TEST(OkxChecksum, DocumentedStringWithTwoLevelsEachSide) {
  OrderBook b = make_book(1, 0);
  b.apply(Side::kBid, 33661, 7);
  b.apply(Side::kBid, 33660, 6);
  b.apply(Side::kAsk, 33668, 9);
  b.apply(Side::kAsk, 33680, 8);
  EXPECT_EQ(input(b), "3366.1:7:3366.8:9:3366:6:3368:8");
  EXPECT_EQ(okx_checksum(b), -1881014294);
}

// OKX's second example: the shorter side ends and the other's levels follow alone.
TEST(OkxChecksum, DocumentedStringWithAShorterSide) {
  OrderBook b = make_book(1, 0);
  b.apply(Side::kBid, 33661, 7);
  b.apply(Side::kAsk, 33668, 9);
  b.apply(Side::kAsk, 33680, 8);
  b.apply(Side::kAsk, 33720, 8);
  EXPECT_EQ(input(b), "3366.1:7:3366.8:9:3368:8:3372:8");
  EXPECT_EQ(okx_checksum(b), 831078360);
}

TEST(OkxChecksum, NumbersAreWrittenWithoutTrailingZeros) {
  EXPECT_EQ(plain(651404, 1), "65140.4");
  EXPECT_EQ(plain(6514040, 2), "65140.4");
  EXPECT_EQ(plain(6514000, 2), "65140");
  EXPECT_EQ(plain(0, 8), "0");
  EXPECT_EQ(plain(1, 8), "0.00000001");
  EXPECT_EQ(plain(10000, 8), "0.0001");
  EXPECT_EQ(plain(415, 0), "415");
  EXPECT_EQ(plain(123456789012345678, 8), "1234567890.12345678");
  EXPECT_EQ(plain(-25, 1), "-2.5");
}

// Only the top 25 of each side count, best first.
TEST(OkxChecksum, OnlyTheTopTwentyFiveOfEachSide) {
  OrderBook b = make_book(0, 0);
  std::string want;
  for (int i = 0; i < 30; ++i) {
    b.apply(Side::kBid, 1000 - i, 1 + i);
    b.apply(Side::kAsk, 1001 + i, 2 + i);
  }
  for (int i = 0; i < 25; ++i) {
    if (i > 0) want += ':';
    want += std::to_string(1000 - i) + ":" + std::to_string(1 + i) + ":" + std::to_string(1001 + i) + ":" +
            std::to_string(2 + i);
  }
  EXPECT_EQ(input(b), want);
  EXPECT_EQ(input(make_book(2, 2)), "");
  EXPECT_EQ(okx_checksum(make_book(2, 2)), 0);
}

// ---- OkxChecksumCache ---------------------------------------------------------------------

// A cache that reused text it should not would miss each of these: a size changed at a
// price it keeps, a level changed below the top 10 (where OrderBook::top_version does not
// move), the same integers under other scales, another book, and a level that leaves the
// top 25 and comes back with another size.
TEST(OkxChecksumCache, NoStaleTextIsReused) {
  OrderBook b = make_book(1, 4);
  OkxChecksumCache cache;
  for (int i = 0; i < 30; ++i) {
    b.apply(Side::kBid, 1000 - i, 10000 + i);
    b.apply(Side::kAsk, 1001 + i, 20000 + i);
  }
  EXPECT_EQ(cache.get(b), okx_checksum(b));
  const std::int32_t before = cache.get(b);
  b.apply(Side::kBid, 1000, 10001);  // the best bid's size alone
  EXPECT_EQ(cache.get(b), okx_checksum(b));
  EXPECT_NE(cache.get(b), before);
  const std::uint64_t top = b.top_version();
  b.apply(Side::kAsk, 1001 + 20, 5);  // depth 20: below OrderBook's top 10
  EXPECT_EQ(b.top_version(), top);
  EXPECT_EQ(cache.get(b), okx_checksum(b));
  b.apply(Side::kAsk, 1001 + 24, 0);  // the 25th ask goes: the 26th comes in
  EXPECT_EQ(cache.get(b), okx_checksum(b));
  b.apply(Side::kAsk, 1001 + 24, 7);  // back, with another size
  EXPECT_EQ(cache.get(b), okx_checksum(b));
  EXPECT_EQ(input(b).find("1003.5:0.0007"), std::string::npos);  // scale 1 and 4: "102.5:0.0007"
  EXPECT_NE(input(b).find("102.5:0.0007"), std::string::npos);

  // The same integers at other scales: other text.
  OrderBook c = make_book(2, 0);
  for (std::size_t i = 0; i < b.bids().size(); ++i) c.apply(Side::kBid, b.bids().at(i).price, b.bids().at(i).qty);
  for (std::size_t i = 0; i < b.asks().size(); ++i) c.apply(Side::kAsk, b.asks().at(i).price, b.asks().at(i).qty);
  EXPECT_NE(okx_checksum(c), okx_checksum(b));
  EXPECT_EQ(cache.get(c), okx_checksum(c));
  EXPECT_EQ(cache.get(b), okx_checksum(b));
  b.clear();  // one book, emptied, its scales changed, the same integers back
  ASSERT_TRUE(b.set_scales(2, 0));
  for (std::size_t i = 0; i < c.bids().size(); ++i) b.apply(Side::kBid, c.bids().at(i).price, c.bids().at(i).qty);
  for (std::size_t i = 0; i < c.asks().size(); ++i) b.apply(Side::kAsk, c.asks().at(i).price, c.asks().at(i).qty);
  EXPECT_EQ(cache.get(b), okx_checksum(c));
  ASSERT_TRUE(b.rescale(3, 1));  // the same levels, finer units: the same text
  EXPECT_EQ(cache.get(b), okx_checksum(c));
  cache.invalidate();
  EXPECT_EQ(cache.get(b), okx_checksum(b));
  b.clear();
  EXPECT_EQ(cache.get(b), 0);
}

// decimal_at: OKX's decimal text ("30236.1", "0.18050747", "452") in units of 10^-scale.
std::int64_t decimal_at(std::string_view text, int scale) {
  std::int64_t v = 0;
  int decimals = -1;
  for (const char ch : text) {
    if (ch == '.') {
      decimals = 0;
      continue;
    }
    v = v * 10 + (ch - '0');
    if (decimals >= 0) ++decimals;
  }
  for (int d = decimals < 0 ? 0 : decimals; d < scale; ++d) v *= 10;
  return v;
}

// levels_of: the [price, size, ...] pairs of the array after `"key":[` in `line`.
std::vector<Level> levels_of(std::string_view line, std::string_view key, int scale) {
  std::vector<Level> out;
  std::string pattern = "\"";
  pattern.append(key).append("\":[");
  std::size_t at = line.find(pattern);
  if (at == std::string_view::npos) return out;
  at += key.size() + 4;
  while (line[at] == '[') {
    const std::size_t p0 = at + 2, p1 = line.find('"', p0);
    const std::size_t q0 = p1 + 3, q1 = line.find('"', q0);
    out.push_back(Level{decimal_at(line.substr(p0, p1 - p0), scale), decimal_at(line.substr(q0, q1 - q0), scale)});
    at = line.find(']', q1) + 1;
    if (line[at] == ',') ++at;
  }
  return out;
}

// Every `books` message of the OKX recording (3 instruments, 3 snapshots of 400 levels a
// side, 287 updates) applied to its book, at scale 8 for every number (text without
// trailing zeros is the same at any scale that holds the value): after each, the cache's
// value is okx_checksum's and the message's own.
TEST(OkxChecksumCache, EqualsTheReferenceAfterEveryMessageOfTheOkxRecording) {
  const char* dir = std::getenv("OBR_TEST_DATA");
  ASSERT_NE(dir, nullptr);
  std::ifstream in(std::string(dir) + "/okx/OKX.ws.1.0");
  ASSERT_TRUE(in.good());
  std::map<std::string, std::unique_ptr<OrderBook>> books;
  std::map<std::string, OkxChecksumCache> caches;
  std::string line;
  int snapshots = 0, updates = 0;
  while (std::getline(in, line)) {
    const std::size_t ch = line.find("\"channel\":\"books\",\"instId\":\"");
    if (ch == std::string::npos || line.find("\"action\":") == std::string::npos) continue;
    const std::size_t i0 = ch + 29;
    const std::string inst = line.substr(i0, line.find('"', i0) - i0);
    const bool snapshot = line.find("\"action\":\"snapshot\"") != std::string::npos;
    std::unique_ptr<OrderBook>& b = books[inst];
    if (b == nullptr) b = std::make_unique<OrderBook>(BookConfig{.price_scale = 8, .qty_scale = 8});
    const std::vector<Level> bids = levels_of(line, "bids", 8), asks = levels_of(line, "asks", 8);
    if (snapshot) {
      b->replace(bids, asks);
      ++snapshots;
    } else {
      for (const Level& l : bids) b->apply(Side::kBid, l.price, l.qty);
      for (const Level& l : asks) b->apply(Side::kAsk, l.price, l.qty);
      ++updates;
    }
    const std::size_t c = line.find("\"checksum\":");
    ASSERT_NE(c, std::string::npos);
    const auto wire = static_cast<std::int32_t>(std::strtoll(line.c_str() + c + 11, nullptr, 10));
    const std::int32_t reference = okx_checksum(*b);
    ASSERT_EQ(reference, wire) << inst << " message " << snapshots + updates;
    ASSERT_EQ(caches[inst].get(*b), reference) << inst << " message " << snapshots + updates;
  }
  EXPECT_EQ(snapshots, 3);
  EXPECT_EQ(updates, 287);
}

// Random books: inserts, deletes and size changes at random depths (mostly within the top
// 30), sides shorter than 25 or empty, whole books replaced (sometimes by the same
// prices with other sizes), two books and several scales through one cache. The cache's
// value is okx_checksum's after every step, and no step allocates.
TEST(OkxChecksumCache, EqualsTheReferenceAfterEveryStepOfRandomBooks) {
  std::mt19937_64 rng(20261207);
  auto pick = [&rng](std::uint64_t n) { return static_cast<std::int64_t>(rng() % n); };
  // Sizes with and without trailing zeros, tiny and huge.
  auto size = [&]() -> std::int64_t {
    switch (pick(5)) {
      case 0:
        return 1 + pick(9);
      case 1:
        return (1 + pick(999)) * 100000;
      case 2:
        return 1 + pick(4'000'000'000);
      case 3:
        return 1 + pick(std::int64_t{1} << 62);
      default:
        return 1 + pick(100000);
    }
  };
  std::uint64_t steps = 0, allocations = 0;
  for (int round = 0; round < 40; ++round) {
    const int ps = static_cast<int>(pick(9)), qs = static_cast<int>(pick(19));
    OrderBook a = make_book(ps, qs), b = make_book(qs % 9, ps);
    OkxChecksumCache cache;
    const std::int64_t mid = 1'000'000 + pick(1000);
    auto step = [&](OrderBook& book) {
      const std::int64_t d = pick(40) < 30 ? pick(30) : pick(200);  // a distance from mid, in ticks
      const Side side = pick(2) == 0 ? Side::kBid : Side::kAsk;
      const std::int64_t price = side == Side::kBid ? mid - 1 - d : mid + d;
      const std::int64_t r = pick(10);
      if (r < 1 && pick(4) == 0) {  // a whole book replaced
        std::vector<Level> bids, asks;
        const std::int64_t nb = pick(4) == 0 ? pick(25) : 10 + pick(60), na = pick(4) == 0 ? pick(25) : 10 + pick(60);
        const bool same = pick(2) == 0;  // the same prices as now, other sizes
        for (std::int64_t i = 0; i < nb; ++i) bids.push_back(Level{mid - 1 - i * (same ? 1 : 1 + pick(3)), size()});
        for (std::int64_t i = 0; i < na; ++i) asks.push_back(Level{mid + i * (same ? 1 : 1 + pick(3)), size()});
        book.replace(bids, asks);
      } else if (r < 4) {  // a delete (of a level or of none)
        book.apply(side, price, 0);
      } else if (r < 6) {  // a size changed at an existing depth
        const auto& levels = side == Side::kBid ? static_cast<std::size_t>(book.bids().size())
                                                : static_cast<std::size_t>(book.asks().size());
        if (levels > 0) {
          const auto at = static_cast<std::size_t>(pick(levels < 30 ? levels : 30));
          const Level l = side == Side::kBid ? book.bids().at(at) : book.asks().at(at);
          book.apply(side, l.price, pick(3) == 0 ? l.qty : size());  // sometimes the same size
        }
      } else {  // an insert or a change
        book.apply(side, price, size());
      }
    };
    for (int i = 0; i < 3000; ++i) {
      OrderBook& book = pick(50) == 0 ? b : a;      // now and then the other book
      const int k = 1 + static_cast<int>(pick(3));  // 1 to 3 changes between checks
      for (int j = 0; j < k; ++j) step(book);
      const std::int32_t want = okx_checksum(book);
      std::int32_t got = 0;
      {
        obr::testing::AllocationScope scope;
        got = cache.get(book);
        allocations += scope.allocations();
      }
      ASSERT_EQ(got, want) << "round " << round << " step " << i << ": " << input(book);
      ++steps;
    }
  }
  EXPECT_EQ(steps, 120000u);
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace obr::book
