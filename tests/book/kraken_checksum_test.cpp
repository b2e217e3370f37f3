#include "book/kraken_checksum.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "book/decimal.h"
#include "tests/book/test_data.h"

namespace obr::book {
namespace {

// lexeme_after returns the number text following `key` at or after `from`.
std::string lexeme_after(const std::string& json, const std::string& key, std::size_t& from) {
  std::size_t i = json.find(key, from) + key.size();
  while (json[i] == ' ' || json[i] == ':') ++i;
  std::size_t j = i;
  while (j < json.size() && json[j] != ',' && json[j] != '}' && json[j] != ' ') ++j;
  from = j;
  return json.substr(i, j - i);
}

// Reads one side's {"price": X, "qty": Y} entries from the worked-example JSON by their
// exact lexemes (no JSON library: the book tests stay independent of the decoders).
std::vector<Level> read_side(const std::string& json, const std::string& side, int ps, int qs) {
  std::size_t pos = json.find("\"" + side + "\"");
  const std::size_t end = json.find(']', pos);
  std::vector<Level> out;
  while (true) {
    const std::size_t next = json.find("\"price\"", pos);
    if (next == std::string::npos || next > end) break;
    pos = next;
    const DecimalResult p = parse_decimal(lexeme_after(json, "\"price\"", pos), ps);
    const DecimalResult q = parse_decimal(lexeme_after(json, "\"qty\"", pos), qs);
    EXPECT_TRUE(p.ok() && q.ok());
    out.push_back(Level{p.value, q.value});
  }
  return out;
}

TEST(KrakenChecksum, OfficialWorkedExampleIs3310070434) {
  const std::string json =
      obr::testing::read_file(obr::testing::data_path("kraken-v2/v2_btcusd_worked_example_snapshot_3310070434.json"));
  OrderBook book(BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 10});
  const std::vector<Level> bids = read_side(json, "bids", 1, 8);
  const std::vector<Level> asks = read_side(json, "asks", 1, 8);
  ASSERT_EQ(bids.size(), 10u);
  ASSERT_EQ(asks.size(), 10u);
  book.replace(bids, asks);

  char buf[kKrakenChecksumInputMax];
  const std::size_t n = kraken_checksum_input(book, 1, 8, buf);
  std::string expected_input =
      obr::testing::read_file(obr::testing::data_path("kraken-v2/v2_btcusd_checksum_input_3310070434.txt"));
  while (!expected_input.empty() && (expected_input.back() == '\n' || expected_input.back() == '\r')) {
    expected_input.pop_back();
  }
  EXPECT_EQ(n, 281u);
  EXPECT_EQ(std::string(buf, n), expected_input);
  EXPECT_EQ(kraken_checksum(book), 3310070434u);
}

TEST(KrakenChecksum, FewerThanTenLevelsUseWhatExists) {
  OrderBook book(BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 10});
  book.apply(Side::kAsk, 452852, 100000);  // 45285.2 / 0.00100000
  char buf[kKrakenChecksumInputMax];
  EXPECT_EQ(std::string(buf, kraken_checksum_input(book, 1, 8, buf)), "452852100000");
  EXPECT_EQ(kraken_checksum(book), 2099347975u);  // zlib.crc32(b"452852100000")
  book.apply(Side::kBid, 452835, 10000000);       // 45283.5 / 0.10000000
  EXPECT_EQ(std::string(buf, kraken_checksum_input(book, 1, 8, buf)), "45285210000045283510000000");
  EXPECT_EQ(kraken_checksum(book), 2383917627u);  // zlib.crc32(b"45285210000045283510000000")
  OrderBook empty(BookConfig{.price_scale = 1, .qty_scale = 8});
  EXPECT_EQ(kraken_checksum(empty), 0u);  // crc32 of the empty string
}

