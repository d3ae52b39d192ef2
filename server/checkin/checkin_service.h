#pragma once
// Enrollment, authentication and check-in recording (docs/protocol.md, "Enrollment" and
// "Check-in"): what a client's hello does to the site's records, apart from the connection that
// carried it. The session (server/net) runs the protocol and calls this; answers come back as
// typed outcomes, never as frames.
//
// Threads: every method is called on the loop thread and calls back there; SQLite work goes
// through the store thread. Callbacks run even if the caller's connection closed meanwhile:
// the caller checks.

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/proto/messages.h"
#include "common/uv/lifetime.h"
#include "server/installer/installer_service.h"
#include "server/store/store.h"

namespace sluice::server {

struct CheckinServiceOptions {
  store::Store* store = nullptr;
  Clock* clock = nullptr;
  InstallerService* installers = nullptr;  // checks installer keys presented at enrollment
  std::string enrollment_key{};            // the site's
};

// Why a hello was refused: the error code the client is told, and a message.
struct Refusal {
  proto::ErrorCode code;
  std::string message;
};

class CheckinService {
 public:
  explicit CheckinService(CheckinServiceOptions options);

  // Checks the enrollment key or the installer key and the fields, then records the client
  // (and which installer enrolled it, with which group and tag). `done` gets the new client's
  // secret, or the refusal.
  void Enroll(const proto::Enroll& enroll, const std::string& peer_address,
              std::function<void(std::expected<std::string, Refusal>)> done);

  // Checks the fields, authenticates the client (secret and enrolled kind) and records the
  // check-in (mode, version, platform, stats, address; online when active). `done` gets
  // nullopt when the client is checked in, else the refusal.
  void CheckIn(const proto::Checkin& checkin, const std::string& peer_address,
               std::function<void(std::optional<Refusal>)> done);

  // An active client is still there (its heartbeats); last_seen is written at most every ten
  // minutes per client, so idle fleets cost few writes. `last_persisted_ms` is the caller's
  // record of the last write, updated here.
  void RecordHeartbeat(const std::string& client_id, int64_t* last_persisted_ms);
  // The client's row says offline (its connection ended before it was online).
  void MarkOffline(const std::string& client_id);

 private:
  void RecordEnrollment(const proto::Enroll& enroll, const std::string& peer_address,
                        EnrollDecision decision,
                        std::function<void(std::expected<std::string, Refusal>)> done);

  CheckinServiceOptions options_;
  uv::Lifetime lifetime_;
};

}  // namespace sluice::server
