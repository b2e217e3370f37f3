#include "engine/deadman.h"

#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_cat.h>

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "book/book_state.h"
#include "connectors/net/event_loop.h"
#include "connectors/net/http_client.h"

namespace obr::engine {
namespace {

constexpr std::int64_t kMaxTimeoutNs = 15'000'000'000;

std::string book_key(std::string_view venue, std::string_view symbol) {
  std::string key(venue);
  key.push_back(':');
  key.append(symbol);
  return key;
}

// not_live: "VENUE SYMBOL is STATE" (absl::StrCat takes no std::string_view here).
std::string not_live(std::string_view venue, std::string_view symbol, std::string_view state) {
  std::string s(venue);
  s.append(" ").append(symbol).append(" is ").append(state);
  return s;
}

}  // namespace

struct Deadman::Impl {
  enum class Mode : std::uint8_t { kStarting, kSending, kHolding };

  Impl(Engine& e, DeadmanSettings s, const net::TlsOptions& tls, Report r)
      : engine(e),
        settings(std::move(s)),
        http(e.loop(), net::HttpOptions{.timeout_ns = std::min(settings.interval_ns, kMaxTimeoutNs), .tls = tls}),
        timer(e.loop()),
        report(std::move(r)) {
    for (std::size_t i = 0; i < settings.books.size(); ++i) {
      covered.emplace(book_key(settings.books[i].first, settings.books[i].second), i);
    }
    covered_live.resize(settings.books.size());
    if (!report) {
      report = [](std::string_view line) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
      };
    }
  }

  // all_live: every covered book live; else false with `why` naming one that is not.
  bool all_live(std::string& why) {
    std::size_t books = 0, live = 0;
    std::fill(covered_live.begin(), covered_live.end(), false);
    engine.for_each_book([&](std::string_view venue, std::string_view symbol, const book::OrderBook& b) {
      const bool is_live = b.state() == book::BookState::kLive;
      if (settings.books.empty()) {
        ++books;
        if (is_live) {
          ++live;
        } else if (why.empty()) {
          why = not_live(venue, symbol, book::to_string(b.state()));
        }
        return;
      }
      key = book_key(venue, symbol);
      const auto it = covered.find(key);
      if (it == covered.end()) return;
      covered_live[it->second] = is_live;
      if (!is_live && why.empty()) why = not_live(venue, symbol, book::to_string(b.state()));
    });
    if (settings.books.empty()) {
      if (books == 0 && why.empty()) why = "the engine holds no book";
      live_books = live;
      return books != 0 && live == books;
    }
    live_books = static_cast<std::size_t>(std::count(covered_live.begin(), covered_live.end(), true));
    if (!why.empty()) return false;
    for (std::size_t i = 0; i < covered_live.size(); ++i) {
      if (!covered_live[i]) {  // not among the engine's books
        why = not_live(settings.books[i].first, settings.books[i].second, "not a book of the engine");
        return false;
      }
    }
    return true;
  }

  void tick() {
    const std::int64_t now = net::now_ns();
    std::string why;
    const bool send = all_live(why);
    if (send) {
      if (mode != Mode::kSending) {
        report(absl::StrCat("deadman: sending: every covered book is live (", live_books, "); ", settings.method, " ",
                            settings.url, " every ", settings.interval_ns / 1'000'000, " ms"));
      }
      mode = Mode::kSending;
      request();
    } else {
      if (mode != Mode::kHolding) {
        report(absl::StrCat("deadman: holding: ", why, "; no request until every covered book is live"));
      }
      mode = Mode::kHolding;
      skipped.fetch_add(1, std::memory_order_relaxed);
    }
    covered_ok.store(send, std::memory_order_relaxed);
    if (observer) observer(now, send);
    next_ns += settings.interval_ns;
    if (next_ns <= now) next_ns = now + settings.interval_ns;  // the loop was late: no burst
    timer.start_after(next_ns - now, [this] { tick(); });
  }

  void request() {
    connectors::HttpRequest r;
    r.method = settings.method;
    r.url = settings.url;
    if (settings.method == "POST") r.body = absl::StrCat("{\"live_books\":", live_books, "}");
    sent.fetch_add(1, std::memory_order_relaxed);
    http.request(r, [this](const net::HttpResponse& res) {
      if (res.status >= 200 && res.status < 300) {
        answered.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      failed.fetch_add(1, std::memory_order_relaxed);
      report(absl::StrCat("deadman: ", settings.method, " ", settings.url,
                          " failed: ", res.status != 0 ? absl::StrCat("HTTP ", res.status) : res.error));
    });
  }

  Engine& engine;
  DeadmanSettings settings;
  net::HttpClient http;
  net::Timer timer;
  Report report;
  TickObserver observer;
  absl::flat_hash_map<std::string, std::size_t> covered;  // "venue:symbol" → index in settings.books
  std::vector<bool> covered_live;
  std::string key;  // the lookup's key
  std::size_t live_books = 0;
  Mode mode = Mode::kStarting;
  std::int64_t next_ns = 0;
  std::atomic<std::uint64_t> sent{0}, answered{0}, failed{0}, skipped{0};
  std::atomic<bool> covered_ok{false};
};

Deadman::Deadman(Engine& engine, DeadmanSettings settings, const net::TlsOptions& tls, Report report)
    : impl_(std::make_unique<Impl>(engine, std::move(settings), tls, std::move(report))) {}

Deadman::~Deadman() { stop(); }

void Deadman::start() {
  impl_->mode = Impl::Mode::kStarting;
  impl_->next_ns = net::now_ns() + impl_->settings.interval_ns;
  impl_->timer.start_after(impl_->settings.interval_ns, [im = impl_.get()] { im->tick(); });
}

void Deadman::stop() { impl_->timer.cancel(); }

void Deadman::set_tick_observer(TickObserver observer) { impl_->observer = std::move(observer); }

DeadmanStats Deadman::stats() const {
  DeadmanStats s;
  s.sent = impl_->sent.load(std::memory_order_relaxed);
  s.answered = impl_->answered.load(std::memory_order_relaxed);
  s.failed = impl_->failed.load(std::memory_order_relaxed);
  s.skipped = impl_->skipped.load(std::memory_order_relaxed);
  return s;
}

std::string Deadman::metrics() const {
  const DeadmanStats s = stats();
  return absl::StrCat(
      "# HELP obr_deadman_requests_total Dead man's switch requests sent, by outcome (ok: answered 2xx).\n"
      "# TYPE obr_deadman_requests_total counter\n"
      "obr_deadman_requests_total{result=\"sent\"} ",
      s.sent, "\nobr_deadman_requests_total{result=\"ok\"} ", s.answered,
      "\nobr_deadman_requests_total{result=\"failed\"} ", s.failed,
      "\n# HELP obr_deadman_skipped_total Intervals without a request: a covered book was not live.\n"
      "# TYPE obr_deadman_skipped_total counter\n"
      "obr_deadman_skipped_total ",
      s.skipped,
      "\n# HELP obr_deadman_covered_live 1 when every covered book was live at the last interval.\n"
      "# TYPE obr_deadman_covered_live gauge\n"
      "obr_deadman_covered_live ",
      impl_->covered_ok.load(std::memory_order_relaxed) ? 1 : 0, "\n");
}

const DeadmanSettings& Deadman::settings() const { return impl_->settings; }

}  // namespace obr::engine
