#include "server/pair/pair_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "server/backup/backup_archive.h"
#include "server/backup/backup_create.h"
#include "server/backup/restore.h"
#include "server/backup/restore_journal.h"
#include "server/store/audit_repo.h"
#include "server/store/client_repo.h"
#include "server/store/pair_repo.h"

namespace sluice::pair {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// A snapshot younger than this is served again to a backup resuming its fetch.
constexpr int64_t kSnapshotReuseMs = 3600 * 1000;
// Replies and log lines leave before a restart closes their connections.
constexpr uint64_t kRestartDelayMs = 250;
// A refused connection to the peer is tried again this often, kConnectRetries times.
constexpr uint64_t kConnectRetryMs = 500;

// Test-only fault injection: SLUICE_TEST_PAIR_KILL_AT=<point> makes the process kill itself
// (SIGKILL, as a crash would) there. Points: "snapshot" and "package" (the backup, after the
// first chunk of either arrived), "staged" (the backup, with the sync staged, before its
// commit), "serve" (the primary, asked for a package).
void KillPoint(std::string_view point) {
  static const char* chosen = std::getenv("SLUICE_TEST_PAIR_KILL_AT");
  if (chosen != nullptr && point == chosen) ::raise(SIGKILL);
}

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

json SyncJson(const SyncRecord& sync) {
  return {{"finished_ms", sync.finished_ms},
          {"duration_ms", sync.duration_ms},
          {"bytes", sync.bytes},
          {"packages", sync.packages},
          {"site_version", sync.site_version}};
}

// Appends what a fetch delivers to `path`, which holds the first `offset` bytes already.
class FileSink {
 public:
  static Result<std::shared_ptr<FileSink>> Open(const std::string& path, uint64_t offset) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Fail(ErrnoError("opening", path, errno));
    if (::ftruncate(fd, static_cast<off_t>(offset)) != 0) {
      const int err = errno;
      ::close(fd);
      return Fail(ErrnoError("truncating", path, err));
    }
    return std::shared_ptr<FileSink>(new FileSink(fd, path, offset));
  }
  ~FileSink() { ::close(fd_); }
  Status Write(uint64_t offset, ByteView data) {
    if (offset != size_) {
      return Fail(Errc::kProtocol, "a chunk at " + std::to_string(offset) + " where " +
                                       std::to_string(size_) + " was expected");
    }
    if (const int err = WriteAll(fd_, AsChars(data)); err != 0) {
      return Fail(ErrnoError("writing", path_, err));
    }
    size_ += data.size();
    return {};
  }
  Status Sync() {
    if (::fsync(fd_) != 0) return Fail(ErrnoError("syncing", path_, errno));
    return {};
  }
  uint64_t size() const { return size_; }

 private:
  FileSink(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  int fd_;
  std::string path_;
  uint64_t size_;
};

constexpr int kMergeBatch = 500;
// A merge request stays well under the pair protocol's largest body (kMaxPairBodyBytes),
// whatever the rows' text holds: a batch ends early once its JSON would pass this.
constexpr size_t kMaxMergeBatchBytes = proto::kMaxPairBodyBytes / 2;
// Clients seen shortly before the last sync are sent too: newest-wins makes extras harmless.
constexpr int64_t kMergeMarginMs = 10 * 60 * 1000;

json AuditJson(const store::AuditRow& r) {
  return {{"seq", r.seq},
          {"wall_ms", r.wall_ms},
          {"mono_ms", r.mono_ms},
          {"event", r.event},
          {"scope", r.scope},
          {"client_id", r.client_id},
          {"lease_id", r.lease_id},
          {"version", r.version},
          {"detail", r.detail},
          {"running", r.running},
          {"limit_value", r.limit_value}};
}

store::AuditRow AuditFromJson(const json& j) {
  return {.seq = j.at("seq").get<int64_t>(),
          .wall_ms = j.at("wall_ms").get<int64_t>(),
          .mono_ms = j.at("mono_ms").get<int64_t>(),
          .event = j.at("event").get<std::string>(),
          .scope = j.at("scope").get<std::string>(),
          .client_id = j.at("client_id").get<std::string>(),
          .lease_id = j.at("lease_id").get<uint64_t>(),
          .version = j.at("version").get<std::string>(),
          .detail = j.at("detail").get<std::string>(),
          .running = j.at("running").get<int>(),
          .limit_value = j.at("limit_value").get<int>()};
}

json ClientJson(const store::ClientRow& c) {
  return {{"id", c.id},
          {"kind", c.kind},
          {"mode", c.mode},
          {"secret_hash", c.secret_hash},
          {"version", c.version},
          {"platform", c.platform},
          {"first_seen_ms", c.first_seen_ms},
          {"last_seen_ms", c.last_seen_ms},
          {"state", c.state},
          {"peer_address", c.peer_address},
          {"cpu_load", c.cpu_load},
          {"disk_used_pct", c.disk_used_pct},
          {"uptime_s", c.uptime_s},
          {"console_user", c.console_user}};
}

store::ClientRow ClientFromJson(const json& j) {
  return {.id = j.at("id").get<std::string>(),
          .kind = j.at("kind").get<std::string>(),
          .mode = j.at("mode").get<std::string>(),
          .secret_hash = j.at("secret_hash").get<std::string>(),
          .version = j.at("version").get<std::string>(),
          .platform = j.at("platform").get<std::string>(),
          .first_seen_ms = j.at("first_seen_ms").get<int64_t>(),
          .last_seen_ms = j.at("last_seen_ms").get<int64_t>(),
          .online = false,
          .state = j.at("state").get<std::string>(),
          .peer_address = j.at("peer_address").get<std::string>(),
          .cpu_load = j.at("cpu_load").get<double>(),
          .disk_used_pct = j.at("disk_used_pct").get<double>(),
          .uptime_s = j.at("uptime_s").get<int64_t>(),
          .console_user = j.at("console_user").get<std::string>()};
}

uint64_t SizeOr0(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(size);
}

Result<std::string> FileSha256Hex(const std::string& path) {
  auto digest = crypto::Sha256File(path);
  if (!digest) return Fail(digest.error());
  return crypto::HexEncode(*digest);
}

}  // namespace

Result<std::unique_ptr<PairService>> PairService::Open(Host host, PairOptions options) {
  auto files = PairFiles::Open(host.data_root);
  if (!files) return Fail(files.error());
  auto state = files->ReadState();
  if (!state) return Fail(state.error());
  return std::unique_ptr<PairService>(
      new PairService(std::move(host), options, std::move(*files), std::move(*state)));
}

