// tools/sim/faults.h — the simulator's fault schedule: what to break, when, and where.
//
//   std::string error;
//   auto fault = obr::sim::parse_fault("corrupt_checksum@t=2s,symbol=BTC/USD", error);
//
// Syntax: KIND[=ARG][@TRIGGER][,venue=V][,symbol=S]
//   V: a venue the simulator serves (a piece of venue_pieces.h: kraken, kucoin, binance,
//   binance-usdm, bybit-spot, bybit-linear, bybit-inverse, okx).
//   TRIGGER: t=2.5s (time since start; also ms) or msg=300 (the venue's book messages
//   sent so far); none: at once. ARG: a close code (close_code=4000), a stall length
//   (stall=5s; default until the client gives up), a sequence skip (skip_sequence=5).
// A fault fires once, on the first eligible message or request at or after its trigger.
//
// Which venue a fault hits (fault_venue): a kind every venue has (drop, stall, ...) hits
// the venue V names, or without venue= the first venue with an eligible message. A kind
// that only some venues have (a piece lists it in its factory's own_faults) hits only those:
// - owned by one piece (maintenance: kraken; sequence_reset, refuse_channel, no_change: okx),
//   it hits that piece, and a venue= naming another is refused ("maintenance exists only on
//   kraken");
// - owned by several (corrupt_checksum: kraken and okx; rest_429, rest_418, rest_500,
//   stale_snapshot: kucoin, binance and binance-usdm; skip_sequence: those and the three
//   Bybit pieces; refuse_topic, restart_snapshot: bybit-spot, bybit-linear and
//   bybit-inverse; unprompted_snapshot: those and okx),
//   venue= picks one of them (naming another is refused, with the owners listed), and
//   without venue= it hits whichever owner first has an eligible message or request. A
//   schedule that means one venue says so with venue=.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obr::sim {

enum class FaultKind : std::uint8_t {
  kDrop,             // a book update is not sent (Kraken: next checksum fails; KuCoin: gap)
  kCorruptChecksum,  // a Kraken or OKX update carries a wrong checksum
  kSkipSequence,     // KuCoin sequences / Binance and Bybit update ids jump ahead by ARG (a gap, no data lost)
  kDuplicate,        // a book update is sent twice
  kReorder,          // a book update is sent after the next one of the same book
  kStall,            // the connection goes silent (TCP open, no data, no pongs)
  kClose,            // the TCP connection is closed abruptly
  kCloseCode,        // a WebSocket close with code ARG (default 1001)
  kMaintenance,      // Kraken status maintenance, then online again 1 s later
  kMalformed,        // a frame that is not JSON
  kOversized,        // a frame larger than any client limit (8 MiB)
  kRefuseToken,      // KuCoin bullet-public refuses (code 400100)
  kExpireToken,      // KuCoin WebSocket rejects the token (error 401, close)
  kFailEndpoint,     // KuCoin bullet-public lists a dead endpoint first
  kRest429,          // a snapshot request answered 429 with Retry-After: 1
  kRest418,          // ... 418 (IP ban) with Retry-After: 1 (KuCoin) or the ban's length (Binance)
  kRest500,          // ... 500
  kStaleSnapshot,    // a snapshot older than the stream (sequence behind the buffered deltas)

  // Bybit's (bybit_piece.h): a subscribe refused as "handler not found"; a delta replaced by
  // a fresh snapshot with the next u (correct: the client replaces its book); a delta
  // replaced by a snapshot with u = 1, then u 2, 3, ... (the venue's restart; correct too).
  kRefuseTopic,
  kUnpromptedSnapshot,  // also OKX's: an update replaced by a snapshot (prevSeqId -1)
  kRestartSnapshot,

  // OKX's (okx_piece.h): an update whose seqId (1) is smaller than its prevSeqId, later
  // messages going on from it (the venue's documented reset: correct); a subscribe refused
  // with error 64003; a no-change update (seqId == prevSeqId, no levels) sent at once
  // (correct too).
  kSequenceReset,
  kRefuseChannel,
  kNoChange,
};

std::string_view to_string(FaultKind kind) noexcept;

struct Fault {
  FaultKind kind = FaultKind::kDrop;
  std::int64_t arg = 0;          // kind-specific (see the syntax above); 0 = default
  std::int64_t at_ns = 0;        // since start
  std::uint64_t at_message = 0;  // venue book messages sent
  std::string venue;             // a piece's name ("kraken", ...), or empty = any venue that has the kind
  std::string symbol;            // empty = any
  std::string spec;              // as written, for reports
};

// parse_fault: nullopt with `error` naming the bad part.
std::optional<Fault> parse_fault(std::string_view spec, std::string& error);

// load_faults reads a fault schedule file: one spec per line as above; '#' starts a
// comment to the end of the line; blank lines and blanks around a spec are ignored. nullopt with
// `error` as "FILE:LINE: what" for the first bad line, or naming the file it cannot read.
//
//   # faults.txt
//   corrupt_checksum@t=5s,symbol=BTC/USD
//   stall=3s@t=10s,venue=kucoin
std::optional<std::vector<Fault>> load_faults(const std::string& path, std::string& error);

// fault_venue: the venue a fault applies to: the only piece whose factory lists the kind in
// own_faults when exactly one does; else the fault's own venue=, empty for any (any venue
// for a shared kind, any of the owners for a kind several pieces own).
std::string_view fault_venue(const Fault& fault) noexcept;
// fault_owners: the pieces whose factories list `kind` in own_faults, in the list's order;
// empty for a kind every venue has.
std::vector<std::string_view> fault_owners(FaultKind kind);

}  // namespace obr::sim
