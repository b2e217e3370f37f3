// bench/connectors/replay_bench.cpp — replay of the real recordings end to end through
// the venue sessions, each against simdjson alone on the same frames.
//
//  - KrakenV2Replay/1: V2Session::on_frame for the 4 843 frames of tests/data/kraken-v2:
//    copy into the padded buffer, parse, apply in order, truncate to depth, CRC32 check.
//    Each pass starts with the recordings' own status/ack/snapshot frames, so every check
//    passes on every pass. The book frames are read by the compact scanner
//    (connectors/kraken/v2_book_frame.h), as in production; KrakenV2Replay/0 reads every
//    frame with simdjson instead (V2Config::compact_scanner = false), for comparison.
//  - KrakenV1Replay: V1Session over the 4 321 received frames of tests/data/kraken-v1
//    (10 pairs at depth 1000; each pass reloads the ten 1000-level snapshots).
//  - KucoinReplay: a fresh SpotSession per pass over tests/data/kucoin: 4 721 frames
//    (3 853 deltas, 3 805 applied with continuity checked) and the 9 full-depth REST
//    snapshots merged in by time, exactly as `obr replay` feeds them.
//  - BinanceReplay/1: a fresh spot DepthSession per pass over tests/data/binance: 265 frames
//    (176 depth events of 4 symbols among tickers, trades and klines; 172 applied with
//    continuity checked) and the 4 REST snapshots of 1000 levels merged in by time.
//    BinanceReplay/0 times the frames only (set-up and snapshots left out).
//  - BinanceSteady: one bridged Binance book (1000 levels a side) fed synthetic diff
//    events of the recording's form, 16 384 per pass, ids contiguous: the live path after
//    warm-up, against SimdjsonVisitAll/5 on the same frames.
//  - BybitReplay: fresh Bybit OrderbookSessions per pass (one per recorded connection: linear
//    and spot) over the 2 148 frames of tests/data/bybit: 6 snapshots of 200 levels a side
//    and 2 142 deltas, continuity and the depth bound checked on each; against
//    SimdjsonVisitAll/6 on the same frames.
//  - OkxReplay: a fresh OKX BooksSession per pass over the 332 received frames of
//    tests/data/okx (3 books: 3 snapshots of 400 levels a side and 287 updates, each
//    checksum verified; tickers and trades among them); against SimdjsonVisitAll/7 on the
//    same frames.
//  - SimdjsonVisitAll/<set> (baseline): simdjson On Demand over the same frames, visiting
//    every value (keys, strings as raw, numbers as raw tokens), so lazy parsing cannot
//    flatter the comparison.
// items_per_second is frames/s.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/binance/depth_session.h"
#include "connectors/bybit/orderbook_session.h"
#include "connectors/kraken/v1_session.h"
#include "connectors/kraken/v2_session.h"
#include "connectors/kucoin/spot_session.h"
#include "connectors/okx/books_session.h"

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

// received frames of a cryptofeed raw-data file ("TS: FRAME" lines)
std::vector<std::string> cryptofeed_frames(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] >= '0' && line[0] <= '9') out.push_back(line.substr(line.find(": ") + 2));
  }
  return out;
}

const std::vector<std::string>& v1_frames() {
  static const std::vector<std::string> f = cryptofeed_frames(std::string(OBR_TEST_DATA) + "/kraken-v1/KRAKEN.ws.50.0");
  return f;
}

