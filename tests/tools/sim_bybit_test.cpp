// tests/tools/sim_bybit_test.cpp — the simulator's Bybit v5 pieces (tools/sim/bybit_piece.h)
// over real sockets on loopback: the simulator's loop runs on a thread of its own, and each
// test is a plain Beast client that sees exactly what a client of the venue would. The
// books are checked against a replica of the piece's synthetic market (the same specs and
// seed, stepped to each message's seq), so every message is held to the market's exact top
// `depth` at that point, the way a client applying Bybit's rules must end up.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "connectors/net/event_loop.h"
#include "tools/sim/bybit_piece.h"
#include "tools/sim/faults.h"
#include "tools/sim/market.h"
#include "tools/sim/simulator.h"
#include "tools/sim/venue_pieces.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using obr::book::Level;
using obr::book::Side;
using obr::sim::LevelDelta;
using namespace std::chrono_literals;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::uint64_t kSeed = 11;

// Msg: one book message, as a client reads it.
struct Msg {
  std::string text, topic, type, symbol;
  std::int64_t ts = 0, cts = 0, u = 0, seq = 0;
  std::vector<std::pair<std::string, std::string>> bids, asks;
};

// parse_msg: the book message in `text`, or nullopt for anything else (an answer).
std::optional<Msg> parse_msg(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc, data;
  Msg m;
  m.text = text;
  std::string_view topic, type, symbol;
  if (parser.parse(text).get(doc) || doc["topic"].get(topic) || doc["type"].get(type) || doc["ts"].get(m.ts) ||
      doc["cts"].get(m.cts) || doc["data"].get(data) || data["s"].get(symbol) || data["u"].get(m.u) ||
      data["seq"].get(m.seq)) {
    return std::nullopt;
  }
  m.topic = topic;
  m.type = type;
  m.symbol = symbol;
  for (const char* side : {"b", "a"}) {
    simdjson::dom::array levels;
    if (data[side].get(levels)) return std::nullopt;
    for (simdjson::dom::element level : levels) {
      std::string_view p, q;
      if (level.at(0).get(p) || level.at(1).get(q)) return std::nullopt;
      (side[0] == 'b' ? m.bids : m.asks).emplace_back(std::string(p), std::string(q));
    }
  }
  return m;
}

