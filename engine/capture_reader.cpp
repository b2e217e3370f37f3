// engine/capture_reader.cpp — CaptureReader (engine/capture_reader.h). Sections, in
// order: the bytes a line may not hold, found a chunk at a time; the line formats (raw,
// cryptofeed, tardis-style, obr, JSON lines: each line to a CaptureEvent); the source (the
// file, inflated by ISA-L when gzip, by libzstd when zstd); the reader (open and format
// detection, the buffer, lines, next()).
#include "engine/capture_reader.h"

#include <absl/strings/escaping.h>
#include <isa-l/igzip_lib.h>
#include <simdjson.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "engine/time_text.h"

namespace obr::engine {
namespace {

std::string_view strip(std::string_view s) noexcept {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

constexpr std::string_view kTooLongMessage = "line longer than 6291456 bytes skipped";
static_assert(CaptureReader::kMaxLine == 6291456, "kTooLongMessage names kMaxLine");
constexpr std::string_view kObrMagic = "obr-recording 1";
constexpr std::string_view kUnknownFormat =
    "unknown recording format (expected one JSON frame per line, JSON lines {\"conn\", \"ts\", \"data\"}, "
    "cryptofeed raw data 'URL <-> TS' / 'TS: FRAME', or tardis-style 'ISO8601-TIME FRAME')";

// Bytes added to buffer_ per read (inflated straight into it), and compressed bytes read
// from a gzip file at a time.
constexpr std::size_t kChunk = 1u << 18;
constexpr std::size_t kInput = 1u << 17;
// buffer_: a whole line with its newline, a chunk read after it, and simdjson's padding
// (bytes it may read past the end of a JSON-lines line; zeroed, never part of a line).
constexpr std::size_t kPadding = simdjson::SIMDJSON_PADDING;
constexpr std::size_t kBufferSize = CaptureReader::kMaxLine + kChunk + kPadding;

// ---- the bytes a line may not hold -----------------------------------------------------

// Which bytes a line may not hold. JSON text (raw captures, cryptofeed frames and bodies)
// has no raw control byte but tab, CR and the newline. An obr recording writes payloads
// verbatim unless they hold a newline, CR or NUL (docs/recording.md), so only NUL and a
// CR before the line's end are foreign to it. Until the format is known: the union.
enum class Rule : std::uint8_t { kAny, kJson, kObr };

// flagged is 1 when R flags `c`: comparisons combined without branches, so that a loop of
// them vectorizes.
template <Rule R>
constexpr unsigned char flagged(unsigned char c) noexcept {
  if constexpr (R == Rule::kObr) {
    return static_cast<unsigned char>((c == 0) | (c == '\r'));
  } else if constexpr (R == Rule::kJson) {
    return static_cast<unsigned char>((c < 0x20) & (c != '\t') & (c != '\n') & (c != '\r'));
  } else {
    return static_cast<unsigned char>((c < 0x20) & (c != '\t') & (c != '\n'));
  }
}

// find_flagged returns the first byte in [p, e) that R flags, or e: whole 64-byte blocks
// without a branch per byte (a byte-wide OR over the block, which GCC 12 -O3 compiles to
// vector compares on two 32-byte AVX2 loads), then the block that holds the byte one by one.
template <Rule R>
const char* find_flagged(const char* p, const char* e) noexcept {
  constexpr std::size_t kBlock = 64;
  while (static_cast<std::size_t>(e - p) >= kBlock) {
    unsigned char any = 0;  // not bool: GCC 12 does not vectorize a bool reduction
    for (std::size_t i = 0; i < kBlock; ++i) any |= flagged<R>(static_cast<unsigned char>(p[i]));
    if (any != 0) break;
    p += kBlock;
  }
  while (p != e && flagged<R>(static_cast<unsigned char>(*p)) == 0) ++p;
  return p;
}

// first_bad returns the first byte of the line [p, e) that R does not allow, or null. A
// run of CRs that ends the line is its line ending, not a byte of it.
template <Rule R>
const char* first_bad(const char* p, const char* e) noexcept {
  p = find_flagged<R>(p, e);
  if (p == e) return nullptr;
  if (*p == '\r') {  // flagged only by the obr rule and before the format is known
    const char* q = p;
    while (q != e && *q == '\r') ++q;
    if (q == e) return nullptr;
  }
  return p;
}

// ---- the line formats: cryptofeed, tardis-style, obr, JSON lines -------------------------

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// split_ts_frame splits "TS: FRAME" into its parts.
bool split_ts_frame(std::string_view s, std::int64_t& ts, std::string_view& frame) noexcept {
  const std::size_t colon = s.find(": ");
  if (colon == std::string_view::npos || !parse_unix_seconds(s.substr(0, colon), ts)) return false;
  frame = strip(s.substr(colon + 2));
  return true;
}

// parse_cryptofeed reads one cryptofeed raw-data line.
bool parse_cryptofeed(std::string_view line, CaptureEvent& ev) noexcept {
  if (is_digit(line.front())) {  // TS: FRAME
    ev.kind = CaptureEventKind::kReceived;
    return split_ts_frame(line, ev.ts_ns, ev.payload);
  }
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return false;
  ev.url = line.substr(0, space);
  std::string_view rest = line.substr(space + 1);
  if (rest.starts_with("<-> ")) {
    ev.kind = CaptureEventKind::kConnect;
    ev.payload = {};
    return parse_unix_seconds(strip(rest.substr(4)), ev.ts_ns);
  }
  if (rest.starts_with("<- ")) {
    ev.kind = CaptureEventKind::kSent;
    return split_ts_frame(rest.substr(3), ev.ts_ns, ev.payload);
  }
  if (rest.starts_with("-> ")) {
    ev.kind = CaptureEventKind::kHttpResponse;
    return split_ts_frame(rest.substr(3), ev.ts_ns, ev.payload);
  }
  return false;
}

// parse_tardis reads one tardis-style line: `<ISO 8601 time> <frame>`, the frame a JSON
// object or array.
bool parse_tardis(std::string_view line, CaptureEvent& ev) noexcept {
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos || !parse_iso8601_ns(line.substr(0, space), ev.ts_ns)) return false;
  ev.kind = CaptureEventKind::kReceived;
  ev.payload = strip(line.substr(space + 1));
  return !ev.payload.empty() && (ev.payload.front() == '{' || ev.payload.front() == '[');
}

// next_word splits the first space-separated word off `s`.
std::string_view next_word(std::string_view& s) noexcept {
  const std::size_t sp = s.find(' ');
  const std::string_view w = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  return w;
}

template <typename T>
bool parse_int(std::string_view s, T& out) noexcept {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// parse_obr reads one obr recording line (docs/recording.md): `TS VENUE KIND[64] [REST]`.
// `decoded` holds a base64 payload once decoded. On failure `why` says what was wrong.
bool parse_obr(std::string_view line, CaptureEvent& ev, std::string& decoded, std::string_view& why) {
  std::string_view rest = line;
  if (!parse_int(next_word(rest), ev.ts_ns) || ev.ts_ns < 0) {
    why = "obr recording: the line does not start with a time in nanoseconds";
    return false;
  }
  ev.venue = next_word(rest);
  std::string_view kind = next_word(rest);
  if (ev.venue.empty() || kind.empty()) {
    why = "obr recording: expected 'TS VENUE KIND [PAYLOAD]'";
    return false;
  }
  const bool b64 = kind.size() > 2 && kind.ends_with("64");
  if (b64) kind.remove_suffix(2);
  if (kind == "http" || kind == "req") {
    const std::string_view id = next_word(rest);
    if (!parse_int(id, ev.id)) {
      why = "obr recording: http/req without a numeric request id";
      return false;
    }
    if (kind == "req") {
      if (b64) {
        why = "obr recording: only recv, send and http take a base64 payload";
        return false;
      }
      ev.kind = CaptureEventKind::kHttpRequest;
      ev.payload = rest;
      return true;
    }
    if (!parse_int(next_word(rest), ev.status)) {
      why = "obr recording: http without a numeric status";
      return false;
    }
    ev.kind = CaptureEventKind::kHttpResponse;
    ev.url = next_word(rest);
    if (ev.url == "-") ev.url = {};
  } else if (kind == "recv") {
    ev.kind = CaptureEventKind::kReceived;
  } else if (kind == "send") {
    ev.kind = CaptureEventKind::kSent;
  } else if (b64) {
    why = "obr recording: only recv, send and http take a base64 payload";
    return false;
  } else if (kind == "open") {
    ev.kind = CaptureEventKind::kConnect;
    ev.url = rest;
  } else if (kind == "close") {
    ev.kind = CaptureEventKind::kDisconnect;
  } else if (kind == "tick") {
    ev.kind = CaptureEventKind::kTick;
  } else if (kind == "ping") {
    ev.kind = CaptureEventKind::kPing;
  } else if (kind == "start") {
    ev.kind = CaptureEventKind::kStart;
  } else if (kind == "config") {
    ev.kind = CaptureEventKind::kConfig;
  } else if (kind == "subscribe") {
    ev.kind = CaptureEventKind::kSubscribe;
  } else if (kind == "part") {
    ev.kind = CaptureEventKind::kPart;
  } else {
    why =
        "obr recording: unknown event kind (expected part, config, subscribe, start, open, close, recv, send, req, "
        "http, tick or ping)";
    return false;
  }
  ev.payload = rest;
  if (b64) {
    if (!absl::Base64Unescape(absl::string_view(rest.data(), rest.size()), &decoded)) {
      why = "obr recording: the base64 payload does not decode";
      return false;
    }
    ev.payload = decoded;
  }
  return true;
}

namespace od = simdjson::ondemand;

// JSON-lines reasons (kBadLine payloads).
constexpr std::string_view kJlInvalid = "JSON lines: not valid JSON";
constexpr std::string_view kJlUtf8 = "JSON lines: not valid UTF-8";
constexpr std::string_view kJlNotObject = "JSON lines: not a JSON object";
constexpr std::string_view kJlAfter = "JSON lines: more text after the object";
constexpr std::string_view kJlNoConn = "JSON lines: no \"conn\" member (the connection's name)";
constexpr std::string_view kJlNoTs = "JSON lines: no \"ts\" member (the receive time)";
constexpr std::string_view kJlNoData = "JSON lines: no \"data\" member (the frame)";
constexpr std::string_view kJlConnType = "JSON lines: \"conn\" is not a string";
constexpr std::string_view kJlConnEmpty = "JSON lines: \"conn\" is empty";
constexpr std::string_view kJlDataType = "JSON lines: \"data\" is not a string (the frame, as a JSON string)";
constexpr std::string_view kJlUrlType = "JSON lines: \"url\" is not a string";
constexpr std::string_view kJlTs = "JSON lines: \"ts\" is not Unix seconds (a number written digits[.digits])";
constexpr std::string_view kJlTwice[] = {"JSON lines: \"conn\" given twice", "JSON lines: \"ts\" given twice",
                                         "JSON lines: \"data\" given twice", "JSON lines: \"url\" given twice"};

// json_error: the reason for a simdjson error met while reading a line.
std::string_view json_error(simdjson::error_code e) noexcept {
  return e == simdjson::UTF8_ERROR ? kJlUtf8 : kJlInvalid;
}

// is_json_number: `text` is a number by JSON's grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view text) noexcept {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    return i > from;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < text.size() && text[i] == '.' && (++i, !digits())) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == text.size();
}

// is_valid walks a value whole: On Demand checks only what is read, so a member the reader
// does not use is walked to make sure the line is valid JSON all through.
bool is_valid(od::value v, std::string_view& why) noexcept {
  od::json_type type;
  simdjson::error_code e = v.type().get(type);
  if (e == simdjson::SUCCESS) {
    switch (type) {
      case od::json_type::object: {
        od::object o;
        if ((e = v.get_object().get(o))) break;
        for (auto field : o) {
          std::string_view key;
          od::value member;
          if ((e = field.unescaped_key().get(key)) || (e = field.value().get(member))) break;
          if (!is_valid(member, why)) return false;
        }
        break;
      }
      case od::json_type::array: {
        od::array a;
        if ((e = v.get_array().get(a))) break;
        for (auto element : a) {
          od::value item;
          if ((e = element.get(item))) break;
          if (!is_valid(item, why)) return false;
        }
        break;
      }
      case od::json_type::string: {
        std::string_view text;
        e = v.get_string().get(text);
        break;
      }
      case od::json_type::number:  // its text by the grammar: any size or precision is JSON
        if (!is_json_number(strip(v.raw_json_token()))) e = simdjson::NUMBER_ERROR;
        break;
      case od::json_type::boolean: {
        bool b = false;
        e = v.get_bool().get(b);
        break;
      }
      case od::json_type::null: {
        bool null = false;
        e = v.is_null().get(null);
        if (e == simdjson::SUCCESS && !null) e = simdjson::N_ATOM_ERROR;
        break;
      }
    }
  }
  if (e != simdjson::SUCCESS) why = json_error(e);
  return e == simdjson::SUCCESS;
}

// padded: `line` (inside buffer_) for simdjson, which may read up to kPadding bytes past it.
simdjson::padded_string_view padded(std::string_view line, const char* buffer_end) noexcept {
  return simdjson::padded_string_view(line.data(), line.size(), static_cast<std::size_t>(buffer_end - line.data()));
}

// starts_json_lines: the line is an object whose first member is "conn" holding a string.
bool starts_json_lines(od::parser& parser, std::string_view line, const char* buffer_end) noexcept {
  od::document doc;
  od::object root;
  if (parser.iterate(padded(line, buffer_end)).get(doc) || doc.get_object().get(root)) return false;
  for (auto field : root) {
    std::string_view key;
    od::json_type type;
    return !field.unescaped_key().get(key) && key == "conn" && !field.value().type().get(type) &&
           type == od::json_type::string;
  }
  return false;
}

// parse_json_line reads one JSON-lines line: `{"conn": NAME, "ts": TS, "data": FRAME}`, and
// "url" when there is one. The strings are unescaped into the parser's buffer (valid until
// its next line). On failure `why` says what was wrong: the first fault met, members read
// in their order.
bool parse_json_line(od::parser& parser, std::string_view line, const char* buffer_end, CaptureEvent& ev,
                     std::string_view& why) noexcept {
  od::document doc;
  od::object root;
  if (simdjson::error_code e = parser.iterate(padded(line, buffer_end)).get(doc)) {
    why = json_error(e);
    return false;
  }
  if (line.front() != '{') {
    why = kJlNotObject;
    return false;
  }
  if (simdjson::error_code e = doc.get_object().get(root)) {
    why = json_error(e);
    return false;
  }
  enum Seen : unsigned { kConn = 1, kTs = 2, kData = 4, kUrl = 8 };
  unsigned seen = 0;
  // once: false (and `why`) when member `bit` was seen before.
  const auto once = [&](unsigned bit, std::size_t index) {
    if ((seen & bit) != 0) {
      why = kJlTwice[index];
      return false;
    }
    seen |= bit;
    return true;
  };
  // string: the member's value as a string, or false with `type_why` (or the JSON error).
  const auto string = [&](od::value v, std::string_view& out, std::string_view type_why) {
    od::json_type type;
    if (simdjson::error_code e = v.type().get(type)) {
      why = json_error(e);
      return false;
    }
    if (type != od::json_type::string) {
      why = type_why;
      return false;
    }
    if (simdjson::error_code e = v.get_string().get(out)) {
      why = json_error(e);
      return false;
    }
    return true;
  };
  for (auto field : root) {
    std::string_view key;
    od::value v;
    if (simdjson::error_code e = field.unescaped_key().get(key); e || (e = field.value().get(v))) {
      why = json_error(e);
      return false;
    }
    if (key == "conn") {
      if (!once(kConn, 0) || !string(v, ev.conn, kJlConnType)) return false;
    } else if (key == "data") {
      if (!once(kData, 2) || !string(v, ev.payload, kJlDataType)) return false;
    } else if (key == "url") {
      if (!once(kUrl, 3) || !string(v, ev.url, kJlUrlType)) return false;
    } else if (key == "ts") {
      if (!once(kTs, 1)) return false;
      od::json_type type;
      if (simdjson::error_code e = v.type().get(type)) {
        why = json_error(e);
        return false;
      }
      // The number's text as written (raw_json_token adds the blanks after it): exact to
      // the nanosecond, never through double.
      const std::string_view text = type == od::json_type::number ? strip(v.raw_json_token()) : std::string_view();
      if (!is_json_number(text) || !parse_unix_seconds(text, ev.ts_ns)) {
        why = kJlTs;
        return false;
      }
    } else if (!is_valid(v, why)) {
      return false;
    }
  }
  const char* after = nullptr;
  if (doc.current_location().get(after) != simdjson::OUT_OF_BOUNDS) {  // a location: more tokens follow
    why = kJlAfter;
    return false;
  }
  if ((seen & kConn) == 0) {
    why = kJlNoConn;
  } else if ((seen & kTs) == 0) {
    why = kJlNoTs;
  } else if ((seen & kData) == 0) {
    why = kJlNoData;
  } else if (ev.conn.empty()) {
    why = kJlConnEmpty;
  } else {
    ev.kind = CaptureEventKind::kReceived;
    return true;
  }
  return false;
}

}  // namespace

// The JSON-lines parser, reused for every line.
struct CaptureReader::JsonLines {
  od::parser parser;
};

bool parse_unix_seconds(std::string_view text, std::int64_t& ns) noexcept {
  if (text.empty() || !is_digit(text.front())) return false;
  std::int64_t seconds = 0;
  std::size_t i = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    if (i >= 11) return false;  // beyond year 5138: not a Unix time
    seconds = seconds * 10 + (text[i] - '0');
  }
  std::int64_t fraction = 0;
  int digits = 0;
  if (i < text.size()) {
    if (text[i] != '.' || i + 1 == text.size()) return false;
    for (++i; i < text.size(); ++i) {
      if (!is_digit(text[i])) return false;
      if (digits < 9) {
        fraction = fraction * 10 + (text[i] - '0');
        ++digits;
      }
    }
  }
  for (; digits < 9; ++digits) fraction *= 10;
  // Nanoseconds since 1970 fit an int64 until 2262-04-11 (found by fuzzing).
  if (seconds > 9'223'372'035) return false;
  ns = seconds * 1'000'000'000 + fraction;
  return true;
}

// ---- the source: the file, decompressed when gzip or zstd --------------------------------

// The recording's bytes: inflated when the file is gzip (its first two bytes are gzip's
// magic 1f 8b, as gzip and zlib's gz functions tell it), decompressed when it is zstd (its
// first four bytes are zstd's frame magic 28 b5 2f fd), as they are otherwise.
//
// gzip is inflated by ISA-L's igzip (isal_inflate, streaming, ISAL_GZIP: it parses each
// member's header and checks its trailer, CRC-32 and length), about 2.6 times zlib's speed
// on recordings (bench/README.md, "Reading compressed recordings"); the tests hold it to
// zlib's output. zstd by ZSTD_decompressStream. Either is driven here chunk by chunk
// rather than through a gzread-like call, so that the end is clean only after a member's
// trailer (a zstd frame's end): zlib's gzread, which this replaced, ended quietly on a
// stream cut short when the input ran out just as its output buffer filled (zlib 1.2.13,
// 256 KiB reads of a long run of one byte cut in the middle: the data of test
// AGzipStreamCutInsideAnOverlongLineIsDataLoss).
struct CaptureReader::Source {
  enum class Codec : std::uint8_t { kPlain, kGzip, kZstd };
  std::FILE* file = nullptr;
  Codec codec = Codec::kPlain;
  bool member = false;                  // inside a gzip member (zstd frame) whose end has not been seen
  bool input_end = false;               // the file has no more bytes
  std::unique_ptr<unsigned char[]> in;  // compressed input; in[in_pos, in_len) not yet used
  std::size_t in_pos = 0, in_len = 0;
  std::unique_ptr<inflate_state> gz;  // gzip
  ZSTD_DCtx* zstd = nullptr;          // zstd
  unsigned char head[4] = {};         // plain: the bytes read to tell the codec, not yet given
  std::size_t head_len = 0;
  End end = End::kNo;
  std::string why;  // kError: what went wrong

