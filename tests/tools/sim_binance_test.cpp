// tests/tools/sim_binance_test.cpp — the simulator's Binance spot and USD-M pieces
// (tools/sim/binance_piece.h) over real sockets on loopback: the simulator's loop runs on a
// thread of its own, and each test is a plain Beast client (WebSocket or HTTP) that sees
// exactly what a client of the venue would, control frames included (pings, close codes).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/net/event_loop.h"
#include "tools/sim/faults.h"
#include "tools/sim/simulator.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

constexpr std::int64_t kMs = 1'000'000;

// Event: one depthUpdate, as a client reads it.
struct Event {
  std::string stream, symbol;
  std::int64_t first = 0, last = 0, previous = -1;  // U, u, pu (-1: none)
  bool has_time = false;                            // USD-M's T
  std::vector<std::pair<std::string, std::string>> bids, asks;
};

// parse_event: the event in `text`, or nullopt when it is not a wrapped depthUpdate.
std::optional<Event> parse_event(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc)) return std::nullopt;
  Event e;
  std::string_view stream, type, symbol;
  simdjson::dom::element data;
  if (doc["stream"].get(stream) || doc["data"].get(data) || data["e"].get(type) || type != "depthUpdate" ||
      data["s"].get(symbol) || data["U"].get(e.first) || data["u"].get(e.last)) {
    return std::nullopt;
  }
  e.stream = stream;
  e.symbol = symbol;
  std::int64_t pu = 0;
  if (!data["pu"].get(pu)) e.previous = pu;
  std::int64_t t = 0;
  e.has_time = !data["T"].get(t);
  for (const char* side : {"b", "a"}) {
    simdjson::dom::array levels;
    if (data[side].get(levels)) return std::nullopt;
    for (simdjson::dom::element level : levels) {
      std::string_view p, q;
      if (level.at(0).get(p) || level.at(1).get(q)) return std::nullopt;
      (side[0] == 'b' ? e.bids : e.asks).emplace_back(std::string(p), std::string(q));
    }
  }
  return e;
}

// decimals: the digits after the point of a fixed-decimal string (-1: no point).
int decimals(const std::string& s) {
  const std::size_t dot = s.find('.');
  return dot == std::string::npos ? -1 : static_cast<int>(s.size() - dot - 1);
}

// Ws: a blocking WebSocket client on its own io_context; reads run it for a bounded time.
class Ws {
 public:
  Ws(std::uint16_t port, const std::string& path) : ws_(io_) {
    ws_.next_layer().connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) ++pings;
    });
    ws_.read_message_max(16u << 20);
    ws_.handshake("127.0.0.1:" + std::to_string(port), path);
  }
  void send(const std::string& text) {
    ws_.text(true);
    ws_.write(asio::buffer(text));
  }
  // read: the next message within `timeout`; nullopt on timeout (the client is then
  // unusable) or when the connection ended (`ended` set, `error` says how).
  std::optional<std::string> read(std::chrono::milliseconds timeout = 3000ms) {
    if (ended) return std::nullopt;
    beast::flat_buffer buf;
    bool done = false;
    ws_.async_read(buf, [&](error_code ec, std::size_t) {
      done = true;
      error = ec;
    });
    io_.restart();
    io_.run_for(timeout);
    if (!done) {
      ended = true;
      error = asio::error::timed_out;
      return std::nullopt;
    }
    if (error) {
      ended = true;
      return std::nullopt;
    }
    return beast::buffers_to_string(buf.data());
  }
  // next_event: the next depthUpdate, skipping replies; nullopt when none comes.
  std::optional<Event> next_event() {
    while (auto m = read()) {
      if (auto e = parse_event(*m)) return e;
    }
    return std::nullopt;
  }
  // read_until_end: reads (answering pings, as any read does) until the connection ends or
  // `timeout` passes; true if it ended.
  bool read_until_end(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!ended && std::chrono::steady_clock::now() < end) {
      if (!read(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now())) &&
          error == asio::error::timed_out) {
        return false;
      }
    }
    return ended;
  }
  std::uint16_t close_code() const { return ws_.reason().code; }

  int pings = 0;
  bool ended = false;
  error_code error;

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
};

// Got: an HTTP answer.
struct Got {
  int status = 0;
  std::string body, retry_after, weight;
};