// units: a decimal string at `scale` as integer units ("65140.4" at 2: 6514040); -1 when it
// has more decimals than the scale or is not a number.
std::int64_t units(const std::string& s, int scale) {
  const std::size_t dot = s.find('.');
  const std::string whole = s.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  if (whole.empty() || static_cast<int>(frac.size()) > scale) return -1;
  frac.append(static_cast<std::size_t>(scale) - frac.size(), '0');
  const std::string digits = whole + frac;
  if (digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}

// decimals: the digits after the point (0: none).
int decimals(const std::string& s) {
  const std::size_t dot = s.find('.');
  return dot == std::string::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}

// Ws: a blocking WebSocket client on its own io_context; reads run it for a bounded time.
class Ws {
 public:
  Ws(std::uint16_t port, const std::string& path) : ws_(io_) {
    ws_.next_layer().connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
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
  // next_msg: the next book message, skipping answers; nullopt when none comes.
  std::optional<Msg> next_msg(std::chrono::milliseconds timeout = 3000ms) {
    while (auto m = read(timeout)) {
      if (auto b = parse_msg(*m)) return b;
    }
    return std::nullopt;
  }
  // next_answer: the next message that is not a book message.
  std::optional<std::string> next_answer() {
    while (auto m = read()) {
      if (!parse_msg(*m)) return m;
    }
    return std::nullopt;
  }
  // read_until_end: reads until the connection ends or `timeout` passes; true if it ended.
  std::uint16_t close_code() const { return ws_.reason().code; }
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

  bool ended = false;
  error_code error;

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
};

// conn_id_of: the conn_id of an answer ("" if none).
std::string conn_id_of(const std::string& answer) {
  simdjson::dom::parser parser;
  std::string_view id;
  if (parser.parse(answer)["conn_id"].get(id)) return {};
  return std::string(id);
}

// Client: one book kept by the rules of docs/venues/bybit.md, "Books": a snapshot (or any
// message with u == 1) replaces the book; a delta applies only when its u is the last + 1,
// size "0" deleting; anything else is a failed check, and the book waits for a snapshot.
struct Client {
  Client(int price_scale_, int qty_scale_) : price_scale(price_scale_), qty_scale(qty_scale_) {}
  int price_scale = 0, qty_scale = 0;
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  std::int64_t sequence = 0;
  bool live = false;
  int checks_failed = 0;

  void apply(const Msg& m) {
    const bool snapshot = m.type == "snapshot" || m.u == 1;
    if (snapshot) {
      bids.clear();
      asks.clear();
    } else if (!live) {
      return;
    } else if (m.u != sequence + 1) {
      ++checks_failed;
      live = false;
      return;
    }
    for (const auto& [p, q] : m.bids) set(bids, p, q);
    for (const auto& [p, q] : m.asks) set(asks, p, q);
    sequence = m.u;
    live = true;
  }
  template <class Map>
  void set(Map& side, const std::string& p, const std::string& q) {
    const std::int64_t price = units(p, price_scale), qty = units(q, qty_scale);
    ASSERT_GE(price, 0) << p;
    ASSERT_GE(qty, 0) << q;
    if (qty == 0) {
      side.erase(price);
    } else {
      side[price] = qty;
    }
  }
  // equals: whether the book is exactly the top `depth` of `bids_truth` / `asks_truth`.
  bool equals(std::span<const Level> bids_truth, std::span<const Level> asks_truth, std::size_t depth) const {
    const auto same = [&](const auto& side, std::span<const Level> truth) {
      truth = truth.first(std::min(truth.size(), depth));
      if (side.size() != truth.size()) return false;
      std::size_t k = 0;
      for (const auto& [p, q] : side) {
        if (truth[k].price != p || truth[k].qty != q) return false;
        ++k;
      }
      return true;
    };
    return same(bids, bids_truth) && same(asks, asks_truth);
  }
};

// Replica: the piece's synthetic market, rebuilt from its factory, stepped to a message's seq.
class Replica {
 public:
  explicit Replica(std::string_view venue)
      : factory_(*obr::sim::find_venue_piece(venue)),
        market_(factory_.default_symbols(), factory_.market_seed(kSeed)) {}
  // at: the market right after the change that a message with `seq` of `symbol` reflects.
  const obr::sim::SyntheticMarket& at(std::size_t symbol, std::int64_t seq) {
    const std::int64_t target = seq - obr::sim::kBybitSeqOffset;
    EXPECT_GE(target, market_.sequence(symbol)) << "a message older than the replica";
    while (market_.sequence(symbol) < target) market_.next();
    return market_;
  }
  const obr::sim::SyntheticMarket& market() const { return market_; }
  std::size_t index(const std::string& name) const {
    for (std::size_t i = 0; i < market_.symbol_count(); ++i) {
      if (market_.spec(i).name == name) return i;
    }
    ADD_FAILURE() << name;
    return 0;
  }

 private:
  const obr::sim::VenuePieceFactory& factory_;
  obr::sim::SyntheticMarket market_;
};

class BybitSim : public ::testing::Test {
 protected:
  void start(const std::function<void(obr::sim::SimConfig&)>& configure = {}) {
    obr::sim::SimConfig config;
    config.tls = false;
    config.seed = kSeed;
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
  // subscribed: a client on `path` subscribed to `topic`, its answer read.
  std::unique_ptr<Ws> subscribed(const std::string& path, const std::string& topic) {
    auto ws = std::make_unique<Ws>(port_, path);
    ws->send(R"({"req_id":"1","op":"subscribe","args":[")" + topic + R"("]})");
    const auto answer = ws->next_answer();
    EXPECT_TRUE(answer && answer->starts_with(R"({"success":true,)")) << answer.value_or("(none)");
    return ws;
  }
  // u_steps: the u of `n` book messages, as the differences from one to the next.
  static std::vector<std::int64_t> u_steps(Ws& ws, int n, std::vector<Msg>* msgs = nullptr) {
    std::vector<std::int64_t> steps;
    std::int64_t last = 0;
    for (int k = 0; k < n; ++k) {
      const auto m = ws.next_msg();
      if (!m) {
        ADD_FAILURE() << "message " << k << ": " << ws.error.message();
        break;
      }
      if (k > 0) steps.push_back(m->u - last);
      last = m->u;
      if (msgs) msgs->push_back(*m);
    }
    return steps;
  }
  // off_steps: the steps that are not +1, in order.
  static std::vector<std::int64_t> off_steps(const std::vector<std::int64_t>& steps) {
    std::vector<std::int64_t> out;
    for (const std::int64_t s : steps) {
      if (s != 1) out.push_back(s);
    }
    return out;
  }

  obr::net::EventLoop loop_;
  std::unique_ptr<obr::sim::Simulator> sim_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// ---- wire helpers -----------------------------------------------------------------------

TEST(BybitWire, SpotTrimsTrailingZeros) {
  EXPECT_EQ(obr::sim::bybit_trimmed(6514040, 2), "65140.4");
  EXPECT_EQ(obr::sim::bybit_trimmed(6514000, 2), "65140");
  EXPECT_EQ(obr::sim::bybit_trimmed(6514041, 2), "65140.41");
  EXPECT_EQ(obr::sim::bybit_trimmed(123, 6), "0.000123");
  EXPECT_EQ(obr::sim::bybit_trimmed(1200, 0), "1200");
  EXPECT_EQ(obr::sim::bybit_trimmed(100000, 5), "1");
}

// The window of a client that never truncates: what leaves it is deleted (deleted or pushed
// out alike), what enters is sent (inserted or refilled), a changed size is sent again.
TEST(BybitWire, DepthDiffKeepsTheClientAtTheTopN) {
  const std::vector<Level> before = {{100, 1}, {99, 2}, {98, 3}, {97, 4}, {96, 5}};
  // 99 deleted, 98 changed, 101 inserted: the window of 3 loses 99 (deleted) and keeps 98.
  const std::vector<Level> after = {{101, 7}, {100, 1}, {98, 9}, {97, 4}, {96, 5}};
  std::vector<LevelDelta> out;
  obr::sim::bybit_depth_diff(Side::kBid, before, after, 3, out);
  EXPECT_EQ(out, (std::vector<LevelDelta>{{Side::kBid, 101, 7}, {Side::kBid, 99, 0}, {Side::kBid, 98, 9}}));
  // 100 deleted at a window of 2: 98 refills from below.
  obr::sim::bybit_depth_diff(Side::kBid, before, std::vector<Level>{{99, 2}, {98, 3}, {97, 4}}, 2, out);
  EXPECT_EQ(out, (std::vector<LevelDelta>{{Side::kBid, 100, 0}, {Side::kBid, 98, 3}}));
  // An ask inserted at the top pushes the window's last one out: its delete is sent.
  const std::vector<Level> asks = {{10, 1}, {11, 1}, {12, 1}};
  obr::sim::bybit_depth_diff(Side::kAsk, asks, std::vector<Level>{{9, 5}, {10, 1}, {11, 1}, {12, 1}}, 3, out);
  EXPECT_EQ(out, (std::vector<LevelDelta>{{Side::kAsk, 9, 5}, {Side::kAsk, 12, 0}}));
  // Nothing in the window moved: nothing to send.
  obr::sim::bybit_depth_diff(Side::kAsk, asks, std::vector<Level>{{10, 1}, {11, 1}, {12, 1}, {13, 4}}, 3, out);
  EXPECT_TRUE(out.empty());
}

// ---- subscribing --------------------------------------------------------------------------

TEST_F(BybitSim, EachCategoryIsServedOnItsPath) {
  start();
  const std::string base = "ws://127.0.0.1:" + std::to_string(port_);
  EXPECT_EQ(sim_->url("bybit-spot"), base + "/v5/public/spot");
  EXPECT_EQ(sim_->url("bybit-linear"), base + "/v5/public/linear");
  EXPECT_EQ(sim_->url("bybit-inverse"), base + "/v5/public/inverse");
  EXPECT_EQ(sim_->rest_url("bybit-linear"), "");
  EXPECT_EQ(sim_->symbols("bybit-spot"), (std::vector<std::string>{"BTCUSDT", "ETHUSDT", "SOLUSDT"}));
  EXPECT_EQ(sim_->symbols("bybit-linear"), (std::vector<std::string>{"BTCUSDT", "ETHUSDT", "SOLUSDT"}));
  EXPECT_EQ(sim_->symbols("bybit-inverse"), (std::vector<std::string>{"BTCUSD", "ETHUSD", "XRPUSD"}));
}

TEST_F(BybitSim, SubscribeIsAnsweredAndRefusedTopicsAreNamed) {
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 0; });
  Ws ws(port_, "/v5/public/linear");
  ws.send(R"({"req_id":"7","op":"subscribe","args":["orderbook.200.BTCUSDT"]})");
  const auto ok = ws.read();
  ASSERT_TRUE(ok);
  const std::string id = conn_id_of(*ok);
  EXPECT_EQ(id.size(), 36u) << *ok;  // UUID-shaped
  EXPECT_EQ(*ok, R"({"success":true,"ret_msg":"","conn_id":")" + id + R"(","req_id":"7","op":"subscribe"})");
  const auto snap = ws.next_msg();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->topic, "orderbook.200.BTCUSDT");
  EXPECT_EQ(snap->type, "snapshot");
  const auto refusal = [&](const std::string& req, const std::string& topics) {
    return R"({"success":false,"ret_msg":")" + topics + R"(","conn_id":")" + id + R"(","req_id":")" + req +
           R"(","op":"subscribe"})";
  };
  // A depth the category does not offer, an unknown symbol, another channel.
  ws.send(R"({"req_id":"8","op":"subscribe","args":["orderbook.40.BTCUSDT"]})");
  EXPECT_EQ(ws.read(), refusal("8", "error:handler not found,topic:orderbook.40.BTCUSDT"));
  ws.send(R"({"req_id":"9","op":"subscribe","args":["orderbook.50.DOGEUSDT"]})");
  EXPECT_EQ(ws.read(), refusal("9", "error:handler not found,topic:orderbook.50.DOGEUSDT"));
  ws.send(R"({"req_id":"10","op":"subscribe","args":["trade.BTCUSDT"]})");
  EXPECT_EQ(ws.read(), refusal("10", "error:handler not found,topic:trade.BTCUSDT"));
  // Already subscribed.
  ws.send(R"({"req_id":"11","op":"subscribe","args":["orderbook.200.BTCUSDT"]})");
  EXPECT_EQ(ws.read(), refusal("11", "error:already subscribed,topic:orderbook.200.BTCUSDT"));
  // Good and bad mixed: the answer fails naming the bad ones, and the good one is subscribed.
  ws.send(R"({"req_id":"12","op":"subscribe","args":["orderbook.1.BTCUSDT","orderbook.40.BTCUSDT",)"
          R"("orderbook.50.ETHUSDT","orderbook.50.XRPUSDT"]})");
  EXPECT_EQ(ws.read(), refusal("12",
                               "error:handler not found,topic:orderbook.40.BTCUSDT;"
                               "error:handler not found,topic:orderbook.50.XRPUSDT"));
  auto m = ws.next_msg();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->topic, "orderbook.1.BTCUSDT");
  EXPECT_EQ(m->type, "snapshot");
  m = ws.next_msg();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->topic, "orderbook.50.ETHUSDT");
  // No req_id: an empty one in the answer.
  ws.send(R"({"op":"unsubscribe","args":["orderbook.50.ETHUSDT"]})");
  EXPECT_EQ(ws.read(), R"({"success":true,"ret_msg":"","conn_id":")" + id + R"(","req_id":"","op":"unsubscribe"})");
  // Not JSON, an unknown op.
  ws.send("hello");
  EXPECT_EQ(ws.read(), R"({"success":false,"ret_msg":"error:request is not a JSON object","conn_id":")" + id +
                           R"(","req_id":"","op":""})");
  ws.send(R"({"req_id":"13","op":"auth","args":[]})");
  EXPECT_EQ(ws.read(), R"({"success":false,"ret_msg":"error:unsupported op auth","conn_id":")" + id +
                           R"(","req_id":"13","op":"auth"})");
}

