// Backups of a real data dir (keys, certificate, SQLite store, installers) and restores into
// others: what goes in, what is listed as left out, every refusal leaving the target untouched,
// and a crash at every step of the switch ending in the old state or the new one.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "server/backup/backup_archive.h"
#include "server/backup/backup_create.h"
#include "server/backup/restore.h"
#include "server/site/data_dir.h"
#include "server/store/schema.h"
#include "tests/support/temp_dir.h"

namespace sluice::backup {
namespace {

namespace fs = std::filesystem;

constexpr crypto::ScryptParams kCheapScrypt{.n = 1u << 10, .r = 8, .p = 1};
constexpr char kPassword[] = "backup password";

struct SimulatedCrash {};

using FileMap = std::map<std::string, std::string>;

// Every file under `root` (but the lock) and its content.
FileMap Snapshot(const std::string& root) {
  FileMap files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().lexically_relative(root).generic_string();
    if (name == "run/lock") continue;
    files[name] = *ReadFile(entry.path().string());
  }
  return files;
}

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class BackupRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeSite(source_, "2.0.0", "5.0.0", /*with_content=*/true); }

  // A data dir at `root` with its keys and a database at the given versions; with content, a
  // running lease, audit rows, an installer (current and archived MSI), a package and two
  // other files (one small, one over 200 KB).
  void MakeSite(const std::string& root, const std::string& site, const std::string& base,
                bool with_content) {
    ASSERT_TRUE(server::DataDir::Prepare(root));
    auto store = store::Store::Open({.path = root + "/db/sluice.db", .post_to_loop = Inline()});
    ASSERT_TRUE(store);
    std::string sql = "INSERT INTO settings VALUES ('site_version', '" + site + "')";
    if (!base.empty()) sql += ", ('base_version', '" + base + "')";
    if (with_content) {
      sql +=
          ";"
          "INSERT INTO leases (id, client_id, scope, version, granted_ms, expires_ms) "
          "VALUES (7, 'c-1', 'jump-client', '2.0.0', 1000, 9999999999999);"
          "INSERT INTO audit (wall_ms, mono_ms, event) VALUES (1, 1, 'grant'), (2, 2, 'finish');"
          "INSERT INTO installers (id, created_ms, kind, expires_ms, site_version, upgrade_code,"
          " product_code, product_version, file, key_info, built_ms) VALUES ('i-1', 1,"
          " 'jump-client', 9, '2.0.0', 'u', 'p2', '2.0.0', '" +
          root +
          "/installers/i-1/current.msi', 'k', 1);"
          "INSERT INTO installer_archive VALUES ('i-1', '1.0.0', 'p1', '1.0.0', '" +
          root +
          "/installers/i-1/old.msi', 1, 'site-version');"
          "INSERT INTO packages VALUES ('abcd', 'jump-client', 'linux-x86_64', '2.0.0', 4, '" +
          root + "/packages/abcd', x'00', x'00', 1)";
      WriteText(root + "/installers/i-1/current.msi", "CURRENT MSI");
      WriteText(root + "/installers/i-1/old.msi", "OLD MSI");
      WriteText(root + "/packages/abcd", "PKG!");
      WriteText(root + "/notes/small.txt", "a note");
      WriteText(root + "/notes/big.bin", std::string(300 * 1024, 'b'));
    }
    ASSERT_TRUE((*store)->Call<void>([&sql](db::Database& db) { return db.Exec(sql); }));
    if (root == source_) source_store_ = std::move(*store);
  }

  static std::function<void(std::function<void()>)> Inline() {
    return [](std::function<void()> task) { task(); };
  }

  BackupMade Backup(const std::string& password, bool history = true) {
    BackupProgress progress;
    std::atomic<bool> cancel{false};
    auto made = CreateBackup(*source_store_,
                             {.data_root = source_,
                              .out_dir = dir_ / "made",
                              .password = password,
                              .history = history,
                              .now_ms = 1'764'057'600'000 + ++backups_,
                              .scrypt = kCheapScrypt},
                             progress, cancel);
    EXPECT_TRUE(made) << made.error().ToString();
    EXPECT_EQ(progress.done, progress.total);
    return made ? *made : BackupMade{};
  }

  template <class T>
  T Query(const std::string& root, const std::string& sql) {
    auto db = db::Database::Open(root + "/db/sluice.db",
                                 {.wal = false, .busy_timeout_ms = 100, .create = false});
    EXPECT_TRUE(db);
    T value{};
    EXPECT_TRUE((*db)->Query(sql, [&value](const db::Statement& row) {
      if constexpr (std::is_same_v<T, std::string>) {
        value = row.Text(0);
      } else {
        value = row.Int64(0);
      }
    }));
    return value;
  }

  testing::TempDir dir_;
  std::string source_ = dir_ / "source";
  std::unique_ptr<store::Store> source_store_;
  int backups_ = 0;
};

