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

void KrakenChecksumCache::recompute(const OrderBook& book) noexcept {
  const Text& prev = texts_[current_];
  Text& next = texts_[current_ ^ 1];
  const bool reuse = valid_ && book_ == &book && price_scale_ == book.price_scale() && qty_scale_ == book.qty_scale();
  char* out = next.bytes;
  next.count = 0;
  // One side: for each level, the previous text of the same level at the same place or one
  // place away (an insert or delete above it shifts it by one), else format it.
  auto side = [&](const auto& levels, std::size_t prev_first, std::size_t prev_n) {
    const std::size_t n = levels.size() < kKrakenChecksumLevels ? levels.size() : kKrakenChecksumLevels;
    for (std::size_t i = 0; i < n; ++i) {
      const Level& l = levels.at(i);
      Entry& e = next.entries[next.count++];
      e.price = l.price;
      e.qty = l.qty;
      e.offset = static_cast<std::uint16_t>(out - next.bytes);
      const Entry* found = nullptr;
      for (std::size_t j : {i, i + 1, i - 1}) {  // i - 1 wraps to a huge value at i == 0
        if (j < prev_n) {
          const Entry& p = prev.entries[prev_first + j];
          if (p.price == l.price && p.qty == l.qty) {
            found = &p;
            break;
          }
        }
      }
      if (found != nullptr) {
        std::memcpy(out, prev.bytes + found->offset, kSlack);  // fixed size: a few vector moves
        out += found->length;
      } else {
        out = append_digits(out, magnitude(l.price));
        out = append_digits(out, magnitude(l.qty));
      }
      e.length = static_cast<std::uint16_t>(out - next.bytes - e.offset);
    }
  };
  // unchanged: the side's top levels are the previous computation's, place for place.
  auto unchanged = [&](const auto& levels, std::size_t prev_first, std::size_t prev_n) {
    const std::size_t n = levels.size() < kKrakenChecksumLevels ? levels.size() : kKrakenChecksumLevels;
    if (!reuse || n != prev_n) return false;
    for (std::size_t i = 0; i < n; ++i) {
      const Level& l = levels.at(i);
      const Entry& p = prev.entries[prev_first + i];
      if (p.price != l.price || p.qty != l.qty) return false;
    }
    return true;
  };
  // copy_side: an unchanged side's entries and text, whole, to the current end of `next`.
  auto copy_side = [&](std::size_t prev_first, std::size_t prev_n) {
    const std::size_t from = prev_n == 0 ? 0 : prev.entries[prev_first].offset;
    const std::size_t to = prev_n == 0 ? 0 : prev.entries[prev_first + prev_n - 1].offset +
                                                 prev.entries[prev_first + prev_n - 1].length;
    const auto shift = static_cast<std::ptrdiff_t>(out - next.bytes) - static_cast<std::ptrdiff_t>(from);
    for (std::size_t i = 0; i < prev_n; ++i) {
      Entry& e = next.entries[next.count++];
      e = prev.entries[prev_first + i];
      e.offset = static_cast<std::uint16_t>(e.offset + shift);
    }
    std::memcpy(out, prev.bytes + from, to - from);
    out += to - from;
  };
  const bool asks_same = unchanged(book.asks(), 0, prev.asks);
  if (asks_same) {
    copy_side(0, prev.asks);
  } else {
    side(book.asks(), 0, reuse ? prev.asks : 0);
  }
  next.asks = next.count;
  next.asks_bytes = static_cast<std::size_t>(out - next.bytes);
  next.asks_crc = asks_same ? prev.asks_crc : crc32(0, next.bytes, next.asks_bytes);
  if (unchanged(book.bids(), prev.asks, prev.count - prev.asks)) {
    copy_side(prev.asks, prev.count - prev.asks);
  } else {
    side(book.bids(), prev.asks, reuse ? prev.count - prev.asks : 0);
  }
  const auto n = static_cast<std::size_t>(out - next.bytes);
  value_ = crc32(next.asks_crc, next.bytes + next.asks_bytes, n - next.asks_bytes);
  current_ ^= 1;
  version_ = book.top_version();
  book_ = &book;
  price_scale_ = book.price_scale();
  qty_scale_ = book.qty_scale();
  valid_ = true;
}

}  // namespace obr::book
