#include "server/pkg/package_import.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "common/pkg/manifest.h"
#include "tests/server/pkg/pkg_test_util.h"
#include "tests/server/test_times.h"
#include "tests/support/temp_dir.h"

namespace sluice::server {
namespace {

using sluice::testing::TempDir;
using testing::ListTree;
using testing::PackageBytes;
using testing::WriteTestFile;

using sluice::testing::kNow;

std::string Sha256Hex(const std::string& content) {
  return crypto::HexEncode(crypto::Sha256(AsBytes(content)));
}

class PackageImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = crypto::SigningKey::Generate();
    ASSERT_TRUE(key);
    key_.emplace(std::move(*key));
  }

  Result<PackageRecord> Import(const std::string& source, const PackageSpec& spec = kSpec,
                               int64_t now_ms = kNow) {
    return ImportPackage(packages_, source, spec, *key_, now_ms);
  }
  static void ExpectRefused(const Result<PackageRecord>& result, Errc code,
                            const std::string& named) {
    ASSERT_FALSE(result) << "import should have failed";
    EXPECT_EQ(result.error().code(), code) << result.error().ToString();
    EXPECT_NE(result.error().message().find(named), std::string::npos)
        << result.error().message() << " should name " << named;
  }

  static inline const PackageSpec kSpec{
      .kind = "jump-client", .platform = "linux-x86_64", .version = "2.0.0"};
  TempDir dir_;
  const std::string packages_ = (dir_ / "packages");
  std::optional<crypto::SigningKey> key_;
};

