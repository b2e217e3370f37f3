// tests/fuzz/kraken_v1_fuzz.cpp — the Kraken v1 session (connectors/kraken/v1_session.h)
// fed any frames: one frame per input line. It tracks any pair it sees acknowledged (as
// in replay), so recorded fixtures reach the book path. Every book the session reports
// must hold its invariants (fuzz_util.h).
#include <cstddef>
#include <cstdint>

#include "connectors/kraken/v1_session.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  obr::fuzz::run_kraken_session<obr::connectors::kraken::V1Session, obr::connectors::kraken::V1Config>(
      {.depth = 1000,
       .track_any_symbol = true,
       .depth_from_ack = true,
       .breaker_failures = 3,
       .breaker_backoff_ns = 1'000'000,
       .breaker_backoff_max_ns = 8'000'000,
       .max_frame_bytes = 1 << 16},
      {"XBT/USD"}, data, size);
  return 0;
}
