#include "server/admin/metrics_commands.h"

#include "server/admin/admin_args.h"
#include "server/store/audit_repo.h"

namespace sluice::server {

using nlohmann::json;

void RegisterMetricsCommands(admin::AdminServer& admin, metrics::ScrapeToken& token,
                             store::Store& store, Clock& clock, bool synced_copy) {
  admin.Register(
      "metrics-token", [&token, &store, &clock, synced_copy](const json& args, admin::Reply reply) {
        auto rotate = OptionalBoolArg(args, "rotate");
        if (!rotate) return reply(Fail(rotate.error()));
        const bool changes = *rotate || !token.exists();
        if (changes && synced_copy) {
          return reply(Fail(Errc::kInvalidArgument,
                            "metrics-token: this server is a failover pair's backup; its scrape "
                            "token is the primary's and every sync replaces it: make or rotate the "
                            "token on the primary (the next sync brings it here)"));
        }
        const bool created = !token.exists();
        auto value = *rotate ? token.Rotate() : token.GetOrCreate();
        if (!value) return reply(Fail(value.error()));
        if (changes) {
          store.Detach<void>("metrics: recording the scrape token change",
                             [row = store::AuditRow{.wall_ms = clock.WallMs(),
                                                    .event = store::audit_event::kMetricsToken,
                                                    .detail = created ? "created" : "rotated"}](
                                 db::Database& db) { return store::AppendAuditRow(db, row); });
        }
        reply(json{{"token", *value}, {"created", created}, {"rotated", *rotate && !created}});
      });
}

}  // namespace sluice::server
