#include "server/admin/admin_audit.h"

#include "server/admin/admin_server.h"

namespace sluice::server {

void AuditAdminChange(store::Store& store, const Clock& clock, store::AuditRow row,
                      const nlohmann::json& args) {
  row.wall_ms = clock.WallMs();
  row.mono_ms = clock.MonotonicMs();
  row.detail = store::WithActor(std::move(row.detail), admin::ActorOf(args));
  const std::string context = "admin: auditing " + row.event;
  store.Detach<void>(
      context, [row = std::move(row)](db::Database& db) { return store::AppendAuditRow(db, row); });
}

}  // namespace sluice::server
