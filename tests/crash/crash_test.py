#!/usr/bin/env python3
"""Black-box crash test for pvcd, in the manner of RocksDB's db_crashtest.

Each round: start pvcd on the data dir of the previous rounds, drive HTTP and
UDP load with pvload, then at a random moment either `kill -9` it (a crash) or
SIGTERM it (a clean stop), restart it and compare the store with what the load
generator was told and what pvcd said it had counted. Rounds vary the flush
interval, sync_writes, the number of I/O threads and the load; some rounds also
kill pvcd while it is still starting (RocksDB recovery in progress).

HTTP and UDP load go to different sites (h0.., u0..), so the store tells the
transports apart. The checks are exact inequalities, not timing guesses:

kill -9 rounds
  upper   every (site, article): stored delta <= hits acknowledged (HTTP 2xx,
          pvload --expect) or sent (UDP): never more than was accepted.
  lower   /metrics is scraped every 20 ms during the load. Whatever pvcd had
          accepted (pvcd_hits_accepted_total) at a scrape that was followed,
          before the kill, by a scrape showing two more completed flushes
          (pvcd_flushes_total) is in the store: the flush that was running at
          the first scrape may have drained before it, the next one drained
          after it and completed. That is "at most one flush interval plus
          the flush in progress is lost", stated in flushes rather than in
          wall-clock time, so it holds on a loaded machine too.
  flushes every flush pvcd logged as done (event=flush ... views=N, logged
          after RocksDB acknowledged the batch) survived: stored delta >= sum.
  sites   a site's total equals the sum of its articles (one atomic batch).
  The wall-clock loss (kill time minus the moment the acknowledged count
  reached the stored count) is reported per round and compared with the flush
  interval plus the flush durations pvcd logged.

SIGTERM rounds (shortfall exactly zero)
  The UDP sender stops first; once pvcd's socket queues are empty and its UDP
  counter has stopped moving, SIGTERM arrives while HTTP load is in flight.
  http    every (site, article): stored delta == acknowledged, exactly.
  udp     stored delta == pvcd_hits_accepted_total{transport="udp"}, exactly.
  exit    pvcd exits 0 and its event=stopped views_written equals the delta.

Usage (ctest runs a few rounds; the long run is documented in tests/RELIABILITY.md):
  crash_test.py --pvcd build/release/daemon/pvcd --pvload build/release/bench/pvload \\
                --rounds 100 [--seed N] [--keep]
Exit 0 when every check of every round held; the last line is a summary.
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ARTICLE, Pvcd, StartError, parse_metrics, read_expect, read_progress  # noqa: E402

SITES = 3
ARTICLES = 200
HTTP_SITES = ["h%d" % i for i in range(SITES)]
UDP_SITES = ["u%d" % i for i in range(SITES)]
ARTICLE_IDS = [ARTICLE.format(i) for i in range(ARTICLES)]
HTTP_ACC = 'pvcd_hits_accepted_total{transport="http"}'
UDP_ACC = 'pvcd_hits_accepted_total{transport="udp"}'
FLUSHES = "pvcd_flushes_total"
FLUSH_LINE = re.compile(r"event=flush seq=(\d+) keys=(\d+) views=(\d+) ms=([\d.]+)")
STOPPED_LINE = re.compile(r"event=stopped flushes=(\d+) views_written=(\d+)")


def read_store(p):
    """{(site, article): total} for every key the load can touch, and the
    problems found (a site total that is not the sum of its articles)."""
    counts, problems = {}, []
    for site in HTTP_SITES + UDP_SITES:
        total, per = p.views(site, ARTICLE_IDS)
        for a, n in per.items():
            counts[(site, a)] = n
        if total != sum(per.values()):
            problems.append("site %s: total %d != sum of its articles %d"
                            % (site, total, sum(per.values())))
    return counts, problems


class Scraper(threading.Thread):
    """Scrapes /metrics every 20 ms: (t_send_ns, t_recv_ns, http, udp, flushes)."""

    def __init__(self, p):
        super().__init__(daemon=True)
        self.p = p
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            t0 = time.monotonic_ns()
            try:
                m = self.p.metrics(timeout=2.0)
            except Exception:  # pvcd killed or stopping: the samples so far stand
                return
            t1 = time.monotonic_ns()
            self.samples.append((t0, t1, m.get(HTTP_ACC, 0), m.get(UDP_ACC, 0), m.get(FLUSHES, 0)))
            self.halt.wait(0.02)

    def stop(self):
        self.halt.set()
        self.join(timeout=10)


def udp_queues_empty(port):
    """True when every socket bound to 127.0.0.1:port has nothing queued."""
    want = "0100007F:%04X" % port
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and int(fields[4].split(":")[1], 16) != 0:
                return False
    return True


def sum_sites(counts, sites):
    return sum(n for (s, _), n in counts.items() if s in sites)


class Round:
    """What one round did, for the checks made after the restart."""

    def __init__(self, number, kind):
        self.number = number
        self.kind = kind  # "kill" or "term"
        self.notes = []


def start_load(args, p, work, rnd, rng):
    seconds = args.load_seconds
    rnd.http_rate = rng.choice([5000, 15000, 0])  # 0 = as fast as it goes
    rnd.udp_rate = rng.choice([10000, 30000])
    rnd.files = {k: os.path.join(work, "r%d-%s" % (rnd.number, k))
                 for k in ("http.expect", "http.progress", "udp.expect", "udp.progress",
                           "http.out", "udp.out")}
    common = ["--seconds", str(seconds), "--sites", str(SITES), "--articles", str(ARTICLES),
              "--seed", str(rng.randrange(1 << 30))]
    http_cmd = [args.pvload, "http", "--target", "127.0.0.1:%d" % p.http,
                "--connections", str(rng.choice([2, 4, 8])), "--rate", str(rnd.http_rate),
                "--site-prefix", "h", "--expect", rnd.files["http.expect"],
                "--progress", rnd.files["http.progress"]] + common
    udp_cmd = [args.pvload, "udp", "--target", "127.0.0.1:%d" % p.udp,
               "--rate", str(rnd.udp_rate), "--lines-per-datagram", str(rng.choice([1, 10, 50])),
               "--site-prefix", "u", "--expect", rnd.files["udp.expect"],
               "--progress", rnd.files["udp.progress"]] + common
    rnd.http_load = subprocess.Popen(http_cmd, stdout=open(rnd.files["http.out"], "w"),
                                     stderr=subprocess.STDOUT)
    rnd.udp_load = subprocess.Popen(udp_cmd, stdout=open(rnd.files["udp.out"], "w"),
                                    stderr=subprocess.STDOUT)


def wait_load(proc, seconds):
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise RuntimeError("pvload did not stop by itself")


def run_kill(args, p, rnd, rng):
    scraper = Scraper(p)
    scraper.start()
    time.sleep(rnd.at)
    rnd.t_kill = time.monotonic_ns()
    p.kill()
    scraper.stop()
    rnd.udp_load.send_signal(signal.SIGTERM)
    wait_load(rnd.udp_load, 30)
    wait_load(rnd.http_load, args.load_seconds + 30)
    rnd.samples = [s for s in scraper.samples if s[1] < rnd.t_kill]


def run_term(args, p, rnd, rng):
    scraper = Scraper(p)
    scraper.start()
    time.sleep(rnd.at)
    rnd.udp_load.send_signal(signal.SIGTERM)
    wait_load(rnd.udp_load, 30)
    # Settle: queues empty, then the UDP counter unchanged over three scrapes 100 ms apart.
    deadline = time.monotonic() + 10
    seen = []
    while True:
        if time.monotonic() > deadline:
            raise RuntimeError("pvcd's UDP counter did not settle within 10 s")
        if not udp_queues_empty(p.udp):
            seen = []
        else:
            seen.append(p.metrics().get(UDP_ACC, 0))
            if len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]:
                break
        time.sleep(0.1)
    rnd.udp_settled = seen[-1]
    rnd.t_kill = time.monotonic_ns()
    rnd.exit_code = p.terminate(timeout=30)
    scraper.stop()
    wait_load(rnd.http_load, args.load_seconds + 30)
    m = STOPPED_LINE.search(p.log_text())
    rnd.views_written = int(m.group(2)) if m else None


def check_round(rnd, before, after, p_log, flush_interval_ms):
    """Returns the violations (strings); fills rnd.figures."""
    bad = []
    http_acked = read_expect(rnd.files["http.expect"])
    udp_sent = read_expect(rnd.files["udp.expect"])
    keys = set(before) | set(after)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in keys}
    for k, d in sorted(delta.items()):
        if d < 0:
            bad.append("%s %s: count went down by %d" % (k[0], k[1], -d))
    d_http = sum_sites(delta, HTTP_SITES)
    d_udp = sum_sites(delta, UDP_SITES)
    acked_total = sum(http_acked.values())
    sent_udp = sum(udp_sent.values())
    flushes = [(int(s), int(v), float(ms)) for s, _, v, ms in FLUSH_LINE.findall(p_log)]
    logged_views = sum(v for _, v, _ in flushes)
    max_flush_ms = max([ms for _, _, ms in flushes], default=0.0)
    f = rnd.figures = {"d_http": d_http, "d_udp": d_udp, "acked": acked_total,
                       "sent_udp": sent_udp, "flushes": len(flushes),
                       "max_flush_ms": max_flush_ms}

    for k, d in delta.items():
        site = k[0]
        if site in HTTP_SITES and d > http_acked.get(k, 0):
            bad.append("%s %s: stored +%d but only %d acknowledged"
                       % (site, k[1], d, http_acked.get(k, 0)))
        if site in UDP_SITES and d > udp_sent.get(k, 0):
            bad.append("%s %s: stored +%d but only %d sent" % (site, k[1], d, udp_sent.get(k, 0)))

    if rnd.kind == "kill":
        # Lower bound: accepted at scrape j, with two more flushes completed by a later scrape.
        lower_http = lower_udp = 0
        if rnd.samples:
            last_flushes = rnd.samples[-1][4]
            proven = [s for s in rnd.samples if s[4] <= last_flushes - 2]
            if proven:
                lower_http, lower_udp = proven[-1][2], proven[-1][3]
                f["frontier_ms_before_kill"] = (rnd.t_kill - proven[-1][0]) / 1e6
        f["lower_http"], f["lower_udp"] = lower_http, lower_udp
        if d_http < lower_http:
            bad.append("http: stored +%d, but pvcd had accepted %d two flushes before the kill"
                       % (d_http, lower_http))
        if d_udp < lower_udp:
            bad.append("udp: stored +%d, but pvcd had accepted %d two flushes before the kill"
                       % (d_udp, lower_udp))
        if d_http + d_udp < logged_views:
            bad.append("stored +%d, but the flushes pvcd logged as written carry %d views"
                       % (d_http + d_udp, logged_views))
        # Figures: the shortfall, in hits and in milliseconds of HTTP load.
        f["short_http"] = acked_total - d_http
        udp_seen = rnd.samples[-1][3] if rnd.samples else 0
        f["short_udp_min"] = max(0, udp_seen - d_udp)
        progress = read_progress(rnd.files["http.progress"])
        reached = [ns for ns, _, acked in progress if acked >= d_http]
        window = 0.0
        if f["short_http"] > 0 and reached:
            window = max(0.0, (rnd.t_kill - reached[0]) / 1e6)
        f["window_ms"] = window
        allowed = flush_interval_ms + 2 * max_flush_ms
        f["allowed_ms"] = allowed
        if window > allowed + 100:
            # Not a violation: the flush in progress at the kill (not logged yet) may have
            # been stuck in fsync far longer than any completed one; the exact check is
            # the lower bound above.
            rnd.notes.append("wall-clock loss %.0f ms > interval+2*max logged flush %.0f ms "
                             "(+100): a flush in progress was slow" % (window, allowed))
    else:
        if rnd.exit_code != 0:
            bad.append("SIGTERM: pvcd exited with %s" % rnd.exit_code)
        for k in set(http_acked) | {k for k in delta if k[0] in HTTP_SITES}:
            if delta.get(k, 0) != http_acked.get(k, 0):
                bad.append("%s %s: stored +%d, acknowledged %d (SIGTERM must lose nothing)"
                           % (k[0], k[1], delta.get(k, 0), http_acked.get(k, 0)))
        if d_udp != rnd.udp_settled:
            bad.append("udp: stored +%d, pvcd had accepted %d (SIGTERM must lose nothing)"
                       % (d_udp, rnd.udp_settled))
        if rnd.views_written != d_http + d_udp:
            bad.append("SIGTERM: event=stopped views_written=%s, stored +%d"
                       % (rnd.views_written, d_http + d_udp))
        f["short_http"] = acked_total - d_http
        f["short_udp_min"] = rnd.udp_settled - d_udp
    return bad


def describe(rnd):
    f = rnd.figures
    head = "round %d %s at %.3fs flush=%s sync=%s threads=%d%s" % (
        rnd.number, rnd.kind, rnd.at, rnd.flush, rnd.sync, rnd.threads,
        " +early-kill" if rnd.early else "")
    body = " http: acked=%d stored=+%d short=%d" % (f["acked"], f["d_http"], f["short_http"])
    if rnd.kind == "kill":
        body += " (%.0f ms of load; interval+2*max_flush=%.0f ms) lower=%d" % (
            f["window_ms"], f["allowed_ms"], f["lower_http"])
        body += " | udp: sent=%d stored=+%d lower=%d" % (f["sent_udp"], f["d_udp"], f["lower_udp"])
    else:
        body += " | udp: sent=%d accepted=%d stored=+%d" % (f["sent_udp"], rnd.udp_settled,
                                                            f["d_udp"])
    body += " | flushes=%d max_flush=%.0fms" % (f["flushes"], f["max_flush_ms"])
    return head + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pvcd", required=True)
    ap.add_argument("--pvload", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--load-seconds", type=float, default=3.0,
                    help="length of each round's load; the kill falls inside it")
    ap.add_argument("--term-share", type=float, default=0.25,
                    help="share of rounds that end with SIGTERM instead of kill -9")
    ap.add_argument("--work-dir", default=None, help="default: a fresh temp dir")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs, data)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    work = args.work_dir or tempfile.mkdtemp(prefix="pvcd-crash-")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "data")
    print("crash: seed=%d rounds=%d work=%s" % (seed, args.rounds, work), flush=True)

    violations = 0
    total_acked = total_sent_udp = 0
    worst = {"short_http": 0, "window_ms": 0.0, "short_udp_min": 0}
    kinds = {"kill": 0, "term": 0, "early": 0}
    prev, before = None, {}
    started = time.monotonic()
    for number in range(1, args.rounds + 2):
        last = number == args.rounds + 1
        flush_ms = rng.choice([20, 100, 250])
        sync = rng.choice(["true", "false"])
        threads = rng.choice([1, 2])
        log = os.path.join(work, "round-%d.log" % number)

        def make():
            return Pvcd(args.pvcd, data, log, flush_interval="%dms" % flush_ms, threads=threads,
                        args=["--sync-writes", sync, "--log-level", "debug"])

        early = not last and rng.random() < 0.15
        if early:
            # A crash while RocksDB opens and recovers: the next start must still work.
            q = make()
            q.spawn()
            time.sleep(rng.uniform(0.0, 0.08))
            q.kill()
            kinds["early"] += 1
        p = make()
        try:
            p.start()
        except StartError as e:
            print("crash: round %d: restart failed: %s" % (number, e), flush=True)
            violations += 1
            break
        after, problems = read_store(p)
        if prev is not None:
            bad = problems + check_round(prev, before, after, prev.log, prev.flush_ms)
            print(describe(prev), flush=True)
            for n in prev.notes:
                print("  note: " + n, flush=True)
            for b in bad[:20]:
                print("  VIOLATION: " + b, flush=True)
            violations += len(bad)
            total_acked += prev.figures["acked"]
            total_sent_udp += prev.figures["sent_udp"]
            for k in worst:
                worst[k] = max(worst[k], prev.figures.get(k, 0))
            if prev.kind == "kill":
                key = "window_nosync_ms" if prev.sync == "false" else "window_sync_ms"
                worst[key] = max(worst.get(key, 0.0), prev.figures["window_ms"])
        elif problems:
            print("  VIOLATION: " + "; ".join(problems), flush=True)
            violations += len(problems)
        before = after
        if last:
            code = p.terminate()
            if code != 0:
                print("  VIOLATION: final SIGTERM exit %s" % code, flush=True)
                violations += 1
            break

        rnd = Round(number, "term" if rng.random() < args.term_share else "kill")
        rnd.flush, rnd.flush_ms, rnd.sync, rnd.threads, rnd.early = (
            "%dms" % flush_ms, flush_ms, sync, threads, early)
        kinds[rnd.kind] += 1
        start_load(args, p, work, rnd, rng)
        if rnd.kind == "kill":
            rnd.at = rng.uniform(0.0, args.load_seconds * 0.9)
            run_kill(args, p, rnd, rng)
        else:
            rnd.at = rng.uniform(0.3, args.load_seconds * 0.8)
            run_term(args, p, rnd, rng)
        rnd.log = p.log_text()
        prev = rnd

    # A kill can land before the first ack (a round killed at 37 ms checks
    # little), but a run in which no hit was ever acknowledged or sent checked
    # nothing at all: the load never reached pvcd, and that must fail.
    if total_acked == 0 or total_sent_udp == 0:
        print("  VIOLATION: the load never ran: %d HTTP hits acknowledged, %d UDP hits sent "
              "over all rounds" % (total_acked, total_sent_udp), flush=True)
        violations += 1
    elapsed = time.monotonic() - started
    print("crash: summary rounds=%d kill9=%d sigterm=%d early_kills=%d violations=%d "
          "worst_http_shortfall=%d hits worst_loss_window=%.0f ms (sync_writes=false: %.0f ms, "
          "true: %.0f ms) worst_udp_shortfall>=%d seconds=%.0f seed=%d"
          % (kinds["kill"] + kinds["term"], kinds["kill"], kinds["term"], kinds["early"],
             violations, worst["short_http"], worst["window_ms"],
             worst.get("window_nosync_ms", 0.0), worst.get("window_sync_ms", 0.0),
             worst["short_udp_min"], elapsed, seed), flush=True)
    if violations == 0 and not args.keep and args.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("crash: logs and data kept in %s" % work)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
