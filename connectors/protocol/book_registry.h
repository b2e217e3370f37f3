// connectors/protocol/book_registry.h — what every venue's session keeps per book, shared so
// that a venue writes none of it again: the tracked books with dense ids and an
// allocation-free lookup by symbol, every state transition reported with its reason, and
// the circuit breaker that halts a book which keeps failing (docs/architecture.md "Shared
// pieces").
//
//   struct MyBook : TrackedBook {
//     using TrackedBook::TrackedBook;   // (BookId, std::string symbol, book::BookConfig)
//     book::SequenceTracker seq;
//   };
//   BookRegistry<MyBook> books;
//   MyBook& b = books.track("BTCUSDT", book::BookConfig{});
//   books.set_state(b, BookState::kLive, StateReason::kSnapshotValid, sink);
//   if (books.fail(b, StateReason::kSequenceGap, breaker, now, sink)) { /* halted */ }
//   else { /* invalid: ask the venue for a fresh snapshot */ }
//   books.run_due_retries(now, [&](MyBook& b) { resubscribe(b); });   // from on_tick
//
// Thread-safety: none; owned by one session.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "book/book_state.h"
#include "book/order_book.h"
#include "connectors/protocol/breaker.h"
#include "connectors/protocol/session.h"

namespace obr::connectors {

// TrackedBook: the part of a book every venue shares. A venue's book derives from it and
// adds its own (a checksum cache, a sequence tracker, a buffer).
struct TrackedBook {
  TrackedBook(BookId book_id, std::string book_symbol, const book::BookConfig& config)
      : id(book_id), symbol(std::move(book_symbol)), ob(config) {}
  BookId id;
  std::string symbol;  // as the venue spells it
  book::OrderBook ob;
  CircuitBreaker breaker;
};

// BookRegistry: the books of one session, by dense id (the order they were first tracked)
// and by symbol.
template <class Book>
class BookRegistry {
 public:
  BookRegistry() = default;
  BookRegistry(const BookRegistry&) = delete;
  BookRegistry& operator=(const BookRegistry&) = delete;

  std::size_t size() const noexcept { return books_.size(); }
  Book& at(BookId id) { return *books_.at(id); }
  const Book& at(BookId id) const { return *books_.at(id); }
  // all: every book in id order (unique_ptr: a Book never moves once tracked).
  const std::vector<std::unique_ptr<Book>>& all() const noexcept { return books_; }

  // find: nullptr when `symbol` is not tracked. No allocation (heterogeneous lookup).
  Book* find(std::string_view symbol) noexcept {
    auto it = by_symbol_.find(absl::string_view(symbol.data(), symbol.size()));
    return it == by_symbol_.end() ? nullptr : books_[it->second].get();
  }

  // track returns the book for `symbol`, first constructing Book(id, symbol, args...).
  template <class... Args>
  Book& track(std::string_view symbol, Args&&... args) {
    if (Book* b = find(symbol)) return *b;
    const auto id = static_cast<BookId>(books_.size());
    books_.push_back(std::make_unique<Book>(id, std::string(symbol), std::forward<Args>(args)...));
    by_symbol_.emplace(std::string(symbol), id);
    return *books_.back();
  }

  // set_state moves `b` to `to` and reports the transition with its reason (nothing when it
  // is already there).
  static void set_state(TrackedBook& b, book::BookState to, StateReason why, SessionSink& sink) {
    const book::BookState from = b.ob.state();
    if (from == to) return;
    b.ob.set_state(to);
    sink.book_state_changed(b.id, b.symbol, from, to, why);
  }

  // fail: a check failed or a message could not be applied. The book becomes invalid
  // (reason `why`); when failures in a row reach the breaker's count it halts
  // (kCircuitOpen) until its retry is due (run_due_retries). True when it halted; false
  // when the caller should ask the venue for a fresh snapshot now.
  bool fail(Book& b, StateReason why, const BreakerConfig& c, std::int64_t now_ns, SessionSink& sink) {
    set_state(b, book::BookState::kInvalid, why, sink);
    const bool was_pending = b.breaker.retry_pending;
    if (!b.breaker.failed(c, now_ns)) return false;
    if (!was_pending) ++retries_pending_;
    set_state(b, book::BookState::kHalted, StateReason::kCircuitOpen, sink);
    return true;
  }

  // cancel_retry forgets a scheduled retry (the book halted for another reason, or was
  // dropped).
  void cancel_retry(Book& b) noexcept {
    if (!b.breaker.retry_pending) return;
    b.breaker.retry_pending = false;
    --retries_pending_;
  }

  // run_due_retries calls `retry(book)` for every book whose halt has passed; cheap when
  // none is pending (the common case, every tick).
  template <class Retry>
  void run_due_retries(std::int64_t now_ns, Retry&& retry) {
    if (retries_pending_ == 0) return;
    for (auto& b : books_) {
      if (b->breaker.retry_pending && now_ns >= b->breaker.retry_at_ns) {
        cancel_retry(*b);
        retry(*b);
      }
    }
  }
  std::size_t retries_pending() const noexcept { return retries_pending_; }

  // stale_all marks every book stale (a disconnect), or only the live ones (maintenance).
  void stale_all(bool only_live, StateReason why, SessionSink& sink) {
    for (auto& b : books_) {
      if (!only_live || b->ob.state() == book::BookState::kLive) set_state(*b, book::BookState::kStale, why, sink);
    }
  }

 private:
  std::vector<std::unique_ptr<Book>> books_;
  absl::flat_hash_map<std::string, BookId> by_symbol_;
  std::size_t retries_pending_ = 0;
};

}  // namespace obr::connectors
