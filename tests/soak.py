#!/usr/bin/env python3
"""Soak: pvcd at half its measured maximum rate for a while; RSS and open
file descriptors must stay flat, and every hit must end up stored.

  1. measure: pvload HTTP (keep-alive) and UDP together, as fast as they go,
     for --measure-seconds: the maximum mixed rate on this machine;
  2. soak: both at half those rates for --minutes, plus connection churn
     (every 10 s a burst of fresh HTTP connections that open, send and close)
     so leaked sockets would show; pvcd's RSS and fd count sampled every
     --every seconds from /proc;
  3. verdict: after a warm-up (the first fifth of the soak, at least 30 s), RSS
     may not grow by more than --rss-slack (default 10 % + 16 MiB) and the fd
     count may not grow by more than 8; after SIGTERM (exit 0) and a restart,
     the store holds exactly the hits pvload had acknowledged plus the UDP
     lines pvcd counted.

Documented run (tests/RELIABILITY.md): 10 minutes.
  python3 tests/soak.py --build-dir build/release --minutes 10
Bounded: every load run has --seconds, the soak ends by itself, pvcd is
stopped by pid. Prints one table row per sample and a summary line.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "crash"))
from harness import ARTICLE, Pvcd, proc_status, read_expect  # noqa: E402

SITES, ARTICLES = 3, 1000
SUMMARY = re.compile(r"mode=(\w+) sent_hits=(\d+) acked_hits=(\d+).* rate=(\d+)")


def pvload(args, p, mode, seconds, rate, prefix, extra=(), expect=None, wait=True):
    target = p.http if mode == "http" else p.udp
    cmd = [args.pvload, mode, "--target", "127.0.0.1:%d" % target, "--seconds", str(seconds),
           "--rate", str(rate), "--sites", str(SITES), "--articles", str(ARTICLES),
           "--site-prefix", prefix] + list(extra)
    if expect:
        cmd += ["--expect", expect]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not wait:
        return proc
    out, _ = proc.communicate(timeout=seconds + 60)
    return out


def parse(out):
    m = SUMMARY.search(out or "")
    if not m:
        raise RuntimeError("pvload printed no summary: %r" % out)
    return {"sent": int(m.group(2)), "acked": int(m.group(3)), "rate": int(m.group(4))}


def site_totals(p, prefix):
    total = 0
    for i in range(SITES):
        t, _ = p.views("%s%d" % (prefix, i), [])
        total += t
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build/release")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--measure-seconds", type=float, default=5)
    ap.add_argument("--every", type=float, default=10, help="sampling period, seconds")
    ap.add_argument("--rss-slack", type=float, default=0.10)
    args = ap.parse_args()
    args.pvcd = os.path.join(args.build_dir, "daemon", "pvcd")
    args.pvload = os.path.join(args.build_dir, "bench", "pvload")
    work = tempfile.mkdtemp(prefix="pvcd-soak-")
    p = Pvcd(args.pvcd, os.path.join(work, "data"), os.path.join(work, "pvcd.log"),
             flush_interval="1s", threads=2)
    ok = False
    try:
        p.start()
        # 1. The maximum mixed rate (measurement traffic goes to its own sites).
        h = pvload(args, p, "http", args.measure_seconds, 0, "mh", ["--connections", "16"],
                   wait=False)
        u = pvload(args, p, "udp", args.measure_seconds, 0, "mu", ["--lines-per-datagram", "10"],
                   wait=False)
        hm = parse(h.communicate(timeout=args.measure_seconds + 60)[0])
        um = parse(u.communicate(timeout=args.measure_seconds + 60)[0])
        http_rate, udp_rate = hm["rate"] // 2, um["rate"] // 2
        print("soak: measured max http=%d/s udp=%d lines/s (together); soaking at %d + %d for "
              "%.1f min" % (hm["rate"], um["rate"], http_rate, udp_rate, args.minutes), flush=True)
        time.sleep(2)  # let the measurement flush

        # 2. The soak.
        seconds = args.minutes * 60
        h_expect, u_expect = os.path.join(work, "http.expect"), os.path.join(work, "udp.expect")
        udp_before = p.metrics().get('pvcd_hits_accepted_total{transport="udp"}', 0)
        h = pvload(args, p, "http", seconds, http_rate, "sh", ["--connections", "16"],
                   expect=h_expect, wait=False)
        u = pvload(args, p, "udp", seconds, udp_rate, "su", ["--lines-per-datagram", "10"],
                   expect=u_expect, wait=False)
        churn_acked = 0
        samples = []
        start = time.monotonic()
        next_sample = start
        next_churn = start + 5
        print("soak:   t(s)   rss(MiB)  fds  http_conns  tracked_keys", flush=True)
        while time.monotonic() - start < seconds:
            now = time.monotonic()
            if now >= next_churn:
                # Fresh connections that open, send for a second and close.
                out = pvload(args, p, "http", 1, 2000, "ch", ["--connections", "8"])
                churn_acked += parse(out)["acked"]
                next_churn += 10
            if now >= next_sample:
                rss, fds = proc_status(p.proc.pid)
                m = p.metrics()
                samples.append((now - start, rss, fds))
                print("soak: %6.0f %10.1f %4d %11.0f %13.0f" % (
                    now - start, rss / 2**20, fds, m.get("pvcd_http_connections", -1),
                    m.get("pvcd_tracked_keys", -1)), flush=True)
                next_sample += args.every
            time.sleep(0.2)
        hs = parse(h.communicate(timeout=120)[0])
        us = parse(u.communicate(timeout=120)[0])
        rss, fds = proc_status(p.proc.pid)
        samples.append((time.monotonic() - start, rss, fds))
        udp_counted = p.metrics().get('pvcd_hits_accepted_total{transport="udp"}', 0) - udp_before
        drops = p.metrics().get("pvcd_udp_receive_drops_total", 0)

        # 3. Verdict.
        warm = max(30.0, seconds / 5)
        base = [s for s in samples if s[0] >= warm] or samples[-1:]
        rss0, fds0 = base[0][1], base[0][2]
        rss_max = max(s[1] for s in base)
        fds_max = max(s[2] for s in base)
        rss_limit = rss0 * (1 + args.rss_slack) + 16 * 2**20
        problems = []
        if rss_max > rss_limit:
            problems.append("RSS grew from %.1f to %.1f MiB after warm-up" % (rss0 / 2**20,
                                                                          rss_max / 2**20))
        if fds_max > fds0 + 8:
            problems.append("open fds grew from %d to %d after warm-up" % (fds0, fds_max))
        code = p.terminate(timeout=60)
        if code != 0:
            problems.append("SIGTERM: exit %s" % code)
        q = Pvcd(args.pvcd, p.data_dir, p.log_path, flush_interval="1s")
        q.start()
        http_stored = site_totals(q, "sh")
        udp_stored = site_totals(q, "su")
        churn_stored = site_totals(q, "ch")
        q.terminate()
        if http_stored != hs["acked"]:
            problems.append("http: stored %d, acknowledged %d" % (http_stored, hs["acked"]))
        if udp_stored != udp_counted or udp_stored > us["sent"]:
            problems.append("udp: stored %d, pvcd counted %d, sent %d" % (udp_stored, udp_counted,
                                                                       us["sent"]))
        if churn_stored != churn_acked:
            problems.append("churn: stored %d, acknowledged %d" % (churn_stored, churn_acked))
        print("soak: summary minutes=%.1f http=%d/s udp=%d/s (half of max %d/%d) "
              "rss_after_warmup=%.1fMiB rss_max=%.1fMiB rss_end=%.1fMiB fds_after_warmup=%d "
              "fds_max=%d fds_end=%d http_acked=%d udp_sent=%d udp_counted=%d udp_kernel_drops=%d "
              "churn_acked=%d stored_exact=%s"
              % (args.minutes, http_rate, udp_rate, hm["rate"], um["rate"], rss0 / 2**20,
                 rss_max / 2**20, samples[-1][1] / 2**20, fds0, fds_max, samples[-1][2],
                 hs["acked"], us["sent"], udp_counted, drops, churn_acked,
                 "yes" if not any(x.startswith(("http", "udp", "churn")) for x in problems)
                 else "NO"), flush=True)
        for x in problems:
            print("soak: PROBLEM: " + x, flush=True)
        ok = not problems
        return 0 if ok else 1
    finally:
        if p.running():
            p.kill()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("soak: logs and data kept in %s" % work)


if __name__ == "__main__":
    sys.exit(main())
