// tools/sim/simulator_venues.cpp — the simulator's venue side (see simulator_impl.h):
// REST (bullet-public, level2 snapshots), WebSocket peers (the welcome or status message,
// subscriptions and pings per venue), market fan-out (Kraken checksums and depth views,
// KuCoin l2update and snapshots) and faults (the schedule applied to outbound frames and
// to connections), in that order.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>

#include "book/kraken_checksum.h"
#include "tools/sim/kraken_piece.h"
#include "tools/sim/simulator_impl.h"

namespace obr::sim {

using book::Level;
using book::Side;
using error_code = boost::system::error_code;

namespace {

std::string kraken_time(std::int64_t ns) {
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>((ns / 1000) % 1'000'000));
  return buf;
}

std::int64_t since_ns(std::int64_t start) { return net::now_ns() - start; }

}  // namespace

// ---- REST -------------------------------------------------------------------------

http::response<http::string_body> Simulator::Impl::rest(const http::request<http::string_body>& req) {
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/json");
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  auto query = [&](std::string_view key) -> std::string {
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
  };
  if (path == "/api/v1/bullet-public" && req.method() == http::verb::post) {
    if (take_fault(Venue::kKucoin, "", {FaultKind::kRefuseToken}, 0)) {
      res.body() = R"({"code":"400100","msg":"simulated: token refused"})";
      return res;
    }
    std::string token = "sim-" + std::to_string(next_token++) + "-" + std::to_string(config.seed);
    if (!expire_next_token && take_fault(Venue::kKucoin, "", {FaultKind::kExpireToken}, 0)) expire_next_token = true;
    if (expire_next_token) {
      expire_next_token = false;  // issued, but the WebSocket will refuse it
    } else {
      tokens.push_back(token);
    }
    ++stats.tokens_issued;
    const std::string scheme = config.tls ? "wss" : "ws";
    std::string servers;
    if (fail_next_endpoint || take_fault(Venue::kKucoin, "", {FaultKind::kFailEndpoint}, 0)) {
      fail_next_endpoint = false;
      servers += R"({"endpoint":")" + scheme + "://127.0.0.1:" + std::to_string(dead_port) +
                 R"(/kucoin/ws","encrypt":true,"protocol":"websocket","pingInterval":2000,"pingTimeout":2000},)";
    }
    servers += R"({"endpoint":")" + scheme + "://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) +
               R"(/kucoin/ws","encrypt":true,"protocol":"websocket","pingInterval":2000,"pingTimeout":2000})";
    res.body() = R"({"code":"200000","data":{"token":")" + token + R"(","instanceServers":[)" + servers + "]}}";
    return res;
  }
  const bool l2_100 = path == "/api/v1/market/orderbook/level2_100";
  const bool l2_full = path == "/api/v3/market/orderbook/level2";
  if (l2_100 || l2_full) {
    const std::string symbol = query("symbol");
    const auto i = kucoin_index(symbol);
    if (!i) {
      res.body() = R"({"code":"400100","msg":"symbol not found"})";
      return res;
    }
    if (l2_full && req.find("KC-API-KEY") == req.end()) {
      res.result(http::status::unauthorized);
      res.body() = R"({"code":"400003","msg":"KC-API-KEY not exists"})";
      return res;
    }
    if (auto f = take_fault(Venue::kKucoin, symbol, {FaultKind::kRest429, FaultKind::kRest418, FaultKind::kRest500},
                            0)) {
      const auto code = f->kind == FaultKind::kRest429   ? http::status::too_many_requests
                        : f->kind == FaultKind::kRest418 ? http::status{418}
                                                          : http::status::internal_server_error;
      res.result(code);
      if (f->kind != FaultKind::kRest500) res.set(http::field::retry_after, "1");
      res.body() = R"({"code":"429000","msg":"simulated"})";
      return res;
    }
    ++stats.snapshots_served;
    if (!old_snapshots[*i].empty() && take_fault(Venue::kKucoin, symbol, {FaultKind::kStaleSnapshot}, 0)) {
      res.body() = old_snapshots[*i];
      return res;
    }
    res.body() = kucoin_snapshot_json(*i, l2_100 ? 100 : 0);
    return res;
  }
  res.result(http::status::not_found);
  res.body() = R"({"code":"404000","msg":"no such route: )" + std::string(path) + "\"}";
  return res;
}

