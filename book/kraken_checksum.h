// book/kraken_checksum.h — Kraken's order-book CRC32 (v1 and v2 share the algorithm).
//
// The checksum covers the top 10 asks (low to high) then the top 10 bids (high to low);
// each price and quantity is its decimal digits at the instrument's precision with the
// point and leading zeros removed, which is exactly the integer's own decimal text when
// the book's scale equals that precision. CRC-32 (zlib), compared unsigned. Fewer than 10
// levels: the levels that exist. Source: docs/venues/kraken.md "Checksum" (Kraken's book
// checksum guides), with the worked examples that verify it.
// The CRC is zlib's CRC-32 (book/crc32.h computes the same value; tests compare with zlib).
//
//   uint32_t crc = obr::book::kraken_checksum(book);   // book scales = precision
//   obr::book::KrakenChecksumCache cache;
//   if (cache.get(book) != wire_checksum) { /* resync this book */ }
//
// Thread-safety: pure functions; a KrakenChecksumCache belongs to its book's thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "book/digit_text.h"
#include "book/order_book.h"

namespace obr::book {

// Levels per side the checksum covers, whatever the subscribed depth.
inline constexpr std::size_t kKrakenChecksumLevels = 10;
// Size of a buffer for the CRC input: 20 levels x 2 numbers x at most 37 digits (an
// int64 magnitude has at most 19; written at a precision up to kMaxScale = 18 decimals
// finer than the book's scale it gains as many zeros), plus the bytes the formatters'
// whole-word stores may write past the text (book/digit_text.h). With the book's scales
// equal to the instrument's precision (the usual case) the text is at most 760 bytes.
inline constexpr std::size_t kKrakenChecksumInputMax = 2 * kKrakenChecksumLevels * 2 * 37 + kDigitTextSlack;

// kraken_checksum_input writes the string Kraken hashes into `out` (which must hold
// kKrakenChecksumInputMax bytes) and returns its length. `price_precision` and
// `qty_precision` are the instrument's decimals; the book's values are rescaled to them
// when its scales differ: to a finer precision exactly (the digits, then a '0' per extra
// decimal, however large the value gets), to a coarser one by dividing (dropping digits
// the wire could not have carried). Precondition: both precisions, and the book's scales
// when they differ from them, in [0, kMaxScale] (book/decimal.h); otherwise the text is
// empty (length 0).
std::size_t kraken_checksum_input(const OrderBook& book, int price_precision, int qty_precision, char* out) noexcept;

// kraken_checksum computes the CRC32. Cost: 40 integer formats (all 20 levels in one pass
// with AVX-512, else 8 digits per step; no division loop, book/digit_text.h) and one CRC-32
// over at most 760 bytes at the book's own scales, 1 480 rescaled (book/crc32.h: carry-less
// multiply where the CPU has it, zlib's value), no allocation (bench/book: BM_KrakenChecksum).
std::uint32_t kraken_checksum(const OrderBook& book, int price_precision, int qty_precision) noexcept;

// kraken_checksum with the book's own scales as the instrument precision.
inline std::uint32_t kraken_checksum(const OrderBook& book) noexcept {
  return kraken_checksum(book, book.price_scale(), book.qty_scale());
}

// KrakenChecksumCache recomputes only when the book's top 10 may have changed
// (OrderBook::top_version); otherwise the previous value is returned in a few cycles.
// When it does recompute, the digit text of the levels that are still in the top 10 with
// the same price and quantity (typically all but one, shifted by at most one place) is
// copied from the previous computation instead of being formatted again, a run of
// consecutive levels at a time (typically two runs: above and below the changed level).
// Each side keeps its own text, so a side whose top 10 did not change costs ten compares;
// when that is the asks (first in the input) their CRC is reused too, and the CRC runs
// over the bids' text only. The result is identical
// to kraken_checksum(book) (tested differentially in tests/book/kraken_checksum_test.cpp).
class KrakenChecksumCache {
 public:
  std::uint32_t get(const OrderBook& book) noexcept {
    if (!valid_ || version_ != book.top_version() || book_ != &book || price_scale_ != book.price_scale() ||
        qty_scale_ != book.qty_scale()) {
      recompute(book);
    }
    return value_;
  }
  void invalidate() noexcept { valid_ = false; }  // nothing is reused until recomputed

 private:
  static constexpr std::size_t kSideTextMax = kKrakenChecksumLevels * 2 * 19;  // 19 digits a number at most
  // SideText: one side's part of a computation: its top levels, best first, and their
  // digit text, level i's being bytes[offset[i], offset[i + 1]).
  struct SideText {
    Level levels[kKrakenChecksumLevels];
    std::uint16_t offset[kKrakenChecksumLevels + 1] = {};
    std::size_t count = 0;
    char bytes[kSideTextMax + kDigitTextSlack];
  };
  // rebuild makes texts[current] hold `levels`' top (switching `current` to the other of
  // the pair when they changed; false when they did not).
  template <typename SideT>
  static bool rebuild(const SideT& levels, SideText (&texts)[2], int& current, bool reuse) noexcept;
  void recompute(const OrderBook& book) noexcept;

  const OrderBook* book_ = nullptr;
  std::uint64_t version_ = 0;
  std::uint32_t value_ = 0;
  int price_scale_ = -1;
  int qty_scale_ = -1;
  bool valid_ = false;
  SideText asks_[2], bids_[2];  // each side's current text and the one rebuilt next
  int asks_current_ = 0, bids_current_ = 0;
  std::uint32_t asks_crc_ = 0;  // crc32 of the current asks' text, where the bids' CRC starts
};

}  // namespace obr::book
