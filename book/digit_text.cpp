#include "book/digit_text.h"

#if defined(__x86_64__)
// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which
// -Wmaybe-uninitialized reports at every use (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

namespace obr::book {
namespace {

// append_run_scalar writes the run's levels at out + pos, their offsets from offsets[0].
std::size_t append_run_scalar(const Level* best, std::size_t n, char* out, std::size_t pos,
                              std::uint16_t* offsets) noexcept {
  char* p = out + pos;
  for (std::size_t i = 0; i < n; ++i) {
    offsets[i] = static_cast<std::uint16_t>(p - out);
    p = append_level_digits(p, best[-static_cast<std::ptrdiff_t>(i)]);
  }
  return static_cast<std::size_t>(p - out);
}

#if defined(__x86_64__)

#define OBR_DIGITS_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi2,avx512ifma,popcnt")))

// opaque hides a constant from the optimiser: GCC otherwise turns a 16-bit multiply by
// 100 or 10 into shifts and adds, more instructions on the one port that runs them.
template <typename V>
OBR_DIGITS_TARGET inline V opaque(V v) noexcept {
  asm("" : "+v"(v));
  return v;
}

// ascii16x4: x holds eight values below 10^8 (the high and low halves of four numbers);
// each 64-bit lane becomes that value's 8 digits ('0'..'9'), most significant in the low
// byte.
// The splits, each exact in its range (tests/book/digit_text_test.cpp checks them):
// madd52hi(x, 450359962738) == x * c >> 52 == x / 10^4 for x < 10^8; (y * 5243) >> 19
// == y / 100 for y < 10^4; (z * 6554) >> 16 == z / 10 for z < 100. Each remainder moves
// to the upper half of its lane by a byte shuffle.
OBR_DIGITS_TARGET inline __m512i ascii16x4(__m512i x) noexcept {
  const __m512i q4 = _mm512_madd52hi_epu64(_mm512_setzero_si512(), x, _mm512_set1_epi64(450359962738));
  const __m512i r4 = _mm512_sub_epi64(x, _mm512_mul_epu32(q4, _mm512_set1_epi64(10000)));
  const __m512i lanes4 =  // 32-bit lanes < 10^4
      _mm512_mask_blend_epi32(0xAAAA, q4, _mm512_shuffle_epi32(r4, static_cast<_MM_PERM_ENUM>(0xA0)));
  const __m512i q2 = _mm512_srli_epi16(_mm512_mulhi_epu16(lanes4, _mm512_set1_epi32(5243)), 3);
  const __m512i r2 = _mm512_sub_epi16(lanes4, _mm512_mullo_epi16(q2, opaque(_mm512_set1_epi16(100))));
  const __m512i words_up = _mm512_set4_epi32(0x0d0c8080, 0x09088080, 0x05048080, 0x01008080);
  const __m512i lanes2 = _mm512_or_si512(q2, _mm512_shuffle_epi8(r2, words_up));  // 16-bit lanes < 100
  const __m512i q1 = _mm512_mulhi_epu16(lanes2, _mm512_set1_epi16(6554));
  const __m512i r1 = _mm512_sub_epi16(lanes2, _mm512_mullo_epi16(q1, opaque(_mm512_set1_epi16(10))));
  const __m512i bytes_up = _mm512_set4_epi32(0x0e800c80, 0x0a800880, 0x06800480, 0x02800080);
  return _mm512_ternarylogic_epi64(q1, _mm512_shuffle_epi8(r1, bytes_up), _mm512_set1_epi8('0'), 0xFE);  // a | b | c
}

// The kernel's shape: each run is up to kBatches batches of four levels (two halves of
// two levels each: one 64-byte vector of digits).
constexpr std::size_t kBatches = 3;
constexpr std::size_t kRunMax = 4 * kBatches;  // 12 levels a run, 24 a call
constexpr std::size_t kTooBig = ~std::size_t{0};

// The runs' level counts, known at run time or (FixedCounts) at compile time, when the
// unrolled kernel's per-batch and per-half decisions fold away.
struct RuntimeCounts {
  std::size_t n[2];
  std::size_t operator[](std::size_t run) const noexcept { return n[run]; }
};
template <std::size_t N0, std::size_t N1>
struct FixedCounts {
  constexpr std::size_t operator[](std::size_t run) const noexcept { return run == 0 ? N0 : N1; }
};

// levels_avx512 formats run 0 then run 1 (each at most kRunMax levels, n[0] and n[1]) at
// out + pos, their offsets at offsets[0 .. n[0] + n[1]). Returns the end of the text, or
// kTooBig (nothing written) when a magnitude is 2^52 or more.
template <typename Counts>
OBR_DIGITS_TARGET std::size_t levels_avx512(const Level* const (&best)[2], Counts n, char* out, std::size_t pos,
                                            std::uint16_t* offsets) noexcept {
  constexpr std::size_t kAll = 2 * kBatches;  // batches of both runs
  std::size_t steps[kAll];                    // levels in each batch
  __m512i v[kAll];
  __mmask8 too_big = 0;
#pragma GCC unroll 8
  for (std::size_t b = 0; b < kAll; ++b) {
    const std::size_t run = b / kBatches, done = 4 * (b % kBatches);
    steps[b] = n[run] <= done ? 0 : (n[run] - done < 4 ? n[run] - done : 4);
    if (steps[b] == 0) {
      v[b] = _mm512_setzero_si512();
      continue;
    }
    // The 64 bytes that end with the batch's best level; the lanes of the levels before
    // its worst are masked off (not read, zero). The address is computed as an integer:
    // it may lie before the run.
    const auto lanes = static_cast<__mmask8>(0xFF00u >> (2 * steps[b]));
    const auto from = reinterpret_cast<std::uintptr_t>(best[run]) - (done + 3) * sizeof(Level);
    v[b] = _mm512_maskz_loadu_epi64(lanes, reinterpret_cast<const void*>(from));
    // A negative value (its magnitude) or one of 2^52 or more goes the scalar way.
    too_big |= _mm512_cmpge_epu64_mask(v[b], _mm512_set1_epi64(1ll << 52));
  }
  if (too_big != 0) return kTooBig;
  // Split at 10^8: hi = v * c >> 78 with c = ceil(2^78 / 10^8), exact for v < 4.7 * 10^16.
  // Lanes hold (price, qty) of the batch's levels 3, 2, 1, 0 (0 its best); each half gets
  // two levels, best first: hi and lo of level 0's price, of its qty, then of level 1's.
  __m512i halves[2 * kAll];
#pragma GCC unroll 8
  for (std::size_t b = 0; b < kAll; ++b) {
    const __m512i hi =
        _mm512_srli_epi64(_mm512_madd52hi_epu64(_mm512_setzero_si512(), v[b], _mm512_set1_epi64(3022314549036573)), 26);
    const __m512i lo = _mm512_sub_epi64(v[b], _mm512_mul_epu32(hi, _mm512_set1_epi64(100'000'000)));
    halves[2 * b] = _mm512_permutex2var_epi64(hi, _mm512_setr_epi64(6, 14, 7, 15, 4, 12, 5, 13), lo);
    halves[2 * b + 1] = _mm512_permutex2var_epi64(hi, _mm512_setr_epi64(2, 10, 3, 11, 0, 8, 1, 9), lo);
  }
  std::uint64_t keep[2 * kAll] = {};
#pragma GCC unroll 16
  for (std::size_t h = 0; h < 2 * kAll; ++h) {
    if (steps[h / 2] <= 2 * (h % 2)) continue;  // no level in this half
    halves[h] = ascii16x4(halves[h]);
    // Per number (16 mask bits, m its digits other than '0'): keep from its first such
    // digit on, -(m & -m) in 16-bit lanes; a zero number keeps nothing.
    const __mmask64 digit_not_0 = _mm512_cmpneq_epi8_mask(halves[h], _mm512_set1_epi8('0'));
    const __m128i nonzero = _mm_cvtsi64_si128(static_cast<long long>(digit_not_0));
    const __m128i lowest = _mm_and_si128(nonzero, _mm_sub_epi16(_mm_setzero_si128(), nonzero));
    keep[h] = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_sub_epi16(_mm_setzero_si128(), lowest)));
  }
  std::size_t level = 0;
#pragma GCC unroll 16
  for (std::size_t h = 0; h < 2 * kAll; ++h) {
    if (steps[h / 2] <= 2 * (h % 2)) continue;
    _mm512_storeu_si512(out + pos, _mm512_maskz_compress_epi8(keep[h], halves[h]));
    offsets[level++] = static_cast<std::uint16_t>(pos);
    pos += static_cast<unsigned>(__builtin_popcountll(keep[h] & 0xFFFFFFFFu));
    if (steps[h / 2] > 2 * (h % 2) + 1) {
      offsets[level++] = static_cast<std::uint16_t>(pos);
      pos += static_cast<unsigned>(__builtin_popcountll(keep[h] >> 32));
    }
  }
  return pos;
}