TEST_F(BybitSim, TenArgsAreAllowedAndElevenRefuseTheRequest) {
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 0; });
  Ws ws(port_, "/v5/public/spot");
  std::string eleven, ten;
  int n = 0;
  for (const char* symbol : {"BTCUSDT", "ETHUSDT", "SOLUSDT"}) {
    for (const char* depth : {"1", "50", "200", "1000"}) {
      const std::string topic = std::string("\"orderbook.") + depth + "." + symbol + "\"";
      if (n < 10) ten += (ten.empty() ? "" : ",") + topic;
      if (n < 11) eleven += (eleven.empty() ? "" : ",") + topic;
      ++n;
    }
  }
  ws.send(R"({"req_id":"1","op":"subscribe","args":[)" + eleven + "]}");
  const auto refused = ws.read();
  ASSERT_TRUE(refused);
  const std::string id = conn_id_of(*refused);
  EXPECT_EQ(*refused, R"({"success":false,"ret_msg":"error:args count exceeds the limit of 10","conn_id":")" + id +
                          R"(","req_id":"1","op":"subscribe"})");
  EXPECT_FALSE(ws.read(300ms));  // nothing was subscribed: no snapshot comes
  Ws again(port_, "/v5/public/spot");
  again.send(R"({"req_id":"2","op":"subscribe","args":[)" + ten + "]}");
  const auto ok = again.read();
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->starts_with(R"({"success":true,"ret_msg":"",)")) << *ok;
  for (int k = 0; k < 10; ++k) {
    const auto m = again.next_msg();
    ASSERT_TRUE(m) << k;
    EXPECT_EQ(m->type, "snapshot");
  }
}

