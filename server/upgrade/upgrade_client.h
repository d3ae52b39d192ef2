#pragma once
// What the upgrade coordinator sees of a connected, checked-in client: who it is, what it said
// at its check-in, and how to talk to it. Implemented by the connection's session (server/net);
// the coordinator never sees the connection itself. Loop thread only.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/proto/messages.h"

namespace sluice::server {

class UpgradeClient {
 public:
  // The connection's id: stable while it is open, never reused.
  virtual uint64_t connection_id() const = 0;
  virtual const std::string& client_id() const = 0;
  virtual bool active() const = 0;
  // What the client said at its latest check-in (the secret is not kept).
  virtual const proto::Checkin& last_checkin() const = 0;

  virtual void Send(const proto::Message& message) = 0;
  // Sends `error` and closes once it is written.
  virtual void SendErrorAndClose(proto::ErrorCode code, std::string message) = 0;
  virtual void Close() = 0;
  // Bytes queued for the client and not yet written (download flow control).
  virtual size_t pending_write_bytes() const = 0;

  // The connection closes when nothing arrives for `ms` (a lease or a held place in line
  // outlives the usual silence); ResetIdleDeadline goes back to the usual one for the client's
  // mode (three heartbeats when active, 30 s when passive).
  virtual void SetIdleDeadline(uint64_t ms) = 0;
  virtual void ResetIdleDeadline() = 0;

 protected:
  ~UpgradeClient() = default;
};

// The connected clients as the coordinator looks them up: asynchronous completions find their
// client again here instead of holding a pointer that may dangle. Implemented by the server's
// session registry (server/net). Loop thread only.
class UpgradeClientDirectory {
 public:
  // The checked-in session of `client_id`, or null.
  virtual UpgradeClient* FindClient(const std::string& client_id) = 0;
  // The session on this connection, or null once it closed.
  virtual UpgradeClient* FindConnection(uint64_t connection_id) = 0;
  // Every checked-in session whose connection is not closing.
  virtual std::vector<UpgradeClient*> CheckedIn() = 0;

 protected:
  ~UpgradeClientDirectory() = default;
};

}  // namespace sluice::server
