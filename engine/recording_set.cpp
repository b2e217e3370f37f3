// engine/recording_set.cpp — read_part and group_parts (engine/recording_set.h).
#include "engine/recording_set.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "engine/capture_reader.h"

namespace obr::engine {

absl::StatusOr<std::optional<RecordingPart>> read_part(const std::string& path) {
  auto reader = CaptureReader::open(path);
  if (!reader.ok() || (*reader)->format() != CaptureFormat::kObr) return std::nullopt;
  CaptureEvent ev;
  if (!(*reader)->next(ev) || ev.kind != CaptureEventKind::kPart) return std::nullopt;
  auto part = parse_part(ev.payload);
  if (!part.ok()) {
    return absl::InvalidArgumentError(path + ":" + std::to_string(ev.line) + ": " +
                                      std::string(part.status().message()));
  }
  return std::optional<RecordingPart>(std::move(*part));
}

namespace {

// sibling: the name part `index` would have beside `path`, part `of` of the same run
// (part_path's six digits replaced), or empty when `path` is not named that way.
std::string sibling(const std::string& path, std::uint64_t of, std::uint64_t index) {
  char from[24], to[24];
  std::snprintf(from, sizeof from, ".%06llu", static_cast<unsigned long long>(of));
  std::snprintf(to, sizeof to, ".%06llu", static_cast<unsigned long long>(index));
  const std::size_t at = path.rfind(from);
  if (at == std::string::npos) return {};
  return path.substr(0, at) + to + path.substr(at + std::string_view(from).size());
}

}  // namespace

absl::Status group_parts(const std::vector<std::string>& files, std::vector<std::vector<std::string>>& units) {
  struct Run {
    std::string id;
    std::size_t unit;                                          // its place in `units`
    std::vector<std::pair<std::uint64_t, std::string>> parts;  // index, file
  };
  std::vector<Run> runs;
  for (const std::string& f : files) {
    auto part = read_part(f);
    if (!part.ok()) return part.status();
    if (!part->has_value()) {
      units.push_back({f});
      continue;
    }
    auto it = std::find_if(runs.begin(), runs.end(), [&](const Run& r) { return r.id == (*part)->run; });
    if (it == runs.end()) {
      runs.push_back(Run{(*part)->run, units.size(), {}});
      units.emplace_back();
      it = runs.end() - 1;
    }
    it->parts.emplace_back((*part)->index, f);
  }
  for (Run& r : runs) {
    std::sort(r.parts.begin(), r.parts.end());
    for (std::size_t i = 1; i < r.parts.size(); ++i) {
      const auto& [before, before_file] = r.parts[i - 1];
      const auto& [index, file] = r.parts[i];
      if (index == before) {
        return absl::InvalidArgumentError("recording run " + r.id + ": part " + std::to_string(index) +
                                          " given twice: " + before_file + " and " + file);
      }
      if (index != before + 1) {
        const std::string name = sibling(before_file, before, before + 1);
        return absl::InvalidArgumentError(
            "recording run " + r.id + ": part " + std::to_string(before + 1) + " is missing" +
            (name.empty() ? std::string() : " (" + name + ")") + ": parts " + std::to_string(r.parts.front().first) +
            " to " + std::to_string(r.parts.back().first) +
            " were given, and a rotated recording replays as one run only with every part between its first and "
            "its last");
      }
    }
    std::vector<std::string>& unit = units[r.unit];
    for (auto& [index, file] : r.parts) unit.push_back(std::move(file));
  }
  return absl::OkStatus();
}

}  // namespace obr::engine
