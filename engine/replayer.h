// engine/replayer.h — pushes recorded frames through exactly the sessions that run live.
//
//   obr::engine::ReplayOptions opts;              // venue auto-detected, depth from acks
//   absl::StatusOr<obr::engine::ReplaySummary> s = obr::engine::replay_files({"a.ndjson.gz"}, opts);
//
// Input (engine/capture_reader.h; plain or gzip, detected per file):
//  - raw captures, one venue frame per line;
//  - cryptofeed raw-data files (`X.ws.N.M`; an `X.http.N.M` given beside it is merged
//    into that connection by recorded time);
//  - JSON lines, `{"conn": NAME, "ts": TS, "data": FRAME}` per line: frames of several
//    connections interleaved in one file;
//  - obr recordings (`obr record`, Engine::record_to; docs/recording.md): every venue of
//    one engine run, each session configured from the recording and fed exactly the calls
//    the live engine made (frames, HTTP responses, connects, disconnects, timer ticks),
//    so every book's state, counters and levels come out as they were live. The parts of
//    a rotated recording (a `part` line each; engine/recording_set.h), given in any order,
//    replay as one run: ordered by index, through the same sessions, each later part's
//    repeated config lines not fed again; a missing part fails the replay, naming it.
// Each raw or cryptofeed WebSocket file is one connection with its own session; a
// JSON-lines file has one session per connection name, each fed its frames in file order.
// A connection's venue is ReplayOptions::conn_venues' for its name (JSON lines), else
// ReplayOptions::venue's, else told by the capture: the recorded URL or a frame that a
// venue's descriptor recognises (connectors/protocol/venue.h, first_frame_is: Kraken v2
// objects with channel/method, Kraken v1 arrays or event objects, KuCoin objects with
// type, Binance depthUpdate events). Frames that tell nothing (subscribe acks, which do
// not name the market) are held, at most 64 per connection, until one tells; then they
// are fed in order, then the rest. Never guessed: a connection whose 65th event tells
// nothing either, or that ends untold, fails the replay, naming the file, the line of its
// first frame and the option that names its venue.
// KuCoin and Binance books calibrate from the recorded REST snapshots (the `.http.` file).
//
// Thread-safety: replay_files is reentrant; it owns everything it uses.
#pragma once

#include <absl/status/statusor.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "book/order_book.h"

