// tools/sim/kraken_piece.cpp — the simulator's Kraken v2 piece (see kraken_piece.h): the
// piece (greeting, subscriptions and pings; the fan-out with checksums and depth views;
// heartbeats; its faults), its factory with the bundled books, then the wire helpers.
#include "tools/sim/kraken_piece.h"

#include <simdjson.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <utility>

#include "book/kraken_checksum.h"
#include "book/order_book.h"
#include "tools/sim/venue_piece.h"
#include "tools/sim/venue_pieces.h"

namespace obr::sim {
namespace {

using obr::book::Level;
using obr::book::Side;
using error_code = boost::system::error_code;

constexpr std::string_view kName = "kraken";
constexpr std::string_view kWsPath = "/v2";
constexpr FaultKind kOwnFaults[] = {FaultKind::kCorruptChecksum, FaultKind::kMaintenance};
constexpr FaultKind kAbsorbable[] = {FaultKind::kDrop, FaultKind::kReorder, FaultKind::kDuplicate};
constexpr FaultKind kFrameFaults[] = {FaultKind::kCorruptChecksum};
constexpr FaultKind kConnectionFaults[] = {FaultKind::kMaintenance};

// better(side, a, b): price a sits closer to the top of book than b.
constexpr bool better(Side side, std::int64_t a, std::int64_t b) noexcept { return side == Side::kBid ? a > b : a < b; }

std::string kraken_time(std::int64_t ns) {
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>((ns / 1000) % 1'000'000));
  return buf;
}

class KrakenPiece final : public VenuePiece {
 public:
  KrakenPiece(SimHost& host, Market& market)
      : VenuePiece(host, market), stats_(host.sim_stats().venues[std::string(kName)]) {
    for (std::size_t i = 0; i < market_.symbol_count(); ++i) {
      book::BookConfig bc;
      bc.price_scale = market_.spec(i).price_scale;
      bc.qty_scale = market_.spec(i).qty_scale;
      bc.depth_limit = 10;
      checksum_books_.push_back(std::make_unique<book::OrderBook>(bc));
      Cache c;
      c.bids.assign(market_.bids(i).begin(), market_.bids(i).end());
      c.asks.assign(market_.asks(i).begin(), market_.asks(i).end());
      c.checksum = checksum_of(i);
      cache_.push_back(std::move(c));
    }
  }

  std::string_view name() const override { return kName; }
  std::string_view ws_path() const override { return kWsPath; }
  std::string entry_url(bool tls, std::uint16_t port) const override {
    return std::string(tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port) + std::string(kWsPath);
  }

  void on_start(std::int64_t now_ns) override { last_heartbeat_ns_ = now_ns; }
  void on_tick(std::int64_t now_ns) override {
    if (now_ns - last_heartbeat_ns_ < 1'000'000'000) return;
    last_heartbeat_ns_ = now_ns;
    for (const auto& w : host_.all_peers()) {
      auto p = w.lock();
      if (!p || p->closed || p->piece != this) continue;
      if (std::any_of(p->subscribed.begin(), p->subscribed.end(), [](int d) { return d > 0; })) {
        p->send(R"({"channel":"heartbeat"})");
      }
    }
  }

  void on_open(Peer& peer, std::string_view target) override {
    (void)target;
    peer.send(
        R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":)" +
        std::to_string(9'000'000'000'000'000'000ULL + peer.id) + "}]}");
  }
  void on_message(Peer& peer, std::string_view text) override;

  void on_change(const Change& c) override;
  std::uint64_t book_messages() const override { return stats_.book_messages; }

  std::span<const FaultKind> frame_faults() const override { return kFrameFaults; }
  void apply_frame_fault(const Fault& fault, std::string& frame) override {
    if (fault.kind != FaultKind::kCorruptChecksum) return;
    const std::size_t at = frame.rfind(R"("checksum":)");
    const std::size_t end = frame.find(',', at);
    const std::uint32_t wrong =
        static_cast<std::uint32_t>(std::stoul(frame.substr(at + 11, end - at - 11))) ^ 0x5a5a5a5aU;
    frame.replace(at + 11, end - at - 11, std::to_string(wrong));
  }
  std::span<const FaultKind> connection_faults() const override { return kConnectionFaults; }
  void apply_connection_fault(const Fault& fault, const std::shared_ptr<Peer>& peer) override {
    if (fault.kind != FaultKind::kMaintenance) return;
    peer->send(
        R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"maintenance","api_version":"v2","connection_id":1}]})");
    auto timer = std::make_shared<boost::asio::steady_timer>(host_.io_context(), std::chrono::seconds(1));
    std::weak_ptr<Peer> weak = peer;
    timer->async_wait([timer, weak, alive = host_.alive_flag()](error_code) {
      if (!*alive) return;
      if (auto p = weak.lock()) {
        p->send(
            R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":1}]})");
      }
    });
  }

 private:
  struct Cache {
    std::vector<book::Level> bids, asks;  // the truth as of the last message (the "before")
    std::uint32_t checksum = 0;
  };

  std::uint32_t checksum_of(std::size_t i) {
    book::OrderBook& ob = *checksum_books_[i];
    const auto b = market_.bids(i);
    const auto a = market_.asks(i);
    ob.replace(b.first(std::min<std::size_t>(b.size(), 10)), a.first(std::min<std::size_t>(a.size(), 10)));
    return book::kraken_checksum(ob);
  }

  // This venue's counters in the host's SimStats (a map's entry stays put, so this holds).
  VenueStats& stats_;
  std::vector<std::unique_ptr<book::OrderBook>> checksum_books_;
  std::vector<Cache> cache_;
  std::vector<LevelDelta> diff_bids_, diff_asks_;
  simdjson::dom::parser parser_;
  std::int64_t last_heartbeat_ns_ = 0;
};

