#include "common/db/statement.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>

#include "common/db/database.h"
#include "tests/support/temp_dir.h"

namespace sluice::db {
namespace {

using sluice::testing::TempDir;

class DbStatement : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_ / "s.db");
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Exec("CREATE TABLE v (k INTEGER PRIMARY KEY, val)"));
  }

  // Inserts `value` with key k through Bind() and reads the row back.
  template <class T>
  Statement* RoundTrip(int64_t k, const T& value) {
    auto insert = db_->Cached("INSERT INTO v (k, val) VALUES (?1, ?2)");
    EXPECT_TRUE(insert);
    EXPECT_TRUE((*insert)->Bind(1, k));
    EXPECT_TRUE((*insert)->Bind(2, value));
    EXPECT_EQ((*insert)->Step(), false);
    auto select = db_->Cached("SELECT val, typeof(val) FROM v WHERE k = ?1");
    EXPECT_TRUE(select);
    EXPECT_TRUE((*select)->Bind(1, k));
    EXPECT_EQ((*select)->Step(), true);
    return *select;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DbStatement, BindsIntegers) {
  Statement* row = RoundTrip(1, int64_t{-9'000'000'000'000'000'000});
  EXPECT_EQ(row->Int64(0), -9'000'000'000'000'000'000);
  EXPECT_EQ(row->Text(1), "integer");
  row = RoundTrip(2, 7);
  EXPECT_EQ(row->Int64(0), 7);
  row = RoundTrip(3, true);
  EXPECT_EQ(row->Int64(0), 1);
}

TEST_F(DbStatement, BindsDoubles) {
  Statement* row = RoundTrip(1, 2.5);
  EXPECT_DOUBLE_EQ(row->Double(0), 2.5);
  EXPECT_EQ(row->Text(1), "real");
}

TEST_F(DbStatement, BindsTextIncludingEmbeddedNulAndEmpty) {
  const std::string with_nul("a\0b", 3);
  Statement* row = RoundTrip(1, with_nul);
  EXPECT_EQ(row->Text(0), with_nul);
  EXPECT_EQ(row->Text(1), "text");
  row = RoundTrip(2, std::string_view());
  EXPECT_FALSE(row->IsNull(0));
  EXPECT_EQ(row->Text(0), "");
  EXPECT_EQ(row->Text(1), "text");
  row = RoundTrip(3, "literal");
  EXPECT_EQ(row->Text(0), "literal");
}

TEST_F(DbStatement, BindsBlobsIncludingEmpty) {
  const Bytes blob = {0x00, 0xff, 0x10, 0x00};
  Statement* row = RoundTrip(1, blob);
  EXPECT_EQ(row->Blob(0), blob);
  EXPECT_EQ(row->Text(1), "blob");
  row = RoundTrip(2, ByteView());
  EXPECT_FALSE(row->IsNull(0));
  EXPECT_TRUE(row->Blob(0).empty());
  EXPECT_EQ(row->Text(1), "blob");
}

TEST_F(DbStatement, BindsNullAndOptionals) {
  Statement* row = RoundTrip(1, nullptr);
  EXPECT_TRUE(row->IsNull(0));
  EXPECT_EQ(row->Int64(0), 0);
  EXPECT_EQ(row->Text(0), "");
  EXPECT_TRUE(row->Blob(0).empty());
  row = RoundTrip(2, std::optional<std::string>());
  EXPECT_TRUE(row->IsNull(0));
  row = RoundTrip(3, std::optional<int64_t>(12));
  EXPECT_EQ(row->Int64(0), 12);
  EXPECT_FALSE(row->IsNull(0));
}

TEST_F(DbStatement, BindAllBindsInOrderAndColumnsReadBack) {
  auto insert = db_->Cached("INSERT INTO v (k, val) VALUES (?1, ?2 || ?3)");
  ASSERT_TRUE(insert);
  ASSERT_TRUE((*insert)->BindAll(5, "x", std::string("y")));
  ASSERT_EQ((*insert)->Step(), false);
  auto select = db_->Cached("SELECT k, val FROM v");
  ASSERT_TRUE(select);
  ASSERT_EQ((*select)->Step(), true);
  EXPECT_EQ((*select)->ColumnCount(), 2);
  EXPECT_EQ((*select)->Int64(0), 5);
  EXPECT_EQ((*select)->Text(1), "xy");
  EXPECT_EQ((*select)->Step(), false);
}

TEST_F(DbStatement, BindOutOfRangeFails) {
  auto stmt = db_->Cached("SELECT ?1");
  ASSERT_TRUE(stmt);
  auto bound = (*stmt)->Bind(2, 1);
  ASSERT_FALSE(bound);
  EXPECT_EQ(bound.error().code(), Errc::kDatabase);
  EXPECT_NE(bound.error().message().find("parameter 2"), std::string::npos);
  EXPECT_NE(bound.error().message().find("SELECT ?1"), std::string::npos);
  EXPECT_FALSE((*stmt)->BindAll(1, 2));
}

TEST_F(DbStatement, StepAfterDoneStartsOverAndResetRewinds) {
  ASSERT_TRUE(db_->Exec("INSERT INTO v VALUES (1, 'a'), (2, 'b')"));
  auto stmt = db_->Cached("SELECT k FROM v ORDER BY k");
  ASSERT_TRUE(stmt);
  Statement& s = **stmt;
  ASSERT_EQ(s.Step(), true);
  ASSERT_EQ(s.Step(), true);
  ASSERT_EQ(s.Step(), false);
  ASSERT_EQ(s.Step(), true);  // reset automatically when done
  EXPECT_EQ(s.Int64(0), 1);
  ASSERT_EQ(s.Step(), true);
  s.Reset();
  ASSERT_EQ(s.Step(), true);
  EXPECT_EQ(s.Int64(0), 1);
}

TEST_F(DbStatement, StepErrorCarriesMessageAndSql) {
  ASSERT_TRUE(db_->Exec("INSERT INTO v VALUES (1, 'a')"));
  auto stmt = db_->Cached("INSERT INTO v (k, val) VALUES (?1, 'dup')");
  ASSERT_TRUE(stmt);
  ASSERT_TRUE((*stmt)->Bind(1, 1));
  auto step = (*stmt)->Step();
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code(), Errc::kAlreadyExists);
  EXPECT_NE(step.error().message().find("UNIQUE constraint failed: v.k"), std::string::npos);
  EXPECT_NE(step.error().message().find("INSERT INTO v (k, val)"), std::string::npos);
  // Reset after the error: the statement works again with a new key.
  ASSERT_TRUE((*stmt)->Bind(1, 2));
  EXPECT_EQ((*stmt)->Step(), false);
}

}  // namespace
}  // namespace sluice::db
