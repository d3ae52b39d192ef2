// The scrape token file, and `sluicectl metrics token [--rotate]` (the built binary) against a
// real admin socket, store and token file.

#include "server/metrics/scrape_token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "common/base/file_util.h"
#include "server/admin/metrics_commands.h"
#include "server/store/audit_repo.h"
#include "tests/server/admin/admin_test_util.h"
#include "tests/server/pkg/pkg_test_util.h"
#include "tests/support/text_util.h"

namespace sluice::server::metrics {
namespace {

using admin::testing::AdminServerFixture;
using sluice::testing::FileText;
using testing::RunCtl;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

class ScrapeTokenTest : public AdminServerFixture {
 protected:
  void SetUp() override {
    AdminServerFixture::SetUp();
    if (HasFatalFailure()) return;
    path_token_ = dir_ + "/keys/metrics-token";
    ASSERT_TRUE(EnsureDir(dir_ + "/keys", 0700));
  }
  // Serves metrics-token from a token loaded now, as sluiced does at start.
  void Serve(bool synced_copy) {
    ASSERT_TRUE(EnsureDir(dir_ + "/db", 0700));
    auto store =
        store::Store::Open({.path = dir_ + "/db/sluice.db",
                            .post_to_loop = [loop = &loop_.loop()](std::function<void()> task) {
                              loop->Post(std::move(task));
                            }});
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    auto token = ScrapeToken::Load(path_token_);
    ASSERT_TRUE(token) << token.error().ToString();
    token_.emplace(std::move(*token));
    loop_.Sync([&] {
      RegisterMetricsCommands(*server_, *token_, *store_, SystemClock::Instance(), synced_copy);
    });
  }
  void TearDown() override {
    loop_.Sync([this] { server_.reset(); });  // the commands use the store and the token
    if (store_) store_->Close();
    AdminServerFixture::TearDown();
  }
  bool MatchesOnLoop(const std::string& bearer) {
    bool matches = false;
    loop_.Sync([&] { matches = token_->Matches(bearer); });
    return matches;
  }
  std::vector<std::string> AuditDetails() {
    auto rows = store_->Call<std::vector<store::AuditRow>>(
        [](db::Database& db) { return store::ListAudit(db, 0, 0); });
    EXPECT_TRUE(rows) << rows.error().ToString();
    std::vector<std::string> details;
    for (const auto& row : rows.value_or(std::vector<store::AuditRow>{})) {
      EXPECT_EQ(row.event, store::audit_event::kMetricsToken);
      details.push_back(row.detail);
    }
    return details;
  }

  std::string path_token_;
  std::unique_ptr<store::Store> store_;
  std::optional<ScrapeToken> token_;  // used on the loop thread
};

TEST_F(ScrapeTokenTest, NoTokenMatchesNothingUntilOneIsMade) {
  auto token = ScrapeToken::Load(path_token_);
  ASSERT_TRUE(token) << token.error().ToString();
  EXPECT_FALSE(token->exists());
  EXPECT_FALSE(token->Matches(""));
  EXPECT_FALSE(token->Matches("anything"));
  auto made = token->GetOrCreate();
  ASSERT_TRUE(made) << made.error().ToString();
  EXPECT_EQ(made->size(), 64u);
  EXPECT_TRUE(token->Matches(*made));
  EXPECT_FALSE(token->Matches(made->substr(0, 63)));
  EXPECT_FALSE(token->Matches(*made + "0"));
  std::string other = *made;
  other.back() = other.back() == '0' ? '1' : '0';
  EXPECT_FALSE(token->Matches(other));
  EXPECT_FALSE(token->Matches(""));
  // Kept: read back by the next start, owner-only.
  EXPECT_EQ(ModeOf(path_token_), 0600u);
  auto again = ScrapeToken::Load(path_token_);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->Matches(*made));
  EXPECT_EQ(again->GetOrCreate().value_or(""), *made);
}

TEST_F(ScrapeTokenTest, AnAdminsOwnTokenIsKeptAndAMalformedFileIsRefused) {
  const std::string own = "prometheus-scrape-secret-0123456789-abcdef";
  ASSERT_TRUE(WriteFileAtomic(path_token_, own + "\n", 0600));
  auto token = ScrapeToken::Load(path_token_);
  ASSERT_TRUE(token) << token.error().ToString();
  EXPECT_TRUE(token->Matches(own));
  for (const std::string& bad : {std::string("short\n"), std::string(40, 'a') + " with spaces\n"}) {
    ASSERT_TRUE(WriteFileAtomic(path_token_, bad, 0600));
    auto refused = ScrapeToken::Load(path_token_);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code(), Errc::kCorrupt);
    EXPECT_NE(refused.error().message().find(path_token_), std::string::npos);
  }
}

TEST_F(ScrapeTokenTest, SluicectlPrintsTheTokenMakingItOnceAndRotateReplacesItAtOnce) {
  Serve(/*synced_copy=*/false);
  if (HasFatalFailure()) return;
  auto first = RunCtl({"--data-dir", dir_, "metrics", "token"}, dir_);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string token = Trimmed(first.out);
  EXPECT_EQ(token.size(), 64u) << first.out;
  EXPECT_NE(first.err.find("made a new scrape token"), std::string::npos) << first.err;
  EXPECT_EQ(Trimmed(FileText(path_token_)), token);
  EXPECT_EQ(ModeOf(path_token_), 0600u);
  EXPECT_TRUE(MatchesOnLoop(token));

  auto second = RunCtl({"--data-dir", dir_, "metrics", "token"}, dir_);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(Trimmed(second.out), token);
  EXPECT_EQ(second.err, "");

  auto rotated = RunCtl({"--data-dir", dir_, "metrics", "token", "--rotate"}, dir_);
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const std::string fresh = Trimmed(rotated.out);
  EXPECT_EQ(fresh.size(), 64u);
  EXPECT_NE(fresh, token);
  EXPECT_FALSE(MatchesOnLoop(token));  // the old token stops working at once
  EXPECT_TRUE(MatchesOnLoop(fresh));
  EXPECT_EQ(Trimmed(FileText(path_token_)), fresh);

  auto as_json = RunCtl({"--data-dir", dir_, "metrics", "token", "--json"}, dir_);
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(nlohmann::json::parse(as_json.out)["token"], fresh);
  // Made and replaced are audited, never with the token.
  EXPECT_EQ(AuditDetails(), (std::vector<std::string>{"created", "rotated"}));
}

TEST_F(ScrapeTokenTest, AFailoverBackupOnlyShowsThePrimarysToken) {
  Serve(/*synced_copy=*/true);
  if (HasFatalFailure()) return;
  auto none = RunCtl({"--data-dir", dir_, "metrics", "token"}, dir_);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("on the primary"), std::string::npos) << none.err;
  EXPECT_FALSE(std::filesystem::exists(path_token_));

  // A sync brought the primary's token: shown, but not replaced here.
  const std::string primary = std::string(64, 'e');
  ASSERT_TRUE(WriteFileAtomic(path_token_, primary + "\n", 0600));
  loop_.Sync([&] { token_ = ScrapeToken::Load(path_token_).value(); });
  auto shown = RunCtl({"--data-dir", dir_, "metrics", "token"}, dir_);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(Trimmed(shown.out), primary);
  auto rotate = RunCtl({"--data-dir", dir_, "metrics", "token", "--rotate"}, dir_);
  EXPECT_EQ(rotate.exit_code, 1);
  EXPECT_TRUE(MatchesOnLoop(primary));
  EXPECT_TRUE(AuditDetails().empty());
}

}  // namespace
}  // namespace sluice::server::metrics
