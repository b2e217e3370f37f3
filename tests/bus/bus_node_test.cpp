// tests/bus/bus_node_test.cpp — the publisher (docs/bus.md "The publisher") against a real
// nats-server, its books driven by the test on the engine's thread:
// - its hot path allocates nothing once warm: BusNode::on_book, a change of one of 100
//   books (view diff, encode, publish, a snapshot every 50 changes into the books bucket),
//   counted on the engine's thread. The NATS client is C: its own mallocs are not
//   operator new and are not counted here; it writes into a buffer it keeps;
// - its /metrics lines (BusNode::metrics) say what it published;
// - a book deeper than a view holds is published as its top kMaxViewLevels a side, and no
//   message exceeds kMaxMessageBytes (docs/bus.md "Size").
#include "engine/bus/bus_node.h"

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "book/order_book.h"
#include "connectors/net/event_loop.h"
#include "engine/bus/nats_client.h"
#include "engine/bus/wire.h"
#include "tests/common/alloc_counter.h"
#include "tools/cluster/nats_server.h"

namespace {

using namespace obr;

constexpr int kBooks = 100;

class BusNodeWorld : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!tools::NatsServer::on_path()) GTEST_SKIP() << "nats-server is not installed";
    const std::string dir = absl::StrCat(::testing::TempDir(), "obr-bus-node-", ::getpid());
    std::filesystem::create_directories(dir);
    tools::NatsServerOptions so;
    so.store_dir = dir;
    server_ = std::make_unique<tools::NatsServer>(so);
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;

    bus::BusNodeSettings s;
    s.nats.servers = {server_->url()};
    s.engine_id = "node-test";
    s.shards = 4;
    s.lease_settle_ns = 1;
    s.snapshot_every_changes = 50;  // snapshots inside the counted window too
    for (int i = 0; i < kBooks; ++i) symbols_.push_back(absl::StrCat("A", i, "/USD"));
    s.universe = {{"kraken", symbols_}};
    auto node = bus::BusNode::create(s);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = std::move(*node);
    engine::EngineConfig ec;
    ec.venue("kraken").endpoints = {"ws://127.0.0.1:1/v2"};  // refuses: the books are the test's
    ec.backoff.base_ns = 1'000'000'000;
    ec.backoff.cap_ns = 10'000'000'000;
    engine_ = std::make_unique<engine::Engine>(ec, node_.get());
    engine_->start();
    ASSERT_TRUE(node_->attach(*engine_).ok());
    std::size_t held = 0;
    for (int i = 0; i < 250 && held < 4; ++i) {
      on_loop([&] { held = node_->shards_held().size(); });
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(held, 4u) << "the leases were not taken";
    for (int i = 0; i < kBooks; ++i) {
      auto b = std::make_unique<book::OrderBook>(book::BookConfig{.price_scale = 1, .qty_scale = 8});
      for (int l = 0; l < 10; ++l) {
        b->apply(book::Side::kBid, 500000 - l, 100000 + l);
        b->apply(book::Side::kAsk, 500001 + l, 100000 + l);
      }
      b->set_state(book::BookState::kLive);
      books_.push_back(std::move(b));
    }
  }
  void TearDown() override {
    if (engine_) {
      on_loop([&] { node_->stop(); });
      engine_->stop();
    }
  }
  template <class F>
  void on_loop(F f) {
    std::promise<void> done;
    engine_->loop().post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  // change: on the engine's thread, one level of the next book, then the node's callback.
  void change() {
    const std::size_t k = step_ % kBooks;
    const auto level = static_cast<std::int64_t>((step_ / kBooks) % 10);
    books_[k]->apply(book::Side::kBid, 500000 - level, 100000 + static_cast<std::int64_t>(step_ % 977));
    node_->on_book("kraken", symbols_[k], *books_[k], level == 0, 0);
    ++step_;
  }

  std::unique_ptr<tools::NatsServer> server_;
  std::vector<std::string> symbols_;
  std::unique_ptr<bus::BusNode> node_;
  std::unique_ptr<engine::Engine> engine_;
  std::vector<std::unique_ptr<book::OrderBook>> books_;
  std::uint64_t step_ = 0;
};

TEST_F(BusNodeWorld, OnBookAllocatesNothingOnceWarm) {
  std::uint64_t allocations = 0;
  on_loop([&] {
    for (int i = 0; i < 20'000; ++i) change();  // warm: views, scratch, subjects
    const obr::testing::ThreadAllocationScope scope;
    for (int i = 0; i < 20'000; ++i) change();
    allocations = scope.allocations();
  });
  bus::BusStats stats;
  on_loop([&] { stats = node_->stats(); });
  EXPECT_EQ(allocations, 0u);
  // 200 views: the shard's start publishes each book's epoch-first view from the engine's
  // own book (empty: its venue refuses), and each book's first call here a view again (the
  // test's book, other scales). Of the other 39 900 calls, one sets a quantity its level
  // already had (no difference: nothing published), 39 899 are changes.
  EXPECT_EQ(stats.views, 200u);
  EXPECT_EQ(stats.changes, 39'899u);
  EXPECT_GE(stats.snapshots, 40'000u / 50);
  EXPECT_EQ(stats.publish_failures, 0u);
}

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_of(const std::string& text, absl::string_view prefix) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, prefix)) out.emplace_back(line);
  }
  return out;
}