TEST_F(PackageImportTest, StoresContentUnderItsDigestWithASignedManifest) {
  // Over three 1 MiB chunks, so the streaming hash and copy cross chunk boundaries.
  const std::string content = PackageBytes((3 << 20) + 17, 1);
  const std::string sha = Sha256Hex(content);
  auto record =
      Import(WriteTestFile(dir_ / "client-2.0.0.bin", content), {.kind = "jumpoint",
                                                                 .platform = "windows-x86_64",
                                                                 .version = "2.0.1.7",
                                                                 .allow_downgrade = true});
  ASSERT_TRUE(record) << record.error().ToString();

  EXPECT_EQ(record->sha256, sha);
  EXPECT_EQ(record->size, content.size());
  EXPECT_EQ(record->path, packages_ + "/" + sha);
  EXPECT_EQ(record->kind, "jumpoint");
  EXPECT_EQ(record->platform, "windows-x86_64");
  EXPECT_EQ(record->version, "2.0.1.7");
  EXPECT_EQ(record->created_ms, kNow);
  EXPECT_EQ(ReadFile(record->path).value_or(""), content);
  EXPECT_EQ(ListTree(packages_), std::set<std::string>{sha});
  struct stat st {};
  ASSERT_EQ(::stat(record->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  auto manifest = pkg::VerifyManifest(record->manifest, record->signature, key_->PublicKey());
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_EQ(*manifest, (pkg::Manifest{.kind = "jumpoint",
                                      .platform = "windows-x86_64",
                                      .version = "2.0.1.7",
                                      .size = content.size(),
                                      .sha256 = sha,
                                      .allow_downgrade = true,
                                      .created_ms = kNow}));
  // Another key does not vouch for it.
  auto other = crypto::SigningKey::Generate();
  ASSERT_TRUE(other);
  EXPECT_FALSE(pkg::VerifyManifest(record->manifest, record->signature, other->PublicKey()));
}

TEST_F(PackageImportTest, ReimportingTheSameFileReusesTheStoredContent) {
  const std::string content = PackageBytes(100'000, 2);
  const std::string source = WriteTestFile(dir_ / "pkg.bin", content);
  auto first = Import(source);
  ASSERT_TRUE(first) << first.error().ToString();
  struct stat before {};
  ASSERT_EQ(::stat(first->path.c_str(), &before), 0);

  auto again = Import(source, kSpec, kNow + 1000);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->sha256, first->sha256);
  EXPECT_EQ(again->path, first->path);
  EXPECT_EQ(again->size, first->size);
  struct stat after {};
  ASSERT_EQ(::stat(again->path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the identical stored file should be kept";
  EXPECT_EQ(ListTree(packages_), std::set<std::string>{first->sha256});

  // Another version with the same bytes shares the file.
  auto other_version =
      Import(source, {.kind = "jump-client", .platform = "linux-x86_64", .version = "2.0.1"});
  ASSERT_TRUE(other_version);
  EXPECT_EQ(other_version->path, first->path);
  EXPECT_EQ(ListTree(packages_), std::set<std::string>{first->sha256});
}

TEST_F(PackageImportTest, RepairsAStoredFileWhoseContentDoesNotMatchItsName) {
  const std::string content = PackageBytes(5000, 3);
  ASSERT_TRUE(EnsureDir(packages_));
  WriteTestFile(packages_ + "/" + Sha256Hex(content), "bit rot");
  auto record = Import(WriteTestFile(dir_ / "pkg.bin", content));
  ASSERT_TRUE(record) << record.error().ToString();
  EXPECT_EQ(ReadFile(record->path).value_or(""), content);
  EXPECT_EQ(ListTree(packages_).size(), 1u);
}

TEST_F(PackageImportTest, RefusesBadSpecsNamingTheValue) {
  const std::string source = WriteTestFile(dir_ / "pkg.bin", "payload");
  ExpectRefused(Import(source, {.kind = "toaster", .platform = "linux-x86_64", .version = "1.0"}),
                Errc::kInvalidArgument, "toaster");
  ExpectRefused(
      Import(source, {.kind = "jump-client", .platform = "linux-x86_64", .version = "2.0-beta"}),
      Errc::kInvalidArgument, "2.0-beta");
  ExpectRefused(Import(source, {.kind = "jump-client", .platform = "", .version = "1.0"}),
                Errc::kInvalidArgument, "platform");
  ExpectRefused(Import(source, {.kind = "jump-client", .platform = "linux x86", .version = "1"}),
                Errc::kInvalidArgument, "linux x86");
  ExpectRefused(Import(source, {.kind = "jump-client", .platform = "a\nb", .version = "1"}),
                Errc::kInvalidArgument, "platform");
  const std::string long_platform(65, 'p');
  ExpectRefused(Import(source, {.kind = "jump-client", .platform = long_platform, .version = "1"}),
                Errc::kInvalidArgument, long_platform);
  EXPECT_TRUE(Import(
      source, {.kind = "integration-client", .platform = std::string(64, 'p'), .version = "1"}));
}

TEST_F(PackageImportTest, RefusesSourcesThatAreNotReadableNonEmptyFiles) {
  ExpectRefused(Import(dir_ / "missing.bin"), Errc::kNotFound, dir_ / "missing.bin");
  ASSERT_TRUE(EnsureDir(dir_ / "a-dir"));
  ExpectRefused(Import(dir_ / "a-dir"), Errc::kInvalidArgument, dir_ / "a-dir");
  ExpectRefused(Import(WriteTestFile(dir_ / "empty.bin", "")), Errc::kInvalidArgument,
                (dir_ / "empty.bin"));
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  ExpectRefused(Import(dir_ / "fifo"), Errc::kInvalidArgument, dir_ / "fifo");
  if (::geteuid() != 0) {  // root reads anything
    const std::string locked = WriteTestFile(dir_ / "locked.bin", "secret");
    ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
    ExpectRefused(Import(locked), Errc::kIo, locked);
  }
  EXPECT_TRUE(ListTree(packages_).empty());
}

TEST_F(PackageImportTest, UnwritableStoreFailsWithoutLeavingFiles) {
  WriteTestFile(dir_ / "blocker", "a regular file");
  const std::string source = WriteTestFile(dir_ / "pkg.bin", PackageBytes(4096, 4));
  auto record = ImportPackage(dir_ / "blocker/packages", source, kSpec, *key_, kNow);
  ExpectRefused(record, Errc::kIo, dir_ / "blocker");
  EXPECT_EQ(ListTree(dir_.path()), (std::set<std::string>{"blocker", "pkg.bin"}));
}

TEST_F(PackageImportTest, CancelledImportLeavesNoTempFile) {
  const std::string source = WriteTestFile(dir_ / "pkg.bin", PackageBytes(4096, 5));
  std::atomic<bool> cancel{true};
  auto record = ImportPackage(packages_, source, kSpec, *key_, kNow, &cancel);
  ExpectRefused(record, Errc::kClosed, source);
  EXPECT_TRUE(ListTree(packages_).empty());
}

// A disk that fills up mid-copy: a child process whose file size limit (RLIMIT_FSIZE) is below
// the package size gets EFBIG from write(2) partway through, exactly like ENOSPC.
TEST_F(PackageImportTest, DiskFullMidCopyLeavesNoPartialFile) {
  const std::string source = WriteTestFile(dir_ / "pkg.bin", PackageBytes(3 << 20, 6));
  ASSERT_TRUE(EnsureDir(packages_));
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{.rlim_cur = 1 << 20, .rlim_max = 1 << 20};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(2);
    auto record = ImportPackage(packages_, source, kSpec, *key_, kNow);
    const bool refused = !record && record.error().code() == Errc::kIo &&
                         record.error().message().find(packages_) != std::string::npos;
    ::_exit(refused ? 0 : 1);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL() << "importing child did not exit";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the import should fail with kIo naming the store";
  EXPECT_TRUE(ListTree(packages_).empty());
}

}  // namespace
}  // namespace sluice::server
