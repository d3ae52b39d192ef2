// clients-page, client-detail, fleet and the filtered audit over the real admin socket, on a
// real SQLite store holding a few thousand generated clients; every answer is checked against
// the same question asked of the generated rows in C++.

#include "server/admin/fleet_commands.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "server/store/client_query.h"
#include "server/store/client_repo.h"
#include "tests/server/admin/admin_store_fixture.h"

namespace sluice::server {
namespace {

using nlohmann::json;

constexpr int kClients = 3000;
const char* const kKinds[] = {"jump-client", "jumpoint", "access-console", "integration-client"};
const char* const kVersions[] = {"1.0.0", "9.0.0", "10.0.0", "2.5.1"};

struct Generated {
  store::ClientRow row;
  std::string jump_group, tag;  // "" without an enrollment
};

// Client i: kind, version, mode, state and names follow i, so every filter has some matches.
Generated MakeClient(int i) {
  Generated g;
  store::ClientRow& r = g.row;
  char id[16];
  std::snprintf(id, sizeof(id), "c-%05d", i);
  r.id = id;
  r.kind = kKinds[i % 4];
  r.version = kVersions[(i / 4) % 4];
  r.mode = i % 3 == 0 ? "passive" : "active";
  r.secret_hash = "x";
  r.platform = i % 2 == 0 ? "linux-x86_64" : "windows-x86_64";
  r.first_seen_ms = 1000;
  r.last_seen_ms = 1'000'000 + (i * 7919) % 100'000 * 1000;  // scrambled, distinct
  r.online = i % 5 == 0;
  r.state = !r.online && i % 7 == 0 ? "lost" : "active";
  r.console_user = i % 11 == 0 ? "CORP\\Admin" + std::to_string(i) : "user" + std::to_string(i);
  if (i == 42) r.console_user = "50%_off";
  if (i % 4 != 3) {
    g.jump_group = i % 2 == 0 ? "Servers" : "Desktops";
    g.tag = "rack-" + std::to_string(i % 6);
  }
  return g;
}

class FleetCommandsTest : public testing::AdminStoreFixture {
 protected:
  void SetUp() override {
    AdminStoreFixture::SetUp();
    if (HasFatalFailure()) return;
    for (int i = 0; i < kClients; ++i) clients_.push_back(MakeClient(i));
    auto inserted = store_->Call<void>([this](db::Database& db) -> Status {
      for (const auto& g : clients_) {
        if (auto ok = store::InsertClient(db, g.row); !ok) return ok;
        if (g.jump_group.empty()) continue;
        if (auto ok = db.Run(
                "INSERT INTO installer_enrollments (client_id, installer_id, jump_group, tag, "
                "enrolled_ms) VALUES (?1, 'inst-1', ?2, ?3, 0)",
                g.row.id, g.jump_group, g.tag);
            !ok) {
          return ok;
        }
      }
      return {};
    });
    ASSERT_TRUE(inserted) << inserted.error().ToString();
    loop_.Sync([this] {
      RegisterFleetCommands(*admin_, *store_,
                            MakeClientCountsRead(*store_, SystemClock::Instance()),
                            [](const std::string& kind) { return kind == "jumpoint"; });
    });
  }

  // Every matching id, page by page of 200 in `sort` order.
  std::vector<std::string> AllPages(json args, const std::string& sort) {
    std::vector<std::string> ids;
    args["sort"] = sort;
    args["limit"] = 200;
    for (int64_t offset = 0;; offset += 200) {
      args["offset"] = offset;
      json page = Ok("clients-page", args);
      EXPECT_EQ(page["offset"], offset);
      EXPECT_EQ(page["limit"], 200);
      for (const json& client : page["clients"]) ids.push_back(client["id"]);
      if (page["clients"].size() < 200) {
        EXPECT_EQ(page["total"].get<size_t>(), ids.size());
        return ids;
      }
    }
  }

  // The ids of generated clients for which `match` holds, ordered by id.
  template <class F>
  std::vector<std::string> Expected(F match) {
    std::vector<std::string> ids;
    for (const auto& g : clients_) {
      if (match(g)) ids.push_back(g.row.id);
    }
    return ids;
  }

