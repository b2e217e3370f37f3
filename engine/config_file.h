// engine/config_file.h — an EngineConfig from a JSON file, for `obr record` and `obr
// watch`, and for programs that would rather configure the engine from a file. `obr run`
// reads the same file with three more sections (engine/service_config.h).
//
//   absl::StatusOr<obr::engine::EngineConfig> c = obr::engine::load_config("obr.json");
//
// JSON with comments: `// to the end of the line` and `/* ... */` outside strings are
// ignored (examples/configs/ holds a commented file for each use). Every key is optional
// except that at least one venue must have symbols; unknown keys are errors (a typo must not silently fall back to a
// default). Times are in milliseconds. Credentials are never in the file: `credentials_env` names the environment
// variables holding them.
//
//   {
//     "kraken": {"symbols": ["BTC/USD"], "depth": 10, "endpoints": ["wss://ws.kraken.com/v2"]},
//     "kucoin": {"symbols": ["BTC-USDT"], "rest_base": "https://api.kucoin.com",
//                "credentials_env": {"key": "KUCOIN_KEY", "secret": "KUCOIN_SECRET",
//                                    "passphrase": "KUCOIN_PASSPHRASE"}},
//     "tls": {"verify_peer": true, "ca_file": ""},
//     "backoff": {"base_ms": 500, "cap_ms": 30000, "stable_ms": 60000},
//     "watchdog_ms": 10000, "ping_interval_ms": 5000, "max_message_bytes": 4194304,
//     "rotate_after_ms": 0, "rotate_timeout_ms": 900000,   // 0: the venue's lifetime minus 1 h
//     "snapshot_rate_per_s": 10, "snapshot_burst": 20,
//     "consolidated": {"BTC-USD": ["kraken:BTC/USD", "kucoin:BTC-USDT"]},
//     "http_listen": "127.0.0.1:9100"
//   }
//
// Errors name the file and the key path: "obr.json: kraken.depth: expected an integer".
//
// Thread-safety: reentrant.
#pragma once

#include <absl/status/statusor.h>

#include <string>
#include <string_view>

#include "engine/engine.h"

namespace obr::engine {

absl::StatusOr<EngineConfig> load_config(const std::string& path);
// strip_json_comments: `json` with its // and /* */ comments outside strings blanked
// (newlines kept, so positions stay where they were).
std::string strip_json_comments(std::string_view json);
// parse_config_json: the same from text; `source` names it in errors.
absl::StatusOr<EngineConfig> parse_config_json(std::string_view json, std::string_view source);

}  // namespace obr::engine
