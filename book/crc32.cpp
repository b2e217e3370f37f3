// book/crc32.cpp — CRC-32 with a PCLMULQDQ folding fast path (see crc32.h).
#include "book/crc32.h"

#include <zlib.h>

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace obr::book {
namespace {

// zlib's crc32 over any length (crc32_z takes a size_t length, zlib >= 1.2.9).
inline std::uint32_t crc32_zlib(std::uint32_t crc, const unsigned char* p, std::size_t len) noexcept {
  return static_cast<std::uint32_t>(crc32_z(crc, p, len));
}

#if defined(__x86_64__)

// ---------------------------------------------------------------------------------------
// Constants. The method is the one of Intel's white paper "Fast CRC Computation for
// Generic Polynomials Using PCLMULQDQ Instruction" (Gopal et al., 2009), in its
// bit-reflected form as used by the Linux kernel (arch/x86/crypto/crc32-pclmul_asm.S),
// zlib-ng and Chromium's zlib (crc32_simd.c). The constants are derived here at compile
// time from the polynomial and checked against the values published there.
//
// In the reflected domain a 64-bit lane holds the first-read bit in bit 0 (the highest
// degree). Folding a 16-byte accumulator forward by D bits multiplies its earlier half
// by x^(D+32) mod P and its later half by x^(D-32) mod P; each constant is the 32-bit
// remainder bit-reflected and shifted left by one (a 33-bit value) so that the 64x33-bit
// carry-less product lands where the next 16 bytes of data are xored in.
// ---------------------------------------------------------------------------------------

constexpr std::uint64_t kPoly = 0x104C11DB7;  // x^32 + x^26 + ... + 1, bit i = x^i

// x^e mod P, normal (unreflected) bit order.
constexpr std::uint32_t xpow_mod(unsigned e) {
  std::uint64_t r = 1;
  for (unsigned i = 0; i < e; ++i) {
    r <<= 1;
    if ((r >> 32) != 0) r ^= kPoly;
  }
  return static_cast<std::uint32_t>(r);
}

// Reverses the low `bits` bits of v.
constexpr std::uint64_t reflect(std::uint64_t v, unsigned bits) {
  std::uint64_t r = 0;
  for (unsigned i = 0; i < bits; ++i) {
    if (((v >> i) & 1) != 0) r |= std::uint64_t{1} << (bits - 1 - i);
  }
  return r;
}

// The fold constant for x^e: reflect32(x^e mod P) << 1.
constexpr std::uint64_t fold_constant(unsigned e) { return reflect(xpow_mod(e), 32) << 1; }

// floor(x^64 / P), the Barrett reduction quotient (33 bits).
constexpr std::uint64_t barrett_mu() {
  std::uint64_t rem = 0;  // running remainder of x^64 divided by P, bit by bit
  std::uint64_t q = 0;
  for (int d = 64; d >= 0; --d) {
    rem = (rem << 1) | (d == 64 ? 1u : 0u);
    q <<= 1;
    if ((rem >> 32) != 0) {
      rem ^= kPoly;
      q |= 1;
    }
  }
  return q;
}

// Fold by 4 blocks (512 bits): the main loop over 64 bytes per iteration.
constexpr std::uint64_t kK1 = fold_constant(4 * 128 + 32);
constexpr std::uint64_t kK2 = fold_constant(4 * 128 - 32);
// Fold by 3 and 2 blocks: combine the four accumulators into one in parallel.
constexpr std::uint64_t kK384a = fold_constant(3 * 128 + 32);
constexpr std::uint64_t kK384b = fold_constant(3 * 128 - 32);
constexpr std::uint64_t kK256a = fold_constant(2 * 128 + 32);
constexpr std::uint64_t kK256b = fold_constant(2 * 128 - 32);
// Fold by 1 block (128 bits); k4 also reduces 128 to 96 bits at the end.
constexpr std::uint64_t kK3 = fold_constant(128 + 32);
constexpr std::uint64_t kK4 = fold_constant(128 - 32);
// 96 to 64 bits.
constexpr std::uint64_t kK5 = fold_constant(64);
// Barrett reduction 64 to 32 bits: P and mu = floor(x^64 / P), both reflected in 33 bits.
constexpr std::uint64_t kPolyR = reflect(kPoly, 33);
constexpr std::uint64_t kMuR = reflect(barrett_mu(), 33);

// The published values (Intel paper appendix; Linux crc32-pclmul_asm.S R1..R5, RUpoly).
static_assert(kK1 == 0x154442bd4 && kK2 == 0x1c6e41596);
static_assert(kK3 == 0x1751997d0 && kK4 == 0x0ccaa009e);
static_assert(kK5 == 0x163cd6124);
static_assert(kPolyR == 0x1db710641 && kMuR == 0x1f7011641);
// (zlib-ng's crc32_fold uses the same 3- and 2-block values.)
static_assert(kK384a == 0x03db1ecdc && kK384b == 0x174359406);
static_assert(kK256a == 0x0f1da05aa && kK256b == 0x15a546366);

// pshufb masks for a variable byte shift: 16 bytes of loadu(kShift + 16 + r) shift a
// register right (toward byte 0) by r bytes, loadu(kShift + r) shift it left by 16 - r
// bytes; 0x80 bytes produce zeros. Entries in the high-bit-clear range are the indices.
alignas(16) constexpr unsigned char kShift[48] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,  //
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,  //
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
};

#define OBR_CRC32_TARGET __attribute__((target("pclmul,sse4.1")))

OBR_CRC32_TARGET inline __m128i load16(const unsigned char* p) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

OBR_CRC32_TARGET inline __m128i constants(std::uint64_t earlier, std::uint64_t later) noexcept {
  return _mm_set_epi64x(static_cast<long long>(later), static_cast<long long>(earlier));
}

// fold moves the accumulator forward by the distance `k` was built for: its earlier
// 8 bytes times k's low lane, xor its later 8 bytes times k's high lane.
OBR_CRC32_TARGET inline __m128i fold(__m128i acc, __m128i k) noexcept {
  return _mm_xor_si128(_mm_clmulepi64_si128(acc, k, 0x00), _mm_clmulepi64_si128(acc, k, 0x11));
}

// reduce returns the CRC register (not inverted) of the 16-byte message `x`: (x * x^32)
// mod P. Leading zero bytes in `x` do not change the result.
OBR_CRC32_TARGET inline std::uint32_t reduce(__m128i x) noexcept {
  const __m128i k4 = constants(0, kK4);  // used from the high lane (imm 0x10)
  const __m128i k5 = constants(kK5, 0);
  const __m128i barrett = constants(kPolyR, kMuR);
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
  // 128 -> 96 bits: the earlier 8 bytes times x^96 mod P, xor the later 8 bytes.
  x = _mm_xor_si128(_mm_clmulepi64_si128(x, k4, 0x10), _mm_srli_si128(x, 8));
  // 96 -> 64 bits: the earlier 4 bytes times x^64 mod P, xor the remaining 8.
  x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), k5, 0x00), _mm_srli_si128(x, 4));
  // Barrett: T1 = floor(R / x^32) * mu, T2 = floor(T1 / x^32) * P, CRC = (R xor T2) mod x^32
  // (in reflected terms: the low 32 bits times mu', the low 32 bits of that times P').
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x, low32), barrett, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
  x = _mm_xor_si128(x, t);
  return static_cast<std::uint32_t>(_mm_extract_epi32(x, 1));
}

