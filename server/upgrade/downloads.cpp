// The coordinator's package streaming: a granted client's download requests, its progress
// (which renews the lease), back-pressure from the connection, and the end of a stream.

#include "common/base/log.h"
#include "server/store/lease_repo.h"
#include "server/upgrade/upgrade_coordinator.h"

namespace sluice::server {

void UpgradeCoordinator::OnDownload(UpgradeClient& session, const proto::Download& request) {
  const sched::Lease* lease = scheduler_.FindLease(request.lease_id);
  auto wanted = wanted_.find(session.client_id());
  const PackageRecord* package = wanted == wanted_.end() ? nullptr : CachedPackage(wanted->second);
  if (lease == nullptr || lease->client_id != session.client_id() || package == nullptr) {
    session.SendErrorAndClose(
        proto::ErrorCode::kLeaseUnknown,
        "lease " + std::to_string(request.lease_id) + " is not live for this client");
    return;
  }
  if (request.offset > package->size) {
    session.SendErrorAndClose(proto::ErrorCode::kInvalidField,
                              "offset is past the end of the package");
    return;
  }
  StopDownload(request.lease_id);
  if (request.offset == package->size) {
    // The client has every byte already: say so (an empty chunk at the end) and renew the lease.
    OnProgress(request.lease_id, package->size);
    session.Send(proto::Chunk{.lease_id = request.lease_id, .offset = package->size, .data = {}});
    return;
  }
  const uint64_t lease_id = request.lease_id;
  const std::string client_id = session.client_id();
  DownloadStream::Sink sink{
      .send =
          [this, client_id, lease_id, kind = wanted->second.kind](uint64_t offset, Bytes data) {
            if (UpgradeClient* s = host_.clients->FindClient(client_id)) {
              host_.metrics->UpgradeBytesSent(kind, data.size());
              s->Send(
                  proto::Chunk{.lease_id = lease_id, .offset = offset, .data = std::move(data)});
            }
          },
      .pending_bytes =
          [this, client_id] {
            UpgradeClient* s = host_.clients->FindClient(client_id);
            return s == nullptr ? size_t{0} : s->pending_write_bytes();
          },
      .progress = [this, lease_id](uint64_t done) { OnProgress(lease_id, done); },
      .finished =
          [this, lease_id](std::optional<Error> error) {
            if (error)
              Log("upgrade")->warn("download lease={} stopped: {}", lease_id, error->ToString());
            const bool unreadable =
                error && (error->code() == Errc::kNotFound || error->code() == Errc::kIo ||
                          error->code() == Errc::kCorrupt);
            host_.loop->Defer([this, lease_id, alive = lifetime_.Token(), unreadable, error] {
              if (alive.expired()) return;
              downloads_.erase(lease_id);
              if (unreadable) OnPackageUnreadable(lease_id, *error);
            });
          },
  };
  Download& download = downloads_[lease_id];
  download.size = package->size;
  download.milestone = static_cast<int>(request.offset * 4 / std::max<uint64_t>(package->size, 1));
  download.stream = std::make_unique<DownloadStream>(
      *host_.loop, pacer_, package->path, package->size, request.offset, std::move(sink));
  download.stream->Start();
}

void UpgradeCoordinator::OnProgress(uint64_t lease_id, uint64_t bytes_done) {
  scheduler_.Renew(lease_id, bytes_done);
  auto it = downloads_.find(lease_id);
  const sched::Lease* lease = scheduler_.FindLease(lease_id);
  if (it == downloads_.end() || lease == nullptr) return;
  // Progress keeps the connection alive as it keeps the lease alive.
  if (UpgradeClient* session = host_.clients->FindClient(lease->client_id)) {
    session->SetIdleDeadline(static_cast<uint64_t>(options_.lease_ttl_ms));
  }
  const int quarter = static_cast<int>(bytes_done * 4 / std::max<uint64_t>(it->second.size, 1));
  if (quarter <= it->second.milestone) return;
  it->second.milestone = quarter;
  // Milestones are persisted so a restarted server resumes leases with fresh expiries.
  store::AuditRow audit = AuditRow({.event = "progress",
                                    .client_id = lease->client_id,
                                    .lease_id = lease_id,
                                    .version = lease->target_version,
                                    .detail = std::to_string(quarter * 25) + "%"},
                                   lease->scope);
  host_.store->Detach<void>(
      "upgrade: recording the progress of lease " + std::to_string(lease_id),
      [id = lease_id, bytes_done, expires = lease->expires_ms, audit](db::Database& db) -> Status {
        if (auto saved = store::UpdateLeaseProgress(db, id, bytes_done, expires); !saved) {
          return saved;
        }
        return store::AppendAuditRow(db, audit);
      });
}

void UpgradeCoordinator::OnDrain(UpgradeClient& session) {
  auto lease = scheduler_.FindLeaseByClient(session.client_id());
  if (!lease) return;
  auto it = downloads_.find(lease->id);
  if (it != downloads_.end()) it->second.stream->OnDrain();
}

void UpgradeCoordinator::StopDownload(uint64_t lease_id) { downloads_.erase(lease_id); }

}  // namespace sluice::server
