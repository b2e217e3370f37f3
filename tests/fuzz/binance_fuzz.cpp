// tests/fuzz/binance_fuzz.cpp — the Binance diff-depth session (connectors/binance/
// depth_session.h) fed any frames, one per input line, on a connected session with
// BTCUSDT and ETHUSDT subscribed and answered. The first byte picks the market (even:
// spot, odd: USD-M). A line starting with "REST " is the body of the next snapshot answer
// (so the snapshot reader is fuzzed too); a snapshot request with no such line waiting is
// answered with a valid book at lastUpdateId 100. Every book the session reports must hold
// its invariants (fuzz_util.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "connectors/binance/depth_session.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr const char* kSnapshot =
    R"({"lastUpdateId":100,"bids":[["100.10","2"],["99.00","1.5"]],"asks":[["100.20","1"]]})";

class BinanceSink : public obr::fuzz::CheckingSink {
 public:
  void http_request(const obr::connectors::HttpRequest& r) override { requests.push_back(r); }
  std::vector<obr::connectors::HttpRequest> requests;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  obr::connectors::binance::DepthConfig config;
  config.market =
      (data[0] & 1) != 0 ? obr::connectors::binance::Market::kUsdm : obr::connectors::binance::Market::kSpot;
  config.max_frame_bytes = 1 << 16;
  config.halt_backoff_ns = 1'000'000;
  config.breaker.backoff_ns = 1'000'000;
  obr::connectors::binance::DepthSession session(config);
  BinanceSink sink;
  if (!session.subscribe({"BTCUSDT", "ETHUSDT"}, 0, sink).ok()) obr::fuzz::invariant_failed("subscribe refused", "");
  session.start(0, sink);
  session.on_connected(1, sink);
  session.on_frame(R"({"result":null,"id":1})", 2, sink);
  std::int64_t t = 10;
  std::string rest_body;
  bool have_body = false;
  obr::fuzz::for_each_line(data + 1, size - 1, [&](std::string_view line) {
    t += 1'000'000;
    if (line.substr(0, 5) == "REST ") {
      rest_body.assign(line.substr(5));
      have_body = true;
      return;
    }
    session.on_frame(line, t, sink);
    while (!sink.requests.empty()) {
      const obr::connectors::HttpRequest r = sink.requests.back();
      sink.requests.pop_back();
      session.on_http_response(r.id, r.url, 200, have_body ? std::string_view(rest_body) : kSnapshot, t, sink);
      have_body = false;
    }
    if ((t / 1'000'000) % 16 == 0) session.on_tick(t, sink);
  });
  session.on_disconnected(t + 1, sink);
  return 0;
}
