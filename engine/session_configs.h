// engine/session_configs.h — how a venue session is configured from what the engine was
// given, in one place: the engine builds its sessions with these, and the replayer builds
// the sessions of an obr recording with the same functions from the recording's `config`
// lines, so a replay runs the same session configuration the live run did.
//
// Internal to engine/ (not installed as API).
#pragma once

#include "connectors/kraken/v2_session.h"
#include "connectors/kucoin/spot_session.h"
#include "engine/engine.h"
#include "engine/recorder.h"

namespace obr::engine {

inline RecordedConfig recorded_kraken(const EngineConfig& c) {
  RecordedConfig r;
  r.symbols = c.kraken.symbols;
  r.depth = c.kraken.depth;
  r.max_frame_bytes = c.max_message_bytes;
  return r;
}

inline RecordedConfig recorded_kucoin(const EngineConfig& c) {
  RecordedConfig r;
  r.symbols = c.kucoin.symbols;
  r.max_frame_bytes = c.max_message_bytes;
  r.rest_base = c.kucoin.rest_base;
  r.credentials = !c.kucoin.credentials.empty();
  return r;
}

inline connectors::kraken::V2Config kraken_session_config(const RecordedConfig& r) {
  connectors::kraken::V2Config v;
  v.depth = r.depth;
  v.max_frame_bytes = r.max_frame_bytes;
  return v;
}

// kucoin_session_config: `credentials` sign the snapshot requests; a replay passes
// placeholders when the recording says there were credentials (they choose the endpoint,
// and the signature itself never reaches a book).
inline connectors::kucoin::SpotConfig kucoin_session_config(const RecordedConfig& r,
                                                            const connectors::kucoin::Credentials& credentials) {
  connectors::kucoin::SpotConfig s;
  s.rest_base = r.rest_base;
  s.credentials = credentials;
  s.max_frame_bytes = r.max_frame_bytes;
  return s;
}

}  // namespace obr::engine
