#include "book/decimal.h"

#include <array>
#include <cstring>
#include <limits>

#if defined(__SSE4_1__) && defined(__SSSE3__)
#include <immintrin.h>
#define OBR_DECIMAL_SIMD 1
#endif

#include "book/digit_text.h"

namespace obr::book {
namespace {

constexpr std::array<std::uint64_t, 20> kPow10 = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL,
};

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr DecimalResult fail(DecimalError e, std::size_t at) noexcept {
  return DecimalResult{0, e, static_cast<std::uint32_t>(at)};
}

// The scanned shape of a decimal lexeme: significant digits as an integer, the count of
// zeros held back from it, the fraction-digit count and the exponent.
struct Scanned {
  std::uint64_t mantissa = 0;   // significant digits, trailing zeros excluded
  std::int64_t held_zeros = 0;  // zeros read after the last non-zero digit
  std::int64_t fraction_digits = 0;
  std::int64_t exponent = 0;
  bool mantissa_overflow = false;
  std::size_t overflow_at = 0;
  std::size_t last_nonzero_at = 0;  // offset of the last non-zero digit
};

// scan parses the grammar; returns kOk or the error with its offset.
DecimalResult scan(std::string_view s, Scanned& out) noexcept {
  if (s.empty()) return fail(DecimalError::kEmpty, 0);
  if (s[0] == '-' || s[0] == '+') return fail(DecimalError::kSign, 0);
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto take_digit = [&out, &i](char c) noexcept {
    if (c == '0') {
      // A zero only matters if a non-zero digit follows; hold it back so long runs of
      // trailing zeros ("0.10000000000000000000") never overflow the mantissa.
      if (out.mantissa != 0) ++out.held_zeros;
      return;
    }
    std::uint64_t m = out.mantissa;
    for (std::int64_t z = 0; z <= out.held_zeros; ++z) {
      if (__builtin_mul_overflow(m, 10ULL, &m)) {
        if (!out.mantissa_overflow) out.overflow_at = i;
        out.mantissa_overflow = true;
        return;
      }
    }
    if (__builtin_add_overflow(m, static_cast<std::uint64_t>(c - '0'), &m)) {
      if (!out.mantissa_overflow) out.overflow_at = i;
      out.mantissa_overflow = true;
      return;
    }
    out.mantissa = m;
    out.held_zeros = 0;
    out.last_nonzero_at = i;
  };

  if (!is_digit(s[0])) return fail(DecimalError::kInvalid, 0);
  while (i < n && is_digit(s[i])) {
    take_digit(s[i]);
    ++i;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || !is_digit(s[i])) return fail(DecimalError::kInvalid, i);
    while (i < n && is_digit(s[i])) {
      take_digit(s[i]);
      ++i;
      ++out.fraction_digits;
    }
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    if (i >= n || !is_digit(s[i])) return fail(DecimalError::kInvalid, i);
    std::int64_t e = 0;
    while (i < n && is_digit(s[i])) {
      // Saturate: any exponent past 10^6 overflows or underflows every scale anyway.
      if (e < 1000000) e = e * 10 + (s[i] - '0');
      ++i;
    }
    out.exponent = negative ? -e : e;
  }
  if (i != n) return fail(DecimalError::kInvalid, i);
  return DecimalResult{};
}

}  // namespace

std::string_view to_string(DecimalError error) noexcept {
  switch (error) {
    case DecimalError::kOk:
      return "ok";
    case DecimalError::kEmpty:
      return "empty";
    case DecimalError::kSign:
      return "signed value (prices and quantities are unsigned)";
    case DecimalError::kInvalid:
      return "not a decimal number";
    case DecimalError::kOverflow:
      return "too many digits for int64 at this scale";
    case DecimalError::kTooManyDecimals:
      return "more decimals than the scale allows";
    case DecimalError::kBadScale:
      return "scale out of range";
  }
  return "unknown decimal error";
}

std::int64_t pow10(int n) noexcept { return static_cast<std::int64_t>(kPow10[static_cast<std::size_t>(n)]); }

