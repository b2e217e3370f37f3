// tools/sim/simulator_impl.h — the simulator's internals, shared by its two sources
// (private to tools/sim; include nothing of it elsewhere).
//
// simulator.cpp: the sockets — WebSocket peers and HTTP connections (Beast), start, stop,
// accept, the market clock, heartbeats, and the public Simulator API.
// simulator_venues.cpp: the venues — REST answers, WebSocket messages per venue, the
// market fan-out (Kraken checksums and depth views, KuCoin l2update and snapshots) and
// the fault schedule applied to outbound frames and to connections.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <simdjson.h>

#include "book/order_book.h"
#include "tools/sim/simulator.h"

namespace obr::sim {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

enum class Venue : std::uint8_t { kNone, kKraken, kKucoin };

// Peer is one WebSocket client of the simulator; the stream type lives in PeerOn<Stream>.
class Peer {
 public:
  virtual ~Peer() = default;
  virtual void send(std::string frame) = 0;   // queued; dropped while stalled
  virtual void close_abrupt() = 0;
  virtual void close_code(std::uint16_t code) = 0;

  std::uint64_t id = 0;
  Venue venue = Venue::kNone;
  bool closed = false;
  std::int64_t stall_until_ns = 0;  // > now: silent; INT64_MAX: until closed
  std::vector<int> depth;            // Kraken: subscribed depth per symbol (0: none)
  std::vector<std::optional<std::string>> held;  // reorder: a frame waiting for the next
  std::vector<bool> subscribed;      // KuCoin: per symbol
  bool stalled(std::int64_t now) const { return stall_until_ns > now; }
};

class Simulator::Impl {
 public:
  Impl(net::EventLoop& loop, SimConfig cfg)
      : io(loop.context()),
        config(std::move(cfg)),
        acceptor(io),
        clock(io),
        tls(asio::ssl::context::tls_server),
        kraken_market(this->config.kraken_market
                          ? this->config.kraken_market
                          : std::make_shared<SyntheticMarket>(specs_or(this->config.kraken_symbols, default_kraken_symbols()),
                                                              this->config.seed)),
        kucoin_market(this->config.kucoin_market
                          ? this->config.kucoin_market
                          : std::make_shared<SyntheticMarket>(specs_or(this->config.kucoin_symbols, default_kucoin_symbols()),
                                                              this->config.seed * 7919 + 1)),
        kraken(*kraken_market),
        kucoin(*kucoin_market) {
    for (std::size_t i = 0; i < kraken.symbol_count(); ++i) {
      book::BookConfig bc;
      bc.price_scale = kraken.spec(i).price_scale;
      bc.qty_scale = kraken.spec(i).qty_scale;
      bc.depth_limit = 10;
      checksum_books.push_back(std::make_unique<book::OrderBook>(bc));
      KrakenCache c;
      c.bids.assign(kraken.bids(i).begin(), kraken.bids(i).end());
      c.asks.assign(kraken.asks(i).begin(), kraken.asks(i).end());
      c.checksum = checksum_of(i);
      kraken_cache.push_back(std::move(c));
    }
    kraken_history.resize(kraken.symbol_count());
    kucoin_history.resize(kucoin.symbol_count());
    for (std::size_t i = 0; i < kraken.symbol_count(); ++i) kraken_history[i].push(kraken.bids(i), kraken.asks(i));
    for (std::size_t i = 0; i < kucoin.symbol_count(); ++i) kucoin_history[i].push(kucoin.bids(i), kucoin.asks(i));
    seq_offset.assign(kucoin.symbol_count(), 0);
    old_snapshots.assign(kucoin.symbol_count(), std::string());
  }

  static std::vector<SymbolSpec> specs_or(const std::vector<SymbolSpec>& given, std::vector<SymbolSpec> fallback) {
    return given.empty() ? std::move(fallback) : given;
  }

  // ---- lifecycle -------------------------------------------------------------------
  bool start(std::string& error);
  void stop();
  void accept();
  void on_tick();
  void heartbeat();

