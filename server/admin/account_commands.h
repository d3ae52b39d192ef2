#pragma once
// Admin accounts of the web dashboard on the admin socket (docs/admin.md, "Admin accounts"):
//   admin-add    {name, password}  -> {"name", "created_ms"}
//   admin-passwd {name, password}  -> {"name", "changed_ms"}
//   admin-remove {name}            -> {"name"}
//   admins       {}                -> {"admins": [{"name", "created_ms", "changed_ms"}]}
// Passwords are hashed (crypto::HashPassword) on a worker thread, never on the loop, and are
// never logged, echoed or audited; each change is audited (admin_add, admin_passwd,
// admin_remove) with "name=<name>; by=<actor>" in the same store job as the change.

#include <string_view>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/crypto/password_hash.h"
#include "common/uv/loop.h"
#include "server/admin/admin_server.h"
#include "server/store/store.h"

namespace sluice::server {

// Names: 1 to 64 of A-Z a-z 0-9 . _ - (compared case-insensitively by the store).
inline constexpr size_t kMaxAdminNameBytes = 64;
// Passwords: 10 to 1024 bytes.
inline constexpr size_t kMinAdminPasswordBytes = 10;
inline constexpr size_t kMaxAdminPasswordBytes = 1024;

// kInvalidArgument saying what is wrong (never quoting a password).
[[nodiscard]] Status CheckAdminName(std::string_view name);
[[nodiscard]] Status CheckAdminPassword(std::string_view password);

struct AccountOptions {
  crypto::PasswordHashParams hash_params{};  // the cost of new hashes (tests lower it)
  // Called on the loop thread once an account's password changed or the account was removed
  // (with the name as given): the dashboard ends that admin's sessions.
  std::function<void(const std::string& name)> on_credentials_changed{};
};

// `loop`, `store` and `clock` must outlive `admin`.
void RegisterAccountCommands(admin::AdminServer& admin, uv::Loop& loop, store::Store& store,
                             Clock& clock, AccountOptions options = {});

}  // namespace sluice::server
