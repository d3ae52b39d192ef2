#include "client/update/health_check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "common/base/file_util.h"

extern char** environ;

namespace sluice::client {
namespace {

using Clock = std::chrono::steady_clock;

// Reads what the non-blocking pipe holds, keeping at most `cap` bytes. Returns false at EOF.
bool Drain(int fd, std::string* out, size_t cap) {
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      const size_t room = cap > out->size() ? cap - out->size() : 0;
      out->append(buffer, std::min(room, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

// The child's output as one printable line for an error message.
std::string Quote(const std::string& output) {
  std::string line;
  for (char c : output) {
    const auto u = static_cast<unsigned char>(c);
    line += (u == '\n' || u == '\r' || u == '\t') ? ' ' : (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line.empty() ? line : ": " + line;
}

// Starts argv in its own process group with stdout/stderr on `out_fd`. Returns the pid.
Result<pid_t> Spawn(const std::vector<std::string>& argv, int out_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, out_fd, STDERR_FILENO);
  ::posix_spawnattr_setflags(
      &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setpgroup(&attr, 0);
  sigset_t mask;
  sigemptyset(&mask);
  ::posix_spawnattr_setsigmask(&attr, &mask);
  // The agent ignores SIGPIPE and handles a few signals; the check starts from the defaults.
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) {
    sigaddset(&defaults, sig);
  }
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Fail(Errc::kIo, "starting health check " + argv[0] + ": " + std::strerror(rc));
  }
  return pid;
}

// True once `pid` has exited; leaves it unreaped so its pid (and process group id) stay taken.
bool HasExited(pid_t pid) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno != EINTR) return true;  // ECHILD: nothing left to wait for
  }
  return info.si_pid == pid;
}

// The exit status of `pid`, or nullopt if someone else reaped it (e.g. SIGCHLD ignored).
std::optional<int> Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return std::nullopt;
  }
  return status;
}

}  // namespace

Status RunHealthCheck(const HealthCheckOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return Fail(Errc::kInvalidArgument, "health check command is empty");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Fail(Errc::kIo, std::string("health check pipe: ") + std::strerror(errno));
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  auto pid = Spawn(options.argv, write_end.get());
  if (!pid) return Fail(pid.error());
  (void)write_end.Close();  // the child holds its own copy

  std::string output;
  bool pipe_open = true;
  bool exited = false;
  const auto deadline = Clock::now() + options.timeout;
  while (!(exited = HasExited(*pid))) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    const auto slice = std::clamp<int64_t>(left.count(), 1, 20);
    if (pipe_open) {
      pollfd entry{read_end.get(), POLLIN, 0};
      ::poll(&entry, 1, static_cast<int>(slice));
      pipe_open = Drain(read_end.get(), &output, options.max_output_bytes);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(slice));
    }
  }
  // The whole group: a hung check and anything it started, or helpers left behind.
  ::kill(-*pid, SIGKILL);
  if (!exited) ::kill(*pid, SIGKILL);
  const std::optional<int> reaped = Reap(*pid);
  if (pipe_open) Drain(read_end.get(), &output, options.max_output_bytes);

  if (!exited) {
    return Fail(Errc::kTimeout, "health check timed out after " +
                                    std::to_string(options.timeout.count()) + " ms" +
                                    Quote(output));
  }
  if (!reaped)
    return Fail(Errc::kInternal, "health check exit status was lost (child reaped elsewhere)");
  const int status = *reaped;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFSIGNALED(status)) {
    return Fail(Errc::kInternal, "health check killed by signal " +
                                     std::to_string(WTERMSIG(status)) + Quote(output));
  }
  return Fail(Errc::kInternal, "health check exited with status " +
                                   std::to_string(WEXITSTATUS(status)) + Quote(output));
}

}  // namespace sluice::client
