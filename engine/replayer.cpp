// engine/replayer.cpp — replay_files and what it needs (engine/replayer.h). Sections, in
// order: the sink that counts frame errors by file and line, and the JSON text helpers;
// books, the summary and the verdict; venues and the files of one recording; one
// recording's run (its own summary, sink, export and progress, so recordings can run side
// by side); obr recordings (one file, or the parts of a rotated run through the same
// sessions: engine/recording_set.h groups them); captures made by others (their
// connections, frames held until a venue is told, one connection's files merged by time);
// JSON-lines captures (several connections in a file, each exported on its own clock); one
// recording; the entry point (threads, the merge in order, the export's parts joined); the
// `--json` output.
#include "engine/replayer.h"

#include <absl/container/flat_hash_map.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>

#include "book/decimal.h"
#include "engine/book_export.h"
#include "engine/capture_reader.h"
#include "engine/json_text.h"
#include "engine/recorder.h"
#include "engine/recording_set.h"
#include "engine/venue_replay_impl.h"
#include "engine/venues_impl.h"

namespace obr::engine {
namespace {

// ---- the sink and the JSON text helpers ---------------------------------------------

// Counts frame errors with the file and line they came from.
class ReplaySink : public connectors::NullSink {
 public:
  ReplaySink(ReplaySummary& summary, const ReplayOptions& options)
      : summary_(summary), keep_(options.max_errors_kept), on_book_(options.on_book) {}
  void at(const std::string* file, std::uint64_t line) {
    file_ = file;
    line_ = line;
  }
  // event: the venue and recorded time (-1: none) of the event about to be fed (on_book).
  void event(std::string_view venue, std::int64_t ts_ns) {
    venue_ = venue;
    ts_ns_ = ts_ns;
  }
  void book_updated(connectors::BookId id, std::string_view symbol, const book::OrderBook& book, bool) override {
    if (export_ != nullptr) export_->book_updated(id);
    if (on_book_) on_book_(venue_, symbol, book, ts_ns_);
  }
  void book_state_changed(connectors::BookId id, std::string_view, book::BookState, book::BookState,
                          connectors::StateReason) override {
    if (export_ != nullptr) export_->state_changed(id);
  }
  void set_export(BookExport* e) noexcept { export_ = e; }
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
  const std::function<void(std::string_view, std::string_view, const book::OrderBook&, std::int64_t)>& on_book_;
  const std::string* file_ = nullptr;
  std::uint64_t line_ = 0;
  std::string_view venue_;
  std::int64_t ts_ns_ = 0;
  BookExport* export_ = nullptr;
};

}  // namespace

// ---- books, the summary and the verdict ----------------------------------------------

char* append_level_text(char* out, std::int64_t value, int scale, bool trim) noexcept {
  return trim ? book::append_plain_decimal(out, value, scale) : out + book::format_decimal(value, scale, out);
}

std::vector<ReplayLevel> top_levels(const book::OrderBook& ob, bool bids, bool trim) {
  std::vector<ReplayLevel> out;
  const std::size_t n = std::min<std::size_t>(10, bids ? ob.bids().size() : ob.asks().size());
  char text[kLevelTextChars];
  const auto level_text = [&](std::int64_t v, int scale) {
    return std::string(text, append_level_text(text, v, scale, trim));
  };
  for (std::size_t i = 0; i < n; ++i) {
    const book::Level& l = bids ? ob.bids().at(i) : ob.asks().at(i);
    out.push_back(ReplayLevel{level_text(l.price, ob.price_scale()), level_text(l.qty, ob.qty_scale())});
  }
  return out;
}

bool ReplaySummary::all_checks_passed() const noexcept {
  for (const ReplayBook& b : books) {
    if (b.counters.checks_failed != 0) return false;
  }
  return true;
}

std::size_t ReplaySummary::validated_books() const noexcept {
  std::size_t n = 0;
  for (const ReplayBook& b : books) n += b.counters.checks_passed != 0 ? 1 : 0;
  return n;
}

ReplayVerdict replay_verdict(const ReplaySummary& s, const ReplayOptions& options) {
  if (s.interrupted) return {130, "interrupted: the summary covers the input read so far"};
  if (!s.input_errors.empty()) {
    return {2, s.input_errors.front() +
                   (s.input_errors.size() > 1
                        ? " (and " + std::to_string(s.input_errors.size() - 1) + " more input error(s))"
                        : std::string())};
  }
  std::uint64_t failed = 0;
  for (const ReplayBook& b : s.books) failed += b.counters.checks_failed;
  if (failed != 0) {
    return {1, std::to_string(failed) + " check(s) failed"};
  }
  if (s.validated_books() == 0) {
    std::string why = "nothing was validated: ";
    if (!options.symbol.empty() && s.books.empty() && !s.symbols_seen.empty()) {
      why += "--symbol " + options.symbol + " never appears (books in the input: ";
      for (std::size_t i = 0; i < s.symbols_seen.size() && i < 10; ++i) why += (i ? ", " : "") + s.symbols_seen[i];
      if (s.symbols_seen.size() > 10) why += ", ...";
      return {3, why + ")"};
    }
    if (s.frames == 0) return {3, why + "the input holds no frames"};
    if (options.venue != "auto" && s.malformed != 0) {
      return {3, why + "--venue " + options.venue + " matches nothing in the input (" + std::to_string(s.malformed) +
                     " frame(s) could not be read as " + options.venue + ")"};
    }
    if (!s.without_rest.empty()) {
      const auto& [venue, ws, cryptofeed] = s.without_rest.front();
      const std::size_t at = ws.rfind(".ws.");
      if (!cryptofeed || at == std::string::npos) {
        return {3, why + "the " + venue + " deltas in " + ws +
                       " have no REST snapshot to calibrate from (replay an obr "
                       "recording, or a cryptofeed X.ws.N.M with its X.http.N.M)"};
      }
      return {3, why + venue + " books calibrate from their recorded REST snapshots: pass " + ws.substr(0, at) +
                     ".http.* beside " + ws};
    }
    if (!s.parts_without_start.empty()) {
      return {3, why + s.parts_without_start.front() +
                     " is a later part of a rotated recording, replayed without the parts before it: its books "
                     "start empty and none saw a snapshot in it (no state is carried across parts; replay the run "
                     "from its first part, docs/recording.md \"Rotation\")"};
    }
    if (s.books.empty()) return {3, why + "no book frames in the input"};
    return {3, why + "no book reached a check (no snapshot or update was verified)"};
  }
  if (s.malformed != 0) return {1, std::to_string(s.malformed) + " frame(s) or line(s) could not be used"};
  return {0, ""};
}

namespace {

// ---- venues and the files of one recording -------------------------------------------

// report_books adds a replayed connection's books to the summary (only --symbol's, when
// given) and notes every symbol seen, so that a --symbol matching nothing can be named.
void report_books(const VenueReplay& venue, const ReplayOptions& options, const std::string& file,
                  ReplaySummary& summary) {
  std::vector<ReplayBook> all;
  venue.report(file, all);
  for (ReplayBook& b : all) {
    if (std::find(summary.symbols_seen.begin(), summary.symbols_seen.end(), b.symbol) == summary.symbols_seen.end()) {
      summary.symbols_seen.push_back(b.symbol);
    }
    if (options.symbol.empty() || b.symbol == options.symbol) summary.books.push_back(std::move(b));
  }
}

bool stop_requested(const ReplayOptions& options) noexcept {
  return options.stop != nullptr && options.stop->load(std::memory_order_relaxed);
}

// detect_venue: the venue an event belongs to, or nullptr when it does not say: the first
// venue whose marker the recorded URL holds, else the first that knows the frame.
const Venue* detect_venue(const CaptureEvent& ev) {
  if (!ev.url.empty()) {
    for (const Venue& v : venues()) {
      const std::string_view marker = v.descriptor->url_marker;
      if (!marker.empty() && ev.url.find(marker) != std::string_view::npos) return &v;
    }
  }
  if (ev.kind != CaptureEventKind::kReceived || ev.payload.empty()) return nullptr;
  for (const Venue& v : venues()) {
    if (v.descriptor->first_frame_is != nullptr && v.descriptor->first_frame_is(ev.payload)) return &v;
  }
  return nullptr;
}

// ---- one recording's run ---------------------------------------------------------------

// Tap: how far one recording's replay has got, read by the progress report (from another
// thread when recordings run side by side).
struct Tap {
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> frames{0};
};

// Run: one recording's replay: its own summary, sink, export and progress tap, so that
// recordings can run side by side and be merged in order (merge_run).
struct Run {
  Run(const ReplayOptions& o, const connectors::SessionSettings& c, Tap& t)
      : options(o), capture(c), sink(summary, o), tap(t) {}
  const ReplayOptions& options;
  const connectors::SessionSettings& capture;  // every capture's session (not obr recordings')
  ReplaySummary summary;
  ReplaySink sink;
  Tap& tap;
  const std::function<void()>* report = nullptr;  // threads == 1: the progress report, inline
  BookExport* exp = nullptr;
  ExportFile* target = nullptr;                   // the file `exp` writes to
  std::string part_prefix;                        // for exports made per connection (JSON lines): where parts are named
  std::set<std::string, std::less<>> conns_seen;  // every JSON-lines connection's name
  bool stopped_at_to = false;                     // an event after --to ended the replay
  std::uint64_t events = 0;

