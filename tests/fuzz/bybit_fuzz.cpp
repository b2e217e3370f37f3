// tests/fuzz/bybit_fuzz.cpp — the Bybit v5 orderbook session (connectors/bybit/
// orderbook_session.h) fed any frames, one per input line, on a connected session with
// BTCUSDT and ETHUSDT subscribed and answered. The first byte picks the category (its value
// mod 3: spot, linear, inverse) and, with bit 2, depth 1 instead of 200 (so the depth bound
// and level 1's snapshots are reached). Timers run every 16 lines. Every book the session
// reports must hold its invariants (fuzz_util.h).
#include <cstddef>
#include <cstdint>

#include "connectors/bybit/orderbook_session.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using obr::connectors::bybit::Category;
  obr::connectors::bybit::OrderbookConfig config;
  config.category = data[0] % 3 == 0 ? Category::kSpot : data[0] % 3 == 1 ? Category::kLinear : Category::kInverse;
  config.depth = (data[0] & 4) != 0 ? 1 : 200;
  config.max_frame_bytes = 1 << 16;
  config.breaker.backoff_ns = 1'000'000;
  obr::connectors::bybit::OrderbookSession session(config);
  obr::fuzz::CheckingSink sink;
  if (!session.subscribe({"BTCUSDT", "ETHUSDT"}, 0, sink).ok()) obr::fuzz::invariant_failed("subscribe refused", "");
  session.start(0, sink);
  session.on_connected(1, sink);
  session.on_frame(R"({"success":true,"ret_msg":"","conn_id":"c","req_id":"1","op":"subscribe"})", 2, sink);
  std::int64_t t = 10;
  obr::fuzz::for_each_line(data + 1, size - 1, [&](std::string_view line) {
    t += 1'000'000;
    session.on_frame(line, t, sink);
    if ((t / 1'000'000) % 16 == 0) session.on_tick(t, sink);
  });
  session.on_disconnected(t + 1, sink);
  return 0;
}
