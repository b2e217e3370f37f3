// tools/sim/kraken_piece.cpp — the simulator's Kraken v2 piece (see kraken_piece.h).
#include "tools/sim/kraken_piece.h"

#include <algorithm>

namespace obr::sim {
namespace {

using obr::book::Level;
using obr::book::Side;

// better(side, a, b): price a sits closer to the top of book than b.
constexpr bool better(Side side, std::int64_t a, std::int64_t b) noexcept { return side == Side::kBid ? a > b : a < b; }

}  // namespace

void kraken_depth_diff(Side side, std::span<const Level> before_top, std::span<const Level> after_top,
                       std::size_t depth, std::vector<LevelDelta>& out) {
  out.clear();
  if (depth == 0) return;
  const std::span<const Level> before = before_top.first(std::min(before_top.size(), depth));
  const std::span<const Level> after = after_top.first(std::min(after_top.size(), depth));
  const bool after_full = after.size() == depth;
  LevelDelta d;
  d.side = side;

  // Deletes: a level gone from the new top that is better than its worst (or any gone level
  // when the new top is not full) cannot have been pushed out, so the truth deleted it.
  std::size_t j = 0;
  for (const Level& b : before) {
    while (j < after.size() && better(side, after[j].price, b.price)) ++j;
    if (j < after.size() && after[j].price == b.price) continue;
    if (!after_full || better(side, b.price, after.back().price)) {
      d.price = b.price;
      d.qty = 0;
      out.push_back(d);
    }
  }
  // Sets: new, changed and pulled-up (refill) levels of the new top.
  std::size_t i = 0;
  for (const Level& a : after) {
    while (i < before.size() && better(side, before[i].price, a.price)) ++i;
    if (i < before.size() && before[i] == a) continue;
    d.price = a.price;
    d.qty = a.qty;
    out.push_back(d);
  }
}

std::vector<LevelDelta> kraken_depth_diff(Side side, std::span<const Level> before_top,
                                          std::span<const Level> after_top, std::size_t depth) {
  std::vector<LevelDelta> out;
  kraken_depth_diff(side, before_top, after_top, depth, out);
  return out;
}

std::string kraken_v2_book_frame(const SymbolSpec& spec, bool snapshot, std::span<const LevelDelta> bids,
                                 std::span<const LevelDelta> asks, std::uint32_t checksum, std::string_view timestamp) {
  std::string out;
  out.reserve(96 + 48 * (bids.size() + asks.size()));
  out += R"({"channel":"book","type":")";
  out += snapshot ? "snapshot" : "update";
  out += R"(","data":[{"symbol":")";
  out += spec.name;
  out += "\",";
  for (int side = 0; side < 2; ++side) {
    out += side == 0 ? R"("bids":[)" : R"(],"asks":[)";
    bool first = true;
    for (const LevelDelta& d : side == 0 ? bids : asks) {
      if (!first) out += ',';
      first = false;
      out += R"({"price":)";
      out += format_fixed(d.price, spec.price_scale);
      out += R"(,"qty":)";
      out += format_fixed(d.qty, spec.qty_scale);
      out += '}';
    }
  }
  out += R"(],"checksum":)";
  out += std::to_string(checksum);
  out += R"(,"timestamp":")";
  out += timestamp;
  out += "\"}]}";
  return out;
}

}  // namespace obr::sim
