#pragma once
// The client's own state directory: its identity and what is installed.
//
//   DIR/identity.json   {"client_id": "<uuid>", "client_secret": "<hex>"}  (0600)
//   DIR/agent.pid       pid of the running agent (for --check-in-now)
//   DIR/current         symlink to versions/<V>, the version running (client/update/ owns it,
//                       with versions/, downloads/ and update.json)

#include <optional>
#include <string>

#include "common/base/error.h"

namespace sluice::client {

struct Identity {
  std::string client_id;
  std::string client_secret;
};

class StateDir {
 public:
  // Creates the directory (0700) if missing.
  [[nodiscard]] static Result<StateDir> Open(const std::string& path);

  const std::string& path() const { return path_; }
  // nullopt before the first enrollment; kCorrupt if the file is unreadable as an identity.
  [[nodiscard]] Result<std::optional<Identity>> LoadIdentity() const;
  // Written atomically with mode 0600.
  [[nodiscard]] Status SaveIdentity(const Identity& identity) const;
  // Moves identity.json aside (identity.json.old) so the next contact enrolls again.
  void ForgetIdentity() const;

  // The version this client runs: the basename of the `current` link's target if the link
  // exists; else the state dir's legacy `version` record if any; else `installed`.
  std::string CurrentVersion(const std::string& installed) const;

  [[nodiscard]] Status WritePid() const;
  void RemovePid() const;
  // The pid of a live agent using this state dir, if any.
  std::optional<int> RunningAgentPid() const;

 private:
  explicit StateDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace sluice::client
