// tools/cluster/child_process.h — a child process with its output in a file: what `obr
// cluster-demo` runs its engines and nats-server as.
//
//   obr::tools::ChildProcess p({"/proc/self/exe", "run", "--config", "e1.json"}, "e1.log");
//   std::string error;
//   if (!p.start(error)) ...
//   p.signal(SIGKILL);  p.wait(5000);      // or p.terminate(): SIGTERM, then SIGKILL after 5 s
//
// Thread-safety: one thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace obr::tools {

class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::string log_file);
  ~ChildProcess();  // SIGKILL when still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // start: fork and exec argv[0] (searched on PATH when it has no '/'); stdout and stderr
  // appended to the log file. False with `error` when the fork fails; an exec that fails
  // shows as an exit status of 127.
  bool start(std::string& error);
  void signal(int sig);
  // wait: true once the process ended (its status in exit_status()), false after timeout_ms.
  bool wait(int timeout_ms);
  // exited: whether it has ended, without waiting.
  bool exited();
  // terminate: SIGTERM, then SIGKILL after grace_ms; returns once it ended.
  void terminate(int grace_ms = 5000);
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }
  int exit_status() const noexcept { return status_; }  // as waitpid reports it
  const std::string& log_file() const noexcept { return log_; }
  // last_log_line: the last non-empty line of the log (for error messages).
  std::string last_log_line() const;

 private:
  std::vector<std::string> argv_;
  std::string log_;
  pid_t pid_ = -1;
  int status_ = 0;
};

}  // namespace obr::tools
