// tools/sim/binance_piece.cpp — the simulator's Binance spot and USD-M pieces (see
// binance_piece.h): one BinancePiece parameterised by a Kind (paths, ping interval, weight
// limit, whether events carry pu), in sections: the venue's constants; the WebSocket
// (requests, limits, pings and the connection's life); the fan-out (update ids per
// symbol); REST (depth snapshots, request weight, 429 and the 418 ban, the kept snapshot
// for stale_snapshot); then the factories with the bundled books.
#include "tools/sim/binance_piece.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tools/sim/venue_piece.h"
#include "tools/sim/venue_pieces.h"

namespace obr::sim {
namespace {

using book::Level;
using book::Side;

constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kMinuteNs = 60 * kSecondNs;

// Binance's documented WebSocket limits: streams per connection (both markets), and
// incoming messages per second (the market's: Kind), beyond which a connection is cut. The
// venue counts pings and pongs too; here only the client's text frames count, because
// Beast consumes control frames inside its reads.
constexpr std::size_t kMaxStreams = 1024;
// The venue's default for SimConfig::timers' lifetime: every connection is cut after 24
// hours (the ping interval and the pong timeout are the market's: Kind).
constexpr std::int64_t kLifetimeNs = 24 * 3600 * kSecondNs;
// The 418 ban a request earns during a 429's Retry-After: on the venue from 2 minutes up to
// 3 days, growing with repeat offences; 2 s past the 429's Retry-After here, so that a test
// (or a demo) sees it through.
constexpr std::int64_t kBanNs = 2 * kSecondNs;
// The percentage of USD-M events whose U skips ahead of pu + 1 (by 1 to 3): the venue's
// futures streams do this, and only pu links one event to the last.
constexpr std::uint64_t kUsdmSkipPercent = 10;
// The most levels a snapshot (or the kept one) holds: spot's largest limit.
constexpr std::size_t kMaxLimit = 5000;

constexpr FaultKind kOwnFaults[] = {FaultKind::kSkipSequence, FaultKind::kRest429, FaultKind::kRest418,
                                    FaultKind::kRest500, FaultKind::kStaleSnapshot};
// A duplicated event is skipped by its ids (u at or below the book's), and a stale
// snapshot the buffered events still bridge is what the venue's procedure intends.
constexpr FaultKind kAbsorbable[] = {FaultKind::kDuplicate, FaultKind::kStaleSnapshot};

// Kind: what differs between the spot and the USD-M market.
struct Kind {
  std::string_view name;
  std::string_view ws_path;
  std::span<const std::string_view> rest_paths;  // the depth snapshot's path
  bool usdm;                                     // events carry T and pu; snapshots E and T
  std::int64_t ping_interval_ns;                 // the server's pings
  std::int64_t pong_timeout_ns;                  // no pong this long after a ping: cut
  std::size_t max_messages_per_second;           // a client's; one more is cut
  int weight_limit;                              // request weight per minute
  std::int64_t default_limit;                    // a snapshot's levels when the request names none
  std::string_view legal_limits;
};

constexpr std::string_view kSpotRest[] = {"/api/v3/depth"};
constexpr std::string_view kUsdmRest[] = {"/fapi/v1/depth"};
// Spot (the venue's "WebSocket Streams" page): a ping every 20 s, a pong within a minute, 5
// messages a second; snapshots of any limit from 1 (default 100; above 5000, 5000 levels).
// USD-M ("Websocket Market Streams"): every 3 minutes, within 10 minutes, 10 a second;
// snapshots of its listed limits only (default 500).
constexpr Kind kSpot{.name = "binance",
                     .ws_path = "/stream",
                     .rest_paths = kSpotRest,
                     .usdm = false,
                     .ping_interval_ns = 20 * kSecondNs,
                     .pong_timeout_ns = 60 * kSecondNs,
                     .max_messages_per_second = 5,
                     .weight_limit = 6000,
                     .default_limit = 100,
                     .legal_limits = "1 or more"};
constexpr Kind kUsdm{.name = "binance-usdm",
                     .ws_path = "/fstream",
                     .rest_paths = kUsdmRest,
                     .usdm = true,
                     .ping_interval_ns = 180 * kSecondNs,
                     .pong_timeout_ns = 600 * kSecondNs,
                     .max_messages_per_second = 10,
                     .weight_limit = 2400,
                     .default_limit = 500,
                     .legal_limits = "5, 10, 20, 50, 100, 500 or 1000"};

// weight: a depth request's weight for `limit` levels, 0 for a limit the market refuses.
int weight(const Kind& kind, std::int64_t limit) {
  if (!kind.usdm) {
    if (limit < 1) return 0;
    return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;  // above 5000: 5000
  }
  switch (limit) {
    case 5:
    case 10:
    case 20:
    case 50:
      return 2;
    case 100:
      return 5;
    case 500:
      return 10;
    case 1000:
      return 20;
    default:
      return 0;
  }
}

// query: the value of `key` in the target's query string; nullopt when absent.
std::optional<std::string> query(std::string_view target, std::string_view key) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest_q = target.substr(q + 1);
  while (!rest_q.empty()) {
    std::string_view item = rest_q.substr(0, rest_q.find('&'));
    rest_q = item.size() < rest_q.size() ? rest_q.substr(item.size() + 1) : std::string_view();
    const std::size_t eq = item.find('=');
    if (item.substr(0, eq) == key)
      return eq == std::string_view::npos ? std::string() : std::string(item.substr(eq + 1));
  }
  return std::nullopt;
}

// json_escaped: `text` as the inside of a JSON string (a client's method name echoed back).
std::string json_escaped(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

// seconds_until: whole seconds, rounded up, from now to `until_ns` (Retry-After).
std::string seconds_until(std::int64_t until_ns, std::int64_t now_ns) {
  return std::to_string(std::max<std::int64_t>(1, (until_ns - now_ns + kSecondNs - 1) / kSecondNs));
}

// Stream bits in Peer::subscribed: a peer may carry both streams of one symbol.
constexpr int kDepth = 1;       // <symbol>@depth
constexpr int kDepth100ms = 2;  // <symbol>@depth@100ms

class BinancePiece final : public VenuePiece {
 public:
  BinancePiece(const Kind& kind, SimHost& host, Market& market)
      : VenuePiece(host, market),
        kind_(kind),
        stats_(host.sim_stats().venues[std::string(kind.name)]),
        rng_(host.sim_config().seed * 0x9e3779b97f4a7c15ULL + (kind.usdm ? 2 : 1)),
        last_u_(market.symbol_count()),
        kept_(market.symbol_count()) {
    const SimConfig& config = host.sim_config();
    ping_ns_ = kind.ping_interval_ns;
    pong_ns_ = kind.pong_timeout_ns;
    life_ns_ = kLifetimeNs;
    if (const auto it = config.timers.find(kind.name); it != config.timers.end()) {
      if (it->second.ping_interval_ns > 0) ping_ns_ = it->second.ping_interval_ns;
      if (it->second.pong_timeout_ns > 0) pong_ns_ = it->second.pong_timeout_ns;
      if (it->second.lifetime_ns > 0) life_ns_ = it->second.lifetime_ns;
    }
    for (std::size_t i = 0; i < market.symbol_count(); ++i) {
      // Ids in the billions, as on the venue, different per symbol and seed.
      last_u_[i] = 40'000'000'000 + static_cast<std::int64_t>(i) * 1'000'000'000 +
                   static_cast<std::int64_t>(rng_.below(1'000'000));
      std::string lower = market.spec(i).name;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      lower_.push_back(std::move(lower));
    }
  }

  std::string_view name() const override { return kind_.name; }
  std::string_view ws_path() const override { return kind_.ws_path; }
  std::span<const std::string_view> rest_paths() const override { return kind_.rest_paths; }
  std::string entry_url(bool tls, std::uint16_t port) const override {
    return std::string(tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port) + std::string(kind_.ws_path);
  }

  void on_tick(std::int64_t now_ns) override;
  void on_open(Peer& peer, std::string_view target) override;
  void on_message(Peer& peer, std::string_view text) override;
  bool on_rest(const HttpRequest& req, std::string_view path, std::string_view target, HttpResponse& res) override;
  void on_change(const Change& c) override;
  std::uint64_t book_messages() const override { return stats_.book_messages; }

 private:
  // Conn: what the piece keeps of one WebSocket peer.
  struct Conn {
    std::set<std::string> streams;    // as subscribed (any name: unknown ones stay silent)
    std::deque<std::int64_t> recent;  // when its last Kind::max_messages_per_second + 1 came
    std::int64_t last_ping_ns = 0;
    std::int64_t awaiting_pong_since_ns = 0;  // the first unanswered ping; 0: none
  };
  // Kept: a symbol's truth as of about a second ago, for stale_snapshot.
  struct Kept {
    std::int64_t last_update_id = 0;
    std::vector<Level> bids, asks;
  };

  void reply_error(Peer& peer, int code, std::string_view msg, const std::string& id) {
    peer.send(R"({"error":{"code":)" + std::to_string(code) + R"(,"msg":")" + json_escaped(msg) + R"("},"id":)" + id +
              "}");
  }
  // subscribe: the streams of `names` added to (or removed from) the peer's; false, with
  // nothing changed, when adding them would pass kMaxStreams.
  bool subscribe(Peer& peer, Conn& conn, const std::vector<std::string>& names, bool add);
  std::string snapshot_json(std::int64_t last_update_id, std::span<const Level> bids, std::span<const Level> asks,
                            std::size_t i, std::size_t limit) const;

  const Kind& kind_;
  // This venue's counters in the host's SimStats (a map's entry stays put, so this holds).
  VenueStats& stats_;
  detail::SplitMix64 rng_;            // the update ids' steps
  std::vector<std::int64_t> last_u_;  // per symbol: the u of the last event (sent or not)
  std::vector<std::string> lower_;    // per symbol: its name in stream names (btcusdt)
  std::vector<Kept> kept_;
  std::int64_t kept_ns_ = 0;
  std::map<std::uint64_t, Conn> conns_;  // by Peer::id
  std::int64_t last_prune_ns_ = 0;
  std::int64_t ping_ns_ = 0, pong_ns_ = 0, life_ns_ = 0;
  // Request weight: the minute it counts in (now / 1 min, as the venue's windows run on the
  // clock's minutes), the weight used in it, the end of the last 429's Retry-After and of
  // the ban.
  std::int64_t minute_ = 0;
  std::int64_t used_weight_ = 0;
  std::int64_t retry_until_ns_ = 0;
  std::int64_t ban_until_ns_ = 0;
  simdjson::dom::parser parser_;
};

// ---- WebSocket ------------------------------------------------------------------------

void BinancePiece::on_open(Peer& peer, std::string_view target) {
  Conn& conn = conns_[peer.id];
  conn.last_ping_ns = peer.opened_ns;
  // Streams named in the URL (/stream?streams=btcusdt@depth/ethusdt@depth) are subscribed
  // at once, without a reply; nothing else is sent on open.
  if (const auto streams = query(target, "streams"); streams && !streams->empty()) {
    std::vector<std::string> names;
    std::string_view list = *streams;
    while (!list.empty()) {
      const std::string_view s = list.substr(0, list.find('/'));
      list = s.size() < list.size() ? list.substr(s.size() + 1) : std::string_view();
      if (!s.empty()) names.emplace_back(s);
    }
    if (!subscribe(peer, conn, names, true)) peer.close_code(1008);  // the venue refuses such a URL
  }
}

bool BinancePiece::subscribe(Peer& peer, Conn& conn, const std::vector<std::string>& names, bool add) {
  if (add) {
    std::set<std::string> fresh;
    for (const std::string& n : names) {
      if (conn.streams.count(n) == 0) fresh.insert(n);
    }
    if (conn.streams.size() + fresh.size() > kMaxStreams) return false;
    conn.streams.merge(fresh);
  } else {
    for (const std::string& n : names) conn.streams.erase(n);
  }
  for (std::size_t i = 0; i < lower_.size(); ++i) {
    peer.subscribed[i] = (conn.streams.count(lower_[i] + "@depth") ? kDepth : 0) |
                         (conn.streams.count(lower_[i] + "@depth@100ms") ? kDepth100ms : 0);
  }
  return true;
}

void BinancePiece::on_message(Peer& peer, std::string_view text) {
  Conn& conn = conns_[peer.id];
  // The message rate: one message more than the market allows within a second closes the
  // connection, as the venue does. 1008 (policy violation) is the WebSocket code for a
  // peer that broke the server's rules, so a client can log why instead of a reset.
  const std::int64_t now = net::now_ns();
  const std::size_t most = kind_.max_messages_per_second;
  conn.recent.push_back(now);
  while (conn.recent.size() > most + 1) conn.recent.pop_front();
  if (conn.recent.size() > most && now - conn.recent.front() < kSecondNs) {
    peer.close_code(1008);
    return;
  }

  simdjson::dom::element doc;
  if (parser_.parse(text.data(), text.size()).get(doc)) {
    reply_error(peer, 3, "Invalid JSON: expected value at line 1 column 1", "null");
    return;
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) {
    reply_error(peer, 2, "Invalid request: expected a JSON object", "null");
    return;
  }
  std::string id = "null";
  if (simdjson::dom::element idv; !obj["id"].get(idv) && !idv.is_null()) {
    std::uint64_t n = 0;
    if (idv.get(n)) {
      reply_error(peer, 2, "Invalid request: request ID must be an unsigned integer", "null");
      return;
    }
    id = std::to_string(n);
  }
  std::string_view method;
  if (obj["method"].get(method)) {
    reply_error(peer, 2, "Invalid request: missing field `method`", id);
    return;
  }
  if (method == "LIST_SUBSCRIPTIONS") {
    std::string out = R"({"result":[)";
    for (const std::string& s : conn.streams) out += (out.back() == '[' ? "\"" : ",\"") + s + "\"";
    peer.send(out + R"(],"id":)" + id + "}");
    return;
  }
  if (method == "SET_PROPERTY" || method == "GET_PROPERTY") {
    reply_error(peer, 0, "Unknown property", id);
    return;
  }
  if (method != "SUBSCRIBE" && method != "UNSUBSCRIBE") {
    reply_error(peer, 2,
                "Invalid request: unknown variant `" + std::string(method) +
                    "`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, "
                    "`GET_PROPERTY`",
                id);
    return;
  }
  simdjson::dom::array params;
  std::vector<std::string> names;
  bool ok = !obj["params"].get(params);
  if (ok) {
    for (simdjson::dom::element e : params) {
      std::string_view s;
      if (e.get(s)) {
        ok = false;
        break;
      }
      names.emplace_back(s);
    }
  }
  if (!ok) {
    reply_error(peer, 2, "Invalid request: params must be an array of stream names", id);
    return;
  }
  if (!subscribe(peer, conn, names, method == "SUBSCRIBE")) {
    reply_error(peer, 2,
                "Invalid request: too many streams: at most " + std::to_string(kMaxStreams) + " on one connection", id);
    return;
  }
  peer.send(R"({"result":null,"id":)" + id + "}");
}

void BinancePiece::on_tick(std::int64_t now_ns) {
  if (now_ns - kept_ns_ >= kSecondNs) {  // the truth of about a second ago, for stale_snapshot
    for (std::size_t i = 0; i < kept_.size(); ++i) {
      const auto b = market_.bids(i), a = market_.asks(i);
      kept_[i].last_update_id = last_u_[i];
      kept_[i].bids.assign(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(std::min(kMaxLimit, b.size())));
      kept_[i].asks.assign(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(std::min(kMaxLimit, a.size())));
    }
    kept_ns_ = now_ns;
  }
  const bool prune = now_ns - last_prune_ns_ >= kSecondNs;
  std::set<std::uint64_t> alive;
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (!p || p->closed || p->piece != this) continue;
    if (prune) alive.insert(p->id);
    Conn& conn = conns_[p->id];
    // A stalled server is silent: no pings, and no deadline for the pongs it does not ask for.
    if (p->stalled(now_ns)) {
      conn.last_ping_ns = now_ns;
      conn.awaiting_pong_since_ns = 0;
      continue;
    }
    // The connection's life: a clean close (1000, a normal closure) rather than a reset,
    // because the cut is planned, not a failure, and a client should see it as such (and
    // reconnect at once, without backing off as after an error).
    if (now_ns - p->opened_ns >= life_ns_) {
      p->close_code(1000);
      continue;
    }
    if (conn.awaiting_pong_since_ns != 0 && p->last_pong_ns >= conn.awaiting_pong_since_ns) {
      conn.awaiting_pong_since_ns = 0;
    }
    // No pong in time: the server takes the client for dead and drops the TCP connection
    // (a close handshake would wait on the peer it thinks is gone).
    if (conn.awaiting_pong_since_ns != 0 && now_ns - conn.awaiting_pong_since_ns >= pong_ns_) {
      p->close_abrupt();
      continue;
    }
    if (now_ns - conn.last_ping_ns >= ping_ns_) {
      p->ping(std::to_string(now_ns / 1'000'000));  // the payload: the time in ms, as the venue's
      conn.last_ping_ns = now_ns;
      if (conn.awaiting_pong_since_ns == 0) conn.awaiting_pong_since_ns = now_ns;
    }
  }
  if (prune) {
    last_prune_ns_ = now_ns;
    std::erase_if(conns_, [&](const auto& kv) { return alive.count(kv.first) == 0; });
  }
}

// ---- market ---------------------------------------------------------------------------

void BinancePiece::on_change(const Change& c) {
  const std::size_t i = c.symbol;
  const SymbolSpec& s = market_.spec(i);
  bool any = false;
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (p && !p->closed && p->piece == this && p->subscribed[i] != 0) any = true;
  }
  // skip_sequence: the ids jump as if events had been sent that were not (a gap with no data
  // lost). Taken only while someone listens, so that the gap shows on the wire.
  if (any) {
    if (auto f = host_.take_fault(*this, s.name, {FaultKind::kSkipSequence}, 0)) last_u_[i] += f->arg > 0 ? f->arg : 5;
  }
  // The ids move on every change, listened to or not, so a snapshot's lastUpdateId is always
  // the u of the event that brought the truth to it.
  const std::int64_t pu = last_u_[i];
  std::int64_t first = pu + 1;
  if (kind_.usdm && rng_.percent(kUsdmSkipPercent)) first += 1 + static_cast<std::int64_t>(rng_.below(3));
  const std::int64_t last = first + static_cast<std::int64_t>(rng_.below(3));
  last_u_[i] = last;
  if (!any) return;