// crc32_fold: CRC register (pre-inverted `reg`, result not inverted) over len >= 16 bytes.
OBR_CRC32_TARGET std::uint32_t crc32_fold(std::uint32_t reg, const unsigned char* p, std::size_t len) noexcept {
  const __m128i k3k4 = constants(kK3, kK4);
  // The register enters as an xor into the first 4 bytes of the message.
  __m128i x0 = _mm_xor_si128(load16(p), _mm_cvtsi32_si128(static_cast<int>(reg)));
  p += 16;
  len -= 16;

  if (len >= 48) {
    // Four independent accumulators hide the multiply latency: 64 bytes per iteration.
    const __m128i k1k2 = constants(kK1, kK2);
    __m128i x1 = load16(p);
    __m128i x2 = load16(p + 16);
    __m128i x3 = load16(p + 32);
    p += 48;
    len -= 48;
    while (len >= 64) {
      x0 = _mm_xor_si128(fold(x0, k1k2), load16(p));
      x1 = _mm_xor_si128(fold(x1, k1k2), load16(p + 16));
      x2 = _mm_xor_si128(fold(x2, k1k2), load16(p + 32));
      x3 = _mm_xor_si128(fold(x3, k1k2), load16(p + 48));
      p += 64;
      len -= 64;
    }
    // x0..x3 are consecutive 16-byte blocks: move each to x3's place in parallel.
    x0 = _mm_xor_si128(_mm_xor_si128(fold(x0, constants(kK384a, kK384b)), fold(x1, constants(kK256a, kK256b))),
                       _mm_xor_si128(fold(x2, k3k4), x3));
  }

  while (len >= 16) {
    x0 = _mm_xor_si128(fold(x0, k3k4), load16(p));
    p += 16;
    len -= 16;
  }

  if (len > 0) {
    // r = len (1..15) bytes remain. The message is x0's 16 bytes then those r bytes;
    // regroup it as A = (16 - r zero bytes, x0's first r bytes) followed by
    // B = (x0's last 16 - r bytes, the r tail bytes), and fold A onto B. The tail bytes
    // are the end of the 16 bytes that end the input (which holds at least 16 bytes).
    const __m128i last = load16(p + len - 16);
    const __m128i to_later = load16(kShift + len);         // shift left by 16 - r bytes
    const __m128i to_earlier = load16(kShift + 16 + len);  // shift right by r bytes
    const __m128i a = _mm_shuffle_epi8(x0, to_later);
    // blendv takes `last` where the mask byte's high bit is set: the top r bytes.
    const __m128i b = _mm_blendv_epi8(_mm_shuffle_epi8(x0, to_earlier), last, to_earlier);
    x0 = _mm_xor_si128(fold(a, k3k4), b);
  }
  return reduce(x0);
}

