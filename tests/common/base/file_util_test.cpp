#include "common/base/file_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace sluice {
namespace {

class FileUtilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("sluice-file-util-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = *dir;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      EXPECT_TRUE(RemoveAll(dir_));
    }
  }

  mode_t ModeOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  // Names in dir_, to prove no temp file was left behind.
  std::vector<std::string> Entries() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir_;
};

TEST_F(FileUtilTest, WriteThenReadAndReplace) {
  const std::string path = dir_ + "/state.json";
  ASSERT_TRUE(WriteFileAtomic(path, "first"));
  EXPECT_EQ(*ReadFile(path), "first");
  ASSERT_TRUE(WriteFileAtomic(path, std::string("sec\0nd", 6)));
  EXPECT_EQ(*ReadFile(path), std::string("sec\0nd", 6));
  ASSERT_TRUE(WriteFileAtomic(path, ""));
  EXPECT_EQ(*ReadFile(path), "");
  EXPECT_EQ(Entries(), std::vector<std::string>{"state.json"});
}

TEST_F(FileUtilTest, LargeContentRoundTrips) {
  std::string data(5 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
  const std::string path = dir_ + "/big";
  ASSERT_TRUE(WriteFileAtomic(path, data));
  EXPECT_EQ(*ReadFile(path), data);
}

TEST_F(FileUtilTest, ModeIsHonouredExactly) {
  const mode_t old_umask = ::umask(022);
  const std::string path = dir_ + "/key";
  ASSERT_TRUE(WriteFileAtomic(path, "k", 0600));
  EXPECT_EQ(ModeOf(path), 0600u);
  ASSERT_TRUE(WriteFileAtomic(path, "k", 0666));  // umask is not applied
  EXPECT_EQ(ModeOf(path), 0666u);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/default", "d"));
  EXPECT_EQ(ModeOf(dir_ + "/default"), 0644u);
  ::umask(old_umask);
}

TEST_F(FileUtilTest, ReadMissingIsNotFoundAndNamesPath) {
  const std::string path = dir_ + "/absent";
  auto r = ReadFile(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
  EXPECT_NE(r.error().message().find(path), std::string::npos);
  EXPECT_NE(r.error().message().find("No such file"), std::string::npos);
}

TEST_F(FileUtilTest, ReadDirectoryIsIoError) {
  auto r = ReadFile(dir_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kIo);
}

TEST_F(FileUtilTest, WriteIntoMissingDirectoryFailsCleanly) {
  const std::string path = dir_ + "/no/such/dir/file";
  auto r = WriteFileAtomic(path, "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kIo);
  EXPECT_NE(r.error().message().find(path), std::string::npos);
  EXPECT_TRUE(Entries().empty());
}

TEST_F(FileUtilTest, FailedWriteLeavesOldContent) {
  // Root ignores permissions, so force the failure structurally: the target is a directory,
  // which rename(2) refuses to replace with a file. The write itself has already succeeded.
  const std::string target = dir_ + "/target";
  ASSERT_TRUE(EnsureDir(target));
  ASSERT_TRUE(WriteFileAtomic(target + "/inside", "old content"));
  auto r = WriteFileAtomic(target, "new content");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kIo);
  EXPECT_NE(r.error().message().find(target), std::string::npos);
  EXPECT_EQ(*ReadFile(target + "/inside"), "old content");
  EXPECT_EQ(Entries(), std::vector<std::string>{"target"}) << "temp file left behind";

  // A parent that is a regular file: nothing can be created, the file is untouched.
  const std::string file = dir_ + "/plain";
  ASSERT_TRUE(WriteFileAtomic(file, "old"));
  auto under_file = WriteFileAtomic(file + "/child", "new");
  ASSERT_FALSE(under_file);
  EXPECT_EQ(under_file.error().code(), Errc::kIo);
  EXPECT_EQ(*ReadFile(file), "old");
}

TEST_F(FileUtilTest, EnsureDirCreatesParentsAndAcceptsExisting) {
  const std::string deep = dir_ + "/a/b/c/";
  ASSERT_TRUE(EnsureDir(deep, 0700));
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/a/b/c"));
  EXPECT_EQ(ModeOf(dir_ + "/a/b/c"), 0700u);
  EXPECT_EQ(ModeOf(dir_ + "/a"), 0700u);
  ASSERT_TRUE(EnsureDir(deep));               // already there
  EXPECT_EQ(ModeOf(dir_ + "/a/b/c"), 0700u);  // existing dirs are not re-moded
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/a/b/c/f", "x"));
}

TEST_F(FileUtilTest, EnsureDirFailsOnRegularFile) {
  const std::string file = dir_ + "/file";
  ASSERT_TRUE(WriteFileAtomic(file, "x"));
  auto r = EnsureDir(file);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kIo);
  auto below = EnsureDir(file + "/sub");
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().code(), Errc::kIo);
  EXPECT_EQ(*ReadFile(file), "x");
}

TEST_F(FileUtilTest, MakeTempDirIsFreshPrivateAndUnderTmpdir) {
  const char* old_tmpdir = std::getenv("TMPDIR");
  const std::string saved = old_tmpdir != nullptr ? old_tmpdir : "";
  ASSERT_EQ(::setenv("TMPDIR", dir_.c_str(), 1), 0);
  auto a = MakeTempDir("unit-");
  auto b = MakeTempDir("unit-");
  if (old_tmpdir != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_TRUE(a) << a.error().ToString();
  ASSERT_TRUE(b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(a->starts_with(dir_ + "/unit-")) << *a;
  EXPECT_TRUE(std::filesystem::is_empty(*a));
  EXPECT_EQ(ModeOf(*a), 0700u);

  auto bad = MakeTempDir("a/b");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);
}

TEST_F(FileUtilTest, RemoveAllRemovesTreesAndToleratesMissing) {
  ASSERT_TRUE(EnsureDir(dir_ + "/x/y"));
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/x/y/f", "data"));
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/x/g", "data"));
  ASSERT_TRUE(RemoveAll(dir_ + "/x"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x"));
  EXPECT_TRUE(RemoveAll(dir_ + "/x"));  // already gone
  ASSERT_TRUE(RemoveAll(dir_));
  EXPECT_FALSE(std::filesystem::exists(dir_));
  dir_.clear();
}

}  // namespace
}  // namespace sluice
