// `obr example`: the smallest end-to-end use of obr. Feeds one Kraken v2 book snapshot
// (by default the worked example from Kraken's checksum guide) to the same V2Session that
// replays and runs live, prints the ladder, and says whether the CRC32 computed from the
// integer book matched the snapshot's own.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "book/decimal.h"
#include "book/kraken_checksum.h"
#include "connectors/kraken/v2_session.h"
#include "tools/commands.h"

namespace obr::tools {
namespace {

constexpr const char* kDefaultFile = "tests/data/kraken-v2/v2_btcusd_worked_example_snapshot_3310070434.json";

class ExampleSink : public connectors::NullSink {
 public:
  void frame_error(connectors::FrameError e, std::string_view detail) override {
    std::fprintf(stderr, "obr example: %s: %.*s\n", std::string(connectors::to_string(e)).c_str(),
                 static_cast<int>(detail.size()), detail.data());
  }
};

}  // namespace

int run_example(int argc, char** argv) {
  if (argc > 1 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::printf("usage: obr example [FILE]\n  FILE: one Kraken v2 book snapshot frame; default %s\n", kDefaultFile);
    return 0;
  }
  const char* path = argc > 1 ? argv[1] : kDefaultFile;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "obr example: cannot read %s\n", path);
    return 2;
  }
  std::ostringstream text;
  text << in.rdbuf();
  connectors::kraken::V2Session session(connectors::kraken::V2Config{.depth = 10, .track_any_symbol = true});
  ExampleSink sink;
  session.on_frame(text.str(), 0, sink);
  if (session.book_count() == 0) {
    std::fprintf(stderr, "obr example: %s: no Kraken v2 book snapshot found\n", path);
    return 2;
  }
  const book::OrderBook& ob = session.book(0);
  const int ps = ob.price_scale(), qs = ob.qty_scale();
  std::printf("%s  (price precision %d, qty precision %d, from the snapshot's lexemes)\n\n",
              session.info(0).symbol.c_str(), ps, qs);
  std::printf("  %16s %14s | %-14s %-16s\n", "bid qty", "bid", "ask", "ask qty");
  const std::size_t rows = std::max(ob.bids().size(), ob.asks().size());
  for (std::size_t i = 0; i < rows; ++i) {
    const bool hb = i < ob.bids().size(), ha = i < ob.asks().size();
    std::printf("  %16s %14s | %-14s %-16s\n", hb ? book::to_decimal_string(ob.bids().at(i).qty, qs).c_str() : "",
                hb ? book::to_decimal_string(ob.bids().at(i).price, ps).c_str() : "",
                ha ? book::to_decimal_string(ob.asks().at(i).price, ps).c_str() : "",
                ha ? book::to_decimal_string(ob.asks().at(i).qty, qs).c_str() : "");
  }
  const bool ok = ob.counters().checks_passed == 1;
  std::printf("\nchecksum computed %u: %s; book state %s\n", book::kraken_checksum(ob),
              ok ? "VERIFIED against the snapshot's" : "MISMATCH with the snapshot's",
              std::string(book::to_string(ob.state())).c_str());
  return ok ? 0 : 1;
}

}  // namespace obr::tools
