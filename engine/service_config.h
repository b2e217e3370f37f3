// engine/service_config.h — the configuration of `obr run`, the engine as a service: the
// engine's config file (engine/config_file.h: the same keys, the same strictness, the
// same errors) with three optional top-level sections (docs/operations.md):
//
//   absl::StatusOr<obr::engine::ServiceConfig> c = obr::engine::load_service_config("obr.json");
//
//   "record":  {"path": "/var/lib/obr/run.obr.gz", "rotate_mb": 256, "rotate_every_ms": 3600000},
//   "deadman": {"url": "https://monitor.example/ping/abc", "interval_ms": 10000, "method": "GET",
//               "books": ["kraken:BTC/USD"]},            // optional; default: every book
//   "bus":     {"nats": ["nats://127.0.0.1:4222"], "engine_id": "e1", "shards": 16,
//               "lease_ttl_ms": 3000, "snapshot_every_changes": 1000, "snapshot_every_ms": 1000,
//               "heartbeat_ms": 500, "books_bucket": "obr_books", "leases_bucket": "obr_leases",
//               "subject_prefix": "obr", "replicas": 1, "writes": "flush_thread"}
//
// Required within a section: record.path; deadman.url and deadman.interval_ms; bus.nats
// and bus.engine_id. Every other key has the default of its struct below. Unknown keys
// are errors naming the key path, and so is every value out of its bounds:
//   record.rotate_mb          0 (no size rotation) to 1048576 (about 1 TB), in MB of 10^6 bytes
//   record.rotate_every_ms    0 (no time rotation), or 1000 to 86400000 (24 h)
//   deadman.url               an http:// or https:// URL with a host
//   deadman.interval_ms       100 to 86400000
//   deadman.method            "GET" or "POST"
//   deadman.books             VENUE:SYMBOL, each a book of this file's venues
//   bus.nats                  nats:// or tls:// URLs with a host, at least one
//   bus.engine_id             1 to 64 of [A-Za-z0-9_-]
//   bus.shards                1 to 4096
//   bus.lease_ttl_ms          1000 to 86400000
//   bus.heartbeat_ms          50 to 86400000, and below bus.lease_ttl_ms
//   bus.snapshot_every_changes 1 to 1000000000
//   bus.snapshot_every_ms     100 to 86400000
//   bus.books_bucket, bus.leases_bucket  1 to 64 of [A-Za-z0-9_-]
//   bus.subject_prefix        tokens of [A-Za-z0-9_-] joined by '.', 1 to 64 characters
//   bus.replicas              1 to 5
//   bus.writes                "flush_thread", "asap" or "batched"
// Errors: "obr.json: bus.shards: out of range (1 to 4096)".
//
// Thread-safety: reentrant.
#pragma once

#include <absl/status/statusor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine.h"

namespace obr::engine {

// RecordSettings: the run is recorded to `path` (docs/recording.md), a new file begun
// after rotate_bytes of it (0: never by size) and every rotate_every_ns (0: never by time).
struct RecordSettings {
  std::string path;
  std::uint64_t rotate_bytes = 0;
  std::int64_t rotate_every_ns = 0;
};

// DeadmanSettings: the dead man's switch (engine/deadman.h): a `method` request to `url`
// every interval_ns while every book of `books` (empty: every book of the engine) is live.
struct DeadmanSettings {
  std::string url;
  std::int64_t interval_ns = 0;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> books;  // (venue, symbol)
};

// BusSettings: publishing the books over NATS (docs/bus.md), parsed and held to their
// bounds here; the bus itself reads them.
struct BusSettings {
  std::vector<std::string> nats;
  std::string engine_id;
  int shards = 16;
  std::int64_t lease_ttl_ns = 3'000'000'000;
  std::uint64_t snapshot_every_changes = 1000;
  std::int64_t snapshot_every_ns = 1'000'000'000;
  std::int64_t heartbeat_ns = 500'000'000;
  std::string books_bucket = "obr_books";
  std::string leases_bucket = "obr_leases";
  std::string subject_prefix = "obr";
  int replicas = 1;
  // writes: how messages reach the socket (docs/bus.md "Figures"): "flush_thread" (the
  // default: at once when the bus is quiet, in batches when busy), "asap" (a write per
  // message) or "batched" (the NATS client's own, 1 ms later).
  std::string writes = "flush_thread";
};

struct ServiceConfig {
  EngineConfig engine;
  std::optional<RecordSettings> record;
  std::optional<DeadmanSettings> deadman;
  std::optional<BusSettings> bus;
};

// load_service_config: the file at `path`; NotFound when it cannot be read, InvalidArgument
// "PATH: key.path: what" for anything wrong in it.
absl::StatusOr<ServiceConfig> load_service_config(const std::string& path);
// parse_service_config_json: the same from text; `source` names it in errors.
absl::StatusOr<ServiceConfig> parse_service_config_json(std::string_view json, std::string_view source);

}  // namespace obr::engine
