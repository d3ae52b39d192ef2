// Backup files (server/backup/backup_archive.h): whatever a file holds — a forged header, a
// truncated or damaged archive, a manifest of any shape — reading it ends in a manifest or a
// clean error, never a crash, a hang or unbounded memory. Protected files are tried with a
// password (their scrypt cost comes from the file, bounded by ScryptParams' limits).

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "server/backup/backup_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = ::memfd_create("backup", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (::write(fd, data, size) == static_cast<ssize_t>(size)) {
    (void)sluice::backup::InspectBackup("/proc/self/fd/" + std::to_string(fd), "fuzz");
  }
  ::close(fd);
  return 0;
}
