#pragma once
// What a client session needs from the server that owns it. Loop thread only.

#include <cstdint>
#include <string>

#include "common/base/clock.h"
#include "server/site/site_settings.h"

namespace sluice::server {

class CheckinService;
class ClientSession;
class UpgradeCoordinator;

class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual const SiteSettings& settings() const = 0;
  virtual Clock& clock() = 0;
  // Enrollment, authentication and check-in recording.
  virtual CheckinService& checkin() = 0;
  // The live session with this connection id, or null once it closed (async completions
  // look their session up again instead of holding a pointer).
  virtual ClientSession* FindSession(uint64_t connection_id) = 0;
  // The authenticated session of `client_id`, or null.
  virtual ClientSession* FindClient(const std::string& client_id) = 0;
  virtual UpgradeCoordinator& upgrades() = 0;
  // `session` authenticated its client; an older session of the same client is closed.
  virtual void OnAuthenticated(ClientSession& session) = 0;
  // The session's connection closed; the host destroys the session soon.
  virtual void OnSessionClosed(ClientSession& session) = 0;
};

}  // namespace sluice::server