  const std::string ms = std::to_string(net::now_ns() / 1'000'000);
  std::string data = R"({"e":"depthUpdate","E":)" + ms;
  if (kind_.usdm) data += R"(,"T":)" + ms;
  data += R"(,"s":")" + s.name + R"(","U":)" + std::to_string(first) + R"(,"u":)" + std::to_string(last);
  if (kind_.usdm) data += R"(,"pu":)" + std::to_string(pu);
  for (const Side side : {Side::kBid, Side::kAsk}) {
    data += side == Side::kBid ? R"(,"b":[)" : R"(],"a":[)";
    bool first_level = true;
    for (const LevelDelta& d : c.deltas) {
      if (d.side != side) continue;
      if (!first_level) data += ',';
      first_level = false;
      data += "[\"" + format_fixed(d.price, s.price_scale) + "\",\"" + format_fixed(d.qty, s.qty_scale) + "\"]";
    }
  }
  data += "]}";
  for (const auto& w : host_.all_peers()) {
    auto p = w.lock();
    if (!p || p->closed || p->piece != this || p->subscribed[i] == 0) continue;
    for (const int stream : {kDepth, kDepth100ms}) {
      if ((p->subscribed[i] & stream) == 0) continue;
      ++stats_.book_messages;
      // Every event's ids are checked (U against the last u, or pu): any loss shows.
      host_.deliver(
          *p, i,
          R"({"stream":")" + lower_[i] + (stream == kDepth ? "@depth" : "@depth@100ms") + R"(","data":)" + data + "}",
          /*visible=*/true);
    }
  }
}

