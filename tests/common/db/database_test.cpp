#include "common/db/database.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/db/online_backup.h"
#include "tests/support/temp_dir.h"

namespace sluice::db {
namespace {

using sluice::testing::TempDir;

std::unique_ptr<Database> OpenOrDie(const std::string& path, const OpenOptions& options = {}) {
  auto db = Database::Open(path, options);
  EXPECT_TRUE(db.has_value()) << (db ? "" : db.error().ToString());
  return db ? std::move(*db) : nullptr;
}

std::string PragmaText(Database& db, std::string_view pragma) {
  std::string value;
  EXPECT_TRUE(db.Query(pragma, [&](const Statement& row) { value = row.Text(0); }));
  return value;
}

TEST(DbDatabase, OpenCreatesFileInWalModeWithForeignKeys) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER)"));
  ASSERT_TRUE(db->Run("INSERT INTO t VALUES (?1)", 1));
  EXPECT_TRUE(std::filesystem::exists(dir / "a.db"));
  EXPECT_TRUE(std::filesystem::exists(dir / "a.db-wal"));
  EXPECT_EQ(PragmaText(*db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(PragmaText(*db, "PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_EQ(PragmaText(*db, "PRAGMA foreign_keys"), "1");
}

TEST(DbDatabase, OpenWithoutWalKeepsRollbackJournal) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db", {.wal = false});
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(PragmaText(*db, "PRAGMA journal_mode"), "delete");
}

TEST(DbDatabase, OpenWithoutCreateFailsForMissingFile) {
  TempDir dir;
  auto db = Database::Open(dir / "missing.db", {.create = false});
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().code(), Errc::kDatabase);
  EXPECT_NE(db.error().message().find("missing.db"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "missing.db"));
}

TEST(DbDatabase, OpenFailsInMissingDirectory) {
  TempDir dir;
  auto db = Database::Open(dir / "no/such/dir/a.db");
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().code(), Errc::kDatabase);
}

TEST(DbDatabase, ExecRunsSeveralStatements) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  ASSERT_TRUE(
      db->Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1); "
               "INSERT INTO t VALUES (2);"));
  int64_t sum = 0;
  ASSERT_TRUE(db->Query("SELECT x FROM t", [&](const Statement& row) { sum += row.Int64(0); }));
  EXPECT_EQ(sum, 3);
}

TEST(DbDatabase, RunReportsLastInsertRowIdAndChanges) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"));
  ASSERT_TRUE(db->Run("INSERT INTO t (name) VALUES (?1)", "a"));
  ASSERT_TRUE(db->Run("INSERT INTO t (name) VALUES (?1)", std::string("b")));
  EXPECT_EQ(db->LastInsertRowId(), 2);
  ASSERT_TRUE(db->Run("UPDATE t SET name = ?1", "c"));
  EXPECT_EQ(db->Changes(), 2);
}

TEST(DbDatabase, CachedReturnsSameStatementResetWithBindingsCleared) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);"));
  constexpr std::string_view kSql = "SELECT ?1, x FROM t ORDER BY x";
  auto first = db->Cached(kSql);
  ASSERT_TRUE(first);
  ASSERT_TRUE((*first)->Bind(1, 42));
  ASSERT_EQ((*first)->Step(), true);
  EXPECT_EQ((*first)->Int64(1), 1);

  // Abandoned mid-iteration; the next Cached() starts over with ?1 back to NULL.
  auto again = db->Cached(kSql);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);
  ASSERT_EQ((*again)->Step(), true);
  EXPECT_TRUE((*again)->IsNull(0));
  EXPECT_EQ((*again)->Int64(1), 1);
}

TEST(DbDatabase, CachedRejectsEmptyAndMultipleStatements) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  auto empty = db->Cached("  ");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), Errc::kInvalidArgument);
  auto two = db->Cached("SELECT 1; SELECT 2");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(db->Cached("SELECT 1;  "));
}

TEST(DbDatabase, QueryStopsAtFirstRowError) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);"));
  int rows = 0;
  auto status = db->Query("SELECT x FROM t ORDER BY x", [&](const Statement& row) -> Status {
    ++rows;
    if (row.Int64(0) == 2) return Fail(Errc::kCorrupt, "bad row");
    return {};
  });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::kCorrupt);
  EXPECT_EQ(rows, 2);
}

TEST(DbDatabase, PrepareErrorCarriesSqliteMessageAndSql) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  auto stmt = db->Cached("SELECT nope FROM nowhere");
  ASSERT_FALSE(stmt);
  EXPECT_EQ(stmt.error().code(), Errc::kDatabase);
  EXPECT_NE(stmt.error().message().find("no such table: nowhere"), std::string::npos);
  EXPECT_NE(stmt.error().message().find("SELECT nope FROM nowhere"), std::string::npos);
}

TEST(DbDatabase, ErrorQuotesOnlyFirst80CharsOfSql) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  std::string sql = "SELECT " + std::string(100, 'x') + "_tail FROM missing_table";
  auto status = db->Exec(sql);
  ASSERT_FALSE(status);
  const std::string& message = status.error().message();
  EXPECT_NE(message.find("no such"), std::string::npos);
  EXPECT_NE(message.find(sql.substr(0, 80)), std::string::npos);
  EXPECT_EQ(message.find("_tail"), std::string::npos);
}