PairService::PairService(Host host, PairOptions options, PairFiles files, State state)
    : host_(std::move(host)),
      options_(options),
      files_(std::move(files)),
      state_(std::move(state)),
      worker_(*host_.loop) {}

PairService::~PairService() {
  for (const auto& weak : channels_) {
    if (auto channel = weak.lock()) channel->Detach();
  }
}

Status PairService::ApplyPendingIdRange() {
  if (state_.pending_id_range.empty()) return {};
  const std::string event = state_.pending_id_range;
  const std::string detail =
      event == store::audit_event::kPairTakeover
          ? "this server took over as primary (epoch " + std::to_string(state_.epoch) + ")"
          : "this server, a pair's backup, stands alone after a break";
  auto first = host_.store->Call<uint64_t>(
      [event, detail, now = host_.clock->WallMs(),
       fence = state_.grant_fence_until_ms](db::Database& db) -> Result<uint64_t> {
        std::string full = detail;
        if (event == store::audit_event::kPairTakeover) {
          // What a replay of both servers' logs needs (sched/audit_replay.h).
          std::string restored;
          auto read =
              db.Query("SELECT id FROM leases ORDER BY id", [&restored](const db::Statement& row) {
                restored += (restored.empty() ? "" : ",") + std::to_string(row.Int64(0));
              });
          if (!read) return Fail(read.error());
          full += "; fence_until_ms=" + std::to_string(fence) + "; restored_leases=" + restored;
        }
        return store::StartIdRange(db, now, event, full);
      });
  if (!first) return Context(first.error(), "starting a new id range");
  Log("pair")->info("{}: audit and lease ids continue from {}", event, *first);
  Save([](State& state) { state.pending_id_range.clear(); });
  return {};
}

void PairService::Start() {
  if (state_.role == Role::kBackup) {
    sync_timer_ = uv::Timer::Create(*host_.loop);
    ScheduleSync();
  } else if (state_.role == Role::kPrimary) {
    probe_timer_ = uv::Timer::Create(*host_.loop);
    probe_timer_->Start(0, static_cast<uint64_t>(options_.probe_ms), [this] { Probe(); });
  }
  Log("pair")->info("pair role={} peer={} epoch={}", ToString(state_.role),
                    state_.peer.empty() ? "-" : state_.peer, state_.epoch);
}

Result<ChannelIdentity> PairService::Identity() const {
  auto key = files_.ReadKey();
  if (!key) return Fail(key.error());
  return ChannelIdentity{.key = std::move(*key), .server_id = files_.server_id()};
}

std::shared_ptr<PairChannel> PairService::Accept(net::TlsConnection& connection) {
  auto identity = Identity();
  auto channel = PairChannel::Accept(
      *host_.loop, connection, identity ? std::optional(std::move(*identity)) : std::nullopt, this);
  std::erase_if(channels_, [](const auto& weak) { return weak.expired(); });
  channels_.push_back(channel);
  return channel;
}

void PairService::Connect(const std::string& address,
                          std::function<void(Result<std::shared_ptr<PairChannel>>)> ready,
                          int retries) {
  auto identity = Identity();
  if (!identity) {
    ready(Fail(identity.error()));
    return;
  }
  PairChannel::Dial(
      *host_.loop, address, std::move(*identity), this,
      [this, address, retries, ready = std::move(ready),
       alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) mutable {
        if (alive.expired()) {
          if (channel) (*channel)->Detach();
          return;
        }
        // A backup restarts for a second with every applied sync: a refused connection is
        // tried again a few times before it counts as unreachable.
        if (!channel && channel.error().code() == Errc::kIo && retries > 0) {
          // Owned here, so a retry never outlives this service (a restart reuses the loop).
          uv::Timer* timer = retry_timers_.emplace_back(uv::Timer::Create(*host_.loop)).get();
          timer->Start(kConnectRetryMs, 0,
                       [this, timer, address, retries, ready = std::move(ready)]() mutable {
                         host_.loop->Defer([this, timer, alive = lifetime_.Token()] {
                           if (alive.expired()) return;
                           std::erase_if(retry_timers_,
                                         [timer](const auto& t) { return t.get() == timer; });
                         });
                         Connect(address, std::move(ready), retries - 1);
                       });
          return;
        }
        if (channel) {
          std::erase_if(channels_, [](const auto& weak) { return weak.expired(); });
          channels_.push_back(*channel);
        }
        ready(std::move(channel));
      });
}

void PairService::Save(const std::function<void(State&)>& change) {
  State next = state_;
  change(next);
  if (auto written = files_.WriteState(next); !written) {
    Log("pair")->error("could not save the pair state: {}", written.error().ToString());
  }
  state_ = std::move(next);
}

void PairService::Record(std::string event, std::string detail) {
  Log("pair")->info("pair {}: {}", event, detail);
  const int64_t now = host_.clock->WallMs();
  Save([&](State& state) { state.Record(now, std::move(event), std::move(detail)); });
}

bool PairService::FromPeer(const PairChannel& channel) const {
  return state_.role != Role::kNone && channel.peer_server_id() == state_.peer_server_id;
}

Status PairService::SetKey(const std::string& key) {
  if (auto written = files_.WriteKey(key); !written) return written;
  Record("key_set", "the pair key was set");
  return {};
}

// --- Establish -----------------------------------------------------------------------------

