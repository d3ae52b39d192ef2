#pragma once
// Admin accounts of the web dashboard (table `admins`, schema v7): a name and a password hash
// as crypto::HashPassword encodes it. Names compare case-insensitively. Plain functions for
// store jobs; they never see a password, only its hash.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::store {

struct AdminRow {
  std::string name{};  // as added (the stored spelling)
  std::string password_hash{};
  int64_t created_ms = 0, changed_ms = 0;  // changed: the last password change (or creation)
  bool operator==(const AdminRow&) const = default;
};

// Errors: kAlreadyExists if the name is taken (in any letter case); kDatabase.
[[nodiscard]] Status AddAdmin(db::Database& db, const AdminRow& row);
// Replaces the password hash and sets changed_ms. Errors: kNotFound; kDatabase.
[[nodiscard]] Status SetAdminPasswordHash(db::Database& db, std::string_view name,
                                          std::string_view password_hash, int64_t now_ms);
// Errors: kNotFound; kDatabase.
[[nodiscard]] Status RemoveAdmin(db::Database& db, std::string_view name);
// The account `name` (any letter case), or nullopt. Errors: kDatabase.
[[nodiscard]] Result<std::optional<AdminRow>> FindAdmin(db::Database& db, std::string_view name);
// FindAdmin's password hash only: what a login verifies against (crypto::VerifyPassword).
[[nodiscard]] Result<std::optional<std::string>> GetAdminPasswordHash(db::Database& db,
                                                                      std::string_view name);
// Every account, ordered by name (case-insensitively). Errors: kDatabase.
[[nodiscard]] Result<std::vector<AdminRow>> ListAdmins(db::Database& db);

}  // namespace sluice::store
