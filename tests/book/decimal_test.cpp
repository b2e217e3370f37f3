#include "book/decimal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>

namespace obr::book {
namespace {

struct Good {
  const char* text;
  int scale;
  std::int64_t value;
};

TEST(ParseDecimal, WireTextIntoUnits) {
  const Good cases[] = {
      {"45283.5", 1, 452835},
      {"45283.5", 8, 4528350000000},
      {"0.10000000", 8, 10000000},
      {"0.10000000", 1, 1},  // trailing zeros beyond the scale lose nothing
      {"5", 0, 5},
      {"5", 8, 500000000},
      {"0.00000048", 8, 48},
      {"4.8E-7", 8, 48},
      {"4.8e-7", 9, 480},
      {"1e-08", 8, 1},
      {"1E+2", 0, 100},
      {"1e2", 1, 1000},
      {"0", 8, 0},
      {"0.00000000", 8, 0},
      {"0e-100", 2, 0},
      {"0.0280", 4, 280},
      {"63000.0", 1, 630000},
      {"000123.450", 2, 12345},
      {"9223372036854775807", 0, std::numeric_limits<std::int64_t>::max()},
      {"92233720368.54775807", 8, std::numeric_limits<std::int64_t>::max()},
      {"0.100000000000000000000000000000", 1, 1},
      {"242.649", 3, 242649},
  };
  for (const Good& c : cases) {
    const DecimalResult r = parse_decimal(c.text, c.scale);
    EXPECT_TRUE(r.ok()) << c.text << " at scale " << c.scale << ": " << to_string(r.error);
    EXPECT_EQ(r.value, c.value) << c.text << " at scale " << c.scale;
  }
}

struct Bad {
  const char* text;
  int scale;
  DecimalError error;
  std::uint32_t offset;
};

TEST(ParseDecimal, SaysExactlyWhatIsWrongAndWhere) {
  const Bad cases[] = {
      {"", 8, DecimalError::kEmpty, 0},
      {"-1.5", 1, DecimalError::kSign, 0},
      {"+1.5", 1, DecimalError::kSign, 0},
      {"-0", 1, DecimalError::kSign, 0},
      {"abc", 2, DecimalError::kInvalid, 0},
      {"1.2.3", 2, DecimalError::kInvalid, 3},
      {"12a", 2, DecimalError::kInvalid, 2},
      {"1.", 2, DecimalError::kInvalid, 2},
      {".5", 2, DecimalError::kInvalid, 0},
      {"1e", 2, DecimalError::kInvalid, 2},
      {"1e+", 2, DecimalError::kInvalid, 3},
      {" 1", 2, DecimalError::kInvalid, 0},
      {"1 ", 2, DecimalError::kInvalid, 1},
      {"NaN", 2, DecimalError::kInvalid, 0},
      {"inf", 2, DecimalError::kInvalid, 0},
      {"9223372036854775808", 0, DecimalError::kOverflow, 0},
      {"99999999999999999999999", 0, DecimalError::kOverflow, 19},
      {"92233720368.54775808", 8, DecimalError::kOverflow, 0},
      {"1e30", 0, DecimalError::kOverflow, 0},
      {"0.123", 2, DecimalError::kTooManyDecimals, 4},
      {"0.1230", 2, DecimalError::kTooManyDecimals, 4},
      {"45283.55", 1, DecimalError::kTooManyDecimals, 7},
      {"1e-9", 8, DecimalError::kTooManyDecimals, 0},
      {"4.8E-7", 7, DecimalError::kTooManyDecimals, 2},
      {"1", -1, DecimalError::kBadScale, 0},
      {"1", 19, DecimalError::kBadScale, 0},
  };
  for (const Bad& c : cases) {
    const DecimalResult r = parse_decimal(c.text, c.scale);
    EXPECT_EQ(r.error, c.error) << '"' << c.text << "\" at scale " << c.scale << " gave " << to_string(r.error);
    EXPECT_EQ(r.error_offset, c.offset) << '"' << c.text << '"';
    EXPECT_EQ(r.value, 0) << c.text;
  }
}

TEST(ParseDecimal, ErrorTextsAreDistinct) {
  EXPECT_EQ(to_string(DecimalError::kTooManyDecimals), "more decimals than the scale allows");
  EXPECT_EQ(to_string(DecimalError::kOverflow), "too many digits for int64 at this scale");
  EXPECT_EQ(to_string(DecimalError::kEmpty), "empty");
  EXPECT_NE(to_string(DecimalError::kSign), to_string(DecimalError::kInvalid));
}

TEST(DecimalPlaces, CountsWhatTheLexemeCarries) {
  EXPECT_EQ(decimal_places("63000.0"), 1);
  EXPECT_EQ(decimal_places("0.10000000"), 8);
  EXPECT_EQ(decimal_places("0.0280"), 4);
  EXPECT_EQ(decimal_places("5"), 0);
  EXPECT_EQ(decimal_places("4.8E-7"), 8);
  EXPECT_EQ(decimal_places("1e-08"), 8);
  EXPECT_EQ(decimal_places("1.5e3"), 0);
  EXPECT_EQ(decimal_places("1.2345e2"), 2);
  EXPECT_EQ(decimal_places("x"), -1);
  EXPECT_EQ(decimal_places("-1.0"), -1);
}

TEST(FormatDecimal, FixedPointWithExactlyScaleDecimals) {
  EXPECT_EQ(to_decimal_string(100000, 8), "0.00100000");
  EXPECT_EQ(to_decimal_string(452852, 1), "45285.2");
  EXPECT_EQ(to_decimal_string(630000, 1), "63000.0");
  EXPECT_EQ(to_decimal_string(5, 0), "5");
  EXPECT_EQ(to_decimal_string(0, 0), "0");
  EXPECT_EQ(to_decimal_string(0, 8), "0.00000000");
  EXPECT_EQ(to_decimal_string(48, 8), "0.00000048");
  EXPECT_EQ(to_decimal_string(-15, 1), "-1.5");
  EXPECT_EQ(to_decimal_string(std::numeric_limits<std::int64_t>::max(), 18), "9.223372036854775807");
  EXPECT_EQ(to_decimal_string(std::numeric_limits<std::int64_t>::min(), 0), "-9223372036854775808");
  EXPECT_EQ(to_decimal_string(1, 18), "0.000000000000000001");
}

TEST(Decimal, RandomRoundTripsAreExact) {
  std::mt19937_64 rng(20261121);
  for (int i = 0; i < 200000; ++i) {
    const int scale = static_cast<int>(rng() % (kMaxScale + 1));
    const auto v = static_cast<std::int64_t>(rng() >> (1 + rng() % 63));  // non-negative
    const std::string text = to_decimal_string(v, scale);
    const DecimalResult r = parse_decimal(text, scale);
    ASSERT_TRUE(r.ok()) << text << ": " << to_string(r.error);
    ASSERT_EQ(r.value, v) << text;
    ASSERT_EQ(decimal_places(text), scale) << text;
  }
}

// parse_decimal answers the usual wire text (digits, one '.', no exponent) on a fast path.
// Appending "e0" changes no value but sends the text down the general path, so the two
// must agree: whatever either accepts, the other accepts with the same value.
TEST(ParseDecimal, FastPathAgreesWithTheGeneralPath) {
  std::mt19937_64 rng(42);
  const std::string alphabet = "0123456789012345678900000.";
  std::size_t fast_ok = 0;
  for (int i = 0; i < 300000; ++i) {
    const int scale = static_cast<int>(rng() % (kMaxScale + 1));
    std::string text;
    const std::size_t len = 1 + rng() % 22;
    for (std::size_t k = 0; k < len; ++k) text += alphabet[rng() % alphabet.size()];
    if (rng() % 50 == 0) text[rng() % text.size()] = "+-eEx "[rng() % 6];
    if (text.find_first_of("eE") != std::string::npos) continue;  // already the general path
    const DecimalResult r = parse_decimal(text, scale);
    const DecimalResult general = parse_decimal(text + "e0", scale);
    if (r.ok()) {
      ++fast_ok;
      ASSERT_TRUE(general.ok()) << text << " at scale " << scale;
      ASSERT_EQ(r.value, general.value) << text << " at scale " << scale;
    } else {
      ASSERT_FALSE(general.ok()) << text << " at scale " << scale << ": " << general.value;
      ASSERT_EQ(r.error, general.error) << text << " at scale " << scale;
    }
  }
  EXPECT_GT(fast_ok, 50000u);  // the comparison covered many accepted texts
}

// parse_decimal_padded gives parse_decimal's result for every text, whatever the bytes
// after it (it may read them, never use them).
TEST(ParseDecimal, PaddedVersionAgreesForAnyText) {
  std::mt19937_64 rng(7);
  const std::string alphabet = "0123456789012345678900000..";
  std::size_t accepted = 0;
  for (int i = 0; i < 300000; ++i) {
    const int scale = static_cast<int>(rng() % (kMaxScale + 2)) - (rng() % 97 == 0 ? 3 : 0);  // some bad scales
    std::string text;
    const std::size_t len = rng() % 19;
    for (std::size_t k = 0; k < len; ++k) text += alphabet[rng() % alphabet.size()];
    if (!text.empty() && rng() % 40 == 0) text[rng() % text.size()] = "+-eEx /:"[rng() % 8];
    std::string buffer = text;
    for (int k = 0; k < 16; ++k)
      buffer += static_cast<char>(rng() % 2 ? '0' + rng() % 10 : rng() % 256);  // any padding
    const std::string_view in(buffer.data(), text.size());
    const DecimalResult a = parse_decimal(in, scale);
    const DecimalResult b = parse_decimal_padded(in, scale);
    ASSERT_EQ(b.error, a.error) << text << " at scale " << scale;
    ASSERT_EQ(b.value, a.value) << text << " at scale " << scale;
    ASSERT_EQ(b.error_offset, a.error_offset) << text << " at scale " << scale;
    accepted += a.ok();
  }
  EXPECT_GT(accepted, 50000u);
  // The wire texts of the examples, at 16 characters and around the edges.
  for (const auto& [text, scale, value] :
       std::vector<std::tuple<std::string, int, std::int64_t>>{{"45283.5", 1, 452835},
                                                               {"0.10000000", 8, 10000000},
                                                               {"5", 0, 5},
                                                               {"0.00000048", 8, 48},
                                                               {"1234567890123456", 0, 1234567890123456},
                                                               {"123456789012345.6", 1, 1234567890123456},
                                                               {"9.999999999999999", 15, 9999999999999999},
                                                               {"92233720368.54775807", 8, 9223372036854775807}}) {
    std::string buffer = text + std::string(16, 'x');
    const DecimalResult r = parse_decimal_padded(std::string_view(buffer.data(), text.size()), scale);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_EQ(r.value, value) << text;
  }
}

}  // namespace
}  // namespace obr::book
