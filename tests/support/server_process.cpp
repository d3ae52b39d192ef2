#include "tests/support/server_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sluice::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

nlohmann::json AdminRequest(const std::string& socket_path, const std::string& cmd,
                            const nlohmann::json& args) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  timeval timeout{.tv_sec = 30, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot connect to " + socket_path);
  }
  std::string request = nlohmann::json{{"cmd", cmd}, {"args", args}}.dump() + "\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[65536];
  while (response.empty() || response.back() != '\n') {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (response.empty()) throw std::runtime_error("no admin response to " + cmd);
  return nlohmann::json::parse(response);
}

ServerProcess::ServerProcess(std::vector<std::string> extra_args)
    : data_dir_(dir_ / "data"), extra_args_(std::move(extra_args)) {}

ServerProcess::~ServerProcess() {
  if (process_ && process_->running()) Stop();
}

bool ServerProcess::Start() {
  const std::string endpoint = data_dir_ + "/run/endpoint";
  ::unlink(endpoint.c_str());
  std::vector<std::string> argv = {BinaryPath("sluiced"), "--data-dir", data_dir_, "--listen",
                                   "127.0.0.1:" + std::to_string(port_), "--log-level", "debug"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<Process>(argv, dir_ / "sluiced.log");
  bool up = WaitUntil([&] { return !Slurp(endpoint).empty() || !process_->running(); },
                      std::chrono::seconds(30));
  std::string text = Slurp(endpoint);
  if (!up || text.empty()) {
    ADD_FAILURE() << "sluiced did not start:\n" << log();
    return false;
  }
  port_ = std::stoi(text.substr(text.rfind(':') + 1));
  return true;
}

int ServerProcess::Stop() {
  if (!process_) return -1;
  process_->Signal(SIGTERM);
  auto code = process_->Wait(std::chrono::seconds(30));
  EXPECT_TRUE(code.has_value()) << "sluiced did not stop on SIGTERM";
  return code.value_or(-1);
}

void ServerProcess::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  process_->Wait(std::chrono::seconds(10));
}

std::string ServerProcess::log() const { return Slurp(dir_ / "sluiced.log"); }

nlohmann::json ServerProcess::Admin(const std::string& cmd, const nlohmann::json& args) {
  return AdminRequest(data_dir_ + "/run/admin.sock", cmd, args);
}

std::string ServerProcess::WriteClientConfig(const std::string& kind, const std::string& mode) {
  auto response = Admin("client-config", {{"kind", kind}, {"mode", mode}});
  EXPECT_TRUE(response.value("ok", false)) << response.dump();
  const std::string path = dir_ / ("client-" + std::to_string(++configs_written_) + ".json");
  std::ofstream(path) << response["result"]["config"].dump(2);
  return path;
}

}  // namespace sluice::testing
