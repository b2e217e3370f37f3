// connectors/net/event_loop.cpp — EventLoop and Timer over Asio.
#include "connectors/net/event_loop.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <utility>

namespace obr::net {

EventLoop::EventLoop() : io_(std::make_unique<boost::asio::io_context>(1)) {}
EventLoop::~EventLoop() = default;

void EventLoop::run() {
  auto guard = boost::asio::make_work_guard(*io_);
  io_->run();
}
void EventLoop::run_for(std::int64_t ns) { io_->run_for(std::chrono::nanoseconds(ns)); }
void EventLoop::stop() { io_->stop(); }
void EventLoop::restart() { io_->restart(); }
bool EventLoop::stopped() const { return io_->stopped(); }
void EventLoop::post(std::function<void()> fn) { boost::asio::post(*io_, std::move(fn)); }
boost::asio::io_context& EventLoop::context() noexcept { return *io_; }

struct Timer::Impl {
  explicit Impl(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::uint64_t generation = 0;  // a stale completion (replaced or cancelled) is ignored
};

Timer::Timer(EventLoop& loop) : impl_(std::make_shared<Impl>(loop.context())) {}
Timer::~Timer() { cancel(); }

void Timer::start_after(std::int64_t ns, std::function<void()> fn) {
  Impl& im = *impl_;
  const std::uint64_t gen = ++im.generation;
  im.timer.expires_after(std::chrono::nanoseconds(ns < 0 ? 0 : ns));
  std::weak_ptr<Impl> weak = impl_;
  im.timer.async_wait([weak, gen, fn = std::move(fn)](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec || self->generation != gen) return;
    fn();
  });
}

void Timer::cancel() {
  ++impl_->generation;
  impl_->timer.cancel();
}

std::int64_t now_ns() noexcept {
  using namespace std::chrono;
  static const std::int64_t offset = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count() -
                                     duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
  return offset + duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace obr::net
