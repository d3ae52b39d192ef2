#pragma once
// The throttle's values as sluicectl reads them from a command line (rates, connection rates,
// times) and prints them back. Each parser returns the value or a message for the user
// (kInvalidArgument); docs/admin.md, "sluicectl commands", gives the accepted forms.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace sluice::ctl {

// "0"/"unlimited", bytes, or a number with a binary suffix (K, MiB, ...), optionally "/s":
// bytes per second, 0 = unlimited.
[[nodiscard]] Result<int64_t> ParseRate(std::string_view input);
// A whole number of new connections per second (at least 1), optionally followed by "/s".
[[nodiscard]] Result<int64_t> ParseConnectionRate(std::string_view input);
// An RFC 3339 UTC time, a UTC date, or a duration before `now_ms` ("10m", "1h30m"): Unix ms.
[[nodiscard]] Result<int64_t> ParseSince(std::string_view text, int64_t now_ms);
int64_t NowMs();

// Every client kind's wire name, for --kind validators.
const std::vector<std::string>& ClientKindNames();

// "unlimited", "10 MiB/s", "1536 B/s"; "-" for null.
std::string FormatRate(const nlohmann::json& value);
// "50/s"; "-" for null.
std::string FormatConnectionRate(const nlohmann::json& value);

// A CLI11 check that `parse` accepts the value.
template <class Parse>
CLI::Validator Checked(Parse parse, std::string name) {
  return CLI::Validator(
      [parse](std::string& value) -> std::string {
        auto parsed = parse(value);
        return parsed ? std::string() : parsed.error().message();
      },
      "", std::move(name));
}

}  // namespace sluice::ctl