TEST(KrakenChecksum, V1DocExampleFormatting) {
  // KDOC-v1cs: price "0.05000" with volume "0.00000304" formats as "5000304".
  OrderBook book(BookConfig{.price_scale = 5, .qty_scale = 8});
  book.apply(Side::kAsk, 5000, 304);
  char buf[kKrakenChecksumInputMax];
  EXPECT_EQ(std::string(buf, kraken_checksum_input(book, 5, 8, buf)), "5000304");
  EXPECT_EQ(kraken_checksum(book), 3935865742u);
}

TEST(KrakenChecksum, RescalesWhenTheBookIsFinerThanTheInstrument) {
  OrderBook fine(BookConfig{.price_scale = 8, .qty_scale = 10});
  fine.apply(Side::kAsk, 4528520000000, 10000000);  // 45285.2 / 0.00100000
  EXPECT_EQ(kraken_checksum(fine, 1, 8), 2099347975u);
  OrderBook coarse(BookConfig{.price_scale = 0, .qty_scale = 5});
  coarse.apply(Side::kAsk, 45285, 100);
  char buf[kKrakenChecksumInputMax];
  EXPECT_EQ(std::string(buf, kraken_checksum_input(coarse, 1, 8, buf)), "452850100000");
}

// A book coarser than the instrument gains a '0' per extra decimal. The text is written,
// not multiplied: INT64_MAX at 18 more decimals is about 9.2 * 10^36, far past 2^64
// (a multiply would wrap and hash other digits).
TEST(KrakenChecksum, CoarseBookAtAFinerPrecisionIsExactPast2To64) {
  OrderBook book(BookConfig{.price_scale = 0, .qty_scale = 0});
  book.apply(Side::kAsk, std::numeric_limits<std::int64_t>::max(), 3);
  book.apply(Side::kBid, 1, std::numeric_limits<std::int64_t>::max());
  char buf[kKrakenChecksumInputMax];
  const std::string text(buf, kraken_checksum_input(book, 18, 18, buf));
  const std::string zeros(18, '0');
  const std::string want = "9223372036854775807" + zeros + "3" + zeros + "1" + zeros + "9223372036854775807" + zeros;
  EXPECT_EQ(text, want);
  EXPECT_EQ(kraken_checksum(book, 18, 18),
            static_cast<std::uint32_t>(
                crc32(0L, reinterpret_cast<const Bytef*>(want.data()), static_cast<uInt>(want.size()))));
  // The 10 covered levels a side, every number 19 digits gaining 18 zeros, fill the
  // buffer's text part exactly.
  OrderBook full(BookConfig{.price_scale = 0, .qty_scale = 0});
  for (std::int64_t i = 0; i < 20; ++i) {
    full.apply(Side::kAsk, 1'000'000'000'000'000'000 + i, 1'000'000'000'000'000'000 + i);
    full.apply(Side::kBid, 9'000'000'000'000'000'000 - i, 1'000'000'000'000'000'000 + i);
  }
  auto heap = std::make_unique<char[]>(kKrakenChecksumInputMax);  // heap: ASan sees any overrun
  EXPECT_EQ(kraken_checksum_input(full, 18, 18, heap.get()), kKrakenChecksumInputMax - kDigitTextSlack);
  // A scale or precision out of [0, kMaxScale] gives no text rather than too much.
  EXPECT_EQ(kraken_checksum_input(full, 19, 18, buf), 0u);
  OrderBook negative(BookConfig{.price_scale = -1, .qty_scale = 0});
  negative.apply(Side::kAsk, 5, 1);
  EXPECT_EQ(kraken_checksum_input(negative, 18, 0, buf), 0u);
  // Zero is no digits at any precision (no zeros appended to nothing).
  OrderBook small(BookConfig{.price_scale = 2, .qty_scale = 0});
  small.apply(Side::kAsk, 0, 7);
  small.apply(Side::kAsk, 5, 1);
  EXPECT_EQ(std::string(buf, kraken_checksum_input(small, 4, 3, buf)), "70005001000");
}

