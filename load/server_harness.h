#pragma once
// The sluiced a scenario runs against: by default a child in a temporary data dir on
// 127.0.0.1:0 (stopped by Stop() or the destructor), or a running one attached through its data
// dir. Driven through the admin socket. Used from one thread.

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/base/subprocess.h"

namespace sluice::load {

struct ServerHarnessOptions {
  std::string server_bin;               // path of sluiced
  std::vector<std::string> extra_args;  // appended to sluiced's command line
  int cpu = -1;                         // pin the child to this CPU (taskset); -1: no pinning
  uint64_t start_timeout_ms = 30'000;
};

class ServerHarness {
 public:
  // Creates the temp dir, spawns sluiced and waits for DIR/run/endpoint.
  // Errors: kIo (temp dir, spawn), kTimeout (no endpoint in time; the log tail is included).
  [[nodiscard]] static Result<std::unique_ptr<ServerHarness>> Start(
      const ServerHarnessOptions& options);
  // A running sluiced whose data dir is `data_dir` (read: run/endpoint; used: run/admin.sock).
  // Its CPU and RSS are not measured. Errors: kNotFound if the dir has no endpoint.
  [[nodiscard]] static Result<std::unique_ptr<ServerHarness>> Attach(const std::string& data_dir);
  ~ServerHarness();  // Stop() if still running; removes the temp dir.
  ServerHarness(const ServerHarness&) = delete;
  ServerHarness& operator=(const ServerHarness&) = delete;

  // One admin request; returns "result" of an ok response.
  // Errors: kIo (socket), kInternal naming the refused command and the server's error.
  [[nodiscard]] Result<nlohmann::json> Admin(const std::string& cmd,
                                             const nlohmann::json& args = nlohmann::json::object());
  // CPU seconds (user + system) and peak RSS (VmHWM, MiB) of the child so far; 0 if unknown.
  double CpuSeconds() const;
  double PeakRssMib() const;
  // Current resident set (VmRSS, MiB); 0 if unknown.
  double RssMib() const;
  // SIGTERM, then waits up to 30 s (SIGKILL after). Returns the exit status. Idempotent.
  int Stop();
  // SIGKILL (a crash: nothing is flushed or closed cleanly). Idempotent.
  void Kill();
  // Stops the child (Kill() if `crash`, else Stop()) and starts it again on the same data dir
  // and port (a reconnect storm). Errors as Start; kInvalidArgument for an attached server.
  [[nodiscard]] Status Restart(bool crash = false);
  bool owned() const { return !options_.server_bin.empty(); }

  int port() const { return port_; }
  pid_t pid() const { return child_ ? child_->pid() : -1; }
  const std::string& dir() const { return dir_; }  // scratch space (the temp dir)
  const std::string& data_dir() const { return data_dir_; }

 private:
  ServerHarness() = default;
  [[nodiscard]] Status Spawn(const std::string& listen);

  ServerHarnessOptions options_;
  std::string dir_;
  std::string data_dir_;
  std::optional<Child> child_;  // the sluiced this harness started, while it runs
  int port_ = 0;
  int exit_status_ = -1;
};

}  // namespace sluice::load
