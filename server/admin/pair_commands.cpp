#include "server/admin/pair_commands.h"

#include "server/admin/admin_args.h"

namespace sluice::server {

using nlohmann::json;

void RegisterPairCommands(admin::AdminServer& admin, pair::PairService& pair) {
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
