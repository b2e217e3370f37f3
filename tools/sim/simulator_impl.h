// tools/sim/simulator_impl.h — the simulator's shared internals (private to tools/sim;
// include nothing of it elsewhere).
//
// Simulator::Impl is the shared simulator (simulator.cpp): the sockets (WebSocket peers and
// HTTP connections over Beast; start, stop, accept), the routes to the venue pieces by
// path, the market clock, the truth history, the fault schedule and the faults every venue
// shares (drop, reorder, duplicate; stall, close, close_code, malformed, oversized). What
// differs between venues is in the pieces (venue_piece.h), made from the list
// (venue_pieces.h); Impl is their SimHost.
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/sim/simulator.h"
#include "tools/sim/venue_piece.h"
#include "tools/sim/venue_pieces.h"

namespace obr::sim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Recent truths per book: top kTruthLevels of each side, in a ring of kTruthHistory
// moments allocated (and touched) up front, so the simulator's memory is flat from the
// start and a soak's memory figures show the engine's.
class TruthRing {
 public:
  static constexpr std::size_t kSlot = 2 * Simulator::kTruthLevels;
  TruthRing() : levels_(Simulator::kTruthHistory * kSlot), sizes_(Simulator::kTruthHistory * 2) {}
  void push(std::span<const book::Level> b, std::span<const book::Level> a) {
    head_ = (head_ + 1) % Simulator::kTruthHistory;
    count_ = std::min(count_ + 1, Simulator::kTruthHistory);
    const std::size_t nb = std::min(Simulator::kTruthLevels, b.size());
    const std::size_t na = std::min(Simulator::kTruthLevels, a.size());
    std::copy_n(b.begin(), nb, levels_.begin() + static_cast<std::ptrdiff_t>(head_ * kSlot));
    std::copy_n(a.begin(), na, levels_.begin() + static_cast<std::ptrdiff_t>(head_ * kSlot + Simulator::kTruthLevels));
    sizes_[head_ * 2] = static_cast<std::uint8_t>(nb);
    sizes_[head_ * 2 + 1] = static_cast<std::uint8_t>(na);
  }
  // any_equal: whether some remembered moment, newest first, has exactly these tops.
  bool any_equal(std::span<const book::Level> b, std::span<const book::Level> a) const {
    for (std::size_t k = 0; k < count_; ++k) {
      const std::size_t i = (head_ + Simulator::kTruthHistory - k) % Simulator::kTruthHistory;
      const book::Level* base = levels_.data() + i * kSlot;
      if (std::equal(b.begin(), b.end(), base, base + sizes_[i * 2]) &&
          std::equal(a.begin(), a.end(), base + Simulator::kTruthLevels,
                     base + Simulator::kTruthLevels + sizes_[i * 2 + 1])) {
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<book::Level> levels_;
  std::vector<std::uint8_t> sizes_;
  std::size_t head_ = 0, count_ = 0;
};

class Simulator::Impl final : public SimHost {
 public:
  Impl(net::EventLoop& loop, SimConfig cfg);

  // ---- lifecycle -------------------------------------------------------------------
  bool start(std::string& error);
  void stop();
  void accept();
  void on_tick();

  // ---- routing ---------------------------------------------------------------------
  HttpResponse rest(const HttpRequest& req);
  void on_open(const std::shared_ptr<Peer>& peer, std::string_view target);
  void on_message(const std::shared_ptr<Peer>& peer, std::string_view text);
  void on_closed(const Peer& peer);

  // Served: one venue the simulator serves — its piece, its market and the truth's history.
  struct Served {
    const VenuePieceFactory* factory = nullptr;
    std::shared_ptr<Market> market;  // the config's, else a SyntheticMarket
    std::vector<TruthRing> history;  // per symbol
    std::unique_ptr<VenuePiece> piece;
    bool clocked = false;  // this tick: plays at its recorded pace (on_tick)
  };
  // served: the venue named `venue`, or nullptr.
  const Served* served(std::string_view venue) const;
  // change: the market of `v` moved by `c`: record the truth, then the piece fans it out.
  void change(Served& v, const Change& c);
  // find: a venue's book by name, with its market and truth history (nullopt if unknown).
  struct Found {
    const Market* market;
    std::size_t index;
    const TruthRing* history;
  };
  std::optional<Found> find(std::string_view venue, std::string_view symbol) const;

  // ---- faults ----------------------------------------------------------------------
  void connection_faults();

  // ---- SimHost ---------------------------------------------------------------------
  const SimConfig& sim_config() const override { return config; }
  SimStats& sim_stats() override { return stats; }
  asio::io_context& io_context() override { return io; }
  const std::shared_ptr<bool>& alive_flag() const override { return alive; }
  std::uint16_t listen_port() const override;
  std::uint16_t refused_port() const override { return dead_port; }
  std::span<const std::weak_ptr<Peer>> all_peers() const override { return peers; }
  using SimHost::take_fault;
  std::optional<Fault> take_fault(const VenuePiece& piece, std::string_view symbol, std::span<const FaultKind> kinds,
                                  std::uint64_t peer_id) override;
  void deliver(Peer& peer, std::size_t symbol, std::string frame, bool visible) override;

  asio::io_context& io;
  SimConfig config;
  tcp::acceptor acceptor;
  asio::steady_timer clock;
  asio::ssl::context tls;
  std::vector<Served> venues;  // in venue_pieces() order
  std::vector<std::weak_ptr<Peer>> peers;
  std::vector<Fault> pending;
  std::vector<FiredFault> fired;
  std::vector<FaultKind> kinds_buffer;  // connection_faults: the shared kinds and a piece's
  SimStats stats;
  std::int64_t start_ns = 0;
  // What a fault's t= counts from: start, or arm_timed_faults() under timed_faults_wait
  // (-1 until then: timed faults wait).
  std::int64_t fault_origin_ns = -1;
  std::int64_t last_prune_ns = 0;
  double carry = 0;
  double market_clock_ns = 0;  // the clocked markets' time: speed * the unpaused time played
  std::int64_t last_tick_ns = 0;
  bool paused = false;
  bool running = false;
  std::uint64_t next_peer_id = 1;
  std::uint16_t dead_port = 0;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

}  // namespace obr::sim
