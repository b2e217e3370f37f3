// connectors/bybit/venue.h — Bybit v5 spot, linear and inverse order books as venues: their
// descriptors (connectors/protocol/venue.h) and their session configuration from
// SessionSettings. Rules and sources: docs/venues/bybit.md.
#pragma once

#include <string_view>

#include "connectors/bybit/orderbook_session.h"
#include "connectors/protocol/venue.h"

namespace obr::connectors::bybit {

constexpr bool ends_with(std::string_view s, std::string_view tail) noexcept {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}
constexpr bool is_month_code(char c) noexcept {
  return c == 'F' || c == 'G' || c == 'H' || c == 'J' || c == 'K' || c == 'M' || c == 'N' || c == 'Q' || c == 'U' ||
         c == 'V' || c == 'X' || c == 'Z';
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
// The symbol of a book message's topic ("orderbook.200.BTCUSDT" -> "BTCUSDT").
constexpr std::string_view topic_symbol(std::string_view f) noexcept {
  constexpr std::string_view kKey = "\"topic\":\"orderbook.";
  const std::size_t at = f.find(kKey);
  if (at == std::string_view::npos) return {};
  const std::string_view rest = f.substr(at + kKey.size());
  const std::size_t dot = rest.find('.');
  const std::size_t quote = rest.find('"');
  if (dot == std::string_view::npos || quote == std::string_view::npos || dot > quote) return {};
  return rest.substr(dot + 1, quote - dot - 1);
}
// frame_is: whether `f` tells a connection's category from one of its book messages, by the
// documented form (docs/venues/bybit.md "Telling the category of a recording"): spot writes
// "ts" before "type"; linear and inverse write "type" first, and are told apart by the
// symbol's documented naming: linear contracts settle in USDT or USDC (BTCUSDT, BTCUSDC, BTCPERP,
// BTC-26DEC25), inverse ones in the coin (BTCUSD, BTCUSDH25). False when it tells another
// category, or nothing (answers and pongs never tell).
constexpr bool frame_is(std::string_view f, Category c) noexcept {
  if (f.empty() || f.front() != '{') return false;
  const std::string_view symbol = topic_symbol(f);
  if (symbol.empty()) return false;
  const std::size_t ts = f.find("\"ts\":"), type = f.find("\"type\":");
  if (ts == std::string_view::npos || type == std::string_view::npos) return false;
  if (c == Category::kSpot) return ts < type;
  if (ts < type) return false;
  const bool linear = ends_with(symbol, "USDT") || ends_with(symbol, "USDC") || ends_with(symbol, "PERP") ||
                      symbol.find('-') != std::string_view::npos;
  const std::size_t n = symbol.size();
  const bool inverse =
      ends_with(symbol, "USD") || (n > 6 && symbol.substr(n - 6, 3) == "USD" && is_month_code(symbol[n - 3]) &&
                                   is_digit(symbol[n - 2]) && is_digit(symbol[n - 1]));
  return c == Category::kLinear ? linear && !inverse : inverse && !linear;
}

inline constexpr std::string_view kDepthsText = "1, 50, 200 or 1000";

inline constexpr VenueDescriptor kLinearVenue{
    .name = "bybit-linear",
    .default_endpoint = "wss://stream.bybit.com/v5/public/linear",
    .url_marker = "/v5/public/linear",
    .first_frame_is = [](std::string_view f) { return frame_is(f, Category::kLinear); },
    .depth_ok = [](int d) { return depth_ok(Category::kLinear, d); },
    .depths_text = kDepthsText,
    .default_depth = 200,
    .fixed_precision_text = true,  // linear writes every price and size at the symbol's decimals
};

inline constexpr VenueDescriptor kInverseVenue{
    .name = "bybit-inverse",
    .default_endpoint = "wss://stream.bybit.com/v5/public/inverse",
    .url_marker = "/v5/public/inverse",
    .first_frame_is = [](std::string_view f) { return frame_is(f, Category::kInverse); },
    .depth_ok = [](int d) { return depth_ok(Category::kInverse, d); },
    .depths_text = kDepthsText,
    .default_depth = 200,
    .fixed_precision_text = true,
};

inline constexpr VenueDescriptor kSpotVenue{
    .name = "bybit-spot",
    .default_endpoint = "wss://stream.bybit.com/v5/public/spot",
    .url_marker = "/v5/public/spot",
    .first_frame_is = [](std::string_view f) { return frame_is(f, Category::kSpot); },
    .depth_ok = [](int d) { return depth_ok(Category::kSpot, d); },
    .depths_text = kDepthsText,
    .default_depth = 200,
    .fixed_precision_text = false,  // spot trims trailing zeros ("65140", "0.000123")
};

// session_config: the session for `s` in `category`. A capture tracks every book it meets
// (each at its topic's depth) and drives no connection; live and exact replays drive it as
// the engine did.
inline OrderbookConfig session_config(const SessionSettings& s, Category category) {
  OrderbookConfig c;
  c.category = category;
  c.endpoints = s.endpoints;
  c.depth = s.depth > 0 ? s.depth : 200;
  c.max_frame_bytes = s.max_frame_bytes;
  c.track_any_symbol = s.mode == SessionMode::kCapture;
  c.drive_connection = s.mode != SessionMode::kCapture;
  return c;
}

}  // namespace obr::connectors::bybit
