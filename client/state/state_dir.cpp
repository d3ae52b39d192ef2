#include "client/state/state_dir.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <system_error>
#include <nlohmann/json.hpp>

#include "common/base/file_util.h"
#include "common/crypto/random.h"

namespace sluice::client {

Result<StateDir> StateDir::Open(const std::string& path) {
  if (auto made = EnsureDir(path, 0700); !made) return Context(made.error(), "state dir");
  return StateDir(path);
}

Result<std::optional<Identity>> StateDir::LoadIdentity() const {
  const std::string file = path_ + "/identity.json";
  auto text = ReadFile(file);
  if (!text) {
    if (text.error().code() == Errc::kNotFound) return std::optional<Identity>();
    return Fail(text.error());
  }
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.value("client_id", nlohmann::json()).is_string() ||
      !json.value("client_secret", nlohmann::json()).is_string()) {
    return Fail(Errc::kCorrupt, file + " is not a valid identity file");
  }
  Identity identity{json["client_id"].get<std::string>(), json["client_secret"].get<std::string>()};
  if (!crypto::IsUuid(identity.client_id) || identity.client_secret.empty()) {
    return Fail(Errc::kCorrupt, file + " holds an invalid client id or secret");
  }
  return std::optional<Identity>(std::move(identity));
}

Status StateDir::SaveIdentity(const Identity& identity) const {
  nlohmann::json json = {{"client_id", identity.client_id},
                         {"client_secret", identity.client_secret}};
  return WriteFileAtomic(path_ + "/identity.json", json.dump(2) + "\n", 0600);
}

void StateDir::ForgetIdentity() const {
  ::rename((path_ + "/identity.json").c_str(), (path_ + "/identity.json.old").c_str());
}

std::string StateDir::CurrentVersion(const std::string& installed) const {
  std::error_code ec;
  auto target = std::filesystem::read_symlink(path_ + "/current", ec);
  if (!ec) {
    std::string linked = target.lexically_normal().filename().string();
    if (!linked.empty()) return linked;
  }
  auto recorded = ReadFile(path_ + "/version");
  if (!recorded) return installed;
  std::string version = *recorded;
  while (!version.empty() && (version.back() == '\n' || version.back() == ' ')) version.pop_back();
  return version.empty() ? installed : version;
}

Status StateDir::WritePid() const {
  return WriteFileAtomic(path_ + "/agent.pid", std::to_string(::getpid()) + "\n", 0644);
}

void StateDir::RemovePid() const { ::unlink((path_ + "/agent.pid").c_str()); }

std::optional<int> StateDir::RunningAgentPid() const {
  auto text = ReadFile(path_ + "/agent.pid");
  if (!text) return std::nullopt;
  int pid = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), pid);
  if (ec != std::errc() || pid <= 0 || pid == ::getpid()) return std::nullopt;
  if (::kill(pid, 0) != 0) return std::nullopt;
  return pid;
}

}  // namespace sluice::client
