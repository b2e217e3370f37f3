// The strict scanner for Kraken v2's compact book frames (connectors/kraken/v2_book_frame.h)
// against simdjson: exact fields on known frames, refusals of every other spelling, and
// two V2Sessions — one with the scanner, one reading every frame with simdjson — fed the
// real recordings and mutations of them must report exactly the same events and books.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "book/decimal.h"
#include "connectors/kraken/v2_book_frame.h"
#include "connectors/kraken/v2_session.h"
#include "connectors/protocol/frame_buffer.h"
#include "tests/book/test_data.h"
#include "tests/connectors/session_test_util.h"

namespace obr::connectors::kraken {
namespace {

using detail::CompactBookFrame;
using detail::RawLevel;
using detail::scan_compact_book_frame;
using obr::testing::lines_of;

// Scan holds one frame in a padded buffer, as the session does, and the scanner's output.
struct Scan {
  FrameBuffer buffer{simdjson::SIMDJSON_PADDING};
  CompactBookFrame frame;
  std::vector<RawLevel> bids, asks;
  bool operator()(std::string_view text) {
    buffer.load(text);
    return scan_compact_book_frame(std::string_view(buffer.data(), buffer.size()), frame, bids, asks);
  }
};

std::vector<std::pair<std::string, std::string>> texts(const std::vector<RawLevel>& levels) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const RawLevel& l : levels) out.emplace_back(std::string(l.price), std::string(l.qty));
  return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(KrakenV2BookFrame, ReadsTheFieldsOfAnUpdate) {
  Scan scan;
  ASSERT_TRUE(scan(
      R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":63395.2,"qty":0.05500000}],"checksum":261162761,"timestamp":"2026-08-02T03:35:51.661460Z"}]})"));
  EXPECT_FALSE(scan.frame.snapshot);
  EXPECT_EQ(scan.frame.symbol, "BTC/USD");
  EXPECT_EQ(scan.frame.checksum, 261162761u);
  EXPECT_TRUE(scan.bids.empty());
  EXPECT_EQ(texts(scan.asks), (Pairs{{"63395.2", "0.05500000"}}));
}

TEST(KrakenV2BookFrame, ReadsASnapshotWithoutTimestampAndEveryNumberForm) {
  Scan scan;
  ASSERT_TRUE(scan(
      R"({"channel":"book","type":"snapshot","data":[{"symbol":"X","bids":[{"price":0,"qty":-0.5},{"price":4.8E-7,"qty":1e+08}],"asks":[{"price":10,"qty":2.5e-3}],"checksum":0}]})"));
  EXPECT_TRUE(scan.frame.snapshot);
  EXPECT_EQ(scan.frame.symbol, "X");
  EXPECT_EQ(scan.frame.checksum, 0u);
  EXPECT_EQ(texts(scan.bids), (Pairs{{"0", "-0.5"}, {"4.8E-7", "1e+08"}}));
  EXPECT_EQ(texts(scan.asks), (Pairs{{"10", "2.5e-3"}}));
  // The largest checksum it takes: 19 digits.
  ASSERT_TRUE(scan(
      R"({"channel":"book","type":"update","data":[{"symbol":"X","bids":[],"asks":[],"checksum":9999999999999999999}]})"));
  EXPECT_EQ(scan.frame.checksum, 9999999999999999999u);
}

// Everything else goes to simdjson: other spellings of valid JSON and invalid JSON alike.
TEST(KrakenV2BookFrame, RefusesEveryOtherSpelling) {
  const std::string head = R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[)";
  const std::string tail = R"(],"asks":[],"checksum":1,"timestamp":"t"}]})";
  Scan scan;
  ASSERT_TRUE(scan(head + R"({"price":1.5,"qty":2})" + tail));
  for (const char* level : {
           R"({"price": 1.5,"qty":2})",  // whitespace
           R"({"qty":2,"price":1.5})",   // key order
           R"({"price":01.5,"qty":2})",  // leading zero
           R"({"price":1.,"qty":2})",    // no digit after the point
           R"({"price":.5,"qty":2})",    // no digit before it
           R"({"price":1e,"qty":2})",    // empty exponent
           R"({"price":1e+,"qty":2})",
           R"({"price":+1,"qty":2})",  // plus sign
           R"({"price":-,"qty":2})",
           R"({"price":"1.5","qty":2})",                   // a string
           R"({"price":1.5,"qty":2,"x":1})",               // another field
           R"({"price":1.5,"qty":2}])",                    // a bracket too many
           R"({"price":1.5,"qty":2},)",                    // a trailing comma
           R"({"price":1.5,"qty":2}{"price":1,"qty":1})",  // a missing comma
           R"({"price":NaN,"qty":2})",
       }) {
    EXPECT_FALSE(scan(head + level + tail)) << level;
  }
  for (
      const std::string& frame : {
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC\/USD","bids":[],"asks":[],"checksum":1}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":01}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":-1}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":10000000000000000000}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1.5}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":}]})"),
          std::string(
              R"({"channel":"book","type":"Update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","asks":[],"bids":[],"checksum":1}]})"),
          std::string(R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"checksum":1}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1},{"symbol":"X","bids":[],"asks":[],"checksum":1}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1,"timestamp":"a\"b"}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1,"timestamp":"a\tb"}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1,"timestamp":1}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1}]} )"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1}]})") +
              "\n",
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1}]}})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1}])"),
          std::string(R"({"channel":"book","type":"update","data":[{"symbol":"BTC)") + "\xc3\xa9" +
              R"(","bids":[],"asks":[],"checksum":1}]})",
          std::string(R"({"channel":"book","type":"update","data":[{"symbol":"BTC)") + std::string(1, '\0') +
              R"(","bids":[],"asks":[],"checksum":1}]})",
          std::string(
              R"({ "channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1}]})"),
          // A bad byte or the closing quote beyond the first 16 bytes of a string.
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1,"timestamp":"2026-08-02T03:35:5)") +
              "\x01" + R"("}]})",
          std::string(R"({"channel":"book","type":"update","data":[{"symbol":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123)") +
              "\xff" + R"(","bids":[],"asks":[],"checksum":1}]})",
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123\u0041","bids":[],"asks":[],"checksum":1}]})"),
          std::string(
              R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":1,"timestamp":"2026-08-02T03:35:51.661460Z)"),
      }) {
    EXPECT_FALSE(scan(frame)) << frame;
  }
}

