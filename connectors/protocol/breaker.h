// connectors/protocol/breaker.h — the circuit breaker every venue's books share
// (docs/architecture.md "Shared pieces"): after a number of failed checks in a row a book
// halts for a backoff that doubles per trip, up to a cap. BookRegistry::fail
// (book_registry.h) drives it; a venue's configuration names its BreakerConfig.
//
// Thread-safety: none; owned by one session.
#pragma once

#include <algorithm>
#include <cstdint>

#include "connectors/protocol/session.h"

namespace obr::connectors {

// BreakerConfig: after `failures` failed checks in a row a book halts for `backoff_ns`,
// doubled per trip up to `backoff_max_ns` (equal values: a fixed halt).
struct BreakerConfig {
  int failures = 3;
  std::int64_t backoff_ns = 1'000'000'000;
  std::int64_t backoff_max_ns = 60'000'000'000;
};

// CircuitBreaker: one book's failures in a row, and the retry a trip scheduled.
struct CircuitBreaker {
  int consecutive_failures = 0;
  int trips = 0;
  std::int64_t retry_at_ns = 0;
  bool retry_pending = false;

  // passed: a check passed; the count of failures in a row restarts.
  void passed() noexcept { consecutive_failures = 0; }

  // failed counts a failure; true when it trips the breaker, with the retry scheduled at
  // now + the backoff (doubled per earlier trip, capped; saturating at the end of time).
  bool failed(const BreakerConfig& c, std::int64_t now_ns) noexcept {
    if (++consecutive_failures < c.failures) return false;
    const int shift = std::min(trips, 20);
    const std::int64_t backoff = std::min(saturating_mul(c.backoff_ns, std::int64_t{1} << shift), c.backoff_max_ns);
    ++trips;
    consecutive_failures = 0;
    retry_at_ns = deadline_after(now_ns, backoff);
    retry_pending = true;
    return true;
  }
};

}  // namespace obr::connectors
