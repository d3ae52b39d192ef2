#pragma once
// The fixture of the repository tests: a real SQLite file with the server's schema, opened the
// way the store opens it, and reopened as a restarted server would.

#include <gtest/gtest.h>

#include <memory>

#include "common/db/database.h"
#include "common/db/migrate.h"
#include "server/store/schema.h"
#include "tests/support/temp_dir.h"

namespace sluice::store::testing {

class MigratedDbTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  // Opens (again) the database file and brings its schema up to date.
  void Reopen() {
    db_.reset();
    auto db = db::Database::Open(dir_ / "server.db");
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db::Migrate(*db_, Migrations()));
  }

  sluice::testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
};

}  // namespace sluice::store::testing
