// `obr replay`: recorded frames in, validated books out.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/replayer.h"
#include "engine/time_text.h"
#include "tools/commands.h"

namespace obr::tools {
namespace {

// usage: the help text (`obr replay --help`), naming the venues replay knows.
std::string usage() {
  return "usage: obr replay [--venue V] [--conn-venue CONN=V]... [--depth N] [--symbol S] [--json] [-j N]\n"
         "                  [--from TIME] [--to TIME]\n"
         "                  [--export FILE (--every DURATION | --on-change) [--levels N]] FILE...\n"
         "\n"
         "Replays recorded venue frames through the same protocol sessions the live engine runs\n"
         "and reports every book: state, counters, top of book, and throughput.\n"
         "\n"
         "  FILE          a recording, plain or .gz: an obr recording (obr record), a raw\n"
         "                capture (one frame per line), cryptofeed raw data (X.ws.N.M, with its\n"
         "                X.http.N.M when it has one), or JSON lines ({\"conn\": C, \"ts\": T,\n"
         "                \"data\": FRAME} per line); a raw or cryptofeed file is one\n"
         "                connection, a JSON-lines file one per connection name C (its books'\n"
         "                file: FILE#C); the parts of a rotated obr recording (obr record\n"
         "                --rotate-mb/--rotate-every: run.000001.obr.gz, ...), in any order,\n"
         "                replay as one run, a missing part refused (exit 2)\n"
         "  --venue V     the venue of every connection; default: told by the recorded URL or\n"
         "                by the first frame that names one (frames before it, such as\n"
         "                subscribe acks, are held, at most 64; a connection no frame names\n"
         "                is an error that says which option names it)\n"
         "  --conn-venue CONN=V\n"
         "                the venue of connection CONN of a JSON-lines file, before --venue;\n"
         "                repeatable; CONN must appear in the input\n"
         "  --depth N     Kraken book depth (10, 25, 100, 500 or 1000); default: taken from each\n"
         "                subscribe ack (Bybit's: from each message's topic)\n"
         "  --symbol S    report only this symbol\n"
         "  --json        print one JSON object on stdout instead of the human report\n"
         "  -j N          replay up to N recordings (files; a cryptofeed X.ws.N.M with its\n"
         "                X.http.N.M is one, so are a rotated recording's parts) side by side\n"
         "                on N threads; the report and the export are the same as with -j 1\n"
         "                (default 1)\n"
         "  --from TIME, --to TIME\n"
         "                recorded-time window, ISO 8601 (2021-04-17T16:48:52.25Z; no zone: UTC)\n"
         "                or Unix nanoseconds: books are built from the start, exported rows\n"
         "                lie in [--from, --to], and each recording's replay ends at its\n"
         "                first event after --to (the report shows the books as of then)\n"
         "  --export FILE the books over time as CSV (.csv.gz: gzip; docs/replay.md \"Export\"):\n"
         "                time_ns, time, venue, symbol, state, sequence, then bid and ask\n"
         "                price and quantity per level as exact decimal text; a book that\n"
         "                is not live has no levels in its rows\n"
         "  --every DURATION\n"
         "                a row per book at every multiple of DURATION of recorded time\n"
         "                (ns, us, ms, s, m, h: 100ms, 1s), the book as of then\n"
         "  --on-change   a row per book after every event that changed it\n"
         "  --levels N    levels per side in a row (default 10)\n"
         "  V             one of: " +
         engine::venue_names() +
         "\n"
         "\n"
         "Exit status (anything but 0 comes with a one-line reason on stderr):\n"
         "  0    every check passed and at least one book was validated\n"
         "  1    a check failed, or a frame or line could not be used\n"
         "  2    usage error (an unknown venue, a --conn-venue connection not in the input,\n"
         "       a connection whose venue no frame tells), or an input that cannot be read\n"
         "       to its end (a truncated gzip or recording: the books up to the cut and the\n"
         "       summary are still printed)\n"
         "  3    nothing was validated: no book frames, a --venue or --symbol that matches\n"
         "       nothing, or KuCoin deltas without their REST snapshots (the .http. file)\n"
         "  130  interrupted (SIGINT/SIGTERM): the summary so far, marked interrupted\n";
}

void print_human(const engine::ReplaySummary& s) {
  std::printf("%s%llu frames, %llu malformed, %.3f s, %.0f frames/s, %zu of %zu book(s) validated\n",
              s.interrupted ? "INTERRUPTED: " : "", static_cast<unsigned long long>(s.frames),
              static_cast<unsigned long long>(s.malformed), s.elapsed_s,
              s.elapsed_s > 0 ? static_cast<double>(s.frames) / s.elapsed_s : 0.0, s.validated_books(), s.books.size());
  for (const engine::ReplayBook& b : s.books) {
    const auto& c = b.counters;
    // The book's line: what its venue has of depth (subscribed), sequence and trusted depth.
    std::printf("\n%s %s", b.venue.c_str(), b.symbol.c_str());
    if (b.depth > 0) std::printf("  depth %d", b.depth);
    std::printf("  state %s", std::string(book::to_string(b.state)).c_str());
    if (b.sequence >= 0) std::printf("  sequence %lld", static_cast<long long>(b.sequence));
    if (b.trusted_depth >= 0) std::printf("  trusted depth %lld", static_cast<long long>(b.trusted_depth));
    std::printf("  (%s)\n", b.file.c_str());
    std::printf("  snapshots %llu  updates %llu  checks passed %llu  failed %llu  resyncs requested %llu\n",
                static_cast<unsigned long long>(c.snapshots), static_cast<unsigned long long>(c.updates),
                static_cast<unsigned long long>(c.checks_passed), static_cast<unsigned long long>(c.checks_failed),
                static_cast<unsigned long long>(c.resyncs_requested));
    std::printf("  %18s %14s | %-14s %-18s\n", "bid qty", "bid", "ask", "ask qty");
    const std::size_t rows = std::min<std::size_t>(5, std::max(b.bids.size(), b.asks.size()));
    for (std::size_t i = 0; i < rows; ++i) {
      const bool hb = i < b.bids.size(), ha = i < b.asks.size();
      std::printf("  %18s %14s | %-14s %-18s\n", hb ? b.bids[i].qty.c_str() : "", hb ? b.bids[i].price.c_str() : "",
                  ha ? b.asks[i].price.c_str() : "", ha ? b.asks[i].qty.c_str() : "");
    }
  }
  for (const std::string& p : s.parts_without_start) {
    std::fprintf(stderr,
                 "note: %s is a later part of a rotated recording, replayed without the parts before it: its books "
                 "start empty, and one validates only from a snapshot in it (docs/recording.md \"Rotation\")\n",
                 p.c_str());
  }
  for (const std::string& e : s.input_errors) std::fprintf(stderr, "input error: %s\n", e.c_str());
  if (!s.errors.empty()) {
    std::fprintf(stderr, "\n%zu error(s) listed (malformed %llu, venue errors %llu):\n", s.errors.size(),
                 static_cast<unsigned long long>(s.malformed), static_cast<unsigned long long>(s.venue_errors));
    for (const std::string& e : s.errors) std::fprintf(stderr, "  %s\n", e.c_str());
  }
}

// progress_line: bytes read, frames/s and the time left, on one line of a terminal.
void progress_line(const engine::ReplayProgress& p, std::chrono::steady_clock::time_point start) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (p.bytes_done >= p.bytes_total) {
    std::fputs("\r\033[K", stderr);
    return;
  }
  const double mb = static_cast<double>(p.bytes_done) / 1e6, total = static_cast<double>(p.bytes_total) / 1e6;
  const double rate = s > 0 ? static_cast<double>(p.frames) / s : 0;
  const double left =
      p.bytes_done > 0 ? s * static_cast<double>(p.bytes_total - p.bytes_done) / static_cast<double>(p.bytes_done) : 0;
  std::fprintf(stderr, "\r\033[K%.1f of %.1f MB (%.0f%%), %.2f M frames/s, %.0f s left", mb, total,
               total > 0 ? 100 * mb / total : 100.0, rate / 1e6, left);
}

}  // namespace

