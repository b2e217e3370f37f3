// tests/engine/capture_reader_test.cpp — CaptureReader (engine/capture_reader.h).
// Sections, in order: the formats and times (cryptofeed, raw, Unix seconds); bad lines and
// bad bytes, each at its own number; how a file ends (no final newline, gzip cut short,
// read errors); gzip against zlib, and zstd; JSON-lines captures; the real cryptofeed
// recording.
#include "engine/capture_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/book/test_data.h"
#include "tests/common/alloc_counter.h"

namespace obr::engine {
namespace {

std::string temp_name(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("obr_capture_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = temp_name(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string write_temp_gz(const std::string& name, const std::string& text) {
  const std::string path = temp_name(name);
  gzFile gz = gzopen(path.c_str(), "wb");
  EXPECT_NE(gz, nullptr);
  EXPECT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(gz);
  return path;
}

struct Event {
  CaptureEventKind kind;
  std::int64_t ts_ns;
  std::string url, payload;
  std::uint64_t line;
};

std::vector<Event> read_all(const std::string& path) {
  auto reader = CaptureReader::open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  std::vector<Event> out;
  if (!reader.ok()) return out;
  CaptureEvent ev;
  while ((*reader)->next(ev)) out.push_back({ev.kind, ev.ts_ns, std::string(ev.url), std::string(ev.payload), ev.line});
  EXPECT_TRUE((*reader)->status().ok());
  return out;
}

// read_events reads every event of `path` and the reader's final status.
std::vector<Event> read_events(const std::string& path, absl::Status& status) {
  std::vector<Event> out;
  auto reader = CaptureReader::open(path);
  if (!reader.ok()) {
    status = reader.status();
    return out;
  }
  CaptureEvent ev;
  while ((*reader)->next(ev)) out.push_back({ev.kind, ev.ts_ns, std::string(ev.url), std::string(ev.payload), ev.line});
  status = (*reader)->status();
  return out;
}

using namespace std::string_literals;

struct Expected {
  std::uint64_t line;
  CaptureEventKind kind;
  std::string payload;
};

void expect_events(const std::vector<Event>& ev, const std::vector<Expected>& want, const std::string& what) {
  ASSERT_EQ(ev.size(), want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(ev[i].line, want[i].line) << what << " event " << i;
    EXPECT_EQ(ev[i].kind, want[i].kind) << what << " event " << i;
    EXPECT_EQ(ev[i].payload, want[i].payload) << what << " event " << i;
  }
}

// ---- the formats and their times ------------------------------------------------------

TEST(ParseUnixSeconds, ExactToTheNanosecondWithoutDouble) {
  std::int64_t ns = 0;
  ASSERT_TRUE(parse_unix_seconds("1618678132.3858151", ns));
  EXPECT_EQ(ns, 1618678132385815100);
  ASSERT_TRUE(parse_unix_seconds("1618678134.2098181999", ns));  // beyond 9 digits: truncated
  EXPECT_EQ(ns, 1618678134209818199);
  ASSERT_TRUE(parse_unix_seconds("5", ns));
  EXPECT_EQ(ns, 5'000'000'000);
  ASSERT_TRUE(parse_unix_seconds("9223372035.999999999", ns));  // the last second an int64 holds
  EXPECT_EQ(ns, 9'223'372'035'999'999'999);
  for (const char* bad : {"", ".5", "1.", "1.2.3", "12a", "-1", "123456789012", "9223372036", "16193783622.5"}) {
    EXPECT_FALSE(parse_unix_seconds(bad, ns)) << bad;
  }
}

TEST(CaptureReader, CryptofeedLinesOfEveryKind) {
  const std::string path =
      write_temp("cf.ws.1.0",
                 "wss://ws.kraken.com <-> 1618678132.3858151\n"
                 "wss://ws.kraken.com <- 1618678132.8253062: {\"event\":\"subscribe\"}\n"
                 "1618678132.8258188: {\"event\":\"systemStatus\"}\n"
                 "\n"
                 "https://api.kucoin.com/x?symbol=A-B -> 1619378326.663214: {\"code\":\"200000\"}\n"
                 "garbage here\n"
                 "1618678133.2949052: [1,{\"a\":[]},\"book-10\",\"A/B\"]\n");
  const std::vector<Event> ev = read_all(path);
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev[0].kind, CaptureEventKind::kConnect);
  EXPECT_EQ(ev[0].url, "wss://ws.kraken.com");
  EXPECT_EQ(ev[0].ts_ns, 1618678132385815100);
  EXPECT_EQ(ev[1].kind, CaptureEventKind::kSent);
  EXPECT_EQ(ev[1].payload, "{\"event\":\"subscribe\"}");
  EXPECT_EQ(ev[2].kind, CaptureEventKind::kReceived);
  EXPECT_EQ(ev[2].ts_ns, 1618678132825818800);
  EXPECT_EQ(ev[2].line, 3u);
  EXPECT_EQ(ev[3].kind, CaptureEventKind::kHttpResponse);
  EXPECT_EQ(ev[3].url, "https://api.kucoin.com/x?symbol=A-B");
  EXPECT_EQ(ev[3].payload, "{\"code\":\"200000\"}");
  EXPECT_EQ(ev[3].line, 5u);
  EXPECT_EQ(ev[4].kind, CaptureEventKind::kBadLine);  // reported with its line, not skipped
  EXPECT_EQ(ev[4].line, 6u);
  EXPECT_NE(ev[4].payload.find("not a cryptofeed raw-data line"), std::string::npos);
  EXPECT_EQ(ev[5].payload, "[1,{\"a\":[]},\"book-10\",\"A/B\"]");
  std::remove(path.c_str());
}

TEST(CaptureReader, RawCaptureHasNoTimes) {
  const std::string path = write_temp("raw.ndjson", "\n{\"a\":1}\r\n[2]\n");
  const std::vector<Event> ev = read_all(path);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, CaptureEventKind::kReceived);
  EXPECT_EQ(ev[0].ts_ns, -1);
  EXPECT_EQ(ev[0].payload, "{\"a\":1}");
  EXPECT_EQ(ev[0].line, 2u);
  EXPECT_EQ(ev[1].payload, "[2]");
  std::remove(path.c_str());
}

// A line longer than kMaxLine is reported once, with its number, and skipped whole: the
// rest of it is not read as further lines, and the lines after it keep their numbers.
// ---- bad lines and bad bytes ------------------------------------------------------------

TEST(CaptureReader, OverlongLineIsOneBadLine) {
  const std::string longline(CaptureReader::kMaxLine + 1000, 'x');
  for (const bool first : {false, true}) {
    const std::string path = write_temp("long.ndjson", (first ? "" : "{\"a\":1}\n") + longline + "\n{\"b\":2}\n");
    if (first) {
      // Nothing before it tells the format: the file is refused, naming the line.
      auto r = CaptureReader::open(path);
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find(path + ":1: line longer than"), std::string::npos) << r.status();
    } else {
      const std::vector<Event> ev = read_all(path);
      ASSERT_EQ(ev.size(), 3u);
      EXPECT_EQ(ev[0].payload, "{\"a\":1}");
      EXPECT_EQ(ev[1].kind, CaptureEventKind::kBadLine);
      EXPECT_EQ(ev[1].line, 2u);
      EXPECT_EQ(ev[1].payload, "line longer than 6291456 bytes skipped");
      EXPECT_EQ(ev[2].kind, CaptureEventKind::kReceived);
      EXPECT_EQ(ev[2].payload, "{\"b\":2}");
      EXPECT_EQ(ev[2].line, 3u);
    }
    std::remove(path.c_str());
  }
}

// The limit counts the newline, as the recorder does: a line of kMaxLine bytes with its
// newline is read, one byte more is too long; for a last line without a newline too.
TEST(CaptureReader, TheLineLimitCountsTheNewline) {
  const std::string fits = "[\"" + std::string(CaptureReader::kMaxLine - 5, 'x') + "\"]";  // kMaxLine - 1
  const std::string over = "[\"" + std::string(CaptureReader::kMaxLine - 4, 'y') + "\"]";  // kMaxLine
  ASSERT_EQ(fits.size() + 1, CaptureReader::kMaxLine);
  for (const bool newline : {true, false}) {
    const std::string end = newline ? "\n" : "";
    const std::string path = write_temp("limit.ndjson", "[1]\n" + fits + "\n" + over + "\n" + fits + end);
    absl::Status status;
    const std::vector<Event> ev = read_events(path, status);
    EXPECT_TRUE(status.ok()) << status;
    ASSERT_EQ(ev.size(), 4u);
    EXPECT_EQ(ev[1].line, 2u);
    EXPECT_EQ(ev[1].kind, CaptureEventKind::kReceived);
    EXPECT_EQ(ev[1].payload.size(), fits.size());
    EXPECT_EQ(ev[2].line, 3u);
    EXPECT_EQ(ev[2].kind, CaptureEventKind::kBadLine);
    EXPECT_EQ(ev[2].payload, "line longer than 6291456 bytes skipped");
    EXPECT_EQ(ev[3].line, 4u);
    EXPECT_EQ(ev[3].kind, CaptureEventKind::kReceived);
    EXPECT_EQ(ev[3].payload.size(), fits.size());
    std::remove(path.c_str());
  }
  // An overlong last line without a newline is still one bad line.
  const std::string path = write_temp("limit2.ndjson", "[1]\n" + over);
  absl::Status status;
  const std::vector<Event> ev = read_events(path, status);
  EXPECT_TRUE(status.ok()) << status;
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].line, 2u);
  EXPECT_EQ(ev[1].kind, CaptureEventKind::kBadLine);
  std::remove(path.c_str());
}