  // tick: every 64k events, the progress so far (`bytes`: of this recording's files).
  void tick(std::uint64_t bytes) {
    if ((++events & 0xFFFF) != 0) return;
    tap.bytes.store(bytes, std::memory_order_relaxed);
    tap.frames.store(summary.frames, std::memory_order_relaxed);
    if (report != nullptr) (*report)();
  }
  // finish_export writes the export's last boundaries, while the connections' replays,
  // which its rows read, still exist.
  void finish_export() {
    if (exp != nullptr) exp->finish(stopped_at_to ? options.to_ns : exp->last_ts());
  }
  // use_export: the export the next events feed (a JSON-lines connection's own).
  void use_export(BookExport* e) noexcept {
    exp = e;
    sink.set_export(e);
  }
  // past_to: `ev` lies after --to: the replay of this recording ends before it.
  bool past_to(const CaptureEvent& ev) {
    if (ev.ts_ns <= options.to_ns) return false;
    stopped_at_to = true;
    return true;
  }
  // feed: one event to a connection's replay (its venue's name), the export told before
  // and after it.
  void feed(VenueReplay& replay, std::string_view venue, const CaptureEvent& ev, std::int64_t now) {
    if (ev.kind == CaptureEventKind::kReceived) ++summary.frames;
    const std::uint64_t malformed_before = replay.malformed();
    sink.event(venue, ev.ts_ns >= 0 ? ev.ts_ns : -1);
    if (exp != nullptr) exp->before_event(&replay, ev.ts_ns);
    replay.on_event(ev, now, sink);
    if (exp != nullptr) exp->after_event(ev.ts_ns);
    summary.malformed += replay.malformed() - malformed_before;
  }
};

// A recording is one connection: a capture file plus, for cryptofeed, the REST
// responses recorded beside it (`X.http.N.M` goes with every `X.ws.N.M`); or one obr
// run: a file, or the parts of a rotated run (engine/recording_set.h), replayed as one.
struct Recording {
  std::string ws;
  std::vector<std::string> http;
  std::vector<std::string> parts;  // a rotated run's later parts, in order (ws is the first)
};

std::string cryptofeed_prefix(const std::string& path, std::string_view kind) {
  const std::size_t at = path.rfind(kind);
  return at == std::string::npos ? std::string() : path.substr(0, at);
}

// ---- obr recordings -------------------------------------------------------------------

// ObrVenues: the sessions of one obr run, by venue name; kept across the parts of a
// rotated run, so that its sessions go on from one file to the next.
using ObrVenues = std::vector<std::pair<std::string, std::unique_ptr<VenueReplay>>>;

// replay_obr_file feeds one file of an obr run to its sessions, each configured from its
// venue's `config` line exactly as the engine configured it, then fed the recorded calls in
// order. `continuation`: the file is a later part of a rotated run whose earlier parts
// were fed: its part line and the config lines at its top, which repeat what the sessions
// were configured with (docs/recording.md "Rotation"), are not fed again. `name`: the
// file's name for errors (outlives the run). Returns false when the run must not go on
// (interrupted, past --to, or the file could not be read to its end).
absl::StatusOr<bool> replay_obr_file(CaptureReader& reader, const std::string& name, bool continuation,
                                     std::uint64_t bytes_before, ObrVenues& venues, Run& run) {
  const ReplayOptions& options = run.options;
  ReplaySink& sink = run.sink;
  ReplaySummary& summary = run.summary;
  const auto where = [&](const CaptureEvent& ev) { return name + ":" + std::to_string(ev.line) + ": "; };
  bool top = true;  // only the part line and config lines read so far
  CaptureEvent ev;
  while (reader.next(ev)) {
    if (stop_requested(options)) {
      summary.interrupted = true;
      return false;
    }
    sink.at(&name, ev.line);
    if (ev.kind == CaptureEventKind::kPart) {
      // Always the file's first event (engine/recording_set.h has read and checked it).
      if (ev.line != 2) return absl::InvalidArgumentError(where(ev) + "a part line after the file's first event");
      auto part = parse_part(ev.payload);
      if (!part.ok()) return absl::InvalidArgumentError(where(ev) + std::string(part.status().message()));
      if (!continuation && part->index > 1) {
        summary.parts_without_start.push_back(name + " (part " + std::to_string(part->index) + " of run " + part->run +
                                              ")");
      }
      continue;
    }
    if (run.past_to(ev)) return false;
    if (ev.kind == CaptureEventKind::kBadLine) {
      top = false;
      ++summary.malformed;
      ++summary.bad_lines;
      sink.note(std::string(ev.payload));
      continue;
    }
    VenueReplay* venue = nullptr;
    for (auto& [venue_name, v] : venues) {
      if (venue_name == ev.venue) venue = v.get();
    }
    if (ev.kind == CaptureEventKind::kConfig) {
      // A continuation's config lines repeat the venues' configs: skipped for the venues the
      // earlier parts configured (a venue new at the boundary is configured here).
      if (continuation && top && venue != nullptr) continue;
      if (venue != nullptr)
        return absl::InvalidArgumentError(where(ev) + "a second config line for " + std::string(ev.venue));
      auto config = parse_config(ev.payload);
      if (!config.ok()) return absl::InvalidArgumentError(where(ev) + std::string(config.status().message()));
      const Venue* known = find_venue(ev.venue);
      if (known == nullptr) {
        return absl::InvalidArgumentError(where(ev) + "venue '" + std::string(ev.venue) +
                                          "' is not supported by replay (supported: " + venue_names() + ")");
      }
      const connectors::VenueDescriptor& d = *known->descriptor;
      if (d.depth_ok != nullptr && config->depth <= 0) {
        return absl::InvalidArgumentError(where(ev) + "the " + std::string(d.name) + " config has no depth");
      }
      if (d.depth_ok != nullptr && !d.depth_ok(config->depth)) {
        return absl::InvalidArgumentError(where(ev) + "the " + std::string(d.name) + " config's depth " +
                                          std::to_string(config->depth) + " is not " + std::string(d.depths_text));
      }
      connectors::SessionSettings settings = session_settings(*config);
      settings.mode = connectors::SessionMode::kExact;
      // The credentials chose the snapshot endpoint; the signature never reaches a book.
      if (config->credentials) settings.credentials = {"recorded", "recorded", "recorded"};
      std::unique_ptr<VenueReplay> v = known->make_replay(settings);
      if (run.exp != nullptr) run.exp->before_event(v.get(), ev.ts_ns);
      v->begin(config->symbols, ev.ts_ns, sink);
      if (run.exp != nullptr) run.exp->after_event(ev.ts_ns);
      venues.emplace_back(std::string(ev.venue), std::move(v));
      continue;
    }
    top = false;
    if (venue == nullptr) {
      return absl::InvalidArgumentError(where(ev) + "an event for " + std::string(ev.venue) +
                                        " before its config line");
    }
    if (ev.kind == CaptureEventKind::kSubscribe) {
      auto more = parse_config("symbols=" + std::string(ev.payload));
      if (!more.ok() || more->symbols.empty())
        return absl::InvalidArgumentError(where(ev) + "subscribe without symbols");
      if (run.exp != nullptr) run.exp->before_event(venue, ev.ts_ns);
      venue->begin(more->symbols, ev.ts_ns, sink);
      if (run.exp != nullptr) run.exp->after_event(ev.ts_ns);
      continue;
    }
    run.feed(*venue, ev.venue, ev, ev.ts_ns);
    run.tick(bytes_before + reader.bytes_read());
  }
  if (!reader.status().ok()) {
    summary.input_errors.emplace_back(reader.status().message());
    return false;
  }
  return true;
}

// replay_obr replays one obr run: the file `reader` reads and, for a rotated run, its later
// parts after it (rec.parts, in order), all through the same sessions, as the engine fed
// them. The books are reported under the first file's name. `bytes`: of every file read.
absl::Status replay_obr(CaptureReader& reader, const Recording& rec, Run& run, std::uint64_t& bytes) {
  ObrVenues venues;
  auto go_on = replay_obr_file(reader, rec.ws, false, 0, venues, run);
  if (!go_on.ok()) return go_on.status();
  bytes = reader.bytes_read();
  for (std::size_t i = 0; i < rec.parts.size(); ++i) {
    if (!*go_on) {
      // A part cut short (or unreadable) ends the run there: the sessions cannot go on past a hole.
      if (!run.summary.input_errors.empty() && !run.summary.interrupted && !run.stopped_at_to) {
        run.summary.input_errors.back() += " (the run's " + std::to_string(rec.parts.size() - i) +
                                           " later part(s) were not replayed, from " + rec.parts[i] + ")";
      }
      break;
    }
    auto next = CaptureReader::open(rec.parts[i]);
    if (!next.ok()) return next.status();
    go_on = replay_obr_file(**next, rec.parts[i], true, bytes, venues, run);
    if (!go_on.ok()) return go_on.status();
    bytes += (*next)->bytes_read();
  }
  run.finish_export();
  for (const auto& [name, v] : venues) report_books(*v, run.options, rec.ws, run.summary);
  return absl::OkStatus();
}

// check_replay_options: InvalidArgument for a --venue or --conn-venue venue replay does not
// know, a --conn-venue without a connection name, or a --depth the forced venue (or, auto,
// every venue) does not offer.
absl::Status check_replay_options(const ReplayOptions& options) {
  const Venue* forced = options.venue == "auto" ? nullptr : find_venue(options.venue);
  if (options.venue != "auto" && forced == nullptr) {
    return absl::InvalidArgumentError("venue '" + options.venue +
                                      "' is not supported by replay (supported: " + venue_names() + ")");
  }
  for (const auto& [conn, venue] : options.conn_venues) {
    if (conn.empty()) return absl::InvalidArgumentError("--conn-venue =" + venue + ": no connection name");
    if (find_venue(venue) == nullptr) {
      return absl::InvalidArgumentError("--conn-venue " + conn + "=" + venue + ": venue '" + venue +
                                        "' is not supported by replay (supported: " + venue_names() + ")");
    }
  }
  if (options.depth < 0) return absl::InvalidArgumentError("depth must be positive");
  if (options.depth > 0) {
    // The depth must be one the forced venue offers, or (auto) one some venue offers.
    std::string offered;
    bool ok = false;
    for (const Venue& v : venues()) {
      const connectors::VenueDescriptor& d = *v.descriptor;
      if (d.depth_ok == nullptr || (forced != nullptr && forced != &v)) continue;
      ok = ok || d.depth_ok(options.depth);
      offered += (offered.empty() ? "" : "; ") + std::string(d.name) + ": " + std::string(d.depths_text);
    }
    if (!ok) {
      return absl::InvalidArgumentError("--depth " + std::to_string(options.depth) + " is not a depth " +
                                        (forced != nullptr ? options.venue + " offers" : "any venue offers") + " (" +
                                        (offered.empty() ? "it has no depth to choose" : offered) + ")");
    }
  }
  return absl::OkStatus();
}

// group_recordings sorts `files` into connections, every cryptofeed `X.http.N.M` with its
// `X.ws.N.M`, and adds up their sizes for the progress callback. Every file is looked at
// before any is replayed, so that a missing one is refused before any work is done.
absl::Status group_recordings(const std::vector<std::string>& files, std::vector<Recording>& recordings,
                              std::uint64_t& total_bytes) {
  std::vector<std::string> http_files, others;
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) return absl::NotFoundError(f + ": cannot open");
    total_bytes += static_cast<std::uint64_t>(st.st_size);
    (cryptofeed_prefix(f, ".http.").empty() ? others : http_files).push_back(f);
  }
  // The parts of a rotated obr recording: one recording, in the order of their index.
  std::vector<std::vector<std::string>> units;
  if (absl::Status st = group_parts(others, units); !st.ok()) return st;
  for (std::vector<std::string>& unit : units) {
    Recording& r = recordings.emplace_back();
    r.ws = unit.front();
    r.parts.assign(std::make_move_iterator(unit.begin() + 1), std::make_move_iterator(unit.end()));
  }
  for (const std::string& h : http_files) {
    bool attached = false;
    for (Recording& r : recordings) {
      if (cryptofeed_prefix(r.ws, ".ws.") == cryptofeed_prefix(h, ".http.")) {
        r.http.push_back(h);
        attached = true;
      }
    }
    if (!attached) {
      return absl::InvalidArgumentError(h + ": REST responses without their WebSocket recording (pass the matching " +
                                        cryptofeed_prefix(h, ".http.") + ".ws.* file too)");
    }
  }
  return absl::OkStatus();
}

