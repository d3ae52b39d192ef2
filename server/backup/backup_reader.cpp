// The reading side of backup_archive.h.

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

struct BackupReader::State {
  std::string path;
  UniqueFd fd;
  uint64_t file_size = 0;
  uint64_t file_read = 0;
  uint16_t format_version = 0;
  std::optional<crypto::PasswordStreamOpener> opener;
  Bytes lookahead;  // the next sealed segment, read but not opened (protected files)
  bool sealed_done = false;
  uint32_t segments_opened = 0;
  Bytes plain;  // archive bytes available to Read
  size_t plain_pos = 0;
  bool raw_eof = false;

  Result<size_t> ReadFile(uint8_t* out, size_t size) {
    auto n = ReadUpTo(fd.get(), out, size, path);
    if (n) file_read += *n;
    return n;
  }

  Result<Bytes> ReadSealedSegment() {
    Bytes sealed(opener->segment_size() + crypto::kStreamTagSize);
    auto n = ReadFile(sealed.data(), sealed.size());
    if (!n) return Fail(n.error());
    sealed.resize(*n);
    return sealed;
  }

  // Refills `plain`; false at the end of the archive stream.
  Result<bool> Refill() {
    plain.clear();
    plain_pos = 0;
    if (!opener) {
      if (raw_eof) return false;
      plain.resize(kRawBlock);
      auto n = ReadFile(plain.data(), plain.size());
      if (!n) return Fail(n.error());
      plain.resize(*n);
      raw_eof = *n == 0;
      return *n > 0;
    }
    if (sealed_done) return false;
    Bytes current = std::move(lookahead);
    if (current.empty()) {
      return Fail(Errc::kCorrupt, path + " is truncated (it ends before its last segment)");
    }
    auto next = ReadSealedSegment();
    if (!next) return Fail(next.error());
    lookahead = std::move(*next);
    const bool last = lookahead.empty();
    auto opened = opener->Open(current, last);
    if (!opened) {
      if (segments_opened == 0) return Fail(opened.error());
      return Fail(Errc::kCorrupt, path + " is truncated or corrupted: segment " +
                                      std::to_string(segments_opened) + " does not authenticate");
    }
    ++segments_opened;
    sealed_done = last;
    plain = std::move(*opened);
    return true;
  }

  // Exactly `size` archive bytes, or kCorrupt "truncated".
  Status Read(uint8_t* out, size_t size) {
    while (size > 0) {
      if (plain_pos == plain.size()) {
        auto more = Refill();
        if (!more) return Fail(more.error());
        if (!*more) return Fail(Errc::kCorrupt, path + " is truncated");
        continue;
      }
      const size_t take = std::min(size, plain.size() - plain_pos);
      std::copy_n(plain.data() + plain_pos, take, out);
      plain_pos += take;
      out += take;
      size -= take;
    }
    return {};
  }

  // True when nothing follows in the archive stream.
  Result<bool> AtEnd() {
    while (plain_pos == plain.size()) {
      auto more = Refill();
      if (!more) return Fail(more.error());
      if (!*more) return true;
    }
    return false;
  }
};

BackupReader::BackupReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
BackupReader::BackupReader(BackupReader&&) noexcept = default;
BackupReader& BackupReader::operator=(BackupReader&&) noexcept = default;
BackupReader::~BackupReader() = default;

bool BackupReader::is_protected() const { return state_->opener.has_value(); }
uint16_t BackupReader::format_version() const { return state_->format_version; }

Result<BackupReader> BackupReader::Open(const std::string& path, std::string_view password) {
  auto state = std::make_unique<State>();
  state->path = path;
  state->fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!state->fd.valid()) return Fail(ErrnoError("opening", path, errno));
  struct stat st {};
  if (::fstat(state->fd.get(), &st) != 0) return Fail(ErrnoError("reading", path, errno));
  state->file_size = static_cast<uint64_t>(st.st_size);
  uint8_t header[kHeaderSize];
  auto n = state->ReadFile(header, sizeof header);
  if (!n) return Fail(n.error());
  if (*n < sizeof header || AsChars(ByteView(header, kBackupMagic.size())) != kBackupMagic) {
    return Fail(Errc::kCorrupt, path + " is not a Sluice backup");
  }
  state->format_version = static_cast<uint16_t>(ReadBigEndian(header + 8, 2));
  const auto flags = static_cast<uint16_t>(ReadBigEndian(header + 10, 2));
  if (state->format_version == 0 || state->format_version > kBackupFormatVersion) {
    return Fail(Errc::kUnsupportedVersion,
                path + " has backup format " + std::to_string(state->format_version) +
                    "; this software reads formats 1 to " + std::to_string(kBackupFormatVersion) +
                    " (it was made by newer software)");
  }
  if ((flags & kFlagProtected) != 0) {
    if (password.empty()) {
      return Fail(Errc::kAuth, path +
                                   " is password-protected: give its password "
                                   "(--password-file)");
    }
    uint8_t stream_header[crypto::kStreamHeaderSize];
    auto got = state->ReadFile(stream_header, sizeof stream_header);
    if (!got) return Fail(got.error());
    if (*got < sizeof stream_header) return Fail(Errc::kCorrupt, path + " is truncated");
    auto opener = crypto::PasswordStreamOpener::Start(ByteView(stream_header, sizeof stream_header),
                                                      password);
    if (!opener) return Fail(opener.error());
    state->opener.emplace(std::move(*opener));
    auto first = state->ReadSealedSegment();
    if (!first) return Fail(first.error());
    state->lookahead = std::move(*first);
  }
  return BackupReader(std::move(state));
}

