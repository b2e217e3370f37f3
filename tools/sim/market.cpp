// tools/sim/market.cpp — SyntheticMarket and format_fixed (see market.h).
#include "tools/sim/market.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <utility>

#include "book/decimal.h"

namespace obr::sim {
namespace {

using obr::book::Level;
using obr::book::Side;

// The event mix, in percent. Together with pick_index these give most deltas within the
// best ten levels, as on real BTC/USD and ETH/USD feeds. Orders placed (kInsertPercent) must
// outnumber the levels taken out at the top (deletes, trades) for the top of the book to stay
// dense: an order on a resting level only joins it (see insert), which is what balances them.
constexpr std::uint64_t kModifyPercent = 50;  // quantity change of a resting level
constexpr std::uint64_t kDeletePercent = 12;  // a level cancelled
constexpr std::uint64_t kInsertPercent = 30;  // an order placed: a new level, or joining one
// The rest (8%) are trades against the best level.
constexpr std::uint64_t kSecondActionPercent = 20;  // a second action, on the other side
// When the spread is wider than a tick, this share of inserts improves the quote inside it;
// trades and deletes at the top widen the spread, this is what narrows it back.
constexpr std::uint64_t kImproveQuotePercent = 60;
// Most quote improvements in a tight spread (at most kTightSpreadRoom empty ticks) are by one tick.
constexpr std::uint64_t kOneTickImprovePercent = 70;
constexpr std::int64_t kTightSpreadRoom = 3;
// Trade-side mean reversion (see trade_side).
constexpr std::int64_t kMaxReversionPercent = 40;
constexpr std::int64_t kReversionRange = 2;
// Share of actions aimed at the best ten levels (by kTopWeights); the rest pick any level.
constexpr std::uint64_t kTopPercent = 85;
// Relative weights of depth indexes 0..9 among top-aimed actions (sum 100).
constexpr std::uint64_t kTopWeights[10] = {30, 18, 12, 9, 8, 6, 5, 5, 4, 3};
// The widest gap, in ticks, between neighbouring levels of a fresh book or a refill.
constexpr std::int64_t kMaxGapTicks = 4;

// Far below int64 overflow for any price the market can reach from a mid this large.
constexpr std::int64_t kMaxMid = std::int64_t{1} << 52;

constexpr Side opposite(Side s) noexcept { return s == Side::kBid ? Side::kAsk : Side::kBid; }

// better(side, a, b): price a sits closer to the top of book than b.
constexpr bool better(Side side, std::int64_t a, std::int64_t b) noexcept { return side == Side::kBid ? a > b : a < b; }

// towards_top: +1 when better prices are higher (bids), -1 otherwise.
constexpr std::int64_t towards_top(Side side) noexcept { return side == Side::kBid ? 1 : -1; }

// position: index of `price` in a best-first side, or where it would be inserted.
std::size_t position(Side side, std::span<const Level> levels, std::int64_t price) noexcept {
  const auto it = std::lower_bound(levels.begin(), levels.end(), price,
                                   [side](const Level& l, std::int64_t p) { return better(side, l.price, p); });
  return static_cast<std::size_t>(it - levels.begin());
}

// set_level applies one delta to a best-first side (qty 0 deletes).
void set_level(std::vector<Level>& levels, Side side, std::int64_t price, std::int64_t qty) {
  const std::size_t i = position(side, levels, price);
  const auto at = levels.begin() + static_cast<std::ptrdiff_t>(i);
  if (i < levels.size() && levels[i].price == price) {
    if (qty == 0) {
      levels.erase(at);
    } else {
      levels[i].qty = qty;
    }
  } else if (qty != 0) {
    Level l;
    l.price = price;
    l.qty = qty;
    levels.insert(at, l);
  }
}

void check_spec(const SymbolSpec& s) {
  const std::string who = "SyntheticMarket: symbol '" + s.name + "': ";
  if (s.price_scale < 0 || s.price_scale > obr::book::kMaxScale || s.qty_scale < 0 ||
      s.qty_scale > obr::book::kMaxScale) {
    throw std::invalid_argument(who + "scales must be in 0..18");
  }
  if (s.tick <= 0) throw std::invalid_argument(who + "tick must be positive");
  if (s.mid < s.tick || s.mid > kMaxMid) throw std::invalid_argument(who + "mid must be in [tick, 2^52]");
  if (s.levels == 0) throw std::invalid_argument(who + "levels must be positive");
}

// Mixes the seed so that nearby seeds (1, 2, 3...) do not start from nearby states.
std::uint64_t mix_seed(std::uint64_t seed) noexcept { return detail::SplitMix64(seed).next(); }

}  // namespace

void apply_delta(std::vector<Level>& best_first, const LevelDelta& delta) {
  set_level(best_first, delta.side, delta.price, delta.qty);
}

SyntheticMarket::SyntheticMarket(std::vector<SymbolSpec> specs, std::uint64_t seed)
    : specs_(std::move(specs)), rng_(mix_seed(seed)) {
  if (specs_.empty()) throw std::invalid_argument("SyntheticMarket: no symbols");
  for (const SymbolSpec& s : specs_) check_spec(s);
  books_.resize(specs_.size());
  for (std::size_t i = 0; i < specs_.size(); ++i) build(i);
  change_.deltas.reserve(kMaxDeltas);
}

void SyntheticMarket::build(std::size_t i) {
  const SymbolSpec& spec = specs_[i];
  Book& book = books_[i];
  // Room for the band above `levels` (see maintain) so steady state never reallocates.
  const std::size_t capacity = spec.levels + spec.levels / 16 + kMaxDeltas;
  book.bids.reserve(capacity);
  book.asks.reserve(capacity);
  const std::int64_t best_bid = spec.mid / spec.tick * spec.tick;
  for (std::int64_t p = best_bid; p > 0 && book.bids.size() < spec.levels; p -= pick_gap_ticks() * spec.tick) {
    Level l;
    l.price = p;
    l.qty = random_qty(spec);
    book.bids.push_back(l);
  }
  for (std::int64_t p = best_bid + spec.tick; book.asks.size() < spec.levels; p += pick_gap_ticks() * spec.tick) {
    Level l;
    l.price = p;
    l.qty = random_qty(spec);
    book.asks.push_back(l);
  }
}

const Change& SyntheticMarket::next() {
  const std::size_t s = specs_.size() == 1 ? 0 : static_cast<std::size_t>(rng_.below(specs_.size()));
  const SymbolSpec& spec = specs_[s];
  Book& book = books_[s];
  change_.symbol = s;
  change_.deltas.clear();
  change_.first_sequence = book.sequence + 1;

  // At most two deltas of primary action, so that the two left always suffice to bring both
  // sides back into their size band (each primary delta moves one side's size by at most one).
  const Side first = act(book, spec, 2, std::nullopt);
  if (change_.deltas.size() == 1 && rng_.percent(kSecondActionPercent)) act(book, spec, 1, opposite(first));
  maintain(book, spec, Side::kBid);
  maintain(book, spec, Side::kAsk);

  book.sequence += static_cast<std::int64_t>(change_.deltas.size());
  change_.sequence = book.sequence;
  return change_;
}

// act performs one primary action using at most `budget` deltas (1 or 2), on `side` or, when
// none is given, on a side it draws, and returns the side it acted on.
Side SyntheticMarket::act(Book& book, const SymbolSpec& spec, std::size_t budget, std::optional<Side> side) {
  const std::uint64_t r = rng_.below(100);
  const bool is_trade = r >= kModifyPercent + kDeletePercent + kInsertPercent;
  const Side s = side ? *side : is_trade ? trade_side(book, spec) : rng_.below(2) == 0 ? Side::kBid : Side::kAsk;
  if (r < kModifyPercent) {
    modify(book, spec, s);
  } else if (r < kModifyPercent + kDeletePercent) {
    remove(book, spec, s);
  } else if (!is_trade) {
    insert(book, spec, s);
  } else {
    trade(book, spec, s, budget);
  }
  return s;
}

// trade_side: which side an aggressive order hits. Even odds at the starting mid; the further
// the mid has wandered from it, the more often trades push it back (up to kMaxReversionPercent
// points at kReversionRange percent away), so a long run neither drifts to zero nor away.
Side SyntheticMarket::trade_side(const Book& book, const SymbolSpec& spec) noexcept {
  // Twice the mid, to stay in integers: best bid + best ask.
  const std::int64_t twice_mid = book.bids.front().price + book.asks.front().price;
  const std::int64_t twice_anchor = 2 * spec.mid;
  // Percentage points of bias: the deviation in units of (kReversionRange% / kMaxReversionPercent).
  const std::int64_t unit = std::max<std::int64_t>(1, twice_anchor / (100 * kMaxReversionPercent) * kReversionRange);
  const std::int64_t bias =
      std::clamp<std::int64_t>((twice_mid - twice_anchor) / unit, -kMaxReversionPercent, kMaxReversionPercent);
  // Above the anchor, hit bids (the mid goes down) more often.
  return static_cast<std::int64_t>(rng_.below(100)) < 50 + bias ? Side::kBid : Side::kAsk;
}

void SyntheticMarket::modify(Book& book, const SymbolSpec& spec, Side side) {
  const std::vector<Level>& v = side_of(book, side);
  const Level l = v[pick_index(v.size())];
  emit(book, side, l.price, changed_qty(spec, l.qty));
}

void SyntheticMarket::remove(Book& book, const SymbolSpec& spec, Side side) {
  const std::vector<Level>& v = side_of(book, side);
  if (v.size() <= 1) return modify(book, spec, side);  // a side never empties
  emit(book, side, v[pick_index(v.size())].price, 0);
}

// insert places an order: usually inside a wide spread (improving the quote) or a few ticks
// behind the best, sometimes anywhere down to just below the worst level. On an empty tick
// that is a new level; on a resting one the order joins it. Aiming at ticks rather than at
// level indexes keeps the top of the book about as dense as real ones: the sparser it gets,
// the more of these orders open a level.
void SyntheticMarket::insert(Book& book, const SymbolSpec& spec, Side side) {
  const std::vector<Level>& v = side_of(book, side);
  const std::int64_t dir = towards_top(side);
  const std::int64_t best = v.front().price;
  const std::int64_t room = (side_of(book, opposite(side)).front().price - best) * dir / spec.tick - 1;
  if (room > 0 && rng_.percent(kImproveQuotePercent)) {
    // Usually one tick better, unless the spread is wide: then anywhere in it, which is what
    // keeps wide spreads rare.
    const bool one_tick = room <= kTightSpreadRoom && rng_.percent(kOneTickImprovePercent);
    const std::int64_t k = one_tick ? 1 : 1 + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(room)));
    return emit(book, side, best + dir * k * spec.tick, random_qty(spec));
  }
  std::int64_t ticks_behind = 0;
  if (rng_.percent(kTopPercent)) {
    ticks_behind = 1 + 2 * static_cast<std::int64_t>(pick_top()) + static_cast<std::int64_t>(rng_.below(2));
  } else {
    const std::int64_t span = (best - v.back().price) * dir / spec.tick + kMaxGapTicks;
    ticks_behind = 1 + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(span)));
  }
  const std::int64_t p = best - dir * ticks_behind * spec.tick;
  if (p <= 0) return modify(book, spec, side);
  const std::size_t i = position(side, v, p);
  if (i < v.size() && v[i].price == p) {
    const std::int64_t q = v[i].qty;
    const std::int64_t joined = q < kMaxQty ? std::min(kMaxQty, q + random_qty(spec)) : q - 1;
    return emit(book, side, p, joined);
  }
  emit(book, side, p, random_qty(spec));
}

