// engine/bus/wire.h — the bytes obr puts on the bus (docs/bus.md "Messages"): one book's
// change, state change, whole view or snapshot, and a shard's heartbeat; subjects and
// key-value keys. Pure functions, no NATS: the publisher, the replica and the fuzz target
// share them.
//
//   obr::bus::MessageHeader h{.type = obr::bus::MessageType::kChange, .epoch = 7, .seq = 42, ...};
//   std::string out;
//   obr::bus::encode(h, bid_changes, ask_changes, out);      // appends; no allocation once grown
//   obr::bus::DecodedMessage m;
//   if (!obr::bus::decode(out, m, error)) ...                // error names what was wrong
//
// Layout: a 64-byte header, then the levels, bids first, each (int64 price, int64 quantity)
// in the book's integer units; all little-endian. A change's quantity 0 deletes the
// level; a view's and a snapshot's levels are the whole published view, best first.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "book/book_state.h"
#include "book/level.h"

namespace obr::bus {

inline constexpr char kMagic[4] = {'O', 'B', 'R', 'B'};
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 64;
inline constexpr std::size_t kLevelBytes = 16;
// NATS servers refuse a message above their max_payload, 1 MiB by default (docs/bus.md
// "Size"): a published view is at most kMaxViewLevels a side, so that the largest message,
// a whole view, is 64 + 2 * 16384 * 16 bytes = 512 KiB + 64.
inline constexpr std::size_t kMaxViewLevels = 16384;
inline constexpr std::size_t kMaxMessageBytes = kHeaderBytes + 2 * kMaxViewLevels * kLevelBytes;

enum class MessageType : std::uint8_t {
  kChange = 1,    // the levels that changed since the previous message (quantity 0: deleted)
  kState = 2,     // the book's state changed (no levels)
  kView = 3,      // the whole view replaces the previous one (first message of an epoch, new scales)
  kSnapshot = 4,  // the whole view as it stands at `seq` (key-value bucket, or a request's answer)
};
std::string_view to_string(MessageType t) noexcept;

struct MessageHeader {
  MessageType type = MessageType::kChange;
  book::BookState state = book::BookState::kSubscribing;  // the source book's state after this message
  std::uint8_t reason = 0;                                // connectors::StateReason of a kState, else 0
  std::int8_t price_scale = 0;
  std::int8_t qty_scale = 0;
  std::uint64_t epoch = 0;      // the shard lease's revision when the publisher took it
  std::uint64_t seq = 0;        // the book's own sequence in this epoch: 1, 2, 3, ... with no gap
  std::int64_t recv_ns = 0;     // when the venue's frame behind it arrived (Unix ns)
  std::int64_t publish_ns = 0;  // when it was published (Unix ns)
};

struct DecodedMessage {
  MessageHeader header;
  std::span<const unsigned char> bid_bytes;  // the levels, still in wire form (level(i) reads one)
  std::span<const unsigned char> ask_bytes;
  std::size_t bids() const noexcept { return bid_bytes.size() / kLevelBytes; }
  std::size_t asks() const noexcept { return ask_bytes.size() / kLevelBytes; }
  book::Level bid(std::size_t i) const noexcept;
  book::Level ask(std::size_t i) const noexcept;
};

// encode appends one message to `out`. Levels as given (a view's best first).
void encode(const MessageHeader& h, std::span<const book::Level> bids, std::span<const book::Level> asks,
            std::string& out);
// decode reads one message; false with `error` naming the field for anything that is not
// a well-formed message of this version (the levels are checked: a view's prices strictly
// ordered best first, quantities positive; a change's quantities not negative; scales in
// [0, 18]; a known type and state; the length exactly the header's counts).
bool decode(std::string_view bytes, DecodedMessage& out, std::string& error);

// Heartbeat: a shard's owner, every heartbeat interval, with each book's last sequence.
struct HeartbeatBook {
  std::string venue;
  std::string symbol;
  std::uint64_t seq = 0;
};
struct Heartbeat {
  std::uint32_t shard = 0;
  std::uint64_t epoch = 0;
  std::int64_t publish_ns = 0;
  std::string engine;  // the engine id
  std::vector<HeartbeatBook> books;
};
// Heartbeat bytes: "OBRH", version, shard u32, epoch u64, publish_ns i64, engine (u16
// length + text), book count u32, then per book venue and symbol (u16 length + text each)
// and seq u64.
void encode_heartbeat(const Heartbeat& hb, std::string& out);
bool decode_heartbeat(std::string_view bytes, Heartbeat& out, std::string& error);

// shard_of: FNV-1a 64 of "venue\0symbol" mod `shards` (docs/bus.md "Shards"): every
// engine and consumer computes the same.
std::uint32_t shard_of(std::string_view venue, std::string_view symbol, std::uint32_t shards) noexcept;

// key_token: a venue or symbol as one subject token and key-value key part: letters,
// digits, '-', '_' and '/' as they are; any other byte as '=' and two upper-case hex
// digits ("BTC.USD" -> "BTC=2EUSD"). Reversible by token_text.
std::string key_token(std::string_view text);
bool token_text(std::string_view token, std::string& out);

// Subjects and keys under a prefix (default "obr"):
//   changes      PREFIX.d.VENUE.SYMBOL          core NATS, every message of the book
//   heartbeats   PREFIX.hb.SHARD                core NATS
//   snapshot ask PREFIX.snap.VENUE.SYMBOL       request/reply, answered by the owner
//   snapshot     key VENUE.SYMBOL in the books bucket
struct Subjects {
  std::string prefix = "obr";
  std::string changes(std::string_view venue, std::string_view symbol) const;
  std::string heartbeat(std::uint32_t shard) const;
  std::string snapshot_request(std::string_view venue, std::string_view symbol) const;
  static std::string book_key(std::string_view venue, std::string_view symbol);
  // parse_changes: the venue and symbol of a changes subject; false for any other subject.
  bool parse_changes(std::string_view subject, std::string& venue, std::string& symbol) const;
};

}  // namespace obr::bus
