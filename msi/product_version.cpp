#include "msi/product_version.h"

#include <array>
#include <charconv>
#include <vector>

namespace sluice::msi {
namespace {

constexpr std::array<unsigned long, 3> kLimits = {255, 255, 65535};
constexpr std::array<const char*, 3> kFieldNames = {"major", "minor", "build"};

std::vector<std::string_view> SplitDots(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

}  // namespace

Result<std::string> MsiProductVersion(std::string_view site_version) {
  auto invalid = [&](const std::string& reason) {
    return Fail(Errc::kInvalidArgument, "site version '" + std::string(site_version) +
                                            "' has no MSI ProductVersion: " + reason);
  };
  std::vector<std::string_view> parts = SplitDots(site_version);
  if (parts.size() < 3 || parts.size() > 4) return invalid("expected A.B.C or A.B.C.D");

  std::array<unsigned long, 4> values{};
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    // Six digits already exceed every limit; longer input is refused before parsing.
    if (part.empty() || part.size() > 6 ||
        part.find_first_not_of("0123456789") != std::string_view::npos) {
      return invalid("field " + std::to_string(i + 1) + " ('" + std::string(part) +
                     "') is not a decimal number");
    }
    std::from_chars(part.data(), part.data() + part.size(), values[i]);
    if (i < kLimits.size() && values[i] > kLimits[i]) {
      return invalid(std::string(kFieldNames[i]) + " field " + std::to_string(values[i]) +
                     " exceeds the Windows Installer limit of " + std::to_string(kLimits[i]));
    }
  }
  if (parts.size() == 4 && values[3] != 0) {
    return invalid(
        "a non-zero fourth field is ignored by Windows Installer upgrade detection, so "
        "installers differing only there would not replace each other");
  }
  return std::to_string(values[0]) + "." + std::to_string(values[1]) + "." +
         std::to_string(values[2]);
}

}  // namespace sluice::msi
