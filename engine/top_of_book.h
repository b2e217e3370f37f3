// engine/top_of_book.h — a book's best levels, state and update time, published by the
// engine thread and readable from any thread without locks (a seqlock).
//
//   obr::engine::TopOfBook top;
//   if (engine.top("kraken", "BTC/USD", top) && top.state == obr::book::BookState::kLive) { ... }
//
// The writer bumps the sequence to odd, writes, bumps it to even; a reader retries while
// the sequence is odd or changed under it. Readers never block the writer (the hot path).
//
// Thread-safety: one writer (the engine thread), any number of readers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "book/book_state.h"
#include "book/level.h"

namespace obr::engine {

struct TopOfBook {
  static constexpr std::size_t kLevels = 5;
  std::array<book::Level, kLevels> bids{};  // best first; qty 0 past the book's end
  std::array<book::Level, kLevels> asks{};
  std::uint8_t bid_count = 0;
  std::uint8_t ask_count = 0;
  int price_scale = 0;
  int qty_scale = 0;
  book::BookState state = book::BookState::kSubscribing;
  std::int64_t updated_ns = 0;  // receive time of the frame that produced this
  std::uint64_t version = 0;    // publications so far
};

// TopOfBookCell is one book's published top. Copyable data only (TopOfBook is trivially
// copyable), so the racy copy inside the seqlock is well-defined through atomics below.
class TopOfBookCell {
 public:
  void publish(const TopOfBook& value) noexcept {
    const std::uint64_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    store(value);
    seq_.store(s + 2, std::memory_order_release);
  }

  // read copies a consistent value; never blocks (retries while a write is in progress).
  TopOfBook read() const noexcept {
    TopOfBook out;
    for (;;) {
      const std::uint64_t s1 = seq_.load(std::memory_order_acquire);
      if (s1 & 1) continue;
      load(out);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == s1) return out;
    }
  }

 private:
  static constexpr std::size_t kWords = (sizeof(TopOfBook) + 7) / 8;
  // The payload is stored as relaxed atomic words, so concurrent access is not a data race
  // (TSan-clean) while costing the same as a plain copy on x86.
  void store(const TopOfBook& v) noexcept {
    std::uint64_t words[kWords] = {};
    std::memcpy(words, &v, sizeof v);
    for (std::size_t i = 0; i < kWords; ++i) data_[i].store(words[i], std::memory_order_relaxed);
  }
  void load(TopOfBook& v) const noexcept {
    std::uint64_t words[kWords];
    for (std::size_t i = 0; i < kWords; ++i) words[i] = data_[i].load(std::memory_order_relaxed);
    std::memcpy(&v, words, sizeof v);
  }

  std::atomic<std::uint64_t> seq_{0};
  std::atomic<std::uint64_t> data_[kWords] = {};
};

}  // namespace obr::engine
