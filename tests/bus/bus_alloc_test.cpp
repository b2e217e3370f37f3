// tests/bus/bus_alloc_test.cpp — the publisher's hot path allocates nothing once warm
// (docs/bus.md "The publisher"): BusNode::on_book, a change of one of 100 books (view diff,
// encode, publish to a real nats-server, a snapshot every 50 changes into the books
// bucket), counted on the engine's thread. The NATS client is C: its own mallocs are not
// operator new and are not counted here; it writes into a buffer it keeps.
#include <absl/strings/str_cat.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "book/order_book.h"
#include "connectors/net/event_loop.h"
#include "engine/bus/bus_node.h"
#include "tests/common/alloc_counter.h"
#include "tools/cluster/nats_server.h"

namespace {

using namespace obr;

constexpr int kBooks = 100;

TEST(BusHotPath, OnBookAllocatesNothingOnceWarm) {
  if (!tools::NatsServer::on_path()) GTEST_SKIP() << "nats-server is not installed";
  const std::string dir = absl::StrCat(::testing::TempDir(), "obr-bus-alloc-", ::getpid());
  std::filesystem::create_directories(dir);
  tools::NatsServerOptions so;
  so.store_dir = dir;
  tools::NatsServer server(so);
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;

  bus::BusNodeSettings s;
  s.nats.servers = {server.url()};
  s.engine_id = "alloc";
  s.shards = 4;
  s.lease_settle_ns = 1;
  s.snapshot_every_changes = 50;  // snapshots inside the counted window too
  std::vector<std::string> symbols;
  for (int i = 0; i < kBooks; ++i) symbols.push_back(absl::StrCat("A", i, "/USD"));
  s.universe = {{"kraken", symbols}};
  auto node = bus::BusNode::create(s);
  ASSERT_TRUE(node.ok()) << node.status();
  engine::EngineConfig ec;
  ec.venue("kraken").endpoints = {"ws://127.0.0.1:1/v2"};  // refuses: the books are the test's
  ec.backoff.base_ns = 1'000'000'000;
  ec.backoff.cap_ns = 10'000'000'000;
  engine::Engine engine(ec, node->get());
  engine.start();
  ASSERT_TRUE((*node)->attach(engine).ok());
  const auto on_loop = [&](auto f) {
    std::promise<void> done;
    engine.loop().post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  };
  std::size_t held = 0;
  for (int i = 0; i < 250 && held < 4; ++i) {
    on_loop([&] { held = (*node)->shards_held().size(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(held, 4u) << "the leases were not taken";

  std::vector<std::unique_ptr<book::OrderBook>> books;
  for (int i = 0; i < kBooks; ++i) {
    auto b = std::make_unique<book::OrderBook>(book::BookConfig{.price_scale = 1, .qty_scale = 8});
    for (int l = 0; l < 10; ++l) {
      b->apply(book::Side::kBid, 500000 - l, 100000 + l);
      b->apply(book::Side::kAsk, 500001 + l, 100000 + l);
    }
    b->set_state(book::BookState::kLive);
    books.push_back(std::move(b));
  }
  std::uint64_t step = 0;
  const auto change = [&] {
    const std::size_t k = step % kBooks;
    const auto level = static_cast<std::int64_t>((step / kBooks) % 10);
    books[k]->apply(book::Side::kBid, 500000 - level, 100000 + static_cast<std::int64_t>(step % 977));
    (*node)->on_book("kraken", symbols[k], *books[k], level == 0, 0);
    ++step;
  };
  std::uint64_t allocations = 0;
  on_loop([&] {
    for (int i = 0; i < 20'000; ++i) change();  // warm: views, scratch, subjects
    const obr::testing::ThreadAllocationScope scope;
    for (int i = 0; i < 20'000; ++i) change();
    allocations = scope.allocations();
  });
  bus::BusStats stats;
  on_loop([&] { stats = (*node)->stats(); });
  EXPECT_EQ(allocations, 0u);
  // 40 000 calls: each book's first publishes two views (the epoch's start, then the view
  // with the book's scales), one sets a quantity its level already had (no difference:
  // nothing published), the other 39 899 are changes.
  EXPECT_EQ(stats.views, 200u);
  EXPECT_EQ(stats.changes, 39'899u);
  EXPECT_GE(stats.snapshots, 40'000u / 50);
  EXPECT_EQ(stats.publish_failures, 0u);
  on_loop([&] { (*node)->stop(); });
  engine.stop();
}

}  // namespace
