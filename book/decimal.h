// book/decimal.h — exact fixed-point decimals for prices and quantities.
//
// Exchange feeds carry prices and quantities as decimal text ("45283.5", 0.10000000,
// "5", 4.8E-7). obr turns that text into an int64 number of units at a fixed scale
// once, at the parse boundary, and never goes through a double.
//
//   obr::book::DecimalResult r = obr::book::parse_decimal("0.00100000", 8);
//   if (r.ok()) { /* r.value == 100000 */ }
//   char buf[obr::book::kMaxDecimalChars];
//   size_t n = obr::book::format_decimal(100000, 8, buf);  // "0.00100000"
//
// Thread-safety: every function here is pure and reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace obr::book {

// The largest scale (decimal places) a book may use; 10^18 still fits an int64.
inline constexpr int kMaxScale = 18;

// kMaxDecimalChars is enough for any formatted int64 at any scale: sign, 19 digits,
// the point, up to kMaxScale leading zeros.
inline constexpr std::size_t kMaxDecimalChars = 48;

// DecimalError says exactly what was wrong with a decimal text.
enum class DecimalError : std::uint8_t {
  kOk = 0,
  kEmpty,            // no characters at all
  kSign,             // a leading '-' or '+': prices and quantities are never signed
  kInvalid,          // a character that is not part of a decimal number, or a malformed one
  kOverflow,         // the value does not fit an int64 at the requested scale
  kTooManyDecimals,  // a non-zero digit below the requested scale would be lost
  kBadScale,         // the scale is negative or above kMaxScale
};

// to_string returns a short, stable English description ("too many decimals").
std::string_view to_string(DecimalError error) noexcept;

// DecimalResult is a value or an error, plus the offset in the text where the error was
// found (0 when ok). It is a plain value: no allocation, no exception.
struct DecimalResult {
  std::int64_t value = 0;
  DecimalError error = DecimalError::kOk;
  std::uint32_t error_offset = 0;

  constexpr bool ok() const noexcept { return error == DecimalError::kOk; }
};

// parse_decimal converts `text` to an integer number of 10^-scale units.
//
// Grammar (JSON numbers without a sign): digits ['.' digits] [('e'|'E') ['+'|'-'] digits].
// Trailing zeros beyond the scale are accepted because they lose nothing
// ("0.10000000" at scale 4 is 1000); a non-zero digit beyond the scale is
// kTooManyDecimals. Cost: one pass over the text, no allocation, never throws.
DecimalResult parse_decimal(std::string_view text, int scale) noexcept;

// parse_decimal_padded is parse_decimal, the same result for every text, for text inside a
// padded buffer (such as simdjson's input): it may read up to 16 bytes from text.data(), so
// at least 16 - text.size() bytes after the text must be readable. Plain wire text up to
// 16 characters is converted with SSE in a fixed number of steps (on CPUs with SSE4.1;
// elsewhere it is parse_decimal).
DecimalResult parse_decimal_padded(std::string_view text, int scale) noexcept;

// decimal_places returns how many decimal places `text` expresses, counting trailing
// zeros ("63000.0" -> 1, "0.10000000" -> 8, "4.8E-7" -> 8, "1e-08" -> 8, "5" -> 0),
// or -1 when the text is not a valid unsigned decimal. Kraken's checksum is defined
// over the wire lexeme, so this is how a book learns its precision from a snapshot
// when the instrument channel has not said it.
int decimal_places(std::string_view text) noexcept;

// format_decimal writes `value` at `scale` as fixed-point text with exactly `scale`
// decimals ("0.00100000") into `out`, which must hold kMaxDecimalChars bytes, and
// returns the number of characters written (no terminator). Precondition:
// 0 <= scale <= kMaxScale.
std::size_t format_decimal(std::int64_t value, int scale, char* out) noexcept;

// append_plain_decimal writes `value` at `scale` as plain decimal text without trailing
// fractional zeros, and no point when nothing is left after it ("65140.40" at scale 2 is
// "65140.4"; 6514000 at scale 2 is "65140"; 0 is "0"), as OKX writes numbers and as obr
// reports the venues that drop those zeros, and returns the end. May write up to
// kDigitTextSlack (book/digit_text.h) bytes past the text. Precondition: 0 <= scale <=
// kMaxScale.
char* append_plain_decimal(char* out, std::int64_t value, int scale) noexcept;

// to_decimal_string is format_decimal into a std::string (allocates; control path only).
std::string to_decimal_string(std::int64_t value, int scale);

// pow10 returns 10^n for 0 <= n <= 18.
std::int64_t pow10(int n) noexcept;

}  // namespace obr::book
