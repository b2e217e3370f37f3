// tools/sim/synthetic_session.h — a recorded Kraken v2 session of any length, made from the
// synthetic market: what a long replay, a memory-bound test or a benchmark needs when the
// real recordings are too short.
//
//   obr::sim::SyntheticSessionSpec spec;            // 4 symbols, depth 10, seed 1
//   spec.frames = 1'000'000;
//   std::uint64_t written = 0;
//   std::string error;
//   if (!obr::sim::write_kraken_session("s.ndjson.gz", spec, written, error)) { ... }
//
// The file is a raw capture (one received frame per line; gzip when the name ends in .gz):
// a `status` frame, then per symbol its subscribe ack and snapshot, then one `book` update
// per market event that changed a symbol's top `depth`, with the venue's depth semantics
// (kraken_depth_diff, kraken_piece.h) and the CRC32 of the true top 10. A correct replica passes every
// checksum. Timestamps are synthetic (1 ms apart from 2026-01-01T00:00:00Z).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace obr::sim {

struct SyntheticSessionSpec {
  std::size_t symbols = 4;         // 1..64: BTC/USD, ETH/USD, ... then C<i>/USD
  std::uint64_t frames = 100'000;  // book updates to write (after the snapshots)
  std::uint64_t seed = 1;
  int depth = 10;  // 10, 25, 100, 500 or 1000
  // stop, when set, is polled between updates: once true the file is finished where it
  // stands (a complete file, every line whole; fewer updates than asked).
  const std::atomic<bool>* stop = nullptr;
};

// write_kraken_session: false with `error` naming the file or the bad spec. The session is
// written to a temporary file beside `path` and renamed to it only once complete, so
// `path` is either a whole, valid session or absent (a failed write leaves nothing).
bool write_kraken_session(const std::string& path, const SyntheticSessionSpec& spec, std::uint64_t& updates_written,
                          std::string& error);

}  // namespace obr::sim