// ---- captures made by others: connections, held frames, files merged by time --------

// kMaxHeld: the events of a connection held while none tells its venue. Only the start of
// a connection is held (subscribe acknowledgements and the like, which name no market).
constexpr std::size_t kMaxHeld = 64;

// HeldEvent: a copy of an event held until its connection's venue is known.
struct HeldEvent {
  CaptureEventKind kind;
  std::int64_t ts_ns;
  std::uint64_t line;
  const std::string* file;  // the reader's path (a cryptofeed connection has several files)
  std::string url;
  std::string payload;
};

// CaptureConn: one connection of someone else's capture: a raw or cryptofeed file (with
// its `.http.` companions), or one connection of a JSON-lines file. Its venue is known
// from --conn-venue or --venue or, once an event tells it, from the recorded URL or a
// frame (detect_venue); its replay starts then, fed first the events held until then.
struct CaptureConn {
  std::string name;  // JSON lines: the connection's name; empty: the file is the connection
  std::string file;  // its books' ReplayBook::file
  const Venue* known = nullptr;
  std::string_view venue;
  std::unique_ptr<VenueReplay> replay;
  std::vector<HeldEvent> held;
  // JSON lines: the connection's own export, written to a part of its own and merged by
  // time with the other connections' (merge_parts): a file need not interleave them.
  std::unique_ptr<ExportFile> part;
  std::unique_ptr<BookExport> exp;
};

