#pragma once
// Reading an admin command's JSON arguments, so every command answers bad input the same way:
// kInvalidArgument with "argument '<name>' ..." saying what was expected. Pure; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/base/error.h"

namespace sluice::server {

// A required string (it may be empty).
[[nodiscard]] Result<std::string> StringArg(const nlohmann::json& args, std::string_view name);
// A required, non-empty string.
[[nodiscard]] Result<std::string> NonEmptyStringArg(const nlohmann::json& args,
                                                    std::string_view name);
// An optional string: absent or null leaves `out` as it is.
[[nodiscard]] Status OptionalStringArg(const nlohmann::json& args, std::string_view name,
                                       std::string* out);
// An optional boolean: absent or null is false.
[[nodiscard]] Result<bool> OptionalBoolArg(const nlohmann::json& args, std::string_view name);
// An optional whole number of milliseconds: absent or null leaves `out` as it is.
[[nodiscard]] Status OptionalMsArg(const nlohmann::json& args, std::string_view name, int64_t* out);

}  // namespace sluice::server
