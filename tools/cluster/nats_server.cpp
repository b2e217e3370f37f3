// tools/cluster/nats_server.cpp — see nats_server.h.
#include "tools/cluster/nats_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

namespace obr::tools {
namespace {

bool http_ok(std::uint16_t port, const char* path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = std::string("GET ") + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[64] = {};
      const ssize_t n = ::read(fd, buf, sizeof buf - 1);
      ok = n > 12 && std::strncmp(buf + 9, "200", 3) == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

bool wait_for_port(std::uint16_t port, int timeout_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::uint16_t NatsServer::free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool NatsServer::on_path() { return std::system("command -v nats-server >/dev/null 2>&1") == 0; }

NatsServer::NatsServer(NatsServerOptions options) : options_(std::move(options)) {
  if (options_.port == 0) options_.port = free_port();
  monitor_port_ = free_port();
  if (options_.log_file.empty()) options_.log_file = options_.store_dir + "/server.log";
}

NatsServer::~NatsServer() { kill(); }

std::string NatsServer::url() const { return "nats://127.0.0.1:" + std::to_string(options_.port); }

bool NatsServer::start(std::string& error, bool wait) {
  if (running()) return true;
  if (!on_path()) {
    error = "nats-server not found on PATH (Debian package nats-server; scripts/setup.sh installs it)";
    return false;
  }
  std::vector<std::string> args = {"nats-server", "-js",
                                   "-sd",         options_.store_dir,
                                   "-a",          "127.0.0.1",
                                   "-p",          std::to_string(options_.port),
                                   "-m",          std::to_string(monitor_port_)};
  if (!options_.cluster_name.empty()) {
    args.insert(args.end(), {"--server_name", options_.server_name, "--cluster_name", options_.cluster_name,
                             "--cluster", "nats://127.0.0.1:" + std::to_string(options_.cluster_port)});
    std::string routes;
    for (std::uint16_t r : options_.routes) {
      if (!routes.empty()) routes += ",";
      routes += "nats://127.0.0.1:" + std::to_string(r);
    }
    args.insert(args.end(), {"--routes", routes});
  }
  process_ = std::make_unique<ChildProcess>(std::move(args), options_.log_file);
  if (!process_->start(error)) return false;
  return !wait || wait_ready(error);
}

bool NatsServer::wait_ready(std::string& error, int timeout_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (!process_ || process_->exited()) {
      error = "nats-server exited at start: " + (process_ ? process_->last_log_line() : std::string("not started"));
      return false;
    }
    if (http_ok(monitor_port_, "/healthz")) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  error = "nats-server did not become ready in time: " + process_->last_log_line();
  kill();
  return false;
}

void NatsServer::stop() {
  if (process_) process_->terminate(5000);
}

void NatsServer::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait(5000);
}

}  // namespace obr::tools
