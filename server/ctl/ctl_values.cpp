#include "server/ctl/ctl_values.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>

#include "common/proto/enums.h"
#include "server/ctl/ctl_output.h"

namespace sluice::ctl {

using nlohmann::json;

namespace {

std::string Lower(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string StripPerSecond(std::string text) {
  if (text.ends_with("/s")) text.resize(text.size() - 2);
  return text;
}

}  // namespace

// "0"/"unlimited", plain bytes, or a number (fractions allowed) with a binary suffix K/M/G,
// Ki/Mi/Gi or KiB/MiB/GiB, optionally followed by "/s". Returns bytes per second (0 =
// unlimited) or a message for the user.
Result<int64_t> ParseRate(std::string_view input) {
  const std::string text = StripPerSecond(Lower(input));
  if (text == "unlimited") return 0;
  size_t number_end = 0;
  while (number_end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[number_end])) || text[number_end] == '.')) {
    ++number_end;
  }
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + number_end, number);
  if (number_end == 0 || ec != std::errc() || end != text.data() + number_end) {
    return Fail(Errc::kInvalidArgument, "'" + std::string(input) +
                                            "' is not a rate (e.g. 0, unlimited, " +
                                            "1048576, 512K, 10MiB/s, 1G)");
  }
  const std::string unit = text.substr(number_end);
  double scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  for (auto [letter, factor] : {std::pair{'k', 1024.0}, {'m', 1048576.0}, {'g', 1073741824.0}}) {
    std::string l(1, letter);
    if (unit == l || unit == l + "i" || unit == l + "ib") scale = factor;
    if (unit == l + "b") {
      const char upper = static_cast<char>(std::toupper(letter));
      return Fail(Errc::kInvalidArgument, "'" + std::string(input) + "': " + upper +
                                              "B is ambiguous; use " + upper +
                                              "iB (binary, 1024-based)");
    }
  }
  if (scale == 0) {
    return Fail(Errc::kInvalidArgument, "'" + std::string(input) + "': unknown unit '" + unit +
                                            "' (use K, M, G, KiB, MiB or GiB)");
  }
  const double bytes = std::floor(number * scale);
  if (bytes >= 9e18)
    return Fail(Errc::kInvalidArgument, "'" + std::string(input) + "' is too large");
  if (bytes < 1 && number != 0) {
    return Fail(
        Errc::kInvalidArgument,
        "'" + std::string(input) + "' is under one byte per second (0 means " + "unlimited)");
  }
  return static_cast<int64_t>(bytes);
}

// A connection rate: a whole number of new connections per second (at least 1), optionally
// followed by "/s".
Result<int64_t> ParseConnectionRate(std::string_view input) {
  const std::string text = StripPerSecond(Lower(input));
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return Fail(Errc::kInvalidArgument,
                "'" + std::string(input) +
                    "' is not a connection rate (new connections per second, at least 1, "
                    "e.g. 50)");
  }
  return value;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --since: an RFC 3339 UTC time ("2026-11-25T08:00:00Z"), a UTC date ("2026-11-25"), or a
// duration before `now_ms` made of <number><s|m|h|d> parts ("10m", "2h", "1d", "1h30m").
Result<int64_t> ParseSince(std::string_view text, int64_t now_ms) {
  const std::string bad = "'" + std::string(text) +
                          "' is not a time (2026-11-25T08:00:00Z, 2026-11-25) or a duration "
                          "(30s, 10m, 2h, 1d)";
  if (text.size() == 10 && text[4] == '-') {
    auto day = ParseUtc(std::string(text) + "T00:00:00Z");
    if (!day) return Fail(Errc::kInvalidArgument, bad);
    return *day * 1000;
  }
  if (auto utc = ParseUtc(text)) return *utc * 1000;
  int64_t total_ms = 0;
  std::string_view rest = text;
  if (rest.empty()) return Fail(Errc::kInvalidArgument, bad);
  while (!rest.empty()) {
    int64_t count = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), count);
    if (ec != std::errc() || end == rest.data() + rest.size() || count < 0) {
      return Fail(Errc::kInvalidArgument, bad);
    }
    int64_t unit_ms = 0;
    switch (*end) {
      case 's':
        unit_ms = 1000;
        break;
      case 'm':
        unit_ms = 60'000;
        break;
      case 'h':
        unit_ms = 3'600'000;
        break;
      case 'd':
        unit_ms = 86'400'000;
        break;
      default:
        return Fail(Errc::kInvalidArgument, bad);
    }
    if (count > 100LL * 365 * 86'400'000 / unit_ms) return Fail(Errc::kInvalidArgument, bad);
    total_ms += count * unit_ms;
    rest.remove_prefix(static_cast<size_t>(end - rest.data()) + 1);
  }
  return now_ms - total_ms;
}

// "unlimited", "10 MiB/s", "1536 B/s": the largest binary unit that divides exactly.
std::string FormatRate(const json& value) {
  if (!value.is_number_integer()) return value.is_null() ? "-" : value.dump();
  const int64_t bytes = value.get<int64_t>();
  if (bytes <= 0) return "unlimited";
  for (auto [factor, unit] : {std::pair{int64_t{1} << 30, "GiB/s"},
                              {int64_t{1} << 20, "MiB/s"},
                              {int64_t{1} << 10, "KiB/s"}}) {
    if (bytes % factor == 0) return std::to_string(bytes / factor) + " " + unit;
  }
  return std::to_string(bytes) + " B/s";
}

std::string FormatConnectionRate(const json& value) {
  if (!value.is_number_integer()) return value.is_null() ? "-" : value.dump();
  return std::to_string(value.get<int64_t>()) + "/s";
}

const std::vector<std::string>& ClientKindNames() {
  static const std::vector<std::string> names = proto::EnumNames<proto::ClientKind>();
  return names;
}

}  // namespace sluice::ctl
