// tests/integration/websocket_client_test.cpp — WebSocketClient's promise to its listener:
// on_close never arrives inside the listener's own send(), close() or connect() call (a
// session that sends in the middle of a frame must not be torn down under itself), and it
// arrives exactly once, with the reason, from the loop. Against the simulator on loopback.
#include "connectors/net/websocket_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/net/event_loop.h"
#include "tools/sim/simulator.h"

namespace {

using obr::net::EventLoop;
using obr::net::WebSocketClient;
using obr::net::WsOptions;

constexpr std::int64_t kMs = 1'000'000;

// Records every callback and whether it came while the test was inside a client call.
class Recorder : public obr::net::WsListener {
 public:
  void on_open() override {
    ++opens;
    if (on_open_action) on_open_action();
  }
  void on_message(std::string_view, std::int64_t) override {
    if (on_message_action) on_message_action();
  }
  void on_close(std::string_view reason) override {
    closes.emplace_back(reason);
    if (inside_call) ++nested_closes;
  }
  std::function<void()> on_open_action;
  std::function<void()> on_message_action;
  bool inside_call = false;
  int opens = 0;
  int nested_closes = 0;
  std::vector<std::string> closes;
};

class WebSocketClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    obr::sim::SimConfig sc;
    sc.tls = false;
    sim_ = std::make_unique<obr::sim::Simulator>(loop_, sc);
    std::string error;
    ASSERT_TRUE(sim_->start(error)) << error;
  }
  void run_until(const std::function<bool()>& done, int ms) {
    for (int i = 0; i < ms / 10 && !done(); ++i) loop_.run_for(10 * kMs);
  }
  // expect_closed_once: on_close arrives from the loop (never nested in a client call),
  // once, with `reason`, and no second one follows.
  void expect_closed_once(const Recorder& rec, const std::string& reason) {
    run_until([&] { return !rec.closes.empty(); }, 5000);
    EXPECT_EQ(rec.nested_closes, 0);
    EXPECT_EQ(rec.closes, std::vector<std::string>{reason});
    loop_.run_for(100 * kMs);
    EXPECT_EQ(rec.closes.size(), 1u);
  }
  EventLoop loop_;
  std::unique_ptr<obr::sim::Simulator> sim_;
};

TEST_F(WebSocketClientTest, AFullSendQueueClosesFromTheLoopNotInsideSend) {
  Recorder rec;
  WsOptions options;
  options.max_queued_frames = 2;
  WebSocketClient ws(loop_, options, rec);
  std::vector<bool> sent;
  rec.on_open_action = [&] {
    // One write goes out at once and stays in flight until the loop runs, so the queue
    // holds 1, then 2; the third frame finds it full.
    rec.inside_call = true;
    for (int i = 0; i < 3; ++i) sent.push_back(ws.send(R"({"method":"ping"})"));
    sent.push_back(ws.send(R"({"method":"ping"})"));  // refused: the connection is closing
    rec.inside_call = false;
  };
  ws.connect(sim_->url("kraken"));
  expect_closed_once(rec, "send queue full (the peer stopped reading)");
  EXPECT_EQ(rec.opens, 1);
  EXPECT_EQ(sent, (std::vector<bool>{true, true, false, false}));
  EXPECT_FALSE(ws.is_open());
}

// The shape of a session's on_frame (or on_tick) answering with frames: the listener is
// inside on_message when its send finds the queue full. on_close must follow from the
// loop once on_message has returned (before, the engine's Conn::on_close and with it
// session.on_disconnected ran nested inside the session's send_frame, in the middle of a
// frame), exactly once, and no message may reach the listener after its refused send.
TEST_F(WebSocketClientTest, AFullSendQueueInsideOnMessageClosesAfterTheMessageReturns) {
  Recorder rec;
  WsOptions options;
  options.max_queued_frames = 1;
  WebSocketClient ws(loop_, options, rec);
  std::vector<bool> sent;
  int messages = 0, messages_after_refusal = 0;
  bool refused = false;
  rec.on_message_action = [&] {
    ++messages;
    if (refused) ++messages_after_refusal;
    if (messages > 1) return;
    rec.inside_call = true;  // the simulator's first message (Kraken's status)
    for (int i = 0; i < 3; ++i) sent.push_back(ws.send(R"({"method":"ping"})"));
    refused = !sent.back();
    rec.inside_call = false;
  };
  ws.connect(sim_->url("kraken"));
  expect_closed_once(rec, "send queue full (the peer stopped reading)");
  EXPECT_EQ(rec.opens, 1);
  EXPECT_EQ(sent, (std::vector<bool>{true, false, false}));
  EXPECT_EQ(messages_after_refusal, 0);
}

