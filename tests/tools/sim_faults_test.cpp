// tests/tools/sim_faults_test.cpp — the simulator's fault syntax and its errors, and when
// a scheduled fault may fire.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/net/http_client.h"
#include "tools/sim/faults.h"
#include "tools/sim/simulator.h"

namespace {

using obr::sim::FaultKind;
using obr::sim::load_faults;
using obr::sim::parse_fault;

TEST(FaultSpec, ParsesKindArgumentTriggerAndTarget) {
  std::string error;
  auto f = parse_fault("corrupt_checksum@t=2.5s,symbol=BTC/USD", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->kind, FaultKind::kCorruptChecksum);
  EXPECT_EQ(f->at_ns, 2'500'000'000);
  EXPECT_EQ(f->at_message, 0u);
  EXPECT_EQ(f->symbol, "BTC/USD");
  EXPECT_EQ(obr::sim::fault_venue(*f), "");  // kraken's and okx's: the symbol picks kraken

  f = parse_fault("stall=300ms@msg=500,venue=kucoin", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->kind, FaultKind::kStall);
  EXPECT_EQ(f->arg, 300'000'000);
  EXPECT_EQ(f->at_message, 500u);
  EXPECT_EQ(f->venue, "kucoin");

  f = parse_fault("close_code=4000", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->arg, 4000);
  EXPECT_EQ(f->at_ns, 0);
  EXPECT_EQ(obr::sim::fault_venue(*f), "");
  EXPECT_EQ(obr::sim::to_string(FaultKind::kStaleSnapshot), "stale_snapshot");
}

TEST(FaultSpec, NamesWhatIsWrong) {
  std::string error;
  EXPECT_FALSE(parse_fault("explode@t=1s", error));
  EXPECT_EQ(error, "fault 'explode@t=1s': unknown kind 'explode'");
  EXPECT_FALSE(parse_fault("drop@t=soon", error));
  EXPECT_EQ(error, "fault 'drop@t=soon': time 'soon' is not like 2s or 300ms");
  EXPECT_FALSE(parse_fault("drop@msg=-3", error));
  EXPECT_EQ(error, "fault 'drop@msg=-3': message count '-3' is not a whole number");
  EXPECT_FALSE(parse_fault("drop@at=3", error));
  EXPECT_EQ(error, "fault 'drop@at=3': trigger 'at=3' is not t=… or msg=…");
  EXPECT_FALSE(parse_fault("drop,venue=bitstamp", error));
  EXPECT_EQ(error,
            "fault 'drop,venue=bitstamp': venue 'bitstamp' is not kraken, kucoin, binance, binance-usdm, "
            "bybit-spot, bybit-linear, bybit-inverse or okx");
  EXPECT_FALSE(parse_fault("corrupt_checksum,venue=kucoin", error));
  EXPECT_EQ(error, "fault 'corrupt_checksum,venue=kucoin': corrupt_checksum exists only on kraken or okx");
  EXPECT_FALSE(parse_fault("maintenance,venue=okx", error));
  EXPECT_EQ(error, "fault 'maintenance,venue=okx': maintenance exists only on kraken");
  EXPECT_FALSE(parse_fault("rest_429,venue=kraken", error));
  EXPECT_EQ(error, "fault 'rest_429,venue=kraken': rest_429 exists only on kucoin, binance or binance-usdm");
  EXPECT_FALSE(parse_fault("drop=5", error));
  EXPECT_EQ(error, "fault 'drop=5': '5' is not a valid argument for drop");
  EXPECT_FALSE(parse_fault("drop,colour=red", error));
  EXPECT_EQ(error, "fault 'drop,colour=red': 'colour=red' is not venue=… or symbol=…");
}

// A kind several pieces own: venue= picks one of them; without it, any of them (the first
// with an eligible message or request: tools_sim_binance shows it on the wire).
TEST(FaultSpec, AKindSeveralVenuesOwnGoesToTheOneNamedOrToAnyOfThem) {
  EXPECT_EQ(obr::sim::fault_owners(FaultKind::kRest429),
            (std::vector<std::string_view>{"kucoin", "binance", "binance-usdm"}));
  EXPECT_EQ(obr::sim::fault_owners(FaultKind::kCorruptChecksum), (std::vector<std::string_view>{"kraken", "okx"}));
  EXPECT_TRUE(obr::sim::fault_owners(FaultKind::kDrop).empty());
  std::string error;
  auto f = parse_fault("stale_snapshot@t=1s,venue=binance-usdm", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(obr::sim::fault_venue(*f), "binance-usdm");
  f = parse_fault("skip_sequence=3,symbol=BTCUSDT", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->arg, 3);
  EXPECT_EQ(obr::sim::fault_venue(*f), "");
  f = parse_fault("corrupt_checksum", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(obr::sim::fault_venue(*f), "");
  f = parse_fault("maintenance", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(obr::sim::fault_venue(*f), "kraken");
  f = parse_fault("sequence_reset@msg=5,symbol=BTC-USDT", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(obr::sim::fault_venue(*f), "okx");
}

TEST(FaultSchedule, LoadsAFileSkippingCommentsAndBlankLines) {
  const std::string path = ::testing::TempDir() + "obr-faults-ok.txt";
  {
    std::ofstream f(path);
    f << "# the schedule\n\n  corrupt_checksum@t=5s,symbol=BTC/USD  \r\nstall=3s@t=10s,venue=kucoin\n";
  }
  std::string error;
  const auto faults = load_faults(path, error);
  ASSERT_TRUE(faults.has_value()) << error;
  ASSERT_EQ(faults->size(), 2u);
  EXPECT_EQ((*faults)[0].kind, FaultKind::kCorruptChecksum);
  EXPECT_EQ((*faults)[0].at_ns, 5'000'000'000);
  EXPECT_EQ((*faults)[0].symbol, "BTC/USD");
  EXPECT_EQ((*faults)[0].spec, "corrupt_checksum@t=5s,symbol=BTC/USD");
  EXPECT_EQ((*faults)[1].kind, FaultKind::kStall);
  EXPECT_EQ((*faults)[1].arg, 3'000'000'000);
  EXPECT_EQ((*faults)[1].at_ns, 10'000'000'000);
  EXPECT_EQ((*faults)[1].venue, "kucoin");
  std::remove(path.c_str());
}

TEST(FaultSchedule, NamesTheFileAndLineOfABadSpec) {
  const std::string path = ::testing::TempDir() + "obr-faults-bad.txt";
  {
    std::ofstream f(path);
    f << "drop@t=1s\n# fine\nexplode@t=2s\n";
  }
  std::string error;
  EXPECT_FALSE(load_faults(path, error).has_value());
  EXPECT_EQ(error, path + ":3: fault 'explode@t=2s': unknown kind 'explode'");
  std::remove(path.c_str());
  EXPECT_FALSE(load_faults("/nonexistent/faults.txt", error).has_value());
  EXPECT_EQ(error, "/nonexistent/faults.txt: cannot open the fault schedule");
}

// Under timed_faults_wait a timed fault waits for arm_timed_faults() and its time counts
// from then; a fault without a time fires at once. Seen through the KuCoin snapshot
// endpoint, whose answer shows whether a REST fault fired.
TEST(FaultSchedule, TimedFaultsWaitForArmingAndCountFromIt) {
  constexpr std::int64_t kMs = 1'000'000;
  std::string error;
  auto timed = parse_fault("rest_500@t=200ms,symbol=BTC-USDT", error);
  auto untimed = parse_fault("rest_429,symbol=ETH-USDT", error);
  ASSERT_TRUE(timed && untimed) << error;
  obr::net::EventLoop loop;
  obr::sim::SimConfig config;
  config.tls = false;
  config.faults = {*timed, *untimed};
  config.timed_faults_wait = true;
  obr::sim::Simulator sim(loop, config);
  ASSERT_TRUE(sim.start(error)) << error;
  obr::net::HttpClient http(loop, {});
  const auto status_of = [&](const std::string& symbol) {
    int status = -1;
    http.request({.id = 0,
                  .method = "GET",
                  .url = sim.url("kucoin") + "/api/v1/market/orderbook/level2_100?symbol=" + symbol,
                  .headers = {},
                  .body = ""},
                 [&](const obr::net::HttpResponse& r) { status = r.status; });
    for (int i = 0; i < 500 && status < 0; ++i) loop.run_for(10 * kMs);
    return status;
  };
  EXPECT_EQ(status_of("ETH-USDT"), 429);  // untimed: not held back
  loop.run_for(300 * kMs);
  EXPECT_FALSE(sim.timed_faults_armed());
  EXPECT_EQ(status_of("BTC-USDT"), 200);  // 300 ms after start, but not armed
  sim.arm_timed_faults();
  EXPECT_TRUE(sim.timed_faults_armed());
  EXPECT_EQ(status_of("BTC-USDT"), 200);  // armed, but 200 ms have not passed since
  loop.run_for(250 * kMs);
  EXPECT_EQ(status_of("BTC-USDT"), 500);
  EXPECT_EQ(status_of("BTC-USDT"), 200);  // each fault fires once
  ASSERT_EQ(sim.fired().size(), 2u);
  EXPECT_EQ(sim.fired()[0].fault.spec, "rest_429,symbol=ETH-USDT");
  EXPECT_EQ(sim.fired()[1].fault.spec, "rest_500@t=200ms,symbol=BTC-USDT");
  sim.stop();
  loop.run_for(20 * kMs);
}

}  // namespace
