#pragma once
// The installed versions of a client state dir and its `current` link:
//
//   DIR/versions/<V>/<payload_name>   one folder per installed version, payload mode 0755
//   DIR/current -> versions/<V>       relative symlink, replaced atomically
//
// Every mutating call is idempotent and durable (fsyncs the directories it changes), so the
// update state machine can repeat any step after a crash. Not thread-safe: one updater owns it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace sluice::client {

// True if `version` can name a folder under versions/: not empty, not "." or "..", no '/' and
// no control characters.
bool IsValidVersionName(std::string_view version);

class Stager {
 public:
  // `state_dir` should be absolute so payload paths stay valid for child processes.
  Stager(std::string state_dir, std::string payload_name);

  std::string VersionDir(const std::string& version) const;
  std::string PayloadPath(const std::string& version) const;
  bool HasVersion(const std::string& version) const;

  // The version folder `current` points to (basename of its target), or nullopt if there is no
  // `current` link.
  std::optional<std::string> CurrentTarget() const;

  // Moves the file at `part_path` to PayloadPath(version) (mode 0755), creating the folder.
  // If `part_path` is already gone but the payload is in place, succeeds without change (a
  // repeated step after a crash). Errc::kNotFound if neither exists, kInvalidArgument for a bad
  // version name, kIo otherwise.
  [[nodiscard]] Status Stage(const std::string& part_path, const std::string& version) const;

  // Points `current` at versions/<version> by renaming a fresh temp symlink over it: readers see
  // either the old or the new target. Errc::kNotFound if the version folder is missing.
  [[nodiscard]] Status Switch(const std::string& version) const;

  // Removes the `current` link (success if it is not there).
  [[nodiscard]] Status RemoveCurrent() const;

  // Removes versions/<version> and everything in it (success if it is not there).
  [[nodiscard]] Status RemoveVersion(const std::string& version) const;

  // Removes every folder under versions/ except those named in `keep`.
  [[nodiscard]] Status PruneExcept(const std::vector<std::string>& keep) const;

 private:
  std::string state_dir_;
  std::string payload_name_;
};

}  // namespace sluice::client
