// book/digit_text.h — unsigned integers as bare decimal digit text, for checksum inputs.
//
// Kraken's checksum hashes each price and quantity as its decimal digits with the point
// and leading zeros removed: the integer's own decimal text, and nothing at all for 0.
// These formatters write that text. They write whole words, so the output buffer needs
// kDigitTextSlack writable bytes past the text.
//
//   char buf[2 * 40 + obr::book::kDigitTextSlack];
//   char* end = obr::book::append_digits(buf, 630049);      // "630049"
//
//   const obr::book::Level levels[2] = {{630046, 0}, {630049, 1876947}};  // worst first
//   std::uint16_t offsets[3];
//   std::size_t n = obr::book::digit_text_levels(&levels[1], 2, buf, offsets);
//   // buf = "6300491876947630046", offsets = {0, 13, 19}
//
// Thread-safety: pure functions; the one-time CPU check is a thread-safe local static.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "book/level.h"

namespace obr::book {

// Bytes past the end of the text that the formatters may overwrite.
inline constexpr std::size_t kDigitTextSlack = 64;

namespace digit_text_detail {

// digits8 turns v < 10^8 into its 8 decimal digits, most significant first, one per byte
// of the result in memory order (little-endian: the first digit in the low byte), as
// values 0..9, with no division: 8 digits = two 4-digit halves in 32-bit lanes, each split
// into 2-digit halves in 16-bit lanes, each split into single digits in bytes. The
// multiply-shift pairs divide exactly in their ranges: x * 10486 >> 20 == x / 100 for
// x < 10^4 (4-digit lanes), x * 103 >> 10 == x / 10 for x < 100.
inline std::uint64_t digits8(std::uint64_t v) noexcept {
  const std::uint64_t hi4 = v / 10000;  // a multiply-shift (constant divisor)
  const std::uint64_t lanes4 = hi4 | ((v - hi4 * 10000) << 32);
  const std::uint64_t hi2 = ((lanes4 * 10486) >> 20) & 0x0000007F0000007FULL;
  const std::uint64_t lanes2 = hi2 | ((lanes4 - hi2 * 100) << 16);
  const std::uint64_t hi1 = ((lanes2 * 103) >> 10) & 0x000F000F000F000FULL;
  return hi1 | ((lanes2 - hi1 * 10) << 8);
}

inline constexpr std::uint64_t kAscii0 = 0x3030303030303030ULL;

inline void store8(char* out, std::uint64_t ascii) noexcept { std::memcpy(out, &ascii, 8); }

// append_trimmed writes v < 10^8 without leading zeros (nothing for 0) and returns the end.
inline char* append_trimmed(char* out, std::uint64_t v) noexcept {
  const std::uint64_t d = digits8(v);
  if (d == 0) return out;
  const auto zeros = static_cast<unsigned>(__builtin_ctzll(d)) / 8;  // leading zero digits
  store8(out, (d + kAscii0) >> (8 * zeros));
  return out + 8 - zeros;
}

}  // namespace digit_text_detail

// magnitude: |v| as unsigned (INT64_MIN included); the value whose digits are written.
inline std::uint64_t magnitude(std::int64_t v) noexcept {
  return v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
}

// append_digits writes v's decimal digits (no leading zeros; nothing for 0) at `out` and
// returns the end of the text, 8 digits per step in whole 8-byte words: up to 7 bytes past
// the text may be overwritten. Scalar; one level at a time (the checksum cache's path).
inline char* append_digits(char* out, std::uint64_t v) noexcept {
  using namespace digit_text_detail;
  constexpr std::uint64_t k8 = 100'000'000;
  if (v < k8) return append_trimmed(out, v);
  if (v < k8 * k8) {
    out = append_trimmed(out, v / k8);
    store8(out, digits8(v % k8) + kAscii0);
    return out + 8;
  }
  out = append_trimmed(out, v / (k8 * k8));  // at most 4 digits: v < 2^64 < 1.9 * 10^19
  const std::uint64_t rest = v % (k8 * k8);
  store8(out, digits8(rest / k8) + kAscii0);
  store8(out + 8, digits8(rest % k8) + kAscii0);
  return out + 16;
}

// append_level_digits writes one level's text, |price|'s digits then |qty|'s, as
// append_digits does (up to 7 bytes past the text may be overwritten).
inline char* append_level_digits(char* out, const Level& l) noexcept {
  return append_digits(append_digits(out, magnitude(l.price)), magnitude(l.qty));
}

// The most levels one digit_text_levels call formats (the offsets are 16-bit).
inline constexpr std::size_t kMaxDigitTextLevels = 1024;

// digit_text_levels writes the text of `n` levels, best[0], best[-1], ... best[-(n - 1)]
// (a BookSide's storage read from its top down), each as its price's then its quantity's
// digits (of their magnitudes), at `out`; offsets[i] (i = 0 .. n) is where level i's text
// starts, offsets[n] the text's length, which it returns. `out` needs the text's length
// (at most 40 bytes a level) plus kDigitTextSlack bytes. Reads only the n levels.
// Precondition: n <= kMaxDigitTextLevels.
// On CPUs with AVX-512 (F, BW, DQ, VL, VBMI2, IFMA; checked once at run time) up to 24
// levels are formatted together with no branch on their digits, phase by phase (all the
// loads, all the splits at 10^8, all the digit arithmetic, then the stores) so that the
// independent work overlaps: split by a 52-bit multiply, digits by multiply-shift in 32-,
// 16- and 8-bit lanes, leading zeros squeezed out by one byte compress per two levels.
// Each group of 24 levels holding a negative value or one of 2^52 (about 4.5 * 10^15) or
// more goes the scalar way. A group of exactly 10 levels (n == 10: the checksum cache
// rebuilding one side; also the last group when n is 34, 58, ...) runs a copy of the
// kernel compiled for that count, with no per-batch decisions left at run time.
std::size_t digit_text_levels(const Level* best, std::size_t n, char* out, std::uint16_t* offsets) noexcept;

// The same for two runs written back to back (run 0's text, then run 1's, as the Kraken
// checksum puts the asks before the bids): offsets has n0 + n1 + 1 entries, run 1's
// continuing run 0's. Runs of up to 12 levels each are formatted together (the Kraken
// checksum's two sides in one pass); a pair holding a negative value or one of 2^52 or
// more goes the scalar way. n0 == n1 == 10 (both sides' top 10, the uncached checksum)
// runs a copy of the kernel compiled for those counts (bench/README, session 10).
// Precondition: n0 + n1 <= kMaxDigitTextLevels.
std::size_t digit_text_levels(const Level* best0, std::size_t n0, const Level* best1, std::size_t n1, char* out,
                              std::uint16_t* offsets) noexcept;

// digit_text_levels_scalar: the same result by append_digits (the fallback; tests compare).
std::size_t digit_text_levels_scalar(const Level* best0, std::size_t n0, const Level* best1, std::size_t n1, char* out,
                                     std::uint16_t* offsets) noexcept;

// digit_text_vectorized reports whether digit_text_levels uses the AVX-512 path here.
bool digit_text_vectorized() noexcept;

}  // namespace obr::book