// trade: an aggressive order from the other side fills against `side`'s best level: a
// partial fill (quantity down), the whole level (the mid moves), or a sweep of two levels.
void SyntheticMarket::trade(Book& book, const SymbolSpec& spec, Side side, std::size_t budget) {
  const std::vector<Level>& v = side_of(book, side);
  const std::uint64_t r = rng_.below(100);
  const Level best = v.front();
  if (r < 50 && best.qty > 1) {
    return emit(book, side, best.price,
                1 + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(best.qty - 1))));
  }
  if (v.size() <= 1) return modify(book, spec, side);
  emit(book, side, best.price, 0);
  if (r >= 85 && budget >= 2 && v.size() >= 2) emit(book, side, v.front().price, 0);
}

// maintain keeps the side within levels ± levels/16: refills below the worst level (the
// reservoir that deletes near the top draw from) or deletes the worst level, within the
// Change's remaining room. Never touches a price this Change already touched (the band
// holds all the same: the primary action moved each size by at most the room left).
void SyntheticMarket::maintain(Book& book, const SymbolSpec& spec, Side side) {
  const std::vector<Level>& v = side_of(book, side);
  const std::size_t slack = spec.levels / 16;
  const std::int64_t dir = towards_top(side);
  while (change_.deltas.size() < kMaxDeltas && v.size() < spec.levels - slack) {
    std::int64_t p = v.back().price - dir * pick_gap_ticks() * spec.tick;
    while (touched(side, p)) p -= dir * spec.tick;  // a level this Change deleted: go below it
    if (p <= 0) return;                             // bids ran out of positive prices
    emit(book, side, p, random_qty(spec));
  }
  while (change_.deltas.size() < kMaxDeltas && v.size() > spec.levels + slack) {
    // The worst level this Change has not touched (a Change touches at most kMaxDeltas).
    std::size_t k = v.size() - 1;
    while (k > 0 && touched(side, v[k].price)) --k;
    if (touched(side, v[k].price)) return;
    emit(book, side, v[k].price, 0);
  }
}

