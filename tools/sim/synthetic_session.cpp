// tools/sim/synthetic_session.cpp — a long Kraken v2 session from the synthetic market.
#include "tools/sim/synthetic_session.h"

#include <zlib.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <vector>

#include "book/kraken_checksum.h"
#include "book/order_book.h"
#include "tools/sim/kraken_piece.h"
#include "tools/sim/market.h"

namespace obr::sim {
namespace {

constexpr const char* kBases[] = {"BTC", "ETH", "XRP", "SOL", "ADA", "DOT", "LTC", "LINK"};

// Writer: plain or gzip (level 1: the point is size on disk, not ratio). The file is
// written under a temporary name beside the target and renamed over it by finish(), so the
// target is a whole file or absent; a Writer destroyed unfinished removes its temporary file.
class Writer {
 public:
  ~Writer() {
    if (gzf_ != nullptr) gzclose(gzf_);
    if (f_ != nullptr) std::fclose(f_);
    if (!tmp_.empty()) std::remove(tmp_.c_str());
  }
  bool open(const std::string& path, std::string& error) {
    path_ = path;
    tmp_ = path + ".partial";
    gz_ = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    if (gz_) {
      gzf_ = gzopen(tmp_.c_str(), "wb1");
    } else {
      f_ = std::fopen(tmp_.c_str(), "wb");
    }
    if (gz_ ? gzf_ == nullptr : f_ == nullptr) {
      error = tmp_ + ": cannot open for writing";
      tmp_.clear();
      return false;
    }
    return true;
  }
  void line(const std::string& text) {
    if (gz_) {
      ok_ = ok_ && gzwrite(gzf_, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()) &&
            gzputc(gzf_, '\n') == '\n';
    } else {
      ok_ = ok_ && std::fwrite(text.data(), 1, text.size(), f_) == text.size() && std::fputc('\n', f_) == '\n';
    }
  }
  // finish closes the file and puts it in place; false (and nothing left) on any error.
  bool finish(std::string& error) {
    bool ok = ok_;
    if (gz_) {
      ok = gzclose(gzf_) == Z_OK && ok;
      gzf_ = nullptr;
    } else {
      ok = std::fclose(f_) == 0 && ok;
      f_ = nullptr;
    }
    if (ok && std::rename(tmp_.c_str(), path_.c_str()) == 0) {
      tmp_.clear();
      return true;
    }
    error = path_ + ": write failed (nothing was left in its place)";
    return false;
  }

 private:
  std::string path_, tmp_;
  bool gz_ = false;
  bool ok_ = true;
  gzFile gzf_ = nullptr;
  std::FILE* f_ = nullptr;
};

std::string timestamp(std::uint64_t ms) {
  // 2026-01-01T00:00:00Z plus ms (hours wrap into days past 24 h of events; text only).
  const std::uint64_t s = ms / 1000, days = s / 86400;
  char buf[48];
  std::snprintf(buf, sizeof buf, "2026-01-%02" PRIu64 "T%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64 "000Z",
                1 + days % 28, (s / 3600) % 24, (s / 60) % 60, s % 60, ms % 1000);
  return buf;
}

}  // namespace

bool write_kraken_session(const std::string& path, const SyntheticSessionSpec& spec, std::uint64_t& updates_written,
                          std::string& error) {
  updates_written = 0;
  if (spec.symbols == 0 || spec.symbols > 64) {
    error = "synthetic session: symbols must be 1 to 64";
    return false;
  }
  if (spec.depth != 10 && spec.depth != 25 && spec.depth != 100 && spec.depth != 500 && spec.depth != 1000) {
    error = "synthetic session: depth must be 10, 25, 100, 500 or 1000";
    return false;
  }
  std::vector<SymbolSpec> specs;
  for (std::size_t i = 0; i < spec.symbols; ++i) {
    SymbolSpec s;
    char name[32];
    if (i < std::size(kBases))
      std::snprintf(name, sizeof name, "%s/USD", kBases[i]);
    else
      std::snprintf(name, sizeof name, "C%zu/USD", i);
    s.name = name;
    s.price_scale = 1 + static_cast<int>(i % 4);
    s.qty_scale = 8;
    s.mid = 100'000 + static_cast<std::int64_t>(i) * 37'011;
    s.levels = static_cast<std::size_t>(spec.depth) + 200;
    specs.push_back(s);
  }
  SyntheticMarket market(specs, spec.seed);
  Writer out;
  if (!out.open(path, error)) return false;
  const auto depth = static_cast<std::size_t>(spec.depth);
  // Per symbol: the top `depth` last sent, and a 10-level book for the checksum.
  std::vector<std::vector<book::Level>> sent_bids(spec.symbols), sent_asks(spec.symbols);
  std::vector<std::unique_ptr<book::OrderBook>> crc_books;
  auto checksum = [&](std::size_t i) {
    book::OrderBook& ob = *crc_books[i];
    const auto b = market.bids(i), a = market.asks(i);
    ob.replace(b.first(std::min<std::size_t>(b.size(), 10)), a.first(std::min<std::size_t>(a.size(), 10)));
    return book::kraken_checksum(ob);
  };
  auto top = [depth](std::span<const book::Level> side) {
    return std::vector<book::Level>(side.begin(),
                                    side.begin() + static_cast<std::ptrdiff_t>(std::min(depth, side.size())));
  };
  out.line(
      R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":1}]})");
  std::uint64_t ms = 0;
  std::vector<LevelDelta> bids, asks;
  for (std::size_t i = 0; i < spec.symbols; ++i) {
    crc_books.push_back(std::make_unique<book::OrderBook>(book::BookConfig{
        .price_scale = specs[i].price_scale, .qty_scale = specs[i].qty_scale, .depth_limit = 10, .reserve_levels = 0}));
    out.line(R"({"method":"subscribe","result":{"channel":"book","depth":)" + std::to_string(spec.depth) +
             R"(,"snapshot":true,"symbol":")" + specs[i].name + R"("},"success":true,"time_in":")" + timestamp(ms) +
             R"(","time_out":")" + timestamp(ms) + R"("})");
    sent_bids[i] = top(market.bids(i));
    sent_asks[i] = top(market.asks(i));
    bids.clear();
    asks.clear();
    for (const auto& l : sent_bids[i]) bids.push_back({book::Side::kBid, l.price, l.qty});
    for (const auto& l : sent_asks[i]) asks.push_back({book::Side::kAsk, l.price, l.qty});
    out.line(kraken_v2_book_frame(specs[i], true, bids, asks, checksum(i), timestamp(ms)));
  }
  while (updates_written < spec.frames) {
    if (spec.stop != nullptr && spec.stop->load(std::memory_order_relaxed)) break;
    const Change& c = market.next();
    ++ms;
    const std::size_t i = c.symbol;
    kraken_depth_diff(book::Side::kBid, sent_bids[i], market.bids(i), depth, bids);
    kraken_depth_diff(book::Side::kAsk, sent_asks[i], market.asks(i), depth, asks);
    if (bids.empty() && asks.empty()) continue;
    out.line(kraken_v2_book_frame(specs[i], false, bids, asks, checksum(i), timestamp(ms)));
    sent_bids[i] = top(market.bids(i));
    sent_asks[i] = top(market.asks(i));
    ++updates_written;
  }
  return out.finish(error);
}

}  // namespace obr::sim
