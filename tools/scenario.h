// tools/scenario.h — the live engine against the exchange simulator with a fault
// schedule, compared with the simulator's truth: what `obr demo` and `obr soak` run.
//
//   obr::tools::ScenarioOptions o;              // defaults: 3+3 bundled books, TLS, 15 s
//   o.sim.faults = ...;                         // sim::parse_fault specs
//   obr::tools::ScenarioResult r;
//   std::string error;
//   if (!obr::tools::run_scenario(o, r, error)) { ... }   // the simulator did not start
//
// "Wrong book served": a listener callback that showed a book marked live whose top 10
// differed from every state the simulator's true book had recently been in (the replica
// lags the truth by the frames in flight, so it is compared with the truth's recent
// history, exactly, level by level; see Simulator::matches_recent_truth). At the end the
// market is paused, the frames in flight drain, and every live book must equal the truth.
//
// Thread-safety: one scenario per thread (it runs its own event loop).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tools/sim/faults.h"
#include "tools/sim/market.h"
#include "tools/sim/simulator.h"

namespace obr::engine {
class Engine;
}

namespace obr::tools {

struct ScenarioOptions {
  double seconds = 15;
  // The simulator: TLS, seed, books or markets, rate, fault schedule. Its host, port and
  // certificate file are the scenario's own (loopback, any free port, a temporary file).
  sim::SimConfig sim;
  bool print_events = false;  // state changes, connections, errors to stdout
  // every_second(engine, t) runs once a second (the demo's ladder).
  std::function<void(engine::Engine&, double)> every_second;
  // stop, when set, is polled every 50 ms: once true the run ends early (the books are
  // still drained and judged) and the result is marked interrupted.
  const std::atomic<bool>* stop = nullptr;
};

// Per fault kind: how many fired and what became of them.
struct FaultTally {
  std::uint64_t injected = 0;
  std::uint64_t detected = 0;  // the engine reacted on that book or connection within 10 s
  std::uint64_t absorbed = 0;  // nothing reacted and no wrong book was shown (scenario.cpp says when that counts)
};

struct ScenarioResult {
  std::size_t books_total = 0;
  std::size_t books_live_at_end = 0;
  std::size_t books_equal_at_end = 0;  // live and equal to the truth's top 10 after the drain
  std::uint64_t checks_passed = 0;
  std::uint64_t resyncs = 0;
  std::size_t faults_scheduled = 0;
  std::size_t faults_injected = 0;  // fired (a fault waits for an eligible message or request)
  std::size_t faults_detected = 0;
  std::size_t faults_absorbed = 0;
  std::map<std::string, FaultTally> by_kind;
  std::uint64_t wrong_books_served = 0;  // live callbacks that differed from the truth, + live books unequal at the end
  std::uint64_t live_callbacks = 0;
  std::size_t left_live = 0;   // times a book left live
  std::size_t recoveries = 0;  // times a book came back to live after leaving it
  double recovery_ms_p50 = 0, recovery_ms_p99 = 0, recovery_ms_max = 0;
  std::vector<std::string> slowest_recoveries;  // the three slowest, described
  std::vector<std::string> fired;               // every fault that fired: "t=12.3s SPEC -> detected|absorbed|MISSED"
  std::uint64_t frames = 0;
  std::uint64_t reconnects = 0;
  double latency_us_p50 = 0, latency_us_p99 = 0;
  std::uint64_t latency_samples = 0;
  // Memory of the whole process (engine and simulator), from /proc/self/status.
  std::uint64_t rss_kb_after_warmup = 0;  // at 20% of the run
  std::uint64_t rss_kb_end = 0;
  std::uint64_t peak_rss_kb = 0;                // VmHWM
  std::vector<std::uint64_t> rss_kb_by_second;  // VmRSS sampled once a second
  double seconds = 0;                           // the run's length (shorter than asked when interrupted)
  bool interrupted = false;                     // ScenarioOptions::stop ended the run early
  std::vector<std::string> not_live_at_end;     // "venue symbol (state)", for the exit message

  // ok: no wrong book, every book live and equal to the truth at the end, every fault
  // that fired detected or absorbed.
  bool ok() const noexcept {
    return wrong_books_served == 0 && books_live_at_end == books_total && books_equal_at_end == books_total &&
           faults_detected + faults_absorbed == faults_injected;
  }
};

// run_scenario runs it. False, with `error`, when the simulator cannot start or a fault
// names a venue or symbol the simulator does not serve (nothing is run then).
bool run_scenario(const ScenarioOptions& options, ScenarioResult& result, std::string& error);

// failure_reasons: why a result is not ok, one short clause each ("2 wrong books served",
// "1 book not live at the end: kraken BTC/USD (resyncing)", "1 fault missed: t=3.0s drop...").
std::vector<std::string> failure_reasons(const ScenarioResult& result);

// percentile: nearest-rank on a copy (0 for an empty set).
double percentile(std::vector<double> v, double p);

// rss_kb: a /proc/self/status field ("VmRSS", "VmHWM") in KiB; 0 when unavailable.
std::uint64_t proc_status_kb(const char* field);

}  // namespace obr::tools
