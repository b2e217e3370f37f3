// tests/engine/replay_export_test.cpp — what `obr replay` gives a researcher besides the
// final books: recorded times as text (engine/time_text.h), the books over time as CSV
// (ReplayOptions::export_*, engine/book_export.h), the --from/--to window, tardis-style
// lines (CaptureFormat::kTardis), and recordings replayed side by side
// (ReplayOptions::threads) with the same result as one by one (sections: times, the export
// with its window, tardis-style lines, side by side). On the bundled real recordings;
// each export is checked against the replay's own books.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/capture_reader.h"
#include "engine/replayer.h"
#include "engine/time_text.h"
#include "tests/book/test_data.h"

namespace obr::engine {
namespace {

// ---- times as text -------------------------------------------------------------------

TEST(TimeText, Iso8601InstantsToTheNanosecond) {
  std::int64_t ns = 0;
  ASSERT_TRUE(parse_iso8601_ns("2021-04-17T16:48:52.25Z", ns));
  EXPECT_EQ(ns, 1618678132250000000);
  ASSERT_TRUE(parse_iso8601_ns("2021-04-17T18:48:52.25+02:00", ns));  // the same instant
  EXPECT_EQ(ns, 1618678132250000000);
  ASSERT_TRUE(parse_iso8601_ns("2021-04-17 16:48:52", ns));  // no zone: UTC; a space for the T
  EXPECT_EQ(ns, 1618678132000000000);
  ASSERT_TRUE(parse_iso8601_ns("2021-04-17T16:48:52.1234567891Z", ns));  // beyond 9 digits: truncated
  EXPECT_EQ(ns, 1618678132123456789);
  ASSERT_TRUE(parse_iso8601_ns("2021-04-17", ns));
  EXPECT_EQ(ns, 1618617600000000000);
  ASSERT_TRUE(parse_iso8601_ns("2024-02-29T00:00:00Z", ns));  // a leap day
  EXPECT_EQ(ns, 1709164800000000000);
  ASSERT_TRUE(parse_iso8601_ns("1970-01-01T00:00:00Z", ns));
  EXPECT_EQ(ns, 0);
  for (const char* bad :
       {"2021-02-29", "2021-04-31", "2021-13-01", "2021-04-17T24:00:00Z", "2021-04-17T16:48", "2021-04-17T16:48:52.Z",
        "2021-04-17T16:48:52Zx", "1969-12-31T23:59:59Z", "2021-4-17", "2021-04-17T16:48:52+2:00", "2262-04-12", ""}) {
    EXPECT_FALSE(parse_iso8601_ns(bad, ns)) << bad;
  }
}

TEST(TimeText, TimesDurationsAndTheirText) {
  std::int64_t ns = 0;
  ASSERT_TRUE(parse_time_ns("1618678132250000000", ns));  // Unix ns
  EXPECT_EQ(ns, 1618678132250000000);
  ASSERT_TRUE(parse_time_ns("2021-04-17T16:48:52.25Z", ns));
  EXPECT_EQ(ns, 1618678132250000000);
  EXPECT_FALSE(parse_time_ns("99999999999999999999", ns));  // beyond int64
  EXPECT_FALSE(parse_time_ns("-5", ns));
  const std::map<std::string, std::int64_t> durations = {{"100ms", 100'000'000},  {"1s", 1'000'000'000},
                                                         {"250us", 250'000},      {"7ns", 7},
                                                         {"5m", 300'000'000'000}, {"2h", 7'200'000'000'000}};
  for (const auto& [text, want] : durations) {
    ASSERT_TRUE(parse_duration_ns(text, ns)) << text;
    EXPECT_EQ(ns, want) << text;
  }
  for (const char* bad : {"0s", "1", "1d", "s", "-1s", "1.5s", "9999999999999h"}) {
    EXPECT_FALSE(parse_duration_ns(bad, ns)) << bad;
  }
  char buf[kIsoTimeChars];
  EXPECT_EQ(std::string(buf, format_iso8601_ns(1618678132250000000, buf)), "2021-04-17T16:48:52.250000000Z");
  EXPECT_EQ(std::string(buf, format_iso8601_ns(0, buf)), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(std::string(buf, format_iso8601_ns(1709251199999999999, buf)), "2024-02-29T23:59:59.999999999Z");
}

// ---- the export ------------------------------------------------------------------------

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("obr_replay_export_test_" + name)).string();
}

std::vector<std::string> split(const std::string& line) {  // the test's rows hold no quotes
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

Csv read_csv(const std::string& path) {
  Csv csv;
  std::stringstream text(obr::testing::read_file(path));
  std::string line;
  std::getline(text, line);
  csv.header = split(line);
  while (std::getline(text, line)) csv.rows.push_back(split(line));
  return csv;
}

std::vector<std::string> kucoin() {
  return {obr::testing::data_path("kucoin/KUCOIN.ws.1.0"), obr::testing::data_path("kucoin/KUCOIN.http.0.0")};
}

// expect_last_rows_are_the_books: each book's last row shows it as the replay reports it
// (state, sequence, top levels), through the export's own formatting.
void expect_last_rows_are_the_books(const Csv& csv, const ReplaySummary& s, std::size_t levels) {
  std::map<std::string, const std::vector<std::string>*> last;
  for (const auto& r : csv.rows) last[r[2] + " " + r[3]] = &r;
  ASSERT_EQ(last.size(), s.books.size());
  for (const ReplayBook& b : s.books) {
    const std::vector<std::string>& r = *last.at(b.venue + " " + b.symbol);
    ASSERT_EQ(r.size(), 6 + 4 * levels);
    EXPECT_EQ(r[4], book::to_string(b.state)) << b.symbol;
    EXPECT_EQ(r[5], b.sequence >= 0 ? std::to_string(b.sequence) : "") << b.symbol;
    for (std::size_t i = 0; i < levels; ++i) {
      EXPECT_EQ(r[6 + 4 * i], i < b.bids.size() ? b.bids[i].price : "") << b.symbol << " bid " << i;
      EXPECT_EQ(r[7 + 4 * i], i < b.bids.size() ? b.bids[i].qty : "") << b.symbol << " bid " << i;
      EXPECT_EQ(r[8 + 4 * i], i < b.asks.size() ? b.asks[i].price : "") << b.symbol << " ask " << i;
      EXPECT_EQ(r[9 + 4 * i], i < b.asks.size() ? b.asks[i].qty : "") << b.symbol << " ask " << i;
    }
  }
}

TEST(ReplayExport, EverySecondOfTheKucoinRecording) {
  ReplayOptions o;
  o.export_path = temp_path("kucoin.csv");
  o.export_every_ns = 1'000'000'000;
  o.export_levels = 2;
  const absl::StatusOr<ReplaySummary> s = replay_files(kucoin(), o);
  ASSERT_TRUE(s.ok()) << s.status();
  const Csv csv = read_csv(o.export_path);
  EXPECT_EQ(csv.header, split("time_ns,time,venue,symbol,state,sequence,bid_price_1,bid_qty_1,ask_price_1,ask_qty_1,"
                              "bid_price_2,bid_qty_2,ask_price_2,ask_qty_2"));
  ASSERT_EQ(csv.rows.size(), 259u);
  // The first second after the first book's snapshot: checked against the independent
  // reference (tests/reference/export_reference.py).
  EXPECT_EQ(csv.rows[0], split("1619378327000000000,2021-04-25T19:18:47.000000000Z,kucoin,BCHSV-USDT,live,"
                               "1613277183894,242.649,5,242.951,4.51280965,242.545,0.4008184,243.037,4.29643855"));
  std::int64_t previous = 0;
  for (const auto& r : csv.rows) {
    const std::int64_t t = std::stoll(r[0]);
    EXPECT_EQ(t % 1'000'000'000, 0) << r[0];
    EXPECT_GE(t, previous);
    previous = t;
    char iso[kIsoTimeChars];
    EXPECT_EQ(r[1], std::string(iso, format_iso8601_ns(t, iso)));
  }
  std::filesystem::remove(o.export_path);
}

// A book that fails its check has rows that say so, without levels (a generated Bybit
// session with a gap: tests/data/bybit/generated/gap.ndjson). On change, a row per book
// per message that changed it: its snapshots and updates, plus the gap.
TEST(ReplayExport, OnChangeRowsSayWhenABookIsNotLive) {
  ReplayOptions o;
  o.export_path = temp_path("gap.csv.gz");
  o.export_on_change = true;
  o.export_levels = 1;
  const absl::StatusOr<ReplaySummary> s = replay_files({obr::testing::data_path("bybit/generated/gap.ndjson")}, o);
  ASSERT_TRUE(s.ok()) << s.status();
  const std::string plain = temp_path("gap.csv");
  ASSERT_EQ(std::system(("gzip -dc " + o.export_path + " > " + plain).c_str()), 0);
  const Csv csv = read_csv(plain);
  std::uint64_t changes = 0;
  for (const ReplayBook& b : s->books) changes += b.counters.snapshots + b.counters.updates;
  std::vector<std::vector<std::string>> not_live;
  for (const auto& r : csv.rows) {
    if (r[4] != "live") not_live.push_back(r);
  }
  ASSERT_EQ(not_live.size(), 1u);
  EXPECT_EQ(csv.rows.size(), changes + 1);
  EXPECT_EQ(not_live[0][3], "BTCUSDT");
  EXPECT_EQ(not_live[0][4], "resyncing");
  EXPECT_EQ(std::vector<std::string>(not_live[0].begin() + 6, not_live[0].end()), std::vector<std::string>(4, ""));
  expect_last_rows_are_the_books(csv, *s, 1);
  std::filesystem::remove(o.export_path);
  std::filesystem::remove(plain);
}

// --to ends the replay at its first event after it: the books reported are the books of
// the export's rows at --to. --from only drops the rows before it.
TEST(ReplayExport, FromAndToOnRecordedTime) {
  ReplayOptions all;
  all.export_path = temp_path("all.csv");
  all.export_every_ns = 1'000'000'000;
  ASSERT_TRUE(replay_files(kucoin(), all).ok());
  const Csv full = read_csv(all.export_path);

  ReplayOptions w = all;
  w.export_path = temp_path("window.csv");
  ASSERT_TRUE(parse_time_ns("2021-04-25T19:18:50Z", w.from_ns));
  ASSERT_TRUE(parse_time_ns("2021-04-25T19:19:00Z", w.to_ns));
  const absl::StatusOr<ReplaySummary> s = replay_files(kucoin(), w);
  ASSERT_TRUE(s.ok()) << s.status();
  const Csv window = read_csv(w.export_path);
  std::vector<std::vector<std::string>> expected;
  for (const auto& r : full.rows) {
    const std::int64_t t = std::stoll(r[0]);
    if (t >= w.from_ns && t <= w.to_ns) expected.push_back(r);
  }
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(window.rows, expected);
  // The rows at --to are the books the replay reports.
  Csv at_to;
  for (const auto& r : window.rows) {
    if (std::stoll(r[0]) == w.to_ns) at_to.rows.push_back(r);
  }
  expect_last_rows_are_the_books(at_to, *s, 10);
  const absl::StatusOr<ReplaySummary> whole = replay_files(kucoin(), ReplayOptions{});
  ASSERT_TRUE(whole.ok());
  EXPECT_LT(s->frames, whole->frames);
  std::filesystem::remove(all.export_path);
  std::filesystem::remove(w.export_path);
}

TEST(ReplayExport, RefusesWhatItCannotDo) {
  ReplayOptions o;
  o.export_path = temp_path("refused.csv");
  o.export_every_ns = 1'000'000'000;
  const std::string raw = obr::testing::data_path("kraken-v2/btcusd_d25.ndjson");
  absl::StatusOr<ReplaySummary> s = replay_files({raw}, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), raw +
                                      ": a raw capture records no times, and --every, --from and --to need them "
                                      "(--export with --on-change works without)");
  EXPECT_FALSE(std::filesystem::exists(o.export_path));  // a failed replay leaves no export
  o.threads = 2;                                         // nor do its parts
  s = replay_files({raw, obr::testing::data_path("kraken-v1/KRAKEN.ws.50.0")}, o);
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(std::filesystem::exists(o.export_path));
  EXPECT_FALSE(std::filesystem::exists(o.export_path + ".part0"));
  EXPECT_FALSE(std::filesystem::exists(o.export_path + ".part1"));
  o.threads = 1;
  o.export_every_ns = 0;
  s = replay_files(kucoin(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "--export needs --every DURATION or --on-change (or both)");
  o.export_path.clear();
  o.export_on_change = true;
  s = replay_files(kucoin(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "--every and --on-change say when to write --export's rows: give --export FILE");
  std::filesystem::remove(temp_path("refused.csv"));
}

// The Bybit capture's two connections are not interleaved in time: lines 1-1598 are
// BYBIT.ws.2 (linear, 19.72 s to 61.74 s past 1786310800), then BYBIT.ws.3 (spot, from
// 19.56 s). Each connection's rows run on its own clock and are merged by time, so the
// spot books have their rows from the first boundary on; at one time the connections
// come in the order of their first lines. --to ends each connection's replay on its own.
TEST(ReplayExport, ConnectionsOfAJsonLinesFileNeedNotBeInterleaved) {
  const std::string capture = obr::testing::data_path("bybit/bybit_v5_orderbook200.ndjson");
  ReplayOptions o;
  o.export_path = temp_path("bybit.csv");
  o.export_every_ns = 1'000'000'000;
  o.export_levels = 1;
  absl::StatusOr<ReplaySummary> s = replay_files({capture}, o);
  ASSERT_TRUE(s.ok()) << s.status();
  const Csv csv = read_csv(o.export_path);
  std::vector<std::string> first;  // venue and symbol of the rows at the first boundary
  for (const auto& r : csv.rows) {
    if (r[0] == "1786310820000000000") first.push_back(r[2] + " " + r[3]);
  }
  EXPECT_EQ(first, (std::vector<std::string>{"bybit-linear BTCUSDT", "bybit-linear ETHUSDT", "bybit-linear SOLUSDT",
                                             "bybit-linear DOGEUSDT", "bybit-spot BTCUSDT", "bybit-spot ETHUSDT"}));
  EXPECT_EQ(csv.rows.size(), 6u * 43u);  // 43 boundaries, 20 s to 62 s
  std::int64_t previous = 0;
  for (const auto& r : csv.rows) {
    EXPECT_GE(std::stoll(r[0]), previous);
    previous = std::stoll(r[0]);
  }

  o.export_path.clear();
  o.export_every_ns = 0;
  o.to_ns = 1786310830'000000000;
  s = replay_files({capture}, o);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->books.size(), 6u);
  for (const ReplayBook& b : s->books) {
    EXPECT_EQ(b.counters.snapshots, 1u) << b.venue << " " << b.symbol;
    EXPECT_GT(b.counters.updates, 0u) << b.venue << " " << b.symbol;
  }
  std::filesystem::remove(temp_path("bybit.csv"));
}

// ---- tardis-style lines ----------------------------------------------------------------

// tardis_copy writes the received frames of a cryptofeed file as `<ISO 8601 time> <frame>`
// lines (the connect and sent lines dropped: such captures hold only what arrived).
std::string tardis_copy(const std::string& cryptofeed, const std::string& name) {
  std::stringstream in(obr::testing::read_file(cryptofeed));
  std::string out;
  for (std::string line; std::getline(in, line);) {
    const std::size_t colon = line.find(": ");
    std::int64_t ns = 0;
    if (line.empty() || line[0] < '0' || line[0] > '9' || colon == std::string::npos ||
        !parse_unix_seconds(line.substr(0, colon), ns)) {
      continue;
    }
    char iso[kIsoTimeChars];
    out.append(iso, format_iso8601_ns(ns, iso));
    out += ' ';
    out += line.substr(colon + 2);
    out += '\n';
  }
  const std::string path = temp_path(name);
  std::ofstream(path) << out;
  return path;
}

TEST(ReplayTardis, ReaderTellsTheFormatAndNamesABadLine) {
  const std::string path = temp_path("lines.tardis");
  std::ofstream(path) << "2019-10-01T00:00:00.0068270Z {\"a\":1}\n"
                         "2019-10-01T00:00:01Z not a frame\n"
                         "\n"
                         "2019-10-01T00:00:02.5 [1,2]\n";  // no zone: UTC
  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->format(), CaptureFormat::kTardis);
  CaptureEvent ev;
  ASSERT_TRUE((*reader)->next(ev));
  EXPECT_EQ(ev.kind, CaptureEventKind::kReceived);
  EXPECT_EQ(ev.ts_ns, 1569888000006827000);
  EXPECT_EQ(ev.payload, "{\"a\":1}");
  ASSERT_TRUE((*reader)->next(ev));
  EXPECT_EQ(ev.kind, CaptureEventKind::kBadLine);
  EXPECT_EQ(ev.line, 2u);
  EXPECT_EQ(ev.payload, "not a tardis-style line ('ISO8601-TIME FRAME', the frame a JSON object or array)");
  ASSERT_TRUE((*reader)->next(ev));
  EXPECT_EQ(ev.line, 4u);
  EXPECT_EQ(ev.ts_ns, 1569888002500000000);
  EXPECT_EQ(ev.payload, "[1,2]");
  EXPECT_FALSE((*reader)->next(ev));
  std::filesystem::remove(path);
}

// The OKX recording as tardis-style lines: the venue is told by its frames (no URL; OKX's
// subscribe answers are `"event"` objects, which Kraken v1's recognition once claimed),
// and the books, counters and export are the cryptofeed file's.
TEST(ReplayTardis, LinesGiveTheBooksAndTheExportOfTheSameFrames) {
  const std::string original = obr::testing::data_path("okx/OKX.ws.1.0");
  const std::string tardis = tardis_copy(original, "okx.tardis");
  std::vector<std::string> exports;
  std::vector<std::string> books;
  for (const std::string& f : {original, tardis}) {
    ReplayOptions o;
    o.export_path = temp_path("tardis" + std::to_string(exports.size()) + ".csv");
    o.export_every_ns = 1'000'000'000;
    absl::StatusOr<ReplaySummary> s = replay_files({f}, o);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->frames, 410u) << f;  // frames received (sent lines are not frames)
    EXPECT_EQ(s->malformed, 0u) << f;
    ASSERT_EQ(s->books.size(), 3u) << f;
    for (ReplayBook& b : s->books) b.file.clear();
    s->elapsed_s = 0;
    s->frames = 0;
    books.push_back(to_json(*s));
    exports.push_back(obr::testing::read_file(o.export_path));
    std::filesystem::remove(o.export_path);
  }
  EXPECT_EQ(books[0], books[1]);
  EXPECT_GT(exports[0].size(), 1000u);
  EXPECT_TRUE(exports[0] == exports[1]);
  std::filesystem::remove(tardis);
}

// ---- recordings side by side -----------------------------------------------------------

// Every bundled recording with times, an obr recording and a JSON-lines capture among
// them: on 1, 2 and 4 threads the summary and the export are the same.
TEST(ReplayThreads, SideBySideGivesWhatOneByOneGives) {
  const std::vector<std::string> files = {obr::testing::data_path("kraken-v1/KRAKEN.ws.50.0"),
                                          obr::testing::data_path("kucoin/KUCOIN.ws.1.0"),
                                          obr::testing::data_path("obr/pre_registry.obr.gz"),
                                          obr::testing::data_path("kucoin/KUCOIN.http.0.0"),
                                          obr::testing::data_path("bybit/bybit_v5_orderbook200.ndjson"),
                                          obr::testing::data_path("okx/OKX.ws.1.0"),
                                          obr::testing::data_path("binance/BINANCE.ws.1.0"),
                                          obr::testing::data_path("binance/BINANCE.http.0.0")};
  std::string first_json, first_csv;
  for (int threads : {1, 2, 4}) {
    ReplayOptions o;
    o.threads = threads;
    o.export_path = temp_path("threads" + std::to_string(threads) + ".csv.gz");
    o.export_every_ns = 1'000'000'000;
    o.export_on_change = true;
    absl::StatusOr<ReplaySummary> s = replay_files(files, o);
    ASSERT_TRUE(s.ok()) << s.status();
    s->elapsed_s = 0;
    const std::string plain = temp_path("threads.csv");
    ASSERT_EQ(std::system(("gzip -dc " + o.export_path + " > " + plain).c_str()), 0);
    const std::string csv = obr::testing::read_file(plain);
    EXPECT_EQ(s->books.size(), 10u + 9u + 3u + 6u + 3u + 4u) << threads;  // what each recording holds
    if (threads == 1) {
      first_json = to_json(*s);
      first_csv = csv;
      EXPECT_GT(csv.size(), 1'000'000u);
    } else {
      EXPECT_EQ(to_json(*s), first_json) << threads;
      EXPECT_TRUE(csv == first_csv) << threads;
    }
    std::filesystem::remove(o.export_path);
    std::filesystem::remove(plain);
  }
}

}  // namespace
}  // namespace obr::engine
