"""A real pvcd for the reliability drivers (crash, faults, soak): started on
ephemeral loopback ports, its ports read from its log, stopped or killed by
pid (never by name), and its read API and /metrics as Python values.

Standard library only. Every wait is bounded; every socket has a timeout.
"""
import ctypes
import http.client
import json
import os
import re
import signal
import subprocess
import time
import urllib.parse

IO_TIMEOUT = 10.0  # seconds for one request; a pvcd that stops answering fails the test

ARTICLE = "/news/2026/article-{}"  # pvload's article ids (bench/pvload.cpp article_name)


class StartError(Exception):
    pass


class Pvcd:
    """One pvcd process. `args` are extra flags; the data dir is required."""

    def __init__(self, binary, data_dir, log_path, flush_interval="100ms", threads=2,
                 args=(), env=None):
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.flush_interval = flush_interval
        self.threads = threads
        self.args = list(args)
        self.env = env
        self.proc = None
        self.http = self.udp = self.admin = None

    def argv(self):
        return [self.binary, "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0",
                "--admin", "127.0.0.1:0", "--data-dir", str(self.data_dir),
                "--flush-interval", self.flush_interval, "--threads", str(self.threads),
                "--timezone", "UTC"] + self.args

    def spawn(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, env=self.env,
                                         preexec_fn=_die_with_parent)
        finally:
            log.close()
        self._log_offset = 0
        return self.proc.pid

    def start(self, timeout=30.0):
        """Spawns pvcd and waits for event=ready and its three addresses."""
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self._log_since(offset)
            if "event=ready" in text:
                ports = {}
                for kind, port in re.findall(r"event=listening transport=(\w+) "
                                             r"address=127\.0\.0\.1:(\d+)", text):
                    ports[kind] = int(port)
                self.http, self.udp, self.admin = ports["http"], ports["udp"], ports["admin"]
                return
            if self.proc.poll() is not None:
                raise StartError("pvcd exited with %s before it was ready:\n%s"
                                 % (self.proc.returncode, text))
            time.sleep(0.02)
        self.kill()
        raise StartError("pvcd not ready within %.0fs:\n%s" % (timeout, self._log_since(offset)))

    def _log_since(self, offset):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL (a crash) and reap."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=30)

    def terminate(self, timeout=30.0):
        """SIGTERM and wait; SIGKILL if it outlives `timeout` (returns None then)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    # ---- the read side ----

    def get(self, port, target, timeout=IO_TIMEOUT):
        """(status, body bytes, headers dict lower-case)."""
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            c.request("GET", target)
            r = c.getresponse()
            body = r.read()
            return r.status, body, {k.lower(): v for k, v in r.getheaders()}
        finally:
            c.close()

    def metrics(self, timeout=IO_TIMEOUT):
        status, body, _ = self.get(self.admin, "/metrics", timeout)
        if status != 200:
            raise RuntimeError("/metrics answered %d" % status)
        return parse_metrics(body.decode())

    def views(self, site, articles):
        """(site total, {article: total}) from /api/v1/views, 100 ids per request."""
        totals = {}
        site_total = None
        ids = list(articles)
        for i in range(0, max(len(ids), 1), 100):
            q = [("s", site)] + [("a", a) for a in ids[i:i + 100]]
            status, body, _ = self.get(self.http, "/api/v1/views?" + urllib.parse.urlencode(q))
            if status != 200:
                raise RuntimeError("views %s: %d %s" % (site, status, body[:200]))
            doc = json.loads(body)
            site_total = doc["total"]
            for a, c in doc["articles"].items():
                totals[a] = c["total"]
        return site_total, totals


def parse_metrics(text):
    """{series as exposed: value} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        series, _, value = line.rpartition(" ")
        try:
            out[series] = float(value)
        except ValueError:
            pass
    return out


try:
    _libc = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _libc = None


def _die_with_parent():
    # PR_SET_PDEATHSIG(SIGKILL): a driver that dies leaves no pvcd behind.
    # (libc is loaded beforehand: the child of a threaded parent must not import.)
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)


def read_expect(path):
    """pvload --expect: {(site, article): count}."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            site, article, n = line.split()
            out[(site, article)] = out.get((site, article), 0) + int(n)
    return out


def read_progress(path):
    """pvload --progress: [(monotonic_ns, sent, acked)] in time order."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            ns, sent, acked = line.split()
            out.append((int(ns), int(sent), int(acked)))
    return out


def proc_status(pid):
    """(RSS bytes, open fds) of a running process, from /proc."""
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    fds = len(os.listdir("/proc/%d/fd" % pid))
    return rss, fds
