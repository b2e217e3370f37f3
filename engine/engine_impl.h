// engine/engine_impl.h — the live engine's internals, shared by its two sources (private
// to engine/: include it nowhere else).
//
// BookEntry and BookRegistry (the published books); the Conn base class (one venue
// connection, any venue: the SessionSink of its session and the WsListener of its
// WebSocket); Engine::Impl. engine_conns.cpp defines Conn, engine.cpp the Engine, and
// engine/venues.cpp makes each venue's connection (SessionConn<Session, Config>).
#pragma once

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/net/event_loop.h"
#include "connectors/net/http_client.h"
#include "connectors/net/http_server.h"
#include "connectors/net/websocket_client.h"
#include "connectors/protocol/venue.h"
#include "engine/engine.h"
#include "engine/observability.h"
#include "engine/recorder.h"

namespace obr::engine {

using connectors::BookId;
using connectors::FrameError;
using connectors::HttpRequest;
using connectors::StateReason;

struct BookEntry {
  std::string venue;
  std::string symbol;
  const book::OrderBook* book = nullptr;
  TopOfBookCell cell;
  std::uint64_t version = 0;
};

// BookRegistry: every book of the engine, append-only, in a fixed array, so that other
// threads can walk it (top, consolidated) while the engine thread adds books: an entry is
// complete before the count that makes it visible is published (release/acquire), and is
// never moved or changed afterwards except for `book` and `version`, which only the engine
// thread reads. A rotation (Conn::switch_to_replacement) changes `book` the same way a
// re-registration does: on the engine thread, under the same index; other threads only
// see the cell, which the new book publishes to like any update (seqlock, top_of_book.h).
class BookRegistry {
 public:
  explicit BookRegistry(std::size_t capacity) : entries_(new BookEntry[capacity]), capacity_(capacity) {}
  std::size_t size() const noexcept { return count_.load(std::memory_order_acquire); }
  std::size_t capacity() const noexcept { return capacity_; }
  BookEntry& operator[](std::size_t i) noexcept { return entries_[i]; }
  const BookEntry& operator[](std::size_t i) const noexcept { return entries_[i]; }
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  // find: the index of (venue, symbol), or npos when absent. Any thread.
  std::size_t find(std::string_view venue, std::string_view symbol) const noexcept {
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) {
      if (entries_[i].venue == venue && entries_[i].symbol == symbol) return i;
    }
    return npos;
  }
  // append: engine thread only. False when full.
  bool append(std::string_view venue, std::string_view symbol, const book::OrderBook* b) {
    const std::size_t n = count_.load(std::memory_order_relaxed);
    if (n == capacity_) return false;
    entries_[n].venue.assign(venue);
    entries_[n].symbol.assign(symbol);
    entries_[n].book = b;
    count_.store(n + 1, std::memory_order_release);
    return true;
  }

 private:
  std::unique_ptr<BookEntry[]> entries_;
  std::size_t capacity_;
  std::atomic<std::size_t> count_{0};
};

// Conn: one venue's connection, whatever the venue — the SessionSink of its session and
// the WsListener of its WebSocket. It carries out the session's actions with what the
// engine owns for every venue: the socket, reconnects spaced by backoff with jitter, the
// data watchdog, REST requests paced by weight in a token bucket (429/418 honour
// Retry-After), recording, and publishing book events. The session itself is reached
// through SessionConn<Session> (engine/session_conn_impl.h): a direct call per frame.
class Conn : public connectors::SessionSink, public net::WsListener {
 public:
  Conn(Engine::Impl& engine, const connectors::VenueDescriptor& venue);
  ~Conn() override = default;
  // init subscribes the configured books (nothing is sent before the connection opens)
  // and registers them, so the registry is complete before any other thread can read it
  // (a replacement registers nothing until its switch); the session's status says what it
  // refused.
  virtual absl::Status init(const std::vector<std::string>& symbols) = 0;
  // add_symbols subscribes more books (sent now if connected) and registers them, on the
  // replacement too when one is being readied; the session's status says what it refused.
  virtual absl::Status add_symbols(const std::vector<std::string>& symbols) = 0;
  // The session's books, for a rotation: how many, and each one's report.
  virtual std::size_t session_book_count() const = 0;
  virtual connectors::BookReport session_report(BookId id) const = 0;
  // start: the timers, then the session's start (it asks for its first connection).
  void start();
  virtual void shutdown();
  // make_replacement: the connection's replacement for a rotation: the same venue, a
  // second session configured from the same settings, in shadow (publishes nothing).
  virtual std::unique_ptr<Conn> make_replacement() = 0;
  // retired_closed: a connection replaced by a rotation whose close has completed (or
  // that waited long enough): it may be destroyed (never from inside its own calls).
  bool retired_closed(std::int64_t now) const noexcept { return closed_ || now - retired_ns_ > kRetiredGraceNs; }
  const std::string& venue() const noexcept { return venue_; }
  const connectors::VenueDescriptor& descriptor() const noexcept { return descriptor_; }

