#!/usr/bin/env python3
"""Fault injection for pvcd's store: what a user sees when the disk is
unusable at start, and when it fails under a running pvcd and recovers.

  startup_read_only   data dir on a read-only filesystem: clear message, exit 1
  startup_disk_full   data dir on a full filesystem: clear message, exit 1
  disk_full           a small tmpfs (96 MiB) filled up while pvcd runs, then emptied
  read_only           the store's files refuse writes, syncs and new files with
                      EROFS, as after the kernel remounted the filesystem
                      read-only on an error (an LD_PRELOAD shim,
                      tests/faults/fail_io.cpp: `mount -o remount,ro` is
                      refused while pvcd has files open for writing), then work
  io_error            write() and fsync() on the store's files fail with EIO
                      (the same shim), then work
  sync_error          fsync()/fdatasync() fail with EIO while write() works
  rocksdb_sync_error  the same, but pvcd's own write probe is spared, so RocksDB
                      itself fails the write: a batch reaches the log although
                      RocksDB says it failed, pvcd reopens the store (which
                      replays the log) and must not write the batch twice

Runtime checks (every fault): while the store fails pvcd keeps answering
beacons (204) and reads, pvcd_flush_errors_total rises, retries back off
(far fewer attempts than flush intervals), /readyz answers 503 on both
listeners; new keys stay within max_tracked_keys (the memory cap) and are
refused with 503 past it. Once the disk recovers, /readyz is 200 again and
the store holds every acknowledged hit exactly once (per key, HTTP and UDP),
also after a SIGTERM and a restart.

The tmpfs cases (startup_*, disk_full) need root (`mount -t tmpfs`); without
it they exit 77 (ctest SKIP_RETURN_CODE). Usage:
  faults_test.py --pvcd PATH [--fail-io-lib PATH] CASE
"""
import argparse
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crash"))
from harness import Pvcd, StartError  # noqa: E402

SKIP = 77
ERRORS = "pvcd_flush_errors_total"


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise Failure("timed out after %.0fs waiting for %s" % (timeout, what))


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path], check=True)


def umount(path):
    subprocess.run(["umount", "-l", path], check=False)


def remount(path, mode):
    subprocess.run(["mount", "-o", "remount,%s" % mode, path], check=True)


def fill(path):
    """Writes a filler file until the filesystem is full; returns its path."""
    filler = os.path.join(path, "filler")
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        # The last partial MiB too: nothing left for RocksDB.
        small = b"\0" * 4096
        while True:
            try:
                f.write(small)
            except OSError:
                break
    return filler


class Ledger:
    """What pvcd acknowledged, per (site, article)."""

    def __init__(self):
        self.want = {}

    def add(self, site, article, n=1):
        self.want[(site, article)] = self.want.get((site, article), 0) + n

    def sites(self):
        out = {}
        for (s, a) in self.want:
            out.setdefault(s, []).append(a)
        return out


def send_http(p, ledger, site, articles, port=None, allow_refusal=False):
    """One GET /hit per article id on one keep-alive connection. Every answer
    must be 204, or 503 (cardinality: a new key past the cap) when allowed.
    Returns the number refused."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port or p.http, timeout=10)
    refused = 0
    try:
        for a in articles:
            c.request("GET", "/hit?" + urllib.parse.urlencode({"s": site, "a": a}))
            r = c.getresponse()
            body = r.read()
            if r.status == 204:
                ledger.add(site, a)
            elif allow_refusal and r.status == 503 and body.startswith(b"cardinality"):
                refused += 1
            else:
                raise Failure("GET /hit %s %s: %d %r" % (site, a, r.status, body))
    finally:
        c.close()
    return refused


def send_udp(p, ledger, site, articles, counts):
    """UDP lines, 20 per datagram; pvcd must then report them all accepted."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    before = p.metrics().get('pvcd_hits_accepted_total{transport="udp"}', 0)
    lines = []
    for a, n in zip(articles, counts):
        lines.append("%s %s %d\n" % (site, a, n))
        ledger.add(site, a, n)
    for i in range(0, len(lines), 20):
        s.sendto("".join(lines[i:i + 20]).encode(), ("127.0.0.1", p.udp))
    s.close()
    wait_for(lambda: p.metrics().get('pvcd_hits_accepted_total{transport="udp"}', 0)
             >= before + len(lines), 10, "pvcd to count %d UDP lines" % len(lines))


def stored(p, ledger):
    got = {}
    for site, articles in ledger.sites().items():
        _, per = p.views(site, sorted(articles))
        for a, n in per.items():
            got[(site, a)] = n
    return got


def diff(want, got):
    bad = [(k, want.get(k, 0), got.get(k, 0)) for k in sorted(set(want) | set(got))
           if want.get(k, 0) != got.get(k, 0)]
    return "; ".join("%s/%s want %d got %d" % (k[0], k[1], w, g) for k, w, g in bad[:10]) + (
        " (%d keys differ)" % len(bad) if bad else "")


