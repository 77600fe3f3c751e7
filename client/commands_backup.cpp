// backup (through pvcd, while it keeps counting), backup --verify and
// restore (both local: they read the backup files directly, and restore
// needs pvcd stopped).
#include <fcntl.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "admin/audit_log.hpp"
#include "core/json_text.hpp"
#include "pvctl.hpp"
#include "store/store.hpp"
#include "store/store_audit.hpp"
#include "store/store_backups.hpp"

namespace pvc::ctl {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

std::string size_text(std::uint64_t bytes) {
  char buf[32];
  if (bytes >= (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1u << 20));
  } else if (bytes >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

std::string utc_text(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json::object metadata_of(const backup_info& b) {
  boost::system::error_code ec;
  json::value v = json::parse(b.metadata, ec);
  return !ec && v.is_object() ? v.as_object() : json::object();
}

// The lock pvcd holds on its data dir while it runs: RocksDB's LOCK file,
// locked with fcntl(F_SETLK) by the process that has the store open.
// Holding it here also keeps a pvcd from starting on the dir mid-restore.
class data_dir_lock {
 public:
  data_dir_lock() = default;
  data_dir_lock(const data_dir_lock&) = delete;
  data_dir_lock& operator=(const data_dir_lock&) = delete;
  ~data_dir_lock() {
    if (fd_ >= 0) ::close(fd_);
  }

  // "" when the dir is free (now locked by us, or holding no store), else
  // why it is not.
  std::string acquire(const std::string& dir) {
    const std::string path = dir + "/LOCK";
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return {};
      return "cannot open " + path + ": " + std::strerror(errno);
    }
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &fl) == 0) {
      fd_ = fd;
      return {};
    }
    const int err = errno;
    struct flock holder {};
    holder.l_type = F_WRLCK;
    holder.l_whence = SEEK_SET;
    std::string who;
    if (::fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK) {
      who = " (pid " + std::to_string(holder.l_pid) + ")";
    }
    ::close(fd);
    if (err == EAGAIN || err == EACCES) {
      return "the data dir " + dir + " is in use by a running pvcd" + who +
             "; stop it before restoring";
    }
    return "cannot lock " + path + ": " + std::strerror(err);
  }

 private:
  int fd_ = -1;
};

struct backup_opts {
  std::string dir;
  bool verify = false;
  std::uint32_t id = 0;
};

void run_verify(const backup_opts& o, context& ctx) {
  std::vector<backup_info> backups;
  if (auto err = list_backups(o.dir, o.id, true, backups); !err.empty()) {
    throw failure{exit_local, err};
  }
  std::size_t damaged = 0;
  json::array list;
  for (const backup_info& b : backups) {
    const json::object meta = metadata_of(b);
    if (!b.verify_error.empty()) ++damaged;
    if (ctx.json) {
      list.push_back(json::object{{"backup_id", b.id},
                                  {"created", utc_text(b.created_unix)},
                                  {"size_bytes", b.size_bytes},
                                  {"files", b.files},
                                  {"ok", b.verify_error.empty()},
                                  {"error", b.verify_error},
                                  {"metadata", meta}});
      continue;
    }
    std::printf("backup %u  %s  flush %llu  %llu counters  %u files  %s  %s%s\n", b.id,
                utc_text(b.created_unix).c_str(),
                static_cast<unsigned long long>(number(meta, "flush_seq")),
                static_cast<unsigned long long>(number(meta, "counters")), b.files,
                size_text(b.size_bytes).c_str(),
                b.verify_error.empty() ? "ok" : "DAMAGED: ", b.verify_error.c_str());
  }
  if (ctx.json) print_json(json::object{{"dir", o.dir}, {"backups", list}});
  if (damaged) {
    throw failure{exit_local, std::to_string(damaged) + " of " + std::to_string(backups.size()) +
                                  " backups in " + o.dir + " failed verification"};
  }
}

