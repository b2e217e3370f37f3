// connectors/kraken/common.h — configuration and book information shared by the Kraken
// v1 and v2 sessions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace obr::connectors::kraken {

struct SessionConfig {
  int depth = 10;                                        // subscribed depth: 10, 25, 100, 500 or 1000
  bool track_any_symbol = false;                         // replay: start tracking symbols seen in acks/snapshots
  bool depth_from_ack = true;                            // take each book's depth from its subscribe ack
  int breaker_failures = 3;                              // consecutive failed checks that open the circuit
  std::int64_t breaker_backoff_ns = 1'000'000'000;       // first halt; doubles per trip
  std::int64_t breaker_backoff_max_ns = 60'000'000'000;  // cap
  std::size_t max_frame_bytes = 1 << 20;
  // v2: read the compact book frames Kraken sends with the strict scanner
  // (connectors/kraken/v2_book_frame.h) and everything else with simdjson; false reads
  // every frame with simdjson (the reference the tests compare against). Unused by v1.
  bool compact_scanner = true;
  // The connection, when the session drives it (the live engine; replays and tests leave it
  // off): start() and every disconnect ask the driver to open endpoints[i], moving to the
  // next endpoint after a connection that never opened (the driver spaces the attempts out
  // with its backoff); subscribe() sends only while connected (on_connected subscribes
  // every book); on_tick pings every ping_interval_ns while connected.
  bool drive_connection = false;
  std::vector<std::string> endpoints = {};
  std::int64_t ping_interval_ns = 5'000'000'000;
};

// is_book_depth: a depth Kraken's book channel offers (v1 and v2 alike;
// docs/venues/kraken.md "Depths").
// OBR_KRAKEN_BOOK_DEPTHS names them in messages; a string literal, so that it joins the
// literals around it (frame errors take static text).
#define OBR_KRAKEN_BOOK_DEPTHS "10, 25, 100, 500 or 1000"
constexpr bool is_book_depth(std::int64_t depth) noexcept {
  return depth == 10 || depth == 25 || depth == 100 || depth == 500 || depth == 1000;
}

struct BookInfo {
  std::string symbol;                      // the venue's pair name ("BTC/USD"; "XBT/USD" in v1)
  int depth = 0;                           // subscribed depth (from the ack when known)
  bool precision_from_instrument = false;  // scales from the instrument channel, not lexemes
};

}  // namespace obr::connectors::kraken
