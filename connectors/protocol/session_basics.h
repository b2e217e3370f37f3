// connectors/protocol/session_basics.h — what every venue session keeps for its frames and
// its connection, whatever the venue: the count of frames it could not use (reported one by
// one) and the close it asked for (asked once). A session's internals derive from it
// (docs/architecture.md "Shared pieces").
//
//   struct MySession::Impl : SessionBasics { ... };
//   if (bad_shape) return im.bad(sink, FrameError::kUnexpectedShape, "what was wrong");
//   im.close(sink, "no pong within pong_timeout");   // once, until the next connection
//
// Thread-safety: none; owned by one session.
#pragma once

#include <cstdint>
#include <string_view>

#include "connectors/protocol/session.h"

namespace obr::connectors {

struct SessionBasics {
  std::uint64_t malformed = 0;  // frames that could not be used (malformed_frames())
  bool closing = false;         // a close was asked for; the session clears it when a connection opens

  // bad counts a frame that could not be used and reports it (`detail`: static text or a
  // view into the frame, never an allocation).
  void bad(SessionSink& sink, FrameError e, std::string_view detail) {
    ++malformed;
    sink.frame_error(e, detail);
  }
  // close asks the driver to close the connection, once.
  void close(SessionSink& sink, std::string_view why) {
    if (closing) return;
    closing = true;
    sink.close_connection(why);
  }
};

}  // namespace obr::connectors
