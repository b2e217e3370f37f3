// connectors/net/websocket_client.h — one WebSocket connection (ws:// or wss://) on
// Boost.Beast, with Beast kept out of the header.
//
//   class Feed : public obr::net::WsListener { ... };
//   obr::net::WebSocketClient ws(loop, options, feed);
//   ws.connect("wss://ws.kraken.com/v2");   // -> feed.on_open() or feed.on_close(reason)
//   ws.send(R"({"method":"ping"})");
//
// Shape (the Beast async-ssl client): resolve → TCP connect → TLS handshake with SNI and
// host-name verification → WebSocket handshake → one read loop; one write in flight with
// a bounded queue; an explicit maximum message size (a larger message closes the connection
// with an error, it is never buffered); every step has a timeout. `operation_aborted` is a
// normal shutdown, not an error.
//
// PERFORMANCE: the read buffer is reused; a message is handed to on_message as a view into
// it (valid during the call), so steady-state reads allocate nothing. send() copies the
// frame into the queue (control path: subscribe, ping).
//
// Thread-safety: one connection per strand; all calls and callbacks on the loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/net/event_loop.h"
#include "connectors/net/tls.h"

namespace obr::net {

struct WsOptions {
  std::size_t max_message_bytes = 4u << 20;          // larger messages close the connection
  std::size_t max_queued_frames = 4096;              // send() beyond this fails (and closes)
  std::int64_t connect_timeout_ns = 10'000'000'000;  // resolve + connect + handshakes
  TlsOptions tls;
};

// WsListener receives one connection's events on the loop's thread. After on_close the
// connection may be connected again.
class WsListener {
 public:
  virtual ~WsListener() = default;
  virtual void on_open() = 0;
  // on_message: one complete text or binary message; `recv_ns` from net::now_ns().
  virtual void on_message(std::string_view message, std::int64_t recv_ns) = 0;
  // on_close: the connection ended (or never opened); `reason` says why.
  virtual void on_close(std::string_view reason) = 0;
};

class WebSocketClient {
 public:
  WebSocketClient(EventLoop& loop, const WsOptions& options, WsListener& listener);
  ~WebSocketClient();  // closes without calling the listener
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // connect starts a connection to `url` (a bad URL is reported through on_close, from the
  // loop once connect has returned). Any previous connection is dropped first without a
  // callback.
  void connect(std::string_view url);
  // send queues a text frame; false when not open or the queue is full (the connection is
  // then closed: a peer that stopped reading is a dead peer). on_close is never called from
  // inside send() or close(): it follows from the loop, after the caller has returned.
  bool send(std::string_view text);
  // close starts a clean close (WebSocket close frame); on_close follows. From close() on,
  // no on_message is delivered: messages read during the close handshake are discarded
  // and counted (messages_discarded).
  void close(std::string_view reason);
  bool is_open() const noexcept;
  std::uint64_t bytes_received() const noexcept;
  std::uint64_t messages_received() const noexcept;
  std::uint64_t messages_discarded() const noexcept;

  class Impl;  // internal: one connection attempt (Beast stream, queue)

 private:
  EventLoop& loop_;
  WsOptions options_;
  WsListener& listener_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace obr::net
