#include "common/base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "common/base/file_util.h"

extern char** environ;

namespace sluice {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The slice in which a waiting parent notices an exit it is not woken for.
constexpr std::chrono::milliseconds kPollSlice{10};

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Starts the child with stdout on `out_fd` and stderr on `err_fd`.
Result<pid_t> SpawnWith(const ProcessOptions& options, int out_fd, int err_fd) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return Fail(Errc::kInvalidArgument, "no program to run (empty argv)");
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  if (!options.working_dir.empty()) {
    ::posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());
  }
  short flags = 0;
  if (options.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    ::posix_spawnattr_setpgroup(&attr, 0);
  }
  if (options.reset_signals) {
    flags |= POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    sigset_t none;
    sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) {
      sigaddset(&defaults, sig);
    }
    ::posix_spawnattr_setsigdefault(&attr, &defaults);
  }
  ::posix_spawnattr_setflags(&attr, flags);
  std::vector<char*> args;
  args.reserve(options.argv.size() + 1);
  for (const std::string& arg : options.argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) return Fail(Errc::kIo, "cannot start " + options.argv[0] + ": " + std::strerror(rc));
  return pid;
}

// True once `pid` has exited; leaves it unreaped so its pid (and group id) stay taken.
bool HasExited(pid_t pid) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno != EINTR) return true;  // ECHILD: nothing left to wait for
  }
  return info.si_pid == pid;
}

// Reads what the non-blocking pipe holds into `sink`, keeping at most `cap` bytes. Returns
// false at end of file.
bool Drain(int fd, std::string& sink, size_t cap) {
  std::array<char, 4096> buffer;
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n > 0) {
      const size_t room = cap > sink.size() ? cap - sink.size() : 0;
      sink.append(buffer.data(), std::min(room, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Fail(Errc::kIo, std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  ::fcntl(pipe.read.get(), F_SETFL, O_NONBLOCK);
  return pipe;
}

}  // namespace

Result<Child> Child::Spawn(const ProcessOptions& options, const std::string& output_path) {
  const std::string path = output_path.empty() ? "/dev/null" : output_path;
  UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!out.valid()) {
    return Fail(Errc::kIo, "cannot open " + path + ": " + std::strerror(errno));
  }
  auto pid = SpawnWith(options, out.get(), out.get());
  if (!pid) return Fail(pid.error());
  return Child(*pid, options.new_process_group);
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      leads_group_(other.leads_group_),
      exit_code_(std::exchange(other.exit_code_, std::nullopt)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) Kill();
    pid_ = std::exchange(other.pid_, -1);
    leads_group_ = other.leads_group_;
    exit_code_ = std::exchange(other.exit_code_, std::nullopt);
  }
  return *this;
}

Child::~Child() {
  if (pid_ > 0) Kill();
}

bool Child::running() {
  if (pid_ <= 0 || exit_code_) return false;
  int status = 0;
  pid_t done;
  while ((done = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (done == 0) return true;
  exit_code_ = done == pid_ ? DecodeStatus(status) : -1;  // -1: reaped elsewhere
  return false;
}

void Child::Signal(int signum) {
  if (running()) ::kill(pid_, signum);
}

std::optional<int> Child::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (running()) {
    if (SteadyClock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollSlice);
  }
  return exit_code_;
}

int Child::Kill() {
  if (running()) {
    ::kill(leads_group_ ? -pid_ : pid_, SIGKILL);
    Reap();
  }
  return exit_code_.value_or(-1);
}

void Child::Reap() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) {
      exit_code_ = -1;
      return;
    }
  }
  exit_code_ = DecodeStatus(status);
}

Result<ProcessResult> RunProcess(const ProcessOptions& options, std::chrono::milliseconds timeout,
                                 const CaptureOptions& capture) {
  auto out = MakePipe();
  if (!out) return Fail(out.error());
  std::optional<Pipe> err;
  if (!capture.merge_stderr) {
    auto made = MakePipe();
    if (!made) return Fail(made.error());
    err = std::move(*made);
  }
  auto pid = SpawnWith(options, out->write.get(), err ? err->write.get() : out->write.get());
  if (!pid) return Fail(pid.error());
  (void)out->write.Close();  // the child holds its own copies
  if (err) (void)err->write.Close();

  ProcessResult result;
  std::array<pollfd, 2> fds = {pollfd{out->read.get(), POLLIN, 0},
                               pollfd{err ? err->read.get() : -1, POLLIN, 0}};
  std::array<std::string*, 2> sinks = {&result.out, &result.err};
  // Reads until the child exits, not until the pipes close: a helper it left behind may hold
  // them open.
  const auto deadline = SteadyClock::now() + timeout;
  bool exited = false;
  while (!(exited = HasExited(*pid))) {
    const auto now = SteadyClock::now();
    if (now >= deadline) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    const int slice = static_cast<int>(std::clamp<int64_t>(left.count(), 1, kPollSlice.count()));
    if (::poll(fds.data(), fds.size(), slice) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd >= 0 && fds[i].revents != 0 &&
          !Drain(fds[i].fd, *sinks[i], capture.max_bytes)) {
        fds[i].fd = -1;  // poll skips negative descriptors; the UniqueFd still closes it
      }
    }
  }
  result.timed_out = !exited;
  Child child(*pid, options.new_process_group);
  // While the exited child is unreaped its group id cannot be reused: killing the group here
  // reaches only what it left behind.
  if (options.new_process_group) ::kill(-*pid, SIGKILL);
  result.exit_code = child.Kill();  // only reaps a child that exited
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].fd >= 0) Drain(fds[i].fd, *sinks[i], capture.max_bytes);
  }
  return result;
}

}  // namespace sluice