  ~Source() {
    if (zstd != nullptr) ZSTD_freeDCtx(zstd);
    if (file != nullptr) std::fclose(file);
  }

  const char* name() const noexcept { return codec == Codec::kZstd ? "zstd" : "gzip"; }

  void fail(std::string what) {
    end = End::kError;
    why = std::move(what);
  }

  // fill makes at least `want` input bytes available unless the file ends first; false
  // on a read error (then `end` says so).
  bool fill(std::size_t want) {
    while (in_len - in_pos < want && !input_end) {
      if (in_pos > 0) {
        std::memmove(in.get(), in.get() + in_pos, in_len - in_pos);
        in_len -= in_pos;
        in_pos = 0;
      }
      const std::size_t got = std::fread(in.get() + in_len, 1, kInput - in_len, file);
      if (got == 0) {
        if (std::ferror(file) != 0) {
          fail(std::strerror(errno));
          return false;
        }
        input_end = true;
      }
      in_len += got;
    }
    return true;
  }

  // read gives up to n bytes at `out`; 0 only when there are no more, and then `end` says
  // how the data ended.
  std::size_t read(char* out, std::size_t n) {
    if (end != End::kNo) return 0;
    if (codec == Codec::kGzip) return read_gzip(out, n);
    if (codec == Codec::kZstd) return read_zstd(out, n);
    std::size_t got = head_len;
    std::memcpy(out, head, head_len);
    head_len = 0;
    got += std::fread(out + got, 1, n - got, file);
    if (got == 0) {
      if (std::ferror(file) != 0) {
        fail(std::strerror(errno));
      } else {
        end = End::kClean;
      }
    }
    return got;
  }