TEST_F(BackupRestoreTest, HoldsTheSiteAndListsWhatItLeavesOut) {
  const BackupMade made = Backup(kPassword);
  auto manifest = InspectBackup(made.path, kPassword);
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  std::vector<std::string> names;
  for (const auto& entry : manifest->entries) names.push_back(entry.name);
  EXPECT_EQ(names, (std::vector<std::string>{"db/sluice.db", "installers/i-1/current.msi",
                                             "keys/enrollment.key", "keys/signing.pem",
                                             "tls/cert.pem", "tls/key.pem", "notes/small.txt"}));
  std::map<std::string, std::string> omitted;
  for (const auto& file : manifest->omitted) omitted[file.name] = file.reason;
  EXPECT_EQ(omitted, (std::map<std::string, std::string>{{"installers/i-1/old.msi", "archived-msi"},
                                                         {"packages/abcd", "package"},
                                                         {"notes/big.bin", "over-200-kb"}}));
  for (const auto& file : manifest->omitted) {
    if (file.name == "packages/abcd") {
      EXPECT_EQ(file.size, 4u);
      EXPECT_EQ(file.sha256, "abcd");
      EXPECT_NE(file.restore_from.find("update install-file"), std::string::npos);
    }
    if (file.name == "notes/big.bin") {
      EXPECT_EQ(file.sha256, crypto::HexEncode(*crypto::Sha256File(source_ + "/notes/big.bin")));
    }
  }
  EXPECT_EQ(manifest->site_version, "2.0.0");
  EXPECT_EQ(manifest->base_version, "5.0.0");
  EXPECT_EQ(manifest->schema_version, static_cast<int>(store::Migrations().size()));
  EXPECT_EQ(manifest->source_root, source_);
  EXPECT_TRUE(manifest->is_protected);
  EXPECT_TRUE(manifest->history);
  EXPECT_EQ(fs::path(made.path).filename().string(),
            "sluice-backup-20251125T080000.001Z-site-2.0.0.sluicebackup");
  // Nothing but finished backups in the backup dir.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "made"), fs::directory_iterator()), 1);
}

TEST_F(BackupRestoreTest, OnlyTheFirstFiftySmallFilesAreKeptInPathOrder) {
  for (int i = 0; i < 55; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "many/f%02d", i);
    WriteText(source_ + "/" + name, "x");
  }
  auto manifest = InspectBackup(Backup("").path, "");
  ASSERT_TRUE(manifest);
  int kept = 0;
  for (const auto& entry : manifest->entries) kept += entry.name.starts_with("many/") ? 1 : 0;
  std::vector<std::string> over;
  for (const auto& file : manifest->omitted) {
    if (file.reason == "over-50-files") over.push_back(file.name);
  }
  // many/ sorts before notes/: the fifty are many/f00..f49, and notes/small.txt is left out.
  EXPECT_EQ(kept, 50);
  EXPECT_EQ(over, (std::vector<std::string>{"many/f50", "many/f51", "many/f52", "many/f53",
                                            "many/f54", "notes/small.txt"}));
}

