#include "book/kraken_checksum.h"

#include <cstring>

#include "book/crc32.h"
#include "book/decimal.h"
#include "book/digit_text.h"

namespace obr::book {
namespace {

// append_rescaled_digits writes the digits of v (at `scale`) at `precision`. Finer than
// the book: the digits of |v| followed by one '0' per extra decimal (nothing for 0), so a
// value past 2^64 at the finer precision is still written exactly (no multiply to wrap).
// Coarser: |v| / 10^(scale - precision), the digits the wire could have carried.
inline char* append_rescaled_digits(char* out, std::int64_t v, int scale, int precision) noexcept {
  const std::uint64_t u = magnitude(v);
  if (scale >= precision) return append_digits(out, u / static_cast<std::uint64_t>(pow10(scale - precision)));
  out = append_digits(out, u);
  if (u == 0) return out;
  const auto zeros = static_cast<std::size_t>(precision - scale);
  std::memset(out, '0', zeros);
  return out + zeros;
}

// covered: how many of the side's levels the checksum covers; best_of: its best level.
template <typename SideT>
std::size_t covered(const SideT& side) noexcept {
  return side.size() < kKrakenChecksumLevels ? side.size() : kKrakenChecksumLevels;
}
template <typename SideT>
const Level* best_of(const SideT& side) noexcept {
  return side.empty() ? nullptr : &side.at(0);
}

// append_rescaled writes the side's covered levels at the instrument's precision and
// returns the end.
template <typename SideT>
char* append_rescaled(char* out, const SideT& side, int ps, int pp, int qs, int qp) noexcept {
  for (std::size_t i = 0, n = covered(side); i < n; ++i) {
    const Level& l = side.at(i);
    out = append_rescaled_digits(out, l.price, ps, pp);
    out = append_rescaled_digits(out, l.qty, qs, qp);
  }
  return out;
}

}  // namespace

std::size_t kraken_checksum_input(const OrderBook& book, int price_precision, int qty_precision, char* out) noexcept {
  const int ps = book.price_scale();
  const int qs = book.qty_scale();
  std::uint16_t offsets[2 * kKrakenChecksumLevels + 1];
  const std::size_t na = covered(book.asks()), nb = covered(book.bids());
  if (ps == price_precision && qs == qty_precision) {
    return digit_text_levels(best_of(book.asks()), na, best_of(book.bids()), nb, out, offsets);
  }
  // The book is finer or coarser than the instrument (rare): scalar, one level at a time.
  // A scale or precision outside [0, kMaxScale] (a precondition) gives the empty text,
  // never more digits than `out` holds.
  for (const int s : {ps, qs, price_precision, qty_precision}) {
    if (s < 0 || s > kMaxScale) return 0;
  }
  char* p = append_rescaled(out, book.asks(), ps, price_precision, qs, qty_precision);
  p = append_rescaled(p, book.bids(), ps, price_precision, qs, qty_precision);
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
  const std::size_t n = covered(levels);
  const std::size_t prev_n = reuse ? prev.count : 0;
  const Level* const best = best_of(levels);  // level i is best[-i] (storage is worst first)
  auto level = [best](std::size_t i) -> const Level& { return best[-static_cast<std::ptrdiff_t>(i)]; };
  if (reuse && n == prev_n) {
    std::size_t i = 0;
    while (i < n && level(i) == prev.levels[i]) ++i;
    if (i == n) return false;
  }
  SideText& next = texts[current ^ 1];
  if (prev_n == 0) {  // nothing to reuse: every level formatted (many at a time, book/digit_text.h)
    for (std::size_t i = 0; i < n; ++i) next.levels[i] = level(i);
    digit_text_levels(best, n, next.bytes, next.offset);
    next.count = n;
    current ^= 1;
    return true;
  }
  char* const bytes = next.bytes;
  char* out = bytes;
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = prev_n;                    // where level i was, if it was
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
      out = append_level_digits(out, l);
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
