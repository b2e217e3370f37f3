// tools/sim/venue_piece.h — one venue's side of the exchange simulator, behind one interface
// (private to tools/sim; include nothing of it elsewhere).
//
// The simulator is the shared part (simulator.cpp: sockets, TLS, accept, HTTP, the market
// clock, the truth and its history, the fault schedule and the faults any venue's frames
// and connections can suffer) plus one VenuePiece per venue it serves, listed in
// venue_pieces.cpp. A piece is what differs between venues: the paths it answers, its
// WebSocket messages (the greeting, subscribe, unsubscribe, ping), its REST answers, its
// wire format for the market's changes and snapshots, the faults only it has, and its
// timers (heartbeats, a stale snapshot kept for later). The shared simulator routes to a
// piece by the request's path and never looks at a frame's content.
//
//   // a piece's fan-out (on_change): one frame per subscribed peer, through the schedule
//   for (const auto& w : host_.all_peers()) {
//     auto p = w.lock();
//     if (!p || p->closed || p->piece != this || p->subscribed[c.symbol] == 0) continue;
//     host_.deliver(*p, c.symbol, frame_for(*p, c), /*visible=*/true);
//   }
//
// Thread-safety: everything on the simulator's loop thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/sim/faults.h"
#include "tools/sim/market.h"
#include "tools/sim/simulator.h"

namespace obr::sim {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

class VenuePiece;

// Peer is one WebSocket client of the simulator; the stream lives in simulator.cpp.
class Peer {
 public:
  virtual ~Peer() = default;
  virtual void send(std::string frame) = 0;  // queued; dropped while stalled
  virtual void close_abrupt() = 0;
  virtual void close_code(std::uint16_t code) = 0;
  // ping sends a WebSocket ping frame (a control frame, at most 125 bytes of `payload`); a
  // client's WebSocket library answers it with a pong on its own. Nothing is sent while
  // stalled, after a close, or while the previous ping is still being written.
  virtual void ping(std::string payload) = 0;

  std::uint64_t id = 0;
  std::int64_t opened_ns = 0;     // net::now_ns() when it connected (before on_open)
  std::int64_t last_pong_ns = 0;  // when its last pong frame arrived; 0: none yet
  VenuePiece* piece = nullptr;    // the venue whose path it connected to; null: none
  bool closed = false;
  std::int64_t stall_until_ns = 0;  // > now: silent; INT64_MAX: until closed
  // Per symbol of the piece's market: 0 not subscribed, else the piece's own value (Kraken:
  // the subscribed depth; KuCoin: 1; Binance, Bybit: a bit per stream or depth). A peer
  // carries the books whose value is > 0.
  std::vector<int> subscribed;
  std::vector<std::optional<std::string>> held;  // reorder: a frame waiting for the next
  bool stalled(std::int64_t now) const { return stall_until_ns > now; }
};

// SimHost is the shared simulator as a piece sees it.
class SimHost {
 public:
  virtual const SimConfig& sim_config() const = 0;
  virtual SimStats& sim_stats() = 0;
  virtual boost::asio::io_context& io_context() = 0;
  // alive_flag: false once the simulator is destroyed (for a piece's own timers).
  virtual const std::shared_ptr<bool>& alive_flag() const = 0;
  virtual std::uint16_t listen_port() const = 0;   // where every path is served
  virtual std::uint16_t refused_port() const = 0;  // a port that refuses connections
  // all_peers: every WebSocket client, of every piece, in the order they connected. Valid
  // until the next connection (not during a piece's own calls).
  virtual std::span<const std::weak_ptr<Peer>> all_peers() const = 0;

  // take_fault: the first pending fault of one of `kinds` due now for `piece`'s venue and
  // `symbol` (empty: any book), removed from the schedule and recorded as fired.
  virtual std::optional<Fault> take_fault(const VenuePiece& piece, std::string_view symbol,
                                          std::span<const FaultKind> kinds, std::uint64_t peer_id) = 0;
  std::optional<Fault> take_fault(const VenuePiece& piece, std::string_view symbol,
                                  std::initializer_list<FaultKind> kinds, std::uint64_t peer_id) {
    return take_fault(piece, symbol, std::span<const FaultKind>(kinds.begin(), kinds.size()), peer_id);
  }
  // deliver sends one book frame of `symbol` to `peer` through the fault schedule: drop,
  // reorder and duplicate (any venue), then the piece's own frame faults (frame_faults).
  // `visible`: whether losing or reordering this frame shows on the piece's integrity check;
  // when not, only a duplicate applies (a drop waits for a frame that shows).
  virtual void deliver(Peer& peer, std::size_t symbol, std::string frame, bool visible) = 0;