// A cryptofeed connection: WebSocket frames and REST responses merged by recorded time.
struct CaptureEvent {
  std::string ts;
  std::string url;  // empty for a WebSocket frame
  std::string payload;
};
std::vector<CaptureEvent> cryptofeed_events(const std::string& ws_path, const std::string& http_path) {
  std::vector<CaptureEvent> out;
  std::ifstream ws(ws_path);
  for (std::string line; std::getline(ws, line);) {
    if (line.empty() || line[0] < '0' || line[0] > '9') continue;
    const std::size_t c = line.find(": ");
    out.push_back({line.substr(0, c), "", line.substr(c + 2)});
  }
  std::ifstream http(http_path);
  for (std::string line; std::getline(http, line);) {
    const std::size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    const std::size_t c = line.find(": ", arrow);
    out.push_back({line.substr(arrow + 4, c - arrow - 4), line.substr(0, arrow), line.substr(c + 2)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const CaptureEvent& a, const CaptureEvent& b) { return std::stod(a.ts) < std::stod(b.ts); });
  return out;
}
const std::vector<CaptureEvent>& kucoin_events() {
  static const std::vector<CaptureEvent> all = cryptofeed_events(
      std::string(OBR_TEST_DATA) + "/kucoin/KUCOIN.ws.1.0", std::string(OBR_TEST_DATA) + "/kucoin/KUCOIN.http.0.0");
  return all;
}
const std::vector<CaptureEvent>& binance_events() {
  static const std::vector<CaptureEvent> all = cryptofeed_events(
      std::string(OBR_TEST_DATA) + "/binance/BINANCE.ws.1.0", std::string(OBR_TEST_DATA) + "/binance/BINANCE.http.0.0");
  return all;
}

std::vector<std::string> ws_frames(const std::vector<CaptureEvent>& events) {
  std::vector<std::string> out;
  for (const CaptureEvent& e : events) {
    if (e.url.empty()) out.push_back(e.payload);
  }
  return out;
}

std::size_t frame_count() {
  std::size_t n = 0;
  for (const Recording& r : recordings()) n += r.frames.size();
  return n;
}

void BM_KrakenV2Replay(benchmark::State& state) {
  std::vector<std::unique_ptr<obr::connectors::kraken::V2Session>> sessions;
  obr::connectors::kraken::V2Config config{.depth = 10, .track_any_symbol = true};
  config.compact_scanner = state.range(0) != 0;
  for (std::size_t i = 0; i < recordings().size(); ++i) {
    sessions.push_back(std::make_unique<obr::connectors::kraken::V2Session>(config));
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
  state.counters["checks_per_pass"] = static_cast<double>(passed) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_KrakenV2Replay)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

void BM_KrakenV1Replay(benchmark::State& state) {
  obr::connectors::kraken::V1Session session(obr::connectors::kraken::V1Config{.depth = 10, .track_any_symbol = true});
  obr::connectors::NullSink sink;
  for (auto _ : state) {
    for (const std::string& f : v1_frames()) session.on_frame(f, 0, sink);
  }
  std::uint64_t failed = 0, passed = 0;
  for (obr::connectors::BookId id = 0; id < session.book_count(); ++id) {
    failed += session.book(id).counters().checks_failed;
    passed += session.book(id).counters().checks_passed;
  }
  if (failed != 0 || session.malformed_frames() != 0) state.SkipWithError("a check failed during the benchmark");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(v1_frames().size()));
  state.counters["checks_per_pass"] = static_cast<double>(passed) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_KrakenV1Replay)->Unit(benchmark::kMicrosecond);

void BM_KucoinReplay(benchmark::State& state) {
  obr::connectors::kucoin::SpotConfig config;
  config.track_any_symbol = true;
  config.drive_connection = false;
  obr::connectors::NullSink sink;
  std::uint64_t applied = 0, failed = 0, live = 0, frames = 0;
  for (auto _ : state) {
    obr::connectors::kucoin::SpotSession session(config);  // calibration starts from scratch
    for (const CaptureEvent& e : kucoin_events()) {
      if (e.url.empty()) {
        session.on_frame(e.payload, 0, sink);
      } else {
        session.on_http_response(0, e.url, 200, e.payload, 0, sink);
      }
    }
    for (obr::connectors::BookId id = 0; id < session.book_count(); ++id) {
      applied += session.book(id).counters().updates;
      failed += session.book(id).counters().checks_failed;
      live += session.book(id).state() == obr::book::BookState::kLive;
    }
  }
  for (const CaptureEvent& e : kucoin_events()) frames += e.url.empty();
  const auto passes = static_cast<double>(state.iterations());
  if (failed != 0 || static_cast<double>(live) != 9 * passes) state.SkipWithError("a book did not calibrate");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frames));
  state.counters["deltas_applied_per_s"] =
      benchmark::Counter(static_cast<double>(applied), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KucoinReplay)->Unit(benchmark::kMicrosecond);

// Arg 1: everything timed (a fresh session, the 4 snapshots of 1000 levels, the frames),
// to compare with SimdjsonVisitAll/4; Arg 0: only the WebSocket frames (the session's
// set-up and the REST snapshots left out), to compare with SimdjsonVisitAll/3.
void BM_BinanceReplay(benchmark::State& state) {
  const bool everything = state.range(0) == 1;
  obr::connectors::binance::DepthConfig config;
  config.track_any_symbol = true;
  config.drive_connection = false;
  obr::connectors::NullSink sink;
  std::uint64_t applied = 0, failed = 0, live = 0, frames = 0;
  using Clock = std::chrono::steady_clock;
  for (auto _ : state) {
    // Manual time: the whole pass (Arg 1) or only the stretches of frames between the
    // snapshots (Arg 0), read from a steady clock around each stretch.
    Clock::duration timed{};
    const Clock::time_point pass_start = Clock::now();
    auto session = std::make_unique<obr::connectors::binance::DepthSession>(config);  // bridged from scratch
    Clock::time_point stretch = Clock::now();
    for (const CaptureEvent& e : binance_events()) {
      if (e.url.empty()) {
        session->on_frame(e.payload, 0, sink);
        continue;
      }
      const Clock::time_point before = Clock::now();
      timed += before - stretch;
      session->on_http_response(0, e.url, 200, e.payload, 0, sink);
      stretch = Clock::now();
    }
    const Clock::time_point end = Clock::now();
    timed += end - stretch;
    for (obr::connectors::BookId id = 0; id < session->book_count(); ++id) {
      applied += session->book(id).counters().updates;
      failed += session->book(id).counters().checks_failed;
      live += session->book(id).state() == obr::book::BookState::kLive;
    }
    session.reset();
    const Clock::duration all = everything ? Clock::now() - pass_start : timed;
    state.SetIterationTime(std::chrono::duration<double>(all).count());
  }
  for (const CaptureEvent& e : binance_events()) frames += e.url.empty();
  const auto passes = static_cast<double>(state.iterations());
  if (failed != 0 || static_cast<double>(live) != 4 * passes) state.SkipWithError("a book did not bridge");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frames));
  state.counters["events_applied_per_s"] =
      benchmark::Counter(static_cast<double>(applied), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BinanceReplay)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Binance's steady state: a bridged book (1000 levels a side) fed diff events in the
