// tools/soak_command.cpp — `obr soak`: the chaos soak. The live engine against the
// simulator for a bounded time, many symbols on both venues, and a random (seeded)
// schedule of faults of every kind. It passes when no callback ever showed a live book
// that differed from the truth, every book is live and equal to the truth at the end,
// every fault that fired was detected (or harmlessly overwritten), and memory stayed flat
// after warm-up. docs/reliability.md keeps its figures.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tools/commands.h"
#include "tools/scenario.h"
#include "tools/sim/venue_pieces.h"

namespace obr::tools {
namespace {

void soak_usage(std::FILE* out) {
  std::fputs(
      "usage: obr soak [--seconds N] [--symbols K] [--faults-per-minute R] [--seed S] [--json]\n"
      "                [--no-tls] [--max-rss-growth-mb M] [--list-faults]\n"
      "\n"
      "The chaos soak: the exchange simulator on 127.0.0.1 with K symbols on each venue (Kraken\n"
      "v2 and KuCoin), the live engine connected over TLS, and a random schedule (from the seed)\n"
      "of faults of every kind the simulator has, on random books and connections.\n"
      "\n"
      "  --seconds N              run time (default 60, at least 15)\n"
      "  --symbols K              symbols per venue (default 12, 1 to 64)\n"
      "  --faults-per-minute R    scheduled faults per minute (default 30)\n"
      "  --seed S                 market and schedule seed (default 1)\n"
      "  --json                   print only the summary, as one JSON object\n"
      "  --no-tls                 plain ws:// and http://\n"
      "  --max-rss-growth-mb M    resident memory may grow by at most M MiB after warm-up\n"
      "                           (the first 20% of the run; default 32)\n"
      "  --list-faults            list every fault that fired, when, and what became of it\n"
      "\n"
      "Faults wait for an eligible message or request (a token fault for the next token\n"
      "request, a REST fault for the next snapshot), so some may not fire: they are reported.\n"
      "Exit status: 0 when no wrong book was served, every book is live and equal to the truth\n"
      "at the end, every fired fault was detected or absorbed, and memory stayed within the\n"
      "bound; 1 otherwise, with each reason on stderr; 2 for usage errors; 130 when interrupted\n"
      "(SIGINT/SIGTERM), after the summary of the run so far.\n",
      out);
}

// The schedule comes from the market's own generator (tools/sim/market.h), never from the
// standard library's distributions, which differ between implementations.
using Rng = sim::detail::SplitMix64;

double unit(Rng& rng) { return static_cast<double>(rng.next() >> 11) / 9007199254740992.0; }

// Every fault kind, and whether it targets one book. The venues a kind can hit: the one
// that has it as its own (sim::VenuePieceFactory::own_faults), else every venue.
struct KindInfo {
  sim::FaultKind kind;
  bool per_book;
};
constexpr KindInfo kKinds[] = {
    {sim::FaultKind::kDrop, true},         {sim::FaultKind::kCorruptChecksum, true},
    {sim::FaultKind::kSkipSequence, true}, {sim::FaultKind::kDuplicate, true},
    {sim::FaultKind::kReorder, true},      {sim::FaultKind::kStall, false},
    {sim::FaultKind::kClose, false},       {sim::FaultKind::kCloseCode, false},
    {sim::FaultKind::kMaintenance, false}, {sim::FaultKind::kMalformed, false},
    {sim::FaultKind::kOversized, false},   {sim::FaultKind::kRefuseToken, false},
    {sim::FaultKind::kExpireToken, false}, {sim::FaultKind::kFailEndpoint, false},
    {sim::FaultKind::kRest429, false},     {sim::FaultKind::kRest418, false},
    {sim::FaultKind::kRest500, false},     {sim::FaultKind::kStaleSnapshot, false},
};
// ... and Bybit's own, after them in the turn. Not refuse_topic: a refused topic is the
// venue saying the book does not exist, so the book stays halted and is never asked for
// again (docs/venues/bybit.md "Subscribing"); nothing is there to recover, and the soak's
// verdict wants every book live at the end. The live engine tests cover it
// (LiveEngine.BybitRefusedTopicHaltsThatBookOnly).
constexpr KindInfo kBybitKinds[] = {{sim::FaultKind::kUnpromptedSnapshot, true},
                                    {sim::FaultKind::kRestartSnapshot, true}};
// ... and OKX's, last, through the same filter (venues_for): left out of the turn until the
// engine lists okx. Not refuse_channel, for refuse_topic's reason.
constexpr KindInfo kOkxKinds[] = {{sim::FaultKind::kSequenceReset, true}, {sim::FaultKind::kNoChange, true}};

// venues_for: the venues (indices into sim::venue_pieces()) a kind can hit: the pieces that
// have it as their own (one or several), else every piece; of those, only the venues the
// engine connects to (a piece may come before its venue joins the engine's list).
std::vector<std::size_t> venues_for(sim::FaultKind kind) {
  const auto pieces = sim::venue_pieces();
  std::vector<std::size_t> owners, all;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (!engine::is_venue(pieces[i].name)) continue;
    all.push_back(i);
    if (std::find(pieces[i].own_faults.begin(), pieces[i].own_faults.end(), kind) != pieces[i].own_faults.end()) {
      owners.push_back(i);
    }
  }
  return sim::fault_owners(kind).empty() ? all : owners;
}

// add_fault parses `spec` into `out` (a bad spec is this file's bug: reported).
void add_fault(const char* spec, std::vector<sim::Fault>& out) {
  std::string error;
  if (auto f = sim::parse_fault(spec, error)) {
    out.push_back(*f);
  } else {
    std::fprintf(stderr, "obr soak: internal schedule error: %s\n", error.c_str());
  }
}

// random_schedule: n faults, every kind in turn (so each appears), at uniform random
// times between 2 s and the last moment that leaves time to recover, on random books;
// plus a companion for each fault that waits for a request (below). The kinds only venues
// the engine does not connect to have are left out of the turn, so the schedule of the
// others stays the same when a piece lands before the engine lists its venue.
std::vector<sim::Fault> random_schedule(std::size_t n, double seconds, const sim::SimConfig& config, Rng& rng) {
  std::vector<sim::Fault> out;
  const auto pieces = sim::venue_pieces();
  const double first = 2.0, last = seconds - 10.0;
  std::vector<const KindInfo*> kinds;
  for (const std::span<const KindInfo> list :
       {std::span<const KindInfo>(kKinds), std::span<const KindInfo>(kBybitKinds),
        std::span<const KindInfo>(kOkxKinds)}) {
    for (const KindInfo& k : list) {
      if (!venues_for(k.kind).empty()) kinds.push_back(&k);
    }
  }
  for (std::size_t i = 0; i < n && !kinds.empty(); ++i) {
    const KindInfo& k = *kinds[i % kinds.size()];
    const std::vector<std::size_t> venues = venues_for(k.kind);
    const sim::VenuePieceFactory& venue = pieces[venues.size() == 1 ? venues[0] : venues[rng.below(venues.size())]];
    char spec[160];
    const double t = first + (last - first) * unit(rng);
    int len = std::snprintf(spec, sizeof spec, "%s@t=%.0fms,venue=%.*s", std::string(sim::to_string(k.kind)).c_str(),
                            t * 1000, static_cast<int>(venue.name.size()), venue.name.data());
    if (k.per_book) {
      const auto& syms = config.symbols.at(std::string(venue.name));  // the soak set every venue's
      std::snprintf(spec + len, sizeof spec - static_cast<std::size_t>(len), ",symbol=%s",
                    syms[rng.below(syms.size())].name.c_str());
    }
    add_fault(spec, out);
    // A fault that waits for a request (a token for the next connection, a snapshot for the
    // next resync) gets a companion that causes one half a second later: a dropped
    // connection or a dropped update. Otherwise it may never fire in the run.
    const bool waits_for_token = k.kind == sim::FaultKind::kRefuseToken || k.kind == sim::FaultKind::kExpireToken ||
                                 k.kind == sim::FaultKind::kFailEndpoint;
    const bool waits_for_snapshot = k.kind == sim::FaultKind::kRest429 || k.kind == sim::FaultKind::kRest418 ||
                                    k.kind == sim::FaultKind::kRest500 || k.kind == sim::FaultKind::kStaleSnapshot;
    if (waits_for_token) {
      std::snprintf(spec, sizeof spec, "close@t=%.0fms,venue=%.*s", (t + 0.5) * 1000,
                    static_cast<int>(venue.name.size()), venue.name.data());
      add_fault(spec, out);
    } else if (waits_for_snapshot) {
      const auto& syms = config.symbols.at(std::string(venue.name));
      std::snprintf(spec, sizeof spec, "drop@t=%.0fms,venue=%.*s,symbol=%s", (t + 0.5) * 1000,
                    static_cast<int>(venue.name.size()), venue.name.data(), syms[rng.below(syms.size())].name.c_str());
      add_fault(spec, out);
    }
  }
  return out;
}

}  // namespace

