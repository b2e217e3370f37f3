// The obr recording format: what the recorder writes, the reader gives back exactly —
// frames that cannot sit on a line verbatim included — and every line that does not fit
// the format is reported with its number and why.
#include "engine/recorder.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/capture_reader.h"
#include "engine/recording_set.h"
#include "engine/replayer.h"
#include "tests/book/test_data.h"

namespace obr::engine {
namespace {

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "obr_recorder_test_" + std::to_string(::getpid()) + "_" + name;
}

struct Event {
  CaptureEventKind kind;
  std::int64_t ts_ns;
  std::string venue, url, payload;
  std::uint64_t id;
  int status;
  std::uint64_t line;
};

std::vector<Event> read_all(const std::string& path) {
  auto reader = CaptureReader::open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  std::vector<Event> out;
  if (!reader.ok()) return out;
  EXPECT_EQ((*reader)->format(), CaptureFormat::kObr);
  CaptureEvent ev;
  while ((*reader)->next(ev)) {
    out.push_back({ev.kind, ev.ts_ns, std::string(ev.venue), std::string(ev.url), std::string(ev.payload), ev.id,
                   ev.status, ev.line});
  }
  EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
  return out;
}

// gunzip reads a whole gzip file as text.
std::string gunzip(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  EXPECT_NE(gz, nullptr);
  std::string out;
  char buf[4096];
  int n = 0;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(gz);
  return out;
}

void write_gz(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(gz);
}

TEST(Recorder, WritesTheDocumentedLinesAndReadsThemBackExactly) {
  const std::string path = temp_path("roundtrip.obr.gz");
  const std::string nasty("{\"a\":\"x\ny\"}\r\0 end ", 18);  // newline, CR, NUL, trailing blank
  {
    auto rec = Recorder::open(path);
    ASSERT_TRUE(rec.ok()) << rec.status();
    Recorder& r = **rec;
    r.event(5, "kraken", RecordKind::kConfig, "depth=10 max_frame_bytes=1024 symbols=BTC/USD,ETH/USD");
    r.event(10, "kucoin", RecordKind::kStart);
    r.request(11, "kucoin", 1, "POST", "https://h/api/v1/bullet-public");
    r.http(12, "kucoin", 1, 200, "https://h/api/v1/bullet-public", "{\"code\":\"200000\"}");
    r.event(20, "kraken", RecordKind::kOpen, "wss://ws.kraken.com/v2");
    r.event(21, "kraken", RecordKind::kSend, "{\"method\":\"subscribe\"}");
    r.event(1700000000123456789, "kraken", RecordKind::kRecv, "{\"channel\":\"book\"}");
    r.event(30, "kraken", RecordKind::kRecv, nasty);
    r.http(31, "kucoin", 7, 429, "https://h/x", "");
    r.http(32, "kucoin", 8, 0, "", "line one\nline two");
    r.event(40, "kraken", RecordKind::kTick);
    r.event(41, "kraken", RecordKind::kPing);
    r.event(50, "kraken", RecordKind::kClose, "watchdog:\nno data ");
    EXPECT_EQ(r.lines(), 14u);  // the magic line and 13 events
    EXPECT_TRUE(r.close().ok());
  }
  // The text is what docs/recording.md shows.
  const std::string text = gunzip(path);
  EXPECT_EQ(text.substr(0, text.find('\n', text.find('\n') + 1) + 1),
            "obr-recording 1\n5 kraken config depth=10 max_frame_bytes=1024 symbols=BTC/USD,ETH/USD\n");
  EXPECT_NE(text.find("\n11 kucoin req 1 POST https://h/api/v1/bullet-public\n"), std::string::npos);
  EXPECT_NE(text.find("\n1700000000123456789 kraken recv {\"channel\":\"book\"}\n"), std::string::npos);
  EXPECT_NE(text.find("\n30 kraken recv64 eyJhIjoieAp5In0NACBlbmQg\n"), std::string::npos);
  EXPECT_NE(text.find("\n31 kucoin http 7 429 https://h/x\n"), std::string::npos);
  EXPECT_NE(text.find("\n50 kraken close watchdog: no data\n"), std::string::npos);

  const std::vector<Event> ev = read_all(path);
  ASSERT_EQ(ev.size(), 13u);
  EXPECT_EQ(ev[0].kind, CaptureEventKind::kConfig);
  EXPECT_EQ(ev[0].venue, "kraken");
  EXPECT_EQ(ev[0].payload, "depth=10 max_frame_bytes=1024 symbols=BTC/USD,ETH/USD");
  EXPECT_EQ(ev[0].line, 2u);
  EXPECT_EQ(ev[1].kind, CaptureEventKind::kStart);
  EXPECT_EQ(ev[1].ts_ns, 10);
  EXPECT_EQ(ev[2].kind, CaptureEventKind::kHttpRequest);
  EXPECT_EQ(ev[2].id, 1u);
  EXPECT_EQ(ev[2].payload, "POST https://h/api/v1/bullet-public");
  EXPECT_EQ(ev[3].kind, CaptureEventKind::kHttpResponse);
  EXPECT_EQ(ev[3].id, 1u);
  EXPECT_EQ(ev[3].status, 200);
  EXPECT_EQ(ev[3].url, "https://h/api/v1/bullet-public");
  EXPECT_EQ(ev[3].payload, "{\"code\":\"200000\"}");
  EXPECT_EQ(ev[4].kind, CaptureEventKind::kConnect);
  EXPECT_EQ(ev[4].url, "wss://ws.kraken.com/v2");
  EXPECT_EQ(ev[5].kind, CaptureEventKind::kSent);
  EXPECT_EQ(ev[6].kind, CaptureEventKind::kReceived);
  EXPECT_EQ(ev[6].ts_ns, 1700000000123456789);
  EXPECT_EQ(ev[6].payload, "{\"channel\":\"book\"}");
  EXPECT_EQ(ev[7].kind, CaptureEventKind::kReceived);
  EXPECT_EQ(ev[7].payload, nasty);  // byte for byte
  EXPECT_EQ(ev[8].status, 429);
  EXPECT_EQ(ev[8].payload, "");
  EXPECT_EQ(ev[9].status, 0);
  EXPECT_EQ(ev[9].url, "");
  EXPECT_EQ(ev[9].payload, "line one\nline two");
  EXPECT_EQ(ev[10].kind, CaptureEventKind::kTick);
  EXPECT_EQ(ev[11].kind, CaptureEventKind::kPing);
  EXPECT_EQ(ev[12].kind, CaptureEventKind::kDisconnect);
  EXPECT_EQ(ev[12].payload, "watchdog: no data");
  std::remove(path.c_str());
}

TEST(Recorder, EveryBadLineIsReportedWithItsNumberAndWhy) {
  const std::string path = temp_path("bad.obr.gz");
  write_gz(path,
           "obr-recording 1\n"
           "x kraken recv {}\n"
           "5 kraken\n"
           "6 kraken frob {}\n"
           "7 kraken recv64 !!!\n"
           "8 kucoin http one 200 u {}\n"
           "9 kucoin http 1 ok u {}\n"
           "10 kraken tick64 AAAA\n"
           "11 kraken recv {}\n");
  const std::vector<Event> ev = read_all(path);
  ASSERT_EQ(ev.size(), 8u);
  const std::vector<std::string> why = {
      "obr recording: the line does not start with a time in nanoseconds",
      "obr recording: expected 'TS VENUE KIND [PAYLOAD]'",
      "obr recording: unknown event kind (expected part, config, subscribe, start, open, close, recv, send, req, "
      "http, tick or ping)",
      "obr recording: the base64 payload does not decode",
      "obr recording: http/req without a numeric request id",
      "obr recording: http without a numeric status",
      "obr recording: only recv, send and http take a base64 payload",
  };
  for (std::size_t i = 0; i < why.size(); ++i) {
    EXPECT_EQ(ev[i].kind, CaptureEventKind::kBadLine) << i;
    EXPECT_EQ(ev[i].line, i + 2) << i;
    EXPECT_EQ(ev[i].payload, why[i]) << i;
  }
  EXPECT_EQ(ev[7].kind, CaptureEventKind::kReceived);  // the good line after them still reads
  EXPECT_EQ(ev[7].line, 9u);
  std::remove(path.c_str());
}

TEST(Recorder, AnotherVersionIsRefusedByName) {
  const std::string path = temp_path("v2.obr.gz");
  write_gz(path, "obr-recording 2\n1 kraken tick\n");
  auto reader = CaptureReader::open(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(
      reader.status().message(),
      path + ":1: obr recording of an unsupported version ('obr-recording 2'; this build reads 'obr-recording 1')");
  std::remove(path.c_str());
}

// An event the reader could not read back stops the recording with a named error
// instead of leaving a hole the replay would not notice.
TEST(Recorder, AnEventOverTheLineLimitFailsTheRecordingByName) {
  const std::string path = temp_path("huge.obr.gz");
  auto rec = Recorder::open(path);
  ASSERT_TRUE(rec.ok());
  (*rec)->event(1, "kraken", RecordKind::kRecv, "{}");
  (*rec)->event(2, "kraken", RecordKind::kRecv, std::string(CaptureReader::kMaxLine, 'x'));
  EXPECT_FALSE((*rec)->ok());
  EXPECT_EQ((*rec)->status().message(), path +
                                            ": line 3 would be 6291471 bytes, over the 6291456-byte line limit; "
                                            "recording stopped");
  (*rec)->event(3, "kraken", RecordKind::kRecv, "{}");  // nothing more is written
  EXPECT_EQ((*rec)->lines(), 2u);
  std::remove(path.c_str());
}

TEST(Recorder, OpenNamesThePathThatCannotBeCreated) {
  auto rec = Recorder::open("/nonexistent-dir/x.obr.gz");
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.status().message(),
            "/nonexistent-dir/x.obr.gz: cannot create the recording: No such file or directory");
}

// unzstd reads a whole zstd file as text.
std::string unzstd(const std::string& path) {
  const std::string bytes = obr::testing::read_file(path);
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  std::string out;
  std::vector<char> buf(1 << 16);
  std::size_t r = 1;
  while (in.pos < in.size || r != 0) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    r = ZSTD_decompressStream(d, &o, &in);
    if (ZSTD_isError(r) != 0 || (o.pos == 0 && in.pos == in.size && r != 0)) {
      ADD_FAILURE() << path << ": " << (ZSTD_isError(r) != 0 ? ZSTD_getErrorName(r) : "cut short");
      break;
    }
    out.append(buf.data(), o.pos);
  }
  ZSTD_freeDCtx(d);
  return out;
}