// Closing with a write in flight (the read loop always is): the close handshake is bounded
// by the WebSocket stream's own timeout, never by re-arming the TCP stream's timer under two
// pending operations (a Beast precondition; its assertion fired under TSan).
TEST_F(WebSocketClientTest, CloseWithAReadAndAWriteInFlightClosesCleanlyOnce) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  ws.connect(sim_->url("kraken"));
  run_until([&] { return rec.opens == 1; }, 5000);
  ASSERT_EQ(rec.opens, 1);
  // Between loop turns, as from the engine's timers: the read loop is waiting, and the
  // sends start a write.
  rec.inside_call = true;
  EXPECT_TRUE(ws.send(R"({"method":"ping"})"));
  EXPECT_TRUE(ws.send(R"({"method":"ping"})"));
  ws.close("done");
  EXPECT_FALSE(ws.send(R"({"method":"ping"})"));
  rec.inside_call = false;
  expect_closed_once(rec, "done");
}

TEST_F(WebSocketClientTest, CloseWhileConnectingReportsFromTheLoopWithItsReason) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  ws.connect(sim_->url("kraken"));
  rec.inside_call = true;
  ws.close("stopping");
  EXPECT_FALSE(ws.send("{}"));
  rec.inside_call = false;
  EXPECT_TRUE(rec.closes.empty());
  expect_closed_once(rec, "stopping");
  EXPECT_EQ(rec.opens, 0);
}

// An empty reason is still the first one: a second close() does not replace it, and no
// handler of the cancelled connection attempt does either.
TEST_F(WebSocketClientTest, AnEmptyCloseReasonIsKeptAndReportedOnce) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  ws.connect(sim_->url("kraken"));
  ws.close("");
  ws.close("second");
  expect_closed_once(rec, "");
  EXPECT_EQ(rec.opens, 0);
}

TEST_F(WebSocketClientTest, ABadUrlIsReportedAfterConnectReturns) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  rec.inside_call = true;
  ws.connect("http://127.0.0.1/v2");
  rec.inside_call = false;
  EXPECT_TRUE(rec.closes.empty());
  expect_closed_once(rec, "bad WebSocket URL 'http://127.0.0.1/v2' (want ws://host[:port]/path or wss://...)");
}

TEST_F(WebSocketClientTest, DestroyingTheClientBeforeTheLoopRunsCallsNoOne) {
  Recorder rec;
  {
    WebSocketClient ws(loop_, WsOptions{}, rec);
    ws.connect("nonsense");
  }
  loop_.run_for(100 * kMs);
  EXPECT_TRUE(rec.closes.empty());
}

// RawPeer: a WebSocket server on loopback, on a thread of its own (plain blocking sockets),
// that answers one client's opening handshake and then never reads again, until destroyed.
// A client writing to it fills the socket buffers and its write never completes.
// With `hold_answer`, it reads the client's handshake request and waits for answer()
// before it sends the 101 response: the client stays inside its handshake for as long as
// a test wants (request_seen() says when it got there).
class RawPeer {
 public:
  // `frames`: text frames sent with the handshake answer (in the same write, so they are
  // all in the client's socket when it reads the first).
  explicit RawPeer(bool hold_answer = false, std::vector<std::string> frames = {})
      : hold_answer_(hold_answer), frames_(std::move(frames)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 1) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RawPeer() {
    ::shutdown(listener_, SHUT_RDWR);  // wakes accept() if no client came
    ::close(listener_);
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return port_; }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/"; }
  bool request_seen() {
    std::lock_guard lock(mutex_);
    return request_seen_;
  }
  // answer releases a held 101 response and returns once it has been written (on
  // loopback, in the client's socket by then).
  void answer() {
    std::unique_lock lock(mutex_);
    answer_ = true;
    wake_.notify_all();
    wake_.wait(lock, [this] { return answered_ || done_; });
  }

