#include "client/update/updater.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/version.h"
#include "common/crypto/ed25519.h"
#include "common/crypto/encoding.h"
#include "common/pkg/manifest.h"

namespace sluice::client {
namespace {

// Refuses the running version and, unless the site signed allow_downgrade, anything older.
// A running version that is not dotted-numeric cannot be compared and does not block.
Status CheckVersionOrder(const pkg::Manifest& manifest, const std::string& current) {
  if (manifest.version == current) {
    return Fail(Errc::kInvalidArgument, "this client already runs version " + current);
  }
  auto running = Version::Parse(current);
  auto offered = Version::Parse(manifest.version);
  if (!running || !offered) return {};
  if (*offered == *running) {
    return Fail(Errc::kInvalidArgument, "this client already runs version " + current);
  }
  if (*offered < *running && !manifest.allow_downgrade) {
    return Fail(Errc::kInvalidArgument, "refusing downgrade from " + current + " to " +
                                            manifest.version + " (manifest does not allow it)");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Updater>> Updater::Open(UpdaterOptions options) {
  if (options.site_public_key.size() != crypto::kEd25519PublicKeySize) {
    return Fail(Errc::kInvalidArgument, "site public key must be 32 bytes");
  }
  if (options.health_check.empty() || options.health_check[0].empty()) {
    return Fail(Errc::kInvalidArgument, "health check command is empty");
  }
  if (!IsValidVersionName(options.payload_name)) {
    return Fail(Errc::kInvalidArgument, "payload name '" + options.payload_name + "' is invalid");
  }
  if (options.state_dir.empty()) return Fail(Errc::kInvalidArgument, "state dir is empty");
  std::error_code ec;
  auto absolute = std::filesystem::absolute(options.state_dir, ec);
  if (ec) return Fail(Errc::kIo, "resolving " + options.state_dir + ": " + ec.message());
  options.state_dir = absolute.lexically_normal().string();
  while (options.state_dir.size() > 1 && options.state_dir.back() == '/') {
    options.state_dir.pop_back();
  }
  auto state = StateDir::Open(options.state_dir);
  if (!state) return Fail(state.error());
  UpdateRecord record = LoadUpdateRecord(options.state_dir + "/update.json");
  return std::unique_ptr<Updater>(new Updater(std::move(options), std::move(*state), record));
}

Updater::Updater(UpdaterOptions options, StateDir state, UpdateRecord record)
    : options_(std::move(options)),
      state_(std::move(state)),
      stager_(options_.state_dir, options_.payload_name),
      record_(std::move(record)) {}

Updater::~Updater() = default;

std::string Updater::RecordPath() const { return options_.state_dir + "/update.json"; }
std::string Updater::DownloadsDir() const { return options_.state_dir + "/downloads"; }
std::string Updater::PartPath(uint64_t lease_id) const {
  return DownloadsDir() + "/" + std::to_string(lease_id) + ".part";
}

Status Updater::Persist(const UpdateRecord& record) {
  if (auto saved = SaveUpdateRecord(RecordPath(), record); !saved) return saved;
  record_ = record;
  return {};
}

bool Updater::HookAllows(const std::function<bool(UpdateState)>& hook, UpdateState state) const {
  return !hook || hook(state);
}

std::string Updater::CurrentVersion() const {
  return state_.CurrentVersion(options_.installed_version);
}

Result<uint64_t> Updater::BeginDownload(const proto::UpgradeGrant& grant) {
  if (IsApplying(record_.state)) {
    return Fail(Errc::kInternal, "the update to " + record_.version + " is still being applied (" +
                                     std::string(ToString(record_.state)) + "); run Recover");
  }
  const std::string lease = "grant for lease " + std::to_string(grant.lease_id);
  auto manifest = pkg::VerifyManifest(grant.manifest, grant.signature, options_.site_public_key);
  if (!manifest) return Context(manifest.error(), lease);
  if (manifest->version != grant.version) {
    return Fail(Errc::kCorrupt, lease + ": grant names version " + grant.version +
                                    " but the signed manifest says " + manifest->version);
  }
  auto digest = crypto::HexDecode(manifest->sha256);
  if (!digest || manifest->size == 0 || !IsValidVersionName(manifest->version)) {
    return Fail(Errc::kCorrupt, lease + ": manifest sha256, size or version is unusable");
  }
  if (IsFinished(record_.state) && record_.lease_id == grant.lease_id &&
      record_.sha256 == crypto::HexEncode(*digest)) {
    // The server re-sent a grant we already finished (it missed our report): report "complete"
    // so the caller's Apply() hands back the pending result instead of a spurious failure.
    return record_.size;
  }
  const std::string current = CurrentVersion();
  if (auto order = CheckVersionOrder(*manifest, current); !order) {
    return Context(order.error(), lease);
  }
  auto next_state = Transition(record_.state, UpdateEvent::kGrant);
  if (!next_state) return Fail(next_state.error());

  const UpdateRecord previous = record_;
  UpdateRecord next{.state = *next_state,
                    .lease_id = grant.lease_id,
                    .version = manifest->version,
                    .sha256 = crypto::HexEncode(*digest),
                    .size = manifest->size,
                    .previous_version = current};
  const bool resume = previous.state == UpdateState::kDownloading &&
                      previous.sha256 == next.sha256 && previous.size == next.size;
  if (IsFinished(previous.state)) {
    Log("update")->warn("new grant drops undelivered report lease={} outcome={}", previous.lease_id,
                        proto::ToString(*previous.outcome));
  }
  part_.reset();
  if (auto saved = Persist(next); !saved) return Fail(saved.error());
  if (!HookAllows(options_.after_persist, record_.state)) {
    return Fail(Errc::kInternal, "stopped by test hook");
  }
  auto offset = OpenPart(previous, resume);
  if (!offset) return Fail(offset.error());
  if (record_.offset != *offset) {
    UpdateRecord progress = record_;
    progress.offset = *offset;
    if (auto saved = Persist(progress); !saved) return Fail(saved.error());
  }
  Log("update")->info("download lease={} version={} size={} offset={}", record_.lease_id,
                      record_.version, record_.size, *offset);
  return *offset;
}

// Side effect of a grant: keep (and rename to the new lease) the partial download of the same
// package, or clear out every stale .part; then open ours for appending.
Result<uint64_t> Updater::OpenPart(const UpdateRecord& previous, bool resume) {
  if (auto made = EnsureDir(DownloadsDir(), 0700); !made) return Fail(made.error());
  const std::string part = PartPath(record_.lease_id);
  if (resume && previous.lease_id != record_.lease_id) {
    const std::string old_part = PartPath(previous.lease_id);
    if (::access(old_part.c_str(), F_OK) == 0 && ::rename(old_part.c_str(), part.c_str()) != 0) {
      return Fail(ErrnoError("renaming", old_part, errno));
    }
  }
  std::vector<std::string> stale;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(DownloadsDir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!resume || it->path().string() != part) stale.push_back(it->path().string());
  }
  if (ec) return Fail(Errc::kIo, "listing " + DownloadsDir() + ": " + ec.message());
  for (const auto& path : stale) {
    if (auto removed = RemoveAll(path); !removed) return Fail(removed.error());
  }
  auto file = PartFile::Open(part);
  if (!file) return Fail(file.error());
  if (file->size() > record_.size) {  // cannot be our package: start over
    part_.reset();
    if (auto removed = RemoveAll(part); !removed) return Fail(removed.error());
    file = PartFile::Open(part);
    if (!file) return Fail(file.error());
  }
  part_ = std::move(*file);
  return part_->size();
}

Result<bool> Updater::AddChunk(const proto::Chunk& chunk) {
  if (record_.state != UpdateState::kDownloading || !part_) {
    return Fail(Errc::kProtocol,
                "chunk for lease " + std::to_string(chunk.lease_id) + " but no download is open");
  }
  if (chunk.lease_id != record_.lease_id) {
    return Fail(Errc::kProtocol, "chunk for lease " + std::to_string(chunk.lease_id) +
                                     ", downloading lease " + std::to_string(record_.lease_id));
  }
  if (chunk.offset != part_->size()) {
    return Fail(Errc::kProtocol, "chunk at offset " + std::to_string(chunk.offset) + ", expected " +
                                     std::to_string(part_->size()));
  }
  if (part_->size() >= record_.size) {
    return Fail(Errc::kProtocol, "chunk after the package's last byte");
  }
  if (auto written = part_->Append(chunk.data); !written) return Fail(written.error());
  const bool complete = part_->size() >= record_.size;
  if (complete || part_->size() - record_.offset >= options_.progress_sync_bytes) {
    if (auto synced = part_->Sync(); !synced) return Fail(synced.error());
    UpdateRecord progress = record_;
    progress.offset = part_->size();
    if (auto saved = Persist(progress); !saved) return Fail(saved.error());
  }
  return complete;
}

void Updater::ReportDelivered(uint64_t lease_id) {
  if (!IsFinished(record_.state) || record_.lease_id != lease_id) return;
  auto idle = Transition(record_.state, UpdateEvent::kReportDelivered);
  if (!idle) return;
  if (auto saved = Persist(UpdateRecord{.state = *idle}); !saved) {
    Log("update")->warn("could not record delivered report lease={}: {}", lease_id,
                        saved.error().ToString());
  }
}

std::optional<proto::UpgradeResult> Updater::PendingReport() const {
  if (!IsFinished(record_.state) || !record_.outcome) return std::nullopt;
  return proto::UpgradeResult{.lease_id = record_.lease_id,
                              .version = record_.version,
                              .outcome = *record_.outcome,
                              .detail = record_.detail};
}

}  // namespace sluice::client
