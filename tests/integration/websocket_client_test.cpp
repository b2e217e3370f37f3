// tests/integration/websocket_client_test.cpp — WebSocketClient's promise to its listener:
// on_close never arrives inside the listener's own send(), close() or connect() call (a
// session that sends in the middle of a frame must not be torn down under itself), and it
// arrives exactly once, with the reason, from the loop. Against the simulator on loopback.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/net/event_loop.h"
#include "connectors/net/websocket_client.h"
#include "tools/sim/simulator.h"

namespace {

using obr::net::EventLoop;
using obr::net::WebSocketClient;
using obr::net::WsOptions;

constexpr std::int64_t kMs = 1'000'000;

// Records every callback and whether it came while the test was inside a client call.
class Recorder : public obr::net::WsListener {
 public:
  void on_open() override {
    ++opens;
    if (on_open_action) on_open_action();
  }
  void on_message(std::string_view, std::int64_t) override {}
  void on_close(std::string_view reason) override {
    closes.emplace_back(reason);
    if (inside_call) ++nested_closes;
  }
  std::function<void()> on_open_action;
  bool inside_call = false;
  int opens = 0;
  int nested_closes = 0;
  std::vector<std::string> closes;
};

class WebSocketClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    obr::sim::SimConfig sc;
    sc.tls = false;
    sim_ = std::make_unique<obr::sim::Simulator>(loop_, sc);
    std::string error;
    ASSERT_TRUE(sim_->start(error)) << error;
  }
  void run_until(const std::function<bool()>& done, int ms) {
    for (int i = 0; i < ms / 10 && !done(); ++i) loop_.run_for(10 * kMs);
  }
  // expect_closed_once: on_close arrives from the loop (never nested in a client call),
  // once, with `reason`, and no second one follows.
  void expect_closed_once(const Recorder& rec, const std::string& reason) {
    run_until([&] { return !rec.closes.empty(); }, 5000);
    EXPECT_EQ(rec.nested_closes, 0);
    EXPECT_EQ(rec.closes, std::vector<std::string>{reason});
    loop_.run_for(100 * kMs);
    EXPECT_EQ(rec.closes.size(), 1u);
  }
  EventLoop loop_;
  std::unique_ptr<obr::sim::Simulator> sim_;
};

TEST_F(WebSocketClientTest, AFullSendQueueClosesFromTheLoopNotInsideSend) {
  Recorder rec;
  WsOptions options;
  options.max_queued_frames = 2;
  WebSocketClient ws(loop_, options, rec);
  std::vector<bool> sent;
  rec.on_open_action = [&] {
    // One write goes out at once and stays in flight until the loop runs, so the queue
    // holds 1, then 2; the third frame finds it full.
    rec.inside_call = true;
    for (int i = 0; i < 3; ++i) sent.push_back(ws.send(R"({"method":"ping"})"));
    sent.push_back(ws.send(R"({"method":"ping"})"));  // refused: the connection is closing
    rec.inside_call = false;
  };
  ws.connect(sim_->kraken_url());
  expect_closed_once(rec, "send queue full (the peer stopped reading)");
  EXPECT_EQ(rec.opens, 1);
  EXPECT_EQ(sent, (std::vector<bool>{true, true, false, false}));
  EXPECT_FALSE(ws.is_open());
}

// Closing with a write in flight (the read loop always is): the close handshake is bounded
// by the WebSocket stream's own timeout, never by re-arming the TCP stream's timer under two
// pending operations (a Beast precondition; its assertion fired under TSan).
TEST_F(WebSocketClientTest, CloseWithAReadAndAWriteInFlightClosesCleanlyOnce) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  ws.connect(sim_->kraken_url());
  run_until([&] { return rec.opens == 1; }, 5000);
  ASSERT_EQ(rec.opens, 1);
  // Between loop turns, as from the engine's timers: the read loop is waiting, and the
  // sends start a write.
  rec.inside_call = true;
  EXPECT_TRUE(ws.send(R"({"method":"ping"})"));
  EXPECT_TRUE(ws.send(R"({"method":"ping"})"));
  ws.close("done");
  EXPECT_FALSE(ws.send(R"({"method":"ping"})"));
  rec.inside_call = false;
  expect_closed_once(rec, "done");
}

TEST_F(WebSocketClientTest, CloseWhileConnectingReportsFromTheLoopWithItsReason) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  ws.connect(sim_->kraken_url());
  rec.inside_call = true;
  ws.close("stopping");
  EXPECT_FALSE(ws.send("{}"));
  rec.inside_call = false;
  EXPECT_TRUE(rec.closes.empty());
  expect_closed_once(rec, "stopping");
  EXPECT_EQ(rec.opens, 0);
}

// An empty reason is still the first one: a second close() does not replace it, and no
// handler of the cancelled connection attempt does either.
TEST_F(WebSocketClientTest, AnEmptyCloseReasonIsKeptAndReportedOnce) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  ws.connect(sim_->kraken_url());
  ws.close("");
  ws.close("second");
  expect_closed_once(rec, "");
  EXPECT_EQ(rec.opens, 0);
}

TEST_F(WebSocketClientTest, ABadUrlIsReportedAfterConnectReturns) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  rec.inside_call = true;
  ws.connect("http://127.0.0.1/v2");
  rec.inside_call = false;
  EXPECT_TRUE(rec.closes.empty());
  expect_closed_once(rec, "bad WebSocket URL 'http://127.0.0.1/v2' (want ws://host[:port]/path or wss://...)");
}

TEST_F(WebSocketClientTest, DestroyingTheClientBeforeTheLoopRunsCallsNoOne) {
  Recorder rec;
  {
    WebSocketClient ws(loop_, WsOptions{}, rec);
    ws.connect("nonsense");
  }
  loop_.run_for(100 * kMs);
  EXPECT_TRUE(rec.closes.empty());
}

}  // namespace