 private:
  void serve() {
    const int conn = ::accept(listener_, nullptr, nullptr);
    if (conn < 0) return;
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    // Sec-WebSocket-Accept: base64(SHA-1(key + the RFC 6455 GUID)).
    const std::string field = "Sec-WebSocket-Key: ";
    const std::size_t at = request.find(field);
    const std::size_t end = at == std::string::npos ? at : request.find("\r\n", at);
    const std::string key =
        (at == std::string::npos ? std::string() : request.substr(at + field.size(), end - at - field.size())) +
        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    unsigned char accept[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    EVP_EncodeBlock(accept, digest, SHA_DIGEST_LENGTH);
    std::string response =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        std::string(reinterpret_cast<char*>(accept)) + "\r\n\r\n";
    for (const std::string& f : frames_) {  // unmasked text frames (server to client), < 126 bytes
      response += static_cast<char>(0x81);
      response += static_cast<char>(f.size());
      response += f;
    }
    std::unique_lock lock(mutex_);
    request_seen_ = true;
    if (hold_answer_) wake_.wait(lock, [this] { return answer_ || done_; });
    [[maybe_unused]] const ssize_t sent = ::send(conn, response.data(), response.size(), MSG_NOSIGNAL);
    answered_ = true;
    wake_.notify_all();
    wake_.wait(lock, [this] { return done_; });  // never reads again
    ::close(conn);
  }

  const bool hold_answer_;
  const std::vector<std::string> frames_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool request_seen_ = false;
  bool answer_ = false;
  bool answered_ = false;
  bool done_ = false;
};

// A peer that stops reading (and so never answers a close either): the client's write
// never completes, and Beast's close handshake waits behind it (the close frame cannot go
// out, so Beast's own handshake timeout never starts). close() still ends the connection,
// with its reason, from the client's own close timer (3 s; with a 30 s timer this fails).
TEST_F(WebSocketClientTest, CloseWhileAWriteIsStuckOnAPeerThatStoppedReadingStillCloses) {
  RawPeer peer;
  ASSERT_NE(peer.port(), 0);
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  ws.connect(peer.url());
  run_until([&] { return rec.opens == 1; }, 5000);
  ASSERT_EQ(rec.opens, 1);
  // 64 MiB: more than loopback's socket buffers hold (a few MiB each way).
  const std::string megabyte(1 << 20, 'x');
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(ws.send(megabyte));
  loop_.run_for(300 * kMs);  // the first frames go out; then the write stalls
  EXPECT_TRUE(rec.closes.empty());
  ws.close("deaf peer");
  expect_closed_once(rec, "deaf peer");
  EXPECT_FALSE(ws.is_open());
}

// The window between the peer's handshake answer and on_open: close() is called once the
// client has sent its handshake request (as Conn::shutdown does when the engine stops
// while a connection is opening), and the peer's 101 answer is already in the client's
// socket when the loop next runs. No on_open may follow the close; on_close comes once,
// with the close's reason, and send() refuses throughout. (On the loop's one thread the
// failure close() posts runs before the handshake's read completes, so this is fail()
// cancelling a handshake whose answer has arrived; the `failing_` check in on_handshake
// is a second line that no single-threaded order of handlers reaches.)
TEST_F(WebSocketClientTest, CloseWhileTheHandshakeAnswerIsArrivingDeliversNoOpen) {
  RawPeer peer(/*hold_answer=*/true);
  ASSERT_NE(peer.port(), 0);
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  ws.connect(peer.url());
  run_until([&] { return peer.request_seen(); }, 5000);
  ASSERT_TRUE(peer.request_seen());
  loop_.run_for(20 * kMs);  // nothing more for the client to do until the answer comes
  ASSERT_EQ(rec.opens, 0);
  rec.inside_call = true;
  ws.close("engine stopping");
  EXPECT_FALSE(ws.send("{}"));
  rec.inside_call = false;
  peer.answer();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  expect_closed_once(rec, "engine stopping");
  EXPECT_EQ(rec.opens, 0);
  EXPECT_FALSE(ws.is_open());
}

// Messages already in the client's socket when the listener calls close() are not
// delivered: once a listener has closed a connection, nothing more of it reaches the
// listener but its on_close (the engine stopping mid-stream once showed a book going live
// from a snapshot read during the close handshake). The peer never answers the close, so
// the client's close timer ends it.
TEST_F(WebSocketClientTest, NoMessageReachesTheListenerAfterItsClose) {
  RawPeer peer(/*hold_answer=*/false, {R"({"n":1})", R"({"n":2})", R"({"n":3})"});
  ASSERT_NE(peer.port(), 0);
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  int messages = 0;
  rec.on_message_action = [&] {
    if (++messages > 1) return;
    rec.inside_call = true;
    ws.close("enough");
    rec.inside_call = false;
  };
  ws.connect(peer.url());
  expect_closed_once(rec, "enough");
  EXPECT_EQ(rec.opens, 1);
  EXPECT_EQ(messages, 1);
  EXPECT_EQ(ws.messages_received(), 3u);
  EXPECT_EQ(ws.messages_discarded(), 2u);
}

// close() from inside on_open: the read loop starts after on_open returns, behind the
// close handshake. One on_close with the close's reason, nothing after it.
TEST_F(WebSocketClientTest, CloseInsideOnOpenClosesOnceWithItsReason) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  rec.on_open_action = [&] {
    rec.inside_call = true;
    ws.close("changed my mind");
    EXPECT_FALSE(ws.send("{}"));
    rec.inside_call = false;
  };
  ws.connect(sim_->url("kraken"));
  expect_closed_once(rec, "changed my mind");
  EXPECT_EQ(rec.opens, 1);
}