TEST_F(BybitSim, UnsubscribeStopsTheTopic) {
  start();
  auto ws = subscribed("/v5/public/inverse", "orderbook.50.BTCUSD");
  ws->send(R"({"req_id":"2","op":"subscribe","args":["orderbook.50.ETHUSD"]})");
  for (int k = 0; k < 20; ++k) ASSERT_TRUE(ws->next_msg());
  ws->send(R"({"req_id":"3","op":"unsubscribe","args":["orderbook.50.BTCUSD"]})");
  std::optional<std::string> m;
  while ((m = ws->read()) && !m->starts_with(R"({"success":true,"ret_msg":"",)")) {
  }
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->ends_with(R"(","req_id":"3","op":"unsubscribe"})")) << *m;
  for (int k = 0; k < 50; ++k) {
    const auto b = ws->next_msg();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->topic, "orderbook.50.ETHUSD");
  }
}

// ---- keepalive ----------------------------------------------------------------------------

TEST_F(BybitSim, PingIsAnsweredInEachCategorysForm) {
  start();
  for (const char* path : {"/v5/public/spot", "/v5/public/linear", "/v5/public/inverse"}) {
    Ws ws(port_, path);
    ws.send(R"({"req_id":"100001","op":"ping"})");
    const auto pong = ws.read();
    ASSERT_TRUE(pong) << path;
    const std::string id = conn_id_of(*pong);
    ASSERT_FALSE(id.empty()) << *pong;
    if (std::string(path) == "/v5/public/spot") {
      EXPECT_EQ(*pong, R"({"success":true,"ret_msg":"pong","conn_id":")" + id + R"(","op":"ping"})");
    } else {
      EXPECT_EQ(*pong, R"({"success":true,"ret_msg":"pong","conn_id":")" + id + R"(","req_id":"100001","op":"ping"})");
    }
  }
}

TEST_F(BybitSim, AClientThatDoesNotPingIsDroppedAndOneThatPingsIsKept) {
  start([](obr::sim::SimConfig& c) {
    c.changes_per_s = 0;
    c.timers["bybit-linear"].client_ping_timeout_ns = 500 * kMs;
  });
  const auto opened = std::chrono::steady_clock::now();
  Ws silent(port_, "/v5/public/linear"), pinging(port_, "/v5/public/linear");
  for (int k = 0; k < 10; ++k) {  // 1.5 s: three timeouts' worth
    pinging.send(R"({"req_id":")" + std::to_string(k) + R"(","op":"ping"})");
    const auto pong = pinging.read();
    ASSERT_TRUE(pong) << k << ": " << pinging.error.message();
    EXPECT_NE(pong->find(R"("ret_msg":"pong")"), std::string::npos);
    std::this_thread::sleep_for(150ms);
  }
  EXPECT_TRUE(silent.read_until_end(100ms));
  const auto lived = std::chrono::steady_clock::now() - opened;
  // Dropped, not closed with a close frame: the server takes the client for gone.
  EXPECT_NE(silent.error, websocket::error::closed) << silent.error.message();
  EXPECT_NE(silent.error, asio::error::timed_out);
  EXPECT_GE(lived, 500ms);
  // The other categories keep their own (10 minute) timeout.
  Ws spot(port_, "/v5/public/spot");
  EXPECT_FALSE(spot.read(700ms));
  EXPECT_EQ(spot.error, asio::error::timed_out);
}

// ---- books --------------------------------------------------------------------------------

