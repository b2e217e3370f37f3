// tools/sim/kucoin_piece.cpp — the simulator's KuCoin piece (see kucoin_piece.h): REST
// (bullet-public, level2 snapshots), the WebSocket (token check and welcome, subscriptions,
// pings), the fan-out (trade.l2update, one sequence per change) and the snapshot kept for
// stale_snapshot; then its factory with the bundled books.
#include "tools/sim/kucoin_piece.h"

#include <simdjson.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tools/sim/venue_piece.h"
#include "tools/sim/venue_pieces.h"

namespace obr::sim {
namespace {

using book::Side;

constexpr std::string_view kName = "kucoin";
constexpr std::string_view kWsPath = "/kucoin/ws";
constexpr std::string_view kBulletPath = "/api/v1/bullet-public";
constexpr std::string_view kLevel2_100Path = "/api/v1/market/orderbook/level2_100";
constexpr std::string_view kLevel2FullPath = "/api/v3/market/orderbook/level2";
constexpr std::string_view kRestPaths[] = {kBulletPath, kLevel2_100Path, kLevel2FullPath};
constexpr FaultKind kOwnFaults[] = {FaultKind::kSkipSequence, FaultKind::kRefuseToken,  FaultKind::kExpireToken,
                                    FaultKind::kFailEndpoint, FaultKind::kRest429,      FaultKind::kRest418,
                                    FaultKind::kRest500,      FaultKind::kStaleSnapshot};
constexpr FaultKind kAbsorbable[] = {FaultKind::kDuplicate, FaultKind::kStaleSnapshot};

// query: the value of `key` in the target's query string (empty when absent).
std::string query(std::string_view target, std::string_view key) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest_q = target.substr(q + 1);
  while (!rest_q.empty()) {
    std::string_view item = rest_q.substr(0, rest_q.find('&'));
    rest_q = item.size() < rest_q.size() ? rest_q.substr(item.size() + 1) : std::string_view();
    if (item.substr(0, item.find('=')) == key && item.find('=') != std::string_view::npos) {
      return std::string(item.substr(item.find('=') + 1));
    }
  }
  return {};
}

class KucoinPiece final : public VenuePiece {
 public:
  KucoinPiece(SimHost& host, Market& market)
      : VenuePiece(host, market),
        stats_(host.sim_stats().venues[std::string(kName)]),
        seq_offset_(market.symbol_count(), 0),
        old_snapshots_(market.symbol_count()) {}

  std::string_view name() const override { return kName; }
  std::string_view ws_path() const override { return kWsPath; }
  std::span<const std::string_view> rest_paths() const override { return kRestPaths; }
  std::string entry_url(bool tls, std::uint16_t port) const override {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port);
  }

