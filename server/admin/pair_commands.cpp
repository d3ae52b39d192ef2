#include "server/admin/pair_commands.h"

#include "server/admin/admin_args.h"

namespace sluice::server {

using nlohmann::json;

void RegisterPairCommands(admin::AdminServer& admin, pair::PairService& pair,
                          pair::PairUpgrade& upgrade) {
  admin.Register("pair-upgrade", [&upgrade](const json& args, admin::Reply reply) {
    pair::UpgradeRequest request;
    for (auto [name, field] : {std::pair{"procedure", &request.procedure},
                               {"file", &request.file},
                               {"update", &request.update},
                               {"backup_password", &request.backup_password}}) {
      if (auto read = OptionalStringArg(args, name, field); !read) return reply(Fail(read.error()));
    }
    for (auto [name, field] : {std::pair{"unprotected_backup", &request.unprotected_backup},
                               {"continue", &request.resume},
                               {"dry_run", &request.dry_run},
                               {"abandon", &request.abandon}}) {
      auto flag = OptionalBoolArg(args, name);
      if (!flag) return reply(Fail(flag.error()));
      *field = *flag;
    }
    upgrade.Run(request, std::move(reply));
  });
  admin.Register("pair-set-key", [&pair](const json& args, admin::Reply reply) {
    auto key = StringArg(args, "key");
    if (!key) return reply(Fail(key.error()));
    if (auto set = pair.SetKey(*key); !set) return reply(Fail(set.error()));
    reply(json::object());
  });
  admin.Register("pair-establish", [&pair](const json& args, admin::Reply reply) {
    auto peer = StringArg(args, "peer");
    if (!peer) return reply(Fail(peer.error()));
    auto reverse = StringArg(args, "reverse");
    if (!reverse) return reply(Fail(reverse.error()));
    pair.Establish(*peer, *reverse, std::move(reply));
  });
  admin.Register("pair-status",
                 [&pair](const json&, admin::Reply reply) { pair.ShowStatus(std::move(reply)); });
  admin.Register("pair-break",
                 [&pair](const json&, admin::Reply reply) { pair.Break(std::move(reply)); });
  admin.Register("pair-sync-now",
                 [&pair](const json&, admin::Reply reply) { pair.SyncNow(std::move(reply)); });
  admin.Register("pair-become-primary", [&pair](const json& args, admin::Reply reply) {
    auto sync_first = OptionalBoolArg(args, "sync_first");
    if (!sync_first) return reply(Fail(sync_first.error()));
    auto force = OptionalBoolArg(args, "force");
    if (!force) return reply(Fail(force.error()));
    pair.BecomePrimary(*sync_first, *force, std::move(reply));
  });
}

}  // namespace sluice::server
