#include "engine/replayer.h"

#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string_view>
#include <sys/stat.h>

#include "book/decimal.h"
#include "connectors/kraken/v2_session.h"

namespace obr::engine {
namespace {

constexpr std::size_t kMaxLine = 4u << 20;  // longest frame accepted from a file

// Counts frame errors with the file and line they came from.
class ReplaySink : public connectors::NullSink {
 public:
  ReplaySink(ReplaySummary& summary, std::size_t keep) : summary_(summary), keep_(keep) {}
  void at(const std::string* file, std::uint64_t line) {
    file_ = file;
    line_ = line;
  }
  void frame_error(connectors::FrameError e, std::string_view detail) override {
    note(std::string(connectors::to_string(e)) + ": " + std::string(detail));
  }
  void venue_error(std::string_view symbol, std::string_view message) override {
    ++summary_.venue_errors;
    note("venue error" + (symbol.empty() ? std::string() : " for " + std::string(symbol)) + ": " +
         std::string(message));
  }
  void note(const std::string& what) {
    if (summary_.errors.size() < keep_) summary_.errors.push_back(*file_ + ":" + std::to_string(line_) + ": " + what);
  }

 private:
  ReplaySummary& summary_;
  std::size_t keep_;
  const std::string* file_ = nullptr;
  std::uint64_t line_ = 0;
};

std::string_view strip(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

std::vector<ReplayLevel> top_levels(const book::OrderBook& ob, bool bids) {
  std::vector<ReplayLevel> out;
  const std::size_t n = std::min<std::size_t>(10, bids ? ob.bids().size() : ob.asks().size());
  for (std::size_t i = 0; i < n; ++i) {
    const book::Level& l = bids ? ob.bids().at(i) : ob.asks().at(i);
    out.push_back({book::to_decimal_string(l.price, ob.price_scale()), book::to_decimal_string(l.qty, ob.qty_scale())});
  }
  return out;
}

void json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

bool ReplaySummary::all_checks_passed() const noexcept {
  for (const ReplayBook& b : books) {
    if (b.counters.checks_failed != 0) return false;
  }
  return true;
}

absl::StatusOr<ReplaySummary> replay_files(const std::vector<std::string>& files, const ReplayOptions& options) {
  if (options.venue != "auto" && options.venue != "kraken") {
    return absl::InvalidArgumentError("venue '" + options.venue + "' is not supported by replay yet (supported: kraken)");
  }
  if (options.depth < 0) return absl::InvalidArgumentError("depth must be positive");
  ReplaySummary summary;
  ReplaySink sink(summary, options.max_errors_kept);
  const connectors::kraken::V2Config kraken_config{
      .depth = options.depth > 0 ? options.depth : 10,
      .track_any_symbol = true,
      .depth_from_ack = options.depth == 0,
  };
  std::uint64_t total_bytes = 0;
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) return absl::NotFoundError(f + ": cannot open");
    total_bytes += static_cast<std::uint64_t>(st.st_size);
  }
  auto buffer = std::make_unique<char[]>(kMaxLine + 1);
  std::uint64_t bytes_done = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& f : files) {
    // Each file is one recorded connection, so it gets its own session (and books).
    connectors::kraken::V2Session kraken(kraken_config);
    gzFile in = gzopen(f.c_str(), "rb");
    if (in == nullptr) return absl::NotFoundError(f + ": cannot open");
    gzbuffer(in, 1 << 17);
    std::uint64_t line_no = 0;
    bool decided = options.venue != "auto";
    bool skipping_long_line = false;
    while (gzgets(in, buffer.get(), static_cast<int>(kMaxLine + 1)) != nullptr) {
      std::string_view chunk(buffer.get());
      const bool complete = !chunk.empty() && chunk.back() == '\n';
      if (skipping_long_line) {
        skipping_long_line = !complete;
        continue;
      }
      ++line_no;
      bytes_done += chunk.size();
      if (!complete && !gzeof(in)) {
        // Longer than any frame we accept: an error, not an allocation.
        ++summary.malformed;
        sink.at(&f, line_no);
        sink.note("line longer than " + std::to_string(kMaxLine) + " bytes skipped");
        skipping_long_line = true;
        continue;
      }
      const std::string_view frame = strip(chunk);
      if (frame.empty()) continue;
      if (!decided) {
        if (frame.front() == '[') {
          gzclose(in);
          return absl::InvalidArgumentError(f + ":" + std::to_string(line_no) +
                                            ": Kraken v1 (array) frames are not supported by replay yet");
        }
        if (frame.front() != '{') {
          gzclose(in);
          return absl::InvalidArgumentError(f + ":" + std::to_string(line_no) +
                                            ": not a raw capture (expected one JSON frame per line); "
                                            "cryptofeed and tardis formats are not supported yet");
        }
        decided = true;
      }
      ++summary.frames;
      sink.at(&f, line_no);
      const std::uint64_t malformed_before = kraken.malformed_frames();
      kraken.on_frame(frame, static_cast<std::int64_t>(summary.frames), sink);
      kraken.on_tick(static_cast<std::int64_t>(summary.frames), sink);
      summary.malformed += kraken.malformed_frames() - malformed_before;
      if (options.progress && (line_no & 0xFFFF) == 0) options.progress(bytes_done, total_bytes);
    }
    int zerr = Z_OK;
    const char* msg = gzerror(in, &zerr);
    const bool failed = zerr != Z_OK && zerr != Z_STREAM_END;
    const std::string why = failed ? std::string(msg) : std::string();
    gzclose(in);
    if (failed) return absl::DataLossError(f + ":" + std::to_string(line_no) + ": " + why);
    for (std::size_t id = 0; id < kraken.book_count(); ++id) {
      const auto& info = kraken.info(static_cast<connectors::BookId>(id));
      if (!options.symbol.empty() && info.symbol != options.symbol) continue;
      const book::OrderBook& ob = kraken.book(static_cast<connectors::BookId>(id));
      summary.books.push_back(ReplayBook{"kraken", info.symbol, ob.state(), ob.counters(), info.depth,
                                         top_levels(ob, true), top_levels(ob, false), f});
    }
  }
  summary.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options.progress) options.progress(total_bytes, total_bytes);
  return summary;
}

