// sluicectl backup ... and restore: backup create and status ask sluiced (it copies its own
// database while serving); backup inspect and restore run locally, restore with the server
// stopped (docs/admin.md, "Backups" and "Restore").

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/base/file_util.h"
#include "common/base/time_format.h"
#include "server/backup/backup_archive.h"
#include "server/backup/restore.h"
#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"
#include "server/ctl/ctl_secret.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr auto kPollInterval = std::chrono::milliseconds(200);
constexpr char kLostPasswordNote[] =
    "A lost password means no restore: nobody, including Sluice's developers, can open the "
    "backup without it.";

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(units)) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

// "backup: 42% (1.2 GB of 2.9 GB)" on one rewritten terminal line; nothing when not a terminal.
class ProgressLine {
 public:
  explicit ProgressLine(std::ostream& err, std::string what)
      : err_(err), what_(std::move(what)), shown_(::isatty(STDERR_FILENO) == 1) {}
  void Show(uint64_t done, uint64_t total) {
    if (!shown_ || total == 0) return;
    err_ << '\r' << what_ << ": " << (100 * std::min(done, total) / total) << "% ("
         << FormatBytes(done) << " of " << FormatBytes(total) << ")   " << std::flush;
    used_ = true;
  }
  ~ProgressLine() {
    if (used_) err_ << '\n';
  }

 private:
  std::ostream& err_;
  std::string what_;
  bool shown_;
  bool used_ = false;
};

// Moves the finished backup from the server's backup dir to `out`: a rename when both are on
// one file system, else a copy that is renamed into place when complete.
Status MoveTo(const std::string& from, const std::string& out) {
  if (::rename(from.c_str(), out.c_str()) == 0) return {};
  if (errno != EXDEV) return Fail(ErrnoError("moving the backup to", out, errno));
  const std::string temp = out + ".partial";
  std::error_code ec;
  fs::copy_file(from, temp, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(temp, ec);
    return Fail(Errc::kIo, "copying the backup to " + out + ": " + ec.message());
  }
  fs::permissions(temp, fs::perms::owner_read | fs::perms::owner_write, ec);
  if (auto published = PublishFile(temp, out); !published) return published;
  fs::remove(from, ec);
  return {};
}

std::vector<std::pair<std::string, std::string>> ManifestFields(const json& m) {
  uint64_t bytes = 0;
  for (const json& entry : Field(m, "entries")) bytes += entry.value("size", uint64_t{0});
  uint64_t omitted_bytes = 0;
  for (const json& file : Field(m, "omitted")) omitted_bytes += file.value("size", uint64_t{0});
  std::string left_out;
  for (const json& part : Field(m, "history_left_out")) {
    left_out += (left_out.empty() ? "" : ", ") + part.get<std::string>();
  }
  const std::string history = m.value("history", true) ? "included" : "left out (" + left_out + ")";
  return {{"product", Text(m, "product") + ", backup format " + Text(m, "format_version")},
          {"protected", Text(m, "protected")},
          {"created", FormatIsoUtc(m.value("created_ms", int64_t{0}))},
          {"site version", Text(m, "site_version")},
          {"base version", Text(m, "base_version", "-").empty() ? "-" : Text(m, "base_version")},
          {"schema", "v" + Text(m, "schema_version")},
          {"taken from", Text(m, "source_root")},
          {"history", history},
          {"files", std::to_string(Field(m, "entries").size()) + " (" + FormatBytes(bytes) + ")"},
          {"left out",
           std::to_string(Field(m, "omitted").size()) + " (" + FormatBytes(omitted_bytes) + ")"},
          {"content hash", "sha256:" + Text(m, "content_sha256")}};
}

void PrintOmitted(std::ostream& out, const json& files, std::string_view title) {
  if (!files.is_array() || files.empty()) return;
  out << title << '\n';
  Table table({"FILE", "SIZE", "WHY", "HOW TO GET IT BACK"});
  for (const json& file : files) {
    table.AddRow({Text(file, "name"), FormatBytes(file.value("size", uint64_t{0})),
                  Text(file, "reason"), Text(file, "restore_from")});
  }
  table.Print(out);
}

