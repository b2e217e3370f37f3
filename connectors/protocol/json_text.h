// connectors/protocol/json_text.h — small helpers for raw JSON tokens (as returned by
// simdjson's raw_json_token(): the token's text plus any whitespace after it).
#pragma once

#include <string_view>

namespace obr::connectors {

// trim_token drops the whitespace simdjson leaves after a raw token.
constexpr std::string_view trim_token(std::string_view token) noexcept {
  while (!token.empty() &&
         (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' || token.back() == '\t')) {
    token.remove_suffix(1);
  }
  return token;
}

// unquote returns the text of a raw JSON string token without escapes ("0.05120" ->
// 0.05120), a bare number token as it is, and "" for anything else (objects, arrays,
// strings with escapes, which no venue uses for numbers).
constexpr std::string_view unquote(std::string_view token) noexcept {
  token = trim_token(token);
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    const std::string_view inner = token.substr(1, token.size() - 2);
    return inner.find('\\') == std::string_view::npos ? inner : std::string_view();
  }
  if (!token.empty() && token.front() != '"' && token.front() != '[' && token.front() != '{') return token;
  return {};
}

}  // namespace obr::connectors
