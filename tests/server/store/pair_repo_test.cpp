// What a failover pair asks of the database: id ranges, the audit rows and clients to merge.

#include "server/store/pair_repo.h"

#include <gtest/gtest.h>

#include "server/store/audit_repo.h"
#include "server/store/client_repo.h"
#include "server/store/lease_repo.h"
#include "tests/server/store/migrated_db_test.h"

namespace sluice::store {
namespace {

constexpr int64_t kIdRange = int64_t{1} << kIdRangeBits;

class PairRepo : public testing::MigratedDbTest {
 protected:
  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(AppendAuditRow(
          *db_,
          {.wall_ms = 1000 + i, .event = "limit_change", .scope = "jumpoint", .limit_value = 3}));
    }
  }
  std::vector<AuditRow> All() {
    auto rows = ListAudit(*db_, 0, 0);
    EXPECT_TRUE(rows) << rows.error().ToString();
    return rows.value_or(std::vector<AuditRow>{});
  }
  static ClientRow Client(std::string id, int64_t last_seen, std::string version) {
    return {.id = std::move(id),
            .kind = "jump-client",
            .mode = "active",
            .secret_hash = "h",
            .version = std::move(version),
            .platform = "linux-x86_64",
            .first_seen_ms = last_seen,
            .last_seen_ms = last_seen};
  }
};

TEST_F(PairRepo, ANewIdRangeMovesAuditSeqsAndLeaseIdsPastEverythingHeld) {
  Append(3);
  auto first = StartIdRange(*db_, 5000, audit_event::kPairTakeover, "took over");
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(*first, static_cast<uint64_t>(kIdRange));
  EXPECT_EQ(NextLeaseId(*db_).value(), static_cast<uint64_t>(kIdRange) + 1);
  Append(1);
  EXPECT_EQ(All().back().seq, kIdRange + 1);
  // The next range is past this one.
  EXPECT_EQ(StartIdRange(*db_, 6000, audit_event::kPairBreak, "alone").value(),
            static_cast<uint64_t>(2 * kIdRange));
  EXPECT_FALSE(StartIdRange(*db_, 6000, "nonsense", ""));
}

TEST_F(PairRepo, RowsBeyondTheOthersTopsMergeOnceAndNeverTwice) {
  Append(4);                                                                // seqs 1..4
  ASSERT_TRUE(StartIdRange(*db_, 5000, audit_event::kPairBreak, "alone"));  // kIdRange
  Append(2);  // kIdRange+1, kIdRange+2
  // The other server holds range 0 up to seq 2 and nothing of this range.
  auto beyond = AuditRowsBeyond(*db_, {{0, 2}}, 0, 100);
  ASSERT_TRUE(beyond) << beyond.error().ToString();
  std::vector<int64_t> seqs;
  for (const AuditRow& row : *beyond) seqs.push_back(row.seq);
  EXPECT_EQ(seqs, (std::vector<int64_t>{3, 4, kIdRange, kIdRange + 1, kIdRange + 2}));
  // Batches continue after the last seq sent.
  auto second = AuditRowsBeyond(*db_, {{0, 2}}, 4, 2);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ(second->front().seq, kIdRange);

  // Inserting them elsewhere: new ones land with their seqs, known ones are skipped.
  std::vector<AuditRow> rows = *beyond;
  auto inserted = InsertAuditRows(*db_, rows);
  ASSERT_TRUE(inserted);
  EXPECT_EQ(*inserted, 0) << "all already held here";
  auto tops = AuditRangeTops(*db_);
  ASSERT_TRUE(tops);
  EXPECT_EQ(tops->at(0), 4);
  EXPECT_EQ(tops->at(1), kIdRange + 2);
}

TEST_F(PairRepo, MergedClientsKeepTheLaterSighting) {
  ASSERT_TRUE(InsertClient(*db_, Client("a", 2000, "1.0.0")));
  ASSERT_TRUE(MergeClient(*db_, Client("a", 1500, "0.9.0")));  // older: ignored
  EXPECT_EQ(FindClient(*db_, "a").value()->version, "1.0.0");
  ASSERT_TRUE(MergeClient(*db_, Client("a", 3000, "2.0.0")));  // newer: wins
  EXPECT_EQ(FindClient(*db_, "a").value()->version, "2.0.0");
  EXPECT_EQ(FindClient(*db_, "a").value()->first_seen_ms, 2000);
  ASSERT_TRUE(MergeClient(*db_, Client("b", 3000, "2.0.0")));  // unknown: added, offline
  EXPECT_FALSE(FindClient(*db_, "b").value()->online);
  auto seen = ListClientsSeenSince(*db_, 2500, "", 10);
  ASSERT_TRUE(seen);
  ASSERT_EQ(seen->size(), 2u);
  EXPECT_EQ(ListClientsSeenSince(*db_, 2500, "a", 10).value().size(), 1u);
}

}  // namespace
}  // namespace sluice::store