// rerecord writes every event of the recording `from` again through a Recorder at `to`,
// rotated as `rotation` says (flushed before every event, as the engine's ticks do); the
// files written go to `files`.
void rerecord(const std::string& from, const std::string& to, const RecordingRotation& rotation = {},
              std::vector<std::string>* files = nullptr) {
  auto reader = CaptureReader::open(from);
  ASSERT_TRUE(reader.ok()) << reader.status();
  CaptureEvent ev;
  ASSERT_TRUE((*reader)->next(ev));
  auto rec = Recorder::open(to, rotation, ev.ts_ns);
  ASSERT_TRUE(rec.ok()) << rec.status();
  Recorder& r = **rec;
  for (bool more = true; more; more = (*reader)->next(ev)) {
    r.flush_if_due(ev.ts_ns);
    switch (ev.kind) {
      case CaptureEventKind::kHttpRequest: {
        const std::size_t sp = ev.payload.find(' ');
        r.request(ev.ts_ns, ev.venue, ev.id, ev.payload.substr(0, sp), ev.payload.substr(sp + 1));
        break;
      }
      case CaptureEventKind::kHttpResponse:
        r.http(ev.ts_ns, ev.venue, ev.id, ev.status, ev.url, ev.payload);
        break;
      case CaptureEventKind::kConnect:
        r.event(ev.ts_ns, ev.venue, RecordKind::kOpen, ev.url);
        break;
      default: {
        const std::pair<CaptureEventKind, RecordKind> kinds[] = {
            {CaptureEventKind::kReceived, RecordKind::kRecv},
            {CaptureEventKind::kSent, RecordKind::kSend},
            {CaptureEventKind::kDisconnect, RecordKind::kClose},
            {CaptureEventKind::kTick, RecordKind::kTick},
            {CaptureEventKind::kPing, RecordKind::kPing},
            {CaptureEventKind::kStart, RecordKind::kStart},
            {CaptureEventKind::kConfig, RecordKind::kConfig},
            {CaptureEventKind::kSubscribe, RecordKind::kSubscribe}};
        const auto* k = std::find_if(std::begin(kinds), std::end(kinds), [&](auto& p) { return p.first == ev.kind; });
        ASSERT_NE(k, std::end(kinds)) << from << ":" << ev.line << ": " << ev.payload;
        r.event(ev.ts_ns, ev.venue, k->second, ev.payload);
      }
    }
  }
  ASSERT_TRUE((*reader)->status().ok()) << (*reader)->status();
  ASSERT_TRUE(r.close().ok()) << r.status();
  if (files != nullptr) *files = r.files();
}

