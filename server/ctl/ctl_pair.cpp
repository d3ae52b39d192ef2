// sluicectl pair ...: the failover pair (docs/admin.md, "Failover pair"). Each subcommand asks
// the local sluiced, which talks to its peer over the pair protocol.

#include "common/base/time_format.h"
#include "server/ctl/ctl_commands.h"
#include "server/ctl/ctl_output.h"
#include "server/ctl/ctl_secret.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;

std::string PairWhen(const json& object, std::string_view key) {
  const json& value = Field(object, key);
  if (!value.is_number_integer() || value.get<int64_t>() <= 0) return "-";
  return FormatIsoUtc(value.get<int64_t>());
}

std::string PairSyncText(const json& sync) {
  if (!sync.is_object()) return "never";
  return PairWhen(sync, "finished_ms") + " (" + Text(sync, "duration_ms") + " ms, " +
         Text(sync, "bytes") + " bytes, " + Text(sync, "packages") + " packages fetched, site " +
         Text(sync, "site_version") + ")";
}

void PrintPairStatus(const json& r, std::ostream& out) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"role", Text(r, "role")},
      {"this server",
       Text(r, "server_id") + (r.value("key_set", false) ? "" : " (no pair key set)")},
  };
  if (Text(r, "role") != "none") {
    std::string peer = Text(r, "peer") + " (server " + Text(r, "peer_server_id") + ")";
    if (r.contains("reachable")) {
      peer += r.value("reachable", false) ? ", reachable: " + Text(r, "peer_role") + ", site " +
                                                Text(r, "peer_site_version")
                                          : ", NOT reachable: " + Text(r, "unreachable_because");
    }
    fields.emplace_back("peer", peer);
    fields.emplace_back("epoch", Text(r, "epoch"));
    fields.emplace_back("established", PairWhen(r, "established_ms"));
    fields.emplace_back("last sync", PairSyncText(Field(r, "last_sync")));
    fields.emplace_back("serves clients", Text(r, "serves_clients"));
  }
  if (const json& running = Field(r, "sync_running"); running.is_object()) {
    fields.emplace_back("sync running", Text(running, "phase") + " " + Text(running, "done") +
                                            " of " + Text(running, "total") + " bytes");
  }
  if (PairWhen(r, "grant_fence_until_ms") != "-") {
    fields.emplace_back("no grants until", PairWhen(r, "grant_fence_until_ms"));
  }
  PrintFields(out, fields);
  const json& history = Field(r, "history");
  if (!history.is_array() || history.empty()) return;
  out << "\nhistory (newest last):\n";
  Table table({"WHEN", "EVENT", "DETAIL"});
  const size_t from = history.size() > 15 ? history.size() - 15 : 0;
  for (size_t i = from; i < history.size(); ++i) {
    table.AddRow(
        {PairWhen(history[i], "at_ms"), Text(history[i], "event"), Text(history[i], "detail")});
  }
  table.Print(out);
}

void AddPairSetKey(Ctl& ctl, CLI::App* pair) {
  auto file = std::make_shared<std::string>();
  CLI::App* set_key = pair->add_subcommand(
      "set-key", "Set the inter-server pre-shared key (the same on both servers)");
  set_key->add_option("--psk-file", *file, "file holding the key (16 to 4096 bytes)")->required();
  set_key->callback([&ctl, file] {
    auto key = ReadSecretFile(*file);
    if (!key) return ctl.ReportFailure(key.error());
    ctl.Run("pair-set-key", {{"key", *key}}, false, [](const json&, std::ostream& out) {
      out << "pair key set\n";
      return Status{};
    });
  });
}

void AddPairEstablish(Ctl& ctl, CLI::App* pair) {
  auto peer = std::make_shared<std::string>();
  auto reverse = std::make_shared<std::string>();
  CLI::App* establish =
      pair->add_subcommand("establish", "On the primary: make the server at --peer its backup");
  establish->add_option("--peer", *peer, "HOST:PORT where this server reaches the backup")
      ->required();
  establish->add_option("--reverse", *reverse, "HOST:PORT where the backup reaches this server")
      ->required();
  auto json_flag = Ctl::AddJsonFlag(establish);
  establish->callback([&ctl, peer, reverse, json_flag] {
    ctl.Run("pair-establish", {{"peer", *peer}, {"reverse", *reverse}}, *json_flag,
            [](const json& r, std::ostream& out) {
              out << "established: this server is the primary, " << Text(r, "peer")
                  << " its backup (first sync in about a minute)\n";
              return Status{};
            });
  });
}

void AddPairStatus(Ctl& ctl, CLI::App* pair) {
  CLI::App* status = pair->add_subcommand("status", "Show this server's pair, its peer and syncs");
  auto json_flag = Ctl::AddJsonFlag(status);
  status->callback([&ctl, json_flag] {
    ctl.Run("pair-status", json::object(), *json_flag, [](const json& r, std::ostream& out) {
      PrintPairStatus(r, out);
      return Status{};
    });
  });
}

void AddPairBreak(Ctl& ctl, CLI::App* pair) {
  CLI::App* broken =
      pair->add_subcommand("break", "End the relationship; both servers keep everything else");
  auto json_flag = Ctl::AddJsonFlag(broken);
  broken->callback([&ctl, json_flag] {
    ctl.Run("pair-break", json::object(), *json_flag, [](const json& r, std::ostream& out) {
      out << "the relationship is broken (peer " << Text(r, "peer") << ")\n";
      return Status{};
    });
  });
}

