// connectors/protocol/venue.h — the venue contract: what every venue's session offers, and
// what describes a venue to the engine, the replayer and the recorder.
//
//   static_assert(obr::connectors::VenueSession<obr::connectors::kraken::V2Session>);
//
//   session.start(now, sink);                    // the session asks for what it needs first
//   session.on_connected(now, sink);             // (a token, a connection) through the sink
//   session.on_frame(text, now, sink);           // every frame, with its receive time
//   session.on_http_response(id, url, status, body, now, sink);
//   session.on_tick(now, sink);                  // timers: pings, retries, rotation
//   session.on_disconnected(now, sink);
//   absl::Status st = session.subscribe({"BTC/USD"}, now, sink);  // names what it refused
//   BookReport r = session.report(id);           // state, counters, sequence, trusted depth
//
// Every call takes the current time (ns; the recorded time in replay), so a session is a
// deterministic function of its inputs: the live engine and the replayer drive the same
// object and get the same books. Sessions own everything venue-specific (endpoints and
// their order, tokens, pings, depth rules, request weights); the driver owns what is shared
// (sockets, reconnect backoff with jitter, the data watchdog, the REST token bucket,
// recording). The contract is a concept, so calls through it are direct (templates), never
// a virtual call per frame. docs/architecture.md "The venue contract" walks through it.
//
// Thread-safety: a session and its sink are used from one thread.
#pragma once

#include <absl/status/status.h>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "book/order_book.h"
#include "connectors/protocol/session.h"

namespace obr::connectors {

// BookReport: one book as its session reports it. Views valid until the session's next call.
struct BookReport {
  std::string_view symbol;                // the venue's own spelling
  const book::OrderBook* book = nullptr;  // levels, state and counters
  int depth = 0;                          // subscribed depth; 0 where the venue has none
  std::int64_t sequence = -1;             // last applied sequence; -1 where the venue has none
  std::int64_t trusted_depth = -1;        // levels per side known exact; -1 where the whole book is
};

// ApiCredentials: a venue key for endpoints that need one (KuCoin's full-depth snapshots).
// Never written to a recording or a log (only whether there were any).
struct ApiCredentials {
  std::string key;
  std::string secret;
  std::string passphrase;
  bool empty() const noexcept { return key.empty() || secret.empty() || passphrase.empty(); }
};

// SessionMode: who drives the session.
enum class SessionMode : std::uint8_t {
  kLive,     // the engine: the session drives its connection (endpoints, tokens, pings)
  kExact,    // an obr recording: every call the engine made, fed as it was made
  kCapture,  // someone else's capture: only what arrived; books tracked as they appear
};

// SessionSettings: one venue's session, configured as data, the same for every venue. A
// venue turns them into its own session configuration (its folder's venue.h); the engine
// builds them from EngineConfig, the replayer from a recording's `config` line
// (docs/recording.md), so a replay configures the session exactly as the live run did.
struct SessionSettings {
  std::vector<std::string> symbols;
  int depth = 0;  // subscribed depth; 0: the venue's default (capture: each ack's)
  std::size_t max_frame_bytes = 1 << 20;
  std::vector<std::string> endpoints;  // WebSocket endpoints tried in turn; empty: the venue's
  std::string rest_base;               // REST base (tokens, snapshots); empty: the venue's
  ApiCredentials credentials;
  std::int64_t ping_interval_ns = 5'000'000'000;
  SessionMode mode = SessionMode::kLive;
  // The session's own rotation of its connection before the venue's connection lifetime
  // (VenueDescriptor::connection_lifetime_ns): 0, the session's default (close and
  // reconnect at 23 h); > 0, after that long; < 0, never: the driver rotates the connection
  // itself (the engine, docs/architecture.md "Rotation"), and a session closing its own
  // connection for age would undo that. Recorded, so that a replay configures it the same.
  std::int64_t rotate_after_ns = 0;
};

// VenueDescriptor: what the engine, the replayer and the recorder know of a venue, and all
// they know: its name, its defaults, how a recording of it is recognised, how its books are
// reported. One per venue, in the venue's folder (venue.h); the registries list them.
struct VenueDescriptor {
  std::string_view name = {};               // "kraken", "kraken-v1", "kucoin", ...
  std::string_view default_endpoint = {};   // WebSocket endpoint, when the venue connects directly
  std::string_view default_rest_base = {};  // REST base, when the connection starts with REST
  // Recognising a recording: a recorded URL containing url_marker, else the first frame
  // received (first_frame_is). The registries try venues in their order.
  std::string_view url_marker = {};
  bool (*first_frame_is)(std::string_view frame) = nullptr;
  // The depths a subscription may ask for (depth_ok; null: the venue has no such choice),
  // named in messages by depths_text.
  bool (*depth_ok)(int depth) = nullptr;
  std::string_view depths_text = {};
  int default_depth = 0;  // the depth asked for when none is configured
  // The venue's REST budget in its own request weights (HttpRequest::weight), which the
  // engine's token bucket for the venue spends: per second and at most at once, unless
  // EngineConfig::snapshot_rate_per_s / snapshot_burst are set. 0: the engine's default.
  double rest_weight_per_s = 0;
  double rest_weight_burst = 0;
  // Reports print prices and quantities at the book's scale; a venue whose wire text has
  // no fixed precision (trailing zeros vary) is reported without trailing zeros.
  bool fixed_precision_text = true;
  // The venue cuts every WebSocket connection this long after it opened (0: never). The
  // engine replaces a connection before then without a book leaving live
  // (docs/architecture.md "Rotation").
  std::int64_t connection_lifetime_ns = 0;
};

// is_one_word: no blank, comma or control character in `s`, so that it can be one word of
// a subscription or of a recording's config line (a symbol must also be non-empty, as
// check_symbols requires).
constexpr bool is_one_word(std::string_view s) noexcept {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == ' ' || c == ',' || static_cast<unsigned char>(c) < 0x20; });
}

// check_symbols: InvalidArgument naming the first symbol a venue cannot be asked for
// (empty, or holding a blank, a comma or a control character: it could not be one word of
// a subscription or of a recording's config line); `venue` prefixes the message.
inline absl::Status check_symbols(std::string_view venue, const std::vector<std::string>& symbols) {
  for (const std::string& s : symbols) {
    if (s.empty() || !is_one_word(s)) {
      return absl::InvalidArgumentError(std::string(venue) + ": symbol '" + s +
                                        "' is empty or has a blank, comma or control character");
    }
  }
  return absl::OkStatus();
}

// VenueSession: the calls every venue's session answers, each taking the current time.
template <class S>
concept VenueSession = requires(S& s, const S& cs, std::int64_t now, std::string_view text, SessionSink& sink,
                                const std::vector<std::string>& symbols, std::uint64_t id, int status, BookId book) {
  s.start(now, sink);
  s.on_connected(now, sink);
  s.on_disconnected(now, sink);
  s.on_frame(text, now, sink);
  s.on_http_response(id, text, status, text, now, sink);
  s.on_tick(now, sink);
  { s.subscribe(symbols, now, sink) } -> std::same_as<absl::Status>;
  { cs.book_count() } -> std::convertible_to<std::size_t>;
  { cs.report(book) } -> std::same_as<BookReport>;
  { cs.malformed_frames() } -> std::convertible_to<std::uint64_t>;
};

}  // namespace obr::connectors
