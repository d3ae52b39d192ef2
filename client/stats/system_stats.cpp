#include "client/stats/system_stats.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <utmpx.h>

#include <cstdio>
#include <cstring>

namespace sluice::client {
namespace {

double FirstNumberIn(const char* file) {
  double value = 0;
  if (FILE* f = std::fopen(file, "r")) {
    if (std::fscanf(f, "%lf", &value) != 1) value = 0;
    std::fclose(f);
  }
  return value;
}

std::string ConsoleUser() {
  std::string user;
  setutxent();
  while (utmpx* entry = getutxent()) {
    if (entry->ut_type != USER_PROCESS) continue;
    user.assign(entry->ut_user, strnlen(entry->ut_user, sizeof(entry->ut_user)));
    std::string line(entry->ut_line, strnlen(entry->ut_line, sizeof(entry->ut_line)));
    if (line.starts_with("tty") || line.starts_with(":") || line == "console") break;
  }
  endutxent();
  return user;
}

}  // namespace

proto::CheckinStats ReadSystemStats(const std::string& path) {
  proto::CheckinStats stats;
  stats.cpu_load = FirstNumberIn("/proc/loadavg");
  stats.uptime_s = static_cast<uint64_t>(FirstNumberIn("/proc/uptime"));
  struct statvfs fs{};
  if (::statvfs(path.c_str(), &fs) == 0 && fs.f_blocks > 0) {
    const double used = static_cast<double>(fs.f_blocks - fs.f_bfree);
    const double usable = used + static_cast<double>(fs.f_bavail);
    stats.disk_used_pct = usable > 0 ? 100.0 * used / usable : 0;
  }
  stats.console_user = ConsoleUser();
  return stats;
}

std::string PlatformName() {
  utsname name{};
  if (::uname(&name) != 0) return "linux-unknown";
  std::string system = name.sysname;
  for (char& c : system) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return system + "-" + name.machine;
}

}  // namespace sluice::client