// recording's form, 3 bids and 1 ask each near the top, ids contiguous. The frames of a pass
// are made before it (with the timer paused) so that each pass continues the ids.
std::string binance_event(std::int64_t id, std::int64_t k) {
  char buf[512];
  const int n = std::snprintf(
      buf, sizeof buf,
      R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512068,"s":"BTCUSDT","U":%lld,"u":%lld,)"
      R"("b":[["%lld.35130000","6195.00000000"],["%lld.34750000","0.00000000"],["%lld.34640000","6222.00000000"]],)"
      R"("a":[["%lld.50000000","1.00000000"]]}})",
      static_cast<long long>(id), static_cast<long long>(id), static_cast<long long>(999 - k % 50),
      static_cast<long long>(998 - k % 40), static_cast<long long>(997 - k % 30),
      static_cast<long long>(1001 + k % 30));
  return std::string(buf, static_cast<std::size_t>(n));
}
constexpr std::int64_t kSteadyFrames = 1 << 14;
std::vector<std::string> binance_steady_frames(std::int64_t first_id) {
  std::vector<std::string> out;
  for (std::int64_t k = 0; k < kSteadyFrames; ++k) out.push_back(binance_event(first_id + k, k));
  return out;
}

void BM_BinanceSteady(benchmark::State& state) {
  obr::connectors::binance::DepthConfig config;
  config.track_any_symbol = true;
  config.drive_connection = false;
  obr::connectors::binance::DepthSession session(config);
  obr::connectors::NullSink sink;
  session.on_frame(binance_event(1, 0), 0, sink);
  std::string snapshot = R"({"lastUpdateId":1,"bids":[)";
  for (int i = 0; i < 1000; ++i)
    snapshot += (i ? ",[\"" : "[\"") + std::to_string(1000 - i) + R"(.00000000","1.00000000"])";
  snapshot += R"(],"asks":[)";
  for (int i = 0; i < 1000; ++i)
    snapshot += (i ? ",[\"" : "[\"") + std::to_string(1001 + i) + R"(.00000000","1.00000000"])";
  snapshot += "]}";
  session.on_http_response(0, "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000", 200, snapshot, 0, sink);
  std::int64_t next_id = 2;
  for (auto _ : state) {
    state.PauseTiming();
    const std::vector<std::string> frames = binance_steady_frames(next_id);
    next_id += kSteadyFrames;
    state.ResumeTiming();
    for (const std::string& f : frames) session.on_frame(f, 0, sink);
  }
  if (session.book(0).state() != obr::book::BookState::kLive || session.book(0).counters().checks_failed != 0) {
    state.SkipWithError("the book left live");
  }
  state.SetItemsProcessed(state.iterations() * kSteadyFrames);
}
BENCHMARK(BM_BinanceSteady)->Unit(benchmark::kMicrosecond);

// Bybit's real capture: each line's frame and whether its connection is the spot one
// (BYBIT.ws.3; BYBIT.ws.2 is linear: docs/venues/bybit.md "The real capture").
struct BybitFrame {
  bool spot;
  std::string frame;
};
const std::vector<BybitFrame>& bybit_frames() {
  static const std::vector<BybitFrame> all = [] {
    std::vector<BybitFrame> out;
    std::ifstream in(std::string(OBR_TEST_DATA) + "/bybit/bybit_v5_orderbook200.ndjson");
    simdjson::dom::parser parser;
    for (std::string line; std::getline(in, line);) {
      simdjson::dom::element e;
      std::string_view conn, data;
      if (parser.parse(line).get(e) || e["conn"].get_string().get(conn) || e["data"].get_string().get(data)) continue;
      out.push_back({conn == "BYBIT.ws.3", std::string(data)});
    }
    return out;
  }();
  return all;
}

