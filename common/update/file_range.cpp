#include "common/update/file_range.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <utility>

#include "common/base/file_util.h"

namespace sluice::update {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

std::unexpected<Error> Truncated(const std::string& path, uint64_t needed, uint64_t size) {
  return Fail(Errc::kCorrupt, path + " is truncated: needs at least " + std::to_string(needed) +
                                  " bytes, has " + std::to_string(size));
}

}  // namespace

Result<ReadOnlyFile> ReadOnlyFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return Fail(ErrnoError("opening", path, errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Fail(ErrnoError("reading", path, err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Fail(Errc::kIo, path + " is not a regular file");
  }
  return ReadOnlyFile(fd, static_cast<uint64_t>(st.st_size), path);
}

ReadOnlyFile::ReadOnlyFile(ReadOnlyFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), path_(std::move(other.path_)) {}

ReadOnlyFile::~ReadOnlyFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Bytes> ReadOnlyFile::Read(uint64_t offset, size_t length) const {
  if (offset + length > size_) return Truncated(path_, offset + length, size_);
  Bytes out(length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrnoError("reading", path_, errno));
    if (n == 0) return Truncated(path_, offset + length, offset + done);
    done += static_cast<size_t>(n);
  }
  return out;
}

Status ReadOnlyFile::Stream(uint64_t offset, uint64_t length,
                            const std::function<Status(ByteView chunk)>& sink) const {
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, kChunkBytes));
    auto chunk = Read(offset, n);
    if (!chunk) return Fail(chunk.error());
    if (auto taken = sink(*chunk); !taken) return taken;
    offset += n;
    length -= n;
  }
  return {};
}

Result<AtomicFileWriter> AtomicFileWriter::Create(const std::string& path, unsigned mode) {
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return Fail(ErrnoError("creating a temp file for", path, errno));
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return Fail(ErrnoError("setting the mode of", temp, err));
  }
  return AtomicFileWriter(fd, path, std::move(temp));
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      temp_(std::exchange(other.temp_, std::string())) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

Status AtomicFileWriter::Write(ByteView data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(Errc::kIo, ErrnoError("writing", path_, errno).message());
    data = data.subspan(static_cast<size_t>(n));
  }
  return {};
}

Status AtomicFileWriter::Commit() {
  if (::fsync(fd_) != 0) return Fail(Errc::kIo, ErrnoError("syncing", path_, errno).message());
  const int closed = ::close(std::exchange(fd_, -1));
  if (closed != 0) return Fail(Errc::kIo, ErrnoError("closing", path_, errno).message());
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    return Fail(Errc::kIo, ErrnoError("renaming into place", path_, errno).message());
  }
  temp_.clear();
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

}  // namespace sluice::update
