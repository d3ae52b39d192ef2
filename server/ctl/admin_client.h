#pragma once
// Client side of the admin channel (see server/admin/admin_protocol.h): a blocking Unix-domain
// socket connection to a running sluiced, one request and its response at a time.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/base/error.h"
#include "server/admin/admin_protocol.h"

namespace sluice::ctl {

class AdminClient {
 public:
  // Connects to the admin socket at `socket_path`. `timeout_s` bounds each later Call (0 waits
  // forever). Errc::kNotFound if the socket file is missing, Errc::kClosed if nothing listens
  // there (connection refused), Errc::kInvalidArgument if the path is too long, Errc::kIo for
  // anything else (permissions, ...).
  [[nodiscard]] static Result<AdminClient> Connect(const std::string& socket_path, int timeout_s);

  AdminClient(AdminClient&& other) noexcept;
  AdminClient& operator=(AdminClient&& other) noexcept;
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;
  ~AdminClient();

  // Sends {"cmd": cmd, "args": args} and waits for its response. Returns the server's "result",
  // or its error (code and message as the server sent them). Errc::kTimeout if no response
  // came within the timeout, Errc::kClosed if the server hung up, Errc::kProtocol for a
  // malformed response; after these the connection is unusable.
  [[nodiscard]] Result<nlohmann::json> Call(std::string_view cmd,
                                            const nlohmann::json& args = nlohmann::json::object());

 private:
  explicit AdminClient(int fd) : fd_(fd) {}
  [[nodiscard]] Status SendAll(std::string_view data);
  [[nodiscard]] Result<std::string> ReadLine();

  int fd_ = -1;
  admin::LineReader reader_{admin::kMaxResponseBytes};
};

}  // namespace sluice::ctl