TEST(CaptureReader, UnknownFormatAndMissingFileNameTheFile) {
  const std::string path = write_temp("unknown.txt", "\n\nhello\n");
  auto r = CaptureReader::open(path);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(path + ":3: unknown recording format"), std::string::npos) << r.status();
  std::remove(path.c_str());
  EXPECT_EQ(CaptureReader::open("/nonexistent/file").status().code(), absl::StatusCode::kNotFound);
}

// A NUL, or a control byte that JSON text does not allow (below 0x20, other than tab
// and CR), makes its line one kBadLine naming the byte and its column. The line is not
// mistaken for an overlong one, does not swallow the next line, and every later line
// keeps its number and reads normally; plain and gzip alike.
TEST(CaptureReader, NulAndControlBytesInJsonLinesAreBadLinesAtTheirOwnNumbers) {
  const std::string text =
      "{\"a\":1}\n"           // 1
      "{\"b\":2}\n"           // 2
      "{\"c\":3}\n"           // 3
      "{\"d\":4}\n"           // 4
      "{\"e\":5}\n"           // 5
      "abc\0def\n"s           // 6: NUL at column 4
      "{\"f\":6}\n"           // 7
      "{\"g\":\"x\x01y\"}\n"  // 8: 0x01 at column 8
      "{\"h\":\"\tok\"}\r\n"  // 9: a tab inside, CR before the newline: fine
      "\0\n"s                 // 10: NUL at column 1
      "{\"i\":\"a\rb\"}\n"    // 11: a CR inside: fine
      "{\"j\":9}\0\n"s        // 12: NUL at column 8, just before the newline
      "{\"k\":\x1b}\n"        // 13: ESC at column 6
      "\n"                    // 14: empty
      "{\"l\":12}\n";         // 15
  const std::vector<Expected> want = {
      {1, CaptureEventKind::kReceived, "{\"a\":1}"},
      {2, CaptureEventKind::kReceived, "{\"b\":2}"},
      {3, CaptureEventKind::kReceived, "{\"c\":3}"},
      {4, CaptureEventKind::kReceived, "{\"d\":4}"},
      {5, CaptureEventKind::kReceived, "{\"e\":5}"},
      {6, CaptureEventKind::kBadLine, "NUL byte at column 4"},
      {7, CaptureEventKind::kReceived, "{\"f\":6}"},
      {8, CaptureEventKind::kBadLine, "control byte 0x01 at column 8"},
      {9, CaptureEventKind::kReceived, "{\"h\":\"\tok\"}"},
      {10, CaptureEventKind::kBadLine, "NUL byte at column 1"},
      {11, CaptureEventKind::kReceived, "{\"i\":\"a\rb\"}"},
      {12, CaptureEventKind::kBadLine, "NUL byte at column 8"},
      {13, CaptureEventKind::kBadLine, "control byte 0x1b at column 6"},
      {15, CaptureEventKind::kReceived, "{\"l\":12}"},
  };
  for (const bool gz : {false, true}) {
    const std::string path = gz ? write_temp_gz("nul.ndjson.gz", text) : write_temp("nul.ndjson", text);
    absl::Status status;
    const std::vector<Event> ev = read_events(path, status);
    EXPECT_TRUE(status.ok()) << status;
    expect_events(ev, want, gz ? "gzip" : "plain");
    std::remove(path.c_str());
  }
}