def readyz(p, port):
    status, body, _ = p.get(port, "/readyz")
    return status


def run_outage(args, work, data_dir, inject, recover, env=None, extra=(), expect_reopen=False):
    """The runtime fault scenario; `inject`/`recover` switch the fault."""
    log = os.path.join(work, "pvcd.log")
    p = Pvcd(args.pvcd, data_dir, log, flush_interval="100ms",
             args=["--max-tracked-keys", "1000", "--max-new-keys-per-second", "100000"]
             + list(extra), env=env)
    ledger = Ledger()
    try:
        p.start()
        send_http(p, ledger, "ok", ["/before/%d" % i for i in range(300)])
        send_udp(p, ledger, "okudp", ["/u/%d" % i for i in range(50)], [1 + i % 3 for i in range(50)])
        wait_for(lambda: stored(p, ledger) == ledger.want, 10, "the first hits to be stored")
        check(readyz(p, p.http) == 200 and readyz(p, p.admin) == 200, "/readyz before the fault")
        errors0 = p.metrics().get(ERRORS, 0)
        before_fault = dict(ledger.want)
        cursor = None
        if expect_reopen:
            # A paged export open across the reopen: RocksDB must not close with
            # its snapshot outstanding; the next page asks to start again.
            status, body, _ = p.get(p.admin, "/admin/v1/export?s=ok&limit=1")
            check(status == 200, "export before the fault: %d %r" % (status, body[:200]))
            cursor = json.loads(body)["cursor"]
            check(cursor, "the export should have more than one page")

        inject()
        t_fault = time.monotonic()
        # Counting goes on: known keys always, new keys up to the cap.
        send_http(p, ledger, "ok", ["/before/%d" % i for i in range(300)])
        wait_for(lambda: p.metrics().get(ERRORS, 0) > errors0, 15, "a failed flush")
        check(readyz(p, p.http) == 503, "/readyz on the public listener must be 503 while the "
              "store fails, got %d" % readyz(p, p.http))
        check(readyz(p, p.admin) == 503, "/readyz on the admin listener must be 503")
        status, _, _ = p.get(p.http, "/healthz")
        check(status == 200, "/healthz must stay 200 (the process is alive)")
        # Reads still work and show what was stored before the fault, nothing more.
        got = stored(p, ledger)
        check(got == before_fault, "reads during the outage: " + diff(before_fault, got))
        send_udp(p, ledger, "okudp", ["/u/%d" % i for i in range(50)], [2] * 50)
        # The memory cap: 1000 keys in all (350 known); a flood of new ones is cut off.
        refused = send_http(p, ledger, "flood", ["/new/%d" % i for i in range(2000)],
                            allow_refusal=True)
        check(refused >= 2000 - 1000, "max_tracked_keys=1000: only %d of 2000 new keys refused"
              % refused)
        m = p.metrics()
        check(m.get("pvcd_known_keys", 0) <= 1000,
              "pvcd_known_keys %s past max_tracked_keys=1000 while the store fails"
              % m.get("pvcd_known_keys"))
        # Back-off: over three seconds of outage, far fewer attempts than 30 flush intervals.
        e1 = m.get(ERRORS, 0)
        time.sleep(3)
        e2 = p.metrics().get(ERRORS, 0)
        check(e2 > e1 or e2 - errors0 >= 3, "the flusher stopped retrying (errors %s -> %s)"
              % (e1, e2))
        check(e2 - e1 <= 10, "no back-off: %d failed attempts in 3 s at a 100 ms interval"
              % (e2 - e1))
        outage = time.monotonic() - t_fault

        recover()
        t_recover = time.monotonic()
        wait_for(lambda: readyz(p, p.http) == 200 and readyz(p, p.admin) == 200, 60,
                 "/readyz 200 after the disk recovered")
        recovered_in = time.monotonic() - t_recover
        wait_for(lambda: stored(p, ledger) == ledger.want, 10, "the held counts to be written")
        if cursor:
            status, body, _ = p.get(p.admin, "/admin/v1/export?limit=1&cursor="
                                    + urllib.parse.quote(cursor))
            check(status != 200 and b"start the export again" in body,
                  "export page after the reopen: %d %r" % (status, body[:200]))
        time.sleep(0.5)  # a few more flushes: nothing may be written twice
        got = stored(p, ledger)
        check(got == ledger.want, "after recovery: " + diff(ledger.want, got))
        errors = p.metrics().get(ERRORS, 0) - errors0
        code = p.terminate()
        check(code == 0, "SIGTERM after recovery: exit %s" % code)
        text = open(log).read()
        reopens = text.count("event=store_reopened")
        if expect_reopen:
            # RocksDB itself must have met the fault, and pvcd reopened it.
            check("event=store_write_failed" in text and reopens > 0,
                  "RocksDB never failed a write (no store_write_failed/store_reopened in the log)")

        q = Pvcd(args.pvcd, data_dir, log, flush_interval="100ms", env=env)
        q.start()
        got = stored(q, ledger)
        check(got == ledger.want, "after a restart: " + diff(ledger.want, got))
        code = q.terminate()
        check(code == 0, "SIGTERM of the restarted pvcd: exit %s" % code)
        print("faults: outage %.1fs, %d failed flushes, recovered %.1fs after the disk, "
              "%d views held and then stored exactly, %d new keys refused at the cap, "
              "%d store reopens" % (outage, errors, recovered_in,
                                    sum(ledger.want.values()) - sum(before_fault.values()),
                                    refused, reopens), flush=True)
    except Exception as e:
        sys.stdout.write("---- pvcd log ----\n" + open(log).read()[-6000:] + "---- end ----\n")
        for proc in (p,):
            if proc.proc is not None and proc.proc.poll() is not None:
                raise Failure("pvcd exited with %s during the test (%s: %s)"
                              % (proc.proc.returncode, type(e).__name__, e))
        if isinstance(e, (Failure, StartError)):
            raise
        raise Failure("%s: %s" % (type(e).__name__, e))
    finally:
        for proc in (p,):
            if proc.running():
                proc.kill()


