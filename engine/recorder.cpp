#include "engine/recorder.h"

#include <absl/strings/escaping.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "engine/capture_reader.h"

namespace obr::engine {

std::string_view to_string(RecordKind k) noexcept {
  switch (k) {
    case RecordKind::kConfig:
      return "config";
    case RecordKind::kStart:
      return "start";
    case RecordKind::kOpen:
      return "open";
    case RecordKind::kClose:
      return "close";
    case RecordKind::kRecv:
      return "recv";
    case RecordKind::kSend:
      return "send";
    case RecordKind::kRequest:
      return "req";
    case RecordKind::kHttp:
      return "http";
    case RecordKind::kTick:
      return "tick";
    case RecordKind::kPing:
      return "ping";
    case RecordKind::kSubscribe:
      return "subscribe";
  }
  return "unknown";
}

bool needs_base64(std::string_view payload) noexcept {
  if (payload.empty()) return false;
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  if (blank(payload.front()) || blank(payload.back())) return true;
  return payload.find_first_of(std::string_view("\n\r\0", 3)) != std::string_view::npos;
}

std::string format_config(const RecordedConfig& c) {
  std::string out;
  if (c.depth > 0) out += "depth=" + std::to_string(c.depth) + " ";
  out += "max_frame_bytes=" + std::to_string(c.max_frame_bytes);
  if (!c.rest_base.empty()) {
    out += " rest_base=";
    out += c.rest_base;
    out += c.credentials ? " credentials=1" : " credentials=0";
  }
  if (c.rotate_after_ns != 0) out += " rotate_after_ns=" + std::to_string(c.rotate_after_ns);
  out += " symbols=";
  for (std::size_t i = 0; i < c.symbols.size(); ++i) {
    if (i) out += ',';
    out += c.symbols[i];
  }
  return out;
}

connectors::SessionSettings session_settings(const RecordedConfig& c) {
  connectors::SessionSettings s;
  s.symbols = c.symbols;
  s.depth = c.depth;
  if (c.max_frame_bytes > 0) s.max_frame_bytes = c.max_frame_bytes;
  s.rest_base = c.rest_base;
  s.rotate_after_ns = c.rotate_after_ns;
  return s;
}

absl::StatusOr<RecordedConfig> parse_config(std::string_view words) {
  RecordedConfig c;
  while (!words.empty()) {
    const std::size_t sp = words.find(' ');
    const std::string_view word = words.substr(0, sp);
    words = sp == std::string_view::npos ? std::string_view() : words.substr(sp + 1);
    if (word.empty()) continue;
    const std::size_t eq = word.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError("config word '" + std::string(word) + "' is not key=value");
    }
    const std::string_view key = word.substr(0, eq);
    const std::string_view value = word.substr(eq + 1);
    const auto number = [&](auto& out) {
      const auto r = std::from_chars(value.data(), value.data() + value.size(), out);
      return r.ec == std::errc() && r.ptr == value.data() + value.size();
    };
    bool ok = true;
    if (key == "depth") {
      ok = number(c.depth) && c.depth > 0;
    } else if (key == "max_frame_bytes") {
      ok = number(c.max_frame_bytes);
    } else if (key == "rest_base") {
      c.rest_base.assign(value);
    } else if (key == "credentials") {
      ok = value == "0" || value == "1";
      c.credentials = value == "1";
    } else if (key == "rotate_after_ns") {
      ok = number(c.rotate_after_ns);
    } else if (key == "symbols") {
      for (std::string_view v = value; !v.empty();) {
        const std::size_t comma = v.find(',');
        c.symbols.emplace_back(v.substr(0, comma));
        v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
      }
    } else {
      return absl::InvalidArgumentError("unknown config key '" + std::string(key) + "'");
    }
    if (!ok) return absl::InvalidArgumentError("config value '" + std::string(word) + "' is not valid");
  }
  return c;
}

// The zstd stream: ZSTD_compressStream2 into `out`, written to the file when it fills, on
// a flush and at the end.
struct Recorder::Zstd {
  std::FILE* file = nullptr;
  ZSTD_CCtx* cctx = nullptr;
  std::unique_ptr<char[]> out;
  std::size_t out_size = 0, out_len = 0;

