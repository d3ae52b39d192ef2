#pragma once
// The update state machine's persisted record, DIR/update.json, written atomically on every
// transition and on download progress. Example:
//   {"state":"checking_health","lease_id":7,"version":"2.0.0","sha256":"<64 hex>",
//    "size":1048576,"previous_version":"1.0.0","offset":1048576,"outcome":"",
//    "detail":"","health_attempts":1}

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "client/update/update_state.h"
#include "common/base/error.h"
#include "common/proto/enums.h"

namespace sluice::client {

struct UpdateRecord {
  UpdateState state = UpdateState::kIdle;
  uint64_t lease_id = 0;
  std::string version{};           // the version being installed (from the signed manifest)
  std::string sha256{};            // lowercase hex of the package
  uint64_t size = 0;               // package size from the manifest
  std::string previous_version{};  // what ran before; where a rollback goes back to
  uint64_t offset = 0;             // download progress last synced to disk
  // The update's fate, once known (set on entering rolling_back or a finished state).
  std::optional<proto::UpgradeOutcome> outcome{};
  std::string detail{};
  uint32_t health_attempts = 0;  // health checks started for this version (crash loop guard)
  bool operator==(const UpdateRecord&) const = default;
};

// Compact JSON for update.json.
std::string EncodeUpdateRecord(const UpdateRecord& record);
// Errc::kCorrupt naming the first bad field: not JSON, unknown state, a field of the wrong type,
// or a record that cannot be acted upon (e.g. a non-idle state without a valid version).
[[nodiscard]] Result<UpdateRecord> DecodeUpdateRecord(std::string_view text);

// The record in `path`; an idle record if the file does not exist. A file that cannot be read or
// decoded is moved aside to "<path>.corrupt" (kept for diagnosis), logged once, and treated as
// idle. Never fails.
UpdateRecord LoadUpdateRecord(const std::string& path);
// Replaces `path` atomically (old or new content survives any crash). Errc::kIo on failure.
[[nodiscard]] Status SaveUpdateRecord(const std::string& path, const UpdateRecord& record);

}  // namespace sluice::client
