#include "app/reloader.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace pvc {

void reloader::reload(int argc, char** argv, config& running) {
  config_outcome fresh = load_config(argc, argv);
  if (!fresh.cfg) {
    spdlog::error("event=reload_failed error=\"{}\"", fresh.message);
    return;
  }
  std::vector<std::string> keys = changed_keys(running, *fresh.cfg);
  for (const auto& key : file_keys_) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  for (const auto& key : keys) {
    auto it = handlers_.find(key);
    if (it == handlers_.end()) {
      spdlog::warn("event=reload_ignored key={} reason=restart_required", key);
      continue;
    }
    if (auto err = it->second(*fresh.cfg); !err.empty()) {
      spdlog::error("event=reload_failed key={} error=\"{}\"", key, err);
      continue;
    }
    copy_config_key(running, *fresh.cfg, key);  // compare with what is live next time
    spdlog::info("event=reload key={}", key);
  }
  spdlog::info("event=reloaded");
}

}  // namespace pvc
