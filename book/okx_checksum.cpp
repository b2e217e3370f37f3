// book/okx_checksum.cpp — OKX's order-book CRC32 (book/okx_checksum.h).
#include "book/okx_checksum.h"

#include <cstring>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "book/crc32.h"
#include "book/decimal.h"

namespace obr::book {

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

namespace {

// common_prefix: how many of the first n levels agree, best[-i] (a side's storage read from
// its top down) against kept[i]. With AVX2 two levels a compare: the side's pair is in the
// other order in memory, so its two halves are swapped.
inline std::size_t common_prefix(const Level* best, const Level* kept, std::size_t n) noexcept {
  std::size_t i = 0;
#if defined(__AVX2__)
  static_assert(sizeof(Level) == 16);
  for (; i + 2 <= n; i += 2) {
    const __m256i k = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kept + i));
    const __m256i b = _mm256_permute4x64_epi64(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(best - static_cast<std::ptrdiff_t>(i + 1))), 0x4E);
    const auto equal = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi64(k, b)));
    if (equal != 0xFFFFFFFFu) return (equal & 0xFFFFu) == 0xFFFFu ? i + 1 : i;
  }
#endif
  while (i < n && best[-static_cast<std::ptrdiff_t>(i)] == kept[i]) ++i;
  return i;
}

}  // namespace

// rebuild returns the first depth at which `levels`' top differs from the kept one (a
// level changed, or one side of the two ends there), kUnchanged when none does; 0 when
// nothing is reused. Levels above that depth keep their places. From there the kept
// levels and the book's both run best first, so one walk finds each new level's old
// place: old levels better than it are skipped (gone); an old level equal to it (price and
// size) lends its text. Each old level is matched at most once (prices are distinct), so
// no two new levels share a slot; the unmatched new levels are written into slots no new
// level uses.
template <bool kBids, typename SideT>
std::size_t OkxChecksumCache::rebuild(const SideT& levels, SideText& side, bool reuse, int price_scale,
                                      int qty_scale) noexcept {
  const std::size_t n = levels.size() < kOkxChecksumLevels ? levels.size() : kOkxChecksumLevels;
  const Level* const best = n == 0 ? nullptr : &levels.at(0);  // level i is best[-i] (worst first)
  auto level = [best](std::size_t i) -> const Level& { return best[-static_cast<std::ptrdiff_t>(i)]; };
  const std::size_t prev_n = reuse ? side.count : 0;
  const std::size_t same = n < prev_n ? n : prev_n;
  const std::size_t first = common_prefix(best, side.levels, same);
  if (first == same && n == prev_n && reuse) return kUnchanged;
  std::uint8_t slot[kOkxChecksumLevels];
  std::uint64_t used = 0;  // a bit per slot the new levels use
  for (std::size_t i = 0; i < first; ++i) used |= std::uint64_t{1} << side.slot[i];
  constexpr std::uint8_t kNone = 0xFF;
  for (std::size_t i = first, j = first; i < n; ++i) {
    const Level& l = level(i);
    while (j < prev_n && (kBids ? side.levels[j].price > l.price : side.levels[j].price < l.price)) ++j;
    if (j < prev_n && side.levels[j] == l) {
      slot[i] = side.slot[j++];
      used |= std::uint64_t{1} << slot[i];
    } else {
      slot[i] = kNone;
    }
  }
  for (std::size_t i = first; i < n; ++i) {
    side.levels[i] = level(i);
    if (slot[i] == kNone) {
      const auto s = static_cast<std::uint8_t>(__builtin_ctzll(~used));  // n <= 25 of 50 slots used
      used |= std::uint64_t{1} << s;
      char tmp[kSlotBytes + kDigitTextSlack];  // the formatters may write past the text
      tmp[0] = ':';
      char* p = append_plain_decimal(tmp + 1, side.levels[i].price, price_scale);
      *p++ = ':';
      p = append_plain_decimal(p, side.levels[i].qty, qty_scale);
      std::memcpy(side.text[s], tmp, kSlotBytes);
      side.len[s] = static_cast<std::uint8_t>(p - tmp);
      slot[i] = s;
    }
    side.slot[i] = slot[i];
  }
  side.count = n;
  return first;
}

std::int32_t OkxChecksumCache::get(const OrderBook& book) noexcept {
  const int ps = book.price_scale(), qs = book.qty_scale();
  if (ps < 0 || ps > kMaxScale || qs < 0 || qs > kMaxScale) {  // outside the slots' bound: the reference
    valid_ = false;
    return okx_checksum(book);
  }
  const bool reuse = valid_ && book_ == &book && price_scale_ == ps && qty_scale_ == qs;
  const std::size_t bid_from = rebuild<true>(book.bids(), bids_, reuse, ps, qs);
  const std::size_t ask_from = rebuild<false>(book.asks(), asks_, reuse, ps, qs);
  const std::size_t from = bid_from < ask_from ? bid_from : ask_from;  // the first level pair that changed
  if (from == kUnchanged) return value_;
  // The text from that pair on is copied again from the kept texts, each ":px:sz" as 32
  // bytes (kSlotBytes when longer) and the end moved by its length; the pairs above it are as
  // they were (their levels, and which side has each, did not change).
  const std::size_t nb = bids_.count, na = asks_.count;
  const std::size_t pairs = nb > na ? nb : na;
  char* p = buf_ + pair_offset_[from];
  auto put = [&p](const SideText& side, std::size_t i) {
    const std::uint8_t s = side.slot[i];
    std::memcpy(p, side.text[s], 32);
    if (side.len[s] > 32) std::memcpy(p + 32, side.text[s] + 32, kSlotBytes - 32);
    p += side.len[s];
  };
  const std::size_t both = nb < na ? nb : na;
  std::size_t i = from;
  for (; i < both; ++i) {
    put(bids_, i);
    put(asks_, i);
    pair_offset_[i + 1] = static_cast<std::uint16_t>(p - buf_);
  }
  for (; i < pairs; ++i) {  // the longer side's levels alone
    put(i < nb ? bids_ : asks_, i);
    pair_offset_[i + 1] = static_cast<std::uint16_t>(p - buf_);
  }
  // The CRC resumes at the last checkpoint at or above that pair (the text before it is
  // unchanged) and records the following ones; the first ':' is not hashed.
  std::size_t g = from / kPairsPerCheckpoint;
  std::uint32_t crc = crc_at_[g];
  for (; g * kPairsPerCheckpoint < pairs; ++g) {
    const std::size_t end_pair = (g + 1) * kPairsPerCheckpoint < pairs ? (g + 1) * kPairsPerCheckpoint : pairs;
    const std::size_t start = g == 0 ? 1 : pair_offset_[g * kPairsPerCheckpoint];
    crc = crc32(crc, buf_ + start, pair_offset_[end_pair] - start);
    crc_at_[g + 1] = crc;
  }
  value_ = static_cast<std::int32_t>(crc);
  book_ = &book;
  price_scale_ = ps;
  qty_scale_ = qs;
  valid_ = true;
  return value_;
}

}  // namespace obr::book