void SyntheticMarket::emit(Book& book, Side side, std::int64_t price, std::int64_t qty) {
  LevelDelta d;
  d.side = side;
  d.price = price;
  d.qty = qty;
  change_.deltas.push_back(d);
  set_level(side_of(book, side), side, price, qty);
}

bool SyntheticMarket::touched(Side side, std::int64_t price) const noexcept {
  return std::any_of(change_.deltas.begin(), change_.deltas.end(),
                     [&](const LevelDelta& d) { return d.side == side && d.price == price; });
}

// pick_top returns an index in [0, 10) drawn by kTopWeights.
std::size_t SyntheticMarket::pick_top() noexcept {
  std::uint64_t r = rng_.below(100);
  std::size_t i = 0;
  while (r >= kTopWeights[i]) r -= kTopWeights[i++];
  return i;
}

// pick_index returns a depth index in [0, n), top-heavy: kTopPercent of picks follow
// kTopWeights over the best ten, the rest are uniform over the whole side.
std::size_t SyntheticMarket::pick_index(std::size_t n) noexcept {
  if (rng_.percent(kTopPercent)) {
    const std::size_t i = pick_top();
    if (i < n) return i;
  }
  return static_cast<std::size_t>(rng_.below(n));
}

// pick_gap_ticks: the distance between neighbouring levels of a fresh book or a refill,
// mostly adjacent ticks, leaving some empty ticks for inserts.
std::int64_t SyntheticMarket::pick_gap_ticks() noexcept {
  const std::uint64_t r = rng_.below(100);
  if (r < 70) return 1;
  if (r < 90) return 2;
  return 3 + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(kMaxGapTicks - 2)));
}