void PairService::Establish(const std::string& peer, const std::string& reverse, Done done) {
  if (state_.role != Role::kNone) {
    done(Fail(Errc::kAlreadyExists, "this server is already the " +
                                        std::string(ToString(state_.role)) + " of a pair with " +
                                        state_.peer + ": `sluicectl pair break` first"));
    return;
  }
  for (const auto& [what, address] : {std::pair{"--peer", peer}, {"--reverse", reverse}}) {
    if (auto split = uv::SplitHostPort(address); !split) {
      done(Context(split.error(), what));
      return;
    }
    if (address == host_.advertised) {
      done(Fail(Errc::kInvalidArgument,
                std::string(what) + " " + address +
                    " is the site's shared address (what clients connect to): give each "
                    "server's own address, which the other server can reach directly"));
      return;
    }
  }
  if (peer == reverse) {
    done(Fail(Errc::kInvalidArgument, "--peer and --reverse must name the two different servers"));
    return;
  }
  Connect(peer, [this, peer, reverse, done = std::move(done),
                 alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
    if (alive.expired()) return;
    if (!channel) {
      done(Context(channel.error(), "establishing with " + peer + "; nothing changed"));
      return;
    }
    const uint64_t epoch = state_.epoch + 1;
    (*channel)->Call(
        "establish",
        {{"reverse", reverse},
         {"backup_address", peer},
         {"epoch", epoch},
         {"primary_server_id", files_.server_id()}},
        [this, peer, reverse, channel = *channel, epoch, done, alive](Result<json> agreed) {
          if (alive.expired()) return;
          channel->Close();
          if (!agreed) {
            done(Context(agreed.error(), "the peer at " + peer + " refused; nothing changed"));
            return;
          }
          const uint64_t agreed_epoch = agreed->value("epoch", epoch);
          const int64_t now = host_.clock->WallMs();
          Save([&](State& state) {
            state.role = Role::kPrimary;
            state.peer = peer;
            state.self_address = reverse;
            state.peer_server_id = channel->peer_server_id();
            state.epoch = agreed_epoch;
            state.established_ms = now;
            state.last_sync.reset();
            state.grant_fence_until_ms = 0;
          });
          Record("established", "primary; backup " + peer + " (server " + state_.peer_server_id +
                                    "), epoch " + std::to_string(agreed_epoch));
          if (!probe_timer_) {
            probe_timer_ = uv::Timer::Create(*host_.loop);
            probe_timer_->Start(static_cast<uint64_t>(options_.probe_ms),
                                static_cast<uint64_t>(options_.probe_ms), [this] { Probe(); });
          }
          done(StatusJson());
        });
  });
}

void PairService::ServeEstablish(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                                 const json& body) {
  const std::string reverse = body.value("reverse", "");
  const std::string primary_id = body.value("primary_server_id", "");
  const std::string self_address = body.value("backup_address", "");
  const uint64_t epoch = std::max(body.value("epoch", uint64_t{0}), state_.epoch + 1);
  if (state_.role != Role::kNone) {
    channel->Reply(id, Fail(Errc::kAlreadyExists,
                            "the peer is already the " + std::string(ToString(state_.role)) +
                                " of a pair with " + state_.peer + ": break it there first"));
    return;
  }
  if (primary_id != channel->peer_server_id()) {
    channel->Reply(id, Fail(Errc::kProtocol, "establish names another server than the caller"));
    return;
  }
  // The other direction: this server must reach the primary at --reverse with the same key.
  Connect(reverse, [this, channel, id, reverse, primary_id, self_address, epoch,
                    alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> back) {
    if (alive.expired()) return;
    if (!back) {
      channel->Reply(
          id, Context(back.error(), "the backup cannot reach the primary at --reverse " + reverse));
      return;
    }
    const bool same = (*back)->peer_server_id() == primary_id;
    (*back)->Close();
    if (!same) {
      channel->Reply(id, Fail(Errc::kInvalidArgument,
                              "--reverse " + reverse + " reaches another server than the primary"));
      return;
    }
    const int64_t now = host_.clock->WallMs();
    const std::optional<int64_t> merge_since = MergeSince(primary_id);
    channel->Reply(id, json{{"epoch", epoch}});
    RestartWith(
        std::nullopt,
        [&](State& state) {
          state.merge_since_ms = merge_since;
          state.role = Role::kBackup;
          state.peer = reverse;
          state.self_address = self_address;
          state.peer_server_id = primary_id;
          state.epoch = epoch;
          state.established_ms = now;
          state.last_sync.reset();
          state.grant_fence_until_ms = 0;
          state.Record(now, "established",
                       "backup of " + reverse + " (server " + primary_id + "), epoch " +
                           std::to_string(epoch));
        },
        "became the backup of " + reverse);
  });
}

// --- Status --------------------------------------------------------------------------------

json PairService::StatusJson() const {
  json history = json::array();
  for (const HistoryEntry& entry : state_.history) {
    history.push_back({{"at_ms", entry.at_ms}, {"event", entry.event}, {"detail", entry.detail}});
  }
  json out = {{"role", ToString(state_.role)},
              {"server_id", files_.server_id()},
              {"peer", state_.peer},
              {"peer_server_id", state_.peer_server_id},
              {"epoch", state_.epoch},
              {"established_ms", state_.established_ms},
              {"serves_clients", serves_clients()},
              {"grant_fence_until_ms", state_.grant_fence_until_ms},
              {"key_set", files_.ReadKey().has_value()},
              {"history", std::move(history)}};
  out["last_sync"] = state_.last_sync ? SyncJson(*state_.last_sync) : json(nullptr);
  if (sync_) {
    out["sync_running"] = {{"phase", sync_->phase},
                           {"done", sync_->done},
                           {"total", sync_->total},
                           {"started_ms", sync_->started_ms}};
  }
  return out;
}

void PairService::ShowStatus(Done done) {
  if (state_.role == Role::kNone) {
    done(StatusJson());
    return;
  }
  Connect(
      state_.peer,
      [this, done = std::move(done),
       alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
        if (alive.expired()) return;
        if (!channel) {
          json out = StatusJson();
          out["reachable"] = false;
          out["unreachable_because"] = channel.error().message();
          done(out);
          return;
        }
        (*channel)->Call("hello", json::object(),
                         [this, done, channel = *channel, alive](Result<json> hello) {
                           if (alive.expired()) return;
                           channel->Close();
                           json out = StatusJson();
                           out["reachable"] = hello.has_value();
                           if (hello) {
                             out["peer_role"] = hello->value("role", "");
                             out["peer_epoch"] = hello->value("epoch", uint64_t{0});
                             out["peer_site_version"] = hello->value("site_version", "");
                           } else {
                             out["unreachable_because"] = hello.error().message();
                           }
                           done(out);
                         });
      },
      /*retries=*/2);  // a status answers quickly; a restarting backup is retried briefly
}

void PairService::PeerHello(Done done) {
  if (state_.peer.empty()) {
    done(Fail(Errc::kNotFound, "this server has never had a pair peer"));
    return;
  }
  Connect(state_.peer, [done = std::move(done),
                        alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
    if (alive.expired()) return;
    if (!channel) return done(Fail(channel.error()));
    (*channel)->Call("hello", json::object(), [done, channel = *channel](Result<json> hello) {
      channel->Close();
      done(std::move(hello));
    });
  });
}

