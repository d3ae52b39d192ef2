#pragma once
// sluicectl's shared state: the global options (--data-dir, --timeout), the admin connection
// and the one way subcommands talk to the server and report errors, so that each subcommand
// is a few lines (see ctl_commands.h).

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "common/base/error.h"
#include "server/ctl/admin_client.h"

namespace sluice::ctl {

// Process exit codes of sluicectl.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;       // the server refused the command, or a local error
inline constexpr int kExitUnreachable = 2;  // no sluiced on the admin socket
inline constexpr int kExitUsage = 64;       // bad command line (EX_USAGE)

class Ctl {
 public:
  // Prints a successful command's result for humans. A returned error (e.g. a file that cannot
  // be written) is reported like a server error.
  using Render = std::function<Status(const nlohmann::json& result, std::ostream& out)>;

  // Adds the global options to `app`. `out`/`err` receive results and error lines. Single
  // thread; `app`, `out` and `err` must outlive the Ctl.
  Ctl(CLI::App& app, std::ostream& out, std::ostream& err);

  CLI::App& app() { return app_; }
  // <data-dir>/run/admin.sock.
  std::string SocketPath() const;

  // Adds "--json" (print the raw result) to `command`; read the flag inside the callback.
  static std::shared_ptr<bool> AddJsonFlag(CLI::App* command);

  // Sends `cmd` with `args` and prints the result: pretty JSON when `json`, else via `render`.
  // Errors go to `err` as one "sluicectl: ..." line and set exit_code(). Never throws.
  void Run(std::string_view cmd, const nlohmann::json& args, bool json, const Render& render);

  // For commands that run locally, without the server (e.g. `update build`): reports a failure
  // like a server error (one "sluicectl: <code>: <message>" line, exit code 1), and the stream
  // their results go to.
  void ReportFailure(const Error& error) { ReportError(error, kExitFailed); }
  std::ostream& out() { return out_; }
  // Warnings and progress lines go here.
  std::ostream& err() { return err_; }
  const std::string& data_dir() const { return data_dir_; }

  // For commands that make several calls (e.g. polling a backup): the result, or nullopt once
  // the error has been reported as Run would.
  std::optional<nlohmann::json> CallOrReport(std::string_view cmd, const nlohmann::json& args);

  // Parses the command line and runs the chosen subcommand; returns the process exit code.
  int Main(int argc, const char* const* argv);
  int exit_code() const { return exit_code_; }

 private:
  // The connection, opened on first use. On failure reports "cannot reach" and returns null.
  AdminClient* Client();
  void ReportError(const Error& error, int exit_code);

  CLI::App& app_;
  std::ostream& out_;
  std::ostream& err_;
  std::string data_dir_ = "./sluice-data";
  int timeout_s_ = 300;
  std::optional<AdminClient> client_;
  int exit_code_ = kExitOk;
};

}  // namespace sluice::ctl
