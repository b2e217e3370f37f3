// engine/config_reader_impl.h — the config file's parser, shared by the engine's keys
// (engine/config_file.cpp) and the service's sections (engine/service_config.cpp), so that
// both read JSON with comments the same way and word their errors the same way:
// "FILE: key.path: what". Internal (simdjson is a private dependency): never installed.
//
// Thread-safety: reentrant (a ConfigReader per parse).
#pragma once

#include <absl/status/statusor.h>
#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"

namespace obr::engine::detail {

// ConfigReader reads values at key paths and remembers the first error with its path.
// Each reader returns false after fail().
class ConfigReader {
 public:
  explicit ConfigReader(std::string_view source) : source_(source) {}

  bool fail(const std::string& path, std::string_view what) {
    if (error_.empty()) error_ = std::string(source_) + ": " + path + ": " + std::string(what);
    return false;
  }
  const std::string& error() const { return error_; }

  bool string(simdjson::dom::element e, const std::string& path, std::string& out) {
    std::string_view v;
    if (e.get_string().get(v) != simdjson::SUCCESS) return fail(path, "expected a string");
    out.assign(v);
    return true;
  }
  // strings: an array of non-empty strings.
  bool strings(simdjson::dom::element e, const std::string& path, std::vector<std::string>& out) {
    simdjson::dom::array a;
    if (e.get_array().get(a) != simdjson::SUCCESS) return fail(path, "expected an array of strings");
    out.clear();
    std::size_t i = 0;
    for (simdjson::dom::element item : a) {
      std::string s;
      if (!string(item, path + "[" + std::to_string(i++) + "]", s)) return false;
      if (s.empty()) return fail(path + "[" + std::to_string(i - 1) + "]", "an empty string");
      out.push_back(std::move(s));
    }
    return true;
  }
  // words: each value is one word of a recording's config line (no blank, comma or control).
  bool words(const std::vector<std::string>& values, const std::string& path) {
    for (const std::string& v : values) {
      if (!one_word(v)) return fail(path, "'" + v + "' has a blank, comma or control character");
    }
    return true;
  }
  bool integer(simdjson::dom::element e, const std::string& path, std::int64_t min, std::int64_t max,
               std::int64_t& out) {
    std::int64_t v = 0;
    if (e.get_int64().get(v) != simdjson::SUCCESS) return fail(path, "expected an integer");
    if (v < min || v > max) {
      return fail(path, "out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
    }
    out = v;
    return true;
  }
  bool number(simdjson::dom::element e, const std::string& path, double min, double max, double& out) {
    double v = 0;
    if (e.get_double().get(v) != simdjson::SUCCESS) return fail(path, "expected a number");
    if (!(v >= min && v <= max)) {
      return fail(path, "out of range (" + number_text(min) + " to " + number_text(max) + ")");
    }
    out = v;
    return true;
  }
  bool boolean(simdjson::dom::element e, const std::string& path, bool& out) {
    if (e.get_bool().get(out) != simdjson::SUCCESS) return fail(path, "expected true or false");
    return true;
  }
  bool obj(simdjson::dom::element e, const std::string& path, simdjson::dom::object& out) {
    if (e.get_object().get(out) != simdjson::SUCCESS) return fail(path, "expected an object");
    return true;
  }

 private:
  std::string_view source_;
  std::string error_;
};

// join: "parent.key" ("key" at the top level).
inline std::string join(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// SectionParser reads the top-level key `key` (one of a parse's extra_keys) at `value`;
// false after reader.fail(). Called in the file's order, during the one pass.
using SectionParser = std::function<bool(ConfigReader& reader, std::string_view key, simdjson::dom::element value)>;

// parse_engine_config: the engine's config file (engine/config_file.h) from `json`, with
// `extra_keys` as further top-level keys handed to `section` instead of being refused as
// unknown (the unknown-key message lists them too). The engine's own checks (a symbol at
// least, check_config) run after the whole file was read, sections included.
absl::StatusOr<EngineConfig> parse_engine_config(std::string_view json, std::string_view source,
                                                 const std::vector<std::string_view>& extra_keys,
                                                 const SectionParser& section);

// read_file: the whole file, or NotFound "PATH: cannot open the config file".
absl::StatusOr<std::string> read_config_file(const std::string& path);

}  // namespace obr::engine::detail