Got get(std::uint16_t port, const std::string& target) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(socket, buf, res);
  return {static_cast<int>(res.result_int()), res.body(), std::string(res[http::field::retry_after]),
          std::string(res["X-MBX-USED-WEIGHT-1M"])};
}

std::int64_t last_update_id(const std::string& body) {
  simdjson::dom::parser parser;
  std::int64_t id = -1;
  if (parser.parse(body)["lastUpdateId"].get(id)) return -1;
  return id;
}

// snapshot_side: a snapshot's "bids" or "asks" as (price, quantity) strings, best first.
std::vector<std::pair<std::string, std::string>> snapshot_side(const std::string& body, const char* side) {
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::parser parser;
  simdjson::dom::array levels;
  if (parser.parse(body)[side].get(levels)) return out;
  for (simdjson::dom::element level : levels) {
    std::string_view p, q;
    if (level.at(0).get(p) || level.at(1).get(q)) return {};
    out.emplace_back(std::string(p), std::string(q));
  }
  return out;
}

// wait_for_a_fresh_minute: the request weight counts per minute of the clock; a test that
// counts it waits until the minute has at least 15 s left, so it runs within one window.
void wait_for_a_fresh_minute() {
  const auto second_of_minute = [] { return (obr::net::now_ns() / 1'000'000'000) % 60; };
  while (second_of_minute() >= 45) std::this_thread::sleep_for(200ms);
}

class BinanceSim : public ::testing::Test {
 protected:
  void start(const std::function<void(obr::sim::SimConfig&)>& configure = {}) {
    obr::sim::SimConfig config;
    config.tls = false;
    config.seed = 11;
    if (configure) configure(config);
    sim_ = std::make_unique<obr::sim::Simulator>(loop_, config);
    std::string error;
    ASSERT_TRUE(sim_->start(error)) << error;
    port_ = sim_->port();
    thread_ = std::thread([this] {
      while (!stop_) loop_.run_for(10 * kMs);
    });
  }
  // stop_loop: the simulator's thread stops, so the test may read the simulator.
  void stop_loop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void TearDown() override {
    stop_loop();
    if (sim_) sim_->stop();
    loop_.run_for(20 * kMs);
  }
  static obr::sim::Fault fault(const std::string& spec) {
    std::string error;
    auto f = obr::sim::parse_fault(spec, error);
    EXPECT_TRUE(f) << error;
    return f.value_or(obr::sim::Fault{});
  }

  obr::net::EventLoop loop_;
  std::unique_ptr<obr::sim::Simulator> sim_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// ---- WebSocket --------------------------------------------------------------------------

TEST_F(BinanceSim, SpotSubscribeIsAnsweredAndEventsChainUToTheLastU) {
  start();
  EXPECT_EQ(sim_->url("binance"), "ws://127.0.0.1:" + std::to_string(port_) + "/stream");
  Ws ws(port_, "/stream");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth@100ms","ethusdt@depth","dogeusdt@depth"],"id":7})");
  EXPECT_EQ(ws.read(), R"({"result":null,"id":7})");
  std::map<std::string, std::int64_t> last_u;
  std::map<std::string, int> per_stream;
  for (int n = 0; n < 120; ++n) {
    const auto e = ws.next_event();
    ASSERT_TRUE(e) << "event " << n << ": " << ws.error.message();
    ++per_stream[e->stream];
    ASSERT_TRUE(e->stream == "btcusdt@depth@100ms" || e->stream == "ethusdt@depth") << e->stream;
    EXPECT_EQ(e->symbol, e->stream.starts_with("btc") ? "BTCUSDT" : "ETHUSDT");
    EXPECT_EQ(e->previous, -1) << "spot events carry no pu";
    EXPECT_FALSE(e->has_time) << "spot events carry no T";
    EXPECT_GE(e->last - e->first, 0);
    EXPECT_LE(e->last - e->first, 2) << "u advances by 1 to 3 per event";
    if (last_u.count(e->symbol)) {
      EXPECT_EQ(e->first, last_u[e->symbol] + 1) << e->symbol;
    }
    last_u[e->symbol] = e->last;
    EXPECT_FALSE(e->bids.empty() && e->asks.empty());
    for (const auto& levels : {e->bids, e->asks}) {
      for (const auto& [p, q] : levels) {
        EXPECT_EQ(decimals(p), 8) << p;
        EXPECT_EQ(decimals(q), 8) << q;
      }
    }
  }
  EXPECT_GT(per_stream["btcusdt@depth@100ms"], 0);
  EXPECT_GT(per_stream["ethusdt@depth"], 0);
}

TEST_F(BinanceSim, UsdmEventsChainPuToTheLastUWhileUSkipsAhead) {
  start();
  EXPECT_EQ(sim_->url("binance-usdm"), "ws://127.0.0.1:" + std::to_string(port_) + "/fstream");
  Ws ws(port_, "/fstream");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  EXPECT_EQ(ws.read(), R"({"result":null,"id":1})");
  std::int64_t last_u = -1;
  int skips = 0;
  for (int n = 0; n < 200; ++n) {
    const auto e = ws.next_event();
    ASSERT_TRUE(e) << ws.error.message();
    EXPECT_EQ(e->stream, "btcusdt@depth");
    EXPECT_TRUE(e->has_time);
    if (last_u >= 0) {
      EXPECT_EQ(e->previous, last_u);
    }
    if (e->first != e->previous + 1) ++skips;
    last_u = e->last;
    for (const auto& [p, q] : e->bids) {
      EXPECT_EQ(decimals(p), 2) << p;
      EXPECT_EQ(decimals(q), 3) << q;
    }
  }
  // About one event in ten; a client that checks U == pu + 1 fails here.
  EXPECT_GT(skips, 0);
  EXPECT_LT(skips, 60);
}

TEST_F(BinanceSim, MalformedRequestsGetBinancesErrors) {
  start();
  Ws ws(port_, "/stream");
  ws.send("not json");
  EXPECT_EQ(ws.read(), R"({"error":{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1"},"id":null})");
  ws.send(R"({"method":"FETCH","params":[],"id":3})");
  EXPECT_EQ(ws.read(),
            R"({"error":{"code":2,"msg":"Invalid request: unknown variant `FETCH`, expected one of `SUBSCRIBE`, )"
            R"(`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"},"id":3})");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":-1})");
  EXPECT_EQ(ws.read(),
            R"({"error":{"code":2,"msg":"Invalid request: request ID must be an unsigned integer"},"id":null})");
  ws.send(R"({"params":["btcusdt@depth"],"id":4})");
  EXPECT_EQ(ws.read(), R"({"error":{"code":2,"msg":"Invalid request: missing field `method`"},"id":4})");
  std::this_thread::sleep_for(1100ms);  // the venue allows 5 messages a second
  ws.send(R"({"method":"SUBSCRIBE","params":"btcusdt@depth","id":5})");
  EXPECT_EQ(ws.read(),
            R"({"error":{"code":2,"msg":"Invalid request: params must be an array of stream names"},"id":5})");
}

