#include "engine/capture_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/book/test_data.h"

namespace obr::engine {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / ("obr_capture_test_" + name)).string();
  std::ofstream(path) << text;
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
  const std::string path = write_temp("cf.ws.1.0",
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

TEST(CaptureReader, UnknownFormatAndMissingFileNameTheFile) {
  const std::string path = write_temp("unknown.txt", "\n\nhello\n");
  auto r = CaptureReader::open(path);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(path + ":3: unknown recording format"), std::string::npos) << r.status();
  std::remove(path.c_str());
  EXPECT_EQ(CaptureReader::open("/nonexistent/file").status().code(), absl::StatusCode::kNotFound);
}

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
