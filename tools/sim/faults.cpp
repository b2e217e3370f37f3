// tools/sim/faults.cpp — fault schedule parsing. The venues, and the fault kinds only one of
// them has, come from the simulator's list of venue pieces (venue_pieces.h).
#include "tools/sim/faults.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>

#include "tools/sim/venue_pieces.h"

namespace obr::sim {
namespace {

struct Name {
  std::string_view text;
  FaultKind kind;
};
constexpr Name kNames[] = {
    {"drop", FaultKind::kDrop},
    {"corrupt_checksum", FaultKind::kCorruptChecksum},
    {"skip_sequence", FaultKind::kSkipSequence},
    {"duplicate", FaultKind::kDuplicate},
    {"reorder", FaultKind::kReorder},
    {"stall", FaultKind::kStall},
    {"close", FaultKind::kClose},
    {"close_code", FaultKind::kCloseCode},
    {"maintenance", FaultKind::kMaintenance},
    {"malformed", FaultKind::kMalformed},
    {"oversized", FaultKind::kOversized},
    {"refuse_token", FaultKind::kRefuseToken},
    {"expire_token", FaultKind::kExpireToken},
    {"fail_endpoint", FaultKind::kFailEndpoint},
    {"rest_429", FaultKind::kRest429},
    {"rest_418", FaultKind::kRest418},
    {"rest_500", FaultKind::kRest500},
    {"stale_snapshot", FaultKind::kStaleSnapshot},
    {"refuse_topic", FaultKind::kRefuseTopic},
    {"unprompted_snapshot", FaultKind::kUnpromptedSnapshot},
    {"restart_snapshot", FaultKind::kRestartSnapshot},
    {"sequence_reset", FaultKind::kSequenceReset},
    {"refuse_channel", FaultKind::kRefuseChannel},
    {"no_change", FaultKind::kNoChange},
};

// parse_duration: "2s", "2.5s", "300ms" → ns.
bool parse_duration(std::string_view text, std::int64_t& ns) {
  double scale = 1e9;
  if (text.ends_with("ms")) {
    scale = 1e6;
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
  } else {
    return false;
  }
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !(v >= 0) || v > 1e6) return false;
  ns = static_cast<std::int64_t>(std::llround(v * scale));
  return true;
}

bool parse_uint(std::string_view text, std::uint64_t& out) {
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && !text.empty();
}

}  // namespace

std::string_view to_string(FaultKind kind) noexcept {
  for (const Name& n : kNames) {
    if (n.kind == kind) return n.text;
  }
  return "unknown";
}