// ---- REST -----------------------------------------------------------------------------

bool BinancePiece::on_rest(const HttpRequest& req, std::string_view path, std::string_view target, HttpResponse& res) {
  (void)path;
  if (req.method() != http::verb::get) return false;
  const std::int64_t now = net::now_ns();
  if (const std::int64_t minute = now / kMinuteNs; minute != minute_) {
    minute_ = minute;
    used_weight_ = 0;
  }
  const auto answer = [&](http::status status, std::string body) {
    res.result(status);
    res.set("X-MBX-USED-WEIGHT-1M", std::to_string(used_weight_));
    res.body() = std::move(body);
    return true;
  };
  // A request during a 429's Retry-After earns the ban (418), which outlasts it; a request
  // during the ban is refused the same way.
  if (now < retry_until_ns_ || now < ban_until_ns_) {
    if (now >= ban_until_ns_) ban_until_ns_ = std::max(retry_until_ns_, now) + kBanNs;
    res.set(http::field::retry_after, seconds_until(ban_until_ns_, now));
    return answer(http::status{418}, R"({"code":-1003,"msg":"Way too much request weight used; IP banned until )" +
                                         std::to_string(ban_until_ns_ / 1'000'000) +
                                         R"(. Please use WebSocket Streams for live updates to avoid bans."})");
  }
  // The parameters, checked in the venue's order; a refused request uses no weight here.
  const auto symbol = query(target, "symbol");
  if (!symbol || symbol->empty()) {
    return answer(http::status::bad_request,
                  R"({"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."})");
  }
  std::int64_t limit = kind_.default_limit;
  if (const auto text = query(target, "limit"); text) {
    const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || p != text->data() + text->size()) limit = 0;
  }
  const int w = weight(kind_, limit);
  if (w == 0) {
    return answer(http::status::bad_request,
                  R"({"code":-1100,"msg":"Illegal characters found in parameter 'limit'; legal range is ')" +
                      std::string(kind_.legal_limits) + R"('."})");
  }
  const auto i = symbol_index(market_, *symbol);
  if (!i) return answer(http::status::bad_request, R"({"code":-1121,"msg":"Invalid symbol."})");
  used_weight_ += w;
  if (used_weight_ > kind_.weight_limit) {
    retry_until_ns_ = (minute_ + 1) * kMinuteNs;  // the window ends with the clock's minute
    res.set(http::field::retry_after, seconds_until(retry_until_ns_, now));
    return answer(
        http::status::too_many_requests,
        R"({"code":-1003,"msg":"Too much request weight used; current limit is )" + std::to_string(kind_.weight_limit) +
            R"( request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."})");
  }
  // The faults answer once and leave no state behind (a rest_429 does not start a ban).
  if (auto f = host_.take_fault(*this, *symbol, {FaultKind::kRest429, FaultKind::kRest418, FaultKind::kRest500}, 0)) {
    if (f->kind == FaultKind::kRest429) {
      res.set(http::field::retry_after, "1");
      return answer(http::status::too_many_requests, R"({"code":-1003,"msg":"Too many requests (simulated)."})");
    }
    if (f->kind == FaultKind::kRest418) {
      res.set(http::field::retry_after, seconds_until(now + kBanNs, now));
      return answer(http::status{418}, R"({"code":-1003,"msg":"Way too many requests; IP banned (simulated)."})");
    }
    return answer(http::status::internal_server_error,
                  R"({"code":-1000,"msg":"An unknown error occurred while processing the request."})");
  }
  ++stats_.snapshots_served;
  const auto n = std::min(kMaxLimit, static_cast<std::size_t>(limit));
  const Kept& kept = kept_[*i];
  if (kept.last_update_id != 0 && kept.last_update_id < last_u_[*i] &&
      host_.take_fault(*this, *symbol, {FaultKind::kStaleSnapshot}, 0)) {
    return answer(http::status::ok, snapshot_json(kept.last_update_id, kept.bids, kept.asks, *i, n));
  }
  return answer(http::status::ok, snapshot_json(last_u_[*i], market_.bids(*i), market_.asks(*i), *i, n));
}

