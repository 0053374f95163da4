#include "base/log.h"

#include <map>
#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace x86vm {
namespace {

// Logging state is process-wide by nature (spdlog's registry is too); it is
// kept here, behind functions, and never touched by device logic.
struct LogConfig {
  std::mutex mu;  // Guards every field below.
  spdlog::level::level_enum default_level = spdlog::level::warn;
  std::map<std::string, spdlog::level::level_enum, std::less<>> levels;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  std::shared_ptr<spdlog::sinks::sink> sink;
};

LogConfig& Config() {
  static LogConfig* config = new LogConfig();
  return *config;
}

spdlog::level::level_enum LevelFor(LogConfig& c, std::string_view name) {
  auto it = c.levels.find(name);
  return it == c.levels.end() ? c.default_level : it->second;
}

Result<spdlog::level::level_enum> ParseLevel(std::string_view text) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum>
      kLevels[] = {{"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
                   {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
                   {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (const auto& [name, level] : kLevels) {
    if (text == name) return level;
  }
  return Fail("--log: unknown level '{}' (use trace, debug, info, warn, error or off)",
              text);
}

}  // namespace

std::shared_ptr<spdlog::logger> Logger(std::string_view component) {
  LogConfig& c = Config();
  std::lock_guard lock(c.mu);
  auto it = c.loggers.find(component);
  if (it != c.loggers.end()) return it->second;
  if (!c.sink) c.sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(std::string(component), c.sink);
  logger->set_pattern("[%n] %l: %v");
  logger->set_level(LevelFor(c, component));
  c.loggers.emplace(std::string(component), logger);
  return logger;
}

Result<> ConfigureLogging(std::string_view spec) {
  LogConfig& c = Config();
  std::lock_guard lock(c.mu);
  std::string_view rest = spec;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      auto level = ParseLevel(item);
      if (!level) return std::unexpected(level.error());
      c.default_level = *level;
    } else {
      auto level = ParseLevel(item.substr(eq + 1));
      if (!level) return std::unexpected(level.error());
      c.levels[std::string(item.substr(0, eq))] = *level;
    }
  }
  for (auto& [name, logger] : c.loggers) logger->set_level(LevelFor(c, name));
  return {};
}

}  // namespace x86vm
