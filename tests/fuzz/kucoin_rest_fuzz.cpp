// tests/fuzz/kucoin_rest_fuzz.cpp — the KuCoin REST decoders
// (connectors/kucoin/spot_session.h) fed any body:
//  1. as the bullet-public token response of a starting session;
//  2. as the level-2 snapshot a subscribed session asked for after two deltas, followed
//     by two more deltas (so an accepted snapshot goes on to be updated);
//  3. as a snapshot answered with an HTTP error status.
// Every book the session reports must hold its invariants (fuzz_util.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/kucoin_session.h"

namespace {
std::string delta(std::int64_t start, std::int64_t end, const char* bids) {
  return R"({"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update","data":{"changes":{"asks":[],"bids":[)" +
         std::string(bids) + R"(]},"sequenceEnd":)" + std::to_string(end) + R"(,"sequenceStart":)" +
         std::to_string(start) + R"(,"symbol":"BTC-USDT"}})";
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  {
    obr::connectors::kucoin::SpotSession session(obr::fuzz::fuzz_kucoin_config());
    obr::fuzz::KucoinSink sink;
    session.subscribe({"BTC-USDT"});
    session.start(0, sink);
    if (sink.requests.empty()) obr::fuzz::invariant_failed("no token request", "");
    const obr::connectors::HttpRequest r = sink.requests.back();
    session.on_http_response(r.id, r.url, 200, body, 1, sink);
    session.on_tick(2'000'000'000, sink);
  }
  for (const int status : {200, 429}) {
    obr::connectors::kucoin::SpotSession session(obr::fuzz::fuzz_kucoin_config());
    obr::fuzz::KucoinSink sink;
    if (!obr::fuzz::connect_and_subscribe(session, sink)) obr::fuzz::invariant_failed("prelude did not connect", "");
    session.on_frame(delta(10, 10, R"(["100.1","1","10"])"), 10, sink);
    session.on_frame(delta(11, 12, R"(["100.2","1","11"],["100.0","0","12"])"), 11, sink);
    if (sink.requests.empty()) obr::fuzz::invariant_failed("no snapshot request after two deltas", "BTC-USDT");
    const obr::connectors::HttpRequest r = sink.requests.back();
    sink.requests.clear();
    session.on_http_response(r.id, r.url, status, body, 12, sink);
    session.on_frame(delta(13, 13, R"(["99.9","3","13"])"), 13, sink);
    session.on_frame(delta(14, 14, R"(["100.1","0","14"])"), 14, sink);
    session.on_tick(3'000'000'000, sink);
  }
  return 0;
}
