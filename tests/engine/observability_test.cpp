// /health and /metrics content, the latency histogram and the consolidated best bid and
// offer: exact values from known inputs.
#include "engine/observability.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/consolidated.h"
#include "engine/latency_histogram.h"

namespace obr::engine {
namespace {

using book::BookState;

TEST(LatencyHistogram, BucketsAreLogLinearWithExactUpperBounds) {
  EXPECT_EQ(LatencyHistogram::index(0), 0u);
  EXPECT_EQ(LatencyHistogram::index(7), 7u);
  EXPECT_EQ(LatencyHistogram::index(8), 8u);
  EXPECT_EQ(LatencyHistogram::index(15), 15u);
  EXPECT_EQ(LatencyHistogram::index(16), 16u);
  EXPECT_EQ(LatencyHistogram::index(17), 16u);
  EXPECT_EQ(LatencyHistogram::upper_bound(16), 17u);
  // Every value lies in its bucket: below or at the upper bound, above the previous one.
  for (std::uint64_t v : {1ull, 9ull, 100ull, 1000ull, 12345ull, 999999ull, 1ull << 40}) {
    const std::size_t i = LatencyHistogram::index(v);
    EXPECT_LE(v, LatencyHistogram::upper_bound(i)) << v;
    EXPECT_GT(v, LatencyHistogram::upper_bound(i - 1)) << v;
    EXPECT_LE(LatencyHistogram::upper_bound(i), v + v / 8) << v;  // at most 12.5% above
  }
}

TEST(LatencyHistogram, QuantilesAndPrometheusBuckets) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile(0.5), 0u);
  for (int i = 1; i <= 100; ++i) h.record(i * 1000);  // 1 µs … 100 µs
  h.record(-5);                                       // clock step: counted as 0
  EXPECT_EQ(h.count(), 101u);
  EXPECT_EQ(h.max_ns(), 100000u);
  EXPECT_EQ(h.sum_ns(), 5050000u);
  // rank 50 of 0, 1000 … 100000 is 50000, in the bucket [49152, 53247] (width 2^15 / 8).
  EXPECT_EQ(h.quantile(0.5), 53247u);
  EXPECT_EQ(h.quantile(1.0), 100000u);  // capped at the maximum seen
  EXPECT_EQ(h.cumulative_le(0), 2u);    // 0 and 1 µs are <= 1 µs
  EXPECT_EQ(h.cumulative_le(1), 3u);    // <= 2 µs
  EXPECT_EQ(h.cumulative_le(6), 101u);  // <= 100 µs
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (int i = 1; i <= 60; ++i) {
    a.record(i * 1000);
    all.record(i * 1000);
  }
  for (int i = 61; i <= 100; ++i) {
    b.record(i * 1000);
    all.record(i * 1000);
  }
  b.record(3'000'000);
  all.record(3'000'000);
  a.merge(b);
  EXPECT_EQ(a.count(), 101u);
  EXPECT_EQ(a.sum_ns(), 8'050'000u);
  EXPECT_EQ(a.max_ns(), 3'000'000u);
  EXPECT_EQ(a.quantile(0.5), all.quantile(0.5));
  EXPECT_EQ(a.quantile(0.5), 53247u);
  EXPECT_EQ(a.quantile(0.99), 106495u);  // rank 99 of 101 is 100 µs, in [98304, 106495]
  for (std::size_t i = 0; i < LatencyHistogram::kBoundsNs.size(); ++i)
    EXPECT_EQ(a.cumulative_le(i), all.cumulative_le(i));
  EXPECT_EQ(a.cumulative_le(9), 100u);  // <= 1 ms: all but the 3 ms one
}

TopOfBook top(BookState state, std::int64_t bid, std::int64_t ask, int scale) {
  TopOfBook t;
  t.state = state;
  t.price_scale = scale;
  t.qty_scale = 8;
  t.bids[0] = {bid, 100};
  t.asks[0] = {ask, 200};
  t.bid_count = 1;
  t.ask_count = 1;
  return t;
}

TEST(Consolidated, BestAcrossScalesFromLiveBooksOnly) {
  EXPECT_EQ(compare_prices(450001, 1, 45000100, 3), 0);  // 45000.1 == 45000.100
  EXPECT_LT(compare_prices(450001, 1, 45000101, 3), 0);
  EXPECT_GT(compare_prices(9'000'000'000'000'000'000, 0, 1, 18), 0);  // no overflow
  const std::vector<TopOfBook> tops = {
      top(BookState::kLive, 450001, 450003, 1),      // 45000.1 / 45000.3
      top(BookState::kLive, 45000200, 45000250, 3),  // 45000.2 / 45000.25: best both sides
      top(BookState::kStale, 460000, 440000, 1),     // would be best, but not live
  };
  const ConsolidatedBbo b = consolidate(tops);
  EXPECT_EQ(b.books_total, 3u);
  EXPECT_EQ(b.books_live, 2u);
  ASSERT_TRUE(b.bid.valid);
  EXPECT_EQ(b.bid.book, 1u);
  EXPECT_EQ(b.bid.level.price, 45000200);
  EXPECT_EQ(b.bid.price_scale, 3);
  ASSERT_TRUE(b.ask.valid);
  EXPECT_EQ(b.ask.book, 1u);
  EXPECT_EQ(b.ask.level.price, 45000250);
  // Ties go to the first listed; nothing live means no quote.
  const ConsolidatedBbo tie = consolidate({top(BookState::kLive, 10, 20, 0), top(BookState::kLive, 100, 200, 1)});
  EXPECT_EQ(tie.bid.book, 0u);
  EXPECT_EQ(tie.ask.book, 0u);
  const ConsolidatedBbo none = consolidate({top(BookState::kResyncing, 1, 2, 0)});
  EXPECT_FALSE(none.bid.valid);
  EXPECT_FALSE(none.ask.valid);
  EXPECT_EQ(none.books_live, 0u);
}

