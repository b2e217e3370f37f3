// engine/venues_impl.h — the engine's one list of venues. engine/venues.cpp is the only file
// in engine/ that includes a venue's headers (the layering test holds it to that): the
// engine, the replayer and the recorder reach every venue through this list, and adding
// a venue is one line there (docs/architecture.md "Adding a venue").
//
// Private to engine/ (not installed).
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "connectors/protocol/venue.h"
#include "engine/engine.h"
#include "engine/venue_replay_impl.h"

namespace obr::engine {

class Conn;

struct Venue {
  const connectors::VenueDescriptor* descriptor;
  // make_replay: a replayed connection of this venue configured from `settings`
  // (settings.mode says a capture or an obr recording).
  std::unique_ptr<VenueReplay> (*make_replay)(const connectors::SessionSettings& settings);
  // make_conn: the engine's live connection of this venue (settings.mode live).
  std::unique_ptr<Conn> (*make_conn)(Engine::Impl& engine, const connectors::SessionSettings& settings);
};

// venues: every venue, in the order recordings are matched against them (a recorded URL
// first, then the first frame).
std::span<const Venue> venues();
// find_venue: the venue named `name`, or nullptr.
const Venue* find_venue(std::string_view name);

}  // namespace obr::engine
