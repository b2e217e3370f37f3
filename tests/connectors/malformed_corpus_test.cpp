// The malformed-input corpus: frames no venue should send (truncated JSON, wrong types,
// huge numbers, negative or NaN-like quantities, unknown symbols, missing fields, oversized
// frames, binary garbage, invalid UTF-8, nesting bombs), each fed to a session holding two
// live books. Every entry must be counted as exactly one malformed frame with the expected
// error kind and a detail naming what was wrong; the book it names (if it names one) is
// discarded and resubscribed; the connection's other book stays live and keeps applying
// real updates with passing checks.
//
// The JSON parser reads lazily, so a bad token inside a book's levels (NaN, Infinity,
// 1e400) is found while reading that book's numbers: it is a bad number for that book,
// not an unreadable frame. KuCoin prices written as JSON numbers rather than strings are
// accepted (their text is exact either way). A number past what the book's int64 holds at its scale
// (1e400, 92233720368547758070) halts that book instead: a fresh snapshot would fail the
// same way, so it is not resubscribed in a loop.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/kraken/v2_session.h"
#include "connectors/kucoin/spot_session.h"
#include "tests/book/test_data.h"
#include "tests/connectors/session_test_util.h"

namespace obr::connectors {
namespace {

using book::BookState;

struct Case {
  const char* name;
  std::string frame;
  FrameError error;
  bool hits_first_book;  // the frame names the first book: it must be discarded and resynced
  // The first book's state after a frame that names it: resyncing, or halted for a number
  // past the book's int64 range (a fresh snapshot would fail the same way).
  BookState first_book_after = BookState::kResyncing;
};

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// feed_bad_frame: both books live and no error yet; feed the entry; then exactly one
// counted error of the expected kind with a detail, the first book discarded only if the
// frame named it, the second untouched. Returns the second book's checks before the frame.
template <class Session>
std::uint64_t feed_bad_frame(Session& session, obr::testing::RecordingSink& sink, const Case& c, std::int64_t t) {
  EXPECT_EQ(session.book(0).state(), BookState::kLive);
  EXPECT_EQ(session.book(1).state(), BookState::kLive);
  EXPECT_TRUE(sink.errors.empty());
  const std::uint64_t other_checks = session.book(1).counters().checks_passed;
  session.on_frame(c.frame, t, sink);
  EXPECT_EQ(session.malformed_frames(), 1u);
  EXPECT_EQ(sink.errors.size(), 1u);
  if (!sink.errors.empty()) {
    EXPECT_EQ(sink.errors[0], c.error) << "detail: " << sink.details[0];
    EXPECT_FALSE(sink.details[0].empty());
  }
  EXPECT_EQ(session.book(0).state(), c.hits_first_book ? c.first_book_after : BookState::kLive);
  EXPECT_EQ(session.book(1).state(), BookState::kLive);
  return other_checks;
}

// ---- Kraken v2: BTC/USD and ETH/USD live from the real recordings ---------------------

constexpr std::size_t kMaxFrame = 1 << 16;

std::string kraken_update(const std::string& bids) {
  return R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[)" + bids +
         R"(],"asks":[],"checksum":123,"timestamp":"2023-10-06T17:35:55.440295Z"}]})";
}

std::vector<Case> kraken_cases() {
  const std::string good = kraken_update(R"({"price":27410.1,"qty":0.5})");
  return {
      {"truncated_json", good.substr(0, good.size() / 2), FrameError::kNotJson, false},
      {"empty_frame", "", FrameError::kNotJson, false},
      {"binary_garbage", std::string("\x00\xff\xfe\x01\x7f{[", 7), FrameError::kNotJson, false},
      {"invalid_utf8_in_symbol",
       R"({"channel":"book","type":"update","data":[{"symbol":"BTC/)" + std::string("\xc3\x28") +
           R"(","bids":[],"asks":[],"checksum":1}]})",
       FrameError::kNotJson, false},
      // Nested 5000 deep inside the book message: the walk stops at the first entry that
      // is not an object, long before any depth limit.
      {"nesting_bomb", R"({"channel":"book","type":"update","data":)" + repeat("[", 5000) + repeat("]", 5000) + "}",
       FrameError::kUnexpectedShape, false},
      {"nan_quantity", kraken_update(R"({"price":27410.1,"qty":NaN})"), FrameError::kBadNumber, true},
      {"infinity_price", kraken_update(R"({"price":Infinity,"qty":1})"), FrameError::kBadNumber, true},
      {"price_as_string", kraken_update(R"({"price":"27410.1","qty":0.5})"), FrameError::kBadNumber, true},
      {"qty_as_bool", kraken_update(R"({"price":27410.1,"qty":true})"), FrameError::kBadNumber, true},
      {"negative_quantity", kraken_update(R"({"price":27410.1,"qty":-0.5})"), FrameError::kBadNumber, true},
      {"huge_price", kraken_update(R"({"price":1e400,"qty":0.5})"), FrameError::kOutOfRange, true, BookState::kHalted},
      {"price_beyond_int64", kraken_update(R"({"price":92233720368547758070,"qty":0.5})"), FrameError::kOutOfRange,
       true, BookState::kHalted},
      {"too_many_decimals", kraken_update(R"({"price":27410.123456789,"qty":0.5})"), FrameError::kBadNumber, true},
      {"level_not_an_object", kraken_update("[27410.1,0.5]"), FrameError::kUnexpectedShape, true},
      {"missing_checksum", R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[]}]})",
       FrameError::kUnexpectedShape, true},
      {"missing_data", R"({"channel":"book","type":"update"})", FrameError::kUnexpectedShape, false},
      {"data_not_an_array", R"({"channel":"book","type":"update","data":{"symbol":"BTC/USD"}})",
       FrameError::kUnexpectedShape, false},
      {"channel_wrong_type", R"({"channel":7,"type":"update"})", FrameError::kUnexpectedShape, false},
      {"unknown_symbol",
       R"({"channel":"book","type":"update","data":[{"symbol":"DOGE/USD","bids":[],"asks":[],"checksum":1}]})",
       FrameError::kUnknownSymbol, false},
      {"oversized_frame", R"({"channel":"book","pad":")" + std::string(kMaxFrame, 'x') + R"("})", FrameError::kTooLarge,
       false},
  };
}

