// book/okx_checksum.cpp — OKX's order-book CRC32 (book/okx_checksum.h).
#include "book/okx_checksum.h"

#include <cstring>

#include "book/crc32.h"
#include "book/decimal.h"

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

// The levels kept from the previous call and the book's both run best first, so one walk
// finds each new level's old place: old levels better than it are skipped (gone); an old
// level equal to it (price and size) lends its text. Each old level is matched at most
// once (prices are distinct), so no two new levels share a slot; the unmatched new levels
// are written into slots no new level uses.
template <bool kBids, typename SideT>
bool OkxChecksumCache::rebuild(const SideT& levels, SideText& side, bool reuse, int price_scale,
                               int qty_scale) noexcept {
  const std::size_t n = levels.size() < kOkxChecksumLevels ? levels.size() : kOkxChecksumLevels;
  const Level* const best = n == 0 ? nullptr : &levels.at(0);  // level i is best[-i] (worst first)
  auto level = [best](std::size_t i) -> const Level& { return best[-static_cast<std::ptrdiff_t>(i)]; };
  const std::size_t prev_n = reuse ? side.count : 0;
  if (reuse && n == prev_n) {
    std::size_t i = 0;
    while (i < n && level(i) == side.levels[i]) ++i;
    if (i == n) return false;
  }
  std::uint8_t slot[kOkxChecksumLevels];
  std::uint64_t used = 0;  // a bit per slot the new levels use
  constexpr std::uint8_t kNone = 0xFF;
  for (std::size_t i = 0, j = 0; i < n; ++i) {
    const Level& l = level(i);
    while (j < prev_n && (kBids ? side.levels[j].price > l.price : side.levels[j].price < l.price)) ++j;
    if (j < prev_n && side.levels[j] == l) {
      slot[i] = side.slot[j++];
      used |= std::uint64_t{1} << slot[i];
    } else {
      slot[i] = kNone;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    side.levels[i] = level(i);
    if (slot[i] == kNone) {
      const auto s = static_cast<std::uint8_t>(__builtin_ctzll(~used));  // n <= 25 of 50 slots used
      used |= std::uint64_t{1} << s;
      char tmp[kSlotBytes + kDigitTextSlack];
      char* p = append_plain_decimal(tmp, side.levels[i].price, price_scale);
      *p++ = ':';
      p = append_plain_decimal(p, side.levels[i].qty, qty_scale);
      std::memcpy(side.text[s], tmp, kSlotBytes);
      side.len[s] = static_cast<std::uint8_t>(p - tmp);
      slot[i] = s;
    }
    side.slot[i] = slot[i];
  }
  side.count = n;
  return true;
}

std::int32_t OkxChecksumCache::get(const OrderBook& book) noexcept {
  const int ps = book.price_scale(), qs = book.qty_scale();
  if (ps < 0 || ps > kMaxScale || qs < 0 || qs > kMaxScale) {  // outside the slots' bound: the reference
    valid_ = false;
    return okx_checksum(book);
  }
  const bool reuse = valid_ && book_ == &book && price_scale_ == ps && qty_scale_ == qs;
  const bool bids_changed = rebuild<true>(book.bids(), bids_, reuse, ps, qs);
  const bool asks_changed = rebuild<false>(book.asks(), asks_, reuse, ps, qs);
  if (reuse && !bids_changed && !asks_changed) return value_;
  // ":" then each level's text, bid and ask in turn; the first ':' is left out of the CRC.
  // Each text is copied as a whole slot (48 bytes) and the end moved by its length.
  char buf[2 * kOkxChecksumLevels * (1 + kSlotBytes)];
  char* p = buf;
  auto put = [&p](const SideText& side, std::size_t i) {
    const std::uint8_t s = side.slot[i];
    *p = ':';
    std::memcpy(p + 1, side.text[s], kSlotBytes);
    p += 1 + side.len[s];
  };
  const std::size_t nb = bids_.count, na = asks_.count;
  const std::size_t both = nb < na ? nb : na;
  std::size_t i = 0;
  for (; i < both; ++i) {
    put(bids_, i);
    put(asks_, i);
  }
  for (; i < nb; ++i) put(bids_, i);
  for (; i < na; ++i) put(asks_, i);
  const std::size_t len = p == buf ? 0 : static_cast<std::size_t>(p - buf) - 1;
  value_ = static_cast<std::int32_t>(crc32(0, buf + 1, len));
  book_ = &book;
  price_scale_ = ps;
  qty_scale_ = qs;
  valid_ = true;
  return value_;
}

}  // namespace obr::book
