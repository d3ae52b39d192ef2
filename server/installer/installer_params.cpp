#include "server/installer/installer_params.h"

#include <algorithm>

#include "common/base/version.h"
#include "common/installer/installer_key.h"

namespace sluice::server {
namespace {

constexpr size_t kMaxTextBytes = 128;
constexpr size_t kMaxCommentBytes = 1024;

std::string DescribeMs(int64_t ms) {
  if (ms % (24LL * 3600 * 1000) == 0) return std::to_string(ms / (24LL * 3600 * 1000)) + "d";
  if (ms % (3600LL * 1000) == 0) return std::to_string(ms / (3600LL * 1000)) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  return std::to_string(ms / 1000) + "s";
}

Status CheckText(const char* field, const std::string& value, size_t max_bytes) {
  if (value.size() > max_bytes) {
    return Fail(Errc::kInvalidArgument,
                std::string(field) + " is longer than " + std::to_string(max_bytes) + " bytes");
  }
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return Fail(Errc::kInvalidArgument, std::string(field) + " contains a control character");
    }
  }
  return {};
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&text] {
    return Fail(Errc::kInvalidArgument,
                "duration '" + std::string(text) +
                    "' must be <number><s|m|h|d|y> parts, e.g. 30m, 12h, 7d, 1h30m");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t number = 0;
    size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (number > 1'000'000'000) return bad();
      number = number * 10 + (text[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || i == text.size()) return bad();
    int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1000;
        break;
      case 'm':
        unit = 60'000;
        break;
      case 'h':
        unit = 3'600'000;
        break;
      case 'd':
        unit = 86'400'000;
        break;
      case 'y':
        unit = 365LL * 86'400'000;
        break;
      default:
        return bad();
    }
    ++i;
    total += number * unit;
    if (total > 100 * kMaxInstallerValidityMs) return bad();
  }
  return total;
}

Status ValidateValidity(int64_t valid_for_ms, int64_t min_validity_ms) {
  if (valid_for_ms < min_validity_ms || valid_for_ms > kMaxInstallerValidityMs) {
    return Fail(Errc::kInvalidArgument, "validity " + DescribeMs(valid_for_ms) +
                                            " is out of range: " + DescribeMs(min_validity_ms) +
                                            " to 365d");
  }
  return {};
}

Status ValidateInstallerParams(InstallerParams& params, int64_t min_validity_ms) {
  if (!installer::IsInstallerKind(params.kind)) {
    return Fail(Errc::kInvalidArgument,
                "installer kind '" + params.kind + "' must be jump-client or access-console");
  }
  if (params.mode != "active" && params.mode != "passive") {
    return Fail(Errc::kInvalidArgument, "mode '" + params.mode + "' must be active or passive");
  }
  if (auto ok = CheckText("jump group", params.jump_group, kMaxTextBytes); !ok) return ok;
  if (auto ok = CheckText("tag", params.tag, kMaxTextBytes); !ok) return ok;
  if (auto ok = CheckText("comments", params.comments, kMaxCommentBytes); !ok) return ok;
  if (auto ok = CheckText("creator", params.creator, kMaxTextBytes); !ok) return ok;
  if (auto ok = installer::ValidateOverrides(params.overrides); !ok) return ok;
  std::sort(params.overrides.begin(), params.overrides.end());
  params.overrides.erase(std::unique(params.overrides.begin(), params.overrides.end()),
                         params.overrides.end());
  if (!params.site_version.empty()) {
    if (auto version = Version::Parse(params.site_version); !version) {
      return Context(version.error(), "--site-version");
    }
  }
  return ValidateValidity(params.valid_for_ms, min_validity_ms);
}

}  // namespace sluice::server
