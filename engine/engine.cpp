// engine/engine.cpp — the live engine (see engine.h).
//
// One Conn per venue connection. A Conn is the SessionSink of its session and the
// WsListener of its WebSocket: it turns transport events into session calls and session
// actions into transport calls, adding reconnects, the watchdog and timers. Book events go
// through the registry (a dense index per venue book) to the listener and to the
// published top of book.
//
// This file: the Engine — HTTP endpoint, subscribe, recording, run/start/stop, and the
// read side (top, book_at, consolidated). The connections (Conn, KrakenConn, KucoinConn)
// are in engine_conns.cpp; BookRegistry, Conn and Engine::Impl are declared in
// engine_impl.h.
#include "engine/engine.h"

#include <charconv>
#include <cmath>
#include <string>

#include "connectors/net/url.h"
#include "engine/engine_impl.h"
#include "engine/venues_impl.h"

namespace obr::engine {

std::string_view to_string(ConnectionState s) noexcept {
  switch (s) {
    case ConnectionState::kConnecting:
      return "connecting";
    case ConnectionState::kOpen:
      return "open";
    case ConnectionState::kClosed:
      return "closed";
  }
  return "unknown";
}

// ---- Engine -----------------------------------------------------------------------

namespace {

// text: a bound or value as the message shows it (a double by number_text).
std::string text(std::int64_t v) { return std::to_string(v); }
std::string text(std::size_t v) { return std::to_string(v); }
std::string text(double v) { return number_text(v); }

template <typename T>
absl::Status out_of_range(std::string_view field, T value, T min, T max) {
  return absl::InvalidArgumentError("engine config: " + std::string(field) + " = " + text(value) +
                                    " is out of range (" + text(min) + " to " + text(max) + ")");
}

bool usable_symbol(std::string_view s) { return !s.empty() && one_word(s); }

absl::Status check_symbols(std::string_view field, const std::vector<std::string>& symbols) {
  for (const std::string& s : symbols) {
    if (!usable_symbol(s)) {
      return absl::InvalidArgumentError("engine config: " + std::string(field) + ": '" + s +
                                        "' is empty or has a blank, comma or control character");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kFrame:
      return "frame";
    case ErrorKind::kVenue:
      return "venue";
    case ErrorKind::kRequest:
      return "request";
    case ErrorKind::kConfig:
      return "config";
    case ErrorKind::kSubscribe:
      return "subscribe";
    case ErrorKind::kCapacity:
      return "capacity";
    case ErrorKind::kRotation:
      return "rotation";
  }
  return "unknown";
}

std::string to_string(const EngineError& e) {
  std::string out(e.venue);
  if (!e.symbol.empty()) {
    out += ": ";
    out += e.symbol;
  }
  out += ": ";
  out += e.detail;
  return out;
}

std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];  // the longest shortest form of a double is 24 characters
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

bool one_word(std::string_view s) noexcept { return connectors::is_one_word(s); }

namespace {
// split_listen parses "ADDRESS:PORT" or "[IPV6]:PORT".
bool split_listen(std::string_view s, std::string& address, std::uint16_t& port) {
  const std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == s.size()) return false;
  std::string_view host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view digits = s.substr(colon + 1);
  unsigned value = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size() || value > 65535 || host.empty()) return false;
  address.assign(host);
  port = static_cast<std::uint16_t>(value);
  return true;
}
}  // namespace

namespace {
// check_url: the field's value is an absolute URL of one of `schemes` with a host and a
// valid port.
absl::Status check_url(std::string_view field, const std::string& value, std::string_view schemes, bool websocket) {
  net::Url url;
  if (!net::parse_url(value, url) || (websocket != (url.scheme == "ws" || url.scheme == "wss"))) {
    return absl::InvalidArgumentError("engine config: " + std::string(field) + ": '" + value + "' is not a " +
                                      std::string(schemes) + " URL with a host (and a port from 1 to 65535)");
  }
  return absl::OkStatus();
}
}  // namespace