// ---- WebSocket peers --------------------------------------------------------------

void Simulator::Impl::on_open(const std::shared_ptr<Peer>& peer, std::string_view target) {
  peer->id = next_peer_id++;
  ++stats.connections;
  peers.push_back(peer);
  if (target.starts_with("/v2")) {
    peer->venue = Venue::kKraken;
    peer->depth.assign(kraken.symbol_count(), 0);
    peer->held.assign(kraken.symbol_count(), std::nullopt);
    peer->send(R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":)" +
               std::to_string(9'000'000'000'000'000'000ULL + peer->id) + "}]}");
    return;
  }
  if (target.starts_with("/kucoin/ws")) {
    peer->venue = Venue::kKucoin;
    peer->subscribed.assign(kucoin.symbol_count(), false);
    peer->held.assign(kucoin.symbol_count(), std::nullopt);
    auto param = [&](std::string_view key) {
      const std::size_t at = target.find(std::string(key) + "=");
      if (at == std::string_view::npos) return std::string();
      std::string_view v = target.substr(at + key.size() + 1);
      return std::string(v.substr(0, v.find('&')));
    };
    const std::string token = param("token");
    const std::string connect_id = param("connectId");
    if (std::find(tokens.begin(), tokens.end(), token) == tokens.end()) {
      peer->send(R"({"id":")" + connect_id + R"(","type":"error","code":401,"data":"token is expired"})");
      peer->close_code(1008);
      return;
    }
    peer->send(R"({"id":")" + connect_id + R"(","type":"welcome"})");
    return;
  }
  peer->close_code(1008);
}

void Simulator::Impl::on_closed(const Peer& peer) { (void)peer; }

void Simulator::Impl::on_message(const std::shared_ptr<Peer>& peer, std::string_view text) {
  if (peer->venue == Venue::kKraken) kraken_message(*peer, text);
  if (peer->venue == Venue::kKucoin) kucoin_message(*peer, text);
}

std::optional<std::size_t> Simulator::Impl::index_in(const Market& market, std::string_view symbol) {
  for (std::size_t i = 0; i < market.symbol_count(); ++i) {
    if (market.spec(i).name == symbol) return i;
  }
  return std::nullopt;
}

std::optional<Simulator::Impl::Found> Simulator::Impl::find(std::string_view venue, std::string_view symbol) const {
  const bool is_kraken = venue == "kraken";
  if (!is_kraken && venue != "kucoin") return std::nullopt;
  const Market& m = is_kraken ? kraken : kucoin;
  const auto i = index_in(m, symbol);
  if (!i) return std::nullopt;
  return Found{&m, *i, is_kraken ? &kraken_history[*i] : &kucoin_history[*i]};
}

