#pragma once
// Metrics admin command (docs/admin.md, "Metrics"):
//   metrics-token  {"rotate"?: bool}  -> {"token", "created", "rotated"}
// Prints the Prometheus scrape token, making it on first use; "rotate" replaces it (the old one
// stops working at once). Making or replacing it is audited (metrics_token), never the token.
// On a failover pair's backup the token is the primary's (each sync brings it): only reading
// an existing one is allowed there.

#include "common/base/clock.h"
#include "server/admin/admin_server.h"
#include "server/metrics/scrape_token.h"
#include "server/store/store.h"

namespace sluice::server {

// Registers the command above. Everything passed must outlive `admin`. Loop thread.
void RegisterMetricsCommands(admin::AdminServer& admin, metrics::ScrapeToken& token,
                             store::Store& store, Clock& clock, bool synced_copy);

}  // namespace sluice::server