  // isal_error: zlib's words for what ISA-L found, so that messages stay as they were.
  static const char* isal_error(int ret) noexcept {
    switch (ret) {
      case ISAL_INVALID_BLOCK:
        return "invalid block type";
      case ISAL_INVALID_SYMBOL:
        return "invalid code";
      case ISAL_INVALID_LOOKBACK:
        return "invalid distance too far back";
      case ISAL_INVALID_WRAPPER:
        return "incorrect header check";
      case ISAL_UNSUPPORTED_METHOD:
        return "unknown compression method";
      case ISAL_INCORRECT_CHECKSUM:
        return "incorrect data check";  // the trailer's CRC-32 or length
      default:
        return "inflate error";
    }
  }

  std::size_t read_gzip(char* out, std::size_t n) {
    inflate_state& s = *gz;
    s.next_out = reinterpret_cast<std::uint8_t*>(out);
    s.avail_out = static_cast<std::uint32_t>(n);
    while (s.avail_out > 0) {
      if (!fill(member ? 1 : 2)) break;
      const std::size_t avail = in_len - in_pos;
      if (!member) {
        if (avail < 2 || in[in_pos] != 0x1f || in[in_pos + 1] != 0x8b) {
          // No further member. Bytes after a complete member that do not start one are
          // ignored, as gzip -d and zlib ignore them.
          end = End::kClean;
          break;
        }
        isal_inflate_reset(&s);
        s.crc_flag = ISAL_GZIP;
        member = true;
      }
      s.next_in = in.get() + in_pos;
      s.avail_in = static_cast<std::uint32_t>(avail);
      const std::uint32_t out_before = s.avail_out;
      const auto state_before = s.block_state;
      const auto bits_before = s.read_in_length;
      const int ret = isal_inflate(&s);
      in_pos = static_cast<std::size_t>(s.next_in - in.get());
      if (ret != ISAL_DECOMP_OK) {
        fail(isal_error(ret));
        break;
      }
      if (s.block_state == ISAL_BLOCK_FINISH) {
        member = false;  // its CRC-32 and length checked (ISA-L hands back the bytes after it)
        continue;
      }
      const bool progress = s.avail_out != out_before || s.avail_in != avail || s.block_state != state_before ||
                            s.read_in_length != bits_before;
      if (!progress && in_pos == in_len && input_end) {
        // inflate needs more input: there is none when the stream was cut short.
        end = End::kCut;
        break;
      }
    }
    return n - s.avail_out;
  }