// untold: the error for a connection whose venue no event told: one more event than
// kMaxHeld told nothing, or its file(s) ended. Named by the line of its first event.
absl::Status untold(const CaptureConn& conn) {
  const HeldEvent& first = conn.held.front();
  const std::string n = std::to_string(conn.held.size());
  std::string why = *first.file + ":" + std::to_string(first.line) + ": cannot tell the venue";
  why += conn.name.empty() ? ": none of the " : " of connection " + conn.name + ": none of its ";
  if (conn.held.size() > kMaxHeld) {
    why += "first " + n + " frames (the first on this line) names one, and at most " + std::to_string(kMaxHeld) +
           " are held until one does";
  } else {
    why += n + " frame(s) (the first on this line) names one by the end of the file";
  }
  why += conn.name.empty()
             ? "; pass --venue VENUE"
             : "; name it with --conn-venue " + conn.name + "=VENUE, or every connection's with --venue VENUE";
  return absl::InvalidArgumentError(why + " (VENUE: " + venue_names() + ")");
}

// count_bad_line counts a line not in its file's format and lists it (sink.at names it).
void count_bad_line(const CaptureEvent& ev, Run& run) {
  ++run.summary.malformed;
  ++run.summary.bad_lines;
  run.sink.note(std::string(ev.payload));
}

