// bench/book/book_bench.cpp — the book's update path against std::map and
// absl::btree_map sides, measured in the same binary.
//
// Workload "real": a stream generated once per depth (seeded) whose shape is measured
// from real data — the 4,272 level updates of the Kraken v1 book-1000 recording
// (tests/data/kraken-v1/KRAKEN.ws.50.0, 10 pairs): the depth index of each update was
// 18.8% at 0, 59.5% at 1-9, 18.0% at 10-24, 3.4% at 25-99, 0.3% at 100-499, none deeper;
// 37% inserts, 38% deletes, 25% modifies. Workload "deep" is a harsher stress mix for
// context: 70% top 10, 20% levels 10-99, 10% anywhere, 60% modifies.
// Each benchmark iteration applies one update, so "time" is ns/update and
// items_per_second is updates/s.
#include <absl/container/btree_map.h>
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "book/book_side.h"
#include "book/crc32.h"
#include "book/digit_text.h"
#include "book/kraken_checksum.h"
#include "book/okx_checksum.h"
#include "book/order_book.h"

namespace {

using obr::book::Level;
using obr::book::SearchPolicy;
using obr::book::Side;

constexpr std::int64_t kMid = 63'000'000;
constexpr std::size_t kStreamLength = 1 << 16;

enum class Mix { kReal, kDeep };

// Initial bid side: `depth` levels two ticks apart below the mid, best first.
std::vector<Level> initial_levels(std::size_t depth) {
  std::vector<Level> levels;
  for (std::size_t i = 0; i < depth; ++i) {
    levels.push_back(Level{kMid - 2 * static_cast<std::int64_t>(i), 1000 + static_cast<std::int64_t>(i)});
  }
  return levels;
}

std::size_t pick_index(std::mt19937_64& rng, Mix mix, std::size_t n) {
  const std::uint64_t r = rng() % 1000;
  std::size_t lo = 0, hi = n;
  if (mix == Mix::kReal) {
    if (r < 188) {
      hi = 1;
    } else if (r < 783) {
      lo = 1, hi = 10;
    } else if (r < 963) {
      lo = 10, hi = 25;
    } else if (r < 997) {
      lo = 25, hi = 100;
    } else {
      lo = 100, hi = 500;
    }
  } else {
    if (r < 700) {
      hi = 10;
    } else if (r < 900) {
      lo = 10, hi = 100;
    }
  }
  hi = std::min(hi, n);
  lo = std::min(lo, hi - 1);
  return lo + static_cast<std::size_t>(rng() % (hi - lo));
}

// The update stream, generated against a reference so that deletes and modifies hit
// existing levels, inserts land in free prices, and the side stays within 10% of `depth`.
const std::vector<Level>& update_stream(std::size_t depth, Mix mix) {
  static std::map<std::pair<std::size_t, Mix>, std::vector<Level>> cache;
  auto it = cache.find({depth, mix});
  if (it != cache.end()) return it->second;
  std::mt19937_64 rng(depth * 7919 + static_cast<std::size_t>(mix));
  std::vector<std::int64_t> prices;  // best first (descending)
  for (const Level& l : initial_levels(depth)) prices.push_back(l.price);
  std::vector<Level> ops;
  ops.reserve(kStreamLength);
  const std::size_t low = depth - depth / 10, high = depth + depth / 10 + 1;
  while (ops.size() < kStreamLength) {
    const std::size_t n = prices.size();
    const std::size_t i = pick_index(rng, mix, n);
    const std::uint64_t r = rng() % 100;
    const auto qty = 1 + static_cast<std::int64_t>(rng() % 100000);
    bool insert = mix == Mix::kReal ? r < 37 : r < 20;
    bool erase = mix == Mix::kReal ? (r >= 37 && r < 75) : (r >= 20 && r < 40);
    if (erase && n <= low) std::swap(insert, erase);
    if (insert && n >= high) std::swap(insert, erase);
    if (erase) {
      ops.push_back(Level{prices[i], 0});
      prices.erase(prices.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    if (insert) {
      // Just better than level i, or just worse, whichever price is free.
      const std::int64_t up = prices[i] + 1, down = prices[i] - 1;
      if (i == 0 || prices[i - 1] != up) {
        ops.push_back(Level{up, qty});
        prices.insert(prices.begin() + static_cast<std::ptrdiff_t>(i), up);
        continue;
      }
      if (i + 1 == n || prices[i + 1] != down) {
        ops.push_back(Level{down, qty});
        prices.insert(prices.begin() + static_cast<std::ptrdiff_t>(i) + 1, down);
        continue;
      }
    }
    ops.push_back(Level{prices[i], qty});
  }
  return cache.emplace(std::pair{depth, mix}, std::move(ops)).first->second;
}

// One adapter per competitor: load(levels) and set(price, qty).
template <SearchPolicy P>
struct Flat {
  obr::book::BookSide<Side::kBid, P> side;
  void load(const std::vector<Level>& l) {
    side.reserve(l.size() * 2 + 64);
    side.assign(l);
  }
  void set(std::int64_t p, std::int64_t q) { benchmark::DoNotOptimize(side.set(p, q)); }
  std::size_t size() const { return side.size(); }
};

struct StdMap {
  std::map<std::int64_t, std::int64_t, std::greater<>> m;
  void load(const std::vector<Level>& l) {
    m.clear();
    for (const Level& x : l) m.emplace(x.price, x.qty);
  }
  void set(std::int64_t p, std::int64_t q) {
    if (q == 0) {
      m.erase(p);
    } else {
      m.insert_or_assign(p, q);
    }
  }
  std::size_t size() const { return m.size(); }
};

struct AbslBtree {
  absl::btree_map<std::int64_t, std::int64_t, std::greater<>> m;
  void load(const std::vector<Level>& l) {
    m.clear();
    for (const Level& x : l) m.emplace(x.price, x.qty);
  }
  void set(std::int64_t p, std::int64_t q) {
    if (q == 0) {
      m.erase(p);
    } else {
      m.insert_or_assign(p, q);
    }
  }
  std::size_t size() const { return m.size(); }
};

// Ladder: NOT obr's layout. A price-indexed bid side (one quantity slot per tick over a
// fixed window of 2^16 ticks, an occupancy bitmap with a summary word per 64 words, the
// best index tracked), here only to measure the layout docs/architecture.md "Book core" does not choose, for the
// decision the update budget needs (bench/README.md). It leaves out what a product would
// need: prices outside the window (re-centring or an overflow side), the cost of walking
// the top N for the checksum, and a snapshot's clearing of the window.
struct Ladder {
  static constexpr std::size_t kTicks = 1 << 16, kWords = kTicks / 64;
  std::vector<std::int64_t> qty = std::vector<std::int64_t>(kTicks);
  std::vector<std::uint64_t> bits = std::vector<std::uint64_t>(kWords + 1);  // + a word that stays 0
  std::uint64_t summary[kWords / 64] = {};                                   // bit w: bits[w] != 0
  std::int64_t base = 0;                                                     // price of slot 0
  std::size_t best = 0, count = 0;  // best: the highest occupied slot (when count > 0)
  void load(const std::vector<Level>& l) {
    std::fill(qty.begin(), qty.end(), 0);
    std::fill(bits.begin(), bits.end(), 0);
    std::fill(std::begin(summary), std::end(summary), 0);
    base = kMid - static_cast<std::int64_t>(kTicks / 2);
    best = 0, count = 0;
    for (const Level& x : l) apply(x.price, x.qty);
  }
  void set(std::int64_t p, std::int64_t q) { benchmark::DoNotOptimize(apply(p, q)); }
  // apply returns the level's depth index (levels above it), as BookSide::set does: the
  // OrderBook needs it to know whether the top 10 changed.
  std::size_t apply(std::int64_t p, std::int64_t q) {
    const auto i = static_cast<std::size_t>(p - base);  // in the window: self_check() proves it
    const std::size_t depth = depth_index(i);
    const bool had = qty[i] != 0;
    qty[i] = q;
    const std::size_t w = i / 64;
    const std::uint64_t bit = std::uint64_t{1} << (i % 64);
    if (q != 0) {
      count += !had;
      bits[w] |= bit;
      summary[w / 64] |= std::uint64_t{1} << (w % 64);
      if (i > best || count == 1) best = i;
      return depth;
    }
    if (!had) return depth;
    --count;
    bits[w] &= ~bit;
    if (bits[w] == 0) summary[w / 64] &= ~(std::uint64_t{1} << (w % 64));
    if (i == best && count != 0) best = highest_at_or_below(i);
    return depth;
  }
  // depth_index: occupied slots above slot i (none lie above best).
  std::size_t depth_index(std::size_t i) const {
    if (count == 0 || i >= best) return 0;
    const std::size_t wi = i / 64;
    const std::uint64_t above = ~((std::uint64_t{2} << (i % 64)) - 1);  // bits i%64+1 .. 63 (none for 63)
    const std::size_t wb = best / 64;
    // The next word without a branch (the usual top-heavy update spans one or two words;
    // bits past the best are zero, and the array has a word past the last).
    auto d = static_cast<std::size_t>(__builtin_popcountll(bits[wi] & above)) +
             static_cast<std::size_t>(__builtin_popcountll(bits[wi + 1]));
    for (std::size_t w = wi + 2; w <= wb; ++w) d += static_cast<std::size_t>(__builtin_popcountll(bits[w]));
    return d;
  }
  std::size_t highest_at_or_below(std::size_t i) const {
    std::size_t w = i / 64;
    if (const std::uint64_t m = bits[w] & (~std::uint64_t{0} >> (63 - i % 64)); m != 0) {
      return w * 64 + 63 - static_cast<std::size_t>(__builtin_clzll(m));
    }
    for (std::size_t s = w / 64 + 1; s-- > 0;) {  // the summary words from w's down
      std::uint64_t m = summary[s];
      if (s == w / 64) m &= (std::uint64_t{1} << (w % 64)) - 1;
      if (m != 0) {
        w = s * 64 + 63 - static_cast<std::size_t>(__builtin_clzll(m));
        return w * 64 + 63 - static_cast<std::size_t>(__builtin_clzll(bits[w]));
      }
    }
    return 0;
  }
  std::size_t size() const { return count; }
  // self_check replays the stream on a ladder and on obr's BookSide: every price in the
  // window, and after every update the same depth index, size and best level.
  static bool self_check(const std::vector<Level>& initial, const std::vector<Level>& ops, std::string& why) {
    auto ladder = std::make_unique<Ladder>();
    obr::book::BookSide<Side::kBid> flat;
    ladder->load(initial);
    flat.reserve(initial.size() * 2 + 64);
    flat.assign(initial);
    for (std::size_t k = 0; k < ops.size(); ++k) {
      const std::int64_t slot = ops[k].price - ladder->base;
      if (slot < 0 || slot >= static_cast<std::int64_t>(kTicks)) return why = "price outside the window", false;
      const std::size_t depth = ladder->apply(ops[k].price, ops[k].qty);
      const obr::book::ApplyResult r = flat.set(ops[k].price, ops[k].qty);
      const bool same_best =
          flat.empty() || (ladder->base + static_cast<std::int64_t>(ladder->best) == flat.best().price &&
                           ladder->qty[ladder->best] == flat.best().qty);
      if (depth != r.depth_index || ladder->size() != flat.size() || !same_best) {
        return why = "differs from BookSide at update " + std::to_string(k), false;
      }
    }
    return true;
  }
};

template <typename Impl, Mix M>
void BM_LevelUpdate(benchmark::State& state) {
  const auto depth = static_cast<std::size_t>(state.range(0));
  const std::vector<Level> initial = initial_levels(depth);
  const std::vector<Level>& ops = update_stream(depth, M);
  if constexpr (requires(std::string w) { Impl::self_check(initial, ops, w); }) {
    if (std::string why; !Impl::self_check(initial, ops, why)) return state.SkipWithError(why.c_str());
  }
  Impl impl;
  impl.load(initial);
  std::size_t k = 0;
  for (auto _ : state) {
    const Level& op = ops[k];
    impl.set(op.price, op.qty);
    if (++k == ops.size()) {
      state.PauseTiming();
      impl.load(initial);
      k = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["levels"] = static_cast<double>(impl.size());
}

#define OBR_DEPTHS Arg(10)->Arg(100)->Arg(1000)->Arg(10000)
#define OBR_LEVEL_BENCH(impl, mix, name) BENCHMARK(BM_LevelUpdate<impl, mix>)->Name(name)->OBR_DEPTHS
OBR_LEVEL_BENCH(Flat<SearchPolicy::kHybrid>, Mix::kReal, "LevelUpdate/real/flat_hybrid");
OBR_LEVEL_BENCH(Flat<SearchPolicy::kBinary>, Mix::kReal, "LevelUpdate/real/flat_binary");
OBR_LEVEL_BENCH(Flat<SearchPolicy::kLinear>, Mix::kReal, "LevelUpdate/real/flat_linear");
OBR_LEVEL_BENCH(StdMap, Mix::kReal, "LevelUpdate/real/std_map");
OBR_LEVEL_BENCH(AbslBtree, Mix::kReal, "LevelUpdate/real/absl_btree");
OBR_LEVEL_BENCH(Ladder, Mix::kReal, "LevelUpdate/real/ladder_not_obr");
OBR_LEVEL_BENCH(Flat<SearchPolicy::kHybrid>, Mix::kDeep, "LevelUpdate/deep/flat_hybrid");
OBR_LEVEL_BENCH(StdMap, Mix::kDeep, "LevelUpdate/deep/std_map");
OBR_LEVEL_BENCH(AbslBtree, Mix::kDeep, "LevelUpdate/deep/absl_btree");

// A BTC/USD-like book at Kraken precision (price 1 decimal, qty 8), 25 levels a side.
obr::book::OrderBook& checksum_book() {
  static obr::book::OrderBook book(obr::book::BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 25});
  static bool loaded = false;
  if (!loaded) {
    std::mt19937_64 rng(42);
    std::vector<Level> bids, asks;
    for (std::int64_t i = 0; i < 25; ++i) {
      bids.push_back(Level{630049 - 3 * i, static_cast<std::int64_t>(rng() % 300000000)});
      asks.push_back(Level{630050 + 3 * i, static_cast<std::int64_t>(rng() % 300000000)});
    }
    book.replace(bids, asks);
    loaded = true;
  }
  return book;
}

// load_checksum_book gives `book` checksum_book()'s levels, for a benchmark that changes them.
void load_checksum_book(obr::book::OrderBook& book) {
  const obr::book::OrderBook& model = checksum_book();
  std::vector<Level> bids, asks;
  for (std::size_t i = 0; i < model.bids().size(); ++i) bids.push_back(model.bids().at(i));
  for (std::size_t i = 0; i < model.asks().size(); ++i) asks.push_back(model.asks().at(i));
  book.replace(bids, asks);
}

void BM_KrakenChecksum(benchmark::State& state) {
  const obr::book::OrderBook& book = checksum_book();
  for (auto _ : state) benchmark::DoNotOptimize(obr::book::kraken_checksum(book));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_KrakenChecksum);

// OKX's checksum over the same 25-level book: the top 25 of each side (50 levels, 100
// numbers without trailing zeros), interleaved, CRC-32 (book/okx_checksum.h).
void BM_OkxChecksum(benchmark::State& state) {
  const obr::book::OrderBook& book = checksum_book();
  for (auto _ : state) benchmark::DoNotOptimize(obr::book::okx_checksum(book));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_OkxChecksum);

// OkxChecksumCache with one level inserted or deleted in turn (the levels below it move
// one place; their text is kept).
void BM_OkxChecksumCacheOneLevelInsertedOrDeleted(benchmark::State& state) {
  obr::book::OrderBook book(obr::book::BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 0});
  load_checksum_book(book);
  obr::book::OkxChecksumCache cache;
  std::int64_t k = 0;
  for (auto _ : state) {
    const std::int64_t d = 1 + 3 * ((k / 2) % 24);  // between two levels (they are 3 ticks apart)
    const bool bid = ((k / 2) & 1) != 0;
    const std::int64_t price = bid ? 630049 - d : 630050 + d;
    book.apply(bid ? obr::book::Side::kBid : obr::book::Side::kAsk, price, (k & 1) ? 0 : 123456789);
    benchmark::DoNotOptimize(cache.get(book));
    ++k;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_OkxChecksumCacheOneLevelInsertedOrDeleted);

// Baseline: zlib's crc32 alone over the same input (what the checksum would cost if
// formatting were free).
void BM_ZlibCrc32OfChecksumInput(benchmark::State& state) {
  char buf[obr::book::kKrakenChecksumInputMax];
  const std::size_t n = obr::book::kraken_checksum_input(checksum_book(), 1, 8, buf);
  for (auto _ : state) {
    benchmark::DoNotOptimize(crc32(0L, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(n)));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_ZlibCrc32OfChecksumInput);

// obr's CRC-32 (book/crc32.h: carry-less multiply) over the same input, same value.
void BM_Crc32OfChecksumInput(benchmark::State& state) {
  char buf[obr::book::kKrakenChecksumInputMax];
  const std::size_t n = obr::book::kraken_checksum_input(checksum_book(), 1, 8, buf);
  for (auto _ : state) benchmark::DoNotOptimize(obr::book::crc32(0, buf, n));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_Crc32OfChecksumInput);

// The same CRC as a chain: each call continues the previous one's value, so the time is
// its latency (what the checksum pays after its text is written), not its throughput.
void BM_Crc32OfChecksumInputLatency(benchmark::State& state) {
  char buf[obr::book::kKrakenChecksumInputMax];
  const std::size_t n = obr::book::kraken_checksum_input(checksum_book(), 1, 8, buf);
  std::uint32_t crc = 0;
  for (auto _ : state) {
    crc = obr::book::crc32(crc, buf, n);
    benchmark::DoNotOptimize(crc);
  }
}
BENCHMARK(BM_Crc32OfChecksumInputLatency);

void BM_KrakenChecksumInputOnly(benchmark::State& state) {
  char buf[obr::book::kKrakenChecksumInputMax];
  for (auto _ : state) benchmark::DoNotOptimize(obr::book::kraken_checksum_input(checksum_book(), 1, 8, buf));
}
BENCHMARK(BM_KrakenChecksumInputOnly);

// The checksum's two parts with no dependency between them: the text is written to one
// buffer while the CRC reads another holding the same text. Against BM_KrakenChecksum
// (the CRC reads the text just written) it shows what the CRC's waiting on the text costs:
// the store-to-load dependency and any ordering between the two parts.
void BM_KrakenChecksumTextAndCrcApart(benchmark::State& state) {
  const obr::book::OrderBook& book = checksum_book();
  char buf[obr::book::kKrakenChecksumInputMax];
  char other[obr::book::kKrakenChecksumInputMax];
  const std::size_t n = obr::book::kraken_checksum_input(book, 1, 8, other);
  for (auto _ : state) {
    benchmark::DoNotOptimize(obr::book::kraken_checksum_input(book, 1, 8, buf));
    benchmark::DoNotOptimize(obr::book::crc32(0, other, n));
  }
}
BENCHMARK(BM_KrakenChecksumTextAndCrcApart);

// The checksum's digit text of both sides' top 10 (as kraken_checksum_input writes it):
// digit_text_levels (AVX-512 where the CPU has it) against the scalar formatter, the
// baseline in the same run.
template <bool kScalar>
void BM_ChecksumText(benchmark::State& state) {
  const obr::book::OrderBook& book = checksum_book();
  const Level* asks = &book.asks().at(0);
  const Level* bids = &book.bids().at(0);
  char buf[obr::book::kKrakenChecksumInputMax];
  std::uint16_t offsets[2 * obr::book::kKrakenChecksumLevels + 1];
  for (auto _ : state) {
    benchmark::DoNotOptimize(kScalar ? obr::book::digit_text_levels_scalar(asks, 10, bids, 10, buf, offsets)
                                     : obr::book::digit_text_levels(asks, 10, bids, 10, buf, offsets));
    benchmark::ClobberMemory();
  }
  state.SetLabel(kScalar ? "scalar" : (obr::book::digit_text_vectorized() ? "avx512" : "scalar (no AVX-512 here)"));
}
BENCHMARK(BM_ChecksumText<false>)->Name("BM_ChecksumText/dispatched");
BENCHMARK(BM_ChecksumText<true>)->Name("BM_ChecksumText/scalar");

// The checksum caches (Kraken's KrakenChecksumCache, OKX's OkxChecksumCache), each over the
// levels its checksum covers (kCovered a side: Kraken's top 10, OKX's top 25).
//
// Nothing changed: the covered levels compared, the value kept.
template <class Cache>
void BM_ChecksumCachedHit(benchmark::State& state) {
  const obr::book::OrderBook& book = checksum_book();
  Cache cache;
  for (auto _ : state) benchmark::DoNotOptimize(cache.get(book));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ChecksumCachedHit<obr::book::KrakenChecksumCache>)->Name("BM_KrakenChecksumCachedHit");
BENCHMARK(BM_ChecksumCachedHit<obr::book::OkxChecksumCache>)->Name("BM_OkxChecksumCachedHit");

// Nothing to reuse, as after a snapshot: every covered level's text written and hashed
// (Kraken's a side at a time; OKX's interleaved input copied together and hashed whole).
template <class Cache>
void BM_ChecksumCacheRebuild(benchmark::State& state) {
  const obr::book::OrderBook& book = checksum_book();
  Cache cache;
  for (auto _ : state) {
    cache.invalidate();
    benchmark::DoNotOptimize(cache.get(book));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ChecksumCacheRebuild<obr::book::KrakenChecksumCache>)->Name("BM_KrakenChecksumCacheRebuild");
BENCHMARK(BM_ChecksumCacheRebuild<obr::book::OkxChecksumCache>)->Name("BM_OkxChecksumCacheRebuild");

// The typical update: one covered level changes its quantity (a bid or an ask in turn, at
// depths 0 to kCovered - 1, the OrderBook::apply included), then the checksum through the
// cache (the other levels' text reused).
template <class Cache, std::size_t kCovered>
void BM_ChecksumCacheOneLevelChanged(benchmark::State& state) {
  obr::book::OrderBook book(obr::book::BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 25});
  load_checksum_book(book);
  Cache cache;
  std::int64_t k = 0;
  for (auto _ : state) {
    const auto i = static_cast<std::size_t>(k % static_cast<std::int64_t>(kCovered));
    const Level& l = (k & 1) ? book.bids().at(i) : book.asks().at(i);
    book.apply((k & 1) ? obr::book::Side::kBid : obr::book::Side::kAsk, l.price, 100000000 + (k % 977));
    benchmark::DoNotOptimize(cache.get(book));
    ++k;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ChecksumCacheOneLevelChanged<obr::book::KrakenChecksumCache, obr::book::kKrakenChecksumLevels>)
    ->Name("BM_KrakenChecksumCacheOneLevelChanged");
BENCHMARK(BM_ChecksumCacheOneLevelChanged<obr::book::OkxChecksumCache, obr::book::kOkxChecksumLevels>)
    ->Name("BM_OkxChecksumCacheOneLevelChanged");

void BM_SnapshotLoad(benchmark::State& state) {
  const auto depth = static_cast<std::size_t>(state.range(0));
  std::vector<Level> bids = initial_levels(depth);  // best first, as venues send them
  std::vector<Level> asks;
  for (std::size_t i = 0; i < depth; ++i) asks.push_back(Level{kMid + 1 + 2 * static_cast<std::int64_t>(i), 5});
  obr::book::OrderBook book(
      obr::book::BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 0, .reserve_levels = depth});
  for (auto _ : state) {
    book.replace(bids, asks);
    benchmark::DoNotOptimize(book.bids().best());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 2 * static_cast<std::int64_t>(depth)));
}
BENCHMARK(BM_SnapshotLoad)->Arg(25)->Arg(1000)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