int run_soak(int argc, char** argv) {
  double seconds = 60, symbols = 12, per_minute = 30, max_growth_mb = 32;
  bool json = false, tls = true, list_faults = false;
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      soak_usage(stdout);
      return 0;
    }
    if (a == "--json") {
      json = true;
      continue;
    }
    if (a == "--no-tls") {
      tls = false;
      continue;
    }
    if (a == "--list-faults") {
      list_faults = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "obr soak: %s needs a value (or is unknown)\n", a.c_str());
      soak_usage(stderr);
      return 2;
    }
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--seconds")
      ok = parse_number(v, 15, 86400, seconds);
    else if (a == "--symbols")
      ok = parse_number(v, 1, 64, symbols);
    else if (a == "--faults-per-minute")
      ok = parse_number(v, 0, 600, per_minute);
    else if (a == "--max-rss-growth-mb")
      ok = parse_number(v, 0, 1e6, max_growth_mb);
    else if (a == "--seed") {
      double s = 0;
      ok = parse_number(v, 0, 1e15, s);
      seed = static_cast<std::uint64_t>(s);
    } else {
      std::fprintf(stderr, "obr soak: unknown option '%s'\n", a.c_str());
      soak_usage(stderr);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "obr soak: %s '%s' is not a number in range (see --help)\n", a.c_str(), v);
      return 2;
    }
  }

  Rng rng(seed * 0x2545f4914f6cdd1dULL + 17);
  ScenarioOptions o;
  o.seconds = seconds;
  o.sim.tls = tls;
  o.sim.seed = seed;
  std::size_t total_books = 0;
  std::size_t venues = 0;
  for (const sim::VenuePieceFactory& venue : sim::venue_pieces()) {
    if (!engine::is_venue(venue.name)) continue;  // served with its bundled books, not soaked
    o.sim.symbols[std::string(venue.name)] = sim::make_venue_symbols(static_cast<std::size_t>(symbols), venue, rng);
    total_books += static_cast<std::size_t>(symbols);
    ++venues;
  }
  o.sim.changes_per_s = 100.0 * symbols;  // about 100 market events per second per book
  const auto n = static_cast<std::size_t>(per_minute * seconds / 60.0 + 0.5);
  o.sim.faults = random_schedule(n, seconds, o.sim, rng);
  if (!json) {
    std::printf("obr soak: %zu books on %zu venues, %zu faults over %.0f s (seed %" PRIu64 ")\n", total_books, venues,
                o.sim.faults.size(), seconds, seed);
    std::fflush(stdout);
  }
  o.stop = &install_interrupt_handlers();
  ScenarioResult r;
  std::string error;
  if (!run_scenario(o, r, error)) {
    std::fprintf(stderr, "obr soak: %s\n", error.c_str());
    return 2;
  }
  const double growth_mb = (static_cast<double>(r.rss_kb_end) - static_cast<double>(r.rss_kb_after_warmup)) / 1024.0;
  const bool memory_ok = growth_mb <= max_growth_mb;
  std::string kinds;
  for (const auto& [name, t] : r.by_kind) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "%s\"%s\":{\"injected\":%" PRIu64 ",\"detected\":%" PRIu64 ",\"absorbed\":%" PRIu64 "}",
                  kinds.empty() ? "" : ",", name.c_str(), t.injected, t.detected, t.absorbed);
    kinds += buf;
  }
  if (json) {
    std::printf(
        "{\"seconds\":%.0f,\"books_total\":%zu,\"books_live_at_end\":%zu,\"books_equal_to_truth_at_end\":%zu,"
        "\"faults_scheduled\":%zu,\"faults_injected\":%zu,\"faults_detected\":%zu,\"faults_absorbed\":%zu,"
        "\"wrong_books_served\":%" PRIu64 ",\"live_callbacks\":%" PRIu64
        ",\"left_live\":%zu,\"recoveries\":%zu,"
        "\"recovery_ms_p50\":%.1f,\"recovery_ms_p99\":%.1f,\"recovery_ms_max\":%.1f,\"checks_passed\":%" PRIu64
        ",\"resyncs\":%" PRIu64 ",\"reconnects\":%" PRIu64 ",\"frames\":%" PRIu64 ",\"rss_kb_after_warmup\":%" PRIu64
        ",\"rss_kb_end\":%" PRIu64 ",\"peak_rss_kb\":%" PRIu64
        ",\"memory_ok\":%s,\"by_kind\":{%s},\"interrupted\":%s}\n",
        r.seconds, r.books_total, r.books_live_at_end, r.books_equal_at_end, r.faults_scheduled, r.faults_injected,
        r.faults_detected, r.faults_absorbed, r.wrong_books_served, r.live_callbacks, r.left_live, r.recoveries,
        r.recovery_ms_p50, r.recovery_ms_p99, r.recovery_ms_max, r.checks_passed, r.resyncs, r.reconnects, r.frames,
        r.rss_kb_after_warmup, r.rss_kb_end, r.peak_rss_kb, memory_ok ? "true" : "false", kinds.c_str(),
        r.interrupted ? "true" : "false");
  } else {
    if (list_faults) {
      for (const std::string& line : r.fired) std::printf("  %s\n", line.c_str());
    }
    std::printf("\nfaults: %zu scheduled, %zu injected, %zu detected, %zu absorbed\n", r.faults_scheduled,
                r.faults_injected, r.faults_detected, r.faults_absorbed);
    for (const auto& [name, t] : r.by_kind) {
      std::printf("  %-17s injected %3" PRIu64 "  detected %3" PRIu64 "  absorbed %3" PRIu64 "\n", name.c_str(),
                  t.injected, t.detected, t.absorbed);
    }
    std::printf("books: %zu/%zu live at the end, %zu equal to the truth; left live %zu times, recovered %zu times\n",
                r.books_live_at_end, r.books_total, r.books_equal_at_end, r.left_live, r.recoveries);
    std::printf("recovery: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.recovery_ms_p50, r.recovery_ms_p99,
                r.recovery_ms_max);
    for (const std::string& line : r.slowest_recoveries) std::printf("  slowest: %s\n", line.c_str());
    std::printf("wrong books served: %" PRIu64 " (of %" PRIu64 " live callbacks)\n", r.wrong_books_served,
                r.live_callbacks);
    std::printf("memory: RSS %.1f MiB after warm-up, %.1f MiB at the end (%+.1f MiB), peak %.1f MiB\n",
                static_cast<double>(r.rss_kb_after_warmup) / 1024, static_cast<double>(r.rss_kb_end) / 1024, growth_mb,
                static_cast<double>(r.peak_rss_kb) / 1024);
    std::printf("RSS by tenth of the run (MiB):");
    for (std::size_t i = 1; i <= 10; ++i) {
      const std::size_t k = r.rss_kb_by_second.size() * i / 10;
      if (k > 0) std::printf(" %.1f", static_cast<double>(r.rss_kb_by_second[k - 1]) / 1024);
    }
    std::printf("\n");
  }
  if (r.interrupted) {
    std::fprintf(stderr, "obr soak: interrupted after %.1f s: the summary covers the run so far\n", r.seconds);
    return kExitInterrupted;
  }
  std::vector<std::string> reasons = failure_reasons(r);
  if (!memory_ok) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "resident memory grew %.1f MiB after warm-up (at most %.1f allowed)", growth_mb,
                  max_growth_mb);
    reasons.emplace_back(buf);
  }
  for (const std::string& why : reasons) std::fprintf(stderr, "obr soak: exit 1: %s\n", why.c_str());
  return reasons.empty() ? 0 : 1;
}

}  // namespace obr::tools
