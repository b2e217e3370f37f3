// tools/sim/recorded_market.h — a recording played back as the exchange simulator's market.
//
// RecordedMarket::load replays recordings through the very sessions `obr replay` uses
// (engine::replay_files: raw captures, cryptofeed files with their `.http.` companions,
// obr recordings) and keeps every validated step of every book: the book as it stood when
// it first went live, then one Change per message that moved it while live (checksum or
// sequence verified). Served by the simulator, the recorded market is the truth its
// clients must hold, exactly as SyntheticMarket's is.
//
//   auto loaded = obr::sim::RecordedMarket::load({"tests/data/kraken-v2/btcusd_d25.ndjson"});
//   if (!loaded.ok()) { ... }                       // names the file and what was wrong
//   obr::sim::SimConfig config;
//   config.markets["kraken"] = loaded->market("kraken");  // null when no Kraken book went live
//
// What is kept: a Change is the difference between two consecutive live states of a book
// (levels gone are deletes, new or changed levels are sets), so the simulator re-derives
// the wire messages from the truth as it does for the synthetic market: Kraken v2 updates
// by depth diff with their checksum, KuCoin `trade.l2update` deltas with the market's own
// contiguous sequences (1, 2, ... per symbol, one per delta; the recording's sequence
// numbers are not reused, so a KuCoin REST snapshot and its deltas always agree). A book
// that left live and came back (a resubscribe in the recording) moves to its new
// snapshot in one Change. Kraken v1 recordings serve as Kraken v2 books (the same book
// and checksum), at the recording's depth (kraken-v1 is a replay-only venue of
// venue_pieces.cpp, served as "kraken").
//
// Pace: a recording with times (cryptofeed files, obr recordings) keeps each step's recorded
// time, counted from the moment its venue's first book went live, and has a clock
// (next_at_ns): with SimConfig::speed set the simulator plays it at that pace (times
// `speed`); otherwise, and always for a raw capture (no times), at `changes_per_s`.
//
// End: after the last step every symbol returns to its first state in one Change each,
// and the recording plays again (laps() counts the rounds), so a server runs for as long
// as it is asked to. On the clock the return comes one mean step interval (at least 1 ms)
// after the last step, and the next lap's steps keep their recorded spacing from there.
//
// Thread-safety: none; a RecordedMarket belongs to one thread.
#pragma once

#include <absl/status/statusor.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/sim/market.h"

namespace obr::sim {

class RecordedMarket final : public Market {
 public:
  // The venues' markets found in one set of recordings, keyed by the name of the piece
  // that serves them (venue_piece_for_recording: a recording of a replay-only venue lands
  // under the piece it is served as). A piece none of whose books went live has no entry.
  struct Loaded {
    std::map<std::string, std::shared_ptr<RecordedMarket>, std::less<>> markets;
    // market: the recorded market of the piece named `venue`, or null when there is none.
    std::shared_ptr<RecordedMarket> market(std::string_view venue) const {
      const auto it = markets.find(venue);
      return it == markets.end() ? nullptr : it->second;
    }
  };
  // load replays `files` (one call of engine::replay_files, so a cryptofeed `.ws.` file
  // takes its `.http.` file beside it). Errors: the replayer's (unreadable file, unknown
  // format, naming the file and line), a recording in which no book went live, or one whose
  // books never changed once live (nothing to play). Control path: allocates every step.
  static absl::StatusOr<Loaded> load(const std::vector<std::string>& files);

  // A step of the recording: one Change's deltas on one symbol, and when it happened (ns
  // after the venue's first live book; -1: the recording has no times).
  struct Step {
    std::size_t symbol = 0;
    std::vector<LevelDelta> deltas;
    std::int64_t at_ns = -1;
  };
  // One book's first live state, best first.
  struct Start {
    SymbolSpec spec;  // name and scales from the recording; mid = best bid, tick 1
    std::vector<obr::book::Level> bids, asks;
  };
  // Precondition: `starts` and `steps` not empty, every step's symbol < starts.size() and
  // its deltas not empty (load guarantees it). Throws std::invalid_argument otherwise. The
  // market has a clock when every step's at_ns is >= 0 and none is before the one ahead of
  // it; otherwise it has none.
  RecordedMarket(std::vector<Start> starts, std::vector<Step> steps);

  std::size_t symbol_count() const noexcept override { return starts_.size(); }
  const SymbolSpec& spec(std::size_t i) const noexcept override { return starts_[i].spec; }
  std::span<const obr::book::Level> bids(std::size_t i) const noexcept override { return books_[i].bids; }
  std::span<const obr::book::Level> asks(std::size_t i) const noexcept override { return books_[i].asks; }
  std::int64_t sequence(std::size_t i) const noexcept override { return books_[i].sequence; }
  // next plays the next step (or, after the last, a symbol's return to its first state).
  const Change& next() override;
  // next_at_ns: see "Pace" above; -1 without recorded times.
  std::int64_t next_at_ns() const noexcept override;
  bool has_clock() const noexcept { return lap_ns_ > 0; }
  // lap_ns: one lap on the clock (0 without one).
  std::int64_t lap_ns() const noexcept { return lap_ns_; }

  std::size_t step_count() const noexcept { return steps_.size(); }
  std::uint64_t laps() const noexcept { return laps_; }

 private:
  struct Book {
    std::vector<obr::book::Level> bids, asks;
    std::int64_t sequence = 0;
  };
  const Change& emit(std::size_t symbol);

  std::vector<Start> starts_;
  std::vector<Step> steps_;
  std::vector<Book> books_;
  std::size_t pos_ = 0;
  std::size_t rewind_ = 0;  // during a rewind, the next symbol to return to its start
  bool rewinding_ = false;
  std::uint64_t laps_ = 0;
  std::int64_t lap_ns_ = 0;    // one lap on the clock: last step + the return's delay (0: no clock)
  std::int64_t lap_base_ = 0;  // the clock at the start of the current lap
  Change change_;
};

// diff_levels appends to `out` the deltas that turn side `before` into `after` (both best
// first, distinct prices): a delete for every price gone, a set for every price new or
// with another quantity. One merge pass.
void diff_levels(obr::book::Side side, std::span<const obr::book::Level> before,
                 std::span<const obr::book::Level> after, std::vector<LevelDelta>& out);

struct SimConfig;
// use_recordings loads `files` (RecordedMarket::load) and makes them `config`'s markets; a
// venue with no book in them keeps its synthetic market. Returns what was loaded. With
// config.speed set, a recording without times is an error (it cannot keep a recorded pace).
// What `--market FILE...` does.
absl::StatusOr<RecordedMarket::Loaded> use_recordings(const std::vector<std::string>& files, SimConfig& config);

}  // namespace obr::sim