void PairService::ServeHello(const std::shared_ptr<PairChannel>& channel, uint64_t id) {
  channel->Reply(id, json{{"server_id", files_.server_id()},
                          {"role", ToString(state_.role)},
                          {"epoch", state_.epoch},
                          {"peer_server_id", state_.peer_server_id},
                          {"site_version", host_.site_version()}});
}

// A primary that finds its peer took over (a forced takeover while it was away) steps down:
// two servers must never both grant.
void PairService::Probe() {
  if (state_.role != Role::kPrimary || restarting_) return;
  auto confirm = [this] {
    if (confirmed_ || state_.role != Role::kPrimary || restarting_) return;
    confirmed_ = true;
    host_.confirmed_primary();
  };
  Connect(
      state_.peer,
      [this, confirm, alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
        if (alive.expired()) return;
        if (!channel) return confirm();
        (*channel)->Call(
            "hello", json::object(),
            [this, confirm, channel = *channel, alive](Result<json> hello) {
              if (alive.expired()) return;
              channel->Close();
              if (!hello || state_.role != Role::kPrimary || restarting_) return confirm();
              const uint64_t epoch = hello->value("epoch", uint64_t{0});
              if (hello->value("role", "") != "primary" || epoch <= state_.epoch) return confirm();
              const int64_t now = host_.clock->WallMs();
              const std::optional<int64_t> merge_since = MergeSince(state_.peer_server_id);
              RestartWith(
                  std::nullopt,
                  [&](State& state) {
                    state.merge_since_ms = merge_since;
                    state.role = Role::kBackup;
                    state.epoch = epoch;
                    state.established_ms = now;
                    state.Record(now, "stepped_down",
                                 "the peer " + state.peer + " took over at epoch " +
                                     std::to_string(epoch) + "; this server is its backup now");
                  },
                  "the peer took over");
            });
      },
      /*retries=*/0);
}

// --- Break ---------------------------------------------------------------------------------

void PairService::Break(Done done) {
  if (state_.role == Role::kNone) {
    done(Fail(Errc::kNotFound, "this server is in no pair"));
    return;
  }
  auto finish = [this, done](std::string peer_note) {
    const bool was_backup = state_.role == Role::kBackup;
    json out = {{"broken", true}, {"peer", peer_note}};
    done(out);
    const int64_t now = host_.clock->WallMs();
    auto change = [&](State& state) {
      state.role = Role::kNone;
      state.grant_fence_until_ms = 0;
      state.Record(now, "broken", "the relationship with " + state.peer + " ended; " + peer_note);
      if (was_backup) state.pending_id_range = store::audit_event::kPairBreak;
    };
    if (was_backup) {
      RestartWith(std::nullopt, change, "the pair was broken; serving clients alone");
    } else {
      Save(change);
      probe_timer_.reset();
    }
  };
  Connect(state_.peer, [this, finish,
                        alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
    if (alive.expired()) return;
    if (!channel) {
      finish("not told (" + channel.error().message() + "): run `sluicectl pair break` there too");
      return;
    }
    (*channel)->Call("break", json::object(),
                     [finish, channel = *channel, alive](Result<json> told) {
                       if (alive.expired()) return;
                       channel->Close();
                       finish(told ? std::string("told")
                                   : "not told (" + told.error().message() +
                                         "): run `sluicectl pair break` there too");
                     });
  });
}

// --- The backup's sync ---------------------------------------------------------------------

void PairService::ScheduleSync() {
  if (state_.role != Role::kBackup || !sync_timer_) return;
  const int64_t now = host_.clock->WallMs();
  int64_t due = state_.established_ms + options_.first_sync_delay_ms;
  if (state_.last_sync) {
    due = state_.last_sync->finished_ms + static_cast<int64_t>(host_.sync_every_minutes()) * 60'000;
  }
  sync_timer_->Start(static_cast<uint64_t>(std::max<int64_t>(due - now, 0)), 0, [this] {
    RunSync([this](Result<SyncRecord> synced) {
      if (synced) {
        RestartWith(
            staged_, [&](State&) {}, "applying the sync");
        return;
      }
      Log("pair")->warn("sync failed, retrying in {} s: {}", options_.retry_ms / 1000,
                        synced.error().ToString());
      sync_timer_->Start(static_cast<uint64_t>(options_.retry_ms), 0, [this] { ScheduleSync(); });
    });
  });
}

void PairService::SyncNow(Done done) {
  if (state_.role == Role::kPrimary) {
    Connect(state_.peer, [this, done = std::move(done),
                          alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
      if (alive.expired()) return;
      if (!channel) {
        done(Context(channel.error(), "asking the backup at " + state_.peer + " to sync"));
        return;
      }
      (*channel)->Call("sync_now", json::object(), [done, channel = *channel](Result<json> synced) {
        channel->Close();
        done(std::move(synced));
      });
    });
    return;
  }
  if (state_.role != Role::kBackup) {
    done(Fail(Errc::kNotFound, "this server is in no pair"));
    return;
  }
  RunSync([this, done = std::move(done)](Result<SyncRecord> synced) {
    if (!synced) {
      done(Fail(synced.error()));
      return;
    }
    done(SyncJson(*synced));
    RestartWith(
        staged_, [](State&) {}, "applying the sync");
  });
}

void PairService::RunSync(std::function<void(Result<SyncRecord>)> finished) {
  if (restarting_) {
    finished(Fail(Errc::kClosed, "the server is restarting"));
    return;
  }
  sync_waiters_.push_back(std::move(finished));
  if (sync_) return;  // joins the running one
  if (sync_timer_) sync_timer_->Stop();
  sync_ =
      SyncProgress{.phase = "snapshot", .done = 0, .total = 0, .started_ms = host_.clock->WallMs()};
  sync_bytes_ = 0;
  sync_packages_ = 0;
  Log("pair")->info("sync started from {}", state_.peer);
  Connect(
      state_.peer, [this, alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
        if (alive.expired()) return;
        if (!channel)
          return EndSync(Context(channel.error(), "reaching the primary at " + state_.peer));
        if ((*channel)->peer_server_id() != state_.peer_server_id) {
          return EndSync(
              Fail(Errc::kInvalidArgument, state_.peer + " is another server than the primary"));
        }
        sync_channel_ = *channel;
        // What an earlier, interrupted sync fetched is resumed if the primary still has it.
        std::string resume;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(files_.incoming_dir(), ec)) {
          const std::string name = entry.path().filename().string();
          if (name.ends_with(".part")) resume = name.substr(0, name.size() - 5);
        }
        auto snapshot = [this, resume, alive] {
          sync_channel_->Call("snapshot", {{"resume", resume}}, [this, alive](Result<json> made) {
            if (alive.expired()) return;
            if (!made) return EndSync(Context(made.error(), "the primary's snapshot"));
            FetchSnapshot(sync_channel_, std::move(*made));
          });
        };
        // What this server wrote that the primary lacks goes there first.
        if (state_.merge_since_ms) return Merge(sync_channel_, snapshot);
        snapshot();
      });
}

