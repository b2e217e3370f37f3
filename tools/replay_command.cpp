// `obr replay`: recorded frames in, validated books out.
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/replayer.h"
#include "tools/commands.h"

namespace obr::tools {
namespace {

// usage: the help text (`obr replay --help`), naming the venues replay knows.
std::string usage() {
  return "usage: obr replay [--venue V] [--conn-venue CONN=V]... [--depth N] [--symbol S] [--json] FILE...\n"
         "\n"
         "Replays recorded venue frames through the same protocol sessions the live engine runs\n"
         "and reports every book: state, counters, top of book, and throughput.\n"
         "\n"
         "  FILE          a recording, plain or .gz: an obr recording (obr record), a raw\n"
         "                capture (one frame per line), cryptofeed raw data (X.ws.N.M, with its\n"
         "                X.http.N.M when it has one), or JSON lines ({\"conn\": C, \"ts\": T,\n"
         "                \"data\": FRAME} per line); a raw or cryptofeed file is one\n"
         "                connection, a JSON-lines file one per connection name C (its books'\n"
         "                file: FILE#C)\n"
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
  for (const std::string& e : s.input_errors) std::fprintf(stderr, "input error: %s\n", e.c_str());
  if (!s.errors.empty()) {
    std::fprintf(stderr, "\n%zu error(s) listed (malformed %llu, venue errors %llu):\n", s.errors.size(),
                 static_cast<unsigned long long>(s.malformed), static_cast<unsigned long long>(s.venue_errors));
    for (const std::string& e : s.errors) std::fprintf(stderr, "  %s\n", e.c_str());
  }
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
  if (!json && isatty(STDERR_FILENO)) {
    options.progress = [](std::uint64_t done, std::uint64_t total) {
      const double f = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
      const int width = 40, filled = static_cast<int>(f * width);
      std::fprintf(stderr, "\r[%.*s%*s] %3.0f%%", filled, "########################################", width - filled,
                   "", f * 100);
      if (done >= total) std::fputs("\r\033[K", stderr);
    };
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