  ~Zstd() {
    if (cctx != nullptr) ZSTD_freeCCtx(cctx);
    if (file != nullptr) std::fclose(file);
  }

  // drain writes what `out` holds to the file; the error, or empty.
  std::string drain() {
    if (out_len > 0 && std::fwrite(out.get(), 1, out_len, file) != out_len) return std::strerror(errno);
    out_len = 0;
    return {};
  }

  // compress feeds `in` with `mode` (continue, flush or end) until zstd has taken it all
  // and, for flush and end, written everything out; the error, or empty.
  std::string compress(std::string_view in, ZSTD_EndDirective mode) {
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    for (;;) {
      ZSTD_outBuffer ob{out.get(), out_size, out_len};
      const std::size_t left = ZSTD_compressStream2(cctx, &ob, &ib, mode);
      out_len = ob.pos;
      if (ZSTD_isError(left) != 0) return ZSTD_getErrorName(left);
      const bool done = mode == ZSTD_e_continue ? ib.pos == ib.size : left == 0;
      if (out_len == out_size || (done && mode != ZSTD_e_continue)) {
        if (std::string e = drain(); !e.empty()) return e;
      }
      if (done) return {};
    }
  }
};

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::open(const std::string& path) {
  std::unique_ptr<Recorder> r(new Recorder());
  r->path_ = path;
  errno = 0;
  if (path.ends_with(".zst")) {
    auto z = std::make_unique<Zstd>();
    z->file = std::fopen(path.c_str(), "wb");
    if (z->file == nullptr) {
      return absl::InvalidArgumentError(path + ": cannot create the recording: " + std::strerror(errno));
    }
    z->cctx = ZSTD_createCCtx();
    if (z->cctx == nullptr || ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1))) {
      return absl::ResourceExhaustedError(path + ": cannot start zstd");
    }
    z->out_size = ZSTD_CStreamOutSize();
    z->out = std::make_unique_for_overwrite<char[]>(z->out_size);
    r->zstd_ = std::move(z);
    r->line_.reserve(1 << 16);
    r->write(kRecordingMagic);
    r->end_line();
    if (!r->status_.ok()) return r->status_;
    return r;
  }
  gzFile gz = gzopen(path.c_str(), "wb1");
  if (gz == nullptr) {
    const int err = errno;
    return absl::InvalidArgumentError(
        path + ": cannot create the recording: " + (err != 0 ? std::strerror(err) : "zlib could not open it"));
  }
  gzbuffer(gz, 1 << 17);
  r->gz_ = gz;
  r->line_.reserve(1 << 16);
  r->write(kRecordingMagic);
  r->end_line();
  if (!r->status_.ok()) return r->status_;
  return r;
}

Recorder::~Recorder() { (void)close(); }

void Recorder::write(std::string_view s) { line_.append(s); }

void Recorder::head(std::int64_t ts_ns, std::string_view venue, std::string_view kind, bool b64) {
  line_.clear();
  char num[24];
  const auto r = std::to_chars(num, num + sizeof num, ts_ns);
  line_.append(num, r.ptr);
  line_.push_back(' ');
  line_.append(venue);
  line_.push_back(' ');
  line_.append(kind);
  if (b64) line_.append("64");
}

void Recorder::payload(std::string_view text, bool b64) {
  if (text.empty()) return;
  line_.push_back(' ');
  if (b64) {
    line_.append(absl::Base64Escape(absl::string_view(text.data(), text.size())));
  } else {
    line_.append(text);
  }
}

void Recorder::end_line() {
  line_.push_back('\n');
  if ((gz_ == nullptr && zstd_ == nullptr) || !status_.ok()) return;
  if (line_.size() > CaptureReader::kMaxLine) {
    // The reader could not take it back: fail the recording rather than leave a hole.
    status_ = absl::OutOfRangeError(path_ + ": line " + std::to_string(lines_ + 1) + " would be " +
                                    std::to_string(line_.size()) + " bytes, over the " +
                                    std::to_string(CaptureReader::kMaxLine) + "-byte line limit; recording stopped");
    return;
  }
  if (zstd_ != nullptr) {
    if (std::string e = zstd_->compress(line_, ZSTD_e_continue); !e.empty()) {
      status_ = absl::DataLossError(path_ + ": writing the recording failed at line " + std::to_string(lines_ + 1) +
                                    ": " + e);
      return;
    }
    ++lines_;
    bytes_ += line_.size();
    return;
  }
  const int n = gzwrite(static_cast<gzFile>(gz_), line_.data(), static_cast<unsigned>(line_.size()));
  if (n != static_cast<int>(line_.size())) {
    int zerr = Z_OK;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &zerr);
    status_ = absl::DataLossError(path_ + ": writing the recording failed at line " + std::to_string(lines_ + 1) +
                                  ": " + (zerr == Z_ERRNO ? std::strerror(errno) : msg));
    return;
  }
  ++lines_;
  bytes_ += line_.size();
}