// feed_known feeds one event to a connection whose replay has started. Without recorded
// times, the session's clock is the count of frames so far.
void feed_known(const CaptureEvent& ev, CaptureConn& conn, Run& run) {
  const std::int64_t now =
      ev.ts_ns >= 0 ? ev.ts_ns
                    : static_cast<std::int64_t>(run.summary.frames + (ev.kind == CaptureEventKind::kReceived ? 1 : 0));
  run.feed(*conn.replay, conn.venue, ev, now);
}

// start_replay starts a connection's replay once its venue is known and feeds it the
// events held until then, in order, each named by its own file and line.
void start_replay(CaptureConn& conn, Run& run) {
  conn.venue = conn.known->descriptor->name;
  conn.replay = conn.known->make_replay(run.capture);
  for (const HeldEvent& h : conn.held) {
    CaptureEvent ev;
    ev.kind = h.kind;
    ev.ts_ns = h.ts_ns;
    ev.line = h.line;
    ev.url = h.url;
    ev.payload = h.payload;
    run.sink.at(h.file, h.line);
    feed_known(ev, conn, run);
  }
  conn.held = {};  // frees them
}

// feed_capture_event feeds one event of a capture's connection to its venue's replay. An
// event before the venue is known that does not tell it either is held (copied), at most
// kMaxHeld per connection; one more is refused (untold). Bad lines are counted and listed.
absl::Status feed_capture_event(const CaptureEvent& ev, const std::string& file, CaptureConn& conn, Run& run) {
  run.sink.at(&file, ev.line);
  if (ev.kind == CaptureEventKind::kBadLine) {
    count_bad_line(ev, run);
    return absl::OkStatus();
  }
  if (conn.replay == nullptr) {
    if (conn.known == nullptr) conn.known = detect_venue(ev);
    if (conn.known == nullptr) {
      conn.held.push_back(HeldEvent{ev.kind, ev.ts_ns, ev.line, &file, std::string(ev.url), std::string(ev.payload)});
      return conn.held.size() > kMaxHeld ? untold(conn) : absl::OkStatus();
    }
    start_replay(conn, run);
    run.sink.at(&file, ev.line);
  }
  feed_known(ev, conn, run);
  return absl::OkStatus();
}

// replay_capture replays one connection of someone else's capture: the events of all its
// files, merged by their recorded time.
absl::Status replay_capture(const std::vector<std::unique_ptr<CaptureReader>>& readers, CaptureConn& conn, Run& run) {
  std::vector<CaptureEvent> heads(readers.size());
  std::vector<bool> live(readers.size());
  for (std::size_t i = 0; i < readers.size(); ++i) live[i] = readers[i]->next(heads[i]);
  std::uint64_t bytes_done = 0;  // of the files that have ended
  for (;;) {
    if (stop_requested(run.options)) {
      run.summary.interrupted = true;
      break;
    }
    // The earliest pending event across the connection's files (ties: the WebSocket file).
    std::size_t pick = readers.size();
    for (std::size_t i = 0; i < readers.size(); ++i) {
      if (live[i] && (pick == readers.size() || heads[i].ts_ns < heads[pick].ts_ns)) pick = i;
    }
    if (pick == readers.size() || run.past_to(heads[pick])) break;
    const absl::Status st = feed_capture_event(heads[pick], readers[pick]->path(), conn, run);
    if (!st.ok()) return st;
    run.tick(bytes_done + readers[pick]->bytes_read());
    live[pick] = readers[pick]->next(heads[pick]);
    if (!live[pick]) bytes_done += readers[pick]->bytes_read();
  }
  if (!run.summary.interrupted && conn.replay == nullptr && !conn.held.empty()) return untold(conn);
  return absl::OkStatus();
}

// report_conn adds a replayed capture connection's books to the summary, and notes when
// its venue's books went without the REST snapshots they calibrate from (replay_verdict
// explains that when nothing validated); `cryptofeed`: the connection is a cryptofeed
// `X.ws.N.M` file, whose `X.http.N.M` holds them.
void report_conn(const CaptureConn& conn, bool with_rest, bool cryptofeed, const ReplayOptions& options,
                 ReplaySummary& summary) {
  if (conn.replay != nullptr) report_books(*conn.replay, options, conn.file, summary);
  if (conn.known != nullptr && !conn.known->descriptor->default_rest_base.empty() && !with_rest) {
    summary.without_rest.push_back({std::string(conn.venue), conn.file, cryptofeed});
  }
}

// forced_venue: the venue --conn-venue names for connection `name`, else --venue's, else
// nullptr (told by the capture). Both were checked by check_replay_options.
const Venue* forced_venue(const ReplayOptions& options, std::string_view name) {
  if (!name.empty()) {
    if (const auto it = options.conn_venues.find(name); it != options.conn_venues.end()) return find_venue(it->second);
  }
  return options.venue == "auto" ? nullptr : find_venue(options.venue);
}

// ---- JSON-lines captures: several connections in one file ----------------------------

// merge_parts writes the rows of `parts` (each in time order) to `out` in time order; rows
// at the same time go in the order of the parts (the connections' first appearance). The
// parts are removed.
absl::Status merge_parts(const std::vector<std::string>& parts, ExportFile& out) {
  struct Head {
    std::FILE* f = nullptr;
    char* line = nullptr;
    std::size_t cap = 0;
    ssize_t len = -1;
    std::int64_t ts = 0;
  };
  std::vector<Head> heads(parts.size());
  absl::Status status;
  const auto advance = [](Head& h) {
    h.len = ::getline(&h.line, &h.cap, h.f);
    h.ts = 0;
    for (ssize_t i = 0; i < h.len && h.line[i] >= '0' && h.line[i] <= '9'; ++i) h.ts = h.ts * 10 + (h.line[i] - '0');
  };
  for (std::size_t i = 0; i < parts.size(); ++i) {
    heads[i].f = std::fopen(parts[i].c_str(), "rb");
    if (heads[i].f == nullptr) {
      status = absl::DataLossError(parts[i] + ": cannot reopen the export's part");
    } else {
      advance(heads[i]);
    }
  }
  while (status.ok()) {
    Head* pick = nullptr;
    for (Head& h : heads) {
      if (h.len > 0 && (pick == nullptr || h.ts < pick->ts)) pick = &h;
    }
    if (pick == nullptr) break;
    out.write(std::string_view(pick->line, static_cast<std::size_t>(pick->len)));
    advance(*pick);
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (heads[i].f != nullptr) std::fclose(heads[i].f);
    std::free(heads[i].line);
    std::remove(parts[i].c_str());
  }
  return status;
}

