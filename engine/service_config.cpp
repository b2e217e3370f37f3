#include "engine/service_config.h"

#include <simdjson.h>

#include <algorithm>
#include <limits>
#include <string>

#include "connectors/net/url.h"
#include "engine/config_reader_impl.h"

namespace obr::engine {
namespace {

using detail::ConfigReader;
using detail::join;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::int64_t kNsPerMs = config_bounds::kNsPerMs;
constexpr std::int64_t kMaxMs = config_bounds::kMaxTimeNs / kNsPerMs;  // 24 h, as every engine time
constexpr std::int64_t kMinTimerMs = config_bounds::kMinTimerNs / kNsPerMs;
constexpr std::int64_t kMaxRotateMb = 1 << 20;  // about 1 TB
constexpr std::int64_t kMinRotateEveryMs = 1000;
constexpr std::size_t kMaxNameChars = 64;

// name_chars: 1 to kMaxNameChars of [A-Za-z0-9_-] (an engine id, a key-value bucket's name).
bool name_chars(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameChars) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// subject_prefix: NATS subject tokens of name_chars joined by '.'.
bool subject_prefix(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameChars) return false;
  for (std::size_t start = 0;;) {
    const std::size_t dot = s.find('.', start);
    if (!name_chars(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// nats_url: nats://HOST[:PORT] or tls://HOST[:PORT] (a user part before '@' allowed), one word.
bool nats_url(std::string_view s) {
  std::string_view rest;
  if (s.starts_with("nats://")) {
    rest = s.substr(7);
  } else if (s.starts_with("tls://")) {
    rest = s.substr(6);
  } else {
    return false;
  }
  if (!one_word(rest)) return false;
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  const std::size_t end = rest.find_first_of(":/");
  return end != 0 && !rest.empty();
}

// ms_field reads whole milliseconds in [min_ms, max_ms] into ns.
bool ms_field(ConfigReader& r, element v, const std::string& path, std::int64_t min_ms, std::int64_t max_ms,
              std::int64_t& out_ns) {
  std::int64_t ms = 0;
  if (!r.integer(v, path, min_ms, max_ms, ms)) return false;
  out_ns = ms * kNsPerMs;
  return true;
}

bool record(ConfigReader& r, element e, RecordSettings& out) {
  object o;
  if (!r.obj(e, "record", o)) return false;
  bool have_path = false;
  for (auto [key, v] : o) {
    const std::string path = join("record", key);
    std::int64_t n = 0;
    if (key == "path") {
      if (!r.string(v, path, out.path)) return false;
      if (out.path.empty()) return r.fail(path, "an empty string");
      have_path = true;
    } else if (key == "rotate_mb") {
      if (!r.integer(v, path, 0, kMaxRotateMb, n)) return false;
      out.rotate_bytes = static_cast<std::uint64_t>(n) * 1'000'000;  // MB as obr record --rotate-mb: 10^6 bytes
    } else if (key == "rotate_every_ms") {
      constexpr std::int64_t kAny = std::numeric_limits<std::int64_t>::max();
      if (!r.integer(v, path, -kAny, kAny, n)) return false;
      if (n != 0 && (n < kMinRotateEveryMs || n > kMaxMs)) {
        return r.fail(path, "out of range (0 for no rotation by time, or " + std::to_string(kMinRotateEveryMs) +
                                " to " + std::to_string(kMaxMs) + ")");
      }
      out.rotate_every_ns = n * kNsPerMs;
    } else {
      return r.fail(path, "unknown key (expected path, rotate_mb, rotate_every_ms)");
    }
  }
  if (!have_path) return r.fail("record", "needs path (the recording to write)");
  return true;
}

// deadman reads the section; `books` keeps each book's text and key path for the check
// against the engine's books once the whole file is read.
bool deadman(ConfigReader& r, element e, DeadmanSettings& out,
             std::vector<std::pair<std::string, std::string>>& book_paths) {
  object o;
  if (!r.obj(e, "deadman", o)) return false;
  bool have_url = false, have_interval = false;
  for (auto [key, v] : o) {
    const std::string path = join("deadman", key);
    if (key == "url") {
      if (!r.string(v, path, out.url)) return false;
      net::Url url;
      if (!net::parse_url(out.url, url) || (url.scheme != "http" && url.scheme != "https") || !one_word(out.url)) {
        return r.fail(path, "'" + out.url + "' is not an http:// or https:// URL with a host");
      }
      have_url = true;
    } else if (key == "interval_ms") {
      if (!ms_field(r, v, path, kMinTimerMs, kMaxMs, out.interval_ns)) return false;
      have_interval = true;
    } else if (key == "method") {
      if (!r.string(v, path, out.method)) return false;
      if (out.method != "GET" && out.method != "POST") {
        return r.fail(path, "'" + out.method + "' is not GET or POST");
      }
    } else if (key == "books") {
      std::vector<std::string> refs;
      if (!r.strings(v, path, refs)) return false;
      if (refs.empty()) return r.fail(path, "an empty list (leave the key out to cover every book)");
      out.books.clear();
      for (std::size_t i = 0; i < refs.size(); ++i) {
        const std::string item = path + "[" + std::to_string(i) + "]";
        const std::string& ref = refs[i];
        const std::size_t colon = ref.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == ref.size()) {
          return r.fail(item, "'" + ref + "' is not VENUE:SYMBOL (e.g. kraken:BTC/USD)");
        }
        out.books.emplace_back(ref.substr(0, colon), ref.substr(colon + 1));
        book_paths.emplace_back(item, ref);
      }
    } else {
      return r.fail(path, "unknown key (expected url, interval_ms, method, books)");
    }
  }
  if (!have_url) return r.fail("deadman", "needs url (where the requests go)");
  if (!have_interval) return r.fail("deadman", "needs interval_ms (how often a request goes)");
  return true;
}

bool bus(ConfigReader& r, element e, BusSettings& out) {
  object o;
  if (!r.obj(e, "bus", o)) return false;
  bool have_nats = false, have_id = false;
  for (auto [key, v] : o) {
    const std::string path = join("bus", key);
    std::int64_t n = 0;
    if (key == "nats") {
      if (!r.strings(v, path, out.nats)) return false;
      if (out.nats.empty()) return r.fail(path, "at least one server URL (nats://HOST:PORT)");
      for (std::size_t i = 0; i < out.nats.size(); ++i) {
        if (!nats_url(out.nats[i])) {
          return r.fail(path + "[" + std::to_string(i) + "]",
                        "'" + out.nats[i] + "' is not a nats:// or tls:// URL with a host");
        }
      }
      have_nats = true;
    } else if (key == "engine_id") {
      if (!r.string(v, path, out.engine_id)) return false;
      if (!name_chars(out.engine_id)) {
        return r.fail(path, "'" + out.engine_id + "' is not 1 to 64 of A-Z a-z 0-9 _ -");
      }
      have_id = true;
    } else if (key == "shards") {
      if (!r.integer(v, path, 1, 4096, n)) return false;
      out.shards = static_cast<int>(n);
    } else if (key == "lease_ttl_ms") {
      if (!ms_field(r, v, path, 1000, kMaxMs, out.lease_ttl_ns)) return false;
    } else if (key == "heartbeat_ms") {
      if (!ms_field(r, v, path, 50, kMaxMs, out.heartbeat_ns)) return false;
    } else if (key == "snapshot_every_changes") {
      if (!r.integer(v, path, 1, 1'000'000'000, n)) return false;
      out.snapshot_every_changes = static_cast<std::uint64_t>(n);
    } else if (key == "snapshot_every_ms") {
      if (!ms_field(r, v, path, kMinTimerMs, kMaxMs, out.snapshot_every_ns)) return false;
    } else if (key == "books_bucket" || key == "leases_bucket") {
      std::string& field = key == "books_bucket" ? out.books_bucket : out.leases_bucket;
      if (!r.string(v, path, field)) return false;
      if (!name_chars(field)) return r.fail(path, "'" + field + "' is not 1 to 64 of A-Z a-z 0-9 _ -");
    } else if (key == "subject_prefix") {
      if (!r.string(v, path, out.subject_prefix)) return false;
      if (!subject_prefix(out.subject_prefix)) {
        return r.fail(
            path, "'" + out.subject_prefix + "' is not 1 to 64 characters of tokens of A-Z a-z 0-9 _ - joined by '.'");
      }
    } else if (key == "replicas") {
      if (!r.integer(v, path, 1, 5, n)) return false;
      out.replicas = static_cast<int>(n);
    } else if (key == "writes") {
      std::string w;
      if (!r.string(v, path, w)) return false;
      if (w != "flush_thread" && w != "asap" && w != "batched") {
        return r.fail(path, "'" + w + "' is not flush_thread, asap or batched");
      }
      out.writes = w;
    } else {
      return r.fail(path,
                    "unknown key (expected nats, engine_id, shards, lease_ttl_ms, snapshot_every_changes, "
                    "snapshot_every_ms, heartbeat_ms, books_bucket, leases_bucket, subject_prefix, replicas, "
                    "writes)");
    }
  }
  if (!have_nats) return r.fail("bus", "needs nats (the NATS server URLs)");
  if (!have_id) return r.fail("bus", "needs engine_id (this process's name among the engines)");
  if (out.heartbeat_ns >= out.lease_ttl_ns) {
    // (Only a heartbeat_ms given can be: the default, 500, is below the least lease_ttl_ms.)
    return r.fail("bus.heartbeat_ms", "bus.heartbeat_ms (" + std::to_string(out.heartbeat_ns / kNsPerMs) +
                                          ") must be below bus.lease_ttl_ms (" +
                                          std::to_string(out.lease_ttl_ns / kNsPerMs) +
                                          "): a lease is renewed every heartbeat");
  }
  return true;
}

}  // namespace

absl::StatusOr<ServiceConfig> parse_service_config_json(std::string_view json, std::string_view source) {
  ServiceConfig out;
  std::vector<std::pair<std::string, std::string>> book_paths;  // (key path, VENUE:SYMBOL)
  const detail::SectionParser section = [&](ConfigReader& r, std::string_view key, element value) {
    const std::string path(key);
    if (key == "record") {
      if (out.record) return r.fail(path, "given twice");
      return record(r, value, out.record.emplace());
    }
    if (key == "deadman") {
      if (out.deadman) return r.fail(path, "given twice");
      return deadman(r, value, out.deadman.emplace(), book_paths);
    }
    if (out.bus) return r.fail(path, "given twice");
    return bus(r, value, out.bus.emplace());
  };
  absl::StatusOr<EngineConfig> engine =
      detail::parse_engine_config(json, source, {"record", "deadman", "bus"}, section);
  if (!engine.ok()) return engine.status();
  out.engine = *std::move(engine);
  // Every book the switch covers is one the engine keeps: a book it never subscribes
  // would hold the switch off forever.
  for (std::size_t i = 0; i < book_paths.size(); ++i) {
    const auto& [venue, symbol] = out.deadman->books[i];
    const VenueConfig* v = out.engine.find_venue(venue);
    if (v == nullptr || std::find(v->symbols.begin(), v->symbols.end(), symbol) == v->symbols.end()) {
      return absl::InvalidArgumentError(std::string(source) + ": " + book_paths[i].first + ": '" +
                                        book_paths[i].second + "' is not a book of this file (" +
                                        (v == nullptr ? "no " + venue + " section" : venue + ".symbols") + ")");
    }
  }
  return out;
}

absl::StatusOr<ServiceConfig> load_service_config(const std::string& path) {
  absl::StatusOr<std::string> text = detail::read_config_file(path);
  if (!text.ok()) return text.status();
  return parse_service_config_json(*text, path);
}

}  // namespace obr::engine
