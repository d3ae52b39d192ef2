// The failover pair's files: identity, key and relationship, as a restart reads them.

#include "server/pair/pair_state.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/base/file_util.h"
#include "tests/support/temp_dir.h"

namespace sluice::pair {
namespace {

TEST(PairStateTest, IdentityKeyAndStateSurviveAReopenAndARestoreKeepsOnlyKeyAndIdentity) {
  sluice::testing::TempDir dir;
  auto files = PairFiles::Open(dir.path());
  ASSERT_TRUE(files) << files.error().ToString();
  EXPECT_EQ(files->server_id().size(), 16u);
  EXPECT_EQ(files->ReadKey().error().code(), Errc::kNotFound);
  EXPECT_EQ(files->ReadState().value().role, Role::kNone);
  EXPECT_EQ(files->WriteKey("short").error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(files->WriteKey("correct horse battery staple"));

  State state;
  state.role = Role::kBackup;
  state.peer = "10.0.0.11:443";
  state.peer_server_id = "0123456789abcdef";
  state.self_address = "10.0.0.12:443";
  state.epoch = 3;
  state.last_sync = SyncRecord{
      .finished_ms = 5, .duration_ms = 2, .bytes = 7, .packages = 1, .site_version = "2.0.0"};
  state.merge_since_ms = 4;
  state.pending_id_range = "pair_takeover";
  for (int i = 0; i < 150; ++i) state.Record(i, "sync", std::to_string(i));
  ASSERT_TRUE(files->WriteState(state));

  auto again = PairFiles::Open(dir.path());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->server_id(), files->server_id());
  EXPECT_EQ(again->ReadKey().value(), "correct horse battery staple");
  const State read = again->ReadState().value();
  EXPECT_EQ(read.role, Role::kBackup);
  EXPECT_EQ(read.peer, state.peer);
  EXPECT_EQ(read.self_address, state.self_address);
  EXPECT_EQ(read.epoch, 3u);
  EXPECT_EQ(read.last_sync->bytes, 7u);
  EXPECT_EQ(read.merge_since_ms, 4);
  EXPECT_EQ(read.pending_id_range, "pair_takeover");
  ASSERT_EQ(read.history.size(), kHistoryKept);
  EXPECT_EQ(read.history.front().detail, "50");

  ASSERT_TRUE(ForgetRelationship(dir.path()));
  EXPECT_EQ(again->ReadState().value().role, Role::kNone);
  EXPECT_TRUE(again->ReadKey());
}

TEST(PairStateTest, AnUnreadableStateIsCorruptNotEmpty) {
  sluice::testing::TempDir dir;
  auto files = PairFiles::Open(dir.path());
  ASSERT_TRUE(files);
  std::ofstream(dir / "pair/state.json") << "{\"role\": \"primary\"";
  EXPECT_EQ(files->ReadState().error().code(), Errc::kCorrupt);
  std::ofstream(dir / "pair/state.json") << "{\"role\": \"leader\", \"peer\": \"\", \"epoch\": 1}";
  EXPECT_EQ(files->ReadState().error().code(), Errc::kCorrupt);
}

}  // namespace
}  // namespace sluice::pair
