// tests/tools/sim_okx_test.cpp — the simulator's OKX v5 piece (tools/sim/okx_piece.h) over
// real sockets on loopback: the simulator's loop runs on a thread of its own, and each test
// is a plain Beast client that sees exactly what a client of the venue would. The books are
// checked against a replica of the piece's synthetic market (the same specs and seed,
// stepped to each message's seqId), and a client applying the rules of docs/venues/okx.md
// ("Books", "Checksum") must hold the market's exact top levels after every message.
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

#include "book/crc32.h"
#include "connectors/net/event_loop.h"
#include "tools/sim/faults.h"
#include "tools/sim/market.h"
#include "tools/sim/okx_piece.h"
#include "tools/sim/simulator.h"
#include "tools/sim/venue_pieces.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using obr::book::Level;
using namespace std::chrono_literals;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::uint64_t kSeed = 11;
constexpr const char* kPath = "/ws/v5/public";

// Msg: one book message, as a client reads it.
struct Msg {
  std::string text, channel, inst, action;  // action: "" for books5
  std::string ts;
  std::optional<std::int64_t> checksum;
  std::int64_t prev = 0, seq = 0;
  std::vector<std::array<std::string, 4>> bids, asks;
  bool snapshot() const { return action == "snapshot" || action.empty(); }
};

