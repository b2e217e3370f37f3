// The dead man's switch against the live engine and the exchange simulator on loopback,
// with a local HTTP receiver: a request goes each interval exactly when every covered
// book is live, none goes while one is not, and failures are counted and reported.
#include "engine/deadman.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/net/http_server.h"
#include "tests/integration/sim_harness.h"

namespace obr::engine {
namespace {

constexpr std::int64_t kIntervalNs = 200'000'000;

struct Tick {
  std::int64_t at_ns;
  bool sent;
};

// Receiver: an HTTP server on loopback recording when each request arrived.
class Receiver {
 public:
  Receiver(net::EventLoop& loop, int status = 200)
      : server_(loop, {}, [this, status](std::string_view method, std::string_view target) {
          arrivals.push_back(net::now_ns());
          last = std::string(method) + " " + std::string(target);
          return net::HttpServerResponse{status, "text/plain; charset=utf-8", "ok\n"};
        }) {}
  absl::Status listen() { return server_.listen(); }
  std::string url() const { return "http://" + server_.endpoint() + "/ping"; }
  std::uint16_t port() const { return server_.port(); }
  void close() { server_.close(); }
  std::vector<std::int64_t> arrivals;
  std::string last;

 private:
  net::HttpServer server_;
};

// LiveTimeline replays the listener's transitions (recorded on the engine thread, in
// order, with their times) to say whether every covered book was live at a moment.
class LiveTimeline {
 public:
  LiveTimeline(const std::vector<testing::Transition>& transitions, std::set<std::string> covered)
      : transitions_(transitions), covered_(std::move(covered)) {}

  bool all_live_at(std::int64_t t) const {
    std::map<std::string, bool> live;  // a book with no transition yet is not live
    for (const testing::Transition& tr : transitions_) {
      if (tr.at_ns > t) break;
      const std::string key = tr.venue + ":" + tr.symbol;
      if (covered_.count(key) != 0) live[key] = tr.to == book::BookState::kLive;
    }
    for (const std::string& b : covered_) {
      const auto it = live.find(b);
      if (it == live.end() || !it->second) return false;
    }
    return true;
  }

  // windows: each span [from, to) after the first all-live moment in which a covered book
  // was not live (to: the moment all were live again; INT64_MAX when they never were).
  std::vector<std::pair<std::int64_t, std::int64_t>> windows() const {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    bool was_live = false, seen_live = false;
    for (const testing::Transition& tr : transitions_) {
      const bool now_live = all_live_at(tr.at_ns);
      if (seen_live && was_live && !now_live) out.emplace_back(tr.at_ns, INT64_MAX);
      if (!was_live && now_live && !out.empty() && out.back().second == INT64_MAX) out.back().second = tr.at_ns;
      seen_live = seen_live || now_live;
      was_live = now_live;
    }
    return out;
  }