// format_group runs levels_avx512 for runs of n0 and n1 levels: the copy compiled for the
// Kraken checksum's counts when they are its (both sides' top 10 in one pass, or one
// side's 10 as the cache rebuilds it), else the copy that takes them at run time.
std::size_t format_group(const Level* const (&best)[2], std::size_t n0, std::size_t n1, char* out, std::size_t pos,
                         std::uint16_t* offsets) noexcept {
  if (n0 == 10 && n1 == 10) return levels_avx512(best, FixedCounts<10, 10>{}, out, pos, offsets);
  if (n0 == 10 && n1 == 0) return levels_avx512(best, FixedCounts<10, 0>{}, out, pos, offsets);
  return levels_avx512(best, RuntimeCounts{{n0, n1}}, out, pos, offsets);
}

#undef OBR_DIGITS_TARGET

bool detect_avx512() noexcept {
  __builtin_cpu_init();  // may run during other translation units' static initialisation
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512ifma") &&
         __builtin_cpu_supports("popcnt");
}

#endif  // __x86_64__

}  // namespace

bool digit_text_vectorized() noexcept {
#if defined(__x86_64__)
  static const bool vectorized = detect_avx512();
  return vectorized;
#else
  return false;
#endif
}

std::size_t digit_text_levels_scalar(const Level* best0, std::size_t n0, const Level* best1, std::size_t n1, char* out,
                                     std::uint16_t* offsets) noexcept {
  const std::size_t pos = append_run_scalar(best0, n0, out, 0, offsets);
  const std::size_t end = append_run_scalar(best1, n1, out, pos, offsets + n0);
  offsets[n0 + n1] = static_cast<std::uint16_t>(end);
  return end;
}

