// engine/time_text.h — recorded times as text: ISO 8601 instants and durations, to the
// nanosecond, without floating point (docs/replay.md "Times").
//
//   std::int64_t ns;
//   obr::engine::parse_time_ns("2021-04-17T16:48:52.25Z", ns);  // also "1618678132250000000"
//   obr::engine::parse_duration_ns("100ms", ns);                   // ns, us, ms, s, m, h
//   char buf[obr::engine::kIsoTimeChars];
//   obr::engine::format_iso8601_ns(ns, buf);                       // "2021-04-17T16:48:52.250000000Z"
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace obr::engine {

// parse_iso8601_ns: `YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]` (a space may stand
// for the T; no zone means UTC; fraction digits beyond 9 are truncated), or a date alone
// `YYYY-MM-DD` (midnight UTC). Years 1970 to 2262 (what int64 nanoseconds hold). False
// when the text is not one of these, or names a day or time that does not exist.
bool parse_iso8601_ns(std::string_view text, std::int64_t& ns) noexcept;

// parse_time_ns: an ISO 8601 instant as above, or Unix nanoseconds (digits only).
bool parse_time_ns(std::string_view text, std::int64_t& ns) noexcept;

// parse_duration_ns: a positive whole number with a unit: ns, us, ms, s, m (minutes), h.
bool parse_duration_ns(std::string_view text, std::int64_t& ns) noexcept;

// format_iso8601_ns writes `ns` (>= 0) as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`; returns the
// length (kIsoTimeChars - 1). The buffer needs kIsoTimeChars bytes (a NUL is written).
inline constexpr std::size_t kIsoTimeChars = 31;
std::size_t format_iso8601_ns(std::int64_t ns, char* out) noexcept;

}  // namespace obr::engine