  static std::vector<std::string> Sorted(std::vector<std::string> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  void AppendAudit(std::vector<store::AuditRow> rows) {
    auto appended = store_->Call<void>([rows](db::Database& db) -> Status {
      for (const auto& row : rows) {
        if (auto ok = store::AppendAuditRow(db, row); !ok) return ok;
      }
      return {};
    });
    ASSERT_TRUE(appended) << appended.error().ToString();
  }

  std::vector<Generated> clients_;
};

TEST_F(FleetCommandsTest, PagesCoverEveryClientOnceInEachOrder) {
  const auto all = Expected([](const Generated&) { return true; });
  EXPECT_EQ(AllPages(json::object(), "id"), all);
  // Newest sighting first.
  auto by_last_seen = AllPages(json::object(), "last_seen");
  ASSERT_EQ(Sorted(by_last_seen), all);
  std::map<std::string, int64_t> seen;
  for (const auto& g : clients_) seen[g.row.id] = g.row.last_seen_ms;
  for (size_t i = 1; i < by_last_seen.size(); ++i) {
    ASSERT_GE(seen[by_last_seen[i - 1]], seen[by_last_seen[i]]) << i;
  }
  // Versions numerically: every 9.0.0 before any 10.0.0.
  auto by_version = AllPages(json::object(), "version");
  ASSERT_EQ(Sorted(by_version), all);
  std::map<std::string, std::string> version;
  for (const auto& g : clients_) version[g.row.id] = g.row.version;
  std::vector<std::string> order;
  for (const auto& id : by_version) {
    if (order.empty() || order.back() != version[id]) order.push_back(version[id]);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"1.0.0", "2.5.1", "9.0.0", "10.0.0"}));

