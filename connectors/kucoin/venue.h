// connectors/kucoin/venue.h — KuCoin spot level2 as a venue: its descriptor
// (connectors/protocol/venue.h) and its session configuration from SessionSettings.
// Rules and sources: docs/venues/kucoin.md.
#pragma once

#include <string_view>

#include "connectors/kucoin/spot_session.h"
#include "connectors/protocol/venue.h"

namespace obr::connectors::kucoin {

// is_kucoin_frame: a JSON object whose `type` is one of KuCoin's (welcome, ack, message,
// pong, error, notice). Other venues' objects have a `type` too (Bybit's "snapshot" and
// "delta"), so the value is what tells.
constexpr bool is_kucoin_frame(std::string_view f) noexcept {
  if (f.empty() || f.front() != '{') return false;
  constexpr std::string_view kKey = "\"type\":\"";
  for (std::size_t at = f.find(kKey); at != std::string_view::npos; at = f.find(kKey, at + 1)) {
    const std::string_view rest = f.substr(at + kKey.size());
    for (std::string_view t : {"welcome\"", "ack\"", "message\"", "pong\"", "error\"", "notice\""}) {
      if (rest.substr(0, t.size()) == t) return true;
    }
  }
  return false;
}

inline constexpr VenueDescriptor kSpotVenue{
    .name = "kucoin",
    .default_rest_base = "https://api.kucoin.com",
    .url_marker = "kucoin",
    .first_frame_is = [](std::string_view f) { return is_kucoin_frame(f); },
    .depths_text = {},
    .default_depth = 0,
    .fixed_precision_text = false,  // KuCoin's numbers carry no fixed number of decimals
    // KuCoin closes a connection 24 hours after it opened (docs/venues/kucoin.md).
    .connection_lifetime_ns = 24LL * 3600 * 1'000'000'000,
};

// session_config: the session for `s`. A capture tracks every book it meets and drives no
// connection; live and exact replays drive it (token, welcome, ping) as the engine did.
inline SpotConfig session_config(const SessionSettings& s) {
  SpotConfig c;
  c.rest_base = s.rest_base.empty() ? std::string(kSpotVenue.default_rest_base) : s.rest_base;
  c.credentials = Credentials{s.credentials.key, s.credentials.secret, s.credentials.passphrase};
  c.max_frame_bytes = s.max_frame_bytes;
  c.track_any_symbol = s.mode == SessionMode::kCapture;
  c.drive_connection = s.mode != SessionMode::kCapture;
  // The engine rotates the connection itself (< 0): the session never closes it for age.
  if (s.rotate_after_ns != 0) c.rotate_after_ns = s.rotate_after_ns > 0 ? s.rotate_after_ns : SpotConfig::kNeverRotate;
  return c;
}

}  // namespace obr::connectors::kucoin