std::size_t digit_text_levels(const Level* best0, std::size_t n0, const Level* best1, std::size_t n1, char* out,
                              std::uint16_t* offsets) noexcept {
#if defined(__x86_64__)
  if (digit_text_vectorized()) {
    if (n0 > kRunMax || n1 > kRunMax) {  // formatted as one run after the other
      const std::size_t first = digit_text_levels(best0, n0, out, offsets);
      const std::size_t second = digit_text_levels(best1, n1, out + first, offsets + n0);
      for (std::size_t i = n0; i <= n0 + n1; ++i) offsets[i] = static_cast<std::uint16_t>(offsets[i] + first);
      return first + second;
    }
    const Level* const best[2] = {best0, best1};
    const std::size_t end = format_group(best, n0, n1, out, 0, offsets);
    if (end != kTooBig) {
      offsets[n0 + n1] = static_cast<std::uint16_t>(end);
      return end;
    }
  }
#endif
  return digit_text_levels_scalar(best0, n0, best1, n1, out, offsets);
}

std::size_t digit_text_levels(const Level* best, std::size_t n, char* out, std::uint16_t* offsets) noexcept {
#if defined(__x86_64__)
  if (digit_text_vectorized()) {  // 24 levels per call: the first 12 as run 0, the next as run 1
    std::size_t pos = 0;
    for (std::size_t i = 0; i < n; i += 2 * kRunMax) {
      const std::size_t rest = n - i;
      const std::size_t n0 = rest < kRunMax ? rest : kRunMax;
      const std::size_t n1 = rest - n0 < kRunMax ? rest - n0 : kRunMax;
      const Level* const run0 = best - i;
      const Level* const run1 = n1 == 0 ? run0 : run0 - kRunMax;
      const Level* const runs[2] = {run0, run1};
      const std::size_t end = format_group(runs, n0, n1, out, pos, offsets + i);
      pos = end != kTooBig ? end : append_run_scalar(run0, n0 + n1, out, pos, offsets + i);
    }
    offsets[n] = static_cast<std::uint16_t>(pos);
    return pos;
  }
#endif
  return digit_text_levels_scalar(best, n, best, 0, out, offsets);
}

}  // namespace obr::book