// parse_msg: the book message in `text`, or nullopt for anything else (an answer, a pong).
std::optional<Msg> parse_msg(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc, data;
  Msg m;
  m.text = text;
  std::string_view channel, inst, action, ts;
  if (parser.parse(text).get(doc) || doc["arg"]["channel"].get(channel) || doc["arg"]["instId"].get(inst) ||
      doc["data"].at(0).get(data) || data["ts"].get(ts) || data["prevSeqId"].get(m.prev) || data["seqId"].get(m.seq)) {
    return std::nullopt;
  }
  m.channel = channel;
  m.inst = inst;
  m.ts = ts;
  if (!doc["action"].get(action)) m.action = action;
  if (std::int64_t c = 0; !data["checksum"].get(c)) m.checksum = c;
  for (const char* side : {"bids", "asks"}) {
    simdjson::dom::array levels;
    if (data[side].get(levels)) return std::nullopt;
    for (simdjson::dom::element level : levels) {
      std::array<std::string, 4> l;
      for (std::size_t k = 0; k < 4; ++k) {
        std::string_view s;
        if (level.at(k).get(s)) return std::nullopt;
        l[k] = s;
      }
      (side[0] == 'b' ? m.bids : m.asks).push_back(l);
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

// trimmed: whether a number is written as OKX writes it: no trailing fractional zero, no
// bare point, no leading zero before other digits.
bool trimmed(const std::string& s) {
  if (s.empty() || s.back() == '.') return false;
  if (s.size() > 1 && s[0] == '0' && s[1] != '.') return false;
  return s.find('.') == std::string::npos || s.back() != '0';
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
  // next_msg: the next book message, skipping anything else.
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

std::string conn_id_of(const std::string& answer) {
  simdjson::dom::parser parser;
  std::string_view id;
  if (parser.parse(answer)["connId"].get(id)) return {};
  return std::string(id);
}

// Client: one book kept by the agreed rules (docs/venues/okx.md, "Books", "Checksum"): a
// snapshot (or a books5 message) replaces the book; an update on a live book needs
// prevSeqId == the last seqId, then its levels apply (size "0" deletes); a non-zero checksum
// must equal the CRC32 of the book's top 25 interleaved, from the wire strings. A failed
// check leaves the book resyncing: later updates are ignored until a snapshot.
struct Client {
  Client(int price_scale_, int qty_scale_) : price_scale(price_scale_), qty_scale(qty_scale_) {}
  int price_scale = 0, qty_scale = 0;
  // price units -> (price, size) as on the wire
  std::map<std::int64_t, std::pair<std::string, std::string>, std::greater<>> bids;
  std::map<std::int64_t, std::pair<std::string, std::string>> asks;
  std::int64_t sequence = -1;
  bool live = false;
  int checks_failed = 0, checksum_failed = 0, sequence_failed = 0, checked = 0;

  void apply(const Msg& m) {
    if (m.snapshot()) {
      bids.clear();
      asks.clear();
    } else if (!live) {
      return;
    } else if (m.prev != sequence) {
      ++checks_failed;
      ++sequence_failed;
      live = false;
      return;
    }
    for (const auto& l : m.bids) set(bids, l);
    for (const auto& l : m.asks) set(asks, l);
    sequence = m.seq;
    live = true;
    if (m.checksum && *m.checksum != 0) {
      ++checked;
      if (*m.checksum != checksum()) {
        ++checks_failed;
        ++checksum_failed;
        live = false;
      }
    }
  }
  template <class Map>
  void set(Map& side, const std::array<std::string, 4>& l) {
    const std::int64_t price = units(l[0], price_scale), qty = units(l[1], qty_scale);
    ASSERT_GE(price, 0) << l[0];
    ASSERT_GE(qty, 0) << l[1];
    if (qty == 0) {
      side.erase(price);
    } else {
      side[price] = {l[0], l[1]};
    }
  }
  std::int32_t checksum() const {
    std::string text;
    auto b = bids.begin();
    auto a = asks.begin();
    for (int k = 0; k < 25; ++k) {
      for (int s = 0; s < 2; ++s) {
        const std::pair<std::string, std::string>* l = nullptr;
        if (s == 0 && b != bids.end()) l = &(b++)->second;
        if (s == 1 && a != asks.end()) l = &(a++)->second;
        if (l == nullptr) continue;
        if (!text.empty()) text += ':';
        text += l->first + ":" + l->second;
      }
    }
    return static_cast<std::int32_t>(obr::book::crc32(0, text.data(), text.size()));
  }
  // equals: whether the book is exactly the top `depth` of `bids_truth` / `asks_truth`.
  bool equals(std::span<const Level> bids_truth, std::span<const Level> asks_truth, std::size_t depth) const {
    const auto same = [&](const auto& side, std::span<const Level> truth) {
      truth = truth.first(std::min(truth.size(), depth));
      if (side.size() != truth.size()) return false;
      std::size_t k = 0;
      for (const auto& [p, l] : side) {
        if (truth[k].price != p || truth[k].qty != units(l.second, qty_scale)) return false;
        ++k;
      }
      return true;
    };
    return same(bids, bids_truth) && same(asks, asks_truth);
  }
};

// Replica: the piece's synthetic market, rebuilt from its factory, stepped to a message's
// seqId (seqId = offset + the market's sequence; offset kOkxSeqOffset until a reset, after
// which find() steps the market to the book the client holds and learns the new offset).
class Replica {
 public:
  Replica()
      : factory_(*obr::sim::find_venue_piece("okx")),
        market_(factory_.default_symbols(), factory_.market_seed(kSeed)) {}
  const obr::sim::SyntheticMarket& at(std::size_t symbol, std::int64_t seq) {
    const std::int64_t target = seq - offset;
    EXPECT_GE(target, market_.sequence(symbol)) << "a message older than the replica";
    while (market_.sequence(symbol) < target) market_.next();
    return market_;
  }
  // find: steps the market until `client` holds its top `depth`; false if it never does.
  bool find(std::size_t symbol, const Client& client, std::size_t depth, std::int64_t seq) {
    for (int n = 0; n < 200'000; ++n) {
      if (client.equals(market_.bids(symbol), market_.asks(symbol), depth)) {
        offset = seq - market_.sequence(symbol);
        return true;
      }
      market_.next();
    }
    return false;
  }
  const obr::sim::SyntheticMarket& market() const { return market_; }
  std::size_t index(const std::string& name) const {
    for (std::size_t i = 0; i < market_.symbol_count(); ++i) {
      if (market_.spec(i).name == name) return i;
    }
    ADD_FAILURE() << name;
    return 0;
  }
  std::int64_t offset = obr::sim::kOkxSeqOffset;

 private:
  const obr::sim::VenuePieceFactory& factory_;
  obr::sim::SyntheticMarket market_;
};

std::size_t depth_of(const std::string& channel) {
  if (channel == "books5") return 5;
  if (channel == "books50-l2-tbt") return 50;
  return 400;
}

class OkxSim : public ::testing::Test {
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
  static std::string sub(const std::string& channel, const std::string& inst, const char* op = "subscribe") {
    return R"({"id":"7","op":")" + std::string(op) + R"(","args":[{"channel":")" + channel + R"(","instId":")" + inst +
           R"("}]})";
  }
  // subscribed: a client subscribed to `channel` of `inst`, its answer read.
  std::unique_ptr<Ws> subscribed(const std::string& channel, const std::string& inst) {
    auto ws = std::make_unique<Ws>(port_, kPath);
    ws->send(sub(channel, inst));
    const auto answer = ws->next_answer();
    EXPECT_TRUE(answer && answer->find(R"("event":"subscribe")") != std::string::npos) << answer.value_or("(none)");
    return ws;
  }
  // follow: `n` messages of one book applied by a Client, each held to the replica's top
  // levels; the messages are returned.
  std::vector<Msg> follow(Ws& ws, const std::string& channel, const std::string& inst, int n, Client* out = nullptr) {
    Replica replica;
    const std::size_t i = replica.index(inst);
    const auto& spec = replica.market().spec(i);
    Client client(spec.price_scale, spec.qty_scale);
    const std::size_t depth = depth_of(channel);
    std::vector<Msg> msgs;
    for (int k = 0; k < n; ++k) {
      auto m = ws.next_msg();
      if (!m) {
        ADD_FAILURE() << k << ": " << ws.error.message();
        break;
      }
      client.apply(*m);
      if (!m->snapshot() && m->seq < m->prev) {
        EXPECT_TRUE(replica.find(i, client, depth, m->seq)) << "after the reset at " << k;
      }
      const auto& market = replica.at(i, m->seq);
      if (client.live) {
        EXPECT_TRUE(client.equals(market.bids(i), market.asks(i), depth)) << k << ": " << m->text.substr(0, 300);
      }
      msgs.push_back(std::move(*m));
    }
    if (out) *out = client;
    return msgs;
  }

  obr::net::EventLoop loop_;
  std::unique_ptr<obr::sim::Simulator> sim_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// ---- wire helpers -----------------------------------------------------------------------

