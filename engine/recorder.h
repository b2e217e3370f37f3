// engine/recorder.h — writes an engine run as an obr recording: every input a venue
// session was fed (frames received, connects, disconnects, HTTP responses, timer ticks,
// pings) and every output that left the process (frames sent, HTTP requests), each with
// its time in Unix nanoseconds, gzip-compressed, one event per line. The format is
// documented in docs/recording.md; `obr replay` reads it (engine/replayer.h) and feeds the
// same events to the same sessions, so every book state and counter comes out the same.
//
//   auto rec = obr::engine::Recorder::open("run.obr.gz");        // StatusOr (".zst": zstd)
//   (*rec)->event(now, "kraken", RecordKind::kRecv, frame);
//   (*rec)->http(now, "kucoin", id, 200, url, body);
//   absl::Status s = (*rec)->close();                           // flushes; errors surface here
//
// Payloads are written as they are unless a line could not carry them exactly (a newline,
// carriage return or NUL inside, or blank at either end): then the kind takes a `64`
// suffix and the payload is base64. Request headers are never written (they carry API
// keys and signatures).
//
// Compression: gzip (deflate level 1), unless the path ends in `.zst`: then zstd (level 1,
// with each frame's checksum). The reader tells them by their magic bytes, not the name.
//
// Cost: one gzwrite (deflate level 1), or one ZSTD_compressStream2, per event on the
// caller's thread; the stream is flushed at most once a second (flush_if_due), so a crash
// loses at most about a second (the reader delivers every line before the last flush, then
// reports the stream cut short).
//
// Rotation (RecordingRotation; docs/recording.md "Rotation"): by size, by the clock, or
// both, the recording goes on in a new file, a part of the same run: `run.obr.gz` becomes
// `run.000001.obr.gz`, `run.000002.obr.gz`, ... (part_path). Every part starts with the
// magic line, a `part` line (the run's id, the part's index, the time) and, from the
// second part on, the `config` line of every venue as it stands then (the symbols
// subscribed at run time included), so that each part reads on its own. A part is
// finished (gzip trailer, zstd end of frame) and closed before the next opens, between two
// events: no event is lost or written twice. By time: before the first event at or past
// the next multiple of every_ns since the epoch (one comparison per event). By size:
// checked at the once-a-second flush (the compressed size known then without a system
// call for zstd, one lseek for gzip), so a part may pass max_bytes by about a second of
// data.
//
// Thread-safety: one thread (the engine's).
#pragma once

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/protocol/venue.h"

namespace obr::engine {

// What one line of a recording says. The text names are the format's (docs/recording.md).
enum class RecordKind : std::uint8_t {
  kConfig,     // "config"  how the venue's session was configured (key=value words)
  kStart,      // "start"   the session was started (KuCoin: asks for a token)
  kOpen,       // "open"    the WebSocket opened (payload: the URL)
  kClose,      // "close"   the WebSocket closed or failed (payload: the reason)
  kRecv,       // "recv"    a frame received
  kSend,       // "send"    a frame sent
  kRequest,    // "req"     an HTTP request went out: "ID METHOD URL"
  kHttp,       // "http"    an HTTP response fed to the session: "ID STATUS URL BODY"
  kTick,       // "tick"    the session's timer ran
  kPing,       // "ping"    the session was asked to ping the venue
  kSubscribe,  // "subscribe" more symbols, at run time (payload: comma-separated)
};
std::string_view to_string(RecordKind k) noexcept;

inline constexpr std::string_view kRecordingMagic = "obr-recording 1";

// RecordingRotation: when a recording goes on in a new file (Recorder::open,
// Engine::record_to). Both 0: never (one file, at the path given, with no `part` line).
struct RecordingRotation {
  // Rotate once the current file's compressed size reaches this; 0: never by size.
  std::uint64_t max_bytes = 0;
  // Rotate at every multiple of this since the Unix epoch (3600e9: on the hour, UTC); 0:
  // never by time.
  std::int64_t every_ns = 0;
  bool on() const noexcept { return max_bytes > 0 || every_ns > 0; }
};

// RecordingPart: what a `part` line says: the run the file belongs to (16 hex digits,
// random, the same in every part of the run) and the part's index (1, 2, ...). Its time is
// the line's TS.
struct RecordingPart {
  std::string run;
  std::uint64_t index = 0;
};
// format_part renders `p` as the words of a part line ("run=3f2a9c0d41b7e865 index=2");
// parse_part reads them back (an unknown key, a run that is not 16 hex digits or an index
// below 1 is an error naming it).
std::string format_part(const RecordingPart& p);
absl::StatusOr<RecordingPart> parse_part(std::string_view words);
// part_path: the file of part `index` of a rotated recording at `path`: the index, six
// digits, before the extension (`run.obr.gz` -> `run.000002.obr.gz`; `.obr.zst`, `.obr`,
// `.gz` and `.zst` alike), or appended (`run` -> `run.000002`).
std::string part_path(const std::string& path, std::uint64_t index);

class Recorder {
 public:
  // open creates (truncates) `path`, zstd when it ends in `.zst` and gzip otherwise; the
  // error names the path and the reason.
  static absl::StatusOr<std::unique_ptr<Recorder>> open(const std::string& path);
  // open with rotation (when rotation.on(); otherwise as above): the first part,
  // part_path(path, 1), its `part` line at `now_ns`, which also starts the clock of
  // rotation.every_ns.
  static absl::StatusOr<std::unique_ptr<Recorder>> open(const std::string& path, const RecordingRotation& rotation,
                                                        std::int64_t now_ns);
  ~Recorder();  // closes (errors are then only visible through ok())
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void event(std::int64_t ts_ns, std::string_view venue, RecordKind kind, std::string_view payload = {});
  void request(std::int64_t ts_ns, std::string_view venue, std::uint64_t id, std::string_view method,
               std::string_view url);
  void http(std::int64_t ts_ns, std::string_view venue, std::uint64_t id, int status, std::string_view url,
            std::string_view body);
  // flush_if_due pushes buffered data to the file when the last flush is over a second old;
  // with rotation by size, it then starts the next part when this one has reached
  // max_bytes.
  void flush_if_due(std::int64_t now_ns);
  absl::Status close();