// replay_json_lines replays a JSON-lines capture: one session per connection named in it,
// each fed its frames in file order, its books reported in the order the connections
// first appear (ReplayBook::file "FILE#CONN"). `conns_seen` gathers the names met.
absl::Status replay_json_lines(CaptureReader& reader, Run& run) {
  const ReplayOptions& options = run.options;
  ReplaySummary& summary = run.summary;
  BookExport* const file_exp = run.exp;  // the recording's export: its rows come from the connections' parts
  std::vector<CaptureConn> conns;        // in the order they first appear
  // However the replay ends, no part is left behind (merge_parts removes them when it runs).
  struct RemoveParts {
    std::vector<CaptureConn>& conns;
    ~RemoveParts() {
      for (const CaptureConn& c : conns) {
        if (c.part != nullptr) std::remove(c.part->path().c_str());
      }
    }
  } remove_parts{conns};
  absl::flat_hash_map<std::string, std::size_t> index;
  std::size_t last = 0;  // the connection of the previous line, looked at first
  const std::string& path = reader.path();
  CaptureEvent ev;
  while (reader.next(ev)) {
    if (stop_requested(options)) {
      summary.interrupted = true;
      break;
    }
    if (ev.kind == CaptureEventKind::kBadLine) {  // a line of no connection
      run.sink.at(&path, ev.line);
      count_bad_line(ev, run);
      continue;
    }
    // Its connections need not be interleaved in time: an event after --to ends only its
    // own connection's replay, so the others' are still read.
    if (run.past_to(ev)) continue;
    std::size_t at = last;
    if (at >= conns.size() || conns[at].name != ev.conn) {
      const auto it = index.find(absl::string_view(ev.conn.data(), ev.conn.size()));
      if (it != index.end()) {
        at = it->second;
      } else {
        at = conns.size();
        index.emplace(std::string(ev.conn), at);
        CaptureConn& c = conns.emplace_back();
        c.name = std::string(ev.conn);
        c.file = path + "#" + c.name;
        c.known = forced_venue(options, c.name);
        run.conns_seen.insert(c.name);
        if (file_exp != nullptr) {
          auto part = ExportFile::create(run.part_prefix + ".conn" + std::to_string(at), false);
          if (!part.ok()) return part.status();
          c.part = std::move(*part);
          c.exp = std::make_unique<BookExport>(*c.part, run.options);
        }
      }
      run.use_export(conns[at].exp.get());
    }
    last = at;
    if (absl::Status st = feed_capture_event(ev, path, conns[at], run); !st.ok()) return st;
    run.tick(reader.bytes_read());
  }
  if (!summary.interrupted) {
    for (const CaptureConn& c : conns) {
      if (c.replay == nullptr && !c.held.empty()) return untold(c);
    }
  }
  if (file_exp != nullptr) {
    // Every connection's rows run to the file's last recorded time (or --to), as one
    // connection's would; then the parts are merged by time into the recording's export.
    std::int64_t until = -1;
    for (const CaptureConn& c : conns) until = std::max(until, c.exp->last_ts());
    if (run.stopped_at_to) until = options.to_ns;
    std::vector<std::string> parts;
    for (CaptureConn& c : conns) {
      c.exp->finish(until);
      if (absl::Status st = c.part->close(); !st.ok()) return st;
      parts.push_back(c.part->path());
    }
    run.use_export(file_exp);
    if (absl::Status st = merge_parts(parts, *run.target); !st.ok()) return st;
  }
  if (!reader.status().ok()) summary.input_errors.emplace_back(reader.status().message());
  for (const CaptureConn& c : conns) report_conn(c, false, false, options, summary);
  return absl::OkStatus();
}

// ---- one recording ---------------------------------------------------------------------

// needs_times: the options read recorded times (an export every interval, --from, --to).
bool needs_times(const ReplayOptions& o) noexcept {
  return o.export_every_ns > 0 || o.from_ns != std::numeric_limits<std::int64_t>::min() ||
         o.to_ns != std::numeric_limits<std::int64_t>::max();
}

// replay_recording opens every file of one connection and replays it, as an obr recording,
// a JSON-lines capture (several connections) or someone else's capture of one connection.
absl::Status replay_recording(const Recording& rec, Run& run) {
  // Open every file of the connection; events are merged by their recorded time.
  std::vector<std::unique_ptr<CaptureReader>> readers;
  std::vector<std::string> paths{rec.ws};
  paths.insert(paths.end(), rec.http.begin(), rec.http.end());
  for (const std::string& path : paths) {
    auto reader = CaptureReader::open(path);
    if (!reader.ok()) return reader.status();
    if ((*reader)->format() == CaptureFormat::kRaw && needs_times(run.options)) {
      return absl::InvalidArgumentError(path +
                                        ": a raw capture records no times, and --every, --from and --to need them "
                                        "(--export with --on-change works without)");
    }
    readers.push_back(std::move(*reader));
  }
  const CaptureFormat format = readers.front()->format();
  std::uint64_t bytes = 0;
  if (format == CaptureFormat::kObr || format == CaptureFormat::kJsonLines) {
    if (readers.size() > 1) {
      return absl::InvalidArgumentError(rec.http.front() + (format == CaptureFormat::kObr
                                                                ? ": an obr recording has no companion files"
                                                                : ": a JSON-lines capture has no companion files"));
    }
    if (format == CaptureFormat::kObr) {
      if (absl::Status st = replay_obr(*readers.front(), rec, run, bytes); !st.ok()) return st;
    } else {
      if (absl::Status st = replay_json_lines(*readers.front(), run); !st.ok()) return st;
      bytes = readers.front()->bytes_read();
    }
  } else {
    CaptureConn conn;
    conn.file = rec.ws;
    conn.known = forced_venue(run.options, {});
    const absl::Status st = replay_capture(readers, conn, run);
    if (!st.ok()) return st;
    run.finish_export();
    for (const auto& r : readers) {
      if (!r->status().ok()) run.summary.input_errors.emplace_back(r->status().message());
      bytes += r->bytes_read();
    }
    report_conn(conn, !rec.http.empty(), !cryptofeed_prefix(rec.ws, ".ws.").empty(), run.options, run.summary);
  }
  run.tap.bytes.store(bytes, std::memory_order_relaxed);
  run.tap.frames.store(run.summary.frames, std::memory_order_relaxed);
  return absl::OkStatus();
}