// Cryptofeed lines carry JSON frames and bodies: the same bytes are refused. An obr
// recording writes recv/send/http payloads verbatim unless they hold a newline, CR or
// NUL (docs/recording.md), so there only NUL and a CR before the line's end are refused:
// other control bytes are a frame's own bytes and reach the session unchanged.
TEST(CaptureReader, CryptofeedAndObrRefuseTheBytesTheirFormatCannotHold) {
  const std::string cryptofeed =
      "wss://ws.kraken.com <-> 1618678132.3858151\n"        // 1
      "1618678132.8258188: {\"event\":\"x\x02\"}\n"         // 2: 0x02 at column 32
      "wss://ws.kraken.com <- 1618678132.9: {\"a\":\0}\n"s  // 3: NUL at column 43
      "1618678133.0: [1]\r\n";                              // 4
  const std::vector<Expected> cryptofeed_want = {
      {1, CaptureEventKind::kConnect, ""},
      {2, CaptureEventKind::kBadLine, "control byte 0x02 at column 32"},
      {3, CaptureEventKind::kBadLine, "NUL byte at column 43"},
      {4, CaptureEventKind::kReceived, "[1]"},
  };
  const std::string obr =
      "obr-recording 1\n"                       // 1
      "1 kraken config depth=10 symbols=A/B\n"  // 2
      "2 kraken recv {\"a\":\"\x01\"}\n"        // 3: a frame's own byte
      "3 kraken recv {\"a\":\0}\n"s             // 4: NUL at column 20
      "4 kraken recv {\"a\":1}\r{\"b\":2}\n"    // 5: CR at column 22
      "5 kraken tick\r\n"                       // 6: CR line end
      "6 kraken tick\n";                        // 7
  const std::vector<Expected> obr_want = {
      {2, CaptureEventKind::kConfig, "depth=10 symbols=A/B"},
      {3, CaptureEventKind::kReceived, "{\"a\":\"\x01\"}"},
      {4, CaptureEventKind::kBadLine, "NUL byte at column 20"},
      {5, CaptureEventKind::kBadLine, "control byte 0x0d at column 22"},
      {6, CaptureEventKind::kTick, ""},
      {7, CaptureEventKind::kTick, ""},
  };
  for (const bool gz : {false, true}) {
    for (const auto& [name, text, want] :
         {std::tuple{"cf.ws.1.0", &cryptofeed, &cryptofeed_want}, std::tuple{"rec.obr", &obr, &obr_want}}) {
      const std::string path = gz ? write_temp_gz(std::string(name) + ".gz", *text) : write_temp(name, *text);
      absl::Status status;
      const std::vector<Event> ev = read_events(path, status);
      EXPECT_TRUE(status.ok()) << status;
      expect_events(ev, *want, std::string(name) + (gz ? " gzip" : " plain"));
      std::remove(path.c_str());
    }
  }
}

// The bad-byte message the reader gives for `byte` at 1-based `column`.
std::string bad_byte(unsigned char byte, std::size_t column) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", byte);
  return (byte == 0 ? "NUL byte" : "control byte " + std::string(hex)) + " at column " + std::to_string(column);
}

// Bad bytes anywhere in a file of many reads (the reader takes 256 KiB at a time, and
// lines straddle two reads): each is reported on its own line with its column, and
// every other line is delivered whole with its number; plain and gzip.
TEST(CaptureReader, BadBytesAcrossManyReadsKeepEveryLineNumber) {
  std::mt19937_64 rng(11);
  std::string text;
  std::vector<Expected> want;
  for (std::uint64_t line = 1; line <= 60000; ++line) {
    std::string l = "{\"seq\":" + std::to_string(line) + ",\"p\":\"" + std::to_string(rng()) + "\"}";
    if (rng() % 40 == 0) {
      const std::size_t at = rng() % l.size();
      auto byte = static_cast<unsigned char>(rng() % 0x20);
      if (byte == '\t' || byte == '\n' || byte == '\r') byte = 0;
      l[at] = static_cast<char>(byte);
      want.push_back({line, CaptureEventKind::kBadLine, bad_byte(byte, at + 1)});
    } else {
      want.push_back({line, CaptureEventKind::kReceived, l});
    }
    text += l + "\n";
  }
  ASSERT_GT(text.size(), 8u << 18);
  for (const bool gz : {false, true}) {
    const std::string path = gz ? write_temp_gz("many.ndjson.gz", text) : write_temp("many.ndjson", text);
    absl::Status status;
    const std::vector<Event> ev = read_events(path, status);
    EXPECT_TRUE(status.ok()) << status;
    expect_events(ev, want, gz ? "gzip" : "plain");
    std::remove(path.c_str());
  }
}

// Before any line has told the format, a line with a NUL is still read as one line: it
// either tells the format (and is then reported like any other) or the file is refused
// naming the byte, not as an overlong line.
TEST(CaptureReader, BadBytesBeforeTheFormatIsKnown) {
  {
    const std::string path = write_temp("nul1.txt", "abc\0def\n{\"a\":1}\n"s);
    auto r = CaptureReader::open(path);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(r.status().message().find(path + ":1: NUL byte at column 4; unknown recording format") == 0)
        << r.status();
    std::remove(path.c_str());
  }
  {
    const std::string path = write_temp("ctl2.txt", "\n\x01\n{\"a\":1}\n");
    auto r = CaptureReader::open(path);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(r.status().message().find(path + ":2: control byte 0x01 at column 1; unknown recording format") == 0)
        << r.status();
    std::remove(path.c_str());
  }
  {
    const std::string path = write_temp("nul3.ndjson", "{\"a\":\0}\n{\"b\":1}\n"s);
    absl::Status status;
    const std::vector<Event> ev = read_events(path, status);
    EXPECT_TRUE(status.ok()) << status;
    expect_events(
        ev, {{1, CaptureEventKind::kBadLine, "NUL byte at column 6"}, {2, CaptureEventKind::kReceived, "{\"b\":1}"}},
        "raw");
    std::remove(path.c_str());
  }
}