 private:
  const std::vector<testing::Transition>& transitions_;
  std::set<std::string> covered_;
};

std::set<std::string> kraken_books(testing::SimHarness& h) {
  std::set<std::string> out;
  for (const std::string& s : h.sim().symbols("kraken")) out.insert("kraken:" + s);
  return out;
}

// Every book live: a request each interval. Kraken's maintenance (stale for about 1 s, then
// a fresh snapshot) takes every book out of live: from that transition until every book is
// live again no request is sent (each interval's decision checked against the state at
// its moment), and none arrives later than one interval after it (only one sent before
// it can); then requests resume.
TEST(Deadman, RequestsOnlyWhileEveryBookIsLive) {
  std::string error;
  auto fault = sim::parse_fault("maintenance@t=1s", error);
  ASSERT_TRUE(fault.has_value()) << error;
  testing::SimHarness h({*fault}, true, 7, "", {}, {}, {"kraken"});
  ASSERT_TRUE(h.started()) << h.error();
  Receiver receiver(h.loop());
  ASSERT_TRUE(receiver.listen().ok());
  DeadmanSettings settings;
  settings.url = receiver.url();
  settings.interval_ns = kIntervalNs;
  std::vector<std::string> lines;
  Deadman deadman(h.engine(), settings, {}, [&](std::string_view line) { lines.emplace_back(line); });
  std::vector<Tick> ticks;
  deadman.set_tick_observer([&](std::int64_t at, bool sent) { ticks.push_back({at, sent}); });
  deadman.start();

  const LiveTimeline timeline(h.transitions, kraken_books(h));
  // Until the maintenance took the books out and they came back, and 3 requests arrived since.
  auto back_and_served = [&] {
    const auto w = timeline.windows();
    if (w.empty() || w.front().second == INT64_MAX) return false;
    std::size_t after = 0;
    for (std::int64_t r : receiver.arrivals) {
      if (r > w.front().second) ++after;
    }
    return after >= 3;
  };
  ASSERT_TRUE(h.run_until(back_and_served, 30'000)) << "windows " << timeline.windows().size();
  deadman.stop();
  h.run_for_ms(300);  // the last answer comes in

  ASSERT_TRUE(h.saw_reason(connectors::StateReason::kMaintenance));
  const auto windows = timeline.windows();
  ASSERT_EQ(windows.size(), 1u);
  const auto [out_ns, back_ns] = windows.front();
  // Each interval's decision is the books' state at its moment.
  std::size_t sent = 0, skipped = 0, skipped_in_window = 0;
  for (const Tick& t : ticks) {
    EXPECT_EQ(t.sent, timeline.all_live_at(t.at_ns)) << "tick at " << t.at_ns;
    t.sent ? ++sent : ++skipped;
    if (t.at_ns >= out_ns && t.at_ns < back_ns) {
      ++skipped_in_window;
      EXPECT_FALSE(t.sent);
    }
  }
  // The maintenance lasts about 1 s: several intervals held back.
  EXPECT_GE(skipped_in_window, 2u);
  // Arrivals: before the window, at most one in its first interval (sent before it), none
  // later in it, and some after it.
  std::size_t before = 0, in_first_interval = 0, after = 0;
  for (std::int64_t r : receiver.arrivals) {
    if (r < out_ns) {
      ++before;
    } else if (r < back_ns) {
      EXPECT_LT(r, out_ns + kIntervalNs) << "a request arrived " << (r - out_ns) / 1'000'000
                                         << " ms after a book left live";
      ++in_first_interval;
    } else {
      ++after;
    }
  }
  EXPECT_GE(before, 2u);
  EXPECT_LE(in_first_interval, 1u);
  EXPECT_GE(after, 3u);
  // The counters: every request sent arrived and was answered 200.
  const DeadmanStats s = deadman.stats();
  EXPECT_EQ(s.sent, sent);
  EXPECT_EQ(s.skipped, skipped);
  EXPECT_EQ(s.sent, receiver.arrivals.size());
  EXPECT_EQ(s.answered, s.sent);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(receiver.last, "GET /ping");
  // One line per change of the switch (the first interval's decision is a change too):
  // "sending" lines name the URL, "holding" lines a book that is not live.
  std::vector<bool> changes;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    if (i == 0 || ticks[i].sent != ticks[i - 1].sent) changes.push_back(ticks[i].sent);
  }
  ASSERT_EQ(lines.size(), changes.size());
  ASSERT_GE(lines.size(), 3u);  // sending, holding (maintenance), sending at least
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (changes[i]) {
      EXPECT_EQ(lines[i], "deadman: sending: every covered book is live (3); GET " + receiver.url() + " every 200 ms");
    } else {
      EXPECT_EQ(lines[i].rfind("deadman: holding: kraken ", 0), 0u) << lines[i];
      EXPECT_NE(lines[i].find("; no request until every covered book is live"), std::string::npos) << lines[i];
    }
  }
  EXPECT_NE(lines[lines.size() - 2].find(" is stale; "), std::string::npos) << lines[lines.size() - 2];
  const std::string metrics = deadman.metrics();
  EXPECT_NE(metrics.find("obr_deadman_requests_total{result=\"ok\"} " + std::to_string(s.answered) + "\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("obr_deadman_skipped_total " + std::to_string(s.skipped) + "\n"), std::string::npos);
}

// Covered books: with every book covered, a KuCoin that never connects (its REST base a
// closed port) holds the switch forever; with only Kraken's BTC/USD covered, requests go.
TEST(Deadman, CoversTheListedBooksOrEveryBook) {
  auto dead_kucoin = [](EngineConfig& c) { c.venue("kucoin").rest_base = "http://127.0.0.1:1"; };
  testing::SimHarness h({}, true, 7, "", dead_kucoin, {}, {"kraken", "kucoin"});
  ASSERT_TRUE(h.started()) << h.error();
  Receiver every_receiver(h.loop()), listed_receiver(h.loop());
  ASSERT_TRUE(every_receiver.listen().ok());
  ASSERT_TRUE(listed_receiver.listen().ok());
  DeadmanSettings every;
  every.url = every_receiver.url();
  every.interval_ns = kIntervalNs;
  DeadmanSettings listed = every;
  listed.url = listed_receiver.url();
  listed.books = {{"kraken", "BTC/USD"}};
  std::vector<std::string> every_lines;
  Deadman every_switch(h.engine(), every, {}, [&](std::string_view l) { every_lines.emplace_back(l); });
  Deadman listed_switch(h.engine(), listed, {}, [](std::string_view) {});
  every_switch.start();
  listed_switch.start();
  ASSERT_TRUE(h.run_until([&] { return listed_receiver.arrivals.size() >= 3; }, 20'000));
  h.run_for_ms(500);
  EXPECT_TRUE(every_receiver.arrivals.empty());
  EXPECT_EQ(every_switch.stats().sent, 0u);
  EXPECT_GE(every_switch.stats().skipped, 5u);
  ASSERT_EQ(every_lines.size(), 1u);  // holding from the start, never sending
  EXPECT_EQ(every_lines[0].rfind("deadman: holding: ", 0), 0u) << every_lines[0];
  EXPECT_EQ(listed_switch.stats().answered, listed_switch.stats().sent);
}

// A request answered otherwise than 2xx, or not at all, is counted as failed and reported
// with the method, the URL and the status or reason; the switch goes on. (The receiver
// answers GET and HEAD only: a POST gets its 405.)
TEST(Deadman, FailuresAreCountedAndReported) {
  testing::SimHarness h({}, true, 7, "", {}, {}, {"kraken"});
  ASSERT_TRUE(h.started()) << h.error();
  ASSERT_TRUE(h.run_until([&] { return h.all_live(); }, 20'000));
  Receiver unavailable(h.loop(), 503);
  ASSERT_TRUE(unavailable.listen().ok());
  Receiver gone(h.loop());
  ASSERT_TRUE(gone.listen().ok());
  const std::uint16_t gone_port = gone.port();
  const std::string gone_url = gone.url();
  gone.close();  // nothing listens there now: connections are refused
  DeadmanSettings a;
  a.url = unavailable.url();
  a.interval_ns = kIntervalNs;
  DeadmanSettings b = a;
  b.url = gone_url;
  DeadmanSettings c = a;
  c.method = "POST";
  std::vector<std::string> a_lines, b_lines, c_lines;
  Deadman to_503(h.engine(), a, {}, [&](std::string_view l) { a_lines.emplace_back(l); });
  Deadman to_refused(h.engine(), b, {}, [&](std::string_view l) { b_lines.emplace_back(l); });
  Deadman posting(h.engine(), c, {}, [&](std::string_view l) { c_lines.emplace_back(l); });
  to_503.start();
  to_refused.start();
  posting.start();
  ASSERT_TRUE(h.run_until(
      [&] { return to_503.stats().failed >= 3 && to_refused.stats().failed >= 3 && posting.stats().failed >= 3; },
      20'000));
  to_503.stop();
  to_refused.stop();
  posting.stop();
  h.run_for_ms(300);
  EXPECT_EQ(to_503.stats().answered, 0u);
  EXPECT_EQ(to_503.stats().failed, to_503.stats().sent);
  EXPECT_EQ(to_503.stats().sent, unavailable.arrivals.size());
  EXPECT_EQ(to_refused.stats().failed, to_refused.stats().sent);
  ASSERT_GE(a_lines.size(), 4u);  // "sending", then a line per failure
  EXPECT_EQ(a_lines[1], "deadman: GET " + a.url + " failed: HTTP 503");
  ASSERT_GE(b_lines.size(), 4u);
  EXPECT_EQ(b_lines[1], "deadman: GET " + gone_url + " failed: connect 127.0.0.1:" + std::to_string(gone_port) +
                            ": Connection refused");
  EXPECT_EQ(posting.stats().failed, posting.stats().sent);
  ASSERT_GE(c_lines.size(), 4u);
  EXPECT_EQ(c_lines[1], "deadman: POST " + a.url + " failed: HTTP 405");
  EXPECT_EQ(unavailable.last, "GET /ping");  // the POSTs never reached the handler
}

}  // namespace
}  // namespace obr::engine
