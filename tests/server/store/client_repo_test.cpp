#include "server/store/client_repo.h"

#include <gtest/gtest.h>

#include <tuple>

#include "common/db/migrate.h"
#include "server/store/schema.h"
#include "tests/server/store/migrated_db_test.h"
#include "tests/server/test_times.h"

namespace sluice::store {
namespace {

using sluice::testing::TempDir;

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;
using sluice::testing::kT0;

ClientRow MakeClient(std::string id, int64_t last_seen_ms = kT0) {
  ClientRow row;
  row.id = std::move(id);
  row.kind = "jump-client";
  row.mode = "active";
  row.secret_hash = "hash-" + row.id;
  row.version = "23.1.0";
  row.platform = "windows-x64";
  row.first_seen_ms = last_seen_ms;
  row.last_seen_ms = last_seen_ms;
  return row;
}

class ClientRepo : public store::testing::MigratedDbTest {
 protected:
  ClientRow Find(std::string_view id) {
    auto found = FindClient(*db_, id);
    EXPECT_TRUE(found && found->has_value()) << "client " << id;
    return found && found->has_value() ? **found : ClientRow{};
  }
};

TEST_F(ClientRepo, InsertThenFindRoundTripsEveryField) {
  ClientRow row = MakeClient("c1");
  row.online = true;
  row.state = "lost";
  row.peer_address = "10.0.0.7:50123";
  row.cpu_load = 0.75;
  row.disk_used_pct = 61.5;
  row.uptime_s = 86'400;
  row.console_user = "CORP\\alice";
  row.first_seen_ms = kT0 - 5;
  ASSERT_TRUE(InsertClient(*db_, row));
  ClientRow got = Find("c1");
  EXPECT_EQ(got.id, "c1");
  EXPECT_EQ(got.kind, row.kind);
  EXPECT_EQ(got.mode, row.mode);
  EXPECT_EQ(got.secret_hash, row.secret_hash);
  EXPECT_EQ(got.version, row.version);
  EXPECT_EQ(got.platform, row.platform);
  EXPECT_EQ(got.first_seen_ms, kT0 - 5);
  EXPECT_EQ(got.last_seen_ms, kT0);
  EXPECT_TRUE(got.online);
  EXPECT_EQ(got.state, "lost");
  EXPECT_EQ(got.peer_address, row.peer_address);
  EXPECT_DOUBLE_EQ(got.cpu_load, 0.75);
  EXPECT_DOUBLE_EQ(got.disk_used_pct, 61.5);
  EXPECT_EQ(got.uptime_s, 86'400);
  EXPECT_EQ(got.console_user, "CORP\\alice");
}

TEST_F(ClientRepo, FindMissingIsNullopt) {
  auto found = FindClient(*db_, "nobody");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
}

TEST_F(ClientRepo, DuplicateIdIsAlreadyExists) {
  ASSERT_TRUE(InsertClient(*db_, MakeClient("c1")));
  ClientRow other = MakeClient("c1");
  other.secret_hash = "different";
  auto status = InsertClient(*db_, other);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(Find("c1").secret_hash, "hash-c1");
}

TEST_F(ClientRepo, RecordCheckInUpdatesStatsAndReactivates) {
  ClientRow row = MakeClient("c1");
  row.state = "lost";
  ASSERT_TRUE(InsertClient(*db_, row));
  CheckInUpdate update{.id = "c1",
                       .mode = "passive",
                       .version = "24.2.0",
                       .platform = "linux-x64",
                       .peer_address = "192.0.2.1:443",
                       .cpu_load = 1.5,
                       .disk_used_pct = 90,
                       .uptime_s = 42,
                       .console_user = "bob",
                       .online = true,
                       .now_ms = kT0 + 1000};
  ASSERT_TRUE(RecordCheckIn(*db_, update));
  ClientRow got = Find("c1");
  EXPECT_EQ(got.mode, "passive");
  EXPECT_EQ(got.version, "24.2.0");
  EXPECT_EQ(got.platform, "linux-x64");
  EXPECT_EQ(got.peer_address, "192.0.2.1:443");
  EXPECT_DOUBLE_EQ(got.cpu_load, 1.5);
  EXPECT_DOUBLE_EQ(got.disk_used_pct, 90);
  EXPECT_EQ(got.uptime_s, 42);
  EXPECT_EQ(got.console_user, "bob");
  EXPECT_TRUE(got.online);
  EXPECT_EQ(got.last_seen_ms, kT0 + 1000);
  EXPECT_EQ(got.first_seen_ms, kT0);  // unchanged
  EXPECT_EQ(got.state, "active");
  EXPECT_EQ(got.secret_hash, "hash-c1");  // unchanged
}

TEST_F(ClientRepo, RecordCheckInForUnknownClientIsNotFound) {
  auto status = RecordCheckIn(*db_, CheckInUpdate{.id = "ghost", .now_ms = kT0});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::kNotFound);
}

TEST_F(ClientRepo, SetOnlineAndMarkAllOffline) {
  ASSERT_TRUE(InsertClient(*db_, MakeClient("a")));
  ASSERT_TRUE(InsertClient(*db_, MakeClient("b")));
  ASSERT_TRUE(SetOnline(*db_, "a", true, kT0 + 5));
  ASSERT_TRUE(SetOnline(*db_, "b", true, kT0 + 6));
  EXPECT_TRUE(Find("a").online);
  EXPECT_EQ(Find("a").last_seen_ms, kT0 + 5);
  ASSERT_TRUE(SetOnline(*db_, "a", false, kT0 + 7));
  EXPECT_FALSE(Find("a").online);
  EXPECT_EQ(Find("a").last_seen_ms, kT0 + 7);
  ASSERT_TRUE(MarkAllOffline(*db_));
  EXPECT_FALSE(Find("b").online);
  EXPECT_EQ(Find("b").last_seen_ms, kT0 + 6);  // going offline at start is not a sighting
  auto missing = SetOnline(*db_, "ghost", true, kT0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
}

TEST_F(ClientRepo, ListClientsIsOrderedById) {
  for (const char* id : {"m", "a", "z", "b"}) ASSERT_TRUE(InsertClient(*db_, MakeClient(id)));
  auto all = ListClients(*db_);
  ASSERT_TRUE(all);
  std::vector<std::string> ids;
  for (const ClientRow& row : *all) ids.push_back(row.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "m", "z"}));
}

TEST_F(ClientRepo, SweepMarksLostExactlyAtTheDayBoundary) {
  const int64_t now = kT0 + 100 * kDayMs;
  ASSERT_TRUE(InsertClient(*db_, MakeClient("just-in-time", now - 30 * kDayMs + 1)));
  ASSERT_TRUE(InsertClient(*db_, MakeClient("exactly", now - 30 * kDayMs)));
  ASSERT_TRUE(InsertClient(*db_, MakeClient("older", now - 31 * kDayMs)));
  auto swept = SweepStaleClients(*db_, now, /*lost_after_days=*/30, /*delete_after_days=*/0);
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->marked_lost, 2);
  EXPECT_EQ(swept->deleted, 0);
  EXPECT_EQ(Find("just-in-time").state, "active");
  EXPECT_EQ(Find("exactly").state, "lost");
  EXPECT_EQ(Find("older").state, "lost");