TEST(OkxWire, NumbersHaveNoTrailingZeros) {
  EXPECT_EQ(obr::sim::okx_number(293512, 1), "29351.2");
  EXPECT_EQ(obr::sim::okx_number(293510, 1), "29351");
  EXPECT_EQ(obr::sim::okx_number(10000, 8), "0.0001");
  EXPECT_EQ(obr::sim::okx_number(415, 0), "415");
  EXPECT_EQ(obr::sim::okx_number(336600, 2), "3366");
}

// The documented strings and their signed CRC32s (docs/venues/okx.md, "Checksum").
TEST(OkxWire, ChecksumOfTheDocumentedStrings) {
  EXPECT_EQ(obr::sim::okx_checksum("3366.1:7:3366.8:9:3366:6:3368:8"), -1881014294);
  EXPECT_EQ(obr::sim::okx_checksum("3366.1:7:3366.8:9:3368:8:3372:8"), 831078360);
  // Interleaved bid, ask, bid, ask; a shorter side simply ends.
  const std::vector<Level> bids = {{33661, 7}, {33660, 6}};
  const std::vector<Level> asks = {{33668, 9}, {33680, 8}};
  EXPECT_EQ(obr::sim::okx_checksum_text(bids, asks, 1, 0), "3366.1:7:3366.8:9:3366:6:3368:8");
  const std::vector<Level> one_bid = {{33661, 7}};
  const std::vector<Level> three_asks = {{33668, 9}, {33680, 8}, {33720, 8}};
  EXPECT_EQ(obr::sim::okx_checksum_text(one_bid, three_asks, 1, 0), "3366.1:7:3366.8:9:3368:8:3372:8");
  // At most 25 levels a side.
  std::vector<Level> many;
  for (int k = 0; k < 30; ++k) many.push_back({1000 - k, 1});
  const std::string text = obr::sim::okx_checksum_text(many, {}, 0, 0);
  EXPECT_EQ(std::count(text.begin(), text.end(), ':'), 49);
  EXPECT_TRUE(text.ends_with("976:1"));
}

// ---- subscribing --------------------------------------------------------------------------

TEST_F(OkxSim, IsServedOnItsPathWithItsBooks) {
  start();
  EXPECT_EQ(sim_->url("okx"), "ws://127.0.0.1:" + std::to_string(port_) + "/ws/v5/public");
  EXPECT_EQ(sim_->rest_url("okx"), "");
  EXPECT_EQ(sim_->symbols("okx"), (std::vector<std::string>{"BTC-USDT", "ETH-USDT", "BTC-USDT-SWAP"}));
  EXPECT_EQ(sim_->spec("okx", "BTC-USDT")->price_scale, 1);
  EXPECT_EQ(sim_->spec("okx", "BTC-USDT")->qty_scale, 8);
  EXPECT_EQ(sim_->spec("okx", "BTC-USDT-SWAP")->qty_scale, 0);
}

TEST_F(OkxSim, EachArgIsAnsweredAndUnknownOnesAreRefused) {
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 0; });
  Ws ws(port_, kPath);
  ws.send(
      R"({"id":"1512","op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"books","instId":"DOGE-USDT"},{"channel":"books7","instId":"ETH-USDT"}]})");
  const auto a1 = ws.next_answer(), a2 = ws.next_answer(), a3 = ws.next_answer();
  ASSERT_TRUE(a1 && a2 && a3);
  const std::string id = conn_id_of(*a1);
  ASSERT_EQ(id.size(), 8u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_EQ(*a1, R"({"id":"1512","event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":")" + id +
                     R"("})");
  EXPECT_EQ(
      *a2,
      R"({"id":"1512","event":"error","code":"60018","msg":"Wrong URL or channel:books,instId:DOGE-USDT doesn't exist.","connId":")" +
          id + R"("})");
  EXPECT_EQ(
      *a3,
      R"({"id":"1512","event":"error","code":"60018","msg":"Wrong URL or channel:books7,instId:ETH-USDT doesn't exist.","connId":")" +
          id + R"("})");
  // The subscribed book's snapshot follows its answer.
  const auto snap = ws.next_msg();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->action, "snapshot");
  EXPECT_EQ(snap->inst, "BTC-USDT");
  // Unsubscribing answers with the arg; a request without op or args is invalid (60012).
  ws.send(sub("books", "BTC-USDT", "unsubscribe"));
  EXPECT_EQ(
      ws.next_answer(),
      R"({"id":"7","event":"unsubscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":")" + id + R"("})");
  ws.send(R"({"op":"subscribe"})");
  EXPECT_EQ(
      ws.next_answer(),
      R"({"event":"error","code":"60012","msg":"Invalid request: {\"op\":\"subscribe\"}","connId":")" + id + R"("})");
  // A numeric id is echoed as a string.
  ws.send(R"({"id":42,"op":"subscribe","args":[{"channel":"books5","instId":"ETH-USDT"}]})");
  EXPECT_EQ(
      ws.next_answer(),
      R"({"id":"42","event":"subscribe","arg":{"channel":"books5","instId":"ETH-USDT"},"connId":")" + id + R"("})");
}

