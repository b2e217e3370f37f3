// book/order_book.h — an L2 order book: two sides, scales, depth limit, state, counters.
//
//   obr::book::OrderBook book({.price_scale = 1, .qty_scale = 8, .depth_limit = 10});
//   book.replace(bids, asks);                       // a snapshot replaces, never merges
//   book.apply(obr::book::Side::kAsk, 630050, 0);   // delete a level
//   book.truncate();                                // once per message (Kraken)
//   if (book.is_crossed()) { ... }
//
// OrderBook tracks a `top_version` that changes whenever a level among the top
// kTopDepth of either side may have changed; checksum caches key on it.
//
// Thread-safety: none. A book is owned by one thread (its connection's); other threads
// read the engine's published top-of-book copy instead. Copy and move are deleted: a book
// is an identity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "book/book_side.h"
#include "book/book_state.h"
#include "book/level.h"

namespace obr::book {

// BookConfig fixes a book's units and limits at creation.
struct BookConfig {
  int price_scale = 0;             // decimals in a price unit (price = units * 10^-price_scale)
  int qty_scale = 0;               // decimals in a quantity unit
  std::size_t depth_limit = 0;     // levels kept per side after truncate(); 0 = unlimited
  std::size_t reserve_levels = 0;  // per side; 0 = a default from depth_limit
};

// BookCounters are the per-book figures every consumer (replay, metrics) reports.
struct BookCounters {
  std::uint64_t snapshots = 0;          // snapshots applied
  std::uint64_t updates = 0;            // update messages applied to a live book
  std::uint64_t levels_applied = 0;     // individual level changes applied
  std::uint64_t checks_passed = 0;      // integrity checks (checksum / sequence) that passed
  std::uint64_t checks_failed = 0;      // integrity checks that failed
  std::uint64_t resyncs_requested = 0;  // resubscribes / re-snapshots asked for
  std::uint64_t crossed = 0;            // times the book was found crossed
  std::uint64_t truncated_levels = 0;   // levels dropped by depth truncation
};

class OrderBook {
 public:
  // Levels counted as "the top" for top_version (the Kraken checksum depth).
  static constexpr std::size_t kTopDepth = 10;

  explicit OrderBook(const BookConfig& config);
  OrderBook(const OrderBook&) = delete;
  OrderBook& operator=(const OrderBook&) = delete;
  OrderBook(OrderBook&&) = delete;
  OrderBook& operator=(OrderBook&&) = delete;

  int price_scale() const noexcept { return config_.price_scale; }
  int qty_scale() const noexcept { return config_.qty_scale; }
  std::size_t depth_limit() const noexcept { return config_.depth_limit; }

  // set_scales changes the units. Only valid on an empty book (before a snapshot) and
  // for scales in [0, kMaxScale] (book/decimal.h); returns false and changes nothing
  // otherwise.
  bool set_scales(int price_scale, int qty_scale) noexcept;
  // rescale changes the units of a non-empty book to finer ones (scales may only grow),
  // multiplying every level. False, and nothing changed, when a scale would shrink or a
  // value overflow. For venues whose decimals vary per message (KuCoin).
  bool rescale(int price_scale, int qty_scale) noexcept;
  // set_depth_limit changes the truncation depth (0 = unlimited); takes effect at the next
  // truncate().
  void set_depth_limit(std::size_t depth) noexcept { config_.depth_limit = depth; }

  const BidSide& bids() const noexcept { return bids_; }
  const AskSide& asks() const noexcept { return asks_; }

  BookState state() const noexcept { return state_; }
  void set_state(BookState s) noexcept { state_ = s; }
  bool is_valid() const noexcept { return obr::book::is_valid(state_); }

  BookCounters& counters() noexcept { return counters_; }
  const BookCounters& counters() const noexcept { return counters_; }

  std::uint64_t top_version() const noexcept { return top_version_; }

  // replace loads a snapshot: both sides are replaced (never merged) from levels in any
  // order, zero quantities dropped, then truncated to the depth limit. Allocates only if
  // a side outgrows its reserve.
  void replace(std::span<const Level> bids, std::span<const Level> asks);

  // Incremental snapshot loading (decoders parse straight into the book, no temporary):
  // snapshot_begin(); snapshot_add(side, level)...; snapshot_end().
  void snapshot_begin() noexcept;
  void snapshot_add(Side side, Level level) {
    if (side == Side::kBid) {
      bids_.snapshot_add(level);
    } else {
      asks_.snapshot_add(level);
    }
  }
  void snapshot_end();

  // apply sets one level (qty 0 deletes). No truncation: call truncate() once the whole
  // message has been applied, since a later entry may delete a level and Kraken relies on
  // the level below it staying until then. Never throws.
  ApplyResult apply(Side side, std::int64_t price, std::int64_t qty) noexcept {
    const ApplyResult r = side == Side::kBid ? bids_.set(price, qty) : asks_.set(price, qty);
    if (r.change != LevelChange::kNone && r.depth_index < kTopDepth) ++top_version_;
    return r;
  }

  // truncate drops levels beyond the depth limit on both sides (no-op when unlimited).
  // Returns the number of levels dropped.
  std::size_t truncate() noexcept;

  // is_crossed: both sides non-empty and best bid >= best ask.
  bool is_crossed() const noexcept {
    return !bids_.empty() && !asks_.empty() && bids_.best().price >= asks_.best().price;
  }

  // clear empties both sides (state and counters are kept).
  void clear() noexcept;

 private:
  BookConfig config_;
  BidSide bids_;
  AskSide asks_;
  BookState state_ = BookState::kSubscribing;
  BookCounters counters_;
  std::uint64_t top_version_ = 0;
};

}  // namespace obr::book
