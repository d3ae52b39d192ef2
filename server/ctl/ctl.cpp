#include "server/ctl/ctl.h"

#include <exception>
#include <filesystem>

#include "server/ctl/ctl_output.h"

namespace sluice::ctl {

Ctl::Ctl(CLI::App& app, std::ostream& out, std::ostream& err) : app_(app), out_(out), err_(err) {
  app_.add_option("--data-dir", data_dir_,
                  "sluiced's data directory (the admin socket is "
                  "DIR/run/admin.sock)")
      ->capture_default_str()
      ->type_name("DIR");
  app_.add_option("--timeout", timeout_s_, "Seconds to wait for the server's answer (0: forever)")
      ->capture_default_str()
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber);
  app_.require_subcommand(1);
  // Global options are accepted after the subcommand too: "sluicectl status --data-dir X".
  app_.fallthrough();
}

std::string Ctl::SocketPath() const {
  return (std::filesystem::path(data_dir_) / "run" / "admin.sock").string();
}

std::shared_ptr<bool> Ctl::AddJsonFlag(CLI::App* command) {
  auto json = std::make_shared<bool>(false);
  command->add_flag("--json", *json, "Print the raw result as JSON");
  return json;
}

AdminClient* Ctl::Client() {
  if (client_) return &*client_;
  auto client = AdminClient::Connect(SocketPath(), timeout_s_);
  if (!client) {
    const Error& error = client.error();
    std::string line = "cannot reach sluiced at " + SocketPath();
    if (error.code() == Errc::kNotFound || error.code() == Errc::kClosed) {
      line += " (is the server running with --data-dir " + data_dir_ + "?)";
    } else {
      line += ": " + error.message();
    }
    err_ << "sluicectl: " << line << '\n';
    exit_code_ = kExitUnreachable;
    return nullptr;
  }
  client_.emplace(std::move(*client));
  return &*client_;
}

void Ctl::ReportError(const Error& error, int exit_code) {
  err_ << "sluicectl: " << ErrcName(error.code()) << ": " << error.message() << '\n';
  exit_code_ = exit_code;
}

void Ctl::Run(std::string_view cmd, const nlohmann::json& args, bool json, const Render& render) {
  AdminClient* client = Client();
  if (client == nullptr) return;
  auto result = client->Call(cmd, args);
  if (!result) {
    ReportError(result.error(), kExitFailed);
    return;
  }
  if (json) {
    PrintJson(out_, *result);
    return;
  }
  try {
    if (auto shown = render(*result, out_); !shown) ReportError(shown.error(), kExitFailed);
  } catch (const std::exception& e) {
    // Only a result of an unexpected shape gets here (nlohmann type errors).
    ReportError(Error(Errc::kProtocol, std::string("unexpected result: ") + e.what()), kExitFailed);
  }
}

std::optional<nlohmann::json> Ctl::CallOrReport(std::string_view cmd, const nlohmann::json& args) {
  AdminClient* client = Client();
  if (client == nullptr) return std::nullopt;
  auto result = client->Call(cmd, args);
  if (!result) {
    ReportError(result.error(), kExitFailed);
    return std::nullopt;
  }
  return std::move(*result);
}

int Ctl::Main(int argc, const char* const* argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app_.exit(e, out_, err_);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return exit_code_;
}

}  // namespace sluice::ctl
