// The backup file format on real files: what is written reads back byte for byte, and every
// kind of damage is refused with a named error before anything is trusted.

#include "server/backup/backup_archive.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/base/file_util.h"
#include "tests/support/temp_dir.h"

namespace sluice::backup {
namespace {

// Cheap scrypt: these tests are about the format, not the key derivation's cost.
constexpr crypto::ScryptParams kFastScrypt{.n = 1u << 10, .r = 8, .p = 1};

class BackupArchiveTest : public ::testing::Test {
 protected:
  // A backup holding a 2.5 MiB file (three segments) and a small one.
  std::string Write(const std::string& password, const std::string& name = "backup") {
    const std::string big = dir_ / "big.bin";
    {
      std::ofstream out(big, std::ios::binary);
      for (int i = 0; i < 5 * 512 * 1024; ++i) out.put(static_cast<char>((i * 7) % 251));
    }
    const std::string path = dir_ / name;
    auto writer = BackupWriter::Create(path, password, kFastScrypt);
    EXPECT_TRUE(writer) << writer.error().ToString();
    EXPECT_TRUE(writer->AddFile("db/sluice.db", big));
    const std::string key = "the enrollment key\n";
    EXPECT_TRUE(writer->AddBytes("keys/enrollment.key", AsBytes(key)));
    Manifest manifest;
    manifest.site_version = "2.0.0";
    manifest.schema_version = 6;
    manifest.created_ms = 1'764'057'600'000;
    manifest.omitted.push_back({.name = "packages/abc",
                                .size = 9,
                                .sha256 = "00",
                                .reason = "package",
                                .restore_from = "the bundle"});
    auto finished = writer->Finish(manifest);
    EXPECT_TRUE(finished) << finished.error().ToString();
    return path;
  }

  Result<Manifest> Extract(const std::string& path, const std::string& password) {
    auto reader = BackupReader::Open(path, password);
    if (!reader) return Fail(reader.error());
    std::filesystem::create_directories(dir_ / "out");
    return reader->ReadAll([this](const EntryInfo& entry) -> Result<std::string> {
      std::string flat = entry.name;
      std::replace(flat.begin(), flat.end(), '/', '_');
      return dir_ / ("out/" + flat);
    });
  }

  static void Patch(const std::string& path, std::streamoff at, char value) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(at < 0 ? static_cast<std::streamoff>(std::filesystem::file_size(path)) + at : at);
    file.put(value);
  }

  testing::TempDir dir_;
};

TEST_F(BackupArchiveTest, ProtectedAndUnprotectedFilesReadBackExactly) {
  for (const std::string password : {"correct horse", ""}) {
    SCOPED_TRACE(password.empty() ? "unprotected" : "protected");
    std::filesystem::remove_all(dir_ / "out");
    const std::string path = Write(password, "b-" + std::to_string(password.size()));
    auto manifest = Extract(path, password);
    ASSERT_TRUE(manifest) << manifest.error().ToString();
    EXPECT_EQ(manifest->product, "sluice");
    EXPECT_EQ(manifest->format_version, kBackupFormatVersion);
    EXPECT_EQ(manifest->is_protected, !password.empty());
    EXPECT_EQ(manifest->site_version, "2.0.0");
    ASSERT_EQ(manifest->entries.size(), 2u);
    EXPECT_EQ(manifest->entries[0].name, "db/sluice.db");
    EXPECT_EQ(manifest->entries[0].size, 5u * 512 * 1024);
    ASSERT_EQ(manifest->omitted.size(), 1u);
    EXPECT_EQ(manifest->omitted[0].reason, "package");
    EXPECT_EQ(*ReadFile(dir_ / "out/db_sluice.db"), *ReadFile(dir_ / "big.bin"));
    EXPECT_EQ(*ReadFile(dir_ / "out/keys_enrollment.key"), "the enrollment key\n");
    // The password never appears in the file; the header only says "protected".
    if (!password.empty()) {
      EXPECT_EQ(ReadFile(path)->find(password), std::string::npos);
    }
  }
}

TEST_F(BackupArchiveTest, RefusesWithNamedErrors) {
  const std::string path = Write("pw");
  // Missing and wrong passwords.
  auto missing = BackupReader::Open(path, "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kAuth);
  auto wrong = InspectBackup(path, "not it");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), Errc::kAuth);
  // Another product's file.
  { std::ofstream(dir_ / "other") << "PK\x03\x04 a zip file, not a backup"; }
  auto other = InspectBackup(dir_ / "other", "pw");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), Errc::kCorrupt);
  EXPECT_NE(other.error().message().find("not a Sluice backup"), std::string::npos);
  // A format from the future.
  std::filesystem::copy_file(path, dir_ / "future");
  Patch(dir_ / "future", 9, 9);
  auto future = InspectBackup(dir_ / "future", "pw");
  ASSERT_FALSE(future);
  EXPECT_EQ(future.error().code(), Errc::kUnsupportedVersion);
  // Truncated: the last segment is gone.
  std::filesystem::copy_file(path, dir_ / "short");
  std::filesystem::resize_file(dir_ / "short", std::filesystem::file_size(path) - 100);
  auto truncated = InspectBackup(dir_ / "short", "pw");
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code(), Errc::kCorrupt) << truncated.error().ToString();
  // A changed byte in the middle fails its authentication tag.
  std::filesystem::copy_file(path, dir_ / "flipped");
  Patch(dir_ / "flipped", 2 * 1024 * 1024, 'x');
  auto flipped = InspectBackup(dir_ / "flipped", "pw");
  ASSERT_FALSE(flipped);
  EXPECT_EQ(flipped.error().code(), Errc::kCorrupt) << flipped.error().ToString();
  EXPECT_NE(flipped.error().message().find("does not authenticate"), std::string::npos);
}

