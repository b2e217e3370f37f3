// tools/sim/market.h — the exchange simulator's market: the Market interface, and the
// seeded, deterministic synthetic L2 market (recorded_market.h plays back recordings).
//
// SyntheticMarket keeps the true full-depth book of several symbols and moves it one
// event (a Change) at a time with a realistic, top-heavy mix: quantity changes, deletes and
// inserts on empty ticks, mostly among the best ten levels and some deep, plus occasional
// trades that take out the best level and so move the mid. The market knows no venue: each
// venue's piece of the simulator (venue_piece.h) turns a Change into that venue's frames
// (one delta per sequence number, or a depth view of the truth, as the venue does).
//
//   std::vector<obr::sim::SymbolSpec> specs(1);
//   specs[0].name = "BTC/USD";
//   specs[0].mid = 630000;                          // 63000.0 at price_scale 1
//   obr::sim::SyntheticMarket market(std::move(specs), /*seed=*/42);
//   const obr::sim::Change& c = market.next();      // already applied to the truth
//   // c.deltas: what changed; market.bids(0) / asks(0): the truth after it
//
// Determinism: everything comes from one SplitMix64 stream seeded by the constructor, with
// no std:: distributions (their output differs between standard libraries), so a seed
// gives the same market on every platform. tests/tools/sim_market_test.cpp pins a
// fingerprint of the first events of one seed.
//
// Thread-safety: none; a SyntheticMarket belongs to one thread. It is a value: a copy
// continues with exactly the events the original would produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "book/level.h"

namespace obr::sim {

// SymbolSpec describes one simulated instrument. Prices are int64 units of
// 10^-price_scale, quantities units of 10^-qty_scale (as in obr::book).
struct SymbolSpec {
  std::string name;          // the venue's own spelling: "BTC/USD", "BTC-USDT", ...
  int price_scale = 1;       // decimals of a price, 0..18
  int qty_scale = 8;         // decimals of a quantity, 0..18
  std::int64_t mid = 0;      // starting mid price in price units; tick <= mid <= 2^52
  std::int64_t tick = 1;     // price step in price units; > 0. Every price is a multiple of it
  std::size_t levels = 200;  // levels per side the true book keeps (the refill reservoir); > 0
};

// LevelDelta is one level update: qty > 0 sets the level, qty 0 deletes it.
struct LevelDelta {
  obr::book::Side side = obr::book::Side::kBid;
  std::int64_t price = 0;
  std::int64_t qty = 0;

  friend bool operator==(const LevelDelta&, const LevelDelta&) = default;
};

// Change is one market event on one symbol: 1..kMaxDeltas deltas applied in order. No price
// appears twice on the same side within one Change (KuCoin pushes only the latest update of
// a price per message; keeping them distinct lets the simulator send every delta as is).
struct Change {
  std::size_t symbol = 0;           // index into the specs
  std::int64_t sequence = 0;        // per symbol; the last delta's sequence
  std::int64_t first_sequence = 0;  // the first delta's: sequence - deltas.size() + 1
  std::vector<LevelDelta> deltas;

  friend bool operator==(const Change&, const Change&) = default;
};

// The most deltas one Change carries.
inline constexpr std::size_t kMaxDeltas = 4;
// The largest quantity the market generates, in quantity units.
inline constexpr std::int64_t kMaxQty = 1'000'000'000;

namespace detail {

// SplitMix64 (Steele, Lea and Flood, "Fast Splittable Pseudorandom Number Generators",
// OOPSLA 2014): a 64-bit state, full period, passes BigCrush; plenty for a synthetic market
// and trivially identical everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // below returns a value in [0, n); n > 0. The modulo bias (< n / 2^64) is irrelevant here.
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
  // percent is true with probability p / 100.
  bool percent(std::uint64_t p) noexcept { return below(100) < p; }

 private:
  std::uint64_t state_;
};

}  // namespace detail

// Market is what the simulator serves: the true full-depth book of each symbol, moved one
// Change at a time. SyntheticMarket generates one; RecordedMarket (recorded_market.h)
// plays one back from a recording.
class Market {
 public:
  virtual ~Market() = default;

  virtual std::size_t symbol_count() const noexcept = 0;
  // Precondition for every accessor taking a symbol index: i < symbol_count().
  virtual const SymbolSpec& spec(std::size_t i) const noexcept = 0;
  // bids/asks: the true full book of symbol i, best first. The span stays valid until the
  // next call to next().
  virtual std::span<const obr::book::Level> bids(std::size_t i) const noexcept = 0;
  virtual std::span<const obr::book::Level> asks(std::size_t i) const noexcept = 0;
  std::span<const obr::book::Level> levels(std::size_t i, obr::book::Side side) const noexcept {
    return side == obr::book::Side::kBid ? bids(i) : asks(i);
  }
  // sequence is the last sequence of symbol i: 0 before its first Change, then the Change's
  // `sequence`. A snapshot of the truth taken now corresponds to this sequence.
  virtual std::int64_t sequence(std::size_t i) const noexcept = 0;
  // next moves the market by one event, applies it to the truth and returns it (valid until
  // the next call). Never empty: every Change carries at least one delta.
  virtual const Change& next() = 0;
  // next_at_ns is when the event next() returns happens on the market's own clock (ns since
  // play began, never decreasing), or -1 for a market without a clock: the simulator then
  // paces it at SimConfig::changes_per_s. A recording with times has a clock.
  virtual std::int64_t next_at_ns() const noexcept { return -1; }
};

