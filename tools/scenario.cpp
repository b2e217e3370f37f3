// tools/scenario.cpp — the engine against the simulator, judged against the truth.
#include "tools/scenario.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "book/decimal.h"
#include "connectors/net/event_loop.h"
#include "engine/engine.h"
#include "tools/sim/simulator.h"
#include "tools/sim/venue_pieces.h"

namespace obr::tools {
namespace {

using book::BookState;

struct Recovery {
  std::string book;  // "venue symbol"
  std::int64_t left_at_ns;
  double ms;
};

struct Signal {
  std::string venue, symbol;  // symbol empty: a connection event or an error
  std::int64_t at_ns;
};

// TruthListener compares every live book the engine shows with the simulator's truth and
// notes every reaction (a book leaving live, a connection closing, an error) with its time.
class TruthListener : public engine::Listener {
 public:
  TruthListener(sim::Simulator& s, bool print) : sim_(s), print_(print) {}

  void on_book(std::string_view venue, std::string_view symbol, const book::OrderBook& b, bool, std::int64_t) override {
    if (b.state() != BookState::kLive) return;
    ++live_callbacks;
    bids_.clear();
    asks_.clear();
    for (std::size_t i = 0; i < sim::Simulator::kTruthLevels && i < b.bids().size(); ++i)
      bids_.push_back(b.bids().at(i));
    for (std::size_t i = 0; i < sim::Simulator::kTruthLevels && i < b.asks().size(); ++i)
      asks_.push_back(b.asks().at(i));
    if (!sim_.matches_recent_truth(venue, symbol, bids_, asks_)) ++wrong_books;
  }

  void on_book_state(std::string_view venue, std::string_view symbol, BookState from, BookState to,
                     connectors::StateReason reason) override {
    const std::int64_t now = net::now_ns();
    std::string key(venue);
    key += ' ';
    key += symbol;
    timeline_[key].emplace_back(now, to == BookState::kLive);
    if (from == BookState::kLive) {
      ++left_live;
      left_live_at_[key] = now;
      signals.push_back({std::string(venue), std::string(symbol), now});
    }
    if (to == BookState::kLive) {
      auto it = left_live_at_.find(key);
      if (it != left_live_at_.end()) {
        recoveries.push_back({key, it->second, static_cast<double>(now - it->second) / 1e6});
        left_live_at_.erase(it);
      }
    }
    if (print_) {
      std::printf("  %-7.*s %-9.*s %s -> %s (%s)\n", static_cast<int>(venue.size()), venue.data(),
                  static_cast<int>(symbol.size()), symbol.data(), std::string(book::to_string(from)).c_str(),
                  std::string(book::to_string(to)).c_str(), std::string(connectors::to_string(reason)).c_str());
    }
  }

  void on_connection(std::string_view venue, engine::ConnectionState state, std::string_view detail) override {
    if (state == engine::ConnectionState::kClosed) signals.push_back({std::string(venue), "", net::now_ns()});
    if (print_ && state != engine::ConnectionState::kConnecting) {
      std::printf("  %-7.*s connection %s%s%.*s\n", static_cast<int>(venue.size()), venue.data(),
                  std::string(engine::to_string(state)).c_str(), detail.empty() ? "" : " ",
                  static_cast<int>(std::min<std::size_t>(detail.size(), 80)), detail.data());
    }
  }

  void on_error(const engine::EngineError& e) override {
    signals.push_back({std::string(e.venue), std::string(e.symbol), net::now_ns()});
    if (print_) {
      const std::string what = engine::to_string(e);
      std::printf("  error: %.*s\n", static_cast<int>(std::min<std::size_t>(what.size(), 100)), what.data());
    }
  }

  // live_at: whether the book "venue symbol" was live at `t_ns`.
  bool live_at(const std::string& key, std::int64_t t_ns) const {
    const auto it = timeline_.find(key);
    if (it == timeline_.end()) return false;
    bool live = false;
    for (const auto& [at, is_live] : it->second) {
      if (at > t_ns) break;
      live = is_live;
    }
    return live;
  }

