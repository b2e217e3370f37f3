#include "engine/config_file.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "engine/config_reader_impl.h"

namespace obr::engine {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

using detail::ConfigReader;
using detail::join;

// The engine's bounds (config_bounds), in the file's whole milliseconds.
constexpr std::int64_t kMaxMs = config_bounds::kMaxTimeNs / config_bounds::kNsPerMs;
constexpr std::int64_t kMinBackoffMs = config_bounds::kMinBackoffNs / config_bounds::kNsPerMs;
constexpr std::int64_t kMinTimerMs = config_bounds::kMinTimerNs / config_bounds::kNsPerMs;

// venue reads one venue's object: the same keys for every venue (engine.h VenueConfig);
// what a venue has no use for is refused by check_config, naming the key.
bool venue(ConfigReader& r, std::string_view name, element e, EngineConfig& c) {
  const std::string root(name);
  object o;
  if (!r.obj(e, root, o)) return false;
  if (c.find_venue(name) != nullptr) return r.fail(root, "given twice");
  VenueConfig& v = c.venue(name);
  for (auto [key, value] : o) {
    const std::string path = join(root, key);
    if (key == "symbols") {
      if (!r.strings(value, path, v.symbols) || !r.words(v.symbols, path)) return false;
    } else if (key == "depth") {
      std::int64_t d = 0;
      if (!r.integer(value, path, 1, 1'000'000, d)) return false;
      v.depth = static_cast<int>(d);
    } else if (key == "endpoints") {
      if (!r.strings(value, path, v.endpoints)) return false;
      if (v.endpoints.empty()) return r.fail(path, "at least one endpoint");
    } else if (key == "rest_base") {
      if (!r.string(value, path, v.rest_base) || !r.words({v.rest_base}, path)) return false;
    } else if (key == "credentials_env") {
      object env;
      if (!r.obj(value, path, env)) return false;
      std::string names[3];
      for (auto [k, val] : env) {
        const std::string p = join(path, k);
        const int slot = k == "key" ? 0 : k == "secret" ? 1 : k == "passphrase" ? 2 : -1;
        if (slot < 0) return r.fail(p, "unknown key (expected key, secret, passphrase)");
        if (!r.string(val, p, names[slot])) return false;
      }
      std::string* fields[3] = {&v.credentials.key, &v.credentials.secret, &v.credentials.passphrase};
      for (int i = 0; i < 3; ++i) {
        if (names[i].empty()) return r.fail(path, "needs key, secret and passphrase variable names");
        const char* env_value = std::getenv(names[i].c_str());
        if (env_value == nullptr || *env_value == 0) {
          return r.fail(path, "environment variable " + names[i] + " is not set");
        }
        fields[i]->assign(env_value);
      }
    } else {
      return r.fail(path, "unknown key (expected symbols, depth, endpoints, rest_base, credentials_env)");
    }
  }
  return true;
}

bool consolidated(ConfigReader& r, element e, EngineConfig& c) {
  object o;
  if (!r.obj(e, "consolidated", o)) return false;
  for (auto [name, value] : o) {
    const std::string path = join("consolidated", name);
    std::vector<std::string> refs;
    if (!r.strings(value, path, refs)) return false;
    ConsolidatedInstrument inst;
    inst.name.assign(name);
    for (const std::string& ref : refs) {
      const std::size_t colon = ref.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == ref.size()) {
        return r.fail(path, "'" + ref + "' is not VENUE:SYMBOL (e.g. kraken:BTC/USD)");
      }
      inst.books.push_back({ref.substr(0, colon), ref.substr(colon + 1)});
      if (!is_venue(inst.books.back().venue)) {
        return r.fail(path, "unknown venue '" + inst.books.back().venue + "' (" + venue_names() + ")");
      }
    }
    c.consolidated.push_back(std::move(inst));
  }
  return true;
}

}  // namespace

std::string strip_json_comments(std::string_view json) {
  std::string out(json);
  bool in_string = false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '/' && i + 1 < out.size() && out[i + 1] == '/') {
      for (; i < out.size() && out[i] != '\n'; ++i) out[i] = ' ';
    } else if (c == '/' && i + 1 < out.size() && out[i + 1] == '*') {
      out[i] = out[i + 1] = ' ';
      for (i += 2; i < out.size() && !(out[i] == '*' && i + 1 < out.size() && out[i + 1] == '/'); ++i) {
        if (out[i] != '\n') out[i] = ' ';
      }
      if (i < out.size()) out[i] = out[i + 1] = ' ';  // the closing */ (an unclosed one runs to the end)
      ++i;
    }
  }
  return out;
}

