// tests/connectors/session_test_util.h — a SessionSink that records everything, and
// helpers to read recordings and books, shared by the venue session tests.
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "book/decimal.h"
#include "connectors/protocol/session.h"

namespace obr::testing {

struct Transition {
  book::BookState from, to;
  connectors::StateReason why;
};

class RecordingSink : public connectors::SessionSink {
 public:
  void send_frame(std::string_view f) override { sent.emplace_back(f); }
  void book_updated(connectors::BookId, std::string_view, const book::OrderBook&, bool) override { ++updates; }
  void book_state_changed(connectors::BookId, std::string_view, book::BookState from, book::BookState to,
                          connectors::StateReason why) override {
    transitions.push_back({from, to, why});
  }
  void frame_error(connectors::FrameError e, std::string_view d) override {
    errors.push_back(e);
    details.emplace_back(d);
  }
  void venue_error(std::string_view s, std::string_view m) override {
    venue_errors.emplace_back(m);
    venue_error_symbols.emplace_back(s);
  }
  void venue_status(std::string_view s) override { statuses.emplace_back(s); }
  bool saw(connectors::StateReason why) const {
    return std::any_of(transitions.begin(), transitions.end(), [why](const Transition& t) { return t.why == why; });
  }

  std::vector<std::string> sent;
  std::vector<Transition> transitions;
  std::vector<connectors::FrameError> errors;
  std::vector<std::string> details;
  std::vector<std::string> venue_errors;
  std::vector<std::string> venue_error_symbols;
  std::vector<std::string> statuses;  // venue_status, in order
  int updates = 0;
};

// ActionSink also records the connection actions of a session that drives its connection
// (KuCoin, Binance): REST requests, connections opened and closed.
class ActionSink : public RecordingSink {
 public:
  void http_request(const connectors::HttpRequest& r) override { requests.push_back(r); }
  void open_connection(std::string_view url) override { opened.emplace_back(url); }
  void close_connection(std::string_view reason) override { closed.emplace_back(reason); }
  std::vector<connectors::HttpRequest> requests;
  std::vector<std::string> opened;
  std::vector<std::string> closed;
};

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// top10 renders the best 10 levels of a side as exact decimal text, best first.
inline std::vector<std::vector<std::string>> top10(const book::OrderBook& ob, bool bids) {
  std::vector<std::vector<std::string>> out;
  const std::size_t n = std::min<std::size_t>(10, bids ? ob.bids().size() : ob.asks().size());
  for (std::size_t i = 0; i < n; ++i) {
    const book::Level& l = bids ? ob.bids().at(i) : ob.asks().at(i);
    out.push_back({book::to_decimal_string(l.price, ob.price_scale()), book::to_decimal_string(l.qty, ob.qty_scale())});
  }
  return out;
}

}  // namespace obr::testing
