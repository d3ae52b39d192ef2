#include "msi/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "common/base/file_util.h"

extern char** environ;

namespace sluice::msi {
namespace {

std::string ErrnoText(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int WaitExitCode(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return ExitCode(status);
}

// Waits for `pid` until `deadline`; returns false (child still running) when it passes.
bool WaitUntil(pid_t pid, std::chrono::steady_clock::time_point deadline, int& exit_code) {
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      exit_code = ExitCode(status);
      return true;
    }
    if (done < 0 && errno != EINTR) {
      exit_code = -1;
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    usleep(5000);
  }
}

// Reads whatever is available on `fd` into `sink`; returns false at end of file.
bool Drain(int fd, std::string& sink) {
  std::array<char, 4096> buffer;
  ssize_t n = read(fd, buffer.data(), buffer.size());
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  size_t room = kMaxCapture > sink.size() ? kMaxCapture - sink.size() : 0;
  sink.append(buffer.data(), std::min(room, static_cast<size_t>(n)));
  return true;
}

}  // namespace

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout) {
  if (argv.empty()) return Fail(Errc::kInvalidArgument, "RunProcess: empty argv");
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Fail(Errc::kIo, ErrnoText("pipe2", errno));
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return Fail(Errc::kIo, ErrnoText("pipe2", errno));
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = -1;
  int spawn_rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_rc != 0) return Fail(Errc::kIo, ErrnoText(("starting " + argv[0]).c_str(), spawn_rc));
  (void)out_write.Close();
  (void)err_write.Close();

  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<pollfd, 2> fds = {pollfd{out_read.get(), POLLIN, 0},
                               pollfd{err_read.get(), POLLIN, 0}};
  std::array<std::string*, 2> sinks = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      WaitExitCode(pid);
      return Fail(Errc::kTimeout,
                  argv[0] + " did not finish within " + std::to_string(timeout.count()) + " ms");
    }
    int ready = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      int err = errno;
      kill(pid, SIGKILL);
      WaitExitCode(pid);
      return Fail(Errc::kIo, ErrnoText("poll", err));
    }
    for (size_t i = 0; i < fds.size() && ready > 0; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      if (!Drain(fds[i].fd, *sinks[i])) {
        fds[i].fd = -1;  // poll ignores negative descriptors; the UniqueFd still closes it
        --open_count;
      }
    }
  }
  // Both pipes closed; the child normally exits right after, but stay bounded regardless.
  if (!WaitUntil(pid, deadline, result.exit_code)) {
    kill(pid, SIGKILL);
    WaitExitCode(pid);
    return Fail(Errc::kTimeout,
                argv[0] + " did not exit within " + std::to_string(timeout.count()) + " ms");
  }
  return result;
}

}  // namespace sluice::msi
