#include "server/backup/backup_format.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/base/file_util.h"
#include "server/backup/backup_archive.h"

namespace sluice::backup::format {

Status CheckEntryName(std::string_view name) {
  const bool bad_char =
      name.find('\0') != std::string_view::npos || name.find('\\') != std::string_view::npos;
  bool bad_part = name.empty() || name.front() == '/' || name.back() == '/';
  for (size_t start = 0; !bad_part && start <= name.size();) {
    const size_t end = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, end - start);
    bad_part = part.empty() || part == "." || part == "..";
    start = end + 1;
  }
  if (bad_char || bad_part || name.size() > kMaxEntryName) {
    return Fail(Errc::kInvalidArgument,
                "not a valid backup entry name: '" + std::string(name) + "'");
  }
  return {};
}

Status WriteBytes(int fd, ByteView data, const std::string& path) {
  if (int err = WriteAll(fd, AsChars(data)); err != 0)
    return Fail(ErrnoError("writing", path, err));
  return {};
}

// read(2) until `size` bytes or the end of the file; returns how many were read.
Result<size_t> ReadUpTo(int fd, uint8_t* out, size_t size, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrnoError("reading", path, errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace sluice::backup::format
