// engine/venue_replay_impl.h — one replayed connection of any venue: a session driven through
// the venue contract (connectors/protocol/venue.h) by a recording's events. Private to
// engine/ (the replayer and the venue list, engine/venues.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "book/decimal.h"
#include "book/digit_text.h"
#include "connectors/protocol/venue.h"
#include "engine/capture_reader.h"
#include "engine/replayer.h"

namespace obr::engine {

// VenueReplay: a replayed connection, whatever its venue.
class VenueReplay {
 public:
  virtual ~VenueReplay() = default;
  // begin subscribes the recording's symbols, as the engine did before connecting.
  virtual void begin(const std::vector<std::string>& symbols, std::int64_t now_ns, connectors::SessionSink& sink) = 0;
  virtual void on_event(const CaptureEvent& ev, std::int64_t now_ns, connectors::SessionSink& sink) = 0;
  virtual std::uint64_t malformed() const = 0;
  // report appends every book of the connection (file: the recording it came from).
  virtual void report(const std::string& file, std::vector<ReplayBook>& out) const = 0;
  // The books as they stand, for the export (engine/book_export.h): how many, each one's
  // report, the venue's name, and whether its decimal text drops trailing zeros.
  virtual std::size_t book_count() const = 0;
  virtual connectors::BookReport book_report(connectors::BookId id) const = 0;
  virtual std::string_view venue_name() const = 0;
  virtual bool trims_text() const = 0;
};

// append_level_text writes a price or quantity as replay reports it (the summary, --json,
// the export): at the book's scale, or without trailing fractional zeros when `trim`
// (venues whose wire text has no fixed precision: KuCoin, Bybit spot, OKX). `out` holds
// kLevelTextChars bytes; returns the end.
inline constexpr std::size_t kLevelTextChars = book::kMaxDecimalChars + book::kDigitTextSlack;
char* append_level_text(char* out, std::int64_t value, int scale, bool trim) noexcept;

// top_levels: a side's best 10 as exact decimal text (append_level_text).
std::vector<ReplayLevel> top_levels(const book::OrderBook& ob, bool bids, bool trim);

// SessionReplay drives a Session through the contract.
//
// Captures made by others (SessionMode::kCapture: raw, cryptofeed) say only what arrived:
// the session's timers run after every frame, and each connect implies the disconnect
// before it. An obr recording (kExact) says every call the live engine made into the
// session, timer ticks and disconnects included, and only those calls are made.
template <connectors::VenueSession Session>
class SessionReplay final : public VenueReplay {
 public:
  template <class Config>
  SessionReplay(const connectors::VenueDescriptor& venue, const Config& config, bool exact)
      : venue_(venue), session_(config), exact_(exact) {}

  void begin(const std::vector<std::string>& symbols, std::int64_t now_ns, connectors::SessionSink& sink) override {
    (void)session_.subscribe(symbols, now_ns, sink);  // recorded symbols were accepted live
  }
  void on_event(const CaptureEvent& ev, std::int64_t now_ns, connectors::SessionSink& sink) override {
    switch (ev.kind) {
      case CaptureEventKind::kReceived:
        session_.on_frame(ev.payload, now_ns, sink);
        if (!exact_) session_.on_tick(now_ns, sink);
        break;
      case CaptureEventKind::kHttpResponse:
        // A capture's REST file holds only successful responses, matched by URL (id 0).
        session_.on_http_response(exact_ ? ev.id : 0, ev.url, exact_ ? ev.status : 200, ev.payload, now_ns, sink);
        break;
      case CaptureEventKind::kConnect:
        if (connected_ && !exact_) session_.on_disconnected(now_ns, sink);
        connected_ = true;
        session_.on_connected(now_ns, sink);  // what it would send is not part of a replay
        break;
      case CaptureEventKind::kDisconnect:
        connected_ = false;
        session_.on_disconnected(now_ns, sink);
        break;
      case CaptureEventKind::kTick:
        session_.on_tick(now_ns, sink);
        break;
      case CaptureEventKind::kStart:
        session_.start(now_ns, sink);
        break;
      default:
        // Frames sent, requests made, and the pings older recordings list (a ping changes
        // no book) carry nothing for the books.
        break;
    }
  }
  std::uint64_t malformed() const override { return session_.malformed_frames(); }
  std::size_t book_count() const override { return session_.book_count(); }
  connectors::BookReport book_report(connectors::BookId id) const override { return session_.report(id); }
  std::string_view venue_name() const override { return venue_.name; }
  bool trims_text() const override { return !venue_.fixed_precision_text; }
  void report(const std::string& file, std::vector<ReplayBook>& out) const override {
    for (std::size_t i = 0; i < session_.book_count(); ++i) {
      const connectors::BookReport r = session_.report(static_cast<connectors::BookId>(i));
      const bool trim = !venue_.fixed_precision_text;
      ReplayBook b{std::string(venue_.name),
                   std::string(r.symbol),
                   r.book->state(),
                   r.book->counters(),
                   r.depth,
                   top_levels(*r.book, true, trim),
                   top_levels(*r.book, false, trim),
                   file};
      b.sequence = r.sequence;
      b.trusted_depth = r.trusted_depth;
      out.push_back(std::move(b));
    }
  }

 private:
  const connectors::VenueDescriptor& venue_;
  Session session_;
  bool exact_;
  bool connected_ = false;
};

}  // namespace obr::engine