TEST_F(OkxSim, TickByTickChannelsAreRefusedBelowVip4WhenConfigured) {
  start([](obr::sim::SimConfig& c) {
    c.changes_per_s = 0;
    c.options["okx"].refuse_tbt = true;
  });
  Ws ws(port_, kPath);
  for (const char* channel : {"books50-l2-tbt", "books-l2-tbt"}) {
    ws.send(sub(channel, "BTC-USDT"));
    const auto a = ws.next_answer();
    ASSERT_TRUE(a);
    EXPECT_EQ(
        *a,
        R"({"id":"7","event":"error","code":"64003","msg":"Your trading fee tier doesn't meet the requirement to access this channel:)" +
            std::string(channel) + R"(,instId:BTC-USDT","connId":")" + conn_id_of(*a) + R"("})");
  }
  // books is not tick-by-tick: allowed.
  ws.send(sub("books", "BTC-USDT"));
  EXPECT_NE(ws.next_answer()->find(R"("event":"subscribe")"), std::string::npos);
}

TEST_F(OkxSim, TickByTickChannelsAreAllowedByDefault) {
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 0; });
  auto ws = subscribed("books50-l2-tbt", "ETH-USDT");
  const auto m = ws->next_msg();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->bids.size(), 50u);
  EXPECT_EQ(m->asks.size(), 50u);
}

// refuse_channel: the next subscribe is refused with 64003, naming the channel and instId;
// the one after is served.
TEST_F(OkxSim, RefuseChannelRefusesTheNextSubscribeOnce) {
  start([&](obr::sim::SimConfig& c) {
    c.changes_per_s = 0;
    c.faults = {fault("refuse_channel,symbol=ETH-USDT")};
  });
  Ws ws(port_, kPath);
  ws.send(sub("books", "ETH-USDT"));
  const auto a = ws.next_answer();
  ASSERT_TRUE(a);
  EXPECT_EQ(
      *a,
      R"({"id":"7","event":"error","code":"64003","msg":"Your trading fee tier doesn't meet the requirement to access this channel:books,instId:ETH-USDT","connId":")" +
          conn_id_of(*a) + R"("})");
  ws.send(sub("books", "ETH-USDT"));
  EXPECT_NE(ws.next_answer()->find(R"("event":"subscribe")"), std::string::npos);
  EXPECT_TRUE(ws.next_msg());
  stop_loop();
  ASSERT_EQ(sim_->fired().size(), 1u);
  EXPECT_EQ(sim_->fired()[0].venue, "okx");
  EXPECT_EQ(sim_->fired()[0].symbol, "ETH-USDT");
}

// ---- keepalive ----------------------------------------------------------------------------

TEST_F(OkxSim, PingIsAnsweredWithPong) {
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 0; });
  Ws ws(port_, kPath);
  ws.send("ping");
  EXPECT_EQ(ws.read(), "pong");
  ws.send("ping");
  EXPECT_EQ(ws.read(), "pong");
}

// A client that sends nothing for the timeout (30 s on the venue; 300 ms here) is dropped; one
// that pings keeps its connection.
TEST_F(OkxSim, ASilentClientIsDropped) {
  start([](obr::sim::SimConfig& c) {
    c.changes_per_s = 0;
    c.timers["okx"].client_ping_timeout_ns = 300 * kMs;
  });
  Ws silent(port_, kPath);
  Ws pinging(port_, kPath);
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < 10; ++k) {
    pinging.send("ping");
    EXPECT_EQ(pinging.read(), "pong");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1000ms);
  EXPECT_FALSE(pinging.ended);
  EXPECT_TRUE(silent.read_until_end(2000ms));
  EXPECT_NE(silent.error, asio::error::timed_out);
  EXPECT_NE(silent.error, websocket::error::closed) << silent.error.message();  // no close frame
}

// ---- books --------------------------------------------------------------------------------

