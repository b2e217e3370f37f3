// engine/consolidated.h — one instrument across venues: the best bid and offer among the
// books the user maps together (say kraken:BTC/USD and kucoin:BTC-USDT), counting only
// books that are live. Prices at different scales are compared exactly (integers widened
// to 128 bits, never through double).
//
//   config.consolidated = {{"BTC-USD", {{"kraken", "BTC/USD"}, {"kucoin", "BTC-USDT"}}}};
//   obr::engine::ConsolidatedBbo bbo;
//   if (engine.consolidated("BTC-USD", bbo) && bbo.bid.valid && bbo.ask.valid) { ... }
//
// Thread-safety: consolidate() is a pure function; Engine::consolidated reads the
// published tops (seqlocks) and may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "book/level.h"
#include "engine/top_of_book.h"

namespace obr::engine {

struct BookRef {
  std::string venue;   // "kraken", "kucoin"
  std::string symbol;  // the venue's name: "BTC/USD", "BTC-USDT"
};

struct ConsolidatedInstrument {
  std::string name;  // the user's name for it: "BTC-USD"
  std::vector<BookRef> books;
};

struct BestQuote {
  bool valid = false;    // false: no live book has this side
  std::size_t book = 0;  // index into the instrument's books
  book::Level level;     // integers at the scales below
  int price_scale = 0;
  int qty_scale = 0;
};

struct ConsolidatedBbo {
  BestQuote bid;  // highest bid among live books (ties: the first listed)
  BestQuote ask;  // lowest ask among live books
  std::size_t books_live = 0;
  std::size_t books_total = 0;
};

// compare_prices: <0, 0, >0 as a (at scale sa) is below, equal to, above b (at scale sb).
inline int compare_prices(std::int64_t a, int sa, std::int64_t b, int sb) noexcept {
  __extension__ using i128 = __int128;
  i128 x = a, y = b;
  for (int s = sa; s < sb; ++s) x *= 10;
  for (int s = sb; s < sa; ++s) y *= 10;
  return x < y ? -1 : (x > y ? 1 : 0);
}

// consolidate: `tops[i]` is the published top of instrument book i.
inline ConsolidatedBbo consolidate(const std::vector<TopOfBook>& tops) noexcept {
  ConsolidatedBbo out;
  out.books_total = tops.size();
  for (std::size_t i = 0; i < tops.size(); ++i) {
    const TopOfBook& t = tops[i];
    if (t.state != book::BookState::kLive) continue;
    ++out.books_live;
    if (t.bid_count > 0 && (!out.bid.valid || compare_prices(t.bids[0].price, t.price_scale, out.bid.level.price,
                                                             out.bid.price_scale) > 0)) {
      out.bid = {true, i, t.bids[0], t.price_scale, t.qty_scale};
    }
    if (t.ask_count > 0 && (!out.ask.valid || compare_prices(t.asks[0].price, t.price_scale, out.ask.level.price,
                                                             out.ask.price_scale) < 0)) {
      out.ask = {true, i, t.asks[0], t.price_scale, t.qty_scale};
    }
  }
  return out;
}

}  // namespace obr::engine