namespace obr::engine {

// ReplayProgress: how far a replay has got (ReplayOptions::progress).
struct ReplayProgress {
  std::uint64_t bytes_done = 0;  // of the files, as stored (compressed bytes for .gz)
  std::uint64_t bytes_total = 0;
  std::uint64_t frames = 0;
};

struct ReplayOptions {
  std::string venue = "auto";  // auto, or a venue's name (kraken, kucoin, ...): every connection's
  int depth = 0;               // 0: each book's depth comes from its subscribe ack
  std::string symbol;          // empty: every symbol
  // conn_venues: connection name -> venue, for the connections of JSON-lines captures
  // (`obr replay --conn-venue CONN=VENUE`), before `venue`. Every venue must be one
  // replay knows and every name must appear in the input, else the replay fails
  // (InvalidArgument naming it).
  std::map<std::string, std::string, std::less<>> conn_venues;
  std::size_t max_errors_kept = 20;
  // progress, when set, is called about every 64k events (threads == 1: on the replaying
  // thread; otherwise every 200 ms from the calling thread), and once at the end.
  std::function<void(const ReplayProgress&)> progress;
  // threads: recordings (files, a cryptofeed `.ws.` file with its `.http.` files, the parts
  // of a rotated obr recording) replayed
  // side by side on up to this many threads (`obr replay -j N`). The summary, the export
  // and every error are the same as with 1; on_book is then called from the threads
  // (one recording's calls from one thread).
  int threads = 1;
  // The export (`obr replay --export`; engine/book_export.h, docs/replay.md "Export"):
  // a CSV file (gzip when the path ends in .gz) of the books over time, rows every
  // export_every_ns of recorded time and/or at every change, export_levels per side.
  std::string export_path;
  std::int64_t export_every_ns = 0;
  bool export_on_change = false;
  int export_levels = 10;
  // Recorded-time window (`--from`, `--to`, Unix ns): exported rows only inside it; each
  // recording's replay stops at its first event recorded after to_ns (books are built
  // from the start either way). Raw captures, which record no times, are refused.
  std::int64_t from_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_ns = std::numeric_limits<std::int64_t>::max();
  // on_book, when set, is called after every message that changed a book, with the
  // session's venue name ("kraken", "kraken-v1", "kucoin"), the book in its new state and
  // the event's recorded time (ns since the epoch; -1 when the file has no times, as in a
  // raw capture). For tools that need every step of the recorded books (the simulator's
  // recorded market).
  std::function<void(std::string_view venue, std::string_view symbol, const book::OrderBook& book, std::int64_t ts_ns)>
      on_book;
  // stop, when set, is polled between events: once true the replay ends there, reports the
  // books as they stand and marks the summary interrupted (the CLI's SIGINT/SIGTERM).
  const std::atomic<bool>* stop = nullptr;
};

struct ReplayLevel {
  std::string price;
  std::string qty;
  bool operator==(const ReplayLevel&) const = default;
};

struct ReplayBook {
  std::string venue;
  std::string symbol;
  book::BookState state = book::BookState::kSubscribing;
  book::BookCounters counters;
  int depth = 0;
  std::vector<ReplayLevel> bids;  // top 10, best first, exact decimal text
  std::vector<ReplayLevel> asks;
  // The connection the book came from: its file (a raw or cryptofeed capture, an obr
  // recording), or "FILE#CONN" for connection CONN of a JSON-lines capture.
  std::string file;
  // Sequenced venues (KuCoin): the last applied sequence and the levels per side known
  // exact (a partial REST snapshot does not vouch for levels beyond its range). -1: n/a.
  std::int64_t sequence = -1;
  std::int64_t trusted_depth = -1;
};

struct ReplaySummary {
  std::uint64_t frames = 0;     // frames received (recorded lines that are frames)
  std::uint64_t malformed = 0;  // frames the sessions could not use, plus bad_lines
  std::uint64_t bad_lines = 0;  // lines not in their file's format (not frames; counted in malformed)
  double elapsed_s = 0;
  std::vector<ReplayBook> books;
  std::vector<std::string> errors;  // the first max_errors_kept, each "file:line: what"
  std::uint64_t venue_errors = 0;
  // input_errors: files that could not be read to their end (a truncated gzip, a read
  // error), each "file:line: what". The books up to the cut are still reported.
  std::vector<std::string> input_errors;
  bool interrupted = false;  // ReplayOptions::stop ended the replay early
  // What `obr replay` needs to say why nothing was validated (exit status 3).
  std::vector<std::string> symbols_seen;  // every book's symbol before --symbol filtered
  // Connections of a venue whose books calibrate from REST snapshots, replayed without
  // them: the venue, the connection (as ReplayBook::file), and whether it is a cryptofeed
  // `X.ws.N.M` file (whose `X.http.N.M` would hold them).
  struct WithoutRest {
    std::string venue;
    std::string file;
    bool cryptofeed = false;
  };
  std::vector<WithoutRest> without_rest;
  // Later parts of a rotated obr recording replayed without the parts before them, each
  // "FILE (part N of run ID)": their books start empty and validate only from a snapshot
  // the part holds (docs/recording.md "Rotation").
  std::vector<std::string> parts_without_start;

  // all_checks_passed: no book saw a failed check.
  bool all_checks_passed() const noexcept;
  // validated_books: books with at least one check passed (a checksum, or a delta whose
  // sequence continuity was verified).
  std::size_t validated_books() const noexcept;
};

// ReplayVerdict: the exit status of a replay and, for statuses other than 0, one line
// saying why (docs: `obr replay --help`).
//  0  every check passed and at least one book was validated;
//  1  a check failed, or a frame or line could not be used (malformed);
//  2  an input could not be read to its end (the summary still covers what was read);
//  3  nothing was validated (no book frames, a --venue or --symbol matching nothing, KuCoin
//     deltas without their REST snapshots);
//  130 interrupted (SIGINT/SIGTERM): the summary so far.
struct ReplayVerdict {
  int status = 0;
  std::string why;
};
ReplayVerdict replay_verdict(const ReplaySummary& summary, const ReplayOptions& options);

// replay_files replays `files` in order, each connection through its own session, and
// reports every book of every connection (per file; a JSON-lines file's connections in
// the order they first appear). Errors in frames are counted and listed; a file that
// stops before its end (a truncated gzip, a read error) is listed in input_errors with
// the books up to the cut still reported. The call fails (absl::InvalidArgumentError /
// NotFoundError naming the file and line) only for files that cannot be opened or have
// no supported format, a connection whose venue cannot be told (see the top of this
// file), the parts of a rotated recording with one missing or given twice
// (engine/recording_set.h), or options it cannot honour (an unknown venue, a --conn-venue connection that
// no file names).
absl::StatusOr<ReplaySummary> replay_files(const std::vector<std::string>& files, const ReplayOptions& options);

// to_json renders the summary as one JSON object (the `obr replay --json` format).
std::string to_json(const ReplaySummary& summary);

}  // namespace obr::engine