TEST_F(BusNodeWorld, MetricsSayWhatWasPublished) {
  on_loop([&] {
    for (int i = 0; i < 1'000; ++i) change();
  });
  std::string text;
  bus::BusStats stats;
  on_loop([&] {
    text = node_->metrics();
    stats = node_->stats();
  });
  // 200 views (as in OnBookAllocatesNothingOnceWarm); of the other 900 calls, one (step 986)
  // sets the quantity its level already had, 899 are changes. The states are the engine's
  // own (its books' connection to the refused endpoint), as many as its attempts.
  EXPECT_EQ(lines_of(text, "obr_bus_messages_total{"),
            (std::vector<std::string>{"obr_bus_messages_total{type=\"change\"} 899",
                                      absl::StrCat("obr_bus_messages_total{type=\"state\"} ", stats.states),
                                      "obr_bus_messages_total{type=\"view\"} 200"}));
  EXPECT_EQ(lines_of(text, "obr_bus_shards_held "), std::vector<std::string>{"obr_bus_shards_held 4"});
  EXPECT_EQ(lines_of(text, "obr_bus_nats_connected "), std::vector<std::string>{"obr_bus_nats_connected 1"});
  EXPECT_EQ(lines_of(text, "obr_bus_lease_events_total{event=\"acquired\"} "),
            std::vector<std::string>{"obr_bus_lease_events_total{event=\"acquired\"} 4"});
  EXPECT_EQ(lines_of(text, "obr_bus_publish_failures_total "),
            std::vector<std::string>{"obr_bus_publish_failures_total 0"});
  EXPECT_EQ(lines_of(text, "obr_bus_bytes_total "),
            std::vector<std::string>{absl::StrCat("obr_bus_bytes_total ", stats.bytes)});
  EXPECT_GT(stats.bytes, 0u);
  // Every sample's family is declared once, with its HELP and TYPE, before its samples.
  EXPECT_EQ(lines_of(text, "# TYPE ").size(), 13u);
  EXPECT_EQ(lines_of(text, "# HELP ").size(), 13u);
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line.front() == '#') continue;
    const std::string family(line.substr(0, line.find_first_of("{ ")));
    EXPECT_NE(text.find("# TYPE " + family + " "), std::string::npos) << line;
    EXPECT_LT(text.find("# TYPE " + family + " "), text.find("\n" + std::string(line) + "\n")) << line;
  }
}

TEST_F(BusNodeWorld, ADeepBookIsBoundedAndNoMessageExceedsTheLimit) {
  static_assert(bus::kMaxMessageBytes < 1024 * 1024, "under nats-server's default max_payload (1 MiB)");
  // Every message of book A0, as a consumer sees it.
  bus::NatsSettings ns;
  ns.servers = {server_->url()};
  auto c = bus::NatsConnection::connect(ns);
  ASSERT_TRUE(c.ok()) << c.status();
  std::mutex mu;
  std::vector<std::string> seen;
  bus::Subjects subjects;
  auto sub = (*c)->subscribe(subjects.changes("kraken", symbols_[0]), [&](const bus::Delivery& d) {
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(d.data);
  });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE((*c)->flush(5'000'000'000).ok());
  // 20 000 levels a side, then every one of them changed.
  constexpr std::int64_t kDepth = 20'000;
  book::OrderBook& deep = *books_[0];
  for (std::int64_t l = 0; l < kDepth; ++l) {
    deep.apply(book::Side::kBid, 500000 - l, 7 + l);
    deep.apply(book::Side::kAsk, 500001 + l, 7 + l);
  }
  on_loop([&] { node_->on_book("kraken", symbols_[0], deep, true, 0); });
  for (std::int64_t l = 0; l < kDepth; ++l) {
    deep.apply(book::Side::kBid, 500000 - l, 8 + l);
    deep.apply(book::Side::kAsk, 500001 + l, 8 + l);
  }
  on_loop([&] { node_->on_book("kraken", symbols_[0], deep, true, 0); });
  ASSERT_TRUE(node_->connected());
  for (int i = 0; i < 1000; ++i) {  // at most 10 s (a TSan build is slow)
    {
      std::lock_guard<std::mutex> lock(mu);
      if (seen.size() >= 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  sub->reset();
  // The view, bounded (new scales: the epoch's first view, at the shard's start, was of the
  // engine's own, empty book), then the change of every level in it.
  bus::BusStats stats;
  on_loop([&] { stats = node_->stats(); });
  EXPECT_EQ(stats.publish_failures, 0u);
  ASSERT_EQ(seen.size(), 2u);
  std::vector<std::pair<bus::MessageType, std::size_t>> shape;
  for (const std::string& m : seen) {
    EXPECT_LE(m.size(), bus::kMaxMessageBytes);
    bus::DecodedMessage d;
    std::string error;
    ASSERT_TRUE(bus::decode(m, d, error)) << error;
    EXPECT_EQ(d.bids(), d.asks());
    shape.emplace_back(d.header.type, d.bids());
    if (d.bids() == bus::kMaxViewLevels) {
      EXPECT_EQ(d.bid(0).price, 500000);  // the best, then in order: the top 16 384
      EXPECT_EQ(d.bid(bus::kMaxViewLevels - 1).price, 500000 - static_cast<std::int64_t>(bus::kMaxViewLevels) + 1);
      EXPECT_EQ(d.ask(bus::kMaxViewLevels - 1).price, 500001 + static_cast<std::int64_t>(bus::kMaxViewLevels) - 1);
    }
  }
  EXPECT_EQ(shape,
            (std::vector<std::pair<bus::MessageType, std::size_t>>{{bus::MessageType::kView, bus::kMaxViewLevels},
                                                                   {bus::MessageType::kChange, bus::kMaxViewLevels}}));
  EXPECT_EQ(seen[1].size(), bus::kMaxMessageBytes);  // a whole view's worth: the largest message
}

}  // namespace
