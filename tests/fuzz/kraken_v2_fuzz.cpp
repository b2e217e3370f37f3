// tests/fuzz/kraken_v2_fuzz.cpp — the Kraken v2 session (connectors/kraken/v2_session.h)
// fed any frames: one frame per input line, after subscribing BTC/USD and ETH/USD at
// depth 10. Timer ticks run every 16 frames so breaker retries and resubscriptions are
// reached. Every book the session reports must hold its invariants (fuzz_util.h).
//
// Two sessions run side by side: one reads compact book frames with the strict scanner
// (connectors/kraken/v2_book_frame.h), the other reads every frame with simdjson. After
// every frame both must have reported the same events with the same books.
#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/kraken/v2_session.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

// LogSink checks what CheckingSink checks and writes each event, with the book's sizes and
// top 10 levels, to `log`.
class LogSink : public obr::fuzz::CheckingSink {
 public:
  void send_frame(std::string_view f) override { log.append("send ").append(f).append("\n"); }
  void book_updated(obr::connectors::BookId id, std::string_view symbol, const obr::book::OrderBook& b,
                    bool top) override {
    CheckingSink::book_updated(id, symbol, b, top);
    log.append("book ").append(std::to_string(id)).append(top ? " top " : " deep ");
    side(b.bids());
    side(b.asks());
    log.append(std::to_string(static_cast<int>(b.state()))).append("\n");
  }
  void book_state_changed(obr::connectors::BookId id, std::string_view, obr::book::BookState, obr::book::BookState to,
                          obr::connectors::StateReason why) override {
    log.append("state ").append(std::to_string(id)).append(" ").append(std::to_string(static_cast<int>(to)));
    log.append(" ").append(std::to_string(static_cast<int>(why))).append("\n");
  }
  void venue_error(std::string_view symbol, std::string_view message) override {
    log.append("venue ").append(symbol).append(" ").append(message).append("\n");
  }
  void frame_error(obr::connectors::FrameError e, std::string_view detail) override {
    CheckingSink::frame_error(e, detail);
    log.append("error ").append(std::to_string(static_cast<int>(e))).append(" ").append(detail).append("\n");
  }
  std::string log;

 private:
  template <class Side>
  void side(const Side& levels) {
    log.append(std::to_string(levels.size())).append(":");
    for (std::size_t i = 0; i < levels.size() && i < 10; ++i) {
      log.append(" ").append(std::to_string(levels.at(i).price)).append("@").append(std::to_string(levels.at(i).qty));
    }
    log.append(" ");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  obr::connectors::kraken::V2Config config{.depth = 10,
                                           .track_any_symbol = false,
                                           .depth_from_ack = true,
                                           .breaker_failures = 3,
                                           .breaker_backoff_ns = 1'000'000,
                                           .breaker_backoff_max_ns = 8'000'000,
                                           .max_frame_bytes = 1 << 16};
  obr::connectors::kraken::V2Session fast(config);
  config.compact_scanner = false;
  obr::connectors::kraken::V2Session reference(config);
  LogSink fast_sink, reference_sink;
  for (auto* s : {&fast, &reference}) {
    LogSink& sink = s == &fast ? fast_sink : reference_sink;
    s->on_connected(sink);
    s->subscribe({"BTC/USD", "ETH/USD"}, sink);
  }
  std::int64_t t = 0;
  obr::fuzz::for_each_line(data, size, [&](std::string_view frame) {
    t += 1'000'000;
    fast.on_frame(frame, t, fast_sink);
    reference.on_frame(frame, t, reference_sink);
    if ((t / 1'000'000) % 16 == 0) {
      fast.on_tick(t, fast_sink);
      reference.on_tick(t, reference_sink);
    }
    if (fast_sink.log != reference_sink.log || fast.malformed_frames() != reference.malformed_frames() ||
        fast.heartbeats() != reference.heartbeats()) {
      obr::fuzz::invariant_failed("the compact scanner and simdjson read a frame differently", "");
    }
    fast_sink.log.clear();
    reference_sink.log.clear();
  });
  fast.on_disconnected(fast_sink);
  reference.on_disconnected(reference_sink);
  return 0;
}