// play_due plays the events of a clocked `market` due by `now_ns` on its clock, at most
// `cap` of them, handing each Change to `send`, and returns how many it played. When the
// cap stops it, `clock_ns` (the clock `now_ns` was read from) is held back to the market's
// next event, so no backlog builds up: a stall or a huge speed slows the market instead,
// and the clock stays in range.
template <typename Send>
std::size_t play_due(Market& market, std::int64_t now_ns, double& clock_ns, std::size_t cap, Send&& send) {
  std::size_t n = 0;
  for (; n < cap && market.next_at_ns() <= now_ns; ++n) send(market.next());
  if (n == cap) {
    const auto next_ns = static_cast<double>(market.next_at_ns());
    if (next_ns < clock_ns) clock_ns = next_ns;
  }
  return n;
}

// apply_delta applies one delta to a best-first side (qty 0 deletes; deleting an absent
// price does nothing). O(levels) for an insert or delete.
void apply_delta(std::vector<obr::book::Level>& best_first, const LevelDelta& delta);

// SyntheticMarket generates the market. See the file comment.
//
// The book of a symbol starts with its best bid at `mid` rounded down to a tick and its best
// ask one tick above, then `levels` levels per side spaced one to four ticks apart (bids
// stop before reaching price 0). After every event each side holds between
// levels - levels/16 and levels + levels/16 levels (kept there by refilling below the worst
// level or deleting it, inside the same Change), unless bids run out of positive prices.
// The book is never crossed and never empties; quantities are in 1..kMaxQty.
class SyntheticMarket final : public Market {
 public:
  // Throws std::invalid_argument when `specs` is empty or a spec breaks the preconditions
  // stated on SymbolSpec. Control path: allocates the books.
  SyntheticMarket(std::vector<SymbolSpec> specs, std::uint64_t seed);

  std::size_t symbol_count() const noexcept override { return specs_.size(); }
  const SymbolSpec& spec(std::size_t i) const noexcept override { return specs_[i]; }

  // bids/asks: the true full book of symbol i, best first (see Market). A side's storage
  // may move when it grows.
  std::span<const obr::book::Level> bids(std::size_t i) const noexcept override { return books_[i].bids; }
  std::span<const obr::book::Level> asks(std::size_t i) const noexcept override { return books_[i].asks; }

  std::int64_t sequence(std::size_t i) const noexcept override { return books_[i].sequence; }

  // next generates the next event on a symbol drawn at random, applies it to the truth and
  // returns it. The reference is valid until the next call. Cost: a few random draws and
  // binary searches plus moving the levels above an inserted or deleted one (O(levels)
  // worst case); several million events per second. Allocates only while a side grows past
  // its largest size so far.
  const Change& next() override;

 private:
  struct Book {
    std::vector<obr::book::Level> bids;  // best first
    std::vector<obr::book::Level> asks;  // best first
    std::int64_t sequence = 0;
  };

  static std::vector<obr::book::Level>& side_of(Book& book, obr::book::Side side) noexcept {
    return side == obr::book::Side::kBid ? book.bids : book.asks;
  }

  void build(std::size_t i);
  obr::book::Side act(Book& book, const SymbolSpec& spec, std::size_t budget, std::optional<obr::book::Side> side);
  obr::book::Side trade_side(const Book& book, const SymbolSpec& spec) noexcept;
  void modify(Book& book, const SymbolSpec& spec, obr::book::Side side);
  void remove(Book& book, const SymbolSpec& spec, obr::book::Side side);
  void insert(Book& book, const SymbolSpec& spec, obr::book::Side side);
  void trade(Book& book, const SymbolSpec& spec, obr::book::Side side, std::size_t budget);
  void maintain(Book& book, const SymbolSpec& spec, obr::book::Side side);
  void emit(Book& book, obr::book::Side side, std::int64_t price, std::int64_t qty);
  bool touched(obr::book::Side side, std::int64_t price) const noexcept;
  std::size_t pick_top() noexcept;
  std::size_t pick_index(std::size_t n) noexcept;
  std::int64_t pick_gap_ticks() noexcept;
  std::int64_t random_qty(const SymbolSpec& spec) noexcept;
  std::int64_t changed_qty(const SymbolSpec& spec, std::int64_t old_qty) noexcept;

  std::vector<SymbolSpec> specs_;
  std::vector<Book> books_;
  detail::SplitMix64 rng_;
  Change change_;
};

// format_fixed writes `units` at `scale` with exactly `scale` decimals, as venues put
// fixed-precision numbers on the wire (Kraken v2's JSON numbers, KuCoin's strings):
// format_fixed(630049, 1) == "63004.9", format_fixed(1876947, 8) == "0.01876947". Precondition: 0 <= scale <= 18.
// Allocates.
std::string format_fixed(std::int64_t units, int scale);

}  // namespace obr::sim