std::optional<int64_t> PairService::MergeSince(const std::string& primary_id) const {
  // Only a server whose data came from this primary shares its history: a new server's own
  // rows are not the site's.
  if (state_.peer_server_id != primary_id) return std::nullopt;
  if (!state_.last_sync) return int64_t{0};
  return std::max<int64_t>(
      state_.last_sync->finished_ms - state_.last_sync->duration_ms - kMergeMarginMs, 0);
}

void PairService::Merge(const std::shared_ptr<PairChannel>& channel, std::function<void()> then) {
  sync_->phase = "merge";
  merged_rows_ = 0;
  merged_clients_ = 0;
  channel->Call("merge_tops", json::object(),
                [this, channel, then, alive = lifetime_.Token()](Result<json> tops) {
                  if (alive.expired()) return;
                  if (!tops) return EndSync(Context(tops.error(), "merging into the primary"));
                  MergeAudit(channel, (*tops)["tops"], 0, then);
                });
}

void PairService::MergeAudit(const std::shared_ptr<PairChannel>& channel, json tops,
                             int64_t after_seq, std::function<void()> then) {
  std::map<int64_t, int64_t> held;
  for (const json& top : tops) held[top.at(0).get<int64_t>()] = top.at(1).get<int64_t>();
  host_.store->Submit<std::vector<store::AuditRow>>(
      [held, after_seq](db::Database& db) {
        return store::AuditRowsBeyond(db, held, after_seq, kMergeBatch);
      },
      [this, channel, tops, then,
       alive = lifetime_.Token()](Result<std::vector<store::AuditRow>> rows) {
        if (alive.expired()) return;
        if (!rows) return EndSync(Context(rows.error(), "reading the audit rows to merge"));
        if (rows->empty()) return MergeClients(channel, "", then);
        json batch = json::array();
        int64_t last = 0;
        size_t bytes = 0;
        for (const store::AuditRow& row : *rows) {
          json one = AuditJson(row);
          bytes += one.dump().size() + 1;
          if (!batch.empty() && bytes > kMaxMergeBatchBytes) break;
          batch.push_back(std::move(one));
          last = row.seq;
        }
        channel->Call("merge", {{"audit", std::move(batch)}},
                      [this, channel, tops, last, then, alive](Result<json> merged) {
                        if (alive.expired()) return;
                        if (!merged) return EndSync(Context(merged.error(), "merging audit rows"));
                        merged_rows_ += merged->value("audit_inserted", uint64_t{0});
                        MergeAudit(channel, tops, last, then);
                      });
      });
}

void PairService::MergeClients(const std::shared_ptr<PairChannel>& channel, std::string after_id,
                               std::function<void()> then) {
  const int64_t since = state_.merge_since_ms.value_or(0);
  host_.store->Submit<std::vector<store::ClientRow>>(
      [since, after_id](db::Database& db) {
        return store::ListClientsSeenSince(db, since, after_id, kMergeBatch);
      },
      [this, channel, then, alive = lifetime_.Token()](Result<std::vector<store::ClientRow>> rows) {
        if (alive.expired()) return;
        if (!rows) return EndSync(Context(rows.error(), "reading the clients to merge"));
        if (rows->empty()) {
          Record("merged", std::to_string(merged_rows_) + " audit rows and " +
                               std::to_string(merged_clients_) +
                               " clients this server had and the primary lacked");
          Save([](State& state) { state.merge_since_ms.reset(); });
          sync_->phase = "snapshot";
          then();
          return;
        }
        json batch = json::array();
        std::string last;
        size_t bytes = 0;
        for (const store::ClientRow& row : *rows) {
          json one = ClientJson(row);
          bytes += one.dump().size() + 1;
          if (!batch.empty() && bytes > kMaxMergeBatchBytes) break;
          batch.push_back(std::move(one));
          last = row.id;
        }
        merged_clients_ += batch.size();
        channel->Call("merge", {{"clients", std::move(batch)}},
                      [this, channel, last, then, alive](Result<json> merged) {
                        if (alive.expired()) return;
                        if (!merged) return EndSync(Context(merged.error(), "merging clients"));
                        MergeClients(channel, last, then);
                      });
      });
}

void PairService::ServeMerge(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                             const json& body) {
  std::vector<store::AuditRow> audit;
  std::vector<store::ClientRow> clients;
  try {
    for (const json& row : body.value("audit", json::array())) audit.push_back(AuditFromJson(row));
    for (const json& row : body.value("clients", json::array())) {
      clients.push_back(ClientFromJson(row));
    }
  } catch (const json::exception& e) {
    channel->Reply(id, Fail(Errc::kProtocol, std::string("a bad merge batch: ") + e.what()));
    return;
  }
  host_.store->Submit<int>(
      [audit = std::move(audit), clients = std::move(clients)](db::Database& db) -> Result<int> {
        for (const store::ClientRow& client : clients) {
          if (auto merged = store::MergeClient(db, client); !merged) return Fail(merged.error());
        }
        return store::InsertAuditRows(db, audit);
      },
      [channel, id](Result<int> inserted) {
        if (!inserted) {
          channel->Reply(id, Fail(inserted.error()));
          return;
        }
        channel->Reply(id, json{{"audit_inserted", *inserted}});
      });
}