class KrakenCorpus : public ::testing::TestWithParam<Case> {};

TEST_P(KrakenCorpus, CountedNamedAndTheOtherBookKeepsWorking) {
  const Case& c = GetParam();
  kraken::V2Session session(kraken::V2Config{.depth = 25, .max_frame_bytes = kMaxFrame});
  obr::testing::RecordingSink sink;
  const auto btc =
      obr::testing::lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/btcusd_d25.ndjson")));
  const auto eth =
      obr::testing::lines_of(obr::testing::read_file(obr::testing::data_path("kraken-v2/ethusd_d25.ndjson")));
  session.subscribe({"BTC/USD", "ETH/USD"}, sink);
  for (std::size_t i = 0; i < 3; ++i) session.on_frame(btc[i], 0, sink);  // status, ack, snapshot
  for (std::size_t i = 1; i < 3; ++i) session.on_frame(eth[i], 0, sink);  // ack, snapshot
  const std::uint64_t eth_checks = feed_bad_frame(session, sink, c, 1);
  // The other book keeps working: the next 20 real updates apply with passing checks.
  for (std::size_t i = 3; i < 23; ++i) session.on_frame(eth[i], 2, sink);
  EXPECT_EQ(session.book(1).state(), BookState::kLive);
  EXPECT_EQ(session.book(1).counters().checks_passed, eth_checks + 20);
  EXPECT_EQ(session.book(1).counters().checks_failed, 0u);
  EXPECT_EQ(sink.errors.size(), 1u);  // nothing else went wrong
}

INSTANTIATE_TEST_SUITE_P(Malformed, KrakenCorpus, ::testing::ValuesIn(kraken_cases()),
                         [](const auto& p) { return std::string(p.param.name); });

// ---- KuCoin: BTC-USDT and ETH-USDT live from snapshots and sequenced deltas ------------

class KucoinSink : public obr::testing::RecordingSink {
 public:
  void http_request(const HttpRequest& r) override { requests.push_back(r); }
  std::vector<HttpRequest> requests;
};

constexpr const char* kBullet =
    R"({"code":"200000","data":{"token":"T","instanceServers":[{"endpoint":"wss://ws-api-spot.kucoin.com/","encrypt":true,"protocol":"websocket","pingInterval":18000,"pingTimeout":10000}]}})";

std::string kucoin_delta(const std::string& symbol, std::int64_t seq, const std::string& bids) {
  return R"({"type":"message","topic":"/market/level2:)" + symbol +
         R"(","subject":"trade.l2update","data":{"changes":{"asks":[],"bids":[)" + bids + R"(]},"sequenceEnd":)" +
         std::to_string(seq) + R"(,"sequenceStart":)" + std::to_string(seq) + R"(,"symbol":")" + symbol + R"("}})";
}

