// connectors/protocol/json_validator.h — full validation of a JSON text before simdjson's
// On Demand API walks it.
//
//   JsonValidator v;
//   if (!v.valid(frame)) { ... kNotJson ... }   // frame: a loaded FrameBuffer
//   simdjson::dom::element root;
//   if (v.parse(frame, root)) { ... read root ... }  // validated and read in one parse
//
// On Demand parses lazily: a syntax error deep in a document surfaces only when the walk
// reaches it, and after such an error the document must not be touched again. The book
// hot paths stop at the first error. Control messages (events, acks, status, REST
// bodies) are read field by field with fallbacks, so they are validated whole first: a
// document that passes never yields a syntax error later, only missing fields and wrong
// types, which are safe to continue from. Found by fuzzing (tests/fuzz/).
//
// Cost: one DOM parse (about 1 GB/s); control path only.
//
// Thread-safety: one per session.
#pragma once

#include <simdjson.h>

#include <optional>

#include "connectors/protocol/frame_buffer.h"

namespace obr::connectors {

class JsonValidator {
 public:
  // Texts up to kKeepBytes reuse one parser (its buffers, about 14 bytes per input byte,
  // stay allocated); larger ones (full-depth REST snapshots) use a parser freed at once,
  // so what a session keeps is bounded by kKeepBytes, not by the largest body it saw.
  static constexpr std::size_t kKeepBytes = 1 << 20;
  bool valid(const FrameBuffer& text) {
    simdjson::dom::element root;
    if (text.size() > kKeepBytes) {
      simdjson::dom::parser once;
      return once.parse(text.data(), text.size(), false).get(root) == simdjson::SUCCESS;
    }
    return parser_.parse(text.data(), text.size(), false).get(root) == simdjson::SUCCESS;
  }
  // parse: `text` validated and parsed into `root` (a DOM: read it instead of walking the
  // text again with On Demand). `root` and every string view read from it stay valid until
  // the next valid() or parse(). A text past kKeepBytes uses a parser kept only until then.
  bool parse(const FrameBuffer& text, simdjson::dom::element& root) {
    big_.reset();
    simdjson::dom::parser* p = &parser_;
    if (text.size() > kKeepBytes) p = &big_.emplace();
    return p->parse(text.data(), text.size(), false).get(root) == simdjson::SUCCESS;
  }

 private:
  simdjson::dom::parser parser_;
  std::optional<simdjson::dom::parser> big_;
};

}  // namespace obr::connectors
