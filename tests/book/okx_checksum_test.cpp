// tests/book/okx_checksum_test.cpp — OKX's order-book CRC32 (book/okx_checksum.h) on OKX's
// two documented strings (docs/venues/okx.md "Checksum"), the text of numbers without
// trailing zeros, and books longer than 25 levels.
#include "book/okx_checksum.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace obr::book
