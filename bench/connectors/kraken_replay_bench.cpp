// bench/connectors/kraken_replay_bench.cpp — replay of the real Kraken v2 recordings
// (tests/data/kraken-v2, 4 843 frames) end to end, against simdjson alone on the same
// frames.
//
//  - KrakenV2Replay: V2Session::on_frame for every frame: copy into the padded buffer,
//    parse, apply in order, truncate to depth, CRC32 check. Each pass starts with the
//    recordings' own status/ack/snapshot frames, so every check passes on every pass.
//  - SimdjsonVisitAll (baseline): simdjson On Demand over the same frames, visiting every
//    value of every frame (keys, strings as raw, numbers as raw tokens: the cheapest honest
//    full visit), so lazy parsing cannot flatter the comparison.
// items_per_second is frames/s.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/kraken/v2_session.h"

namespace {

namespace od = simdjson::ondemand;

struct Recording {
  std::vector<std::string> frames;
};

const std::vector<Recording>& recordings() {
  static const std::vector<Recording> all = [] {
    std::vector<Recording> out;
    for (const char* name : {"btcusd_d10_resubscribe", "btcusd_d25", "ethusd_d25", "xrpusd_d25"}) {
      std::ifstream in(std::string(OBR_TEST_DATA) + "/kraken-v2/" + name + ".ndjson");
      Recording r;
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) r.frames.push_back(line);
      }
      out.push_back(std::move(r));
    }
    return out;
  }();
  return all;
}

std::size_t frame_count() {
  std::size_t n = 0;
  for (const Recording& r : recordings()) n += r.frames.size();
  return n;
}

void BM_KrakenV2Replay(benchmark::State& state) {
  std::vector<std::unique_ptr<obr::connectors::kraken::V2Session>> sessions;
  for (std::size_t i = 0; i < recordings().size(); ++i) {
    sessions.push_back(std::make_unique<obr::connectors::kraken::V2Session>(
        obr::connectors::kraken::V2Config{.depth = 10, .track_any_symbol = true}));
  }
  obr::connectors::NullSink sink;
  for (auto _ : state) {
    for (std::size_t i = 0; i < recordings().size(); ++i) {
      for (const std::string& f : recordings()[i].frames) sessions[i]->on_frame(f, 0, sink);
    }
  }
  std::uint64_t failed = 0, passed = 0;
  for (const auto& s : sessions) {
    failed += s->book(0).counters().checks_failed;
    passed += s->book(0).counters().checks_passed;
  }
  if (failed != 0) state.SkipWithError("a checksum failed during the benchmark");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frame_count()));
  state.counters["checks_per_pass"] =
      static_cast<double>(passed) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_KrakenV2Replay)->Unit(benchmark::kMicrosecond);

bool visit(od::value v, std::size_t& sum) {
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (v.get_object().get(o)) return false;
      for (auto field : o) {
        od::raw_json_string key;
        if (field.key().get(key)) return false;
        od::value child;
        if (field.value().get(child) || !visit(child, sum)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a)) return false;
      for (auto element : a) {
        od::value child;
        if (element.get(child) || !visit(child, sum)) return false;
      }
      return true;
    }
    case od::json_type::string: {
      od::raw_json_string s;
      if (v.get_raw_json_string().get(s)) return false;
      ++sum;
      return true;
    }
    case od::json_type::number: {
      const std::string_view tok = v.raw_json_token();
      sum += tok.size();
      return true;
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return false;
      sum += b;
      return true;
    }
    case od::json_type::null:
      return !v.is_null().error();
  }
  return false;
}

void BM_SimdjsonVisitAll(benchmark::State& state) {
  od::parser parser;
  // The same copy into a padded buffer the session does, so only the work differs.
  std::vector<char> buffer(1 << 16);
  std::size_t sum = 0;
  for (auto _ : state) {
    for (const Recording& r : recordings()) {
      for (const std::string& f : r.frames) {
        if (buffer.size() < f.size() + simdjson::SIMDJSON_PADDING) buffer.resize(f.size() + simdjson::SIMDJSON_PADDING);
        std::memcpy(buffer.data(), f.data(), f.size());
        od::document doc;
        od::value root;
        if (parser.iterate(buffer.data(), f.size(), buffer.size()).get(doc) || doc.get_value().get(root) ||
            !visit(root, sum)) {
          state.SkipWithError("parse error");
          return;
        }
      }
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frame_count()));
}
BENCHMARK(BM_SimdjsonVisitAll)->Unit(benchmark::kMicrosecond);

// Which simdjson kernel this binary's On Demand code was compiled for (the library's
// builtin_implementation() would name the shared library's, not ours).
#define OBR_STRINGIFY2(x) #x
#define OBR_STRINGIFY(x) OBR_STRINGIFY2(x)
const bool kReported = [] {
  std::fprintf(stderr, "simdjson On Demand kernel compiled in: %s\n", OBR_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