// check_venue: the rules of one venue entry, with the venue's own (its descriptor's).
absl::Status check_venue(const EngineConfig& c, std::size_t index) {
  const VenueConfig& v = c.venues[index];
  const Venue* known = find_venue(v.venue);
  if (known == nullptr) {
    return absl::InvalidArgumentError("engine config: venue '" + v.venue + "' is not one the engine knows (" +
                                      venue_names() + ")");
  }
  for (std::size_t j = 0; j < index; ++j) {
    if (c.venues[j].venue == v.venue) {
      return absl::InvalidArgumentError("engine config: venue '" + v.venue + "' is configured twice");
    }
  }
  const connectors::VenueDescriptor& d = *known->descriptor;
  const std::string name(d.name);
  if (v.depth != 0) {
    if (d.depth_ok == nullptr) {
      return absl::InvalidArgumentError("engine config: " + name + ".depth = " + std::to_string(v.depth) + ": " + name +
                                        " has no depth to choose");
    }
    if (!d.depth_ok(v.depth)) {
      return absl::InvalidArgumentError("engine config: " + name + ".depth = " + std::to_string(v.depth) +
                                        " is not a depth " + name + " offers: " + std::string(d.depths_text));
    }
  }
  if (absl::Status st = check_symbols(name + ".symbols", v.symbols); !st.ok()) return st;
  if (!v.endpoints.empty() && d.default_endpoint.empty()) {
    return absl::InvalidArgumentError("engine config: " + name + ".endpoints: '" + v.endpoints.front() + "': " + name +
                                      "'s WebSocket endpoint comes from its REST base (an http:// or https:// URL)");
  }
  for (std::size_t i = 0; i < v.endpoints.size(); ++i) {
    const std::string field = name + ".endpoints[" + std::to_string(i) + "]";
    if (absl::Status st = check_url(field, v.endpoints[i], "ws:// or wss://", true); !st.ok()) return st;
  }
  if (!v.rest_base.empty()) {
    if (d.default_rest_base.empty()) {
      return absl::InvalidArgumentError("engine config: " + name + ".rest_base: '" + v.rest_base + "': " + name +
                                        " uses no REST base (its endpoints are ws:// or wss:// URLs)");
    }
    if (absl::Status st = check_url(name + ".rest_base", v.rest_base, "http:// or https://", false); !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

absl::Status check_config_and_files(const EngineConfig& c) {
  if (absl::Status st = check_config(c); !st.ok()) return st;
  if (absl::Status st = net::check_ca_file(c.tls.ca_file); !st.ok()) {
    return absl::InvalidArgumentError("engine config: " + std::string(st.message()));
  }
  return absl::OkStatus();
}

absl::Status check_config(const EngineConfig& c) {
  using namespace config_bounds;
  const struct {
    std::string_view field;
    std::int64_t value, min, max;
  } ints[] = {
      {"backoff.base_ns", c.backoff.base_ns, kMinBackoffNs, kMaxTimeNs},
      {"backoff.cap_ns", c.backoff.cap_ns, kMinBackoffNs, kMaxTimeNs},
      {"backoff.stable_ns", c.backoff.stable_ns, kMinBackoffNs, kMaxTimeNs},
      {"watchdog_ns", c.watchdog_ns, kMinTimerNs, kMaxTimeNs},
      {"ping_interval_ns", c.ping_interval_ns, kMinTimerNs, kMaxTimeNs},
      {"rotate_timeout_ns", c.rotate_timeout_ns, kMinTimerNs, kMaxTimeNs},
  };
  for (const auto& r : ints) {
    if (r.value < r.min || r.value > r.max) return out_of_range(r.field, r.value, r.min, r.max);
  }
  if (c.rotate_after_ns != 0 && (c.rotate_after_ns < kMinTimerNs || c.rotate_after_ns > kMaxTimeNs)) {
    return absl::InvalidArgumentError("engine config: rotate_after_ns = " + text(c.rotate_after_ns) +
                                      " is out of range (0 for the venue's lifetime minus " +
                                      text(EngineConfig::kRotationMarginNs) + ", or " + text(kMinTimerNs) + " to " +
                                      text(kMaxTimeNs) + ")");
  }
  const struct {
    std::string_view field;
    std::size_t value, min, max;
  } sizes[] = {
      {"max_message_bytes", c.max_message_bytes, kMinMessageBytes, kMaxMessageBytes},
      {"max_books", c.max_books, 1, kMaxBooks},
  };
  for (const auto& r : sizes) {
    if (r.value < r.min || r.value > r.max) return out_of_range(r.field, r.value, r.min, r.max);
  }
  const struct {
    std::string_view field;
    const std::optional<double>& value;
    double min, max;
  } reals[] = {{"snapshot_rate_per_s", c.snapshot_rate_per_s, kMinSnapshotRate, kMaxSnapshotRate},
               {"snapshot_burst", c.snapshot_burst, kMinSnapshotBurst, kMaxSnapshotBurst}};
  for (const auto& r : reals) {
    if (r.value && !(*r.value >= r.min && *r.value <= r.max)) {
      return out_of_range(r.field, *r.value, r.min, r.max);  // NaN too
    }
  }
  if (c.backoff.base_ns > c.backoff.cap_ns) {
    return absl::InvalidArgumentError("engine config: backoff.base_ns (" + std::to_string(c.backoff.base_ns) +
                                      ") is above backoff.cap_ns (" + std::to_string(c.backoff.cap_ns) + ")");
  }
  for (std::size_t i = 0; i < c.venues.size(); ++i) {
    if (absl::Status st = check_venue(c, i); !st.ok()) return st;
  }
  if (!c.http_listen.empty()) {
    std::string address;
    std::uint16_t port = 0;
    if (!split_listen(c.http_listen, address, port)) {
      return absl::InvalidArgumentError("engine config: http_listen: '" + c.http_listen +
                                        "' is not ADDRESS:PORT (e.g. 127.0.0.1:9100 or [::1]:9100)");
    }
  }
  for (const ConsolidatedInstrument& inst : c.consolidated) {
    for (const BookRef& ref : inst.books) {
      if (!is_venue(ref.venue)) {
        return absl::InvalidArgumentError("engine config: consolidated." + inst.name + ": unknown venue '" + ref.venue +
                                          "' (" + venue_names() + ")");
      }
    }
  }
  return absl::OkStatus();
}

Engine::Engine(const EngineConfig& config, Listener* listener, net::EventLoop* loop)
    : impl_(std::make_unique<Impl>(config, listener, loop)) {
  if (!impl_->config_status.ok()) return;  // inert (Impl checked it first): connect() reports why
  for (const VenueConfig& v : config.venues) {
    if (v.symbols.empty()) continue;  // a venue with no book yet connects at its first subscribe
    std::unique_ptr<Conn> conn = make_conn(*impl_, v);
    if (absl::Status st = conn->init(v.symbols); !st.ok()) {
      impl_->listener->on_error(EngineError{v.venue, {}, ErrorKind::kSubscribe, std::string(st.message())});
    }
    impl_->conns.push_back(std::move(conn));
  }
  // A consolidated member that is not subscribed is registered anyway: it is never live,
  // so it never contributes, and /health names it.
  for (const ConsolidatedInstrument& inst : config.consolidated) {
    std::vector<std::size_t> members;
    for (const BookRef& ref : inst.books) {
      const std::size_t i = impl_->register_book(ref.venue, ref.symbol, nullptr);
      if (i != Impl::npos) members.push_back(i);
    }
    impl_->instruments.emplace_back(inst.name, std::move(members));
  }
}

absl::Status Engine::start_http() {
  Impl* im = impl_.get();
  if (im->http) return absl::OkStatus();
  if (im->config.http_listen.empty()) return absl::FailedPreconditionError("no http_listen address configured");
  net::HttpServerOptions o;
  if (!split_listen(im->config.http_listen, o.address, o.port)) {
    return absl::InvalidArgumentError("http_listen '" + im->config.http_listen +
                                      "' is not ADDRESS:PORT (e.g. 127.0.0.1:9100 or [::1]:9100)");
  }
  auto server = std::make_unique<net::HttpServer>(im->loop, o, [im](std::string_view, std::string_view target) {
    net::HttpServerResponse res;
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/health") {
      HealthReport h = render_health(im->statuses());
      res.status = h.status;
      res.content_type = "application/json";
      res.body = std::move(h.body);
    } else if (path == "/metrics") {
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      res.body = render_metrics(im->stats, im->statuses(), im->latency, im->venue_statuses);
      for (const auto& text : im->extra_metrics) res.body += text();
    } else {
      res.status = 404;
      res.body = "not found: try /health or /metrics\n";
    }
    return res;
  });
  if (absl::Status st = server->listen(); !st.ok()) return st;
  im->http = std::move(server);
  return absl::OkStatus();
}

void Engine::add_metrics(std::function<std::string()> text) { impl_->extra_metrics.push_back(std::move(text)); }

std::uint16_t Engine::http_port() const { return impl_->http ? impl_->http->port() : 0; }
const LatencyHistogram& Engine::latency() const { return impl_->latency; }

bool Engine::consolidated(std::string_view name, ConsolidatedBbo& out) const {
  for (const auto& [n, members] : impl_->instruments) {
    if (n != name) continue;
    std::vector<TopOfBook> tops;
    tops.reserve(members.size());
    for (std::size_t i : members) tops.push_back(impl_->books[i].cell.read());
    out = consolidate(tops);
    return true;
  }
  return false;
}

Engine::~Engine() {
  if (impl_->thread.joinable()) stop();
  for (auto& c : impl_->conns) c->shutdown();
  for (auto& c : impl_->retired) c->shutdown();
}

absl::Status Engine::subscribe(std::string_view venue, const std::vector<std::string>& symbols) {
  Impl* im = impl_.get();
  if (!im->config_status.ok()) {
    return absl::FailedPreconditionError("subscribe: the engine's config is invalid: " +
                                         std::string(im->config_status.message()));
  }
  if (!is_venue(venue)) {
    return absl::InvalidArgumentError("subscribe: unknown venue '" + std::string(venue) + "' (" + venue_names() + ")");
  }
  std::vector<std::string> fresh;
  for (const std::string& s : symbols) {
    if (!usable_symbol(s)) {
      return absl::InvalidArgumentError("subscribe: symbol '" + s + "' for " + std::string(venue) +
                                        " is empty or has a blank, comma or control character");
    }
    const std::size_t at = im->books.find(venue, s);
    if (at == BookRegistry::npos) fresh.push_back(s);
  }
  if (fresh.empty()) return absl::OkStatus();
  // Books already asked for but not yet added (posted) count too.
  if (im->books.size() + im->pending_books.load() + fresh.size() > im->books.capacity()) {
    return absl::ResourceExhaustedError("subscribe: " + std::to_string(fresh.size()) +
                                        " more books would pass max_books (" + std::to_string(im->books.capacity()) +
                                        ")");
  }
  // Once connected, the work runs on the engine thread after the current handler: never
  // inside a session call (a listener callback), and from any thread.
  if (im->running.load()) {
    im->pending_books += fresh.size();
    im->loop.post([im, alive = std::weak_ptr<bool>(im->alive), v = std::string(venue), fresh] {
      if (alive.expired()) return;
      im->add_symbols(v, fresh);
      im->pending_books -= fresh.size();
    });
  } else {
    im->add_symbols(venue, fresh);
  }
  return absl::OkStatus();
}

void Engine::Impl::add_symbols(std::string_view venue, const std::vector<std::string>& fresh) {
  VenueConfig& configured = config.venue(venue);
  configured.symbols.insert(configured.symbols.end(), fresh.begin(), fresh.end());  // what record_to writes
  for (auto& c : conns) {
    if (c->venue() == venue) {
      if (absl::Status st = c->add_symbols(fresh); !st.ok()) {
        listener->on_error(EngineError{venue, {}, ErrorKind::kSubscribe, std::string(st.message())});
      }
      return;
    }
  }
  // A venue without a connection so far: its connection starts with these symbols.
  std::unique_ptr<Conn> conn = make_conn(*this, configured);
  if (recorder) record_config(venue, net::now_ns());
  if (absl::Status st = conn->init(configured.symbols); !st.ok()) {
    listener->on_error(EngineError{venue, {}, ErrorKind::kSubscribe, std::string(st.message())});
  }
  if (connected && !stopping) conn->start();
  conns.push_back(std::move(conn));
}

connectors::SessionSettings Engine::Impl::settings(const VenueConfig& v) const {
  const Venue* known = find_venue(v.venue);
  connectors::SessionSettings s;
  s.symbols = v.symbols;
  s.depth = v.depth != 0 ? v.depth : known->descriptor->default_depth;
  s.max_frame_bytes = config.max_message_bytes;
  s.endpoints = v.endpoints;
  s.rest_base = v.rest_base.empty() ? std::string(known->descriptor->default_rest_base) : v.rest_base;
  s.credentials = v.credentials;
  s.ping_interval_ns = config.ping_interval_ns;
  s.mode = connectors::SessionMode::kLive;
  // The engine rotates the connection of a venue with a lifetime (Conn::rotation_tick): the
  // session must never close it for age.
  if (known->descriptor->connection_lifetime_ns > 0) s.rotate_after_ns = -1;
  return s;
}

void Engine::Impl::record_config(std::string_view venue, std::int64_t now) {
  const VenueConfig* v = config.find_venue(venue);
  if (v == nullptr) return;
  const connectors::SessionSettings s = settings(*v);
  RecordedConfig r;
  r.symbols = s.symbols;
  r.depth = s.depth;
  r.max_frame_bytes = s.max_frame_bytes;
  r.rest_base = s.rest_base;
  r.credentials = !s.credentials.empty();
  r.rotate_after_ns = s.rotate_after_ns;
  recorder->event(now, venue, RecordKind::kConfig, format_config(r));
}

VenueConfig& EngineConfig::venue(std::string_view name) {
  for (VenueConfig& v : venues) {
    if (v.venue == name) return v;
  }
  VenueConfig& v = venues.emplace_back();
  v.venue.assign(name);
  return v;
}

const VenueConfig* EngineConfig::find_venue(std::string_view name) const {
  for (const VenueConfig& v : venues) {
    if (v.venue == name) return &v;
  }
  return nullptr;
}

absl::Status Engine::record_to(const std::string& path) { return record_to(path, RecordingRotation{}); }

absl::Status Engine::record_to(const std::string& path, const RecordingRotation& rotation) {
  if (impl_->connected) return absl::FailedPreconditionError("record_to must be called before the engine connects");
  if (impl_->recorder)
    return absl::FailedPreconditionError("record_to: already recording to " + impl_->recorder->path());
  const std::int64_t now = net::now_ns();
  auto rec = Recorder::open(path, rotation, now);
  if (!rec.ok()) return rec.status();
  impl_->recorder = std::move(*rec);
  impl_->recording_files.clear();
  for (auto& c : impl_->conns) impl_->record_config(c->venue(), now);
  return absl::OkStatus();
}

absl::Status Engine::recording_status() const {
  return impl_->recorder ? impl_->recorder->status() : impl_->recording_closed;
}

std::vector<std::string> Engine::recording_files() const {
  return impl_->recorder ? impl_->recorder->files() : impl_->recording_files;
}

absl::Status Engine::close_recording() {
  if (!impl_->recorder) return impl_->recording_closed;
  impl_->recording_closed = impl_->recorder->close();
  impl_->recording_files = impl_->recorder->files();
  impl_->recorder.reset();  // later events are not recorded (nothing half-written)
  return impl_->recording_closed;
}

absl::Status Engine::config_status() const { return impl_->config_status; }

void Engine::connect() {
  if (impl_->connected) return;
  impl_->connected = true;
  if (!impl_->config_status.ok()) {
    impl_->listener->on_error(
        EngineError{"engine", {}, ErrorKind::kConfig, std::string(impl_->config_status.message())});
    return;
  }
  impl_->running = true;
  if (!impl_->config.http_listen.empty()) {
    if (absl::Status st = start_http(); !st.ok()) {
      impl_->listener->on_error(EngineError{"engine", {}, ErrorKind::kConfig, std::string(st.message())});
    }
  }
  for (auto& c : impl_->conns) c->start();
}

void Engine::run() {
  connect();
  impl_->loop.run();
}

void Engine::start() {
  impl_->running = true;  // from here on, subscribe() posts to the engine thread
  impl_->thread = std::thread([this] { run(); });
}

void Engine::stop() {
  Impl* im = impl_.get();
  im->loop.post([im, alive = std::weak_ptr<bool>(im->alive)] {
    if (alive.expired()) return;
    im->stopping = true;  // a subscribe posted after this starts no connection
    for (auto& c : im->conns) c->shutdown();
    for (auto& c : im->retired) c->shutdown();
    if (im->http) im->http->close();
    if (im->owned) {
      // Let the close handshakes go out, then end run().
      auto t = std::make_shared<net::Timer>(im->loop);
      t->start_after(200'000'000, [im, t] { im->loop.stop(); });
    }
  });
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) impl_->thread.join();
}

bool Engine::top(std::string_view venue, std::string_view symbol, TopOfBook& out) const {
  const std::size_t i = impl_->books.find(venue, symbol);  // any thread: see BookRegistry
  if (i == BookRegistry::npos) return false;
  out = impl_->books[i].cell.read();
  return true;
}

EngineStats Engine::stats() const { return impl_->stats; }
net::EventLoop& Engine::loop() { return impl_->loop; }
std::size_t Engine::book_count() const { return impl_->books.size(); }
const book::OrderBook* Engine::book_at(std::size_t i, std::string_view& venue, std::string_view& symbol) const {
  const BookEntry& e = impl_->books[i];
  venue = e.venue;
  symbol = e.symbol;
  return e.book;
}

}  // namespace obr::engine
