// The public API's entry points: the headers a user of obr::book, obr::connectors and
// obr::engine includes. Compiled against the installed package only, so every header they
// include must be installed too. The packaging test reads this list (the #include lines
// below): each must be installed, and every installed header must be reached from them
// (run_packaging_test.cmake). Include by the installed include directory, as a consumer
// does: "engine/engine.h" (<prefix>/include/obr is the targets' include directory).
#include "book/book_side.h"
#include "book/book_state.h"
#include "book/crc32.h"
#include "book/decimal.h"
#include "book/digit_text.h"
#include "book/kraken_checksum.h"
#include "book/level.h"
#include "book/okx_checksum.h"
#include "book/order_book.h"
#include "book/sequence_tracker.h"
#include "connectors/binance/depth_session.h"
#include "connectors/binance/venue.h"
#include "connectors/bybit/venue.h"
#include "connectors/kraken/v1_session.h"
#include "connectors/kraken/v2_session.h"
#include "connectors/kraken/venue.h"
#include "connectors/kucoin/spot_session.h"
#include "connectors/kucoin/venue.h"
#include "connectors/okx/venue.h"
#include "connectors/protocol/session.h"
#include "connectors/protocol/venue.h"
#include "engine/capture_reader.h"
#include "engine/config_file.h"
#include "engine/consolidated.h"
#include "engine/engine.h"
#include "engine/latency_histogram.h"
#include "engine/observability.h"
#include "engine/recorder.h"
#include "engine/replayer.h"
#include "engine/top_of_book.h"

static_assert(obr::connectors::VenueSession<obr::connectors::kraken::V2Session>);
static_assert(obr::connectors::VenueSession<obr::connectors::kucoin::SpotSession>);
static_assert(obr::connectors::VenueSession<obr::connectors::binance::DepthSession>);