// No proper prefix of an accepted frame is accepted: a frame cut anywhere goes to simdjson.
TEST(KrakenV2BookFrame, RefusesEveryPrefixOfAnAcceptedFrame) {
  const std::string frame =
      R"({"channel":"book","type":"snapshot","data":[{"symbol":"ETH/USD","bids":[{"price":3120.55,"qty":1.25000000},{"price":3120.1,"qty":4e-8}],"asks":[{"price":3121,"qty":0.5}],"checksum":1234567890,"timestamp":"2026-08-02T03:35:51.661460Z"}]})";
  Scan scan;
  ASSERT_TRUE(scan(frame));
  for (std::size_t n = 0; n < frame.size(); ++n) EXPECT_FALSE(scan(frame.substr(0, n))) << n;
}

// LogSink writes every event a session reports, with the book's top 10, as text lines.
class LogSink : public SessionSink {
 public:
  void send_frame(std::string_view f) override { log.push_back("send " + std::string(f)); }
  void book_updated(BookId id, std::string_view symbol, const book::OrderBook& ob, bool top_changed) override {
    // Appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) on a chain of operator+.
    std::string line = "book ";
    for (const std::string& part : {std::to_string(id), std::string(symbol), std::string(top_changed ? "top" : "deep"),
                                    std::to_string(ob.bids().size()), std::to_string(ob.asks().size())}) {
      line.append(part).append(" ");
    }
    for (bool bids : {true, false}) {
      for (const auto& level : obr::testing::top10(ob, bids)) {
        line.append(level[0]).append("@").append(level[1]).append(" ");
      }
      line.append("| ");
    }
    log.push_back(line);
  }
  void book_state_changed(BookId id, std::string_view, book::BookState from, book::BookState to,
                          StateReason why) override {
    log.push_back("state " + std::to_string(id) + " " + std::to_string(static_cast<int>(from)) + ">" +
                  std::to_string(static_cast<int>(to)) + " " + std::to_string(static_cast<int>(why)));
  }
  void frame_error(FrameError e, std::string_view d) override {
    log.push_back("error " + std::to_string(static_cast<int>(e)) + " " + std::string(d));
  }
  void venue_error(std::string_view s, std::string_view m) override {
    log.push_back("venue " + std::string(s) + " " + std::string(m));
  }
  std::vector<std::string> log;
};

// Pair: the same session twice, with the scanner and without.
struct Pair {
  explicit Pair(V2Config config) : fast(with(config, true)), reference(with(config, false)) {}
  static V2Config with(V2Config c, bool scanner) {
    c.compact_scanner = scanner;
    return c;
  }
  void feed(std::string_view frame, std::int64_t t) {
    fast.on_frame(frame, t, fast_sink);
    reference.on_frame(frame, t, reference_sink);
  }
  V2Session fast, reference;
  LogSink fast_sink, reference_sink;
};

const char* const kRecordings[] = {"btcusd_d10_resubscribe", "btcusd_d25", "ethusd_d25", "xrpusd_d25"};

std::vector<std::string> recording(const std::string& name) {
  return lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/" + name + ".ndjson")));
}

