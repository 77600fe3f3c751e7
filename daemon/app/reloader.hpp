#pragma once
// SIGHUP: re-read the configuration (file and flags), apply the keys that can
// change safely through the handlers registered for them, and log every other
// changed key as needing a restart.
//
// Thread-safety: all on the main thread (handlers publish to I/O threads
// themselves, see per_thread.hpp).
#include <functional>
#include <map>
#include <set>
#include <string>

#include "app/config.hpp"

namespace pvc {

class reloader {
 public:
  // apply(fresh) installs the new value of `key`; it returns "" or an error
  // (the old value then stays).
  using apply_fn = std::function<std::string(const config& fresh)>;
  void on(const std::string& key, apply_fn apply) { handlers_[key] = std::move(apply); }
  // Like on(), and also applied on every SIGHUP when the key is unchanged:
  // for keys naming a file whose content may have changed (bot_list_file).
  void on_file(const std::string& key, apply_fn apply) {
    handlers_[key] = std::move(apply);
    file_keys_.insert(key);
  }

  // Re-reads the configuration and applies what changed; `running` is
  // updated for every key that was applied.
  void reload(int argc, char** argv, config& running);

 private:
  std::map<std::string, apply_fn> handlers_;
  std::set<std::string> file_keys_;
};

}  // namespace pvc
