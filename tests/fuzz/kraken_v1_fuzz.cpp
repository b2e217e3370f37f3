// tests/fuzz/kraken_v1_fuzz.cpp — the Kraken v1 session (connectors/kraken/v1_session.h)
// fed any frames: one frame per input line. It tracks any pair it sees acknowledged (as
// in replay), so recorded fixtures reach the book path. Every book the session reports
// must hold its invariants (fuzz_util.h).
#include <cstddef>
#include <cstdint>

#include "connectors/kraken/v1_session.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  obr::connectors::kraken::V1Session session({.depth = 1000, .track_any_symbol = true, .depth_from_ack = true,
                                              .breaker_failures = 3, .breaker_backoff_ns = 1'000'000,
                                              .breaker_backoff_max_ns = 8'000'000, .max_frame_bytes = 1 << 16});
  obr::fuzz::CheckingSink sink;
  session.on_connected(sink);
  session.subscribe({"XBT/USD"}, sink);
  std::int64_t t = 0;
  obr::fuzz::for_each_line(data, size, [&](std::string_view frame) {
    t += 1'000'000;
    session.on_frame(frame, t, sink);
    if ((t / 1'000'000) % 16 == 0) session.on_tick(t, sink);
  });
  session.on_disconnected(sink);
  return 0;
}
