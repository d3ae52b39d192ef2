// admin-add / admin-passwd / admin-remove / admins over the real admin socket with a real store;
// the actor each change is audited with; sluicectl admin against the same server.

#include "server/admin/account_commands.h"

#include <gtest/gtest.h>

#include <future>

#include "common/crypto/password_hash.h"
#include "server/store/admin_repo.h"
#include "tests/server/admin/admin_store_fixture.h"
#include "tests/server/pkg/pkg_test_util.h"

namespace sluice::server {
namespace {

using nlohmann::json;

constexpr crypto::PasswordHashParams kTestHash{.log2_n = 10, .r = 1, .p = 1};
constexpr char kPassword[] = "correct horse battery";

class AccountCommandsTest : public testing::AdminStoreFixture {
 protected:
  void SetUp() override {
    AdminStoreFixture::SetUp();
    if (HasFatalFailure()) return;
    loop_.Sync([this] {
      RegisterAccountCommands(*admin_, loop_.loop(), *store_, clock_, {.hash_params = kTestHash});
    });
  }

  std::optional<std::string> StoredHash(const std::string& name) {
    auto hash = store_->Call<std::optional<std::string>>(
        [name](db::Database& db) { return store::GetAdminPasswordHash(db, name); });
    EXPECT_TRUE(hash) << hash.error().ToString();
    return hash.value_or(std::nullopt);
  }
};

TEST_F(AccountCommandsTest, AddListChangeAndRemoveAnAccount) {
  json added = Ok("admin-add", {{"name", "alice"}, {"password", kPassword}});
  EXPECT_EQ(added, json({{"name", "alice"}, {"created_ms", sluice::testing::kNow}}));
  auto hash = StoredHash("alice");
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$scrypt$ln=10,r=1,p=1$")) << *hash;
  EXPECT_TRUE(crypto::VerifyPassword(kPassword, *hash));
  EXPECT_EQ(StoredHash("ALICE"), hash) << "names compare case-insensitively";

  EXPECT_EQ(Ok("admins"), json({{"admins",
                                 {{{"name", "alice"},
                                   {"created_ms", sluice::testing::kNow},
                                   {"changed_ms", sluice::testing::kNow}}}}}));

  loop_.Sync([this] { clock_.Advance(60'000); });
  json changed = Ok("admin-passwd", {{"name", "alice"}, {"password", "a brand new secret"}});
  EXPECT_EQ(changed["changed_ms"], sluice::testing::kNow + 60'000);
  auto new_hash = StoredHash("alice");
  ASSERT_TRUE(new_hash);
  EXPECT_FALSE(crypto::VerifyPassword(kPassword, *new_hash));
  EXPECT_TRUE(crypto::VerifyPassword("a brand new secret", *new_hash));
  json listed = Ok("admins");
  EXPECT_EQ(listed["admins"][0]["created_ms"], sluice::testing::kNow);
  EXPECT_EQ(listed["admins"][0]["changed_ms"], sluice::testing::kNow + 60'000);

  EXPECT_EQ(Ok("admin-remove", {{"name", "alice"}}), json({{"name", "alice"}}));
  EXPECT_FALSE(StoredHash("alice"));
  EXPECT_EQ(Ok("admins"), json({{"admins", json::array()}}));

  // Each change is audited with who made it, and no password appears anywhere in the log.
  const std::string by = "by=" + LocalActor();
  auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].event, "admin_add");
  EXPECT_EQ(rows[1].event, "admin_passwd");
  EXPECT_EQ(rows[2].event, "admin_remove");
  for (const auto& row : rows) {
    EXPECT_EQ(row.detail, "name=alice; " + by);
    EXPECT_EQ(row.detail.find("secret"), std::string::npos);
    EXPECT_EQ(row.detail.find("horse"), std::string::npos);
  }
  EXPECT_EQ(rows[1].wall_ms, sluice::testing::kNow + 60'000);
}

TEST_F(AccountCommandsTest, RefusesBadNamesPasswordsAndDuplicatesWithoutAuditing) {
  for (const std::string& name :
       {std::string(), std::string(65, 'a'), std::string("a b"), std::string("ali;ce"),
        std::string("bob/../x"), std::string("\xc3\xa9ve")}) {
    EXPECT_EQ(ErrorCode("admin-add", {{"name", name}, {"password", kPassword}}), "invalid_argument")
        << name;
  }
  EXPECT_EQ(Ok("admin-add", {{"name", std::string(64, 'a')}, {"password", kPassword}})["name"],
            std::string(64, 'a'));
  EXPECT_EQ(ErrorCode("admin-add", {{"name", "bob"}, {"password", "123456789"}}),
            "invalid_argument");
  EXPECT_EQ(ErrorCode("admin-add", {{"name", "bob"}, {"password", std::string(1025, 'x')}}),
            "invalid_argument");
  EXPECT_EQ(ErrorCode("admin-add", {{"name", "bob"}}), "invalid_argument");
  EXPECT_EQ(ErrorCode("admin-add", {{"name", "bob"}, {"password", 1234567890}}),
            "invalid_argument");
  Ok("admin-add", {{"name", "bob"}, {"password", std::string(1024, 'x')}});
  EXPECT_EQ(ErrorCode("admin-add", {{"name", "Bob"}, {"password", kPassword}}), "already_exists");
  EXPECT_EQ(ErrorCode("admin-passwd", {{"name", "carol"}, {"password", kPassword}}), "not_found");
  EXPECT_EQ(ErrorCode("admin-passwd", {{"name", "bob"}, {"password", "short"}}),
            "invalid_argument");
  EXPECT_EQ(ErrorCode("admin-remove", {{"name", "carol"}}), "not_found");
  // The first password still holds after every refusal.
  auto hash = StoredHash("bob");
  ASSERT_TRUE(hash);
  EXPECT_TRUE(crypto::VerifyPassword(std::string(1024, 'x'), *hash));
  auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 2u);  // the two accounts added; no refusal wrote a row
  for (const auto& row : rows) EXPECT_EQ(row.event, "admin_add");
}

TEST_F(AccountCommandsTest, TheSocketNamesTheLocalUserAndAClientCannotClaimAnother) {
  Ok("admin-add", {{"name", "dave"}, {"password", kPassword}, {"_actor", "web:mallory"}});
  auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].detail, "name=dave; by=" + LocalActor());
}

TEST_F(AccountCommandsTest, RunCarriesTheWebLayersActor) {
  auto answered = std::make_shared<std::promise<Result<json>>>();
  auto result = answered->get_future();
  loop_.Sync([this, answered] {
    admin_->Run("admin-add", {{"name", "erin"}, {"password", kPassword}, {"_actor", "x"}},
                "web:root admin;x", [answered](Result<json> r) { answered->set_value(r); });
  });
  ASSERT_EQ(result.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto reply = result.get();
  ASSERT_TRUE(reply) << reply.error().ToString();
  auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 1u);
  // Spaces and ';' in an actor cannot forge another detail field.
  EXPECT_EQ(rows[0].detail, "name=erin; by=web:root?admin?x");

  auto bad = std::make_shared<std::promise<Result<json>>>();
  auto bad_result = bad->get_future();
  loop_.Sync([this, bad] {
    admin_->Run("admin-add", json::array(), "web:x", [bad](Result<json> r) { bad->set_value(r); });
  });
  ASSERT_EQ(bad_result.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto refused = bad_result.get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kInvalidArgument);
}

TEST_F(AccountCommandsTest, SluicectlAddsListsAndRemovesWithAPasswordFile) {
  const std::string file = testing::WriteTestFile(root_ + "/pw.txt", "from a file 123\nignored\n");
  auto added = testing::RunCtl(
      {"--data-dir", root_, "admin", "add", "frank", "--password-file", file}, root_);
  EXPECT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out, "added admin frank\n");
  auto hash = StoredHash("frank");
  ASSERT_TRUE(hash);
  EXPECT_TRUE(crypto::VerifyPassword("from a file 123", *hash));

  auto listed = testing::RunCtl({"--data-dir", root_, "admin", "list", "--json"}, root_);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(json::parse(listed.out)["admins"][0]["name"], "frank");
  auto table = testing::RunCtl({"--data-dir", root_, "admin", "list"}, root_);
  EXPECT_NE(table.out.find("frank"), std::string::npos) << table.out;

  // Without a terminal and without a file it refuses and sends nothing.
  auto no_tty = testing::RunCtl({"--data-dir", root_, "admin", "passwd", "frank"}, root_);
  EXPECT_EQ(no_tty.exit_code, 1);
  EXPECT_NE(no_tty.err.find("--password-file"), std::string::npos) << no_tty.err;

  const std::string short_file = testing::WriteTestFile(root_ + "/short.txt", "short\n");
  auto refused = testing::RunCtl(
      {"--data-dir", root_, "admin", "passwd", "frank", "--password-file", short_file}, root_);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("invalid_argument"), std::string::npos) << refused.err;

  auto removed = testing::RunCtl({"--data-dir", root_, "admin", "remove", "frank"}, root_);
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.out, "removed admin frank\n");
  EXPECT_FALSE(StoredHash("frank"));
  auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].detail, "name=frank; by=" + LocalActor());
}

}  // namespace
}  // namespace sluice::server
