// tests/fuzz/bus_wire_fuzz.cpp — the bus's decoders (engine/bus/wire.h) and a replica
// book (engine/bus/replica_book.h) on any bytes.
//
// Input: records of a kind byte, a u16 length and that many bytes: kind 0 a book message
// fed to on_message, 1 a snapshot fed to on_snapshot, 2 a heartbeat. Properties checked:
// - a message that decodes encodes back to the same bytes;
// - a heartbeat that decodes encodes back to the same bytes;
// - a refusal names what was wrong;
// - the replica book: in sync means its sequence and epoch are those of the last message
//   applied or bridged; a book out of sync is never shown live; its levels stay ordered.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "engine/bus/replica_book.h"
#include "engine/bus/wire.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

template <class Side>
bool ordered(const Side& side, bool bids) {
  for (std::size_t i = 1; i < side.size(); ++i) {
    if (bids ? side.at(i).price >= side.at(i - 1).price : side.at(i).price <= side.at(i - 1).price) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace obr::bus;
  ReplicaBook book("kraken", "BTC/USD");
  DecodedMessage m;
  Heartbeat hb;
  std::string error, again;
  std::int64_t now = 0;
  std::size_t at = 0;
  while (size - at >= 3) {
    const std::uint8_t kind = data[at] % 3;
    std::uint16_t n = 0;
    std::memcpy(&n, data + at + 1, 2);
    at += 3;
    if (n > size - at) n = static_cast<std::uint16_t>(size - at);
    const std::string_view bytes(reinterpret_cast<const char*>(data + at), n);
    at += n;
    now += 1'000'000;
    error.clear();
    if (kind == 2) {
      if (decode_heartbeat(bytes, hb, error)) {
        again.clear();
        encode_heartbeat(hb, again);
        if (again != bytes) obr::fuzz::invariant_failed("heartbeat round trip", bytes);
        for (const HeartbeatBook& b : hb.books) book.on_heartbeat(hb.epoch, b.seq, now, 500'000'000);
      } else if (error.empty()) {
        obr::fuzz::invariant_failed("heartbeat refused without a reason", bytes);
      }
      book.check(now, 3'000'000'000);
      continue;
    }
    if (!decode(bytes, m, error)) {
      if (error.empty()) obr::fuzz::invariant_failed("message refused without a reason", bytes);
      continue;
    }
    again.clear();
    std::string_view b(again);
    {
      // Re-encode from the decoded fields and levels.
      std::vector<obr::book::Level> bids(m.bids()), asks(m.asks());
      for (std::size_t i = 0; i < m.bids(); ++i) bids[i] = m.bid(i);
      for (std::size_t i = 0; i < m.asks(); ++i) asks[i] = m.ask(i);
      encode(m.header, bids, asks, again);
      b = again;
    }
    // The reserved bytes may differ (decode ignores them); the rest must not.
    if (b.size() != bytes.size() || b.substr(0, 10) != bytes.substr(0, 10) || b.substr(12, 8) != bytes.substr(12, 8) ||
        b.substr(24, 32) != bytes.substr(24, 32) || b.substr(64) != bytes.substr(64)) {
      obr::fuzz::invariant_failed("message round trip", bytes);
    }
    const ReplicaBook::Outcome o = kind == 0 ? book.on_message(m, bytes, now) : book.on_snapshot(m, now);
    if (o == ReplicaBook::Outcome::kApplied && book.in_sync() &&
        (book.seq() != m.header.seq || book.epoch() != m.header.epoch) && kind == 0) {
      obr::fuzz::invariant_failed("in sync after a message but not at its sequence", bytes);
    }
    if (!book.in_sync() && book.shown_state() == obr::book::BookState::kLive) {
      obr::fuzz::invariant_failed("shown live out of sync", bytes);
    }
    if (!ordered(book.book().bids(), true) || !ordered(book.book().asks(), false)) {
      obr::fuzz::invariant_failed("levels out of order", bytes);
    }
  }
  return 0;
}
