// book/book_state.h — the state machine every book lives in (docs/architecture.md "Book states").
//
//   subscribing -> awaiting_snapshot -> live -> invalid -> resyncing -> awaiting_snapshot
//   plus stale (connection silent or lost: last good book kept, flagged) and
//   halted (circuit breaker open).
//
// Only kLive books are valid. Readers always see the state beside the data.
#pragma once

#include <cstdint>
#include <string_view>

namespace obr::book {

enum class BookState : std::uint8_t {
  kSubscribing = 0,
  kAwaitingSnapshot,
  kLive,
  kInvalid,
  kResyncing,
  kStale,
  kHalted,
};

// to_string gives the lower_snake name used in logs, JSON and metrics ("awaiting_snapshot").
constexpr std::string_view to_string(BookState s) noexcept {
  switch (s) {
    case BookState::kSubscribing:
      return "subscribing";
    case BookState::kAwaitingSnapshot:
      return "awaiting_snapshot";
    case BookState::kLive:
      return "live";
    case BookState::kInvalid:
      return "invalid";
    case BookState::kResyncing:
      return "resyncing";
    case BookState::kStale:
      return "stale";
    case BookState::kHalted:
      return "halted";
  }
  return "unknown";
}

// is_valid: only a live book may be served as correct.
constexpr bool is_valid(BookState s) noexcept { return s == BookState::kLive; }

}  // namespace obr::book
