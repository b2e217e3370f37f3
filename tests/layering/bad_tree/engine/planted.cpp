// A planted violation: an engine file other than venues.cpp including a venue's header.
#include "connectors/protocol/venue.h"
#include "connectors/kraken/v2_session.h"
