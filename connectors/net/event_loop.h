// connectors/net/event_loop.h — the I/O loop every obr connection and timer runs on, with
// Boost.Asio kept out of the header.
//
//   obr::net::EventLoop loop;
//   obr::net::Timer timer(loop);
//   timer.start_after(1'000'000'000, [] { ... });   // once, on the loop's thread
//   loop.run();                                       // until loop.stop()
//
// Thread-safety: run() on one thread; stop() and post() from any thread. Timer and the
// connections are used from the loop's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace obr::net {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // run processes handlers until stop() (returns at once if already stopped; call
  // restart() to run again).
  void run();
  // run_for processes handlers for at most `ns`, then returns.
  void run_for(std::int64_t ns);
  void stop();
  void restart();
  bool stopped() const;
  // post runs `fn` on the loop's thread, after the handlers already queued.
  void post(std::function<void()> fn);

  // context is the underlying io_context (for code that uses Asio directly: the simulator).
  boost::asio::io_context& context() noexcept;

 private:
  std::unique_ptr<boost::asio::io_context> io_;
};

// Timer fires a callback once, on the loop's thread. Starting it again replaces the
// pending callback; cancel() or destruction means it never fires.
class Timer {
 public:
  explicit Timer(EventLoop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start_after(std::int64_t ns, std::function<void()> fn);
  void cancel();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// now_ns: a monotonic clock expressed as Unix nanoseconds (wall time at process start plus
// steady time since), so recordings carry real times and timers never jump.
std::int64_t now_ns() noexcept;

}  // namespace obr::net
