// The fleet queries on 100,000 clients and a long audit log in a real SQLite file: the answers
// are checked, never the time they took (the plans are checked in fleet_commands_test.cpp).

#include "server/store/client_query.h"

#include <gtest/gtest.h>

#include "common/db/transaction.h"
#include "server/store/admin_repo.h"
#include "server/store/audit_repo.h"
#include "tests/server/store/migrated_db_test.h"

namespace sluice::store {
namespace {

constexpr int kFleet = 100'000;

class ClientQueryTest : public testing::MigratedDbTest {
 protected:
  void InsertFleet() {
    ASSERT_TRUE(db_->Exec("BEGIN"));
    for (int i = 0; i < kFleet; ++i) {
      ClientRow row{.id = "c-" + std::to_string(1'000'000 + i),
                    .kind = i % 2 == 0 ? "jump-client" : "jumpoint",
                    .mode = "active",
                    .secret_hash = "x",
                    .version = i % 10 == 0 ? "10.0.0" : "9.0.0",
                    .platform = "windows-x86_64",
                    .first_seen_ms = 1,
                    .last_seen_ms = 1'000 + i,
                    .online = i % 4 == 0,
                    .console_user = i == 77'777 ? "Needle.In.Haystack" : "user"};
      ASSERT_TRUE(InsertClient(*db_, row));
      if (i % 100 == 0) {
        ASSERT_TRUE(
            db_->Run("INSERT INTO installer_enrollments (client_id, installer_id, jump_group, tag, "
                     "enrolled_ms) VALUES (?1, 'inst', 'Branch', ?2, 0)",
                     row.id, "t" + std::to_string(i % 300)));
      }
    }
    ASSERT_TRUE(db_->Exec("COMMIT"));
  }
};

TEST_F(ClientQueryTest, PagesOfAHundredThousandClients) {
  InsertFleet();
  auto first = QueryClients(*db_, {}, ClientSort::kLastSeen, 0, 50);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->total, kFleet);
  ASSERT_EQ(first->clients.size(), 50u);
  EXPECT_EQ(first->clients[0].id, "c-" + std::to_string(1'000'000 + kFleet - 1));
  EXPECT_EQ(first->clients[49].last_seen_ms, 1'000 + kFleet - 50);

  auto deep = QueryClients(*db_, {}, ClientSort::kId, 99'990, 50);
  ASSERT_TRUE(deep);
  ASSERT_EQ(deep->clients.size(), 10u);
  EXPECT_EQ(deep->clients.back().id, "c-" + std::to_string(1'000'000 + kFleet - 1));

  auto found = QueryClients(*db_, {.q = "needle.in"}, ClientSort::kLastSeen, 0, 50);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->total, 1);
  EXPECT_EQ(found->clients[0].id, "c-1077777");

  auto tagged =
      QueryClients(*db_, {.jump_group = "Branch", .tag = "t200"}, ClientSort::kId, 0, 200);
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->total, 333);  // i = 200, 500, 800, ..., 99,800
  for (const auto& row : tagged->clients) EXPECT_EQ(row.tag, "t200");

  auto filtered = QueryClients(*db_, {.kind = "jumpoint", .version = "9.0.0", .state = "online"},
                               ClientSort::kVersion, 0, 10);
  ASSERT_TRUE(filtered);
  EXPECT_EQ(filtered->total, 0);  // online clients have even i: all jump-clients
  auto online =
      QueryClients(*db_, {.kind = "jump-client", .state = "online"}, ClientSort::kVersion, 0, 10);
  ASSERT_TRUE(online);
  EXPECT_EQ(online->total, kFleet / 4);
  EXPECT_EQ(online->clients[0].version, "9.0.0");  // before 10.0.0, numerically

  auto groups = CountClientsByKindVersion(*db_);
  ASSERT_TRUE(groups);
  EXPECT_EQ(*groups, (std::vector<KindVersionCount>{
                         {"jump-client", "9.0.0", 20'000, 20'000, 0},
                         {"jump-client", "10.0.0", 5'000, 5'000, 0},
                         {"jumpoint", "9.0.0", 0, 50'000, 0},
                     }));

  EXPECT_EQ(QueryClients(*db_, {.state = "asleep"}, ClientSort::kId, 0, 1).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(QueryClients(*db_, {}, ClientSort::kId, 0, 0).error().code(), Errc::kInvalidArgument);
}

TEST_F(ClientQueryTest, AClientsHistoryAmongManyRows) {
  ASSERT_TRUE(db_->Exec("BEGIN"));
  for (int i = 0; i < 50'000; ++i) {
    ASSERT_TRUE(AppendAuditRow(*db_, {.wall_ms = i,
                                      .event = i % 1000 == 0 ? "grant" : "progress",
                                      .client_id = i % 1000 == 0 ? "rare" : "busy"}));
  }
  ASSERT_TRUE(db_->Exec("COMMIT"));
  auto rare = ListAuditFiltered(*db_, {.client_id = "rare", .limit = 200});
  ASSERT_TRUE(rare);
  ASSERT_EQ(rare->size(), 50u);
  EXPECT_EQ(rare->front().wall_ms, 0);
  EXPECT_EQ(rare->back().wall_ms, 49'000);
  auto page = ListAuditFiltered(
      *db_,
      {.event = "grant", .since_ms = 10'000, .until_ms = 20'000, .before_seq = 0, .limit = 3});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ(page->front().wall_ms, 17'000);
  auto before = ListAuditFiltered(*db_, {.event = "grant", .before_seq = page->front().seq});
  ASSERT_TRUE(before);
  ASSERT_EQ(before->size(), 17u);
  EXPECT_EQ(before->back().wall_ms, 16'000);
}

TEST_F(ClientQueryTest, AdminAccountsRoundTripAndCompareNamesWithoutCase) {
  ASSERT_TRUE(
      AddAdmin(*db_, {.name = "Alice", .password_hash = "h1", .created_ms = 5, .changed_ms = 5}));
  EXPECT_EQ(AddAdmin(*db_, {.name = "alice", .password_hash = "h2"}).error().code(),
            Errc::kAlreadyExists);
  ASSERT_TRUE(
      AddAdmin(*db_, {.name = "bob", .password_hash = "h3", .created_ms = 6, .changed_ms = 6}));
  auto found = FindAdmin(*db_, "ALICE");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->name, "Alice");
  ASSERT_TRUE(SetAdminPasswordHash(*db_, "alice", "h4", 9));
  EXPECT_EQ(GetAdminPasswordHash(*db_, "Alice").value(), std::optional<std::string>("h4"));
  EXPECT_EQ(SetAdminPasswordHash(*db_, "carol", "h", 9).error().code(), Errc::kNotFound);
  Reopen();  // durable across a restart
  auto listed = ListAdmins(*db_);
  ASSERT_TRUE(listed);
  EXPECT_EQ(*listed, (std::vector<AdminRow>{{"Alice", "h4", 5, 9}, {"bob", "h3", 6, 6}}));
  ASSERT_TRUE(RemoveAdmin(*db_, "BOB"));
  EXPECT_EQ(RemoveAdmin(*db_, "bob").error().code(), Errc::kNotFound);
  EXPECT_EQ(GetAdminPasswordHash(*db_, "bob").value(), std::nullopt);
}

}  // namespace
}  // namespace sluice::store
