#include "server/admin/admin_commands.h"

#include "common/base/time_format.h"
#include "common/crypto/encoding.h"
#include "common/proto/enums.h"
#include "server/admin/admin_args.h"
#include "server/server.h"
#include "server/store/client_repo.h"

namespace sluice::server {
namespace {

using nlohmann::json;

json ClientJson(const store::ClientRow& row) {
  return {
      {"id", row.id},
      {"kind", row.kind},
      {"mode", row.mode},
      {"version", row.version},
      {"platform", row.platform},
      {"online", row.online},
      {"state", row.state},
      {"first_seen", FormatIsoUtc(row.first_seen_ms)},
      {"last_seen", FormatIsoUtc(row.last_seen_ms)},
      {"peer_address", row.peer_address},
      {"stats",
       {{"cpu_load", row.cpu_load},
        {"disk_used_pct", row.disk_used_pct},
        {"uptime_s", row.uptime_s},
        {"console_user", row.console_user}}},
  };
}

json Counts(const std::vector<store::ClientRow>& rows) {
  json counts = {{"total", rows.size()},
                 {"online", 0},
                 {"lost", 0},
                 {"by_kind", json::object()},
                 {"by_version", json::object()},
                 {"by_state", json::object()}};
  for (const auto& row : rows) {
    if (row.online) counts["online"] = counts["online"].get<int64_t>() + 1;
    if (row.state == "lost") counts["lost"] = counts["lost"].get<int64_t>() + 1;
    for (auto [field, key] : {std::pair{"by_kind", row.kind}, {"by_version", row.version},
                              {"by_state", row.state}}) {
      json& bucket = counts[field];
      bucket[key] = bucket.value(key, 0) + 1;
    }
  }
  return counts;
}

// Reads every client on the store thread and hands the rows to `use` on the loop thread.
void WithClients(Server& server, admin::Reply reply,
                 std::function<json(const std::vector<store::ClientRow>&)> use) {
  server.store().Submit<std::vector<store::ClientRow>>(
      [](db::Database& db) { return store::ListClients(db); },
      [reply = std::move(reply), use = std::move(use)](
          Result<std::vector<store::ClientRow>> rows) {
        if (!rows) {
          reply(Fail(rows.error()));
          return;
        }
        reply(use(*rows));
      });
}

void StatusCommand(Server& server, const json&, admin::Reply reply) {
  WithClients(server, std::move(reply), [&server](const std::vector<store::ClientRow>& rows) {
    return json{
        {"version", "0.1.0"},
        {"site_version", server.settings().site_version},
        {"base_version", server.settings().base_version},
        {"listen", server.endpoint()},
        {"advertised", server.advertised_endpoint()},
        {"uptime_s", (server.clock().WallMs() - server.started_ms()) / 1000},
        {"connections", server.connection_count()},
        {"store_failed_jobs", server.store().failed_jobs()},
        {"clients", Counts(rows)},
    };
  });
}

void Clients(Server& server, const json&, admin::Reply reply) {
  WithClients(server, std::move(reply), [](const std::vector<store::ClientRow>& rows) {
    json list = json::array();
    for (const auto& row : rows) list.push_back(ClientJson(row));
    return json{{"counts", Counts(rows)}, {"clients", std::move(list)}};
  });
}

void ClientConfig(Server& server, const json& args, admin::Reply reply) {
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
              {{"server", server.advertised_endpoint()},
               {"pin", server.data_dir().certificate_pin},
               {"enrollment_key", server.enrollment_key()},
               {"signing_key", crypto::Base64Encode(server.data_dir().signing_key->PublicKey())},
               {"kind", *kind},
               {"mode", *mode},
               {"version", server.settings().site_version}}}});
}

void Settings(Server& server, const json&, admin::Reply reply) {
  json settings = json::object();
  for (const auto& [key, value] : server.settings().ToMap()) settings[key] = value;
  reply(json{{"settings", std::move(settings)}});
}

void SettingsSet(Server& server, const json& args, admin::Reply reply) {
  auto key = StringArg(args, "key");
  auto value = StringArg(args, "value");
  if (!key || !value) {
    reply(Fail(!key ? key.error() : value.error()));
    return;
  }
  server.UpdateSetting(*key, *value, [reply = std::move(reply), key = *key, value = *value](
                                         sluice::Status saved) {
    if (!saved) {
      reply(Fail(saved.error()));
      return;
    }
    reply(json{{"key", key}, {"value", value}});
  });
}

}  // namespace

void RegisterAdminCommands(admin::AdminServer& admin, Server& server) {
  using Handler = void (*)(Server&, const json&, admin::Reply);
  for (auto [name, handler] : {std::pair<const char*, Handler>{"status", &StatusCommand},
                               {"clients", &Clients},
                               {"client-config", &ClientConfig},
                               {"settings", &Settings},
                               {"settings-set", &SettingsSet}}) {
    admin.Register(name, [&server, handler](const json& args, admin::Reply reply) {
      handler(server, args, std::move(reply));
    });
  }
}

}  // namespace sluice::server
