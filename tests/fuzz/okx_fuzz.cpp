// tests/fuzz/okx_fuzz.cpp — the OKX v5 order-book session (connectors/okx/books_session.h)
// fed any frames, one per input line, on a connected session with BTC-USDT, UNI-USD-SWAP
// and BTC-USD-220527 subscribed and answered. The first byte picks the channel (its value
// mod 3: books, books5, books50-l2-tbt). Timers run every 16 lines. Every book the session
// reports must hold its invariants (fuzz_util.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/okx/books_session.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  obr::connectors::okx::BooksConfig config;
  config.depth = data[0] % 3 == 0 ? 400 : data[0] % 3 == 1 ? 5 : 50;
  config.max_frame_bytes = 1 << 16;
  config.breaker.backoff_ns = 1'000'000;
  obr::connectors::okx::BooksSession session(config);
  obr::fuzz::CheckingSink sink;
  const char* symbols[] = {"BTC-USDT", "UNI-USD-SWAP", "BTC-USD-220527"};
  if (!session.subscribe({symbols[0], symbols[1], symbols[2]}, 0, sink).ok()) {
    obr::fuzz::invariant_failed("subscribe refused", "");
  }
  session.start(0, sink);
  session.on_connected(1, sink);
  const std::string channel(obr::connectors::okx::channel_for(config.depth));
  for (const char* s : symbols) {
    session.on_frame(R"({"id":"1","event":"subscribe","arg":{"channel":")" + channel + R"(","instId":")" + s + R"("}})",
                     2, sink);
  }
  std::int64_t t = 10;
  obr::fuzz::for_each_line(data + 1, size - 1, [&](std::string_view line) {
    t += 1'000'000;
    session.on_frame(line, t, sink);
    if ((t / 1'000'000) % 16 == 0) session.on_tick(t, sink);
  });
  session.on_disconnected(t + 1, sink);
  return 0;
}