void Recorder::event(std::int64_t ts_ns, std::string_view venue, RecordKind kind, std::string_view text) {
  // Config, open and close payloads are ours (words, URLs, reasons): always one line.
  const bool b64 = (kind == RecordKind::kRecv || kind == RecordKind::kSend) && needs_base64(text);
  head(ts_ns, venue, to_string(kind), b64);
  if (!b64 && needs_base64(text)) {
    std::string flat(text);
    for (char& c : flat) {
      if (c == '\n' || c == '\r' || c == '\0' || c == '\t') c = ' ';
    }
    while (!flat.empty() && flat.back() == ' ') flat.pop_back();
    while (!flat.empty() && flat.front() == ' ') flat.erase(0, 1);
    payload(flat, false);
  } else {
    payload(text, b64);
  }
  end_line();
}

void Recorder::request(std::int64_t ts_ns, std::string_view venue, std::uint64_t id, std::string_view method,
                       std::string_view url) {
  head(ts_ns, venue, to_string(RecordKind::kRequest), false);
  line_.push_back(' ');
  line_.append(std::to_string(id));
  line_.push_back(' ');
  line_.append(method);
  line_.push_back(' ');
  line_.append(url);
  end_line();
}

void Recorder::http(std::int64_t ts_ns, std::string_view venue, std::uint64_t id, int status, std::string_view url,
                    std::string_view body) {
  const bool b64 = needs_base64(body);
  head(ts_ns, venue, to_string(RecordKind::kHttp), b64);
  line_.push_back(' ');
  line_.append(std::to_string(id));
  line_.push_back(' ');
  line_.append(std::to_string(status));
  line_.push_back(' ');
  line_.append(url.empty() ? std::string_view("-") : url);
  payload(body, b64);
  end_line();
}

void Recorder::flush_if_due(std::int64_t now_ns) {
  if ((gz_ == nullptr && zstd_ == nullptr) || now_ns - last_flush_ns_ < 1'000'000'000) return;
  last_flush_ns_ = now_ns;
  if (zstd_ != nullptr) {
    std::string e = zstd_->compress({}, ZSTD_e_flush);
    if (e.empty() && std::fflush(zstd_->file) != 0) e = std::strerror(errno);
    if (!e.empty() && status_.ok()) status_ = absl::DataLossError(path_ + ": flushing the recording failed: " + e);
    return;
  }
  if (gzflush(static_cast<gzFile>(gz_), Z_SYNC_FLUSH) != Z_OK && status_.ok()) {
    int zerr = Z_OK;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &zerr);
    status_ = absl::DataLossError(path_ +
                                  ": flushing the recording failed: " + (zerr == Z_ERRNO ? std::strerror(errno) : msg));
  }
}

absl::Status Recorder::close() {
  if (zstd_ != nullptr) {
    std::string e = status_.ok() ? zstd_->compress({}, ZSTD_e_end) : std::string();
    const int rc = std::fclose(zstd_->file);
    zstd_->file = nullptr;
    if (e.empty() && rc != 0) e = std::strerror(errno);
    zstd_.reset();
    if (!e.empty() && status_.ok()) status_ = absl::DataLossError(path_ + ": closing the recording failed: " + e);
  }
  if (gz_ != nullptr) {
    const int rc = gzclose(static_cast<gzFile>(gz_));
    gz_ = nullptr;
    if (rc != Z_OK && status_.ok()) {
      status_ = absl::DataLossError(path_ + ": closing the recording failed (zlib error " + std::to_string(rc) + ")");
    }
  }
  return status_;
}

}  // namespace obr::engine
