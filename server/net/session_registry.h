#pragma once
// The server's live client sessions: owns them by connection id and knows which one is each
// checked-in client's current session. Loop thread only.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/uv/lifetime.h"
#include "common/uv/loop.h"
#include "server/upgrade/upgrade_client.h"

namespace sluice::server {

class ClientSession;

class SessionRegistry final : public UpgradeClientDirectory {
 public:
  explicit SessionRegistry(uv::Loop& loop);
  ~SessionRegistry();

  ClientSession& Add(std::unique_ptr<ClientSession> session);
  // The session on this connection, or null once it closed.
  ClientSession* Find(uint64_t connection_id);
  // `session` checked its client in; an older session of the same client is closed (the client
  // reconnected while its old connection still looked alive).
  void OnCheckedIn(ClientSession& session);
  // `session` closed: it is destroyed on a later loop iteration. True if it was its client's
  // current session and the client should now be marked offline (not while closing them all).
  bool OnClosed(ClientSession& session);
  // Closes every session (shutdown); their OnClosed no longer asks for offline marks.
  void CloseAll();

  size_t size() const { return sessions_.size(); }
  // Sessions opened or closed since the last call.
  uint64_t TakeChurn() { return std::exchange(churn_, 0); }

  // UpgradeClientDirectory
  UpgradeClient* FindClient(const std::string& client_id) override;
  UpgradeClient* FindConnection(uint64_t connection_id) override;
  std::vector<UpgradeClient*> CheckedIn() override;

  // The checked-in sessions as sessions (to tell them all to reconnect).
  std::vector<ClientSession*> CheckedInSessions();

 private:
  uv::Loop& loop_;
  std::unordered_map<uint64_t, std::unique_ptr<ClientSession>> sessions_;
  std::unordered_map<std::string, uint64_t> checked_in_;  // client id -> connection id
  uint64_t churn_ = 0;
  bool closing_all_ = false;
  uv::Lifetime lifetime_;  // deferred destructions outlive the registry in the loop's last drain
};

}  // namespace sluice::server
