// tests/common/expected_json.h — reading the expected books written by the independent
// references in tests/reference/ (`"bids": [["price","qty"], …]`).
#pragma once

#include <simdjson.h>

#include <string>
#include <vector>

namespace obr::testing {

// level_pairs returns one side of an expected book as [price, qty] text pairs, best first.
inline std::vector<std::vector<std::string>> level_pairs(simdjson::dom::element book, const char* side) {
  std::vector<std::vector<std::string>> out;
  const simdjson::dom::array levels = book[side].get_array().value_unsafe();
  for (simdjson::dom::element lvl : levels) {
    out.push_back(
        {std::string(lvl.at(0).get_string().value_unsafe()), std::string(lvl.at(1).get_string().value_unsafe())});
  }
  return out;
}

}  // namespace obr::testing
