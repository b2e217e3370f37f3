// connectors/protocol/book_requests.h — the subscribe and unsubscribe requests of a session
// that asks the venue for each book's channel over its WebSocket and gets the snapshot
// there (Bybit, OKX; docs/architecture.md "Shared pieces"): each request with its own id,
// sent in batches, awaited until a deadline, matched to its answer, and a refusal split
// into the books its message names and the others.
//
//   BookRequests requests;
//   requests.send(true, batch, now, timeout, [&](std::string_view id, bool subscribe, auto books) {
//     return venue_text(id, subscribe, books);               // the venue's own frame
//   }, sink);
//   auto r = requests.find(answer_id, true);                  // by id, else the oldest of its op
//   if (requests.overdue(now)) close(...);                    // from on_tick
//
// Thread-safety: none; owned by one session.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/protocol/session.h"

namespace obr::connectors {

// PendingRequest: a request awaiting its answer (or, for venues that answer each channel
// apart, the books not answered yet).
struct PendingRequest {
  std::string id;
  bool subscribe = true;
  std::int64_t deadline_ns = 0;
  std::vector<BookId> books;
};

class BookRequests {
 public:
  using Iterator = std::vector<PendingRequest>::iterator;

  // send sends one request for `books`: `text(id, subscribe, books)` writes the venue's
  // frame; its answer is due within `timeout_ns`.
  template <class Book, class Text>
  void send(bool subscribe, std::span<Book* const> books, std::int64_t now_ns, std::int64_t timeout_ns, Text&& text,
            SessionSink& sink) {
    PendingRequest r{std::to_string(next_id_++), subscribe, deadline_after(now_ns, timeout_ns), {}};
    for (const Book* b : books) r.books.push_back(b->id);
    const std::string frame = text(std::string_view(r.id), subscribe, books);
    pending_.push_back(std::move(r));
    sink.send_frame(frame);
  }
  // send_batches sends `books` in requests of at most `per_request` (at least 1).
  template <class Book, class Text>
  void send_batches(bool subscribe, const std::vector<Book*>& books, std::size_t per_request, std::int64_t now_ns,
                    std::int64_t timeout_ns, Text&& text, SessionSink& sink) {
    const std::size_t n = std::max<std::size_t>(1, per_request);
    for (std::size_t i = 0; i < books.size(); i += n) {
      send(subscribe, std::span<Book* const>(books.data() + i, std::min(n, books.size() - i)), now_ns, timeout_ns, text,
           sink);
    }
  }

  // renew asks again for `book`'s channel (for a fresh snapshot): an unsubscribe, then a
  // subscribe, as two requests (a venue answers a channel already subscribed with an error,
  // and handles a connection's requests in order).
  template <class Book, class Text>
  void renew(Book& book, std::int64_t now_ns, std::int64_t timeout_ns, Text&& text, SessionSink& sink) {
    Book* const one[] = {&book};
    send(false, std::span<Book* const>(one), now_ns, timeout_ns, text, sink);
    send(true, std::span<Book* const>(one), now_ns, timeout_ns, text, sink);
  }

  // find: the request an answer with `id` is for; an answer without an id is for the oldest
  // request of its op. end() when none.
  Iterator find(std::string_view id, bool subscribe) {
    auto it = std::find_if(pending_.begin(), pending_.end(), [&](const PendingRequest& r) {
      return r.subscribe == subscribe && !id.empty() && r.id == id;
    });
    if (it == pending_.end() && id.empty()) {
      it = std::find_if(pending_.begin(), pending_.end(),
                        [&](const PendingRequest& r) { return r.subscribe == subscribe; });
    }
    return it;
  }
  Iterator end() noexcept { return pending_.end(); }
  // take removes a request and returns it.
  PendingRequest take(Iterator it) {
    PendingRequest r = std::move(*it);
    pending_.erase(it);
    return r;
  }
  // answered: `book`'s part of request `it` was answered (venues that answer each channel
  // apart); the request goes once every book of it was.
  void answered(Iterator it, BookId book) {
    auto& ids = it->books;
    ids.erase(std::remove(ids.begin(), ids.end(), book), ids.end());
    if (ids.empty()) pending_.erase(it);
  }
  std::vector<PendingRequest>& pending() noexcept { return pending_; }

  // overdue: a request's answer is past its deadline.
  bool overdue(std::int64_t now_ns) const noexcept {
    return std::any_of(pending_.begin(), pending_.end(),
                       [&](const PendingRequest& r) { return now_ns >= r.deadline_ns; });
  }
  // clear forgets every request (the connection went away).
  void clear() noexcept { pending_.clear(); }
  // next_id: an id no request has (for the venue's other frames, e.g. a ping).
  std::uint64_t next_id() noexcept { return next_id_++; }

 private:
  std::vector<PendingRequest> pending_;
  std::uint64_t next_id_ = 1;
};

// split_refusal: the books of refused request `r` whose name (`name(book)`) its message
// names, and the others (a venue names what it refused: "…topic:orderbook.40.X",
// "…instId:X doesn't exist").
template <class Registry, class Book, class Name>
void split_refusal(const PendingRequest& r, Registry& books, std::string_view message, Name&& name,
                   std::vector<Book*>& named, std::vector<Book*>& unnamed) {
  for (BookId id : r.books) {
    Book& b = books.at(id);
    (message.find(name(b)) != std::string_view::npos ? named : unnamed).push_back(&b);
  }
}

}  // namespace obr::connectors