TEST(DbDatabase, UniqueViolationIsAlreadyExists) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)"));
  ASSERT_TRUE(db->Run("INSERT INTO t VALUES (?1, ?2)", "a", 1));
  auto dup = db->Run("INSERT INTO t VALUES (?1, ?2)", "a", 2);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), Errc::kAlreadyExists);
  EXPECT_NE(dup.error().message().find("UNIQUE constraint failed: t.id"), std::string::npos);

  auto not_null = db->Run("INSERT INTO t VALUES (?1, ?2)", "b", nullptr);
  ASSERT_FALSE(not_null);
  EXPECT_EQ(not_null.error().code(), Errc::kDatabase);
  EXPECT_NE(not_null.error().message().find("NOT NULL"), std::string::npos);
}

TEST(DbDatabase, ForeignKeysAreEnforced) {
  TempDir dir;
  auto db = OpenOrDie(dir / "a.db");
  ASSERT_TRUE(
      db->Exec("CREATE TABLE p (id INTEGER PRIMARY KEY);"
               "CREATE TABLE c (p INTEGER NOT NULL REFERENCES p(id));"));
  auto orphan = db->Run("INSERT INTO c VALUES (?1)", 7);
  ASSERT_FALSE(orphan);
  EXPECT_NE(orphan.error().message().find("FOREIGN KEY"), std::string::npos);
}

TEST(DbDatabase, SecondConnectionSeesCommittedData) {
  TempDir dir;
  auto writer = OpenOrDie(dir / "a.db");
  ASSERT_TRUE(writer->Exec("CREATE TABLE t (x INTEGER)"));
  ASSERT_TRUE(writer->Run("INSERT INTO t VALUES (?1)", 5));
  auto reader = OpenOrDie(dir / "a.db");
  int64_t x = 0;
  ASSERT_TRUE(reader->Query("SELECT x FROM t", [&](const Statement& row) { x = row.Int64(0); }));
  EXPECT_EQ(x, 5);
}

// Steps to the end; false if a step failed (the failure is reported).
bool RunToEnd(OnlineBackup& backup, int pages) {
  for (int i = 0; i < 100'000; ++i) {
    auto done = backup.Step(pages);
    if (!done) {
      ADD_FAILURE() << done.error().ToString();
      return false;
    }
    if (*done) return true;
  }
  return false;
}

TEST(DbOnlineBackup, CopiesWhatIsCommittedWhileAnotherConnectionWrites) {
  TempDir dir;
  auto live = OpenOrDie(dir / "live.db");
  ASSERT_TRUE(live->Exec("CREATE TABLE t (x INTEGER, pad BLOB)"));
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(live->Run("INSERT INTO t VALUES (?1, zeroblob(1000))", i));
  }
  auto reader = OpenOrDie(dir / "live.db");
  auto backup = OnlineBackup::Start(*reader, dir / "copy.db");
  ASSERT_TRUE(backup) << backup.error().ToString();
  ASSERT_FALSE(*(*backup)->Step(4));  // a few pages: not done yet
  EXPECT_GT((*backup)->page_count(), 4u);
  EXPECT_EQ((*backup)->pages_done(), 4u);
  // Another connection writes mid-copy: the copy starts its pass again and includes it.
  ASSERT_TRUE(live->Run("INSERT INTO t VALUES (?1, NULL)", 500));
  ASSERT_TRUE(RunToEnd(**backup, 8));
  EXPECT_EQ((*backup)->pages_done(), (*backup)->page_count());
  ASSERT_TRUE(live->Run("INSERT INTO t VALUES (?1, NULL)", 501));  // after the copy: not in it

  auto copy = OpenOrDie(dir / "copy.db", {.create = false});
  int64_t rows = 0;
  ASSERT_TRUE(
      copy->Query("SELECT count(*) FROM t", [&](const Statement& row) { rows = row.Int64(0); }));
  EXPECT_EQ(rows, 501);
  EXPECT_EQ(PragmaText(*copy, "PRAGMA integrity_check"), "ok");
}

TEST(DbOnlineBackup, WritesThroughTheSourceConnectionAreCarriedIn) {
  TempDir dir;
  auto live = OpenOrDie(dir / "live.db");
  ASSERT_TRUE(live->Exec("CREATE TABLE t (x INTEGER, pad BLOB)"));
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(live->Run("INSERT INTO t VALUES (?1, zeroblob(1000))", i));
  }
  auto backup = OnlineBackup::Start(*live, dir / "copy.db");
  ASSERT_TRUE(backup);
  ASSERT_FALSE(*(*backup)->Step(2));
  ASSERT_TRUE(live->Run("DELETE FROM t WHERE x < 100"));
  ASSERT_TRUE(RunToEnd(**backup, 2));
  auto copy = OpenOrDie(dir / "copy.db", {.create = false});
  int64_t rows = 0;
  ASSERT_TRUE(
      copy->Query("SELECT count(*) FROM t", [&](const Statement& row) { rows = row.Int64(0); }));
  EXPECT_EQ(rows, 200);
}

TEST(DbOnlineBackup, RefusesAnExistingFileAndLeavesNothingBehind) {
  TempDir dir;
  auto live = OpenOrDie(dir / "live.db");
  ASSERT_TRUE(live->Exec("CREATE TABLE t (x INTEGER)"));
  { std::ofstream(dir / "taken.db") << "mine"; }
  auto taken = OnlineBackup::Start(*live, dir / "taken.db");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code(), Errc::kAlreadyExists);
  auto nowhere = OnlineBackup::Start(*live, dir / "no/such/dir/copy.db");
  ASSERT_FALSE(nowhere);
  EXPECT_FALSE(std::filesystem::exists(dir / "no/such/dir/copy.db"));
  {
    // Abandoned half-way: the partial copy is removed.
    auto backup = OnlineBackup::Start(*live, dir / "partial.db");
    ASSERT_TRUE(backup);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "partial.db"));
}

}  // namespace
}  // namespace sluice::db
