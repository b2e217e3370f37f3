// tests/integration/rotation_test.cpp — the engine's rotation of a venue's connection
// before the venue's connection lifetime, against the simulator's Binance spot piece on
// loopback, its lifetime compressed from 24 h to seconds (docs/architecture.md
// "Rotation"): make before break, no book ever leaves live, the switch is complete (only
// the new connection's books are shown after it), a replacement that is not ready in time
// is dropped with an error while the old connection serves on, and a recorded run rotates
// by reconnecting and replays exactly. KuCoin is rotated too (its own token per
// replacement); its piece does not cut connections, so the venue's cut is Binance's here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "book/decimal.h"
#include "book/order_book.h"
#include "connectors/net/event_loop.h"
#include "engine/engine.h"
#include "engine/replayer.h"
#include "tools/sim/faults.h"
#include "tools/sim/simulator.h"

namespace {

using obr::book::BookState;
constexpr std::int64_t kMs = 1'000'000;

struct Transition {
  std::string symbol;
  BookState from, to;
  obr::connectors::StateReason reason;
};

// RotationRun: the simulator (Binance spot, its three books, connections cut after
// `sim_lifetime_ns`) and the engine on one loop, with a listener that records every
// transition, error and connection event, and per book the OrderBook object each on_book
// showed in each interval between two switches.
class RotationRun : public obr::engine::Listener {
 public:
  struct Options {
    std::int64_t sim_lifetime_ns = 5'000 * kMs;
    std::int64_t rotate_after_ns = 1'500 * kMs;
    std::int64_t rotate_timeout_ns = 2'500 * kMs;
    std::string record_path;
    std::string venue = "binance";  // or "kucoin", whose piece never cuts a connection
  };
  explicit RotationRun(const Options& o) : venue_(o.venue) {
    obr::sim::SimConfig sc;
    sc.tls = false;
    sc.seed = 5;
    if (venue_ == "binance") sc.timers[venue_].lifetime_ns = o.sim_lifetime_ns;
    sim_ = std::make_unique<obr::sim::Simulator>(loop_, sc);
    std::string error;
    if (!sim_->start(error)) {
      error_ = error;
      return;
    }
    obr::engine::EngineConfig ec;
    obr::engine::VenueConfig& v = ec.venue(venue_);
    v.symbols = sim_->symbols(venue_);
    if (venue_ == "kucoin") {
      v.rest_base = sim_->url(venue_);  // its WebSocket endpoint comes with its token
    } else {
      v.endpoints = {sim_->url(venue_)};
      v.rest_base = sim_->rest_url(venue_);
    }
    ec.backoff.base_ns = 100 * kMs;
    ec.backoff.cap_ns = 1'000 * kMs;
    // A snapshot of 1000 levels weighs 50 (capped at the burst); at the default budget (10
    // a second, burst 20) three books take 4 s. The budget is not what is tested here.
    ec.snapshot_rate_per_s = 1000;
    ec.snapshot_burst = 1000;
    ec.rotate_after_ns = o.rotate_after_ns;
    ec.rotate_timeout_ns = o.rotate_timeout_ns;
    engine_ = std::make_unique<obr::engine::Engine>(ec, this, &loop_);
    if (!o.record_path.empty()) {
      if (const absl::Status st = engine_->record_to(o.record_path); !st.ok()) {
        error_ = std::string(st.message());
        return;
      }
    }
    engine_->connect();
    started_ = true;
  }
  ~RotationRun() override {
    if (::testing::Test::HasFailure()) {
      for (const auto& e : connection_events) std::fprintf(stderr, "connection: %s\n", e.c_str());
      for (const auto& e : errors) std::fprintf(stderr, "error: %s\n", e.c_str());
    }
    engine_.reset();
    sim_.reset();
    loop_.run_for(50 * kMs);
  }

  bool started() const { return started_; }
  const std::string& error() const { return error_; }
  obr::sim::Simulator& sim() { return *sim_; }
  obr::engine::Engine& engine() { return *engine_; }

