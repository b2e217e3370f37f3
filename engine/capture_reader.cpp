#include "engine/capture_reader.h"

#include <absl/strings/escaping.h>
#include <zlib.h>

#include <charconv>
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

constexpr std::string_view kTooLongMessage = "line longer than 6291456 bytes skipped";
static_assert(CaptureReader::kMaxLine == 6291456, "kTooLongMessage names kMaxLine");
constexpr std::string_view kObrMagic = "obr-recording 1";

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

// next_word splits the first space-separated word off `s`.
std::string_view next_word(std::string_view& s) noexcept {
  const std::size_t sp = s.find(' ');
  const std::string_view w = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  return w;
}

template <typename T>
bool parse_int(std::string_view s, T& out) noexcept {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// parse_obr reads one obr recording line (docs/recording.md): `TS VENUE KIND[64] [REST]`.
// `decoded` holds a base64 payload once decoded. On failure `why` says what was wrong.
bool parse_obr(std::string_view line, CaptureEvent& ev, std::string& decoded, std::string_view& why) {
  std::string_view rest = line;
  if (!parse_int(next_word(rest), ev.ts_ns) || ev.ts_ns < 0) {
    why = "obr recording: the line does not start with a time in nanoseconds";
    return false;
  }
  ev.venue = next_word(rest);
  std::string_view kind = next_word(rest);
  if (ev.venue.empty() || kind.empty()) {
    why = "obr recording: expected 'TS VENUE KIND [PAYLOAD]'";
    return false;
  }
  const bool b64 = kind.size() > 2 && kind.ends_with("64");
  if (b64) kind.remove_suffix(2);
  if (kind == "http" || kind == "req") {
    const std::string_view id = next_word(rest);
    if (!parse_int(id, ev.id)) {
      why = "obr recording: http/req without a numeric request id";
      return false;
    }
    if (kind == "req") {
      if (b64) {
        why = "obr recording: only recv, send and http take a base64 payload";
        return false;
      }
      ev.kind = CaptureEventKind::kHttpRequest;
      ev.payload = rest;
      return true;
    }
    if (!parse_int(next_word(rest), ev.status)) {
      why = "obr recording: http without a numeric status";
      return false;
    }
    ev.kind = CaptureEventKind::kHttpResponse;
    ev.url = next_word(rest);
    if (ev.url == "-") ev.url = {};
  } else if (kind == "recv") {
    ev.kind = CaptureEventKind::kReceived;
  } else if (kind == "send") {
    ev.kind = CaptureEventKind::kSent;
  } else if (b64) {
    why = "obr recording: only recv, send and http take a base64 payload";
    return false;
  } else if (kind == "open") {
    ev.kind = CaptureEventKind::kConnect;
    ev.url = rest;
  } else if (kind == "close") {
    ev.kind = CaptureEventKind::kDisconnect;
  } else if (kind == "tick") {
    ev.kind = CaptureEventKind::kTick;
  } else if (kind == "ping") {
    ev.kind = CaptureEventKind::kPing;
  } else if (kind == "start") {
    ev.kind = CaptureEventKind::kStart;
  } else if (kind == "config") {
    ev.kind = CaptureEventKind::kConfig;
  } else if (kind == "subscribe") {
    ev.kind = CaptureEventKind::kSubscribe;
  } else {
    why = "obr recording: unknown event kind (expected config, subscribe, start, open, close, recv, send, req, http, tick or ping)";
    return false;
  }
  ev.payload = rest;
  if (b64) {
    if (!absl::Base64Unescape(absl::string_view(rest.data(), rest.size()), &decoded)) {
      why = "obr recording: the base64 payload does not decode";
      return false;
    }
    ev.payload = decoded;
  }
  return true;
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
  // Nanoseconds since 1970 fit an int64 until 2262-04-11 (found by fuzzing).
  if (seconds > 9'223'372'035) return false;
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
    if (first == kObrMagic) {
      r->format_ = CaptureFormat::kObr;
      return r;  // the magic line is not an event
    }
    if (first.starts_with("obr-recording")) {
      return absl::InvalidArgumentError(where + "obr recording of an unsupported version ('" + std::string(first) +
                                        "'; this build reads '" + std::string(kObrMagic) + "')");
    }
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
    if (format_ == CaptureFormat::kObr) {
      std::string_view why;
      if (!parse_obr(line, ev, decoded_, why)) {
        ev = CaptureEvent{};
        ev.line = line_;
        ev.kind = CaptureEventKind::kBadLine;
        ev.payload = why;
      }
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