// With the market still, the books are the synthetic market's first: the best bid at the
// mid, the best ask one tick above; spot trims, linear and inverse keep their decimals.
TEST_F(BybitSim, FieldOrderAndNumbersFollowTheCategory) {
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 0; });
  auto spot = subscribed("/v5/public/spot", "orderbook.50.BTCUSDT");
  auto linear = subscribed("/v5/public/linear", "orderbook.50.BTCUSDT");
  auto inverse = subscribed("/v5/public/inverse", "orderbook.50.BTCUSD");
  const auto s = spot->next_msg(), l = linear->next_msg(), i = inverse->next_msg();
  ASSERT_TRUE(s && l && i);
  EXPECT_TRUE(s->text.starts_with(R"({"topic":"orderbook.50.BTCUSDT","ts":)" + std::to_string(s->ts) +
                                  R"(,"type":"snapshot","data":{"s":"BTCUSDT","b":[[")"))
      << s->text;
  EXPECT_TRUE(l->text.starts_with(R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":)" + std::to_string(l->ts) +
                                  R"(,"data":{"s":"BTCUSDT","b":[[")"))
      << l->text;
  for (const Msg* m : {&*s, &*l, &*i}) {
    EXPECT_TRUE(m->text.ends_with(R"(],"u":)" + std::to_string(m->u) + R"(,"seq":)" + std::to_string(m->seq) +
                                  R"(},"cts":)" + std::to_string(m->cts) + "}"))
        << m->text;
    EXPECT_EQ(m->bids.size(), 50u);
    EXPECT_EQ(m->asks.size(), 50u);
    EXPECT_EQ(m->seq, obr::sim::kBybitSeqOffset);  // no change yet
  }
  EXPECT_EQ(s->bids[0].first, "65140.4");
  EXPECT_EQ(s->asks[0].first, "65140.41");
  EXPECT_EQ(l->bids[0].first, "65114.20");
  EXPECT_EQ(l->asks[0].first, "65114.30");
  EXPECT_EQ(i->bids[0].first, "65114.50");
  EXPECT_EQ(i->asks[0].first, "65115.00");
  int trimmed = 0;
  for (const auto& side : {s->bids, s->asks}) {
    for (const auto& [p, q] : side) {
      for (const std::string& v : {p, q}) {
        EXPECT_FALSE(v.find('.') != std::string::npos && (v.back() == '0' || v.back() == '.')) << v;
      }
      EXPECT_LE(decimals(p), 2) << p;
      EXPECT_LE(decimals(q), 6) << q;
      if (decimals(q) < 6) ++trimmed;
    }
  }
  EXPECT_GT(trimmed, 0);
  for (const auto& side : {l->bids, l->asks}) {
    for (const auto& [p, q] : side) {
      EXPECT_EQ(decimals(p), 2) << p;
      EXPECT_EQ(decimals(q), 3) << q;
    }
  }
  for (const auto& side : {i->bids, i->asks}) {
    for (const auto& [p, q] : side) {
      EXPECT_EQ(decimals(p), 2) << p;
      EXPECT_EQ(decimals(q), 0) << q;  // whole contracts
    }
  }
  // Each book is the market's: the replica's top 50, exactly.
  for (const auto& [m, venue] : {std::pair{&*s, "bybit-spot"}, std::pair{&*l, "bybit-linear"}}) {
    Replica replica(venue);
    const auto& market = replica.market();
    Client client(market.spec(0).price_scale, market.spec(0).qty_scale);
    client.apply(*m);
    EXPECT_TRUE(client.equals(market.bids(0), market.asks(0), 50)) << venue;
  }
}

// Every message, at each depth, leaves a client applying Bybit's rules with exactly the
// market's top `depth` (the replica stepped to the message's seq); u goes up by exactly 1
// and seq strictly. The windows move both ways: levels pushed out are deleted, levels that
// enter from below (refills) are sent.
class BybitBooks : public BybitSim, public ::testing::WithParamInterface<std::tuple<const char*, const char*, int>> {};

TEST_P(BybitBooks, EveryMessageLeavesTheClientAtTheMarketsTopN) {
  const auto [venue, symbol, depth] = GetParam();
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 1500; });
  const std::string path = std::string("/v5/public/") + (std::string(venue).substr(6));
  const std::string topic = "orderbook." + std::to_string(depth) + "." + symbol;
  auto ws = subscribed(path, topic);
  Replica replica(venue);
  const std::size_t i = replica.index(symbol);
  const auto& spec = replica.market().spec(i);
  Client client(spec.price_scale, spec.qty_scale);
  const auto d = static_cast<std::size_t>(depth);
  std::int64_t last_u = 0, last_seq = 0;
  int pushed_out = 0, refilled = 0, deleted = 0, snapshots = 0;
  const int n = depth == 1 ? 300 : 600;
  for (int k = 0; k < n; ++k) {
    const auto m = ws->next_msg();
    ASSERT_TRUE(m) << k << ": " << ws->error.message();
    EXPECT_EQ(m->topic, topic);
    EXPECT_EQ(m->symbol, symbol);
    if (k == 0 || depth == 1) {
      EXPECT_EQ(m->type, "snapshot") << k;
    } else {
      EXPECT_EQ(m->type, "delta") << k;
      EXPECT_EQ(m->u, last_u + 1) << k;
      EXPECT_GT(m->seq, last_seq) << k;
    }
    if (m->type == "snapshot") ++snapshots;
    // What the delta's deletes and sets were, against the market before and after it: a
    // delete of a level still in the market was pushed out of the window; a set of a level
    // the market already had, outside the client's window, is a refill from below.
    const std::vector<Level> before_b(replica.market().bids(i).begin(), replica.market().bids(i).end());
    const std::vector<Level> before_a(replica.market().asks(i).begin(), replica.market().asks(i).end());
    const auto& market = replica.at(i, m->seq);
    if (m->type == "delta") {
      const auto has = [](std::span<const Level> levels, std::int64_t price) {
        return std::any_of(levels.begin(), levels.end(), [&](const Level& l) { return l.price == price; });
      };
      for (int side = 0; side < 2; ++side) {
        for (const auto& [p, q] : side == 0 ? m->bids : m->asks) {
          const std::int64_t price = units(p, spec.price_scale);
          const bool in_window = side == 0 ? client.bids.count(price) != 0 : client.asks.count(price) != 0;
          if (q == "0") {
            ++(has(side == 0 ? market.bids(i) : market.asks(i), price) ? pushed_out : deleted);
          } else if (!in_window && has(side == 0 ? before_b : before_a, price)) {
            ++refilled;
          }
        }
      }
    }
    client.apply(*m);
    ASSERT_EQ(client.checks_failed, 0) << k;
    ASSERT_TRUE(client.equals(market.bids(i), market.asks(i), d))
        << k << ": " << m->text.substr(0, 300) << " (seq " << m->seq << ")";
    last_u = m->u;
    last_seq = m->seq;
  }
  if (depth == 1) {
    EXPECT_EQ(snapshots, n);
  } else {
    EXPECT_EQ(snapshots, 1);
    EXPECT_GT(pushed_out, 0);
    EXPECT_GT(refilled, 0);
    EXPECT_GT(deleted, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Depths, BybitBooks,
    ::testing::Values(std::make_tuple("bybit-linear", "BTCUSDT", 1), std::make_tuple("bybit-linear", "BTCUSDT", 50),
                      std::make_tuple("bybit-linear", "ETHUSDT", 200), std::make_tuple("bybit-spot", "BTCUSDT", 1),
                      std::make_tuple("bybit-spot", "SOLUSDT", 50), std::make_tuple("bybit-spot", "ETHUSDT", 200),
                      std::make_tuple("bybit-inverse", "BTCUSD", 50), std::make_tuple("bybit-inverse", "XRPUSD", 200)));

// docs/venues/bybit.md, "Books": a level-1 book unchanged for 3 s (compressed here) is
// pushed again with the same u; deeper topics are not repeated.
TEST_F(BybitSim, AnUnchangedLevel1BookIsPushedAgainWithTheSameU) {
  start([](obr::sim::SimConfig& c) {
    c.changes_per_s = 0;
    c.timers["bybit-spot"].level1_repeat_ns = 300 * kMs;
  });
  auto ws = subscribed("/v5/public/spot", "orderbook.1.ETHUSDT");
  auto deep = subscribed("/v5/public/spot", "orderbook.50.ETHUSDT");
  const auto first = ws->next_msg();
  ASSERT_TRUE(first);
  ASSERT_TRUE(deep->next_msg());  // its snapshot
  EXPECT_EQ(first->bids, (std::vector<std::pair<std::string, std::string>>{{"3450.12", first->bids[0].second}}));
  EXPECT_EQ(first->asks.size(), 1u);
  auto at = std::chrono::steady_clock::now();
  for (int k = 0; k < 3; ++k) {
    const auto again = ws->next_msg();
    ASSERT_TRUE(again) << k;
    const auto now = std::chrono::steady_clock::now();
    EXPECT_GE(now - at, 250ms) << k;
    EXPECT_LE(now - at, 700ms) << k;
    at = now;
    EXPECT_EQ(again->type, "snapshot");
    EXPECT_EQ(again->u, first->u);
    EXPECT_EQ(again->seq, first->seq);
    EXPECT_EQ(again->bids, first->bids);
    EXPECT_EQ(again->asks, first->asks);
  }
  EXPECT_FALSE(deep->read(500ms));
  EXPECT_EQ(deep->error, asio::error::timed_out);
}

// ---- faults -------------------------------------------------------------------------------

TEST_F(BybitSim, OwnFaultKindsBelongToTheThreePieces) {
  const std::vector<std::string_view> bybit = {"bybit-spot", "bybit-linear", "bybit-inverse"};
  for (const auto kind : {obr::sim::FaultKind::kRefuseTopic, obr::sim::FaultKind::kRestartSnapshot}) {
    EXPECT_EQ(obr::sim::fault_owners(kind), bybit) << obr::sim::to_string(kind);
  }
  // unprompted_snapshot is OKX's too (okx_piece.h).
  EXPECT_EQ(obr::sim::fault_owners(obr::sim::FaultKind::kUnpromptedSnapshot),
            (std::vector<std::string_view>{"bybit-spot", "bybit-linear", "bybit-inverse", "okx"}));
  const auto skip = obr::sim::fault_owners(obr::sim::FaultKind::kSkipSequence);
  EXPECT_EQ(std::vector<std::string_view>(skip.end() - 3, skip.end()), bybit);
  std::string error;
  EXPECT_FALSE(obr::sim::parse_fault("refuse_topic,venue=kraken", error));
  EXPECT_EQ(error,
            "fault 'refuse_topic,venue=kraken': refuse_topic exists only on bybit-spot, bybit-linear or "
            "bybit-inverse");
  EXPECT_FALSE(obr::sim::parse_fault("restart_snapshot=3,venue=bybit-spot", error));
  EXPECT_EQ(error, "fault 'restart_snapshot=3,venue=bybit-spot': '3' is not a valid argument for restart_snapshot");
  const auto f = obr::sim::parse_fault("unprompted_snapshot@msg=40,venue=bybit-inverse,symbol=BTCUSD", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->kind, obr::sim::FaultKind::kUnpromptedSnapshot);
  EXPECT_EQ(obr::sim::fault_venue(*f), "bybit-inverse");
  EXPECT_EQ(obr::sim::to_string(obr::sim::FaultKind::kRestartSnapshot), "restart_snapshot");
}

// drop: one delta lost, so u skips by exactly 2, once.
TEST_F(BybitSim, ADropMakesUSkipByTwoOnce) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("drop@msg=30,venue=bybit-linear,symbol=BTCUSDT")}; });
  auto ws = subscribed("/v5/public/linear", "orderbook.50.BTCUSDT");
  EXPECT_EQ(off_steps(u_steps(*ws, 80)), std::vector<std::int64_t>{2});
  stop_loop();
  ASSERT_EQ(sim_->fired().size(), 1u);
  EXPECT_EQ(sim_->fired()[0].venue, "bybit-linear");
  EXPECT_EQ(sim_->fired()[0].symbol, "BTCUSDT");
}

