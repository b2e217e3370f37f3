// book/okx_checksum.cpp — OKX's order-book CRC32 (book/okx_checksum.h).
#include "book/okx_checksum.h"

#include <cstring>

#include "book/crc32.h"

namespace obr::book {

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
