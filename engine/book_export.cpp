// engine/book_export.cpp — the CSV export of replayed books (engine/book_export.h).
#include "engine/book_export.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "book/decimal.h"
#include "engine/time_text.h"
#include "engine/venue_replay_impl.h"

namespace obr::engine {

// ---- the file --------------------------------------------------------------------------

namespace {
constexpr std::size_t kBuffer = 1 << 20;
}  // namespace

absl::StatusOr<std::unique_ptr<ExportFile>> ExportFile::create(const std::string& path, bool gzip) {
  std::unique_ptr<ExportFile> f(new ExportFile());
  f->path_ = path;
  if (gzip) {
    // Level 3: about three times zlib's default speed for CSV of this kind, a few per cent
    // larger; a researcher who wants it smaller recompresses once.
    f->gz_ = gzopen(path.c_str(), "wb3");
    if (f->gz_ == nullptr) return absl::InvalidArgumentError(path + ": cannot create: " + std::strerror(errno));
  } else {
    f->plain_ = std::fopen(path.c_str(), "wb");
    if (f->plain_ == nullptr) return absl::InvalidArgumentError(path + ": cannot create: " + std::strerror(errno));
  }
  f->buffer_.reserve(kBuffer);
  return f;
}

ExportFile::~ExportFile() { (void)close(); }

void ExportFile::write(std::string_view text) {
  if (buffer_.size() + text.size() > kBuffer) flush();
  buffer_.append(text);
}

void ExportFile::flush() {
  if (buffer_.empty() || !status_.ok()) {
    buffer_.clear();
    return;
  }
  bool ok = true;
  if (plain_ != nullptr) {
    ok = std::fwrite(buffer_.data(), 1, buffer_.size(), plain_) == buffer_.size();
  } else if (gz_ != nullptr) {
    ok = gzwrite(static_cast<gzFile>(gz_), buffer_.data(), static_cast<unsigned>(buffer_.size())) ==
         static_cast<int>(buffer_.size());
  }
  if (!ok) status_ = absl::DataLossError(path_ + ": write failed: " + std::strerror(errno));
  buffer_.clear();
}

absl::Status ExportFile::close() {
  flush();
  if (plain_ != nullptr) {
    if (std::fclose(plain_) != 0 && status_.ok()) {
      status_ = absl::DataLossError(path_ + ": write failed: " + std::strerror(errno));
    }
    plain_ = nullptr;
  }
  if (gz_ != nullptr) {
    if (gzclose(static_cast<gzFile>(gz_)) != Z_OK && status_.ok()) {
      status_ = absl::DataLossError(path_ + ": write failed (gzip close)");
    }
    gz_ = nullptr;
  }
  return status_;
}

std::string export_header(int levels) {
  std::string h = "time_ns,time,venue,symbol,state,sequence";
  for (int i = 1; i <= levels; ++i) {
    const std::string n = std::to_string(i);
    h += ",bid_price_" + n + ",bid_qty_" + n + ",ask_price_" + n + ",ask_qty_" + n;
  }
  h += '\n';
  return h;
}

// ---- the rows --------------------------------------------------------------------------

namespace {

// csv_field appends a field, quoted when it holds a comma, a quote or a line end.
void csv_field(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

std::uint8_t& BookExport::flags(connectors::BookId id) {
  Seen* s = nullptr;
  for (Seen& x : seen_) {
    if (x.replay == current_) s = &x;
  }
  if (s == nullptr) s = &seen_.emplace_back(Seen{current_, {}});
  if (id >= s->flags.size()) s->flags.resize(id + 1, 0);
  return s->flags[id];
}

void BookExport::mark(connectors::BookId id, bool level_change) {
  if (current_ == nullptr) return;
  std::uint8_t& f = flags(id);
  if (!(f & kAppeared)) {
    if (!level_change) return;  // a book appears with its first level change
    f |= kAppeared;
    order_.emplace_back(current_, id);
  }
  if (options_.export_on_change && !(f & kDirty)) {
    f |= kDirty;
    dirty_.emplace_back(current_, id);
  }
}

void BookExport::book_updated(connectors::BookId id) { mark(id, true); }
void BookExport::state_changed(connectors::BookId id) { mark(id, false); }

void BookExport::row(std::int64_t ts_ns, const VenueReplay& replay, connectors::BookId id) {
  const connectors::BookReport r = replay.book_report(id);
  if (!options_.symbol.empty() && r.symbol != options_.symbol) return;
  std::string& l = line_;
  l.clear();
  if (ts_ns >= 0) {
    char buf[32];
    l.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, ts_ns).ptr - buf));
    l.push_back(',');
    l.append(buf, format_iso8601_ns(ts_ns, buf));
  } else {
    l.push_back(',');
  }
  l.push_back(',');
  csv_field(l, replay.venue_name());
  l.push_back(',');
  csv_field(l, r.symbol);
  l.push_back(',');
  const book::OrderBook& b = *r.book;
  l.append(book::to_string(b.state()));
  l.push_back(',');
  if (r.sequence >= 0) {
    char buf[24];
    l.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, r.sequence).ptr - buf));
  }
  const bool live = b.state() == book::BookState::kLive;
  const bool trim = replay.trims_text();
  for (int i = 0; i < options_.export_levels; ++i) {
    const auto n = static_cast<std::size_t>(i);
    char text[kLevelTextChars];
    const auto level = [&](const auto& side) {
      l.push_back(',');
      if (live && n < side.size()) l.append(text, append_level_text(text, side.at(n).price, b.price_scale(), trim));
      l.push_back(',');
      if (live && n < side.size()) l.append(text, append_level_text(text, side.at(n).qty, b.qty_scale(), trim));
    };
    level(b.bids());
    level(b.asks());
  }
  l.push_back('\n');
  out_.write(l);
}

