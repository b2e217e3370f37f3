// tests/integration/sim_harness.h — the live engine connected to the exchange simulator
// over loopback TLS on one event loop, with a listener that checks every book it is shown.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "book/order_book.h"
#include "connectors/net/event_loop.h"
#include "engine/engine.h"
#include "tools/sim/simulator.h"

namespace obr::testing {

struct Transition {
  std::string venue, symbol;
  book::BookState from, to;
  connectors::StateReason reason;
  std::int64_t at_ns;
};

// top_levels copies the best `n` levels of a side, best first.
template <class SideT>
std::vector<book::Level> top_levels(const SideT& side, std::size_t n) {
  std::vector<book::Level> out;
  for (std::size_t i = 0; i < n && i < side.size(); ++i) out.push_back(side.at(i));
  return out;
}

class SimHarness : public engine::Listener {
 public:
  // record_path: when set, the engine records the run there (Engine::record_to), rotated
  // as `rotation` says.
  // configure: changes the engine's configuration before it is built.
  // configure_sim: changes the simulator's (e.g. its markets) before it is built.
  // The engine subscribes to every book the simulator serves for each of `venues`.
  explicit SimHarness(std::vector<sim::Fault> faults, bool tls = true, std::uint64_t seed = 7,
                      const std::string& record_path = "",
                      const std::function<void(engine::EngineConfig&)>& configure = {},
                      const std::function<void(sim::SimConfig&)>& configure_sim = {},
                      const std::vector<std::string>& venues = {"kraken", "kucoin"},
                      const engine::RecordingRotation& rotation = {}) {
    sim::SimConfig sc;
    sc.tls = tls;
    sc.seed = seed;
    sc.cert_file = ::testing::TempDir() + "obr-sim-cert-" + std::to_string(::getpid()) + ".pem";
    sc.faults = std::move(faults);
    sc.timed_faults_wait = true;  // armed by run_until once every book is live
    if (configure_sim) configure_sim(sc);
    sim_ = std::make_unique<sim::Simulator>(loop_, sc);
    std::string error;
    started_ = sim_->start(error);
    error_ = error;
    if (!started_) return;
    engine::EngineConfig ec;
    for (const std::string& v : venues) {
      engine::VenueConfig& vc = ec.venue(v);
      vc.symbols = sim_->symbols(v);
      books_ += vc.symbols.size();
      const std::string url = sim_->url(v);
      if (url.starts_with("ws://") || url.starts_with("wss://")) vc.endpoints = {url};
      vc.rest_base = sim_->rest_url(v);  // empty for a venue without REST
    }
    if (tls) ec.tls.ca_file = sim_->cert_file();  // written only for TLS
    ec.watchdog_ns = 2'000'000'000;
    ec.backoff.base_ns = 100'000'000;
    ec.backoff.cap_ns = 1'000'000'000;
    if (configure) configure(ec);
    engine_ = std::make_unique<engine::Engine>(ec, this, &loop_);
    if (!record_path.empty()) {
      const absl::Status st = engine_->record_to(record_path, rotation);
      if (!st.ok()) {
        started_ = false;
        error_ = std::string(st.message());
        return;
      }
    }
    engine_->connect();
  }
  ~SimHarness() override {
    engine_.reset();
    sim_.reset();
    loop_.run_for(50'000'000);
  }

  bool started() const { return started_; }
  const std::string& error() const { return error_; }
  sim::Simulator& sim() { return *sim_; }
  net::EventLoop& loop() { return loop_; }
  engine::Engine& engine() { return *engine_; }

  // run_until runs the loop until `done()` or `timeout_ms`; returns done(). The first time
  // every book is live it arms the simulator's timed faults: a fault's t= counts from then
  // (SimConfig::timed_faults_wait), so under a sanitizer, where books take longer to go
  // live, a fault still hits a live book and must be detected.
  bool run_until(const std::function<bool()>& done, int timeout_ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      loop_.run_for(20'000'000);
      if (!sim_->timed_faults_armed() && all_live()) sim_->arm_timed_faults();
    }
    return true;
  }
  void run_for_ms(int ms) {
    run_until([] { return false; }, ms);
  }

