#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace sluice::testing {
namespace {

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string BinaryPath(const std::string& name) { return std::string(SLUICE_BIN_DIR) + "/" + name; }

Process::Process(std::vector<std::string> argv, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = log_path.empty() ? "/dev/null" : log_path;
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

bool Process::running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_code_ = DecodeStatus(status);
    return false;
  }
  return true;
}

void Process::Signal(int signum) {
  if (running()) ::kill(pid_, signum);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (WaitUntil([this] { return !running(); }, timeout)) return exit_code_;
  return std::nullopt;
}

RunResult RunCommand(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  TempDir scratch;
  const std::string log = scratch / "output";
  Process process(std::move(argv), log);
  RunResult result;
  auto code = process.Wait(timeout);
  if (!code) {
    process.Signal(SIGKILL);
    process.Wait(std::chrono::seconds(5));
  }
  result.exit_code = code.value_or(-1);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  result.output = text.str();
  return result;
}

}  // namespace sluice::testing