// ---- how a file ends: no final newline, gzip cut short, read errors -------------------

// A file whose last line has no newline: the line is delivered, and the status is OK,
// for a plain file and for a complete gzip stream.
TEST(CaptureReader, ALastLineWithoutNewlineIsDeliveredWhenTheFileIsComplete) {
  for (const bool gz : {false, true}) {
    const std::string text = "{\"a\":1}\n{\"b\":";
    const std::string path = gz ? write_temp_gz("nonl.ndjson.gz", text) : write_temp("nonl.ndjson", text);
    absl::Status status;
    const std::vector<Event> ev = read_events(path, status);
    EXPECT_TRUE(status.ok()) << status;
    expect_events(ev, {{1, CaptureEventKind::kReceived, "{\"a\":1}"}, {2, CaptureEventKind::kReceived, "{\"b\":"}},
                  gz ? "gzip" : "plain");
    std::remove(path.c_str());
  }
}

// A recording of `lines` lines in one format, with the payload each line's event
// carries (the obr magic line carries none), hard to compress so that a cut at a
// fraction of the compressed size lands mid-stream.
struct Recording {
  std::string name, text;
  std::vector<std::string> payload;  // by line number - 1
  std::uint64_t first_event_line = 1;
};

Recording make_recording(CaptureFormat format, int lines) {
  std::mt19937_64 rng(7);
  Recording rec;
  const auto frame = [&](int i) {
    return "{\"seq\":" + std::to_string(i) + ",\"p\":\"" + std::to_string(rng()) + "\",\"q\":\"" +
           std::to_string(rng()) + "\"}";
  };
  for (int i = 1; i <= lines; ++i) {
    std::string f = frame(i);
    std::string line;
    if (format == CaptureFormat::kRaw) {
      rec.name = "trunc.ndjson.gz";
      line = f;
    } else if (format == CaptureFormat::kCryptofeed) {
      rec.name = "trunc.ws.1.0.gz";
      if (i == 1) {
        line = "wss://ws.kraken.com <-> 1618678132.3858151";
        f.clear();
      } else {
        line = "1618678133." + std::to_string(1000000 + i) + ": " + f;
      }
    } else {
      rec.name = "trunc.obr.gz";
      rec.first_event_line = 2;
      if (i == 1) {
        line = "obr-recording 1";
        f.clear();
      } else {
        line = std::to_string(1700000000000000000 + i) + " kraken recv " + f;
      }
    }
    rec.text += line + "\n";
    rec.payload.push_back(f);
  }
  return rec;
}

// complete_lines counts the newline-ended lines zlib can still get out of `path`.
std::uint64_t complete_lines(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  EXPECT_NE(gz, nullptr);
  std::string out;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(gz);
  return static_cast<std::uint64_t>(std::count(out.begin(), out.end(), '\n'));
}

std::string truncated_message(const std::string& path, std::uint64_t last) {
  return path + ":" + std::to_string(last + 1) +
         ": gzip stream ends early (file truncated or cut short): nothing after line " + std::to_string(last) +
         " could be read";
}

// expect_prefix_delivered: the events are exactly lines first_event_line..last, each
// whole (a cut line's first half is not passed on as a line).
void expect_prefix_delivered(const std::vector<Event>& ev, const Recording& rec, std::uint64_t last,
                             const std::string& what) {
  ASSERT_EQ(ev.size(), last + 1 - rec.first_event_line) << what;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    const std::uint64_t line = rec.first_event_line + i;
    ASSERT_EQ(ev[i].line, line) << what;
    ASSERT_NE(ev[i].kind, CaptureEventKind::kBadLine) << what << " line " << line << ": " << ev[i].payload;
    ASSERT_EQ(ev[i].payload, rec.payload[line - 1]) << what << " line " << line;
  }
}

// A gzip stream cut short (a copy cut off, a recorder killed between flushes) of any
// format: every complete line before the cut is delivered, then next() stops and
// status() is DataLoss naming the first line not delivered and the last one delivered.
// The complete file reads to the end with an OK status.
TEST(CaptureReader, AGzipStreamCutShortIsDataLossAfterTheLastCompleteLine) {
  for (const CaptureFormat format : {CaptureFormat::kRaw, CaptureFormat::kCryptofeed, CaptureFormat::kObr}) {
    const Recording rec = make_recording(format, 6000);
    const std::string path = write_temp_gz(rec.name, rec.text);
    absl::Status status;
    std::vector<Event> ev = read_events(path, status);
    EXPECT_TRUE(status.ok()) << status;
    expect_prefix_delivered(ev, rec, 6000, rec.name + " complete");

    std::string bytes = obr::testing::read_file(path);
    for (const double keep : {0.6, 0.25, 0.99}) {
      const std::string cut_path = write_temp(
          "cut_" + rec.name, bytes.substr(0, static_cast<std::size_t>(static_cast<double>(bytes.size()) * keep)));
      const std::uint64_t last = complete_lines(cut_path);
      ASSERT_GT(last, 1u);
      ASSERT_LT(last, 6000u);
      ev = read_events(cut_path, status);
      const std::string what = rec.name + " cut at " + std::to_string(keep);
      EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << what << ": " << status;
      EXPECT_EQ(std::string(status.message()), truncated_message(cut_path, last)) << what;
      expect_prefix_delivered(ev, rec, last, what);
      std::remove(cut_path.c_str());
    }
    std::remove(path.c_str());
  }
}

// A recorder killed right after a flush leaves a stream that ends between two lines
// with no end-of-stream marker: all its lines are delivered, and the end is still
// reported as early.
TEST(CaptureReader, AGzipStreamCutAtAFlushBetweenLinesIsDataLoss) {
  const Recording rec = make_recording(CaptureFormat::kObr, 3000);
  const std::string path = temp_name("flushed.obr.gz");
  gzFile gz = gzopen(path.c_str(), "wb1");
  ASSERT_NE(gz, nullptr);
  std::size_t at = 0;
  for (int i = 0; i < 1000; ++i) at = rec.text.find('\n', at) + 1;
  ASSERT_EQ(gzwrite(gz, rec.text.data(), static_cast<unsigned>(at)), static_cast<int>(at));
  ASSERT_EQ(gzflush(gz, Z_SYNC_FLUSH), Z_OK);
  const auto flushed = std::filesystem::file_size(path);
  ASSERT_EQ(gzwrite(gz, rec.text.data() + at, static_cast<unsigned>(rec.text.size() - at)),
            static_cast<int>(rec.text.size() - at));
  gzclose(gz);
  std::filesystem::resize_file(path, flushed);

  absl::Status status;
  const std::vector<Event> ev = read_events(path, status);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_EQ(std::string(status.message()), truncated_message(path, 1000));
  expect_prefix_delivered(ev, rec, 1000, "flushed");
  std::remove(path.c_str());
}