int run_replay(int argc, char** argv) {
  engine::ReplayOptions options;
  std::vector<std::string> files;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "obr replay: %s needs a value\n%s", name, usage().c_str());
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(usage().c_str(), stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "-j" || a == "--export" || a == "--every" || a == "--levels" || a == "--from" || a == "--to") {
      const char* v = value(argv[i]);
      if (v == nullptr) return 2;
      const std::string_view sv(v);
      if (a == "--export") {
        if (!sv.ends_with(".csv") && !sv.ends_with(".csv.gz")) {
          std::fprintf(stderr, "obr replay: --export writes a .csv or .csv.gz file, got '%s'\n", v);
          return 2;
        }
        options.export_path = v;
      } else if (a == "--every") {
        if (!engine::parse_duration_ns(sv, options.export_every_ns)) {
          std::fprintf(
              stderr,
              "obr replay: --every takes a duration such as 100ms or 1s (units ns, us, ms, s, m, h), got '%s'\n", v);
          return 2;
        }
      } else if (a == "--from" || a == "--to") {
        if (!engine::parse_time_ns(sv, a == "--from" ? options.from_ns : options.to_ns)) {
          std::fprintf(stderr,
                       "obr replay: %s takes an ISO 8601 time (2021-04-17T16:48:52Z, 2021-04-17) or Unix "
                       "nanoseconds, got '%s'\n",
                       argv[i - 1], v);
          return 2;
        }
      } else {
        int n = 0;
        const auto [end, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), n);
        const int most = a == "-j" ? 256 : 1000;
        if (ec != std::errc() || end != sv.data() + sv.size() || n < 1 || n > most) {
          std::fprintf(stderr, "obr replay: %s takes a whole number from 1 to %d, got '%s'\n", argv[i - 1], most, v);
          return 2;
        }
        (a == "-j" ? options.threads : options.export_levels) = n;
      }
    } else if (a == "--on-change") {
      options.export_on_change = true;
    } else if (a == "--venue") {
      const char* v = value("--venue");
      if (v == nullptr) return 2;
      options.venue = v;
    } else if (a == "--conn-venue") {
      const char* v = value("--conn-venue");
      if (v == nullptr) return 2;
      // CONN=VENUE, split at the last '=' (a venue's name has none; a connection's may).
      const std::string_view sv(v);
      const std::size_t eq = sv.rfind('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == sv.size()) {
        std::fprintf(stderr, "obr replay: --conn-venue takes CONN=VENUE, got '%s'\n", v);
        return 2;
      }
      const std::string conn(sv.substr(0, eq));
      if (!options.conn_venues.emplace(conn, std::string(sv.substr(eq + 1))).second) {
        std::fprintf(stderr, "obr replay: --conn-venue names connection '%s' twice\n", conn.c_str());
        return 2;
      }  // replay_files refuses a venue it does not know, and a connection not in the input
    } else if (a == "--symbol") {
      const char* v = value("--symbol");
      if (v == nullptr) return 2;
      options.symbol = v;
    } else if (a == "--depth") {
      const char* v = value("--depth");
      if (v == nullptr) return 2;
      const std::string_view sv(v);
      int depth = 0;
      const auto [end, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), depth);
      if (ec != std::errc() || end != sv.data() + sv.size() || depth <= 0) {
        std::fprintf(stderr, "obr replay: --depth must be a positive integer, got '%s'\n", v);
        return 2;
      }  // replay_files refuses a depth the venue does not offer
      options.depth = depth;
    } else if (a.starts_with("--")) {
      std::fprintf(stderr, "obr replay: unknown option '%s'\n%s", argv[i], usage().c_str());
      return 2;
    } else {
      files.emplace_back(a);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "obr replay: no input file\n%s", usage().c_str());
    return 2;
  }
  // The progress line goes to a terminal only, never to a pipe or a file.
  if (isatty(STDERR_FILENO)) {
    const auto start = std::chrono::steady_clock::now();
    options.progress = [start](const engine::ReplayProgress& p) { progress_line(p, start); };
  }
  options.stop = &install_interrupt_handlers();
  absl::StatusOr<engine::ReplaySummary> summary = engine::replay_files(files, options);
  if (!summary.ok()) {
    std::fprintf(stderr, "obr replay: %s\n", std::string(summary.status().message()).c_str());
    return 2;
  }
  if (json) {
    std::printf("%s\n", engine::to_json(*summary).c_str());
  } else {
    print_human(*summary);
  }
  std::fflush(stdout);
  const engine::ReplayVerdict verdict = engine::replay_verdict(*summary, options);
  if (verdict.status != 0) std::fprintf(stderr, "obr replay: exit %d: %s\n", verdict.status, verdict.why.c_str());
  return verdict.status;
}

}  // namespace obr::tools