// The formatter writes 8 digits per step in whole words: every digit count from 1 to 19
// and every boundary between steps must give exactly the number's decimal text, and the
// CRC must be zlib's over that text.
TEST(KrakenChecksum, DigitTextAtEveryLengthAndWordBoundary) {
  std::vector<std::int64_t> values = {1,
                                      9,
                                      10,
                                      99,
                                      100,
                                      12345678,
                                      99999999,
                                      100000000,
                                      100000001,
                                      999999999999999,
                                      9999999999999999,
                                      10000000000000000,
                                      10000000000000001,
                                      1000000000000000000,
                                      9223372036854775807};
  std::int64_t p = 1;
  for (int digits = 1; digits <= 19; ++digits) {
    values.push_back(p);  // 1, 10, 100, ... 10^18
    values.push_back(p + 7);
    if (digits < 19) {
      values.push_back(p * 10 - 1);  // 9, 99, ... (all nines, up to 18 digits)
      p *= 10;
    }
  }
  for (std::int64_t v : values) {
    OrderBook book(BookConfig{.price_scale = 0, .qty_scale = 0});
    book.apply(Side::kAsk, v, v);
    char buf[kKrakenChecksumInputMax];
    const std::string want = std::to_string(v) + std::to_string(v);
    ASSERT_EQ(std::string(buf, kraken_checksum_input(book, 0, 0, buf)), want) << v;
    EXPECT_EQ(kraken_checksum(book), static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(want.data()),
                                                                      static_cast<uInt>(want.size()))))
        << v;
    KrakenChecksumCache cache;
    EXPECT_EQ(cache.get(book), kraken_checksum(book)) << v;
  }
}

// The longest input at the book's own scales: 20 levels of 19-digit prices and quantities
// fill 760 bytes (CoarseBookAtAFinerPrecisionIsExactPast2To64 fills the rescaled 1 480), and the
// whole-word stores stay inside kKrakenChecksumInputMax (ASan checks the buffer).
TEST(KrakenChecksum, LongestInputFitsTheBuffer) {
  OrderBook book(BookConfig{.price_scale = 0, .qty_scale = 0});
  std::string want;
  for (std::int64_t i = 0; i < 10; ++i) {
    book.apply(Side::kAsk, 9000000000000000000 + i, 9000000000000000000 + i);
    book.apply(Side::kBid, 8000000000000000000 - i, 8000000000000000000 + i);
  }
  for (std::int64_t i = 0; i < 10; ++i)
    want += std::to_string(9000000000000000000 + i) + std::to_string(9000000000000000000 + i);
  for (std::int64_t i = 0; i < 10; ++i)
    want += std::to_string(8000000000000000000 - i) + std::to_string(8000000000000000000 + i);
  auto buf = std::make_unique<char[]>(kKrakenChecksumInputMax);  // heap: ASan sees any overrun
  const std::size_t n = kraken_checksum_input(book, 0, 0, buf.get());
  EXPECT_EQ(n, 760u);
  EXPECT_EQ(std::string(buf.get(), n), want);
  // The cache keeps each side's text in its own buffer (10 levels of 19-digit numbers plus
  // kDigitTextSlack): the longest side fits there too, formatted and then copied in runs. The cache
  // lives on the heap so that ASan sees an overrun past the object.
  auto cache = std::make_unique<KrakenChecksumCache>();
  EXPECT_EQ(cache->get(book), ::crc32(0L, reinterpret_cast<const Bytef*>(want.data()), static_cast<uInt>(want.size())));
  book.apply(Side::kAsk, 9000000000000000003, 9000000000000000999);  // a level of the run changes
  book.apply(Side::kBid, 8000000000000000000, 9223372036854775807);  // the best bid: INT64_MAX
  EXPECT_EQ(cache->get(book), kraken_checksum(book));
}