// A gzip stream cut inside an overlong line (being skipped): DataLoss naming that line.
TEST(CaptureReader, AGzipStreamCutInsideAnOverlongLineIsDataLoss) {
  const std::string text = "{\"a\":1}\n" + std::string(CaptureReader::kMaxLine + (1u << 20), 'x') + "\n{\"b\":2}\n";
  const std::string full = write_temp_gz("long.ndjson.gz", text);
  const std::string bytes = obr::testing::read_file(full);
  std::remove(full.c_str());
  const std::string path = write_temp("long_cut.ndjson.gz", bytes.substr(0, bytes.size() / 2));
  ASSERT_EQ(complete_lines(path), 1u);  // the cut is inside line 2
  absl::Status status;
  const std::vector<Event> ev = read_events(path, status);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_EQ(std::string(status.message()), truncated_message(path, 1));
  expect_events(ev, {{1, CaptureEventKind::kReceived, "{\"a\":1}"}}, "cut overlong");
  std::remove(path.c_str());
}

// Gzip files joined with cat read as one file (as with gzip -d); a cut in the second
// member, or in the first member's header, is reported like any other cut.
TEST(CaptureReader, ConcatenatedGzipMembersAndACutHeader) {
  const std::string a = write_temp_gz("m1.gz", "{\"a\":1}\n{\"b\":2}\n");
  const std::string b = write_temp_gz("m2.gz", "{\"c\":3}\n");
  const std::string both = obr::testing::read_file(a) + obr::testing::read_file(b);
  std::remove(a.c_str());
  std::remove(b.c_str());
  const std::vector<Expected> want = {{1, CaptureEventKind::kReceived, "{\"a\":1}"},
                                      {2, CaptureEventKind::kReceived, "{\"b\":2}"},
                                      {3, CaptureEventKind::kReceived, "{\"c\":3}"}};
  const std::string path = write_temp("joined.ndjson.gz", both);
  absl::Status status;
  std::vector<Event> ev = read_events(path, status);
  EXPECT_TRUE(status.ok()) << status;
  expect_events(ev, want, "joined");
  std::remove(path.c_str());

  const std::string cut = write_temp("joined_cut.ndjson.gz", both.substr(0, both.size() - 3));
  ev = read_events(cut, status);
  EXPECT_EQ(std::string(status.message()), truncated_message(cut, 3));
  expect_events(ev, want, "joined, cut in the second trailer");
  std::remove(cut.c_str());

  const std::string header = write_temp("header_cut.ndjson.gz", both.substr(0, 5));
  ev = read_events(header, status);  // nothing tells the format: open() fails
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_EQ(std::string(status.message()), truncated_message(header, 0));
  EXPECT_TRUE(ev.empty());
  std::remove(header.c_str());
}

// A plain-text file that ends mid-line (a copy cut short) is not an error: there is no
// end marker to miss, and the last line is delivered as it is.
TEST(CaptureReader, APlainFileCutMidLineIsNotAnError) {
  const Recording rec = make_recording(CaptureFormat::kRaw, 100);
  const std::size_t cut = rec.text.size() / 2;
  const std::string path = write_temp("cut.ndjson", rec.text.substr(0, cut));
  absl::Status status;
  const std::vector<Event> ev = read_events(path, status);
  EXPECT_TRUE(status.ok()) << status;
  const std::uint64_t whole = static_cast<std::uint64_t>(
      std::count(rec.text.begin(), rec.text.begin() + static_cast<std::ptrdiff_t>(cut), '\n'));
  ASSERT_EQ(ev.size(), whole + 1);
  const std::size_t last_start = rec.text.rfind('\n', cut - 1) + 1;
  EXPECT_EQ(ev.back().payload, rec.text.substr(last_start, cut - last_start));
  std::remove(path.c_str());
}

// A read error that is not a cut (here a gzip stream whose CRC does not match, and a
// path that is a directory) is DataLoss naming the file and the first line not read.
TEST(CaptureReader, AReadErrorOtherThanACutNamesTheFileAndLine) {
  const Recording rec = make_recording(CaptureFormat::kRaw, 20000);
  const std::string good = write_temp_gz("crc.ndjson.gz", rec.text);
  std::string bytes = obr::testing::read_file(good);
  std::remove(good.c_str());
  bytes[bytes.size() - 8] ^= 0x55;  // the trailer's CRC-32
  const std::string path = write_temp("crc.ndjson.gz", bytes);
  absl::Status status;
  const std::vector<Event> ev = read_events(path, status);
  const std::uint64_t last = ev.empty() ? 0 : ev.back().line;
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_EQ(std::string(status.message()), path + ":" + std::to_string(last + 1) +
                                               ": read error: incorrect data check; nothing after line " +
                                               std::to_string(last) + " could be read");
  expect_prefix_delivered(ev, rec, last, "bad crc");
  std::remove(path.c_str());

  const std::string dir = std::filesystem::temp_directory_path().string();
  auto r = CaptureReader::open(dir);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().message().find(dir + ":1: read error: ") == 0) << r.status();
}

// ---- gzip against zlib, and zstd ----------------------------------------------------------

// A text of every format's lines with lines of many lengths (some far longer than a
// chunk), so that members, blocks and chunks end at every kind of place.
std::string mixed_text() {
  std::string text = make_recording(CaptureFormat::kRaw, 3000).text;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 40; ++i) {
    const std::size_t n = static_cast<std::size_t>(rng() % (3u << 18));
    text += "{\"long\":\"" + std::string(n, static_cast<char>('a' + i % 26)) + "\"}\n";
    text += make_recording(CaptureFormat::kRaw, 50).text;
  }
  return text;
}