std::vector<Case> kucoin_cases() {
  const std::string good = kucoin_delta("BTC-USDT", 3, R"(["100.1","1","3"])");
  return {
      {"truncated_json", good.substr(0, good.size() / 2), FrameError::kNotJson, false},
      {"empty_frame", "", FrameError::kNotJson, false},
      {"binary_garbage", std::string("\x00\xff\xfe\x01\x7f{[", 7), FrameError::kNotJson, false},
      {"invalid_utf8_in_topic", R"({"type":"message","topic":"/market/level2:)" + std::string("\xff\xfe") + R"("})",
       FrameError::kNotJson, false},
      {"nesting_bomb",
       R"({"type":"message","subject":"trade.l2update","data":)" + repeat("[", 5000) + repeat("]", 5000) + "}",
       FrameError::kUnexpectedShape, false},
      {"nan_quantity", kucoin_delta("BTC-USDT", 3, R"(["100.1",NaN,"3"])"), FrameError::kBadNumber, true},
      {"negative_quantity", kucoin_delta("BTC-USDT", 3, R"(["100.1","-1","3"])"), FrameError::kBadNumber, true},
      {"nan_text_quantity", kucoin_delta("BTC-USDT", 3, R"(["100.1","NaN","3"])"), FrameError::kBadNumber, true},
      {"huge_price", kucoin_delta("BTC-USDT", 3, R"(["92233720368547758070","1","3"])"), FrameError::kOutOfRange, true,
       BookState::kHalted},
      {"price_as_bool", kucoin_delta("BTC-USDT", 3, R"([true,"1","3"])"), FrameError::kBadNumber, true},
      {"change_not_an_array", kucoin_delta("BTC-USDT", 3, R"({"price":"100.1"})"), FrameError::kUnexpectedShape, true},
      {"missing_sequence",
       R"({"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update","data":{"symbol":"BTC-USDT","changes":{"asks":[],"bids":[]}}})",
       FrameError::kUnexpectedShape, true},
      {"missing_changes",
       R"({"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update","data":{"symbol":"BTC-USDT","sequenceStart":3,"sequenceEnd":3}})",
       FrameError::kUnexpectedShape, true},
      {"type_wrong_type", R"({"type":5})", FrameError::kUnexpectedShape, false},
      {"unknown_symbol", kucoin_delta("DOGE-USDT", 3, R"(["0.1","1","3"])"), FrameError::kUnknownSymbol, false},
      {"oversized_frame", R"({"type":"message","pad":")" + std::string(kMaxFrame, 'x') + R"("})", FrameError::kTooLarge,
       false},
  };
}

class KucoinCorpus : public ::testing::TestWithParam<Case> {};

TEST_P(KucoinCorpus, CountedNamedAndTheOtherBookKeepsWorking) {
  const Case& c = GetParam();
  kucoin::SpotConfig config;
  config.max_frame_bytes = kMaxFrame;
  kucoin::SpotSession session(config);
  KucoinSink sink;
  session.subscribe({"BTC-USDT", "ETH-USDT"});
  session.start(0, sink);
  ASSERT_EQ(sink.requests.size(), 1u);
  session.on_http_response(sink.requests[0].id, sink.requests[0].url, 200, kBullet, 0, sink);
  session.on_connected(1, sink);
  session.on_frame(R"({"id":"w","type":"welcome"})", 2, sink);
  const std::string& sub = sink.sent.back();
  const std::string id = sub.substr(6, sub.find(',') - 6);
  session.on_frame(R"({"id":")" + id + R"(","type":"ack"})", 3, sink);
  sink.requests.clear();
  // Each book: a delta (buffered), its snapshot at sequence 1, then live.
  for (const std::string symbol : {"BTC-USDT", "ETH-USDT"}) {
    session.on_frame(kucoin_delta(symbol, 2, R"(["100.2","1","2"])"), 4, sink);
    ASSERT_FALSE(sink.requests.empty());
    const HttpRequest r = sink.requests.back();
    sink.requests.clear();
    session.on_http_response(
        r.id, r.url, 200,
        R"({"code":"200000","data":{"time":1,"sequence":"1","bids":[["100.1","2"]],"asks":[["100.3","1"]]}})", 5, sink);
  }
  const std::uint64_t eth_checks = feed_bad_frame(session, sink, c, 6);
  for (std::int64_t seq = 3; seq < 23; ++seq) {
    session.on_frame(
        kucoin_delta("ETH-USDT", seq, R"(["99.)" + std::to_string(seq) + R"(","1",")" + std::to_string(seq) + R"("])"),
        7, sink);
  }
  EXPECT_EQ(session.book(1).state(), BookState::kLive);
  EXPECT_EQ(session.book(1).counters().checks_passed, eth_checks + 20);
  EXPECT_EQ(session.info(1).sequence, 22);
  EXPECT_EQ(sink.errors.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Malformed, KucoinCorpus, ::testing::ValuesIn(kucoin_cases()),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace obr::connectors
