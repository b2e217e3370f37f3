// engine/engine.h — obr's live engine: connections to the venues, the protocol sessions
// they drive, and the books, reported to a listener and published for other threads.
//
//   obr::engine::EngineConfig config;
//   config.venue("kraken").symbols = {"BTC/USD"};
//   config.venue("kucoin").symbols = {"BTC-USDT"};
//   MyListener listener;                       // callbacks on the engine thread, in order
//   obr::engine::Engine engine(config, &listener);
//   engine.start();                            // own thread (or run() on the caller's)
//   ... engine.top("kraken", "BTC/USD") ...    // any thread, lock-free
//   engine.stop();
//
// Each venue connection drives the same sans-I/O session the replayer drives (principle
// 2): frames, HTTP responses, connects and disconnects go in; sends, requests and book
// events come out. Around it the engine adds what only a live connection needs:
// reconnect with exponential backoff and full jitter (reset after a stable period),
// endpoints tried in turn, a data watchdog (no frame for `watchdog_ns` → reconnect:
// TCP can go silent without closing) and a token bucket on REST requests by weight with
// 429/418 Retry-After honoured. Everything venue-specific (endpoint order, tokens, pings,
// depth rules) is the session's (docs/architecture.md "The venue contract").
//
// Rotation: a venue that cuts every connection after a lifetime (Binance and KuCoin: 24
// h) has its connection replaced before then without a book leaving live — make before
// break (docs/architecture.md "Rotation"). At rotate_after_ns the engine opens a second
// connection with a second session of the same venue and books, in shadow: it runs fully
// (subscribes, fetches snapshots, validates) and publishes nothing. Once every book live on
// the old connection is live on the new one, the registry entries (same indices, so
// readers keep their handles) point at the new books, the old connection is muted, then
// closed: the listener sees no transition and no book from it again. A replacement that
// is not ready within rotate_timeout_ns is dropped (Listener::on_error, ErrorKind::kRotation)
// and tried again; when no attempt could finish before the venue's cut, or while the run is
// recorded (a recording holds one session per venue), the engine rotates by reconnecting,
// as the sessions did on their own before (the books go stale, then live again).
//
// Thread-safety: run() or start() once. stop() and top() from any thread. Listener
// callbacks run on the engine thread; the books they see are valid during the call. An
// engine on a loop the caller owns must be destroyed on that loop's thread (work it
// posted is then skipped, never run against a destroyed engine).
#pragma once

#include <absl/status/status.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "book/book_state.h"
#include "book/order_book.h"
#include "connectors/net/backoff.h"
#include "connectors/net/tls.h"
#include "connectors/protocol/session.h"
#include "connectors/protocol/venue.h"
#include "engine/consolidated.h"
#include "engine/latency_histogram.h"
#include "engine/recorder.h"
#include "engine/top_of_book.h"

namespace obr::net {
class EventLoop;
}

namespace obr::engine {

// VenueConfig: one venue's books and connection, as data — the same keys for every venue
// (docs/architecture.md "Descriptors and settings"). A key a venue has no use for is
// refused by check_config (a depth for a venue without depths, endpoints for a venue whose
// WebSocket endpoint comes with its token).
struct VenueConfig {
  std::string venue;                       // a venue the engine knows: "kraken", "kucoin" (venue_names())
  std::vector<std::string> symbols;        // the venue's own spelling: "BTC/USD", "BTC-USDT"
  int depth = 0;                           // subscribed depth, where the venue offers a choice; 0: its default
  std::vector<std::string> endpoints;      // WebSocket endpoints tried in turn; empty: the venue's default
  std::string rest_base;                   // REST base (tokens, snapshots); empty: the venue's default
  connectors::ApiCredentials credentials;  // empty: public endpoints only (KuCoin: top-100 snapshots)
};

struct EngineConfig {
  std::vector<VenueConfig> venues;  // one entry per venue, in the order given
  // venue: the entry of `name`, added empty when there is none.
  VenueConfig& venue(std::string_view name);
  // find_venue: the entry of `name`, or nullptr.
  const VenueConfig* find_venue(std::string_view name) const;