std::string to_json(const ReplaySummary& s) {
  std::string out;
  char num[64];
  out += "{\"frames\":" + std::to_string(s.frames);
  out += ",\"malformed\":" + std::to_string(s.malformed);
  std::snprintf(num, sizeof num, "%.6f", s.elapsed_s);
  out += ",\"elapsed_s\":";
  out += num;
  std::snprintf(num, sizeof num, "%.1f", s.elapsed_s > 0 ? static_cast<double>(s.frames) / s.elapsed_s : 0.0);
  out += ",\"frames_per_s\":";
  out += num;
  out += ",\"books\":[";
  for (std::size_t i = 0; i < s.books.size(); ++i) {
    const ReplayBook& b = s.books[i];
    if (i) out += ',';
    out += "{\"venue\":";
    json_string(out, b.venue);
    out += ",\"symbol\":";
    json_string(out, b.symbol);
    out += ",\"state\":";
    json_string(out, book::to_string(b.state));
    out += ",\"file\":";
    json_string(out, b.file);
    out += ",\"depth\":" + std::to_string(b.depth);
    out += ",\"snapshots\":" + std::to_string(b.counters.snapshots);
    out += ",\"updates\":" + std::to_string(b.counters.updates);
    out += ",\"checks_passed\":" + std::to_string(b.counters.checks_passed);
    out += ",\"checks_failed\":" + std::to_string(b.counters.checks_failed);
    out += ",\"resyncs_requested\":" + std::to_string(b.counters.resyncs_requested);
    for (const auto& [key, side] : {std::pair{"bids", &b.bids}, std::pair{"asks", &b.asks}}) {
      out += ",\"";
      out += key;
      out += "\":[";
      for (std::size_t k = 0; k < side->size(); ++k) {
        if (k) out += ',';
        out += '[';
        json_string(out, (*side)[k].price);
        out += ',';
        json_string(out, (*side)[k].qty);
        out += ']';
      }
      out += ']';
    }
    out += '}';
  }
  out += "],\"errors\":[";
  for (std::size_t i = 0; i < s.errors.size(); ++i) {
    if (i) out += ',';
    json_string(out, s.errors[i]);
  }
  out += "]}";
  return out;
}

}  // namespace obr::engine