  // SessionSink: book events.
  void send_frame(std::string_view frame) override {
    record(RecordKind::kSend, frame);
    ws_.send(frame);
  }
  void book_updated(BookId id, std::string_view symbol, const book::OrderBook& book, bool top_changed) override;
  void book_state_changed(BookId id, std::string_view symbol, book::BookState from, book::BookState to,
                          StateReason reason) override;
  void frame_error(FrameError error, std::string_view detail) override;
  void venue_error(std::string_view symbol, std::string_view message) override;
  void venue_status(std::string_view status) override;
  // SessionSink: connection actions.
  void http_request(const HttpRequest& request) override;
  void open_connection(std::string_view url) override;
  void close_connection(std::string_view reason) override { ws_.close(reason); }

  // A connection that publishes: neither a replacement being readied (shadow) nor an old
  // connection after its switch (muted). Nothing else reaches the listener or the registry.
  bool publishing() const noexcept { return !shadow_ && !muted_; }

  // WsListener (on_message is SessionConn's).
  void on_open() override;
  void on_close(std::string_view reason_with_token) override;

 protected:
  // The session's calls other than on_frame (none is per frame).
  virtual void session_start(std::int64_t now) = 0;
  virtual void session_connected(std::int64_t now) = 0;
  virtual void session_disconnected(std::int64_t now) = 0;
  virtual void session_http(std::uint64_t id, std::string_view url, int status, std::string_view body,
                            std::int64_t now) = 0;
  virtual void session_tick(std::int64_t now) = 0;

  void set_conn_state(ConnectionState s, std::string_view detail);
  void note_frame(std::size_t bytes, std::int64_t recv_ns);
  // watchdog closes an open connection that sent nothing for watchdog_ns; true if it did.
  bool watchdog(std::int64_t now);
  void start_ticks();
  // record writes one session input or output to the recording, if the run is recorded.
  // Every call into the session is preceded by one, so a replay feeds the same calls.
  void record(RecordKind kind, std::string_view payload = {}, std::int64_t ts = -1);
  std::size_t entry(BookId id, std::string_view symbol, const book::OrderBook& book);
  void publish(std::size_t index, const book::OrderBook& book);
  void connect_now();
  // pump sends queued requests as the reconnect backoff and the token bucket allow.
  void pump();
  void on_http(std::uint64_t id, const std::string& url, const net::HttpResponse& res);

  // Rotation (docs/architecture.md "Rotation"), from the tick of the connection that
  // publishes: open the replacement when the connection is old enough, switch when it is
  // ready, drop it when it is late.
  void rotation_tick(std::int64_t now);
  void start_replacement(std::int64_t now);
  bool replacement_ready() const;
  void switch_to_replacement(std::int64_t now);
  void abandon_replacement(std::int64_t now);
  // forward_symbols: books added while a replacement is being readied are its too.
  void forward_symbols(const std::vector<std::string>& symbols);
  std::int64_t rotate_after_ns() const noexcept;
  const book::OrderBook* find_book(BookId hint, std::string_view symbol) const;

  Engine::Impl& engine_;
  const connectors::VenueDescriptor& descriptor_;
  std::string venue_;
  net::WebSocketClient ws_;
  net::Timer tick_timer_;
  net::Timer reconnect_timer_;
  net::Timer http_timer_;
  net::Backoff backoff_;
  // The venue's REST budget, shared with a replacement (the venue counts by IP, not by
  // connection).
  std::shared_ptr<net::TokenBucket> bucket_;
  std::unique_ptr<net::HttpClient> http_;  // made at the first request (not every venue uses REST)
  std::deque<HttpRequest> queue_;
  std::string url_;                           // the WebSocket URL being opened
  std::int64_t reconnect_not_before_ns_ = 0;  // after a disconnect: the backoff's end
  std::vector<std::size_t> index_of_;         // BookId → registry index (+1; 0 = unknown)
  std::int64_t last_frame_ns_ = 0;
  std::int64_t recv_ns_ = 0;
  std::int64_t frame_ns_ = -1;  // the frame being processed (-1: an update not from a frame)
  bool opened_ = false;
  bool ever_opened_ = false;
  bool stopping_ = false;
  // Rotation.
  static constexpr std::int64_t kRetiredGraceNs = 30'000'000'000;
  std::int64_t opened_at_ns_ = 0;          // when the current connection opened
  std::unique_ptr<Conn> replacement_;      // the shadow being readied, if any
  std::int64_t replacement_since_ns_ = 0;  // when it was opened
  std::int64_t next_rotation_ns_ = 0;      // after a dropped replacement: the next attempt
  std::int64_t retired_ns_ = 0;            // when it was switched away from (muted)
  bool shadow_ = false;                    // a replacement being readied
  bool muted_ = false;                     // replaced: closing, its events dropped
  bool closed_ = false;                    // muted and its connection closed
};