void AddBackupCreate(Ctl& ctl, CLI::App* backup) {
  struct Options {
    std::string out, password_file;
    bool no_password = false, no_history = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* create = backup->add_subcommand(
      "create", std::string("Back up the running site into one file: database, keys, certificate, "
                            "installers' current MSIs. ") +
                    kLostPasswordNote);
  create->add_option("--out", options->out, "The backup file to write (must not exist)")
      ->required();
  auto* password = create->add_option("--password-file", options->password_file,
                                      "A file holding the backup's password ('-': stdin)");
  create
      ->add_flag("--no-password", options->no_password,
                 "Write an unprotected backup (it holds the site's private keys)")
      ->excludes(password);
  create->add_flag("--no-history", options->no_history, "Leave out the audit log");
  auto json_flag = Ctl::AddJsonFlag(create);
  create->callback([&ctl, options, json_flag] {
    if (options->password_file.empty() && !options->no_password) {
      return ctl.ReportFailure(Error(Errc::kInvalidArgument,
                                     "give --password-file F (strongly advised: the backup "
                                     "holds the site's private keys), or --no-password"));
    }
    std::error_code ec;
    const std::string out = fs::absolute(options->out, ec).lexically_normal().string();
    if (fs::exists(out, ec)) {
      return ctl.ReportFailure(Error(Errc::kAlreadyExists, out + " already exists"));
    }
    json args = {{"no_history", options->no_history}};
    if (options->no_password) {
      args["unprotected"] = true;
      ctl.err() << "sluicectl: warning: the backup is not password-protected; anyone holding "
                   "it holds the site's signing, enrollment and TLS keys\n";
    } else {
      auto secret = ReadSecretFile(options->password_file);
      if (!secret) return ctl.ReportFailure(secret.error());
      args["password"] = std::move(*secret);
    }
    auto started = ctl.CallOrReport("backup-create", args);
    if (!started) return;
    const uint64_t id = started->value("id", uint64_t{0});
    json status;
    {
      ProgressLine progress(ctl.err(), "backup");
      for (;;) {
        auto polled = ctl.CallOrReport("backup-status", json{{"id", id}});
        if (!polled) return;
        status = std::move(*polled);
        progress.Show(status.value("done", uint64_t{0}), status.value("total", uint64_t{0}));
        if (Text(status, "state") != "running") break;
        std::this_thread::sleep_for(kPollInterval);
      }
    }
    if (Text(status, "state") != "done") {
      const json& error = Field(status, "error");
      return ctl.ReportFailure(Error(Errc::kInternal, "backup " + std::to_string(id) +
                                                          " failed: " + Text(error, "code") + ": " +
                                                          Text(error, "message")));
    }
    const std::string made = Text(status, "file");
    if (auto moved = MoveTo(made, out); !moved) {
      return ctl.ReportFailure(
          Error(moved.error().code(),
                moved.error().message() + " (the backup is still at " + made + ")"));
    }
    status["file"] = out;
    if (*json_flag) return PrintJson(ctl.out(), status);
    ctl.out() << "wrote " << out << " (" << FormatBytes(status.value("size", uint64_t{0})) << ")\n";
    PrintFields(ctl.out(), ManifestFields(Field(status, "manifest")));
    if (!options->no_password) ctl.out() << kLostPasswordNote << '\n';
  });
}

std::vector<std::pair<std::string, std::string>> ScheduleFields(const json& schedule) {
  const int every = schedule.value("every_hours", 0);
  if (every == 0) return {{"schedule", "off"}};
  return {{"schedule", "every " + std::to_string(every) + " h, newest " + Text(schedule, "keep") +
                           " kept in " + Text(schedule, "dir")},
          {"password", Text(schedule, "password")},
          {"last", Text(schedule, "last", "-").empty() ? "-" : Text(schedule, "last")},
          {"next", Text(schedule, "next")},
          {"kept now", Text(schedule, "files")}};
}

void AddBackupSchedule(Ctl& ctl, CLI::App* backup) {
  struct Options {
    int every_hours = 0, keep = 0;
    std::string password_file;
    bool no_password = false, off = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* schedule = backup->add_subcommand(
      "schedule", "Take a backup every N hours into DATA_DIR/backups/full, keeping the newest K");
  auto* every = schedule->add_option("--every-hours", options->every_hours, "Hours between backups")
                    ->check(CLI::Range(1, 24 * 366));
  schedule->add_option("--keep", options->keep, "How many scheduled backups to keep")
      ->check(CLI::Range(1, 1000));
  auto* password = schedule->add_option("--password-file", options->password_file,
                                        "A file holding the backups' password ('-': stdin)");
  schedule
      ->add_flag("--no-password", options->no_password,
                 "Unprotected scheduled backups (they hold the site's private keys)")
      ->excludes(password);
  schedule->add_flag("--off", options->off, "Stop scheduled backups")->excludes(every);
  auto json_flag = Ctl::AddJsonFlag(schedule);
  schedule->callback([&ctl, options, json_flag] {
    if (!options->off && options->every_hours == 0) {
      return ctl.ReportFailure(Error(Errc::kInvalidArgument, "give --every-hours N, or --off"));
    }
    json args = {{"every_hours", options->off ? 0 : options->every_hours}};
    if (options->keep > 0) args["keep"] = options->keep;
    if (options->no_password) args["unprotected"] = true;
    if (!options->password_file.empty()) {
      auto secret = ReadSecretFile(options->password_file);
      if (!secret) return ctl.ReportFailure(secret.error());
      args["password"] = std::move(*secret);
    }
    ctl.Run("backup-schedule", args, *json_flag, [](const json& r, std::ostream& out) {
      PrintFields(out, ScheduleFields(r));
      return Status{};
    });
  });
}

void AddBackupStatus(Ctl& ctl, CLI::App* backup) {
  CLI::App* status = backup->add_subcommand("status", "Show the latest backup of the running site");
  auto json_flag = Ctl::AddJsonFlag(status);
  status->callback([&ctl, json_flag] {
    ctl.Run("backup-status", json::object(), *json_flag, [](const json& r, std::ostream& out) {
      std::vector<std::pair<std::string, std::string>> fields = {
          {"backup", Text(r, "id") + " " + Text(r, "state") +
                         (r.value("scheduled", false) ? " (scheduled)" : "")},
          {"progress", FormatBytes(r.value("done", uint64_t{0})) + " of " +
                           FormatBytes(r.value("total", uint64_t{0}))},
          {"started", Text(r, "started")},
          {"ended", Text(r, "ended")}};
      if (r.contains("file")) fields.emplace_back("file", Text(r, "file"));
      if (r.contains("error")) {
        fields.emplace_back(
            "error", Text(Field(r, "error"), "code") + ": " + Text(Field(r, "error"), "message"));
      }
      PrintFields(out, fields);
      return Status{};
    });
  });
}

void AddBackupInspect(Ctl& ctl, CLI::App* backup) {
  struct Options {
    std::string file, password_file;
  };
  auto options = std::make_shared<Options>();
  CLI::App* inspect = backup->add_subcommand(
      "inspect", "Verify a backup file and print its manifest, without restoring it (no server)");
  inspect->add_option("FILE", options->file, "The backup file")->required();
  inspect->add_option("--password-file", options->password_file,
                      "A file holding the backup's password ('-': stdin)");
  auto json_flag = Ctl::AddJsonFlag(inspect);
  inspect->callback([&ctl, options, json_flag] {
    auto password = OptionalSecretFile(options->password_file);
    if (!password) return ctl.ReportFailure(password.error());
    auto manifest = backup::InspectBackup(options->file, *password);
    if (!manifest) return ctl.ReportFailure(manifest.error());
    const json m = backup::ManifestJson(*manifest);
    if (*json_flag) return PrintJson(ctl.out(), m);
    ctl.out() << options->file << ": a complete, verified backup\n";
    PrintFields(ctl.out(), ManifestFields(m));
    PrintOmitted(ctl.out(), Field(m, "omitted"), "Not in the backup:");
  });
}

// Test-only: SLUICE_TEST_RESTORE_KILL_AT=<step> kills sluicectl with SIGKILL at that step of a
// restore ("staged", "committed", "moved <item>"), for the crash tests.
backup::RestoreStepHook KillHookFromEnvironment() {
  const char* at = std::getenv("SLUICE_TEST_RESTORE_KILL_AT");
  if (at == nullptr || *at == '\0') return {};
  return [at = std::string(at)](std::string_view step) {
    if (step == at) ::kill(::getpid(), SIGKILL);
  };
}

void AddRestore(Ctl& ctl) {
  struct Options {
    std::string file, password_file;
  };
  auto options = std::make_shared<Options>();
  CLI::App* restore = ctl.app().add_subcommand(
      "restore",
      "Replace the data dir's state with a backup's (sluiced must be stopped). All or nothing: "
      "a refusal or a crash leaves the old state or the new one, never a mix");
  restore->add_option("FILE", options->file, "The backup file")->required();
  restore->add_option("--password-file", options->password_file,
                      "A file holding the backup's password ('-': stdin)");
  auto json_flag = Ctl::AddJsonFlag(restore);
  restore->callback([&ctl, options, json_flag] {
    auto password = OptionalSecretFile(options->password_file);
    if (!password) return ctl.ReportFailure(password.error());
    Result<backup::RestoreReport> report = Fail(Errc::kInternal, "not run");
    {
      ProgressLine progress(ctl.err(), "restore");
      report = backup::RestoreBackup(
          {.data_root = ctl.data_dir(),
           .file = options->file,
           .password = std::move(*password),
           .progress = [&progress](uint64_t done, uint64_t total) { progress.Show(done, total); },
           .hook = KillHookFromEnvironment()});
    }
    if (!report) return ctl.ReportFailure(report.error());
    json missing = json::array();
    for (const auto& file : report->missing) missing.push_back(backup::OmittedJson(file));
    const json result = {{"data_dir", report->data_root},
                         {"manifest", backup::ManifestJson(report->manifest)},
                         {"previous_site_version", report->previous_site_version},
                         {"leases_expired_at_next_start", report->leases_expired},
                         {"pair", nullptr},
                         {"missing", missing}};
    if (*json_flag) return PrintJson(ctl.out(), result);
    ctl.out() << "restored " << options->file << " into " << report->data_root << '\n';
    PrintFields(ctl.out(),
                {{"site version",
                  report->manifest.site_version + " (was " + report->previous_site_version + ")"},
                 {"taken", FormatIsoUtc(report->manifest.created_ms)},
                 {"leases", std::to_string(report->leases_expired) +
                                " running at the backup; they expire at the next start and "
                                "their clients retry"},
                 {"failover pair",
                  "none: a restore ends the data dir's pair relationship (establish it again)"},
                 {"history", report->manifest.history ? "included" : "left out"}});
    PrintOmitted(ctl.out(), missing, "Missing here (the restored site refers to them):");
    ctl.out() << "start sluiced to serve the restored site\n";
  });
}

}  // namespace

void AddBackupCommands(Ctl& ctl) {
  CLI::App* backup = ctl.app().add_subcommand("backup", "Backups of the site");
  backup->require_subcommand(1);
  AddBackupCreate(ctl, backup);
  AddBackupStatus(ctl, backup);
  AddBackupSchedule(ctl, backup);
  AddBackupInspect(ctl, backup);
  AddRestore(ctl);
}

}  // namespace sluice::ctl
