// tools/sim/recorded_market.cpp — RecordedMarket (see recorded_market.h).
#include "tools/sim/recorded_market.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "book/order_book.h"
#include "engine/replayer.h"
#include "tools/sim/simulator.h"
#include "tools/sim/venue_pieces.h"

namespace obr::sim {
namespace {

using obr::book::Level;
using obr::book::Side;

template <class SideT>
void copy_side(const SideT& side, std::vector<Level>& out) {
  out.clear();
  for (std::size_t i = 0; i < side.size(); ++i) out.push_back(side.at(i));
}

// One piece's market while the recordings are read.
struct Builder {
  std::vector<RecordedMarket::Start> starts;
  std::vector<RecordedMarket::Step> steps;
  std::vector<std::vector<Level>> bids, asks;  // each book's last live state
  std::map<std::string, std::size_t, std::less<>> index;
  std::int64_t first_ts = -1;  // recorded time of the first live book (-1: none recorded)
};

std::string joined(const std::vector<std::string>& files) {
  std::string out;
  for (const std::string& f : files) out += (out.empty() ? "" : ", ") + f;
  return out;
}

}  // namespace

void diff_levels(Side side, std::span<const Level> before, std::span<const Level> after, std::vector<LevelDelta>& out) {
  const auto better = [side](std::int64_t a, std::int64_t b) { return side == Side::kBid ? a > b : a < b; };
  std::size_t i = 0, j = 0;
  while (i < before.size() || j < after.size()) {
    if (j == after.size() || (i < before.size() && better(before[i].price, after[j].price))) {
      out.push_back(LevelDelta{side, before[i].price, 0});  // gone
      ++i;
    } else if (i == before.size() || better(after[j].price, before[i].price)) {
      out.push_back(LevelDelta{side, after[j].price, after[j].qty});  // new
      ++j;
    } else {
      if (before[i].qty != after[j].qty) out.push_back(LevelDelta{side, after[j].price, after[j].qty});
      ++i;
      ++j;
    }
  }
}

absl::StatusOr<RecordedMarket::Loaded> RecordedMarket::load(const std::vector<std::string>& files) {
  const auto pieces = venue_pieces();
  std::vector<Builder> builders(pieces.size());  // one per piece, in the list's order
  std::string error;
  std::vector<Level> bids, asks;
  std::vector<LevelDelta> deltas;
  engine::ReplayOptions options;
  options.on_book = [&](std::string_view venue, std::string_view symbol, const book::OrderBook& ob,
                        std::int64_t ts_ns) {
    if (ob.state() != book::BookState::kLive || !error.empty()) return;
    const VenuePieceFactory* piece = venue_piece_for_recording(venue);
    if (piece == nullptr) {
      error = std::string(venue) + " " + std::string(symbol) + ": the simulator serves no " + std::string(venue) +
              " books (its venues: " + venue_piece_names() + ")";
      return;
    }
    Builder& m = builders[static_cast<std::size_t>(piece - pieces.data())];
    copy_side(ob.bids(), bids);
    copy_side(ob.asks(), asks);
    const auto it = m.index.find(symbol);
    if (it == m.index.end()) {
      Start s;
      s.spec.name.assign(symbol);
      s.spec.price_scale = ob.price_scale();
      s.spec.qty_scale = ob.qty_scale();
      s.spec.mid = bids.empty() ? 1 : bids.front().price;
      s.spec.tick = 1;
      s.spec.levels = std::max<std::size_t>({bids.size(), asks.size(), 1});
      s.bids = bids;
      s.asks = asks;
      if (m.starts.empty()) m.first_ts = ts_ns;
      m.index.emplace(std::string(symbol), m.starts.size());
      m.starts.push_back(std::move(s));
      m.bids.push_back(bids);
      m.asks.push_back(asks);
      return;
    }
    const std::size_t i = it->second;
    const SymbolSpec& spec = m.starts[i].spec;
    if (spec.price_scale != ob.price_scale() || spec.qty_scale != ob.qty_scale()) {
      error = std::string(venue) + " " + std::string(symbol) + ": the recording changes the book's scales (from " +
              std::to_string(spec.price_scale) + "/" + std::to_string(spec.qty_scale) + " to " +
              std::to_string(ob.price_scale()) + "/" + std::to_string(ob.qty_scale()) + " decimals)";
      return;
    }
    deltas.clear();
    diff_levels(Side::kBid, m.bids[i], bids, deltas);
    diff_levels(Side::kAsk, m.asks[i], asks, deltas);
    if (deltas.empty()) return;
    m.steps.push_back(Step{i, deltas, ts_ns >= 0 && m.first_ts >= 0 ? ts_ns - m.first_ts : -1});
    m.bids[i].swap(bids);
    m.asks[i].swap(asks);
  };
  const auto summary = engine::replay_files(files, options);
  if (!summary.ok()) return summary.status();
  if (!error.empty()) return absl::InvalidArgumentError(joined(files) + ": " + error);
  if (std::all_of(builders.begin(), builders.end(), [](const Builder& b) { return b.starts.empty(); })) {
    return absl::InvalidArgumentError(
        joined(files) + ": no book went live in these recordings (" + std::to_string(summary->frames) + " frames, " +
        std::to_string(summary->malformed) + " malformed), so there is no market to serve");
  }
  Loaded out;
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    Builder& builder = builders[k];
    if (builder.starts.empty()) continue;
    if (builder.steps.empty()) {
      return absl::InvalidArgumentError(joined(files) + ": the " + std::string(pieces[k].display_name) +
                                        " books never changed once live, so there is nothing to play");
    }
    out.markets.emplace(pieces[k].name,
                        std::make_shared<RecordedMarket>(std::move(builder.starts), std::move(builder.steps)));
  }
  return out;
}

