// engine/session_conn_impl.h — SessionConn<Session, Config>: the engine's connection (Conn) bound
// to one venue's session type, so that every frame reaches the session by a direct call.
// Instantiated once per venue by engine/venues.cpp. Private to engine/.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/protocol/venue.h"
#include "engine/engine_impl.h"

namespace obr::engine {

inline std::string join_symbols(const std::vector<std::string>& symbols) {
  std::string out;
  for (const std::string& s : symbols) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

// Config: the session's configuration type, kept so that a rotation's replacement is
// configured exactly as this connection's session was.
template <connectors::VenueSession Session, class Config>
class SessionConn final : public Conn {
 public:
  SessionConn(Engine::Impl& engine, const connectors::VenueDescriptor& venue, const Config& config)
      : Conn(engine, venue), config_(config), session_(config) {}

  absl::Status init(const std::vector<std::string>& symbols) override {
    absl::Status st = session_.subscribe(symbols, net::now_ns(), *this);
    register_books();
    return st;
  }
  absl::Status add_symbols(const std::vector<std::string>& symbols) override {
    const std::int64_t now = net::now_ns();
    record(RecordKind::kSubscribe, join_symbols(symbols), now);
    absl::Status st = session_.subscribe(symbols, now, *this);  // sent now when open, else on open
    register_books();
    forward_symbols(symbols);
    return st;
  }
  std::size_t session_book_count() const override { return session_.book_count(); }
  connectors::BookReport session_report(BookId id) const override { return session_.report(id); }
  // The replacement: a second session from the same configuration (the same settings).
  std::unique_ptr<Conn> make_replacement() override {
    return std::make_unique<SessionConn<Session, Config>>(engine_, descriptor_, config_);
  }

  void on_message(std::string_view message, std::int64_t recv_ns) override {
    note_frame(message.size(), recv_ns);
    record(RecordKind::kRecv, message, recv_ns);
    session_.on_frame(message, recv_ns, *this);
    frame_ns_ = -1;
  }

 private:
  void session_start(std::int64_t now) override { session_.start(now, *this); }
  void session_connected(std::int64_t now) override { session_.on_connected(now, *this); }
  void session_disconnected(std::int64_t now) override { session_.on_disconnected(now, *this); }
  void session_http(std::uint64_t id, std::string_view url, int status, std::string_view body,
                    std::int64_t now) override {
    session_.on_http_response(id, url, status, body, now, *this);
  }
  void session_tick(std::int64_t now) override { session_.on_tick(now, *this); }

  // register_books gives every book the session tracks its registry entry (idempotent);
  // a replacement's books are registered at its switch.
  void register_books() {
    if (!publishing()) return;
    for (BookId id = 0; id < session_.book_count(); ++id) {
      const connectors::BookReport r = session_.report(id);
      entry(id, r.symbol, *r.book);
    }
  }

  Config config_;
  Session session_;
};

}  // namespace obr::engine
