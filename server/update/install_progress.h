#pragma once
// What a site-update install is doing now (`update-progress`, the dashboard's site-updates
// page): the install's steps are announced from the loop thread and from the install worker, and
// read on the loop thread, so the board is locked. One install runs at a time; Begin() is what
// refuses a second.

#include <cstdint>
#include <mutex>
#include <string>

#include "common/base/error.h"

namespace sluice::server {

// The steps of installing one update, in order.
enum class InstallStep {
  kFind = 1,  // finding the update in the source (or reading the offline file)
  kVerify,    // checking the bundle's signature and every payload's hash
  kBackup,    // copying the database aside
  kImport,    // extracting, checking and signing the packages
  kCommit,    // the new version in one transaction; clients told to reconnect
};
inline constexpr int kInstallSteps = 5;
const char* InstallStepName(InstallStep step);

struct InstallProgressView {
  bool installing = false;
  std::string what{};  // the update id asked for, or the offline file's path
  // The update being installed now: one of an offline file's, or `what` itself.
  std::string update{};
  int update_no = 0;  // 1-based within the file; 1 of 1 for a single update
  int updates = 0;
  InstallStep step = InstallStep::kFind;
  int64_t started_ms = 0;  // wall clock
  // The last install that ended since sluiced started (empty `last_what`: none).
  std::string last_what{};
  bool last_ok = false;
  std::string last_error{};
  int64_t last_finished_ms = 0;
};

class InstallProgress {
 public:
  // Starts an install of `what`; false when one is running.
  [[nodiscard]] bool Begin(const std::string& what, int64_t now_ms);
  // The update `update_no` of `updates` begins (at kFind's end: kVerify).
  void BeginUpdate(const std::string& update, int update_no, int updates);
  void Step(InstallStep step);
  void End(const Status& outcome, int64_t now_ms);
  [[nodiscard]] InstallProgressView View() const;

 private:
  mutable std::mutex mu_;
  InstallProgressView view_;
};

}  // namespace sluice::server
