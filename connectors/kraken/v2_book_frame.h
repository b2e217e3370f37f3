// connectors/kraken/v2_book_frame.h — the strict scanner for the compact book frame
// Kraken v2 sends, byte for byte:
//
//   {"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],
//    "asks":[{"price":63395.2,"qty":0.05500000}],"checksum":261162761,
//    "timestamp":"2026-08-02T03:35:51.661460Z"}]}
//
// (one line on the wire; "snapshot" for type; the timestamp may be absent). Every byte is
// checked against that grammar: JSON numbers by the JSON number rule, strings ASCII from
// space to DEL without escapes, no whitespace, nothing after the last brace. A frame in any other
// shape or spelling (another key order, whitespace, escapes, several entries, non-ASCII, a
// checksum of 20 digits) is not an error here: scan_compact_book_frame returns false and
// the session reads it with simdjson, which decides what it is. A frame this accepts is
// valid JSON, and simdjson reads the same symbol, levels and checksum from it
// (tests/connectors/kraken_v2_book_frame_test.cpp compares the two on every recorded
// frame and on mutations of them; the v2 fuzz target runs both sessions side by side).
//
// Why: 97 % of the frames of a v2 session have this shape, and walking them with
// simdjson's On Demand API (find_field, get_string, count_elements) cost more than the
// book work itself (bench/README.md, replay_bench).
//
// Precondition: `frame` lies in a padded buffer with at least 16 zero bytes after its end
// (FrameBuffer with SIMDJSON_PADDING): scanning stops at those zeros.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "connectors/kraken/book_set.h"

namespace obr::connectors::kraken::detail {

struct CompactBookFrame {
  bool snapshot = false;
  std::string_view symbol;     // a view into the frame
  std::uint64_t checksum = 0;  // at most 19 digits
};

// scan_compact_book_frame fills `out`, `bids` and `asks` (cleared first; views into the
// frame) and returns true when `frame` is a book frame in the compact shape above; false
// otherwise, with the outputs unspecified. No allocation once the vectors have grown.
bool scan_compact_book_frame(std::string_view frame, CompactBookFrame& out, std::vector<RawLevel>& bids,
                             std::vector<RawLevel>& asks) noexcept;

// is_compact_heartbeat: the frame is exactly {"channel":"heartbeat"}.
constexpr bool is_compact_heartbeat(std::string_view frame) noexcept { return frame == R"({"channel":"heartbeat"})"; }

}  // namespace obr::connectors::kraken::detail
