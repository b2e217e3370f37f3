#include <cstdio>

#include "book/decimal.h"
#include "book/kraken_checksum.h"
#include "book/order_book.h"

int main() {
  obr::book::OrderBook book(obr::book::BookConfig{.price_scale = 1, .qty_scale = 8, .depth_limit = 10});
  book.apply(obr::book::Side::kAsk, obr::book::parse_decimal("45285.2", 1).value,
             obr::book::parse_decimal("0.00100000", 8).value);
  std::printf("consumer checksum %u\n", obr::book::kraken_checksum(book));
  return obr::book::kraken_checksum(book) == 2099347975u ? 0 : 1;
}
