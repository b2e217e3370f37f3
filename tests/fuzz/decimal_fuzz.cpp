// tests/fuzz/decimal_fuzz.cpp — the decimal parser (book/decimal.h) on any text.
//
// Input: one byte choosing the scale (0..18), then the text. Properties checked:
// - an accepted text formats back to a text that parses to the same value;
// - decimal_places agrees with parse_decimal on validity (a text it calls invalid is
//   refused by the parser at every scale);
// - an error's offset lies within the text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "book/decimal.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int scale = data[0] % 19;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const obr::book::DecimalResult r = obr::book::parse_decimal(text, scale);
  if (r.ok()) {
    char buf[obr::book::kMaxDecimalChars];
    const std::size_t n = obr::book::format_decimal(r.value, scale, buf);
    const obr::book::DecimalResult back = obr::book::parse_decimal(std::string_view(buf, n), scale);
    if (!back.ok() || back.value != r.value) obr::fuzz::invariant_failed("format/parse round trip", text);
    if (obr::book::decimal_places(text) < 0) obr::fuzz::invariant_failed("parsed a text decimal_places refuses", text);
  } else {
    if (r.error_offset > text.size()) obr::fuzz::invariant_failed("error offset beyond the text", text);
    if (obr::book::to_string(r.error).empty()) obr::fuzz::invariant_failed("error without a name", text);
  }
  return 0;
}