// duplicate: one message sent twice (u repeats once); reorder: one message after the next
// (u goes n, n + 2, n + 1, n + 3).
TEST_F(BybitSim, ADuplicateRepeatsAUAndAReorderSwapsTwo) {
  start([&](obr::sim::SimConfig& c) {
    c.faults = {fault("duplicate@msg=20,venue=bybit-spot,symbol=ETHUSDT"),
                fault("reorder@msg=50,venue=bybit-spot,symbol=ETHUSDT")};
  });
  auto ws = subscribed("/v5/public/spot", "orderbook.200.ETHUSDT");
  std::vector<Msg> msgs;
  EXPECT_EQ(off_steps(u_steps(*ws, 90, &msgs)), (std::vector<std::int64_t>{0, 2, -1, 2}));
  for (std::size_t k = 1; k < msgs.size(); ++k) {
    if (msgs[k].u == msgs[k - 1].u) {
      EXPECT_EQ(msgs[k].text, msgs[k - 1].text);  // the same frame
    }
  }
}

// skip_sequence=7: u jumps ahead by 7 ids (a step of 8), once, with no data lost.
TEST_F(BybitSim, SkipSequenceMakesUJumpAhead) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("skip_sequence=7@msg=30,venue=bybit-inverse")}; });
  auto ws = subscribed("/v5/public/inverse", "orderbook.200.ETHUSD");
  EXPECT_EQ(off_steps(u_steps(*ws, 80)), std::vector<std::int64_t>{8});
}

