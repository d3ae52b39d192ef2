#include "server/admin/admin_args.h"

namespace sluice::server {
namespace {

using nlohmann::json;

Error BadArg(std::string_view name, std::string_view what) {
  return Error(Errc::kInvalidArgument,
               "argument '" + std::string(name) + "' " + std::string(what));
}

// The argument, or nullptr when it is absent or null.
const json* Find(const json& args, std::string_view name) {
  if (!args.is_object()) return nullptr;
  auto it = args.find(name);
  return it == args.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

Result<std::string> StringArg(const json& args, std::string_view name) {
  const json* value = Find(args, name);
  if (value == nullptr) return Fail(BadArg(name, "is required"));
  if (!value->is_string()) return Fail(BadArg(name, "must be a string"));
  return value->get<std::string>();
}

Result<std::string> NonEmptyStringArg(const json& args, std::string_view name) {
  auto value = StringArg(args, name);
  if (value && value->empty()) return Fail(BadArg(name, "must not be empty"));
  return value;
}

Status OptionalStringArg(const json& args, std::string_view name, std::string* out) {
  const json* value = Find(args, name);
  if (value == nullptr) return {};
  if (!value->is_string()) return Fail(BadArg(name, "must be a string"));
  *out = value->get<std::string>();
  return {};
}

Result<bool> OptionalBoolArg(const json& args, std::string_view name) {
  const json* value = Find(args, name);
  if (value == nullptr) return false;
  if (!value->is_boolean()) return Fail(BadArg(name, "must be a boolean"));
  return value->get<bool>();
}

Status OptionalMsArg(const json& args, std::string_view name, int64_t* out) {
  const json* value = Find(args, name);
  if (value == nullptr) return {};
  if (!value->is_number_integer()) {
    return Fail(BadArg(name, "must be a whole number of milliseconds"));
  }
  *out = value->get<int64_t>();
  return {};
}

}  // namespace sluice::server
