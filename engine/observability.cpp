#include "engine/observability.h"

#include <cstdio>

#include "engine/json_text.h"

namespace obr::engine {
namespace {

// label_value escapes a Prometheus label value (backslash, quote, newline).
void label_value(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

void scalar(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            std::uint64_t value) {
  append_metric_header(out, name, type, help);
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void book_labels(std::string& out, const BookStatus& b) {
  out += "{venue=\"";
  label_value(out, b.venue);
  out += "\",symbol=\"";
  label_value(out, b.symbol);
  out += '"';
}

std::string seconds(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(ns) / 1e9);
  return buf;
}

constexpr book::BookState kStates[] = {book::BookState::kSubscribing, book::BookState::kAwaitingSnapshot,
                                       book::BookState::kLive,        book::BookState::kInvalid,
                                       book::BookState::kResyncing,   book::BookState::kStale,
                                       book::BookState::kHalted};

}  // namespace

void append_metric_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

HealthReport render_health(const std::vector<BookStatus>& books) {
  std::size_t live = 0;
  for (const BookStatus& b : books) live += b.state == book::BookState::kLive ? 1 : 0;
  const bool ok = !books.empty() && live == books.size();
  HealthReport r;
  r.status = ok ? 200 : 503;
  r.body = ok ? R"({"status":"ok")" : R"({"status":"degraded")";
  r.body += ",\"live\":" + std::to_string(live) + ",\"books\":[";
  for (std::size_t i = 0; i < books.size(); ++i) {
    if (i) r.body += ',';
    r.body += "{\"venue\":";
    append_json_string(r.body, books[i].venue);
    r.body += ",\"symbol\":";
    append_json_string(r.body, books[i].symbol);
    r.body += ",\"state\":";
    append_json_string(r.body, book::to_string(books[i].state));
    r.body += '}';
  }
  r.body += "]}\n";
  return r;
}

void set_venue_status(VenueStatuses& statuses, std::string_view venue, std::string_view status) {
  for (auto& [v, st] : statuses) {
    if (v == venue) {
      st = std::string(status);
      return;
    }
  }
  statuses.emplace_back(std::string(venue), std::string(status));
}

std::string render_metrics(const EngineStats& s, const std::vector<BookStatus>& books, const LatencyHistogram& latency,
                           const VenueStatuses& venue_statuses) {
  std::string out;
  out.reserve(4096 + books.size() * 1024);
  scalar(out, "obr_frames_total", "counter", "WebSocket frames received.", s.frames);
  scalar(out, "obr_bytes_total", "counter", "WebSocket payload bytes received.", s.bytes);
  scalar(out, "obr_malformed_frames_total", "counter", "Frames that could not be used (counted, reported).",
         s.malformed);
  scalar(out, "obr_connects_total", "counter", "WebSocket connections opened.", s.connects);
  scalar(out, "obr_reconnects_total", "counter", "Connections opened after a previous one was lost.", s.reconnects);
  scalar(out, "obr_disconnects_total", "counter", "Connections lost or closed.", s.disconnects);
  scalar(out, "obr_watchdog_fired_total", "counter", "Connections closed because no data arrived in time.",
         s.watchdog_fired);
  scalar(out, "obr_http_requests_total", "counter", "REST requests sent (tokens, snapshots).", s.http_requests);
  scalar(out, "obr_http_throttled_total", "counter", "REST answers 429 or 418 (Retry-After honoured).",
         s.http_throttled);
  scalar(out, "obr_rotations_total", "counter",
         "Connections replaced before the venue's lifetime, no book leaving live.", s.rotations);
  scalar(out, "obr_rotations_dropped_total", "counter", "Replacement connections dropped: not ready in time.",
         s.rotations_dropped);

  struct PerBook {
    const char* name;
    const char* help;
    std::uint64_t book::BookCounters::*field;
  };
  static constexpr PerBook kPerBook[] = {
      {"obr_book_snapshots_total", "Snapshots applied.", &book::BookCounters::snapshots},
      {"obr_book_updates_total", "Update messages applied to a live book.", &book::BookCounters::updates},
      {"obr_book_checks_passed_total", "Checksum or sequence checks that passed.", &book::BookCounters::checks_passed},
      {"obr_book_checks_failed_total", "Checksum or sequence checks that failed.", &book::BookCounters::checks_failed},
      {"obr_book_resyncs_total", "Resubscribes or re-snapshots requested.", &book::BookCounters::resyncs_requested},
  };
  for (const PerBook& m : kPerBook) {
    append_metric_header(out, m.name, "counter", m.help);
    for (const BookStatus& b : books) {
      out += m.name;
      book_labels(out, b);
      out += "} ";
      out += std::to_string(b.counters.*m.field);
      out += '\n';
    }
  }
  append_metric_header(out, "obr_book_state", "gauge", "1 for the state each book is in, 0 for the others.");
  for (const BookStatus& b : books) {
    for (const book::BookState st : kStates) {
      out += "obr_book_state";
      book_labels(out, b);
      out += ",state=\"";
      out += book::to_string(st);
      out += "\"} ";
      out += st == b.state ? '1' : '0';
      out += '\n';
    }
  }
  if (!venue_statuses.empty()) {
    append_metric_header(out, "obr_venue_status", "gauge",
                         "1 for the trading status each venue last reported (only maintenance makes books stale).");
    for (const auto& [venue, status] : venue_statuses) {
      out += "obr_venue_status{venue=\"";
      label_value(out, venue);
      out += "\",status=\"";
      label_value(out, status);
      out += "\"} 1\n";
    }
  }
  append_metric_header(out, "obr_update_latency_seconds", "histogram",
                       "From a frame read off the socket to the listener's book callback.");
  for (std::size_t i = 0; i < LatencyHistogram::kBoundsNs.size(); ++i) {
    out += "obr_update_latency_seconds_bucket{le=\"" + seconds(LatencyHistogram::kBoundsNs[i]) + "\"} " +
           std::to_string(latency.cumulative_le(i)) + '\n';
  }
  out += "obr_update_latency_seconds_bucket{le=\"+Inf\"} " + std::to_string(latency.count()) + '\n';
  out += "obr_update_latency_seconds_sum " + seconds(static_cast<std::int64_t>(latency.sum_ns())) + '\n';
  out += "obr_update_latency_seconds_count " + std::to_string(latency.count()) + '\n';
  return out;
}

}  // namespace obr::engine