// gzip_with_zlib: `text` as zlib writes it: `members` members joined, each at `level`,
// with a sync flush in the middle of each (an empty stored block, as the recorder's
// once-a-second flush leaves).
std::string gzip_with_zlib(const std::string& text, int level, int members) {
  std::string out;
  const std::size_t per = text.size() / static_cast<std::size_t>(members) + 1;
  for (std::size_t at = 0; at < text.size(); at += per) {
    const std::string part = text.substr(at, per);
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string member(deflateBound(&z, part.size()) + 64, '\0');
    z.next_out = reinterpret_cast<Bytef*>(member.data());
    z.avail_out = static_cast<uInt>(member.size());
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
    z.avail_in = static_cast<uInt>(part.size() / 2);
    EXPECT_EQ(deflate(&z, Z_SYNC_FLUSH), Z_OK);
    z.avail_in = static_cast<uInt>(part.size() - part.size() / 2);
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    member.resize(z.total_out);
    deflateEnd(&z);
    out += member;
  }
  return out;
}

// gunzip_with_zlib: what zlib's inflate gives for a whole gzip file (every member).
std::string gunzip_with_zlib(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  EXPECT_NE(gz, nullptr);
  std::string out;
  std::vector<char> buf(1 << 16);
  int n = 0;
  while ((n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()))) > 0) {
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  EXPECT_EQ(n, 0);
  gzclose(gz);
  return out;
}

void expect_same_events(const std::vector<Event>& got, const std::vector<Event>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].line, want[i].line) << what << " event " << i;
    ASSERT_EQ(got[i].kind, want[i].kind) << what << " event " << i;
    ASSERT_EQ(got[i].ts_ns, want[i].ts_ns) << what << " event " << i;
    ASSERT_EQ(got[i].url, want[i].url) << what << " event " << i;
    ASSERT_EQ(got[i].payload, want[i].payload) << what << " event " << i;
  }
}

// zlib is the reference for gzip: every level (0 is stored blocks only), one member or
// several joined, a sync flush inside each; the reader gives exactly the events of the
// text zlib inflates from the same file.
TEST(CaptureReader, GzipGivesTheEventsOfWhatZlibInflates) {
  const std::string text = mixed_text();
  for (const int level : {0, 1, 6, 9}) {
    for (const int members : {1, 3}) {
      const std::string what = "level " + std::to_string(level) + ", " + std::to_string(members) + " member(s)";
      const std::string gz = write_temp("ref.ndjson.gz", gzip_with_zlib(text, level, members));
      const std::string inflated = gunzip_with_zlib(gz);
      ASSERT_EQ(inflated, text) << what;
      const std::string plain = write_temp("ref.ndjson", inflated);
      const std::vector<Event> want = read_all(plain);
      ASSERT_GT(want.size(), 4000u);
      expect_same_events(read_all(gz), want, what);
      std::remove(gz.c_str());
      std::remove(plain.c_str());
    }
  }
}

// zstd_compress: `text` as one zstd frame per part (`frames` of them), with their
// checksums, at `level`.
std::string zstd_compress(std::string_view text, int level, int frames = 1) {
  std::string out;
  const std::size_t per = text.size() / static_cast<std::size_t>(frames) + 1;
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  for (std::size_t at = 0; at == 0 || at < text.size(); at += per) {  // an empty text: one empty frame
    const std::string_view part = text.substr(at, per);
    std::string frame(ZSTD_compressBound(part.size()), '\0');
    const std::size_t n = ZSTD_compress2(cctx, frame.data(), frame.size(), part.data(), part.size());
    EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
    frame.resize(n);
    out += frame;
  }
  ZSTD_freeCCtx(cctx);
  return out;
}

// zstd_complete_lines counts the newline-ended lines zstd's own streaming decoder gets
// out of `path` before it runs out of input (or meets an error).
std::uint64_t zstd_complete_lines(const std::string& path) {
  const std::string bytes = obr::testing::read_file(path);
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  std::vector<char> buf(1 << 16);
  std::uint64_t lines = 0;
  for (;;) {
    ZSTD_outBuffer out{buf.data(), buf.size(), 0};
    const std::size_t r = ZSTD_decompressStream(d, &out, &in);
    lines += static_cast<std::uint64_t>(std::count(buf.data(), buf.data() + out.pos, '\n'));
    if (ZSTD_isError(r)) ADD_FAILURE() << path << ": " << ZSTD_getErrorName(r);
    if (ZSTD_isError(r) || (out.pos == 0 && in.pos == in.size)) break;
  }
  ZSTD_freeDCtx(d);
  return lines;
}

// A zstd file (told by its magic bytes, whatever its name) reads as the plain file does:
// one frame or several joined (an empty one first), skippable frames between them, fast
// and strong levels;
// bytes after the last frame that do not start another are ignored, as for gzip.
TEST(CaptureReader, ZstdGivesTheEventsOfThePlainFile) {
  const std::string text = mixed_text();
  const std::string plain = write_temp("zref.ndjson", text);
  const std::vector<Event> want = read_all(plain);
  ASSERT_GT(want.size(), 4000u);
  const std::string skippable("\x50\x2a\x4d\x18\x03\x00\x00\x00xyz", 11);  // 3 bytes skipped
  for (const int level : {1, 19}) {
    for (const int frames : {1, 4}) {
      const std::string what = "level " + std::to_string(level) + ", " + std::to_string(frames) + " frame(s)";
      std::string bytes = zstd_compress(text, level, frames);
      if (frames > 1) bytes = zstd_compress("", level) + skippable + bytes + skippable;
      bytes += "trailing garbage\n";
      const std::string path = write_temp("zref.rec", bytes);  // no .zst: told by its bytes
      expect_same_events(read_all(path), want, what);
      std::remove(path.c_str());
    }
  }
  std::remove(plain.c_str());
}

