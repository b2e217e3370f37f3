#include "engine/recorder.h"

#include <absl/strings/escaping.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <random>

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

std::string format_part(const RecordingPart& p) { return "run=" + p.run + " index=" + std::to_string(p.index); }

absl::StatusOr<RecordingPart> parse_part(std::string_view words) {
  RecordingPart p;
  bool run = false, index = false;
  while (!words.empty()) {
    const std::size_t sp = words.find(' ');
    const std::string_view word = words.substr(0, sp);
    words = sp == std::string_view::npos ? std::string_view() : words.substr(sp + 1);
    if (word.empty()) continue;
    const std::size_t eq = word.find('=');
    const std::string_view key = word.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : word.substr(eq + 1);
    if (key == "run" && eq != std::string_view::npos) {
      const bool hex = value.size() == 16 && std::all_of(value.begin(), value.end(), [](char c) {
                         return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                       });
      if (!hex) return absl::InvalidArgumentError("part run '" + std::string(value) + "' is not 16 hex digits");
      p.run.assign(value);
      run = true;
    } else if (key == "index" && eq != std::string_view::npos) {
      const auto r = std::from_chars(value.data(), value.data() + value.size(), p.index);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size() || p.index < 1) {
        return absl::InvalidArgumentError("part index '" + std::string(value) + "' is not a number from 1");
      }
      index = true;
    } else {
      return absl::InvalidArgumentError("unknown part word '" + std::string(word) + "' (expected run=ID index=N)");
    }
  }
  if (!run || !index) return absl::InvalidArgumentError("a part line needs run=ID and index=N");
  return p;
}

std::string part_path(const std::string& path, std::uint64_t index) {
  char num[24];
  std::snprintf(num, sizeof num, ".%06llu", static_cast<unsigned long long>(index));
  for (const std::string_view ext : {".obr.gz", ".obr.zst", ".obr", ".gz", ".zst"}) {
    if (path.size() > ext.size() && path.ends_with(ext)) {
      return path.substr(0, path.size() - ext.size()) + num + std::string(ext);
    }
  }
  return path + num;
}

// The zstd stream: ZSTD_compressStream2 into `out`, written to the file when it fills, on
// a flush and at the end.
struct Recorder::Zstd {
  std::FILE* file = nullptr;
  ZSTD_CCtx* cctx = nullptr;
  std::unique_ptr<char[]> out;
  std::size_t out_size = 0, out_len = 0;
  std::uint64_t written = 0;  // compressed bytes handed to the file

  ~Zstd() {
    if (cctx != nullptr) ZSTD_freeCCtx(cctx);
    if (file != nullptr) std::fclose(file);
  }

  // drain writes what `out` holds to the file; the error, or empty.
  std::string drain() {
    if (out_len > 0 && std::fwrite(out.get(), 1, out_len, file) != out_len) return std::strerror(errno);
    written += out_len;
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

absl::Status Recorder::open_file(const std::string& path) {
  path_ = path;
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
    zstd_ = std::move(z);
  } else {
    gzFile gz = gzopen(path.c_str(), "wb1");
    if (gz == nullptr) {
      const int err = errno;
      return absl::InvalidArgumentError(
          path + ": cannot create the recording: " + (err != 0 ? std::strerror(err) : "zlib could not open it"));
    }
    gzbuffer(gz, 1 << 17);
    gz_ = gz;
  }
  files_.push_back(path);
  line_.reserve(1 << 16);
  line_.clear();
  write(kRecordingMagic);
  end_line();
  return status_;
}

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::open(const std::string& path) {
  std::unique_ptr<Recorder> r(new Recorder());
  if (absl::Status st = r->open_file(path); !st.ok()) return st;
  return r;
}

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::open(const std::string& path, const RecordingRotation& rotation,
                                                         std::int64_t now_ns) {
  if (!rotation.on()) return open(path);
  if (rotation.every_ns < 0) return absl::InvalidArgumentError("rotation every_ns must not be negative");
  std::unique_ptr<Recorder> r(new Recorder());
  r->rotation_ = rotation;
  r->base_path_ = path;
  std::random_device rd;
  const std::uint64_t id = ((static_cast<std::uint64_t>(rd()) << 32) | rd()) ^ static_cast<std::uint64_t>(now_ns);
  char hex[20];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(id));
  r->run_id_ = hex;
  r->last_flush_ns_ = now_ns;
  r->start_part(now_ns);
  if (!r->status_.ok()) return r->status_;
  return r;
}

