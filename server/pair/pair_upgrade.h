#pragma once
// The replaced system's two ways to upgrade a failover pair, as a guided procedure run on the
// primary (docs/admin.md, "Upgrading a pair"):
//   synchronous:  back up A, sync now, break, upgrade A (it stays primary), verify A, upgrade B,
//                 re-establish with A primary — a short outage, no switchover;
//   asynchronous: back up A, sync now, break, upgrade B, verify B with test machines, switch the
//                 site's traffic to B, upgrade A, re-establish with B primary and A its backup.
// Steps on this server run by themselves; steps on the other server and those that need a
// human (verify, switch traffic) stop and say exactly what to do, and `--continue` checks what
// it can (the other server's version, the new relationship) before going on. The procedure's
// progress is kept in DATA_DIR/pair/upgrade.json and each step is written to the audit log, so
// a crash or a closed terminal resumes with `--continue` from the last completed step.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"

namespace sluice::backup {
class BackupService;
}
namespace sluice::server {
class UpdateManager;
class SettingsService;
}  // namespace sluice::server
namespace sluice::store {
class Store;
}

namespace sluice::pair {

class PairService;

struct UpgradeRequest {
  std::string
      procedure{};     // "synchronous" | "asynchronous"; empty with resume/dry_run of a running one
  std::string file{};  // an offline update file on this server, or
  std::string update{};  // an update id from the update source
  std::string backup_password{};
  bool unprotected_backup = false;
  bool resume = false;   // --continue
  bool dry_run = false;  // print the plan
  bool abandon = false;  // forget an unfinished procedure
};

class PairUpgrade {
 public:
  struct Host {
    uv::Loop* loop = nullptr;
    store::Store* store = nullptr;
    Clock* clock = nullptr;
    PairService* pair = nullptr;
    backup::BackupService* backups = nullptr;
    server::UpdateManager* updates = nullptr;
    const server::SettingsService* settings = nullptr;
    std::string data_root{};
  };
  using Done = std::function<void(Result<nlohmann::json>)>;

  explicit PairUpgrade(Host host);
  ~PairUpgrade();

  // Starts, continues, shows (dry_run) or abandons the procedure; runs this server's steps
  // until one needs a person or the other server, or the end. Answers {"procedure", "steps":
  // [{"n", "name", "title", "state": done|waiting|next|pending}], "next": what to do now,
  // "finished"}. Errors name the failed step and what to fix, then --continue.
  void Run(const UpgradeRequest& request, Done done);

 private:
  struct Plan;
  struct Progress;
  void Advance(Done done);
  void RunStep(const std::string& step, std::function<void(Result<std::string>)> finished);
  void CheckHumanStep(const std::string& step, std::function<void(Result<std::string>)> checked);
  void WaitForBackup(uint64_t id, std::function<void(Result<std::string>)> finished);
  void StepDone(const std::string& step, const std::string& detail);
  nlohmann::json Report(const std::string& next) const;
  std::string Instruction(const std::string& step) const;
  [[nodiscard]] Status Save() const;

  Host host_;
  std::unique_ptr<Progress> progress_;  // the procedure under way, if any
  bool running_ = false;
  bool waiting_confirmed_ = false;  // this run is a --continue: a waiting human step is done
  uv::HandlePtr<uv::Timer> poll_;
  uv::Lifetime lifetime_;
};

}  // namespace sluice::pair