void BM_BybitReplay(benchmark::State& state) {
  using obr::connectors::bybit::Category;
  obr::connectors::bybit::OrderbookConfig config;
  config.track_any_symbol = true;
  config.drive_connection = false;
  obr::connectors::NullSink sink;
  std::uint64_t applied = 0, failed = 0, live = 0;
  for (auto _ : state) {
    config.category = Category::kLinear;
    obr::connectors::bybit::OrderbookSession linear(config);
    config.category = Category::kSpot;
    obr::connectors::bybit::OrderbookSession spot(config);
    for (const BybitFrame& f : bybit_frames()) (f.spot ? spot : linear).on_frame(f.frame, 0, sink);
    for (const obr::connectors::bybit::OrderbookSession* s : {&linear, &spot}) {
      for (obr::connectors::BookId id = 0; id < s->book_count(); ++id) {
        applied += s->book(id).counters().updates;
        failed += s->book(id).counters().checks_failed;
        live += s->book(id).state() == obr::book::BookState::kLive;
      }
    }
  }
  if (failed != 0 || static_cast<double>(live) != 6 * static_cast<double>(state.iterations())) {
    state.SkipWithError("a book did not stay live");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(bybit_frames().size()));
  state.counters["deltas_applied_per_s"] =
      benchmark::Counter(static_cast<double>(applied), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BybitReplay)->Unit(benchmark::kMicrosecond);

const std::vector<std::string>& okx_frames() {
  static const std::vector<std::string> all = cryptofeed_frames(std::string(OBR_TEST_DATA) + "/okx/OKX.ws.1.0");
  return all;
}

void BM_OkxReplay(benchmark::State& state) {
  obr::connectors::okx::BooksConfig config;
  config.track_any_symbol = true;
  config.drive_connection = false;
  obr::connectors::NullSink sink;
  std::uint64_t passed = 0, failed = 0, live = 0;
  for (auto _ : state) {
    obr::connectors::okx::BooksSession session(config);
    for (const std::string& f : okx_frames()) session.on_frame(f, 0, sink);
    for (obr::connectors::BookId id = 0; id < session.book_count(); ++id) {
      passed += session.book(id).counters().checks_passed;
      failed += session.book(id).counters().checks_failed;
      live += session.book(id).state() == obr::book::BookState::kLive;
    }
  }
  if (failed != 0 || static_cast<double>(live) != 3 * static_cast<double>(state.iterations())) {
    state.SkipWithError("a book did not stay live");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(okx_frames().size()));
  state.counters["checksums_per_s"] = benchmark::Counter(static_cast<double>(passed), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_OkxReplay)->Unit(benchmark::kMicrosecond);

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

const std::vector<std::string>& frame_set(std::int64_t which) {
  static const std::vector<std::string> v2 = [] {
    std::vector<std::string> all;
    for (const Recording& r : recordings()) all.insert(all.end(), r.frames.begin(), r.frames.end());
    return all;
  }();
  static const std::vector<std::string> kucoin = ws_frames(kucoin_events());
  static const std::vector<std::string> binance = ws_frames(binance_events());
  static const std::vector<std::string> steady = binance_steady_frames(2);
  static const std::vector<std::string> binance_all = [] {  // every payload: frames and REST bodies
    std::vector<std::string> out;
    for (const CaptureEvent& e : binance_events()) out.push_back(e.payload);
    return out;
  }();
  static const std::vector<std::string> bybit = [] {
    std::vector<std::string> out;
    for (const BybitFrame& f : bybit_frames()) out.push_back(f.frame);
    return out;
  }();
  if (which == 7) return okx_frames();
  if (which == 6) return bybit;
  if (which == 5) return steady;
  return which == 0 ? v2 : which == 1 ? v1_frames() : which == 2 ? kucoin : which == 3 ? binance : binance_all;
}

// Arg 0: the Kraken v2 frames, 1: Kraken v1, 2: KuCoin WebSocket frames, 3: Binance's
// WebSocket frames, 4: Binance's frames and REST snapshots (all BinanceReplay/1 parses),
// 5: the synthetic Binance events of BinanceSteady, 6: Bybit's real capture, 7: OKX's.
void BM_SimdjsonVisitAll(benchmark::State& state) {
  const std::vector<std::string>& frames = frame_set(state.range(0));
  od::parser parser;
  // The same copy into a padded buffer the session does, so only the work differs.
  std::vector<char> buffer(1 << 16);
  std::size_t sum = 0;
  for (auto _ : state) {
    for (const std::string& f : frames) {
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
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frames.size()));
}
BENCHMARK(BM_SimdjsonVisitAll)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Arg(3)
    ->Arg(4)
    ->Arg(5)
    ->Arg(6)
    ->Arg(7)
    ->Unit(benchmark::kMicrosecond);

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