void Simulator::Impl::kraken_message(Peer& peer, std::string_view text) {
  const std::int64_t now = net::now_ns();
  const std::string times = R"(,"time_in":")" + kraken_time(now) + R"(","time_out":")" + kraken_time(now) + "\"";
  simdjson::dom::element doc;
  std::string_view method;
  if (parser.parse(text.data(), text.size()).get(doc) || doc["method"].get(method)) {
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
    peer.send(R"({"error":"Method not found","method":")" + std::string(method) + R"(","success":false)" + times +
              req + "}");
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
    const auto i = kraken_index(name);
    if (!i) {
      peer.send(R"({"error":"Currency pair not supported )" + std::string(name) + R"(","method":")" +
                std::string(method) + R"(","success":false,"symbol":")" + std::string(name) + "\"" + times + req + "}");
      continue;
    }
    const std::string result = R"({"method":")" + std::string(method) + R"(","result":{"channel":"book","depth":)" +
                               std::to_string(depth) + (method == "subscribe" ? R"(,"snapshot":true)" : "") +
                               R"(,"symbol":")" + std::string(name) + R"("},"success":true)" + times + req + "}";
    if (method == "unsubscribe") {
      if (peer.depth[*i] == 0) {
        peer.send(R"({"error":"Subscription Not Found","method":"unsubscribe","success":false,"symbol":")" +
                  std::string(name) + "\"" + times + req + "}");
        continue;
      }
      peer.depth[*i] = 0;
      peer.held[*i].reset();
      peer.send(result);
      continue;
    }
    if (peer.depth[*i] != 0) {
      peer.send(R"({"error":"Already subscribed","method":"subscribe","success":false,"symbol":")" +
                std::string(name) + "\"" + times + req + "}");
      continue;
    }
    peer.depth[*i] = static_cast<int>(depth);
    peer.send(result);
    // The snapshot: the true top `depth` now, with its checksum.
    const auto& c = kraken_cache[*i];
    diff_bids.clear();
    diff_asks.clear();
    for (std::size_t k = 0; k < std::min<std::size_t>(c.bids.size(), static_cast<std::size_t>(depth)); ++k) {
      diff_bids.push_back({Side::kBid, c.bids[k].price, c.bids[k].qty});
    }
    for (std::size_t k = 0; k < std::min<std::size_t>(c.asks.size(), static_cast<std::size_t>(depth)); ++k) {
      diff_asks.push_back({Side::kAsk, c.asks[k].price, c.asks[k].qty});
    }
    ++stats.kraken_messages;
    peer.send(kraken_book_frame(*i, true, diff_bids, diff_asks, static_cast<int>(depth), c.checksum));
  }
}

void Simulator::Impl::kucoin_message(Peer& peer, std::string_view text) {
  simdjson::dom::element doc;
  std::string_view type;
  if (parser.parse(text.data(), text.size()).get(doc) || doc["type"].get(type)) {
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
    const auto i = kucoin_index(s);
    if (!i) {
      peer.send(R"({"id":")" + id + R"(","type":"error","code":404,"data":"topic /market/level2:)" + std::string(s) +
                R"( is not found"})");
      return;
    }
    found.push_back(*i);
  }
  for (std::size_t i : found) peer.subscribed[i] = type == "subscribe";
  bool response = false;
  if (!doc["response"].get(response) && response) peer.send(R"({"id":")" + id + R"(","type":"ack"})");
}

// ---- market fan-out ---------------------------------------------------------------

std::uint32_t Simulator::Impl::checksum_of(std::size_t i) {
  book::OrderBook& ob = *checksum_books[i];
  const auto b = kraken.bids(i);
  const auto a = kraken.asks(i);
  ob.replace(b.first(std::min<std::size_t>(b.size(), 10)), a.first(std::min<std::size_t>(a.size(), 10)));
  return book::kraken_checksum(ob);
}

std::string Simulator::Impl::kraken_book_frame(std::size_t i, bool snapshot, std::span<const LevelDelta> bids,
                                               std::span<const LevelDelta> asks, int depth, std::uint32_t checksum) {
  (void)depth;
  return kraken_v2_book_frame(kraken.spec(i), snapshot, bids, asks, checksum, kraken_time(net::now_ns()));
}

