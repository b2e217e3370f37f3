// connectors/protocol/snapshot_bridge.h — the pieces of the REST-snapshot bridge that
// venues with a diff stream and a separate snapshot share (KuCoin's calibration, Binance's
// "how to manage a local order book"; docs/architecture.md "Shared pieces"):
//
//  - DeltaBuffer: the deltas received while the snapshot is fetched, with their own copy of
//    the text (the frame buffer is reused by the next frame);
//  - SnapshotFetch: one book's snapshot request: in flight, wanted, retried a bounded number
//    of times, then halted for a backoff.
//
// The venue keeps what differs: its sequence rule (book::SequenceTracker's check_*), its
// field names, its endpoints and weights. Playing the buffer back after a snapshot:
//
//   for (std::size_t i = 0; i < buf.size(); ++i) {
//     const DeltaBuffer::Delta& d = buf.delta(i);
//     switch (tracker.check_range(d.start, d.end)) { ... }       // the venue's rule
//     for (std::uint32_t k = d.first; k < d.first + d.count; ++k) apply(buf.change(k));
//   }
//
// Thread-safety: none; owned by one session.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "book/book_state.h"
#include "connectors/protocol/session.h"

namespace obr::connectors {

// RawChange: one level change as the wire spelled it; views into the frame (valid for one
// message) or into a DeltaBuffer.
struct RawChange {
  book::Side side;
  std::string_view price;
  std::string_view size;
  std::int64_t seq = -1;  // the entry's own sequence, where the venue gives one; -1 none
};

// DeltaBuffer: deltas kept while a book waits for its snapshot. Texts are addressed by
// 32-bit offsets: the buffer refuses (fits() is false) before it could pass kMaxBytes.
class DeltaBuffer {
 public:
  static constexpr std::size_t kMaxBytes = std::size_t{1} << 30;

  // Delta: a buffered message's sequence range (`prev`: the id it names as its predecessor,
  // where the venue sends one; -1 none) and its changes [first, first + count).
  struct Delta {
    std::int64_t start, end, prev;
    std::uint32_t first, count;
  };

  std::size_t size() const noexcept { return deltas_.size(); }
  bool empty() const noexcept { return deltas_.empty(); }
  const Delta& delta(std::size_t i) const { return deltas_[i]; }
  // change(k): a buffered change, its texts viewing this buffer (valid until it changes).
  RawChange change(std::uint32_t k) const {
    const Stored& s = changes_[k];
    return RawChange{s.side, text(s.price_off, s.price_len), text(s.size_off, s.size_len), s.seq};
  }
  std::size_t change_count() const noexcept { return changes_.size(); }

  // fits: `changes` can be added without passing `max_deltas` deltas or kMaxBytes of text.
  bool fits(std::span<const RawChange> changes, std::size_t max_deltas) const noexcept {
    std::size_t incoming = 0;
    for (const RawChange& c : changes) incoming += c.price.size() + c.size.size();
    return deltas_.size() < max_deltas && arena_.size() + incoming <= kMaxBytes;
  }

  // push keeps a copy of one delta (check fits() first).
  void push(std::int64_t start, std::int64_t end, std::int64_t prev, std::span<const RawChange> changes) {
    deltas_.push_back(Delta{start, end, prev, static_cast<std::uint32_t>(changes_.size()),
                            static_cast<std::uint32_t>(changes.size())});
    for (const RawChange& c : changes) {
      Stored s{c.side, static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(c.price.size()),
               0,      static_cast<std::uint32_t>(c.size.size()), c.seq};
      arena_.append(c.price);
      s.size_off = static_cast<std::uint32_t>(arena_.size());
      arena_.append(c.size);
      changes_.push_back(s);
    }
  }

  // drop_front forgets the first `n` deltas (those a snapshot covered); their text stays
  // until clear().
  void drop_front(std::size_t n) { deltas_.erase(deltas_.begin(), deltas_.begin() + static_cast<std::ptrdiff_t>(n)); }

  void clear() noexcept {
    arena_.clear();
    changes_.clear();
    deltas_.clear();
  }

 private:
  struct Stored {
    book::Side side;
    std::uint32_t price_off, price_len, size_off, size_len;
    std::int64_t seq;
  };
  std::string_view text(std::uint32_t off, std::uint32_t len) const { return {arena_.data() + off, len}; }

  std::string arena_;
  std::vector<Stored> changes_;
  std::vector<Delta> deltas_;
};

// SnapshotFetch: one book's REST snapshot. A book wants a snapshot when it (re)starts
// calibrating; the request goes out once a delta is buffered (so the snapshot cannot be
// older than everything buffered without the bridge noticing). A snapshot that cannot be
// used is fetched again, at most `max_attempts` times in a row; then the book halts for
// `halt_ns` and starts over.
struct SnapshotFetch {
  std::uint64_t request = 0;      // id of the request in flight; 0 none
  bool wanted = false;            // a snapshot is needed (sent once a delta is buffered)
  int attempts = 0;               // failed snapshots in a row
  std::int64_t retry_at_ns = -1;  // halted until then; -1 not halted

  // due: the book wants a snapshot, none is in flight and it is not halted.
  bool due() const noexcept { return wanted && request == 0 && retry_at_ns < 0; }
  // sent: request `id` is in flight.
  void sent(std::uint64_t id) noexcept {
    request = id;
    wanted = false;
    retry_at_ns = -1;
  }
  // answers: a response with `id` is the one awaited (0: a recording's, which has no id).
  bool answers(std::uint64_t id) const noexcept { return id == 0 || id == request; }
  // restart: forget the request in flight (its answer can no longer line up) and want a
  // fresh one; `keep_attempts` false starts the count of failures over.
  void restart(bool keep_attempts = false) noexcept {
    request = 0;
    wanted = true;
    if (!keep_attempts) attempts = 0;
  }
  // new_connection: what the last connection asked for is gone (nothing in flight, no
  // halt running); a snapshot is wanted unless `want` is false (a refused book). The count
  // of failures in a row is kept.
  void new_connection(bool want) noexcept {
    request = 0;
    wanted = want;
    retry_at_ns = -1;
  }
  // stop: want nothing (halted for a reason no snapshot fixes, or refused).
  void stop() noexcept {
    request = 0;
    wanted = false;
    attempts = 0;
    retry_at_ns = -1;
  }
  // succeeded: the snapshot bridged; failures in a row start over.
  void succeeded() noexcept { attempts = 0; }
  // failed counts an unusable snapshot. True when that was the last attempt allowed: the
  // book halts until now + halt_ns (the count starts over); false: fetch again.
  bool failed(int max_attempts, std::int64_t halt_ns, std::int64_t now_ns) noexcept {
    request = 0;
    if (++attempts < max_attempts) return false;
    attempts = 0;
    retry_at_ns = deadline_after(now_ns, halt_ns);
    return true;
  }
  // halt_due: the halt has passed (then sent() clears it).
  bool halt_due(std::int64_t now_ns) const noexcept { return retry_at_ns >= 0 && now_ns >= retry_at_ns; }
};

}  // namespace obr::connectors