RecordedMarket::RecordedMarket(std::vector<Start> starts, std::vector<Step> steps)
    : starts_(std::move(starts)), steps_(std::move(steps)) {
  if (starts_.empty()) throw std::invalid_argument("RecordedMarket: no symbols");
  if (steps_.empty()) throw std::invalid_argument("RecordedMarket: no steps");
  for (const Step& s : steps_) {
    if (s.symbol >= starts_.size()) throw std::invalid_argument("RecordedMarket: a step names no symbol");
    if (s.deltas.empty()) throw std::invalid_argument("RecordedMarket: a step without deltas");
  }
  bool timed = true;
  for (std::size_t k = 0; k < steps_.size() && timed; ++k) {
    timed = steps_[k].at_ns >= 0 && (k == 0 || steps_[k].at_ns >= steps_[k - 1].at_ns);
  }
  if (timed) {
    const std::int64_t last = steps_.back().at_ns;
    lap_ns_ = last + std::max<std::int64_t>(1'000'000, last / static_cast<std::int64_t>(steps_.size()));
  }
  books_.resize(starts_.size());
  for (std::size_t i = 0; i < starts_.size(); ++i) {
    books_[i].bids = starts_[i].bids;
    books_[i].asks = starts_[i].asks;
  }
}

const Change& RecordedMarket::next() {
  for (;;) {
    if (rewinding_) {
      while (rewind_ < books_.size()) {
        const std::size_t i = rewind_++;
        change_.deltas.clear();
        diff_levels(Side::kBid, books_[i].bids, starts_[i].bids, change_.deltas);
        diff_levels(Side::kAsk, books_[i].asks, starts_[i].asks, change_.deltas);
        if (!change_.deltas.empty()) return emit(i);
      }
      rewinding_ = false;
      pos_ = 0;
      ++laps_;
      lap_base_ += lap_ns_;
    }
    if (pos_ < steps_.size()) {
      const Step& s = steps_[pos_++];
      change_.deltas.assign(s.deltas.begin(), s.deltas.end());
      return emit(s.symbol);
    }
    rewinding_ = true;
    rewind_ = 0;
  }
}

std::int64_t RecordedMarket::next_at_ns() const noexcept {
  if (lap_ns_ == 0) return -1;
  if (rewinding_ || pos_ == steps_.size()) return lap_base_ + lap_ns_;  // the return to the start
  return lap_base_ + steps_[pos_].at_ns;
}

const Change& RecordedMarket::emit(std::size_t symbol) {
  Book& b = books_[symbol];
  for (const LevelDelta& d : change_.deltas) apply_delta(d.side == Side::kBid ? b.bids : b.asks, d);
  change_.symbol = symbol;
  change_.first_sequence = b.sequence + 1;
  b.sequence += static_cast<std::int64_t>(change_.deltas.size());
  change_.sequence = b.sequence;
  return change_;
}

absl::StatusOr<RecordedMarket::Loaded> use_recordings(const std::vector<std::string>& files, SimConfig& config) {
  auto loaded = RecordedMarket::load(files);
  if (!loaded.ok()) return loaded;
  for (const VenuePieceFactory& piece : venue_pieces()) {
    const std::shared_ptr<RecordedMarket> market = loaded->market(piece.name);
    if (config.speed > 0 && market != nullptr && !market->has_clock()) {
      return absl::InvalidArgumentError(joined(files) + ": the " + std::string(piece.display_name) +
                                        " books have no usable recorded times (a raw capture has none; times that "
                                        "go backwards are not usable), so they cannot be played at their recorded "
                                        "pace; pace them by a rate of changes instead");
    }
  }
  for (const auto& [venue, market] : loaded->markets) config.markets[venue] = market;
  return loaded;
}

}  // namespace obr::sim