// A zstd stream cut short is reported as a gzip one is: every complete line before the
// cut, then DataLoss naming the first line not delivered and the last one delivered.
// (zstd hands out a block, up to 128 KiB, only whole: more lines than for gzip.)
TEST(CaptureReader, AZstdStreamCutShortIsDataLossAfterTheLastCompleteLine) {
  for (const CaptureFormat format : {CaptureFormat::kRaw, CaptureFormat::kCryptofeed, CaptureFormat::kObr}) {
    const Recording rec = make_recording(format, 30000);
    const std::string bytes = zstd_compress(rec.text, 1, 2);
    for (const double keep : {0.6, 0.25, 0.99}) {
      const std::string cut_path =
          write_temp("cut_" + rec.name + ".zst",
                     bytes.substr(0, static_cast<std::size_t>(static_cast<double>(bytes.size()) * keep)));
      const std::uint64_t last = zstd_complete_lines(cut_path);
      ASSERT_GT(last, 1u);
      ASSERT_LT(last, 30000u);
      absl::Status status;
      const std::vector<Event> ev = read_events(cut_path, status);
      const std::string what = rec.name + " zstd cut at " + std::to_string(keep);
      EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << what << ": " << status;
      EXPECT_EQ(std::string(status.message()),
                cut_path + ":" + std::to_string(last + 1) +
                    ": zstd stream ends early (file truncated or cut short): nothing after line " +
                    std::to_string(last) + " could be read")
          << what;
      expect_prefix_delivered(ev, rec, last, what);
      std::remove(cut_path.c_str());
    }
  }
  // Cut inside the first frame's header: nothing tells the format, open() fails.
  const std::string header = write_temp("zheader_cut.zst", zstd_compress("{\"a\":1}\n", 1).substr(0, 5));
  absl::Status status;
  EXPECT_TRUE(read_events(header, status).empty());
  EXPECT_EQ(std::string(status.message()),
            header + ":1: zstd stream ends early (file truncated or cut short): nothing after line 0 could be read");
  std::remove(header.c_str());
}

// A zstd frame whose checksum does not match is a read error naming the file and line.
TEST(CaptureReader, AZstdChecksumMismatchNamesTheFileAndLine) {
  const Recording rec = make_recording(CaptureFormat::kRaw, 20000);
  std::string bytes = zstd_compress(rec.text, 1);
  bytes[bytes.size() - 2] ^= 0x55;  // the frame's checksum (its last four bytes)
  const std::string path = write_temp("zcrc.ndjson.zst", bytes);
  absl::Status status;
  const std::vector<Event> ev = read_events(path, status);
  const std::uint64_t last = ev.empty() ? 0 : ev.back().line;
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_EQ(std::string(status.message()), path + ":" + std::to_string(last + 1) +
                                               ": read error: " + ZSTD_getErrorString(ZSTD_error_checksum_wrong) +
                                               "; nothing after line " + std::to_string(last) + " could be read");
  expect_prefix_delivered(ev, rec, last, "bad zstd checksum");
  std::remove(path.c_str());
}

// ---- JSON-lines captures -----------------------------------------------------------------

// One JSON-lines event as the tests compare it.
struct JsonLineEvent {
  std::uint64_t line;
  CaptureEventKind kind;
  std::string conn;
  std::int64_t ts_ns;
  std::string payload;  // the frame, or why the line is bad
  std::string url;
  bool operator==(const JsonLineEvent&) const = default;
};

std::ostream& operator<<(std::ostream& os, const JsonLineEvent& e) {
  return os << "{line " << e.line << ", kind " << static_cast<int>(e.kind) << ", conn '" << e.conn << "', ts "
            << e.ts_ns << ", payload '" << e.payload << "', url '" << e.url << "'}";
}

std::vector<JsonLineEvent> read_json_lines(const std::string& path) {
  std::vector<JsonLineEvent> out;
  auto reader = CaptureReader::open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  EXPECT_EQ((*reader)->format(), CaptureFormat::kJsonLines);
  CaptureEvent ev;
  while ((*reader)->next(ev)) {
    out.push_back({ev.line, ev.kind, std::string(ev.conn), ev.ts_ns, std::string(ev.payload), std::string(ev.url)});
  }
  EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
  return out;
}

// JSON lines: each line one frame received on a named connection, `data` unescaped (\",
// \\, \u00e9), `ts` exact to the nanosecond, "url" when given, members in any order, CRLF
// line endings; every line that does not fit is a bad line with its own number and why.
TEST(CaptureReader, JsonLinesFramesAndEveryMisfitWithItsReason) {
  const std::vector<std::string> lines = {
      R"({"conn": "BYBIT.ws.2", "ts": 1786310819.7200031, "data": "{\"topic\":\"a\\\"b\",\"s\":\"caf\u00e9 \\\\ x\"}"})",
      R"({"data":"[1]","url":"wss://stream.bybit.com/v5/public/spot","ts":1786310820,"conn":"BYBIT.ws.3"})",
      R"({"conn":"A","ts":0.5,"data":"x","extra":{"k":[1,-2.5e3,1e999,123456789012345678901234567890,true,null,"s"]}})",
      "",  // 4: empty, skipped
      R"({"conn":"A","ts":1})",
      R"({"conn":"A","data":"x"})",
      R"({"ts":1,"data":"x"})",
      R"({"conn":"A","ts":1,"data":{"a":1}})",
      R"({"conn":"A","ts":1.7e9,"data":"x"})",
      R"({"conn":"A","ts":"1.5","data":"x"})",  // 10
      R"({"conn":"A","ts":-1,"data":"x"})",
      R"({"conn":"A","ts":01.5,"data":"x"})",
      R"([1,2])",
      R"({"conn":"A","ts":1,"data":"x")",  // unclosed
      R"({"conn":"A","ts":1,"data":"x"}{"b":1})",
      R"({"conn":"A","ts":1,"data":"x","data":"y"})",
      R"({"conn":5,"ts":1,"data":"x"})",
      R"({"conn":"","ts":1,"data":"x"})",
      R"({"conn":"A","ts":1,"data":"x","z":[1,tru]})",
      R"({"conn":"A","ts":1,"data":"\q"})",  // 20
      R"({"conn":"A","ts":1,"data":"x","url":1})",
      "{\"conn\":\"A\",\"ts\":1,\"data\":\"\xff\"}",  // not UTF-8
      "{\"conn\":\"A\",\"ts\":1,\"data\":\"\x01\"}",  // a raw control byte
      "not json",
      R"({"conn":"A","ts":2,"data":""})",  // an empty frame is a frame
      R"({"conn":"A\u00e9","ts":3.000000001,"data":"last"})",
  };
  // CRLF and LF line endings in turn; the last line without one.
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    text += lines[i] + (i + 1 == lines.size() ? "" : i % 2 == 0 ? "\r\n" : "\n");
  }
  using K = CaptureEventKind;
  const auto bad = [](std::uint64_t line, const std::string& why) {
    return JsonLineEvent{line, K::kBadLine, "", -1, "JSON lines: " + why, ""};
  };
  const std::string bad_ts = R"("ts" is not Unix seconds (a number written digits[.digits]))";
  const std::vector<JsonLineEvent> want = {
      {1, K::kReceived, "BYBIT.ws.2", 1786310819720003100,
       std::string(R"({"topic":"a\"b","s":"caf)") + "\xc3\xa9" + R"( \\ x"})", ""},
      {2, K::kReceived, "BYBIT.ws.3", 1786310820000000000, "[1]", "wss://stream.bybit.com/v5/public/spot"},
      {3, K::kReceived, "A", 500000000, "x", ""},
      bad(5, R"(no "data" member (the frame))"),
      bad(6, R"(no "ts" member (the receive time))"),
      bad(7, R"(no "conn" member (the connection's name))"),
      bad(8, R"("data" is not a string (the frame, as a JSON string))"),
      bad(9, bad_ts),
      bad(10, bad_ts),
      bad(11, bad_ts),
      bad(12, bad_ts),
      bad(13, "not a JSON object"),
      bad(14, "not valid JSON"),
      bad(15, "more text after the object"),
      bad(16, R"("data" given twice)"),
      bad(17, R"("conn" is not a string)"),
      bad(18, R"("conn" is empty)"),
      bad(19, "not valid JSON"),
      bad(20, "not valid JSON"),
      bad(21, R"("url" is not a string)"),
      bad(22, "not valid UTF-8"),
      {23, K::kBadLine, "", -1, "control byte 0x01 at column 28", ""},
      bad(24, "not a JSON object"),
      {25, K::kReceived, "A", 2000000000, "", ""},
      {26, K::kReceived, "A\xc3\xa9", 3000000001, "last", ""},
  };
  for (const bool gz : {false, true}) {
    SCOPED_TRACE(gz ? "gzip" : "plain");
    const std::string path = gz ? write_temp_gz("lines.jsonl.gz", text) : write_temp("lines.jsonl", text);
    const std::vector<JsonLineEvent> got = read_json_lines(path);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "event " << i;
    std::remove(path.c_str());
  }
}

