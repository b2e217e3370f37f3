// connectors/kraken/book_info.h — what a Kraken session knows of one book, for reports
// and tests (v1 and v2 alike).
#pragma once

#include <string>

namespace obr::connectors::kraken {

struct BookInfo {
  std::string symbol;                      // the venue's pair name ("BTC/USD", "XBT/USD" in v1)
  int depth = 0;                           // subscribed depth (from the ack when known)
  bool precision_from_instrument = false;  // scales from the instrument channel, not lexemes
};

}  // namespace obr::connectors::kraken
