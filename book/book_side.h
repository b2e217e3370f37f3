// book/book_side.h — one side of an L2 book as a flat sorted array, best price at the back.
//
// The usual update lands near the top of the book, so keeping the best level at the end
// of a contiguous array means an insert or delete there moves only a few elements and
// the top of book is one load. Deep books stay fast because the search switches from a
// linear scan from the back to a binary search after kLinearScanLevels levels.
//
//   obr::book::BookSide<obr::book::Side::kBid> bids;
//   bids.reserve(64);
//   bids.set(630049, 1876947);  // insert or modify; qty 0 deletes
//   const obr::book::Level& best = bids.best();
//   for (const obr::book::Level& l : bids.best_first()) { ... }
//
// Thread-safety: none; a side belongs to one thread (the one that owns its OrderBook).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <vector>

#include "book/level.h"

namespace obr::book {

// How BookSide finds a price. kHybrid is the production choice; the others exist so the
// benchmarks can show why (bench/book/book_side_bench.cpp).
enum class SearchPolicy : std::uint8_t { kHybrid, kLinear, kBinary };

template <Side S, SearchPolicy P = SearchPolicy::kHybrid>
class BookSide {
 public:
  // Levels scanned linearly from the top before switching to binary search.
  static constexpr std::size_t kLinearScanLevels = 32;

  BookSide() = default;

  // better(a, b) is true when price a would sit closer to the top of book than b.
  static constexpr bool better(std::int64_t a, std::int64_t b) noexcept {
    if constexpr (S == Side::kBid) {
      return a > b;
    } else {
      return a < b;
    }
  }

  // reserve makes room for `levels` levels; after it, set() allocates nothing until the
  // side grows beyond that. PERFORMANCE: the only allocating call besides growth.
  void reserve(std::size_t levels) { levels_.reserve(levels); }

  std::size_t size() const noexcept { return levels_.size(); }
  bool empty() const noexcept { return levels_.empty(); }
  std::size_t capacity() const noexcept { return levels_.capacity(); }
  void clear() noexcept { levels_.clear(); }

  // best returns the top level. Precondition: !empty().
  const Level& best() const noexcept { return levels_.back(); }

  // at returns the level `depth_index` places below the top (0 = best).
  // Precondition: depth_index < size().
  const Level& at(std::size_t depth_index) const noexcept {
    return levels_[levels_.size() - 1 - depth_index];
  }

  // best_first iterates from the top of book downwards.
  auto best_first() const noexcept {
    struct Range {
      typename std::vector<Level>::const_reverse_iterator b, e;
      auto begin() const noexcept { return b; }
      auto end() const noexcept { return e; }
    };
    return Range{levels_.rbegin(), levels_.rend()};
  }

  // worst_to_best is the storage order: the top of book is the last element.
  std::span<const Level> worst_to_best() const noexcept { return levels_; }

  // find returns the quantity at `price`, or 0 if the level is absent. O(log n) worst case.
  std::int64_t find(std::int64_t price) const noexcept {
    const std::size_t i = position(price);
    return (i < levels_.size() && levels_[i].price == price) ? levels_[i].qty : 0;
  }

  // set applies one L2 update: qty > 0 inserts or modifies the level at `price`; qty 0
  // deletes it (deleting an absent price is kNone, not an error). Never throws; allocates
  // only if the side grows past its reserved capacity. Cost: the search plus a move of
  // the levels above an inserted or deleted one (few, for top-heavy flow).
  ApplyResult set(std::int64_t price, std::int64_t qty) noexcept {
    const std::size_t n = levels_.size();
    const std::size_t i = position(price);
    const auto depth_index = static_cast<std::uint32_t>(n - i - (i < n && levels_[i].price == price ? 1 : 0));
    if (i < n && levels_[i].price == price) {
      if (qty == 0) {
        levels_.erase(levels_.begin() + static_cast<std::ptrdiff_t>(i));
        return {LevelChange::kDeleted, depth_index};
      }
      levels_[i].qty = qty;
      return {LevelChange::kModified, depth_index};
    }
    if (qty == 0) return {LevelChange::kNone, depth_index};
    levels_.insert(levels_.begin() + static_cast<std::ptrdiff_t>(i), Level{price, qty});
    return {LevelChange::kInserted, depth_index};
  }

  // erase deletes the level at `price`; same as set(price, 0).
  ApplyResult erase(std::int64_t price) noexcept { return set(price, 0); }