  void on_tick(std::int64_t now_ns) override {
    if (now_ns - old_snapshot_ns_ < 1'000'000'000) return;  // keep a second-old snapshot for stale_snapshot
    for (std::size_t i = 0; i < market_.symbol_count(); ++i) old_snapshots_[i] = snapshot_json(i, 100);
    old_snapshot_ns_ = now_ns;
  }

  void on_open(Peer& peer, std::string_view target) override;
  void on_message(Peer& peer, std::string_view text) override;
  bool on_rest(const HttpRequest& req, std::string_view path, std::string_view target, HttpResponse& res) override;
  void on_change(const Change& c) override;
  std::uint64_t book_messages() const override { return stats_.book_messages; }

 private:
  std::string snapshot_json(std::size_t i, std::size_t limit);

  // This venue's counters in the host's SimStats (a map's entry stays put, so this holds).
  VenueStats& stats_;
  std::vector<std::int64_t> seq_offset_;    // skip_sequence adds to every later sequence
  std::vector<std::string> old_snapshots_;  // a snapshot from about a second ago
  std::int64_t old_snapshot_ns_ = 0;
  std::uint64_t next_token_ = 1;
  std::vector<std::string> tokens_;  // valid tokens
  bool expire_next_token_ = false;
  bool fail_next_endpoint_ = false;
  simdjson::dom::parser parser_;
};

bool KucoinPiece::on_rest(const HttpRequest& req, std::string_view path, std::string_view target, HttpResponse& res) {
  const SimConfig& config = host_.sim_config();
  if (path == kBulletPath) {
    if (req.method() != http::verb::post) return false;
    if (host_.take_fault(*this, "", {FaultKind::kRefuseToken}, 0)) {
      res.body() = R"({"code":"400100","msg":"simulated: token refused"})";
      return true;
    }
    std::string token = "sim-" + std::to_string(next_token_++) + "-" + std::to_string(config.seed);
    if (!expire_next_token_ && host_.take_fault(*this, "", {FaultKind::kExpireToken}, 0)) expire_next_token_ = true;
    if (expire_next_token_) {
      expire_next_token_ = false;  // issued, but the WebSocket will refuse it
    } else {
      tokens_.push_back(token);
    }
    ++stats_.tokens_issued;
    const std::string scheme = config.tls ? "wss" : "ws";
    const std::string ws_path(kWsPath);
    std::string servers;
    if (fail_next_endpoint_ || host_.take_fault(*this, "", {FaultKind::kFailEndpoint}, 0)) {
      fail_next_endpoint_ = false;
      servers += R"({"endpoint":")" + scheme + "://127.0.0.1:" + std::to_string(host_.refused_port()) + ws_path +
                 R"(","encrypt":true,"protocol":"websocket","pingInterval":2000,"pingTimeout":2000},)";
    }
    servers += R"({"endpoint":")" + scheme + "://127.0.0.1:" + std::to_string(host_.listen_port()) + ws_path +
               R"(","encrypt":true,"protocol":"websocket","pingInterval":2000,"pingTimeout":2000})";
    res.body() = R"({"code":"200000","data":{"token":")" + token + R"(","instanceServers":[)" + servers + "]}}";
    return true;
  }
  const bool l2_100 = path == kLevel2_100Path;
  const bool l2_full = path == kLevel2FullPath;
  if (!l2_100 && !l2_full) return false;
  const std::string symbol = query(target, "symbol");
  const auto i = symbol_index(market_, symbol);
  if (!i) {
    res.body() = R"({"code":"400100","msg":"symbol not found"})";
    return true;
  }
  if (l2_full && req.find("KC-API-KEY") == req.end()) {
    res.result(http::status::unauthorized);
    res.body() = R"({"code":"400003","msg":"KC-API-KEY not exists"})";
    return true;
  }
  if (auto f = host_.take_fault(*this, symbol, {FaultKind::kRest429, FaultKind::kRest418, FaultKind::kRest500}, 0)) {
    const auto code = f->kind == FaultKind::kRest429   ? http::status::too_many_requests
                      : f->kind == FaultKind::kRest418 ? http::status{418}
                                                       : http::status::internal_server_error;
    res.result(code);
    if (f->kind != FaultKind::kRest500) res.set(http::field::retry_after, "1");
    res.body() = R"({"code":"429000","msg":"simulated"})";
    return true;
  }
  ++stats_.snapshots_served;
  if (!old_snapshots_[*i].empty() && host_.take_fault(*this, symbol, {FaultKind::kStaleSnapshot}, 0)) {
    res.body() = old_snapshots_[*i];
    return true;
  }
  res.body() = snapshot_json(*i, l2_100 ? 100 : 0);
  return true;
}

void KucoinPiece::on_open(Peer& peer, std::string_view target) {
  auto param = [&](std::string_view key) {
    const std::size_t at = target.find(std::string(key) + "=");
    if (at == std::string_view::npos) return std::string();
    std::string_view v = target.substr(at + key.size() + 1);
    return std::string(v.substr(0, v.find('&')));
  };
  const std::string token = param("token");
  const std::string connect_id = param("connectId");
  if (std::find(tokens_.begin(), tokens_.end(), token) == tokens_.end()) {
    peer.send(R"({"id":")" + connect_id + R"(","type":"error","code":401,"data":"token is expired"})");
    peer.close_code(1008);
    return;
  }
  peer.send(R"({"id":")" + connect_id + R"(","type":"welcome"})");
}

void KucoinPiece::on_message(Peer& peer, std::string_view text) {
  simdjson::dom::element doc;
  std::string_view type;
  if (parser_.parse(text.data(), text.size()).get(doc) || doc["type"].get(type)) {
    peer.send(R"({"type":"error","code":400,"data":"invalid message"})");
    return;
  }
  std::string id;
  if (std::string_view sid; !doc["id"].get(sid)) {
    id = sid;
  } else if (std::int64_t nid = 0; !doc["id"].get(nid)) {
    id = std::to_string(nid);
  }
  if (type == "ping") {
    peer.send(R"({"id":")" + id + R"(","type":"pong"})");
    return;
  }
  if (type != "subscribe" && type != "unsubscribe") return;
  std::string_view topic;
  if (doc["topic"].get(topic) || !topic.starts_with("/market/level2:")) {
    peer.send(R"({"id":")" + id + R"(","type":"error","code":404,"data":"topic is not supported"})");
    return;
  }
  std::string_view list = topic.substr(15);
  std::vector<std::size_t> found;
  while (!list.empty()) {
    std::string_view s = list.substr(0, list.find(','));
    list = s.size() < list.size() ? list.substr(s.size() + 1) : std::string_view();
    const auto i = symbol_index(market_, s);
    if (!i) {
      peer.send(R"({"id":")" + id + R"(","type":"error","code":404,"data":"topic /market/level2:)" + std::string(s) +
                R"( is not found"})");
      return;
    }
    found.push_back(*i);
  }
  for (std::size_t i : found) peer.subscribed[i] = type == "subscribe" ? 1 : 0;
  bool response = false;
  if (!doc["response"].get(response) && response) peer.send(R"({"id":")" + id + R"(","type":"ack"})");
}