  bool ok() const noexcept { return status_.ok(); }
  const absl::Status& status() const noexcept { return status_; }
  std::uint64_t lines() const noexcept { return lines_; }
  std::uint64_t bytes() const noexcept { return bytes_; }     // uncompressed, every part
  const std::string& path() const noexcept { return path_; }  // the file being written (the last one)
  // files: every file written so far, in order (one without rotation).
  const std::vector<std::string>& files() const noexcept { return files_; }
  // run_id: the run's id in the `part` lines; empty without rotation.
  const std::string& run_id() const noexcept { return run_id_; }

 private:
  Recorder() = default;
  absl::Status open_file(const std::string& path);
  void close_file();
  void start_part(std::int64_t ts_ns);
  void rotate(std::int64_t ts_ns);
  void rotate_if_due(std::int64_t ts_ns) {
    if (ts_ns >= next_rotation_ns_) rotate(ts_ns);
  }
  void track_config(std::string_view venue, RecordKind kind, std::string_view text);
  void head(std::int64_t ts_ns, std::string_view venue, std::string_view kind, bool b64);
  void payload(std::string_view text, bool b64);
  void write(std::string_view s);
  void end_line();

  struct Zstd;  // the zstd stream and its file (zstd stays out of this header)

  std::string path_;
  void* gz_ = nullptr;  // gzFile; zlib stays out of this header
  std::unique_ptr<Zstd> zstd_;
  std::string line_;  // the line being built (reused: no allocation once grown)
  absl::Status status_;
  std::uint64_t lines_ = 0;
  std::uint64_t bytes_ = 0;
  std::int64_t last_flush_ns_ = 0;
  // Rotation: the path given, the files so far, the run, the current part (0: none), the
  // next time boundary (max: none), the current part's compressed bytes as of its last
  // flush, and every venue's config words as they stand (written at the top of each part).
  RecordingRotation rotation_;
  std::string base_path_;
  std::vector<std::string> files_;
  std::string run_id_;
  std::uint64_t part_ = 0;
  std::int64_t next_rotation_ns_ = std::numeric_limits<std::int64_t>::max();
  std::uint64_t part_compressed_ = 0;
  std::vector<std::pair<std::string, std::string>> configs_;
};

// RecordedConfig: what a `config` line says about one venue's session — everything the
// replayer needs to configure the session exactly as the engine did. Credentials are
// never written, only whether there were any (they choose the snapshot endpoint).
struct RecordedConfig {
  std::vector<std::string> symbols;
  int depth = 0;  // Kraken
  std::size_t max_frame_bytes = 0;
  std::string rest_base;     // KuCoin
  bool credentials = false;  // KuCoin
  // SessionSettings::rotate_after_ns (0, the session's default, is not written: recordings
  // made before the engine rotated connections itself replay as they were made).
  std::int64_t rotate_after_ns = 0;
};
// format_config renders `c` as the words of a config line ("depth=10 max_frame_bytes=…
// rotate_after_ns=-1 symbols=BTC/USD,ETH/USD"); parse_config reads them back (unknown keys are an error
// naming the key).
std::string format_config(const RecordedConfig& c);
absl::StatusOr<RecordedConfig> parse_config(std::string_view words);
// session_settings: the venue-neutral session settings a config line describes (without
// credentials or mode, which the caller sets).
connectors::SessionSettings session_settings(const RecordedConfig& c);

// needs_base64: true when `payload` cannot be written verbatim on one line.
bool needs_base64(std::string_view payload) noexcept;

}  // namespace obr::engine
