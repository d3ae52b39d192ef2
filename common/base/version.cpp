#include "common/base/version.h"

#include <algorithm>
#include <charconv>

namespace sluice {

Result<Version> Version::Parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Fail(Errc::kInvalidArgument,
                "version '" + std::string(text) + "' " + std::string(why) +
                    " (expected 1 to 4 dot-separated numbers, e.g. 24.3.1)");
  };
  Version version;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    std::string_view part = text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
    if (part.empty() || part.size() > 9) return bad("is malformed");
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc() || end != part.data() + part.size()) return bad("has a non-numeric part");
    version.parts_.push_back(value);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (version.parts_.size() > 4) return bad("has too many parts");
  version.text_ = std::string(text);
  return version;
}

std::strong_ordering Version::operator<=>(const Version& other) const {
  const size_t n = std::max(parts_.size(), other.parts_.size());
  for (size_t i = 0; i < n; ++i) {
    uint32_t a = i < parts_.size() ? parts_[i] : 0;
    uint32_t b = i < other.parts_.size() ? other.parts_[i] : 0;
    if (a != b) return a <=> b;
  }
  return std::strong_ordering::equal;
}

}  // namespace sluice