  std::uint64_t live_callbacks = 0;
  std::uint64_t wrong_books = 0;
  std::size_t left_live = 0;
  std::vector<Recovery> recoveries;
  std::vector<Signal> signals;

 private:
  sim::Simulator& sim_;
  bool print_;
  std::map<std::string, std::int64_t> left_live_at_;
  std::map<std::string, std::vector<std::pair<std::int64_t, bool>>> timeline_;  // (time, live after)
  std::vector<book::Level> bids_, asks_;
};

// equal_to_truth: the book's top 10 of each side equals the simulator's, level by level.
bool equal_to_truth(const sim::Simulator& simulator, std::string_view venue, std::string_view symbol,
                    const book::OrderBook& b) {
  const auto tb = simulator.truth_bids(venue, symbol);
  const auto ta = simulator.truth_asks(venue, symbol);
  bool same = tb.size() >= 10 && ta.size() >= 10 && b.bids().size() >= 10 && b.asks().size() >= 10;
  for (std::size_t i = 0; same && i < 10; ++i) same = b.bids().at(i) == tb[i] && b.asks().at(i) == ta[i];
  return same;
}

}  // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::uint64_t proc_status_kb(const char* field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  std::uint64_t kb = 0;
  const std::size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      kb = std::strtoull(line + n + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb;
}

std::vector<std::string> failure_reasons(const ScenarioResult& r) {
  std::vector<std::string> out;
  if (r.wrong_books_served != 0) out.push_back(std::to_string(r.wrong_books_served) + " wrong book(s) served");
  if (!r.not_live_at_end.empty()) {
    std::string s = std::to_string(r.not_live_at_end.size()) + " book(s) not live at the end:";
    for (const std::string& b : r.not_live_at_end) s += " " + b;
    out.push_back(std::move(s));
  }
  if (r.books_equal_at_end < r.books_live_at_end) {
    out.push_back(std::to_string(r.books_live_at_end - r.books_equal_at_end) +
                  " live book(s) unequal to the truth at the end");
  }
  std::size_t missed = 0;
  std::string missed_list;
  for (const std::string& f : r.fired) {
    if (f.size() >= 6 && f.compare(f.size() - 6, 6, "MISSED") == 0) {
      ++missed;
      if (missed <= 3) missed_list += (missed > 1 ? "; " : " ") + f;
    }
  }
  if (missed != 0) out.push_back(std::to_string(missed) + " fault(s) missed:" + missed_list);
  if (r.faults_injected < r.faults_scheduled) {
    out.push_back(std::to_string(r.faults_scheduled - r.faults_injected) + " of " + std::to_string(r.faults_scheduled) +
                  " scheduled fault(s) never fired (run too short, or nothing to apply them to)");
  }
  return out;
}

namespace {

// scenario_sim_config: the options' simulator on the scenario's own loopback address, any
// free port and a certificate file named for this process.
sim::SimConfig scenario_sim_config(const ScenarioOptions& options) {
  sim::SimConfig sc = options.sim;
  sc.host = "127.0.0.1";
  sc.port = 0;
  sc.cert_file = "/tmp/obr-scenario-cert-" + std::to_string(::getpid()) + ".pem";
  return sc;
}

// check_faults_served: false, with `error`, for the first fault naming a venue or symbol the
// simulator does not serve. Such a fault would never fire, so the run is refused.
bool check_faults_served(const sim::Simulator& simulator, const std::vector<sim::Fault>& faults, std::string& error) {
  for (const sim::Fault& f : faults) {
    const std::string_view venue = sim::fault_venue(f);
    std::vector<std::string> served;
    if (!venue.empty()) {
      served = simulator.symbols(std::string(venue));
      if (served.empty()) {
        error = "fault '" + f.spec + "': venue '" + std::string(venue) + "' is not served by the simulator";
        return false;
      }
    } else {
      for (const sim::VenuePieceFactory& piece : sim::venue_pieces()) {
        for (std::string& s : simulator.symbols(piece.name)) served.push_back(std::move(s));
      }
    }
    if (!f.symbol.empty() && std::find(served.begin(), served.end(), f.symbol) == served.end()) {
      error = "fault '" + f.spec + "': symbol '" + f.symbol + "' is not served" +
              (venue.empty() ? std::string() : " on " + std::string(venue)) + " (served:";
      for (const std::string& s : served) error += " " + s;
      error += ")";
      return false;
    }
  }
  return true;
}

// scenario_engine_config: an engine for every book the simulator serves, trusting its
// certificate. The watchdog and the reconnect backoff are much shorter than the engine's
// defaults (10 s; 0.5 s to 30 s) because a run lasts seconds and a fault only counts as
// detected when the engine reacts within 10 s of it.
engine::EngineConfig scenario_engine_config(const sim::Simulator& simulator) {
  engine::EngineConfig ec;
  // Every venue the simulator serves that the engine knows (a piece may come before its
  // venue joins the engine's list: it is served, and left out here until then), from the
  // URL a client starts at (a WebSocket endpoint, or the REST base its tokens come from)
  // and, for a venue with a WebSocket and REST calls (snapshots), the simulator's REST base.
  for (const sim::VenuePieceFactory& piece : sim::venue_pieces()) {
    if (!engine::is_venue(piece.name)) continue;
    engine::VenueConfig& v = ec.venue(piece.name);
    v.symbols = simulator.symbols(piece.name);
    const std::string url = simulator.url(piece.name);
    if (url.starts_with("ws://") || url.starts_with("wss://")) v.endpoints = {url};
    v.rest_base = simulator.rest_url(piece.name);
  }
  ec.tls.ca_file = simulator.cert_file();
  ec.watchdog_ns = 2'000'000'000;
  ec.backoff.base_ns = 100'000'000;
  ec.backoff.cap_ns = 2'000'000'000;
  return ec;
}

// run_and_sample connects the engine and runs the loop for the scenario's length, or until
// `stop` is set, sampling the process's memory after the warm-up (20% of the run), once a
// second and at the end. It returns the time the run started, which fault and recovery
// times are reported from.
std::int64_t run_and_sample(const ScenarioOptions& options, net::EventLoop& loop, engine::Engine& eng,
                            ScenarioResult& r) {
  eng.connect();
  const std::int64_t start = net::now_ns();
  const std::int64_t end = start + static_cast<std::int64_t>(options.seconds * 1e9);
  const std::int64_t warm = start + static_cast<std::int64_t>(options.seconds * 0.2e9);
  std::int64_t next_second = start + 1'000'000'000;
  while (net::now_ns() < end) {
    if (options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) {
      r.interrupted = true;
      r.seconds = static_cast<double>(net::now_ns() - start) / 1e9;
      break;
    }
    loop.run_for(50'000'000);
    if (r.rss_kb_after_warmup == 0 && net::now_ns() >= warm) r.rss_kb_after_warmup = proc_status_kb("VmRSS");
    if (net::now_ns() >= next_second) {
      r.rss_kb_by_second.push_back(proc_status_kb("VmRSS"));
      if (options.every_second) options.every_second(eng, static_cast<double>(net::now_ns() - start) / 1e9);
      next_second += 1'000'000'000;
    }
  }
  r.rss_kb_end = proc_status_kb("VmRSS");
  return start;
}

// settled: every book is live and equal to the truth (the drain's end, when it comes).
bool settled(const engine::Engine& eng, const sim::Simulator& simulator) {
  bool all = true;
  eng.for_each_book([&](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
    all = all && b.state() == BookState::kLive && equal_to_truth(simulator, venue, symbol, b);
  });
  return all;
}

// judge_books counts the engine's books at the end of the run: their checks and resyncs,
// which are live, and which of those equal the truth (the market drained first).
void judge_books(const engine::Engine& eng, const sim::Simulator& simulator, ScenarioResult& r) {
  eng.for_each_book([&](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
    ++r.books_total;
    r.checks_passed += b.counters().checks_passed;
    r.resyncs += b.counters().resyncs_requested;
    if (b.state() != BookState::kLive) {
      r.not_live_at_end.push_back(std::string(venue) + " " + std::string(symbol) + " (" +
                                  std::string(book::to_string(b.state())) + ")");
      return;
    }
    ++r.books_live_at_end;
    if (equal_to_truth(simulator, venue, symbol, b)) ++r.books_equal_at_end;
  });
}

// judge_faults tells, for every fault that fired, whether it was detected, absorbed or
// missed, tallied by kind and described in r.fired.
//
// A fault counts as detected when the engine reacted on that venue (and book, for a
// book fault) within 10 s: the book left live, the connection closed, or an error.
// Some faults can only do harm by making a book wrong, and sometimes do none:
//  - Kraken updates carry absolute quantities, so a dropped, duplicated or reordered
//    update can be overwritten by the next one before any checksum sees it;
//  - a KuCoin delta sent twice is skipped by its sequence (already applied);
//  - a KuCoin stale snapshot the buffered deltas still bridge, as the venue's
//    procedure intends (a snapshot is only ever asked for while a book calibrates);
//  - any book-data fault (even a corrupted checksum) on a book that was not live at
//    that moment (stale after maintenance, resyncing): its updates are ignored until a
//    fresh snapshot.
// Such a fault, when nothing reacted to it, counts as absorbed, and only when no
// callback ever showed a wrong book (which is what its harm would look like).
void judge_faults(const sim::Simulator& simulator, const TruthListener& listener, std::int64_t start,
                  ScenarioResult& r) {
  for (const sim::FiredFault& f : simulator.fired()) {
    // The venue it hit: a fault without venue= of a kind several venues have goes to one of them.
    const std::string_view venue = f.venue.empty() ? sim::fault_venue(f.fault) : std::string_view(f.venue);
    FaultTally& tally = r.by_kind[std::string(sim::to_string(f.fault.kind))];
    ++tally.injected;
    bool seen = false;
    for (const Signal& s : listener.signals) {
      if (s.at_ns < f.at_ns || s.at_ns > f.at_ns + 10'000'000'000) continue;
      if (!venue.empty() && s.venue != venue) continue;
      if (!f.symbol.empty() && s.symbol != f.symbol) continue;
      seen = true;
      break;
    }
    const sim::FaultKind k = f.fault.kind;
    const bool book_data = k == sim::FaultKind::kDrop || k == sim::FaultKind::kReorder ||
                           k == sim::FaultKind::kDuplicate || k == sim::FaultKind::kCorruptChecksum ||
                           k == sim::FaultKind::kSkipSequence;
    // KuCoin deltas carry sequences: a drop, reorder or skip on a live book must be
    // detected (it never makes the book wrong, so "no wrong book" proves nothing there).
    const sim::VenuePieceFactory* piece = sim::find_venue_piece(venue);
    const bool absorbable =
        piece != nullptr && std::find(piece->absorbable.begin(), piece->absorbable.end(), k) != piece->absorbable.end();
    const bool harmless_if_unseen = absorbable || (book_data && !f.symbol.empty() &&
                                                   !listener.live_at(std::string(venue) + " " + f.symbol, f.at_ns));
    const char* outcome = "MISSED";
    if (seen) {
      ++r.faults_detected;
      ++tally.detected;
      outcome = "detected";
    } else if (harmless_if_unseen && listener.wrong_books == 0) {
      ++r.faults_absorbed;
      ++tally.absorbed;
      outcome = "absorbed";
    }
    char line[256];
    std::snprintf(line, sizeof line, "t=%.1fs %s%s%s -> %s", static_cast<double>(f.at_ns - start) / 1e9,
                  f.fault.spec.c_str(), f.symbol.empty() ? "" : " on ", f.symbol.c_str(), outcome);
    r.fired.emplace_back(line);
  }
  r.faults_injected = simulator.fired().size();
}

// collect_figures copies what the engine and the listener measured into the result: wrong
// books, live callbacks, recoveries (the three slowest described), frames, reconnects and
// latency. It runs after judge_books, whose count of live books unequal to the truth at
// the end is part of the wrong books.
void collect_figures(const engine::Engine& eng, const TruthListener& listener, std::int64_t start, ScenarioResult& r) {
  const auto st = eng.stats();
  r.wrong_books_served = listener.wrong_books + (r.books_live_at_end - r.books_equal_at_end);
  r.live_callbacks = listener.live_callbacks;
  r.left_live = listener.left_live;
  std::vector<double> recovery_ms;
  for (const Recovery& rec : listener.recoveries) recovery_ms.push_back(rec.ms);
  r.recoveries = recovery_ms.size();
  r.recovery_ms_p50 = percentile(recovery_ms, 50);
  r.recovery_ms_p99 = percentile(recovery_ms, 99);
  r.recovery_ms_max = percentile(recovery_ms, 100);
  auto slow = listener.recoveries;
  std::sort(slow.begin(), slow.end(), [](const Recovery& a, const Recovery& b) { return a.ms > b.ms; });
  for (std::size_t i = 0; i < slow.size() && i < 3; ++i) {
    char line[160];
    std::snprintf(line, sizeof line, "%s left live at t=%.1fs, back after %.0f ms", slow[i].book.c_str(),
                  static_cast<double>(slow[i].left_at_ns - start) / 1e9, slow[i].ms);
    r.slowest_recoveries.emplace_back(line);
  }
  r.frames = st.frames;
  r.reconnects = st.disconnects;
  // Frame read off the socket → listener callback, every update of the run.
  r.latency_us_p50 = static_cast<double>(eng.latency().quantile(0.5)) / 1e3;
  r.latency_us_p99 = static_cast<double>(eng.latency().quantile(0.99)) / 1e3;
  r.latency_samples = eng.latency().count();
}

// peak_memory_kb: the process's peak memory over the run. VmHWM is the kernel's high-water
// mark, but the per-thread RSS counters it is kept from are folded in lazily: it can read a
// little below a VmRSS sampled earlier. The peak is the largest of everything seen, so it
// is never below the final figure.
std::uint64_t peak_memory_kb(const ScenarioResult& r) {
  std::uint64_t peak = std::max({proc_status_kb("VmHWM"), r.rss_kb_end, r.rss_kb_after_warmup});
  for (const std::uint64_t kb : r.rss_kb_by_second) peak = std::max(peak, kb);
  return peak;
}

}  // namespace

bool run_scenario(const ScenarioOptions& options, ScenarioResult& r, std::string& error) {
  r = ScenarioResult{};
  r.seconds = options.seconds;
  r.faults_scheduled = options.sim.faults.size();
  const sim::SimConfig sc = scenario_sim_config(options);
  net::EventLoop loop;
  sim::Simulator simulator(loop, sc);
  if (!simulator.start(error)) return false;
  if (!check_faults_served(simulator, sc.faults, error)) {
    std::remove(sc.cert_file.c_str());
    return false;
  }
  TruthListener listener(simulator, options.print_events);
  const engine::EngineConfig ec = scenario_engine_config(simulator);
  {
    engine::Engine eng(ec, &listener, &loop);
    const std::int64_t start = run_and_sample(options, loop, eng, r);
    // Drain: stop the market, let the frames (and REST answers) in flight arrive, then
    // compare with the truth. At least 300 ms; then, while some book is not live or not
    // equal to the (now still) truth, up to 3 s more in steps of 100 ms, for a host slow
    // enough that the engine lags the market by more than that (ASan on a loaded machine):
    // the market is paused, so waiting only lets what was already sent arrive.
    simulator.pause_market(true);
    loop.run_for(300'000'000);
    for (int step = 0; step < 30 && !settled(eng, simulator); ++step) loop.run_for(100'000'000);
    judge_books(eng, simulator, r);
    judge_faults(simulator, listener, start, r);
    collect_figures(eng, listener, start, r);
  }
  r.peak_rss_kb = peak_memory_kb(r);
  std::remove(sc.cert_file.c_str());
  return true;
}

}  // namespace obr::tools