Result<Manifest> BackupReader::ReadAll(const Destination& destination,
                                       const std::function<void(uint64_t, uint64_t)>& progress) {
  State& s = *state_;
  crypto::Sha256Hasher content;
  std::vector<ManifestEntry> read;
  Bytes block(kRawBlock);
  for (;;) {
    uint8_t tag = 0;
    if (auto ok = s.Read(&tag, 1); !ok) return Fail(ok.error());
    if (tag == kManifestTag) break;
    if (tag != kEntryTag) return Fail(Errc::kCorrupt, s.path + " holds an unknown record");
    uint8_t length[2];
    if (auto ok = s.Read(length, 2); !ok) return Fail(ok.error());
    std::string name(ReadBigEndian(length, 2), '\0');
    if (auto ok = s.Read(reinterpret_cast<uint8_t*>(name.data()), name.size()); !ok) {
      return Fail(ok.error());
    }
    if (auto ok = CheckEntryName(name); !ok) return Fail(Errc::kCorrupt, ok.error().message());
    uint8_t size_bytes[8];
    if (auto ok = s.Read(size_bytes, 8); !ok) return Fail(ok.error());
    const uint64_t size = ReadBigEndian(size_bytes, 8);
    Bytes head{tag, length[0], length[1]};
    head.insert(head.end(), name.begin(), name.end());
    head.insert(head.end(), size_bytes, size_bytes + 8);
    content.Update(head);

    auto target = destination ? destination(EntryInfo{.name = name, .size = size})
                              : Result<std::string>(std::string());
    if (!target) return Fail(target.error());
    UniqueFd out;
    if (!target->empty()) {
      out = UniqueFd(::open(target->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!out.valid()) return Fail(ErrnoError("creating", *target, errno));
    }
    auto discard = [&] {
      if (out.valid()) {
        out.Close();
        ::unlink(target->c_str());
      }
    };
    crypto::Sha256Hasher hasher;
    for (uint64_t done = 0; done < size;) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(block.size(), size - done));
      if (auto ok = s.Read(block.data(), take); !ok) {
        discard();
        return Fail(ok.error());
      }
      const ByteView chunk(block.data(), take);
      hasher.Update(chunk);
      content.Update(chunk);
      if (out.valid()) {
        if (auto ok = WriteBytes(out.get(), chunk, *target); !ok) {
          discard();
          return Fail(ok.error());
        }
      }
      done += take;
      if (progress) progress(s.file_read, s.file_size);
    }
    crypto::Sha256Digest stored{};
    if (auto ok = s.Read(stored.data(), stored.size()); !ok) {
      discard();
      return Fail(ok.error());
    }
    content.Update(stored);
    if (hasher.Finish() != stored) {
      discard();
      return Fail(Errc::kCorrupt, s.path + ": entry " + name + " fails its SHA-256 check");
    }
    if (out.valid() && (::fsync(out.get()) != 0 || out.Close() != 0)) {
      const int err = errno;
      discard();
      return Fail(ErrnoError("writing", *target, err));
    }
    read.push_back({.name = name, .size = size, .sha256 = crypto::HexEncode(stored)});
  }

  uint8_t length[4];
  if (auto ok = s.Read(length, 4); !ok) return Fail(ok.error());
  const uint64_t json_size = ReadBigEndian(length, 4);
  if (json_size > kMaxManifestBytes) {
    return Fail(Errc::kCorrupt, s.path + ": the manifest is too large");
  }
  std::string json(json_size, '\0');
  if (auto ok = s.Read(reinterpret_cast<uint8_t*>(json.data()), json.size()); !ok) {
    return Fail(ok.error());
  }
  crypto::Sha256Digest stored{};
  if (auto ok = s.Read(stored.data(), stored.size()); !ok) return Fail(ok.error());
  const ByteView json_bytes = AsBytes(json);
  if (crypto::Sha256(json_bytes) != stored) {
    return Fail(Errc::kCorrupt, s.path + ": the manifest fails its SHA-256 check");
  }
  auto at_end = s.AtEnd();
  if (!at_end) return Fail(at_end.error());
  if (!*at_end) return Fail(Errc::kCorrupt, s.path + " has data after its manifest");
  auto manifest = ParseManifest(json);
  if (!manifest) return Fail(manifest.error());
  if (manifest->product != kProduct) {
    return Fail(Errc::kCorrupt, s.path + " is a backup of '" + manifest->product + "', not Sluice");
  }
  if (manifest->content_sha256 != crypto::HexEncode(content.Finish())) {
    return Fail(Errc::kCorrupt, s.path + ": the content hash does not match the manifest");
  }
  const auto same = [](const ManifestEntry& a, const ManifestEntry& b) {
    return a.name == b.name && a.size == b.size && a.sha256 == b.sha256;
  };
  if (!std::equal(read.begin(), read.end(), manifest->entries.begin(), manifest->entries.end(),
                  same)) {
    return Fail(Errc::kCorrupt, s.path + ": the manifest does not list the entries it holds");
  }
  if (manifest->is_protected != is_protected()) {
    return Fail(Errc::kCorrupt, s.path + ": the manifest disagrees with the header");
  }
  if (progress) progress(s.file_read, s.file_size);
  return manifest;
}

Result<Manifest> InspectBackup(const std::string& path, std::string_view password) {
  auto reader = BackupReader::Open(path, password);
  if (!reader) return Fail(reader.error());
  return reader->ReadAll({});
}

}  // namespace sluice::backup
