// connectors/binance/venue.h — Binance spot and USD-M futures diff-depth books as venues:
// their descriptors (connectors/protocol/venue.h) and their session configuration from
// SessionSettings. Rules and sources: docs/venues/binance.md.
#pragma once

#include <string_view>

#include "connectors/binance/depth_session.h"
#include "connectors/protocol/venue.h"

namespace obr::connectors::binance {

// is_depth_frame: a combined stream's frame or a raw depthUpdate; `futures`: one that
// carries USD-M's `pu`.
constexpr bool is_depth_frame(std::string_view f, bool futures) noexcept {
  if (f.empty() || f.front() != '{') return false;
  const bool depth = f.find("\"depthUpdate\"") != std::string_view::npos;
  return depth && (f.find("\"pu\":") != std::string_view::npos) == futures;
}

// Both markets cut a WebSocket connection 24 hours after it opened (docs/venues/binance.md
// "Keepalive, lifetime, shutdown").
inline constexpr std::int64_t kConnectionLifetimeNs = 24LL * 3600 * 1'000'000'000;

// USD-M futures (fstream.binance.com). Listed before spot: its recorded URLs also hold
// spot's marker.
inline constexpr VenueDescriptor kUsdmVenue{
    .name = "binance-usdm",
    .default_endpoint = "wss://fstream.binance.com/stream",
    .default_rest_base = "https://fapi.binance.com",
    .url_marker = "fstream.binance",
    .first_frame_is = [](std::string_view f) { return is_depth_frame(f, true); },
    .depth_ok = [](int d) { return limit_ok(Market::kUsdm, d); },
    .depths_text = "5, 10, 20, 50, 100, 500 or 1000 (REST snapshot levels)",
    .default_depth = 1000,
    // Half of USD-M's 2 400 request weight a minute (docs/venues/binance.md "REST weights").
    .rest_weight_per_s = 20,
    .rest_weight_burst = 400,
    .fixed_precision_text = true,  // Binance writes every price and quantity at its symbol's precision
    .connection_lifetime_ns = kConnectionLifetimeNs,
};

// Spot (stream.binance.com).
inline constexpr VenueDescriptor kSpotVenue{
    .name = "binance",
    .default_endpoint = "wss://stream.binance.com:9443/stream",
    .default_rest_base = "https://api.binance.com",
    .url_marker = "binance",
    .first_frame_is = [](std::string_view f) { return is_depth_frame(f, false); },
    .depth_ok = [](int d) { return limit_ok(Market::kSpot, d); },
    .depths_text = "1 to 5000 (REST snapshot levels)",
    .default_depth = 1000,
    // Half of spot's 6 000 request weight a minute (docs/venues/binance.md "REST weights").
    .rest_weight_per_s = 50,
    .rest_weight_burst = 1000,
    .fixed_precision_text = true,
    .connection_lifetime_ns = kConnectionLifetimeNs,
};

// session_config: the session for `s` on `market`. The depth is the REST snapshot's limit.
// A capture tracks every book it meets and drives no connection; live and exact replays
// drive it as the engine did.
inline DepthConfig session_config(const SessionSettings& s, Market market) {
  DepthConfig c;
  c.market = market;
  c.endpoints = s.endpoints;
  c.rest_base = s.rest_base;
  c.snapshot_limit = s.depth > 0 ? s.depth : 1000;
  c.max_frame_bytes = s.max_frame_bytes;
  c.track_any_symbol = s.mode == SessionMode::kCapture;
  c.drive_connection = s.mode != SessionMode::kCapture;
  // The engine rotates the connection itself (< 0): the session never closes it for age.
  if (s.rotate_after_ns != 0) c.rotate_after_ns = s.rotate_after_ns > 0 ? s.rotate_after_ns : DepthConfig::kNeverRotate;
  return c;
}

}  // namespace obr::connectors::binance