// connect() again while the previous attempt is still closing (its on_close posted, not
// yet delivered): the old attempt is dropped without a callback, so the listener sees only
// the new connection: one on_open, then one on_close for it.
TEST_F(WebSocketClientTest, ConnectAgainWhileTheFirstAttemptIsClosingReportsOnlyTheNewOne) {
  Recorder rec;
  WebSocketClient ws(loop_, WsOptions{}, rec);
  ws.connect(sim_->url("kraken"));
  ws.close("first");
  ws.connect(sim_->url("kraken"));
  run_until([&] { return rec.opens == 1; }, 5000);
  ASSERT_EQ(rec.opens, 1);
  loop_.run_for(100 * kMs);
  EXPECT_TRUE(rec.closes.empty());
  EXPECT_TRUE(ws.is_open());
  ws.close("second");
  expect_closed_once(rec, "second");
  EXPECT_EQ(rec.opens, 1);
}

// Destroying the client while its handshake is in flight (the engine destroyed while a
// connection opens): the handshake's completion finds the connection dropped and calls no
// one (under ASan: touches nothing freed).
TEST_F(WebSocketClientTest, DestroyingTheClientDuringTheHandshakeCallsNoOne) {
  RawPeer peer(/*hold_answer=*/true);
  ASSERT_NE(peer.port(), 0);
  Recorder rec;
  {
    WebSocketClient ws(loop_, WsOptions{}, rec);
    ws.connect(peer.url());
    run_until([&] { return peer.request_seen(); }, 5000);
    ASSERT_TRUE(peer.request_seen());
    peer.answer();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  loop_.run_for(200 * kMs);
  EXPECT_EQ(rec.opens, 0);
  EXPECT_TRUE(rec.closes.empty());
}

}  // namespace
