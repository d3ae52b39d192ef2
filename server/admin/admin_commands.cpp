#include "server/admin/admin_commands.h"

#include <memory>

#include "common/base/time_format.h"
#include "common/proto/enums.h"
#include "server/admin/admin_args.h"
#include "server/admin/admin_audit.h"
#include "server/admin/client_json.h"
#include "server/store/client_repo.h"

namespace sluice::server {
namespace {

using nlohmann::json;

using KindVersionCounts = std::vector<store::KindVersionCount>;

// What every site command works with.
struct Site {
  SiteFacts facts;
  SettingsService& settings;
  store::Store& store;
  Clock& clock;
  // The client counts of `status` (and `fleet`), read at most once a second: the dashboard
  // polls them.
  std::shared_ptr<ClientCountsRead> counts{};
};

// Reads every client on the store thread and hands the rows to `use` on the loop thread.
void WithClients(Site& site, admin::Reply reply,
                 std::function<json(const std::vector<store::ClientRow>&)> use) {
  site.store.Submit<std::vector<store::ClientRow>>(
      [](db::Database& db) { return store::ListClients(db); },
      [reply = std::move(reply), use = std::move(use)](Result<std::vector<store::ClientRow>> rows) {
        if (!rows) {
          reply(Fail(rows.error()));
          return;
        }
        reply(use(*rows));
      });
}

// Counts clients with one grouped query (shared for a second), not by reading every row: the
// dashboard's overview polls this.
void StatusCommand(Site& site, const json&, admin::Reply reply) {
  site.counts->Get(
      [&site, reply = std::move(reply)](Result<KindVersionCounts> groups) {
        if (!groups) return reply(Fail(groups.error()));
        const SiteSettings& settings = site.settings.settings();
        reply(json{
            {"version", "0.1.0"},
            {"site_version", settings.site_version},
            {"base_version", settings.base_version},
            {"listen", site.facts.listen},
            {"advertised", site.facts.advertised},
            {"uptime_s", (site.clock.WallMs() - site.facts.started_ms) / 1000},
            {"connections", site.facts.connection_count()},
            {"store_failed_jobs", site.store.failed_jobs()},
            {"clients", ClientCounts(*groups)},
        });
      });
}

void Clients(Site& site, const json&, admin::Reply reply) {
  WithClients(site, std::move(reply), [](const std::vector<store::ClientRow>& rows) {
    json list = json::array();
    for (const auto& row : rows) list.push_back(ClientJson(row));
    return json{{"counts", ClientCounts(rows)}, {"clients", std::move(list)}};
  });
}

void ClientConfig(Site& site, const json& args, admin::Reply reply) {
  auto kind = StringArg(args, "kind");
  auto mode = StringArg(args, "mode");
  if (!kind || !mode) {
    reply(Fail(!kind ? kind.error() : mode.error()));
    return;
  }
  if (auto parsed = proto::ParseClientKind(*kind); !parsed) {
    reply(Fail(parsed.error()));
    return;
  }
  if (auto parsed = proto::ParseMode(*mode); !parsed) {
    reply(Fail(parsed.error()));
    return;
  }
  reply(json{{"config",
              {{"server", site.facts.advertised},
               {"pin", site.facts.certificate_pin()},
               {"enrollment_key", site.facts.enrollment_key},
               {"signing_key", site.facts.signing_public_key},
               {"kind", *kind},
               {"mode", *mode},
               {"version", site.settings.settings().site_version}}}});
}

void Settings(Site& site, const json&, admin::Reply reply) {
  json settings = json::object();
  for (const auto& [key, value] : site.settings.settings().ToMap()) settings[key] = value;
  reply(json{{"settings", std::move(settings)}});
}

void SettingsSet(Site& site, const json& args, admin::Reply reply) {
  auto key = StringArg(args, "key");
  auto value = StringArg(args, "value");
  if (!key || !value) {
    reply(Fail(!key ? key.error() : value.error()));
    return;
  }
  site.settings.Update(
      {.key = *key, .value = *value, .reconnect_clients = false},
      [&site, args, reply = std::move(reply), key = *key, value = *value](Status saved) {
        if (!saved) {
          reply(Fail(saved.error()));
          return;
        }
        AuditAdminChange(
            site.store, site.clock,
            {.event = store::audit_event::kSettingsChange, .detail = key + "=" + value}, args);
        reply(json{{"key", key}, {"value", value}});
      });
}

}  // namespace

void RegisterAdminCommands(admin::AdminServer& admin, SiteFacts facts, SettingsService& settings,
                           store::Store& store, std::shared_ptr<ClientCountsRead> counts,
                           Clock& clock) {
  auto site =
      std::make_shared<Site>(Site{std::move(facts), settings, store, clock, std::move(counts)});
  using Handler = void (*)(Site&, const json&, admin::Reply);
  for (auto [name, handler] : {std::pair<const char*, Handler>{"status", &StatusCommand},
                               {"clients", &Clients},
                               {"client-config", &ClientConfig},
                               {"settings", &Settings},
                               {"settings-set", &SettingsSet}}) {
    admin.Register(name, [site, handler](const json& args, admin::Reply reply) {
      handler(*site, args, std::move(reply));
    });
  }
}

}  // namespace sluice::server
