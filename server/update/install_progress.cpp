#include "server/update/install_progress.h"

namespace sluice::server {

const char* InstallStepName(InstallStep step) {
  switch (step) {
    case InstallStep::kFind:
      return "finding the update";
    case InstallStep::kVerify:
      return "verifying the signature and payloads";
    case InstallStep::kBackup:
      return "backing up the database";
    case InstallStep::kImport:
      return "importing and signing the packages";
    case InstallStep::kCommit:
      return "committing the new version";
  }
  return "?";
}

bool InstallProgress::Begin(const std::string& what, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (view_.installing) return false;
  view_.installing = true;
  view_.what = what;
  view_.update = what;
  view_.update_no = 1;
  view_.updates = 1;
  view_.step = InstallStep::kFind;
  view_.started_ms = now_ms;
  return true;
}

void InstallProgress::BeginUpdate(const std::string& update, int update_no, int updates) {
  std::lock_guard lock(mu_);
  view_.update = update;
  view_.update_no = update_no;
  view_.updates = updates;
  view_.step = InstallStep::kVerify;
}

void InstallProgress::Step(InstallStep step) {
  std::lock_guard lock(mu_);
  view_.step = step;
}

void InstallProgress::End(const Status& outcome, int64_t now_ms) {
  std::lock_guard lock(mu_);
  view_.installing = false;
  view_.last_what = view_.what;
  view_.last_ok = outcome.has_value();
  view_.last_error = outcome ? "" : outcome.error().ToString();
  view_.last_finished_ms = now_ms;
}

InstallProgressView InstallProgress::View() const {
  std::lock_guard lock(mu_);
  return view_;
}

}  // namespace sluice::server
