// Engine configuration files: every key lands where it should, and every mistake is
// named with the file and the key path.
#include "engine/config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tests/book/test_data.h"

namespace obr::engine {
namespace {

TEST(ConfigFile, EveryKeyIsRead) {
  ::setenv("OBR_TEST_KC_KEY", "k", 1);
  ::setenv("OBR_TEST_KC_SECRET", "s", 1);
  ::setenv("OBR_TEST_KC_PASS", "p", 1);
  const auto c = parse_config_json(R"({
    "kraken": {"symbols": ["BTC/USD", "ETH/USD"], "depth": 25, "endpoints": ["wss://a/v2", "wss://b/v2"]},
    "kucoin": {"symbols": ["BTC-USDT"], "rest_base": "https://127.0.0.1:9",
               "credentials_env": {"key": "OBR_TEST_KC_KEY", "secret": "OBR_TEST_KC_SECRET", "passphrase": "OBR_TEST_KC_PASS"}},
    "tls": {"verify_peer": true, "ca_file": "/tmp/ca.pem"},
    "backoff": {"base_ms": 100, "cap_ms": 2000, "stable_ms": 30000},
    "watchdog_ms": 3000, "ping_interval_ms": 1000, "max_message_bytes": 65536,
    "rotate_after_ms": 7200000, "rotate_timeout_ms": 120000,
    "snapshot_rate_per_s": 2.5, "snapshot_burst": 4,
    "consolidated": {"BTC-USD": ["kraken:BTC/USD", "kucoin:BTC-USDT"]},
    "http_listen": "127.0.0.1:9100"
  })",
                                   "t.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->find_venue("kraken")->symbols, (std::vector<std::string>{"BTC/USD", "ETH/USD"}));
  EXPECT_EQ(c->find_venue("kraken")->depth, 25);
  EXPECT_EQ(c->find_venue("kraken")->endpoints, (std::vector<std::string>{"wss://a/v2", "wss://b/v2"}));
  EXPECT_EQ(c->find_venue("kucoin")->symbols, (std::vector<std::string>{"BTC-USDT"}));
  EXPECT_EQ(c->find_venue("kucoin")->rest_base, "https://127.0.0.1:9");
  EXPECT_EQ(c->find_venue("kucoin")->credentials.key, "k");
  EXPECT_EQ(c->find_venue("kucoin")->credentials.secret, "s");
  EXPECT_EQ(c->find_venue("kucoin")->credentials.passphrase, "p");
  EXPECT_TRUE(c->tls.verify_peer);
  EXPECT_EQ(c->tls.ca_file, "/tmp/ca.pem");
  EXPECT_EQ(c->backoff.base_ns, 100'000'000);
  EXPECT_EQ(c->backoff.cap_ns, 2'000'000'000);
  EXPECT_EQ(c->backoff.stable_ns, 30'000'000'000);
  EXPECT_EQ(c->watchdog_ns, 3'000'000'000);
  EXPECT_EQ(c->ping_interval_ns, 1'000'000'000);
  EXPECT_EQ(c->rotate_after_ns, 7'200'000'000'000);
  EXPECT_EQ(c->rotate_timeout_ns, 120'000'000'000);
  EXPECT_EQ(c->max_message_bytes, 65536u);
  EXPECT_EQ(c->snapshot_rate_per_s, 2.5);
  EXPECT_EQ(c->snapshot_burst, 4.0);
  ASSERT_EQ(c->consolidated.size(), 1u);
  EXPECT_EQ(c->consolidated[0].name, "BTC-USD");
  ASSERT_EQ(c->consolidated[0].books.size(), 2u);
  EXPECT_EQ(c->consolidated[0].books[1].venue, "kucoin");
  EXPECT_EQ(c->consolidated[0].books[1].symbol, "BTC-USDT");
  EXPECT_EQ(c->http_listen, "127.0.0.1:9100");
}

TEST(ConfigFile, DefaultsForWhatIsNotSaid) {
  const auto c = parse_config_json(R"({"kraken": {"symbols": ["BTC/USD"]}})", "t.json");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->venues.size(), 1u);
  EXPECT_EQ(c->venues[0].venue, "kraken");
  EXPECT_EQ(c->venues[0].depth, 0);             // the venue's default (10) when the engine connects
  EXPECT_TRUE(c->venues[0].endpoints.empty());  // the venue's default endpoint
  EXPECT_EQ(c->find_venue("kucoin"), nullptr);
  EXPECT_TRUE(c->tls.verify_peer);
  EXPECT_TRUE(c->http_listen.empty());
}

TEST(ConfigFile, MistakesNameTheFileAndTheKey) {
  ::unsetenv("OBR_TEST_UNSET_VAR");
  const std::pair<const char*, const char*> cases[] = {
      {"[1]", "t.json: (top level): expected an object"},
      {"{", "t.json: not valid JSON"},
      {R"({"kraken": {"symbols": ["BTC/USD"], "dept": 10}})",
       "t.json: kraken.dept: unknown key (expected symbols, depth, endpoints, rest_base, credentials_env)"},
      {R"({"kraken": {"symbols": ["BTC/USD"], "depth": 20}})",
       "t.json: engine config: kraken.depth = 20 is not a depth kraken offers: 10, 25, 100, 500 or 1000"},
      {R"({"kraken": {"symbols": ["BTC/USD"], "depth": "10"}})", "t.json: kraken.depth: expected an integer"},
      {R"({"kraken": {"symbols": ["BTC/USD", 5]}})", "t.json: kraken.symbols[1]: expected a string"},
      {R"({"kraken": {"symbols": []}})",
       "t.json: no symbols: set VENUE.symbols for a venue (kraken, kraken-v1, kucoin, binance-usdm, binance, "
       "bybit-spot, bybit-linear, bybit-inverse, okx)"},
      {R"({"kucoin": {"symbols": ["X"], "credentials_env": {"key": "OBR_TEST_UNSET_VAR", "secret": "A", "passphrase": "B"}}})",
       "t.json: kucoin.credentials_env: environment variable OBR_TEST_UNSET_VAR is not set"},
      {R"({"kucoin": {"symbols": ["X"]}, "watchdog_ms": 5})", "t.json: watchdog_ms: out of range (100 to 86400000)"},
      {R"({"kucoin": {"symbols": ["X"]}, "consolidated": {"B": ["deribit:BTC-PERPETUAL"]}})",
       "t.json: consolidated.B: unknown venue 'deribit' (kraken, kraken-v1, kucoin, binance-usdm, binance, bybit-spot, "
       "bybit-linear, bybit-inverse, okx)"},
      {R"({"kucoin": {"symbols": ["X"]}, "consolidated": {"B": ["BTCUSDT"]}})",
       "t.json: consolidated.B: 'BTCUSDT' is not VENUE:SYMBOL (e.g. kraken:BTC/USD)"},
      {R"({"kucoin": {"symbols": ["X"]}, "tls": {"verify": false}})",
       "t.json: tls.verify: unknown key (expected verify_peer, ca_file)"},
      {R"({"kucoin": {"symbols": ["X"]}, "backoff": {"base_ms": 5000, "cap_ms": 100}})",
       "t.json: backoff.base_ms is above backoff.cap_ms"},
      {R"({"kucoin": {"symbols": ["X"]}, "tls": 5})", "t.json: tls: expected an object"},
      {R"({"kucoin": {"symbols": ["X"]}, "backoff": []})", "t.json: backoff: expected an object"},
      {R"({"kucoin": {"symbols": ["BTC USDT"]}})",
       "t.json: kucoin.symbols: 'BTC USDT' has a blank, comma or control character"},
      {R"({"kraken": {"symbols": ["BTC/USD", ""]}})", "t.json: kraken.symbols[1]: an empty string"},
      {R"({"kraken": {"symbols": ["A"]}, "max_message_bytes": 8388608})",
       "t.json: max_message_bytes: out of range (1024 to 4194304)"},
      {R"({"kucoin": {"symbols": ["X"]}, "snapshot_rate_per_s": 1e-12})",
       "t.json: snapshot_rate_per_s: out of range (0.01 to 1e+06)"},
      {R"({"kucoin": {"symbols": ["X"]}, "snapshot_burst": 0.5})", "t.json: snapshot_burst: out of range (1 to 1e+06)"},
      {R"({"kucoin": {"symbols": ["X"]}, "snapshot_burst": "2"})", "t.json: snapshot_burst: expected a number"},
      {R"({"kucoin": {"symbols": ["X"]}, "rotate_after_ms": 50})",
       "t.json: rotate_after_ms: out of range (0 for the venue's lifetime minus 1 h, or 100 to 86400000)"},
      {R"({"kucoin": {"symbols": ["X"]}, "rotate_after_ms": -1})",
       "t.json: rotate_after_ms: out of range (0 for the venue's lifetime minus 1 h, or 100 to 86400000)"},
      {R"({"kucoin": {"symbols": ["X"]}, "rotate_timeout_ms": 0})",
       "t.json: rotate_timeout_ms: out of range (100 to 86400000)"},
      {R"({"kucoin": {"symbols": ["X"]}, "colour": 1})",
       "t.json: colour: unknown key (expected a venue (kraken, kraken-v1, kucoin, binance-usdm, binance, bybit-spot, "
       "bybit-linear, bybit-inverse, okx), tls, "
       "backoff"},
  };
  for (const auto& [json, error] : cases) {
    const auto c = parse_config_json(json, "t.json");
    ASSERT_FALSE(c.ok()) << json;
    EXPECT_EQ(std::string(c.status().message()).substr(0, std::string(error).size()), error) << json;
  }
  EXPECT_EQ(load_config("/nonexistent/obr.json").status().message(),
            "/nonexistent/obr.json: cannot open the config file");
}

// An EngineConfig built in code is held to the same bounds as a file (check_config), and
// an Engine built from one that fails them connects nothing and says why.
// The file's messages and check_config's print numbers the same way: every digit a double
// needs to read back, and no more.
TEST(EngineConfigCheck, NumbersPrintAsTheShortestTextThatReadsBack) {
  EXPECT_EQ(number_text(0.01), "0.01");
  EXPECT_EQ(number_text(1e6), "1e+06");
  EXPECT_EQ(number_text(1), "1");
  EXPECT_EQ(number_text(0.1), "0.1");
  EXPECT_EQ(number_text(0.00999999999), "0.00999999999");
  EXPECT_EQ(number_text(2.5), "2.5");
  EXPECT_EQ(number_text(-0.125), "-0.125");
  EXPECT_EQ(number_text(std::nan("")), "nan");
  EXPECT_EQ(number_text(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(number_text(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
}

TEST(EngineConfigCheck, EveryBoundNamesItsField) {
  EXPECT_TRUE(check_config(EngineConfig{}).ok()) << check_config(EngineConfig{});
  const std::pair<std::function<void(EngineConfig&)>, const char*> cases[] = {
      {[](EngineConfig& c) { c.watchdog_ns = 0; },
       "engine config: watchdog_ns = 0 is out of range (100000000 to 86400000000000)"},
      {[](EngineConfig& c) { c.ping_interval_ns = 86'400'000'000'001; },
       "engine config: ping_interval_ns = 86400000000001 is out of range (100000000 to 86400000000000)"},
      {[](EngineConfig& c) { c.rotate_timeout_ns = 0; },
       "engine config: rotate_timeout_ns = 0 is out of range (100000000 to 86400000000000)"},
      {[](EngineConfig& c) { c.rotate_after_ns = 99'999'999; },
       "engine config: rotate_after_ns = 99999999 is out of range (0 for the venue's lifetime minus 3600000000000, or "
       "100000000 to 86400000000000)"},
      {[](EngineConfig& c) { c.rotate_after_ns = -1; },
       "engine config: rotate_after_ns = -1 is out of range (0 for the venue's lifetime minus 3600000000000, or "
       "100000000 to 86400000000000)"},
      {[](EngineConfig& c) { c.backoff.base_ns = 999'999; },
       "engine config: backoff.base_ns = 999999 is out of range (1000000 to 86400000000000)"},
      {[](EngineConfig& c) { c.backoff.cap_ns = -1; },
       "engine config: backoff.cap_ns = -1 is out of range (1000000 to 86400000000000)"},
      {[](EngineConfig& c) { c.backoff.stable_ns = 0; },
       "engine config: backoff.stable_ns = 0 is out of range (1000000 to 86400000000000)"},
      {[](EngineConfig& c) { c.backoff.base_ns = 3'000'000'000, c.backoff.cap_ns = 2'000'000'000; },
       "engine config: backoff.base_ns (3000000000) is above backoff.cap_ns (2000000000)"},
      {[](EngineConfig& c) { c.max_message_bytes = 1023; },
       "engine config: max_message_bytes = 1023 is out of range (1024 to 4194304)"},
      {[](EngineConfig& c) { c.max_message_bytes = ~std::size_t{0}; },
       "engine config: max_message_bytes = 18446744073709551615 is out of range (1024 to 4194304)"},
      {[](EngineConfig& c) { c.max_books = ~std::size_t{0}; },
       "engine config: max_books = 18446744073709551615 is out of range (1 to 65536)"},
      {[](EngineConfig& c) { c.max_books = 0; }, "engine config: max_books = 0 is out of range (1 to 65536)"},
      {[](EngineConfig& c) { c.max_books = 65537; }, "engine config: max_books = 65537 is out of range (1 to 65536)"},
      {[](EngineConfig& c) { c.snapshot_rate_per_s = 0; },
       "engine config: snapshot_rate_per_s = 0 is out of range (0.01 to 1e+06)"},
      {[](EngineConfig& c) { c.snapshot_rate_per_s = std::nan(""); },
       "engine config: snapshot_rate_per_s = nan is out of range (0.01 to 1e+06)"},
      {[](EngineConfig& c) { c.snapshot_burst = 0.5; },
       "engine config: snapshot_burst = 0.5 is out of range (1 to 1e+06)"},
      // Every digit a double needs to read back, not six.
      {[](EngineConfig& c) { c.snapshot_rate_per_s = 0.00999999999; },
       "engine config: snapshot_rate_per_s = 0.00999999999 is out of range (0.01 to 1e+06)"},
      {[](EngineConfig& c) { c.snapshot_burst = 1000000.25; },
       "engine config: snapshot_burst = 1000000.25 is out of range (1 to 1e+06)"},
      {[](EngineConfig& c) { c.venue("kraken").depth = 20; },
       "engine config: kraken.depth = 20 is not a depth kraken offers: 10, 25, 100, 500 or 1000"},
      {[](EngineConfig& c) {
         c.venue("kraken").symbols = {"BTC/USD", ""};
       },
       "engine config: kraken.symbols: '' is empty or has a blank, comma or control character"},
      {[](EngineConfig& c) { c.venue("kucoin").symbols = {"BTC,USDT"}; },
       "engine config: kucoin.symbols: 'BTC,USDT' is empty or has a blank, comma or control character"},
      {[](EngineConfig& c) {
         c.consolidated = {{"B", {{"deribit", "BTC-PERPETUAL"}}}};
       },
       "engine config: consolidated.B: unknown venue 'deribit' (kraken, kraken-v1, kucoin, binance-usdm, binance, "
       "bybit-spot, bybit-linear, bybit-inverse, okx)"},
  };
  for (const auto& [mutate, error] : cases) {
    EngineConfig c;
    mutate(c);
    const absl::Status st = check_config(c);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << error;
    EXPECT_EQ(st.message(), error);
  }
  // The edges themselves are in bounds.
  EngineConfig edges;
  edges.watchdog_ns = edges.ping_interval_ns = edges.rotate_after_ns = edges.rotate_timeout_ns = 100'000'000;
  edges.backoff.base_ns = edges.backoff.cap_ns = edges.backoff.stable_ns = 1'000'000;
  edges.max_message_bytes = 4u << 20;
  edges.max_books = 1;
  edges.snapshot_rate_per_s = 0.01;
  edges.snapshot_burst = 1;
  edges.venue("kraken").depth = 1000;
  EXPECT_TRUE(check_config(edges).ok()) << check_config(edges);
}

TEST(EngineConfigCheck, AnEngineFromABadConfigConnectsNothingAndSaysWhy) {
  struct Errors : Listener {
    std::vector<std::string> seen;
    void on_error(const EngineError& e) override { seen.push_back(to_string(e)); }
  } errors;
  EngineConfig c;
  c.venue("kraken").symbols = {"BTC/USD"};
  c.venue("kraken").endpoints = {"ws://127.0.0.1:9"};
  c.watchdog_ns = 5;
  Engine engine(c, &errors);
  const std::string why = "engine config: watchdog_ns = 5 is out of range (100000000 to 86400000000000)";
  EXPECT_EQ(engine.config_status().message(), why);
  std::size_t books = 0;
  engine.for_each_book([&](std::string_view, std::string_view, const book::OrderBook&) { ++books; });
  EXPECT_EQ(books, 0u);
  engine.connect();
  ASSERT_EQ(errors.seen.size(), 1u);
  EXPECT_EQ(errors.seen[0], "engine: " + why);
  const absl::Status sub = engine.subscribe("kraken", {"ETH/USD"});
  EXPECT_EQ(sub.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sub.message(), "subscribe: the engine's config is invalid: " + why);
  // subscribe holds symbols to check_config's rule (a control character included).
  Engine fine(EngineConfig{}, &errors);
  EXPECT_EQ(fine.subscribe("kraken", {"BTC\x01USD"}).message(),
            "subscribe: symbol 'BTC\x01USD' for kraken is empty or has a blank, comma or control character");
  // The book registry is sized only after the check: a max_books far out of bounds makes
  // an inert engine, not an allocation of it.
  EngineConfig huge;
  huge.max_books = ~std::size_t{0};
  Engine inert(huge, &errors);
  EXPECT_EQ(inert.config_status().message(),
            "engine config: max_books = 18446744073709551615 is out of range (1 to 65536)");
  // A file is held to the same check: its own bounds name the key first.
  EXPECT_EQ(parse_config_json(R"({"kraken": {"symbols": ["A"]}, "watchdog_ms": 99})", "t.json").status().message(),
            "t.json: watchdog_ms: out of range (100 to 86400000)");
}

// Comments are blanked outside strings only: a URL's "//" stays, line numbers stay.
TEST(ConfigFile, CommentsAreAllowedOutsideStrings) {
  const auto c = parse_config_json(R"(// a config
{
  "kraken": {"symbols": ["BTC/USD"], /* the pair */ "endpoints": ["wss://a.example/v2"]},  // one
  "http_listen": "127.0.0.1:0" /* a comment
  over two lines */
})",
                                   "t.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->find_venue("kraken")->endpoints, std::vector<std::string>{"wss://a.example/v2"});
  EXPECT_EQ(c->http_listen, "127.0.0.1:0");
  EXPECT_EQ(strip_json_comments("{\"a\":\"x//y\\\"//z\"} // c\n/* d\n*/"), "{\"a\":\"x//y\\\"//z\"}     \n    \n  ");
}

// Every example config in examples/configs loads (CI runs this on the files as shipped);
// service.json, with the service's sections, is obr run's (service_config_test).
TEST(ConfigFile, EveryExampleConfigLoads) {
  const std::filesystem::path dir = obr::testing::data_path("../../examples/configs");
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json" || entry.path().filename() == "service.json") continue;
    ++n;
    const auto c = load_config(entry.path().string());
    EXPECT_TRUE(c.ok()) << entry.path() << ": " << c.status();
  }
  EXPECT_EQ(n, 3u);
}

// What check_config holds the endpoints and the listen address to, and the CA file an
// Engine checks before connecting: each refused with the key and the value named.
TEST(EngineConfigCheck, EndpointsListenAddressAndCaFileAreCheckedBeforeConnecting) {
  EngineConfig c;
  c.venue("kraken").symbols = {"BTC/USD"};
  c.venue("kraken").endpoints = {"wss://ws.kraken.com/v2", "https://ws.kraken.com/v2"};
  EXPECT_EQ(check_config(c).message(),
            "engine config: kraken.endpoints[1]: 'https://ws.kraken.com/v2' is not a ws:// or wss:// URL with a host "
            "(and a port from 1 to 65535)");
  c.venue("kraken").endpoints = {"wss://:443/v2"};
  EXPECT_FALSE(check_config(c).ok());
  c.venue("kraken").endpoints = {};
  EXPECT_TRUE(check_config(c).ok());  // no endpoints: the venue's default
  c.venue("kucoin").endpoints = {"wss://x.example/"};
  EXPECT_EQ(check_config(c).message(),
            "engine config: kucoin.endpoints: 'wss://x.example/': kucoin's WebSocket endpoint comes from its REST "
            "base (an http:// or https:// URL)");
  c.venue("kucoin").endpoints = {};
  c.venue("kucoin").depth = 10;
  EXPECT_EQ(check_config(c).message(), "engine config: kucoin.depth = 10: kucoin has no depth to choose");
  c.venue("kucoin").depth = 0;
  c.venues.push_back(
      VenueConfig{.venue = "deribit", .symbols = {}, .depth = 0, .endpoints = {}, .rest_base = {}, .credentials = {}});
  EXPECT_EQ(check_config(c).message(),
            "engine config: venue 'deribit' is not one the engine knows (kraken, kraken-v1, kucoin, binance-usdm, "
            "binance, bybit-spot, bybit-linear, bybit-inverse, okx)");
  c.venues.pop_back();
  c.venue("kraken").endpoints = {"ws://127.0.0.1:8080/v2"};
  c.venue("kucoin").rest_base = "wss://api.kucoin.com";
  EXPECT_EQ(check_config(c).message(),
            "engine config: kucoin.rest_base: 'wss://api.kucoin.com' is not a http:// or https:// URL with a host "
            "(and a port from 1 to 65535)");
  c.venue("kucoin").rest_base = "https://api.kucoin.com:99999";
  EXPECT_FALSE(check_config(c).ok());
  c.venue("kucoin").rest_base = "https://api.kucoin.com";
  c.http_listen = "9100";
  EXPECT_EQ(check_config(c).message(),
            "engine config: http_listen: '9100' is not ADDRESS:PORT (e.g. 127.0.0.1:9100 or [::1]:9100)");
  c.http_listen = "[::1]:9100";
  EXPECT_TRUE(check_config(c).ok());
  c.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_TRUE(check_config(c).ok());  // files are checked by check_config_and_files
  EXPECT_EQ(check_config_and_files(c).message(),
            "engine config: tls.ca_file '/nonexistent/ca.pem': cannot open (No such file or directory)");
  c.tls.ca_file = obr::testing::data_path("kraken-v2/btcusd_d25.ndjson");  // a file, but no certificate
  EXPECT_EQ(check_config_and_files(c).message(),
            "engine config: tls.ca_file '" + c.tls.ca_file + "': holds no PEM certificate");
  Engine engine(c);  // inert: nothing connects, and it says why
  EXPECT_EQ(engine.config_status().message(), check_config_and_files(c).message());
}

}  // namespace
}  // namespace obr::engine