void run_backup(const backup_opts& o, context& ctx) {
  std::error_code ec;
  const std::string dir = fs::absolute(o.dir, ec).lexically_normal().string();
  const json::object job =
      ctx.call_json("POST", "/admin/v1/backup?dir=" + q(dir) + "&by=" + q(ctx.by));
  const json::object r = ctx.wait_job(string_of(job, "job"));
  if (ctx.json) return print_json(r);
  const json::value* m = r.if_contains("metadata");
  const json::object meta = m && m->is_object() ? m->as_object() : json::object();
  std::printf("backup %llu written to %s: %llu counters up to flush %llu, %llu files, %s\n",
              static_cast<unsigned long long>(number(r, "backup_id")), dir.c_str(),
              static_cast<unsigned long long>(number(meta, "counters")),
              static_cast<unsigned long long>(number(meta, "flush_seq")),
              static_cast<unsigned long long>(number(r, "files")),
              size_text(number(r, "size_bytes")).c_str());
  const json::value* sites = meta.if_contains("sites");
  if (sites && sites->is_object() && !sites->as_object().empty()) {
    std::printf("site totals:");
    for (const auto& [site, n] : sites->as_object()) {
      std::printf(" %s=%llu", std::string(site).c_str(),
                  static_cast<unsigned long long>(count_of(n)));
    }
    std::printf("\n");
  }
}

struct restore_opts {
  std::string dir;
  std::string data_dir;
  std::uint32_t id = 0;
  bool force = false;
  std::string reason;
};

void run_restore(const restore_opts& o, context& ctx) {
  std::error_code ec;
  const fs::path target = fs::absolute(o.data_dir, ec).lexically_normal();
  const std::string target_text = target.string();
  if (target.filename().empty()) throw failure{exit_usage, "--data-dir: not a directory name"};

  // 1. The data dir: not in use, and empty unless --force.
  data_dir_lock lock;
  if (auto err = lock.acquire(target_text); !err.empty()) throw failure{exit_local, err};
  const bool exists = fs::exists(target, ec);
  const bool has_data = exists && !fs::is_empty(target, ec);
  if (has_data && !o.force) {
    throw failure{exit_local,
                  "the data dir " + target_text +
                      " already holds data; pass --force to replace it (it is kept as " +
                      target_text + ".replaced-TIME)"};
  }

  // 2. The backup: checked against its checksums before anything is written.
  std::vector<backup_info> backups;
  if (auto err = list_backups(o.dir, o.id, true, backups); !err.empty()) {
    throw failure{exit_local, err};
  }
  const backup_info& chosen = backups.back();  // the one asked for, else the newest
  if (!chosen.verify_error.empty()) {
    throw failure{exit_local, "backup " + std::to_string(chosen.id) + " in " + o.dir +
                                  " failed verification: " + chosen.verify_error};
  }

  // 3. Restore beside the data dir, journal it there, then swap it in.
  fs::create_directories(target.parent_path(), ec);
  const std::string staging = target_text + ".restoring-" + std::to_string(::getpid());
  fs::remove_all(staging, ec);
  if (auto err = restore_backup(o.dir, chosen.id, staging); !err.empty()) {
    fs::remove_all(staging, ec);
    throw failure{exit_local, err};
  }
  std::string replaced;
  if (has_data) {
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    replaced = target_text + ".replaced-" + stamp;
  }
  std::uint64_t carried = 0;
  {
    std::string error;
    auto db = store::open(staging, {.sync = true}, error);
    if (!db) {
      fs::remove_all(staging, ec);
      throw failure{exit_local, "cannot open the restored store: " + error};
    }
    std::string carry_error;
    if (has_data) carry_error = copy_audit_from(*db, target_text, carried);
    const json::object meta = metadata_of(chosen);
    audit_entry e;
    e.action = "restore";
    e.caller = {ctx.by, "local", "local"};
    e.reason = o.reason;
    std::string d = "{\"backup_dir\":";
    append_json_string(d, o.dir);
    d += ",\"backup_id\":" + std::to_string(chosen.id) + ",\"backup_created\":";
    append_json_string(d, utc_text(chosen.created_unix));
    d += ",\"backup_flush_seq\":" + std::to_string(number(meta, "flush_seq")) + ",\"data_dir\":";
    append_json_string(d, target_text);
    d += ",\"previous_data\":";
    if (replaced.empty()) {
      d += "null";
    } else {
      append_json_string(d, replaced);
    }
    d += ",\"journal_records_carried\":" + std::to_string(carried);
    if (!carry_error.empty()) {
      d += ",\"journal_carry_error\":";
      append_json_string(d, carry_error);
    }
    d += '}';
    e.details = d;
    if (const admin_outcome r = append_audit(*db, e); !r.ok()) {
      db.reset();
      fs::remove_all(staging, ec);
      throw failure{exit_local, "cannot journal the restore: " + r.message};
    }
  }
  if (exists) {
    if (has_data) {
      fs::rename(target, replaced, ec);
    } else {
      fs::remove(target, ec);
    }
    if (ec) {
      fs::remove_all(staging, ec);
      throw failure{exit_local, "cannot move " + target_text + " aside: " + ec.message()};
    }
  }
  fs::rename(staging, target, ec);
  if (ec) throw failure{exit_local, "cannot move the restored store into place: " + ec.message()};

  const json::object meta = metadata_of(chosen);
  if (ctx.json) {
    return print_json(json::object{{"restored", true},
                                   {"backup_id", chosen.id},
                                   {"created", utc_text(chosen.created_unix)},
                                   {"data_dir", target_text},
                                   {"previous_data", replaced},
                                   {"journal_records_carried", carried},
                                   {"metadata", meta}});
  }
  std::printf("restored backup %u (taken %s, flush %llu, %llu counters) into %s\n", chosen.id,
              utc_text(chosen.created_unix).c_str(),
              static_cast<unsigned long long>(number(meta, "flush_seq")),
              static_cast<unsigned long long>(number(meta, "counters")), target_text.c_str());
  if (!replaced.empty()) {
    std::printf("the data it replaced is kept in %s (its journal was carried over)\n",
                replaced.c_str());
  }
}

}  // namespace