TEST_F(BackupArchiveTest, UnprotectedDamageFailsTheHashes) {
  const std::string path = Write("");
  // A changed content byte fails that entry's hash, and its half-written file is removed.
  std::filesystem::copy_file(path, dir_ / "entry");
  Patch(dir_ / "entry", 1000, 'x');
  auto entry = Extract(dir_ / "entry", "");
  ASSERT_FALSE(entry);
  EXPECT_EQ(entry.error().code(), Errc::kCorrupt);
  EXPECT_NE(entry.error().message().find("entry db/sluice.db fails its SHA-256"), std::string::npos)
      << entry.error().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out/db_sluice.db"));
  // A changed manifest byte fails the manifest's hash.
  std::filesystem::copy_file(path, dir_ / "manifest");
  Patch(dir_ / "manifest", -40, ' ');
  auto manifest = InspectBackup(dir_ / "manifest", "");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code(), Errc::kCorrupt);
  // Truncated anywhere, and data after the end.
  for (uintmax_t keep : {uintmax_t{12}, uintmax_t{5000}, std::filesystem::file_size(path) - 1}) {
    std::filesystem::copy_file(path, dir_ / "cut",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(dir_ / "cut", keep);
    auto cut = InspectBackup(dir_ / "cut", "");
    ASSERT_FALSE(cut) << keep;
    EXPECT_EQ(cut.error().code(), Errc::kCorrupt) << keep;
  }
  std::filesystem::copy_file(path, dir_ / "long");
  { std::ofstream(dir_ / "long", std::ios::app) << "tail"; }
  auto longer = InspectBackup(dir_ / "long", "");
  ASSERT_FALSE(longer);
  EXPECT_NE(longer.error().message().find("data after its manifest"), std::string::npos);
}

TEST_F(BackupArchiveTest, EntryNamesStayInsideTheDataDir) {
  {
    auto writer = BackupWriter::Create(dir_ / "names", "", kFastScrypt);
    ASSERT_TRUE(writer);
    const uint8_t byte = 1;
    for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/", "./a", "a\\b"}) {
      auto added = writer->AddBytes(bad, ByteView(&byte, 1));
      ASSERT_FALSE(added) << bad;
      EXPECT_EQ(added.error().code(), Errc::kInvalidArgument);
    }
    EXPECT_TRUE(writer->AddBytes("installers/i-1/site.msi", ByteView(&byte, 1)));
    EXPECT_TRUE(std::filesystem::exists(dir_ / "names"));
  }
  // The file is kept only once finished: a writer dropped before that removes it.
  EXPECT_FALSE(std::filesystem::exists(dir_ / "names"));
  // A backup never overwrites a file.
  { std::ofstream(dir_ / "taken") << "x"; }
  auto taken = BackupWriter::Create(dir_ / "taken", "", kFastScrypt);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code(), Errc::kAlreadyExists);
}

}  // namespace
}  // namespace sluice::backup