void Simulator::Impl::kraken_change(const Change& c) {
  const std::size_t i = c.symbol;
  KrakenCache& cache = kraken_cache[i];
  const std::uint32_t checksum = checksum_of(i);
  const bool top_changed = checksum != cache.checksum;
  kraken_history[i].push(kraken.bids(i), kraken.asks(i));
  const auto after_b = kraken.bids(i);
  const auto after_a = kraken.asks(i);
  for (auto& w : peers) {
    auto p = w.lock();
    if (!p || p->closed || p->venue != Venue::kKraken || p->depth[i] == 0) continue;
    const auto d = static_cast<std::size_t>(p->depth[i]);
    kraken_depth_diff(Side::kBid, cache.bids, after_b, d, diff_bids);
    kraken_depth_diff(Side::kAsk, cache.asks, after_a, d, diff_asks);
    if (diff_bids.empty() && diff_asks.empty()) continue;
    ++stats.kraken_messages;
    deliver(*p, Venue::kKraken, i, kraken_book_frame(i, false, diff_bids, diff_asks, p->depth[i], checksum), true,
            top_changed);
  }
  cache.bids.assign(after_b.begin(), after_b.end());
  cache.asks.assign(after_a.begin(), after_a.end());
  cache.checksum = checksum;
}

void Simulator::Impl::kucoin_change(const Change& c) {
  const std::size_t i = c.symbol;
  const SymbolSpec& s = kucoin.spec(i);
  kucoin_history[i].push(kucoin.bids(i), kucoin.asks(i));
  bool any = false;
  for (auto& w : peers) {
    auto p = w.lock();
    if (p && !p->closed && p->venue == Venue::kKucoin && p->subscribed[i]) any = true;
  }
  if (auto f = take_fault(Venue::kKucoin, s.name, {FaultKind::kSkipSequence}, 0)) {
    seq_offset[i] += f->arg > 0 ? f->arg : 5;
  }
  if (!any) return;
  const std::int64_t off = seq_offset[i];
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
  for (auto& w : peers) {
    auto p = w.lock();
    if (!p || p->closed || p->venue != Venue::kKucoin || !p->subscribed[i]) continue;
    ++stats.kucoin_messages;
    deliver(*p, Venue::kKucoin, i, out, false, true);
  }
}