TEST_F(BinanceSim, UnsubscribeStopsTheStreamAndListSubscriptionsShowsWhatIsLeft) {
  start();
  Ws ws(port_, "/stream");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth","solusdt@depth@100ms"],"id":1})");
  EXPECT_EQ(ws.read(), R"({"result":null,"id":1})");
  ASSERT_TRUE(ws.next_event());
  ws.send(R"({"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":2})");
  std::optional<std::string> m;
  while ((m = ws.read()) && *m != R"({"result":null,"id":2})") {
  }
  ASSERT_TRUE(m);
  ws.send(R"({"method":"LIST_SUBSCRIPTIONS","id":3})");
  while ((m = ws.read()) && m->starts_with(R"({"stream")")) {
    EXPECT_TRUE(m->starts_with(R"({"stream":"solusdt@depth@100ms")")) << *m;
  }
  EXPECT_EQ(m, R"({"result":["solusdt@depth@100ms"],"id":3})");
  for (int n = 0; n < 50; ++n) {
    const auto e = ws.next_event();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->stream, "solusdt@depth@100ms");
  }
}

TEST_F(BinanceSim, MoreThanFiveMessagesInASecondCloseTheConnection) {
  start();
  Ws ws(port_, "/stream");
  const auto subscribe = [&](int id) {
    ws.send(R"({"method":"SUBSCRIBE","params":["xrpusdt@depth"],"id":)" + std::to_string(id) + "}");
  };
  // Five, each answered (a close drops what is still queued, so the test reads first)...
  for (int id = 1; id <= 5; ++id) {
    subscribe(id);
    EXPECT_EQ(ws.read(), R"({"result":null,"id":)" + std::to_string(id) + "}");
  }
  subscribe(6);  // ... and a sixth within the same second
  EXPECT_TRUE(ws.read_until_end(3000ms));
  EXPECT_EQ(ws.error, websocket::error::closed) << ws.error.message();
  EXPECT_EQ(ws.close_code(), 1008);
}

