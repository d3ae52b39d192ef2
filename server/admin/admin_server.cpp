#include "server/admin/admin_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "server/admin/admin_protocol.h"

namespace sluice::admin {
namespace {

using nlohmann::json;

// Per connection: requests read but not yet answered, and unsent response bytes, above which
// the server stops reading from that client until it catches up.
constexpr size_t kMaxPipelined = 64;
constexpr size_t kMaxUnsentBytes = 4u << 20;

// True if a process accepts connections on `path` (a live server, not a stale socket file).
bool SomeoneListens(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) return false;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  // EAGAIN: a listener exists but its backlog is full.
  bool listening = rc == 0 || errno == EAGAIN || errno == EINPROGRESS;
  ::close(fd);
  return listening;
}

// "local:<user>" for the process at the other end of an admin socket connection.
std::string PeerActor(uv::Stream& stream) {
  uv_os_fd_t fd = -1;
  ucred cred{};
  socklen_t size = sizeof(cred);
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(stream.native()), &fd) != 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0) {
    return "local:unknown";
  }
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(cred.uid, &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return std::string("local:") + found->pw_name;
  }
  return "local:" + std::to_string(cred.uid);
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

// One client connection. Owned by AdminServer::connections_; replies hold it weakly. Every
// entry point (stream event, reply) keeps a strong reference for its duration, because
// finishing the connection removes it from the server's map.
class AdminServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(AdminServer& server, uint64_t id, uv::HandlePtr<uv::Stream> stream)
      : server_(server), id_(id), stream_(std::move(stream)), actor_(PeerActor(*stream_)) {}

  void Start() {
    // Raw `this` is safe: the stream fires no callback once closed, and we close it first.
    stream_->Start({.on_data = [this](ByteView data) { OnData(data); },
                    .on_end = [this](std::optional<Error> why) { OnEnd(std::move(why)); },
                    .on_drain = [this] { OnDrain(); }});
  }

  // Closes the stream and drops unsent replies; later replies are ignored. Idempotent.
  void Close() {
    if (closed_) return;
    closed_ = true;
    slots_.clear();
    stream_.reset();
  }

 private:
  struct Slot {
    uint64_t seq;
    std::optional<std::string> response;
  };

  void OnData(ByteView data) {
    auto keep = shared_from_this();
    reader_.Append(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    Pump();
  }

  void OnEnd(std::optional<Error> why) {
    auto keep = shared_from_this();
    if (why) Log("admin")->debug("admin connection error conn={} error={}", id_, why->ToString());
    Finish();
  }

  void OnDrain() {
    auto keep = shared_from_this();
    if (close_when_flushed_ && slots_.empty()) {
      Finish();
      return;
    }
    Pump();
  }

  bool Busy() const {
    return slots_.size() >= kMaxPipelined || stream_->pending_write_bytes() >= kMaxUnsentBytes;
  }

  // Handles buffered request lines until none is left or the client must wait for replies.
  // Re-entrant calls (a handler replying synchronously) return at once; the outer loop goes on.
  void Pump() {
    if (pumping_ || closed_ || close_when_flushed_) return;
    auto keep = shared_from_this();
    pumping_ = true;
    while (!closed_ && !close_when_flushed_ && !Busy()) {
      auto line = reader_.Next();
      if (!line) {
        // Oversized line: answer it after the earlier requests, then hang up.
        close_when_flushed_ = true;
        stream_->StopReading();
        NewReply()(Fail(line.error()));
        break;
      }
      if (!*line) break;
      HandleLine(**line);
    }
    pumping_ = false;
    if (closed_ || close_when_flushed_) return;
    if (Busy()) {
      stream_->StopReading();
    } else {
      stream_->ResumeReading();
    }
  }

  void HandleLine(const std::string& line) {
    if (IsBlank(line)) return;
    Reply reply = NewReply();
    auto request = ParseRequest(line);
    if (!request) {
      reply(Fail(request.error()));
      return;
    }
    Log("admin")->debug("admin request conn={} actor={} cmd={}", id_, actor_, request->cmd);
    server_.Run(request->cmd, request->args, actor_, reply);
  }

  // Reserves the next response slot and returns the Reply that fills it.
  Reply NewReply() {
    uint64_t seq = next_seq_++;
    slots_.push_back(Slot{seq, std::nullopt});
    return [weak = weak_from_this(), loop = &server_.loop_, seq](Result<json> result) {
      if (!loop->InLoopThread()) {
        loop->Post([weak, seq, result = std::move(result)]() mutable {
          if (auto self = weak.lock()) self->Fill(seq, std::move(result));
        });
        return;
      }
      if (auto self = weak.lock()) self->Fill(seq, std::move(result));
    };
  }

  void Fill(uint64_t seq, Result<json> result) {
    if (closed_ || slots_.empty()) return;
    uint64_t first = slots_.front().seq;
    if (seq < first || seq - first >= slots_.size()) return;  // already answered and sent
    Slot& slot = slots_[seq - first];
    if (slot.response) return;  // a second reply
    slot.response = EncodeResponse(result);
    Flush();
  }

  // Writes the answered prefix of the slots, keeping request order.
  void Flush() {
    std::string out;
    while (!slots_.empty() && slots_.front().response) {
      out += *slots_.front().response;
      slots_.pop_front();
    }
    if (!out.empty()) {
      stream_->Write(ByteView(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
    }
    if (closed_) return;  // the write failed and ended the connection
    if (close_when_flushed_) {
      if (slots_.empty() && stream_->pending_write_bytes() == 0) Finish();
      return;
    }
    Pump();
  }

  void Finish() {
    if (closed_) return;
    Close();
    server_.Forget(id_);
  }

  AdminServer& server_;
  const uint64_t id_;
  uv::HandlePtr<uv::Stream> stream_;
  const std::string actor_;  // who is at the other end ("local:<user>")
  LineReader reader_{kMaxRequestBytes};
  std::deque<Slot> slots_;  // one per request not yet written back, in request order
  uint64_t next_seq_ = 0;
  bool pumping_ = false;
  bool close_when_flushed_ = false;
  bool closed_ = false;
};

AdminServer::AdminServer(uv::Loop& loop, std::string socket_path)
    : loop_(loop), socket_path_(std::move(socket_path)) {}

AdminServer::~AdminServer() { Stop(); }

Result<std::unique_ptr<AdminServer>> AdminServer::Start(uv::Loop& loop,
                                                        const std::string& socket_path) {
  std::string parent = std::filesystem::path(socket_path).parent_path().string();
  if (!parent.empty()) {
    if (auto made = EnsureDir(parent, 0700); !made) return Context(made.error(), "admin socket");
  }
  if (SomeoneListens(socket_path)) {
    return Fail(Errc::kAlreadyExists,
                "another sluiced is already serving the admin socket " + socket_path);
  }
  std::unique_ptr<AdminServer> server(new AdminServer(loop, socket_path));
  AdminServer* raw = server.get();
  auto listener = uv::Listener::ListenPipe(
      loop, socket_path, 0600,
      [raw](uv::HandlePtr<uv::Stream> stream) { raw->Accept(std::move(stream)); });
  if (!listener) return Fail(listener.error());
  server->listener_ = std::move(*listener);
  struct stat st {};
  if (::stat(socket_path.c_str(), &st) == 0) {
    server->socket_dev_ = st.st_dev;
    server->socket_ino_ = st.st_ino;
  }
  Log("admin")->info("admin socket listening path={}", socket_path);
  return server;
}

void AdminServer::Register(std::string cmd, CommandHandler handler) {
  handlers_[std::move(cmd)] = std::move(handler);
}

void AdminServer::Stop() {
  if (listener_) {
    listener_.reset();
    struct stat st {};
    if (::stat(socket_path_.c_str(), &st) == 0 && st.st_dev == socket_dev_ &&
        st.st_ino == socket_ino_) {
      ::unlink(socket_path_.c_str());
    }
  }
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto& [id, connection] : connections) connection->Close();
}

void AdminServer::Accept(uv::HandlePtr<uv::Stream> stream) {
  uint64_t id = next_connection_id_++;
  auto connection = std::make_shared<Connection>(*this, id, std::move(stream));
  connections_.emplace(id, connection);
  Log("admin")->debug("admin connection opened conn={}", id);
  connection->Start();
}

std::string ActorOf(const json& args) {
  if (!args.is_object()) return "";
  auto it = args.find(kActorKey);
  return it != args.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string CleanActor(std::string_view actor) {
  std::string clean(actor.substr(0, 128));
  for (char& c : clean) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == ';') c = '?';
  }
  return clean;
}

void AdminServer::Run(const std::string& cmd, const json& args, std::string actor, Reply reply) {
  auto it = handlers_.find(cmd);
  if (it == handlers_.end()) {
    reply(Fail(Errc::kInvalidArgument, "unknown command '" + cmd + "'"));
    return;
  }
  if (!args.is_object()) {
    reply(Fail(Errc::kInvalidArgument, "'args' must be an object"));
    return;
  }
  CommandHandler handler = it->second;  // a copy: the handler may re-register itself
  json with_actor = args;
  with_actor[kActorKey] = CleanActor(actor);
  // Replies after the first are ignored, so these only answer handlers that threw first.
  try {
    handler(with_actor, reply);
  } catch (const json::exception& e) {
    reply(Fail(Errc::kInvalidArgument, "bad arguments for '" + cmd + "': " + e.what()));
  } catch (const std::exception& e) {
    reply(Fail(Errc::kInternal, "command '" + cmd + "' failed: " + e.what()));
  }
}

void AdminServer::Forget(uint64_t connection_id) {
  if (connections_.erase(connection_id) > 0) {
    Log("admin")->debug("admin connection closed conn={}", connection_id);
  }
}

}  // namespace sluice::admin
