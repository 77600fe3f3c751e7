#!/usr/bin/env python3
"""pvcd's metrics, dashboard and Prometheus integration, against the real binaries.

Checks (pick with --check, default all):

  exposition  start pvcd, send every kind of traffic (good and bad HTTP hits, /hit.gif,
              POST /hit, good and bad UDP lines, admin hits, 404s), then assert the exact
              values /metrics reports and that `promtool check metrics` finds no problem.
  dashboard   static checks of grafana/dashboards/pvcd.json and the provisioning files.
  prometheus  start pvcd and a real Prometheus (loopback, free port, temp storage) that
              scrapes pvcd every second and loads grafana/pvcd-rules.yml; send known
              traffic; assert through /api/v1/query that sum by (site) of pvcd_views_total
              equals what was sent, then run every dashboard expression and the site
              variable query and fail on an error or on no data; the rules must evaluate
              without error and no alert may be firing. The Cluster row's expressions
              (pvcd_cluster_*) are left to the next check: an embedded pvcd has none.
  cluster     a cluster-mode pvcd counting into a real redis-server in cluster mode (one
              master holding every slot: enough to feed every pvcd_cluster_* series; the
              six-process cluster and its faults are tests/integration/cluster_mode_test.cpp),
              scraped by a real Prometheus: every Cluster-row expression has data.

Standard library only. Everything binds 127.0.0.1 and is stopped on exit, also on failure.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))

# Bounds: every wait in this file stops by itself.
START_TIMEOUT = 15.0  # pvcd or Prometheus listening and ready
COUNT_TIMEOUT = 30.0  # Prometheus shows the exact counts
PANEL_TIMEOUT = 30.0  # every dashboard expression has data

SITES = ("alpha", "beta", "gamma")  # pvcd runs with --max-sites 3: a 4th site is refused
OVER_LIMIT_SITE = "zeta"
TIMEZONE = "Asia/Ho_Chi_Minh"  # pvcd's default, passed explicitly for the "today" check

# Dashboard variables replaced the way Grafana would, with windows that fit a test
# Prometheus scraping every second.
RATE_INTERVAL = "30s"
INTERVAL = "2s"
RANGE = "5m"

# The fixed reason set of pvcd_hits_rejected_total (daemon/core/reject_reason.hpp).
REASONS = ("malformed", "bad_site", "bad_article", "bad_count", "site_limit", "bot", "rate_limit",
           "cardinality", "signature", "duplicate")
TRANSPORTS = ("http", "udp", "admin")


class TestFailure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def log(message):
    print(message, flush=True)


# ---------------------------------------------------------------------------- processes


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process with its output in a file, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.log_path = log_path
        self.log_file = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        WATCHED.append(self)

    def output(self):
        with open(self.log_path, "r", encoding="utf-8", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10.0):
        """Returns the exit code; None if it had to be killed."""
        if self in WATCHED:
            WATCHED.remove(self)
        code = self.proc.poll()
        if code is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                code = None
        self.log_file.close()
        return code

    def tail(self, lines=30):
        return "\n".join(self.output().splitlines()[-lines:])


class Pvcd(Process):
    LISTENING = re.compile(r"event=listening transport=(\w+) address=(\S+)")

    def __init__(self, binary, workdir, extra=()):
        argv = [binary, "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--admin",
                "127.0.0.1:0", "--data-dir", os.path.join(workdir, "data"),
                "--flush-interval", "200ms", "--threads", "2", "--max-sites", str(len(SITES)),
                "--timezone", TIMEZONE, *extra]
        super().__init__("pvcd", argv, os.path.join(workdir, "pvcd.log"))
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self):
        self.addr = {}
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            out = self.output()
            if "event=ready" in out:
                break
            check(self.alive(), f"pvcd exited with {self.proc.returncode}:\n{out}")
            check(time.monotonic() < deadline, f"pvcd not ready in {START_TIMEOUT}s:\n{out}")
            time.sleep(0.05)
        for transport, address in self.LISTENING.findall(out):
            host, port = address.rsplit(":", 1)
            check(host == "127.0.0.1", f"pvcd {transport} listens on {address}, not loopback")
            self.addr[transport] = (host, int(port))
        check(set(self.addr) == {"http", "udp", "admin"}, f"listening lines missing:\n{out}")

    def request(self, listener, method, target, body=None, headers=None):
        conn = http.client.HTTPConnection(*self.addr[listener], timeout=5)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            res = conn.getresponse()
            return res.status, res.getheader("Content-Type"), res.read()
        finally:
            conn.close()

    def metrics_text(self):
        status, ctype, body = self.request("admin", "GET", "/metrics")
        check(status == 200, f"/metrics answered {status}")
        check(ctype.startswith("text/plain; version=0.0.4"), f"/metrics Content-Type {ctype}")
        return body.decode("utf-8")

    def send_udp(self, datagrams):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for d in datagrams:
                s.sendto(d, self.addr["udp"])


class RedisClusterOfOne(Process):
    """One redis-server in cluster mode, owning all 16384 slots (no persistence)."""

    def __init__(self, server, cli, workdir):
        self.cli = cli
        self.port = free_port()
        bus = free_port()  # port + 10000 may not exist: name the bus port
        data = os.path.join(workdir, "redis")
        os.makedirs(data)
        argv = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", data,
                "--cluster-enabled", "yes", "--cluster-port", str(bus),
                "--cluster-config-file", "nodes.conf", "--appendonly", "no", "--save", ""]
        super().__init__("redis-server", argv, os.path.join(workdir, "redis.log"))
        try:
            wait_for(lambda: self.alive() and self.command("PING") == "PONG", START_TIMEOUT,
                     "redis-server to answer PING")
            check(self.command("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == "OK",
                  "CLUSTER ADDSLOTSRANGE failed")
            wait_for(lambda: "cluster_state:ok" in self.command("CLUSTER", "INFO"),
                     START_TIMEOUT, "the one-node cluster to be ok")
        except BaseException:
            self.stop()
            raise

    def command(self, *args):
        r = subprocess.run([self.cli, "-p", str(self.port), *args], capture_output=True,
                           text=True, timeout=5)
        return r.stdout.strip()


class Prometheus(Process):
    def __init__(self, binary, workdir, pvcd_admin, rules_path):
        self.port = free_port()
        config = os.path.join(workdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(
                "global:\n"
                "  scrape_interval: 1s\n"
                "  evaluation_interval: 1s\n"
                f"rule_files:\n  - {json.dumps(rules_path)}\n"
                "scrape_configs:\n"
                "  - job_name: pvcd\n"
                "    static_configs:\n"
                f"      - targets: [\"{pvcd_admin[0]}:{pvcd_admin[1]}\"]\n")
        argv = [binary, f"--config.file={config}",
                f"--storage.tsdb.path={os.path.join(workdir, 'tsdb')}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        super().__init__("prometheus", argv, os.path.join(workdir, "prometheus.log"))
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            check(self.alive(), f"prometheus exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url("/-/ready"), timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            check(time.monotonic() < deadline,
                  f"prometheus not ready in {START_TIMEOUT}s:\n{self.tail()}")
            time.sleep(0.1)

    def url(self, path, **params):
        q = ("?" + urllib.parse.urlencode(params)) if params else ""
        return f"http://127.0.0.1:{self.port}{path}{q}"

    def api(self, path, **params):
        """The decoded JSON answer of an API call; HTTP 4xx answers carry JSON errors too."""
        try:
            with urllib.request.urlopen(self.url(path, **params), timeout=5) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def query(self, expr):
        """(result list, error string or None) of an instant query."""
        doc = self.api("/api/v1/query", query=expr)
        if doc.get("status") != "success":
            return None, f"{doc.get('errorType')}: {doc.get('error')}"
        return doc["data"]["result"], None


# ----------------------------------------------------------------------------- traffic


class Expected:
    """What pvcd must report after `send_traffic`."""

    def __init__(self):
        self.views = {s: 0 for s in SITES}  # per site
        self.hits = {t: 0 for t in TRANSPORTS}  # accepted, per transport
        self.transport_views = {t: 0 for t in TRANSPORTS}
        self.rejected = {(t, r): 0 for t in TRANSPORTS for r in REASONS}
        self.requests = {}  # (route, code) -> n, routes other than /metrics
        self.datagrams = 0

    def accept(self, transport, site, count=1):
        self.views[site] += count
        self.hits[transport] += 1
        self.transport_views[transport] += count

    def reject(self, transport, reason):
        self.rejected[(transport, reason)] += 1

    def answered(self, route, code):
        self.requests[(route, code)] = self.requests.get((route, code), 0) + 1


def warm_up(pvcd, exp):
    """One hit per site, flushed: pvcd_views_total{site} only exists after a site's first
    flush, and Prometheus's rate() and increase() cannot see a series' first value. With the
    series in place before the first scrape, the traffic sent later shows in every rate."""
    for site in SITES:
        status, _, answer = pvcd.request("http", "GET", f"/hit?s={site}&a=warm-up")
        check(status == 204, f"warm-up hit for {site} answered {status} ({answer!r})")
        exp.accept("http", site)
        exp.answered("/hit", "204")
    wait_for(lambda: all(parse_exposition(pvcd.metrics_text()).value(
        "pvcd_views_total", site=s) == 1 for s in SITES), 10.0, "the warm-up hits to be flushed")


def send_traffic(pvcd, exp):
    """Every kind of hit pvcd takes, good and bad, with the outcome each must have."""

    def http(listener, method, target, route, code, body=None, ctype=None):
        headers = {"Content-Type": ctype} if ctype else {}
        status, _, answer = pvcd.request(listener, method, target, body, headers)
        check(status == code, f"{method} {target} answered {status} ({answer!r}), want {code}")
        exp.answered(route, str(code))

    # Good hits first, so that the three sites are registered before the over-limit one.
    for i in range(7):
        http("http", "GET", f"/hit?s=alpha&a=post-{i % 3}&r={i}", "/hit", 204)
        exp.accept("http", "alpha")
    for i in range(3):
        http("http", "GET", f"/hit.gif?s=alpha&a=gif-{i}", "/hit.gif", 200)
        exp.accept("http", "alpha")
    for i in range(4):  # navigator.sendBeacon posts text/plain
        http("http", "POST", "/hit", "/hit", 204, body=f"s=beta&a=b-{i}", ctype="text/plain")
        exp.accept("http", "beta")
    http("http", "POST", "/hit?s=beta", "/hit", 204, body="a=%2Fnews%2F1",
         ctype="application/x-www-form-urlencoded")
    exp.accept("http", "beta")

    good = [b"alpha u1\nbeta u2 5\ngamma u3 2\n", b"beta u4 10", b"alpha u5 3\r\n"]
    pvcd.send_udp(good)
    exp.datagrams += len(good)
    for site, count in (("alpha", 1), ("beta", 5), ("gamma", 2), ("beta", 10), ("alpha", 3)):
        exp.accept("udp", site, count)

    http("admin", "POST", "/admin/v1/hit?s=gamma&a=g1&n=50", "/admin/v1/hit", 204)
    exp.accept("admin", "gamma", 50)
    http("admin", "POST", "/admin/v1/hit", "/admin/v1/hit", 204, body="s=alpha&a=g2",
         ctype="application/x-www-form-urlencoded")
    exp.accept("admin", "alpha")

    # UDP is asynchronous: wait until pvcd has taken all of it, so the sites are known.
    wait_for(lambda: parse_exposition(pvcd.metrics_text()).value(
        "pvcd_hits_accepted_total", transport="udp") == exp.hits["udp"],
        10.0, "pvcd to count the good UDP lines")

    # Bad hits, one of each reason per transport that can produce it.
    http("http", "GET", "/hit?s=alpha&a=1&a=2", "/hit", 400)
    exp.reject("http", "malformed")
    http("http", "GET", "/hit?s=%zz&a=x", "/hit", 400)
    exp.reject("http", "bad_site")
    http("http", "GET", "/hit?s=alpha", "/hit", 400)
    exp.reject("http", "bad_article")
    http("http", "GET", "/hit.gif?s=alpha&a=%zz", "/hit.gif", 400)
    exp.reject("http", "bad_article")
    http("http", "GET", f"/hit?s={OVER_LIMIT_SITE}&a=x", "/hit", 400)
    exp.reject("http", "site_limit")

    bad = [b"alpha\nalpha u 0\n%zz u\nalpha %zz\n" + OVER_LIMIT_SITE.encode() + b" u\n"
           b"alpha  u\ngamma u6\n"]
    pvcd.send_udp(bad)
    exp.datagrams += len(bad)
    for reason in ("malformed", "bad_count", "bad_site", "bad_article", "site_limit",
                   "malformed"):
        exp.reject("udp", reason)
    exp.accept("udp", "gamma")

    http("admin", "POST", "/admin/v1/hit?s=gamma&a=g1&n=0", "/admin/v1/hit", 400)
    exp.reject("admin", "bad_count")
    http("admin", "POST", "/admin/v1/hit?s=gamma", "/admin/v1/hit", 400)
    exp.reject("admin", "bad_article")
    http("admin", "POST", "/admin/v1/hit?s=gamma&s=beta&a=x", "/admin/v1/hit", 400)
    exp.reject("admin", "malformed")
    http("admin", "POST", f"/admin/v1/hit?s={OVER_LIMIT_SITE}&a=x&n=2", "/admin/v1/hit", 400)
    exp.reject("admin", "site_limit")

    # Not hits: other routes and statuses.
    http("http", "GET", "/no-such-page", "other", 404)
    http("admin", "GET", "/admin/v1/nothing", "other", 404)
    http("http", "DELETE", "/hit?s=alpha&a=1", "/hit", 405)
    http("admin", "GET", "/admin/v1/hit?s=alpha&a=1", "/admin/v1/hit", 405)
    http("http", "GET", "/healthz", "/healthz", 200)
    http("http", "GET", "/api/v1/views?s=alpha&a=gif-0", "/api/v1/views", 200)


# Processes the test started; a wait fails at once, with the log, when one of them dies.
WATCHED = []


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        for p in WATCHED:
            check(p.alive(), f"{p.name} exited with {p.proc.returncode} while waiting for "
                             f"{what}:\n{p.tail()}")
        check(time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


# -------------------------------------------------------------------------- exposition


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*')


class Exposition:
    def __init__(self):
        self.samples = []  # (name, {labels}, value)
        self.types = {}

    def find(self, name, **labels):
        return [(l, v) for n, l, v in self.samples
                if n == name and all(l.get(k) == w for k, w in labels.items())]

    def value(self, name, **labels):
        """The value of the one sample matching; None if there is none."""
        found = self.find(name, **labels)
        if not found:
            return None
        check(len(found) == 1, f"{name}{labels} matches {len(found)} samples")
        return found[0][1]


def parse_exposition(text):
    exp = Exposition()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            exp.types[name] = kind
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        check(m is not None, f"cannot parse exposition line {line!r}")
        labels = dict(LABEL.findall(m.group(2) or ""))
        exp.samples.append((m.group(1), labels, float(m.group(3))))
    return exp


def today_in(tz):
    return datetime.datetime.now(zoneinfo.ZoneInfo(tz)).date()


def check_exposition(args, workdir):
    pvcd = Pvcd(args.pvcd, workdir)
    try:
        started = time.time()
        day = today_in(TIMEZONE)
        exp = Expected()
        send_traffic(pvcd, exp)

        # Everything is counted once the flusher has written every view and holds no key.
        def settled():
            m = parse_exposition(pvcd.metrics_text())
            return (all(m.value("pvcd_views_total", site=s) == n for s, n in exp.views.items())
                    and m.value("pvcd_tracked_keys") == 0
                    and m.value("pvcd_flush_duration_seconds_count") ==
                    m.value("pvcd_flushes_total"))
        wait_for(settled, 10.0, "pvcd to flush every view")
        text = pvcd.metrics_text()
        m = parse_exposition(text)

        lint = subprocess.run([args.promtool, "check", "metrics"], input=text.encode(),
                              capture_output=True, timeout=30)
        check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
              f"promtool check metrics failed (rc={lint.returncode}):\n"
              f"{lint.stdout.decode()}{lint.stderr.decode()}")
        log("ok: promtool check metrics finds no problem")

        types = {
            "pvcd_views_total": "counter", "pvcd_site_views": "gauge",
            "pvcd_hits_accepted_total": "counter", "pvcd_views_accepted_total": "counter",
            "pvcd_hits_rejected_total": "counter", "pvcd_udp_datagrams_total": "counter",
            "pvcd_udp_receive_drops_total": "counter", "pvcd_http_requests_total": "counter",
            "pvcd_http_request_duration_seconds": "histogram", "pvcd_flushes_total": "counter",
            "pvcd_flush_errors_total": "counter", "pvcd_flush_duration_seconds": "histogram",
            "pvcd_flushed_keys_total": "counter", "pvcd_last_flush_timestamp_seconds": "gauge",
            "pvcd_tracked_keys": "gauge", "pvcd_sites": "gauge", "pvcd_build_info": "gauge",
            "process_cpu_seconds_total": "counter", "process_resident_memory_bytes": "gauge",
            "process_open_fds": "gauge", "process_max_fds": "gauge",
            "process_start_time_seconds": "gauge",
        }
        for name, kind in types.items():
            check(m.types.get(name) == kind, f"{name} has TYPE {m.types.get(name)}, want {kind}")

        for site, n in exp.views.items():
            check(m.value("pvcd_views_total", site=site) == n,
                  f"pvcd_views_total{{site={site}}} = "
                  f"{m.value('pvcd_views_total', site=site)}, sent {n}")
            check(m.value("pvcd_site_views", site=site, period="total") == n,
                  f"pvcd_site_views{{site={site},period=total}} = "
                  f"{m.value('pvcd_site_views', site=site, period='total')}, sent {n}")
            if today_in(TIMEZONE) == day:  # not across a midnight
                check(m.value("pvcd_site_views", site=site, period="today") == n,
                      f"pvcd_site_views{{site={site},period=today}} = "
                      f"{m.value('pvcd_site_views', site=site, period='today')}, sent {n}")
            check(m.value("pvcd_site_views", site=site, period="yesterday") == 0,
                  f"pvcd_site_views{{site={site},period=yesterday}} is not 0")
            check(m.value("pvcd_site_views", site=site, period="this_month") is not None,
                  f"pvcd_site_views{{site={site},period=this_month}} missing")
        check(not m.find("pvcd_views_total", site=OVER_LIMIT_SITE)
              and not m.find("pvcd_site_views", site=OVER_LIMIT_SITE),
              f"the refused site {OVER_LIMIT_SITE} appears in the metrics")
        check(m.value("pvcd_sites") == len(SITES), f"pvcd_sites = {m.value('pvcd_sites')}")

        for t in TRANSPORTS:
            check(m.value("pvcd_hits_accepted_total", transport=t) == exp.hits[t],
                  f"pvcd_hits_accepted_total{{transport={t}}} = "
                  f"{m.value('pvcd_hits_accepted_total', transport=t)}, want {exp.hits[t]}")
            check(m.value("pvcd_views_accepted_total", transport=t) == exp.transport_views[t],
                  f"pvcd_views_accepted_total{{transport={t}}} = "
                  f"{m.value('pvcd_views_accepted_total', transport=t)}, "
                  f"want {exp.transport_views[t]}")
        for (t, r), n in exp.rejected.items():
            got = m.value("pvcd_hits_rejected_total", transport=t, reason=r)
            check(got == n, f"pvcd_hits_rejected_total{{transport={t},reason={r}}} = {got}, "
                            f"want {n}")
        check(m.value("pvcd_udp_datagrams_total") == exp.datagrams,
              f"pvcd_udp_datagrams_total = {m.value('pvcd_udp_datagrams_total')}, "
              f"sent {exp.datagrams}")
        check(m.value("pvcd_udp_receive_drops_total") == 0, "pvcd_udp_receive_drops_total != 0")

        for (route, code), n in exp.requests.items():
            got = m.value("pvcd_http_requests_total", route=route, code=code)
            check(got == n, f"pvcd_http_requests_total{{route={route},code={code}}} = {got}, "
                            f"want {n}")
        routes = {r for r, _ in exp.requests}
        for labels, _ in m.find("pvcd_http_requests_total"):
            check(labels["route"] in routes | {"/metrics"},
                  f"unexpected pvcd_http_requests_total{labels}")
        check((m.value("pvcd_http_requests_total", route="/metrics", code="200") or 0) >= 1,
              "the earlier /metrics requests are not counted")
        for route in routes:
            want = sum(n for (r, _), n in exp.requests.items() if r == route)
            check_histogram(m, "pvcd_http_request_duration_seconds", want, route=route)

        flushes = m.value("pvcd_flushes_total")
        check(flushes >= 1, "pvcd_flushes_total is 0")
        check_histogram(m, "pvcd_flush_duration_seconds", flushes)
        check(m.value("pvcd_flush_errors_total") == 0, "pvcd_flush_errors_total != 0")
        check(m.value("pvcd_flushed_keys_total") >= 1, "pvcd_flushed_keys_total is 0")
        last = m.value("pvcd_last_flush_timestamp_seconds")
        check(started - 1 <= last <= time.time() + 1,
              f"pvcd_last_flush_timestamp_seconds {last} not within the test's run")

        info = m.find("pvcd_build_info")
        check(len(info) == 1 and info[0][1] == 1 and info[0][0].get("version")
              and info[0][0].get("revision"), f"pvcd_build_info is {info}")
        rss = m.value("process_resident_memory_bytes")
        check(rss and rss > 1 << 20, f"process_resident_memory_bytes = {rss}")
        fds, max_fds = m.value("process_open_fds"), m.value("process_max_fds")
        check(fds and max_fds and 0 < fds <= max_fds, f"open fds {fds}, max {max_fds}")
        check(m.value("process_cpu_seconds_total") >= 0, "process_cpu_seconds_total missing")
        start = m.value("process_start_time_seconds")
        # /proc/stat's boot time is whole seconds: allow for that on top of the start-up time.
        check(started - START_TIMEOUT - 2 <= start <= time.time() + 2,
              f"process_start_time_seconds {start} is not when pvcd started ({started})")
        log(f"ok: /metrics reports exactly the traffic sent ({sum(exp.views.values())} views, "
            f"{sum(exp.rejected.values())} rejected hits)")
    finally:
        code = pvcd.stop()
    check(code == 0, f"pvcd exited with {code}:\n{pvcd.tail()}")


def check_histogram(m, name, count, **labels):
    buckets = sorted(((float(l["le"]), v) for l, v in m.find(name + "_bucket", **labels)),
                     key=lambda b: b[0])
    what = f"{name}{labels}"
    check(buckets, f"{what} has no buckets")
    check(buckets[-1][0] == math.inf, f"{what} has no +Inf bucket")
    check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
          f"{what} buckets are not cumulative: {buckets}")
    check(buckets[-1][1] == count and m.value(name + "_count", **labels) == count,
          f"{what}: +Inf bucket {buckets[-1][1]}, _count {m.value(name + '_count', **labels)}, "
          f"want {count}")
    total = m.value(name + "_sum", **labels)
    check(total is not None and total >= 0, f"{what}_sum is {total}")


# --------------------------------------------------------------------------- dashboard


SITE_METRICS = ("pvcd_views_total", "pvcd_site_views")
REQUIRED_METRICS = (
    "pvcd_views_total", "pvcd_site_views", "pvcd_hits_rejected_total",
    "pvcd_udp_receive_drops_total", "pvcd_http_requests_total",
    "pvcd_http_request_duration_seconds_bucket", "pvcd_flush_duration_seconds_bucket",
    "pvcd_flush_errors_total", "pvcd_tracked_keys", "process_resident_memory_bytes", "up",
    # The Cluster row (cluster mode; check_cluster feeds it).
    "pvcd_cluster_outbox_flushes", "pvcd_cluster_outbox_oldest_age_seconds",
    "pvcd_cluster_ship_errors_total", "pvcd_cluster_ship_duplicates_total",
    "pvcd_cluster_ship_gaps_total", "pvcd_cluster_redirects_total",
    "pvcd_cluster_read_cache_total", "pvcd_cluster_shipped_keys_total")


def load_dashboard(grafana_dir):
    with open(os.path.join(grafana_dir, "dashboards", "pvcd.json")) as f:
        return json.load(f)


def all_panels(dash):
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", [])  # a collapsed row keeps its panels inside


def panel_exprs(dash):
    """(panel title, refId, expr) for every target of every panel."""
    for p in all_panels(dash):
        for t in p.get("targets", []):
            yield p["title"], t.get("refId"), t["expr"]


def substitute(expr, site):
    for var, value in (("$__rate_interval", RATE_INTERVAL), ("$__interval", INTERVAL),
                       ("$__range", RANGE), ("${site}", site), ("$site", site)):
        expr = expr.replace(var, value)
    check("$" not in expr.replace("$labels", ""), f"unknown variable left in {expr}")
    return expr


def check_dashboard(args, _workdir):
    g = args.grafana_dir
    dash = load_dashboard(g)
    check(dash.get("uid") == "pvcd", f"dashboard uid {dash.get('uid')}")
    check(dash.get("schemaVersion", 0) >= 39, f"schemaVersion {dash.get('schemaVersion')}")
    check(dash.get("id") is None, "a dashboard to import must have id null")
    check("__inputs" not in dash, "__inputs makes provisioning fail: use the datasource variable")

    variables = {v["name"]: v for v in dash["templating"]["list"]}
    ds = variables.get("datasource")
    check(ds and ds["type"] == "datasource" and ds["query"] == "prometheus",
          f"datasource variable is {ds}")
    site = variables.get("site")
    check(site and site["type"] == "query" and site["multi"] and site["includeAll"],
          f"site variable is {site}")
    check(re.fullmatch(r'label_values\(pvcd_site_views(\{job="pvcd"\})?, site\)',
                       site["definition"]) and site["query"] == site["definition"],
          f"site variable query is {site['query']}")
    check(site["datasource"]["uid"] == "${datasource}", "site variable ignores $datasource")

    ids, used = set(), set()
    boxes = []
    for p in all_panels(dash):
        check(p["id"] not in ids, f"panel id {p['id']} is used twice")
        ids.add(p["id"])
        gp = p["gridPos"]
        check(gp["x"] >= 0 and gp["w"] > 0 and gp["x"] + gp["w"] <= 24,
              f"panel {p['title']} does not fit the 24-column grid: {gp}")
        for other_title, o in boxes:
            overlap = (gp["x"] < o["x"] + o["w"] and o["x"] < gp["x"] + gp["w"]
                       and gp["y"] < o["y"] + o["h"] and o["y"] < gp["y"] + gp["h"])
            check(not overlap, f"panels {p['title']} and {other_title} overlap")
        boxes.append((p["title"], gp))
        if p["type"] == "row":
            continue
        check(p.get("datasource", {}).get("uid") == "${datasource}",
              f"panel {p['title']} does not use $datasource")
        check(p.get("targets"), f"panel {p['title']} has no query")
        for t in p["targets"]:
            check(t.get("datasource", {}).get("uid") == "${datasource}",
                  f"panel {p['title']} target {t.get('refId')} does not use $datasource")
            expr = t["expr"]
            check('job="pvcd"' in expr, f"panel {p['title']}: {expr} does not select job=\"pvcd\"")
            for metric in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?=\{)", expr):
                used.add(metric)
                if metric in SITE_METRICS:
                    check(re.search(metric + r'\{[^}]*site=~"\$site"', expr),
                          f"panel {p['title']}: {metric} is not filtered by site=~\"$site\"")
    missing = [m for m in REQUIRED_METRICS if m not in used]
    check(not missing, f"no panel shows {missing}")
    check(any(re.search(r'\bup\{job="pvcd"\}', e) for _, _, e in panel_exprs(dash)),
          "no up{job=\"pvcd\"} panel")

    # The provisioning files agree with the dashboard and with the README.
    with open(os.path.join(g, "provisioning", "datasources", "pvcd.yaml")) as f:
        ds_yaml = f.read()
    check(re.search(r"^\s+type: prometheus$", ds_yaml, re.M)
          and re.search(r"^\s+url: http://127\.0\.0\.1:9090$", ds_yaml, re.M),
          "the data source is not a Prometheus at http://127.0.0.1:9090")
    with open(os.path.join(g, "provisioning", "dashboards", "pvcd.yaml")) as f:
        db_yaml = f.read()
    path = re.search(r"^\s+path: (\S+)$", db_yaml, re.M)
    check(path and re.search(r"^\s+type: file$", db_yaml, re.M),
          "the dashboard provider is not a file provider with a path")
    with open(os.path.join(g, "README.md")) as f:
        readme = f.read()
    check(f"{path.group(1)}/pvcd.json" in readme,
          f"README does not install the dashboard into the provider's path {path.group(1)}")
    for name in ("provisioning/datasources/pvcd.yaml", "provisioning/dashboards/pvcd.yaml",
                 "pvcd-rules.yml", "prometheus.yml"):
        check(name in readme, f"README does not mention {name}")
    log(f"ok: dashboard has {len(ids)} panels, all on $datasource; provisioning consistent")


# -------------------------------------------------------------------------- prometheus


def check_prometheus(args, workdir):
    dash = load_dashboard(args.grafana_dir)
    rules = os.path.join(args.grafana_dir, "pvcd-rules.yml")
    pvcd = prom = None
    try:
        pvcd = Pvcd(args.pvcd, workdir)
        exp = Expected()
        warm_up(pvcd, exp)
        prom = Prometheus(args.prometheus, os.path.join(workdir), pvcd.addr["admin"], rules)
        log(f"prometheus on 127.0.0.1:{prom.port} scraping pvcd admin "
            f"{pvcd.addr['admin'][0]}:{pvcd.addr['admin'][1]}")

        # Send only after the first scrape, so every rate() window sees the counters move.
        wait_for(lambda: prom.query('up{job="pvcd"} == 1')[0], START_TIMEOUT,
                 "Prometheus's first successful scrape of pvcd")
        send_traffic(pvcd, exp)

        # The exact count, through Prometheus.
        last = {}

        def counts_match():
            result, error = prom.query('sum by (site) (pvcd_views_total{job="pvcd"})')
            check(error is None, f"query failed: {error}")
            last.clear()
            last.update({r["metric"].get("site"): float(r["value"][1]) for r in result})
            return last == {s: float(n) for s, n in exp.views.items()}
        try:
            wait_for(counts_match, COUNT_TIMEOUT, "Prometheus to show the views sent")
        except TestFailure as e:
            raise TestFailure(f"{e}: sum by (site) (pvcd_views_total) is {last}, "
                              f"sent {exp.views}") from None
        log(f"ok: Prometheus sum by (site) (pvcd_views_total) = {exp.views}, exactly as sent")

        result, error = prom.query(
            'sum by (transport, reason) (pvcd_hits_rejected_total{job="pvcd"})')
        check(error is None, f"query failed: {error}")
        rejected = {(r["metric"]["transport"], r["metric"]["reason"]): float(r["value"][1])
                    for r in result}
        check(rejected == {k: float(v) for k, v in exp.rejected.items()},
              f"Prometheus pvcd_hits_rejected_total {rejected}, want {exp.rejected}")
        log("ok: Prometheus pvcd_hits_rejected_total matches every (transport, reason)")

        # The site variable: Grafana runs label_values() as a series-label lookup.
        site_var = next(v for v in dash["templating"]["list"] if v["name"] == "site")
        m = re.fullmatch(r"label_values\((.+), (\w+)\)", site_var["query"])
        check(m, f"cannot run the site variable query {site_var['query']}")
        doc = prom.api(f"/api/v1/label/{m.group(2)}/values", **{"match[]": m.group(1)})
        check(doc["status"] == "success" and sorted(doc["data"]) == sorted(SITES),
              f"site variable values {doc}, want {sorted(SITES)}")
        log(f"ok: site variable lists {sorted(doc['data'])}")

        check_panels(prom, dash, cluster=False)
        check_rules(prom)
    except TestFailure:
        for p in (pvcd, prom):
            if p is not None:
                log(f"--- {p.name} log (tail) ---\n{p.tail()}")
        raise
    finally:
        codes = {p.name: p.stop() for p in (prom, pvcd) if p is not None}
    check(all(c == 0 for c in codes.values()), f"exit codes {codes}")


def check_cluster(args, workdir):
    dash = load_dashboard(args.grafana_dir)
    rules = os.path.join(args.grafana_dir, "pvcd-rules.yml")
    redis = pvcd = prom = None
    try:
        redis = RedisClusterOfOne(args.redis_server, args.redis_cli, workdir)
        pvcd = Pvcd(args.pvcd, workdir, extra=(
            "--redis-cluster", f"127.0.0.1:{redis.port}", "--redis-wait-replicas", "0",
            "--node-name", "metrics-node"))
        prom = Prometheus(args.prometheus, workdir, pvcd.addr["admin"], rules)
        wait_for(lambda: prom.query('up{job="pvcd"} == 1')[0], START_TIMEOUT,
                 "Prometheus's first successful scrape of pvcd")
        article = urllib.parse.quote("/gioi-thieu/so-noi-vu", safe="")  # "Giới thiệu" as a slug

        def traffic():
            """A hit and a read on every site: shipping, and reads through the cache."""
            for site in SITES:
                status, _, _ = pvcd.request("http", "GET", f"/hit?s={site}&a={article}")
                check(status == 204, f"hit on {site} answered {status}")
                status, _, _ = pvcd.request("http", "GET", f"/api/v1/views?s={site}&a={article}")
                check(status in (200, 503), f"read of {site} answered {status}")
        traffic()
        check_panels(prom, dash, cluster=True, poke=traffic)
        m = parse_exposition(pvcd.metrics_text())
        check(m.value("pvcd_cluster_node_info", node="metrics-node") == 1,
              "pvcd_cluster_node_info{node=\"metrics-node\"} is not 1")
        check((m.value("pvcd_cluster_shipped_keys_total") or 0) > 0, "no key shipped")
        log("ok: the cluster-mode pvcd shipped keys and fed every Cluster panel")
    except TestFailure:
        for p in (redis, pvcd, prom):
            if p is not None:
                log(f"--- {p.name} log (tail) ---\n{p.tail()}")
        raise
    finally:
        codes = {p.name: p.stop() for p in (prom, pvcd, redis) if p is not None}
    check(all(c == 0 for c in codes.values()), f"exit codes {codes}")


def check_panels(prom, dash, cluster, poke=None):
    """Every expression of the dashboard returns data: those of the Cluster row (pvcd_cluster_*)
    when `cluster`, the others otherwise. `poke` runs between polls (traffic that keeps the
    rates above 0)."""
    exprs = [e for e in panel_exprs(dash) if ("pvcd_cluster_" in e[2]) == cluster]
    check(exprs, "the dashboard has no expressions")
    # All sites (the All option's ".*") and a multi-value selection as Grafana formats it.
    variants = [".*", "(" + "|".join(SITES[:2]) + ")"]
    pending = [(title, ref, substitute(expr, site), site)
               for title, ref, expr in exprs for site in variants if "$site" in expr or
               site == variants[0]]
    deadline = time.monotonic() + PANEL_TIMEOUT
    why = {}
    while pending:
        still = []
        for title, ref, expr, site in pending:
            result, error = prom.query(expr)
            if error is not None:  # a bad expression does not get better: fail now
                raise TestFailure(f"panel {title!r} {ref}: {expr}\n  error: {error}")
            values = [float(r["value"][1]) for r in result]
            if values and any(not math.isnan(v) for v in values):
                continue
            why[(title, ref, site)] = f"{expr}\n  returned {result}"
            still.append((title, ref, expr, site))
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise TestFailure("no data after %ss for:\n%s" % (PANEL_TIMEOUT, "\n".join(
                    f"panel {t!r} {r} (site={s}): {why[(t, r, s)]}" for t, r, _, s in pending)))
            if poke:
                poke()
            time.sleep(0.5)
    log(f"ok: all {len(exprs)} dashboard expressions return data ($site as "
        f"{' and '.join(variants)})")
    if cluster:
        return

    # Data is not enough for the main panel: it must show the traffic, for every site.
    views_rate = [e for _, _, e in exprs if "rate(pvcd_views_total" in e]
    check(views_rate, "no panel shows rate(pvcd_views_total)")
    for expr in views_rate:
        result, error = prom.query(substitute(expr, variants[0]))
        check(error is None, f"{expr}: {error}")
        rates = {r["metric"].get("site"): float(r["value"][1]) for r in result}
        check(set(rates) == set(SITES) and all(v > 0 for v in rates.values()),
              f"{expr} = {rates}: want a positive rate for each of {SITES}")
    log("ok: views/s by site is positive for every site that got traffic")


def check_rules(prom):
    want = {"PvcdDown", "PvcdFlushErrors", "PvcdUdpDrops", "PvcdNoViews"}
    state = {}

    def evaluated():
        doc = prom.api("/api/v1/rules")
        check(doc["status"] == "success", f"/api/v1/rules: {doc}")
        state.clear()
        for group in doc["data"]["groups"]:
            for r in group["rules"]:
                state[r["name"]] = r
        return (set(state) == want
                and all(not r["lastEvaluation"].startswith("0001") for r in state.values()))
    wait_for(evaluated, 10.0, f"the rules {sorted(want)} to be loaded and evaluated")
    for name, r in state.items():
        check(r["health"] == "ok", f"rule {name} health {r['health']}: {r.get('lastError')}")
        check(r["labels"].get("severity") in ("critical", "warning"),
              f"rule {name} has no severity label")
        check(r["annotations"].get("summary") and r["annotations"].get("description"),
              f"rule {name} lacks summary or description")

    # With pvcd up and views just written, nothing must be firing (PvcdNoViews may have fired
    # before the traffic, in the UTC daytime: it has to clear).
    def quiet():
        alerts = prom.api("/api/v1/alerts")["data"]["alerts"]
        state["firing"] = [a for a in alerts if a["state"] == "firing"]
        return not state["firing"]
    try:
        wait_for(quiet, 10.0, "no alert to be firing")
    except TestFailure as e:
        raise TestFailure(f"{e}: {state['firing']}") from None
    log("ok: the 4 alert rules load, evaluate without error and none fires")


# ------------------------------------------------------------------------------- main


CHECKS = {"exposition": check_exposition, "dashboard": check_dashboard,
          "prometheus": check_prometheus, "cluster": check_cluster}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pvcd", required=True, help="the pvcd binary")
    ap.add_argument("--promtool", default=shutil.which("promtool") or "promtool")
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "prometheus")
    ap.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    ap.add_argument("--redis-cli", default=shutil.which("redis-cli") or "redis-cli")
    ap.add_argument("--grafana-dir", default=os.path.normpath(os.path.join(HERE, "..", "..",
                                                                           "grafana")))
    ap.add_argument("--check", choices=sorted(CHECKS), action="append",
                    help="run only this check (repeatable); default: all")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data)")
    args = ap.parse_args()
    args.grafana_dir = os.path.abspath(args.grafana_dir)
    # ctest's timeout and ^C end the test through the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    failed = []
    for name in args.check or list(CHECKS):
        workdir = tempfile.mkdtemp(prefix=f"pvcd-metrics-{name}-")
        t0 = time.monotonic()
        log(f"== {name}")
        try:
            CHECKS[name](args, workdir)
            log(f"== {name}: PASS ({time.monotonic() - t0:.1f}s)")
        except TestFailure as e:
            log(f"FAIL: {e}\n== {name}: FAIL ({time.monotonic() - t0:.1f}s)")
            failed.append(name)
        finally:
            if args.keep:
                log(f"   kept {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