// boundaries_before writes every boundary below `limit_ns` (at or below, when inclusive)
// that lies in [from, to].
void BookExport::boundaries_before(std::int64_t limit_ns, bool inclusive) {
  const std::int64_t every = options_.export_every_ns;
  const std::int64_t last = std::min(options_.to_ns, inclusive ? limit_ns : limit_ns - 1);
  if (next_ < options_.from_ns) {  // rows start at --from: skip the boundaries before it
    next_ = options_.from_ns <= 0 ? 0 : (options_.from_ns + every - 1) / every * every;
  }
  if (order_.empty()) {  // no book yet: nothing to write up to the limit
    if (next_ <= last) next_ = (last / every + 1) * every;
    return;
  }
  for (; next_ <= last; next_ += every) {
    for (const auto& [replay, id] : order_) row(next_, *replay, id);
  }
}

void BookExport::before_event(const VenueReplay* replay, std::int64_t ts_ns) {
  current_ = replay;
  if (ts_ns < 0) return;
  if (options_.export_every_ns > 0) {
    if (next_ < 0)
      next_ =
          (ts_ns + options_.export_every_ns - 1) / options_.export_every_ns * options_.export_every_ns;  // first >= ts
    boundaries_before(ts_ns, /*inclusive=*/false);
  }
  last_ts_ = std::max(last_ts_, ts_ns);
}

void BookExport::after_event(std::int64_t ts_ns) {
  for (const auto& [replay, id] : dirty_) {
    current_ = replay;
    flags(id) &= static_cast<std::uint8_t>(~kDirty);
    if (ts_ns < 0 || (ts_ns >= options_.from_ns && ts_ns <= options_.to_ns)) row(ts_ns, *replay, id);
  }
  dirty_.clear();
}

void BookExport::finish(std::int64_t until_ns) {
  if (options_.export_every_ns > 0 && next_ >= 0) boundaries_before(until_ns, /*inclusive=*/true);
}

}  // namespace obr::engine
