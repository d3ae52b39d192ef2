#include "server/admin/update_commands.h"

#include <filesystem>

#include "server/admin/admin_args.h"

namespace sluice::server {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultKeyMinutes = 2400;
constexpr int64_t kMaxKeyMinutes = 366 * 24 * 60;

}  // namespace

void RegisterUpdateCommands(admin::AdminServer& admin, UpdateManager& updates) {
  admin.Register("update-check",
                 [&updates](const json&, admin::Reply reply) { updates.Check(std::move(reply)); });
  admin.Register("updates", [&updates](const json&, admin::Reply reply) {
    updates.Installed(std::move(reply));
  });
  admin.Register("update-install", [&updates](const json& args, admin::Reply reply) {
    auto id = NonEmptyStringArg(args, "id");
    if (!id) return reply(Fail(id.error()));
    updates.Install(std::move(*id), std::move(reply));
  });
  admin.Register("update-install-file", [&updates](const json& args, admin::Reply reply) {
    auto path = NonEmptyStringArg(args, "path");
    if (!path) return reply(Fail(path.error()));
    // sluiced reads the file itself: a relative path would resolve against its own directory.
    if (!std::filesystem::path(*path).is_absolute()) {
      return reply(Fail(Errc::kInvalidArgument, "path '" + *path + "' must be absolute"));
    }
    updates.InstallFile(std::move(*path), std::move(reply));
  });
  admin.Register("update-download-key", [&updates](const json& args, admin::Reply reply) {
    int64_t minutes = kDefaultKeyMinutes;
    if (auto it = args.find("valid_for_minutes"); it != args.end() && !it->is_null()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
          it->get<int64_t>() > kMaxKeyMinutes) {
        return reply(
            Fail(Errc::kInvalidArgument, "valid_for_minutes must be a whole number from 1 to " +
                                             std::to_string(kMaxKeyMinutes)));
      }
      minutes = it->get<int64_t>();
    }
    updates.DownloadKey(minutes, std::move(reply));
  });
}

}  // namespace sluice::server
