// connectors/net/backoff.h — reconnect delays (exponential backoff with full jitter) and a
// token bucket for REST requests.
//
//   obr::net::Backoff backoff({.base_ns = 500'000'000, .cap_ns = 30'000'000'000});
//   std::int64_t wait_ns = backoff.next(now_ns);   // uniform in [0, min(cap, base * 2^n)]
//   backoff.connected(now_ns);                     // a stable connection resets n later
//
// Full jitter (a uniform draw between zero and the exponential ceiling) spreads a crowd of
// clients that lost the same server, so their reconnects do not arrive together.
// Header-only, no Boost; deterministic for a seed (tests and replay).
//
// Thread-safety: none; one per connection, used from its thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "connectors/protocol/session.h"

namespace obr::net {

struct BackoffConfig {
  std::int64_t base_ns = 500'000'000;       // ceiling of the first delay
  std::int64_t cap_ns = 30'000'000'000;     // ceiling never exceeds this
  std::int64_t stable_ns = 60'000'000'000;  // connected this long → attempts reset to 0
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
};

class Backoff {
 public:
  explicit Backoff(const BackoffConfig& config) : config_(config), state_(config.seed | 1) {}

  // next returns the delay before the next attempt and counts the attempt.
  std::int64_t next(std::int64_t now_ns) noexcept {
    settle(now_ns);
    connected_since_ns_ = -1;
    const std::int64_t ceiling = ceiling_ns(attempts_);
    ++attempts_;
    if (ceiling <= 0) return 0;
    return static_cast<std::int64_t>(random() % (static_cast<std::uint64_t>(ceiling) + 1));
  }

  // connected notes a successful connection; attempts reset once it has lasted stable_ns.
  void connected(std::int64_t now_ns) noexcept { connected_since_ns_ = now_ns; }

  // ceiling_ns is the upper bound of the delay for attempt `n` (0-based).
  std::int64_t ceiling_ns(int n) const noexcept {
    std::int64_t c = config_.base_ns;
    for (int i = 0; i < n && c < config_.cap_ns; ++i) c = connectors::saturating_mul(c, 2);
    return std::min(c, config_.cap_ns);
  }

  int attempts() const noexcept { return attempts_; }

 private:
  void settle(std::int64_t now_ns) noexcept {
    if (connected_since_ns_ >= 0 && now_ns - connected_since_ns_ >= config_.stable_ns) attempts_ = 0;
  }
  std::uint64_t random() noexcept {  // xorshift64*
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }

  BackoffConfig config_;
  std::uint64_t state_;
  int attempts_ = 0;
  std::int64_t connected_since_ns_ = -1;
};

// TokenBucket allows `burst` requests at once and `rate_per_s` sustained. A 429/418 answer
// blocks every request until the venue's Retry-After has passed. rate_per_s > 0 and
// burst >= 1 (the config file keeps them within 0.01..1e6 and 1..1e6); a wait longer than
// int64 nanoseconds is reported as INT64_MAX.
class TokenBucket {
 public:
  TokenBucket(double rate_per_s, double burst) : rate_(rate_per_s), burst_(burst), tokens_(burst) {}

  // acquire: 0 when a request of `cost` tokens (its weight; more than the burst counts as
  // the burst) may go now, and takes them; else how long to wait.
  std::int64_t acquire(std::int64_t now_ns, double cost = 1.0) noexcept {
    refill(now_ns);
    if (now_ns < blocked_until_ns_) return blocked_until_ns_ - now_ns;
    cost = std::min(cost, burst_);
    if (tokens_ >= cost) {
      tokens_ -= cost;
      return 0;
    }
    const double wait_ns = (cost - tokens_) / rate_ * 1e9;
    // 9.2e18 is below INT64_MAX (9.22e18) and exact as a double: the cast stays in range.
    return wait_ns < 9.2e18 ? static_cast<std::int64_t>(wait_ns) + 1 : std::numeric_limits<std::int64_t>::max();
  }

  // block_until: the venue said "too many requests"; nothing goes before `until_ns`.
  void block_until(std::int64_t until_ns) noexcept {
    blocked_until_ns_ = std::max(blocked_until_ns_, until_ns);
    tokens_ = 0;
  }

 private:
  void refill(std::int64_t now_ns) noexcept {
    if (last_ns_ != 0 && now_ns > last_ns_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ns - last_ns_) * rate_ / 1e9);
    }
    last_ns_ = now_ns;
  }

  double rate_;
  double burst_;
  double tokens_;
  std::int64_t last_ns_ = 0;
  std::int64_t blocked_until_ns_ = 0;
};

}  // namespace obr::net