std::string BinancePiece::snapshot_json(std::int64_t last_update_id, std::span<const Level> bids,
                                        std::span<const Level> asks, std::size_t i, std::size_t limit) const {
  const SymbolSpec& s = market_.spec(i);
  std::string out = R"({"lastUpdateId":)" + std::to_string(last_update_id);
  if (kind_.usdm) {
    const std::string ms = std::to_string(net::now_ns() / 1'000'000);
    out += R"(,"E":)" + ms + R"(,"T":)" + ms;
  }
  for (int side = 0; side < 2; ++side) {
    const std::span<const Level> levels = side == 0 ? bids : asks;
    out += side == 0 ? R"(,"bids":[)" : R"(],"asks":[)";
    const std::size_t n = std::min(limit, levels.size());
    for (std::size_t k = 0; k < n; ++k) {
      if (k) out += ',';
      out += "[\"" + format_fixed(levels[k].price, s.price_scale) + "\",\"" + format_fixed(levels[k].qty, s.qty_scale) +
             "\"]";
    }
  }
  out += "]}";
  return out;
}

// ---- factories ------------------------------------------------------------------------

// spec: a bundled book with the venue's tick (in price units).
SymbolSpec spec(const char* name, int price_scale, int qty_scale, std::int64_t mid, std::int64_t tick) {
  SymbolSpec s = bundled_spec(name, price_scale, qty_scale, mid);
  s.tick = tick;
  return s;
}
// Spot writes every price and quantity with 8 decimals ("65000.01000000", "0.35130000"),
// on a 0.01 tick; USD-M with the contract's own precision ("65000.10", "0.005").
std::vector<SymbolSpec> spot_symbols() {
  return {spec("BTCUSDT", 8, 8, 6'500'001'000'000, 1'000'000), spec("ETHUSDT", 8, 8, 345'012'000'000, 1'000'000),
          spec("SOLUSDT", 8, 8, 14'567'000'000, 1'000'000)};
}
std::vector<SymbolSpec> usdm_symbols() {
  return {spec("BTCUSDT", 2, 3, 6'500'010, 10), spec("ETHUSDT", 2, 3, 345'012, 1),
          spec("SOLUSDT", 4, 2, 1'456'700, 100)};
}
// Different streams from the other venues', and from each other, under one SimConfig::seed.
std::uint64_t spot_seed(std::uint64_t seed) { return seed * 104'729 + 3; }
std::uint64_t usdm_seed(std::uint64_t seed) { return seed * 104'729 + 5; }
std::unique_ptr<VenuePiece> make_spot(SimHost& host, Market& market) {
  return std::make_unique<BinancePiece>(kSpot, host, market);
}
std::unique_ptr<VenuePiece> make_usdm(SimHost& host, Market& market) {
  return std::make_unique<BinancePiece>(kUsdm, host, market);
}

}  // namespace

const VenuePieceFactory& binance_venue_piece() {
  static const VenuePieceFactory factory{
      .name = kSpot.name,
      .display_name = "Binance",
      .own_faults = kOwnFaults,
      .default_symbols = spot_symbols,
      .market_seed = spot_seed,
      .make = make_spot,
      .absorbable = kAbsorbable,
      .entry_note = " (GET /api/v3/depth)",
  };
  return factory;
}

const VenuePieceFactory& binance_usdm_venue_piece() {
  static const VenuePieceFactory factory{
      .name = kUsdm.name,
      .display_name = "Binance USD-M",
      .own_faults = kOwnFaults,
      .default_symbols = usdm_symbols,
      .market_seed = usdm_seed,
      .make = make_usdm,
      .absorbable = kAbsorbable,
      .entry_note = " (GET /fapi/v1/depth)",
  };
  return factory;
}

}  // namespace obr::sim
