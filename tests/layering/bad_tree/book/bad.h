// A deliberately wrong file: proves the layering check can fail.
#pragma once
#include <boost/asio.hpp>

#include "connectors/kraken/session.h"
