#pragma once
// Output helpers for sluicectl subcommands: aligned text tables, tolerant reads of JSON results
// and human time formatting. Pure functions; thread-safe.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::ctl {

// A text table: a header row and rows of cells, printed with columns padded to their widest
// cell and separated by two spaces. Rows shorter than the header are padded with "".
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  size_t size() const { return rows_.size(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// `object[key]` as display text: strings verbatim, booleans "yes"/"no", numbers and other JSON
// compactly; `fallback` when `object` is not an object or the key is missing or null.
std::string Text(const nlohmann::json& object, std::string_view key,
                 std::string_view fallback = "-");
// `object[key]` when `object` is an object holding it, else null. Never throws.
const nlohmann::json& Field(const nlohmann::json& object, std::string_view key);
// "jump-client=3, jumpoint=1" from {"jump-client":3,"jumpoint":1}; "-" when empty.
std::string JoinCounts(const nlohmann::json& counts);

// Prints "name  value" lines with the values aligned, e.g. the fields of a status object.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// Pretty-prints JSON (2-space indent) followed by a newline; invalid UTF-8 replaced.
void PrintJson(std::ostream& out, const nlohmann::json& value);

// "12s", "5m 3s", "2h 5m", "3d 4h".
std::string FormatDuration(int64_t seconds);
// Seconds since the Unix epoch of an RFC 3339 UTC time "2026-11-25T08:00:00Z" (fractional
// seconds allowed); nullopt if `text` is not one.
std::optional<int64_t> ParseUtc(std::string_view text);
// How long before `now_s` the RFC 3339 time `text` was: "5m ago"; "just now" for times under a
// second old or in the future; `text` itself if it does not parse.
std::string FormatAge(std::string_view text, int64_t now_s);

}  // namespace sluice::ctl
