// bench/book/book_bench.cpp — the book's update path against std::map and
// absl::btree_map sides, measured in the same binary.
//
// Workload: a realistic top-heavy stream generated once per depth (seeded): 70% of
// updates hit the top 10 levels, 20% levels 10..99, 10% anywhere; 60% modify, 20% delete,
// 20% insert into a gap, so the side stays near its starting depth. Each benchmark
// iteration applies one update, so "time" is ns/update; items_per_second is updates/s.
#include <absl/container/btree_map.h>
#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "book/book_side.h"
#include "book/kraken_checksum.h"
#include "book/order_book.h"

namespace {

using obr::book::Level;
using obr::book::SearchPolicy;
using obr::book::Side;

constexpr std::int64_t kMid = 63'000'000;
constexpr std::size_t kStreamLength = 1 << 16;

// Initial bid side: `depth` levels two ticks apart below the mid, best first.
std::vector<Level> initial_levels(std::size_t depth) {
  std::vector<Level> levels;
  for (std::size_t i = 0; i < depth; ++i) {
    levels.push_back(Level{kMid - 2 * static_cast<std::int64_t>(i), 1000 + static_cast<std::int64_t>(i)});
  }
  return levels;
}

// The update stream, generated against a reference so that deletes and modifies hit
// existing levels and inserts land in gaps.
const std::vector<Level>& update_stream(std::size_t depth) {
  static std::map<std::size_t, std::vector<Level>> cache;
  auto it = cache.find(depth);
  if (it != cache.end()) return it->second;
  std::mt19937_64 rng(depth * 7919 + 1);
  std::vector<std::int64_t> prices;  // best first (descending)
  for (const Level& l : initial_levels(depth)) prices.push_back(l.price);
  std::vector<Level> ops;
  ops.reserve(kStreamLength);
  auto pick_index = [&](std::size_t n) -> std::size_t {
    const std::uint64_t r = rng() % 100;
    std::size_t hi;
    if (r < 70) {
      hi = 10;
    } else if (r < 90) {
      hi = 100;
    } else {
      hi = n;
    }
    hi = std::min(hi, n);
    return static_cast<std::size_t>(rng() % hi);
  };
  while (ops.size() < kStreamLength) {
    const std::size_t n = prices.size();
    const std::size_t i = pick_index(n);
    const std::uint64_t action = rng() % 10;
    const bool may_delete = n > depth / 2 + 1;
    if (action < 2 && may_delete) {
      ops.push_back(Level{prices[i], 0});
      prices.erase(prices.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (action < 4 || (action < 2 && !may_delete)) {
      // Insert just better than level i if that price is free, else modify.
      const std::int64_t p = prices[i] + 1;
      if (i == 0 || prices[i - 1] != p) {
        ops.push_back(Level{p, 1 + static_cast<std::int64_t>(rng() % 100000)});
        prices.insert(prices.begin() + static_cast<std::ptrdiff_t>(i), p);
      } else {
        ops.push_back(Level{prices[i], 1 + static_cast<std::int64_t>(rng() % 100000)});
      }
    } else {
      ops.push_back(Level{prices[i], 1 + static_cast<std::int64_t>(rng() % 100000)});
    }
  }
  return cache.emplace(depth, std::move(ops)).first->second;
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

template <typename Impl>
void BM_LevelUpdate(benchmark::State& state) {
  const auto depth = static_cast<std::size_t>(state.range(0));
  const std::vector<Level> initial = initial_levels(depth);
  const std::vector<Level>& ops = update_stream(depth);
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
BENCHMARK(BM_LevelUpdate<Flat<SearchPolicy::kHybrid>>)->Name("LevelUpdate/flat_hybrid")->OBR_DEPTHS;
BENCHMARK(BM_LevelUpdate<Flat<SearchPolicy::kBinary>>)->Name("LevelUpdate/flat_binary")->OBR_DEPTHS;
BENCHMARK(BM_LevelUpdate<Flat<SearchPolicy::kLinear>>)->Name("LevelUpdate/flat_linear")->OBR_DEPTHS;
BENCHMARK(BM_LevelUpdate<StdMap>)->Name("LevelUpdate/std_map")->OBR_DEPTHS;
BENCHMARK(BM_LevelUpdate<AbslBtree>)->Name("LevelUpdate/absl_btree")->OBR_DEPTHS;

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

void BM_KrakenChecksum(benchmark::State& state) {
  const obr::book::OrderBook& book = checksum_book();
  for (auto _ : state) benchmark::DoNotOptimize(obr::book::kraken_checksum(book));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_KrakenChecksum);

void BM_KrakenChecksumCachedHit(benchmark::State& state) {
  const obr::book::OrderBook& book = checksum_book();
  obr::book::KrakenChecksumCache cache;
  for (auto _ : state) benchmark::DoNotOptimize(cache.get(book));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_KrakenChecksumCachedHit);

void BM_SnapshotLoad(benchmark::State& state) {
  const auto depth = static_cast<std::size_t>(state.range(0));
  std::vector<Level> bids = initial_levels(depth);  // best first, as venues send them
  std::vector<Level> asks;
  for (std::size_t i = 0; i < depth; ++i) asks.push_back(Level{kMid + 1 + 2 * static_cast<std::int64_t>(i), 5});
  obr::book::OrderBook book(obr::book::BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 0,
                                                  .reserve_levels = depth});
  for (auto _ : state) {
    book.replace(bids, asks);
    benchmark::DoNotOptimize(book.bids().best());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 2 * static_cast<std::int64_t>(depth)));
}
BENCHMARK(BM_SnapshotLoad)->Arg(25)->Arg(1000)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
