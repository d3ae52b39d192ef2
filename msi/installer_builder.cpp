#include "msi/installer_builder.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/random.h"
#include "msi/msi_database.h"
#include "msi/product_version.h"

namespace sluice::msi {
namespace {

namespace fs = std::filesystem;

// Properties whose values the builder owns.
const std::set<std::string, std::less<>> kManagedProperties = {"ProductCode", "ProductVersion",
                                                               "UpgradeCode"};

bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 72) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name) {
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '.') return false;
  }
  return true;
}

Status ValidateProperty(const std::string& name, const std::string& value) {
  if (!IsIdentifier(name)) {
    return Fail(Errc::kInvalidArgument,
                "property name '" + name +
                    "' is not an MSI identifier (letter or _, then letters, digits, _ or ., at "
                    "most 72 characters)");
  }
  if (kManagedProperties.contains(name)) {
    return Fail(Errc::kInvalidArgument, "property " + name + " is set by the installer builder");
  }
  if (value.empty()) {
    return Fail(Errc::kInvalidArgument,
                "property " + name + " has an empty value (MSI Property rows cannot be empty)");
  }
  for (size_t i = 0; i < value.size(); ++i) {
    auto byte = static_cast<unsigned char>(value[i]);
    // The templates use the neutral code page, which is ASCII; control characters would also
    // corrupt the tab/newline-separated table exports that Windows tools exchange.
    if (byte < 0x20 || byte > 0x7E) {
      return Fail(Errc::kInvalidArgument, "property " + name + " must be printable ASCII; byte " +
                                              std::to_string(byte) + " at offset " +
                                              std::to_string(i) + " is not");
    }
  }
  return {};
}

Status ValidateSpec(const InstallerSpec& spec) {
  if (spec.kind != kJumpClientKind && spec.kind != kAccessConsoleKind) {
    return Fail(Errc::kInvalidArgument, "unknown installer kind '" + spec.kind + "'");
  }
  for (const auto& [name, value] : spec.properties) {
    if (auto ok = ValidateProperty(name, value); !ok) return ok;
  }
  return {};
}

std::string Text(const MsiField& field) {
  const auto* text = std::get_if<std::string>(&field);
  return text != nullptr ? *text : std::string();
}

Result<std::map<std::string, std::string>> SelectProperties(MsiDatabase& db) {
  auto rows = db.Select("SELECT `Property`, `Value` FROM `Property`");
  if (!rows) return Context(rows.error(), "reading the Property table");
  std::map<std::string, std::string> properties;
  for (const MsiRow& row : *rows) properties[Text(row.at(0))] = Text(row.at(1));
  return properties;
}

Status UpsertProperties(MsiDatabase& db, const std::map<std::string, std::string>& existing,
                        const std::map<std::string, std::string>& wanted) {
  for (const auto& [name, value] : wanted) {
    Status done =
        existing.contains(name)
            ? db.Execute("UPDATE `Property` SET `Value` = ? WHERE `Property` = ?", {value, name})
            : db.Execute("INSERT INTO `Property` (`Property`, `Value`) VALUES (?, ?)",
                         {name, value});
    if (!done) return Context(done.error(), "setting property " + name);
  }
  return {};
}

// Upgrade rows name the version range they match in key columns, so a row whose versions
// change is deleted and inserted again. The template's rows (emitted by MajorUpgrade) bound
// their ranges at the template ProductVersion; they move to the new ProductVersion so that
// older packages are upgraded and newer ones are detected as a downgrade.
Status PatchUpgradeRows(MsiDatabase& db, const std::string& upgrade_code,
                        const std::string& old_version, const std::string& new_version) {
  static constexpr const char* kColumns =
      "`UpgradeCode`, `VersionMin`, `VersionMax`, `Language`, `Attributes`, `Remove`, "
      "`ActionProperty`";
  static constexpr std::array<const char*, 5> kKeys = {"UpgradeCode", "VersionMin", "VersionMax",
                                                       "Language", "Attributes"};
  const std::string select = std::string("SELECT ") + kColumns + " FROM `Upgrade`";
  auto rows = db.Select(select);
  if (!rows) {
    return Fail(Errc::kCorrupt,
                "template has no readable Upgrade table: " + rows.error().message());
  }
  bool has_own_row = false;
  std::vector<MsiRow> changed;
  for (const MsiRow& row : *rows) {
    has_own_row = has_own_row || Text(row[0]) == upgrade_code;
    if (Text(row[1]) != old_version && Text(row[2]) != old_version) continue;
    // Delete by the full primary key; NULL keys need IS NULL rather than a bound marker.
    std::string sql = "DELETE FROM `Upgrade` WHERE ";
    MsiRow params;
    for (size_t i = 0; i < kKeys.size(); ++i) {
      if (i > 0) sql += " AND ";
      sql += std::string("`") + kKeys[i] + "`";
      if (std::holds_alternative<std::monostate>(row[i])) {
        sql += " IS NULL";
      } else {
        sql += " = ?";
        params.push_back(row[i]);
      }
    }
    if (auto ok = db.Execute(sql, params); !ok) return Context(ok.error(), "patching Upgrade");
    changed.push_back(row);
  }
  if (!has_own_row) {
    return Fail(Errc::kCorrupt, "template has no Upgrade row for its UpgradeCode " + upgrade_code +
                                    "; packages would not replace each other");
  }
  auto remaining = db.Select(select);
  if (!remaining) return Context(remaining.error(), "patching Upgrade");
  if (remaining->size() + changed.size() != rows->size()) {
    return Fail(Errc::kDatabase, "libmsi did not delete exactly the Upgrade rows being replaced");
  }
  for (MsiRow& row : changed) {
    for (size_t column : {1, 2}) {
      if (Text(row[column]) == old_version) row[column] = new_version;
    }
    auto ok = db.Execute(
        std::string("INSERT INTO `Upgrade` (") + kColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?)", row);
    if (!ok) return Context(ok.error(), "patching Upgrade");
  }
  return {};
}