namespace {

// to_units finishes both fast paths: `digits` read with `decimals` of them after the point,
// as units of 10^-scale. False when that takes more decimals than the scale allows or
// does not fit int64: the general path then decides (and says what is wrong).
inline bool to_units(std::uint64_t digits, int decimals, int scale, std::int64_t& value) noexcept {
  if (decimals > scale) return false;  // trailing zeros or an error
  if (__builtin_mul_overflow(digits, kPow10[static_cast<std::size_t>(scale - decimals)], &digits)) return false;
  if (digits > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
  value = static_cast<std::int64_t>(digits);
  return true;
}

// parse_plain is the fast path for what venues send: digits with at most one '.' between
// digits, at most 19 digits, no more decimals than the scale and a value that fits. It
// returns false for anything else, and parse_decimal then takes the general path, which
// also names what is wrong; so both paths give the same result wherever this one answers.
inline bool parse_plain(std::string_view s, int scale, std::int64_t& value) noexcept {
  const std::size_t n = s.size();
  if (n == 0 || n > 20) return false;
  std::uint64_t v = 0;
  std::size_t dot = n;  // index of the '.', n when there is none
  for (std::size_t i = 0; i < n; ++i) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(s[i]) - '0');
    if (d < 10) {
      v = v * 10 + d;
    } else if (s[i] == '.' && dot == n && i != 0 && i + 1 != n) {
      dot = i;
    } else {
      return false;  // sign, exponent, garbage: the general path decides
    }
  }
  const std::size_t digits = dot == n ? n : n - 1;
  if (digits > 19) return false;  // 19 digits always fit uint64
  return to_units(v, static_cast<int>(dot == n ? 0 : n - 1 - dot), scale, value);
}

}  // namespace

DecimalResult parse_decimal(std::string_view text, int scale) noexcept {
  if (scale < 0 || scale > kMaxScale) return fail(DecimalError::kBadScale, 0);
  if (std::int64_t v = 0; parse_plain(text, scale, v)) return DecimalResult{v, DecimalError::kOk, 0};
  Scanned sc;
  if (DecimalResult r = scan(text, sc); !r.ok()) return r;
  if (sc.mantissa == 0 && !sc.mantissa_overflow) return DecimalResult{};  // zero at any scale
  if (sc.mantissa_overflow) return fail(DecimalError::kOverflow, sc.overflow_at);
  // value = mantissa * 10^shift units.
  const std::int64_t shift = sc.held_zeros + scale - sc.fraction_digits + sc.exponent;
  std::uint64_t v = sc.mantissa;
  if (shift >= 0) {
    if (shift > 19) return fail(DecimalError::kOverflow, 0);
    if (__builtin_mul_overflow(v, kPow10[static_cast<std::size_t>(shift)], &v)) {
      return fail(DecimalError::kOverflow, 0);
    }
  } else {
    // The mantissa carries no trailing zeros, so any negative shift loses a non-zero
    // digit; the last one is the first that does not fit.
    return fail(DecimalError::kTooManyDecimals, sc.last_nonzero_at);
  }
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return fail(DecimalError::kOverflow, 0);
  }
  return DecimalResult{static_cast<std::int64_t>(v), DecimalError::kOk, 0};
}

