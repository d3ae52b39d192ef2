#include "client/update/update_record.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/version.h"

namespace sluice::client {
namespace {

using Json = nlohmann::json;

Result<UpdateRecord> DecodeObject(const Json& json) {
  if (!json.is_object()) return Fail(Errc::kCorrupt, "update record is not a JSON object");
  // Every field must be present with its type: a half-written or hand-edited record is not
  // trusted to drive file-system changes.
  auto string_field = [&](const char* name, std::string* out) -> Status {
    auto it = json.find(name);
    if (it == json.end() || !it->is_string()) {
      return Fail(Errc::kCorrupt,
                  std::string("update record field '") + name + "' is not a string");
    }
    *out = it->get<std::string>();
    return {};
  };
  auto uint_field = [&](const char* name, uint64_t* out) -> Status {
    auto it = json.find(name);
    if (it == json.end() || !it->is_number_unsigned()) {
      return Fail(Errc::kCorrupt,
                  std::string("update record field '") + name + "' is not an unsigned integer");
    }
    *out = it->get<uint64_t>();
    return {};
  };
  UpdateRecord record;
  std::string state;
  std::string outcome;
  uint64_t attempts = 0;
  for (auto [name, out] : {std::pair{"state", &state},
                           {"version", &record.version},
                           {"sha256", &record.sha256},
                           {"previous_version", &record.previous_version},
                           {"outcome", &outcome},
                           {"detail", &record.detail}}) {
    if (auto ok = string_field(name, out); !ok) return Fail(ok.error());
  }
  for (auto [name, out] : {std::pair{"lease_id", &record.lease_id},
                           {"size", &record.size},
                           {"offset", &record.offset},
                           {"health_attempts", &attempts}}) {
    if (auto ok = uint_field(name, out); !ok) return Fail(ok.error());
  }
  auto parsed_state = ParseUpdateState(state);
  if (!parsed_state) return Fail(Errc::kCorrupt, "update record state '" + state + "' is unknown");
  record.state = *parsed_state;
  record.health_attempts = static_cast<uint32_t>(std::min<uint64_t>(attempts, UINT32_MAX));
  if (!outcome.empty()) {
    record.outcome = proto::ParseEnum<proto::UpgradeOutcome>(outcome);
    if (!record.outcome) return Fail(Errc::kCorrupt, "update record outcome '" + outcome + "'");
  }
  if (record.state == UpdateState::kIdle) return record;
  if (!Version::Parse(record.version)) {
    return Fail(Errc::kCorrupt, "update record version '" + record.version + "' is invalid");
  }
  if (record.sha256.size() != 64 || record.size == 0) {
    return Fail(Errc::kCorrupt, "update record lacks the package sha256 or size");
  }
  if (IsFinished(record.state) && !record.outcome) {
    return Fail(Errc::kCorrupt, "finished update record lacks its outcome");
  }
  return record;
}

}  // namespace

std::string EncodeUpdateRecord(const UpdateRecord& record) {
  Json json = {
      {"state", ToString(record.state)},
      {"lease_id", record.lease_id},
      {"version", record.version},
      {"sha256", record.sha256},
      {"size", record.size},
      {"previous_version", record.previous_version},
      {"offset", record.offset},
      {"outcome", record.outcome ? std::string(proto::ToString(*record.outcome)) : ""},
      {"detail", record.detail},
      {"health_attempts", record.health_attempts},
  };
  // Details may quote a payload's output: never let invalid UTF-8 make dump() throw.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<UpdateRecord> DecodeUpdateRecord(std::string_view text) {
  Json json = Json::parse(text, nullptr, false);
  if (json.is_discarded()) return Fail(Errc::kCorrupt, "update record is not valid JSON");
  return DecodeObject(json);
}

UpdateRecord LoadUpdateRecord(const std::string& path) {
  auto text = ReadFile(path);
  if (!text && text.error().code() == Errc::kNotFound) return UpdateRecord{};
  auto record = text ? DecodeUpdateRecord(*text) : Result<UpdateRecord>(Fail(text.error()));
  if (record) return *record;
  // Moving the file aside makes this warning appear once, not on every start.
  const std::string aside = path + ".corrupt";
  const bool moved = std::rename(path.c_str(), aside.c_str()) == 0;
  Log("update")->warn("ignoring unusable update record path={} kept_as={} reason={}", path,
                      moved ? aside : std::string("(could not move)"), record.error().ToString());
  return UpdateRecord{};
}

Status SaveUpdateRecord(const std::string& path, const UpdateRecord& record) {
  if (auto written = WriteFileAtomic(path, EncodeUpdateRecord(record), 0600); !written) {
    return Context(written.error(), "saving update record");
  }
  return {};
}

}  // namespace sluice::client
