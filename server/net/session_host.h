#pragma once
// What a client session needs from the server that owns it. Loop thread only.

#include <cstdint>
#include <string>

#include "common/base/clock.h"
#include "server/site/site_settings.h"
#include "server/store/store.h"

namespace sluice::server {

class ClientSession;
class InstallerService;
class UpgradeCoordinator;

class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual store::Store& store() = 0;
  virtual const SiteSettings& settings() const = 0;
  virtual const std::string& enrollment_key() const = 0;
  virtual Clock& clock() = 0;
  // The live session with this connection id, or null once it closed (async completions
  // look their session up again instead of holding a pointer).
  virtual ClientSession* FindSession(uint64_t connection_id) = 0;
  // The authenticated session of `client_id`, or null.
  virtual ClientSession* FindClient(const std::string& client_id) = 0;
  virtual UpgradeCoordinator& upgrades() = 0;
  // Checks installer keys presented at enrollment.
  virtual InstallerService& installers() = 0;
  // `session` authenticated its client; an older session of the same client is closed.
  virtual void OnAuthenticated(ClientSession& session) = 0;
  // The session's connection closed; the host destroys the session soon.
  virtual void OnSessionClosed(ClientSession& session) = 0;
};

}  // namespace sluice::server