// USD-M allows 10 messages a second: ten are answered, an eleventh closes.
TEST_F(BinanceSim, UsdmAllowsTenMessagesInASecond) {
  start();
  Ws ws(port_, "/fstream");
  for (int id = 1; id <= 10; ++id) {
    ws.send(R"({"method":"LIST_SUBSCRIPTIONS","id":)" + std::to_string(id) + "}");
    EXPECT_EQ(ws.read(), R"({"result":[],"id":)" + std::to_string(id) + "}");
  }
  ws.send(R"({"method":"LIST_SUBSCRIPTIONS","id":11})");
  EXPECT_TRUE(ws.read_until_end(3000ms));
  EXPECT_EQ(ws.error, websocket::error::closed) << ws.error.message();
  EXPECT_EQ(ws.close_code(), 1008);
}

TEST_F(BinanceSim, MoreThan1024StreamsOnAConnectionAreRefused) {
  start();
  Ws ws(port_, "/stream");
  std::string params;
  for (int i = 0; i < 1024; ++i) params += (i ? ",\"s" : "\"s") + std::to_string(i) + "usdt@depth\"";
  ws.send(R"({"method":"SUBSCRIBE","params":[)" + params + R"(],"id":1})");
  EXPECT_EQ(ws.read(), R"({"result":null,"id":1})");
  ws.send(R"({"method":"SUBSCRIBE","params":["s0usdt@depth"],"id":2})");  // already there: not a new one
  EXPECT_EQ(ws.read(), R"({"result":null,"id":2})");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":3})");
  EXPECT_EQ(ws.read(),
            R"({"error":{"code":2,"msg":"Invalid request: too many streams: at most 1024 on one connection"},"id":3})");
  // The refused request subscribed nothing: no event comes for btcusdt.
  EXPECT_FALSE(ws.read(300ms));
  EXPECT_EQ(ws.error, asio::error::timed_out);
}

TEST_F(BinanceSim, PingsComeAtTheIntervalAndAClientThatPongsStaysConnected) {
  start([](obr::sim::SimConfig& c) {
    c.timers["binance"] = {.ping_interval_ns = 200 * kMs, .pong_timeout_ns = 500 * kMs, .lifetime_ns = 0};
  });
  Ws ws(port_, "/stream");
  EXPECT_FALSE(ws.read_until_end(1500ms)) << ws.error.message();  // Beast answers each ping
  EXPECT_GE(ws.pings, 5);
  EXPECT_LE(ws.pings, 8);
}

TEST_F(BinanceSim, AClientThatDoesNotPongIsDropped) {
  start([](obr::sim::SimConfig& c) {
    c.timers["binance-usdm"] = {.ping_interval_ns = 200 * kMs, .pong_timeout_ns = 500 * kMs, .lifetime_ns = 0};
  });
  Ws ws(port_, "/fstream");
  std::this_thread::sleep_for(1500ms);  // not reading: no pongs
  EXPECT_TRUE(ws.read_until_end(1000ms));
  EXPECT_GE(ws.pings, 1);
  // Dropped, not closed with a close frame: the server takes the client for dead.
  EXPECT_NE(ws.error, websocket::error::closed) << ws.error.message();
}

TEST_F(BinanceSim, AConnectionIsClosedNormallyAtTheEndOfItsLifetime) {
  start([](obr::sim::SimConfig& c) { c.timers["binance"] = {.lifetime_ns = 700 * kMs}; });
  const auto opened = std::chrono::steady_clock::now();
  Ws ws(port_, "/stream");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  EXPECT_TRUE(ws.read_until_end(3000ms));
  const auto lived = std::chrono::steady_clock::now() - opened;
  EXPECT_EQ(ws.error, websocket::error::closed) << ws.error.message();
  EXPECT_EQ(ws.close_code(), 1000);
  EXPECT_GE(lived, 650ms);
  EXPECT_LE(lived, 1500ms);
}

// ---- REST -------------------------------------------------------------------------------

