// engine/recording_set.h — the parts of a rotated obr recording, found among the files
// given to `obr replay` and put in order, so that the replayer can run them as one run
// (docs/recording.md "Rotation").
//
//   std::vector<std::vector<std::string>> units;
//   absl::Status st = obr::engine::group_parts({"run.000002.obr.gz", "run.000001.obr.gz"}, units);
//   // units == {{"run.000001.obr.gz", "run.000002.obr.gz"}}
//
// A file is a part when it is an obr recording whose first event is a `part` line
// (RecordingPart: the run's id and the part's index). The parts of one run form one unit,
// ordered by index, placed where the first of them stands in the list; every other file
// (another format, an obr recording without a part line) is a unit of its own, in place.
// The parts of a run must be consecutive: a missing index between the lowest and the
// highest given, or an index given twice, is an error naming the run and the index. A run
// may start at any part (the parts before it left out on purpose): its first file then
// replays as a continuation on its own would.
//
// Cost: each file is opened once to read its first event (CaptureReader::open: its
// buffer, its first 256 KiB decompressed).
//
// Thread-safety: reentrant.
#pragma once

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/recorder.h"

namespace obr::engine {

// read_part: the part line of `path` when it is an obr recording that starts with one;
// nullopt for any other file, or one that cannot be opened or read (its replay then says
// why). An obr recording whose part line does not parse is an error naming file and line.
absl::StatusOr<std::optional<RecordingPart>> read_part(const std::string& path);

// group_parts: `files` as replay units (see the top of this file). InvalidArgument naming
// the run and the index for a missing or repeated part.
absl::Status group_parts(const std::vector<std::string>& files, std::vector<std::vector<std::string>>& units);

}  // namespace obr::engine