TEST(KrakenV2BookFrame, TheRecordingsReadTheSameWithAndWithoutTheScanner) {
  std::size_t books = 0, heartbeats = 0, others = 0;
  Scan scan;
  for (const char* name : kRecordings) {
    Pair pair(V2Config{.depth = 10, .track_any_symbol = true});
    std::int64_t t = 0;
    for (const std::string& line : recording(name)) {
      if (scan(line)) {
        ++books;
      } else if (detail::is_compact_heartbeat(line)) {
        ++heartbeats;
      } else {
        ++others;
      }
      pair.feed(line, ++t);
    }
    EXPECT_EQ(pair.fast_sink.log, pair.reference_sink.log) << name;
    EXPECT_EQ(pair.fast.malformed_frames(), 0u);
    EXPECT_EQ(pair.fast.heartbeats(), pair.reference.heartbeats());
    ASSERT_EQ(pair.fast.book_count(), 1u);
    EXPECT_EQ(pair.fast.book(0).counters().checks_passed, pair.reference.book(0).counters().checks_passed);
    EXPECT_EQ(pair.fast.book(0).counters().checks_failed, 0u);
  }
  // Every book message of the four recordings is compact (4 629 = 2 525 + 2 091 + 8 + 5 by
  // shape), as is every heartbeat; only the 22 subscription acks go to simdjson.
  EXPECT_EQ(books, 4629u);
  EXPECT_EQ(heartbeats, 192u);
  EXPECT_EQ(others, 22u);
}

// Without track_any_symbol a compact frame for a symbol nobody subscribed is an error
// naming the symbol, on both paths; the subscribed book is untouched.
TEST(KrakenV2BookFrame, AnUnknownSymbolIsTheSameErrorOnBothPaths) {
  Pair pair(V2Config{.depth = 10, .track_any_symbol = false});
  pair.fast.subscribe({"BTC/USD"}, pair.fast_sink);
  pair.reference.subscribe({"BTC/USD"}, pair.reference_sink);
  const std::string frame =
      R"({"channel":"book","type":"update","data":[{"symbol":"DOGE/USD","bids":[],"asks":[{"price":0.1,"qty":5}],"checksum":7}]})";
  Scan scan;
  ASSERT_TRUE(scan(frame));
  pair.feed(frame, 1);
  pair.feed(R"({"channel":"book","type":"update","data":[{"symbol":"","bids":[],"asks":[],"checksum":7}]})", 2);
  EXPECT_EQ(pair.fast_sink.log, pair.reference_sink.log);
  ASSERT_GE(pair.fast_sink.log.size(), 2u);
  const std::string unknown = "error " + std::to_string(static_cast<int>(FrameError::kUnknownSymbol));
  EXPECT_EQ(pair.fast_sink.log[pair.fast_sink.log.size() - 2], unknown + " DOGE/USD");
  EXPECT_EQ(pair.fast_sink.log.back(), unknown + " (empty symbol)");
  EXPECT_EQ(pair.fast.malformed_frames(), 2u);
  EXPECT_EQ(pair.fast.book_count(), 1u);
}

// Mutations of real frames — a byte replaced, deleted, inserted or doubled — fed to both
// sessions after the recording's snapshot: the same events, errors and books.
TEST(KrakenV2BookFrame, MutatedFramesReadTheSameWithAndWithoutTheScanner) {
  const std::vector<std::string> lines = recording("btcusd_d25");
  std::size_t snapshot = 0;
  while (lines[snapshot].find(R"("type":"snapshot")") == std::string::npos) ++snapshot;
  std::mt19937_64 rng(20261121);
  // JSON's punctuation and number characters, letters, and bytes strings may not hold:
  // control characters, NUL, DEL and bytes above 0x7F.
  std::string alphabet = R"({}[]:,"\ 0123456789.-+eE abcdefghijklmnopqrstuvwxyz/)";
  alphabet += std::string("\x00\x01\x1f\x7f\x80\xc3\xff", 7);
  std::size_t accepted = 0, trials = 0;
  Scan scan;
  for (; trials < 6000; ++trials) {
    Pair pair(V2Config{.depth = 25, .track_any_symbol = true});
    for (std::size_t i = 0; i <= snapshot; ++i) pair.feed(lines[i], 1);
    std::string frame = lines[snapshot + 1 + rng() % (lines.size() - snapshot - 1)];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && !frame.empty(); ++k) {
      const std::size_t at = rng() % frame.size();
      const char c = alphabet[rng() % alphabet.size()];
      const std::string before = frame.substr(0, at), rest = frame.substr(at);
      switch (rng() % 4) {
        case 0:
          frame = before + c + rest.substr(1);
          break;  // replaced
        case 1:
          frame = before + rest.substr(1);
          break;  // deleted
        case 2:
          frame = before + c + rest;
          break;  // inserted
        default:
          frame = before + rest.substr(0, 1) + rest;
          break;  // doubled
      }
    }
    if (scan(frame)) ++accepted;
    pair.feed(frame, 2);
    ASSERT_EQ(pair.fast_sink.log, pair.reference_sink.log) << frame;
    ASSERT_EQ(pair.fast.malformed_frames(), pair.reference.malformed_frames()) << frame;
  }
  // Both kinds were exercised: frames the scanner read (a digit changed: the checksum
  // check decides) and frames it left to simdjson.
  EXPECT_GT(accepted, trials / 10);
  EXPECT_LT(accepted, trials * 9 / 10);
}

}  // namespace
}  // namespace obr::connectors::kraken