TEST_F(OkxSim, FieldShapes) {
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 800; });
  auto ws = subscribed("books", "BTC-USDT");
  const auto snap = ws->next_msg();
  ASSERT_TRUE(snap);
  EXPECT_TRUE(snap->text.starts_with(
      R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[[")"))
      << snap->text.substr(0, 200);
  EXPECT_NE(snap->text.find(R"(]],"bids":[[")"), std::string::npos);
  EXPECT_NE(snap->text.find(R"(]],"ts":")" + snap->ts + R"(","checksum":)"), std::string::npos);
  EXPECT_TRUE(snap->text.ends_with(R"(,"prevSeqId":-1,"seqId":)" + std::to_string(snap->seq) + "}]}"));
  EXPECT_EQ(snap->prev, -1);
  EXPECT_GT(snap->seq, obr::sim::kOkxSeqOffset - 1);
  EXPECT_EQ(snap->ts.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(snap->ts.size(), 13u);
  // The whole market (300 levels here; at most 400).
  EXPECT_EQ(snap->bids.size(), 300u);
  EXPECT_EQ(snap->asks.size(), 300u);
  const auto upd = ws->next_msg();
  ASSERT_TRUE(upd);
  EXPECT_TRUE(
      upd->text.starts_with(R"({"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[)"));
  EXPECT_EQ(upd->prev, snap->seq);
  EXPECT_GT(upd->seq, snap->seq);
  EXPECT_LT(upd->bids.size() + upd->asks.size(), 20u);
  // books5: no action, no checksum, instId in data, exactly 5 a side.
  auto ws5 = subscribed("books5", "BTC-USDT-SWAP");
  for (int k = 0; k < 3; ++k) {
    const auto m = ws5->next_msg();
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->text.starts_with(R"({"arg":{"channel":"books5","instId":"BTC-USDT-SWAP"},"data":[{"asks":[[")"));
    EXPECT_NE(m->text.find(R"(]],"instId":"BTC-USDT-SWAP","ts":")"), std::string::npos);
    EXPECT_TRUE(m->text.ends_with(R"(,"seqId":)" + std::to_string(m->seq) + R"(,"prevSeqId":)" +
                                  std::to_string(m->prev) + "}]}"));
    EXPECT_EQ(m->action, "");
    EXPECT_FALSE(m->checksum);
    EXPECT_EQ(m->bids.size(), 5u);
    EXPECT_EQ(m->asks.size(), 5u);
  }
}

// Every number as OKX writes it: no trailing zeros, at most the instrument's decimals; the
// third field "0", the fourth a whole order count ("0" for a delete).
TEST_F(OkxSim, NumbersAreWrittenWithoutTrailingZeros) {
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 1500; });
  for (const auto& [inst, price_dp, size_dp] :
       {std::tuple{"BTC-USDT", 1, 8}, std::tuple{"ETH-USDT", 2, 6}, std::tuple{"BTC-USDT-SWAP", 1, 0}}) {
    auto ws = subscribed("books", inst);
    int levels = 0, fractional_sizes = 0;
    for (int k = 0; k < 80; ++k) {
      const auto m = ws->next_msg();
      ASSERT_TRUE(m);
      for (const auto* side : {&m->bids, &m->asks}) {
        for (const auto& l : *side) {
          ++levels;
          EXPECT_TRUE(trimmed(l[0])) << l[0];
          EXPECT_TRUE(trimmed(l[1])) << l[1];
          EXPECT_GE(units(l[0], price_dp), 0) << inst << " " << l[0];
          EXPECT_GE(units(l[1], size_dp), 0) << inst << " " << l[1];
          if (l[1].find('.') != std::string::npos) ++fractional_sizes;
          EXPECT_EQ(l[2], "0");
          EXPECT_EQ(l[3].find_first_not_of("0123456789"), std::string::npos) << l[3];
          EXPECT_EQ(l[1] == "0", l[3] == "0") << l[1] << " " << l[3];
        }
      }
    }
    EXPECT_GT(levels, 300) << inst;
    if (size_dp == 0) {
      EXPECT_EQ(fractional_sizes, 0) << inst;
    } else {
      EXPECT_GT(fractional_sizes, 0) << inst;
    }
  }
}

// A client applying the rules ends equal to the market's top levels after every message,
// every checksum verified; books50-l2-tbt keeps it at the top 50 (deletes and refills).
class OkxBooks : public OkxSim, public ::testing::WithParamInterface<std::tuple<const char*, const char*>> {};

TEST_P(OkxBooks, EveryMessageLeavesTheClientAtTheMarketsTopLevels) {
  const auto [channel, inst] = GetParam();
  start([](obr::sim::SimConfig& c) { c.changes_per_s = 1500; });
  auto ws = subscribed(channel, inst);
  Client client(0, 0);
  const auto msgs = follow(*ws, channel, inst, 400, &client);
  ASSERT_EQ(msgs.size(), 400u);
  EXPECT_EQ(client.checks_failed, 0);
  EXPECT_TRUE(client.live);
  for (std::size_t k = 1; k < msgs.size(); ++k) {
    EXPECT_EQ(msgs[k].prev, msgs[k - 1].seq) << k;
    EXPECT_GT(msgs[k].seq, msgs[k - 1].seq) << k;
    EXPECT_EQ(msgs[k].channel, channel);
    EXPECT_EQ(msgs[k].inst, inst);
  }
  if (std::string(channel) == "books5") {
    EXPECT_EQ(client.checked, 0);
    for (const Msg& m : msgs) EXPECT_EQ(m.action, "");
  } else {
    EXPECT_EQ(client.checked, 400);  // every message carries a checksum, all verified
    EXPECT_EQ(msgs[0].action, "snapshot");
    for (std::size_t k = 1; k < msgs.size(); ++k) EXPECT_EQ(msgs[k].action, "update") << k;
  }
  if (std::string(channel) == "books50-l2-tbt") {
    // The window moves both ways: some update deletes a level the market still has.
    EXPECT_EQ(client.bids.size(), 50u);
    EXPECT_EQ(client.asks.size(), 50u);
  }
}

INSTANTIATE_TEST_SUITE_P(Channels, OkxBooks,
                         ::testing::Values(std::make_tuple("books", "BTC-USDT"), std::make_tuple("books", "ETH-USDT"),
                                           std::make_tuple("books5", "BTC-USDT-SWAP"),
                                           std::make_tuple("books50-l2-tbt", "BTC-USDT"),
                                           std::make_tuple("books-l2-tbt", "BTC-USDT-SWAP")));

// With checksum_zero every checksum is 0 (as OKX sends since the deprecation); the books are
// still right.
TEST_F(OkxSim, ChecksumsAreZeroWhenTurnedOff) {
  start([](obr::sim::SimConfig& c) {
    c.changes_per_s = 1500;
    c.options["okx"].checksum_zero = true;
  });
  auto ws = subscribed("books", "BTC-USDT");
  Client client(0, 0);
  const auto msgs = follow(*ws, "books", "BTC-USDT", 200, &client);
  for (const Msg& m : msgs) {
    ASSERT_TRUE(m.checksum);
    EXPECT_EQ(*m.checksum, 0);
  }
  EXPECT_EQ(client.checked, 0);
  EXPECT_EQ(client.checks_failed, 0);
}

// A quiet book gets a no-change update (about 60 s on the venue; 200 ms here): no levels,
// seqId == prevSeqId == the last seqId, the same checksum.
TEST_F(OkxSim, AQuietBookGetsNoChangeUpdates) {
  start([](obr::sim::SimConfig& c) {
    c.changes_per_s = 0;
    c.timers["okx"].no_change_ns = 200 * kMs;
  });
  auto ws = subscribed("books", "ETH-USDT");
  auto ws5 = subscribed("books5", "ETH-USDT");
  const auto snap = ws->next_msg();
  ASSERT_TRUE(snap);
  for (int k = 0; k < 2; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto m = ws->next_msg();
    ASSERT_TRUE(m);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
    EXPECT_EQ(
        m->text,
        R"({"arg":{"channel":"books","instId":"ETH-USDT"},"action":"update","data":[{"asks":[],"bids":[],"ts":")" +
            m->ts + R"(","checksum":)" + std::to_string(*snap->checksum) + R"(,"prevSeqId":)" +
            std::to_string(snap->seq) + R"(,"seqId":)" + std::to_string(snap->seq) + "}]}");
  }
  // books5 gets none: its snapshot, then nothing.
  EXPECT_TRUE(ws5->next_msg());
  EXPECT_FALSE(ws5->next_msg(500ms));
}

// ---- faults -------------------------------------------------------------------------------

TEST_F(OkxSim, OwnFaultKinds) {
  EXPECT_EQ(obr::sim::fault_owners(obr::sim::FaultKind::kSequenceReset), std::vector<std::string_view>{"okx"});
  EXPECT_EQ(obr::sim::fault_owners(obr::sim::FaultKind::kRefuseChannel), std::vector<std::string_view>{"okx"});
  EXPECT_EQ(obr::sim::fault_owners(obr::sim::FaultKind::kNoChange), std::vector<std::string_view>{"okx"});
  EXPECT_EQ(obr::sim::fault_owners(obr::sim::FaultKind::kCorruptChecksum),
            (std::vector<std::string_view>{"kraken", "okx"}));
  std::string error;
  EXPECT_FALSE(obr::sim::parse_fault("sequence_reset,venue=bybit-spot", error));
  EXPECT_EQ(error, "fault 'sequence_reset,venue=bybit-spot': sequence_reset exists only on okx");
  EXPECT_FALSE(obr::sim::parse_fault("no_change=2", error));
  EXPECT_EQ(error, "fault 'no_change=2': '2' is not a valid argument for no_change");
  EXPECT_EQ(obr::sim::to_string(obr::sim::FaultKind::kRefuseChannel), "refuse_channel");
  const auto* okx = obr::sim::find_venue_piece("okx");
  ASSERT_NE(okx, nullptr);
  EXPECT_EQ(std::vector<obr::sim::FaultKind>(okx->absorbable.begin(), okx->absorbable.end()),
            (std::vector<obr::sim::FaultKind>{obr::sim::FaultKind::kUnpromptedSnapshot,
                                              obr::sim::FaultKind::kSequenceReset, obr::sim::FaultKind::kNoChange}));
}

// What `n` messages of one book show: the updates whose prevSeqId is not the last seqId.
std::vector<std::size_t> breaks(const std::vector<Msg>& msgs) {
  std::vector<std::size_t> out;
  for (std::size_t k = 1; k < msgs.size(); ++k) {
    if (!msgs[k].snapshot() && msgs[k].prev != msgs[k - 1].seq) out.push_back(k);
  }
  return out;
}

// drop: one update missing; the next one's prevSeqId is the missing one's seqId.
TEST_F(OkxSim, ADropShowsAsOnePrevSeqIdMismatch) {
  start([&](obr::sim::SimConfig& c) {
    c.changes_per_s = 1500;
    c.faults = {fault("drop@msg=30,venue=okx,symbol=BTC-USDT")};
  });
  auto ws = subscribed("books", "BTC-USDT");
  std::vector<Msg> msgs;
  for (int k = 0; k < 80; ++k) msgs.push_back(ws->next_msg().value());
  const auto b = breaks(msgs);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_GT(msgs[b[0]].prev, msgs[b[0] - 1].seq);  // a gap: the missing update's seqId
  Client client(1, 8);
  for (const Msg& m : msgs) client.apply(m);
  EXPECT_EQ(client.sequence_failed, 1);
  EXPECT_FALSE(client.live);
}

// duplicate: one update sent twice, the copy byte for byte the same.
TEST_F(OkxSim, ADuplicateIsTheSameUpdateTwice) {
  start([&](obr::sim::SimConfig& c) {
    c.changes_per_s = 1500;
    c.faults = {fault("duplicate@msg=30,venue=okx,symbol=ETH-USDT")};
  });
  auto ws = subscribed("books50-l2-tbt", "ETH-USDT");
  std::vector<Msg> msgs;
  for (int k = 0; k < 80; ++k) msgs.push_back(ws->next_msg().value());
  const auto b = breaks(msgs);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(msgs[b[0]].text, msgs[b[0] - 1].text);
  EXPECT_EQ(msgs[b[0]].prev, msgs[b[0] - 2].seq);
}

// reorder: one update arrives after the next one.
TEST_F(OkxSim, AReorderSwapsTwoUpdates) {
  start([&](obr::sim::SimConfig& c) {
    c.changes_per_s = 1500;
    c.faults = {fault("reorder@msg=30,venue=okx,symbol=BTC-USDT-SWAP")};
  });
  auto ws = subscribed("books", "BTC-USDT-SWAP");
  std::vector<Msg> msgs;
  for (int k = 0; k < 80; ++k) msgs.push_back(ws->next_msg().value());
  const auto b = breaks(msgs);
  ASSERT_EQ(b.size(), 3u);
  const std::size_t k = b[0];
  EXPECT_EQ(b[1], k + 1);
  EXPECT_EQ(b[2], k + 2);
  EXPECT_EQ(msgs[k].prev, msgs[k + 1].seq);      // the later one came first
  EXPECT_EQ(msgs[k + 1].prev, msgs[k - 1].seq);  // then the held one
  EXPECT_EQ(msgs[k + 2].prev, msgs[k].seq);      // and the chain goes on from the later one
}

// corrupt_checksum: one update's checksum is wrong; its sequence and levels are right.
TEST_F(OkxSim, ACorruptChecksumFailsOnceAndOnlyTheChecksum) {
  start([&](obr::sim::SimConfig& c) {
    c.changes_per_s = 1500;
    c.faults = {fault("corrupt_checksum@msg=30,venue=okx,symbol=BTC-USDT")};
  });
  auto ws = subscribed("books", "BTC-USDT");
  Replica replica;
  const std::size_t i = replica.index("BTC-USDT");
  int wrong = 0;
  Client client(1, 8);
  for (int k = 0; k < 80; ++k) {
    const auto m = ws->next_msg();
    ASSERT_TRUE(m);
    // Applied regardless of the verdict, to tell the checksum from the book.
    client.live = true;
    client.apply(*m);
    const auto& market = replica.at(i, m->seq);
    EXPECT_TRUE(client.equals(market.bids(i), market.asks(i), 400)) << k;
    if (client.checksum() != *m->checksum) ++wrong;
    EXPECT_NE(*m->checksum, 0);
  }
  EXPECT_EQ(wrong, 1);
  EXPECT_EQ(client.checksum_failed, 1);
  EXPECT_EQ(client.sequence_failed, 0);
}

// unprompted_snapshot: one update replaced by a snapshot (prevSeqId -1, the next seqId); a
// client replaces its book and stays right.
TEST_F(OkxSim, AnUnpromptedSnapshotReplacesAnUpdate) {
  start([&](obr::sim::SimConfig& c) {
    c.changes_per_s = 1500;
    c.faults = {fault("unprompted_snapshot@msg=30,venue=okx,symbol=BTC-USDT")};
  });
  auto ws = subscribed("books50-l2-tbt", "BTC-USDT");
  Client client(0, 0);
  const auto msgs = follow(*ws, "books50-l2-tbt", "BTC-USDT", 80, &client);
  int snapshots = 0;
  for (std::size_t k = 1; k < msgs.size(); ++k) {
    if (msgs[k].action != "snapshot") continue;
    ++snapshots;
    EXPECT_EQ(msgs[k].prev, -1);
    EXPECT_GT(msgs[k].seq, msgs[k - 1].seq);
    EXPECT_EQ(msgs[k].bids.size(), 50u);
    EXPECT_EQ(msgs[k + 1].prev, msgs[k].seq);
  }
  EXPECT_EQ(snapshots, 1);
  EXPECT_TRUE(breaks(msgs).empty());
  EXPECT_EQ(client.checks_failed, 0);
  stop_loop();
  ASSERT_EQ(sim_->fired().size(), 1u);
  EXPECT_EQ(sim_->fired()[0].venue, "okx");
}

// sequence_reset: one update with seqId 1 below its prevSeqId; later ones go on from it; a
// client following the rules sees nothing wrong and stays right.
TEST_F(OkxSim, ASequenceResetStartsTheSeqIdsAgain) {
  start([&](obr::sim::SimConfig& c) {
    c.changes_per_s = 1500;
    c.faults = {fault("sequence_reset@msg=30,symbol=ETH-USDT")};
  });
  auto ws = subscribed("books", "ETH-USDT");
  Client client(0, 0);
  const auto msgs = follow(*ws, "books", "ETH-USDT", 80, &client);
  int resets = 0;
  for (std::size_t k = 1; k < msgs.size(); ++k) {
    EXPECT_EQ(msgs[k].prev, msgs[k - 1].seq) << k;
    if (msgs[k].seq >= msgs[k].prev) continue;
    ++resets;
    EXPECT_EQ(msgs[k].seq, 1);
    EXPECT_EQ(msgs[k].action, "update");
    EXPECT_GT(msgs[k].prev, obr::sim::kOkxSeqOffset);
    EXPECT_GT(msgs[k + 1].seq, 1);
    EXPECT_LT(msgs.back().seq, 1000);
  }
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(client.checks_failed, 0);
  EXPECT_TRUE(client.live);
}

// no_change: a no-change update at once, mid-stream (seqId == prevSeqId, no levels).
TEST_F(OkxSim, ANoChangeFaultSendsANoChangeUpdate) {
  start([&](obr::sim::SimConfig& c) {
    c.changes_per_s = 500;
    c.faults = {fault("no_change@msg=20,symbol=BTC-USDT")};
  });
  auto ws = subscribed("books", "BTC-USDT");
  Client client(0, 0);
  const auto msgs = follow(*ws, "books", "BTC-USDT", 60, &client);
  int quiet = 0;
  for (std::size_t k = 1; k < msgs.size(); ++k) {
    EXPECT_EQ(msgs[k].prev, msgs[k - 1].seq) << k;
    if (msgs[k].seq != msgs[k].prev) continue;
    ++quiet;
    EXPECT_TRUE(msgs[k].bids.empty() && msgs[k].asks.empty());
    EXPECT_EQ(msgs[k].checksum, msgs[k - 1].checksum);
  }
  EXPECT_EQ(quiet, 1);
  EXPECT_EQ(client.checks_failed, 0);
}

// The shared connection faults reach the piece: stall (silence, then one gap), close,
// malformed and oversized frames.
TEST_F(OkxSim, AStallSilencesTheConnectionAndShowsAsOneGap) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("stall=400ms@msg=10,venue=okx")}; });
  auto ws = subscribed("books", "ETH-USDT");
  std::vector<Msg> msgs;
  std::int64_t longest_pause_ms = 0;
  auto at = std::chrono::steady_clock::now();
  for (int n = 0; n < 60; ++n) {
    auto m = ws->next_msg();
    ASSERT_TRUE(m);
    const auto now = std::chrono::steady_clock::now();
    longest_pause_ms = std::max<std::int64_t>(longest_pause_ms,
                                              std::chrono::duration_cast<std::chrono::milliseconds>(now - at).count());
    at = now;
    msgs.push_back(std::move(*m));
  }
  EXPECT_GE(longest_pause_ms, 350);
  EXPECT_EQ(breaks(msgs).size(), 1u);
}

