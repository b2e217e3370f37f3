// book/book_side.h — one side of an L2 book as a flat sorted array, best price at the back.
//
// The usual update lands near the top of the book, so keeping the best level at the end
// of a contiguous array means an insert or delete there moves only a few elements and
// the top of book is one load. An update within the best 2 * kWindow levels (nearly all
// of them) takes no data-dependent branch: its place is a count of the better prices among
// the top kWindow levels (then the next kWindow), and the levels above it move by one
// place as one fixed-size copy of the window. Deeper updates binary-search.
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
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <span>

#include "book/level.h"

// GCC turns element-shift loops into memmove calls; for the few levels moved near the top
// of book the call costs more than the copy.
#if defined(__GNUC__) && !defined(__clang__)
#define OBR_NO_LOOP_TO_MEMMOVE __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define OBR_NO_LOOP_TO_MEMMOVE
#endif

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace obr::book {

// How BookSide finds a price. kHybrid is the production choice (the branch-free window,
// then binary search); the others are plain searches over the whole side, kept so the
// benchmarks can show why (bench/book/book_bench.cpp).
enum class SearchPolicy : std::uint8_t { kHybrid, kLinear, kBinary };

template <Side S, SearchPolicy P = SearchPolicy::kHybrid>
class BookSide {
 public:
  // kHybrid: the top levels counted branch-free, kWindow at a time, two windows deep.
  static constexpr std::size_t kWindow = 16;
  // kHybrid's find() (and set() on a full side): levels scanned linearly from the top
  // before switching to binary search. kLinear scans them all.
  static constexpr std::size_t kLinearScanLevels = 32;

  BookSide() = default;
  BookSide(const BookSide& other) { copy_from(other); }
  BookSide& operator=(const BookSide& other) {
    if (this != &other) copy_from(other);
    return *this;
  }

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
  void reserve(std::size_t levels) {
    if (levels > capacity_) grow(levels);
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t capacity() const noexcept { return capacity_; }
  void clear() noexcept { size_ = 0; }

  // best returns the top level. Precondition: !empty().
  const Level& best() const noexcept { return data_[size_ - 1]; }

  // at returns the level `depth_index` places below the top (0 = best).
  // Precondition: depth_index < size().
  const Level& at(std::size_t depth_index) const noexcept { return data_[size_ - 1 - depth_index]; }

  // best_first iterates from the top of book downwards.
  auto best_first() const noexcept {
    using It = std::reverse_iterator<const Level*>;
    struct Range {
      It b, e;
      It begin() const noexcept { return b; }
      It end() const noexcept { return e; }
    };
    return Range{It(data_ + size_), It(data_)};
  }

  // worst_to_best is the storage order: the top of book is the last element.
  std::span<const Level> worst_to_best() const noexcept { return {data_, size_}; }

  // find returns the quantity at `price`, or 0 if the level is absent. O(log n) worst case.
  std::int64_t find(std::int64_t price) const noexcept {
    const std::size_t i = position(price);
    return (i < size_ && data_[i].price == price) ? data_[i].qty : 0;
  }

  // set applies one L2 update: qty > 0 inserts or modifies the level at `price`; qty 0
  // deletes it (deleting an absent price is kNone, not an error). Never throws; allocates
  // only if the side grows past its reserved capacity. Cost: within the top 2 * kWindow
  // levels, a count and a fixed-size move with no data-dependent branch; deeper, a binary
  // search plus a move of the levels above an inserted or deleted one.
  ApplyResult set(std::int64_t price, std::int64_t qty) noexcept {
    if constexpr (P == SearchPolicy::kHybrid) {
      const std::size_t n = size_;
      if (n < capacity_) [[likely]] {
        // When n < kWindow the window starts among the sentinels before data_.
        const WindowCount top = count_window(data_ + n - kWindow, price);
        if (top.better < kWindow) [[likely]]
          return set_near_top<kWindow>(price, qty, top.better, top.equal);
      }
      return set_below_top(price, qty);
    } else {
      return set_searched(price, qty);
    }
  }

  // erase deletes the level at `price`; same as set(price, 0).
  ApplyResult erase(std::int64_t price) noexcept { return set(price, 0); }

 private:
  // set_below_top: kHybrid's update of a price below the first window (or of a full
  // side): the second window, else a search. Out of line, so that set() stays small enough
  // for its callers to inline.
  [[gnu::noinline]] ApplyResult set_below_top(std::int64_t price, std::int64_t qty) noexcept {
    const std::size_t n = size_;
    if (n == capacity_ || n < kWindow) return set_at(price, qty, position(price));
    // set() counted the top kWindow levels: all of them are better than `price`.
    if (n < 2 * kWindow) return set_at(price, qty, lower(0, n - kWindow, price));
    const WindowCount next = count_window(data_ + n - 2 * kWindow, price);
    if (next.better < kWindow) return set_near_top<2 * kWindow>(price, qty, kWindow + next.better, next.equal);
    return set_at(price, qty, lower(0, n - 2 * kWindow, price));
  }

  // set_searched is set() by search: the whole update path of kLinear and kBinary.
  ApplyResult set_searched(std::int64_t price, std::int64_t qty) noexcept {
    return set_at(price, qty, position(price));
  }

  // set_at applies the update at index i, the price's index or where it goes (position()).
  ApplyResult set_at(std::int64_t price, std::int64_t qty, std::size_t i) noexcept {
    const std::size_t n = size_;
    Level* d = data_;
    if (i < n && d[i].price == price) {
      const auto depth_index = static_cast<std::uint32_t>(n - 1 - i);
      if (qty == 0) {
        shift_down(d + i, n - 1 - i);  // close the hole: the levels above move down one
        size_ = n - 1;
        return {LevelChange::kDeleted, depth_index};
      }
      d[i].qty = qty;
      return {LevelChange::kModified, depth_index};
    }
    const auto depth_index = static_cast<std::uint32_t>(n - i);
    if (qty == 0) return {LevelChange::kNone, depth_index};
    if (n == capacity_) [[unlikely]] {
      grow_for_one_more();
      d = data_;
    }
    shift_up(d + i, n - i);  // open a hole: the levels above move up one
    d[i] = Level{price, qty};
    size_ = n + 1;
    return {LevelChange::kInserted, depth_index};
  }

  // count_window counts, among the kWindow levels from `w`, those better than `price`
  // and those equal to it (at most one). Every load is one whole level (16 bytes): it lies
  // inside one store of an earlier window move, so store-to-load forwarding works (a
  // 32-byte load straddling two of those stores would wait for them to reach the cache).
  struct WindowCount {
    std::size_t better;
    bool equal;
  };
  static WindowCount count_window(const Level* w, std::int64_t price) noexcept {
#if defined(__AVX2__)
    const __m256i p = _mm256_set1_epi64x(price);
    __m256i better_count = _mm256_setzero_si256();  // lanes 0 and 2 count prices; 1 and 3 are junk
    __m256i equal_count = _mm256_setzero_si256();
    for (std::size_t k = 0; k < kWindow; k += 2) {
      const __m256i two =
          _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + k))),
                                  _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + k + 1)), 1);
      const __m256i gt = S == Side::kBid ? _mm256_cmpgt_epi64(two, p) : _mm256_cmpgt_epi64(p, two);
      better_count = _mm256_sub_epi64(better_count, gt);
      equal_count = _mm256_sub_epi64(equal_count, _mm256_cmpeq_epi64(two, p));
    }
    auto lanes_0_and_2 = [](__m256i v) {
      return _mm_cvtsi128_si64(_mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
    };
    return {static_cast<std::size_t>(lanes_0_and_2(better_count)), lanes_0_and_2(equal_count) != 0};
#else
    WindowCount c{0, false};
    for (std::size_t k = 0; k < kWindow; ++k) {
      c.better += static_cast<std::size_t>(better(w[k].price, price));
      c.equal = c.equal || w[k].price == price;
    }
    return c;
#endif
  }

  // set_near_top applies an update whose price belongs `c` levels below the top, c < W;
  // `equal`: the window holds a level at that price (which, when c == size_, is a sentinel
  // and does not count). Precondition: size_ < capacity_ (so the W + 1 levels the move
  // touches past the top are spare storage). The levels above an insert or delete move by
  // one place as one copy of W levels, the same whatever c is.
  template <std::size_t W>
  ApplyResult set_near_top(std::int64_t price, std::int64_t qty, std::size_t c, bool equal) noexcept {
    const std::size_t n = size_;
    Level* const d = data_;
    const bool found = (c < n) & equal;
    const bool zero = qty == 0;
    const auto ins = static_cast<std::size_t>(!found & !zero);
    const auto del = static_cast<std::size_t>(found & zero);
    const std::size_t at = n - c - static_cast<std::size_t>(found);  // the level's index, or where it goes
#if defined(__AVX2__)
    // The move goes through registers, two levels per register, all loaded before any is
    // stored; then d[at] becomes the new level, or (a delete, an absent delete) the first
    // level moved, without a branch.
    __m256i moved[W / 2];
    for (std::size_t k = 0; k < W / 2; ++k) {
      moved[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + at + del + 2 * k));
    }
    for (std::size_t k = 0; k < W / 2; ++k) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + at + ins + 2 * k), moved[k]);
    }
    const __m128i fresh = _mm_set_epi64x(qty, price);
    const __m128i keep = _mm_set1_epi64x(-static_cast<std::int64_t>(zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + at),
                     _mm_blendv_epi8(fresh, _mm256_castsi256_si128(moved[0]), keep));
