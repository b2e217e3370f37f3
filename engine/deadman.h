// engine/deadman.h — a dead man's switch on the engine's books: one HTTP request to a
// monitor's URL every interval, sent only while every covered book is live, so that a
// monitor expecting a request per interval (healthchecks.io style) raises its alarm when
// the books stop being served, and also when the process or its host dies
// (docs/operations.md "Dead man's switch").
//
//   obr::engine::Engine engine(config, &listener);
//   obr::engine::Deadman deadman(engine, settings, config.tls);   // DeadmanSettings
//   deadman.start();                  // before engine.run(), or on the engine thread
//   engine.run();                     // ... deadman.stop() on the engine thread before engine.stop()
//
// Every interval (counted from start(), at a fixed rate) the switch looks at the state of
// every covered book (DeadmanSettings::books; empty: every book of the engine) on the
// engine thread. All live: it sends one request (HttpClient: http or https, verified
// with the engine's TLS options; a timeout of the interval, at most 15 s). Any not live,
// or a covered book the engine does not hold, or no book at all: it sends nothing and
// counts the interval as skipped. So after a covered book leaves live, no request is sent
// until every covered book is live again; a request already on its way is not recalled
// (the monitor sees at most that one, within the request's timeout).
//
// A request answered 2xx counts as answered; any other answer, or none (refused, TLS,
// timeout), counts as failed and is reported through `report` as one line naming the
// method, the URL and the status or reason. A failure never stops the switch or the
// engine: the next interval tries again. `report` also gets one line each time the switch
// pauses (naming a book that is not live) and resumes.
//
// PERFORMANCE: control path: one look at the covered books' states per interval (a pass
// over the engine's books) and at most one request.
//
// Thread-safety: construct, start(), stop() and destroy on the engine thread (or before
// the engine's loop runs, or after it returned); stats() and metrics() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/net/tls.h"
#include "engine/engine.h"
#include "engine/service_config.h"

namespace obr::engine {

struct DeadmanStats {
  std::uint64_t sent = 0;      // requests sent
  std::uint64_t answered = 0;  // answered 2xx
  std::uint64_t failed = 0;    // answered otherwise, or not answered (the reason was reported)
  std::uint64_t skipped = 0;   // intervals without a request: a covered book was not live
};

class Deadman {
 public:
  // Report: one line (no newline) about a failure or a pause/resume.
  using Report = std::function<void(std::string_view line)>;
  // TickObserver: after every interval's decision, its time (net::now_ns(), on the engine
  // thread) and whether a request went.
  using TickObserver = std::function<void(std::int64_t at_ns, bool sent)>;

  // `engine` must outlive the switch; `settings.interval_ns` > 0 (load_service_config
  // holds it to 100 ms at least). `report` empty: lines go to stderr.
  Deadman(Engine& engine, DeadmanSettings settings, const net::TlsOptions& tls, Report report = {});
  ~Deadman();  // stop(); a request in flight completes without calling back
  Deadman(const Deadman&) = delete;
  Deadman& operator=(const Deadman&) = delete;

  // start: the first look one interval from now. Again after stop(): restarts the count.
  void start();
  // stop: no further look or request (answers to requests already sent are still counted).
  void stop();
  void set_tick_observer(TickObserver observer);

  DeadmanStats stats() const;
  // metrics: the counters as Prometheus text (obr_deadman_requests_total{result=...},
  // obr_deadman_skipped_total, obr_deadman_covered_live), for /metrics.
  std::string metrics() const;
  const DeadmanSettings& settings() const;

  struct Impl;  // internal

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace obr::engine
