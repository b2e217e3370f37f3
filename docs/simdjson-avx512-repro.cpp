// docs/simdjson-avx512-repro.cpp — stand-alone check of simdjson's On Demand kernels on
// obr's recorded frames (see docs/simdjson-avx512.md). Parses every line of an NDJSON file
// with one reused ondemand::parser, visits every value, and prints a sum that must be the
// same whatever the kernel. Each frame is copied to a heap block of exactly
// size + SIMDJSON_PADDING bytes so that a read or write past it is visible to the checkers.
//   g++ -std=c++20 -O2 -march=native -DSIMDJSON_EXCEPTIONS=0 simdjson-avx512-repro.cpp -lsimdjson
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>
namespace od = simdjson::ondemand;
#define STR2(x) #x
#define STR(x) STR2(x)
static bool visit(od::value v, std::size_t& sum) {
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (v.get_object().get(o)) return false;
      for (auto f : o) {
        std::string_view k;
        if (f.unescaped_key().get(k)) return false;
        sum += k.size();
        od::value c;
        if (f.value().get(c) || !visit(c, sum)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a)) return false;
      for (auto e : a) {
        od::value c;
        if (e.get(c) || !visit(c, sum)) return false;
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      sum += s.size();
      return true;
    }
    case od::json_type::number: {
      double d;
      if (v.get_double().get(d)) return false;
      sum += d > 0;
      return true;
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return false;
      sum += b;
      return true;
    }
    case od::json_type::null:
      return v.is_null().value_unsafe();
  }
  return false;
}
int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.ndjson [ROUNDS]\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::fprintf(stderr, "compiled-in kernel: %s, library's active kernel: %s\n", STR(SIMDJSON_BUILTIN_IMPLEMENTATION),
               simdjson::get_active_implementation()->name().c_str());
  od::parser parser;
  std::size_t sum = 0, frames = 0;
  for (int r = 0; r < rounds; ++r) {
    for (const std::string& l : lines) {
      auto buf = std::make_unique<char[]>(l.size() + simdjson::SIMDJSON_PADDING);
      std::memcpy(buf.get(), l.data(), l.size());
      od::document doc;
      od::value root;
      if (parser.iterate(buf.get(), l.size(), l.size() + simdjson::SIMDJSON_PADDING).get(doc) ||
          doc.get_value().get(root) || !visit(root, sum)) {
        std::fprintf(stderr, "parse error at frame %zu\n", frames);
        return 1;
      }
      ++frames;
    }
  }
  std::printf("frames %zu sum %zu\n", frames, sum);
}
