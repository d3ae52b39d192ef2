#include "server/server.h"

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "server/admin/admin_commands.h"
#include "server/store/client_repo.h"
#include "server/store/settings_repo.h"

namespace sluice::server {
namespace {

constexpr int kListenBacklog = 4096;
constexpr uint64_t kSweepIntervalMs = 3600 * 1000;

std::string AdvertisedEndpoint(const std::string& configured, const std::string& host, int port) {
  if (!configured.empty()) return configured;
  std::string advertised_host = host;
  if (host == "0.0.0.0") advertised_host = "127.0.0.1";
  if (host == "::") advertised_host = "::1";
  if (advertised_host.find(':') != std::string::npos) advertised_host = "[" + advertised_host + "]";
  return advertised_host + ":" + std::to_string(port);
}

}  // namespace

Server::Server(uv::Loop& loop, ServerOptions options, DataDir dir)
    : loop_(loop), options_(std::move(options)), dir_(std::move(dir)) {}

Server::~Server() {
  Shutdown();
  sessions_.clear();
}

Result<std::unique_ptr<Server>> Server::Start(uv::Loop& loop, ServerOptions options) {
  auto listen = uv::SplitHostPort(options.listen);
  if (!listen) return Context(listen.error(), "--listen");
  auto dir = DataDir::Prepare(options.data_dir);
  if (!dir) return Context(dir.error(), "--data-dir " + options.data_dir);
  std::unique_ptr<Server> server(new Server(loop, std::move(options), std::move(*dir)));
  if (auto opened = server->Open(); !opened) return Fail(opened.error());
  return server;
}

Status Server::Open() {
  started_ms_ = options_.clock->WallMs();
  auto store = store::Store::Open({
      .path = dir_.db_path,
      .post_to_loop = [this](std::function<void()> task) { PostGuarded(std::move(task)); },
  });
  if (!store) return Context(store.error(), "database " + dir_.db_path);
  store_ = std::move(*store);

  // Startup reads and writes are synchronous: nothing is being served yet.
  auto stored = store_->Call<std::map<std::string, std::string>>(
      [](db::Database& db) -> Result<std::map<std::string, std::string>> {
        if (auto offline = store::MarkAllOffline(db); !offline) return Fail(offline.error());
        return store::AllSettings(db);
      });
  if (!stored) return Context(stored.error(), "loading settings");
  auto settings = SiteSettings::FromMap(*stored);
  if (!settings) return Fail(settings.error());
  settings_ = std::move(*settings);

  auto tls = tls::TlsContext::CreateServer({.cert_path = dir_.cert_path, .key_path = dir_.key_path});
  if (!tls) return Fail(tls.error());
  tls_ = std::move(*tls);

  auto host_port = uv::SplitHostPort(options_.listen);
  auto listener = uv::Listener::ListenTcp(
      loop_, host_port->first, host_port->second, kListenBacklog,
      [this](uv::HandlePtr<uv::Stream> stream) { OnAccept(std::move(stream)); });
  if (!listener) return Context(listener.error(), "--listen " + options_.listen);
  listener_ = std::move(*listener);
  endpoint_ = listener_->LocalAddress();
  advertise_ = AdvertisedEndpoint(options_.advertise, host_port->first, listener_->LocalPort());

  auto admin = admin::AdminServer::Start(loop_, dir_.admin_socket_path);
  if (!admin) return Context(admin.error(), "admin socket");
  admin_ = std::move(*admin);
  RegisterAdminCommands(*admin_, *this);

  if (auto written = WriteFileAtomic(dir_.endpoint_path, endpoint_ + "\n", 0644); !written) {
    return Fail(written.error());
  }
  sweep_timer_ = uv::Timer::Create(loop_);
  sweep_timer_->Start(0, kSweepIntervalMs, [this] { SweepStaleClients(); });
  Log("server")->info("listening on {} data_dir={} site_version={}", endpoint_, dir_.root,
                      settings_.site_version);
  return {};
}

void Server::OnAccept(uv::HandlePtr<uv::Stream> stream) {
  auto tls = tls::TlsSession::Create(tls_);
  if (!tls) {
    Log("net")->error("cannot create TLS session peer={} error=\"{}\"", stream->peer_address(),
                      tls.error().ToString());
    return;
  }
  (void)stream->SetNoDelay(true);
  auto session = std::make_unique<ClientSession>(
      *this, loop_, std::move(stream), std::move(*tls),
      net::ConnectionOptions{.max_frame_bytes = options_.max_frame_bytes,
                             .handshake_timeout_ms = options_.handshake_timeout_ms});
  ClientSession* raw = session.get();
  sessions_.emplace(raw->id(), std::move(session));
  raw->Start();
}

ClientSession* Server::FindSession(uint64_t connection_id) {
  auto it = sessions_.find(connection_id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

void Server::OnClientOnline(ClientSession& session) {
  auto [it, inserted] = online_.try_emplace(session.client_id(), session.id());
  if (inserted || it->second == session.id()) return;
  // The client reconnected while its old connection still looked alive: keep the new one.
  if (ClientSession* old = FindSession(it->second)) old->Close();
  it->second = session.id();
}

void Server::OnSessionClosed(ClientSession& session) {
  const uint64_t id = session.id();
  auto online = online_.find(session.client_id());
  if (online != online_.end() && online->second == id) {
    online_.erase(online);
    if (!shut_down_) {
      store_->Submit<void>(
          [client_id = session.client_id(), now = options_.clock->WallMs()](db::Database& db) {
            return store::SetOnline(db, client_id, false, now);
          },
          nullptr);
    }
  }
  PostGuarded([this, id] { sessions_.erase(id); });
}

void Server::SweepStaleClients() {
  store_->Submit<store::SweepResult>(
      [now = options_.clock->WallMs(), lost = settings_.lost_after_days,
       deleted = settings_.delete_after_days](db::Database& db) {
        return store::SweepStaleClients(db, now, lost, deleted);
      },
      [](Result<store::SweepResult> swept) {
        if (!swept) {
          Log("server")->error("stale-client sweep failed: {}", swept.error().ToString());
        } else if (swept->marked_lost > 0 || swept->deleted > 0) {
          Log("server")->info("stale-client sweep lost={} deleted={}", swept->marked_lost,
                              swept->deleted);
        }
      });
}

void Server::UpdateSetting(std::string key, std::string value, std::function<void(Status)> done) {
  SiteSettings updated = settings_;
  if (auto applied = updated.Set(key, value); !applied) {
    done(applied);
    return;
  }
  store_->Submit<void>(
      [key, value](db::Database& db) { return store::SetSetting(db, key, value); },
      [this, updated = std::move(updated), key, value, done = std::move(done)](Status saved) {
        if (saved) {
          settings_ = updated;
          Log("server")->info("setting changed key={} value={}", key, value);
        }
        done(saved);
      });
}

void Server::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  Log("server")->info("shutting down connections={}", sessions_.size());
  listener_.reset();
  sweep_timer_.reset();
  if (admin_) admin_->Stop();
  for (auto& [id, session] : sessions_) session->Close();
  if (store_) {
    // Blocking on purpose: the server is going away and these writes must land first.
    (void)store_->Call<void>([](db::Database& db) { return store::MarkAllOffline(db); });
    store_->Close();
  }
  loop_.Defer([&loop = loop_] { loop.Stop(); });
}

void Server::PostGuarded(std::function<void()> task) {
  loop_.Post([alive = std::weak_ptr<bool>(alive_), task = std::move(task)] {
    if (alive.lock()) task();
  });
}

}  // namespace sluice::server
