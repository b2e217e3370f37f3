// engine/time_text.cpp — ISO 8601 and durations to nanoseconds (engine/time_text.h).
#include "engine/time_text.h"

#include <charconv>

namespace obr::engine {
namespace {

// days_from_civil: days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// algorithm, exact for every date).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr bool leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// digits reads exactly n decimal digits at text[at].
bool digits(std::string_view text, std::size_t at, std::size_t n, unsigned& out) noexcept {
  if (at + n > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

}  // namespace

bool parse_iso8601_ns(std::string_view t, std::int64_t& ns) noexcept {
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(t, 0, 4, year) || t.size() < 10 || t[4] != '-' || !digits(t, 5, 2, month) || t[7] != '-' ||
      !digits(t, 8, 2, day)) {
    return false;
  }
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1970 || year > 2262 || month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap(year) ? 1u : 0u)) {
    return false;
  }
  std::int64_t fraction = 0, offset_s = 0;
  std::size_t at = 10;
  if (t.size() > 10) {
    if ((t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(t, 11, 2, hour) || t.size() < 19 || t[13] != ':' ||
        !digits(t, 14, 2, minute) || t[16] != ':' || !digits(t, 17, 2, second)) {
      return false;
    }
    if (hour > 23 || minute > 59 || second > 59) return false;  // no leap seconds in Unix time
    at = 19;
    if (at < t.size() && t[at] == '.') {
      std::size_t n = 0;
      for (++at; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at, ++n) {
        if (n < 9) fraction = fraction * 10 + (t[at] - '0');
      }
      if (n == 0) return false;
      for (; n < 9; ++n) fraction *= 10;
    }
    if (at < t.size()) {
      if (t[at] == 'Z' || t[at] == 'z') {
        ++at;
      } else if (t[at] == '+' || t[at] == '-') {
        unsigned oh = 0, om = 0;
        if (!digits(t, at + 1, 2, oh) || at + 3 >= t.size() || t[at + 3] != ':' || !digits(t, at + 4, 2, om) ||
            oh > 23 || om > 59) {
          return false;
        }
        offset_s = (t[at] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
        at += 6;
      }
    }
    if (at != t.size()) return false;
  }
  const std::int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  // int64 nanoseconds end at 2262-04-11T23:47:16.854775807Z.
  constexpr std::int64_t kMaxSecs = INT64_MAX / 1'000'000'000;
  if (secs < 0 || secs > kMaxSecs || (secs == kMaxSecs && fraction > INT64_MAX % 1'000'000'000)) return false;
  ns = secs * 1'000'000'000 + fraction;
  return true;
}

bool parse_time_ns(std::string_view text, std::int64_t& ns) noexcept {
  if (text.empty()) return false;
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ns);
    return ec == std::errc() && end == text.data() + text.size();
  }
  return parse_iso8601_ns(text, ns);
}

bool parse_duration_ns(std::string_view text, std::int64_t& ns) noexcept {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data() || n <= 0) return false;
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t per = 0;
  if (unit == "ns") {
    per = 1;
  } else if (unit == "us") {
    per = 1'000;
  } else if (unit == "ms") {
    per = 1'000'000;
  } else if (unit == "s") {
    per = 1'000'000'000;
  } else if (unit == "m") {
    per = 60'000'000'000;
  } else if (unit == "h") {
    per = 3'600'000'000'000;
  } else {
    return false;
  }
  if (n > INT64_MAX / per) return false;
  ns = n * per;
  return true;
}

std::size_t format_iso8601_ns(std::int64_t ns, char* out) noexcept {
  const std::int64_t secs = ns / 1'000'000'000, frac = ns % 1'000'000'000;
  const std::int64_t days = secs / 86400, rem = secs % 86400;
  // civil_from_days (H. Hinnant).
  const std::int64_t z = days + 719468;
  const std::int64_t era = z / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  auto put = [&](std::size_t at, std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, y, 4);
  out[4] = '-';
  put(5, m, 2);
  out[7] = '-';
  put(8, d, 2);
  out[10] = 'T';
  put(11, rem / 3600, 2);
  out[13] = ':';
  put(14, rem / 60 % 60, 2);
  out[16] = ':';
  put(17, rem % 60, 2);
  out[19] = '.';
  put(20, frac, 9);
  out[29] = 'Z';
  out[30] = '\0';
  return 30;
}

}  // namespace obr::engine
