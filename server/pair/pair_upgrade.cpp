#include "server/pair/pair_upgrade.h"

#include <filesystem>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "server/backup/backup_service.h"
#include "server/pair/pair_service.h"
#include "server/site/settings_service.h"
#include "server/store/audit_repo.h"
#include "server/store/store.h"
#include "server/update/update_manager.h"

namespace sluice::pair {
namespace {

using json = nlohmann::json;

struct StepSpec {
  const char* name;
  const char* title;
  bool human;  // done by a person or on the other server; --continue confirms it
};

constexpr StepSpec kSynchronous[] = {
    {"backup", "back up this server (the primary)", false},
    {"sync", "sync now: the backup pulls the latest state", false},
    {"break", "break the relationship", false},
    {"upgrade_here", "upgrade this server; it stays primary (clients reconnect to it)", false},
    {"verify_here", "verify this server", true},
    {"upgrade_peer", "upgrade the other server", true},
    {"reestablish", "re-establish the pair with this server primary", false},
};
constexpr StepSpec kAsynchronous[] = {
    {"backup", "back up this server (the primary)", false},
    {"sync", "sync now: the backup pulls the latest state", false},
    {"break", "break the relationship", false},
    {"upgrade_peer", "upgrade the other server first", true},
    {"verify_peer", "verify the other server with test machines", true},
    {"switch", "make the other server primary: switch the site's traffic to it", true},
    {"upgrade_here", "upgrade this server", false},
    {"reestablish_there", "re-establish the pair with the other server primary", true},
};

std::span<const StepSpec> StepsOf(const std::string& procedure) {
  if (procedure == "synchronous") return kSynchronous;
  return kAsynchronous;
}

}  // namespace

struct PairUpgrade::Progress {
  std::string procedure;
  std::string file;
  std::string update;
  std::string backup_password;
  bool unprotected_backup = false;
  std::string peer;           // the other server's address
  std::string self_address;   // where the other server reaches this one
  std::string start_version;  // this server's site version when it began
  std::string backup_file;
  std::vector<std::string> done;
  int64_t started_ms = 0;

  bool Done(const std::string& step) const {
    return std::find(done.begin(), done.end(), step) != done.end();
  }
  std::optional<StepSpec> Next() const {
    for (const StepSpec& step : StepsOf(procedure)) {
      if (!Done(step.name)) return step;
    }
    return std::nullopt;
  }
  json ToJson() const {
    // The backup password is kept only while the backup step is pending.
    return {{"procedure", procedure},
            {"file", file},
            {"update", update},
            {"backup_password", Done("backup") ? "" : backup_password},
            {"unprotected_backup", unprotected_backup},
            {"peer", peer},
            {"self_address", self_address},
            {"start_version", start_version},
            {"backup_file", backup_file},
            {"done", done},
            {"started_ms", started_ms}};
  }
  static Progress FromJson(const json& j) {
    Progress p;
    p.procedure = j.at("procedure").get<std::string>();
    p.file = j.value("file", "");
    p.update = j.value("update", "");
    p.backup_password = j.value("backup_password", "");
    p.unprotected_backup = j.value("unprotected_backup", false);
    p.peer = j.value("peer", "");
    p.self_address = j.value("self_address", "");
    p.start_version = j.value("start_version", "");
    p.backup_file = j.value("backup_file", "");
    p.done = j.value("done", std::vector<std::string>{});
    p.started_ms = j.value("started_ms", int64_t{0});
    return p;
  }
};

PairUpgrade::PairUpgrade(Host host) : host_(std::move(host)) {
  auto text = ReadFile(host_.data_root + "/pair/upgrade.json");
  if (!text) return;
  try {
    progress_ = std::make_unique<Progress>(Progress::FromJson(json::parse(*text)));
  } catch (const json::exception& e) {
    Log("pair")->error("ignoring an unreadable pair upgrade state: {}", e.what());
  }
}

PairUpgrade::~PairUpgrade() = default;

Status PairUpgrade::Save() const {
  const std::string path = host_.data_root + "/pair/upgrade.json";
  if (!progress_) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return {};
  }
  return WriteFileAtomic(path, progress_->ToJson().dump(2) + "\n", 0600);
}