#else
    std::memmove(d + at + ins, d + at + del, W * sizeof(Level));
    if (!zero) d[at] = Level{price, qty};
#endif
    size_ = n + ins - del;
    static constexpr LevelChange kChange[2][2] = {{LevelChange::kInserted, LevelChange::kNone},
                                                  {LevelChange::kModified, LevelChange::kDeleted}};
    return {kChange[found][zero], static_cast<std::uint32_t>(c)};
  }

 public:
  // can_rescale: every price and quantity times these factors still fits int64.
  bool can_rescale(std::int64_t price_mult, std::int64_t qty_mult) const noexcept {
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 0; i < size_; ++i) {
      if (data_[i].price > max / price_mult || data_[i].qty > max / qty_mult) return false;
    }
    return true;
  }
  // rescale multiplies every price and quantity (a change of units; order is kept).
  // Precondition: can_rescale(price_mult, qty_mult).
  void rescale(std::int64_t price_mult, std::int64_t qty_mult) noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
      data_[i].price *= price_mult;
      data_[i].qty *= qty_mult;
    }
  }

  // truncate keeps the best `depth` levels and drops the rest (the worst, at the front).
  // Returns how many were dropped.
  std::size_t truncate(std::size_t depth) noexcept {
    if (size_ <= depth) return 0;
    const std::size_t drop = size_ - depth;
    std::memmove(data_, data_ + drop, depth * sizeof(Level));
    size_ = depth;
    return drop;
  }

  // assign replaces the whole side with `levels` given in any order (usually best first,
  // as venues send snapshots). Zero quantities are dropped; when a price repeats, the
  // later entry wins. Cost: O(n) for input sorted best first, else O(n log n).
  void assign(std::span<const Level> levels) {
    reserve(levels.size());
    if (!levels.empty()) std::memcpy(data_, levels.data(), levels.size() * sizeof(Level));
    size_ = levels.size();
    normalize();
  }

  // Incremental snapshot building for decoders that parse straight into the side:
  // snapshot_begin(), snapshot_add() per level, snapshot_end() to sort and clean up.
  void snapshot_begin() noexcept { size_ = 0; }
  void snapshot_add(Level l) {
    if (size_ == capacity_) [[unlikely]]
      grow_for_one_more();
    data_[size_++] = l;
  }
  void snapshot_end() { normalize(); }

 private:
  // worse(a, b): storage order, worst first.
  static constexpr bool worse(std::int64_t a, std::int64_t b) noexcept { return better(b, a); }

  // position returns the index of `price` if present, else where it would be inserted.
  std::size_t position(std::int64_t price) const noexcept {
    const std::size_t n = size_;
    const Level* d = data_;
    if constexpr (P == SearchPolicy::kBinary) {
      return lower(0, n, price);
    } else {
      const std::size_t stop = (P == SearchPolicy::kLinear || n <= kLinearScanLevels) ? 0 : n - kLinearScanLevels;
      std::size_t k = n;
      // Four levels per step: one well-predicted branch per four compares.
      while (k >= stop + 4 && better(d[k - 4].price, price)) k -= 4;
      while (k > stop && better(d[k - 1].price, price)) --k;
      if (k == stop && stop != 0) return lower(0, stop, price);
      return k == 0 || d[k - 1].price != price ? k : k - 1;
    }
  }

  // lower: first index in [lo, hi) whose price is not worse than `price`.
  std::size_t lower(std::size_t lo, std::size_t hi, std::int64_t price) const noexcept {
    const Level* d = data_;
    const Level* it =
        std::lower_bound(d + lo, d + hi, price, [](const Level& l, std::int64_t p) { return worse(l.price, p); });
    return static_cast<std::size_t>(it - d);
  }

  // Short moves (the usual case near the top) are an inline loop; long ones memmove.
  static constexpr std::size_t kInlineShift = 16;
  OBR_NO_LOOP_TO_MEMMOVE static void shift_up(Level* from, std::size_t count) noexcept {
    if (count > kInlineShift) {
      std::memmove(from + 1, from, count * sizeof(Level));
      return;
    }
    for (std::size_t j = count; j > 0; --j) from[j] = from[j - 1];
  }
  OBR_NO_LOOP_TO_MEMMOVE static void shift_down(Level* to, std::size_t count) noexcept {
    if (count > kInlineShift) {
      std::memmove(to, to + 1, count * sizeof(Level));
      return;
    }
    for (std::size_t j = 0; j < count; ++j) to[j] = to[j + 1];
  }

  // Storage: kFront sentinel levels, priced so that they are never better than any price
  // (a window that reaches below the worst level counts nothing there, and a sentinel
  // equal to the price is told apart by c == size_); then capacity_ levels; then kBack
  // spare levels, which the window moves copy past the top (at most 2 * kWindow).
  static constexpr std::size_t kFront = kWindow;
  static constexpr std::size_t kBack = 2 * kWindow + 2;
  static constexpr std::int64_t kSentinel =
      S == Side::kBid ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();

  void grow(std::size_t capacity) {
    auto bigger = std::make_unique<Level[]>(kFront + capacity + kBack);  // zeroed: spare levels are read
    for (std::size_t i = 0; i < kFront; ++i) bigger[i].price = kSentinel;
    if (size_ != 0) std::memcpy(bigger.get() + kFront, data_, size_ * sizeof(Level));
    storage_ = std::move(bigger);
    data_ = storage_.get() + kFront;
    capacity_ = capacity;
  }

  void grow_for_one_more() { grow(capacity_ == 0 ? 16 : 2 * capacity_); }

  void copy_from(const BookSide& other) {
    size_ = 0;
    reserve(other.size_);
    if (other.size_ != 0) std::memcpy(data_, other.data_, other.size_ * sizeof(Level));
    size_ = other.size_;
  }

  void normalize() {
    Level* b = data_;
    Level* e = b + size_;
    auto storage_order = [](const Level& x, const Level& y) { return worse(x.price, y.price); };
    auto best_first_order = [](const Level& x, const Level& y) { return better(x.price, y.price); };
    // Reverse first so that the entry that came last in the input comes first among
    // equal prices; input sorted best first (as venues send snapshots) is then done.
    const bool sorted_best_first = std::is_sorted(b, e, best_first_order);
    std::reverse(b, e);
    if (!sorted_best_first) std::stable_sort(b, e, storage_order);
    // The later input entry of a repeated price is now first in its run: keep it.
    e = std::unique(b, e, [](const Level& x, const Level& y) { return x.price == y.price; });
    e = std::remove_if(b, e, [](const Level& l) { return l.qty == 0; });
    size_ = static_cast<std::size_t>(e - b);
  }

  std::unique_ptr<Level[]> storage_;  // kFront sentinels, the levels, kBack spare levels
  Level* data_ = nullptr;             // sorted worst -> best; data_[size_ - 1] is the top of book
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

using BidSide = BookSide<Side::kBid>;
using AskSide = BookSide<Side::kAsk>;

}  // namespace obr::book
