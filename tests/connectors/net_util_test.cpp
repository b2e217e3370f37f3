// tests/connectors/net_util_test.cpp — URL parsing, reconnect backoff and the REST token
// bucket (connectors/net, header-only parts).
#include <gtest/gtest.h>

#include <limits>

#include "connectors/net/backoff.h"
#include "connectors/net/url.h"

namespace {

using obr::net::Backoff;
using obr::net::BackoffConfig;
using obr::net::parse_url;
using obr::net::TokenBucket;
using obr::net::Url;

TEST(Url, SplitsTheVenueEndpoints) {
  Url u;
  ASSERT_TRUE(parse_url("wss://ws.kraken.com/v2", u));
  EXPECT_EQ(u.scheme, "wss");
  EXPECT_EQ(u.host, "ws.kraken.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/v2");
  EXPECT_TRUE(u.tls);
  ASSERT_TRUE(parse_url("wss://ws-api-spot.kucoin.com/?token=abc&connectId=x1", u));
  EXPECT_EQ(u.target, "/?token=abc&connectId=x1");
  ASSERT_TRUE(parse_url("ws://127.0.0.1:8080", u));
  EXPECT_EQ(u.port, "8080");
  EXPECT_EQ(u.target, "/");
  EXPECT_FALSE(u.tls);
  ASSERT_TRUE(parse_url("https://[::1]:9443/api?x=1", u));
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "9443");
  EXPECT_EQ(u.target, "/api?x=1");
  ASSERT_TRUE(parse_url("http://h?q=1", u));
  EXPECT_EQ(u.target, "/?q=1");
  EXPECT_EQ(u.port, "80");
}

TEST(Url, RefusesWhatIsNotAUsableUrl) {
  Url u;
  EXPECT_FALSE(parse_url("ftp://host/", u));
  EXPECT_FALSE(parse_url("ws.kraken.com/v2", u));
  EXPECT_FALSE(parse_url("wss:///v2", u));
  EXPECT_FALSE(parse_url("wss://host:0/", u));
  EXPECT_FALSE(parse_url("wss://host:65536/", u));
  EXPECT_FALSE(parse_url("wss://host:12a/", u));
  EXPECT_FALSE(parse_url("wss://[::1/", u));
}

TEST(Backoff, FullJitterUnderAnExponentialCeilingWithACap) {
  BackoffConfig c;
  c.base_ns = 100;
  c.cap_ns = 1000;
  c.stable_ns = 5000;
  Backoff b(c);
  EXPECT_EQ(b.ceiling_ns(0), 100);
  EXPECT_EQ(b.ceiling_ns(1), 200);
  EXPECT_EQ(b.ceiling_ns(3), 800);
  EXPECT_EQ(b.ceiling_ns(4), 1000);
  EXPECT_EQ(b.ceiling_ns(60), 1000);
  // Every delay within [0, ceiling(attempt)], and not all equal (jitter).
  bool varied = false;
  std::int64_t first = -1;
  for (int i = 0; i < 200; ++i) {
    const std::int64_t ceiling = b.ceiling_ns(b.attempts());
    const std::int64_t d = b.next(0);
    ASSERT_GE(d, 0);
    ASSERT_LE(d, ceiling);
    if (first < 0) first = d;
    if (d != first) varied = true;
  }
  EXPECT_TRUE(varied);
  EXPECT_EQ(b.attempts(), 200);
}

// Doubling stops at the cap: near the end of int64 it never overflows (2^62 doubled was
// signed overflow before).
TEST(Backoff, ACeilingNearInt64StopsAtTheCap) {
  BackoffConfig c;
  c.base_ns = std::int64_t{1} << 62;
  c.cap_ns = std::numeric_limits<std::int64_t>::max();
  Backoff b(c);
  EXPECT_EQ(b.ceiling_ns(0), std::int64_t{1} << 62);
  EXPECT_EQ(b.ceiling_ns(1), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(b.ceiling_ns(40), std::numeric_limits<std::int64_t>::max());
}

TEST(Backoff, AStableConnectionResetsTheAttempts) {
  BackoffConfig c;
  c.base_ns = 100;
  c.cap_ns = 100000;
  c.stable_ns = 5000;
  Backoff b(c);
  for (int i = 0; i < 5; ++i) b.next(0);
  b.connected(1000);
  b.next(3000);  // lasted 2000 < 5000: the count goes on
  EXPECT_EQ(b.attempts(), 6);
  b.connected(10000);
  const std::int64_t d = b.next(20000);  // lasted 10000: reset first
  EXPECT_EQ(b.attempts(), 1);
  EXPECT_LE(d, 100);
}

TEST(Backoff, SameSeedSameDelays) {
  Backoff a(BackoffConfig{}), b(BackoffConfig{});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.next(0), b.next(0));
}

TEST(TokenBucket, BurstThenRateThenRetryAfter) {
  TokenBucket t(10.0, 2.0);  // 10/s, burst 2
  EXPECT_EQ(t.acquire(1'000'000'000), 0);
  EXPECT_EQ(t.acquire(1'000'000'000), 0);
  const std::int64_t wait = t.acquire(1'000'000'000);
  EXPECT_GT(wait, 99'000'000);  // one token takes 100 ms
  EXPECT_LE(wait, 100'000'001);
  EXPECT_EQ(t.acquire(1'100'000'001), 0);
  t.block_until(3'000'000'000);  // a 429 with Retry-After
  EXPECT_EQ(t.acquire(2'000'000'000), 1'000'000'000);
  EXPECT_EQ(t.acquire(3'000'000'000), 0);  // refilled over the block
}

// A rate so low that the wait for one token is past int64 ns (the cast overflowed, UB):
// the wait is reported as INT64_MAX.
TEST(TokenBucket, AWaitPastInt64IsTheLongestWait) {
  TokenBucket t(1e-12, 1.0);
  EXPECT_EQ(t.acquire(1), 0);
  EXPECT_EQ(t.acquire(2), std::numeric_limits<std::int64_t>::max());
  TokenBucket slow(0.5, 1.0);  // one a 2 s: still exact
  EXPECT_EQ(slow.acquire(1), 0);
  EXPECT_EQ(slow.acquire(1), 2'000'000'001);
}

}  // namespace
