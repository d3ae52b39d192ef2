// Replaying the logs of a failover pair's two servers as one (sched::ReplayAuditLogs) and the
// rules of a takeover row.

#include <gtest/gtest.h>

#include "server/sched/audit_replay.h"

namespace sluice::sched {
namespace {

using store::AuditRow;

AuditRow PairRow(int64_t seq, std::string event, uint64_t lease, int running, int64_t wall_ms = 0,
                 std::string client = "") {
  return {.seq = seq,
          .wall_ms = wall_ms == 0 ? seq : wall_ms,
          .event = std::move(event),
          .scope = "jump-client",
          .client_id = client.empty() ? "c" + std::to_string(lease) : std::move(client),
          .lease_id = lease,
          .running = running,
          .limit_value = 2};
}

AuditRow TakeoverRow(int64_t seq, int64_t wall_ms, int64_t fence, const std::string& restored) {
  return {.seq = seq,
          .wall_ms = wall_ms,
          .event = "pair_takeover",
          .lease_id = static_cast<uint64_t>(seq),
          .detail = "this server took over as primary (epoch 2); fence_until_ms=" +
                    std::to_string(fence) + "; restored_leases=" + restored +
                    "; ids continue from " + std::to_string(seq)};
}

constexpr int64_t kSecondRange = int64_t{1} << 32;

TEST(ReplayAuditLogsTest, SyncedRowsCountOnceAndDifferentRowsWithOneSeqAreAProblem) {
  const std::vector<AuditRow> a = {PairRow(1, "grant", 1, 1), PairRow(2, "finish", 1, 0)};
  const std::vector<AuditRow> b = {PairRow(1, "grant", 1, 1)};  // B's copy of A's first row
  ReplayResult replay = ReplayAuditLogs({a, b});
  EXPECT_TRUE(replay.problems.empty()) << replay.problems.front();
  EXPECT_EQ(replay.max_running.at("jump-client"), 1);

  std::vector<AuditRow> clash = b;
  clash[0].client_id = "someone-else";
  replay = ReplayAuditLogs({a, clash});
  ASSERT_FALSE(replay.problems.empty());
  EXPECT_NE(replay.problems.back().find("different rows"), std::string::npos);
}

TEST(ReplayAuditLogsTest, ATakeoverEndsTheOldPrimarysUnseenLeasesAndCountsItsGhosts) {
  // A granted 1 and 2 (synced), then 3 after the last sync, and finished 1 after it too.
  const std::vector<AuditRow> a = {PairRow(1, "grant", 1, 1), PairRow(2, "grant", 2, 2),
                                   PairRow(3, "finish", 2, 1), PairRow(4, "grant", 3, 2),
                                   PairRow(5, "finish", 1, 1)};
  // B synced after row 2 (1 and 2 running), took over and still counts 1 and 2 until it ends
  // them; 3 is unknown to it and gone by the fence.
  const std::vector<AuditRow> b = {PairRow(1, "grant", 1, 1),
                                   PairRow(2, "grant", 2, 2),
                                   TakeoverRow(kSecondRange, 100, 200, "1,2"),
                                   PairRow(kSecondRange + 1, "expire", 1, 1, 150),
                                   PairRow(kSecondRange + 2, "expire", 2, 0, 160),
                                   PairRow(kSecondRange + 3, "grant", kSecondRange + 1, 1, 250),
                                   PairRow(kSecondRange + 4, "grant", kSecondRange + 2, 2, 251)};
  ReplayResult replay = ReplayAuditLogs({a, b});
  for (const std::string& problem : replay.problems) ADD_FAILURE() << problem;
  EXPECT_TRUE(replay.violations.empty());
  EXPECT_EQ(replay.max_running.at("jump-client"), 2);
}

TEST(ReplayAuditLogsTest, AGrantDuringTheFenceIsAViolation) {
  const std::vector<AuditRow> b = {PairRow(1, "grant", 1, 1),
                                   TakeoverRow(kSecondRange, 100, 200, "1"),
                                   PairRow(kSecondRange + 1, "grant", kSecondRange + 1, 2, 150)};
  ReplayResult replay = ReplayAuditLogs({b});
  EXPECT_EQ(replay.violations.at("jump-client"), 1);
}

TEST(ReplayAuditLogsTest, DetailFieldsAreFoundByKey) {
  EXPECT_EQ(DetailField("took over; fence_until_ms=42; restored_leases=1,2", "fence_until_ms"),
            "42");
  EXPECT_EQ(DetailField("took over; fence_until_ms=42; restored_leases=1,2", "restored_leases"),
            "1,2");
  EXPECT_EQ(DetailField("took over; fence_until_ms=42", "restored_leases"), "");
  EXPECT_EQ(DetailField("", "x"), "");
}

}  // namespace
}  // namespace sluice::sched

namespace sluice::sched {
namespace {

// Admin changes end their detail with "; by=<actor>" (store::WithActor): the replay still reads
// every field it needs, knows the new events and still holds grants to the limit they set.
TEST(ReplayAuditLogsTest, DetailsWithAnActorStillReplay) {
  const std::string by = "local:root";
  EXPECT_EQ(store::WithActor("max_concurrent=1", by), "max_concurrent=1; by=local:root");
  EXPECT_EQ(store::WithActor("", by), "by=local:root");
  EXPECT_EQ(store::WithActor("x", ""), "x");
  AuditRow takeover = TakeoverRow(kSecondRange, 100, 200, "1");
  takeover.detail = store::WithActor(takeover.detail, "web:alice");
  EXPECT_EQ(DetailField(takeover.detail, "restored_leases"), "1");
  EXPECT_EQ(DetailField(takeover.detail, "by"), "web:alice");
  EXPECT_EQ(DetailField(store::WithActor("fence_until_ms=42", by), "fence_until_ms"), "42");

  AuditRow lowered = PairRow(3, "limit_change", 0, 1);
  lowered.detail = store::WithActor("max_concurrent=1", by);
  AuditRow admin = {
      .seq = 2, .wall_ms = 2, .event = "admin_add", .detail = store::WithActor("name=alice", by)};
  AuditRow setting = {.seq = 4,
                      .wall_ms = 4,
                      .event = "settings_change",
                      .detail = store::WithActor("heartbeat_s=30", "web:alice")};
  std::vector<AuditRow> log = {PairRow(1, "grant", 1, 1),
                               admin,
                               lowered,
                               setting,
                               PairRow(5, "grant", 2, 2),
                               PairRow(6, "finish", 1, 1),
                               PairRow(7, "finish", 2, 0)};
  for (AuditRow& row : log) {
    if (row.seq >= 3 && !row.scope.empty()) row.limit_value = 1;  // in force from seq 3
  }
  ReplayResult replay = ReplayAuditLogs({log});
  for (const std::string& problem : replay.problems) ADD_FAILURE() << problem;
  // Grant 2 came while 1 ran under a limit of 1: the actor did not hide the lowered limit.
  EXPECT_EQ(replay.violations.at("jump-client"), 1);
}

}  // namespace
}  // namespace sluice::sched
