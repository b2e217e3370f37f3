// connectors/okx/venue.h — OKX v5 order books as a venue: its descriptor
// (connectors/protocol/venue.h) and its session configuration from SessionSettings.
// Rules and sources: docs/venues/okx.md.
#pragma once

#include <string_view>

#include "connectors/okx/books_session.h"
#include "connectors/protocol/venue.h"

namespace obr::connectors::okx {

// is_okx_frame: a push or an answer naming its channel in `arg` ({"arg":{"channel":…}),
// the form only OKX's v5 frames have among the venues.
constexpr bool is_okx_frame(std::string_view f) noexcept {
  return !f.empty() && f.front() == '{' && f.find("\"arg\":{\"channel\":\"") != std::string_view::npos;
}

inline constexpr VenueDescriptor kVenue{
    .name = "okx",
    .default_endpoint = kDefaultEndpoint,
    .url_marker = "/ws/v5/public",
    .first_frame_is = [](std::string_view f) { return is_okx_frame(f); },
    .depth_ok = [](int d) { return !channel_for(d).empty(); },
    .depths_text = "5 (books5), 50 (books50-l2-tbt) or 400 (books)",
    .default_depth = 400,
    .fixed_precision_text = false,  // OKX writes numbers without trailing zeros
};

// session_config: the session for `s`. A capture tracks every book it meets (each on the
// channel its messages name) and drives no connection.
inline BooksConfig session_config(const SessionSettings& s) {
  BooksConfig c;
  c.endpoints = s.endpoints;
  c.depth = s.depth > 0 ? s.depth : 400;
  c.max_frame_bytes = s.max_frame_bytes;
  c.track_any_symbol = s.mode == SessionMode::kCapture;
  c.drive_connection = s.mode != SessionMode::kCapture;
  return c;
}

}  // namespace obr::connectors::okx
