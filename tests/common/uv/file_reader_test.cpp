#include "common/uv/file_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "tests/common/uv/watchdog.h"

namespace sluice::uv {
namespace {

class FileReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-file-reader-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "data").string();
    std::ofstream out(path_, std::ios::binary);
    for (int i = 0; i < 1000; ++i) out.put(static_cast<char>(i % 251));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Opens `path` on a fresh loop run; returns the reader or the error.
  Result<std::unique_ptr<FileReader>> OpenSync(const std::string& path) {
    std::optional<Result<std::unique_ptr<FileReader>>> out;
    auto watchdog = testing::StartWatchdog(loop_);
    FileReader::Open(loop_, path, [&](Result<std::unique_ptr<FileReader>> r) {
      out = std::move(r);
      loop_.Stop();
    });
    loop_.Run();
    if (!out) return Fail(Errc::kInternal, "open never completed");
    return std::move(*out);
  }

  Result<Bytes> ReadSync(FileReader& reader, uint64_t offset, size_t length) {
    std::optional<Result<Bytes>> out;
    auto watchdog = testing::StartWatchdog(loop_);
    reader.Read(offset, length, [&](Result<Bytes> r) {
      out = std::move(r);
      loop_.Stop();
    });
    loop_.Run();
    if (!out) return Fail(Errc::kInternal, "read never completed");
    return std::move(*out);
  }

  Loop loop_;
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(FileReaderTest, ReadsRangesAndShortAtEof) {
  auto reader = OpenSync(path_);
  ASSERT_TRUE(reader.has_value()) << reader.error().message();
  auto middle = ReadSync(**reader, 300, 10);
  ASSERT_TRUE(middle.has_value()) << middle.error().message();
  ASSERT_EQ(middle->size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ((*middle)[i], (300 + i) % 251);
  auto tail = ReadSync(**reader, 990, 100);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(tail->size(), 10u);
  auto past = ReadSync(**reader, 5000, 100);
  ASSERT_TRUE(past.has_value());
  EXPECT_TRUE(past->empty());
}

TEST_F(FileReaderTest, MissingFileIsNotFound) {
  auto reader = OpenSync((dir_ / "missing").string());
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().code(), Errc::kNotFound);
}

TEST_F(FileReaderTest, DestroyingTheReaderMidReadDropsTheCallback) {
  auto reader = OpenSync(path_);
  ASSERT_TRUE(reader.has_value());
  bool delivered = false;
  (*reader)->Read(0, 1000, [&](Result<Bytes>) { delivered = true; });
  reader->reset();
  auto watchdog = testing::StartWatchdog(loop_);
  auto done = Timer::Create(loop_);
  done->Start(100, 0, [&] { loop_.Stop(); });
  loop_.Run();
  EXPECT_FALSE(delivered);
}

}  // namespace
}  // namespace sluice::uv
