// The service's config file (`obr run`): the engine's keys as before, each section's keys
// where they belong, and every bound and unknown key refused naming the file and key path.
#include "engine/service_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/config_file.h"
#include "tests/book/test_data.h"

namespace obr::engine {
namespace {

// with: a file with one kraken book and BTC/USD plus `sections` (JSON members, or empty).
std::string with(const std::string& sections) {
  return R"({"kraken": {"symbols": ["BTC/USD", "ETH/USD"]}, "kucoin": {"symbols": ["BTC-USDT"]})" +
         (sections.empty() ? std::string() : ", " + sections) + "}";
}

TEST(ServiceConfig, EngineOnlyFileHasNoSections) {
  const auto c = parse_service_config_json(with(""), "s.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->record.has_value());
  EXPECT_FALSE(c->deadman.has_value());
  EXPECT_FALSE(c->bus.has_value());
  ASSERT_EQ(c->engine.venues.size(), 2u);
  EXPECT_EQ(c->engine.venues[0].symbols, (std::vector<std::string>{"BTC/USD", "ETH/USD"}));
}

TEST(ServiceConfig, RecordSection) {
  const auto c = parse_service_config_json(
      with(R"("record": {"path": "/var/lib/obr/run.obr.gz", "rotate_mb": 256, "rotate_every_ms": 3600000})"), "s.json");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->record.has_value());
  EXPECT_EQ(c->record->path, "/var/lib/obr/run.obr.gz");
  EXPECT_EQ(c->record->rotate_bytes, 256'000'000u);  // MB: 10^6 bytes, as obr record --rotate-mb
  EXPECT_EQ(c->record->rotate_every_ns, 3'600'000'000'000);
  const auto bare = parse_service_config_json(with(R"("record": {"path": "r.obr.zst"})"), "s.json");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->record->rotate_bytes, 0u);
  EXPECT_EQ(bare->record->rotate_every_ns, 0);
}

TEST(ServiceConfig, DeadmanSection) {
  const auto c = parse_service_config_json(
      with(R"("deadman": {"url": "https://monitor.example/ping/abc", "interval_ms": 10000, "method": "POST",
                          "books": ["kraken:BTC/USD", "kucoin:BTC-USDT"]})"),
      "s.json");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->deadman.has_value());
  EXPECT_EQ(c->deadman->url, "https://monitor.example/ping/abc");
  EXPECT_EQ(c->deadman->interval_ns, 10'000'000'000);
  EXPECT_EQ(c->deadman->method, "POST");
  const std::vector<std::pair<std::string, std::string>> books = {{"kraken", "BTC/USD"}, {"kucoin", "BTC-USDT"}};
  EXPECT_EQ(c->deadman->books, books);
  const auto bare =
      parse_service_config_json(with(R"("deadman": {"url": "http://127.0.0.1:8080/", "interval_ms": 100})"), "s.json");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->deadman->method, "GET");
  EXPECT_TRUE(bare->deadman->books.empty());  // every book
  EXPECT_EQ(bare->deadman->interval_ns, 100'000'000);
}

TEST(ServiceConfig, BusSection) {
  const auto c = parse_service_config_json(
      with(R"("bus": {"nats": ["nats://127.0.0.1:4222", "tls://nats.example:4443"], "engine_id": "e1_a-2",
                      "shards": 4096, "lease_ttl_ms": 1000, "snapshot_every_changes": 250, "snapshot_every_ms": 2000,
                      "heartbeat_ms": 50, "books_bucket": "bk", "leases_bucket": "ls", "subject_prefix": "md.obr",
                      "replicas": 5})"),
      "s.json");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->bus.has_value());
  const BusSettings& b = *c->bus;
  EXPECT_EQ(b.nats, (std::vector<std::string>{"nats://127.0.0.1:4222", "tls://nats.example:4443"}));
  EXPECT_EQ(b.engine_id, "e1_a-2");
  EXPECT_EQ(b.shards, 4096);
  EXPECT_EQ(b.lease_ttl_ns, 1'000'000'000);
  EXPECT_EQ(b.snapshot_every_changes, 250u);
  EXPECT_EQ(b.snapshot_every_ns, 2'000'000'000);
  EXPECT_EQ(b.heartbeat_ns, 50'000'000);
  EXPECT_EQ(b.books_bucket, "bk");
  EXPECT_EQ(b.leases_bucket, "ls");
  EXPECT_EQ(b.subject_prefix, "md.obr");
  EXPECT_EQ(b.replicas, 5);
  // Only the required keys: the struct's defaults.
  const auto bare =
      parse_service_config_json(with(R"("bus": {"nats": ["nats://127.0.0.1:4222"], "engine_id": "e1"})"), "s.json");
  ASSERT_TRUE(bare.ok()) << bare.status();
  const BusSettings d;
  EXPECT_EQ(bare->bus->shards, d.shards);
  EXPECT_EQ(bare->bus->shards, 16);
  EXPECT_EQ(bare->bus->lease_ttl_ns, 3'000'000'000);
  EXPECT_EQ(bare->bus->heartbeat_ns, 500'000'000);
  EXPECT_EQ(bare->bus->snapshot_every_changes, 1000u);
  EXPECT_EQ(bare->bus->snapshot_every_ns, 1'000'000'000);
  EXPECT_EQ(bare->bus->books_bucket, "obr_books");
  EXPECT_EQ(bare->bus->leases_bucket, "obr_leases");
  EXPECT_EQ(bare->bus->subject_prefix, "obr");
  EXPECT_EQ(bare->bus->replicas, 1);
}

TEST(ServiceConfig, MistakesNameTheFileAndTheKey) {
  const std::string nats = R"("nats": ["nats://127.0.0.1:4222"], "engine_id": "e1")";
  const std::pair<std::string, std::string> cases[] = {
      // record
      {R"("record": {"path": "r.obr.gz", "rotate_md": 1})",
       "s.json: record.rotate_md: unknown key (expected path, rotate_mb, rotate_every_ms)"},
      {R"("record": {"rotate_mb": 1})", "s.json: record: needs path (the recording to write)"},
      {R"("record": {"path": ""})", "s.json: record.path: an empty string"},
      {R"("record": {"path": "r", "rotate_mb": -1})", "s.json: record.rotate_mb: out of range (0 to 1048576)"},
      {R"("record": {"path": "r", "rotate_mb": 1048577})", "s.json: record.rotate_mb: out of range (0 to 1048576)"},
      {R"("record": {"path": "r", "rotate_every_ms": 999})",
       "s.json: record.rotate_every_ms: out of range (0 for no rotation by time, or 1000 to 86400000)"},
      {R"("record": {"path": "r", "rotate_every_ms": 86400001})",
       "s.json: record.rotate_every_ms: out of range (0 for no rotation by time, or 1000 to 86400000)"},
      {R"("record": "r.obr.gz")", "s.json: record: expected an object"},
      {R"("record": {"path": "a"}, "record": {"path": "b"})", "s.json: record: given twice"},
      // deadman
      {R"("deadman": {"url": "http://h/", "interval_ms": 1000, "verb": "GET"})",
       "s.json: deadman.verb: unknown key (expected url, interval_ms, method, books)"},
      {R"("deadman": {"interval_ms": 1000})", "s.json: deadman: needs url (where the requests go)"},
      {R"("deadman": {"url": "http://h/"})", "s.json: deadman: needs interval_ms (how often a request goes)"},
      {R"("deadman": {"url": "ftp://h/", "interval_ms": 1000})",
       "s.json: deadman.url: 'ftp://h/' is not an http:// or https:// URL with a host"},
      {R"("deadman": {"url": "https:///ping", "interval_ms": 1000})",
       "s.json: deadman.url: 'https:///ping' is not an http:// or https:// URL with a host"},
      {R"("deadman": {"url": "http://h/", "interval_ms": 99})",
       "s.json: deadman.interval_ms: out of range (100 to 86400000)"},
      {R"("deadman": {"url": "http://h/", "interval_ms": 1000, "method": "PUT"})",
       "s.json: deadman.method: 'PUT' is not GET or POST"},
      {R"("deadman": {"url": "http://h/", "interval_ms": 1000, "books": []})",
       "s.json: deadman.books: an empty list (leave the key out to cover every book)"},
      {R"("deadman": {"url": "http://h/", "interval_ms": 1000, "books": ["kraken:BTC/USD", "BTCUSD"]})",
       "s.json: deadman.books[1]: 'BTCUSD' is not VENUE:SYMBOL (e.g. kraken:BTC/USD)"},
      {R"("deadman": {"url": "http://h/", "interval_ms": 1000, "books": ["kraken:BTC/USD", "kraken:XRP/USD"]})",
       "s.json: deadman.books[1]: 'kraken:XRP/USD' is not a book of this file (kraken.symbols)"},
      {R"("deadman": {"url": "http://h/", "interval_ms": 1000, "books": ["okx:BTC-USDT"]})",
       "s.json: deadman.books[0]: 'okx:BTC-USDT' is not a book of this file (no okx section)"},
      // bus
      {R"("bus": {"nats": ["nats://h:4222"], "engine_id": "e1", "shard": 4})",
       "s.json: bus.shard: unknown key (expected nats, engine_id, shards, lease_ttl_ms, snapshot_every_changes, "
       "snapshot_every_ms, heartbeat_ms, books_bucket, leases_bucket, subject_prefix, replicas, writes)"},
      {R"("bus": {"engine_id": "e1"})", "s.json: bus: needs nats (the NATS server URLs)"},
      {R"("bus": {"nats": ["nats://h:4222"]})", "s.json: bus: needs engine_id (this process's name among the engines)"},
      {R"("bus": {"nats": [], "engine_id": "e1"})", "s.json: bus.nats: at least one server URL (nats://HOST:PORT)"},
      {R"("bus": {"nats": ["nats://h:4222", "http://h:4222"], "engine_id": "e1"})",
       "s.json: bus.nats[1]: 'http://h:4222' is not a nats:// or tls:// URL with a host"},
      {R"("bus": {"nats": ["nats://:4222"], "engine_id": "e1"})",
       "s.json: bus.nats[0]: 'nats://:4222' is not a nats:// or tls:// URL with a host"},
      {R"("bus": {"nats": ["nats://h"], "engine_id": "e 1"})",
       "s.json: bus.engine_id: 'e 1' is not 1 to 64 of A-Z a-z 0-9 _ -"},
      {R"("bus": {"nats": ["nats://h"], "engine_id": ""})",
       "s.json: bus.engine_id: '' is not 1 to 64 of A-Z a-z 0-9 _ -"},
      {"\"bus\": {" + nats + ", \"shards\": 0}", "s.json: bus.shards: out of range (1 to 4096)"},
      {"\"bus\": {" + nats + ", \"shards\": 4097}", "s.json: bus.shards: out of range (1 to 4096)"},
      {"\"bus\": {" + nats + ", \"lease_ttl_ms\": 999}", "s.json: bus.lease_ttl_ms: out of range (1000 to 86400000)"},
      {"\"bus\": {" + nats + ", \"heartbeat_ms\": 49}", "s.json: bus.heartbeat_ms: out of range (50 to 86400000)"},
      {"\"bus\": {" + nats + ", \"heartbeat_ms\": 3000}",
       "s.json: bus.heartbeat_ms: bus.heartbeat_ms (3000) must be below bus.lease_ttl_ms (3000): a lease is renewed "
       "every heartbeat"},
      {"\"bus\": {" + nats + ", \"lease_ttl_ms\": 1000, \"heartbeat_ms\": 1500}",
       "s.json: bus.heartbeat_ms: bus.heartbeat_ms (1500) must be below bus.lease_ttl_ms (1000): a lease is renewed "
       "every heartbeat"},
      {"\"bus\": {" + nats + ", \"lease_ttl_ms\": 1000, \"heartbeat_ms\": 500, \"heartbeat_ms\": 1000}",
       "s.json: bus.heartbeat_ms: bus.heartbeat_ms (1000) must be below bus.lease_ttl_ms (1000): a lease is renewed "
       "every heartbeat"},
      {"\"bus\": {" + nats + ", \"replicas\": 0}", "s.json: bus.replicas: out of range (1 to 5)"},
      {"\"bus\": {" + nats + ", \"replicas\": 6}", "s.json: bus.replicas: out of range (1 to 5)"},
      {"\"bus\": {" + nats + ", \"snapshot_every_changes\": 0}",
       "s.json: bus.snapshot_every_changes: out of range (1 to 1000000000)"},
      {"\"bus\": {" + nats + ", \"snapshot_every_ms\": 99}",
       "s.json: bus.snapshot_every_ms: out of range (100 to 86400000)"},
      {"\"bus\": {" + nats + ", \"books_bucket\": \"obr.books\"}",
       "s.json: bus.books_bucket: 'obr.books' is not 1 to 64 of A-Z a-z 0-9 _ -"},
      {"\"bus\": {" + nats + ", \"leases_bucket\": \"a/b\"}",
       "s.json: bus.leases_bucket: 'a/b' is not 1 to 64 of A-Z a-z 0-9 _ -"},
      {"\"bus\": {" + nats + ", \"subject_prefix\": \"obr..md\"}",
       "s.json: bus.subject_prefix: 'obr..md' is not 1 to 64 characters of tokens of A-Z a-z 0-9 _ - joined by '.'"},
      {"\"bus\": {" + nats + ", \"subject_prefix\": \"obr.*\"}",
       "s.json: bus.subject_prefix: 'obr.*' is not 1 to 64 characters of tokens of A-Z a-z 0-9 _ - joined by '.'"},
      // The engine's keys keep their own errors, and an unknown top-level key lists the sections.
      {R"("watchdog_ms": 5)", "s.json: watchdog_ms: out of range (100 to 86400000)"},
      {R"("dead_man": {})",
       "s.json: dead_man: unknown key (expected a venue (kraken, kraken-v1, kucoin, binance-usdm, binance, "
       "bybit-spot, bybit-linear, bybit-inverse, okx), tls, backoff, watchdog_ms, ping_interval_ms, "
       "rotate_after_ms, rotate_timeout_ms, max_message_bytes, snapshot_rate_per_s, snapshot_burst, consolidated, "
       "http_listen, record, deadman, bus)"},
  };
  for (const auto& [sections, error] : cases) {
    const auto c = parse_service_config_json(with(sections), "s.json");
    ASSERT_FALSE(c.ok()) << sections;
    EXPECT_EQ(c.status().message(), error) << sections;
  }
}

// The engine's own file (obr record, obr watch) knows no service section: a "deadman"
// there is refused, not silently dropped.
TEST(ServiceConfig, EngineFileRefusesTheSections) {
  for (const char* section : {"record", "deadman", "bus"}) {
    const auto c = parse_config_json(with(std::string("\"") + section + "\": {}"), "e.json");
    ASSERT_FALSE(c.ok()) << section;
    const std::string prefix = std::string("e.json: ") + section + ": unknown key (expected a venue (";
    EXPECT_EQ(std::string(c.status().message()).rfind(prefix, 0), 0u) << c.status();
  }
}

TEST(ServiceConfig, LoadsAFileWithComments) {
  const std::string path = ::testing::TempDir() + "obr-service-config-test.json";
  {
    std::ofstream out(path);
    out << "// a service\n{\"kraken\": {\"symbols\": [\"BTC/USD\"]},  /* the monitor */\n"
           " \"deadman\": {\"url\": \"http://127.0.0.1:9/p\", \"interval_ms\": 500}}\n";
  }
  const auto c = load_service_config(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->deadman->url, "http://127.0.0.1:9/p");
  EXPECT_EQ(c->deadman->interval_ns, 500'000'000);
  EXPECT_EQ(load_service_config("/nonexistent/obr.json").status().message(),
            "/nonexistent/obr.json: cannot open the config file");
}

// Every example config loads as a service config (the engine's files have no section), and
// examples/configs/service.json has the sections its comments describe.
TEST(ServiceConfig, EveryExampleConfigLoads) {
  const std::filesystem::path dir = obr::testing::data_path("../../examples/configs");
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++n;
    const auto c = load_service_config(entry.path().string());
    EXPECT_TRUE(c.ok()) << entry.path() << ": " << c.status();
  }
  EXPECT_EQ(n, 4u);
  const auto s = load_service_config((dir / "service.json").string());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->record.has_value());
  EXPECT_EQ(s->record->path, "/tmp/obr-service.obr.gz");
  EXPECT_EQ(s->record->rotate_bytes, 256'000'000u);
  EXPECT_EQ(s->record->rotate_every_ns, 3'600'000'000'000);
  ASSERT_TRUE(s->deadman.has_value());
  EXPECT_EQ(s->deadman->interval_ns, 10'000'000'000);
  EXPECT_EQ(s->deadman->books.size(), 2u);
  EXPECT_FALSE(s->bus.has_value());
  EXPECT_EQ(s->engine.http_listen, "127.0.0.1:9100");
}

}  // namespace
}  // namespace obr::engine
