#include "book/digit_text.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace obr::book {
namespace {

// Kraken's text of a value: the decimal digits of its magnitude, nothing for 0.
std::string expected_text(std::int64_t v) {
  const std::uint64_t m = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  return m == 0 ? std::string() : std::to_string(m);
}

// Stored worst first (as a BookSide stores them), in a heap block of exactly those levels.
std::unique_ptr<Level[]> stored(const std::vector<Level>& best_first) {
  auto s = std::make_unique<Level[]>(best_first.size() + 1);  // + 1: a valid pointer when empty
  for (std::size_t i = 0; i < best_first.size(); ++i) s[best_first.size() - 1 - i] = best_first[i];
  return s;
}

// Formats `levels` (best first) every way: as one run (dispatched and scalar) and as two
// runs split at every place (each run in its own block), into heap buffers of exactly the
// text plus kDigitTextSlack (so ASan sees a store past them); checks the texts and every
// offset against std::to_string. Ten levels as one run, and twenty split after the tenth,
// reach the kernel's copies compiled for those counts.
void check_levels(const std::vector<Level>& levels) {
  const std::size_t n = levels.size();
  std::string want;
  std::vector<std::uint16_t> want_offsets;
  for (const Level& l : levels) {
    want_offsets.push_back(static_cast<std::uint16_t>(want.size()));
    want += expected_text(l.price) + expected_text(l.qty);
  }
  want_offsets.push_back(static_cast<std::uint16_t>(want.size()));
  const auto whole = stored(levels);
  const Level* const best = n == 0 ? whole.get() : &whole[n - 1];
  auto check = [&](const char* how, auto format) {
    auto buf = std::make_unique<char[]>(want.size() + kDigitTextSlack);
    std::vector<std::uint16_t> offsets(n + 1, 0xFFFF);
    const std::size_t len = format(buf.get(), offsets.data());
    ASSERT_EQ(std::string(buf.get(), len), want) << how << ", " << n << " levels";
    ASSERT_EQ(offsets, want_offsets) << how << ", " << n << " levels";
  };
  check("one run", [&](char* out, std::uint16_t* off) { return digit_text_levels(best, n, out, off); });
  check("scalar", [&](char* out, std::uint16_t* off) { return digit_text_levels_scalar(best, n, best, 0, out, off); });
  for (std::size_t k = 0; k <= n; ++k) {
    const auto first = stored({levels.begin(), levels.begin() + static_cast<std::ptrdiff_t>(k)});
    const auto second = stored({levels.begin() + static_cast<std::ptrdiff_t>(k), levels.end()});
    const Level* b0 = k == 0 ? first.get() : &first[k - 1];
    const Level* b1 = n == k ? second.get() : &second[n - k - 1];
    check("two runs", [&](char* out, std::uint16_t* off) { return digit_text_levels(b0, k, b1, n - k, out, off); });
    check("two runs, scalar",
          [&](char* out, std::uint16_t* off) { return digit_text_levels_scalar(b0, k, b1, n - k, out, off); });
  }
}

// Levels from a list of values, two per level (price, then quantity).
std::vector<Level> as_levels(const std::vector<std::int64_t>& values) {
  std::vector<Level> levels;
  for (std::size_t i = 0; i + 1 < values.size(); i += 2) levels.push_back(Level{values[i], values[i + 1]});
  if (values.size() % 2 != 0) levels.push_back(Level{values.back(), 5});
  return levels;
}

// The multiply-shift divisions the vector path uses. The 10^4 split (a 52-bit multiply)
// and the two small ones are checked over their whole ranges; the split at 10^8,
// v * 3022314549036573 >> 78, is exact for v < 2^78 / (c * 10^8 - 2^78) > 4.7 * 10^16
// (more than the 2^52 the path takes), checked here at its edges.
TEST(DigitText, MultiplyShiftDivisionsAreExactInTheirRanges) {
  __extension__ typedef unsigned __int128 u128;
  std::uint64_t wrong = 0;  // counted, not asserted per value: 10^8 values
  for (std::uint64_t x = 0; x < 100'000'000; ++x) {
    wrong += static_cast<std::uint64_t>((static_cast<u128>(x) * 450359962738u) >> 52) != x / 10000;
  }
  EXPECT_EQ(wrong, 0u);
  for (std::uint32_t y = 0; y < 10000; ++y) ASSERT_EQ((y * 5243u) >> 19, y / 100) << y;
  for (std::uint32_t z = 0; z < 100; ++z) ASSERT_EQ((z * 6554u) >> 16, z / 10) << z;
  const u128 c = 3022314549036573u;
  EXPECT_LT(c, u128{1} << 52);
  EXPECT_LT((c * 100'000'000 - (u128{1} << 78)) * 47'000'000'000'000'000u, u128{1} << 78);
  for (std::uint64_t hi = 0; hi < (1ull << 52) / 100'000'000; hi += 997) {
    for (std::uint64_t v : {hi * 100'000'000, hi * 100'000'000 + 99'999'999}) {
      ASSERT_EQ(static_cast<std::uint64_t>((v * c) >> 78), v / 100'000'000) << v;
    }
  }
}

// Where the CPU has the features the vector path needs, it is the one taken (so the
// differential tests below compare it with the scalar formatter, not the scalar with
// itself).
TEST(DigitText, VectorPathIsTakenWhereTheCpuHasIt) {
#if defined(__x86_64__)
  const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512ifma");
  EXPECT_EQ(digit_text_vectorized(), has);
  if (!has) GTEST_SKIP() << "no AVX-512 VBMI2/IFMA here: only the scalar formatter is tested";
#else
  EXPECT_FALSE(digit_text_vectorized());
#endif
}

TEST(DigitText, AppendDigitsAtEveryLength) {
  std::uint64_t p = 1;
  for (int digits = 1; digits <= 20; ++digits) {
    for (std::uint64_t v : {p, p + 7, p * 10 - 1}) {
      if (digits == 20 && v != p) continue;  // 10^19 is the only 20-digit power below 2^64
      char buf[20 + kDigitTextSlack];
      EXPECT_EQ(std::string(buf, append_digits(buf, v)), std::to_string(v));
    }
    if (digits < 20) p *= 10;
  }
  char buf[20 + kDigitTextSlack];
  EXPECT_EQ(append_digits(buf, 0), buf);  // zero is the empty text
  EXPECT_EQ(std::string(buf, append_digits(buf, UINT64_MAX)), "18446744073709551615");
}

TEST(DigitText, TwoLevelsExample) {
  const Level levels[2] = {{630046, 0}, {630049, 1876947}};  // worst first
  char buf[80 + kDigitTextSlack];
  std::uint16_t offsets[3];
  ASSERT_EQ(digit_text_levels(&levels[1], 2, buf, offsets), 19u);
  EXPECT_EQ(std::string(buf, 19), "6300491876947630046");
  EXPECT_EQ(offsets[0], 0u);
  EXPECT_EQ(offsets[1], 13u);
  EXPECT_EQ(offsets[2], 19u);
}

// Every level count from 0 to 30 (whole and partial batches of four, one and two runs of
// twelve, and past them) with every digit count in every lane position, negative values
// (their magnitudes) and INT64_MIN among them.
TEST(DigitText, EveryLevelCountAndLaneAgreesWithToString) {
  std::vector<std::int64_t> lengths;  // a value of each length 0..19, one negative, INT64_MIN
  std::int64_t p = 1;
  lengths.push_back(0);
  for (int d = 1; d <= 19; ++d) {
    lengths.push_back(p + d * 3 - (d == 19 ? 3 * 19 : 0));
    if (d < 19) p *= 10;
  }
  lengths.push_back(-123456789);
  lengths.push_back(INT64_MIN);
  // The values the vector path takes: 0 and 1..16 digits below 2^52 (whole calls of them
  // reach every batch and half of both runs).
  std::vector<std::int64_t> vector_lengths(lengths.begin(), lengths.begin() + 16);
  vector_lengths.push_back(4'503'599'627'370'495);  // 2^52 - 1, 16 digits
  for (std::size_t n = 0; n <= 34; ++n) {           // 34 as one run: 24 levels, then a group of exactly 10
    for (const auto* set : {&lengths, &vector_lengths}) {
      for (std::size_t shift = 0; shift < set->size(); shift += (n > 14 ? 5 : 1)) {
        std::vector<std::int64_t> values;
        for (std::size_t i = 0; i < 2 * n; ++i) values.push_back((*set)[(i + shift) % set->size()]);
        check_levels(as_levels(values));
      }
    }
  }
}

// Where the split at 10^8 lands: exact multiples of 10^8 and their neighbours, one call
// per high part (so that each call below 2^52 takes the vector path), the 24 values just
// below 2^52 (the vector path's limit), and, on the scalar path, values around 2^52,
// 2^53 and 10^16.
TEST(DigitText, SplitAtTenToTheEightIsExact) {
  const std::int64_t e8 = 100'000'000;
  const std::int64_t highs[] = {1, 2, 7, 99, 12345678, 45035995, 45035996, 99999999};
  const std::int64_t lows[] = {0, 1, 9, 50000000, 99999998, 99999999};
  for (std::int64_t hi : highs) {
    std::vector<std::int64_t> values;
    for (std::int64_t lo : lows) values.push_back(hi * e8 + lo);
    check_levels(as_levels(values));
  }
  const std::int64_t bases[] = {(std::int64_t{1} << 52) - 24, (std::int64_t{1} << 52) - 12,
                                (std::int64_t{1} << 53) - 12, 10'000'000'000'000'000 - 12, e8 - 12};
  for (std::int64_t base : bases) {
    std::vector<std::int64_t> values;
    for (std::int64_t d = 0; d < 24; ++d) values.push_back(base + d);
    check_levels(as_levels(values));
  }
}

// Random values of random lengths in random level counts; one call in eight may hold a
// value of 2^52 or more (the scalar way).
TEST(DigitText, RandomValuesAgreeWithToString) {
  std::uint64_t state = 0x2545F4914F6CDD1Dull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 4'000; ++round) {
    const std::size_t n = next() % 27;
    std::vector<std::int64_t> values;
    for (std::size_t i = 0; i < 2 * n; ++i) {
      const unsigned digits = static_cast<unsigned>(next() % (round % 8 == 0 ? 20 : 16));  // 0..15, sometimes ..19
      std::uint64_t bound = 1;
      for (unsigned d = 0; d < digits; ++d) bound *= 10;
      values.push_back(static_cast<std::int64_t>(next() % bound));  // bound 1 (digits 0) gives 0
    }
    check_levels(as_levels(values));
  }
  RecordProperty("vectorized", digit_text_vectorized() ? "yes" : "no");
}

}  // namespace
}  // namespace obr::book
