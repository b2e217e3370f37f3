// book/okx_checksum.h — OKX's order-book CRC32 (the `checksum` field of the `books`
// channels, docs/venues/okx.md "Checksum").
//
// The input is the top 25 bids and asks interleaved, `bid1px:bid1sz:ask1px:ask1sz:bid2px:…`
// (a side with fewer levels simply ends: the other side's levels follow alone), each number
// as OKX writes it: plain decimal text without trailing fractional zeros ("3366.1", "7",
// "0.0001"). The CRC-32 is zlib's (book/crc32.h), compared as a signed 32-bit integer.
// Source: OKX's "Order book channel" documentation, with its two worked strings.
//
//   char buf[obr::book::kOkxChecksumInputMax];
//   std::size_t n = obr::book::okx_checksum_input(book, buf);   // "3366.1:7:3366.8:9:…"
//   std::int32_t crc = obr::book::okx_checksum(book);            // -1881014294
//   obr::book::OkxChecksumCache cache;                           // one per book
//   if (cache.get(book) != wire_checksum) { /* resubscribe this book */ }
//
// Thread-safety: pure functions; an OkxChecksumCache belongs to its book's thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "book/decimal.h"  // append_plain_decimal: the numbers as OKX writes them
#include "book/digit_text.h"
#include "book/order_book.h"

namespace obr::book {

// Levels per side the checksum covers.
inline constexpr std::size_t kOkxChecksumLevels = 25;
// Size of a buffer for the input: 50 levels x 2 numbers x at most 41 bytes (a sign, 19
// digits, a point, 18 leading fractional zeros and colons), plus the formatters' slack.
inline constexpr std::size_t kOkxChecksumInputMax = 2 * kOkxChecksumLevels * 2 * 42 + kDigitTextSlack;

// okx_checksum_input writes the string OKX hashes into `out` (kOkxChecksumInputMax bytes)
// and returns its length.
std::size_t okx_checksum_input(const OrderBook& book, char* out) noexcept;

// okx_checksum: the signed CRC-32 of okx_checksum_input. No allocation.
std::int32_t okx_checksum(const OrderBook& book) noexcept;

// OkxChecksumCache computes okx_checksum(book), the same value, keeping from the call
// before each side's top 25 levels with their text (":px:sz"), the interleaved input, and
// the CRC at every fifth level pair. Each call compares the book's top 25 of each side
// with the kept levels (OrderBook::top_version covers only the top 10, so it cannot say
// that levels 11 to 25 are unchanged). When both sides match, the previous value is
// returned. Otherwise, from the first depth where either side changed: a level kept with
// the same price and size (wherever it moved: the two lists are walked in price order)
// keeps its text and only the others are written again; the interleaved input is copied
// again from there (a 32-byte copy a level); and the CRC resumes at the checkpoint at or
// above that depth. (OKX's input interleaves the sides level by level, so their CRCs
// cannot be kept apart and combined.) Nothing is reused after invalidate(), for another
// book or other scales. No allocation; about 8 KB. Tested against okx_checksum after
// every step of the OKX recording and of random books (tests/book/okx_checksum_test.cpp);
// cost in bench/README.md "OKX".
class OkxChecksumCache {
 public:
  std::int32_t get(const OrderBook& book) noexcept;
  void invalidate() noexcept { valid_ = false; }  // nothing is reused until recomputed

 private:
  // A level's text, ":px:sz", is at most 44 bytes: a number at a scale in [0, kMaxScale]
  // is at most 21 (a sign and 19 digits and a point, or a sign, "0." and 18 decimals). It
  // is copied as 32 bytes, or kSlotBytes when longer.
  static constexpr std::size_t kSlotBytes = 48;
  static constexpr std::size_t kSlots = 2 * kOkxChecksumLevels;  // a side's kept texts and its new ones
  static constexpr std::size_t kPairsPerCheckpoint = 5;
  static constexpr std::size_t kUnchanged = ~std::size_t{0};
  // SideText: one side's top levels, best first, and where each one's text is kept.
  struct SideText {
    Level levels[kOkxChecksumLevels] = {};
    std::uint8_t slot[kOkxChecksumLevels] = {};  // level i's text: text[slot[i]], len[slot[i]] bytes
    std::size_t count = 0;
    std::uint8_t len[kSlots] = {};
    char text[kSlots][kSlotBytes] = {};
  };
  // rebuild makes `side` hold `levels`' top; returns the first depth that changed.
  template <bool kBids, typename SideT>
  static std::size_t rebuild(const SideT& levels, SideText& side, bool reuse, int price_scale, int qty_scale) noexcept;

  const OrderBook* book_ = nullptr;
  int price_scale_ = -1;
  int qty_scale_ = -1;
  bool valid_ = false;
  std::int32_t value_ = 0;
  SideText bids_, asks_;
  // The input: level pair i (bid i then ask i, each where the side has it) at
  // buf_[pair_offset_[i], pair_offset_[i + 1]), the first byte (a ':') not hashed;
  // crc_at_[k]: the CRC up to pair 5k.
  std::uint16_t pair_offset_[kOkxChecksumLevels + 1] = {};
  std::uint32_t crc_at_[kOkxChecksumLevels / kPairsPerCheckpoint + 2] = {};
  char buf_[2 * kOkxChecksumLevels * kSlotBytes] = {};  // 49 texts of 44 bytes and a 48-byte copy
};

}  // namespace obr::book