json PairUpgrade::Report(const std::string& next) const {
  json steps = json::array();
  if (progress_) {
    const auto upcoming = progress_->Next();
    int n = 0;
    for (const StepSpec& step : StepsOf(progress_->procedure)) {
      std::string state = "pending";
      if (progress_->Done(step.name)) {
        state = "done";
      } else if (upcoming && upcoming->name == std::string(step.name)) {
        state = step.human ? "waiting" : "next";
      }
      steps.push_back({{"n", ++n}, {"name", step.name}, {"title", step.title}, {"state", state}});
    }
  }
  return {{"procedure", progress_ ? progress_->procedure : ""},
          {"steps", std::move(steps)},
          {"next", next},
          {"backup_file", progress_ ? progress_->backup_file : ""},
          {"finished", progress_ && !progress_->Next()}};
}

std::string PairUpgrade::Instruction(const std::string& step) const {
  const Progress& p = *progress_;
  const std::string install = !p.file.empty() ? "sluicectl update install-file " + p.file
                                              : "sluicectl update install " + p.update;
  const std::string resume = "; then run `sluicectl pair upgrade --continue` here";
  if (step == "verify_here") {
    return "verify this server: `sluicectl status` shows site " +
           host_.settings->settings().site_version +
           ", a test client checks in and upgrades; the other server (" + p.peer +
           ") still runs the old version" + resume;
  }
  if (step == "upgrade_peer") {
    return "on the other server (" + p.peer + ") run `" + install +
           "` (copy the file there first if needed)" + resume +
           " (it checks the other server's version)";
  }
  if (step == "verify_peer") {
    return "verify the other server (" + p.peer +
           "): point test machines at it (e.g. a hosts-file entry for the site's name), let a "
           "test client check in there (`sluicectl status` on it shows the new version); this "
           "server keeps serving every other client" +
           resume;
  }
  if (step == "switch") {
    return "make the other server (" + p.peer +
           ") the primary: switch the site's shared IP, DNS name or NAT rule to it, so clients "
           "reach it; this server is upgraded next" +
           resume;
  }
  if (step == "reestablish_there") {
    return "on the other server (" + p.peer + ") run `sluicectl pair establish --peer " +
           p.self_address + " --reverse " + p.peer +
           "`: it becomes the primary, this server its backup" + resume +
           " (it checks the new relationship)";
  }
  return "";
}

void PairUpgrade::Run(const UpgradeRequest& request, Done done) {
  if (running_) {
    done(Fail(Errc::kAlreadyExists, "a pair upgrade step is running; wait for it"));
    return;
  }
  if (request.abandon) {
    if (!progress_) return done(Fail(Errc::kNotFound, "no pair upgrade is under way"));
    host_.pair->RecordEvent("upgrade_abandoned", progress_->procedure + " pair upgrade abandoned");
    progress_.reset();
    if (auto saved = Save(); !saved) return done(Fail(saved.error()));
    done(json{{"abandoned", true}});
    return;
  }
  if (progress_ && !request.resume && !request.dry_run) {
    done(
        Fail(Errc::kAlreadyExists,
             "a " + progress_->procedure +
                 " pair upgrade is under way: `sluicectl pair upgrade --continue` (or --abandon)"));
    return;
  }
  if (!progress_) {
    if (request.resume) return done(Fail(Errc::kNotFound, "no pair upgrade to continue"));
    if (request.procedure != "synchronous" && request.procedure != "asynchronous") {
      return done(Fail(Errc::kInvalidArgument, "--synchronous or --asynchronous"));
    }
    if (request.file.empty() == request.update.empty()) {
      return done(Fail(Errc::kInvalidArgument,
                       "name the update: --file (an offline update file) or --update ID"));
    }
    if (request.backup_password.empty() && !request.unprotected_backup) {
      return done(Fail(Errc::kInvalidArgument,
                       "the first step is a backup: --backup-password-file F or "
                       "--no-backup-password"));
    }
    const State& pair = host_.pair->state();
    if (pair.role != Role::kPrimary) {
      return done(Fail(Errc::kInvalidArgument,
                       "run the pair upgrade on the primary of a pair (this server is " +
                           std::string(ToString(pair.role)) + ")"));
    }
    auto fresh = std::make_unique<Progress>();
    fresh->procedure = request.procedure;
    fresh->file = request.file.empty() ? "" : std::filesystem::absolute(request.file).string();
    fresh->update = request.update;
    fresh->backup_password = request.backup_password;
    fresh->unprotected_backup = request.unprotected_backup;
    fresh->peer = pair.peer;
    fresh->self_address = pair.self_address;
    fresh->start_version = host_.settings->settings().site_version;
    fresh->started_ms = host_.clock->WallMs();
    if (request.dry_run) {
      progress_ = std::move(fresh);
      json plan = Report("nothing was done (dry run)");
      progress_.reset();
      return done(plan);
    }
    if (fresh->self_address.empty()) {
      return done(Fail(Errc::kInvalidArgument,
                       "this server does not know the address its peer reaches it at (a pair "
                       "made by a takeover): break and establish the pair again first"));
    }
    progress_ = std::move(fresh);
    host_.pair->RecordEvent("upgrade_started", progress_->procedure + " pair upgrade");
    if (auto saved = Save(); !saved) return done(Fail(saved.error()));
  } else if (request.dry_run) {
    return done(Report("nothing was done (dry run)"));
  }
  // --continue confirms the step that waited, and only that one: after an interruption the
  // next step may be this server's own, and a later human step still waits for its person.
  const auto next = progress_->Next();
  waiting_confirmed_ = request.resume && next && next->human;
  Advance(std::move(done));
}