// start_part opens the next part: the magic line, the part line, and every venue's config
// as it stands (none yet for the first part: the engine writes them after open).
void Recorder::start_part(std::int64_t ts_ns) {
  ++part_;
  if (absl::Status st = open_file(part_path(base_path_, part_)); !st.ok()) {
    if (status_.ok()) status_ = st;
    next_rotation_ns_ = std::numeric_limits<std::int64_t>::max();
    return;
  }
  head(ts_ns, "-", "part", false);
  payload(format_part(RecordingPart{run_id_, part_}), false);
  end_line();
  for (const auto& [venue, words] : configs_) {
    head(ts_ns, venue, to_string(RecordKind::kConfig), false);
    payload(words, false);
    end_line();
  }
  part_compressed_ = 0;
  next_rotation_ns_ = std::numeric_limits<std::int64_t>::max();
  if (rotation_.every_ns > 0 && ts_ns >= 0) {
    const std::int64_t period = ts_ns / rotation_.every_ns + 1;  // the next multiple of every_ns
    if (period <= std::numeric_limits<std::int64_t>::max() / rotation_.every_ns) {
      next_rotation_ns_ = period * rotation_.every_ns;
    }
  }
}

// rotate finishes the current part and starts the next, between two events.
void Recorder::rotate(std::int64_t ts_ns) {
  close_file();
  if (!status_.ok()) {
    next_rotation_ns_ = std::numeric_limits<std::int64_t>::max();
    return;
  }
  start_part(ts_ns);
}

// track_config keeps every venue's config words as they stand: its config line, with the
// symbols of its later subscribe lines added (what the next part starts with).
void Recorder::track_config(std::string_view venue, RecordKind kind, std::string_view text) {
  auto it = std::find_if(configs_.begin(), configs_.end(), [&](const auto& c) { return c.first == venue; });
  if (kind == RecordKind::kConfig) {
    if (it == configs_.end()) {
      configs_.emplace_back(std::string(venue), std::string(text));
    } else {
      it->second.assign(text);
    }
    return;
  }
  if (it == configs_.end()) return;
  auto config = parse_config(it->second);
  if (!config.ok()) return;  // the engine's own words: they parse
  for (std::string_view v = text; !v.empty();) {
    const std::size_t comma = v.find(',');
    config->symbols.emplace_back(v.substr(0, comma));
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
  }
  it->second = format_config(*config);
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
  rotate_if_due(ts_ns);
  if (part_ != 0 && (kind == RecordKind::kConfig || kind == RecordKind::kSubscribe)) track_config(venue, kind, text);
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
  rotate_if_due(ts_ns);
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
  rotate_if_due(ts_ns);
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
    part_compressed_ = zstd_->written;
  } else {
    gzFile gz = static_cast<gzFile>(gz_);
    if (gzflush(gz, Z_SYNC_FLUSH) != Z_OK && status_.ok()) {
      int zerr = Z_OK;
      const char* msg = gzerror(gz, &zerr);
      status_ = absl::DataLossError(
          path_ + ": flushing the recording failed: " + (zerr == Z_ERRNO ? std::strerror(errno) : msg));
    }
    // Only with rotation by size: one lseek a second (everything is in the file after the flush).
    if (rotation_.max_bytes > 0) part_compressed_ = static_cast<std::uint64_t>(std::max<z_off_t>(gzoffset(gz), 0));
  }
  if (rotation_.max_bytes > 0 && status_.ok() && part_compressed_ >= rotation_.max_bytes) rotate(now_ns);
}

// close_file finishes the file being written (zstd's end of frame, gzip's trailer) and
// closes it; a failure is kept in status_.
void Recorder::close_file() {
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
}

absl::Status Recorder::close() {
  close_file();
  next_rotation_ns_ = std::numeric_limits<std::int64_t>::max();
  rotation_ = {};
  return status_;
}

}  // namespace obr::engine