  std::size_t live_books() const {
    std::size_t n = 0;
    engine_->for_each_book([&](std::string_view, std::string_view, const book::OrderBook& b) {
      if (b.state() == book::BookState::kLive) ++n;
    });
    return n;
  }
  std::size_t books() const { return books_; }
  bool all_live() const { return live_books() == books_; }

  // The listener: every live book shown must equal a recent truth.
  void on_book(std::string_view venue, std::string_view symbol, const book::OrderBook& book, bool,
               std::int64_t) override {
    ++callbacks;
    if (book.state() != book::BookState::kLive) return;
    ++live_callbacks;
    const auto bids = top_levels(book.bids(), sim::Simulator::kTruthLevels);
    const auto asks = top_levels(book.asks(), sim::Simulator::kTruthLevels);
    if (!sim_->matches_recent_truth(venue, symbol, bids, asks)) {
      ++wrong_live;
      if (wrong_live < 5)
        std::fprintf(stderr, "WRONG live book %s %s\n", std::string(venue).c_str(), std::string(symbol).c_str());
    }
  }
  void on_book_state(std::string_view venue, std::string_view symbol, book::BookState from, book::BookState to,
                     connectors::StateReason reason) override {
    ++callbacks;
    transitions.push_back({std::string(venue), std::string(symbol), from, to, reason, net::now_ns()});
  }
  void on_connection(std::string_view venue, engine::ConnectionState state, std::string_view detail) override {
    ++callbacks;
    connection_details.push_back(std::string(venue) + ": " + std::string(detail));
    connection_events.push_back({std::string(venue), state, std::string(detail)});
    if (state == engine::ConnectionState::kClosed) closes.push_back(std::string(venue) + ": " + std::string(detail));
    if (on_connection_hook) on_connection_hook(venue, state);
  }
  void on_error(const engine::EngineError& e) override {
    ++callbacks;
    errors.push_back(engine::to_string(e));
  }
  void on_venue_status(std::string_view, std::string_view) override { ++callbacks; }

  // left_live counts transitions out of live for (venue, symbol), or every book when empty.
  std::size_t left_live(std::string_view venue = {}, std::string_view symbol = {}) const {
    std::size_t n = 0;
    for (const auto& t : transitions) {
      if (t.from == book::BookState::kLive && (venue.empty() || t.venue == venue) &&
          (symbol.empty() || t.symbol == symbol)) {
        ++n;
      }
    }
    return n;
  }
  bool saw_reason(connectors::StateReason r, std::string_view symbol = {}) const {
    for (const auto& t : transitions) {
      if (t.reason == r && (symbol.empty() || t.symbol == symbol)) return true;
    }
    return false;
  }

  struct ConnectionEvent {
    std::string venue;
    engine::ConnectionState state;
    std::string detail;
  };

  std::uint64_t callbacks = 0;  // every listener callback
  std::uint64_t live_callbacks = 0;
  std::uint64_t wrong_live = 0;
  std::vector<Transition> transitions;
  std::vector<std::string> closes;
  std::vector<std::string> errors;
  std::vector<std::string> connection_details;     // every on_connection detail, "venue: detail"
  std::vector<ConnectionEvent> connection_events;  // every on_connection, in order
  // on_connection_hook: called at the end of every on_connection (e.g. to stop the engine
  // at a given moment of a connection's life).
  std::function<void(std::string_view venue, engine::ConnectionState state)> on_connection_hook;

 private:
  net::EventLoop loop_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<engine::Engine> engine_;
  bool started_ = false;
  std::string error_;
  std::size_t books_ = 0;
};

}  // namespace obr::testing
