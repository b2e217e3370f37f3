// engine/observability.h — what the engine's HTTP endpoint serves, as pure functions of
// the engine's state (so they are tested without a socket):
//   /health  200 only when every subscribed book is live, else 503; a JSON body naming
//            each book's state either way;
//   /metrics Prometheus text format 0.0.4: frames, bytes, malformed frames, connects,
//            reconnects, watchdog closes, HTTP requests, per-book updates, checks
//            passed/failed, resyncs and state, and the frame-to-callback latency histogram.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "book/book_state.h"
#include "book/order_book.h"
#include "engine/engine.h"
#include "engine/latency_histogram.h"

namespace obr::engine {

struct BookStatus {
  std::string_view venue;
  std::string_view symbol;
  book::BookState state = book::BookState::kSubscribing;
  book::BookCounters counters;
};

struct HealthReport {
  int status = 503;
  std::string body;  // {"status":"ok"|"degraded","live":N,"books":[{"venue":…,"symbol":…,"state":…}]}
};

// VenueStatuses: the last trading status each venue reported (venue, status), in the
// order the venues first reported one.
using VenueStatuses = std::vector<std::pair<std::string, std::string>>;
void set_venue_status(VenueStatuses& statuses, std::string_view venue, std::string_view status);

HealthReport render_health(const std::vector<BookStatus>& books);
// render_metrics: Prometheus text. `venue_statuses` becomes obr_venue_status{venue,status} 1.
std::string render_metrics(const EngineStats& stats, const std::vector<BookStatus>& books,
                           const LatencyHistogram& latency, const VenueStatuses& venue_statuses = {});
// append_metric_header: a metric family's "# HELP" and "# TYPE" lines, for the text that
// Engine::add_metrics appends (BusNode::metrics).
void append_metric_header(std::string& out, std::string_view name, std::string_view type, std::string_view help);

}  // namespace obr::engine