TEST_F(BinanceSim, ASpotSnapshotBridgesTheBufferedEvents) {
  start();
  Ws ws(port_, "/stream");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  std::vector<Event> buffered;
  auto e = ws.next_event();
  ASSERT_TRUE(e);
  buffered.push_back(*e);
  const Got snap = get(port_, "/api/v3/depth?symbol=BTCUSDT&limit=5");
  ASSERT_EQ(snap.status, 200) << snap.body;
  const std::int64_t id = last_update_id(snap.body);
  ASSERT_GT(id, 0) << snap.body;
  EXPECT_TRUE(snap.body.starts_with(R"({"lastUpdateId":)" + std::to_string(id) + R"(,"bids":[[")")) << snap.body;
  const auto bids = snapshot_side(snap.body, "bids"), asks = snapshot_side(snap.body, "asks");
  ASSERT_EQ(bids.size(), 5u);
  ASSERT_EQ(asks.size(), 5u);
  EXPECT_EQ(decimals(bids[0].first), 8);
  EXPECT_EQ(decimals(asks[0].second), 8);
  EXPECT_LT(std::stod(bids[0].first), std::stod(asks[0].first));
  EXPECT_GT(std::stod(bids[0].first), std::stod(bids[4].first));  // best first
  EXPECT_LT(std::stod(asks[0].first), std::stod(asks[4].first));
  while (buffered.back().last <= id) {
    e = ws.next_event();
    ASSERT_TRUE(e);
    buffered.push_back(*e);
  }
  // Binance's procedure: drop events with u <= lastUpdateId; the first left has
  // U <= lastUpdateId + 1 <= u (here, ids being consecutive, U == lastUpdateId + 1).
  const auto first = std::find_if(buffered.begin(), buffered.end(), [&](const Event& x) { return x.last > id; });
  ASSERT_NE(first, buffered.end());
  EXPECT_LE(first->first, id + 1);
  EXPECT_GE(first->last, id + 1);
}

TEST_F(BinanceSim, AUsdmSnapshotIsLinkedByPuAndCarriesItsTimes) {
  start();
  Ws ws(port_, "/fstream");
  ws.send(R"({"method":"SUBSCRIBE","params":["ethusdt@depth@100ms"],"id":1})");
  std::vector<Event> buffered;
  auto e = ws.next_event();
  ASSERT_TRUE(e);
  buffered.push_back(*e);
  const Got snap = get(port_, "/fapi/v1/depth?symbol=ETHUSDT&limit=10");
  ASSERT_EQ(snap.status, 200) << snap.body;
  const std::int64_t id = last_update_id(snap.body);
  EXPECT_TRUE(snap.body.starts_with(R"({"lastUpdateId":)" + std::to_string(id) + R"(,"E":)")) << snap.body;
  EXPECT_NE(snap.body.find(R"(,"T":)"), std::string::npos);
  EXPECT_EQ(snap.weight, "2");
  while (buffered.back().last <= id) {
    e = ws.next_event();
    ASSERT_TRUE(e);
    buffered.push_back(*e);
  }
  const auto first = std::find_if(buffered.begin(), buffered.end(), [&](const Event& x) { return x.last > id; });
  ASSERT_NE(first, buffered.end());
  EXPECT_EQ(first->previous, id);
}

TEST_F(BinanceSim, EachRequestsWeightIsCountedInTheMinutesHeader) {
  wait_for_a_fresh_minute();
  start();
  const auto weight = [&](const std::string& target) {
    const Got g = get(port_, target);
    EXPECT_EQ(g.status, 200) << target << ": " << g.body;
    return g.weight;
  };
  EXPECT_EQ(weight("/api/v3/depth?symbol=BTCUSDT&limit=100"), "5");
  EXPECT_EQ(weight("/api/v3/depth?symbol=BTCUSDT&limit=101"), "30");
  EXPECT_EQ(weight("/api/v3/depth?symbol=ETHUSDT&limit=1000"), "80");
  EXPECT_EQ(weight("/api/v3/depth?symbol=ETHUSDT&limit=5000"), "330");
  EXPECT_EQ(weight("/api/v3/depth?symbol=SOLUSDT"), "335");             // default limit 100
  EXPECT_EQ(weight("/api/v3/depth?symbol=SOLUSDT&limit=9000"), "585");  // answered as 5000
  // USD-M counts its own weight.
  EXPECT_EQ(weight("/fapi/v1/depth?symbol=BTCUSDT&limit=50"), "2");
  EXPECT_EQ(weight("/fapi/v1/depth?symbol=BTCUSDT&limit=100"), "7");
  EXPECT_EQ(weight("/fapi/v1/depth?symbol=BTCUSDT&limit=500"), "17");
  EXPECT_EQ(weight("/fapi/v1/depth?symbol=BTCUSDT&limit=1000"), "37");
  EXPECT_EQ(weight("/fapi/v1/depth?symbol=BTCUSDT"), "47");  // default limit 500
}

TEST_F(BinanceSim, BadRequestsGetBinancesErrorCodes) {
  start();
  const auto expect = [&](const std::string& target, const std::string& body) {
    const Got g = get(port_, target);
    EXPECT_EQ(g.status, 400) << target;
    EXPECT_EQ(g.body, body) << target;
  };
  expect("/api/v3/depth?symbol=DOGEUSDT", R"({"code":-1121,"msg":"Invalid symbol."})");
  expect("/fapi/v1/depth?symbol=BTC-USDT&limit=5", R"({"code":-1121,"msg":"Invalid symbol."})");
  expect("/api/v3/depth?limit=5",
         R"({"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."})");
  expect("/api/v3/depth?symbol=&limit=5",
         R"({"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."})");
  for (const char* limit : {"0", "ten", "-5", ""}) {
    expect(std::string("/api/v3/depth?symbol=BTCUSDT&limit=") + limit,
           R"({"code":-1100,"msg":"Illegal characters found in parameter 'limit'; legal range is '1 or more'."})");
  }
  for (const char* limit : {"7", "200", "5000"}) {
    expect(std::string("/fapi/v1/depth?symbol=BTCUSDT&limit=") + limit,
           R"({"code":-1100,"msg":"Illegal characters found in parameter 'limit'; legal range is )"
           R"('5, 10, 20, 50, 100, 500 or 1000'."})");
  }
  EXPECT_EQ(get(port_, "/api/v3/depth?symbol=BTCUSDT").weight, "5");  // the refused ones used none
}