void PairService::FetchSnapshot(const std::shared_ptr<PairChannel>& channel, json snapshot) {
  const std::string name = snapshot.value("name", "");
  const uint64_t size = snapshot.value("size", uint64_t{0});
  const std::string sha256 = snapshot.value("sha256", "");
  if (name.empty() || name.find('/') != std::string::npos || !IsSha256Hex(sha256)) {
    return EndSync(Fail(Errc::kProtocol, "the primary described its snapshot badly"));
  }
  sync_site_version_ = snapshot.value("site_version", "");
  if (auto made = EnsureDir(files_.incoming_dir(), 0700); !made) return EndSync(Fail(made.error()));
  // Named by content, so only the same snapshot is ever resumed; other files are earlier
  // snapshots the primary no longer has.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(files_.incoming_dir(), ec)) {
    const std::string file = entry.path().filename().string();
    if (entry.is_regular_file() && file != sha256 + ".part") fs::remove(entry.path(), ec);
  }
  const std::string part = files_.incoming_dir() + "/" + sha256 + ".part";
  uint64_t have = std::min(SizeOr0(part), size);
  auto sink = FileSink::Open(part, have);
  if (!sink) return EndSync(Fail(sink.error()));
  sync_->phase = "fetch";
  sync_->done = have;
  sync_->total = size;
  sync_snapshot_name_ = sha256;
  if (have > 0)
    Log("pair")->info("sync resumes the snapshot {} at {} of {} bytes", name, have, size);
  channel->Fetch(
      "fetch", {{"what", "snapshot"}, {"name", name}, {"offset", have}},
      [this, sink = *sink](uint64_t offset, ByteView data) -> Status {
        if (auto written = sink->Write(offset, data); !written) return written;
        sync_bytes_ += data.size();
        if (sync_) sync_->done = sink->size();
        KillPoint("snapshot");
        return {};
      },
      [this, sink = *sink, part, size, sha256, channel,
       alive = lifetime_.Token()](Result<json> fetched) {
        if (alive.expired()) return;
        if (!fetched) return EndSync(Context(fetched.error(), "fetching the snapshot"));
        if (sink->size() != size) {
          return EndSync(Fail(Errc::kCorrupt, "the snapshot arrived with " +
                                                  std::to_string(sink->size()) + " of " +
                                                  std::to_string(size) + " bytes"));
        }
        if (auto synced = sink->Sync(); !synced) return EndSync(Fail(synced.error()));
        sync_->phase = "verify";
        worker_.Run<std::vector<std::string>>(
            [part, sha256]() -> Result<std::vector<std::string>> {
              auto actual = FileSha256Hex(part);
              if (!actual) return Fail(actual.error());
              if (*actual != sha256) {
                (void)RemoveAll(part);
                return Fail(Errc::kCorrupt,
                            "the snapshot's SHA-256 does not match; fetched again next time");
              }
              auto manifest = backup::InspectBackup(part, "");
              if (!manifest) return Fail(manifest.error());
              std::vector<std::string> packages;
              for (const backup::OmittedFile& file : manifest->omitted) {
                if (file.reason == "package" && IsSha256Hex(file.sha256))
                  packages.push_back(file.sha256);
              }
              return packages;
            },
            [this, channel, alive](Result<std::vector<std::string>> packages) {
              if (alive.expired()) return;
              if (!packages) return EndSync(Context(packages.error(), "verifying the snapshot"));
              std::vector<std::string> missing;
              const std::string fetched_dir = files_.incoming_dir() + "/packages";
              for (const std::string& sha : *packages) {
                std::error_code ec;
                if (!fs::exists(host_.data_root + "/packages/" + sha, ec) &&
                    !fs::exists(fetched_dir + "/" + sha, ec)) {
                  missing.push_back(sha);
                }
              }
              FetchPackages(channel, std::move(missing), std::move(*packages));
            });
      });
}

void PairService::FetchPackages(const std::shared_ptr<PairChannel>& channel,
                                std::vector<std::string> missing, std::vector<std::string> all) {
  if (missing.empty()) {
    StageAndCommit(std::move(all));
    return;
  }
  const std::string sha = missing.back();
  missing.pop_back();
  const std::string dir = files_.incoming_dir() + "/packages";
  if (auto made = EnsureDir(dir, 0700); !made) return EndSync(Fail(made.error()));
  const std::string part = dir + "/" + sha + ".part";
  auto sink = FileSink::Open(part, 0);
  if (!sink) return EndSync(Fail(sink.error()));
  sync_->phase = "packages";
  channel->Fetch(
      "fetch", {{"what", "package"}, {"name", sha}, {"offset", 0}},
      [this, sink = *sink](uint64_t offset, ByteView data) -> Status {
        sync_bytes_ += data.size();
        if (auto written = sink->Write(offset, data); !written) return written;
        KillPoint("package");
        return {};
      },
      [this, sink = *sink, part, dir, sha, channel, missing = std::move(missing),
       all = std::move(all), alive = lifetime_.Token()](Result<json> fetched) mutable {
        if (alive.expired()) return;
        if (!fetched) return EndSync(Context(fetched.error(), "fetching package " + sha));
        if (auto synced = sink->Sync(); !synced) return EndSync(Fail(synced.error()));
        auto actual = FileSha256Hex(part);
        if (!actual || *actual != sha) {
          return EndSync(Fail(Errc::kCorrupt, "package " + sha + " arrived damaged"));
        }
        if (auto moved = RenameDurably(part, dir + "/" + sha); !moved)
          return EndSync(Fail(moved.error()));
        ++sync_packages_;
        FetchPackages(channel, std::move(missing), std::move(all));
      });
}

void PairService::StageAndCommit(std::vector<std::string> packages) {
  sync_->phase = "stage";
  const std::string file = files_.incoming_dir() + "/" + sync_snapshot_name_ + ".part";
  worker_.Run<std::string>(
      [root = host_.data_root, file, packages = std::move(packages),
       fetched = files_.incoming_dir() + "/packages"]() {
        return backup::StageSync(root, file, packages, fetched);
      },
      [this, alive = lifetime_.Token()](Result<std::string> staging) {
        if (alive.expired()) return;
        if (!staging) return EndSync(Context(staging.error(), "staging the sync"));
        staged_ = *staging;
        KillPoint("staged");
        const int64_t now = host_.clock->WallMs();
        EndSync(SyncRecord{.finished_ms = now,
                           .duration_ms = now - sync_->started_ms,
                           .bytes = sync_bytes_,
                           .packages = sync_packages_,
                           .site_version = sync_site_version_});
      });
}

