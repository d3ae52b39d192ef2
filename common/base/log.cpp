#include "common/base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace sluice {
namespace {

std::mutex& LogMutex() {
  static std::mutex mutex;
  return mutex;
}

spdlog::level::level_enum& DefaultLevel() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}

}  // namespace

std::shared_ptr<spdlog::logger> Log(const std::string& component) {
  std::lock_guard lock(LogMutex());
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = spdlog::stderr_color_mt(component);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  logger->set_level(DefaultLevel());
  return logger;
}

void SetLogLevel(const std::string& level) {
  std::lock_guard lock(LogMutex());
  DefaultLevel() = spdlog::level::from_str(level);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(DefaultLevel()); });
}

}  // namespace sluice