void KrakenPiece::on_message(Peer& peer, std::string_view text) {
  const std::int64_t now = net::now_ns();
  const std::string times = R"(,"time_in":")" + kraken_time(now) + R"(","time_out":")" + kraken_time(now) + "\"";
  simdjson::dom::element doc;
  std::string_view method;
  if (parser_.parse(text.data(), text.size()).get(doc) || doc["method"].get(method)) {
    peer.send(R"({"error":"Invalid JSON","success":false)" + times + "}");
    return;
  }
  std::int64_t req_id = -1;
  const bool has_req = !doc["req_id"].get(req_id);
  const std::string req = has_req ? R"(,"req_id":)" + std::to_string(req_id) : std::string();
  if (method == "ping") {
    peer.send(R"({"method":"pong")" + req + times + "}");
    return;
  }
  if (method != "subscribe" && method != "unsubscribe") {
    peer.send(R"({"error":"Method not found","method":")" + std::string(method) + R"(","success":false)" + times + req +
              "}");
    return;
  }
  std::string_view channel;
  simdjson::dom::array symbols;
  if (doc["params"]["channel"].get(channel) || doc["params"]["symbol"].get(symbols) || channel != "book") {
    peer.send(R"({"error":"Invalid params","method":")" + std::string(method) + R"(","success":false)" + times + req +
              "}");
    return;
  }
  std::int64_t depth = 10;
  if (doc["params"]["depth"].get(depth) == simdjson::SUCCESS) {
    if (depth != 10 && depth != 25 && depth != 100 && depth != 500 && depth != 1000) {
      peer.send(R"({"error":"Subscription depth not supported","method":")" + std::string(method) +
                R"(","success":false)" + times + req + "}");
      return;
    }
  }
  for (simdjson::dom::element s : symbols) {
    std::string_view name;
    if (s.get(name)) continue;
    const auto i = symbol_index(market_, name);
    if (!i) {
      peer.send(R"({"error":"Currency pair not supported )" + std::string(name) + R"(","method":")" +
                std::string(method) + R"(","success":false,"symbol":")" + std::string(name) + "\"" + times + req + "}");
      continue;
    }
    const std::string result = R"({"method":")" + std::string(method) + R"(","result":{"channel":"book","depth":)" +
                               std::to_string(depth) + (method == "subscribe" ? R"(,"snapshot":true)" : "") +
                               R"(,"symbol":")" + std::string(name) + R"("},"success":true)" + times + req + "}";
    if (method == "unsubscribe") {
      if (peer.subscribed[*i] == 0) {
        peer.send(R"({"error":"Subscription Not Found","method":"unsubscribe","success":false,"symbol":")" +
                  std::string(name) + "\"" + times + req + "}");
        continue;
      }
      peer.subscribed[*i] = 0;
      peer.held[*i].reset();
      peer.send(result);
      continue;
    }
    if (peer.subscribed[*i] != 0) {
      peer.send(R"({"error":"Already subscribed","method":"subscribe","success":false,"symbol":")" + std::string(name) +
                "\"" + times + req + "}");
      continue;
    }
    peer.subscribed[*i] = static_cast<int>(depth);
    peer.send(result);
    // The snapshot: the true top `depth` now, with its checksum.
    const auto& c = cache_[*i];
    diff_bids_.clear();
    diff_asks_.clear();
    for (std::size_t k = 0; k < std::min<std::size_t>(c.bids.size(), static_cast<std::size_t>(depth)); ++k) {
      diff_bids_.push_back({Side::kBid, c.bids[k].price, c.bids[k].qty});
    }
    for (std::size_t k = 0; k < std::min<std::size_t>(c.asks.size(), static_cast<std::size_t>(depth)); ++k) {
      diff_asks_.push_back({Side::kAsk, c.asks[k].price, c.asks[k].qty});
    }
    ++stats_.book_messages;
    peer.send(
        kraken_v2_book_frame(market_.spec(*i), true, diff_bids_, diff_asks_, c.checksum, kraken_time(net::now_ns())));
  }
}