TEST_F(BinanceSim, PassingTheWeightLimitGets429AndARequestDuringItsRetryAfterABan) {
  wait_for_a_fresh_minute();
  start();
  for (int n = 1; n <= 24; ++n) {  // 24 x 250 = 6000: at the limit, not past it
    const Got g = get(port_, "/api/v3/depth?symbol=BTCUSDT&limit=5000");
    ASSERT_EQ(g.status, 200) << n;
    EXPECT_EQ(g.weight, std::to_string(n * 250));
  }
  const std::int64_t second = (obr::net::now_ns() / 1'000'000'000) % 60;
  const Got limited = get(port_, "/api/v3/depth?symbol=BTCUSDT&limit=5");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.weight, "6005");
  EXPECT_EQ(limited.body,
            R"({"code":-1003,"msg":"Too much request weight used; current limit is 6000 request weight per 1 )"
            R"(MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."})");
  const int retry = std::stoi(limited.retry_after);  // to the end of the clock's minute
  EXPECT_GE(retry, 60 - second - 1);
  EXPECT_LE(retry, 60 - second);
  const Got banned = get(port_, "/api/v3/depth?symbol=BTCUSDT&limit=5");
  EXPECT_EQ(banned.status, 418);
  EXPECT_TRUE(banned.body.starts_with(R"({"code":-1003,"msg":"Way too much request weight used; IP banned until )"))
      << banned.body;
  EXPECT_GE(std::stoi(banned.retry_after), retry + 1);  // longer: the 429's wait and the ban's
  EXPECT_LE(std::stoi(banned.retry_after), retry + 2);
  EXPECT_EQ(get(port_, "/api/v3/depth?symbol=ETHUSDT&limit=5").status, 418);  // still banned
  // USD-M counts its own weight and is not banned.
  EXPECT_EQ(get(port_, "/fapi/v1/depth?symbol=BTCUSDT&limit=5").status, 200);
}

// ---- faults -----------------------------------------------------------------------------

