// tests/bus/wire_test.cpp — the bus's bytes (engine/bus/wire.h, docs/bus.md "Messages")
// and one replica book's state machine (engine/bus/replica_book.h), without NATS.
#include "engine/bus/wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/bus/replica_book.h"

namespace obr::bus {
namespace {

using book::BookState;
using book::Level;

std::string message(MessageType type, std::uint64_t epoch, std::uint64_t seq, std::vector<Level> bids,
                    std::vector<Level> asks, BookState state = BookState::kLive) {
  MessageHeader h;
  h.type = type;
  h.state = state;
  h.price_scale = 1;
  h.qty_scale = 8;
  h.epoch = epoch;
  h.seq = seq;
  h.recv_ns = 1'700'000'000'000'000'000;
  h.publish_ns = 1'700'000'000'000'000'123;
  std::string out;
  encode(h, bids, asks, out);
  return out;
}

TEST(BusWire, ChangeRoundTripsExactly) {
  const std::string bytes = message(MessageType::kChange, 7, 42, {{650001, 12345678}, {649990, 0}}, {{650010, 1}});
  ASSERT_EQ(bytes.size(), kHeaderBytes + 3 * kLevelBytes);
  DecodedMessage m;
  std::string error;
  ASSERT_TRUE(decode(bytes, m, error)) << error;
  EXPECT_EQ(m.header.type, MessageType::kChange);
  EXPECT_EQ(m.header.state, BookState::kLive);
  EXPECT_EQ(m.header.price_scale, 1);
  EXPECT_EQ(m.header.qty_scale, 8);
  EXPECT_EQ(m.header.epoch, 7u);
  EXPECT_EQ(m.header.seq, 42u);
  EXPECT_EQ(m.header.recv_ns, 1'700'000'000'000'000'000);
  EXPECT_EQ(m.header.publish_ns, 1'700'000'000'000'000'123);
  ASSERT_EQ(m.bids(), 2u);
  ASSERT_EQ(m.asks(), 1u);
  EXPECT_EQ(m.bid(0).price, 650001);
  EXPECT_EQ(m.bid(0).qty, 12345678);
  EXPECT_EQ(m.bid(1).qty, 0);
  EXPECT_EQ(m.ask(0).price, 650010);
}

TEST(BusWire, TheHeaderIsLaidOutAsDocumented) {
  const std::string b = message(MessageType::kView, 0x0102030405060708ull, 9, {{5, 1}}, {});
  EXPECT_EQ(b.substr(0, 4), "OBRB");
  EXPECT_EQ(b[4], 1);                                  // version
  EXPECT_EQ(b[5], 3);                                  // view
  EXPECT_EQ(b[6], 2);                                  // live
  EXPECT_EQ(b[12], 1);                                 // one bid
  EXPECT_EQ(b[16], 0);                                 // no ask
  EXPECT_EQ(static_cast<unsigned char>(b[24]), 0x08);  // epoch, little-endian
  EXPECT_EQ(static_cast<unsigned char>(b[31]), 0x01);
  EXPECT_EQ(b[32], 9);  // seq
  EXPECT_EQ(b[64], 5);  // the first level's price
}

TEST(BusWire, DecodeNamesWhatIsWrong) {
  DecodedMessage m;
  std::string error;
  EXPECT_FALSE(decode("OBRB", m, error));
  EXPECT_EQ(error, "message of 4 bytes is shorter than the 64-byte header");
  std::string b = message(MessageType::kChange, 1, 1, {{1, 1}}, {});
  EXPECT_FALSE(decode(b.substr(0, b.size() - 1), m, error));
  EXPECT_EQ(error, "length 79 bytes, but 1 bid and 0 ask levels make 80");
  std::string bad = b;
  bad[0] = 'X';
  EXPECT_FALSE(decode(bad, m, error));
  EXPECT_EQ(error, "not a bus message (magic is not OBRB)");
  bad = b;
  bad[5] = 9;
  EXPECT_FALSE(decode(bad, m, error));
  EXPECT_EQ(error, "unknown message type 9");
  bad = b;
  bad[8] = 19;
  EXPECT_FALSE(decode(bad, m, error));
  EXPECT_EQ(error, "scales 19/8 outside [0, 18]");
  EXPECT_FALSE(decode(message(MessageType::kChange, 1, 0, {}, {}), m, error));
  EXPECT_EQ(error, "sequence 0 (sequences start at 1)");
  EXPECT_FALSE(decode(message(MessageType::kView, 1, 1, {{10, 1}, {11, 1}}, {}), m, error));
  EXPECT_EQ(error, "bid level 1: price 11 out of order after 10");
  EXPECT_FALSE(decode(message(MessageType::kView, 1, 1, {}, {{10, 0}}), m, error));
  EXPECT_EQ(error, "ask level 0: quantity 0 is not positive");
  EXPECT_FALSE(decode(message(MessageType::kChange, 1, 1, {}, {{10, -1}}), m, error));
  EXPECT_EQ(error, "ask change 0: quantity -1 is negative");
  EXPECT_FALSE(decode(message(MessageType::kState, 1, 1, {{10, 1}}, {}), m, error));
  EXPECT_EQ(error, "a state message carries levels");
}

TEST(BusWire, HeartbeatRoundTripsAndRefusesLies) {
  Heartbeat hb{.shard = 3, .epoch = 11, .publish_ns = 99, .engine = "e1", .books = {{"kraken", "BTC/USD", 5}}};
  std::string b;
  encode_heartbeat(hb, b);
  Heartbeat back;
  std::string error;
  ASSERT_TRUE(decode_heartbeat(b, back, error)) << error;
  EXPECT_EQ(back.shard, 3u);
  EXPECT_EQ(back.epoch, 11u);
  EXPECT_EQ(back.engine, "e1");
  ASSERT_EQ(back.books.size(), 1u);
  EXPECT_EQ(back.books[0].symbol, "BTC/USD");
  EXPECT_EQ(back.books[0].seq, 5u);
  EXPECT_FALSE(decode_heartbeat(b.substr(0, b.size() - 1), back, error));
  EXPECT_EQ(error, "heartbeat cut short in book 0");
  std::string lie = b.substr(0, 5 + 4 + 8 + 8 + 2 + 2);
  lie += std::string("\xff\xff\xff\x0f", 4);
  EXPECT_FALSE(decode_heartbeat(lie, back, error));
  EXPECT_EQ(error, "heartbeat claims 268435455 books in 0 bytes");
}

TEST(BusWire, KeysAndSubjects) {
  EXPECT_EQ(key_token("BTC/USD"), "BTC/USD");
  EXPECT_EQ(key_token("BTC.USD X"), "BTC=2EUSD=20X");
  std::string back;
  ASSERT_TRUE(token_text("BTC=2EUSD=20X", back));
  EXPECT_EQ(back, "BTC.USD X");
  EXPECT_FALSE(token_text("BTC=2", back));
  EXPECT_FALSE(token_text("a.b", back));
  Subjects s;
  EXPECT_EQ(s.changes("kraken", "BTC/USD"), "obr.d.kraken.BTC/USD");
  EXPECT_EQ(s.heartbeat(12), "obr.hb.12");
  EXPECT_EQ(s.snapshot_request("okx", "BTC-USDT"), "obr.snap.okx.BTC-USDT");
  EXPECT_EQ(Subjects::book_key("kraken", "BTC/USD"), "kraken.BTC/USD");
  std::string venue, symbol;
  ASSERT_TRUE(s.parse_changes("obr.d.kraken.BTC=2EX", venue, symbol));
  EXPECT_EQ(venue, "kraken");
  EXPECT_EQ(symbol, "BTC.X");
  EXPECT_FALSE(s.parse_changes("obr.hb.1", venue, symbol));
  // The shard function is part of the protocol: fixed values.
  EXPECT_EQ(shard_of("kraken", "BTC/USD", 16), shard_of("kraken", "BTC/USD", 16));
  EXPECT_NE(shard_of("kraken", "BTC/USD", 1u << 30), shard_of("kraken", "ETH/USD", 1u << 30));
  EXPECT_EQ(shard_of("a", "b", 1), 0u);
}

// --- ReplicaBook ---------------------------------------------------------------------

struct Feed {
  ReplicaBook book{"kraken", "BTC/USD"};
  DecodedMessage m;
  std::string error;
  ReplicaBook::Outcome msg(const std::string& bytes, std::int64_t now = 1) {
    EXPECT_TRUE(decode(bytes, m, error)) << error;
    return book.on_message(m, bytes, now);
  }
  ReplicaBook::Outcome snap(const std::string& bytes, std::int64_t now = 1) {
    EXPECT_TRUE(decode(bytes, m, error)) << error;
    return book.on_snapshot(m, now);
  }
};

using O = ReplicaBook::Outcome;

TEST(ReplicaBook, BuffersUntilASnapshotBridgesThenAppliesInSequence) {
  Feed f;
  EXPECT_EQ(f.msg(message(MessageType::kChange, 5, 11, {{100, 2}}, {})), O::kResync);  // ask for a snapshot
  EXPECT_EQ(f.msg(message(MessageType::kChange, 5, 12, {}, {{110, 3}})), O::kBuffered);
  EXPECT_EQ(f.book.shown_state(), BookState::kSubscribing);
  // The snapshot stands at 10: both buffered changes follow it.
  EXPECT_EQ(f.snap(message(MessageType::kSnapshot, 5, 10, {{100, 1}, {99, 1}}, {{110, 1}})), O::kApplied);
  EXPECT_TRUE(f.book.in_sync());
  EXPECT_EQ(f.book.seq(), 12u);
  EXPECT_EQ(f.book.shown_state(), BookState::kLive);
  EXPECT_EQ(f.book.book().bids().at(0).qty, 2);
  EXPECT_EQ(f.book.book().asks().at(0).qty, 3);
  EXPECT_EQ(f.book.book().bids().size(), 2u);
  EXPECT_EQ(f.msg(message(MessageType::kChange, 5, 13, {{99, 0}}, {})), O::kApplied);
  EXPECT_EQ(f.book.book().bids().size(), 1u);
  EXPECT_EQ(f.msg(message(MessageType::kChange, 5, 13, {{99, 0}}, {})), O::kIgnored);  // a duplicate
  EXPECT_EQ(f.book.counters().duplicates, 1u);
}

TEST(ReplicaBook, ASnapshotOlderThanTheBufferIsNotTrusted) {
  Feed f;
  f.msg(message(MessageType::kChange, 5, 20, {{100, 2}}, {}));
  EXPECT_EQ(f.snap(message(MessageType::kSnapshot, 5, 10, {{100, 1}}, {})), O::kResync);  // 11..19 missing
  EXPECT_FALSE(f.book.in_sync());
  EXPECT_NE(f.book.shown_state(), BookState::kLive);
  EXPECT_EQ(f.snap(message(MessageType::kSnapshot, 5, 19, {{100, 1}}, {})), O::kApplied);
  EXPECT_EQ(f.book.seq(), 20u);
  EXPECT_EQ(f.book.book().bids().at(0).qty, 2);
}

TEST(ReplicaBook, AGapLosesSyncAndIsNeverShownLive) {
  Feed f;
  f.msg(message(MessageType::kView, 1, 1, {{100, 1}}, {{101, 1}}));
  EXPECT_EQ(f.book.shown_state(), BookState::kLive);
  EXPECT_EQ(f.msg(message(MessageType::kChange, 1, 3, {{100, 5}}, {})), O::kResync);
  EXPECT_EQ(f.book.shown_state(), BookState::kResyncing);
  EXPECT_EQ(f.book.counters().gaps, 1u);
  EXPECT_EQ(f.book.book().bids().at(0).qty, 1);  // seq 3 was not applied on the wrong base
}

TEST(ReplicaBook, AFormerOwnersEpochIsIgnoredAndANewOneResyncs) {
  Feed f;
  f.msg(message(MessageType::kView, 7, 1, {{100, 1}}, {}));
  EXPECT_EQ(f.msg(message(MessageType::kChange, 6, 2, {{100, 9}}, {})), O::kIgnored);
  EXPECT_EQ(f.book.counters().stale_epoch, 1u);
  EXPECT_EQ(f.book.book().bids().at(0).qty, 1);
  EXPECT_EQ(f.book.shown_state(), BookState::kLive);
  // A new owner's first message is its view: it bridges at once.
  EXPECT_EQ(f.msg(message(MessageType::kView, 9, 1, {{100, 4}}, {})), O::kApplied);
  EXPECT_EQ(f.book.epoch(), 9u);
  EXPECT_EQ(f.book.counters().epoch_changes, 1u);
  // A new owner's change without its view: out of sync until a snapshot.
  EXPECT_EQ(f.msg(message(MessageType::kChange, 10, 2, {{100, 4}}, {})), O::kResync);
  EXPECT_EQ(f.book.shown_state(), BookState::kResyncing);
}

TEST(ReplicaBook, AHeartbeatAheadIsADropOnceItsGraceEnds) {
  Feed f;
  f.msg(message(MessageType::kView, 1, 1, {{100, 1}}, {}), 0);
  EXPECT_EQ(f.book.on_heartbeat(1, 2, 1000, 500), O::kIgnored);
  EXPECT_EQ(f.book.check(1400, 1'000'000), O::kIgnored);  // still in its grace
  EXPECT_EQ(f.book.check(1500, 1'000'000), O::kResync);
  EXPECT_FALSE(f.book.in_sync());
  // Reached in time, no resync:
  Feed g;
  g.msg(message(MessageType::kView, 1, 1, {{100, 1}}, {}), 0);
  g.book.on_heartbeat(1, 2, 1000, 500);
  g.msg(message(MessageType::kChange, 1, 2, {{100, 2}}, {}), 1100);
  EXPECT_EQ(g.book.check(2000, 1'000'000), O::kIgnored);
  EXPECT_TRUE(g.book.in_sync());
}

TEST(ReplicaBook, SilenceMakesABookStaleAndTheSourcesStateIsShown) {
  Feed f;
  f.msg(message(MessageType::kView, 1, 1, {{100, 1}}, {}), 0);
  f.book.check(1'500'000'000, 1'000'000'000);
  EXPECT_EQ(f.book.shown_state(), BookState::kStale);
  f.msg(message(MessageType::kState, 1, 2, {}, {}, BookState::kResyncing), 1'600'000'000);
  EXPECT_EQ(f.book.shown_state(), BookState::kResyncing);
  f.msg(message(MessageType::kState, 1, 3, {}, {}, BookState::kLive), 1'700'000'000);
  EXPECT_EQ(f.book.shown_state(), BookState::kLive);
}

TEST(ReplicaBook, ABucketSnapshotIsNotShownLiveUntilTheSourceConfirmsIt) {
  Feed f;
  f.msg(message(MessageType::kChange, 3, 41, {{100, 2}}, {}), 0);  // out of sync: buffered
  // The bucket's copy stands at 40 and bridges the buffer, but the bucket is not the source.
  const std::string snap = message(MessageType::kSnapshot, 3, 40, {{100, 1}}, {});
  ASSERT_TRUE(decode(snap, f.m, f.error));
  EXPECT_EQ(f.book.on_snapshot(f.m, 1, /*from_owner=*/false), O::kApplied);
  EXPECT_TRUE(f.book.in_sync());
  EXPECT_EQ(f.book.shown_state(), BookState::kStale);
  EXPECT_EQ(f.book.on_heartbeat(3, 41, 2, 500), O::kIgnored);  // the source at 41: confirmed
  EXPECT_EQ(f.book.shown_state(), BookState::kLive);
}

TEST(ReplicaBook, AHeartbeatAheadOfASilentBookDoesNotBringItBackLive) {
  Feed f;
  f.msg(message(MessageType::kView, 1, 5, {{100, 1}}, {}), 0);
  f.book.check(2'000'000'000, 1'000'000'000);
  EXPECT_EQ(f.book.shown_state(), BookState::kStale);
  // The source says 9: this book missed 6 to 8 while silent. Still not live.
  f.book.on_heartbeat(1, 9, 2'100'000'000, 500'000'000);
  EXPECT_EQ(f.book.shown_state(), BookState::kStale);
  EXPECT_EQ(f.book.check(2'700'000'000, 1'000'000'000), O::kResync);  // the grace ended: a drop
  // A heartbeat at the book's own sequence ends the silence.
  Feed g;
  g.msg(message(MessageType::kView, 1, 5, {{100, 1}}, {}), 0);
  g.book.check(2'000'000'000, 1'000'000'000);
  g.book.on_heartbeat(1, 5, 2'100'000'000, 500'000'000);
  EXPECT_EQ(g.book.shown_state(), BookState::kLive);
}

}  // namespace
}  // namespace obr::bus