// Patches the MSI at `path` in place (libmsi stages the transaction beside it).
Result<BuiltInstaller> PatchCopy(const std::string& path, const InstallerSpec& spec,
                                 const std::string& product_version) {
  std::lock_guard lock(LibmsiLock());
  auto db = MsiDatabase::Open(path, MsiDatabase::Mode::kTransact);
  if (!db) return Fail(db.error());
  auto existing = SelectProperties(*db);
  if (!existing) return Fail(existing.error());
  auto old_version = existing->find("ProductVersion");
  auto upgrade_code = existing->find("UpgradeCode");
  if (old_version == existing->end() || upgrade_code == existing->end()) {
    return Fail(Errc::kCorrupt, "template lacks the ProductVersion or UpgradeCode property");
  }
  BuiltInstaller built{crypto::NewGuidUpper(), crypto::NewGuidUpper(), product_version,
                       upgrade_code->second};

  std::map<std::string, std::string> wanted = spec.properties;
  wanted["ProductCode"] = built.product_code;
  wanted["ProductVersion"] = built.product_version;
  if (auto ok = UpsertProperties(*db, *existing, wanted); !ok) return Fail(ok.error());
  if (auto ok = PatchUpgradeRows(*db, built.upgrade_code, old_version->second, product_version);
      !ok) {
    return Fail(ok.error());
  }
  if (auto ok = db->SetSummaryString(LIBMSI_PROPERTY_UUID, built.package_code); !ok) {
    return Context(ok.error(), "setting the PackageCode");
  }
  if (auto ok = db->Commit(); !ok) return Fail(ok.error());
  return built;
}

std::string TempPathFor(const std::string& out_path) {
  static std::atomic<unsigned> counter{0};
  return out_path + "." + std::to_string(getpid()) + "." + std::to_string(counter++) + ".tmp";
}

}  // namespace

Result<BuiltInstaller> BuildInstaller(const std::string& template_path, const InstallerSpec& spec,
                                      const std::string& out_path) {
  if (auto ok = ValidateSpec(spec); !ok) return Fail(ok.error());
  auto product_version = MsiProductVersion(spec.site_version);
  if (!product_version) return Fail(product_version.error());
  std::error_code ec;
  if (!fs::is_regular_file(template_path, ec)) {
    return Fail(Errc::kNotFound, "installer template " + template_path + " does not exist");
  }

  const std::string temp_path = TempPathFor(out_path);
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove(temp_path, ignored);
    fs::remove(temp_path + ".tmp", ignored);  // libmsi's transaction staging file
  };
  if (!fs::copy_file(template_path, temp_path, fs::copy_options::overwrite_existing, ec)) {
    cleanup();
    return Fail(Errc::kIo, "copying " + template_path + " to " + temp_path + ": " + ec.message());
  }
  auto built = PatchCopy(temp_path, spec, *product_version);
  Status published = built ? PublishFile(temp_path, out_path) : Status{};
  cleanup();  // libmsi may leave an empty staging file after commit
  if (!built || !published) {
    Error error = built ? published.error() : built.error();
    return Context(error, "building " + spec.kind + " installer " + out_path);
  }
  Log("msi")->info("built installer kind={} version={} product_code={} package_code={} path={}",
                   spec.kind, built->product_version, built->product_code, built->package_code,
                   out_path);
  return built;
}

Result<std::map<std::string, std::string>> ReadProperties(const std::string& msi_path) {
  std::lock_guard lock(LibmsiLock());
  auto db = MsiDatabase::Open(msi_path, MsiDatabase::Mode::kReadOnly);
  if (!db) return Fail(db.error());
  return SelectProperties(*db);
}

Result<std::string> ReadPackageCode(const std::string& msi_path) {
  std::lock_guard lock(LibmsiLock());
  auto db = MsiDatabase::Open(msi_path, MsiDatabase::Mode::kReadOnly);
  if (!db) return Fail(db.error());
  auto code = db->GetSummaryString(LIBMSI_PROPERTY_UUID);
  if (!code) return Context(code.error(), "reading the PackageCode of " + msi_path);
  return code;
}

}  // namespace sluice::msi
