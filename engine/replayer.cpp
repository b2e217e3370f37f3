#include "engine/replayer.h"


#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string_view>
#include <sys/stat.h>

#include "book/decimal.h"
#include "connectors/kraken/v1_session.h"
#include "connectors/kraken/v2_session.h"
#include "connectors/kucoin/spot_session.h"
#include "engine/capture_reader.h"
#include "engine/recorder.h"
#include "engine/session_configs.h"

namespace obr::engine {
namespace {

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
  void book_updated(connectors::BookId, std::string_view symbol, const book::OrderBook& book, bool) override {
    if (on_book_) on_book_(venue_, symbol, book, ts_ns_);
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
  const std::function<void(std::string_view, std::string_view, const book::OrderBook&, std::int64_t)>& on_book_;
  const std::string* file_ = nullptr;
  std::uint64_t line_ = 0;
  std::string_view venue_;
  std::int64_t ts_ns_ = 0;
};

// canonical drops trailing fractional zeros ("4.51280965000" -> "4.51280965"), for venues
// whose wire text has no fixed precision (KuCoin).
std::string canonical(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::vector<ReplayLevel> top_levels(const book::OrderBook& ob, bool bids, bool trim = false) {
  std::vector<ReplayLevel> out;
  const std::size_t n = std::min<std::size_t>(10, bids ? ob.bids().size() : ob.asks().size());
  for (std::size_t i = 0; i < n; ++i) {
    const book::Level& l = bids ? ob.bids().at(i) : ob.asks().at(i);
    std::string p = book::to_decimal_string(l.price, ob.price_scale());
    std::string q = book::to_decimal_string(l.qty, ob.qty_scale());
    out.push_back(trim ? ReplayLevel{canonical(std::move(p)), canonical(std::move(q))} : ReplayLevel{p, q});
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

std::size_t ReplaySummary::validated_books() const noexcept {
  std::size_t n = 0;
  for (const ReplayBook& b : books) n += b.counters.checks_passed != 0 ? 1 : 0;
  return n;
}

ReplayVerdict replay_verdict(const ReplaySummary& s, const ReplayOptions& options) {
  if (s.interrupted) return {130, "interrupted: the summary covers the input read so far"};
  if (!s.input_errors.empty()) {
    return {2, s.input_errors.front() + (s.input_errors.size() > 1 ? " (and " + std::to_string(s.input_errors.size() - 1) +
                                                                        " more input error(s))"
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
    if (!s.kucoin_without_rest.empty()) {
      const std::string& ws = s.kucoin_without_rest.front();
      const std::size_t at = ws.rfind(".ws.");
      if (at == std::string::npos) {
        return {3, why + "the KuCoin deltas in " + ws + " have no REST snapshot to calibrate from (replay an obr "
                         "recording, or a cryptofeed X.ws.N.M with its X.http.N.M)"};
      }
      return {3, why + "KuCoin books calibrate from their recorded REST snapshots: pass " + ws.substr(0, at) +
                     ".http.* beside " + ws};
    }
    if (s.books.empty()) return {3, why + "no book frames in the input"};
    return {3, why + "no book reached a check (no snapshot or update was verified)"};
  }
  if (s.malformed != 0) return {1, std::to_string(s.malformed) + " frame(s) or line(s) could not be used"};
  return {0, ""};
}

namespace {

// One replayed connection: a venue session fed the recording's events.
//
// Captures made by others (raw, cryptofeed) say only what arrived: the session's timers
// run after every frame, and each connect implies the disconnect before it. An obr
// recording (`exact`) says every call the live engine made into the session, timer ticks
// and disconnects included, and only those calls are made.
class VenueReplay {
 public:
  virtual ~VenueReplay() = default;
  // begin subscribes the recording's symbols, as the engine did before connecting.
  virtual void begin(const std::vector<std::string>& symbols, ReplaySink& sink) = 0;
  virtual void on_event(const CaptureEvent& ev, std::int64_t now_ns, ReplaySink& sink) = 0;
  virtual std::uint64_t malformed() const = 0;
  virtual void report(const std::string& symbol_filter, const std::string& file, std::vector<ReplayBook>& out) const = 0;
};

// Kraken v1 and v2 sessions have the same driving surface.
template <typename Session>
class KrakenReplay final : public VenueReplay {
 public:
  KrakenReplay(const connectors::kraken::SessionConfig& config, std::string venue, bool exact = false)
      : session_(config), venue_(std::move(venue)), exact_(exact) {}
  void begin(const std::vector<std::string>& symbols, ReplaySink& sink) override { session_.subscribe(symbols, sink); }
  void on_event(const CaptureEvent& ev, std::int64_t now_ns, ReplaySink& sink) override {
    switch (ev.kind) {
      case CaptureEventKind::kReceived:
        session_.on_frame(ev.payload, now_ns, sink);
        if (!exact_) session_.on_tick(now_ns, sink);
        break;
      case CaptureEventKind::kConnect:
        if (connected_ && !exact_) session_.on_disconnected(sink);
        connected_ = true;
        session_.on_connected(sink);  // frames it would send are not part of a replay
        break;
      case CaptureEventKind::kDisconnect:
        connected_ = false;
        session_.on_disconnected(sink);
        break;
      case CaptureEventKind::kTick:
        session_.on_tick(now_ns, sink);
        break;
      case CaptureEventKind::kPing:
        session_.ping(sink);
        break;
      default:
        break;  // frames we sent and REST responses carry nothing for Kraken books
    }
  }
  std::uint64_t malformed() const override { return session_.malformed_frames(); }
  void report(const std::string& symbol_filter, const std::string& file, std::vector<ReplayBook>& out) const override {
    for (std::size_t id = 0; id < session_.book_count(); ++id) {
      const auto& info = session_.info(static_cast<connectors::BookId>(id));
      if (!symbol_filter.empty() && info.symbol != symbol_filter) continue;
      const book::OrderBook& ob = session_.book(static_cast<connectors::BookId>(id));
      out.push_back(ReplayBook{venue_, info.symbol, ob.state(), ob.counters(), info.depth, top_levels(ob, true),
                               top_levels(ob, false), file});
    }
  }

 private:
  Session session_;
  std::string venue_;
  bool exact_;
  bool connected_ = false;
};

class KucoinReplay final : public VenueReplay {
 public:
  KucoinReplay() : session_(capture_config()), exact_(false) {}
  explicit KucoinReplay(const connectors::kucoin::SpotConfig& exact_config) : session_(exact_config), exact_(true) {}
  void begin(const std::vector<std::string>& symbols, ReplaySink& sink) override { session_.subscribe(symbols, &sink); }
  void on_event(const CaptureEvent& ev, std::int64_t now_ns, ReplaySink& sink) override {
    switch (ev.kind) {
      case CaptureEventKind::kReceived:
        session_.on_frame(ev.payload, now_ns, sink);
        if (!exact_) session_.on_tick(now_ns, sink);
        break;
      case CaptureEventKind::kHttpResponse:
        // A capture's REST file holds only successful snapshot bodies, matched by URL.
        session_.on_http_response(exact_ ? ev.id : 0, ev.url, exact_ ? ev.status : 200, ev.payload, now_ns, sink);
        break;
      case CaptureEventKind::kConnect:
        if (connected_ && !exact_) session_.on_disconnected(now_ns, sink);
        connected_ = true;
        session_.on_connected(now_ns, sink);
        break;
      case CaptureEventKind::kDisconnect:
        connected_ = false;
        session_.on_disconnected(now_ns, sink);
        break;
      case CaptureEventKind::kTick:
        session_.on_tick(now_ns, sink);
        break;
      case CaptureEventKind::kStart:
        session_.start(now_ns, sink);
        break;
      default:
        break;
    }
  }
  std::uint64_t malformed() const override { return session_.malformed_frames(); }
  void report(const std::string& symbol_filter, const std::string& file, std::vector<ReplayBook>& out) const override {
    for (std::size_t i = 0; i < session_.book_count(); ++i) {
      const auto id = static_cast<connectors::BookId>(i);
      const connectors::kucoin::SpotBookInfo info = session_.info(id);
      if (!symbol_filter.empty() && info.symbol != symbol_filter) continue;
      const book::OrderBook& ob = session_.book(id);
      ReplayBook b{"kucoin", info.symbol, ob.state(), ob.counters(), 0, top_levels(ob, true, true),
                   top_levels(ob, false, true), file};
      b.sequence = info.sequence;
      b.trusted_depth = static_cast<std::int64_t>(session_.trusted_depth(id));
      out.push_back(std::move(b));
    }
  }

 private:
  static connectors::kucoin::SpotConfig capture_config() {
    connectors::kucoin::SpotConfig c;
    c.track_any_symbol = true;
    c.drive_connection = false;
    return c;
  }
  connectors::kucoin::SpotSession session_;
  bool exact_;
  bool connected_ = false;
};

// report_books adds a replayed connection's books to the summary (only --symbol's, when
// given) and notes every symbol seen, so that a --symbol matching nothing can be named.
void report_books(const VenueReplay& venue, const ReplayOptions& options, const std::string& file,
                  ReplaySummary& summary) {
  std::vector<ReplayBook> all;
  venue.report("", file, all);
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

// detect_venue names the venue an event belongs to, or "" when it does not say.
std::string detect_venue(const CaptureEvent& ev) {
  if (!ev.url.empty()) {
    if (ev.url.find("kucoin") != std::string_view::npos) return "kucoin";
    if (ev.url.find("kraken.com/v2") != std::string_view::npos) return "kraken";
    if (ev.url.find("kraken.com") != std::string_view::npos) return "kraken-v1";
  }
  if (ev.kind != CaptureEventKind::kReceived || ev.payload.empty()) return "";
  const std::string_view f = ev.payload;
  if (f.front() == '[') return "kraken-v1";
  if (f.front() != '{') return "";
  if (f.find("\"event\"") != std::string_view::npos) return "kraken-v1";
  if (f.find("\"channel\"") != std::string_view::npos || f.find("\"method\"") != std::string_view::npos) return "kraken";
  if (f.find("\"type\"") != std::string_view::npos) return "kucoin";
  return "";
}

// A recording is one connection: a capture file plus, for cryptofeed, the REST
// responses recorded beside it (`X.http.N.M` goes with every `X.ws.N.M`).
struct Recording {
  std::string ws;
  std::vector<std::string> http;
};

std::string cryptofeed_prefix(const std::string& path, std::string_view kind) {
  const std::size_t at = path.rfind(kind);
  return at == std::string::npos ? std::string() : path.substr(0, at);
}

// replay_obr replays one obr recording (every venue of one engine run): each venue's
// session is configured from its `config` line exactly as the engine configured it, then
// fed the recorded calls in order.
absl::Status replay_obr(CaptureReader& reader, const ReplayOptions& options, ReplaySink& sink, ReplaySummary& summary,
                        std::uint64_t bytes_before, std::uint64_t total_bytes) {
  std::vector<std::pair<std::string, std::unique_ptr<VenueReplay>>> venues;
  const auto where = [&](const CaptureEvent& ev) { return reader.path() + ":" + std::to_string(ev.line) + ": "; };
  CaptureEvent ev;
  std::uint64_t events = 0;
  while (reader.next(ev)) {
    if (stop_requested(options)) {
      summary.interrupted = true;
      break;
    }
    sink.at(&reader.path(), ev.line);
    if (ev.kind == CaptureEventKind::kBadLine) {
      ++summary.malformed;
      ++summary.bad_lines;
      sink.note(std::string(ev.payload));
      continue;
    }
    VenueReplay* venue = nullptr;
    for (auto& [name, v] : venues) {
      if (name == ev.venue) venue = v.get();
    }
    if (ev.kind == CaptureEventKind::kConfig) {
      if (venue != nullptr) return absl::InvalidArgumentError(where(ev) + "a second config line for " + std::string(ev.venue));
      auto config = parse_config(ev.payload);
      if (!config.ok()) return absl::InvalidArgumentError(where(ev) + std::string(config.status().message()));
      std::unique_ptr<VenueReplay> v;
      if (ev.venue == "kraken") {
        if (config->depth <= 0) return absl::InvalidArgumentError(where(ev) + "the kraken config has no depth");
        if (!connectors::kraken::is_book_depth(config->depth)) {
          return absl::InvalidArgumentError(where(ev) + "the kraken config's depth " + std::to_string(config->depth) +
                                            " is not " OBR_KRAKEN_BOOK_DEPTHS);
        }
        v = std::make_unique<KrakenReplay<connectors::kraken::V2Session>>(kraken_session_config(*config), "kraken",
                                                                          true);
      } else if (ev.venue == "kucoin") {
        connectors::kucoin::Credentials placeholders;
        if (config->credentials) placeholders = {"recorded", "recorded", "recorded"};
        v = std::make_unique<KucoinReplay>(kucoin_session_config(*config, placeholders));
      } else {
        return absl::InvalidArgumentError(where(ev) + "venue '" + std::string(ev.venue) +
                                          "' is not supported by replay (supported: kraken, kucoin)");
      }
      v->begin(config->symbols, sink);
      venues.emplace_back(std::string(ev.venue), std::move(v));
      continue;
    }
    if (venue == nullptr) {
      return absl::InvalidArgumentError(where(ev) + "an event for " + std::string(ev.venue) +
                                        " before its config line");
    }
    if (ev.kind == CaptureEventKind::kSubscribe) {
      auto more = parse_config("symbols=" + std::string(ev.payload));
      if (!more.ok() || more->symbols.empty()) return absl::InvalidArgumentError(where(ev) + "subscribe without symbols");
      venue->begin(more->symbols, sink);
      continue;
    }
    if (ev.kind == CaptureEventKind::kReceived) ++summary.frames;
    const std::uint64_t malformed_before = venue->malformed();
    sink.event(ev.venue, ev.ts_ns);
    venue->on_event(ev, ev.ts_ns, sink);
    summary.malformed += venue->malformed() - malformed_before;
    if (options.progress && (++events & 0xFFFF) == 0) options.progress(bytes_before + reader.bytes_read(), total_bytes);
  }
  if (!reader.status().ok()) summary.input_errors.emplace_back(reader.status().message());
  for (const auto& [name, v] : venues) report_books(*v, options, reader.path(), summary);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReplaySummary> replay_files(const std::vector<std::string>& files, const ReplayOptions& options) {
  if (options.venue != "auto" && options.venue != "kraken" && options.venue != "kraken-v1" &&
      options.venue != "kucoin") {
    return absl::InvalidArgumentError("venue '" + options.venue +
                                      "' is not supported by replay (supported: kraken, kraken-v1, kucoin)");
  }
  if (options.depth < 0) return absl::InvalidArgumentError("depth must be positive");
  if (options.depth > 0 && !connectors::kraken::is_book_depth(options.depth)) {
    return absl::InvalidArgumentError("--depth " + std::to_string(options.depth) +
                                      " is not a depth Kraken offers (" OBR_KRAKEN_BOOK_DEPTHS ")");
  }
  std::vector<Recording> recordings;
  std::vector<std::string> http_files;
  std::uint64_t total_bytes = 0;
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) return absl::NotFoundError(f + ": cannot open");
    total_bytes += static_cast<std::uint64_t>(st.st_size);
    if (!cryptofeed_prefix(f, ".http.").empty()) {
      http_files.push_back(f);
    } else {
      recordings.push_back(Recording{f, {}});
    }
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

  ReplaySummary summary;
  ReplaySink sink(summary, options);
  const connectors::kraken::SessionConfig kraken_config{
      .depth = options.depth > 0 ? options.depth : 10,
      .track_any_symbol = true,
      .depth_from_ack = options.depth == 0,
  };
  std::uint64_t bytes_done = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const Recording& rec : recordings) {
    // Open every file of the connection; events are merged by their recorded time.
    std::vector<std::unique_ptr<CaptureReader>> readers;
    std::vector<std::string> paths{rec.ws};
    paths.insert(paths.end(), rec.http.begin(), rec.http.end());
    for (const std::string& path : paths) {
      auto reader = CaptureReader::open(path);
      if (!reader.ok()) return reader.status();
      readers.push_back(std::move(*reader));
    }
    if (readers.front()->format() == CaptureFormat::kObr) {
      if (readers.size() > 1) return absl::InvalidArgumentError(rec.http.front() + ": an obr recording has no companion files");
      const absl::Status st = replay_obr(*readers.front(), options, sink, summary, bytes_done, total_bytes);
      if (!st.ok()) return st;
      bytes_done += readers.front()->bytes_read();
      if (summary.interrupted) break;
      continue;
    }
    std::vector<CaptureEvent> heads(readers.size());
    std::vector<bool> live(readers.size());
    for (std::size_t i = 0; i < readers.size(); ++i) live[i] = readers[i]->next(heads[i]);

    std::unique_ptr<VenueReplay> venue;
    std::string venue_name = options.venue == "auto" ? std::string() : options.venue;
    std::uint64_t events = 0;
    for (;;) {
      if (stop_requested(options)) {
        summary.interrupted = true;
        break;
      }
      // The earliest pending event across the connection's files (ties: the WebSocket file).
      std::size_t pick = readers.size();
      for (std::size_t i = 0; i < readers.size(); ++i) {
        if (live[i] && (pick == readers.size() || heads[i].ts_ns < heads[pick].ts_ns)) pick = i;
      }
      if (pick == readers.size()) break;
      const CaptureEvent& ev = heads[pick];
      const std::string& file = readers[pick]->path();
      sink.at(&file, ev.line);
      if (ev.kind == CaptureEventKind::kBadLine) {
        ++summary.malformed;
        ++summary.bad_lines;
        sink.note(std::string(ev.payload));
      } else {
        if (venue == nullptr) {
          if (venue_name.empty()) venue_name = detect_venue(ev);
          if (venue_name.empty() && ev.kind == CaptureEventKind::kReceived) {
            return absl::InvalidArgumentError(file + ":" + std::to_string(ev.line) +
                                              ": cannot tell the venue from this frame; pass --venue");
          }
          if (venue_name == "kraken") {
            venue = std::make_unique<KrakenReplay<connectors::kraken::V2Session>>(kraken_config, "kraken");
          } else if (venue_name == "kraken-v1") {
            venue = std::make_unique<KrakenReplay<connectors::kraken::V1Session>>(kraken_config, "kraken-v1");
          } else if (venue_name == "kucoin") {
            venue = std::make_unique<KucoinReplay>();
          }
        }
        if (venue != nullptr) {
          if (ev.kind == CaptureEventKind::kReceived) ++summary.frames;
          const std::uint64_t malformed_before = venue->malformed();
          const std::int64_t now = ev.ts_ns >= 0 ? ev.ts_ns : static_cast<std::int64_t>(summary.frames);
          sink.event(venue_name, ev.ts_ns >= 0 ? ev.ts_ns : -1);
          venue->on_event(ev, now, sink);
          summary.malformed += venue->malformed() - malformed_before;
        }
      }
      if (options.progress && (++events & 0xFFFF) == 0) {
        options.progress(bytes_done + readers[pick]->bytes_read(), total_bytes);
      }
      live[pick] = readers[pick]->next(heads[pick]);
    }
    for (const auto& r : readers) {
      if (!r->status().ok()) summary.input_errors.emplace_back(r->status().message());
      bytes_done += r->bytes_read();
    }
    if (venue != nullptr) report_books(*venue, options, rec.ws, summary);
    if (venue_name == "kucoin" && rec.http.empty()) summary.kucoin_without_rest.push_back(rec.ws);
    if (summary.interrupted) break;
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
    if (b.sequence >= 0) out += ",\"sequence\":" + std::to_string(b.sequence);
    if (b.trusted_depth >= 0) out += ",\"trusted_depth\":" + std::to_string(b.trusted_depth);
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
  out += "],\"input_errors\":[";
  for (std::size_t i = 0; i < s.input_errors.size(); ++i) {
    if (i) out += ',';
    json_string(out, s.input_errors[i]);
  }
  out += "],\"validated_books\":" + std::to_string(s.validated_books());
  out += s.interrupted ? ",\"interrupted\":true}" : ",\"interrupted\":false}";
  return out;
}

}  // namespace obr::engine