TEST_F(BackupRestoreTest, RestoreIntoAnotherDataDirBringsTheSiteBack) {
  const BackupMade made = Backup(kPassword);
  const std::string target = dir_ / "target";
  MakeSite(target, "2.0.0", "5.0.0", /*with_content=*/false);
  // Given with a trailing '/', as admins type directories.
  auto report =
      RestoreBackup({.data_root = target + "/", .file = made.path, .password = kPassword});
  ASSERT_TRUE(report) << report.error().ToString();
  // The site's identity and data are the source's.
  for (const char* file : {"keys/enrollment.key", "keys/signing.pem", "tls/cert.pem", "tls/key.pem",
                           "installers/i-1/current.msi", "notes/small.txt"}) {
    EXPECT_EQ(*ReadFile(target + "/" + file), *ReadFile(source_ + "/" + file)) << file;
  }
  // The backup's two events, then the restore's own.
  EXPECT_EQ(Query<int64_t>(target, "SELECT COUNT(*) FROM audit"), 3);
  EXPECT_EQ(Query<std::string>(target, "SELECT event FROM audit ORDER BY seq DESC LIMIT 1"),
            "restore");
  EXPECT_NE(Query<std::string>(target, "SELECT detail FROM audit ORDER BY seq DESC LIMIT 1")
                .find("1 running leases expire at the next start"),
            std::string::npos);
  // Stored paths moved to the new data dir; the running lease expires at the next start.
  EXPECT_EQ(Query<std::string>(target, "SELECT file FROM installers"),
            target + "/installers/i-1/current.msi");
  EXPECT_EQ(Query<std::string>(target, "SELECT path FROM packages"), target + "/packages/abcd");
  EXPECT_EQ(Query<int64_t>(target, "SELECT expires_ms - granted_ms FROM leases"), 0);
  EXPECT_EQ(report->leases_expired, 1);
  // What the restored site refers to and this data dir lacks, with how to get it back.
  std::vector<std::string> missing;
  for (const auto& file : report->missing) missing.push_back(file.name);
  EXPECT_EQ(missing,
            (std::vector<std::string>{"installers/i-1/old.msi", "packages/abcd", "notes/big.bin"}));
  // The data dir is clean: no journal, no staging, and a server can take it.
  EXPECT_FALSE(fs::exists(target + "/restore-journal"));
  for (const auto& entry : fs::directory_iterator(target)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".restore-")) << entry.path();
  }
  auto opened = server::DataDir::Prepare(target);
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->enrollment_key + "\n", *ReadFile(source_ + "/keys/enrollment.key"));
}

