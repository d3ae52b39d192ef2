#pragma once
// The real sluiced in a temporary data dir, for loopback integration tests.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sluice::testing {

class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> extra_args = {});
  ~ServerProcess();

  // Starts sluiced on 127.0.0.1 (port 0 on first start, the same port on restarts) and waits
  // until it wrote its endpoint. Returns false (with the log in the failure) if it did not.
  bool Start();
  // SIGTERM, then wait for a clean exit; returns the exit code.
  int Stop();
  // SIGKILL, as a crash would.
  void Kill();

  const std::string& data_dir() const { return data_dir_; }
  // The arguments every Start() adds after the defaults (those given to the constructor).
  const std::vector<std::string>& extra_args() const { return extra_args_; }
  void set_extra_args(std::vector<std::string> args) { extra_args_ = std::move(args); }
  // The running sluiced's pid (-1 when stopped).
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  int port() const { return port_; }
  std::string log() const;
  // One request on the admin socket; returns the whole response ({"ok":..., ...}).
  nlohmann::json Admin(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object());
  // Writes a client config (as sluicectl client-config does) and returns its path.
  std::string WriteClientConfig(const std::string& kind, const std::string& mode);

 private:
  TempDir dir_;
  std::string data_dir_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<Process> process_;
  int port_ = 0;
  int configs_written_ = 0;
};

// Sends one request on a Unix admin socket; throws std::runtime_error on transport failure.
nlohmann::json AdminRequest(const std::string& socket_path, const std::string& cmd,
                            const nlohmann::json& args);

}  // namespace sluice::testing
