// engine/venues.cpp — the list of venues (engine/venues_impl.h). The only engine file that
// includes venue headers: one line per venue below.
#include <string>

#include "connectors/binance/depth_session.h"
#include "connectors/binance/venue.h"
#include "connectors/bybit/orderbook_session.h"
#include "connectors/bybit/venue.h"
#include "connectors/kraken/v1_session.h"
#include "connectors/kraken/v2_session.h"
#include "connectors/kraken/venue.h"
#include "connectors/kucoin/spot_session.h"
#include "connectors/kucoin/venue.h"
#include "connectors/okx/books_session.h"
#include "connectors/okx/venue.h"
#include "engine/session_conn_impl.h"
#include "engine/venues_impl.h"

namespace obr::engine {
namespace {

using connectors::SessionMode;
using connectors::SessionSettings;

template <class Session, const connectors::VenueDescriptor& kVenue, auto kConfig>
std::unique_ptr<VenueReplay> make_replay(const SessionSettings& s) {
  return std::make_unique<SessionReplay<Session>>(kVenue, kConfig(s), s.mode == SessionMode::kExact);
}

template <class Session, const connectors::VenueDescriptor& kVenue, auto kConfig>
std::unique_ptr<Conn> make_conn(Engine::Impl& engine, const SessionSettings& s) {
  return std::make_unique<SessionConn<Session, decltype(kConfig(s))>>(engine, kVenue, kConfig(s));
}

// One entry per venue: its descriptor, its session type, its settings → configuration.
#define OBR_VENUE(Session, descriptor, config) \
  Venue { &descriptor, make_replay<Session, descriptor, config>, make_conn<Session, descriptor, config> }

connectors::kraken::SessionConfig kraken_v2_config(const SessionSettings& s) {
  return connectors::kraken::session_config(s, connectors::kraken::kV2Venue.default_endpoint);
}
connectors::kraken::SessionConfig kraken_v1_config(const SessionSettings& s) {
  return connectors::kraken::session_config(s, connectors::kraken::kV1Venue.default_endpoint);
}
connectors::kucoin::SpotConfig kucoin_config(const SessionSettings& s) { return connectors::kucoin::session_config(s); }

connectors::binance::DepthConfig binance_config(const SessionSettings& s) {
  return connectors::binance::session_config(s, connectors::binance::Market::kSpot);
}
connectors::binance::DepthConfig binance_usdm_config(const SessionSettings& s) {
  return connectors::binance::session_config(s, connectors::binance::Market::kUsdm);
}

connectors::bybit::OrderbookConfig bybit_spot_config(const SessionSettings& s) {
  return connectors::bybit::session_config(s, connectors::bybit::Category::kSpot);
}
connectors::bybit::OrderbookConfig bybit_linear_config(const SessionSettings& s) {
  return connectors::bybit::session_config(s, connectors::bybit::Category::kLinear);
}
connectors::bybit::OrderbookConfig bybit_inverse_config(const SessionSettings& s) {
  return connectors::bybit::session_config(s, connectors::bybit::Category::kInverse);
}

connectors::okx::BooksConfig okx_config(const SessionSettings& s) { return connectors::okx::session_config(s); }

const Venue kVenues[] = {
    OBR_VENUE(connectors::kraken::V2Session, connectors::kraken::kV2Venue, kraken_v2_config),
    OBR_VENUE(connectors::kraken::V1Session, connectors::kraken::kV1Venue, kraken_v1_config),
    OBR_VENUE(connectors::kucoin::SpotSession, connectors::kucoin::kSpotVenue, kucoin_config),
    // USD-M before spot: its recorded URLs also hold spot's marker.
    OBR_VENUE(connectors::binance::DepthSession, connectors::binance::kUsdmVenue, binance_usdm_config),
    OBR_VENUE(connectors::binance::DepthSession, connectors::binance::kSpotVenue, binance_config),
    OBR_VENUE(connectors::bybit::OrderbookSession, connectors::bybit::kSpotVenue, bybit_spot_config),
    OBR_VENUE(connectors::bybit::OrderbookSession, connectors::bybit::kLinearVenue, bybit_linear_config),
    OBR_VENUE(connectors::bybit::OrderbookSession, connectors::bybit::kInverseVenue, bybit_inverse_config),
    OBR_VENUE(connectors::okx::BooksSession, connectors::okx::kVenue, okx_config),
};
#undef OBR_VENUE

}  // namespace

std::span<const Venue> venues() { return kVenues; }

const Venue* find_venue(std::string_view name) {
  for (const Venue& v : kVenues) {
    if (v.descriptor->name == name) return &v;
  }
  return nullptr;
}

std::unique_ptr<Conn> make_conn(Engine::Impl& engine, const VenueConfig& venue) {
  const Venue* v = find_venue(venue.venue);
  return v == nullptr ? nullptr : v->make_conn(engine, engine.settings(venue));
}

bool is_venue(std::string_view venue) noexcept { return find_venue(venue) != nullptr; }

std::string venue_names() {
  std::string out;
  for (const Venue& v : kVenues) {
    if (!out.empty()) out += ", ";
    out += v.descriptor->name;
  }
  return out;
}

}  // namespace obr::engine
