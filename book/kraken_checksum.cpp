#include "book/kraken_checksum.h"

#include <zlib.h>

#include <cstring>

#include "book/decimal.h"

namespace obr::book {
namespace {

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// digit_count returns the number of decimal digits of v (v > 0).
inline std::size_t digit_count(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 10000) {
    v /= 10000;
    n += 4;
  }
  return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

// append_digits writes v's decimal digits (no leading zeros; nothing for 0, as Kraken's
// "strip leading zeros" turns "0.0" into the empty string), straight into place.
inline char* append_digits(char* out, std::uint64_t v) noexcept {
  if (v == 0) return out;
  const std::size_t n = digit_count(v);
  char* p = out + n;
  while (v >= 100) {
    const std::size_t pair = static_cast<std::size_t>(v % 100) * 2;
    v /= 100;
    p -= 2;
    p[0] = kDigitPairs[pair];
    p[1] = kDigitPairs[pair + 1];
  }
  if (v >= 10) {
    p[-2] = kDigitPairs[v * 2];
    p[-1] = kDigitPairs[v * 2 + 1];
  } else {
    p[-1] = static_cast<char>('0' + v);
  }
  return out + n;
}

// rescale turns a value at `scale` into one at `precision`.
inline std::uint64_t rescale(std::int64_t v, int scale, int precision) noexcept {
  const auto u = static_cast<std::uint64_t>(v < 0 ? -v : v);
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
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(n));
  return static_cast<std::uint32_t>(crc);
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
        out = append_digits(out, static_cast<std::uint64_t>(l.price < 0 ? -l.price : l.price));
        out = append_digits(out, static_cast<std::uint64_t>(l.qty < 0 ? -l.qty : l.qty));
      }
      e.length = static_cast<std::uint16_t>(out - next.bytes - e.offset);
    }
  };
  side(book.asks(), 0, reuse ? prev.asks : 0);
  next.asks = next.count;
  side(book.bids(), prev.asks, reuse ? prev.count - prev.asks : 0);
  const auto n = static_cast<std::size_t>(out - next.bytes);
  value_ = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(next.bytes), static_cast<uInt>(n)));
  current_ ^= 1;
  version_ = book.top_version();
  book_ = &book;
  price_scale_ = book.price_scale();
  qty_scale_ = book.qty_scale();
  valid_ = true;
}

}  // namespace obr::book