void add_backup_commands(CLI::App& app, std::vector<command>& out) {
  {
    auto o = std::make_shared<backup_opts>();
    auto* c = app.add_subcommand(
        "backup",
        "write an online, consistent backup of the store into DIR while pvcd keeps counting "
        "(RocksDB BackupEngine: incremental, checksummed); --verify checks the backups in DIR");
    c->add_option("dir", o->dir,
                  "backup directory, on pvcd's machine (created if missing; relative paths are "
                  "made absolute here)")
        ->required();
    c->add_flag("--verify", o->verify,
                "check every backup in DIR against its checksums, locally (no server needed)");
    c->add_option("--backup-id", o->id, "with --verify: only this backup");
    c->footer(
        "Example: pvctl backup /var/backups/pvcd\n"
        "         pvctl backup --verify /var/backups/pvcd");
    out.push_back({c, true,
                   [o](context& ctx) { o->verify ? run_verify(*o, ctx) : run_backup(*o, ctx); },
                   [o] { return o->verify; }});
  }
  {
    auto o = std::make_shared<restore_opts>();
    auto* c = app.add_subcommand(
        "restore",
        "rebuild a data dir from a backup, with pvcd stopped (refuses a data dir in use; "
        "replaces one holding data only with --force, keeping it aside)");
    c->add_option("dir", o->dir, "backup directory")->required();
    c->add_option("--data-dir", o->data_dir, "the data dir to rebuild (pvcd's data_dir)")
        ->required();
    c->add_option("--backup-id", o->id, "which backup (default: the newest)");
    c->add_flag("--force", o->force,
                "replace a data dir that holds data (it is renamed DATA.replaced-TIME)");
    c->add_option("--reason", o->reason, "why, for the audit journal");
    c->footer(
        "Example: pvctl restore /var/backups/pvcd --data-dir /var/lib/pvcd --force --reason "
        "\"disk replaced\"\n"
        "Stop pvcd first (systemctl stop pvcd) and start it after. Run pvctl as the user pvcd\n"
        "runs as, so the files it writes belong to pvcd.");
    out.push_back({c, false, [o](context& ctx) { run_restore(*o, ctx); }});
  }
}

}  // namespace pvc::ctl