// merge_run adds one recording's summary to the whole (in recording order: the result is
// the one a single pass over the recordings in order gives).
void merge_run(Run& run, ReplaySummary& all, std::set<std::string, std::less<>>& conns_seen) {
  ReplaySummary& s = run.summary;
  all.frames += s.frames;
  all.malformed += s.malformed;
  all.bad_lines += s.bad_lines;
  all.venue_errors += s.venue_errors;
  for (ReplayBook& b : s.books) all.books.push_back(std::move(b));
  for (std::string& e : s.errors) {
    if (all.errors.size() < run.options.max_errors_kept) all.errors.push_back(std::move(e));
  }
  for (std::string& e : s.input_errors) all.input_errors.push_back(std::move(e));
  for (std::string& sym : s.symbols_seen) {
    if (std::find(all.symbols_seen.begin(), all.symbols_seen.end(), sym) == all.symbols_seen.end()) {
      all.symbols_seen.push_back(std::move(sym));
    }
  }
  for (auto& w : s.without_rest) all.without_rest.push_back(std::move(w));
  for (auto& p : s.parts_without_start) all.parts_without_start.push_back(std::move(p));
  all.interrupted = all.interrupted || s.interrupted;
  conns_seen.merge(run.conns_seen);
}

// check_conn_venues: InvalidArgument for a --conn-venue whose connection no JSON-lines
// capture of the input named.
absl::Status check_conn_venues(const ReplayOptions& options, const std::set<std::string, std::less<>>& seen) {
  for (const auto& [conn, venue] : options.conn_venues) {
    if (seen.contains(conn)) continue;
    std::string names;
    for (const std::string& s : seen) {
      if (names.size() > 200) {
        names += ", ...";
        break;
      }
      names += (names.empty() ? "" : ", ") + s;
    }
    return absl::InvalidArgumentError(
        "--conn-venue " + conn + "=" + venue + ": no connection " + conn + " in the input (" +
        (seen.empty() ? std::string("it has no JSON-lines capture, the only one whose connections have names")
                      : "its connections: " + names) +
        ")");
  }
  return absl::OkStatus();
}

// ---- the entry point: threads, the merge, the export's parts ----------------------------

// append_file appends the bytes of `from` to `to` (an export's parts, joined in order).
absl::Status append_file(const std::string& from, std::FILE* to, const std::string& to_path) {
  std::FILE* in = std::fopen(from.c_str(), "rb");
  if (in == nullptr) return absl::DataLossError(from + ": cannot reopen the export's part");
  std::vector<char> buf(1 << 20);
  bool ok = true;
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;) {
    ok = ok && std::fwrite(buf.data(), 1, n, to) == n;
  }
  ok = ok && !std::ferror(in);
  std::fclose(in);
  std::remove(from.c_str());
  return ok ? absl::OkStatus() : absl::DataLossError(to_path + ": write failed joining " + from);
}

