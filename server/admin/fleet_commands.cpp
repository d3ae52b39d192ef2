#include "server/admin/fleet_commands.h"

#include <memory>

#include "server/admin/admin_args.h"
#include "server/admin/audit_json.h"
#include "server/admin/client_json.h"
#include "server/store/audit_repo.h"

namespace sluice::server {
namespace {

using nlohmann::json;

using KindVersionCounts = std::vector<store::KindVersionCount>;

struct Fleet {
  store::Store& store;
  UpgradeAllowedFn upgrade_allowed;
  std::shared_ptr<ClientCountsRead> counts;
};

Error BadFleetArg(std::string_view name, std::string_view what) {
  return Error(Errc::kInvalidArgument, "argument '" + std::string(name) + "' " + std::string(what));
}

// An optional whole number in [low, high]; absent or null leaves `out` as it is.
Status IntArg(const json& args, const char* name, int64_t low, int64_t high, int64_t* out) {
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return {};
  if (!it->is_number_integer() || it->get<int64_t>() < low || it->get<int64_t>() > high) {
    return Fail(BadFleetArg(name, "must be a whole number from " + std::to_string(low) + " to " +
                                      std::to_string(high)));
  }
  *out = it->get<int64_t>();
  return {};
}

struct PageArgs {
  store::ClientFilter filter;
  store::ClientSort sort = store::ClientSort::kLastSeen;
  int64_t offset = 0;
  int64_t limit = 50;
};

Result<PageArgs> ParsePageArgs(const json& args) {
  PageArgs page;
  store::ClientFilter& f = page.filter;
  for (auto [name, field] : {std::pair{"q", &f.q},
                             {"kind", &f.kind},
                             {"version", &f.version},
                             {"mode", &f.mode},
                             {"state", &f.state},
                             {"jump_group", &f.jump_group},
                             {"tag", &f.tag}}) {
    if (auto ok = OptionalStringArg(args, name, field); !ok) return Fail(ok.error());
  }
  if (!f.state.empty() && f.state != "online" && f.state != "offline" && f.state != "lost") {
    return Fail(BadFleetArg("state", "must be online, offline or lost"));
  }
  if (auto ok = IntArg(args, "offset", 0, INT64_MAX / 2, &page.offset); !ok) {
    return Fail(ok.error());
  }
  if (auto ok = IntArg(args, "limit", 1, kMaxClientsPage, &page.limit); !ok) {
    return Fail(ok.error());
  }
  std::string sort = "last_seen";
  if (auto ok = OptionalStringArg(args, "sort", &sort); !ok) return Fail(ok.error());
  if (sort == "last_seen") {
    page.sort = store::ClientSort::kLastSeen;
  } else if (sort == "id") {
    page.sort = store::ClientSort::kId;
  } else if (sort == "version") {
    page.sort = store::ClientSort::kVersion;
  } else {
    return Fail(BadFleetArg("sort", "must be last_seen, id or version"));
  }
  return page;
}

void ClientsPage(Fleet& fleet, const json& args, admin::Reply reply) {
  auto page = ParsePageArgs(args);
  if (!page) return reply(Fail(page.error()));
  fleet.store.Submit<store::ClientPage>(
      [page = *page](db::Database& db) {
        return store::QueryClients(db, page.filter, page.sort, page.offset, page.limit);
      },
      [offset = page->offset, limit = page->limit,
       reply = std::move(reply)](Result<store::ClientPage> rows) {
        if (!rows) return reply(Fail(rows.error()));
        json clients = json::array();
        for (const auto& row : rows->clients) clients.push_back(ClientJson(row));
        reply(json{{"total", rows->total},
                   {"offset", offset},
                   {"limit", limit},
                   {"clients", std::move(clients)}});
      });
}

void ClientDetail(Fleet& fleet, const json& args, admin::Reply reply) {
  auto id = NonEmptyStringArg(args, "client_id");
  if (!id) return reply(Fail(id.error()));
  struct Detail {
    store::ClientRow client;
    std::vector<store::AuditRow> history;
  };
  fleet.store.Submit<Detail>(
      [id = *id](db::Database& db) -> Result<Detail> {
        auto found = store::FindClient(db, id);
        if (!found) return Fail(found.error());
        if (!*found) return Fail(Errc::kNotFound, "no client '" + id + "'");
        auto history = store::ListAuditFiltered(db, {.client_id = id, .limit = kClientHistoryRows});
        if (!history) return Fail(history.error());
        return Detail{std::move(**found), std::move(*history)};
      },
      [&fleet, reply = std::move(reply)](Result<Detail> detail) {
        if (!detail) return reply(Fail(detail.error()));
        json history = json::array();
        for (const auto& row : detail->history) history.push_back(AuditEventJson(row));
        reply(json{{"client", ClientJson(detail->client)},
                   {"history", std::move(history)},
                   {"upgrade_allowed", fleet.upgrade_allowed(detail->client.kind)}});
      });
}

void FleetCounts(Fleet& fleet, const json&, admin::Reply reply) {
  fleet.counts->Get(
      [reply = std::move(reply)](Result<KindVersionCounts> groups) {
        if (!groups) return reply(Fail(groups.error()));
        json by_kind_version = json::array();
        for (const auto& group : *groups) {
          by_kind_version.push_back({{"kind", group.kind},
                                     {"version", group.version},
                                     {"online", group.online},
                                     {"offline", group.offline},
                                     {"lost", group.lost}});
        }
        reply(json{{"counts", ClientCounts(*groups)},
                   {"by_kind_version", std::move(by_kind_version)}});
      });
}

Result<store::AuditFilter> ParseAuditArgs(const json& args) {
  store::AuditFilter filter{.limit = 100'000};
  for (auto [name, field] : {std::pair{"event", &filter.event},
                             {"scope", &filter.scope},
                             {"client_id", &filter.client_id}}) {
    if (auto ok = OptionalStringArg(args, name, field); !ok) return Fail(ok.error());
  }
  for (auto [name, field] : {std::pair{"since_ms", &filter.since_ms},
                             {"until_ms", &filter.until_ms},
                             {"before_seq", &filter.before_seq}}) {
    if (auto ok = IntArg(args, name, 0, INT64_MAX, field); !ok) return Fail(ok.error());
  }
  // 0: every matching event (sluice-load's audit replay reads the whole log).
  if (auto ok = IntArg(args, "limit", 0, INT64_MAX - 1, &filter.limit); !ok) {
    return Fail(ok.error());
  }
  return filter;
}

void Audit(Fleet& fleet, const json& args, admin::Reply reply) {
  auto filter = ParseAuditArgs(args);
  if (!filter) return reply(Fail(filter.error()));
  const int64_t limit = filter->limit;
  if (limit > 0) ++filter->limit;  // one more than asked: whether an older page exists
  fleet.store.Submit<std::vector<store::AuditRow>>(
      [filter = *filter](db::Database& db) { return store::ListAuditFiltered(db, filter); },
      [limit, reply = std::move(reply)](Result<std::vector<store::AuditRow>> rows) {
        if (!rows) return reply(Fail(rows.error()));
        const bool more = limit > 0 && static_cast<int64_t>(rows->size()) > limit;
        json events = json::array();
        for (size_t i = more ? 1 : 0; i < rows->size(); ++i) {
          events.push_back(AuditEventJson((*rows)[i]));
        }
        json first_seq = events.empty() ? json() : events.front()["seq"];
        reply(json{{"events", std::move(events)}, {"first_seq", first_seq}, {"more", more}});
      });
}

}  // namespace

std::shared_ptr<ClientCountsRead> MakeClientCountsRead(store::Store& store, const Clock& clock) {
  return ClientCountsRead::Create(store, clock, /*max_age_ms=*/1'000,
                                  &store::CountClientsByKindVersion);
}

void RegisterFleetCommands(admin::AdminServer& admin, store::Store& store,
                           std::shared_ptr<ClientCountsRead> counts,
                           UpgradeAllowedFn upgrade_allowed) {
  auto fleet = std::make_shared<Fleet>(Fleet{store, std::move(upgrade_allowed), std::move(counts)});
  using Handler = void (*)(Fleet&, const json&, admin::Reply);
  for (auto [name, handler] : {std::pair<const char*, Handler>{"clients-page", &ClientsPage},
                               {"client-detail", &ClientDetail},
                               {"fleet", &FleetCounts},
                               {"audit", &Audit}}) {
    admin.Register(name, [fleet, handler](const json& args, admin::Reply reply) {
      handler(*fleet, args, std::move(reply));
    });
  }
}

}  // namespace sluice::server
