// tests/fuzz/recording_fuzz.cpp — the recording readers and the replayer
// (engine/capture_reader.h, engine/replayer.h) on any file: raw captures, cryptofeed
// raw-data files, JSON-lines captures (several connections in one file) and obr
// recordings (the format is detected from the first line, so one target reaches all four
// and every venue's session behind them), plain or compressed: input that starts with
// gzip's or zstd's magic bytes goes through ISA-L's inflate or zstd's decoder first (seeds:
// tests/fuzz/seeds/recording/*.gz, *.zst).
//
// The input is written to a private temporary file and replayed. Properties checked:
// the replay either fails with a message or returns a summary whose books hold their
// invariants, whose counts add up, whose kept errors each name file:line, and whose books
// each name the file, or file#connection for a JSON-lines capture.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/replayer.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

const std::string& temp_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr && *dir != 0 ? dir : "/tmp") + "/obr-recording-fuzz-" +
           std::to_string(::getpid()) + ".rec";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = temp_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) obr::fuzz::invariant_failed("cannot write the temporary file", path);
  if (size > 0 && std::fwrite(data, 1, size, f) != size) obr::fuzz::invariant_failed("short write", path);
  std::fclose(f);

  obr::engine::ReplayOptions options;
  options.max_errors_kept = 4;
  const auto summary = obr::engine::replay_files({path}, options);
  std::remove(path.c_str());
  if (!summary.ok()) {
    if (summary.status().message().empty()) obr::fuzz::invariant_failed("replay failed without a message", path);
    return 0;
  }
  if (summary->bad_lines > summary->malformed || summary->malformed - summary->bad_lines > summary->frames) {
    obr::fuzz::invariant_failed("more malformed frames than frames", path);
  }
  if (summary->errors.size() > options.max_errors_kept) obr::fuzz::invariant_failed("kept too many errors", path);
  for (const std::string& e : summary->errors) {
    if (e.rfind(path + ":", 0) != 0) obr::fuzz::invariant_failed("error does not name file:line", e);
  }
  for (const obr::engine::ReplayBook& b : summary->books) {
    if (b.file != path && b.file.rfind(path + "#", 0) != 0) obr::fuzz::invariant_failed("book names no file", b.file);
    if (b.bids.size() > 10 || b.asks.size() > 10) obr::fuzz::invariant_failed("more than 10 levels reported", b.symbol);
    if (b.counters.checks_failed > 0 && summary->all_checks_passed()) {
      obr::fuzz::invariant_failed("all_checks_passed despite a failed check", b.symbol);
    }
  }
  return 0;
}