TEST(KrakenChecksum, OnlyTopTenCount) {
  OrderBook book(BookConfig{.price_scale = 1, .qty_scale = 8});
  for (std::int64_t i = 0; i < 10; ++i) {
    book.apply(Side::kAsk, 1000 + i, 1);
    book.apply(Side::kBid, 999 - i, 1);
  }
  const std::uint32_t top = kraken_checksum(book);
  book.apply(Side::kAsk, 1010, 5);
  book.apply(Side::kBid, 989, 5);
  EXPECT_EQ(kraken_checksum(book), top);
  book.apply(Side::kAsk, 1009, 2);
  EXPECT_NE(kraken_checksum(book), top);
}

TEST(KrakenChecksumCache, RecomputesOnlyWhenTheTopChanged) {
  OrderBook book(BookConfig{.price_scale = 1, .qty_scale = 8});
  KrakenChecksumCache cache;
  book.apply(Side::kAsk, 452852, 100000);
  EXPECT_EQ(cache.get(book), 2099347975u);
  book.apply(Side::kBid, 452835, 10000000);
  EXPECT_EQ(cache.get(book), 2383917627u);
  EXPECT_EQ(cache.get(book), 2383917627u);
  book.apply(Side::kBid, 452835, 0);
  EXPECT_EQ(cache.get(book), 2099347975u);
}

// The cache reuses level text from its previous computation; it must always equal the
// checksum computed from scratch. Random top-heavy streams of inserts, modifies and
// deletes (shifting levels by one place and more), truncation, snapshots, rescaling and
// invalidation, compared after every change.
TEST(KrakenChecksumCache, ReusedTextAlwaysEqualsTheFullComputation) {
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state](std::uint64_t bound) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state % bound;
  };
  OrderBook book(BookConfig{.price_scale = 2, .qty_scale = 8, .depth_limit = 25});
  OrderBook other(BookConfig{.price_scale = 2, .qty_scale = 8, .depth_limit = 25});  // a second book
  KrakenChecksumCache cache;
  std::size_t reused_steps = 0;
  for (int step = 0; step < 200'000; ++step) {
    // Usually one change per computation, as a Kraken update; one time in four up to four
    // (a message with several levels), so levels move by more than one place.
    for (std::uint64_t change = 0, changes = next(4) ? 1 : 1 + next(4); change < changes; ++change) {
      const Side side = next(2) ? Side::kBid : Side::kAsk;
      // Top-heavy: most changes near the touch (bids below 100000, asks above).
      const auto offset = static_cast<std::int64_t>(next(4) ? next(12) : next(60));
      const std::int64_t price = side == Side::kBid ? 100000 - offset : 100001 + offset;
      const std::int64_t qty = next(3) == 0 ? 0 : static_cast<std::int64_t>(1 + next(next(2) ? 1000 : 2'000'000'000));
      book.apply(side, price, qty);
    }
    if (next(3) == 0) book.truncate();
    if (step % 20'011 == 0) book.replace({}, {});  // a snapshot: everything changes
    if (step % 50'021 == 7) cache.invalidate();
    if (step == 150000) {
      ASSERT_TRUE(book.rescale(3, 9));  // finer units, same book
    }
    ASSERT_EQ(cache.get(book), kraken_checksum(book)) << "step " << step;
    if (step % 997 == 0) {  // another book through the same cache: nothing of it is reused
      const std::vector<Level> bids{Level{100000, 5}}, asks{Level{100001, static_cast<std::int64_t>(step)}};
      other.replace(bids, asks);
      ASSERT_EQ(cache.get(other), kraken_checksum(other)) << "step " << step;
    }
    reused_steps += book.asks().size() >= 10 && book.bids().size() >= 10;
  }
  EXPECT_GT(reused_steps, 150'000u);  // the stream kept full top-10s most of the time
}

}  // namespace
}  // namespace obr::book
