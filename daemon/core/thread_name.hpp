#pragma once
// Names the calling thread as top -H, perf and /proc/PID/task/TID/comm show
// it, so a profile or bench/compare's per-thread CPU row tells pvcd's I/O
// threads, its flusher and RocksDB's own threads apart. Linux keeps 15 bytes
// of a name; longer ones are cut.
#include <pthread.h>

#include <string>

namespace pvc {

inline void name_this_thread(std::string name) {
  if (name.size() > 15) name.resize(15);
  ::pthread_setname_np(::pthread_self(), name.c_str());
}

}  // namespace pvc
