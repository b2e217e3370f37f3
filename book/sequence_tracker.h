// book/sequence_tracker.h — continuity checks for venues that number their updates.
//
// One tracker per book. After a snapshot, reset(S) with the snapshot's sequence; then
// classify every update before applying it:
//
//   SequenceTracker t;
//   t.reset(snapshot_seq);
//   switch (t.check_range(start, end)) {       // KuCoin, Binance
//     case SeqCheck::kInOrder: apply(); break;   // t.last() is now `end`
//     case SeqCheck::kStale:   break;            // already covered by the book: skip
//     case SeqCheck::kGap:     resync(); break;  // something was missed
//   }
//   t.check_linked(prev_seq_id, seq_id);          // OKX prevSeqId/seqId
//   t.check_overlapping(start, end);              // KuCoin sequenceStart/sequenceEnd
//   t.check_chained(start, end, prev);            // Binance USD-M U/u/pu
//   t.check_next(u);                              // Bybit u
//
// The rules (each venue's document under docs/venues/ gives its official source; the
// venues without one yet are those the tracker is ready for):
//  - check_range, first update after reset (bridging): end <= S is stale; start <= S+1 is
//    in order (Binance's documented bridge,
//    where the snapshot's lastUpdateId lies within the first event's [U;u]); start > S+1
//    is a gap.
//  - check_range afterwards (strict): end <= last is stale; start == last+1 is in order;
//    anything else is a gap (Binance "U equal to the last u + 1"). An overlap after the
//    bridge is treated as a gap here.
//  - check_next (Bybit): seq == last+1 is in order; anything else, a repeat or an older
//    id included, is a gap (docs/venues/bybit.md "Books": a delta's u is the last + 1).
//  - check_overlapping (KuCoin): the bridging rule for every update, first or later: an
//    overlap is in order (docs/venues/kucoin.md "Continuity").
//  - check_chained (Binance USD-M futures): the first update after reset brackets the
//    snapshot itself: end < S is stale; start <= S <= end is in order; start > S is a gap.
//    Afterwards the update names its predecessor: prev == last is in order (its start may
//    skip ahead: the futures ids are not contiguous); end <= last is stale; anything else
//    a gap.
//  - check_linked (OKX): prev == last is in order, including the keep-alive with
//    seqId == prevSeqId and the maintenance reset with seqId < prevSeqId; otherwise a
//    seqId <= last is stale and anything else a gap.
//
// Thread-safety: none; owned by its book's thread. Cost: a few compares, noexcept.
#pragma once

#include <cstdint>
#include <string_view>

namespace obr::book {

enum class SeqCheck : std::uint8_t {
  kInOrder = 0,  // apply it; the tracker has advanced
  kStale,        // entirely at or before the book's sequence: skip it
  kGap,          // updates are missing: the book can no longer be trusted
};

constexpr std::string_view to_string(SeqCheck c) noexcept {
  switch (c) {
    case SeqCheck::kInOrder:
      return "in_order";
    case SeqCheck::kStale:
      return "stale";
    case SeqCheck::kGap:
      return "gap";
  }
  return "unknown";
}

class SequenceTracker {
 public:
  // reset starts tracking from a snapshot whose sequence is `snapshot_seq`.
  void reset(std::int64_t snapshot_seq) noexcept {
    last_ = snapshot_seq;
    bridged_ = false;
    has_ = true;
  }
  // clear forgets everything (no snapshot yet); every check is then a gap.
  void clear() noexcept {
    last_ = 0;
    bridged_ = false;
    has_ = false;
  }

  bool has_snapshot() const noexcept { return has_; }
  // last is the sequence the book reflects: the snapshot's, then each applied update's end.
  std::int64_t last() const noexcept { return last_; }
  // bridged is true once the first update after the snapshot has been applied.
  bool bridged() const noexcept { return bridged_; }

  // check_range classifies an update covering sequences [start, end] (start <= end).
  SeqCheck check_range(std::int64_t start, std::int64_t end) noexcept {
    if (!has_) return SeqCheck::kGap;
    if (end <= last_) return SeqCheck::kStale;
    if (bridged_ ? start == last_ + 1 : start <= last_ + 1) {
      last_ = end;
      bridged_ = true;
      return SeqCheck::kInOrder;
    }
    return SeqCheck::kGap;
  }

  // check_overlapping classifies [start, end] by KuCoin's rule, the same for the first
  // update after the snapshot and for every later one (docs/venues/kucoin.md
  // "Continuity"): end <= last is stale; start <= last+1 is in order, even when the update
  // overlaps the book (the caller skips its entries at or below the former last, which
  // carry their own sequence); start > last+1 is a gap.
  SeqCheck check_overlapping(std::int64_t start, std::int64_t end) noexcept {
    if (!has_) return SeqCheck::kGap;
    if (end <= last_) return SeqCheck::kStale;  // so last_ < INT64_MAX below
    if (start > last_ + 1) return SeqCheck::kGap;
    last_ = end;
    bridged_ = true;
    return SeqCheck::kInOrder;
  }

  // check_chained classifies an update covering [start, end] that names the end of its
  // predecessor `prev` (Binance USD-M: U, u, pu; docs/venues/binance.md "Continuity").
  SeqCheck check_chained(std::int64_t start, std::int64_t end, std::int64_t prev) noexcept {
    if (!has_) return SeqCheck::kGap;
    if (!bridged_) {
      if (end < last_) return SeqCheck::kStale;
      if (start > last_) return SeqCheck::kGap;
    } else if (prev != last_) {
      return end <= last_ ? SeqCheck::kStale : SeqCheck::kGap;
    }
    last_ = end;
    bridged_ = true;
    return SeqCheck::kInOrder;
  }
  // check_single is check_range(seq, seq): venues with one id per update (Bybit `u`).
  SeqCheck check_single(std::int64_t seq) noexcept { return check_range(seq, seq); }

  // check_next classifies an update numbered one by one (Bybit's u): only last+1 follows;
  // there is no stale case.
  SeqCheck check_next(std::int64_t seq) noexcept {
    if (has_ && seq == last_ + 1) {
      last_ = seq;
      bridged_ = true;
      return SeqCheck::kInOrder;
    }
    return SeqCheck::kGap;
  }

  // check_linked classifies an update that names its predecessor (OKX prevSeqId/seqId).
  SeqCheck check_linked(std::int64_t prev, std::int64_t seq) noexcept {
    if (!has_) return SeqCheck::kGap;
    if (prev == last_) {
      last_ = seq;
      bridged_ = true;
      return SeqCheck::kInOrder;
    }
    if (seq <= last_ && prev < last_) return SeqCheck::kStale;
    return SeqCheck::kGap;
  }

 private:
  std::int64_t last_ = 0;
  bool bridged_ = false;
  bool has_ = false;
};

}  // namespace obr::book