// An out path ending in .zst makes a zstd recording (the rest: gzip), which holds the same
// text and replays to the same books and counters as the gzip one.
TEST(Recorder, AZstdRecordingReplaysToTheSameBooksAsTheGzipOne) {
  const std::string source = obr::testing::data_path("obr/pre_registry.obr.gz");
  const std::string gz = temp_path("same.obr.gz");
  const std::string zst = temp_path("same.obr.zst");
  rerecord(source, gz);
  rerecord(source, zst);
  EXPECT_EQ(obr::testing::read_file(gz).substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(obr::testing::read_file(zst).substr(0, 4), "\x28\xb5\x2f\xfd");
  const std::string text = gunzip(gz);
  EXPECT_EQ(unzstd(zst), text);
  EXPECT_GT(text.size(), 100000u);

  auto a = replay_files({gz}, {});
  auto b = replay_files({zst}, {});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_GT(a->frames, 1000u);
  EXPECT_EQ(b->frames, a->frames);
  EXPECT_EQ(b->malformed, a->malformed);
  EXPECT_TRUE(b->input_errors.empty());
  ASSERT_EQ(a->books.size(), 3u);
  ASSERT_EQ(b->books.size(), a->books.size());
  for (std::size_t i = 0; i < a->books.size(); ++i) {
    const ReplayBook& x = a->books[i];
    const ReplayBook& y = b->books[i];
    SCOPED_TRACE(x.venue + " " + x.symbol);
    EXPECT_GT(x.counters.checks_passed, 100u);
    EXPECT_EQ(y.venue, x.venue);
    EXPECT_EQ(y.symbol, x.symbol);
    EXPECT_EQ(y.state, x.state);
    EXPECT_EQ(y.counters.snapshots, x.counters.snapshots);
    EXPECT_EQ(y.counters.updates, x.counters.updates);
    EXPECT_EQ(y.counters.checks_passed, x.counters.checks_passed);
    EXPECT_EQ(y.counters.checks_failed, x.counters.checks_failed);
    ASSERT_EQ(y.bids.size(), x.bids.size());
    ASSERT_EQ(y.asks.size(), x.asks.size());
    EXPECT_GT(x.bids.size(), 0u);
    for (std::size_t l = 0; l < x.bids.size(); ++l) {
      EXPECT_EQ(y.bids[l].price, x.bids[l].price);
      EXPECT_EQ(y.bids[l].qty, x.bids[l].qty);
    }
    for (std::size_t l = 0; l < x.asks.size(); ++l) {
      EXPECT_EQ(y.asks[l].price, x.asks[l].price);
      EXPECT_EQ(y.asks[l].qty, x.asks[l].qty);
    }
  }
  std::remove(gz.c_str());
  std::remove(zst.c_str());
}

// A zstd recording cut right after a flush (a recorder killed) gives every line written
// before the flush, then reports the stream cut short at the next line.
TEST(Recorder, AZstdRecordingCutAtAFlushReadsToTheFlush) {
  const std::string path = temp_path("flushed.obr.zst");
  std::uintmax_t flushed_size = 0;
  std::uint64_t flushed_lines = 0;
  {
    auto rec = Recorder::open(path);
    ASSERT_TRUE(rec.ok()) << rec.status();
    Recorder& r = **rec;
    r.event(1, "kraken", RecordKind::kConfig, "depth=10 max_frame_bytes=1024 symbols=BTC/USD");
    for (int i = 0; i < 2000; ++i) r.event(2 + i, "kraken", RecordKind::kRecv, "{\"seq\":" + std::to_string(i) + "}");
    r.flush_if_due(2'000'000'000);
    flushed_lines = r.lines();
    flushed_size = std::filesystem::file_size(path);
    for (int i = 0; i < 2000; ++i)
      r.event(3000 + i, "kraken", RecordKind::kRecv, "{\"late\":" + std::to_string(i) + "}");
    ASSERT_TRUE(r.close().ok()) << r.status();
  }
  ASSERT_GT(flushed_size, 4u);
  EXPECT_EQ(read_all(path).size(), 4001u);
  std::filesystem::resize_file(path, flushed_size);
  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  CaptureEvent ev;
  std::uint64_t events = 0, last = 0;
  while ((*reader)->next(ev)) {
    ++events;
    last = ev.line;
  }
  EXPECT_EQ(events, flushed_lines - 1);  // every line but the magic one
  EXPECT_EQ(last, flushed_lines);
  EXPECT_EQ((*reader)->status().message(),
            path + ":" + std::to_string(flushed_lines + 1) +
                ": zstd stream ends early (file truncated or cut short): nothing after line " +
                std::to_string(flushed_lines) + " could be read");
  std::remove(path.c_str());
}

TEST(RecordedConfig, FormatsAndParsesBack) {
  RecordedConfig k;
  k.symbols = {"BTC/USD", "ETH/USD"};
  k.depth = 25;
  k.max_frame_bytes = 4096;
  EXPECT_EQ(format_config(k), "depth=25 max_frame_bytes=4096 symbols=BTC/USD,ETH/USD");
  RecordedConfig c;
  c.symbols = {"BTC-USDT"};
  c.max_frame_bytes = 100;
  c.rest_base = "https://api.kucoin.com";
  c.credentials = true;
  EXPECT_EQ(format_config(c), "max_frame_bytes=100 rest_base=https://api.kucoin.com credentials=1 symbols=BTC-USDT");
  auto back = parse_config(format_config(c));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->symbols, c.symbols);
  EXPECT_EQ(back->rest_base, c.rest_base);
  EXPECT_TRUE(back->credentials);
  EXPECT_EQ(back->max_frame_bytes, 100u);
  // The session's own rotation: written only when the engine set it (an engine that
  // rotates connections itself sets -1); absent, the session's default (0).
  EXPECT_EQ(back->rotate_after_ns, 0);
  RecordedConfig b;
  b.symbols = {"BTCUSDT"};
  b.max_frame_bytes = 100;
  b.rotate_after_ns = -1;
  EXPECT_EQ(format_config(b), "max_frame_bytes=100 rotate_after_ns=-1 symbols=BTCUSDT");
  auto b_back = parse_config(format_config(b));
  ASSERT_TRUE(b_back.ok()) << b_back.status();
  EXPECT_EQ(b_back->rotate_after_ns, -1);
  EXPECT_EQ(session_settings(*b_back).rotate_after_ns, -1);
  EXPECT_EQ(parse_config("rotate_after_ns=soon").status().message(),
            "config value 'rotate_after_ns=soon' is not valid");
  EXPECT_EQ(parse_config("depth=x").status().message(), "config value 'depth=x' is not valid");
  EXPECT_EQ(parse_config("colour=red").status().message(), "unknown config key 'colour'");
  EXPECT_EQ(parse_config("depth").status().message(), "config word 'depth' is not key=value");
  EXPECT_EQ(parse_config("credentials=yes").status().message(), "config value 'credentials=yes' is not valid");
}

// The replayer drives sessions from a hand-written recording: the Kraken worked example
// subscribed at depth 10 goes live; an event before its venue's config is refused.
TEST(ObrReplay, EventsBeforeTheirConfigAreRefusedByLine) {
  const std::string path = temp_path("noconfig.obr.gz");
  write_gz(path, "obr-recording 1\n1 kraken open wss://x\n");
  auto s = replay_files({path}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), path + ":2: an event for kraken before its config line");
  write_gz(path, "obr-recording 1\n1 deribit config symbols=BTC-PERPETUAL\n");
  s = replay_files({path}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), path +
                                      ":2: venue 'deribit' is not supported by replay (supported: kraken, kraken-v1, "
                                      "kucoin, binance-usdm, binance, bybit-spot, bybit-linear, bybit-inverse, okx)");
  write_gz(path, "obr-recording 1\n1 kraken config depth=10 wobble=1\n");
  s = replay_files({path}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), path + ":2: unknown config key 'wobble'");
  // A depth Kraken does not offer: it would size the books (2^31 - 1 levels a side).
  write_gz(path, "obr-recording 1\n1 kraken config depth=2147483647 symbols=BTC/USD\n");
  s = replay_files({path}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), path + ":2: the kraken config's depth 2147483647 is not 10, 25, 100, 500 or 1000");
  std::remove(path.c_str());
}

}  // namespace
// ---- rotation ----------------------------------------------------------------------

