// tests/fuzz/kucoin_ws_fuzz.cpp — the KuCoin spot session's WebSocket side
// (connectors/kucoin/spot_session.h) fed any frames, one per input line, on a connected
// and subscribed session. Each snapshot the session asks for is answered with a valid
// empty-ish book at sequence 1, so deltas go on to calibrate and apply. Every book the
// session reports must hold its invariants (fuzz_util.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/kucoin_session.h"

namespace {
constexpr const char* kSnapshot =
    R"({"code":"200000","data":{"time":1,"sequence":"1","bids":[["100.1","2"],["99","1.5"]],"asks":[["100.2","1"]]}})";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  obr::connectors::kucoin::SpotSession session(obr::fuzz::fuzz_kucoin_config());
  obr::fuzz::KucoinSink sink;
  if (!obr::fuzz::connect_and_subscribe(session, sink)) obr::fuzz::invariant_failed("prelude did not connect", "");
  std::int64_t t = 10;
  obr::fuzz::for_each_line(data, size, [&](std::string_view frame) {
    t += 1'000'000;
    session.on_frame(frame, t, sink);
    while (!sink.requests.empty()) {
      const obr::connectors::HttpRequest r = sink.requests.back();
      sink.requests.pop_back();
      session.on_http_response(r.id, r.url, 200, kSnapshot, t, sink);
    }
    if ((t / 1'000'000) % 16 == 0) session.on_tick(t, sink);
  });
  session.on_disconnected(t + 1, sink);
  return 0;
}