std::string Simulator::Impl::kucoin_snapshot_json(std::size_t i, std::size_t limit) {
  const SymbolSpec& s = kucoin.spec(i);
  std::string out = R"({"code":"200000","data":{"time":)" + std::to_string(net::now_ns() / 1'000'000) +
                    R"(,"sequence":")" + std::to_string(kucoin.sequence(i) + seq_offset[i]) + "\"";
  for (int side = 0; side < 2; ++side) {
    const auto levels = side == 0 ? kucoin.bids(i) : kucoin.asks(i);
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

// ---- faults -----------------------------------------------------------------------

std::optional<Fault> Simulator::Impl::take_fault(Venue venue, std::string_view symbol,
                                                 std::initializer_list<FaultKind> kinds, std::uint64_t peer_id) {
  const std::string_view vname = venue == Venue::kKraken ? "kraken" : "kucoin";
  const bool timed_armed = fault_origin_ns >= 0;
  const std::int64_t elapsed = since_ns(fault_origin_ns);
  const std::uint64_t msgs = venue == Venue::kKraken ? stats.kraken_messages : stats.kucoin_messages;
  for (auto it = pending.begin(); it != pending.end(); ++it) {
    if (std::find(kinds.begin(), kinds.end(), it->kind) == kinds.end()) continue;
    const std::string_view fv = fault_venue(*it);
    if (!fv.empty() && fv != vname) continue;
    if (!it->symbol.empty() && !symbol.empty() && it->symbol != symbol) continue;
    if ((it->at_ns > 0 && !timed_armed) || elapsed < it->at_ns || msgs < it->at_message) continue;
    Fault f = *it;
    pending.erase(it);
    FiredFault ff;
    ff.fault = f;
    ff.at_ns = net::now_ns();
    ff.symbol.assign(symbol);
    ff.connection = peer_id;
    fired.push_back(std::move(ff));
    return f;
  }
  return std::nullopt;
}

void Simulator::Impl::deliver(Peer& peer, Venue venue, std::size_t symbol, std::string frame, bool checksummed_update,
                              bool top_changed) {
  const std::string& name = venue == Venue::kKraken ? kraken.spec(symbol).name : kucoin.spec(symbol).name;
  auto& held = peer.held[symbol];
  // A Kraken drop or reorder that does not touch the top 10 would be invisible to the
  // checksum (and harmless to the validated part of the book), so those wait for one that does.
  const bool visible = venue == Venue::kKucoin || top_changed;
  if (!held) {
    std::optional<Fault> f;
    if (visible) {
      f = take_fault(venue, name, {FaultKind::kDrop, FaultKind::kReorder, FaultKind::kDuplicate}, peer.id);
    } else {
      f = take_fault(venue, name, {FaultKind::kDuplicate}, peer.id);
    }
    if (!f && checksummed_update) f = take_fault(venue, name, {FaultKind::kCorruptChecksum}, peer.id);
    if (f) {
      switch (f->kind) {
        case FaultKind::kDrop:
          return;
        case FaultKind::kReorder:
          held = std::move(frame);
          return;
        case FaultKind::kDuplicate:
          peer.send(frame);
          break;
        case FaultKind::kCorruptChecksum: {
          const std::size_t at = frame.rfind(R"("checksum":)");
          const std::size_t end = frame.find(',', at);
          const std::uint32_t wrong = static_cast<std::uint32_t>(std::stoul(frame.substr(at + 11, end - at - 11))) ^ 0x5a5a5a5aU;
          frame.replace(at + 11, end - at - 11, std::to_string(wrong));
          break;
        }
        default:
          break;
      }
    }
  }
  peer.send(std::move(frame));
  if (held) {  // the reordered frame goes after the one that overtook it
    std::string h = std::move(*held);
    held.reset();
    peer.send(std::move(h));
  }
}

void Simulator::Impl::connection_faults() {
  const std::int64_t now = net::now_ns();
  for (auto& w : peers) {
    auto p = w.lock();
    if (!p || p->closed || p->venue == Venue::kNone) continue;
    const Venue v = p->venue;
    // The book this peer carries (for symbol-targeted connection faults).
    std::string carried;
    if (v == Venue::kKraken) {
      for (std::size_t i = 0; i < p->depth.size() && carried.empty(); ++i) {
        if (p->depth[i] > 0) carried = kraken.spec(i).name;
      }
    } else {
      for (std::size_t i = 0; i < p->subscribed.size() && carried.empty(); ++i) {
        if (p->subscribed[i]) carried = kucoin.spec(i).name;
      }
    }
    if (carried.empty()) continue;  // not serving books yet
    auto f = take_fault(v, carried,
                        {FaultKind::kStall, FaultKind::kClose, FaultKind::kCloseCode, FaultKind::kMaintenance,
                         FaultKind::kMalformed, FaultKind::kOversized},
                        p->id);
    if (!f) continue;
    fired.back().symbol.clear();  // a connection fault hits every book on it
    switch (f->kind) {
      case FaultKind::kStall:
        p->stall_until_ns = f->arg > 0 ? now + f->arg : INT64_MAX;
        break;
      case FaultKind::kClose:
        p->close_abrupt();
        break;
      case FaultKind::kCloseCode:
        p->close_code(static_cast<std::uint16_t>(f->arg > 0 ? f->arg : 1001));
        break;
      case FaultKind::kMaintenance: {
        p->send(R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"maintenance","api_version":"v2","connection_id":1}]})");
        auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(1));
        std::weak_ptr<Peer> weak = p;
        timer->async_wait([timer, weak, alive = alive](error_code) {
          if (!*alive) return;
          if (auto peer = weak.lock()) {
            peer->send(R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":1}]})");
          }
        });
        break;
      }
      case FaultKind::kMalformed:
        p->send(std::string("\x01\x02{\"channel\":\"book\",\"type\":\"upd\xff\xfe", 24));
        break;
      case FaultKind::kOversized:
        p->send(R"({"channel":"book","pad":")" + std::string(8u << 20, 'x') + "\"}");
        break;
      default:
        break;
    }
  }
}

}  // namespace obr::sim
