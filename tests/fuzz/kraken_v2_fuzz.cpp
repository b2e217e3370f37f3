// tests/fuzz/kraken_v2_fuzz.cpp — the Kraken v2 session (connectors/kraken/v2_session.h)
// fed any frames: one frame per input line, after subscribing BTC/USD and ETH/USD at
// depth 10. Timer ticks run every 16 frames so breaker retries and resubscriptions are
// reached. Every book the session reports must hold its invariants (fuzz_util.h).
#include <cstddef>
#include <cstdint>

#include "connectors/kraken/v2_session.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  obr::fuzz::run_kraken_session<obr::connectors::kraken::V2Session, obr::connectors::kraken::V2Config>(
      {.depth = 10, .track_any_symbol = false, .depth_from_ack = true,
       .breaker_failures = 3, .breaker_backoff_ns = 1'000'000,
       .breaker_backoff_max_ns = 8'000'000, .max_frame_bytes = 1 << 16},
      {"BTC/USD", "ETH/USD"}, data, size);
  return 0;
}
