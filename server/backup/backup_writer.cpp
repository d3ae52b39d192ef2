// The writing side of backup_archive.h.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "server/backup/backup_archive.h"
#include "server/backup/backup_format.h"

namespace sluice::backup {

using namespace format;  // the format's constants and helpers, shared with the other side

struct BackupWriter::State {
  std::string path;
  UniqueFd fd;
  std::optional<crypto::PasswordStreamSealer> sealer;
  Bytes pending;  // archive bytes not yet sealed or written
  size_t block = kRawBlock;
  crypto::Sha256Hasher content;
  std::vector<ManifestEntry> entries;
  uint64_t archive_bytes = 0;
  bool finished = false;

  ~State() {
    if (!finished && fd.valid()) {
      fd.Close();
      ::unlink(path.c_str());
    }
  }

  // Sends `pending` on when a block is full (or everything, with `last`).
  Status Flush(bool last) {
    while (pending.size() >= block || last) {
      const size_t take = std::min(pending.size(), block);
      const ByteView chunk(pending.data(), take);
      const bool is_last = last && take == pending.size();
      if (sealer) {
        auto sealed = sealer->Seal(chunk, is_last);
        if (!sealed) return Fail(sealed.error());
        if (auto ok = WriteBytes(fd.get(), *sealed, path); !ok) return ok;
      } else if (auto ok = WriteBytes(fd.get(), chunk, path); !ok) {
        return ok;
      }
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(take));
      if (is_last) break;
    }
    return {};
  }

  Status Write(ByteView data, bool hashed) {
    if (hashed) content.Update(data);
    archive_bytes += data.size();
    pending.insert(pending.end(), data.begin(), data.end());
    return Flush(false);
  }
};

BackupWriter::BackupWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
BackupWriter::BackupWriter(BackupWriter&&) noexcept = default;
BackupWriter& BackupWriter::operator=(BackupWriter&&) noexcept = default;
BackupWriter::~BackupWriter() = default;

uint64_t BackupWriter::archive_bytes() const { return state_->archive_bytes; }

Result<BackupWriter> BackupWriter::Create(const std::string& path, std::string_view password,
                                          const crypto::ScryptParams& params) {
  auto state = std::make_unique<State>();
  state->path = path;
  if (!password.empty()) {
    auto sealer =
        crypto::PasswordStreamSealer::Start(password, crypto::kDefaultStreamSegment, params);
    if (!sealer) return Fail(sealer.error());
    state->block = sealer->segment_size();
    state->sealer.emplace(std::move(*sealer));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) return Fail(Errc::kAlreadyExists, path + " already exists");
    return Fail(ErrnoError("creating", path, err));
  }
  state->fd = UniqueFd(fd);
  Bytes header(kBackupMagic.begin(), kBackupMagic.end());
  AppendBigEndian(header, kBackupFormatVersion, 2);
  AppendBigEndian(header, state->sealer ? kFlagProtected : 0, 2);
  if (state->sealer) {
    const ByteView stream_header = state->sealer->header();
    header.insert(header.end(), stream_header.begin(), stream_header.end());
  }
  if (auto ok = WriteBytes(state->fd.get(), header, path); !ok) return Fail(ok.error());
  return BackupWriter(std::move(state));
}

Status BackupWriter::AddFile(std::string_view name, const std::string& source,
                             const std::function<void(uint64_t)>& progress) {
  if (auto ok = CheckEntryName(name); !ok) return ok;
  UniqueFd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Fail(ErrnoError("opening", source, errno));
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return Fail(ErrnoError("reading", source, errno));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  Bytes head{kEntryTag};
  AppendBigEndian(head, name.size(), 2);
  head.insert(head.end(), name.begin(), name.end());
  AppendBigEndian(head, size, 8);
  if (auto ok = state_->Write(head, true); !ok) return ok;

  crypto::Sha256Hasher hasher;
  Bytes block(kRawBlock);
  uint64_t done = 0;
  while (done < size) {
    auto n =
        ReadUpTo(in.get(), block.data(), std::min<uint64_t>(block.size(), size - done), source);
    if (!n) return Fail(n.error());
    if (*n == 0) return Fail(Errc::kIo, source + " shrank while it was being backed up");
    const ByteView chunk(block.data(), *n);
    hasher.Update(chunk);
    if (auto ok = state_->Write(chunk, true); !ok) return ok;
    done += *n;
    if (progress) progress(done);
  }
  const crypto::Sha256Digest digest = hasher.Finish();
  if (auto ok = state_->Write(ByteView(digest.data(), digest.size()), true); !ok) return ok;
  state_->entries.push_back(
      {.name = std::string(name), .size = size, .sha256 = crypto::HexEncode(digest)});
  return {};
}

Status BackupWriter::AddBytes(std::string_view name, ByteView data) {
  if (auto ok = CheckEntryName(name); !ok) return ok;
  Bytes record{kEntryTag};
  AppendBigEndian(record, name.size(), 2);
  record.insert(record.end(), name.begin(), name.end());
  AppendBigEndian(record, data.size(), 8);
  record.insert(record.end(), data.begin(), data.end());
  const crypto::Sha256Digest digest = crypto::Sha256(data);
  record.insert(record.end(), digest.begin(), digest.end());
  if (auto ok = state_->Write(record, true); !ok) return ok;
  state_->entries.push_back(
      {.name = std::string(name), .size = data.size(), .sha256 = crypto::HexEncode(digest)});
  return {};
}

Result<Manifest> BackupWriter::Finish(Manifest manifest) {
  manifest.product = std::string(kProduct);
  manifest.format_version = kBackupFormatVersion;
  manifest.is_protected = state_->sealer.has_value();
  manifest.entries = state_->entries;
  const crypto::Sha256Digest content = state_->content.Finish();
  manifest.content_sha256 = crypto::HexEncode(content);
  const std::string text = ManifestJson(manifest).dump();
  const ByteView json = AsBytes(text);
  Bytes record{kManifestTag};
  AppendBigEndian(record, text.size(), 4);
  record.insert(record.end(), json.begin(), json.end());
  const crypto::Sha256Digest digest = crypto::Sha256(json);
  record.insert(record.end(), digest.begin(), digest.end());
  if (auto ok = state_->Write(record, false); !ok) return Fail(ok.error());
  if (auto ok = state_->Flush(true); !ok) return Fail(ok.error());
  if (::fsync(state_->fd.get()) != 0 || state_->fd.Close() != 0) {
    return Fail(ErrnoError("writing", state_->path, errno));
  }
  state_->finished = true;
  return manifest;
}

}  // namespace sluice::backup