 protected:
  ~SimHost() = default;
};

// VenuePiece is one venue's simulator. Made by its factory (venue_pieces.h) with the
// venue's market, which the shared simulator owns, moves and records as the truth.
class VenuePiece {
 public:
  VenuePiece(SimHost& host, Market& market) : host_(host), market_(market) {}
  virtual ~VenuePiece() = default;
  VenuePiece(const VenuePiece&) = delete;
  VenuePiece& operator=(const VenuePiece&) = delete;

  // name: the venue's registered name (the engine's descriptor name, e.g. "kraken").
  virtual std::string_view name() const = 0;
  Market& market() const { return market_; }

  // ---- paths -----------------------------------------------------------------------
  // ws_path: WebSocket upgrades whose target starts with it are this piece's peers.
  virtual std::string_view ws_path() const = 0;
  // rest_paths: the HTTP paths (without the query) on_rest answers.
  virtual std::span<const std::string_view> rest_paths() const { return {}; }
  // entry_url: where a client of this venue starts (a WebSocket URL, or the REST base when
  // the venue's connection starts with a REST call), on 127.0.0.1:`port`.
  virtual std::string entry_url(bool tls, std::uint16_t port) const = 0;

  // ---- lifecycle -------------------------------------------------------------------
  virtual void on_start(std::int64_t now_ns) { (void)now_ns; }
  // on_tick: after every market tick (timers: heartbeats, snapshots kept for later).
  virtual void on_tick(std::int64_t now_ns) { (void)now_ns; }

  // ---- WebSocket -------------------------------------------------------------------
  // on_open: a new peer on ws_path(); its piece, `subscribed` and `held` are set (one
  // entry per symbol). The piece greets it, or refuses it (close_code).
  virtual void on_open(Peer& peer, std::string_view target) = 0;
  // on_message: a text message from the peer (subscribe, unsubscribe, ping, ...).
  virtual void on_message(Peer& peer, std::string_view text) = 0;

  // ---- REST ------------------------------------------------------------------------
  // on_rest answers a request for one of rest_paths() into `res` (status 200 and a JSON
  // content type preset) and returns true; false leaves `res` untouched (a 404 follows).
  virtual bool on_rest(const HttpRequest& req, std::string_view path, std::string_view target, HttpResponse& res) {
    (void)req, (void)path, (void)target, (void)res;
    return false;
  }

  // ---- market ----------------------------------------------------------------------
  // on_change: the market moved by `c` (already applied to the truth and its history); the
  // piece fans it out to its subscribed peers in its wire format (SimHost::deliver).
  virtual void on_change(const Change& c) = 0;
  // book_messages: the venue's book messages sent so far (the msg= trigger of a fault).
  virtual std::uint64_t book_messages() const = 0;

  // ---- faults ----------------------------------------------------------------------
  // The faults only this venue has are listed by its factory (own_faults); of those, the
  // ones applied to an outbound book frame and to a connection are named here.
  virtual std::span<const FaultKind> frame_faults() const { return {}; }
  virtual void apply_frame_fault(const Fault& fault, std::string& frame) { (void)fault, (void)frame; }
  virtual std::span<const FaultKind> connection_faults() const { return {}; }
  virtual void apply_connection_fault(const Fault& fault, const std::shared_ptr<Peer>& peer) {
    (void)fault, (void)peer;
  }

 protected:
  SimHost& host_;
  Market& market_;
};

// symbol_index: the index of `symbol` in `market`, or nullopt.
inline std::optional<std::size_t> symbol_index(const Market& market, std::string_view symbol) {
  for (std::size_t i = 0; i < market.symbol_count(); ++i) {
    if (market.spec(i).name == symbol) return i;
  }
  return std::nullopt;
}

// bundled_spec: a symbol of a piece's default market (tick 1, 300 levels a side).
inline SymbolSpec bundled_spec(const char* name, int price_scale, int qty_scale, std::int64_t mid) {
  SymbolSpec s;
  s.name = name;
  s.price_scale = price_scale;
  s.qty_scale = qty_scale;
  s.mid = mid;
  s.tick = 1;
  s.levels = 300;
  return s;
}

}  // namespace obr::sim