// unprompted_snapshot: one delta replaced by a snapshot with the next u; a client that
// replaces its book with it stays exactly on the market's top N.
TEST_F(BybitSim, AnUnpromptedSnapshotCarriesTheNextUAndTheWholeWindow) {
  start([&](obr::sim::SimConfig& c) {
    c.faults = {fault("unprompted_snapshot@msg=40,venue=bybit-linear,symbol=SOLUSDT")};
  });
  auto ws = subscribed("/v5/public/linear", "orderbook.50.SOLUSDT");
  Replica replica("bybit-linear");
  const std::size_t i = replica.index("SOLUSDT");
  Client client(3, 1);
  std::vector<Msg> msgs;
  EXPECT_EQ(off_steps(u_steps(*ws, 80, &msgs)), std::vector<std::int64_t>{});
  int snapshots = 0;
  for (std::size_t k = 0; k < msgs.size(); ++k) {
    const Msg& m = msgs[k];
    if (m.type == "snapshot") {
      ++snapshots;
      EXPECT_EQ(m.bids.size(), 50u);
      EXPECT_EQ(m.asks.size(), 50u);
    }
    client.apply(m);
    const auto& market = replica.at(i, m.seq);
    ASSERT_TRUE(client.equals(market.bids(i), market.asks(i), 50)) << k;
  }
  EXPECT_EQ(snapshots, 2);  // the subscription's and the fault's
  EXPECT_EQ(client.checks_failed, 0);
  stop_loop();
  EXPECT_EQ(sim_->stats().venues.at("bybit-linear").snapshots_served, 2u);
}

// restart_snapshot: a snapshot with u = 1, then deltas with u 2, 3, ...
TEST_F(BybitSim, ARestartSnapshotStartsUAgainAtOne) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("restart_snapshot@msg=30,venue=bybit-spot")}; });
  auto ws = subscribed("/v5/public/spot", "orderbook.50.BTCUSDT");
  Replica replica("bybit-spot");
  Client client(2, 6);
  std::vector<Msg> msgs;
  u_steps(*ws, 60, &msgs);
  std::size_t restart = 0;
  for (std::size_t k = 0; k < msgs.size(); ++k) {
    if (msgs[k].u == 1) restart = k;
    client.apply(msgs[k]);
    const auto& market = replica.at(0, msgs[k].seq);
    ASSERT_TRUE(client.equals(market.bids(0), market.asks(0), 50)) << k;
  }
  ASSERT_GT(restart, 0u);
  EXPECT_EQ(msgs[restart].type, "snapshot");
  EXPECT_GT(msgs[restart - 1].u, 1000);
  for (std::size_t k = restart + 1; k < msgs.size(); ++k) {
    EXPECT_EQ(msgs[k].type, "delta");
    EXPECT_EQ(msgs[k].u, static_cast<std::int64_t>(k - restart + 1));
  }
  EXPECT_EQ(client.checks_failed, 0);
}