// check_export: InvalidArgument for export options that do not fit together.
absl::Status check_export(const ReplayOptions& o) {
  const bool rows = o.export_every_ns > 0 || o.export_on_change;
  if (o.export_path.empty()) {
    if (rows)
      return absl::InvalidArgumentError(
          "--every and --on-change say when to write --export's rows: give --export FILE");
    return absl::OkStatus();
  }
  if (!rows) return absl::InvalidArgumentError("--export needs --every DURATION or --on-change (or both)");
  if (o.export_levels < 1 || o.export_levels > 1000) {
    return absl::InvalidArgumentError("--levels must be 1 to 1000, got " + std::to_string(o.export_levels));
  }
  if (o.from_ns > o.to_ns) return absl::InvalidArgumentError("--from is after --to");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReplaySummary> replay_files(const std::vector<std::string>& files, const ReplayOptions& options) {
  if (absl::Status st = check_replay_options(options); !st.ok()) return st;
  if (absl::Status st = check_export(options); !st.ok()) return st;
  std::vector<Recording> recordings;
  std::uint64_t total_bytes = 0;
  if (absl::Status st = group_recordings(files, recordings, total_bytes); !st.ok()) return st;

  connectors::SessionSettings capture;  // every capture's session (not obr recordings')
  capture.depth = options.depth;
  capture.mode = connectors::SessionMode::kCapture;
  const std::size_t n = recordings.size();
  const std::size_t threads =
      std::clamp<std::size_t>(static_cast<std::size_t>(std::max(options.threads, 1)), 1, std::max<std::size_t>(n, 1));
  const bool gzip = options.export_path.ends_with(".gz");

  // The export: with one thread, every recording writes to the file; with more, each to a
  // part of its own (a gzip member of its own), joined in order at the end.
  std::unique_ptr<ExportFile> out;
  if (!options.export_path.empty()) {
    auto f = ExportFile::create(options.export_path, gzip);
    if (!f.ok()) return f.status();
    out = std::move(*f);
    out->write(export_header(options.export_levels));
    if (threads > 1) {
      if (absl::Status st = out->close(); !st.ok()) return st;
    }
  }
  std::vector<Tap> taps(n);
  std::vector<std::unique_ptr<Run>> runs(n);
  std::vector<absl::Status> status(n);
  std::vector<std::unique_ptr<ExportFile>> parts(n);
  const std::function<void()> report = [&] {
    if (!options.progress) return;
    ReplayProgress p;
    p.bytes_total = total_bytes;
    for (const Tap& t : taps) {
      p.bytes_done += t.bytes.load(std::memory_order_relaxed);
      p.frames += t.frames.load(std::memory_order_relaxed);
    }
    options.progress(p);
  };
  const auto replay_one = [&](std::size_t i) {
    runs[i] = std::make_unique<Run>(options, capture, taps[i]);
    Run& run = *runs[i];
    std::unique_ptr<BookExport> exp;
    if (out != nullptr) {
      ExportFile* target = out.get();
      if (threads > 1) {
        auto f = ExportFile::create(options.export_path + ".part" + std::to_string(i), gzip);
        if (!f.ok()) {
          status[i] = f.status();
          return;
        }
        parts[i] = std::move(*f);
        target = parts[i].get();
      }
      exp = std::make_unique<BookExport>(*target, options);
      run.use_export(exp.get());
      run.target = target;
      run.part_prefix = options.export_path + ".part" + std::to_string(i);
    }
    if (threads == 1) run.report = &report;
    status[i] = replay_recording(recordings[i], run);
    if (status[i].ok() && parts[i] != nullptr) status[i] = parts[i]->close();
  };

  const auto start = std::chrono::steady_clock::now();
  if (threads == 1) {
    for (std::size_t i = 0; i < n; ++i) {
      replay_one(i);
      if (!status[i].ok() || runs[i]->summary.interrupted) break;
    }
  } else {
    std::atomic<std::size_t> next{0};
    std::size_t done = 0;
    std::mutex mutex;
    std::condition_variable all_done;
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (std::size_t i; (i = next.fetch_add(1)) < n;) {
          replay_one(i);
          const std::lock_guard lock(mutex);
          if (++done == n) all_done.notify_one();
        }
      });
    }
    // The progress every 200 ms until the last recording is done (not a moment longer).
    for (std::unique_lock lock(mutex);
         !all_done.wait_for(lock, std::chrono::milliseconds(200), [&] { return done == n; });) {
      lock.unlock();
      report();
      lock.lock();
    }
    for (std::thread& t : pool) t.join();
  }

  // Merge in recording order, up to the first that failed or was interrupted, as one pass would.
  ReplaySummary summary;
  std::set<std::string, std::less<>> conns_seen;
  absl::Status failed;
  std::size_t merged = 0;
  for (std::size_t i = 0; i < n && runs[i] != nullptr; ++i) {
    if (!status[i].ok()) {
      failed = status[i];
      break;
    }
    merge_run(*runs[i], summary, conns_seen);
    ++merged;
    if (summary.interrupted) break;
  }
  if (out != nullptr) {
    if (threads == 1) {
      if (absl::Status st = out->close(); !st.ok() && failed.ok()) failed = st;
    } else {
      std::FILE* f = std::fopen(options.export_path.c_str(), "ab");
      if (f == nullptr && failed.ok())
        failed = absl::DataLossError(options.export_path + ": cannot reopen to join its parts");
      for (std::size_t i = 0; i < n; ++i) {
        if (parts[i] == nullptr) continue;
        (void)parts[i]->close();
        if (f != nullptr && i < merged && failed.ok()) {
          if (absl::Status st = append_file(parts[i]->path(), f, options.export_path); !st.ok()) failed = st;
        } else {
          std::remove(parts[i]->path().c_str());
        }
      }
      if (f != nullptr && std::fclose(f) != 0 && failed.ok()) {
        failed = absl::DataLossError(options.export_path + ": write failed joining its parts");
      }
    }
  }
  if (failed.ok() && !summary.interrupted) failed = check_conn_venues(options, conns_seen);
  if (!failed.ok()) {
    if (out != nullptr) std::remove(options.export_path.c_str());  // a failed replay leaves no export
    return failed;
  }
  summary.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options.progress) {
    ReplayProgress p;
    p.bytes_done = p.bytes_total = total_bytes;
    p.frames = summary.frames;
    options.progress(p);
  }
  return summary;
}

// ---- the `obr replay --json` output --------------------------------------------------

std::string to_json(const ReplaySummary& s) {
  std::string out;
  char num[64];
  out += "{\"frames\":" + std::to_string(s.frames);
  out += ",\"malformed\":" + std::to_string(s.malformed);
  out += ",\"bad_lines\":" + std::to_string(s.bad_lines);
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
    append_json_string(out, b.venue);
    out += ",\"symbol\":";
    append_json_string(out, b.symbol);
    out += ",\"state\":";
    append_json_string(out, book::to_string(b.state));
    out += ",\"file\":";
    append_json_string(out, b.file);
    out += ",\"depth\":" + std::to_string(b.depth);
    out += ",\"snapshots\":" + std::to_string(b.counters.snapshots);
    out += ",\"updates\":" + std::to_string(b.counters.updates);
    out += ",\"checks_passed\":" + std::to_string(b.counters.checks_passed);
    out += ",\"checks_failed\":" + std::to_string(b.counters.checks_failed);
    out += ",\"resyncs_requested\":" + std::to_string(b.counters.resyncs_requested);
    if (b.sequence >= 0) out += ",\"sequence\":" + std::to_string(b.sequence);
    if (b.trusted_depth >= 0) out += ",\"trusted_depth\":" + std::to_string(b.trusted_depth);
    for (const auto& [key, side] : {std::pair{"bids", &b.bids}, std::pair{"asks", &b.asks}}) {
      out += ",\"";
      out += key;
      out += "\":[";
      for (std::size_t k = 0; k < side->size(); ++k) {
        if (k) out += ',';
        out += '[';
        append_json_string(out, (*side)[k].price);
        out += ',';
        append_json_string(out, (*side)[k].qty);
        out += ']';
      }
      out += ']';
    }
    out += '}';
  }
  out += "],\"errors\":[";
  for (std::size_t i = 0; i < s.errors.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, s.errors[i]);
  }
  out += "],\"input_errors\":[";
  for (std::size_t i = 0; i < s.input_errors.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, s.input_errors[i]);
  }
  out += "],\"validated_books\":" + std::to_string(s.validated_books());
  out += s.interrupted ? ",\"interrupted\":true}" : ",\"interrupted\":false}";
  return out;
}

}  // namespace obr::engine
