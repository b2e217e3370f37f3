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
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "book/digit_text.h"
#include "book/order_book.h"

namespace obr::book {

// Levels per side the checksum covers.
inline constexpr std::size_t kOkxChecksumLevels = 25;
// Size of a buffer for the input: 50 levels x 2 numbers x at most 41 bytes (a sign, 19
// digits, a point, 18 leading fractional zeros and colons), plus the formatters' slack.
inline constexpr std::size_t kOkxChecksumInputMax = 2 * kOkxChecksumLevels * 2 * 42 + kDigitTextSlack;

// append_plain_decimal writes `value` at `scale` as OKX writes numbers: no trailing
// fractional zeros and no point when nothing is left after it ("65140.40" at scale 2 is
// "65140.4"; 6514000 at scale 2 is "65140"; 0 is "0"), and returns the end. May write up to
// kDigitTextSlack bytes past the text. Precondition: 0 <= scale <= kMaxScale.
char* append_plain_decimal(char* out, std::int64_t value, int scale) noexcept;

// okx_checksum_input writes the string OKX hashes into `out` (kOkxChecksumInputMax bytes)
// and returns its length.
std::size_t okx_checksum_input(const OrderBook& book, char* out) noexcept;

// okx_checksum: the signed CRC-32 of okx_checksum_input. No allocation.
std::int32_t okx_checksum(const OrderBook& book) noexcept;

}  // namespace obr::book