  net::TlsOptions tls;                            // peer verification on by default
  net::BackoffConfig backoff;                     // reconnect delays
  std::int64_t watchdog_ns = 10'000'000'000;      // no frame this long → reconnect
  std::int64_t ping_interval_ns = 5'000'000'000;  // application ping, for venues that have one
  std::size_t max_message_bytes = 4u << 20;
  // The REST budget of each venue's connection (snapshots), in the venue's request weights:
  // per second and at most at once. Unset: the venue's own (VenueDescriptor::
  // rest_weight_per_s and rest_weight_burst, Binance's), else kDefaultSnapshotRate and
  // kDefaultSnapshotBurst. Set: this, for every venue.
  std::optional<double> snapshot_rate_per_s;
  std::optional<double> snapshot_burst;
  static constexpr double kDefaultSnapshotRate = 10;
  static constexpr double kDefaultSnapshotBurst = 20;
  // Instruments mapped together across venues (Engine::consolidated).
  std::vector<ConsolidatedInstrument> consolidated;
  // /health and /metrics on "ADDRESS:PORT" ("127.0.0.1:9100", "[::1]:9100"; port 0 picks
  // one, see Engine::http_port). Empty: no HTTP endpoint. Loopback unless told otherwise.
  std::string http_listen;
  // Books the engine can hold (every venue; Engine::subscribe beyond it is refused).
  std::size_t max_books = 1024;
  // Rotation of the connections of a venue with a connection lifetime (see the top of this
  // file). rotate_after_ns: a connection's age at which its replacement is opened; 0: the
  // venue's lifetime minus kRotationMarginNs. rotate_timeout_ns: how long the replacement
  // has to get every book live before it is dropped (and also the wait before the next
  // attempt). It must cover the replacement's snapshots at the venue's REST budget: a
  // Binance spot snapshot of 1000 levels weighs 50 of its 50 a second
  // (VenueDescriptor::rest_weight_per_s), so 15 min covers some 900 books; the 1 h margin
  // leaves room for a few attempts.
  std::int64_t rotate_after_ns = 0;
  std::int64_t rotate_timeout_ns = 15LL * 60 * 1'000'000'000;
  static constexpr std::int64_t kRotationMarginNs = 3'600'000'000'000;  // 1 h before the venue's cut
};

// The bounds check_config holds an EngineConfig to. A config file's keys are held to the
// same (engine/config_file.h, times there in whole ms).
namespace config_bounds {
inline constexpr std::int64_t kNsPerMs = 1'000'000;
inline constexpr std::int64_t kMaxTimeNs = 24LL * 3600 * 1000 * kNsPerMs;  // every time: at most 24 h
inline constexpr std::int64_t kMinBackoffNs = kNsPerMs;                    // backoff base, cap and stable
inline constexpr std::int64_t kMinTimerNs =
    100 * kNsPerMs;  // watchdog, ping interval, rotation (rotate_after_ns: or 0)
inline constexpr std::int64_t kMinMessageBytes = 1024;
// At most 4 MiB: a frame must fit one line of a recording in base64 (CaptureReader::kMaxLine).
inline constexpr std::int64_t kMaxMessageBytes = 4 << 20;
inline constexpr double kMinSnapshotRate = 0.01;  // per s: at least one every 100 s
inline constexpr double kMaxSnapshotRate = 1e6;
inline constexpr double kMinSnapshotBurst = 1;  // below 1 no request could ever go
inline constexpr double kMaxSnapshotBurst = 1e6;
inline constexpr std::int64_t kMaxBooks = 1 << 16;  // the registry is allocated whole (a few hundred bytes a book)
}  // namespace config_bounds

// is_venue: a venue the engine connects to (its list: engine/venues.cpp).
bool is_venue(std::string_view venue) noexcept;
// venue_names: the venues the engine connects to, "kraken, kucoin" (for messages).
std::string venue_names();
// number_text: a double as config messages show it, the shortest text that reads back as
// the same value (0.00999999999, 1e+06), "nan" for NaN.
std::string number_text(double v);
// one_word: no blank, comma or control character in `s`, so that it is one word of a
// recording's config line (symbols must also be non-empty). It is the rule every venue's
// session checks its symbols with (connectors::is_one_word), so that a symbol the config
// accepts is never refused by a session's subscribe.
bool one_word(std::string_view s) noexcept;

// check_config: InvalidArgument naming the first field out of its bounds: the times (a
// rotate_after_ns of 0 is the venue's default),
// max_message_bytes, snapshot_rate_per_s, snapshot_burst and max_books within
// config_bounds (and backoff.base_ns <= backoff.cap_ns); every venue entry a venue the
// engine knows, once, its depth one the venue offers (none for a venue without depths),
// its endpoints ws:// or wss:// URLs (none for a venue whose WebSocket endpoint comes from
// REST), its rest_base an http(s):// URL, its symbols non-empty one_word()s; consolidated
// members on a venue (is_venue); http_listen ADDRESS:PORT. (A file's other rule, at least
// one symbol, is the file's: an engine may start empty and subscribe later.) An Engine built from a
// config that fails it holds no book and connects nothing (Engine::config_status;
// connect() reports it through Listener::on_error).
absl::Status check_config(const EngineConfig& config);

// check_config_and_files: check_config, then what can be checked on this machine before
// connecting: tls.ca_file exists and holds a PEM certificate. An Engine is built on it.
absl::Status check_config_and_files(const EngineConfig& config);

enum class ConnectionState : std::uint8_t { kConnecting, kOpen, kClosed };
std::string_view to_string(ConnectionState s) noexcept;

// ErrorKind: what an error reported to Listener::on_error is about.
enum class ErrorKind : std::uint8_t {
  kFrame = 0,  // a frame that could not be used (counted as malformed)
  kVenue,      // an error the venue reported (e.g. a refused subscription)
  kRequest,    // a REST request that failed (transport, TLS, timeout)
  kConfig,     // the engine's configuration refused, or /health and /metrics not served
  kSubscribe,  // symbols the venue's session refused (its subscribe status)
  kCapacity,   // a book not published: the registry is full (EngineConfig::max_books)
  kRotation,   // a replacement connection dropped: not ready within rotate_timeout_ns (the old one serves on)
};
std::string_view to_string(ErrorKind kind) noexcept;

// EngineError: one error, structured (views valid during the callback).
struct EngineError {
  std::string_view venue;   // the venue, or "engine" for the engine's own errors
  std::string_view symbol;  // the book it concerns, or empty
  ErrorKind kind = ErrorKind::kFrame;
  std::string_view detail;  // what was wrong (never empty)
};
// to_string: "venue: symbol: detail" (no symbol: "venue: detail"), for logs.
std::string to_string(const EngineError& error);

// Listener: every callback on the engine thread, in order. Defaults do nothing.
class Listener {
 public:
  virtual ~Listener() = default;
  // on_book: `book` changed (state book.state()); `recv_ns` is when its frame arrived.
  virtual void on_book(std::string_view venue, std::string_view symbol, const book::OrderBook& book, bool top_changed,
                       std::int64_t recv_ns) {
    (void)venue, (void)symbol, (void)book, (void)top_changed, (void)recv_ns;
  }
  virtual void on_book_state(std::string_view venue, std::string_view symbol, book::BookState from, book::BookState to,
                             connectors::StateReason reason) {
    (void)venue, (void)symbol, (void)from, (void)to, (void)reason;
  }
  // on_connection: the venue's connection that publishes. A rotation's switch is reported
  // as kOpen with "URL (replacement, ready N ms …)"; the replacement before it and the old connection
  // after it report nothing (docs/architecture.md "Rotation").
  virtual void on_connection(std::string_view venue, ConnectionState state, std::string_view detail) {
    (void)venue, (void)state, (void)detail;
  }
  // on_error: a frame that could not be used, an error the venue reported, a failed
  // request, a refused configuration or subscription (EngineError says which, and names
  // the venue and, when there is one, the book).
  virtual void on_error(const EngineError& error) { (void)error; }
  // on_venue_status: the venue's trading status as it reported it (Kraken: online,
  // maintenance, cancel_only, post_only, limit_only). Only maintenance makes books stale;
  // under the others the books stay live (docs/venues/kraken.md).
  virtual void on_venue_status(std::string_view venue, std::string_view status) { (void)venue, (void)status; }
};

struct EngineStats {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t malformed = 0;
  std::uint64_t connects = 0;     // connections opened (a rotation's replacements included)
  std::uint64_t disconnects = 0;  // connections lost or closed (a rotation's old ones included)
  std::uint64_t reconnects = 0;   // connections opened after one of the venue was lost (not a replacement)
  std::uint64_t watchdog_fired = 0;
  std::uint64_t http_requests = 0;
  std::uint64_t http_throttled = 0;  // 429/418 answers
  // Rotations (docs/architecture.md "Rotation"): switches to a replacement connection, and
  // replacements dropped (not ready within rotate_timeout_ns).
  std::uint64_t rotations = 0;
  std::uint64_t rotations_dropped = 0;
};

class Engine {
 public:
  // Engine uses its own event loop, or `loop` when given (tests and `obr demo` run the
  // simulator on the same loop).
  // A config that fails check_config leaves the engine inert: no connection, no book;
  // config_status() says why.
  explicit Engine(const EngineConfig& config, Listener* listener = nullptr, net::EventLoop* loop = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // record_to records the run to `path` (an obr recording, docs/recording.md: every frame,
  // HTTP response, connect, disconnect and timer tick the sessions are fed, which `obr
  // replay` turns back into the same books and counters), zstd when `path` ends in `.zst`
  // and gzip otherwise. Before connect(); the error
  // names the path. recording_status() reports a later write failure; close_recording()
  // (or the engine's destruction) finishes the file; events after it are not recorded.
  // With `rotation` (engine/recorder.h RecordingRotation; docs/recording.md "Rotation"),
  // the run goes to parts named part_path(path, 1), part_path(path, 2), ...: a new part by
  // size or on the clock, between two events, each part readable on its own and the set
  // replayed by `obr replay` as one run. recording_files() lists the files written so far
  // (after close_recording(), every one).
  // record_to, recording_status, recording_files and close_recording: the engine thread,
  // or before connect() / after run() returns.
  absl::Status record_to(const std::string& path);
  absl::Status record_to(const std::string& path, const RecordingRotation& rotation);
  absl::Status recording_status() const;
  std::vector<std::string> recording_files() const;
  absl::Status close_recording();

  // config_status: check_config of the config the engine was built from.
  absl::Status config_status() const;

  // connect starts every venue's connection (run() and start() call it; call it yourself
  // when you drive a shared loop).
  void connect();
  void run();    // connect, then process until stop()
  void start();  // run() on a new thread
  void stop();   // close connections and end run(); joins the thread start() made

  // subscribe adds books at run time: a venue the engine knows, its symbols (already
  // tracked ones are ignored). Subscribed at once when the venue is connected, at its next
  // (re)connect otherwise; a venue not configured so far gets its connection now. Recorded
  // when the run is recorded. Any thread once start() or connect() was called: the work is
  // posted to the engine thread (it runs after the current handler, so also safely from a
  // listener callback); before that, on the thread that builds the engine.
  // InvalidArgument for an unknown venue or a symbol that is empty or has a blank, comma or
  // control character, FailedPrecondition when the engine's config failed check_config,
  // ResourceExhausted beyond config.max_books, and what the venue's session refuses
  // (its subscribe status, e.g. KuCoin's per-connection limit).
  absl::Status subscribe(std::string_view venue, const std::vector<std::string>& symbols);

  // top: the published top of book (false for an unknown book). Any thread.
  bool top(std::string_view venue, std::string_view symbol, TopOfBook& out) const;
  // consolidated: the best bid and offer across the live books of a configured instrument
  // (false for an unknown name). Any thread.
  bool consolidated(std::string_view name, ConsolidatedBbo& out) const;
  // start_http serves /health and /metrics on config.http_listen (connect() does it too,
  // reporting a failure through on_error). http_port: the bound port, 0 when not serving.
  absl::Status start_http();
  std::uint16_t http_port() const;
  // add_metrics: `text` (Prometheus text lines, e.g. Deadman::metrics) is appended to every
  // /metrics answer, called on the engine thread. Before connect() or on the engine thread.
  void add_metrics(std::function<std::string()> text);
  // latency: frame read off the socket → the listener's on_book call, every update so
  // far (one sample per frame: to its first callback). Engine thread (or after stop).
  const LatencyHistogram& latency() const;
  // for_each_book: every book's venue, symbol and live book. Engine thread only.
  template <class F>
  void for_each_book(F&& f) const;
  EngineStats stats() const;  // engine thread (or after stop)
  net::EventLoop& loop();

  class Impl;  // internal

 private:
  std::unique_ptr<Impl> impl_;
  const book::OrderBook* book_at(std::size_t i, std::string_view& venue, std::string_view& symbol) const;
  std::size_t book_count() const;
};

template <class F>
void Engine::for_each_book(F&& f) const {
  for (std::size_t i = 0; i < book_count(); ++i) {
    std::string_view venue, symbol;
    if (const book::OrderBook* b = book_at(i, venue, symbol)) f(venue, symbol, *b);
  }
}

}  // namespace obr::engine