TEST_F(BinanceSim, SkipSequenceMakesAGapInUOnSpotAndInPuOnUsdm) {
  start([&](obr::sim::SimConfig& c) {
    c.faults = {fault("skip_sequence=7@msg=30,venue=binance,symbol=BTCUSDT"),
                fault("skip_sequence=9@msg=30,venue=binance-usdm,symbol=BTCUSDT")};
  });
  Ws spot(port_, "/stream"), usdm(port_, "/fstream");
  spot.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  usdm.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  std::vector<std::int64_t> spot_gaps, usdm_gaps;
  std::int64_t last = -1;
  for (int n = 0; n < 80; ++n) {
    const auto e = spot.next_event();
    ASSERT_TRUE(e);
    if (last >= 0 && e->first != last + 1) spot_gaps.push_back(e->first - last - 1);
    last = e->last;
  }
  last = -1;
  for (int n = 0; n < 80; ++n) {
    const auto e = usdm.next_event();
    ASSERT_TRUE(e);
    if (last >= 0 && e->previous != last) usdm_gaps.push_back(e->previous - last);
    last = e->last;
  }
  EXPECT_EQ(spot_gaps, std::vector<std::int64_t>{7});
  EXPECT_EQ(usdm_gaps, std::vector<std::int64_t>{9});
  stop_loop();
  ASSERT_EQ(sim_->fired().size(), 2u);
  EXPECT_EQ(sim_->fired()[0].venue, "binance");
  EXPECT_EQ(sim_->fired()[1].venue, "binance-usdm");
}

TEST_F(BinanceSim, SharedFrameFaultsReachTheEventsThroughDeliver) {
  start([&](obr::sim::SimConfig& c) {
    c.faults = {fault("drop@msg=20,venue=binance,symbol=ETHUSDT"),
                fault("duplicate@msg=40,venue=binance,symbol=ETHUSDT"),
                fault("reorder@msg=60,venue=binance,symbol=ETHUSDT")};
  });
  Ws ws(port_, "/stream");
  ws.send(R"({"method":"SUBSCRIBE","params":["ethusdt@depth"],"id":1})");
  std::vector<Event> events;
  for (int n = 0; n < 90; ++n) {
    const auto e = ws.next_event();
    ASSERT_TRUE(e);
    events.push_back(*e);
  }
  int duplicates = 0, backwards = 0;
  for (std::size_t k = 1; k < events.size(); ++k) {
    if (events[k].first == events[k - 1].first) ++duplicates;
    if (events[k].first < events[k - 1].first) ++backwards;
  }
  EXPECT_EQ(duplicates, 1);
  EXPECT_EQ(backwards, 1);
  // In id order, without the duplicate, the events chain but for the one dropped.
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.first < b.first; });
  events.erase(
      std::unique(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.first == b.first; }),
      events.end());
  int gaps = 0;
  for (std::size_t k = 1; k < events.size(); ++k) gaps += events[k].first != events[k - 1].last + 1 ? 1 : 0;
  EXPECT_EQ(gaps, 1);
}

TEST_F(BinanceSim, SharedConnectionFaultsReachTheConnection) {
  start([&](obr::sim::SimConfig& c) {
    c.faults = {fault("malformed@msg=10,venue=binance-usdm"), fault("close_code=4000@msg=30,venue=binance-usdm")};
  });
  Ws ws(port_, "/fstream");
  ws.send(R"({"method":"SUBSCRIBE","params":["solusdt@depth"],"id":1})");
  int malformed = 0;
  while (auto m = ws.read()) {
    if (!m->starts_with("{")) ++malformed;
  }
  EXPECT_EQ(malformed, 1);
  EXPECT_EQ(ws.error, websocket::error::closed) << ws.error.message();
  EXPECT_EQ(ws.close_code(), 4000);
}

TEST_F(BinanceSim, AStallSilencesTheConnectionAndLosesItsEvents) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("stall=400ms@msg=10,venue=binance")}; });
  Ws ws(port_, "/stream");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  std::int64_t last = -1, longest_pause_ms = 0, lost = 0;
  auto at = std::chrono::steady_clock::now();
  for (int n = 0; n < 60; ++n) {
    const auto e = ws.next_event();
    ASSERT_TRUE(e);
    const auto now = std::chrono::steady_clock::now();
    longest_pause_ms = std::max<std::int64_t>(longest_pause_ms,
                                              std::chrono::duration_cast<std::chrono::milliseconds>(now - at).count());
    at = now;
    if (last >= 0 && e->first != last + 1) ++lost;
    last = e->last;
  }
  EXPECT_GE(longest_pause_ms, 350);
  EXPECT_EQ(lost, 1);  // what the stall swallowed shows as one gap
}

