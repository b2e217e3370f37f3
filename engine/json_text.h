// engine/json_text.h — one JSON string literal, for the summaries obr's commands print.
//
//   std::string out = "{\"venue\":";
//   obr::engine::append_json_string(out, venue);   // "kraken", quotes and escapes included
//
// Thread-safety: pure.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace obr::engine {

// append_json_string appends `s` as a JSON string: quoted, with `"` and `\` escaped,
// newline, carriage return and tab as \n \r \t, other control bytes as \u00XX. Other bytes
// are copied as they are (obr's texts are UTF-8 or ASCII).
inline void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace obr::engine
