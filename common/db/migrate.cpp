#include "common/db/migrate.h"

#include <string>

#include "common/db/transaction.h"

namespace sluice::db {
namespace {

Status CheckList(std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return Fail(Errc::kInvalidArgument, "migration #" + std::to_string(i) + " has version " +
                                              std::to_string(migrations[i].version) +
                                              ", expected " + std::to_string(i + 1));
    }
  }
  return {};
}

Status Apply(Database& db, const Migration& migration) {
  auto txn = Transaction::Begin(db, Transaction::Mode::kImmediate);
  if (!txn) return Fail(txn.error());
  // Another process may have migrated between our read of user_version and BEGIN.
  auto current = SchemaVersion(db);
  if (!current) return Fail(current.error());
  if (*current >= migration.version) return txn->Commit();
  if (auto ran = db.Exec(migration.sql); !ran) return ran;
  if (auto set = db.Exec("PRAGMA user_version = " + std::to_string(migration.version)); !set) {
    return set;
  }
  return txn->Commit();
}

}  // namespace

Result<int> SchemaVersion(Database& db) {
  int version = 0;
  auto read = db.Query("PRAGMA user_version", [&version](const Statement& row) {
    version = static_cast<int>(row.Int64(0));
  });
  if (!read) return Fail(read.error());
  return version;
}

Status Migrate(Database& db, std::span<const Migration> migrations) {
  if (auto valid = CheckList(migrations); !valid) return valid;
  auto current = SchemaVersion(db);
  if (!current) return Fail(current.error());
  const int latest = static_cast<int>(migrations.size());
  if (*current > latest) {
    return Fail(Errc::kDatabase, "database schema v" + std::to_string(*current) +
                                     " is newer than this build (v" + std::to_string(latest) + ")");
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= *current) continue;
    if (auto applied = Apply(db, migration); !applied) {
      return Context(applied.error(), "migrating to schema v" + std::to_string(migration.version));
    }
  }
  return {};
}

}  // namespace sluice::db