  // truncate keeps the best `depth` levels and drops the rest (the worst, at the front).
  // Returns how many were dropped.
  std::size_t truncate(std::size_t depth) noexcept {
    if (levels_.size() <= depth) return 0;
    const std::size_t drop = levels_.size() - depth;
    levels_.erase(levels_.begin(), levels_.begin() + static_cast<std::ptrdiff_t>(drop));
    return drop;
  }

  // assign replaces the whole side with `levels` given in any order (usually best first,
  // as venues send snapshots). Zero quantities are dropped; when a price repeats, the
  // later entry wins. Cost: O(n) for input already sorted either way, else O(n log n).
  void assign(std::span<const Level> levels) {
    levels_.assign(levels.begin(), levels.end());
    normalize();
  }

  // Incremental snapshot building for decoders that parse straight into the side:
  // snapshot_begin(), snapshot_add() per level, snapshot_end() to sort and clean up.
  void snapshot_begin() noexcept { levels_.clear(); }
  void snapshot_add(Level l) { levels_.push_back(l); }
  void snapshot_end() { normalize(); }

 private:
  // worse(a, b): storage order, worst first.
  static constexpr bool worse(std::int64_t a, std::int64_t b) noexcept { return better(b, a); }

  // position returns the index of `price` if present, else where it would be inserted.
  std::size_t position(std::int64_t price) const noexcept {
    const std::size_t n = levels_.size();
    if constexpr (P == SearchPolicy::kBinary) {
      return lower(0, n, price);
    } else {
      const std::size_t limit = (P == SearchPolicy::kLinear || n <= kLinearScanLevels) ? n : kLinearScanLevels;
      const Level* data = levels_.data();
      std::size_t k = n;
      for (std::size_t scanned = 0; scanned < limit; ++scanned) {
        const std::int64_t p = data[k - 1].price;
        if (!worse(price, p)) return p == price ? k - 1 : k;
        --k;
      }
      return k == 0 ? 0 : lower(0, k, price);
    }
  }

  // lower: first index in [lo, hi) whose price is not worse than `price`.
  std::size_t lower(std::size_t lo, std::size_t hi, std::int64_t price) const noexcept {
    const auto it = std::lower_bound(levels_.begin() + static_cast<std::ptrdiff_t>(lo),
                                     levels_.begin() + static_cast<std::ptrdiff_t>(hi), price,
                                     [](const Level& l, std::int64_t p) { return worse(l.price, p); });
    return static_cast<std::size_t>(it - levels_.begin());
  }

  void normalize() {
    auto storage_order = [](const Level& a, const Level& b) { return worse(a.price, b.price); };
    auto best_first_order = [](const Level& a, const Level& b) { return better(a.price, b.price); };
    if (std::is_sorted(levels_.begin(), levels_.end(), best_first_order)) {
      std::reverse(levels_.begin(), levels_.end());
    } else if (!std::is_sorted(levels_.begin(), levels_.end(), storage_order)) {
      // Reverse first so that, after a stable sort, the entry that came last in the
      // input comes first among equal prices and wins the dedup below.
      std::reverse(levels_.begin(), levels_.end());
      std::stable_sort(levels_.begin(), levels_.end(), storage_order);
    } else {
      // Already in storage order: for equal prices keep the last, i.e. reverse runs.
      // Handled by the dedup below choosing the later element of each run.
      std::size_t w = 0;
      for (std::size_t r = 0; r < levels_.size(); ++r) {
        if (w > 0 && levels_[w - 1].price == levels_[r].price) {
          levels_[w - 1] = levels_[r];
        } else {
          levels_[w++] = levels_[r];
        }
      }
      levels_.resize(w);
      drop_zeros();
      return;
    }
    // After the reverse (or reverse + stable sort), the input's later entry of a repeated
    // price is first in its run: keep the first of each run.
    levels_.erase(std::unique(levels_.begin(), levels_.end(),
                              [](const Level& a, const Level& b) { return a.price == b.price; }),
                  levels_.end());
    drop_zeros();
  }

  void drop_zeros() {
    levels_.erase(std::remove_if(levels_.begin(), levels_.end(), [](const Level& l) { return l.qty == 0; }),
                  levels_.end());
  }

  std::vector<Level> levels_;  // sorted worst -> best; levels_.back() is the top of book
};

using BidSide = BookSide<Side::kBid>;
using AskSide = BookSide<Side::kAsk>;

}  // namespace obr::book