TEST(Health, OkOnlyWhenEveryBookIsLive) {
  std::vector<BookStatus> books(2);
  books[0].venue = "kraken";
  books[0].symbol = "BTC/USD";
  books[0].state = BookState::kLive;
  books[1].venue = "kucoin";
  books[1].symbol = "BTC-USDT";
  books[1].state = BookState::kResyncing;
  HealthReport r = render_health(books);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body,
            "{\"status\":\"degraded\",\"live\":1,\"books\":[{\"venue\":\"kraken\",\"symbol\":\"BTC/USD\",\"state\":"
            "\"live\"},{\"venue\":\"kucoin\",\"symbol\":\"BTC-USDT\",\"state\":\"resyncing\"}]}\n");
  books[1].state = BookState::kLive;
  r = render_health(books);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.substr(0, 25), "{\"status\":\"ok\",\"live\":2,\"");
  EXPECT_EQ(render_health({}).status, 503);  // nothing subscribed is not healthy
}

TEST(Metrics, PrometheusTextWithEveryFamily) {
  EngineStats s;
  s.frames = 12;
  s.bytes = 3456;
  s.malformed = 1;
  s.reconnects = 2;
  s.rotations = 3;
  s.rotations_dropped = 1;
  std::vector<BookStatus> books(1);
  books[0].venue = "kraken";
  books[0].symbol = "BTC/USD";
  books[0].state = BookState::kLive;
  books[0].counters.updates = 10;
  books[0].counters.checks_passed = 9;
  books[0].counters.checks_failed = 1;
  books[0].counters.resyncs_requested = 1;
  LatencyHistogram h;
  h.record(1500);
  h.record(3'000'000);
  const std::string m = render_metrics(s, books, h);
  for (const char* line : {
           "# TYPE obr_frames_total counter\nobr_frames_total 12\n",
           "\nobr_bytes_total 3456\n",
           "\nobr_malformed_frames_total 1\n",
           "\nobr_reconnects_total 2\n",
           "\nobr_rotations_total 3\n",
           "\nobr_rotations_dropped_total 1\n",
           "\nobr_book_updates_total{venue=\"kraken\",symbol=\"BTC/USD\"} 10\n",
           "\nobr_book_checks_passed_total{venue=\"kraken\",symbol=\"BTC/USD\"} 9\n",
           "\nobr_book_checks_failed_total{venue=\"kraken\",symbol=\"BTC/USD\"} 1\n",
           "\nobr_book_resyncs_total{venue=\"kraken\",symbol=\"BTC/USD\"} 1\n",
           "\nobr_book_state{venue=\"kraken\",symbol=\"BTC/USD\",state=\"live\"} 1\n",
           "\nobr_book_state{venue=\"kraken\",symbol=\"BTC/USD\",state=\"stale\"} 0\n",
           "# TYPE obr_update_latency_seconds histogram\n",
           "\nobr_update_latency_seconds_bucket{le=\"1e-06\"} 0\n",
           "\nobr_update_latency_seconds_bucket{le=\"2e-06\"} 1\n",
           "\nobr_update_latency_seconds_bucket{le=\"0.002\"} 1\n",
           "\nobr_update_latency_seconds_bucket{le=\"0.005\"} 2\n",
           "\nobr_update_latency_seconds_bucket{le=\"+Inf\"} 2\n",
           "\nobr_update_latency_seconds_sum 0.0030015\n",
           "\nobr_update_latency_seconds_count 2\n",
       }) {
    EXPECT_NE(m.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(m.back(), '\n');
  EXPECT_EQ(m.find("obr_venue_status"), std::string::npos);  // no venue reported a status
}

// The last trading status each venue reported, one gauge per venue (a restricted status
// such as cancel_only leaves the books live; /metrics shows why trading is restricted).
TEST(Metrics, VenueStatusIsTheLastOneEachVenueReported) {
  VenueStatuses statuses;
  set_venue_status(statuses, "kraken", "online");
  set_venue_status(statuses, "kraken-v1", "online");
  set_venue_status(statuses, "kraken", "cancel_only");
  const std::string m = render_metrics(EngineStats{}, {}, LatencyHistogram{}, statuses);
  EXPECT_NE(m.find("# TYPE obr_venue_status gauge\nobr_venue_status{venue=\"kraken\",status=\"cancel_only\"} 1\n"
                   "obr_venue_status{venue=\"kraken-v1\",status=\"online\"} 1\n"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("status=\"online\"} 1\nobr_venue_status{venue=\"kraken\""), std::string::npos);
}

// An error reaches the listener structured; its text has no empty field: a venue's
// refusal that names no symbol reads "kraken: message", not "kraken: : message".
TEST(EngineError, TextHasNoEmptyField) {
  EXPECT_EQ(to_string(EngineError{"kraken", "", ErrorKind::kVenue, "Currency pair not supported"}),
            "kraken: Currency pair not supported");
  EXPECT_EQ(to_string(EngineError{"kucoin", "BTC-USDT", ErrorKind::kVenue, "order book snapshot: HTTP error 500"}),
            "kucoin: BTC-USDT: order book snapshot: HTTP error 500");
  EXPECT_EQ(to_string(ErrorKind::kCapacity), "capacity");
}

}  // namespace
}  // namespace obr::engine