TEST(RecordingRotation, PartPathPutsTheIndexBeforeTheExtension) {
  EXPECT_EQ(part_path("run.obr.gz", 1), "run.000001.obr.gz");
  EXPECT_EQ(part_path("/d/run.obr.zst", 12), "/d/run.000012.obr.zst");
  EXPECT_EQ(part_path("run.obr", 3), "run.000003.obr");
  EXPECT_EQ(part_path("run.gz", 2), "run.000002.gz");
  EXPECT_EQ(part_path("run.zst", 2), "run.000002.zst");
  EXPECT_EQ(part_path("run", 2), "run.000002");
  EXPECT_EQ(part_path("run.txt", 1234567), "run.txt.1234567");
  EXPECT_EQ(format_part({"00000000000000ff", 3}), "run=00000000000000ff index=3");
  auto p = parse_part("run=00000000000000ff index=3");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->run, "00000000000000ff");
  EXPECT_EQ(p->index, 3u);
  EXPECT_EQ(parse_part("run=xyz index=1").status().message(), "part run 'xyz' is not 16 hex digits");
  EXPECT_EQ(parse_part("run=00000000000000ff index=0").status().message(), "part index '0' is not a number from 1");
  EXPECT_EQ(parse_part("run=00000000000000ff").status().message(), "a part line needs run=ID and index=N");
  EXPECT_EQ(parse_part("run=00000000000000ff index=1 size=2").status().message(),
            "unknown part word 'size=2' (expected run=ID index=N)");
}