void AddPairSyncNow(Ctl& ctl, CLI::App* pair) {
  CLI::App* sync = pair->add_subcommand(
      "sync-now",
      "Make the backup pull a sync now and wait for it (raise --timeout for a big site)");
  auto json_flag = Ctl::AddJsonFlag(sync);
  sync->callback([&ctl, json_flag] {
    ctl.Run("pair-sync-now", json::object(), *json_flag, [](const json& r, std::ostream& out) {
      out << "synced: " << PairSyncText(r) << "\n";
      return Status{};
    });
  });
}

void AddPairBecomePrimary(Ctl& ctl, CLI::App* pair) {
  auto sync_first = std::make_shared<bool>(false);
  auto force = std::make_shared<bool>(false);
  CLI::App* become =
      pair->add_subcommand("become-primary",
                           "On the backup: take over as primary; a reachable old primary becomes "
                           "the backup");
  become->add_flag("--sync-first", *sync_first,
                   "pull a last sync while the primary refuses new client work (every lease "
                   "comes along: no pause in grants)");
  become->add_flag("--force", *force,
                   "take over even if the primary cannot be reached (only when it is down for "
                   "good: it must not serve clients again)");
  auto json_flag = Ctl::AddJsonFlag(become);
  become->callback([&ctl, sync_first, force, json_flag] {
    ctl.Run("pair-become-primary", {{"sync_first", *sync_first}, {"force", *force}}, *json_flag,
            [](const json& r, std::ostream& out) {
              out << "this server is the primary now (epoch " << Text(r, "epoch") << ")";
              if (PairWhen(r, "grant_fence_until_ms") != "-") {
                out << "; no upgrade slots are granted until "
                    << PairWhen(r, "grant_fence_until_ms")
                    << " (leases the old primary granted since the last sync may still run)";
              }
              out << ".\nSwitch the site's traffic (shared IP, DNS or NAT) to this server.\n";
              return Status{};
            });
  });
}

void PrintUpgrade(const json& r, std::ostream& out) {
  out << Text(r, "procedure") << " pair upgrade\n";
  const json& steps = Field(r, "steps");
  if (steps.is_array()) {
    for (const json& step : steps) {
      const std::string state = Text(step, "state");
      const char* mark = state == "done" ? "[x]" : state == "pending" ? "[ ]" : "[>]";
      out << "  " << mark << " " << Text(step, "n") << ". " << Text(step, "title") << "\n";
    }
  }
  if (Text(r, "backup_file") != "-" && !Text(r, "backup_file").empty()) {
    out << "backup: " << Text(r, "backup_file") << "\n";
  }
  out << "\n" << Text(r, "next") << "\n";
}

void AddPairUpgrade(Ctl& ctl, CLI::App* pair) {
  struct Options {
    bool synchronous = false, asynchronous = false, resume = false, dry_run = false,
         abandon = false, no_password = false;
    std::string file, update, password_file;
  };
  auto o = std::make_shared<Options>();
  CLI::App* upgrade = pair->add_subcommand(
      "upgrade", "Upgrade both servers of the pair, step by step (run on the primary)");
  auto* sync = upgrade->add_flag("--synchronous", o->synchronous,
                                 "upgrade this server in place, then the other: a short outage");
  auto* async =
      upgrade->add_flag("--asynchronous", o->asynchronous,
                        "upgrade the other server first and switch to it: minimal outage");
  sync->excludes(async);
  upgrade->add_option("--file", o->file, "the offline update file to install");
  upgrade->add_option("--update", o->update, "the update id to install from the update source");
  upgrade->add_option("--backup-password-file", o->password_file,
                      "password of the backup taken first");
  upgrade->add_flag("--no-backup-password", o->no_password, "take that backup unprotected");
  upgrade->add_flag("--continue", o->resume,
                    "go on after the step that waited for you (or after an interruption)");
  upgrade->add_flag("--dry-run", o->dry_run, "print the plan, do nothing");
  upgrade->add_flag("--abandon", o->abandon, "forget an unfinished procedure");
  auto json_flag = Ctl::AddJsonFlag(upgrade);
  upgrade->callback([&ctl, o, json_flag] {
    json args = {{"continue", o->resume}, {"dry_run", o->dry_run}, {"abandon", o->abandon}};
    if (o->synchronous) args["procedure"] = "synchronous";
    if (o->asynchronous) args["procedure"] = "asynchronous";
    if (!o->file.empty()) args["file"] = o->file;
    if (!o->update.empty()) args["update"] = o->update;
    if (!o->password_file.empty()) {
      auto password = ReadSecretFile(o->password_file);
      if (!password) return ctl.ReportFailure(password.error());
      args["backup_password"] = *password;
    }
    if (o->no_password) args["unprotected_backup"] = true;
    ctl.Run("pair-upgrade", args, *json_flag, [](const json& r, std::ostream& out) {
      if (r.value("abandoned", false)) {
        out << "the pair upgrade was abandoned\n";
      } else {
        PrintUpgrade(r, out);
      }
      return Status{};
    });
  });
}

}  // namespace

void AddPairCommands(Ctl& ctl) {
  CLI::App* pair = ctl.app().add_subcommand("pair", "The failover pair (docs/admin.md)");
  pair->require_subcommand(1);
  AddPairSetKey(ctl, pair);
  AddPairEstablish(ctl, pair);
  AddPairStatus(ctl, pair);
  AddPairBreak(ctl, pair);
  AddPairSyncNow(ctl, pair);
  AddPairBecomePrimary(ctl, pair);
  AddPairUpgrade(ctl, pair);
}

}  // namespace sluice::ctl