// random_qty: log-uniform over up to six decades ending at 10^(qty_scale + 4), capped at
// kMaxQty (0.001 .. 10 BTC at qty_scale 8; 1 .. 10^4 lots at qty_scale 0).
std::int64_t SyntheticMarket::random_qty(const SymbolSpec& spec) noexcept {
  const int hi = std::min(9, spec.qty_scale + 4);
  const int lo = std::max(0, hi - 6);
  const int e = lo + static_cast<int>(rng_.below(static_cast<std::uint64_t>(hi - lo + 1)));
  return 1 + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(obr::book::pow10(e))));
}

// changed_qty: a new quantity different from `old_qty`, either a fresh draw or a nudge of
// up to half the old one either way.
std::int64_t SyntheticMarket::changed_qty(const SymbolSpec& spec, std::int64_t old_qty) noexcept {
  std::int64_t q = 0;
  if (rng_.percent(50)) {
    q = random_qty(spec);
  } else {
    const auto step = 1 + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(old_qty / 2 + 1)));
    q = rng_.percent(50) ? old_qty + step : old_qty - step;
    q = std::clamp<std::int64_t>(q, 1, kMaxQty);
  }
  if (q == old_qty) q = old_qty == 1 ? 2 : old_qty - 1;
  return q;
}

std::string format_fixed(std::int64_t units, int scale) { return obr::book::to_decimal_string(units, scale); }

}  // namespace obr::sim