// A written event: what the reader must give back.
struct Written {
  CaptureEventKind kind;
  std::int64_t ts_ns;
  std::string venue, payload;
  bool operator==(const Written&) const = default;
};

// split_parts reads every part: their part lines (checked: one run, indexes 1, 2, ...),
// their config lines at the top after the first part (returned per part), and every other
// event, all parts' in order.
void split_parts(const std::vector<std::string>& files, std::vector<Written>& events,
                 std::vector<std::vector<std::string>>& tops) {
  std::string run;
  for (std::size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    const std::vector<Event> ev = read_all(files[i]);
    ASSERT_GE(ev.size(), 1u);
    ASSERT_EQ(ev[0].kind, CaptureEventKind::kPart);
    EXPECT_EQ(ev[0].line, 2u);  // right after the magic line
    auto part = parse_part(ev[0].payload);
    ASSERT_TRUE(part.ok()) << part.status();
    if (i == 0) run = part->run;
    EXPECT_EQ(part->run, run);
    EXPECT_EQ(part->index, i + 1);
    std::size_t k = 1;
    tops.emplace_back();
    if (i > 0) {
      for (; k < ev.size() && ev[k].kind == CaptureEventKind::kConfig; ++k) {
        EXPECT_EQ(ev[k].ts_ns, ev[0].ts_ns);
        tops.back().push_back(ev[k].venue + " " + ev[k].payload);
      }
    }
    for (; k < ev.size(); ++k) events.push_back({ev[k].kind, ev[k].ts_ns, ev[k].venue, ev[k].payload});
  }
}

