// A planted violation: an engine file other than venues.cpp including a venue's header.
#include "connectors/kraken/v2_session.h"
#include "connectors/protocol/venue.h"
