#pragma once
// The fleet as the dashboard reads it, paged and filtered in SQLite on the store thread
// (docs/admin.md, "Fleet and audit queries"):
//   clients-page  {q?, kind?, version?, mode?, state?, jump_group?, tag?, offset?, limit?, sort?}
//                 -> {"total", "offset", "limit", "clients": [CLIENT]}
//   client-detail {client_id} -> {"client": CLIENT, "history": [EVENT], "upgrade_allowed"}
//   fleet         {}          -> {"counts": COUNTS, "by_kind_version": [{kind, version, online,
//                                 offline, lost}]}
//   audit         {event?, scope?, client_id?, since_ms?, until_ms?, before_seq?, limit?}
//                 -> {"events": [EVENT], "first_seq", "more"}

#include <functional>
#include <string>

#include "common/base/clock.h"
#include "server/admin/admin_server.h"
#include "server/store/client_query.h"
#include "server/store/shared_read.h"
#include "server/store/store.h"

namespace sluice::server {

inline constexpr int64_t kMaxClientsPage = 200;
inline constexpr int64_t kClientHistoryRows = 200;

// Whether "upgrade now" (the `upgrade` command) applies to clients of a kind: the server answers
// from UpgradeCoordinator (an upgradable kind whose policy is disabled). Loop thread.
using UpgradeAllowedFn = std::function<bool(const std::string& kind)>;

// The clients counted by kind and version, which `fleet` and `status` both answer from: read at
// most once a second however many admins poll them (store::SharedRead).
using ClientCountsRead = store::SharedRead<std::vector<store::KindVersionCount>>;
[[nodiscard]] std::shared_ptr<ClientCountsRead> MakeClientCountsRead(store::Store& store,
                                                                     const Clock& clock);

// `store` must outlive `admin`.
void RegisterFleetCommands(admin::AdminServer& admin, store::Store& store,
                           std::shared_ptr<ClientCountsRead> counts,
                           UpgradeAllowedFn upgrade_allowed);

}  // namespace sluice::server
