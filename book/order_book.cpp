#include "book/order_book.h"

#include "book/decimal.h"

namespace obr::book {

OrderBook::OrderBook(const BookConfig& config) : config_(config) {
  std::size_t reserve = config.reserve_levels;
  if (reserve == 0) {
    // A message may insert up to depth levels before truncation; leave room for that.
    reserve = config.depth_limit == 0 ? 1024 : 2 * config.depth_limit + 16;
  }
  bids_.reserve(reserve);
  asks_.reserve(reserve);
}

bool OrderBook::set_scales(int price_scale, int qty_scale) noexcept {
  if (!bids_.empty() || !asks_.empty()) return false;
  if (price_scale < 0 || qty_scale < 0 || price_scale > kMaxScale || qty_scale > kMaxScale) return false;
  config_.price_scale = price_scale;
  config_.qty_scale = qty_scale;
  return true;
}

bool OrderBook::rescale(int price_scale, int qty_scale) noexcept {
  if (price_scale < config_.price_scale || qty_scale < config_.qty_scale || price_scale > kMaxScale ||
      qty_scale > kMaxScale) {
    return false;
  }
  const std::int64_t pm = pow10(price_scale - config_.price_scale);
  const std::int64_t qm = pow10(qty_scale - config_.qty_scale);
  if (!bids_.can_rescale(pm, qm) || !asks_.can_rescale(pm, qm)) return false;
  bids_.rescale(pm, qm);
  asks_.rescale(pm, qm);
  config_.price_scale = price_scale;
  config_.qty_scale = qty_scale;
  ++top_version_;
  return true;
}

void OrderBook::replace(std::span<const Level> bids, std::span<const Level> asks) {
  bids_.assign(bids);
  asks_.assign(asks);
  truncate();
  ++top_version_;
}

void OrderBook::snapshot_begin() noexcept {
  bids_.snapshot_begin();
  asks_.snapshot_begin();
}

void OrderBook::snapshot_end() {
  bids_.snapshot_end();
  asks_.snapshot_end();
  truncate();
  ++top_version_;
}

std::size_t OrderBook::truncate() noexcept {
  if (config_.depth_limit == 0) return 0;
  const std::size_t dropped = bids_.truncate(config_.depth_limit) + asks_.truncate(config_.depth_limit);
  // Truncation only drops levels below the limit; they are inside the top only when the
  // limit itself is shallower than the top.
  if (dropped != 0 && config_.depth_limit < kTopDepth) ++top_version_;
  counters_.truncated_levels += dropped;
  return dropped;
}

void OrderBook::clear() noexcept {
  bids_.clear();
  asks_.clear();
  ++top_version_;
}

}  // namespace obr::book