def startup_failure(args, work, data_dir, what):
    r = subprocess.run([args.pvcd, "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0",
                        "--admin", "127.0.0.1:0", "--data-dir", data_dir, "--threads", "1"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    messages = [l for l in r.stderr.splitlines() if " level=" not in l]
    check(r.returncode == 1, "%s: exit %d, want 1; stderr:\n%s" % (what, r.returncode, r.stderr))
    check(len(messages) == 1, "%s: want one message line, stderr:\n%s" % (what, r.stderr))
    check(messages[0].startswith("pvcd: data_dir: ") and data_dir in messages[0],
          "%s: the message must name data_dir and the path: %s" % (what, messages[0]))
    check("event=listening" not in r.stderr, "%s: pvcd listened before failing" % what)
    print("faults: %s -> exit 1: %s" % (what, messages[0]), flush=True)


def main():
    ap = argparse.ArgumentParser(description="pvcd fault injection")
    ap.add_argument("--pvcd", required=True)
    ap.add_argument("--fail-io-lib", help="the LD_PRELOAD shim (io_error, sync_error)")
    ap.add_argument("case", choices=["startup_read_only", "startup_disk_full", "disk_full",
                                     "read_only", "io_error", "sync_error",
                                     "rocksdb_sync_error", "rocksdb_write_error"])
    args = ap.parse_args()
    needs_root = args.case in ("startup_read_only", "startup_disk_full", "disk_full")
    if needs_root and os.geteuid() != 0:
        print("faults: %s needs root (mount); skipped" % args.case)
        return SKIP
    work = tempfile.mkdtemp(prefix="pvcd-faults-")
    mnt = os.path.join(work, "mnt")
    mounted = False
    try:
        if needs_root:
            try:
                mount_tmpfs(mnt, "96m")
                mounted = True
            except (subprocess.CalledProcessError, OSError) as e:
                print("faults: cannot mount a tmpfs here (%s); skipped" % e)
                return SKIP
        data_dir = os.path.join(mnt, "data")
        if args.case == "startup_read_only":
            remount(mnt, "ro")
            startup_failure(args, work, data_dir, "read-only filesystem")
        elif args.case == "startup_disk_full":
            fill(mnt)
            startup_failure(args, work, data_dir, "full filesystem")
        elif args.case == "disk_full":
            state = {}
            run_outage(args, work, data_dir,
                       inject=lambda: state.update(filler=fill(mnt)),
                       recover=lambda: os.remove(state["filler"]))
        else:
            check(args.fail_io_lib and os.path.exists(args.fail_io_lib), "--fail-io-lib is needed")
            data_dir = os.path.join(work, "data")
            flag = os.path.join(work, "fail-now")
            ops, err = {"read_only": ("write,sync,open", "EROFS"),
                        "io_error": ("write,sync", "EIO"),
                        "sync_error": ("sync", "EIO"),
                        "rocksdb_sync_error": ("sync", "EIO"),
                        "rocksdb_write_error": ("write,sync", "EIO")}[args.case]
            env = dict(os.environ, LD_PRELOAD=os.path.abspath(args.fail_io_lib),
                       PVC_FAIL_IO_DIR=data_dir, PVC_FAIL_IO_FLAG=flag,
                       PVC_FAIL_IO_OPS=ops, PVC_FAIL_IO_ERRNO=err,
                       PVC_FAIL_IO_SPARE="pvcd-write-probe" if args.case.startswith("rocksdb_")
                       else "")
            run_outage(args, work, data_dir, env=env, expect_reopen=args.case.startswith("rocksdb_"),
                       inject=lambda: open(flag, "w").close(), recover=lambda: os.remove(flag))
        print("faults: %s passed" % args.case)
        return 0
    except Failure as e:
        print("faults: %s FAILED: %s" % (args.case, e))
        return 1
    finally:
        if mounted:
            umount(mnt)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