std::optional<Fault> parse_fault(std::string_view spec, std::string& error) {
  Fault f;
  f.spec.assign(spec);
  std::string_view head = spec.substr(0, spec.find(','));
  std::string_view rest = head.size() < spec.size() ? spec.substr(head.size() + 1) : std::string_view();
  std::string_view trigger;
  if (const std::size_t at = head.find('@'); at != std::string_view::npos) {
    trigger = head.substr(at + 1);
    head = head.substr(0, at);
  }
  std::string_view arg;
  if (const std::size_t eq = head.find('='); eq != std::string_view::npos) {
    arg = head.substr(eq + 1);
    head = head.substr(0, eq);
  }
  bool known = false;
  for (const Name& n : kNames) {
    if (n.text == head) {
      f.kind = n.kind;
      known = true;
    }
  }
  if (!known) {
    error = "fault '" + std::string(spec) + "': unknown kind '" + std::string(head) + "'";
    return std::nullopt;
  }
  if (!arg.empty()) {
    std::uint64_t value = 0;
    if (f.kind == FaultKind::kStall) {
      if (!parse_duration(arg, f.arg)) {
        error = "fault '" + std::string(spec) + "': stall length '" + std::string(arg) + "' is not like 5s or 500ms";
        return std::nullopt;
      }
    } else if ((f.kind == FaultKind::kCloseCode || f.kind == FaultKind::kSkipSequence) && parse_uint(arg, value) &&
               value < 100000) {
      f.arg = static_cast<std::int64_t>(value);
    } else {
      error = "fault '" + std::string(spec) + "': '" + std::string(arg) + "' is not a valid argument for " +
              std::string(head);
      return std::nullopt;
    }
  }
  if (!trigger.empty()) {
    if (trigger.starts_with("t=")) {
      if (!parse_duration(trigger.substr(2), f.at_ns)) {
        error =
            "fault '" + std::string(spec) + "': time '" + std::string(trigger.substr(2)) + "' is not like 2s or 300ms";
        return std::nullopt;
      }
    } else if (trigger.starts_with("msg=")) {
      if (!parse_uint(trigger.substr(4), f.at_message)) {
        error = "fault '" + std::string(spec) + "': message count '" + std::string(trigger.substr(4)) +
                "' is not a whole number";
        return std::nullopt;
      }
    } else {
      error = "fault '" + std::string(spec) + "': trigger '" + std::string(trigger) + "' is not t=… or msg=…";
      return std::nullopt;
    }
  }
  while (!rest.empty()) {
    std::string_view item = rest.substr(0, rest.find(','));
    rest = item.size() < rest.size() ? rest.substr(item.size() + 1) : std::string_view();
    if (item.starts_with("venue=")) {
      f.venue.assign(item.substr(6));
      if (find_venue_piece(f.venue) == nullptr) {
        error = "fault '" + std::string(spec) + "': venue '" + f.venue + "' is not " + venue_piece_names();
        return std::nullopt;
      }
    } else if (item.starts_with("symbol=")) {
      f.symbol.assign(item.substr(7));
    } else {
      error = "fault '" + std::string(spec) + "': '" + std::string(item) + "' is not venue=… or symbol=…";
      return std::nullopt;
    }
  }
  const std::vector<std::string_view> owners = fault_owners(f.kind);
  if (!f.venue.empty() && !owners.empty() && std::find(owners.begin(), owners.end(), f.venue) == owners.end()) {
    std::string names;
    for (std::size_t i = 0; i < owners.size(); ++i) {
      if (i > 0) names += i + 1 == owners.size() ? " or " : ", ";
      names += owners[i];
    }
    error = "fault '" + std::string(spec) + "': " + std::string(head) + " exists only on " + names;
    return std::nullopt;
  }
  return f;
}

std::optional<std::vector<Fault>> load_faults(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open the fault schedule";
    return std::nullopt;
  }
  std::vector<Fault> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    std::string_view spec(line);
    spec = spec.substr(0, spec.find('#'));  // a comment runs to the end of the line
    while (!spec.empty() && (spec.front() == ' ' || spec.front() == '\t')) spec.remove_prefix(1);
    while (!spec.empty() && (spec.back() == ' ' || spec.back() == '\t' || spec.back() == '\r')) spec.remove_suffix(1);
    if (spec.empty()) continue;
    std::string why;
    auto f = parse_fault(spec, why);
    if (!f) {
      error = path + ":" + std::to_string(n) + ": " + why;
      return std::nullopt;
    }
    out.push_back(std::move(*f));
  }
  return out;
}

std::vector<std::string_view> fault_owners(FaultKind kind) {
  std::vector<std::string_view> out;
  for (const VenuePieceFactory& piece : venue_pieces()) {
    if (std::find(piece.own_faults.begin(), piece.own_faults.end(), kind) != piece.own_faults.end()) {
      out.push_back(piece.name);
    }
  }
  return out;
}

std::string_view fault_venue(const Fault& f) noexcept {
  // Counted without allocating (noexcept): the one owner, if exactly one piece owns the kind.
  std::string_view owner;
  std::size_t owners = 0;
  for (const VenuePieceFactory& piece : venue_pieces()) {
    if (std::find(piece.own_faults.begin(), piece.own_faults.end(), f.kind) != piece.own_faults.end()) {
      owner = piece.name;
      ++owners;
    }
  }
  return owners == 1 ? owner : std::string_view(f.venue);
}

}  // namespace obr::sim
