// `obr example`: the smallest end-to-end use of the book core. Reads a Kraken v2 book
// snapshot (by default the worked example from Kraken's checksum guide), loads it from
// the exact number lexemes, prints the ladder, and verifies the CRC32 against the one the
// snapshot carries.
#include <simdjson.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "book/decimal.h"
#include "book/kraken_checksum.h"
#include "book/order_book.h"
#include "tools/commands.h"

namespace obr::tools {
namespace {

constexpr const char* kDefaultFile = "tests/data/kraken-v2/v2_btcusd_worked_example_snapshot_3310070434.json";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

struct RawLevel {
  std::string price, qty;
};

bool read_side(simdjson::ondemand::object& book, const char* key, std::vector<RawLevel>& out) {
  simdjson::ondemand::array arr;
  if (book[key].get_array().get(arr)) return false;
  for (auto entry : arr) {
    simdjson::ondemand::object lvl;
    if (entry.get_object().get(lvl)) return false;
    std::string_view p, q;
    if (lvl["price"].raw_json_token().get(p) || lvl["qty"].raw_json_token().get(q)) return false;
    out.push_back({std::string(trim(p)), std::string(trim(q))});
  }
  return true;
}

}  // namespace

int run_example(int argc, char** argv) {
  if (argc > 1 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::printf("usage: obr example [FILE]\n  FILE defaults to %s\n", kDefaultFile);
    return 0;
  }
  const char* path = argc > 1 ? argv[1] : kDefaultFile;
  simdjson::padded_string json;
  if (simdjson::padded_string::load(path).get(json)) {
    std::fprintf(stderr, "obr example: cannot read %s\n", path);
    return 2;
  }
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array data;
  simdjson::ondemand::object book_json;
  if (parser.iterate(json).get(doc) || doc["data"].get_array().get(data)) {
    std::fprintf(stderr, "obr example: %s: no \"data\" array\n", path);
    return 2;
  }
  std::vector<RawLevel> bids, asks;
  std::uint64_t wire_checksum = 0;
  std::string_view symbol;
  std::string symbol_copy;
  for (auto item : data) {
    if (item.get_object().get(book_json) || book_json["symbol"].get_string().get(symbol)) {
      std::fprintf(stderr, "obr example: %s: book entry without a symbol\n", path);
      return 2;
    }
    symbol_copy = std::string(symbol);
    if (!read_side(book_json, "bids", bids) || !read_side(book_json, "asks", asks) ||
        book_json["checksum"].get_uint64().get(wire_checksum)) {
      std::fprintf(stderr, "obr example: %s: malformed bids/asks/checksum\n", path);
      return 2;
    }
    break;
  }
  // Precision from the snapshot's own lexemes (what Kraken hashes).
  int price_scale = 0, qty_scale = 0;
  for (const auto* side : {&bids, &asks}) {
    for (const RawLevel& l : *side) {
      price_scale = std::max(price_scale, book::decimal_places(l.price));
      qty_scale = std::max(qty_scale, book::decimal_places(l.qty));
    }
  }
  book::OrderBook ob(book::BookConfig{.price_scale = price_scale, .qty_scale = qty_scale, .depth_limit = 10});
  ob.snapshot_begin();
  for (const auto& [side, levels] : {std::pair{book::Side::kBid, &bids}, std::pair{book::Side::kAsk, &asks}}) {
    for (const RawLevel& l : *levels) {
      const book::DecimalResult p = book::parse_decimal(l.price, price_scale);
      const book::DecimalResult q = book::parse_decimal(l.qty, qty_scale);
      if (!p.ok() || !q.ok()) {
        std::fprintf(stderr, "obr example: %s: bad level %s/%s: %s\n", path, l.price.c_str(), l.qty.c_str(),
                     std::string(book::to_string(p.ok() ? q.error : p.error)).c_str());
        return 2;
      }
      ob.snapshot_add(side, book::Level{p.value, q.value});
    }
  }
  ob.snapshot_end();

  std::printf("%s  (price precision %d, qty precision %d)\n\n", symbol_copy.c_str(), price_scale, qty_scale);
  std::printf("  %16s %14s | %-14s %-16s\n", "bid qty", "bid", "ask", "ask qty");
  const std::size_t rows = std::max(ob.bids().size(), ob.asks().size());
  for (std::size_t i = 0; i < rows; ++i) {
    std::string bq, bp, ap, aq;
    if (i < ob.bids().size()) {
      bp = book::to_decimal_string(ob.bids().at(i).price, price_scale);
      bq = book::to_decimal_string(ob.bids().at(i).qty, qty_scale);
    }
    if (i < ob.asks().size()) {
      ap = book::to_decimal_string(ob.asks().at(i).price, price_scale);
      aq = book::to_decimal_string(ob.asks().at(i).qty, qty_scale);
    }
    std::printf("  %16s %14s | %-14s %-16s\n", bq.c_str(), bp.c_str(), ap.c_str(), aq.c_str());
  }
  const std::uint32_t crc = book::kraken_checksum(ob);
  const bool ok = crc == wire_checksum;
  std::printf("\nchecksum computed %u, snapshot says %llu: %s\n", crc,
              static_cast<unsigned long long>(wire_checksum), ok ? "VERIFIED" : "MISMATCH");
  return ok ? 0 : 1;
}

}  // namespace obr::tools