// The format is told by the first non-empty line: an object whose FIRST member is "conn"
// holding a string. A raw capture's frames are objects too, and are told apart.
TEST(CaptureReader, JsonLinesAreToldFromRawCapturesByTheFirstMember) {
  const std::vector<std::pair<std::string, CaptureFormat>> cases = {
      {"\n \r\n{ \"conn\" : \"c\", \"ts\": 1, \"data\": \"x\"}", CaptureFormat::kJsonLines},
      {R"({"conn":"c","ts":1,"data":{}})", CaptureFormat::kJsonLines},  // its first line is bad
      {R"({"connId":"x","type":"welcome"})", CaptureFormat::kRaw},
      {R"({"type":"x","conn":"y","ts":1,"data":"z"})", CaptureFormat::kRaw},
      {R"({"conn":5,"ts":1,"data":"z"})", CaptureFormat::kRaw},
      {R"({"conn":{"a":1}})", CaptureFormat::kRaw},
      {R"([{"conn":"c","ts":1,"data":"x"}])", CaptureFormat::kRaw},
      {R"({"conn")", CaptureFormat::kRaw},
  };
  for (const auto& [text, format] : cases) {
    const std::string path = write_temp("tell.jsonl", text + "\n");
    auto r = CaptureReader::open(path);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->format(), format) << text;
    std::remove(path.c_str());
  }
}

// Reading JSON lines allocates nothing once the parser has seen the longest line: the
// line is parsed where it lies and `data` unescaped into the parser's own buffer.
TEST(CaptureReader, JsonLinesAllocateNothingPerLine) {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text +=
        R"({"conn": "C)" + std::to_string(i % 3) + R"(", "ts": 1786310819.)" + std::to_string(1000000 + i) +
        R"(, "data": "{\"topic\":\"orderbook.50.BTCUSDT\",\"type\":\"delta\",\"data\":{\"s\":\"BTCUSDT\",\"b\":[[\")" +
        std::to_string(65000 + i % 100) + R"(.10\",\"0.5\"]],\"a\":[],\"u\":)" + std::to_string(1000 + i) +
        R"(}}"})"
        "\n";
  }
  const std::string path = write_temp("alloc.jsonl", text);
  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  CaptureEvent ev;
  ASSERT_TRUE((*reader)->next(ev));  // the parser's buffers sized for these lines
  std::uint64_t frames = 1;
  obr::testing::AllocationScope scope;
  while ((*reader)->next(ev)) frames += ev.kind == CaptureEventKind::kReceived ? 1 : 0;
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(frames, 2000u);
  EXPECT_EQ(ev.conn, "C1");                  // line 2000
  EXPECT_EQ(ev.ts_ns, 1786310819100199900);  // ".1001999"
  std::remove(path.c_str());
}

// ---- the real cryptofeed recording -------------------------------------------------------

TEST(CaptureReader, RealCryptofeedRecordingCounts) {
  std::uint64_t connects = 0, sent = 0, received = 0, bad = 0;
  auto reader = CaptureReader::open(obr::testing::data_path("kraken-v1/KRAKEN.ws.50.0"));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->format(), CaptureFormat::kCryptofeed);
  CaptureEvent ev;
  std::int64_t last_ts = 0;
  bool ordered = true;
  while ((*reader)->next(ev)) {
    connects += ev.kind == CaptureEventKind::kConnect;
    sent += ev.kind == CaptureEventKind::kSent;
    received += ev.kind == CaptureEventKind::kReceived;
    bad += ev.kind == CaptureEventKind::kBadLine;
    ordered = ordered && ev.ts_ns >= last_ts;
    last_ts = ev.ts_ns;
  }
  EXPECT_EQ(connects, 1u);
  EXPECT_EQ(sent, 1u);
  EXPECT_EQ(received, 4321u);  // 4325 lines, the last two empty
  EXPECT_EQ(bad, 0u);
  EXPECT_TRUE(ordered);
}

}  // namespace
}  // namespace obr::engine
