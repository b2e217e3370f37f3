// tools/cluster/nats_server.h — a `nats-server` child process for tests and `obr
// cluster-demo`: JetStream on, loopback, a store directory of its own (docs/bus.md
// "Running a server"); single or one node of a cluster. Started from PATH, as nats.c's own
// tests do: fork/exec, then wait until the port answers.
//
//   obr::tools::NatsServer s({.store_dir = dir});
//   std::string error;
//   if (!s.start(error)) ...            // "nats-server not found on PATH" / its log's last line
//   s.url();                            // "nats://127.0.0.1:PORT"
//   s.stop();  s.start(error);          // a restart keeps the port and the store
//
// Thread-safety: one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tools/cluster/child_process.h"

namespace obr::tools {

struct NatsServerOptions {
  std::string store_dir;   // JetStream store (-sd); required
  std::uint16_t port = 0;  // 0: a free port, chosen once and kept across restarts
  std::string log_file;    // the server's output; empty: store_dir + "/server.log"
  // Cluster: this node's name, its cluster port and every node's cluster port (routes).
  std::string server_name;
  std::string cluster_name;
  std::uint16_t cluster_port = 0;
  std::vector<std::uint16_t> routes;
};

class NatsServer {
 public:
  explicit NatsServer(NatsServerOptions options);
  ~NatsServer();  // kills it
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // start: runs the server and (with `wait`) waits up to 10 s until it reports itself ready
  // on its monitoring port's /healthz (JetStream up; a cluster node: its peers too, so the
  // nodes of a cluster are started without waiting, then waited for with wait_ready).
  bool start(std::string& error, bool wait = true);
  bool wait_ready(std::string& error, int timeout_ms = 10'000);
  // stop: SIGTERM and wait (SIGKILL after 5 s); kill: SIGKILL at once.
  void stop();
  void kill();
  bool running() const noexcept { return process_ && process_->running(); }
  std::uint16_t port() const noexcept { return options_.port; }
  std::string url() const;

  // free_port: a TCP port on 127.0.0.1 nothing listens on now.
  static std::uint16_t free_port();
  // on_path: whether nats-server can be run.
  static bool on_path();

 private:
  NatsServerOptions options_;
  std::uint16_t monitor_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// wait_for_port: true once 127.0.0.1:port accepts a TCP connection, false after timeout_ms.
bool wait_for_port(std::uint16_t port, int timeout_ms);

}  // namespace obr::tools
