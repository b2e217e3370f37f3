#include "engine/capture_reader.h"

#include <zlib.h>

#include <cstring>

namespace obr::engine {
namespace {

std::string_view strip(std::string_view s) noexcept {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

constexpr std::string_view kTooLongMessage = "line longer than 4194304 bytes skipped";
static_assert(CaptureReader::kMaxLine == 4194304, "kTooLongMessage names kMaxLine");

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// split_ts_frame splits "TS: FRAME" into its parts.
bool split_ts_frame(std::string_view s, std::int64_t& ts, std::string_view& frame) noexcept {
  const std::size_t colon = s.find(": ");
  if (colon == std::string_view::npos || !parse_unix_seconds(s.substr(0, colon), ts)) return false;
  frame = strip(s.substr(colon + 2));
  return true;
}

// parse_cryptofeed reads one cryptofeed raw-data line.
bool parse_cryptofeed(std::string_view line, CaptureEvent& ev) noexcept {
  if (is_digit(line.front())) {  // TS: FRAME
    ev.kind = CaptureEventKind::kReceived;
    return split_ts_frame(line, ev.ts_ns, ev.payload);
  }
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return false;
  ev.url = line.substr(0, space);
  std::string_view rest = line.substr(space + 1);
  if (rest.starts_with("<-> ")) {
    ev.kind = CaptureEventKind::kConnect;
    ev.payload = {};
    return parse_unix_seconds(strip(rest.substr(4)), ev.ts_ns);
  }
  if (rest.starts_with("<- ")) {
    ev.kind = CaptureEventKind::kSent;
    return split_ts_frame(rest.substr(3), ev.ts_ns, ev.payload);
  }
  if (rest.starts_with("-> ")) {
    ev.kind = CaptureEventKind::kHttpResponse;
    return split_ts_frame(rest.substr(3), ev.ts_ns, ev.payload);
  }
  return false;
}

}  // namespace

bool parse_unix_seconds(std::string_view text, std::int64_t& ns) noexcept {
  if (text.empty() || !is_digit(text.front())) return false;
  std::int64_t seconds = 0;
  std::size_t i = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    if (i >= 11) return false;  // beyond year 5138: not a Unix time
    seconds = seconds * 10 + (text[i] - '0');
  }
  std::int64_t fraction = 0;
  int digits = 0;
  if (i < text.size()) {
    if (text[i] != '.' || i + 1 == text.size()) return false;
    for (++i; i < text.size(); ++i) {
      if (!is_digit(text[i])) return false;
      if (digits < 9) {
        fraction = fraction * 10 + (text[i] - '0');
        ++digits;
      }
    }
  }
  for (; digits < 9; ++digits) fraction *= 10;
  ns = seconds * 1'000'000'000 + fraction;
  return true;
}

absl::StatusOr<std::unique_ptr<CaptureReader>> CaptureReader::open(const std::string& path) {
  std::unique_ptr<CaptureReader> r(new CaptureReader());
  r->path_ = path;
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) return absl::NotFoundError(path + ": cannot open");
  gzbuffer(gz, 1 << 17);
  r->gz_ = gz;
  r->buffer_ = std::make_unique_for_overwrite<char[]>(kMaxLine + 1);  // 4 MiB: no need to zero
  std::string_view first;
  for (CaptureReader::Read got; (got = r->read_line(first)) != CaptureReader::Read::kEnd;) {
    if (got == CaptureReader::Read::kTooLong) {
      return absl::InvalidArgumentError(path + ":" + std::to_string(r->line_) + ": " + std::string(kTooLongMessage) +
                                        " before any frame told the format");
    }
    first = strip(first);
    if (first.empty()) continue;
    const std::string where = path + ":" + std::to_string(r->line_) + ": ";
    if (first.front() == '{' || first.front() == '[') {
      r->format_ = CaptureFormat::kRaw;
    } else {
      CaptureEvent probe;
      if (!parse_cryptofeed(first, probe)) {
        return absl::InvalidArgumentError(where +
                                          "unknown recording format (expected one JSON frame per line, or "
                                          "cryptofeed raw data 'URL <-> TS' / 'TS: FRAME')");
      }
      r->format_ = CaptureFormat::kCryptofeed;
    }
    r->pending_ = true;
    r->pending_line_ = first;
    return r;
  }
  if (!r->status_.ok()) return r->status_;
  return r;  // an empty file is a valid, empty recording
}

CaptureReader::~CaptureReader() {
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

CaptureReader::Read CaptureReader::read_line(std::string_view& line) {
  auto* gz = static_cast<gzFile>(gz_);
  if (gzgets(gz, buffer_.get(), static_cast<int>(kMaxLine + 1)) != nullptr) {
    ++line_;
    std::string_view chunk(buffer_.get());
    bytes_read_ += chunk.size();
    if ((!chunk.empty() && chunk.back() == '\n') || gzeof(gz)) {
      line = chunk;
      return Read::kLine;
    }
    // Longer than any frame we accept: consume the rest of it here (reported, not
    // allocated), so the next call starts at the next line.
    while (gzgets(gz, buffer_.get(), static_cast<int>(kMaxLine + 1)) != nullptr) {
      chunk = buffer_.get();
      bytes_read_ += chunk.size();
      if (!chunk.empty() && chunk.back() == '\n') break;
    }
    line = {};
    return Read::kTooLong;
  }
  int zerr = Z_OK;
  const char* msg = gzerror(gz, &zerr);
  if (zerr != Z_OK && zerr != Z_STREAM_END) {
    status_ = absl::DataLossError(path_ + ":" + std::to_string(line_ + 1) + ": " + msg);
  }
  return Read::kEnd;
}

bool CaptureReader::next(CaptureEvent& ev) {
  std::string_view line;
  for (;;) {
    if (pending_) {
      pending_ = false;
      line = pending_line_;
    } else {
      const Read r = read_line(line);
      if (r == Read::kEnd) return false;
      if (r == Read::kTooLong) {
        ev = CaptureEvent{};
        ev.line = line_;
        ev.kind = CaptureEventKind::kBadLine;
        ev.payload = kTooLongMessage;
        return true;
      }
    }
    line = strip(line);
    if (line.empty()) continue;
    ev = CaptureEvent{};
    ev.line = line_;
    if (format_ == CaptureFormat::kRaw) {
      ev.kind = CaptureEventKind::kReceived;
      ev.payload = line;
      return true;
    }
    if (!parse_cryptofeed(line, ev)) {
      ev = CaptureEvent{};
      ev.line = line_;
      ev.kind = CaptureEventKind::kBadLine;
      ev.payload = "not a cryptofeed raw-data line ('URL <-> TS', 'URL <- TS: FRAME', 'TS: FRAME', 'URL -> TS: BODY')";
    }
    return true;
  }
}

}  // namespace obr::engine
