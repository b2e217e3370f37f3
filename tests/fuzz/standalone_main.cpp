// tests/fuzz/standalone_main.cpp — runs a fuzz target without libFuzzer (GCC builds): every
// file named, and every file in every directory named, is passed to
// LLVMFuzzerTestOneInput once. This is how the seed corpus and every input that ever
// crashed a target (tests/fuzz/regressions/) run as ordinary tests, under ASan+UBSan too.
//
//   kraken_v2_fuzz SEEDS_DIR tests/fuzz/regressions/kraken_v2
//
// Exit status: 0 when every input ran (an input that breaks an invariant aborts), 2 when
// a path cannot be read or no input was found.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz runner: cannot read %s\n", p.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg, ec)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (!run_file(f)) return 2;
        ++ran;
      }
    } else {
      if (!run_file(arg)) return 2;
      ++ran;
    }
  }
  if (ran == 0) {
    std::fprintf(stderr, "fuzz runner: no inputs (usage: %s FILE_OR_DIR...)\n", argv[0]);
    return 2;
  }
  std::printf("fuzz runner: %zu inputs ran, no invariant broken\n", ran);
  return 0;
}
