#include "client/update/update_record.h"

#include <gtest/gtest.h>

#include "common/base/file_util.h"

namespace sluice::client {
namespace {

UpdateRecord Sample() {
  return UpdateRecord{.state = UpdateState::kRolledBack,
                      .lease_id = 42,
                      .version = "3.1.0",
                      .sha256 = std::string(64, 'a'),
                      .size = 1234,
                      .previous_version = "3.0.0",
                      .offset = 1234,
                      .outcome = proto::UpgradeOutcome::kRolledBack,
                      .detail = "health check exited with status 1",
                      .health_attempts = 1};
}

TEST(UpdateRecordTest, RoundTrips) {
  UpdateRecord record = Sample();
  auto decoded = DecodeUpdateRecord(EncodeUpdateRecord(record));
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(*decoded, record);
  auto idle = DecodeUpdateRecord(EncodeUpdateRecord(UpdateRecord{}));
  ASSERT_TRUE(idle);
  EXPECT_EQ(*idle, UpdateRecord{});
}

TEST(UpdateRecordTest, InvalidUtf8InDetailDoesNotBreakEncoding) {
  UpdateRecord record = Sample();
  record.detail = "health check exited with status 1: \xff\xfe";
  auto decoded = DecodeUpdateRecord(EncodeUpdateRecord(record));
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded->lease_id, 42u);
  EXPECT_TRUE(decoded->detail.starts_with("health check exited with status 1: "));
}

TEST(UpdateRecordTest, RejectsUnusableRecords) {
  for (const char* text : {
           "",
           "[]",
           "{\"state\":\"idle\"}",
           R"({"state":"teleporting","lease_id":1,"version":"1.0","sha256":"","size":0,
               "previous_version":"","offset":0,"outcome":"","detail":"","health_attempts":0})",
           R"({"state":"staging","lease_id":1,"version":"../../etc","sha256":"aa","size":1,
               "previous_version":"","offset":0,"outcome":"","detail":"","health_attempts":0})",
           R"({"state":"done","lease_id":1,"version":"1.0",
               "sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":1,
               "previous_version":"","offset":0,"outcome":"","detail":"","health_attempts":0})",
           R"({"state":"idle","lease_id":-1,"version":"","sha256":"","size":0,
               "previous_version":"","offset":0,"outcome":"","detail":"","health_attempts":0})",
       }) {
    auto decoded = DecodeUpdateRecord(text);
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code(), Errc::kCorrupt);
  }
}

TEST(UpdateRecordTest, LoadSetsCorruptFilesAside) {
  auto dir = MakeTempDir("sluice-record-");
  ASSERT_TRUE(dir);
  const std::string path = *dir + "/update.json";
  EXPECT_EQ(LoadUpdateRecord(path), UpdateRecord{});  // missing: idle
  ASSERT_TRUE(SaveUpdateRecord(path, Sample()));
  EXPECT_EQ(LoadUpdateRecord(path), Sample());
  ASSERT_TRUE(WriteFileAtomic(path, "not json"));
  EXPECT_EQ(LoadUpdateRecord(path), UpdateRecord{});
  EXPECT_EQ(ReadFile(path + ".corrupt").value_or(""), "not json");
  EXPECT_EQ(ReadFile(path).error().code(), Errc::kNotFound);
  EXPECT_TRUE(RemoveAll(*dir));
}

}  // namespace
}  // namespace sluice::client