  // The default page: 50 newest, the same objects `clients` returns.
  json first = Ok("clients-page");
  EXPECT_EQ(first["total"], kClients);
  EXPECT_EQ(first["offset"], 0);
  EXPECT_EQ(first["limit"], 50);
  ASSERT_EQ(first["clients"].size(), 50u);
  EXPECT_EQ(first["clients"][0]["id"], by_last_seen[0]);
  const json& client = first["clients"][0];
  for (const char* key :
       {"id", "kind", "mode", "version", "platform", "online", "state", "first_seen", "last_seen",
        "peer_address", "jump_group", "tag", "stats"}) {
    EXPECT_TRUE(client.contains(key)) << key;
  }
  EXPECT_TRUE(client["stats"].contains("console_user"));
  // Past the end: an empty page with the total.
  json beyond = Ok("clients-page", {{"offset", kClients}});
  EXPECT_EQ(beyond["total"], kClients);
  EXPECT_TRUE(beyond["clients"].empty());
}

TEST_F(FleetCommandsTest, FiltersMatchTheGeneratedRows) {
  EXPECT_EQ(AllPages({{"kind", "jumpoint"}}, "id"),
            Expected([](const Generated& g) { return g.row.kind == "jumpoint"; }));
  EXPECT_EQ(AllPages({{"version", "10.0.0"}, {"mode", "passive"}}, "id"),
            Expected([](const Generated& g) {
              return g.row.version == "10.0.0" && g.row.mode == "passive";
            }));
  EXPECT_EQ(AllPages({{"state", "online"}}, "id"),
            Expected([](const Generated& g) { return g.row.online; }));
  EXPECT_EQ(AllPages({{"state", "offline"}}, "id"),
            Expected([](const Generated& g) { return !g.row.online && g.row.state != "lost"; }));
  EXPECT_EQ(AllPages({{"state", "lost"}}, "id"),
            Expected([](const Generated& g) { return g.row.state == "lost"; }));
  EXPECT_EQ(
      AllPages({{"jump_group", "Servers"}, {"tag", "rack-2"}}, "id"),
      Expected([](const Generated& g) { return g.jump_group == "Servers" && g.tag == "rack-2"; }));
  // The jump group and tag come with each client.
  json some = Ok("clients-page", {{"q", "c-0001"}, {"sort", "id"}});
  ASSERT_EQ(some["total"], 10);  // c-00010 .. c-00019
  EXPECT_EQ(some["clients"][0]["id"], "c-00010");
  EXPECT_EQ(some["clients"][0]["jump_group"], "Servers");
  EXPECT_EQ(some["clients"][0]["tag"], "rack-4");
  EXPECT_EQ(some["clients"][1]["jump_group"], "");  // c-00011 enrolled without an installer
  EXPECT_EQ(some["clients"][1]["tag"], "");
  EXPECT_EQ(some["clients"][1]["stats"]["console_user"], "CORP\\Admin11");
  EXPECT_EQ(some["clients"][3]["jump_group"], "Desktops");
  EXPECT_EQ(some["clients"][3]["tag"], "rack-1");
}

TEST_F(FleetCommandsTest, SearchIsACaseInsensitiveSubstringWithLiteralWildcards) {
  auto contains = [](std::string text, std::string needle) {
    for (auto* s : {&text, &needle}) {
      for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text.find(needle) != std::string::npos;
  };
  for (std::string q : {"corp\\admin", "ADMIN1", "Windows", "rack-5", "SERVERS", "c-0299"}) {
    EXPECT_EQ(AllPages({{"q", q}}, "id"), Expected([&](const Generated& g) {
                return contains(g.row.id, q) || contains(g.row.console_user, q) ||
                       contains(g.row.platform, q) || contains(g.jump_group, q) ||
                       contains(g.tag, q);
              }))
        << q;
  }
  EXPECT_EQ(AllPages({{"q", "%_"}}, "id"), std::vector<std::string>{"c-00042"});
  EXPECT_EQ(AllPages({{"q", "0%"}}, "id"), std::vector<std::string>{"c-00042"});
  EXPECT_EQ(Ok("clients-page", {{"q", "4_"}})["total"], 0);  // as a wildcard: hundreds
  EXPECT_EQ(Ok("clients-page", {{"q", "%"}})["total"], 1);
  EXPECT_EQ(Ok("clients-page", {{"q", "no such thing"}})["total"], 0);
}

TEST_F(FleetCommandsTest, RefusesBadPageArguments) {
  for (const json& args :
       {json{{"limit", 0}}, json{{"limit", 201}}, json{{"offset", -1}}, json{{"limit", "10"}},
        json{{"state", "asleep"}}, json{{"sort", "kind"}}, json{{"kind", 3}}}) {
    EXPECT_EQ(ErrorCode("clients-page", args), "invalid_argument") << args.dump();
  }
  EXPECT_EQ(Ok("clients-page", {{"limit", 200}})["clients"].size(), 200u);
}

TEST_F(FleetCommandsTest, FleetCountsByKindAndVersionFromTheStore) {
  json fleet = Ok("fleet");
  std::map<std::pair<std::string, std::string>, std::array<int64_t, 3>> expected;
  int64_t online = 0, lost = 0;
  for (const auto& g : clients_) {
    auto& counts = expected[{g.row.kind, g.row.version}];
    const int state = g.row.online ? 0 : g.row.state == "lost" ? 2 : 1;
    ++counts[state];
    online += g.row.online ? 1 : 0;
    lost += state == 2 ? 1 : 0;
  }
  ASSERT_EQ(fleet["by_kind_version"].size(), expected.size());
  std::string last_kind;
  for (const json& group : fleet["by_kind_version"]) {
    auto counts = expected.at({group["kind"], group["version"]});
    EXPECT_EQ(group["online"], counts[0]);
    EXPECT_EQ(group["offline"], counts[1]);
    EXPECT_EQ(group["lost"], counts[2]);
  }
  // Within a kind, versions come numerically.
  EXPECT_EQ(fleet["by_kind_version"][0]["kind"], "access-console");
  EXPECT_EQ(fleet["by_kind_version"][0]["version"], "1.0.0");
  EXPECT_EQ(fleet["by_kind_version"][3]["version"], "10.0.0");
  // The counts are those `clients` computes from every row.
  EXPECT_EQ(fleet["counts"]["total"], kClients);
  EXPECT_EQ(fleet["counts"]["online"], online);
  EXPECT_EQ(fleet["counts"]["lost"], lost);
  EXPECT_EQ(fleet["counts"]["by_kind"]["jumpoint"], kClients / 4);
  EXPECT_EQ(fleet["counts"]["by_state"]["lost"], lost);
  EXPECT_EQ(fleet["counts"]["by_state"]["active"], kClients - lost);
}

TEST_F(FleetCommandsTest, ClientDetailHasItsNewestHistoryOldestFirst) {
  std::vector<store::AuditRow> rows;
  for (int i = 0; i < 250; ++i) {
    rows.push_back({.wall_ms = 5000 + i,
                    .event = "progress",
                    .client_id = "c-00001",
                    .detail = std::to_string(i)});
    rows.push_back({.wall_ms = 5000 + i, .event = "progress", .client_id = "c-00002"});
  }
  AppendAudit(rows);
  json detail = Ok("client-detail", {{"client_id", "c-00001"}});
  EXPECT_EQ(detail["client"]["id"], "c-00001");
  EXPECT_EQ(detail["client"]["kind"], "jumpoint");
  EXPECT_EQ(detail["upgrade_allowed"], true);
  ASSERT_EQ(detail["history"].size(), 200u);
  EXPECT_EQ(detail["history"][0]["detail"], "50");
  EXPECT_EQ(detail["history"][199]["detail"], "249");
  for (const json& event : detail["history"]) EXPECT_EQ(event["client_id"], "c-00001");

  json other = Ok("client-detail", {{"client_id", "c-00004"}});
  EXPECT_EQ(other["upgrade_allowed"], false);
  EXPECT_TRUE(other["history"].empty());
  EXPECT_EQ(ErrorCode("client-detail", {{"client_id", "c-99999"}}), "not_found");
  EXPECT_EQ(ErrorCode("client-detail"), "invalid_argument");
}

TEST_F(FleetCommandsTest, AuditFiltersAndPagesBackwards) {
  std::vector<store::AuditRow> rows;
  for (int i = 0; i < 300; ++i) {
    rows.push_back({.wall_ms = 10'000 + i * 10,
                    .event = i % 3 == 0 ? "grant" : "progress",
                    .scope = i % 2 == 0 ? "jump-client" : "jumpoint",
                    .client_id = "c-0000" + std::to_string(i % 4),
                    .detail = std::to_string(i)});
  }
  AppendAudit(rows);
  // No filter: as before, every row oldest first.
  json all = Ok("audit");
  ASSERT_EQ(all["events"].size(), 300u);
  EXPECT_EQ(all["events"][0]["detail"], "0");
  EXPECT_EQ(all["more"], false);
  EXPECT_EQ(all["first_seq"], all["events"][0]["seq"]);
  // The newest N, still oldest first; older ones exist.
  json newest = Ok("audit", {{"limit", 10}});
  ASSERT_EQ(newest["events"].size(), 10u);
  EXPECT_EQ(newest["events"][0]["detail"], "290");
  EXPECT_EQ(newest["more"], true);

  auto expected = [&rows](auto match) {
    std::vector<std::string> details;
    for (const auto& row : rows) {
      if (match(row)) details.push_back(row.detail);
    }
    return details;
  };
  // Pages of 7 backwards through one filter reproduce the whole filtered log.
  const json filter = {{"event", "grant"},
                       {"scope", "jump-client"},
                       {"client_id", "c-00002"},
                       {"since_ms", 10'500},
                       {"until_ms", 12'500}};
  std::vector<std::string> got;
  json args = filter;
  args["limit"] = 7;
  for (int page = 0; page < 100; ++page) {
    json result = Ok("audit", args);
    std::vector<std::string> details;
    for (const json& event : result["events"]) details.push_back(event["detail"]);
    got.insert(got.begin(), details.begin(), details.end());
    if (!result["more"].get<bool>()) break;
    args["before_seq"] = result["first_seq"];
  }
  EXPECT_EQ(got, expected([](const store::AuditRow& row) {
              return row.event == "grant" && row.scope == "jump-client" &&
                     row.client_id == "c-00002" && row.wall_ms >= 10'500 && row.wall_ms < 12'500;
            }));
  EXPECT_FALSE(got.empty());
  EXPECT_EQ(ErrorCode("audit", {{"limit", -1}}), "invalid_argument");
  EXPECT_EQ(ErrorCode("audit", {{"event", 1}}), "invalid_argument");
  EXPECT_EQ(ErrorCode("audit", {{"since_ms", "yesterday"}}), "invalid_argument");
}

// The plans the dashboard relies on at 100,000 clients use the schema's indexes.
TEST_F(FleetCommandsTest, PagesAndHistoriesUseTheirIndexes) {
  auto plan = [this](const std::string& sql) {
    auto text = store_->Call<std::string>([sql](db::Database& db) -> Result<std::string> {
      std::string out;
      auto ok = db.Query("EXPLAIN QUERY PLAN " + sql,
                         [&out](const db::Statement& row) { out += row.Text(3) + "\n"; });
      if (!ok) return Fail(ok.error());
      return out;
    });
    EXPECT_TRUE(text) << text.error().ToString();
    return text.value_or("");
  };
  EXPECT_NE(plan(SLUICE_CLIENT_SELECT " ORDER BY clients.last_seen_ms DESC, clients.id LIMIT 50")
                .find("clients_last_seen"),
            std::string::npos);
  EXPECT_NE(
      plan("SELECT count(*) FROM clients WHERE clients.kind = 'x'").find("clients_kind_version"),
      std::string::npos);
  EXPECT_NE(plan("SELECT seq FROM audit WHERE client_id = 'c' AND client_id <> '' "
                 "ORDER BY seq DESC LIMIT 200")
                .find("audit_client"),
            std::string::npos);
  EXPECT_NE(plan("SELECT seq FROM audit WHERE event = 'grant' ORDER BY seq DESC LIMIT 200")
                .find("audit_event_seq"),
            std::string::npos);
}

TEST(CompareVersionTextTest, OrdersDottedNumbersNumerically) {
  EXPECT_LT(store::CompareVersionText("9.0", "10.0"), 0);
  EXPECT_LT(store::CompareVersionText("1.9", "1.10"), 0);
  EXPECT_LT(store::CompareVersionText("1.2", "1.2.0"), 0);
  EXPECT_EQ(store::CompareVersionText("01.2", "1.2"), 0);
  EXPECT_LT(store::CompareVersionText("", "0"), 0);
  EXPECT_GT(store::CompareVersionText("2", "1.99999999999999999999999"), 0);
  EXPECT_LT(store::CompareVersionText("1.a", "1.b"), 0);
}

}  // namespace
}  // namespace sluice::server