  bool run_until(const std::function<bool()>& done, int timeout_ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      loop_.run_for(20 * kMs);
    }
    return true;
  }
  void run_for_ms(int ms) {
    run_until([] { return false; }, ms);
  }

  const std::string& venue() const { return venue_; }
  std::size_t books() const { return sim_->symbols(venue_).size(); }
  std::size_t live_books() const {
    std::size_t n = 0;
    engine_->for_each_book([&](std::string_view, std::string_view, const obr::book::OrderBook& b) {
      if (b.state() == BookState::kLive) ++n;
    });
    return n;
  }
  bool all_live() const { return live_books() == books(); }
  std::size_t left_live() const {
    return static_cast<std::size_t>(std::count_if(transitions.begin(), transitions.end(),
                                                  [](const Transition& t) { return t.from == BookState::kLive; }));
  }
  std::size_t went_live(std::string_view symbol) const {
    return static_cast<std::size_t>(std::count_if(transitions.begin(), transitions.end(), [&](const Transition& t) {
      return t.symbol == symbol && t.to == BookState::kLive;
    }));
  }
  std::size_t errors_with(std::string_view text) const {
    return static_cast<std::size_t>(
        std::count_if(errors.begin(), errors.end(), [&](const std::string& e) { return e.find(text) != e.npos; }));
  }

  // Listener.
  void on_book(std::string_view, std::string_view symbol, const obr::book::OrderBook& book, bool,
               std::int64_t) override {
    ++book_callbacks;
    if (count_not_live && book.state() != BookState::kLive) ++not_live_callbacks;
    auto& by_interval = shown[std::string(symbol)];
    if (by_interval.size() <= switches) by_interval.resize(switches + 1);
    auto& seen = by_interval[switches];
    if (std::find(seen.begin(), seen.end(), &book) == seen.end()) seen.push_back(&book);
  }
  void on_book_state(std::string_view, std::string_view symbol, BookState from, BookState to,
                     obr::connectors::StateReason reason) override {
    transitions.push_back({std::string(symbol), from, to, reason});
  }
  void on_connection(std::string_view, obr::engine::ConnectionState state, std::string_view detail) override {
    connection_events.push_back(std::string(to_string(state)) + " " + std::string(detail));
    if (state == obr::engine::ConnectionState::kOpen && detail.find("(replacement") != detail.npos) {
      ++switches;
      sim_connections_at_switch.push_back(sim_->stats().connections);
    }
  }
  void on_error(const obr::engine::EngineError& e) override { errors.push_back(obr::engine::to_string(e)); }

  std::size_t switches = 0;
  std::vector<std::uint64_t> sim_connections_at_switch;  // the simulator's WebSocket count at each switch
  std::uint64_t book_callbacks = 0;
  bool count_not_live = false;           // set once every book is live
  std::uint64_t not_live_callbacks = 0;  // on_book showing a book not live, once counted
  // shown[symbol][k]: the OrderBook objects on_book showed between switch k and k+1.
  std::map<std::string, std::vector<std::vector<const obr::book::OrderBook*>>> shown;
  std::vector<Transition> transitions;
  std::vector<std::string> errors;
  std::vector<std::string> connection_events;

 private:
  std::string venue_;
  obr::net::EventLoop loop_;
  std::unique_ptr<obr::sim::Simulator> sim_;
  std::unique_ptr<obr::engine::Engine> engine_;
  bool started_ = false;
  std::string error_;
};

