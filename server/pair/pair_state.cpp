#include "server/pair/pair_state.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/base/file_util.h"
#include "common/crypto/random.h"

namespace sluice::pair {
namespace {

using json = nlohmann::json;

Result<Role> ParseRole(std::string_view text) {
  for (Role role : {Role::kNone, Role::kPrimary, Role::kBackup}) {
    if (ToString(role) == text) return role;
  }
  return Fail(Errc::kCorrupt, "unknown pair role '" + std::string(text) + "'");
}

json ToJson(const State& state) {
  json history = json::array();
  for (const HistoryEntry& entry : state.history) {
    history.push_back({{"at_ms", entry.at_ms}, {"event", entry.event}, {"detail", entry.detail}});
  }
  json out = {
      {"role", ToString(state.role)},
      {"peer", state.peer},
      {"peer_server_id", state.peer_server_id},
      {"self_address", state.self_address},
      {"epoch", state.epoch},
      {"established_ms", state.established_ms},
      {"grant_fence_until_ms", state.grant_fence_until_ms},
      {"pending_id_range", state.pending_id_range},
      {"merge_since_ms", state.merge_since_ms ? json(*state.merge_since_ms) : json(nullptr)},
      {"history", std::move(history)}};
  if (state.last_sync) {
    out["last_sync"] = {{"finished_ms", state.last_sync->finished_ms},
                        {"duration_ms", state.last_sync->duration_ms},
                        {"bytes", state.last_sync->bytes},
                        {"packages", state.last_sync->packages},
                        {"site_version", state.last_sync->site_version}};
  }
  return out;
}

Result<State> FromJson(const json& in) {
  State state;
  auto role = ParseRole(in.at("role").get<std::string>());
  if (!role) return Fail(role.error());
  state.role = *role;
  state.peer = in.at("peer").get<std::string>();
  state.peer_server_id = in.value("peer_server_id", "");
  state.self_address = in.value("self_address", "");
  state.epoch = in.at("epoch").get<uint64_t>();
  state.established_ms = in.value("established_ms", int64_t{0});
  state.grant_fence_until_ms = in.value("grant_fence_until_ms", int64_t{0});
  state.pending_id_range = in.value("pending_id_range", "");
  if (in.contains("merge_since_ms") && in["merge_since_ms"].is_number_integer()) {
    state.merge_since_ms = in["merge_since_ms"].get<int64_t>();
  }
  if (in.contains("last_sync")) {
    const json& sync = in["last_sync"];
    state.last_sync = SyncRecord{.finished_ms = sync.at("finished_ms").get<int64_t>(),
                                 .duration_ms = sync.at("duration_ms").get<int64_t>(),
                                 .bytes = sync.at("bytes").get<uint64_t>(),
                                 .packages = sync.value("packages", uint64_t{0}),
                                 .site_version = sync.value("site_version", "")};
  }
  for (const json& entry : in.value("history", json::array())) {
    state.history.push_back(HistoryEntry{.at_ms = entry.at("at_ms").get<int64_t>(),
                                         .event = entry.at("event").get<std::string>(),
                                         .detail = entry.value("detail", "")});
  }
  return state;
}

}  // namespace

std::string_view ToString(Role role) {
  switch (role) {
    case Role::kPrimary:
      return "primary";
    case Role::kBackup:
      return "backup";
    case Role::kNone:
      break;
  }
  return "none";
}

void State::Record(int64_t at_ms, std::string event, std::string detail) {
  history.push_back(
      HistoryEntry{.at_ms = at_ms, .event = std::move(event), .detail = std::move(detail)});
  while (history.size() > kHistoryKept) history.pop_front();
}

Result<PairFiles> PairFiles::Open(const std::string& data_root) {
  const std::string dir = data_root + "/pair";
  if (auto made = EnsureDir(dir, 0700); !made) return Fail(made.error());
  const std::string id_path = dir + "/server-id";
  auto id = ReadFile(id_path);
  if (!id) {
    if (id.error().code() != Errc::kNotFound) return Fail(id.error());
    const std::string made = crypto::RandomHex(8);
    if (auto written = WriteFileAtomic(id_path, made + "\n", 0600); !written) {
      return Fail(written.error());
    }
    id = made;
  }
  std::string server_id = *id;
  while (!server_id.empty() && (server_id.back() == '\n' || server_id.back() == '\r')) {
    server_id.pop_back();
  }
  return PairFiles(dir, std::move(server_id));
}

Result<std::string> PairFiles::ReadKey() const {
  auto key = ReadFile(dir_ + "/psk");
  if (!key && key.error().code() == Errc::kNotFound) {
    return Fail(Errc::kNotFound,
                "no pair key is set on this server: run `sluicectl pair set-key --psk-file F` "
                "on both servers");
  }
  return key;
}

Status PairFiles::WriteKey(std::string_view key) const {
  if (key.size() < kMinKeyBytes || key.size() > kMaxKeyBytes) {
    return Fail(Errc::kInvalidArgument, "the pair key must be " + std::to_string(kMinKeyBytes) +
                                            " to " + std::to_string(kMaxKeyBytes) +
                                            " bytes long (it is " + std::to_string(key.size()) +
                                            ")");
  }
  return WriteFileAtomic(dir_ + "/psk", key, 0600);
}

Result<State> PairFiles::ReadState() const {
  const std::string path = dir_ + "/state.json";
  auto text = ReadFile(path);
  if (!text) {
    if (text.error().code() == Errc::kNotFound) return State{};
    return Fail(text.error());
  }
  try {
    auto state = FromJson(json::parse(*text));
    if (!state) return Context(state.error(), path);
    return state;
  } catch (const json::exception& e) {
    return Fail(Errc::kCorrupt, path + ": " + e.what());
  }
}

Status PairFiles::WriteState(const State& state) const {
  return WriteFileAtomic(dir_ + "/state.json", ToJson(state).dump(2) + "\n", 0600);
}

Status ForgetRelationship(const std::string& data_root) {
  std::error_code ec;
  std::filesystem::remove(data_root + "/pair/state.json", ec);
  if (ec) return Fail(ErrnoError("removing", data_root + "/pair/state.json", ec.value()));
  return {};
}

}  // namespace sluice::pair