void PairUpgrade::Advance(Done done) {
  const auto step = progress_->Next();
  if (!step) {
    json report = Report("the pair upgrade is complete");
    host_.pair->RecordEvent("upgrade_finished", progress_->procedure + " pair upgrade finished");
    progress_.reset();
    (void)Save();
    done(report);
    return;
  }
  const std::string name = step->name;
  running_ = true;
  auto finished = [this, name, done, alive = lifetime_.Token()](Result<std::string> detail) {
    if (alive.expired()) return;
    running_ = false;
    if (!detail) {
      // A human step whose check failed, or a step that failed: stays the next one.
      const StepSpec* spec = nullptr;
      for (const StepSpec& s : StepsOf(progress_->procedure)) {
        if (s.name == name) spec = &s;
      }
      if (spec != nullptr && spec->human && detail.error().code() == Errc::kClosed) {
        done(Report(Instruction(name)));
        return;
      }
      done(Context(detail.error(),
                   "step '" + name + "' (then `sluicectl pair upgrade --continue`)"));
      return;
    }
    StepDone(name, *detail);
    Advance(done);
  };
  if (step->human) {
    CheckHumanStep(name, finished);
  } else {
    RunStep(name, finished);
  }
}

void PairUpgrade::StepDone(const std::string& step, const std::string& detail) {
  progress_->done.push_back(step);
  if (auto saved = Save(); !saved) {
    Log("pair")->error("cannot save the pair upgrade's progress: {}", saved.error().ToString());
  }
  const auto steps = StepsOf(progress_->procedure);
  const std::string text = progress_->procedure + " " + std::to_string(progress_->done.size()) +
                           "/" + std::to_string(steps.size()) + " " + step + ": " + detail;
  host_.pair->RecordEvent("upgrade_step", text);
  host_.store->Detach<void>(
      "pair: logging an upgrade step", [text, now = host_.clock->WallMs()](db::Database& db) {
        return store::AppendAuditRow(
            db, {.wall_ms = now, .event = store::audit_event::kPairUpgradeStep, .detail = text});
      });
}

