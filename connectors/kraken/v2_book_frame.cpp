#include "connectors/kraken/v2_book_frame.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace obr::connectors::kraken::detail {
namespace {

// The scanner walks a pointer `p` through [begin, end); the buffer holds zero bytes after
// `end`, so a loop over digits or string characters stops there without a bounds check.

bool is_digit(char c) noexcept { return static_cast<unsigned char>(c - '0') < 10; }

// literal consumes `s` if the text at p starts with it.
template <std::size_t N>
bool literal(const char*& p, const char* end, const char (&s)[N]) noexcept {
  constexpr std::size_t n = N - 1;
  if (static_cast<std::size_t>(end - p) < n || std::memcmp(p, s, n) != 0) return false;
  p += n;
  return true;
}

// string_body: p is just after an opening quote; returns the closing quote's position, or
// nullptr when a byte before it is a backslash, a control character or not ASCII (DEL is
// allowed, as in JSON), or the text ends first.
const char* string_body(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (;;) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto quotes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)));
    // Signed compare: bytes 0x80-0xFF are negative, so "less than a space" also catches them.
    const auto bad =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmplt_epi8(v, space))));
    if ((quotes | bad) != 0) {
      const int i = __builtin_ctz(quotes | bad);
      if ((bad >> i) & 1U) return nullptr;  // also the zero padding: the text ended
      return p + i < end ? p + i : nullptr;
    }
    p += 16;
  }
#else
  for (;; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') return p < end ? p : nullptr;
    if (c < 0x20 || c == '\\' || c >= 0x80) return nullptr;
  }
#endif
}

// number: a JSON number at p (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?); returns its
// end or nullptr. The caller checks that the byte after it belongs to the frame.
const char* number(const char* p) noexcept {
  if (*p == '-') ++p;
  if (*p == '0') {
    ++p;
  } else if (is_digit(*p)) {
    do ++p;
    while (is_digit(*p));
  } else {
    return nullptr;
  }
  if (*p == '.') {
    ++p;
    if (!is_digit(*p)) return nullptr;
    do ++p;
    while (is_digit(*p));
  }
  if (*p == 'e' || *p == 'E') {
    ++p;
    if (*p == '+' || *p == '-') ++p;
    if (!is_digit(*p)) return nullptr;
    do ++p;
    while (is_digit(*p));
  }
  return p;
}

// levels: the rest of a levels array after its '[': {"price":N,"qty":N} separated by
// commas, then ']'.
bool levels(const char*& p, const char* end, std::vector<RawLevel>& out) noexcept {
  out.clear();
  if (*p == ']') return ++p, true;  // *end is a zero byte, so p < end here
  for (;;) {
    if (!literal(p, end, R"({"price":)")) return false;
    const char* price = p;
    if ((p = number(p)) == nullptr) return false;
    const char* price_end = p;
    if (!literal(p, end, R"(,"qty":)")) return false;
    const char* qty = p;
    if ((p = number(p)) == nullptr || p >= end || *p != '}') return false;
    out.push_back(RawLevel{std::string_view(price, static_cast<std::size_t>(price_end - price)),
                           std::string_view(qty, static_cast<std::size_t>(p - qty))});
    ++p;
    if (*p == ']') return ++p, true;
    if (*p != ',') return false;
    ++p;
  }
}

}  // namespace

bool scan_compact_book_frame(std::string_view frame, CompactBookFrame& out, std::vector<RawLevel>& bids,
                             std::vector<RawLevel>& asks) noexcept {
  const char* p = frame.data();
  const char* const end = p + frame.size();
  if (!literal(p, end, R"({"channel":"book","type":")")) return false;
  if (literal(p, end, R"(update",)")) {
    out.snapshot = false;
  } else if (literal(p, end, R"(snapshot",)")) {
    out.snapshot = true;
  } else {
    return false;
  }
  if (!literal(p, end, R"("data":[{"symbol":")")) return false;
  const char* symbol = p;
  if ((p = string_body(p, end)) == nullptr) return false;
  out.symbol = std::string_view(symbol, static_cast<std::size_t>(p - symbol));
  ++p;
  if (!literal(p, end, R"(,"bids":[)") || !levels(p, end, bids)) return false;
  if (!literal(p, end, R"(,"asks":[)") || !levels(p, end, asks)) return false;
  if (!literal(p, end, R"(,"checksum":)")) return false;
  // An unsigned integer of at most 19 digits (fits uint64), without leading zeros.
  const char* digits = p;
  std::uint64_t value = 0;
  while (is_digit(*p)) value = value * 10 + static_cast<std::uint64_t>(*p++ - '0');
  const auto count = p - digits;
  if (count == 0 || count > 19 || (count > 1 && *digits == '0')) return false;
  out.checksum = value;
  if (literal(p, end, R"(,"timestamp":")")) {
    if ((p = string_body(p, end)) == nullptr) return false;
    ++p;
  }
  return literal(p, end, "}]}") && p == end;
}

}  // namespace obr::connectors::kraken::detail
