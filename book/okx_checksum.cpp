// book/okx_checksum.cpp — OKX's order-book CRC32 (book/okx_checksum.h).
#include "book/okx_checksum.h"

#include <cstring>

#include "book/crc32.h"
#include "book/decimal.h"

namespace obr::book {

char* append_plain_decimal(char* out, std::int64_t value, int scale) noexcept {
  std::uint64_t m = magnitude(value);
  if (value < 0) *out++ = '-';
  if (scale <= 0) {
    if (m == 0) {
      *out++ = '0';
      return out;
    }
    return append_digits(out, m);
  }
  const auto unit = static_cast<std::uint64_t>(pow10(scale));
  const std::uint64_t whole = m / unit;
  std::uint64_t frac = m - whole * unit;
  if (whole == 0) {
    *out++ = '0';
  } else {
    out = append_digits(out, whole);
  }
  if (frac == 0) return out;
  int digits = scale;  // the fraction's digits, leading zeros included, trailing ones dropped
  while (frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  *out++ = '.';
  char tmp[24 + kDigitTextSlack];
  const auto len = static_cast<int>(append_digits(tmp, frac) - tmp);
  for (int i = len; i < digits; ++i) *out++ = '0';
  std::memcpy(out, tmp, static_cast<std::size_t>(len));
  return out + len;
}

std::size_t okx_checksum_input(const OrderBook& book, char* out) noexcept {
  char* p = out;
  const int ps = book.price_scale(), qs = book.qty_scale();
  const std::size_t nb = book.bids().size() < kOkxChecksumLevels ? book.bids().size() : kOkxChecksumLevels;
  const std::size_t na = book.asks().size() < kOkxChecksumLevels ? book.asks().size() : kOkxChecksumLevels;
  const std::size_t n = nb > na ? nb : na;
  for (std::size_t i = 0; i < n; ++i) {
    if (i < nb) {
      const Level& l = book.bids().at(i);
      if (p != out) *p++ = ':';
      p = append_plain_decimal(p, l.price, ps);
      *p++ = ':';
      p = append_plain_decimal(p, l.qty, qs);
    }
    if (i < na) {
      const Level& l = book.asks().at(i);
      if (p != out) *p++ = ':';
      p = append_plain_decimal(p, l.price, ps);
      *p++ = ':';
      p = append_plain_decimal(p, l.qty, qs);
    }
  }
  return static_cast<std::size_t>(p - out);
}

std::int32_t okx_checksum(const OrderBook& book) noexcept {
  char buf[kOkxChecksumInputMax];
  const std::size_t n = okx_checksum_input(book, buf);
  return static_cast<std::int32_t>(crc32(0, buf, n));
}

}  // namespace obr::book