// With a small max_bytes, the recording goes on in new parts at the once-a-second flush:
// every part starts with the magic line, its part line and every venue's config as it
// stands (a subscribe at run time included), and the parts' events, joined, are exactly
// the events written, in order: none lost, none twice.
TEST(RecordingRotation, BySizeNoEventIsLostOrWrittenTwice) {
  const std::string path = temp_path("size.obr.gz");
  const std::int64_t t0 = 1'700'000'000'000'000'000;
  RecordingRotation rotation;
  rotation.max_bytes = 3000;
  std::vector<Written> written;
  std::vector<std::string> files;
  {
    auto rec = Recorder::open(path, rotation, t0);
    ASSERT_TRUE(rec.ok()) << rec.status();
    Recorder& r = **rec;
    EXPECT_EQ(r.files(), std::vector<std::string>{part_path(path, 1)});
    EXPECT_EQ(r.run_id().size(), 16u);
    const auto put = [&](std::int64_t ts, const std::string& venue, RecordKind kind, const std::string& text,
                         CaptureEventKind read_as) {
      r.flush_if_due(ts);  // as the engine's ticks do, before an event
      r.event(ts, venue, kind, text);
      written.push_back({read_as, ts, venue, text});
    };
    put(t0, "kraken", RecordKind::kConfig, "depth=10 max_frame_bytes=1024 symbols=BTC/USD", CaptureEventKind::kConfig);
    put(t0, "kucoin", RecordKind::kConfig, "max_frame_bytes=1024 rest_base=https://h credentials=0 symbols=BTC-USDT",
        CaptureEventKind::kConfig);
    std::uint64_t x = 12345;
    for (int i = 0; i < 3000; ++i) {
      const std::int64_t ts = t0 + 1 + static_cast<std::int64_t>(i) * 5'000'000;  // 200 a second
      if (i == 700) put(ts, "kraken", RecordKind::kSubscribe, "ETH/USD,XRP/USD", CaptureEventKind::kSubscribe);
      x = x * 6364136223846793005u + 1442695040888963407u;  // payloads that compress badly
      put(ts, i % 3 == 0 ? "kucoin" : "kraken", RecordKind::kRecv,
          "{\"i\":" + std::to_string(i) + ",\"x\":" + std::to_string(x) + "}", CaptureEventKind::kReceived);
    }
    ASSERT_TRUE(r.close().ok()) << r.status();
    files = r.files();
  }
  ASSERT_GE(files.size(), 3u);
  for (std::size_t i = 0; i < files.size(); ++i) EXPECT_EQ(files[i], part_path(path, i + 1));
  std::vector<Written> read;
  std::vector<std::vector<std::string>> tops;
  split_parts(files, read, tops);
  EXPECT_EQ(read.size(), written.size());
  EXPECT_TRUE(read == written);
  const std::vector<std::string> before = {"kraken depth=10 max_frame_bytes=1024 symbols=BTC/USD",
                                           "kucoin max_frame_bytes=1024 rest_base=https://h credentials=0 "
                                           "symbols=BTC-USDT"};
  const std::vector<std::string> after = {"kraken depth=10 max_frame_bytes=1024 symbols=BTC/USD,ETH/USD,XRP/USD",
                                          before[1]};
  EXPECT_TRUE(tops[0].empty());
  for (std::size_t i = 1; i < tops.size(); ++i) {
    SCOPED_TRACE(files[i]);
    // The subscribe at 3.5 s is in the part that starts at or after it.
    const std::int64_t start = read_all(files[i])[0].ts_ns;
    EXPECT_EQ(tops[i], start > t0 + 1 + 700 * 5'000'000LL ? after : before);
  }
  // Each part is complete: a gzip stream to its end (read_all checks the status).
  for (const std::string& f : files) {
    EXPECT_GE(std::filesystem::file_size(f), 2500u);  // rotated at the flush after 3000 bytes, not before
    std::remove(f.c_str());
  }
}