TEST_F(BinanceSim, ACloseFaultDropsTheConnection) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("close@msg=10,venue=binance")}; });
  Ws ws(port_, "/stream");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  EXPECT_TRUE(ws.read_until_end(3000ms));
  EXPECT_NE(ws.error, websocket::error::closed) << ws.error.message();  // no close frame
  EXPECT_NE(ws.error, asio::error::timed_out);
}

TEST_F(BinanceSim, AnOversizedFrameArrives) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("oversized@msg=10,venue=binance-usdm")}; });
  Ws ws(port_, "/fstream");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  std::size_t largest = 0;
  for (int n = 0; n < 40; ++n) {
    const auto m = ws.read();
    ASSERT_TRUE(m);
    largest = std::max(largest, m->size());
  }
  EXPECT_GT(largest, std::size_t{8} << 20);
}

TEST_F(BinanceSim, RestFaultsAnswerOnceEach) {
  start([&](obr::sim::SimConfig& c) {
    c.faults = {fault("rest_429,venue=binance"), fault("rest_418,venue=binance"), fault("rest_500,venue=binance")};
  });
  const std::string target = "/api/v3/depth?symbol=BTCUSDT&limit=5";
  const Got a = get(port_, target), b = get(port_, target), c = get(port_, target), d = get(port_, target);
  EXPECT_EQ(a.status, 429);
  EXPECT_EQ(a.retry_after, "1");
  EXPECT_EQ(a.body, R"({"code":-1003,"msg":"Too many requests (simulated)."})");
  EXPECT_EQ(b.status, 418);
  EXPECT_EQ(b.retry_after, "2");
  EXPECT_EQ(c.status, 500);
  EXPECT_EQ(c.body, R"({"code":-1000,"msg":"An unknown error occurred while processing the request."})");
  EXPECT_EQ(d.status, 200);  // a fault's 429 starts no ban
}

// A kind several venues own, scheduled without venue=, hits the first of them that asks.
TEST_F(BinanceSim, ASharedOwnFaultWithoutVenueHitsTheFirstOwnerAsked) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("rest_500")}; });
  EXPECT_EQ(get(port_, "/fapi/v1/depth?symbol=SOLUSDT&limit=5").status, 500);
  EXPECT_EQ(get(port_, "/api/v3/depth?symbol=SOLUSDT&limit=5").status, 200);
  EXPECT_EQ(get(port_, "/api/v1/market/orderbook/level2_100?symbol=SOL-USDT").status, 200);
  stop_loop();
  ASSERT_EQ(sim_->fired().size(), 1u);
  EXPECT_EQ(sim_->fired()[0].venue, "binance-usdm");
}

// stale_snapshot: a snapshot kept from about a second ago, whose lastUpdateId is older than
// an event the client had already read before asking. (Should the kept snapshot be
// refreshed between the client's last read and its request, it could be as new as that
// event: each attempt has its own fault.)
TEST_F(BinanceSim, AStaleSnapshotIsOlderThanEventsAlreadySent) {
  start([&](obr::sim::SimConfig& c) {
    for (int i = 0; i < 3; ++i) c.faults.push_back(fault("stale_snapshot,venue=binance,symbol=BTCUSDT"));
  });
  Ws ws(port_, "/stream");
  ws.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  const auto read_for = [&](std::chrono::milliseconds how_long) {
    std::int64_t seen_u = 0;
    const auto end = std::chrono::steady_clock::now() + how_long;
    while (std::chrono::steady_clock::now() < end) {
      const auto e = ws.next_event();
      if (!e) break;
      seen_u = e->last;
    }
    return seen_u;
  };
  read_for(1200ms);  // a snapshot is kept, and events come after it
  bool older = false;
  for (int attempt = 0; attempt < 3 && !older; ++attempt) {
    const std::int64_t seen_u = read_for(300ms);
    ASSERT_GT(seen_u, 0);
    const Got stale = get(port_, "/api/v3/depth?symbol=BTCUSDT&limit=5");
    EXPECT_EQ(stale.status, 200);
    const std::int64_t id = last_update_id(stale.body);
    older = id > 0 && id < seen_u;
  }
  EXPECT_TRUE(older);
}

}  // namespace
