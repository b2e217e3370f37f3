// engine/bus/wire.cpp — see wire.h and docs/bus.md "Messages".
#include "engine/bus/wire.h"

#include <absl/strings/str_cat.h>

#include <bit>
#include <cstring>

namespace obr::bus {
namespace {

static_assert(std::endian::native == std::endian::little, "the bus bytes are written as the host's: little-endian");

constexpr char kHeartbeatMagic[4] = {'O', 'B', 'R', 'H'};
constexpr int kMaxScale = 18;

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
template <class T>
void put_at(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}
template <class T>
T get_at(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

book::Level level_at(std::span<const unsigned char> bytes, std::size_t i) {
  const unsigned char* p = bytes.data() + i * kLevelBytes;
  return {get_at<std::int64_t>(p), get_at<std::int64_t>(p + 8)};
}

bool known_state(std::uint8_t s) { return s <= static_cast<std::uint8_t>(book::BookState::kHalted); }

// Levels of a view or snapshot: best first, strictly (bids falling, asks rising), positive.
bool check_view_side(std::span<const unsigned char> bytes, bool bids, const char* side, std::string& error) {
  const std::size_t n = bytes.size() / kLevelBytes;
  for (std::size_t i = 0; i < n; ++i) {
    const book::Level l = level_at(bytes, i);
    if (l.qty <= 0) {
      error = absl::StrCat(side, " level ", i, ": quantity ", l.qty, " is not positive");
      return false;
    }
    if (i > 0) {
      const std::int64_t prev = level_at(bytes, i - 1).price;
      if (bids ? l.price >= prev : l.price <= prev) {
        error = absl::StrCat(side, " level ", i, ": price ", l.price, " out of order after ", prev);
        return false;
      }
    }
  }
  return true;
}

bool check_change_side(std::span<const unsigned char> bytes, const char* side, std::string& error) {
  const std::size_t n = bytes.size() / kLevelBytes;
  for (std::size_t i = 0; i < n; ++i) {
    const book::Level l = level_at(bytes, i);
    if (l.qty < 0) {
      error = absl::StrCat(side, " change ", i, ": quantity ", l.qty, " is negative");
      return false;
    }
  }
  return true;
}

struct Reader {
  std::string_view bytes;
  std::size_t at = 0;
  template <class T>
  bool read(T& v) {
    if (bytes.size() - at < sizeof(T)) return false;
    std::memcpy(&v, bytes.data() + at, sizeof(T));
    at += sizeof(T);
    return true;
  }
  bool text(std::string& s) {
    std::uint16_t n = 0;
    if (!read(n) || bytes.size() - at < n) return false;
    s.assign(bytes.data() + at, n);
    at += n;
    return true;
  }
};

void put_text(std::string& out, std::string_view s) {
  put(out, static_cast<std::uint16_t>(s.size()));
  out.append(s);
}

bool plain_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '/';
}

}  // namespace

std::string_view to_string(MessageType t) noexcept {
  switch (t) {
    case MessageType::kChange:
      return "change";
    case MessageType::kState:
      return "state";
    case MessageType::kView:
      return "view";
    case MessageType::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

book::Level DecodedMessage::bid(std::size_t i) const noexcept { return level_at(bid_bytes, i); }
book::Level DecodedMessage::ask(std::size_t i) const noexcept { return level_at(ask_bytes, i); }

void encode(const MessageHeader& h, std::span<const book::Level> bids, std::span<const book::Level> asks,
            std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + kHeaderBytes);
  char* p = out.data() + start;
  std::memcpy(p, kMagic, 4);
  put_at<std::uint8_t>(p + 4, kVersion);
  put_at<std::uint8_t>(p + 5, static_cast<std::uint8_t>(h.type));
  put_at<std::uint8_t>(p + 6, static_cast<std::uint8_t>(h.state));
  put_at<std::uint8_t>(p + 7, h.reason);
  put_at<std::int8_t>(p + 8, h.price_scale);
  put_at<std::int8_t>(p + 9, h.qty_scale);
  put_at<std::uint16_t>(p + 10, 0);
  put_at<std::uint32_t>(p + 12, static_cast<std::uint32_t>(bids.size()));
  put_at<std::uint32_t>(p + 16, static_cast<std::uint32_t>(asks.size()));
  put_at<std::uint32_t>(p + 20, 0);
  put_at<std::uint64_t>(p + 24, h.epoch);
  put_at<std::uint64_t>(p + 32, h.seq);
  put_at<std::int64_t>(p + 40, h.recv_ns);
  put_at<std::int64_t>(p + 48, h.publish_ns);
  put_at<std::uint64_t>(p + 56, 0);
  const std::size_t levels = bids.size() + asks.size();
  out.resize(start + kHeaderBytes + levels * kLevelBytes);
  char* q = out.data() + start + kHeaderBytes;
  for (const book::Level& l : bids) {
    put_at(q, l.price), put_at(q + 8, l.qty);
    q += kLevelBytes;
  }
  for (const book::Level& l : asks) {
    put_at(q, l.price), put_at(q + 8, l.qty);
    q += kLevelBytes;
  }
}

bool decode(std::string_view bytes, DecodedMessage& out, std::string& error) {
  if (bytes.size() < kHeaderBytes) {
    error = absl::StrCat("message of ", bytes.size(), " bytes is shorter than the ", kHeaderBytes, "-byte header");
    return false;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (std::memcmp(p, kMagic, 4) != 0) {
    error = "not a bus message (magic is not OBRB)";
    return false;
  }
  if (p[4] != kVersion) {
    error = absl::StrCat("version ", p[4], " (this reader knows ", kVersion, ")");
    return false;
  }
  const std::uint8_t type = p[5];
  if (type < 1 || type > 4) {
    error = absl::StrCat("unknown message type ", type);
    return false;
  }
  if (!known_state(p[6])) {
    error = absl::StrCat("unknown book state ", p[6]);
    return false;
  }
  MessageHeader& h = out.header;
  h.type = static_cast<MessageType>(type);
  h.state = static_cast<book::BookState>(p[6]);
  h.reason = p[7];
  h.price_scale = get_at<std::int8_t>(p + 8);
  h.qty_scale = get_at<std::int8_t>(p + 9);
  if (h.price_scale < 0 || h.price_scale > kMaxScale || h.qty_scale < 0 || h.qty_scale > kMaxScale) {
    error = absl::StrCat("scales ", h.price_scale, "/", h.qty_scale, " outside [0, ", kMaxScale, "]");
    return false;
  }
  const std::uint32_t nb = get_at<std::uint32_t>(p + 12);
  const std::uint32_t na = get_at<std::uint32_t>(p + 16);
  h.epoch = get_at<std::uint64_t>(p + 24);
  h.seq = get_at<std::uint64_t>(p + 32);
  h.recv_ns = get_at<std::int64_t>(p + 40);
  h.publish_ns = get_at<std::int64_t>(p + 48);
  if (nb > kMaxViewLevels || na > kMaxViewLevels) {
    error = absl::StrCat(nb, " bid and ", na, " ask levels: more than ", kMaxViewLevels, " a side");
    return false;
  }
  const std::size_t want = kHeaderBytes + (std::size_t{nb} + na) * kLevelBytes;
  if (bytes.size() != want) {
    error = absl::StrCat("length ", bytes.size(), " bytes, but ", nb, " bid and ", na, " ask levels make ", want);
    return false;
  }
  if (h.type == MessageType::kState && (nb != 0 || na != 0)) {
    error = "a state message carries levels";
    return false;
  }
  if (h.seq == 0) {
    error = "sequence 0 (sequences start at 1)";
    return false;
  }
  out.bid_bytes = {p + kHeaderBytes, std::size_t{nb} * kLevelBytes};
  out.ask_bytes = {p + kHeaderBytes + std::size_t{nb} * kLevelBytes, std::size_t{na} * kLevelBytes};
  if (h.type == MessageType::kView || h.type == MessageType::kSnapshot) {
    return check_view_side(out.bid_bytes, true, "bid", error) && check_view_side(out.ask_bytes, false, "ask", error);
  }
  return check_change_side(out.bid_bytes, "bid", error) && check_change_side(out.ask_bytes, "ask", error);
}

void encode_heartbeat(const Heartbeat& hb, std::string& out) {
  out.append(kHeartbeatMagic, 4);
  put<std::uint8_t>(out, kVersion);
  put(out, hb.shard);
  put(out, hb.epoch);
  put(out, hb.publish_ns);
  put_text(out, hb.engine);
  put(out, static_cast<std::uint32_t>(hb.books.size()));
  for (const HeartbeatBook& b : hb.books) {
    put_text(out, b.venue);
    put_text(out, b.symbol);
    put(out, b.seq);
  }
}

bool decode_heartbeat(std::string_view bytes, Heartbeat& out, std::string& error) {
  if (bytes.size() < 5 || std::memcmp(bytes.data(), kHeartbeatMagic, 4) != 0) {
    error = "not a heartbeat (magic is not OBRH)";
    return false;
  }
  if (static_cast<std::uint8_t>(bytes[4]) != kVersion) {
    error = absl::StrCat("heartbeat version ", static_cast<int>(static_cast<std::uint8_t>(bytes[4])));
    return false;
  }
  Reader r{bytes, 5};
  std::uint32_t n = 0;
  if (!r.read(out.shard) || !r.read(out.epoch) || !r.read(out.publish_ns) || !r.text(out.engine) || !r.read(n)) {
    error = "heartbeat cut short in its header";
    return false;
  }
  // Each book takes at least 12 bytes: a count beyond what is left is a lie, not an allocation.
  if (n > (bytes.size() - r.at) / 12) {
    error = absl::StrCat("heartbeat claims ", n, " books in ", bytes.size() - r.at, " bytes");
    return false;
  }
  out.books.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    HeartbeatBook& b = out.books[i];
    if (!r.text(b.venue) || !r.text(b.symbol) || !r.read(b.seq)) {
      error = absl::StrCat("heartbeat cut short in book ", i);
      return false;
    }
  }
  if (r.at != bytes.size()) {
    error = absl::StrCat("heartbeat has ", bytes.size() - r.at, " bytes after its last book");
    return false;
  }
  return true;
}

std::uint32_t shard_of(std::string_view venue, std::string_view symbol, std::uint32_t shards) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (char c : venue) mix(static_cast<unsigned char>(c));
  mix(0);
  for (char c : symbol) mix(static_cast<unsigned char>(c));
  return shards == 0 ? 0 : static_cast<std::uint32_t>(h % shards);
}

std::string key_token(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (plain_token_char(c)) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('=');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

bool token_text(std::string_view token, std::string& out) {
  out.clear();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < token.size(); ++i) {
    const char c = token[i];
    if (c == '=') {
      if (token.size() - i < 3) return false;
      const int hi = hex(token[i + 1]), lo = hex(token[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (plain_token_char(c)) {
      out.push_back(c);
    } else {
      return false;
    }
  }
  return !token.empty();
}

std::string Subjects::changes(std::string_view venue, std::string_view symbol) const {
  return absl::StrCat(prefix, ".d.", key_token(venue), ".", key_token(symbol));
}
std::string Subjects::heartbeat(std::uint32_t shard) const { return absl::StrCat(prefix, ".hb.", shard); }
std::string Subjects::snapshot_request(std::string_view venue, std::string_view symbol) const {
  return absl::StrCat(prefix, ".snap.", key_token(venue), ".", key_token(symbol));
}
std::string Subjects::book_key(std::string_view venue, std::string_view symbol) {
  return absl::StrCat(key_token(venue), ".", key_token(symbol));
}

bool Subjects::parse_changes(std::string_view subject, std::string& venue, std::string& symbol) const {
  const std::string head = absl::StrCat(prefix, ".d.");
  if (subject.size() <= head.size() || subject.substr(0, head.size()) != head) return false;
  subject.remove_prefix(head.size());
  const std::size_t dot = subject.find('.');
  if (dot == std::string_view::npos || subject.find('.', dot + 1) != std::string_view::npos) return false;
  return token_text(subject.substr(0, dot), venue) && token_text(subject.substr(dot + 1), symbol);
}

}  // namespace obr::bus