// By time: a new part before the first event at or past each multiple of every_ns since
// the epoch, from the event times given (a period with no event makes no part).
TEST(RecordingRotation, ByTimeOnEveryMultipleOfThePeriod) {
  const std::string path = temp_path("time.obr.zst");
  const std::int64_t s = 1'000'000'000;
  RecordingRotation rotation;
  rotation.every_ns = s;
  std::vector<std::string> files;
  {
    auto rec = Recorder::open(path, rotation, 10 * s + s / 2);
    ASSERT_TRUE(rec.ok()) << rec.status();
    Recorder& r = **rec;
    r.event(10 * s + 600, "kraken", RecordKind::kConfig, "depth=10 max_frame_bytes=1024 symbols=BTC/USD");
    for (const std::int64_t ts : {10 * s + 700, 11 * s - 1, 11 * s, 11 * s + s / 2, 13 * s + 200, 13 * s + 900}) {
      r.event(ts, "kraken", RecordKind::kTick);
    }
    ASSERT_TRUE(r.close().ok()) << r.status();
    files = r.files();
  }
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[1], temp_path("time.000002.obr.zst"));
  std::vector<std::vector<std::int64_t>> times;
  for (const std::string& f : files) {
    times.emplace_back();
    for (const Event& e : read_all(f)) times.back().push_back(e.ts_ns);
  }
  // Part 1: its part line at the open, the config and two ticks; parts 2 and 3: the part
  // line and the config line at the time of the event that started them, then the ticks.
  EXPECT_EQ(times[0], (std::vector<std::int64_t>{10 * s + s / 2, 10 * s + 600, 10 * s + 700, 11 * s - 1}));
  EXPECT_EQ(times[1], (std::vector<std::int64_t>{11 * s, 11 * s, 11 * s, 11 * s + s / 2}));
  EXPECT_EQ(times[2], (std::vector<std::int64_t>{13 * s + 200, 13 * s + 200, 13 * s + 200, 13 * s + 900}));
  for (const std::string& f : files) std::remove(f.c_str());
}

// expect_same_books: two replays of one run report the same books, counters and levels.
void expect_same_books(const ReplaySummary& a, const ReplaySummary& b) {
  EXPECT_EQ(b.frames, a.frames);
  EXPECT_EQ(b.malformed, a.malformed);
  EXPECT_EQ(b.errors, a.errors);
  ASSERT_EQ(b.books.size(), a.books.size());
  for (std::size_t i = 0; i < a.books.size(); ++i) {
    const ReplayBook& x = a.books[i];
    const ReplayBook& y = b.books[i];
    SCOPED_TRACE(x.venue + " " + x.symbol);
    EXPECT_EQ(y.venue, x.venue);
    EXPECT_EQ(y.symbol, x.symbol);
    EXPECT_EQ(y.state, x.state);
    EXPECT_EQ(y.counters.snapshots, x.counters.snapshots);
    EXPECT_EQ(y.counters.updates, x.counters.updates);
    EXPECT_EQ(y.counters.levels_applied, x.counters.levels_applied);
    EXPECT_EQ(y.counters.checks_passed, x.counters.checks_passed);
    EXPECT_EQ(y.counters.checks_failed, x.counters.checks_failed);
    EXPECT_EQ(y.counters.resyncs_requested, x.counters.resyncs_requested);
    EXPECT_EQ(y.sequence, x.sequence);
    EXPECT_EQ(y.bids, x.bids);
    EXPECT_EQ(y.asks, x.asks);
  }
}

