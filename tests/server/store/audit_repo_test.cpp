#include "server/store/audit_repo.h"

#include <gtest/gtest.h>

#include "common/db/migrate.h"
#include "server/store/schema.h"
#include "tests/server/store/migrated_db_test.h"
#include "tests/server/test_times.h"

namespace sluice::store {
namespace {

using sluice::testing::TempDir;

using sluice::testing::kT0;

class AuditRepo : public store::testing::MigratedDbTest {
 protected:
  int64_t Append(AuditRow row) {
    auto seq = AppendAudit(*db_, row);
    EXPECT_TRUE(seq) << seq.error().ToString();
    return seq.value_or(-1);
  }
  std::vector<int64_t> Seqs(int64_t since, int64_t limit) {
    auto rows = ListAudit(*db_, since, limit);
    EXPECT_TRUE(rows) << rows.error().ToString();
    std::vector<int64_t> seqs;
    for (const auto& row : rows.value_or(std::vector<AuditRow>{})) seqs.push_back(row.seq);
    return seqs;
  }
};

TEST_F(AuditRepo, AppendAssignsIncreasingSeqsAndRoundTripsEveryField) {
  AuditRow grant{.seq = 999,  // ignored
                 .wall_ms = kT0,
                 .mono_ms = 42,
                 .event = "grant",
                 .scope = "jump-client",
                 .client_id = "c-1",
                 .lease_id = 7,
                 .version = "2.0.0",
                 .detail = "resumed",
                 .running = 3,
                 .limit_value = 4};
  const int64_t first = Append(grant);
  const int64_t second = Append({.wall_ms = kT0 + 1, .event = "server_start"});
  EXPECT_GT(first, 0);
  EXPECT_GT(second, first);
  auto rows = ListAudit(*db_, 0, 0);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  grant.seq = first;
  EXPECT_EQ((*rows)[0], grant);
  EXPECT_EQ((*rows)[1].event, "server_start");
  EXPECT_EQ((*rows)[1].scope, "");
  EXPECT_EQ((*rows)[1].lease_id, 0u);
}

TEST_F(AuditRepo, SeqsAreNeverReusedEvenAfterDeletion) {
  Append({.wall_ms = kT0, .event = "grant"});
  const int64_t last = Append({.wall_ms = kT0, .event = "grant"});
  ASSERT_TRUE(db_->Exec("DELETE FROM audit"));
  Reopen();
  EXPECT_GT(Append({.wall_ms = kT0, .event = "grant"}), last);
}

TEST_F(AuditRepo, UnknownEventsAreRefused) {
  auto appended = AppendAudit(*db_, {.wall_ms = kT0, .event = "explode"});
  ASSERT_FALSE(appended);
  EXPECT_EQ(appended.error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(Seqs(0, 0).empty());
  for (const char* event :
       {"grant", "progress", "finish", "fail", "rollback", "expire", "limit_change", "server_start",
        "bandwidth_change", "connection_rate_change", "policy_change"}) {
    EXPECT_TRUE(IsAuditEvent(event)) << event;
  }
}

TEST_F(AuditRepo, ListFiltersByWallTimeAndKeepsTheNewestInSeqOrder) {
  const int64_t a = Append({.wall_ms = kT0, .event = "grant"});
  const int64_t b = Append({.wall_ms = kT0 + 100, .event = "progress"});
  // The wall clock stepped back: the row still comes after b in seq order.
  const int64_t c = Append({.wall_ms = kT0 + 50, .event = "finish"});
  const int64_t d = Append({.wall_ms = kT0 + 200, .event = "grant"});
  EXPECT_EQ(Seqs(0, 0), (std::vector<int64_t>{a, b, c, d}));
  EXPECT_EQ(Seqs(kT0 + 50, 0), (std::vector<int64_t>{b, c, d}));
  EXPECT_EQ(Seqs(0, 2), (std::vector<int64_t>{c, d})) << "the newest two, oldest first";
  EXPECT_EQ(Seqs(kT0 + 100, 1), (std::vector<int64_t>{d}));
  EXPECT_TRUE(Seqs(kT0 + 201, 0).empty());
}

TEST_F(AuditRepo, CountFailuresGroupsByEventSinceATime) {
  auto none = CountFailures(*db_, 0);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, (std::map<std::string, int64_t>{{"fail", 0}, {"rollback", 0}, {"expire", 0}}));
  Append({.wall_ms = kT0, .event = "expire"});
  Append({.wall_ms = kT0 + 10, .event = "expire"});
  Append({.wall_ms = kT0 + 10, .event = "fail"});
  Append({.wall_ms = kT0 + 20, .event = "rollback"});
  Append({.wall_ms = kT0 + 20, .event = "finish"});
  Append({.wall_ms = kT0 + 20, .event = "grant"});
  auto all = CountFailures(*db_, 0);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, (std::map<std::string, int64_t>{{"fail", 1}, {"rollback", 1}, {"expire", 2}}));
  auto recent = CountFailures(*db_, kT0 + 10);
  ASSERT_TRUE(recent);
  EXPECT_EQ(*recent, (std::map<std::string, int64_t>{{"fail", 1}, {"rollback", 1}, {"expire", 1}}));
}

}  // namespace
}  // namespace sluice::store
