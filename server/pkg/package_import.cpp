#include "server/pkg/package_import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>
#include <utility>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "common/pkg/manifest.h"

namespace sluice::server {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

std::string ErrnoText(int err) { return std::generic_category().message(err); }

// A temp file in the store, removed on destruction unless Keep() was called.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!kept_) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void Keep() { kept_ = true; }

 private:
  std::string path_;
  bool kept_ = false;
};

struct Copied {
  std::string sha256;
  uint64_t size = 0;
};

// Every failure to write the store is kIo, whatever errno says (ENOENT included).
std::unexpected<Error> StoreError(std::string_view action, const std::string& path, int err) {
  return Fail(Errc::kIo, std::string(action) + " " + path + ": " + ErrnoText(err));
}

// Opens the source for reading; it must be a non-empty regular file. O_NONBLOCK keeps a FIFO
// from blocking the open; it changes nothing for regular files.
Result<UniqueFd> OpenSource(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return Fail(ErrnoError("opening package file", path, errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Fail(ErrnoError("reading package file", path, errno));
  if (!S_ISREG(st.st_mode)) {
    return Fail(Errc::kInvalidArgument, "package file " + path + " is not a regular file");
  }
  if (st.st_size == 0) return Fail(Errc::kInvalidArgument, "package file " + path + " is empty");
  return fd;
}

// Streams `source` into `out` (the temp file at `temp_path`), hashing as it goes, then fsyncs
// and closes `out`.
Result<Copied> CopyAndHash(int source, const std::string& source_path, UniqueFd& out,
                           const std::string& temp_path, const std::atomic<bool>* cancel) {
  auto buffer = std::make_unique<uint8_t[]>(kChunkBytes);
  crypto::Sha256Hasher hasher;
  Copied copied;
  for (;;) {
    if (cancel != nullptr && cancel->load()) {
      return Fail(Errc::kClosed, "import of " + source_path + " cancelled");
    }
    ssize_t n = ::read(source, buffer.get(), kChunkBytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(Errc::kIo, "reading package file " + source_path + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    hasher.Update(ByteView(buffer.get(), static_cast<size_t>(n)));
    if (int err = WriteAll(out.get(), AsChars(ByteView(buffer.get(), static_cast<size_t>(n))));
        err != 0) {
      return StoreError("copying " + source_path + " to", temp_path, err);
    }
    copied.size += static_cast<uint64_t>(n);
  }
  if (copied.size == 0) {
    return Fail(Errc::kInvalidArgument, "package file " + source_path + " is empty");
  }
  if (::fsync(out.get()) != 0) return StoreError("syncing", temp_path, errno);
  if (out.Close() != 0) return StoreError("closing", temp_path, errno);
  copied.sha256 = crypto::HexEncode(hasher.Finish());
  return copied;
}

// True if `path` already holds exactly the content `copied` describes.
bool HoldsContent(const std::string& path, const Copied& copied) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != copied.size) {
    return false;
  }
  auto digest = crypto::Sha256File(path);
  return digest && crypto::HexEncode(*digest) == copied.sha256;
}

// Puts the finished temp file in place under its digest, or drops it if that content exists.
Status Publish(TempFile& temp, const std::string& packages_dir, const std::string& final_path,
               const Copied& copied) {
  if (HoldsContent(final_path, copied)) return {};  // `temp` is removed by its owner
  if (::rename(temp.path().c_str(), final_path.c_str()) != 0) {
    return StoreError("renaming package into place at", final_path, errno);
  }
  temp.Keep();
  UniqueFd dir(::open(packages_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || (::fsync(dir.get()) != 0 && errno != EINVAL)) {
    return StoreError("syncing package directory", packages_dir, errno);
  }
  return {};
}

}  // namespace

Result<PackageRecord> ImportPackage(const std::string& packages_dir, const std::string& source_path,
                                    const PackageSpec& spec, const crypto::SigningKey& key,
                                    int64_t now_ms, const std::atomic<bool>* cancel) {
  if (auto valid = ValidatePackageSpec(spec); !valid) return Fail(valid.error());
  auto source = OpenSource(source_path);
  if (!source) return Fail(source.error());
  if (auto made = EnsureDir(packages_dir, 0700); !made) {
    return Context(made.error(), "package store");
  }

  std::string temp_name = PackageFilePath(packages_dir, ".import-XXXXXX");
  UniqueFd out(::mkostemp(temp_name.data(), O_CLOEXEC));  // created with mode 0600
  if (out.get() < 0) return StoreError("creating a temp file in", packages_dir, errno);
  TempFile temp(temp_name);
  if (::fchmod(out.get(), 0644) != 0) return StoreError("setting mode of", temp_name, errno);

  auto copied = CopyAndHash(source->get(), source_path, out, temp_name, cancel);
  if (!copied) return Fail(copied.error());
  const std::string final_path = PackageFilePath(packages_dir, copied->sha256);
  if (auto published = Publish(temp, packages_dir, final_path, *copied); !published) {
    return Fail(published.error());
  }

  pkg::Manifest manifest{.kind = spec.kind,
                         .platform = spec.platform,
                         .version = spec.version,
                         .size = copied->size,
                         .sha256 = copied->sha256,
                         .allow_downgrade = spec.allow_downgrade,
                         .created_ms = now_ms};
  pkg::SignedManifest signed_manifest = pkg::SignManifest(manifest, key);
  return PackageRecord{.kind = spec.kind,
                       .platform = spec.platform,
                       .version = spec.version,
                       .sha256 = copied->sha256,
                       .path = final_path,
                       .size = copied->size,
                       .manifest = std::move(signed_manifest.manifest),
                       .signature = std::move(signed_manifest.signature),
                       .created_ms = now_ms};
}

}  // namespace sluice::server
