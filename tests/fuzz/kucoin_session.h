// tests/fuzz/kucoin_session.h — a KuCoin spot session brought to the point the fuzz
// targets start from: token fetched, connected, welcomed, BTC-USDT and ETH-USDT
// subscribed and acknowledged. Snapshot requests are collected for the target to answer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/kucoin/spot_session.h"
#include "tests/fuzz/fuzz_util.h"

namespace obr::fuzz {

inline constexpr std::string_view kBullet =
    R"({"code":"200000","data":{"token":"T","instanceServers":[{"endpoint":"wss://ws-api-spot.kucoin.com/","encrypt":true,"protocol":"websocket","pingInterval":18000,"pingTimeout":10000}]}})";

class KucoinSink : public CheckingSink {
 public:
  void http_request(const connectors::HttpRequest& r) override { requests.push_back(r); }
  void send_frame(std::string_view f) override { last_sent.assign(f); }
  std::vector<connectors::HttpRequest> requests;
  std::string last_sent;
};

inline connectors::kucoin::SpotConfig fuzz_kucoin_config() {
  connectors::kucoin::SpotConfig c;
  c.max_frame_bytes = 1 << 16;
  c.halt_backoff_ns = 1'000'000;
  return c;
}

// connect_and_subscribe: the prelude. Returns false if the session did not get there
// (which would be a bug in the prelude, not in the input).
inline bool connect_and_subscribe(connectors::kucoin::SpotSession& s, KucoinSink& sink) {
  s.subscribe({"BTC-USDT", "ETH-USDT"});
  s.start(0, sink);
  if (sink.requests.empty()) return false;
  const connectors::HttpRequest token = sink.requests.back();
  sink.requests.clear();
  s.on_http_response(token.id, token.url, 200, kBullet, 0, sink);
  s.on_connected(1, sink);
  s.on_frame(R"({"id":"w","type":"welcome"})", 2, sink);
  // The subscribe frame is {"id":ID,...} (a number): acknowledge that id, as a string.
  const std::size_t q = sink.last_sent.find("\"id\":");
  if (q == std::string::npos) return false;
  const std::size_t start = q + 5, end = sink.last_sent.find(',', start);
  const std::string ack = R"({"id":")" + sink.last_sent.substr(start, end - start) + R"(","type":"ack"})";
  s.on_frame(ack, 3, sink);
  return s.conn_state() == connectors::kucoin::ConnState::kReady;
}

}  // namespace obr::fuzz
