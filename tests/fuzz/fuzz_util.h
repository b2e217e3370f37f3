// tests/fuzz/fuzz_util.h — what every obr fuzz target shares: the input split into
// frames, and a SessionSink that checks the book invariants a session must never break,
// whatever it is fed.
//
// A fuzz target is `extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t)`. Built
// with the `fuzz` preset (clang) it links libFuzzer; built with GCC it links
// standalone_main.cpp, which runs the seeds and the kept crash inputs as a regression test.
//
// An invariant that does not hold aborts with a message naming it: libFuzzer (and the
// regression run) report that as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "book/order_book.h"
#include "connectors/protocol/session.h"

namespace obr::fuzz {

[[noreturn]] inline void invariant_failed(const char* what, std::string_view symbol) {
  std::fprintf(stderr, "fuzz invariant broken: %s (book '%.*s')\n", what, static_cast<int>(symbol.size()),
               symbol.data());
  std::abort();
}

// check_book: what holds for every book a session hands out, live or not — each side
// strictly ordered best first, every quantity positive, the depth limit respected after
// the message. A live book is never crossed... except that venues do publish crossed
// books briefly, so crossing is not checked.
inline void check_book(std::string_view symbol, const book::OrderBook& b) {
  const auto& bids = b.bids();
  const auto& asks = b.asks();
  for (std::size_t i = 0; i < bids.size(); ++i) {
    if (bids.at(i).qty <= 0) invariant_failed("bid quantity not positive", symbol);
    if (i > 0 && !(bids.at(i).price < bids.at(i - 1).price)) invariant_failed("bids not strictly descending", symbol);
  }
  for (std::size_t i = 0; i < asks.size(); ++i) {
    if (asks.at(i).qty <= 0) invariant_failed("ask quantity not positive", symbol);
    if (i > 0 && !(asks.at(i).price > asks.at(i - 1).price)) invariant_failed("asks not strictly ascending", symbol);
  }
  if (b.state() == book::BookState::kLive && b.depth_limit() != 0 &&
      (bids.size() > b.depth_limit() || asks.size() > b.depth_limit())) {
    invariant_failed("live book deeper than its depth limit", symbol);
  }
}

// CheckingSink checks every book a session reports and that every error has a reason.
class CheckingSink : public connectors::NullSink {
 public:
  void book_updated(connectors::BookId, std::string_view symbol, const book::OrderBook& b, bool) override {
    check_book(symbol, b);
    ++updates;
  }
  void frame_error(connectors::FrameError, std::string_view detail) override {
    if (detail.empty()) invariant_failed("frame error without a detail", "");
    ++errors;
  }
  std::uint64_t updates = 0;
  std::uint64_t errors = 0;
};

// for_each_line calls f(line) for every '\n'-separated line of the input (a trailing
// '\r' kept: the sessions must cope with it), empty lines included.
template <typename F>
void for_each_line(const std::uint8_t* data, std::size_t size, F&& f) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  std::size_t start = 0;
  while (start <= all.size()) {
    const std::size_t nl = all.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? all.size() : nl;
    f(all.substr(start, end - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
}

// run_kraken_session: a Kraken session (v1 or v2: the same calls) connected, subscribed
// to `symbols`, fed one frame per input line 1 ms apart with its timer every 16 frames (so
// breaker retries and resubscriptions are reached), then disconnected.
template <class Session, class Config>
void run_kraken_session(const Config& config, const std::vector<std::string>& symbols, const std::uint8_t* data,
                        std::size_t size) {
  Session session(config);
  CheckingSink sink;
  session.on_connected(sink);
  session.subscribe(symbols, sink);
  std::int64_t t = 0;
  for_each_line(data, size, [&](std::string_view frame) {
    t += 1'000'000;
    session.on_frame(frame, t, sink);
    if ((t / 1'000'000) % 16 == 0) session.on_tick(t, sink);
  });
  session.on_disconnected(sink);
}

}  // namespace obr::fuzz