void KucoinPiece::on_change(const Change& c) {
  const std::size_t i = c.symbol;
  const SymbolSpec& s = market_.spec(i);
  bool any = false;
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (p && !p->closed && p->piece == this && p->subscribed[i] != 0) any = true;
  }
  if (auto f = host_.take_fault(*this, s.name, {FaultKind::kSkipSequence}, 0)) {
    seq_offset_[i] += f->arg > 0 ? f->arg : 5;
  }
  if (!any) return;
  const std::int64_t off = seq_offset_[i];
  std::string out;
  out += R"({"type":"message","topic":"/market/level2:)";
  out += s.name;
  out += R"(","subject":"trade.l2update","data":{"changes":{"asks":[)";
  for (int side = 1; side >= 0; --side) {
    bool first = true;
    std::int64_t seq = c.first_sequence + off;
    for (const LevelDelta& d : c.deltas) {
      const std::int64_t this_seq = seq++;
      if ((d.side == Side::kBid) != (side == 0)) continue;
      if (!first) out += ',';
      first = false;
      out += "[\"" + format_fixed(d.price, s.price_scale) + "\",\"" + format_fixed(d.qty, s.qty_scale) + "\",\"" +
             std::to_string(this_seq) + "\"]";
    }
    if (side == 1) out += R"(],"bids":[)";
  }
  out += R"(]},"sequenceEnd":)" + std::to_string(c.sequence + off) + R"(,"sequenceStart":)" +
         std::to_string(c.first_sequence + off) + R"(,"symbol":")" + s.name + R"(","time":)" +
         std::to_string(net::now_ns() / 1'000'000) + "}}";
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (!p || p->closed || p->piece != this || p->subscribed[i] == 0) continue;
    ++stats_.book_messages;
    host_.deliver(*p, i, out, /*visible=*/true);  // every sequence is checked: any loss shows
  }
}

std::string KucoinPiece::snapshot_json(std::size_t i, std::size_t limit) {
  const SymbolSpec& s = market_.spec(i);
  std::string out = R"({"code":"200000","data":{"time":)" + std::to_string(net::now_ns() / 1'000'000) +
                    R"(,"sequence":")" + std::to_string(market_.sequence(i) + seq_offset_[i]) + "\"";
  for (int side = 0; side < 2; ++side) {
    const auto levels = side == 0 ? market_.bids(i) : market_.asks(i);
    out += side == 0 ? R"(,"bids":[)" : R"(],"asks":[)";
    const std::size_t n = limit == 0 ? levels.size() : std::min(limit, levels.size());
    for (std::size_t k = 0; k < n; ++k) {
      if (k) out += ',';
      out += "[\"" + format_fixed(levels[k].price, s.price_scale) + "\",\"" + format_fixed(levels[k].qty, s.qty_scale) +
             "\"]";
    }
  }
  out += "]}}";
  return out;
}

// default_symbols: the bundled market, served when SimConfig::symbols gives the venue none.
std::vector<SymbolSpec> default_symbols() {
  return {bundled_spec("BTC-USDT", 1, 8, 630042), bundled_spec("ETH-USDT", 2, 7, 345001),
          bundled_spec("SOL-USDT", 3, 4, 145123)};
}
// A different stream from Kraken's under the same SimConfig::seed.
std::uint64_t market_seed(std::uint64_t seed) { return seed * 7919 + 1; }
std::unique_ptr<VenuePiece> make(SimHost& host, Market& market) { return std::make_unique<KucoinPiece>(host, market); }

}  // namespace

const VenuePieceFactory& kucoin_venue_piece() {
  static const VenuePieceFactory factory{
      .name = kName,
      .display_name = "KuCoin",
      .own_faults = kOwnFaults,
      .default_symbols = default_symbols,
      .market_seed = market_seed,
      .make = make,
      .absorbable = kAbsorbable,
      .entry_note = " (POST /api/v1/bullet-public)",
  };
  return factory;
}

}  // namespace obr::sim
