// engine/capture_reader.h — reads recorded sessions line by line (plain, gzip or zstd) and
// yields what happened on the connection (JSON lines: on which of its connections):
// frames received and sent, connects, REST responses, each with its recorded time when
// the format has one.
//
//   auto reader = obr::engine::CaptureReader::open("KRAKEN.ws.50.0");   // StatusOr
//   obr::engine::CaptureEvent ev;
//   while ((*reader)->next(ev)) { ... ev.kind, ev.ts_ns, ev.payload ... }
//   if (!(*reader)->status().ok()) { ... }                    // read error, stream cut short
//
// Compression, detected from the file's first bytes, never its name: gzip (1f 8b), zstd
// (28 b5 2f fd), or none.
//
// Formats, detected from the first non-empty line:
//  - raw capture: one received frame per line (`{…}` or `[…]`), no times;
//  - cryptofeed raw data: `URL <-> TS` connect, `URL <- TS: FRAME` sent, `TS: FRAME`
//    received, and in `.http.` files `URL -> TS: BODY` a REST response (TS is Unix
//    seconds with a fraction; kept to the nanosecond as written, never through double);
//  - obr recordings (docs/recording.md): the `obr-recording 1` line, then
//    `TS VENUE KIND [ARGS] [PAYLOAD]` per event, for every venue of one engine run (a
//    rotated recording's parts: a `part` line first, kPart);
//  - JSON lines: one object per line, `{"conn": NAME, "ts": TS, "data": FRAME}`, a frame
//    received on connection NAME (several connections interleaved in one file), FRAME the
//    frame as a JSON string, TS as in cryptofeed's files (Unix seconds, kept to the ns as
//    written: a JSON number `digits[.digits]`), and an optional "url" member, the
//    connection's URL. Members may come in any order; a member of another name is
//    ignored but must be valid JSON, and a member given twice makes the line bad. The
//    first non-empty line tells this format when it is an object whose FIRST member is
//    "conn" holding a string: a raw capture's frames are objects too, but no venue obr
//    reads starts its frames that way (a raw capture whose first frame did would be read
//    as JSON lines, its lines reported bad). `data` is decoded (JSON unescaping) into the
//    parser's reused buffer; `ev.conn` names the connection (docs/recording.md
//    "Captures made by others").
//  - tardis-style lines: `<ISO 8601 time> <frame>` per line, one connection's frames with
//    their receive times (`2019-10-01T00:00:00.0068270Z {...}`; engine/time_text.h reads
//    the time to the ns). Told by a first line whose first word is such a time and whose
//    frame starts with `{` or `[`.
//
// Bad lines. A line that does not fit its file's format is a kBadLine event: its own
// 1-based line number in `line` and why in `payload` (the replayer lists them as
// file:line: why), never skipped silently, and every later line keeps its number:
//  - a byte the format cannot hold: "NUL byte at column 4", "control byte 0x01 at
//    column 7" (the first such byte; columns count bytes from 1). JSON text (raw
//    captures, JSON lines, cryptofeed frames and bodies) holds no byte below 0x20 but
//    tab and CR. An obr recording writes a payload verbatim unless it holds a newline, CR
//    or NUL, so there only NUL and a CR inside the line are refused; other control bytes
//    are a frame's own. CRs that end a line are its line ending, in every format;
//  - a line longer than kMaxLine bytes with its newline: reported ("line longer than
//    6291456 bytes skipped") and skipped without allocating;
//  - any other misfit (not `TS: FRAME`, an unknown obr kind, bad base64, a JSON-lines
//    line that is not valid JSON, not an object, lacks conn, ts or data, or whose data is
//    not a string or ts not Unix seconds: "JSON lines: ..." saying which).
// When the first non-empty line holds such a byte and tells no format, open() fails
// naming the byte the same way (InvalidArgument, file:line).
//
// End of data. A plain file may end without a newline: its last line is read (a plain
// file cut mid-line cannot be told from one written that way). A gzip stream must reach
// its end (each member's trailer, CRC-32 and length checked), and so must a zstd stream
// (each frame's end, and its checksum when it has one); one that breaks off — a copy cut
// short, a recorder killed between flushes — gives every complete line, never the cut
// one, then next() returns false and status() is DataLoss "FILE:L: gzip stream ends early
// (file truncated or cut short): nothing after line N could be read" ("zstd stream" for
// zstd), where N is the last complete line and L = N + 1 the first not delivered. Any
// other read error (I/O, corrupt data, CRC or checksum mismatch) is DataLoss "FILE:L:
// read error: WHY; nothing after line N could be read". Gzip members (zstd frames, and
// skippable frames) joined with cat read as one file; bytes after a complete member
// (frame) that do not start another are ignored, as gzip -d does.
//
// Cost: one buffer of kMaxLine + 256 KiB, allocated by open() and touched only as far
// as the longest line needs (gzip and zstd add 128 KiB of input and the decoder's state:
// ISA-L's 85 KiB; zstd's its window, 8 MiB at level 19, refused over 128 MiB); memory stays flat
// however long the file, and nothing is allocated per line. The file is read (and
// decompressed straight into the buffer) 256 KiB at a time; per chunk, one memchr pass for
// the newlines and one vectorized pass for the bytes the format refuses. A line is looked
// at byte by byte only when that pass found such a byte in it. Reading alone, on one
// core (bench/README.md, "Reading compressed recordings"): plain files about 3 GB/s from
// the page cache, half of it the kernel's copy (mapping the file instead measured 2-3
// times slower on this VM: page faults); gzip bound by inflate, which ISA-L's igzip does
// at about 2 GB/s of output, 2.6 times zlib (libdeflate, as fast, inflates only whole
// buffers); zstd's decoder about 1.6 GB/s. A JSON-lines line is parsed once, by simdjson
// On Demand, where it lies in the buffer (which keeps simdjson's padding after its end),
// `data` unescaped into the parser's own buffers; they grow to the longest line seen (a
// few bytes per byte of it) and are then reused. Measured the same way: about 750 MB/s of file on Bybit
// order-book frames, whose every quote is escaped (raw captures: about 2 GB/s).
//
// Thread-safety: one reader per thread.
#pragma once

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace obr::engine {

enum class CaptureFormat : std::uint8_t { kRaw, kCryptofeed, kObr, kJsonLines, kTardis };

enum class CaptureEventKind : std::uint8_t {
  kReceived,      // a frame from the venue
  kSent,          // a frame to the venue
  kConnect,       // a (re)connect to `url`
  kHttpResponse,  // a REST response body from `url`
  kBadLine,       // a line that is not in the file's format; `payload` says why
  // obr recordings only:
  kDisconnect,   // the connection closed (`payload`: the reason)
  kHttpRequest,  // a request went out (`id`, `payload`: "METHOD URL")
  kTick,         // the session's timer ran
  kPing,         // the session was asked to ping
  kStart,        // the session was started
  kConfig,       // the session's configuration (`payload`: key=value words)
  kSubscribe,    // more symbols subscribed at run time (`payload`: comma-separated)
  kPart,         // the file is one part of a rotated recording (`payload`: "run=ID index=N")
};

struct CaptureEvent {
  CaptureEventKind kind = CaptureEventKind::kReceived;
  std::int64_t ts_ns = -1;   // recorded receive/send time; -1 when the format has none
  std::string_view url;      // cryptofeed and obr; JSON lines when the line has one
  std::string_view payload;  // the frame or body (or the reason, for kBadLine)
  std::uint64_t line = 0;    // 1-based line number in the file
  std::string_view venue;    // obr only: which of the run's venues
  std::uint64_t id = 0;      // obr only: the HTTP request id (kHttpRequest, kHttpResponse)
  int status = 0;            // obr only: the HTTP status (kHttpResponse)
  std::string_view conn;     // JSON lines only: the connection the frame came on
};

class CaptureReader {
 public:
  static constexpr std::size_t kMaxLine = 6u << 20;  // longest line (a 4 MiB frame in base64 fits)

  // open reads up to the first non-empty line to detect the format. NotFound when the
  // file cannot be opened, InvalidArgument (naming file:line) when no format fits (or
  // that line is overlong, or holds a byte no format allows, said by name), DataLoss as
  // for status() when the data fails before that line.
  static absl::StatusOr<std::unique_ptr<CaptureReader>> open(const std::string& path);
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // next fills `ev` (views valid until the next call) and returns true, or returns false
  // at the end of the data. status() is then OK, or DataLoss naming file:line: a read
  // error, or a gzip stream that ends early (see the top of this file).
  bool next(CaptureEvent& ev);
  absl::Status status() const { return status_; }

  CaptureFormat format() const noexcept { return format_; }
  const std::string& path() const noexcept { return path_; }
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }

 private:
  CaptureReader() = default;
  enum class Read : std::uint8_t { kLine, kTooLong, kEnd };  // kEnd: end of file, or status_ says why
  // read_line gives the next line without its newline; `bad` points at its first byte the
  // format does not allow, or is null.
  Read read_line(std::string_view& line, const char*& bad);
  Read skip_long_line();
  void bad_line(CaptureEvent& ev, std::string_view why) const noexcept;
  void refill();
  void consume(std::size_t to) noexcept;
  void stop(std::uint64_t at_line);
  void set_format(CaptureFormat format) noexcept;
  const char* find_flagged(const char* p, const char* e) const noexcept;
  const char* first_bad(const char* p, const char* e) const noexcept;
  std::string_view describe_bad(std::string_view line, const char* bad) noexcept;

  struct Source;     // the file, and inflate's state when it is gzip (zlib stays out of this header)
  struct JsonLines;  // the JSON-lines parser (simdjson stays out of this header)
  enum class End : std::uint8_t { kNo, kClean, kCut, kError };

  std::string path_;
  std::unique_ptr<Source> src_;
  std::unique_ptr<JsonLines> json_;  // JSON lines (and while the first line is told)
  // buffer_[begin_, end_) is read and not yet consumed; no '\n' in [begin_, scanned_); no
  // byte the format flags in [begin_, flagged_) (flagged_ == end_: none).
  std::unique_ptr<char[]> buffer_;
  std::size_t begin_ = 0, end_ = 0, scanned_ = 0, flagged_ = 0;
  bool at_end_ = false;  // the source has nothing more; src_->end says how it ended
  bool format_known_ = false;
  CaptureFormat format_ = CaptureFormat::kRaw;
  std::uint64_t line_ = 0;
  std::uint64_t bytes_read_ = 0;
  absl::Status status_;
  bool pending_ = false;  // the line read during format detection has not been returned
  std::string_view pending_line_;
  const char* pending_bad_ = nullptr;
  std::string decoded_;         // an obr base64 payload, decoded
  std::array<char, 64> why_{};  // a kBadLine payload naming a byte
};

// parse_unix_seconds converts "1618678132.3858151" to nanoseconds exactly (fraction
// digits beyond 9 are truncated). False when the text is not digits[.digits].
bool parse_unix_seconds(std::string_view text, std::int64_t& ns) noexcept;

}  // namespace obr::engine