namespace detail {

absl::StatusOr<EngineConfig> parse_engine_config(std::string_view json, std::string_view source,
                                                 const std::vector<std::string_view>& extra_keys,
                                                 const SectionParser& section) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(strip_json_comments(json));
  element doc;
  if (auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(std::string(source) + ": not valid JSON (" + simdjson::error_message(err) + ")");
  }
  ConfigReader r(source);
  EngineConfig c;
  std::string extra_names;  // ", record, deadman" for the unknown-key message
  for (std::string_view k : extra_keys) extra_names += ", " + std::string(k);
  object root;
  if (!r.obj(doc, "(top level)", root)) return absl::InvalidArgumentError(r.error());
  for (auto [key, value] : root) {
    const std::string path(key);
    std::int64_t ms = 0, n = 0;
    bool ok = true;
    if (is_venue(key)) {
      ok = venue(r, key, value, c);
    } else if (std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end()) {
      ok = section(r, key, value);
    } else if (key == "tls") {
      object o;
      if (!r.obj(value, path, o)) return absl::InvalidArgumentError(r.error());  // never iterate a null object
      for (auto [k, v] : o) {
        if (!ok) break;
        if (k == "verify_peer") {
          ok = r.boolean(v, join(path, k), c.tls.verify_peer);
        } else if (k == "ca_file") {
          ok = r.string(v, join(path, k), c.tls.ca_file);
        } else {
          ok = r.fail(join(path, k), "unknown key (expected verify_peer, ca_file)");
        }
      }
    } else if (key == "backoff") {
      object o;
      if (!r.obj(value, path, o)) return absl::InvalidArgumentError(r.error());
      for (auto [k, v] : o) {
        if (!ok) break;
        std::int64_t* field = k == "base_ms"     ? &c.backoff.base_ns
                              : k == "cap_ms"    ? &c.backoff.cap_ns
                              : k == "stable_ms" ? &c.backoff.stable_ns
                                                 : nullptr;
        if (field == nullptr) {
          ok = r.fail(join(path, k), "unknown key (expected base_ms, cap_ms, stable_ms)");
        } else if ((ok = r.integer(v, join(path, k), kMinBackoffMs, kMaxMs, ms))) {
          *field = ms * config_bounds::kNsPerMs;
        }
      }
    } else if (key == "watchdog_ms") {
      if ((ok = r.integer(value, path, kMinTimerMs, kMaxMs, ms))) c.watchdog_ns = ms * config_bounds::kNsPerMs;
    } else if (key == "ping_interval_ms") {
      if ((ok = r.integer(value, path, kMinTimerMs, kMaxMs, ms))) c.ping_interval_ns = ms * config_bounds::kNsPerMs;
    } else if (key == "rotate_after_ms") {
      // 0: the venue's connection lifetime minus EngineConfig::kRotationMarginNs.
      constexpr std::int64_t kAny = std::numeric_limits<std::int64_t>::max();
      if ((ok = r.integer(value, path, -kAny, kAny, ms)) && ms != 0 && (ms < kMinTimerMs || ms > kMaxMs)) {
        ok = r.fail(path, "out of range (0 for the venue's lifetime minus 1 h, or " + std::to_string(kMinTimerMs) +
                              " to " + std::to_string(kMaxMs) + ")");
      }
      if (ok) c.rotate_after_ns = ms * config_bounds::kNsPerMs;
    } else if (key == "rotate_timeout_ms") {
      if ((ok = r.integer(value, path, kMinTimerMs, kMaxMs, ms))) c.rotate_timeout_ns = ms * config_bounds::kNsPerMs;
    } else if (key == "max_message_bytes") {
      if ((ok = r.integer(value, path, config_bounds::kMinMessageBytes, config_bounds::kMaxMessageBytes, n))) {
        c.max_message_bytes = static_cast<std::size_t>(n);
      }
    } else if (key == "snapshot_rate_per_s") {
      double x = 0;
      if ((ok = r.number(value, path, config_bounds::kMinSnapshotRate, config_bounds::kMaxSnapshotRate, x))) {
        c.snapshot_rate_per_s = x;
      }
    } else if (key == "snapshot_burst") {
      double x = 0;
      if ((ok = r.number(value, path, config_bounds::kMinSnapshotBurst, config_bounds::kMaxSnapshotBurst, x))) {
        c.snapshot_burst = x;
      }
    } else if (key == "consolidated") {
      ok = consolidated(r, value, c);
    } else if (key == "http_listen") {
      ok = r.string(value, path, c.http_listen);
    } else {
      ok = r.fail(path, "unknown key (expected a venue (" + venue_names() +
                            "), tls, backoff, watchdog_ms, ping_interval_ms, rotate_after_ms, rotate_timeout_ms, "
                            "max_message_bytes, "
                            "snapshot_rate_per_s, snapshot_burst, consolidated, http_listen" +
                            extra_names + ")");
    }
    if (!ok) return absl::InvalidArgumentError(r.error());
  }
  if (std::all_of(c.venues.begin(), c.venues.end(), [](const VenueConfig& v) { return v.symbols.empty(); })) {
    return absl::InvalidArgumentError(std::string(source) + ": no symbols: set VENUE.symbols for a venue (" +
                                      venue_names() + ")");
  }
  if (c.backoff.base_ns > c.backoff.cap_ns) {
    return absl::InvalidArgumentError(std::string(source) + ": backoff.base_ms is above backoff.cap_ms");
  }
  // The engine's own check: the keys above use its bounds (config_bounds) and name the
  // key; this holds the file to any rule of check_config that no key repeats.
  if (absl::Status st = check_config(c); !st.ok()) {
    return absl::InvalidArgumentError(std::string(source) + ": " + std::string(st.message()));
  }
  return c;
}

absl::StatusOr<std::string> read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open the config file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace detail

absl::StatusOr<EngineConfig> parse_config_json(std::string_view json, std::string_view source) {
  return detail::parse_engine_config(json, source, {}, {});
}

absl::StatusOr<EngineConfig> load_config(const std::string& path) {
  absl::StatusOr<std::string> text = detail::read_config_file(path);
  if (!text.ok()) return text.status();
  return parse_config_json(*text, path);
}

}  // namespace obr::engine
