// engine/book_export.h — the book over time as CSV (`obr replay --export`; the columns are
// specified in docs/replay.md "Export"). Private to engine/ (the replayer).
//
// One BookExport per recording replayed (a file, with a cryptofeed `.http.` companion):
// the replayer tells it about each event before and after feeding it, and the sink tells
// it which books each event changed. It writes
//  - with `export_every_ns`: at each boundary b (a multiple of it since the Unix epoch,
//    from the recording's first recorded time to its last), one row per book that has
//    appeared, showing it after every event recorded at or before b;
//  - with `export_on_change`: one row per book per event that changed it (levels or state),
//    at the event's recorded time;
// rows only for times in [from_ns, to_ns]. A book appears with its first level change;
// rows go in time order, then in the order books appeared. A row for a book that is not
// live carries no levels.
//
// Cost: a row is formatted into a reused buffer (no allocation once it has grown) and
// written through ExportFile's buffer.
#pragma once

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/protocol/session.h"
#include "engine/replayer.h"

namespace obr::engine {

class VenueReplay;

// ExportFile: a CSV file written through a buffer, plain or gzip (zlib; one member per
// file, so files written side by side can be joined byte by byte into one gzip stream).
class ExportFile {
 public:
  static absl::StatusOr<std::unique_ptr<ExportFile>> create(const std::string& path, bool gzip);
  ~ExportFile();
  ExportFile(const ExportFile&) = delete;
  ExportFile& operator=(const ExportFile&) = delete;
  void write(std::string_view text);
  // close flushes and closes; the first write error, or the close's, names the file.
  absl::Status close();
  const std::string& path() const noexcept { return path_; }

 private:
  ExportFile() = default;
  void flush();
  std::string path_;
  std::FILE* plain_ = nullptr;
  void* gz_ = nullptr;  // gzFile (zlib stays out of this header)
  std::string buffer_;
  absl::Status status_;
};

// header: the CSV's first line for `levels` levels per side.
std::string export_header(int levels);

class BookExport {
 public:
  // `options`: what to write (its export_* fields, the window, --symbol).
  BookExport(ExportFile& out, const ReplayOptions& options) : out_(out), options_(options) {}
  // before_event: the event at `ts_ns` (-1: no recorded time) is about to be fed to
  // `replay`: the boundaries before it are written.
  void before_event(const VenueReplay* replay, std::int64_t ts_ns);
  // The sink's calls while an event is fed.
  void book_updated(connectors::BookId id);
  void state_changed(connectors::BookId id);
  // after_event: the on-change rows of the event just fed.
  void after_event(std::int64_t ts_ns);
  // finish writes the boundaries up to `until_ns` (the last event's time, or --to's when
  // the replay stopped there).
  void finish(std::int64_t until_ns);
  std::int64_t last_ts() const noexcept { return last_ts_; }

 private:
  struct Seen {
    const VenueReplay* replay;
    std::vector<std::uint8_t> flags;  // per BookId: kAppeared, kDirty
  };
  static constexpr std::uint8_t kAppeared = 1, kDirty = 2;
  std::uint8_t& flags(connectors::BookId id);
  void mark(connectors::BookId id, bool level_change);
  void row(std::int64_t ts_ns, const VenueReplay& replay, connectors::BookId id);
  void boundaries_before(std::int64_t limit_ns, bool inclusive);

  ExportFile& out_;
  const ReplayOptions& options_;
  const VenueReplay* current_ = nullptr;
  std::vector<Seen> seen_;                                                // one per connection
  std::vector<std::pair<const VenueReplay*, connectors::BookId>> order_;  // as they appeared
  std::vector<std::pair<const VenueReplay*, connectors::BookId>> dirty_;  // changed by this event
  std::int64_t next_ = -1;                                                // the next boundary to write; -1: none yet
  std::int64_t last_ts_ = -1;
  std::string line_;
};

}  // namespace obr::engine
