#include "book/kraken_checksum.h"

#include <cstring>

#include "book/crc32.h"
#include "book/decimal.h"

namespace obr::book {
namespace {

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

constexpr std::uint64_t kAscii0 = 0x3030303030303030ULL;

inline void store8(char* out, std::uint64_t ascii) noexcept { std::memcpy(out, &ascii, 8); }

// append_trimmed writes v < 10^8 without leading zeros (nothing for 0) and returns the end.
// It stores a whole 8-byte word: up to 7 bytes past the end may be overwritten.
inline char* append_trimmed(char* out, std::uint64_t v) noexcept {
  const std::uint64_t d = digits8(v);
  if (d == 0) return out;
  const auto zeros = static_cast<unsigned>(__builtin_ctzll(d)) / 8;  // leading zero digits
  store8(out, (d + kAscii0) >> (8 * zeros));
  return out + 8 - zeros;
}

// append_digits writes v's decimal digits (no leading zeros; nothing for 0, as Kraken's
// "strip leading zeros" turns "0.0" into the empty string), straight into place, in
// whole 8-byte words: up to 7 bytes past the digits may be overwritten. (A branch-free
// 16-digit variant measured slower: it spends twice the instructions on the common
// numbers below 10^8, and instruction throughput, not the branch, bounds this loop.)
inline char* append_digits(char* out, std::uint64_t v) noexcept {
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

// magnitude: |v| as unsigned (INT64_MIN included).
inline std::uint64_t magnitude(std::int64_t v) noexcept {
  return v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
}

// rescale turns a value at `scale` into one at `precision`.
inline std::uint64_t rescale(std::int64_t v, int scale, int precision) noexcept {
  const std::uint64_t u = magnitude(v);
  if (scale == precision) return u;
  if (scale > precision) return u / static_cast<std::uint64_t>(pow10(scale - precision));
  return u * static_cast<std::uint64_t>(pow10(precision - scale));
}

template <typename SideT>
char* append_side(char* out, const SideT& side, int ps, int pp, int qs, int qp) noexcept {
  const std::size_t n = side.size() < kKrakenChecksumLevels ? side.size() : kKrakenChecksumLevels;
  for (std::size_t i = 0; i < n; ++i) {
    const Level& l = side.at(i);
    out = append_digits(out, rescale(l.price, ps, pp));
    out = append_digits(out, rescale(l.qty, qs, qp));
  }
  return out;
}

}  // namespace

std::size_t kraken_checksum_input(const OrderBook& book, int price_precision, int qty_precision,
                                  char* out) noexcept {
  const int ps = book.price_scale();
  const int qs = book.qty_scale();
  char* p = append_side(out, book.asks(), ps, price_precision, qs, qty_precision);
  p = append_side(p, book.bids(), ps, price_precision, qs, qty_precision);
  return static_cast<std::size_t>(p - out);
}

std::uint32_t kraken_checksum(const OrderBook& book, int price_precision, int qty_precision) noexcept {
  char buf[kKrakenChecksumInputMax];
  const std::size_t n = kraken_checksum_input(book, price_precision, qty_precision, buf);
  return crc32(0, buf, n);
}

// A run of levels that the previous text had in the same order, starting at the same
// place or one place away (an insert or delete above them shifts them by one), is copied
// whole: its levels, offsets and text. A level found in no run is formatted. Typically one
// level changed: a run above it, the level, a run below.
template <typename SideT>
bool KrakenChecksumCache::rebuild(const SideT& levels, SideText (&texts)[2], int& current, bool reuse) noexcept {
  const SideText& prev = texts[current];
  const std::size_t n = levels.size() < kKrakenChecksumLevels ? levels.size() : kKrakenChecksumLevels;
  const std::size_t prev_n = reuse ? prev.count : 0;
  const Level* const best = n == 0 ? nullptr : &levels.at(0);  // level i is best[-i] (storage is worst first)
  auto level = [best](std::size_t i) -> const Level& { return best[-static_cast<std::ptrdiff_t>(i)]; };
  if (reuse && n == prev_n) {
    std::size_t i = 0;
    while (i < n && level(i) == prev.levels[i]) ++i;
    if (i == n) return false;
  }
  SideText& next = texts[current ^ 1];
  char* const bytes = next.bytes;
  char* out = bytes;
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = prev_n;  // where level i was, if it was
    for (std::size_t c : {i, i + 1, i - 1}) {  // i - 1 wraps to a huge value at i == 0
      if (c < prev_n && level(i) == prev.levels[c]) {
        j = c;
        break;
      }
    }
    if (j == prev_n) {
      const Level& l = level(i);
      next.levels[i] = l;
      next.offset[i] = static_cast<std::uint16_t>(out - bytes);
      out = append_digits(out, magnitude(l.price));
      out = append_digits(out, magnitude(l.qty));
      ++i;
      continue;
    }
    const std::size_t limit = n - i < prev_n - j ? n - i : prev_n - j;
    std::size_t run = 1;
    while (run < limit && level(i + run) == prev.levels[j + run]) ++run;
    const std::size_t from = prev.offset[j], to = prev.offset[j + run];
    const auto shift = static_cast<std::uint16_t>(static_cast<std::size_t>(out - bytes) - from);  // mod 2^16
    for (std::size_t k = 0; k < run; ++k) {
      next.levels[i + k] = prev.levels[j + k];
      next.offset[i + k] = static_cast<std::uint16_t>(prev.offset[j + k] + shift);
    }
    std::memcpy(out, prev.bytes + from, to - from);
    out += to - from;
    i += run;
  }
  next.count = n;
  next.offset[n] = static_cast<std::uint16_t>(out - bytes);
  current ^= 1;
  return true;
}

void KrakenChecksumCache::recompute(const OrderBook& book) noexcept {
  const bool reuse = valid_ && book_ == &book && price_scale_ == book.price_scale() && qty_scale_ == book.qty_scale();
  if (rebuild(book.asks(), asks_, asks_current_, reuse)) {  // always true without reuse
    const SideText& a = asks_[asks_current_];
    asks_crc_ = crc32(0, a.bytes, a.offset[a.count]);
  }
  rebuild(book.bids(), bids_, bids_current_, reuse);
  const SideText& b = bids_[bids_current_];
  value_ = crc32(asks_crc_, b.bytes, b.offset[b.count]);
  version_ = book.top_version();
  book_ = &book;
  price_scale_ = book.price_scale();
  qty_scale_ = book.qty_scale();
  valid_ = true;
}

}  // namespace obr::book