void KrakenPiece::on_change(const Change& c) {
  const std::size_t i = c.symbol;
  Cache& cache = cache_[i];
  const std::uint32_t checksum = checksum_of(i);
  const bool top_changed = checksum != cache.checksum;
  const auto after_b = market_.bids(i);
  const auto after_a = market_.asks(i);
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (!p || p->closed || p->piece != this || p->subscribed[i] == 0) continue;
    const auto d = static_cast<std::size_t>(p->subscribed[i]);
    kraken_depth_diff(Side::kBid, cache.bids, after_b, d, diff_bids_);
    kraken_depth_diff(Side::kAsk, cache.asks, after_a, d, diff_asks_);
    if (diff_bids_.empty() && diff_asks_.empty()) continue;
    ++stats_.book_messages;
    // A drop or reorder that does not touch the top 10 would be invisible to the checksum
    // (and harmless to the validated part of the book), so those wait for one that does.
    host_.deliver(
        *p, i,
        kraken_v2_book_frame(market_.spec(i), false, diff_bids_, diff_asks_, checksum, kraken_time(net::now_ns())),
        top_changed);
  }
  cache.bids.assign(after_b.begin(), after_b.end());
  cache.asks.assign(after_a.begin(), after_a.end());
  cache.checksum = checksum;
}

// default_symbols: the bundled market, served when SimConfig::symbols gives the venue none.
std::vector<SymbolSpec> default_symbols() {
  return {bundled_spec("BTC/USD", 1, 8, 630049), bundled_spec("ETH/USD", 2, 8, 345012),
          bundled_spec("XRP/USD", 5, 8, 52341)};
}
std::uint64_t market_seed(std::uint64_t seed) { return seed; }
std::unique_ptr<VenuePiece> make(SimHost& host, Market& market) { return std::make_unique<KrakenPiece>(host, market); }

}  // namespace

const VenuePieceFactory& kraken_venue_piece() {
  static const VenuePieceFactory factory{
      .name = kName,
      .display_name = "Kraken",
      .own_faults = kOwnFaults,
      .default_symbols = default_symbols,
      .market_seed = market_seed,
      .make = make,
      .absorbable = kAbsorbable,
      .entry_label = "kraken v2",
  };
  return factory;
}

// ---- wire helpers -----------------------------------------------------------------

void kraken_depth_diff(Side side, std::span<const Level> before_top, std::span<const Level> after_top,
                       std::size_t depth, std::vector<LevelDelta>& out) {
  out.clear();
  if (depth == 0) return;
  const std::span<const Level> before = before_top.first(std::min(before_top.size(), depth));
  const std::span<const Level> after = after_top.first(std::min(after_top.size(), depth));
  const bool after_full = after.size() == depth;
  LevelDelta d;
  d.side = side;

  // Deletes: a level gone from the new top that is better than its worst (or any gone level
  // when the new top is not full) cannot have been pushed out, so the truth deleted it.
  std::size_t j = 0;
  for (const Level& b : before) {
    while (j < after.size() && better(side, after[j].price, b.price)) ++j;
    if (j < after.size() && after[j].price == b.price) continue;
    if (!after_full || better(side, b.price, after.back().price)) {
      d.price = b.price;
      d.qty = 0;
      out.push_back(d);
    }
  }
  // Sets: new, changed and pulled-up (refill) levels of the new top.
  std::size_t i = 0;
  for (const Level& a : after) {
    while (i < before.size() && better(side, before[i].price, a.price)) ++i;
    if (i < before.size() && before[i] == a) continue;
    d.price = a.price;
    d.qty = a.qty;
    out.push_back(d);
  }
}

std::vector<LevelDelta> kraken_depth_diff(Side side, std::span<const Level> before_top,
                                          std::span<const Level> after_top, std::size_t depth) {
  std::vector<LevelDelta> out;
  kraken_depth_diff(side, before_top, after_top, depth, out);
  return out;
}

std::string kraken_v2_book_frame(const SymbolSpec& spec, bool snapshot, std::span<const LevelDelta> bids,
                                 std::span<const LevelDelta> asks, std::uint32_t checksum, std::string_view timestamp) {
  std::string out;
  out.reserve(96 + 48 * (bids.size() + asks.size()));
  out += R"({"channel":"book","type":")";
  out += snapshot ? "snapshot" : "update";
  out += R"(","data":[{"symbol":")";
  out += spec.name;
  out += "\",";
  for (int side = 0; side < 2; ++side) {
    out += side == 0 ? R"("bids":[)" : R"(],"asks":[)";
    bool first = true;
    for (const LevelDelta& d : side == 0 ? bids : asks) {
      if (!first) out += ',';
      first = false;
      out += R"({"price":)";
      out += format_fixed(d.price, spec.price_scale);
      out += R"(,"qty":)";
      out += format_fixed(d.qty, spec.qty_scale);
      out += '}';
    }
  }
  out += R"(],"checksum":)";
  out += std::to_string(checksum);
  out += R"(,"timestamp":")";
  out += timestamp;
  out += "\"}]}";
  return out;
}

}  // namespace obr::sim