// refuse_topic: the next subscribe is refused as an unknown topic; the one after succeeds.
TEST_F(BybitSim, RefuseTopicRefusesTheNextSubscribeOnce) {
  start([&](obr::sim::SimConfig& c) {
    c.changes_per_s = 0;
    c.faults = {fault("refuse_topic,venue=bybit-linear,symbol=ETHUSDT")};
  });
  Ws ws(port_, "/v5/public/linear");
  ws.send(R"({"req_id":"1","op":"subscribe","args":["orderbook.200.BTCUSDT","orderbook.200.ETHUSDT"]})");
  const auto refused = ws.read();
  ASSERT_TRUE(refused);
  const std::string id = conn_id_of(*refused);
  EXPECT_EQ(*refused, R"({"success":false,"ret_msg":"error:handler not found,topic:orderbook.200.ETHUSDT",)"
                      R"("conn_id":")" +
                          id + R"(","req_id":"1","op":"subscribe"})");
  auto m = ws.next_msg();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->topic, "orderbook.200.BTCUSDT");  // the good topic was subscribed
  ws.send(R"({"req_id":"2","op":"subscribe","args":["orderbook.200.ETHUSDT"]})");
  EXPECT_EQ(ws.read(), R"({"success":true,"ret_msg":"","conn_id":")" + id + R"(","req_id":"2","op":"subscribe"})");
  m = ws.next_msg();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->topic, "orderbook.200.ETHUSDT");
  stop_loop();
  ASSERT_EQ(sim_->fired().size(), 1u);
  EXPECT_EQ(sim_->fired()[0].venue, "bybit-linear");
}

// stall: the connection goes silent; what it swallowed shows as one gap in u.
TEST_F(BybitSim, AStallSilencesTheConnectionAndShowsAsOneGap) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("stall=400ms@msg=10,venue=bybit-linear")}; });
  auto ws = subscribed("/v5/public/linear", "orderbook.50.ETHUSDT");
  std::int64_t last = 0, longest_pause_ms = 0;
  int gaps = 0;
  auto at = std::chrono::steady_clock::now();
  for (int n = 0; n < 60; ++n) {
    const auto m = ws->next_msg();
    ASSERT_TRUE(m);
    const auto now = std::chrono::steady_clock::now();
    longest_pause_ms = std::max<std::int64_t>(longest_pause_ms,
                                              std::chrono::duration_cast<std::chrono::milliseconds>(now - at).count());
    at = now;
    if (n > 0 && m->u != last + 1) ++gaps;
    last = m->u;
  }
  EXPECT_GE(longest_pause_ms, 350);
  EXPECT_EQ(gaps, 1);
}

TEST_F(BybitSim, ACloseFaultDropsTheConnection) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("close@msg=10,venue=bybit-inverse")}; });
  auto ws = subscribed("/v5/public/inverse", "orderbook.50.BTCUSD");
  EXPECT_TRUE(ws->read_until_end(3000ms));
  EXPECT_NE(ws->error, websocket::error::closed) << ws->error.message();  // no close frame
  EXPECT_NE(ws->error, asio::error::timed_out);
}

// malformed: one frame that is not JSON, the stream going on unbroken; oversized: one frame
// past any client's limit.
TEST_F(BybitSim, AMalformedAndAnOversizedFrameArriveOnce) {
  start([&](obr::sim::SimConfig& c) {
    c.faults = {fault("malformed@msg=10,venue=bybit-spot"), fault("oversized@msg=30,venue=bybit-spot")};
  });
  auto ws = subscribed("/v5/public/spot", "orderbook.50.SOLUSDT");
  int malformed = 0, oversized = 0, books = 0;
  std::int64_t last = 0;
  while (books < 60) {
    const auto m = ws->read();
    ASSERT_TRUE(m) << ws->error.message();
    if (!m->starts_with("{")) ++malformed;
    if (m->size() > (std::size_t{8} << 20)) ++oversized;
    if (const auto b = parse_msg(*m)) {
      if (books > 0) {
        EXPECT_EQ(b->u, last + 1);
      }
      last = b->u;
      ++books;
    }
  }
  EXPECT_EQ(malformed, 1);
  EXPECT_EQ(oversized, 1);
}

TEST_F(BybitSim, ACloseCodeFaultClosesWithItsCode) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("close_code=4000@msg=10,venue=bybit-linear")}; });
  auto ws = subscribed("/v5/public/linear", "orderbook.1.BTCUSDT");
  EXPECT_TRUE(ws->read_until_end(3000ms));
  EXPECT_EQ(ws->error, websocket::error::closed) << ws->error.message();
  EXPECT_EQ(ws->close_code(), 4000);
}

// A kind the three pieces own, without venue=, hits whichever first has an eligible message.
TEST_F(BybitSim, ASharedOwnFaultWithoutVenueHitsTheFirstOwnerThatSends) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("restart_snapshot@msg=5")}; });
  auto ws = subscribed("/v5/public/inverse", "orderbook.200.XRPUSD");
  std::vector<Msg> msgs;
  u_steps(*ws, 20, &msgs);
  EXPECT_EQ(std::count_if(msgs.begin(), msgs.end(), [](const Msg& m) { return m.u == 1; }), 1);
  stop_loop();
  ASSERT_EQ(sim_->fired().size(), 1u);
  EXPECT_EQ(sim_->fired()[0].venue, "bybit-inverse");
  EXPECT_GE(sim_->stats().venues.at("bybit-inverse").book_messages, 20u);
}

}  // namespace