// expect_books_equal_truth: with the market paused and the frames in flight drained, every
// book's top 10 equals the simulator's truth.
void expect_books_equal_truth(RotationRun& r) {
  r.sim().pause_market(true);
  const auto equal = [&r](std::string_view symbol, const obr::book::OrderBook& b, bool bids) {
    const auto truth = bids ? r.sim().truth_bids(r.venue(), symbol) : r.sim().truth_asks(r.venue(), symbol);
    std::size_t n = 0;
    const auto& side_ok = [&](const auto& side) {
      for (; n < 10 && n < truth.size(); ++n) {
        if (n >= side.size() || !(side.at(n) == truth[n])) return false;
      }
      return true;
    };
    return bids ? side_ok(b.bids()) : side_ok(b.asks());
  };
  const auto all_equal = [&] {
    bool all = true;
    r.engine().for_each_book([&](std::string_view, std::string_view symbol, const obr::book::OrderBook& b) {
      all = all && equal(symbol, b, true) && equal(symbol, b, false);
    });
    return all;
  };
  r.run_for_ms(300);
  r.run_until(all_equal, 10'000);
  std::size_t compared = 0;
  r.engine().for_each_book([&](std::string_view, std::string_view symbol, const obr::book::OrderBook& b) {
    EXPECT_TRUE(equal(symbol, b, true)) << symbol;
    EXPECT_TRUE(equal(symbol, b, false)) << symbol;
    EXPECT_EQ(b.state(), BookState::kLive) << symbol;
    ++compared;
  });
  EXPECT_EQ(compared, r.books());
  r.sim().pause_market(false);
}

// expect_transitions_chain: per book, each transition starts where the last one ended (a
// switch reports what changed between the old book and the new, nothing else).
void expect_transitions_chain(const RotationRun& r) {
  std::map<std::string, BookState> at;
  for (const Transition& t : r.transitions) {
    const auto it = at.find(t.symbol);
    if (it != at.end()) {
      EXPECT_EQ(t.from, it->second) << t.symbol << ": " << obr::book::to_string(t.from) << " -> "
                                    << obr::book::to_string(t.to);
    }
    EXPECT_NE(t.from, t.to) << t.symbol;
    at[t.symbol] = t.to;
  }
}

// expect_one_book_per_interval: between two switches every on_book showed one OrderBook
// per symbol, a different one after each switch: nothing from an old connection after its
// switch, and the new connection's from the switch on.
void expect_one_book_per_interval(const RotationRun& r, std::size_t switches) {
  ASSERT_EQ(r.shown.size(), r.books());
  for (const auto& [symbol, intervals] : r.shown) {
    SCOPED_TRACE(symbol);
    ASSERT_EQ(intervals.size(), switches + 1);
    for (std::size_t k = 0; k < intervals.size(); ++k) {
      ASSERT_EQ(intervals[k].size(), 1u) << "interval " << k;
      if (k > 0) {
        EXPECT_NE(intervals[k][0], intervals[k - 1][0]) << "interval " << k;
      }
    }
  }
}

// expect_make_before_break: three rotations (the engine rotates at 1.5 s): each book went
// live once and never left live, the listener saw one OrderBook per book between switches
// and a new one after each, the simulator saw exactly one new connection per rotation (no
// reconnect), and the books equal the truth. A reader on another thread (the published top
// of book, as a strategy reads it) sees every book live throughout, its version only
// growing, across the switches.
void expect_make_before_break(RotationRun& r) {
  ASSERT_TRUE(r.started()) << r.error();
  ASSERT_TRUE(r.run_until([&] { return r.all_live(); }, 15'000)) << "live books: " << r.live_books();
  r.count_not_live = true;
  std::atomic<bool> reading{true};
  std::atomic<std::uint64_t> reads{0}, not_live_reads{0}, version_went_back{0};
  const std::vector<std::string> symbols = r.sim().symbols(r.venue());
  std::thread reader([&] {
    std::vector<std::uint64_t> last(symbols.size(), 0);
    while (reading.load()) {
      for (std::size_t i = 0; i < symbols.size(); ++i) {
        obr::engine::TopOfBook top;
        if (!r.engine().top(r.venue(), symbols[i], top)) continue;
        ++reads;
        if (top.state != BookState::kLive) ++not_live_reads;
        if (top.version < last[i]) ++version_went_back;
        last[i] = top.version;
      }
    }
  });
  const bool rotated = r.run_until([&] { return r.switches >= 3; }, 30'000);
  reading = false;
  reader.join();
  ASSERT_TRUE(rotated) << "switches: " << r.switches;
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(not_live_reads.load(), 0u);
  EXPECT_EQ(version_went_back.load(), 0u);
  const std::size_t switches = r.switches;
  // For the record: how long each replacement took to be ready (connect, subscribe,
  // snapshots, to the tick that saw it), as the switch reports it.
  for (const std::string& e : r.connection_events) {
    if (e.find("(replacement") != std::string::npos) std::fprintf(stderr, "%s: %s\n", r.venue().c_str(), e.c_str());
  }
  r.run_for_ms(300);  // the new connection serves on (the next switch is more than 1 s away)
  ASSERT_EQ(r.switches, switches);

  EXPECT_EQ(r.left_live(), 0u);
  for (const std::string& s : r.sim().symbols(r.venue())) EXPECT_EQ(r.went_live(s), 1u) << s;
  EXPECT_EQ(r.not_live_callbacks, 0u);
  // At the k-th switch the simulator had seen the first connection and k replacements.
  for (std::size_t k = 0; k < switches; ++k) EXPECT_EQ(r.sim_connections_at_switch[k], 2u + k) << "switch " << k;
  EXPECT_LE(r.sim().stats().connections, 2u + switches);  // and at most the next replacement since
  EXPECT_EQ(r.engine().stats().connects, r.sim().stats().connections);
  EXPECT_EQ(r.engine().stats().reconnects, 0u);
  EXPECT_EQ(r.engine().stats().rotations, switches);
  EXPECT_EQ(r.engine().stats().rotations_dropped, 0u);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  expect_one_book_per_interval(r, switches);
  expect_transitions_chain(r);
  // Every closed connection was an old one after its switch, never shown (muted).
  for (const std::string& e : r.connection_events) EXPECT_EQ(e.find("closed"), std::string::npos) << e;
  obr::engine::TopOfBook top;
  ASSERT_TRUE(r.engine().top(r.venue(), symbols[0], top));
  EXPECT_EQ(top.state, BookState::kLive);
  expect_books_equal_truth(r);
}

// Binance spot: the simulator cuts every connection at 5 s, as the venue does at 24 h.
TEST(Rotation, MakeBeforeBreakKeepsEveryBookLive) {
  RotationRun r(RotationRun::Options{});
  expect_make_before_break(r);
}

// KuCoin: each replacement fetches its own token and calibrates every book from its own
// snapshots (the simulator's KuCoin piece does not cut connections; the rotation is the
// engine's alone).
TEST(Rotation, MakeBeforeBreakOnKucoin) {
  RotationRun::Options o;
  o.venue = "kucoin";
  RotationRun r(o);
  expect_make_before_break(r);
  EXPECT_EQ(r.sim().stats().venues.at("kucoin").tokens_issued, r.sim().stats().connections);
}

// The control: the engine does not rotate within the run (rotate_after 24 h), so the
// simulator's cut at 2 s reaches the books — they go stale and are bridged again, which is
// what rotation by reconnecting did to every book before make-before-break.
TEST(Rotation, WithoutRotationTheVenuesCutMakesBooksStale) {
  RotationRun r({.sim_lifetime_ns = 2'000 * kMs,
                 .rotate_after_ns = 24LL * 3600 * 1'000 * kMs,
                 .rotate_timeout_ns = 2'500 * kMs,
                 .record_path = {}});
  ASSERT_TRUE(r.started()) << r.error();
  ASSERT_TRUE(r.run_until([&] { return r.all_live(); }, 15'000)) << "live books: " << r.live_books();
  ASSERT_TRUE(r.run_until([&] { return r.sim().stats().connections >= 2 && r.all_live(); }, 15'000));
  EXPECT_EQ(r.switches, 0u);
  EXPECT_EQ(r.left_live(), r.books());  // every book: live → stale at the cut
}

// A replacement whose snapshots all fail (500, then its books halt for 5 s) is not ready
// within rotate_timeout: it is dropped with an on_error, twice (15 failed snapshots each: 3
// books × 5 attempts); the old connection serves on — its books never leave live and the
// listener keeps being shown them — and the third replacement switches.
TEST(Rotation, ReplacementNotReadyInTimeIsDroppedAndTheOldConnectionServesOn) {
  RotationRun r({.sim_lifetime_ns = 20'000 * kMs,
                 .rotate_after_ns = 1'000 * kMs,
                 .rotate_timeout_ns = 1'500 * kMs,
                 .record_path = {}});
  ASSERT_TRUE(r.started()) << r.error();
  ASSERT_TRUE(r.run_until([&] { return r.all_live(); }, 15'000)) << "live books: " << r.live_books();
  r.count_not_live = true;
  std::string error;
  const auto f = obr::sim::parse_fault("rest_500,venue=binance", error);
  ASSERT_TRUE(f.has_value()) << error;
  for (int i = 0; i < 30; ++i) r.sim().add_fault(*f);  // each fires once, on a snapshot request
  ASSERT_TRUE(r.run_until([&] { return r.errors_with("rotation:") >= 1; }, 15'000));
  EXPECT_EQ(r.switches, 0u);
  const std::uint64_t callbacks_at_first_drop = r.book_callbacks;
  ASSERT_TRUE(r.run_until([&] { return r.switches >= 1; }, 20'000)) << "switches: " << r.switches;
  EXPECT_EQ(r.errors_with("rotation:"), 2u);
  EXPECT_EQ(r.engine().stats().rotations_dropped, 2u);
  EXPECT_EQ(r.engine().stats().rotations, r.switches);
  EXPECT_EQ(r.errors.size(), 2u) << r.errors.back();  // the replacements' own errors are not shown
  EXPECT_GT(r.book_callbacks, callbacks_at_first_drop);
  EXPECT_EQ(r.sim().fired().size(), 30u);
  r.run_for_ms(300);
  EXPECT_EQ(r.left_live(), 0u);
  EXPECT_EQ(r.not_live_callbacks, 0u);
  for (const std::string& s : r.sim().symbols(r.venue())) EXPECT_EQ(r.went_live(s), 1u) << s;
  // Before the switch only the first connection's books were shown, after it only the third's.
  expect_one_book_per_interval(r, r.switches);
  expect_transitions_chain(r);
  EXPECT_EQ(r.sim_connections_at_switch.front(), 4u);  // the first, two dropped, the one switched to
  expect_books_equal_truth(r);
}

struct LiveBook {
  std::string symbol;
  BookState state;
  obr::book::BookCounters counters;
  std::vector<obr::engine::ReplayLevel> bids, asks;
};
template <class SideT>
std::vector<obr::engine::ReplayLevel> levels_text(const SideT& side, const obr::book::OrderBook& b) {
  std::vector<obr::engine::ReplayLevel> out;
  for (std::size_t i = 0; i < 10 && i < side.size(); ++i) {
    out.push_back({obr::book::to_decimal_string(side.at(i).price, b.price_scale()),
                   obr::book::to_decimal_string(side.at(i).qty, b.qty_scale())});
  }
  return out;
}

// The old connection is cut while its replacement waits (a 429 blocks the venue's REST
// budget, which both share, for 1 s): the old books go stale — that loss is the venue's —
// and whichever connection bridges first serves them. If the replacement does, the switch
// reports each book's way from the old book's state to the new one's; either way the
// listener's transitions stay one chain per book, and every book ends live and right.
TEST(Rotation, OldConnectionCutWhileItsReplacementWaits) {
  RotationRun r({.sim_lifetime_ns = 2'000 * kMs,
                 .rotate_after_ns = 1'500 * kMs,
                 .rotate_timeout_ns = 10'000 * kMs,
                 .record_path = {},
                 .venue = "binance"});
  ASSERT_TRUE(r.started()) << r.error();
  ASSERT_TRUE(r.run_until([&] { return r.all_live(); }, 15'000)) << "live books: " << r.live_books();
  std::string error;
  const auto f = obr::sim::parse_fault("rest_429,venue=binance", error);
  ASSERT_TRUE(f.has_value()) << error;
  r.sim().add_fault(*f);  // the replacement's first snapshot request
  ASSERT_TRUE(r.run_until([&] { return r.sim().fired().size() == 1u; }, 10'000));
  ASSERT_TRUE(r.run_until([&] { return r.left_live() > 0u; }, 10'000));  // the cut at 2 s
  ASSERT_TRUE(r.run_until([&] { return r.all_live() && r.engine().stats().rotations >= 1; }, 15'000))
      << "live " << r.live_books() << " rotations " << r.engine().stats().rotations;
  r.run_for_ms(300);
  expect_transitions_chain(r);
  for (const std::string& s : r.sim().symbols(r.venue())) {
    BookState last = BookState::kSubscribing;
    for (const Transition& t : r.transitions) {
      if (t.symbol == s) last = t.to;
    }
    EXPECT_EQ(last, BookState::kLive) << s;
  }
  std::fprintf(stderr, "cut while waiting: %zu transitions, %zu switches, %llu dropped, reconnects %llu\n",
               r.transitions.size(), r.switches, static_cast<unsigned long long>(r.engine().stats().rotations_dropped),
               static_cast<unsigned long long>(r.engine().stats().reconnects));
  expect_books_equal_truth(r);
}

// While the run is recorded the engine rotates by reconnecting (a recording holds one
// session per venue: docs/recording.md): the books go stale and live again at each
// rotation, no replacement is opened, and the recording replays to the same books.
TEST(Rotation, RecordedRunRotatesByReconnectingAndReplaysExactly) {
  const std::string path = ::testing::TempDir() + "obr-rotation-" + std::to_string(::getpid()) + ".obr.gz";
  std::vector<LiveBook> live;
  obr::engine::EngineStats stats;
  {
    RotationRun r({.sim_lifetime_ns = 20'000 * kMs,
                   .rotate_after_ns = 1'000 * kMs,
                   .rotate_timeout_ns = 2'500 * kMs,
                   .record_path = path});
    ASSERT_TRUE(r.started()) << r.error();
    ASSERT_TRUE(r.run_until([&] { return r.engine().stats().reconnects >= 2 && r.all_live(); }, 30'000));
    r.run_for_ms(300);
    EXPECT_EQ(r.switches, 0u);
    EXPECT_EQ(r.sim().stats().connections, r.engine().stats().connects);
    EXPECT_GE(r.left_live(), 2 * r.books());
    EXPECT_GE(std::count_if(r.connection_events.begin(), r.connection_events.end(),
                            [](const std::string& e) { return e.find("the run is recorded") != e.npos; }),
              2);
    r.engine().stop();
    r.run_for_ms(300);
    r.engine().for_each_book([&](std::string_view, std::string_view symbol, const obr::book::OrderBook& b) {
      live.push_back(
          {std::string(symbol), b.state(), b.counters(), levels_text(b.bids(), b), levels_text(b.asks(), b)});
    });
    stats = r.engine().stats();
    ASSERT_TRUE(r.engine().close_recording().ok());
  }
  const auto summary = obr::engine::replay_files({path}, {});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->frames, stats.frames);
  ASSERT_EQ(summary->books.size(), live.size());
  for (const LiveBook& l : live) {
    SCOPED_TRACE(l.symbol);
    const auto it =
        std::find_if(summary->books.begin(), summary->books.end(), [&](const auto& b) { return b.symbol == l.symbol; });
    ASSERT_NE(it, summary->books.end());
    EXPECT_EQ(it->state, l.state);
    EXPECT_EQ(it->counters.snapshots, l.counters.snapshots);
    EXPECT_GE(l.counters.snapshots, 3u);  // one per connection
    EXPECT_EQ(it->counters.updates, l.counters.updates);
    EXPECT_EQ(it->counters.levels_applied, l.counters.levels_applied);
    EXPECT_EQ(it->counters.checks_failed, l.counters.checks_failed);
    EXPECT_EQ(it->bids, l.bids);
    EXPECT_EQ(it->asks, l.asks);
  }
  std::remove(path.c_str());
}

}  // namespace
