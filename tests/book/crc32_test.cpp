#include "book/crc32.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace obr::book {
namespace {

// zlib's value, the reference.
std::uint32_t zlib_crc(std::uint32_t crc, const unsigned char* p, std::size_t len) {
  return static_cast<std::uint32_t>(crc32_z(crc, p, len));
}

// Deterministic pseudo-random bytes (xorshift64*), so failures reproduce.
std::vector<unsigned char> random_bytes(std::size_t n, std::uint64_t seed) {
  std::vector<unsigned char> out(n);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (auto& b : out) {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    b = static_cast<unsigned char>((s * 0x2545F4914F6CDD1DULL) >> 56);
  }
  return out;
}

TEST(Crc32, KnownVectors) {
  const std::string check = "123456789";
  EXPECT_EQ(crc32(0, check.data(), check.size()), 0xCBF43926u);
  const char empty[1] = {0};
  EXPECT_EQ(crc32(0, empty, 0), 0u);
  EXPECT_EQ(crc32(0x12345678u, empty, 0), 0x12345678u);  // nothing to add
  const std::string fox = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(crc32(0, fox.data(), fox.size()), 0x414FA339u);
  const std::vector<unsigned char> zeros(32, 0);
  EXPECT_EQ(crc32(0, zeros.data(), zeros.size()), 0x190A55ADu);
  const std::vector<unsigned char> ones(32, 0xFF);
  EXPECT_EQ(crc32(0, ones.data(), ones.size()), 0xFF6CAB0Bu);
}

TEST(Crc32, NullDataReturnsZeroLikeZlib) {
  EXPECT_EQ(crc32(0xDEADBEEFu, nullptr, 0), 0u);
  EXPECT_EQ(crc32(0xDEADBEEFu, nullptr, 0), zlib_crc(0xDEADBEEFu, nullptr, 0));
}

TEST(Crc32, MatchesZlibForEveryLengthUpTo1024) {
  const std::vector<unsigned char> data = random_bytes(1024, 1);
  for (std::size_t len = 0; len <= data.size(); ++len) {
    ASSERT_EQ(crc32(0, data.data(), len), zlib_crc(0, data.data(), len)) << "len " << len;
  }
}

TEST(Crc32, MatchesZlibAtUnalignedOffsets) {
  // Copy into a fresh allocation per length so that the input ends exactly at the end of
  // the buffer (AddressSanitizer then catches any read past it).
  const std::vector<unsigned char> source = random_bytes(1024 + 16, 2);
  for (std::size_t offset = 1; offset < 16; offset += 2) {
    for (std::size_t len = 0; len <= 1024; ++len) {
      const std::vector<unsigned char> buf(source.begin(), source.begin() + static_cast<std::ptrdiff_t>(offset + len));
      const unsigned char* p = buf.data() + offset;
      ASSERT_EQ(crc32(0, p, len), zlib_crc(0, p, len)) << "offset " << offset << " len " << len;
    }
  }
}

TEST(Crc32, NonzeroInitialCrcMatchesZlib) {
  const std::vector<unsigned char> data = random_bytes(1024, 3);
  const std::uint32_t inits[] = {1u, 0xFFFFFFFFu, 0xCBF43926u, 0x80000000u, 0x0000FFFFu};
  for (const std::uint32_t init : inits) {
    for (std::size_t len = 0; len <= 300; ++len) {
      ASSERT_EQ(crc32(init, data.data(), len), zlib_crc(init, data.data(), len)) << "init " << init << " len " << len;
    }
    EXPECT_EQ(crc32(init, data.data(), data.size()), zlib_crc(init, data.data(), data.size()));
  }
}

TEST(Crc32, ChainsLikeOneCall) {
  const std::vector<unsigned char> data = random_bytes(700, 4);
  const std::uint32_t whole = zlib_crc(0, data.data(), data.size());
  ASSERT_EQ(crc32(0, data.data(), data.size()), whole);
  for (std::size_t split = 0; split <= data.size(); ++split) {
    const std::uint32_t first = crc32(0, data.data(), split);
    ASSERT_EQ(crc32(first, data.data() + split, data.size() - split), whole) << "split " << split;
    // Mixed with zlib either way round.
    ASSERT_EQ(zlib_crc(first, data.data() + split, data.size() - split), whole) << "split " << split;
    ASSERT_EQ(crc32(zlib_crc(0, data.data(), split), data.data() + split, data.size() - split), whole)
        << "split " << split;
  }
}

TEST(Crc32, ManySmallPieces) {
  const std::vector<unsigned char> data = random_bytes(2000, 5);
  std::uint32_t crc = 0;
  std::size_t pos = 0;
  for (std::size_t piece = 0; pos < data.size(); piece = (piece * 7 + 3) % 70) {
    const std::size_t n = std::min(piece, data.size() - pos);
    crc = crc32(crc, data.data() + pos, n);
    pos += n;
  }
  EXPECT_EQ(crc, zlib_crc(0, data.data(), data.size()));
}

TEST(Crc32, LargeInput) {
  const std::vector<unsigned char> data = random_bytes(1 << 20, 6);
  EXPECT_EQ(crc32(0, data.data(), data.size()), zlib_crc(0, data.data(), data.size()));
  EXPECT_EQ(crc32(0, data.data() + 3, data.size() - 10), zlib_crc(0, data.data() + 3, data.size() - 10));
}

TEST(Crc32, ReportsAcceleration) {
  // Informational: the result is the same either way (tested above).
  RecordProperty("accelerated", crc32_accelerated() ? "yes" : "no");
#if defined(__x86_64__)
  if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
    EXPECT_TRUE(crc32_accelerated());
  }
#endif
}

}  // namespace
}  // namespace obr::book