TEST_F(OkxSim, ACloseFaultDropsTheConnection) {
  start([&](obr::sim::SimConfig& c) { c.faults = {fault("close@msg=10,venue=okx")}; });
  auto ws = subscribed("books", "BTC-USDT");
  EXPECT_TRUE(ws->read_until_end(3000ms));
  EXPECT_NE(ws->error, websocket::error::closed) << ws->error.message();
  EXPECT_NE(ws->error, asio::error::timed_out);
}

TEST_F(OkxSim, AMalformedAndAnOversizedFrameArriveOnce) {
  start([&](obr::sim::SimConfig& c) {
    c.faults = {fault("malformed@msg=10,venue=okx"), fault("oversized@msg=30,venue=okx")};
  });
  auto ws = subscribed("books", "BTC-USDT-SWAP");
  int malformed = 0, oversized = 0;
  std::vector<Msg> msgs;
  while (msgs.size() < 60) {
    const auto m = ws->read();
    ASSERT_TRUE(m) << ws->error.message();
    if (!m->starts_with("{")) ++malformed;
    if (m->size() > (std::size_t{8} << 20)) ++oversized;
    if (auto b = parse_msg(*m)) msgs.push_back(std::move(*b));
  }
  EXPECT_EQ(malformed, 1);
  EXPECT_EQ(oversized, 1);
  EXPECT_TRUE(breaks(msgs).empty());
  stop_loop();
  EXPECT_GE(sim_->stats().venues.at("okx").book_messages, 60u);
  EXPECT_GE(sim_->stats().venues.at("okx").snapshots_served, 1u);
}

}  // namespace