// crc32_short: CRC register (pre-inverted, result not inverted) over 4..15 bytes, built
// in registers from overlapping loads (no store-to-load round trip): the bytes are placed
// at the end of an otherwise zero 16-byte block (leading zeros do not change a register
// started at 0), the register is xored into their first 4, and the block is reduced.
OBR_CRC32_TARGET std::uint32_t crc32_short(std::uint32_t reg, const unsigned char* p, std::size_t len) noexcept {
  std::uint64_t lo = 0;  // block bytes 0..7 (x86 is little-endian: byte i = bits 8i..8i+7)
  std::uint64_t hi = 0;  // block bytes 8..15
  if (len >= 8) {
    std::memcpy(&hi, p + len - 8, 8);  // the last 8 bytes
    if (len > 8) {
      std::memcpy(&lo, p, 8);  // its bytes before p + len - 8 move to the end of lo
      lo <<= 8 * (16 - len);
    }
  } else {
    std::uint32_t first = 0;
    std::uint32_t last = 0;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + len - 4, 4);  // overlaps `first` when len < 8; same bytes
    const std::uint64_t bytes = first | (std::uint64_t{last} << (8 * (len - 4)));
    hi = bytes << (8 * (8 - len));
  }
  const __m128i block = _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));
  // The register goes to the first data byte, block byte 16 - len: a left shift by that.
  const __m128i head = _mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(reg)), load16(kShift + len));
  return reduce(_mm_xor_si128(block, head));
}

#undef OBR_CRC32_TARGET

bool detect_pclmul() noexcept {
  __builtin_cpu_init();  // may run during other translation units' static initialisation
  return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

#endif  // __x86_64__

}  // namespace

bool crc32_accelerated() noexcept {
#if defined(__x86_64__)
  static const bool accelerated = detect_pclmul();
  return accelerated;
#else
  return false;
#endif
}

std::uint32_t crc32(std::uint32_t crc, const void* data, std::size_t len) noexcept {
  if (data == nullptr) return 0;  // zlib: crc32(crc, Z_NULL, len) == 0
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  if (len >= 4 && crc32_accelerated()) {
    // zlib's CRC is the register started at ~crc and inverted at the end.
    const std::uint32_t reg = ~crc;
    return ~(len >= 16 ? crc32_fold(reg, p, len) : crc32_short(reg, p, len));
  }
#endif
  return crc32_zlib(crc, p, len);
}

}  // namespace obr::book