void PairService::EndSync(Result<SyncRecord> result) {
  if (result) {
    Log("pair")->info("sync done: {} bytes, {} packages, {} ms; applying it", result->bytes,
                      result->packages, result->duration_ms);
    // Recorded when applied (RestartWith): a status showing it means the data is there.
    synced_ = *result;
    // The primary shows it too.
    if (sync_channel_ && !sync_channel_->closed()) {
      sync_channel_->Call("synced", SyncJson(*result),
                          [channel = sync_channel_](Result<json>) { channel->Close(); });
    }
  } else {
    Record("sync_failed", result.error().message());
    if (sync_channel_) sync_channel_->Close();
  }
  sync_channel_.reset();
  sync_.reset();
  auto waiters = std::move(sync_waiters_);
  sync_waiters_.clear();
  for (auto& waiter : waiters) waiter(result);
}

// --- Peer requests -------------------------------------------------------------------------

void PairService::OnPairRequest(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                                const std::string& op, const json& body) {
  if (op == "hello") return ServeHello(channel, id);
  if (op == "establish") return ServeEstablish(channel, id, body);
  if (!FromPeer(*channel)) {
    channel->Reply(id, Fail(Errc::kAuth, "'" + op + "' is for this server's pair peer only"));
    return;
  }
  if (op == "snapshot") return ServeSnapshot(channel, id, body);
  if (op == "merge_tops" && state_.role == Role::kPrimary) {
    host_.store->Submit<std::map<int64_t, int64_t>>(
        [](db::Database& db) { return store::AuditRangeTops(db); },
        [channel, id](Result<std::map<int64_t, int64_t>> tops) {
          if (!tops) {
            channel->Reply(id, Fail(tops.error()));
            return;
          }
          json list = json::array();
          for (const auto& [range, top] : *tops) list.push_back({range, top});
          channel->Reply(id, json{{"tops", std::move(list)}});
        });
    return;
  }
  if (op == "merge" && state_.role == Role::kPrimary) return ServeMerge(channel, id, body);
  if (op == "fetch") return ServeFetch(channel, id, body);
  if (op == "become_backup") return ServeBecomeBackup(channel, id, body);
  if (op == "synced" && state_.role == Role::kPrimary) {
    SyncRecord record{.finished_ms = body.value("finished_ms", int64_t{0}),
                      .duration_ms = body.value("duration_ms", int64_t{0}),
                      .bytes = body.value("bytes", uint64_t{0}),
                      .packages = body.value("packages", uint64_t{0}),
                      .site_version = body.value("site_version", "")};
    Save([&](State& state) { state.last_sync = record; });
    Record("sync", "the backup synced " + std::to_string(record.bytes) + " bytes in " +
                       std::to_string(record.duration_ms) + " ms");
    channel->Reply(id, json::object());
    return;
  }
  if (op == "sync_now" && state_.role == Role::kBackup) {
    RunSync([this, channel, id](Result<SyncRecord> synced) {
      if (!synced) {
        channel->Reply(id, Fail(synced.error()));
        return;
      }
      channel->Reply(id, SyncJson(*synced));
      RestartWith(
          staged_, [](State&) {}, "applying the sync");
    });
    return;
  }
  if (op == "handover" && state_.role == Role::kPrimary) {
    Record("handing_over", "the backup takes over after a last sync: clients are refused");
    handing_over_ = true;
    host_.stop_client_work();
    // The backup that asked goes away without taking over (its last sync failed, it died):
    // this server serves again.
    channel->on_closed = [this, alive = lifetime_.Token()] {
      if (alive.expired() || !handing_over_ || restarting_) return;
      handing_over_ = false;
      Record("handover_cancelled", "the backup did not take over; serving clients again");
      host_.confirmed_primary();
    };
    channel->Reply(id, json::object());
    return;
  }
  if (op == "break") {
    const bool was_backup = state_.role == Role::kBackup;
    channel->Reply(id, json::object());
    const int64_t now = host_.clock->WallMs();
    auto change = [&](State& state) {
      state.role = Role::kNone;
      state.grant_fence_until_ms = 0;
      state.Record(now, "broken", "the peer " + state.peer + " ended the relationship");
      if (was_backup) state.pending_id_range = store::audit_event::kPairBreak;
    };
    if (was_backup) {
      RestartWith(std::nullopt, change, "the pair was broken; serving clients alone");
    } else {
      Save(change);
      probe_timer_.reset();
    }
    return;
  }
  channel->Reply(id,
                 Fail(Errc::kInvalidArgument, "'" + op + "' is not a pair request this " +
                                                  std::string(ToString(state_.role)) + " serves"));
}

void PairService::ServeSnapshot(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                                const json& body) {
  if (state_.role != Role::kPrimary) {
    channel->Reply(id, Fail(Errc::kInvalidArgument, "this server is not the primary"));
    return;
  }
  auto answer = [](const Snapshot& snapshot, const std::string& site_version) {
    return json{{"name", snapshot.name},
                {"size", snapshot.size},
                {"sha256", snapshot.sha256},
                {"site_version", site_version}};
  };
  const std::string resume = body.value("resume", "");
  const int64_t now = host_.clock->WallMs();
  if (snapshot_ && !resume.empty() && resume == snapshot_->sha256 &&
      now - snapshot_->made_ms < kSnapshotReuseMs && !handing_over_) {
    channel->Reply(id, answer(*snapshot_, host_.site_version()));
    return;
  }
  snapshot_waiters_.push_back([channel, id](Result<json> made) { channel->Reply(id, made); });
  if (making_snapshot_) return;
  making_snapshot_ = true;
  const std::string out_dir = files_.outgoing_dir();
  worker_.Run<Snapshot>(
      [store = host_.store, root = host_.data_root, out_dir, now,
       cancel = &worker_.cancelled()]() -> Result<Snapshot> {
        // Only the newest snapshot is kept.
        (void)RemoveAll(out_dir);
        backup::BackupProgress progress;
        auto made = backup::CreateBackup(*store,
                                         backup::BackupOptions{.data_root = root,
                                                               .out_dir = out_dir,
                                                               .password = "",
                                                               .history = true,
                                                               .now_ms = now,
                                                               .scrypt = {}},
                                         progress, *cancel);
        if (!made) return Fail(made.error());
        auto sha = FileSha256Hex(made->path);
        if (!sha) return Fail(sha.error());
        return Snapshot{.name = fs::path(made->path).filename().string(),
                        .size = made->size,
                        .sha256 = *sha,
                        .made_ms = now};
      },
      [this, answer, alive = lifetime_.Token()](Result<Snapshot> made) {
        if (alive.expired()) return;
        making_snapshot_ = false;
        if (made) {
          snapshot_ = *made;
          Log("pair")->info("snapshot for the backup: {} ({} bytes)", made->name, made->size);
        }
        auto waiters = std::move(snapshot_waiters_);
        snapshot_waiters_.clear();
        for (auto& waiter : waiters) {
          waiter(made ? Result<json>(answer(*made, host_.site_version())) : Fail(made.error()));
        }
      });
}

