// engine/listener_tee.h — one engine Listener that hands every callback to several, in the
// order given (e.g. `obr run`'s log and the bus publisher).
//
//   obr::engine::ListenerTee tee({&log, bus_node});
//   obr::engine::Engine engine(config, &tee);
//
// Thread-safety: as the listeners it calls (the engine's thread).
#pragma once

#include <utility>
#include <vector>

#include "engine/engine.h"

namespace obr::engine {

class ListenerTee : public Listener {
 public:
  explicit ListenerTee(std::vector<Listener*> listeners = {}) : listeners_(std::move(listeners)) {}
  // add: one more listener, called after the others. Before the engine runs.
  void add(Listener* l) { listeners_.push_back(l); }

  void on_book(std::string_view venue, std::string_view symbol, const book::OrderBook& book, bool top_changed,
               std::int64_t recv_ns) override {
    for (Listener* l : listeners_) l->on_book(venue, symbol, book, top_changed, recv_ns);
  }
  void on_book_state(std::string_view venue, std::string_view symbol, book::BookState from, book::BookState to,
                     connectors::StateReason reason) override {
    for (Listener* l : listeners_) l->on_book_state(venue, symbol, from, to, reason);
  }
  void on_connection(std::string_view venue, ConnectionState state, std::string_view detail) override {
    for (Listener* l : listeners_) l->on_connection(venue, state, detail);
  }
  void on_error(const EngineError& error) override {
    for (Listener* l : listeners_) l->on_error(error);
  }
  void on_venue_status(std::string_view venue, std::string_view status) override {
    for (Listener* l : listeners_) l->on_venue_status(venue, status);
  }

 private:
  std::vector<Listener*> listeners_;
};

}  // namespace obr::engine