  // ---- routing ---------------------------------------------------------------------
  http::response<http::string_body> rest(const http::request<http::string_body>& req);
  void on_open(const std::shared_ptr<Peer>& peer, std::string_view target);
  void on_message(const std::shared_ptr<Peer>& peer, std::string_view text);
  void on_closed(const Peer& peer);

  // ---- venues ----------------------------------------------------------------------
  void kraken_message(Peer& peer, std::string_view text);
  void kucoin_message(Peer& peer, std::string_view text);
  void kraken_change(const Change& c);
  void kucoin_change(const Change& c);
  std::string kraken_book_frame(std::size_t i, bool snapshot, std::span<const LevelDelta> bids,
                                std::span<const LevelDelta> asks, int depth, std::uint32_t checksum);
  std::string kucoin_snapshot_json(std::size_t i, std::size_t limit);
  std::uint32_t checksum_of(std::size_t i);
  static std::optional<std::size_t> index_in(const Market& market, std::string_view symbol);
  std::optional<std::size_t> kraken_index(std::string_view symbol) const { return index_in(kraken, symbol); }
  std::optional<std::size_t> kucoin_index(std::string_view symbol) const { return index_in(kucoin, symbol); }
  // find: a venue's book by name, with its market and truth history (nullopt if unknown).
  class TruthRing;
  struct Found {
    const Market* market;
    std::size_t index;
    const TruthRing* history;
  };
  std::optional<Found> find(std::string_view venue, std::string_view symbol) const;

  // ---- faults ----------------------------------------------------------------------
  // take_fault: the first pending fault of one of `kinds` due now for (venue, symbol).
  std::optional<Fault> take_fault(Venue venue, std::string_view symbol, std::initializer_list<FaultKind> kinds,
                                  std::uint64_t peer_id);
  void deliver(Peer& peer, Venue venue, std::size_t symbol, std::string frame, bool checksummed_update,
               bool top_changed);
  void connection_faults();

  struct KrakenCache {
    std::vector<book::Level> bids, asks;  // the truth as of the last message (the "before")
    std::uint32_t checksum = 0;
  };

  asio::io_context& io;
  SimConfig config;
  tcp::acceptor acceptor;
  asio::steady_timer clock;
  asio::ssl::context tls;
  std::shared_ptr<Market> kraken_market;  // the config's, else a SyntheticMarket
  std::shared_ptr<Market> kucoin_market;
  Market& kraken;
  Market& kucoin;
  std::vector<std::unique_ptr<book::OrderBook>> checksum_books;
  std::vector<KrakenCache> kraken_cache;
  std::vector<std::int64_t> seq_offset;        // KuCoin: skip_sequence adds to every later sequence
  std::vector<std::string> old_snapshots;      // KuCoin: a snapshot from about a second ago
  std::int64_t old_snapshot_ns = 0;
  std::vector<std::weak_ptr<Peer>> peers;
  std::vector<Fault> pending;
  std::vector<FiredFault> fired;
  SimStats stats;
  std::int64_t start_ns = 0;
  // What a fault's t= counts from: start, or arm_timed_faults() under timed_faults_wait
  // (-1 until then: timed faults wait).
  std::int64_t fault_origin_ns = -1;
  std::int64_t last_heartbeat_ns = 0;
  double carry = 0;
  double market_clock_ns = 0;  // the clocked markets' time: speed * the unpaused time played
  std::int64_t last_tick_ns = 0;
  bool paused = false;
  bool running = false;
  std::uint64_t next_peer_id = 1;
  std::uint64_t next_token = 1;
  std::vector<std::string> tokens;          // valid KuCoin tokens
  bool expire_next_token = false;
  bool fail_next_endpoint = false;
  std::uint16_t dead_port = 0;
  std::vector<LevelDelta> diff_bids, diff_asks;
  simdjson::dom::parser parser;
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
      std::copy_n(a.begin(), na,
                  levels_.begin() + static_cast<std::ptrdiff_t>(head_ * kSlot + Simulator::kTruthLevels));
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
  std::vector<TruthRing> kraken_history, kucoin_history;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

}  // namespace obr::sim