void PairService::ServeFetch(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                             const json& body) {
  const std::string what = body.value("what", "");
  const std::string name = body.value("name", "");
  const uint64_t offset = body.value("offset", uint64_t{0});
  std::string path;
  if (what == "snapshot" && snapshot_ && name == snapshot_->name) {
    path = files_.outgoing_dir() + "/" + name;
  } else if (what == "package" && IsSha256Hex(name)) {
    KillPoint("serve");
    path = host_.data_root + "/packages/" + name;
  } else {
    channel->Reply(id, Fail(Errc::kNotFound, "no " + what + " '" + name + "' to fetch"));
    return;
  }
  channel->SendFile(id, path, offset, json{{"size", SizeOr0(path)}});
}

void PairService::ServeBecomeBackup(const std::shared_ptr<PairChannel>& channel, uint64_t id,
                                    const json& body) {
  if (state_.role != Role::kPrimary) {
    channel->Reply(id, Fail(Errc::kInvalidArgument, "this server is not the primary"));
    return;
  }
  const uint64_t epoch = std::max(body.value("epoch", uint64_t{0}), state_.epoch + 1);
  channel->Reply(id, json{{"epoch", epoch}});
  const int64_t now = host_.clock->WallMs();
  const std::optional<int64_t> merge_since = MergeSince(state_.peer_server_id);
  RestartWith(
      std::nullopt,
      [&](State& state) {
        state.merge_since_ms = merge_since;
        state.role = Role::kBackup;
        state.epoch = epoch;
        state.established_ms = now;
        state.last_sync.reset();
        state.Record(
            now, "became_backup",
            "the peer " + state.peer + " became primary at epoch " + std::to_string(epoch));
      },
      "the peer became primary");
}

// --- Become primary ------------------------------------------------------------------------

void PairService::BecomePrimary(bool sync_first, bool force, Done done) {
  if (state_.role != Role::kBackup) {
    done(Fail(Errc::kInvalidArgument, "only a backup can become primary (this server is " +
                                          std::string(ToString(state_.role)) + ")"));
    return;
  }
  Connect(state_.peer, [this, sync_first, force, done = std::move(done),
                        alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
    if (alive.expired()) return;
    if (!channel) {
      if (!force) {
        done(Fail(Errc::kClosed,
                  "the primary at " + state_.peer + " is not reachable (" +
                      channel.error().message() +
                      "); nothing changed. If it is down for good, run `sluicectl pair "
                      "become-primary --force`: this server then takes over alone and grants no "
                      "upgrade slot for one lease lifetime"));
        return;
      }
      TakeOver(false, "forced while the primary at " + state_.peer + " was unreachable", done);
      return;
    }
    auto primary = *channel;
    auto swap = [this, primary, done, alive](bool all_leases, std::string why) {
      primary->Call("become_backup", {{"epoch", state_.epoch + 1}},
                    [this, primary, done, all_leases, why, alive](Result<json> swapped) {
                      if (alive.expired()) return;
                      primary->Close();
                      if (!swapped) {
                        done(Context(swapped.error(),
                                     "the primary refused to become backup; "
                                     "nothing changed"));
                        return;
                      }
                      TakeOver(all_leases, why + "; the old primary is now the backup", done);
                    });
    };
    if (!sync_first) {
      swap(false, "without a last sync");
      return;
    }
    primary->Call(
        "handover", json::object(), [this, primary, swap, done, alive](Result<json> handed) {
          if (alive.expired()) return;
          if (!handed) {
            primary->Close();
            done(Context(handed.error(), "the primary did not hand over; nothing changed"));
            return;
          }
          RunSync([swap, done, primary](Result<SyncRecord> synced) {
            if (!synced) {
              primary->Close();  // the primary serves again once this connection is gone
              done(Context(synced.error(), "the last sync failed; nothing changed"));
              return;
            }
            swap(true, "after a last sync");
          });
        });
  });
}

void PairService::TakeOver(bool all_leases, std::string why, Done done) {
  const int64_t now = host_.clock->WallMs();
  const int64_t fence = all_leases ? 0 : now + options_.lease_ttl_ms;
  json out = {{"role", "primary"}, {"epoch", state_.epoch + 1}, {"grant_fence_until_ms", fence}};
  done(out);
  RestartWith(
      staged_,
      [&](State& state) {
        state.role = Role::kPrimary;
        state.epoch += 1;
        state.grant_fence_until_ms = fence;
        state.Record(now, "became_primary", why);
        state.pending_id_range = store::audit_event::kPairTakeover;
      },
      "became the primary");
}

// --- Restart -------------------------------------------------------------------------------

void PairService::RestartWith(std::optional<std::string> staging,
                              const std::function<void(State&)>& change,
                              std::string restart_reason) {
  Log("pair")->info("restarting: {}", restart_reason);
  // A change that arrives while a restart is pending (a break right after a sync) joins it.
  if (restarting_) {
    change(*restart_state_);
    return;
  }
  restarting_ = true;
  restart_state_ = state_;
  if (staging && synced_) {
    const SyncRecord& record = *synced_;
    restart_state_->last_sync = record;
    restart_state_->Record(record.finished_ms, "sync",
                           std::to_string(record.bytes) + " bytes, " +
                               std::to_string(record.packages) + " packages, " +
                               std::to_string(record.duration_ms) + " ms, site " +
                               record.site_version);
  }
  change(*restart_state_);
  restart_timer_ = uv::Timer::Create(*host_.loop);
  restart_timer_->Start(kRestartDelayMs, 0, [this, staging] {
    host_.restart([staging, next = *restart_state_, root = host_.data_root,
                   incoming = files_.incoming_dir(), files = files_]() -> Status {
      if (staging) {
        if (auto committed = backup::CommitRestore(root, *staging); !committed) return committed;
        (void)RemoveAll(incoming);
      }
      return files.WriteState(next);
    });
  });
}

}  // namespace sluice::pair
