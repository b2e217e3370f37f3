// engine/capture_reader.h — reads recorded sessions line by line (plain or gzip) and
// yields what happened on the connection: frames received and sent, connects, REST
// responses, each with its recorded time when the format has one.
//
//   auto reader = obr::engine::CaptureReader::open("KRAKEN.ws.50.0");   // StatusOr
//   obr::engine::CaptureEvent ev;
//   while ((*reader)->next(ev)) { ... ev.kind, ev.ts_ns, ev.payload ... }
//   if (!(*reader)->status().ok()) { ... }                               // I/O error
//
// Formats, detected from the first non-empty line:
//  - raw capture: one received frame per line (`{…}` or `[…]`), no times;
//  - cryptofeed raw data: `URL <-> TS` connect, `URL <- TS: FRAME` sent, `TS: FRAME`
//    received, and in `.http.` files `URL -> TS: BODY` a REST response (TS is Unix
//    seconds with a fraction; kept to the nanosecond as written, never through double);
//  - obr recordings (docs/recording.md): the `obr-recording 1` line, then
//    `TS VENUE KIND [ARGS] [PAYLOAD]` per event, for every venue of one engine run.
// A line that does not fit its file's format is reported through next()'s `bad` output
// (file:line and why), never skipped silently. Lines longer than kMaxLine are reported
// and skipped without allocating.
//
// Thread-safety: one reader per thread.
#pragma once

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace obr::engine {

enum class CaptureFormat : std::uint8_t { kRaw, kCryptofeed, kObr };

enum class CaptureEventKind : std::uint8_t {
  kReceived,      // a frame from the venue
  kSent,          // a frame to the venue
  kConnect,       // a (re)connect to `url`
  kHttpResponse,  // a REST response body from `url`
  kBadLine,       // a line that is not in the file's format; `payload` says why
  // obr recordings only:
  kDisconnect,    // the connection closed (`payload`: the reason)
  kHttpRequest,   // a request went out (`id`, `payload`: "METHOD URL")
  kTick,          // the session's timer ran
  kPing,          // the session was asked to ping
  kStart,         // the session was started
  kConfig,        // the session's configuration (`payload`: key=value words)
  kSubscribe,     // more symbols subscribed at run time (`payload`: comma-separated)
};

struct CaptureEvent {
  CaptureEventKind kind = CaptureEventKind::kReceived;
  std::int64_t ts_ns = -1;    // recorded receive/send time; -1 when the format has none
  std::string_view url;       // cryptofeed and obr
  std::string_view payload;   // the frame or body (or the reason, for kBadLine)
  std::uint64_t line = 0;     // 1-based line number in the file
  std::string_view venue;     // obr only: which of the run's venues
  std::uint64_t id = 0;       // obr only: the HTTP request id (kHttpRequest, kHttpResponse)
  int status = 0;             // obr only: the HTTP status (kHttpResponse)
};

class CaptureReader {
 public:
  static constexpr std::size_t kMaxLine = 6u << 20;  // longest line (a 4 MiB frame in base64 fits)

  // open reads up to the first non-empty line to detect the format. NotFound when the
  // file cannot be opened, InvalidArgument (naming file:line) when no format fits.
  static absl::StatusOr<std::unique_ptr<CaptureReader>> open(const std::string& path);
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // next fills `ev` (views valid until the next call) and returns true, or returns false
  // at the end of the file or on a read error (then status() says which).
  bool next(CaptureEvent& ev);
  absl::Status status() const { return status_; }

  CaptureFormat format() const noexcept { return format_; }
  const std::string& path() const noexcept { return path_; }
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }

 private:
  CaptureReader() = default;
  enum class Read : std::uint8_t { kLine, kTooLong, kEnd };  // kEnd: end of file or error
  Read read_line(std::string_view& line);

  std::string path_;
  void* gz_ = nullptr;  // gzFile; zlib stays out of this header
  std::unique_ptr<char[]> buffer_;
  CaptureFormat format_ = CaptureFormat::kRaw;
  std::uint64_t line_ = 0;
  std::uint64_t bytes_read_ = 0;
  absl::Status status_;
  bool pending_ = false;  // the line read during format detection has not been returned
  std::string_view pending_line_;
  std::string decoded_;   // an obr base64 payload, decoded
};

// parse_unix_seconds converts "1618678132.3858151" to nanoseconds exactly (fraction
// digits beyond 9 are truncated). False when the text is not digits[.digits].
bool parse_unix_seconds(std::string_view text, std::int64_t& ns) noexcept;

}  // namespace obr::engine
