#pragma once
// Helpers shared by the installer tests: temp dirs, external tools, file hashes.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/subprocess.h"
#include "msi/installer_template.h"
#include "tests/support/temp_dir.h"

namespace sluice::msi::testing {

using sluice::testing::TempDir;

// Runs a tool with a generous bound; fails the test if it cannot start.
inline ProcessResult Tool(const std::vector<std::string>& argv) {
  auto result = RunProcess({.argv = argv}, std::chrono::seconds(60));
  EXPECT_TRUE(result.has_value()) << argv[0] << ": " << result.error().ToString();
  EXPECT_FALSE(result && result->timed_out) << argv[0] << " did not finish within 60 s";
  return result ? *result : ProcessResult{};
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

inline std::string Sha256Hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0F];
  }
  return hex;
}

// `msiinfo export FILE TABLE` rows after the three header lines, split on tabs.
inline std::vector<std::vector<std::string>> ExportTable(const std::string& msi,
                                                         const std::string& table) {
  ProcessResult result = Tool({"msiinfo", "export", msi, table});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(result.out);
  std::string line;
  for (int n = 0; std::getline(lines, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (n < 3 || line.empty()) continue;
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

// The Property table as msiinfo sees it.
inline std::map<std::string, std::string> ExportProperties(const std::string& msi) {
  std::map<std::string, std::string> properties;
  for (const auto& row : ExportTable(msi, "Property")) {
    if (row.size() >= 2) properties[row[0]] = row[1];
  }
  return properties;
}

// The "Revision number (UUID)" line of `msiinfo suminfo`, i.e. the PackageCode.
inline std::string SuminfoPackageCode(const std::string& msi) {
  ProcessResult result = Tool({"msiinfo", "suminfo", msi});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  static constexpr std::string_view kLabel = "Revision number (UUID): ";
  size_t at = result.out.find(kLabel);
  if (at == std::string::npos) return "";
  size_t start = at + kLabel.size();
  return result.out.substr(start, result.out.find('\n', start) - start);
}

// True when `text` is "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" with uppercase hex digits.
inline bool IsUpperGuid(std::string_view text) {
  static constexpr std::string_view kShape = "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}";
  if (text.size() != kShape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool hex = (text[i] >= '0' && text[i] <= '9') || (text[i] >= 'A' && text[i] <= 'F');
    if (kShape[i] == 'X' ? !hex : text[i] != kShape[i]) return false;
  }
  return true;
}

// A stand-in for the site's Windows client: `size` bytes that start like a PE file and differ
// by `seed`, so two versions of the client are two different files.
inline std::string FakeClient(size_t size = 64 * 1024, unsigned seed = 1) {
  std::string bytes = "MZ";
  uint32_t x = seed * 2654435761u + 1;
  while (bytes.size() < size) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    bytes.push_back(static_cast<char>(x & 0xFF));
  }
  return bytes;
}

// Writes `client` into `dir`, builds `kind`'s template around it there and returns the
// template's path (empty, with a test failure, if the build failed).
inline std::string BuildTestTemplate(const TempDir& dir, std::string_view kind,
                                     const std::string& client) {
  const std::string client_path = dir / ("client-" + Sha256Hex(client) + ".exe");
  WriteFile(client_path, client);
  const std::string out = dir / TemplateFileName(kind, Sha256Hex(client));
  auto built = BuildTemplate(kind, client_path, Sha256Hex(client), out);
  EXPECT_TRUE(built.has_value()) << built.error().ToString();
  return built ? out : std::string();
}

// "A.B.C" -> {A, B, C} for ordering checks.
inline std::array<int, 3> VersionParts(const std::string& version) {
  std::array<int, 3> parts{};
  std::istringstream in(version);
  char dot = 0;
  in >> parts[0] >> dot >> parts[1] >> dot >> parts[2];
  return parts;
}

}  // namespace sluice::msi::testing
