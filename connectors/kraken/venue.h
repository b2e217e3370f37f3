// connectors/kraken/venue.h — Kraken's two WebSocket APIs as venues: their descriptors
// (connectors/protocol/venue.h) and their session configuration from SessionSettings.
// Rules and sources: docs/venues/kraken.md.
#pragma once

#include <string_view>

#include "connectors/kraken/common.h"
#include "connectors/protocol/venue.h"

namespace obr::connectors::kraken {

// is_v2_frame: a JSON object that names a channel or a method (and is no v1 event).
constexpr bool is_v2_frame(std::string_view f) noexcept {
  return !f.empty() && f.front() == '{' && f.find("\"event\"") == std::string_view::npos &&
         (f.find("\"channel\"") != std::string_view::npos || f.find("\"method\"") != std::string_view::npos);
}
// is_v1_frame: a channel array, or one of the event objects v1 sends (systemStatus,
// subscriptionStatus, heartbeat, pong; docs/venues/kraken.md). Other venues answer with
// `"event"` objects too (OKX's `{"event":"subscribe","arg":…}`): an event name v1 does
// not send tells nothing.
constexpr bool is_v1_frame(std::string_view f) noexcept {
  if (f.empty()) return false;
  if (f.front() == '[') return true;
  if (f.front() != '{') return false;
  for (std::string_view e : {"\"event\":\"systemStatus\"", "\"event\":\"subscriptionStatus\"",
                             "\"event\":\"heartbeat\"", "\"event\":\"pong\""}) {
    if (f.find(e) != std::string_view::npos) return true;
  }
  return false;
}
constexpr bool depth_offered(int depth) noexcept { return is_book_depth(depth); }

// Kraken Spot WebSocket v2, `book` channel.
inline constexpr VenueDescriptor kV2Venue{
    .name = "kraken",
    .default_endpoint = "wss://ws.kraken.com/v2",
    .url_marker = "kraken.com/v2",
    .first_frame_is = [](std::string_view f) { return is_v2_frame(f); },
    .depth_ok = [](int d) { return depth_offered(d); },
    .depths_text = OBR_KRAKEN_BOOK_DEPTHS,
    .default_depth = 10,
};

// Kraken Spot WebSocket v1, `book` channel (recordings; the engine connects to v2).
inline constexpr VenueDescriptor kV1Venue{
    .name = "kraken-v1",
    .default_endpoint = "wss://ws.kraken.com",
    .url_marker = "kraken.com",
    .first_frame_is = [](std::string_view f) { return is_v1_frame(f); },
    .depth_ok = [](int d) { return depth_offered(d); },
    .depths_text = OBR_KRAKEN_BOOK_DEPTHS,
    .default_depth = 10,
};

// session_config: the session for `s`. Live, the session drives its connection over the
// endpoints (the descriptor's default when none); a capture tracks every book it meets
// and takes each depth from its ack unless a depth is given.
inline SessionConfig session_config(const SessionSettings& s, std::string_view default_endpoint) {
  SessionConfig c;
  c.depth = s.depth > 0 ? s.depth : 10;
  c.max_frame_bytes = s.max_frame_bytes;
  c.track_any_symbol = s.mode == SessionMode::kCapture;
  c.depth_from_ack = !(s.mode == SessionMode::kCapture && s.depth > 0);
  c.drive_connection = s.mode == SessionMode::kLive;
  c.endpoints = s.endpoints.empty() ? std::vector<std::string>{std::string(default_endpoint)} : s.endpoints;
  c.ping_interval_ns = s.ping_interval_ns;
  return c;
}

}  // namespace obr::connectors::kraken
