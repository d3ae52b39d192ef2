#include "load/server_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "common/base/file_util.h"

namespace sluice::load {
namespace {

// The file's text, or "" if it cannot be read (yet): the callers poll.
std::string Slurp(const std::string& path) {
  auto text = ReadFile(path);
  return text ? std::move(*text) : std::string();
}

std::string Tail(const std::string& text, size_t n) {
  return text.size() <= n ? text : text.substr(text.size() - n);
}

// A "Vm...:  N kB" line of /proc/PID/status, in MiB; 0 if unknown.
double StatusFieldMib(pid_t pid, const std::string& field) {
  if (pid <= 0) return 0;
  std::istringstream status(Slurp("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(field.size())) / 1024.0;
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<ServerHarness>> ServerHarness::Start(const ServerHarnessOptions& options) {
  std::unique_ptr<ServerHarness> harness(new ServerHarness());
  harness->options_ = options;
  std::string pattern = (std::filesystem::temp_directory_path() / "sluice-load-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Fail(Errc::kIo, "cannot create temp dir: " + std::string(std::strerror(errno)));
  }
  harness->dir_ = pattern;
  harness->data_dir_ = harness->dir_ + "/data";
  if (auto spawned = harness->Spawn("127.0.0.1:0"); !spawned) return Fail(spawned.error());
  return harness;
}

Result<std::unique_ptr<ServerHarness>> ServerHarness::Attach(const std::string& data_dir) {
  std::unique_ptr<ServerHarness> harness(new ServerHarness());
  harness->data_dir_ = data_dir;
  std::string text = Slurp(data_dir + "/run/endpoint");
  if (text.find(':') == std::string::npos) {
    return Fail(Errc::kNotFound, "no running sluiced: " + data_dir + "/run/endpoint is missing");
  }
  harness->port_ = std::atoi(text.substr(text.rfind(':') + 1).c_str());
  std::string pattern = (std::filesystem::temp_directory_path() / "sluice-load-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Fail(Errc::kIo, "cannot create temp dir: " + std::string(std::strerror(errno)));
  }
  harness->dir_ = pattern;
  return harness;
}

Status ServerHarness::Spawn(const std::string& listen) {
  const std::string endpoint = data_dir_ + "/run/endpoint";
  std::error_code ignored;
  std::filesystem::remove(endpoint, ignored);
  const std::string log_path = dir_ + "/sluiced.log";
  // The server must not outlive a load run that crashed or was killed: setpriv (util-linux,
  // always present) sets the parent-death signal and execs the rest in the same process.
  std::vector<std::string> args = {"setpriv", "--pdeathsig", "TERM"};
  if (options_.cpu >= 0) args.insert(args.end(), {"taskset", "-c", std::to_string(options_.cpu)});
  args.insert(args.end(), {options_.server_bin, "--data-dir", data_dir_, "--listen", listen,
                           "--log-level", "warn"});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  auto child = Child::Spawn({.argv = std::move(args)}, log_path);
  if (!child) return Fail(child.error());
  child_ = std::move(*child);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.start_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = Slurp(endpoint);
    if (!text.empty() && text.find(':') != std::string::npos) {
      port_ = std::atoi(text.substr(text.rfind(':') + 1).c_str());
      if (port_ > 0) return {};
    }
    if (!child_->running()) {
      exit_status_ = child_->exit_code().value_or(-1);
      child_.reset();
      return Fail(Errc::kIo, "sluiced exited at startup:\n" + Tail(Slurp(log_path), 2000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Fail(Errc::kTimeout, "sluiced wrote no endpoint:\n" + Tail(Slurp(log_path), 2000));
}

Status ServerHarness::Restart(bool crash) {
  if (!owned()) return Fail(Errc::kInvalidArgument, "cannot restart a server it did not start");
  if (crash) {
    Kill();
  } else {
    Stop();
  }
  return Spawn("127.0.0.1:" + std::to_string(port_));
}

void ServerHarness::Kill() {
  if (!child_) return;
  exit_status_ = child_->Kill();
  child_.reset();
}

ServerHarness::~ServerHarness() {
  if (owned()) Stop();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

Result<nlohmann::json> ServerHarness::Admin(const std::string& cmd, const nlohmann::json& args) {
  const std::string path = data_dir_ + "/run/admin.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(Errc::kIo, "admin socket: " + std::string(std::strerror(errno)));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  timeval timeout{.tv_sec = 60, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return Fail(Errc::kIo, "cannot connect to " + path);
  }
  const std::string request = nlohmann::json{{"cmd", cmd}, {"args", args}}.dump() + "\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  std::vector<char> buffer(1 << 16);
  while (response.empty() || response.back() != '\n') {
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    response.append(buffer.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  nlohmann::json reply = nlohmann::json::parse(response, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    return Fail(Errc::kIo, "no valid admin response to " + cmd);
  }
  if (!reply.value("ok", false)) {
    return Fail(Errc::kInternal, "admin " + cmd + " refused: " + reply.dump());
  }
  return reply.contains("result") ? reply["result"] : nlohmann::json::object();
}

double ServerHarness::CpuSeconds() const {
  if (!child_) return 0;
  std::string stat = Slurp("/proc/" + std::to_string(pid()) + "/stat");
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // Fields after the command start at field 3 (state); utime and stime are fields 14 and 15.
  for (int index = 3; index <= 15 && (fields >> field); ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double ServerHarness::PeakRssMib() const { return StatusFieldMib(pid(), "VmHWM:"); }

double ServerHarness::RssMib() const { return StatusFieldMib(pid(), "VmRSS:"); }

int ServerHarness::Stop() {
  if (!child_) return exit_status_;
  child_->Signal(SIGTERM);
  const std::optional<int> code = child_->Wait(std::chrono::seconds(30));
  exit_status_ = code ? *code : child_->Kill();
  child_.reset();
  return exit_status_;
}

}  // namespace sluice::load
