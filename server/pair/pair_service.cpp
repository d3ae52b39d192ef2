#include "server/pair/pair_service.h"

#include <filesystem>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "server/backup/backup_archive.h"
#include "server/backup/backup_create.h"
#include "server/backup/restore.h"
#include "server/backup/restore_journal.h"
#include "server/pair/pair_json.h"
#include "server/store/audit_repo.h"
#include "server/store/client_repo.h"
#include "server/store/pair_repo.h"

namespace sluice::pair {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Replies and log lines leave before a restart closes their connections.
constexpr uint64_t kRestartDelayMs = 250;
// A refused connection to the peer is tried again this often, kConnectRetries times.
constexpr uint64_t kConnectRetryMs = 500;

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
  // A status answers quickly: a restarting backup is retried only briefly.
  AskPeer("hello", json::object(), /*retries=*/2, [this, done](Result<json> hello) {
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
}

void PairService::AskPeer(const std::string& op, const json& body, int retries, Done done) {
  if (state_.peer.empty()) {
    done(Fail(Errc::kNotFound, "this server has never had a pair peer"));
    return;
  }
  Connect(
      state_.peer,
      [op, body, done = std::move(done),
       alive = lifetime_.Token()](Result<std::shared_ptr<PairChannel>> channel) {
        if (alive.expired()) return;
        if (!channel) return done(Fail(channel.error()));
        (*channel)->Call(op, body, [done, channel = *channel, alive](Result<json> answer) {
          channel->Close();
          if (!alive.expired()) done(std::move(answer));
        });
      },
      retries);
}

void PairService::PeerHello(Done done) {
  AskPeer("hello", json::object(), kConnectRetries, std::move(done));
}

void PairService::ServeHello(const std::shared_ptr<PairChannel>& channel, uint64_t id) {
  channel->Reply(id, json{{"server_id", files_.server_id()},
                          {"role", ToString(state_.role)},
                          {"epoch", state_.epoch},
                          {"peer_server_id", state_.peer_server_id},
                          {"site_version", host_.site_version()}});
}

// Establishing, breaking and changing roles are pair_roles.cpp; the backup's sync is
// pair_sync.cpp, and the primary's side of it pair_serve.cpp.

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
    channel->Reply(id, json::object());
    EndRelationship("the peer " + state_.peer + " ended the relationship");
    return;
  }
  channel->Reply(id,
                 Fail(Errc::kInvalidArgument, "'" + op + "' is not a pair request this " +
                                                  std::string(ToString(state_.role)) + " serves"));
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