// A recorded run written again in parts of a second replays, its parts given in any order
// (and with -j 2, beside another recording), to exactly the books and counters of the run
// in one file; each part alone reads to its end; a missing part is refused by name.
TEST(RecordingRotation, ThePartsReplayAsOneRun) {
  const std::string source = obr::testing::data_path("obr/pre_registry.obr.gz");
  const std::string whole = temp_path("whole.obr.gz");
  const std::string path = temp_path("parts.obr.gz");
  rerecord(source, whole);
  std::vector<std::string> files;
  RecordingRotation rotation;
  rotation.every_ns = 1'000'000'000;
  rerecord(source, path, rotation, &files);
  ASSERT_GE(files.size(), 4u);

  auto one = replay_files({whole}, {});
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->books.size(), 3u);
  EXPECT_GT(one->books[0].counters.checks_passed, 100u);
  std::vector<std::string> shuffled(files.rbegin(), files.rend());
  std::swap(shuffled[0], shuffled[1]);
  auto set = replay_files(shuffled, {});
  ASSERT_TRUE(set.ok()) << set.status();
  expect_same_books(*one, *set);
  EXPECT_TRUE(set->input_errors.empty());
  EXPECT_TRUE(set->parts_without_start.empty());
  for (const ReplayBook& b : set->books) EXPECT_EQ(b.file, files[0]);

  // The export (every 100 ms and at every change) of the parts is the export of the whole.
  ReplayOptions exp;
  exp.export_every_ns = 100'000'000;
  exp.export_on_change = true;
  exp.export_path = temp_path("whole.csv");
  ASSERT_TRUE(replay_files({whole}, exp).ok());
  const std::string whole_csv = obr::testing::read_file(exp.export_path);
  exp.export_path = temp_path("parts.csv");
  ASSERT_TRUE(replay_files(shuffled, exp).ok());
  EXPECT_GT(whole_csv.size(), 10000u);
  EXPECT_TRUE(obr::testing::read_file(exp.export_path) == whole_csv);
  std::remove(exp.export_path.c_str());
  std::remove(temp_path("whole.csv").c_str());

  // -j 2: the set is one recording, the other file another; the same as one thread.
  std::vector<std::string> mixed = shuffled;
  mixed.insert(mixed.begin() + 2, whole);
  ReplayOptions two;
  two.threads = 2;
  auto threaded = replay_files(mixed, two);
  auto single = replay_files(mixed, {});
  ASSERT_TRUE(threaded.ok()) << threaded.status();
  ASSERT_TRUE(single.ok()) << single.status();
  ASSERT_EQ(single->books.size(), 6u);
  expect_same_books(*single, *threaded);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(single->books[i].file, files[0]);  // the set comes first
  for (std::size_t i = 3; i < 6; ++i) EXPECT_EQ(single->books[i].file, whole);

  // Each part alone: read to its end without error; a later part's books start empty.
  for (std::size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    auto alone = replay_files({files[i]}, {});
    ASSERT_TRUE(alone.ok()) << alone.status();
    EXPECT_TRUE(alone->input_errors.empty());
    EXPECT_EQ(alone->malformed, 0u);
    EXPECT_EQ(alone->books.size(), 3u);
    EXPECT_EQ(alone->parts_without_start.size(), i == 0 ? 0u : 1u);
  }

  // Parts 2 to the last, without the first: consecutive, so replayed; the first given
  // starts the run without its state, said by name when nothing validates.
  auto tail = replay_files(std::vector<std::string>(files.begin() + 1, files.end()), {});
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_EQ(tail->parts_without_start.size(), 1u);
  const auto part = read_part(files[1]);
  ASSERT_TRUE(part.ok() && part->has_value());
  EXPECT_EQ(tail->parts_without_start[0], files[1] + " (part 2 of run " + (*part)->run + ")");

  // A missing middle part: refused, naming the run, the part and its file.
  std::vector<std::string> gap = files;
  gap.erase(gap.begin() + 2);
  auto missing = replay_files(gap, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "recording run " + (*part)->run + ": part 3 is missing (" + files[2] + "): parts 1 to " +
                std::to_string(files.size()) +
                " were given, and a rotated recording replays as one run only with every part between its first and "
                "its last");
  // The same part twice: refused, naming both files.
  auto twice = replay_files({files[0], files[1], files[1]}, {});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(),
            "recording run " + (*part)->run + ": part 2 given twice: " + files[1] + " and " + files[1]);
  std::remove(whole.c_str());
  for (const std::string& f : files) std::remove(f.c_str());
}

// A part cut short ends the run there: its lines before the cut are replayed, the cut is an
// input error (exit 2) that says the later parts were not replayed.
TEST(RecordingRotation, APartCutShortEndsTheRunThere) {
  const std::string source = obr::testing::data_path("obr/pre_registry.obr.gz");
  const std::string path = temp_path("cut.obr.gz");
  std::vector<std::string> files;
  RecordingRotation rotation;
  rotation.every_ns = 1'000'000'000;
  rerecord(source, path, rotation, &files);
  ASSERT_GE(files.size(), 4u);
  std::filesystem::resize_file(files[1], std::filesystem::file_size(files[1]) / 2);
  auto s = replay_files(files, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->input_errors.size(), 1u);
  EXPECT_TRUE(s->input_errors[0].starts_with(files[1] + ":")) << s->input_errors[0];
  EXPECT_TRUE(s->input_errors[0].ends_with(" (the run's " + std::to_string(files.size() - 2) +
                                           " later part(s) were not replayed, from " + files[2] + ")"))
      << s->input_errors[0];
  EXPECT_EQ(replay_verdict(*s, {}).status, 2);
  for (const std::string& f : files) std::remove(f.c_str());
}

}  // namespace obr::engine