// A human step: the first visit only says what to do (kClosed); --continue checks what can be
// checked. The procedure remembers that it waits by the step being next and not done.
void PairUpgrade::CheckHumanStep(const std::string& step,
                                 std::function<void(Result<std::string>)> checked) {
  const bool confirming = std::exchange(waiting_confirmed_, false);
  if (!confirming) {
    checked(Fail(Errc::kClosed, "waiting"));
    return;
  }
  if (step == "verify_here" || step == "verify_peer" || step == "switch") {
    checked(std::string("confirmed by the operator"));
    return;
  }
  host_.pair->PeerHello([this, step, checked](Result<json> hello) {
    if (!hello) {
      checked(
          Context(hello.error(), "the other server (" + progress_->peer + ") must be reachable"));
      return;
    }
    const std::string peer_version = hello->value("site_version", "");
    if (step == "upgrade_peer") {
      const std::string mine = host_.settings->settings().site_version;
      const std::string want = progress_->procedure == "synchronous" ? mine : "";
      if ((!want.empty() && peer_version != want) ||
          (want.empty() && peer_version == progress_->start_version)) {
        checked(Fail(Errc::kInvalidArgument, "the other server runs site " + peer_version +
                                                 (want.empty() ? ", as before" : ", not " + want) +
                                                 ": " + Instruction(step)));
        return;
      }
      checked("the other server runs site " + peer_version);
      return;
    }
    // reestablish_there: the other server is the primary, this server its backup.
    const State& mine = host_.pair->state();
    if (hello->value("role", "") != "primary" || mine.role != Role::kBackup) {
      checked(
          Fail(Errc::kInvalidArgument, "the pair is not re-established yet: " + Instruction(step)));
      return;
    }
    checked("the other server is primary, this server its backup");
  });
}

void PairUpgrade::WaitForBackup(uint64_t id, std::function<void(Result<std::string>)> finished) {
  const auto job = host_.backups->Find(id);
  if (!job) {
    finished(Fail(Errc::kNotFound, "backup " + std::to_string(id) + " was lost track of"));
    return;
  }
  if (!job->running) {
    if (job->error) return finished(Fail(*job->error));
    progress_->backup_file = job->made ? job->made->path : "";
    finished("backup " + progress_->backup_file);
    return;
  }
  if (!poll_) poll_ = uv::Timer::Create(*host_.loop);
  poll_->Start(200, 0, [this, id, finished] { WaitForBackup(id, finished); });
}

void PairUpgrade::RunStep(const std::string& step,
                          std::function<void(Result<std::string>)> finished) {
  const Progress& p = *progress_;
  auto as_detail = [finished](std::string what) {
    return [finished, what](Result<json> result) {
      if (!result) return finished(Fail(result.error()));
      finished(what);
    };
  };
  if (step == "backup") {
    auto id = host_.backups->Start(p.unprotected_backup ? "" : p.backup_password, /*history=*/true);
    if (!id) return finished(Fail(id.error()));
    WaitForBackup(*id, finished);
    return;
  }
  if (step == "sync") {
    if (host_.pair->state().role != Role::kPrimary) {
      return finished(Fail(Errc::kInvalidArgument, "this server is no longer the primary"));
    }
    host_.pair->SyncNow(as_detail("the backup synced"));
    return;
  }
  if (step == "break") {
    if (host_.pair->state().role == Role::kNone) return finished(std::string("already broken"));
    host_.pair->Break(as_detail("the relationship is broken"));
    return;
  }
  if (step == "upgrade_here") {
    auto installed = [this, finished](std::string version) {
      finished("this server runs site " + version);
    };
    if (!p.file.empty()) {
      host_.updates->InstallFile(p.file, [finished, installed](Result<server::FileInstalled> done) {
        if (!done) return finished(Fail(done.error()));
        installed(done->site_version);
      });
    } else {
      host_.updates->Install(p.update, [finished, installed](Result<server::UpdateInstalled> done) {
        if (!done) return finished(Fail(done.error()));
        installed(done->site_version);
      });
    }
    return;
  }
  if (step == "reestablish") {
    const State& pair = host_.pair->state();
    if (pair.role == Role::kPrimary && pair.peer == p.peer) {
      return finished(std::string("already established"));
    }
    host_.pair->PeerHello([this, finished, as_detail](Result<json> hello) {
      if (!hello) return finished(Fail(hello.error()));
      const std::string mine = host_.settings->settings().site_version;
      if (hello->value("site_version", "") != mine) {
        return finished(Fail(Errc::kInvalidArgument,
                             "the other server runs site " + hello->value("site_version", "") +
                                 ", this one " + mine + ": " + Instruction("upgrade_peer")));
      }
      host_.pair->Establish(progress_->peer, progress_->self_address,
                            as_detail("established again: this server primary"));
    });
    return;
  }
  finished(Fail(Errc::kInternal, "unknown step " + step));
}

}  // namespace sluice::pair