TEST_F(BackupRestoreTest, RootRestoringForTheServiceUserLeavesItsFilesToThatUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, as an admin running sluicectl with sudo";
  const BackupMade made = Backup(kPassword);
  const std::string target = dir_ / "target";
  MakeSite(target, "2.0.0", "5.0.0", false);
  constexpr uid_t kService = 4242;  // the .deb's sluice user, as far as the test knows
  for (const auto& entry : fs::recursive_directory_iterator(target)) {
    ASSERT_EQ(::lchown(entry.path().c_str(), kService, kService), 0);
  }
  ASSERT_EQ(::chown(target.c_str(), kService, kService), 0);
  ASSERT_TRUE(RestoreBackup({.data_root = target, .file = made.path, .password = kPassword}));
  for (const char* file :
       {"db", "db/sluice.db", "keys/enrollment.key", "tls/key.pem", "installers/i-1/current.msi"}) {
    struct stat st {};
    ASSERT_EQ(::stat((target + "/" + file).c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_uid, kService) << file;
  }
}

TEST_F(BackupRestoreTest, NoHistoryLeavesOutTheAuditLogAndSaysSo) {
  const BackupMade made = Backup(kPassword, /*history=*/false);
  EXPECT_FALSE(made.manifest.history);
  EXPECT_EQ(made.manifest.history_left_out, std::vector<std::string>{"audit"});
  const std::string target = dir_ / "target";
  MakeSite(target, "2.0.0", "5.0.0", false);
  ASSERT_TRUE(RestoreBackup({.data_root = target, .file = made.path, .password = kPassword}));
  // Only the restore's own event: and it does not reuse an old number.
  EXPECT_EQ(Query<int64_t>(target, "SELECT COUNT(*) FROM audit"), 1);
  EXPECT_EQ(Query<int64_t>(target, "SELECT seq FROM audit WHERE event = 'restore'"), 3);
}

// Rewrites the manifest of an unprotected backup with `edit` and fixes its hash, so the file
// is well-formed and only the edited fact is wrong.
void EditManifest(const std::string& path, const std::function<void(std::string&)>& edit) {
  std::string file = *ReadFile(path);
  const size_t start = file.rfind("{\"base_version\"");
  ASSERT_NE(start, std::string::npos);
  std::string json = file.substr(start, file.size() - 32 - start);
  edit(json);
  const crypto::Sha256Digest digest = crypto::Sha256(AsBytes(json));
  std::string rebuilt = file.substr(0, start - 4);
  for (int shift = 24; shift >= 0; shift -= 8)
    rebuilt.push_back(static_cast<char>(json.size() >> shift));
  rebuilt += json;
  rebuilt += AsChars(digest);
  ASSERT_TRUE(WriteFileAtomic(path, rebuilt, 0600));
}

void Replace(std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
}

TEST_F(BackupRestoreTest, EveryRefusalLeavesTheDataDirUntouched) {
  const BackupMade sealed = Backup(kPassword);
  const BackupMade plain = Backup("");
  const std::string target = dir_ / "target";
  MakeSite(target, "2.0.0", "5.0.0", false);
  const FileMap before = Snapshot(target);

  auto copy = [&](const std::string& from, const std::string& name) {
    const std::string path = dir_ / name;
    fs::copy_file(from, path, fs::copy_options::overwrite_existing);
    return path;
  };
  struct Case {
    std::string name;
    std::string file;
    std::string password;
    Errc code;
    std::string says;
  };
  std::vector<Case> cases;
  cases.push_back({"missing password", sealed.path, "", Errc::kAuth, "password-protected"});
  cases.push_back({"wrong password", sealed.path, "wrong", Errc::kAuth, "wrong password"});
  {
    const std::string cut = copy(sealed.path, "cut");
    fs::resize_file(cut, fs::file_size(cut) - 10);
    cases.push_back({"truncated", cut, kPassword, Errc::kAuth, ""});
  }
  {
    const std::string cut = copy(plain.path, "cut-plain");
    fs::resize_file(cut, fs::file_size(cut) / 2);
    cases.push_back({"truncated unprotected", cut, "", Errc::kCorrupt, "truncated"});
  }
  {
    const std::string flipped = copy(sealed.path, "flipped");
    std::fstream f(flipped, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x7f');
    f.close();
    cases.push_back({"failed tag", flipped, kPassword, Errc::kAuth, ""});
  }
  {
    const std::string hashed = copy(plain.path, "content");
    EditManifest(hashed, [](std::string& json) {
      const size_t at = json.find("\"content_sha256\":\"") + 18;
      json[at] = json[at] == '0' ? '1' : '0';
    });
    cases.push_back({"content hash", hashed, "", Errc::kCorrupt, "content hash"});
  }
  {
    const std::string other = dir_ / "other-product";
    WriteText(other, std::string("SQLite format 3") + '\0' + "and then some pages");
    cases.push_back({"another product", other, "", Errc::kCorrupt, "not a Sluice backup"});
  }
  {
    const std::string future = copy(plain.path, "future");
    std::fstream f(future, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(9);
    f.put('\x02');
    f.close();
    cases.push_back({"future format", future, "", Errc::kUnsupportedVersion, "format 2"});
  }
  {
    const std::string schema = copy(plain.path, "schema");
    EditManifest(schema, [](std::string& json) {
      Replace(json, "\"schema_version\":" + std::to_string(store::Migrations().size()),
              "\"schema_version\":99");
    });
    cases.push_back({"newer schema", schema, "", Errc::kUnsupportedVersion, "newer software"});
  }
  {
    const std::string site = copy(plain.path, "site");
    EditManifest(site, [](std::string& json) {
      Replace(json, "\"site_version\":\"2.0.0\"", "\"site_version\":\"3.0.0\"");
    });
    cases.push_back(
        {"newer site", site, "", Errc::kUnsupportedVersion, "install site update 3.0.0"});
  }
  {
    const std::string base = copy(plain.path, "base");
    EditManifest(base, [](std::string& json) {
      Replace(json, "\"base_version\":\"5.0.0\"", "\"base_version\":\"6.0.0\"");
    });
    cases.push_back(
        {"newer base", base, "", Errc::kUnsupportedVersion, "install base update 6.0.0"});
  }
  {
    // Well-formed, but bringing the server's run-time files.
    const std::string run = dir_ / "run-files";
    auto writer = BackupWriter::Create(run, "", kCheapScrypt);
    ASSERT_TRUE(writer);
    const uint8_t byte = 'x';
    ASSERT_TRUE(writer->AddBytes("run/admin.sock", ByteView(&byte, 1)));
    ASSERT_TRUE(writer->Finish(Manifest{.site_version = "2.0.0"}));
    cases.push_back({"run-time files", run, "", Errc::kCorrupt, "which no backup may replace"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto report = RestoreBackup({.data_root = target, .file = c.file, .password = c.password});
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code(), c.code) << report.error().ToString();
    EXPECT_NE(report.error().message().find(c.says), std::string::npos)
        << report.error().ToString();
    EXPECT_EQ(Snapshot(target), before);
    for (const auto& entry : fs::directory_iterator(target)) {
      EXPECT_FALSE(entry.path().filename().string().starts_with(".restore-")) << entry.path();
    }
  }
  // A running server holds the data dir: refused too.
  {
    auto running = server::DataDir::Prepare(target);
    ASSERT_TRUE(running);
    auto report = RestoreBackup({.data_root = target, .file = plain.path});
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code(), Errc::kAlreadyExists);
    EXPECT_NE(report.error().message().find("stop it first"), std::string::npos);
  }
  EXPECT_EQ(Snapshot(target), before);
}

TEST_F(BackupRestoreTest, ACrashAtAnyStepEndsInTheOldStateOrTheNew) {
  const BackupMade made = Backup(kPassword);
  const std::vector<std::string> steps = {"staged",           "committed",  "moved db",
                                          "moved installers", "moved keys", "moved notes",
                                          "moved tls"};
  for (const std::string& step : steps) {
    SCOPED_TRACE(step);
    const std::string target = dir_ / ("crash-" + std::to_string(&step - steps.data()));
    MakeSite(target, "2.0.0", "5.0.0", false);
    const FileMap before = Snapshot(target);
    EXPECT_THROW((void)RestoreBackup({.data_root = target,
                                      .file = made.path,
                                      .password = kPassword,
                                      .hook =
                                          [&step](std::string_view at) {
                                            if (at == step) throw SimulatedCrash{};
                                          }}),
                 SimulatedCrash);
    // The next start finishes (or drops) what the crash left.
    auto opened = server::DataDir::Prepare(target);
    ASSERT_TRUE(opened) << opened.error().ToString();
    opened = Fail(Errc::kClosed, "released");
    const FileMap after = Snapshot(target);
    if (step == "staged") {
      EXPECT_EQ(after, before);
    } else {
      for (const char* file : {"keys/enrollment.key", "keys/signing.pem", "tls/cert.pem",
                               "installers/i-1/current.msi", "notes/small.txt"}) {
        EXPECT_EQ(after.at(file), *ReadFile(source_ + "/" + file)) << file;
      }
      EXPECT_EQ(Query<int64_t>(target, "SELECT COUNT(*) FROM audit"), 3);
    }
    EXPECT_FALSE(fs::exists(target + "/restore-journal"));
    for (const auto& entry : fs::directory_iterator(target)) {
      EXPECT_FALSE(entry.path().filename().string().starts_with(".restore-")) << entry.path();
    }
  }
}

}  // namespace
}  // namespace sluice::backup