  std::size_t read_zstd(char* out, std::size_t n) {
    ZSTD_outBuffer o{out, n, 0};
    while (o.pos < o.size) {
      if (!fill(member ? 1 : 4)) break;
      const std::size_t avail = in_len - in_pos;
      if (!member) {
        const unsigned char* p = in.get() + in_pos;
        // A frame (28 b5 2f fd) or a skippable frame (5? 2a 4d 18) follows, or the data
        // ends: trailing bytes are ignored, as for gzip.
        const bool frame = avail >= 4 && ((p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) ||
                                          ((p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18));
        if (!frame) {
          end = End::kClean;
          break;
        }
        member = true;
      }
      ZSTD_inBuffer i{in.get() + in_pos, avail, 0};
      const std::size_t out_before = o.pos;
      const std::size_t ret = ZSTD_decompressStream(zstd, &o, &i);
      in_pos += i.pos;
      if (ZSTD_isError(ret) != 0) {
        fail(ZSTD_getErrorName(ret));
        break;
      }
      if (ret == 0) {
        member = false;  // the frame is complete (and its checksum checked, when it has one)
        continue;
      }
      if (i.pos == 0 && o.pos == out_before && in_pos == in_len && input_end) {
        end = End::kCut;  // the frame needs more input and there is none
        break;
      }
    }
    return o.pos;
  }
};

// ---- the reader: open, the buffer, lines, events ------------------------------------------

absl::StatusOr<std::unique_ptr<CaptureReader>> CaptureReader::open(const std::string& path) {
  std::unique_ptr<CaptureReader> r(new CaptureReader());
  r->path_ = path;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(path + ": cannot open");
  std::setvbuf(file, nullptr, _IONBF, 0);  // every read is a chunk: no stdio buffer between
  r->src_ = std::make_unique<Source>();
  Source& src = *r->src_;
  src.file = file;
  src.head_len = std::fread(src.head, 1, sizeof src.head, file);
  if (std::ferror(file) != 0) src.fail(std::strerror(errno));
  const unsigned char* h = src.head;
  const bool gzip = src.head_len >= 2 && h[0] == 0x1f && h[1] == 0x8b;
  const bool zstd = src.head_len == 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd;
  if (gzip || zstd) {
    src.in = std::make_unique_for_overwrite<unsigned char[]>(kInput);
    std::memcpy(src.in.get(), src.head, src.head_len);
    src.in_len = src.head_len;
    src.head_len = 0;
    if (gzip) {
      src.codec = Source::Codec::kGzip;
      src.gz = std::make_unique<inflate_state>();
      isal_inflate_init(src.gz.get());
    } else {
      src.codec = Source::Codec::kZstd;
      src.zstd = ZSTD_createDCtx();
      if (src.zstd == nullptr) return absl::ResourceExhaustedError(path + ": cannot start zstd");
    }
  }
  // Not zeroed: the pages are touched only as far as the file's longest line needs.
  r->buffer_ = std::make_unique_for_overwrite<char[]>(kBufferSize);
  std::string_view first;
  const char* bad = nullptr;
  for (CaptureReader::Read got; (got = r->read_line(first, bad)) != CaptureReader::Read::kEnd;) {
    if (got == CaptureReader::Read::kTooLong) {
      return absl::InvalidArgumentError(path + ":" + std::to_string(r->line_) + ": " + std::string(kTooLongMessage) +
                                        " before any frame told the format");
    }
    const std::string_view line = first;
    first = strip(first);
    if (first.empty()) continue;
    const std::string where = path + ":" + std::to_string(r->line_) + ": ";
    if (first == kObrMagic) {
      r->set_format(CaptureFormat::kObr);
      return r;  // the magic line is not an event
    }
    if (first.starts_with("obr-recording")) {
      return absl::InvalidArgumentError(where + "obr recording of an unsupported version ('" + std::string(first) +
                                        "'; this build reads '" + std::string(kObrMagic) + "')");
    }
    if (first.front() == '{') {
      // The JSON-lines wrapper, or a venue's frame (docs: the top of capture_reader.h).
      r->json_ = std::make_unique<JsonLines>();
      if (starts_json_lines(r->json_->parser, first, r->buffer_.get() + kBufferSize)) {
        r->set_format(CaptureFormat::kJsonLines);
      } else {
        r->json_.reset();
        r->set_format(CaptureFormat::kRaw);
      }
    } else if (first.front() == '[') {
      r->set_format(CaptureFormat::kRaw);
    } else if (CaptureEvent probe; parse_tardis(first, probe)) {
      r->set_format(CaptureFormat::kTardis);
    } else {
      if (!parse_cryptofeed(first, probe)) {
        if (bad != nullptr) {
          return absl::InvalidArgumentError(where + std::string(r->describe_bad(line, bad)) + "; " +
                                            std::string(kUnknownFormat));
        }
        return absl::InvalidArgumentError(where + std::string(kUnknownFormat));
      }
      r->set_format(CaptureFormat::kCryptofeed);
    }
    // The line told the format; next() returns it, or reports it by the format's rule.
    r->pending_ = true;
    r->pending_line_ = line;
    r->pending_bad_ = r->first_bad(line.data(), line.data() + line.size());
    return r;
  }
  if (!r->status_.ok()) return r->status_;
  return r;  // an empty file is a valid, empty recording
}

CaptureReader::~CaptureReader() = default;

void CaptureReader::set_format(CaptureFormat format) noexcept {
  format_ = format;
  format_known_ = true;
  // The rule until now flagged a superset of this format's bytes: nothing before
  // flagged_ needs another look.
  flagged_ = static_cast<std::size_t>(find_flagged(buffer_.get() + flagged_, buffer_.get() + end_) - buffer_.get());
}

const char* CaptureReader::find_flagged(const char* p, const char* e) const noexcept {
  if (!format_known_) return obr::engine::find_flagged<Rule::kAny>(p, e);
  if (format_ == CaptureFormat::kObr) return obr::engine::find_flagged<Rule::kObr>(p, e);
  return obr::engine::find_flagged<Rule::kJson>(p, e);
}

const char* CaptureReader::first_bad(const char* p, const char* e) const noexcept {
  if (!format_known_) return obr::engine::first_bad<Rule::kAny>(p, e);
  if (format_ == CaptureFormat::kObr) return obr::engine::first_bad<Rule::kObr>(p, e);
  return obr::engine::first_bad<Rule::kJson>(p, e);
}

std::string_view CaptureReader::describe_bad(std::string_view line, const char* bad) noexcept {
  static constexpr std::string_view kNul = "NUL byte at column ";
  static constexpr std::string_view kControl = "control byte 0x";
  static constexpr std::string_view kAt = " at column ";
  static constexpr char kHex[] = "0123456789abcdef";
  char* out = why_.data();
  const auto put = [&](std::string_view s) { out = std::copy(s.begin(), s.end(), out); };
  const auto c = static_cast<unsigned char>(*bad);
  if (c == 0) {
    put(kNul);
  } else {
    put(kControl);
    *out++ = kHex[c >> 4];
    *out++ = kHex[c & 15];
    put(kAt);
  }
  const auto column = static_cast<std::uint64_t>(bad - line.data()) + 1;
  out = std::to_chars(out, why_.data() + why_.size(), column).ptr;
  return {why_.data(), static_cast<std::size_t>(out - why_.data())};
}

// consume marks buffer_[begin_, to) read, keeping flagged_ at or after begin_.
void CaptureReader::consume(std::size_t to) noexcept {
  begin_ = scanned_ = to;
  if (flagged_ < to) {
    flagged_ = static_cast<std::size_t>(find_flagged(buffer_.get() + to, buffer_.get() + end_) - buffer_.get());
  }
}

// refill moves the unread part of the buffer (less than a line) to its front and reads a
// chunk after it, scanning the new bytes for flagged ones unless one is already pending.
void CaptureReader::refill() {
  char* const buf = buffer_.get();
  if (begin_ > 0) {
    const std::size_t n = end_ - begin_;
    if (n > 0) std::memmove(buf, buf + begin_, n);
    scanned_ -= begin_;
    flagged_ -= begin_;
    end_ = n;
    begin_ = 0;
  }
  const std::size_t got = src_->read(buf + end_, kChunk);
  if (got == 0) {
    at_end_ = true;
    return;
  }
  const std::size_t old_end = end_;
  end_ += got;
  std::memset(buf + end_, 0, kPadding);  // what simdjson may read past a last line
  if (flagged_ == old_end) {
    flagged_ = static_cast<std::size_t>(find_flagged(buf + old_end, buf + end_) - buf);
  }
}

// stop ends the reading at `at_line` (the first line not delivered) after an error.
void CaptureReader::stop(std::uint64_t at_line) {
  const std::string where = path_ + ":" + std::to_string(at_line) + ": ";
  const std::string lost = "nothing after line " + std::to_string(at_line - 1) + " could be read";
  if (src_->end == End::kCut) {
    status_ = absl::DataLossError(where + src_->name() + " stream ends early (file truncated or cut short): " + lost);
  } else {
    status_ = absl::DataLossError(where + "read error: " + src_->why + "; " + lost);
  }
}

CaptureReader::Read CaptureReader::read_line(std::string_view& line, const char*& bad) {
  if (!status_.ok()) return Read::kEnd;
  char* const buf = buffer_.get();
  for (;;) {
    const void* nl = std::memchr(buf + scanned_, '\n', end_ - scanned_);
    std::size_t e = 0;  // the line is buf[begin_, e)
    if (nl != nullptr) {
      e = static_cast<std::size_t>(static_cast<const char*>(nl) - buf);
    } else {
      scanned_ = end_;
      if (!at_end_ && end_ - begin_ < kMaxLine) {
        refill();
        continue;
      }
      if (!at_end_) return skip_long_line();
      if (src_->end != End::kClean) {
        // The stream broke off: what is left is not known to be a whole line.
        stop(line_ + 1);
        return Read::kEnd;
      }
      if (begin_ == end_) return Read::kEnd;
      e = end_;  // a complete file's last line, without a newline
    }
    ++line_;
    const std::size_t next = e == end_ ? e : e + 1;
    bytes_read_ += next - begin_;
    if (e - begin_ >= kMaxLine) {  // with its newline, longer than kMaxLine
      consume(next);
      return Read::kTooLong;
    }
    line = std::string_view(buf + begin_, e - begin_);
    bad = flagged_ < e ? first_bad(buf + flagged_, buf + e) : nullptr;
    consume(next);
    return Read::kLine;
  }
}

// skip_long_line consumes a line already longer than kMaxLine, a chunk at a time, to its
// newline: reported, never allocated.
CaptureReader::Read CaptureReader::skip_long_line() {
  ++line_;
  char* const buf = buffer_.get();
  for (;;) {
    const void* nl = std::memchr(buf + scanned_, '\n', end_ - scanned_);
    if (nl != nullptr) {
      const auto next = static_cast<std::size_t>(static_cast<const char*>(nl) - buf) + 1;
      bytes_read_ += next - begin_;
      consume(next);
      return Read::kTooLong;
    }
    bytes_read_ += end_ - begin_;
    begin_ = end_ = scanned_ = flagged_ = 0;
    if (at_end_) {
      if (src_->end == End::kClean) return Read::kTooLong;  // the last line of a complete file
      stop(line_);
      return Read::kEnd;
    }
    refill();
  }
}

// bad_line makes `ev` the kBadLine event of the current line, `why` its payload.
void CaptureReader::bad_line(CaptureEvent& ev, std::string_view why) const noexcept {
  ev = CaptureEvent{};
  ev.line = line_;
  ev.kind = CaptureEventKind::kBadLine;
  ev.payload = why;
}

bool CaptureReader::next(CaptureEvent& ev) {
  std::string_view line;
  for (;;) {
    const char* bad = nullptr;
    if (pending_) {
      pending_ = false;
      line = pending_line_;
      bad = pending_bad_;
    } else {
      const Read r = read_line(line, bad);
      if (r == Read::kEnd) return false;
      if (r == Read::kTooLong) {
        bad_line(ev, kTooLongMessage);
        return true;
      }
    }
    if (bad != nullptr) {
      bad_line(ev, describe_bad(line, bad));
      return true;
    }
    line = strip(line);
    if (line.empty()) continue;
    ev = CaptureEvent{};
    ev.line = line_;
    if (format_ == CaptureFormat::kRaw) {
      ev.kind = CaptureEventKind::kReceived;
      ev.payload = line;
      return true;
    }
    if (format_ == CaptureFormat::kJsonLines) {
      std::string_view why;
      if (!parse_json_line(json_->parser, line, buffer_.get() + kBufferSize, ev, why)) {
        bad_line(ev, why);
      }
      return true;
    }
    if (format_ == CaptureFormat::kObr) {
      std::string_view why;
      if (!parse_obr(line, ev, decoded_, why)) {
        bad_line(ev, why);
      }
      return true;
    }
    if (format_ == CaptureFormat::kTardis) {
      if (!parse_tardis(line, ev)) {
        bad_line(ev, "not a tardis-style line ('ISO8601-TIME FRAME', the frame a JSON object or array)");
      }
      return true;
    }
    if (!parse_cryptofeed(line, ev)) {
      bad_line(ev, "not a cryptofeed raw-data line ('URL <-> TS', 'URL <- TS: FRAME', 'TS: FRAME', 'URL -> TS: BODY')");
    }
    return true;
  }
}

}  // namespace obr::engine
