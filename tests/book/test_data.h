// tests/book/test_data.h — locating and reading files under tests/data.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace obr::testing {

// data_path returns OBR_TEST_DATA/<relative>; ctest sets OBR_TEST_DATA for every test.
inline std::string data_path(const std::string& relative) {
  const char* root = std::getenv("OBR_TEST_DATA");
  return std::string(root != nullptr ? root : "tests/data") + "/" + relative;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace obr::testing