  // Already-lost clients are not counted again; a check-in brings one back.
  swept = SweepStaleClients(*db_, now, 30, 0);
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->marked_lost, 0);
  ASSERT_TRUE(RecordCheckIn(*db_, {.id = "older", .mode = "active", .now_ms = now}));
  EXPECT_EQ(Find("older").state, "active");
}

TEST_F(ClientRepo, SweepDeletesAtTheDayBoundaryAndZeroMeansNever) {
  const int64_t now = kT0 + 400 * kDayMs;
  ASSERT_TRUE(InsertClient(*db_, MakeClient("keep", now - 90 * kDayMs + 1)));
  ASSERT_TRUE(InsertClient(*db_, MakeClient("drop", now - 90 * kDayMs)));
  ASSERT_TRUE(InsertClient(*db_, MakeClient("ancient", now - 365 * kDayMs)));

  auto never = SweepStaleClients(*db_, now, 30, /*delete_after_days=*/0);
  ASSERT_TRUE(never);
  EXPECT_EQ(never->deleted, 0);
  EXPECT_EQ(never->marked_lost, 3);

  auto swept = SweepStaleClients(*db_, now, 30, /*delete_after_days=*/90);
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->deleted, 2);
  EXPECT_EQ(swept->marked_lost, 0);
  auto all = ListClients(*db_);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, "keep");
  EXPECT_EQ((*all)[0].state, "lost");
}

TEST_F(ClientRepo, SweepCountsDeletedClientsOnlyOnce) {
  const int64_t now = kT0 + 400 * kDayMs;
  ASSERT_TRUE(InsertClient(*db_, MakeClient("gone", now - 200 * kDayMs)));
  auto swept = SweepStaleClients(*db_, now, 30, 90);
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->deleted, 1);
  EXPECT_EQ(swept->marked_lost, 0);
}

TEST_F(ClientRepo, SweepLeavesOnlineClientsAlone) {
  const int64_t now = kT0 + 400 * kDayMs;
  ClientRow connected = MakeClient("connected", now - 200 * kDayMs);
  connected.online = true;
  ASSERT_TRUE(InsertClient(*db_, connected));
  auto swept = SweepStaleClients(*db_, now, 30, 90);
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->deleted, 0);
  EXPECT_EQ(swept->marked_lost, 0);
  EXPECT_EQ(Find("connected").state, "active");
}

TEST_F(ClientRepo, SweepRejectsNonsenseThresholds) {
  auto zero = SweepStaleClients(*db_, kT0, 0, 0);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code(), Errc::kInvalidArgument);
  auto negative = SweepStaleClients(*db_, kT0, 30, -1);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code(), Errc::kInvalidArgument);
}

TEST_F(ClientRepo, CensusCountsByKindVersionAndOnlineOfflineOrLost) {
  auto add = [this](std::string id, std::string kind, std::string version, bool online,
                    std::string state) {
    ClientRow row = MakeClient(std::move(id));
    row.kind = std::move(kind);
    row.version = std::move(version);
    row.online = online;
    row.state = std::move(state);
    ASSERT_TRUE(InsertClient(*db_, row));
  };
  add("c1", "jump-client", "1.0.0", true, "active");
  add("c2", "jump-client", "1.0.0", true, "active");
  add("c3", "jump-client", "1.0.0", false, "active");
  add("c4", "jump-client", "2.0.0", false, "lost");
  add("c5", "jumpoint", "1.0.0", false, "active");
  auto census = ClientCensus(*db_);
  ASSERT_TRUE(census) << census.error().ToString();
  std::vector<std::tuple<std::string, std::string, std::string, int64_t>> got;
  for (const ClientCensusRow& row : *census)
    got.emplace_back(row.kind, row.version, row.state, row.count);
  EXPECT_EQ(got, (std::vector<std::tuple<std::string, std::string, std::string, int64_t>>{
                     {"jump-client", "1.0.0", "offline", 1},
                     {"jump-client", "1.0.0", "online", 2},
                     {"jump-client", "2.0.0", "lost", 1},
                     {"jumpoint", "1.0.0", "offline", 1}}));
}

}  // namespace
}  // namespace sluice::store
