#pragma once
// Child processes without a shell: the one way Sluice starts a program (wixl, osslsigncode, a
// payload's health check, sluiced under the load tool, the binaries under test).
//
// Every child gets stdin from /dev/null. The parent's descriptors are close-on-exec by house
// rule, so a child inherits only the ones named here. Exit codes are the exit status, or
// 128 + the signal number when a signal ended the child.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"

namespace sluice {

struct ProcessResult;
struct CaptureOptions;

struct ProcessOptions {
  std::vector<std::string> argv = {};  // argv[0] is searched in PATH unless it contains '/'
  // The child leads a new process group, so killing it also kills the helpers it started.
  bool new_process_group = false;
  // Signals the parent handles, ignores or blocks start at their defaults in the child.
  bool reset_signals = false;
  std::string working_dir = {};  // empty: the parent's
};

// One started child, reaped exactly once. Movable; destroying one still running kills (its
// group too, if it leads one) and reaps it. Not thread-safe.
class Child {
 public:
  // Starts the child with stdout and stderr appended to `output_path` (created 0644 if
  // missing; empty means /dev/null). Errors: kInvalidArgument for an empty argv, kIo naming
  // the program if it cannot be started.
  [[nodiscard]] static Result<Child> Spawn(const ProcessOptions& options,
                                           const std::string& output_path = "");
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  // False once the child has exited (it is then reaped and exit_code() is set).
  bool running();
  std::optional<int> exit_code() const { return exit_code_; }
  // Sends `signum` to the child while it runs.
  void Signal(int signum);
  // Waits for the exit; the exit code, or nullopt if it still runs after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL (to the group when the child leads one) and reap; returns the exit code.
  int Kill();

 private:
  friend Result<ProcessResult> RunProcess(const ProcessOptions&, std::chrono::milliseconds,
                                          const CaptureOptions&);
  Child(pid_t pid, bool leads_group) : pid_(pid), leads_group_(leads_group) {}
  void Reap();

  pid_t pid_ = -1;
  bool leads_group_ = false;
  std::optional<int> exit_code_;
};

struct ProcessResult {
  int exit_code = -1;
  bool timed_out = false;  // still running at the timeout: killed, exit_code is 128 + SIGKILL
  std::string out;         // stdout, or stdout and stderr interleaved with merge_stderr
  std::string err;         // stderr (empty with merge_stderr)
};

struct CaptureOptions {
  bool merge_stderr = false;
  size_t max_bytes = 1 << 20;  // per stream; the rest is read and dropped
};

// Runs the child to its end while capturing its output, blocking the calling thread. A
// non-zero exit or a timeout is reported in the result, not as an error. When the child leads
// a process group, whatever it left running in that group is killed when it exits. Errors are
// those of Child::Spawn, and kIo for a failed pipe. Thread-safe.
[[nodiscard]] Result<ProcessResult> RunProcess(const ProcessOptions& options,
                                               std::chrono::milliseconds timeout,
                                               const CaptureOptions& capture = {});

}  // namespace sluice