class Engine::Impl {
 public:
  Impl(const EngineConfig& c, Listener* l, net::EventLoop* external)
      : config(c),
        listener(l != nullptr ? l : &null_listener),
        owned(external ? nullptr : new net::EventLoop()),
        loop(external ? *external : *owned) {}

  EngineConfig config;
  Listener null_listener;
  Listener* listener;
  std::unique_ptr<net::EventLoop> owned;
  net::EventLoop& loop;
  std::unique_ptr<Recorder> recorder;  // before conns: outlives every connection
  // Work posted to the loop holds a weak reference: on a loop the caller owns, the engine
  // may be gone before the loop runs it (stop() then destroy), and then it does nothing.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  absl::Status recording_closed;                                // what close_recording() returned
  std::vector<std::string> recording_files;                     // the files close_recording() finished
  absl::Status config_status = check_config_and_files(config);  // not OK: the engine is inert (no book, no connection)
  std::atomic<std::size_t> pending_books{0};                    // subscribed, posted, not yet added
  std::vector<std::unique_ptr<Conn>> conns;                     // the connections that publish, one per venue
  // Connections replaced by a rotation or dropped replacements, closing: destroyed once
  // closed (reap_retired), never from inside their own calls.
  std::vector<std::unique_ptr<Conn>> retired;
  BookRegistry books{config_status.ok() ? config.max_books : 0};  // read from other threads: see BookRegistry
  EngineStats stats;
  VenueStatuses venue_statuses;  // the last status each venue reported (/metrics)
  std::thread thread;
  bool connected = false;            // engine thread: connect() ran
  bool stopping = false;             // engine thread: stop() ran; nothing starts after it
  std::atomic<bool> running{false};  // any thread: start() or connect() was called
  LatencyHistogram latency;
  std::unique_ptr<net::HttpServer> http;
  std::vector<std::function<std::string()>> extra_metrics;  // Engine::add_metrics, appended to /metrics
  // Consolidated instruments: registry indices per configured name (fixed after construction).
  std::vector<std::pair<std::string, std::vector<std::size_t>>> instruments;

  void add_symbols(std::string_view venue, const std::vector<std::string>& fresh);  // engine thread
  // adopt: `next` takes the place of `old` in conns; `old` goes to retired.
  void adopt(Conn* old, std::unique_ptr<Conn> next) {
    for (auto& c : conns) {
      if (c.get() == old) {
        retired.push_back(std::move(c));
        c = std::move(next);
        return;
      }
    }
  }
  // reap_retired destroys the retired connections whose close completed (not `caller`).
  void reap_retired(const Conn* caller, std::int64_t now) {
    std::erase_if(retired, [&](const std::unique_ptr<Conn>& c) { return c.get() != caller && c->retired_closed(now); });
  }
  // record_config writes the venue's `config` line (the symbols configured so far).
  void record_config(std::string_view venue, std::int64_t now);
  // settings: the session settings of a configured venue (live).
  connectors::SessionSettings settings(const VenueConfig& v) const;

  std::vector<BookStatus> statuses() const {
    std::vector<BookStatus> out;
    for (std::size_t i = 0; i < books.size(); ++i) {
      const BookEntry& e = books[i];
      BookStatus b;
      b.venue = e.venue;
      b.symbol = e.symbol;
      if (e.book != nullptr) {
        b.state = e.book->state();
        b.counters = e.book->counters();
      }
      out.push_back(b);
    }
    return out;
  }

  // register_book: the registry index of (venue, symbol), added if new; npos when the
  // registry is full (reported through on_error).
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t register_book(std::string_view venue, std::string_view symbol, const book::OrderBook* b) {
    const std::size_t i = books.find(venue, symbol);
    if (i != BookRegistry::npos) {
      if (b != nullptr) books[i].book = b;
      return i;
    }
    if (!books.append(venue, symbol, b)) {
      const std::string detail = "not published: the engine's book registry is full (" +
                                 std::to_string(books.capacity()) + " books, EngineConfig::max_books)";
      listener->on_error(EngineError{venue, symbol, ErrorKind::kCapacity, detail});
      return npos;
    }
    return books.size() - 1;
  }
};

// make_conn: the connection of a configured venue (engine/venues.cpp); nullptr for a
// venue the engine does not know.
std::unique_ptr<Conn> make_conn(Engine::Impl& engine, const VenueConfig& venue);

}  // namespace obr::engine
