// book/level.h — the vocabulary of a price level.
//
// A Level is a price and a quantity, both as int64 units of the book's scales
// (see book/decimal.h). Value type, cheap to copy.
#pragma once

#include <cstdint>

namespace obr::book {

// Side names which half of the book a level belongs to.
enum class Side : std::uint8_t { kBid = 0, kAsk = 1 };

// Level is one price level: `price` in 10^-price_scale units, `qty` in 10^-qty_scale units.
struct Level {
  std::int64_t price = 0;
  std::int64_t qty = 0;

  friend constexpr bool operator==(const Level&, const Level&) = default;
};

// LevelChange says what one level update did to a side.
enum class LevelChange : std::uint8_t {
  kNone = 0,  // a delete of a price that was not there: nothing changed
  kInserted,
  kModified,
  kDeleted,
};

// ApplyResult is what BookSide::set returns: the change and where it happened, counted
// from the best level (0 = top of book). For kNone, `depth_index` is the index the price
// would have had.
struct ApplyResult {
  LevelChange change = LevelChange::kNone;
  std::uint32_t depth_index = 0;
};

}  // namespace obr::book
