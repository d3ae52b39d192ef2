#include "server/pair/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/base/file_util.h"

namespace sluice::pair {

Result<std::shared_ptr<FileSink>> FileSink::Open(const std::string& path, uint64_t offset) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(ErrnoError("opening", path, errno));
  if (::ftruncate(fd, static_cast<off_t>(offset)) != 0) {
    const int err = errno;
    ::close(fd);
    return Fail(ErrnoError("truncating", path, err));
  }
  return std::shared_ptr<FileSink>(new FileSink(fd, path, offset));
}

FileSink::~FileSink() { ::close(fd_); }

Status FileSink::Write(uint64_t offset, ByteView data) {
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

Status FileSink::Sync() {
  if (::fsync(fd_) != 0) return Fail(ErrnoError("syncing", path_, errno));
  return {};
}

}  // namespace sluice::pair
