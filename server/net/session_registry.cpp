#include "server/net/session_registry.h"

#include "server/net/client_session.h"

namespace sluice::server {

SessionRegistry::SessionRegistry(uv::Loop& loop) : loop_(loop) {}

SessionRegistry::~SessionRegistry() = default;

ClientSession& SessionRegistry::Add(std::unique_ptr<ClientSession> session) {
  ++churn_;
  ClientSession& added = *session;
  sessions_.emplace(added.id(), std::move(session));
  return added;
}

ClientSession* SessionRegistry::Find(uint64_t connection_id) {
  auto it = sessions_.find(connection_id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

void SessionRegistry::OnCheckedIn(ClientSession& session) {
  auto [it, inserted] = checked_in_.try_emplace(session.client_id(), session.id());
  if (inserted || it->second == session.id()) return;
  if (ClientSession* old = Find(it->second)) old->Close();
  it->second = session.id();
}

bool SessionRegistry::OnClosed(ClientSession& session) {
  ++churn_;
  const uint64_t id = session.id();
  bool was_current = false;
  if (auto it = checked_in_.find(session.client_id());
      it != checked_in_.end() && it->second == id) {
    checked_in_.erase(it);
    was_current = true;
  }
  // Destroyed outside the connection's own callback.
  loop_.Post([this, alive = lifetime_.Token(), id] {
    if (alive.lock()) sessions_.erase(id);
  });
  return was_current && !closing_all_;
}

void SessionRegistry::CloseAll() {
  closing_all_ = true;
  for (auto& [id, session] : sessions_) session->Close();
}

UpgradeClient* SessionRegistry::FindClient(const std::string& client_id) {
  auto it = checked_in_.find(client_id);
  return it == checked_in_.end() ? nullptr : Find(it->second);
}

UpgradeClient* SessionRegistry::FindConnection(uint64_t connection_id) {
  return Find(connection_id);
}

std::vector<ClientSession*> SessionRegistry::CheckedInSessions() {
  std::vector<ClientSession*> out;
  out.reserve(checked_in_.size());
  for (const auto& [client_id, connection_id] : checked_in_) {
    ClientSession* session = Find(connection_id);
    // A closing connection (e.g. told to reconnect) gets nothing more, upgrades included.
    if (session != nullptr && !session->closing()) out.push_back(session);
  }
  return out;
}

std::vector<UpgradeClient*> SessionRegistry::CheckedIn() {
  auto sessions = CheckedInSessions();
  return {sessions.begin(), sessions.end()};
}

}  // namespace sluice::server
