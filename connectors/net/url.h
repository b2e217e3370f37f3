// connectors/net/url.h — split a ws://, wss://, http:// or https:// URL into the parts a
// connection needs.
//
//   obr::net::Url url;
//   if (!obr::net::parse_url("wss://ws.kraken.com/v2", url)) { ... }  // url.host == "ws.kraken.com"
//
// Header-only, no Boost. Cost: a few small string copies (control path only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace obr::net {

// Url is a parsed absolute URL. `target` is the path plus query ("/v2", "/?token=x"); it
// is never empty.
struct Url {
  std::string scheme;  // "ws", "wss", "http" or "https"
  std::string host;    // name or address, without brackets
  std::string port;    // explicit, or the scheme's default
  std::string target;  // path and query
  bool tls = false;    // wss or https
};

// parse_url fills `out` from `text`; false (and `out` unspecified) when the scheme is not
// one of the four above, the host is empty, or the port is not a number in 1..65535.
inline bool parse_url(std::string_view text, Url& out) {
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos) return false;
  out.scheme.assign(text.substr(0, colon));
  if (out.scheme == "ws" || out.scheme == "http") {
    out.tls = false;
  } else if (out.scheme == "wss" || out.scheme == "https") {
    out.tls = true;
  } else {
    return false;
  }
  std::string_view rest = text.substr(colon + 3);
  const std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!out.target.empty() && out.target.front() == '?') out.target.insert(0, "/");
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:443
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    out.host.assign(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
    }
  } else {
    const std::size_t pc = authority.rfind(':');
    out.host.assign(authority.substr(0, pc));
    if (pc != std::string_view::npos) port = authority.substr(pc + 1);
  }
  if (out.host.empty()) return false;
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
    return true;
  }
  if (port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  out.port.assign(port);
  return true;
}

}  // namespace obr::net