DecimalResult parse_decimal_padded(std::string_view text, int scale) noexcept {
#if OBR_DECIMAL_SIMD
  const std::size_t n = text.size();
  if (n == 0 || n > 16 || scale < 0 || scale > kMaxScale) return parse_decimal(text, scale);
  // Which of the first n bytes are digits and which is the '.'; plain text is all digits
  // but one '.' that is neither first nor last.
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data()));
  const __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));  // digits become 0..9
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(d, _mm_set1_epi8(-1)), _mm_cmplt_epi8(d, _mm_set1_epi8(10)));
  const unsigned all = (1u << n) - 1;
  const unsigned digits_at = static_cast<unsigned>(_mm_movemask_epi8(digit)) & all;
  const unsigned dot_at = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')))) & all;
  if ((digits_at | dot_at) != all || (dot_at & (dot_at - 1)) != 0) return parse_decimal(text, scale);
  const unsigned dot = dot_at != 0 ? static_cast<unsigned>(__builtin_ctz(dot_at)) : static_cast<unsigned>(n);
  if (dot == 0 || dot + 1 == n) return parse_decimal(text, scale);
  const unsigned count = dot_at != 0 ? static_cast<unsigned>(n) - 1 : static_cast<unsigned>(n);  // digits
  const auto decimals = static_cast<int>(dot_at != 0 ? n - 1 - dot : 0);
  // Right-align the digits in 16 bytes, skipping the '.': output byte j takes digit
  // k = j - (16 - count), from byte k, or k + 1 past the '.'; bytes before the first digit
  // are zero (a shuffle index with its top bit set).
  const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m128i k = _mm_sub_epi8(iota, _mm_set1_epi8(static_cast<char>(16 - count)));
  const __m128i past_dot = _mm_cmpgt_epi8(k, _mm_set1_epi8(static_cast<char>(static_cast<int>(dot) - 1)));
  const __m128i source = _mm_or_si128(_mm_sub_epi8(k, past_dot), _mm_cmpgt_epi8(_mm_setzero_si128(), k));
  const __m128i sixteen = _mm_shuffle_epi8(d, source);
  // 16 digits to an integer: pairs, then fours, then eights.
  const __m128i pairs =
      _mm_maddubs_epi16(sixteen, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
  const __m128i fours = _mm_madd_epi16(pairs, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
  const __m128i packed = _mm_packus_epi32(fours, fours);
  const __m128i eights = _mm_madd_epi16(packed, _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
  const std::uint64_t v =
      static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_cvtsi128_si32(eights))) * 100000000u +
      static_cast<std::uint32_t>(_mm_extract_epi32(eights, 1));
  if (std::int64_t value = 0; to_units(v, decimals, scale, value)) return DecimalResult{value, DecimalError::kOk, 0};
  return parse_decimal(text, scale);
#else
  return parse_decimal(text, scale);
#endif
}

int decimal_places(std::string_view text) noexcept {
  Scanned sc;
  if (!scan(text, sc).ok()) return -1;
  const std::int64_t places = sc.fraction_digits - sc.exponent;
  if (places <= 0) return 0;
  return places > 1000 ? 1000 : static_cast<int>(places);
}

std::size_t format_decimal(std::int64_t value, int scale, char* out) noexcept {
  char digits[24];
  std::size_t nd = 0;
  // Work in unsigned so INT64_MIN formats correctly.
  const bool negative = value < 0;
  std::uint64_t u = negative ? 0ULL - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  do {
    digits[nd++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  const std::size_t sc = static_cast<std::size_t>(scale);
  while (nd <= sc) digits[nd++] = '0';  // at least one digit before the point
  std::size_t w = 0;
  if (negative) out[w++] = '-';
  for (std::size_t k = nd; k > sc; --k) out[w++] = digits[k - 1];
  if (sc > 0) {
    out[w++] = '.';
    for (std::size_t k = sc; k > 0; --k) out[w++] = digits[k - 1];
  }
  return w;
}

std::string to_decimal_string(std::int64_t value, int scale) {
  char buf[kMaxDecimalChars];
  return std::string(buf, format_decimal(value, scale, buf));
}

char* append_plain_decimal(char* out, std::int64_t value, int scale) noexcept {
  // The magnitude's digits, then the point put in and the fraction's trailing zeros left
  // out: no division by a power of ten that is only known at run time.
  const std::uint64_t m = magnitude(value);
  if (value < 0) *out++ = '-';
  if (m == 0) {
    *out++ = '0';
    return out;
  }
  char digits[24 + kDigitTextSlack];
  const auto len = static_cast<int>(append_digits(digits, m) - digits);
  if (scale <= 0) {
    std::memcpy(out, digits, static_cast<std::size_t>(len));
    return out + len;
  }
  int end = len;                  // the fraction's trailing zeros dropped (the whole part keeps its own)
  const int whole = len - scale;  // digits before the point; <= 0: "0." and leading zeros
  while (end > whole && end > 0 && digits[end - 1] == '0') --end;
  if (whole > 0) {
    std::memcpy(out, digits, static_cast<std::size_t>(whole));
    out += whole;
    if (end == whole) return out;  // nothing after the point
    *out++ = '.';
    std::memcpy(out, digits + whole, static_cast<std::size_t>(end - whole));
    return out + (end - whole);
  }
  *out++ = '0';
  *out++ = '.';
  for (int i = whole; i < 0; ++i) *out++ = '0';
  std::memcpy(out, digits, static_cast<std::size_t>(end));
  return out + end;
}

}  // namespace obr::book
