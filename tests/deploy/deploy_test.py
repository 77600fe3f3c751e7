#!/usr/bin/env python3
"""Deployment tests: the systemd units, socket activation, sd_notify, SIGHUP and the .deb.

Run by ctest (LABELS deploy):
    python3 deploy_test.py --pvcd PVCD --source-dir SRC --build-dir BUILD

Every process started here binds 127.0.0.1 and is stopped before the test ends.
"""
import argparse
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

ARGS = None


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Daemon:
    """A pvcd process with its stderr in a file; killed on exit if still running."""

    def __init__(self, cmd, env=None, log_dir=None):
        self.log_dir = log_dir or tempfile.mkdtemp(prefix="pvc-deploy-")
        self.log_path = os.path.join(self.log_dir, "stderr.log")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path, "w"), env=env)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def address(self, transport, timeout=10):
        pattern = re.compile(rf"event=listening transport={transport} address=(\S+)")
        return wait_for(lambda: (m := pattern.search(self.log())) and m.group(1), timeout,
                        f"pvcd to listen on {transport}")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def views(http_addr, site, *articles):
    query = "&".join([f"s={site}"] + [f"a={a}" for a in articles])
    import json
    return json.loads(http_get(f"http://{http_addr}/api/v1/views?{query}")[1])


class SystemdUnits(unittest.TestCase):
    def unit_copy(self, tmp):
        """The units with ExecStart pointing at the built pvcd, so verify can check it."""
        src = os.path.join(ARGS.source_dir, "systemd")
        for name in ("pvcd.service", "pvcd.socket"):
            text = open(os.path.join(src, name)).read().replace("/usr/bin/pvcd", ARGS.pvcd)
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        return os.path.join(tmp, "pvcd.service"), os.path.join(tmp, "pvcd.socket")

    def test_verify_is_clean(self):
        with tempfile.TemporaryDirectory() as tmp:
            service, sock = self.unit_copy(tmp)
            r = subprocess.run(["systemd-analyze", "verify", service, sock], capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr.strip(), "", "systemd-analyze verify printed warnings")

    def test_security_exposure_at_most_2(self):
        with tempfile.TemporaryDirectory() as tmp:
            service, _ = self.unit_copy(tmp)
            r = subprocess.run(["systemd-analyze", "security", "--offline=yes", service],
                               capture_output=True, text=True)
            m = re.search(r"Overall exposure level for pvcd.service: ([\d.]+)", r.stdout)
            self.assertIsNotNone(m, r.stdout + r.stderr)
            exposure = float(m.group(1))
            print(f"exposure {exposure}", file=sys.stderr)
            self.assertLessEqual(exposure, 2.0)

    def test_unit_settings(self):
        text = open(os.path.join(ARGS.source_dir, "systemd", "pvcd.service")).read()
        for line in ("Type=notify", "WatchdogSec=", "DynamicUser=yes", "StateDirectory=pvcd",
                     "ConfigurationDirectory=pvcd", "LimitNOFILE=", "Restart=on-failure"):
            self.assertIn(line, text)


class SocketActivation(unittest.TestCase):
    def test_inherited_http_and_udp_sockets_count_hits(self):
        http_port, udp_port = free_port(), free_port(socket.SOCK_DGRAM)
        data = tempfile.mkdtemp(prefix="pvc-sa-")
        # Two activators nested: the outer holds the UDP socket, the inner the
        # TCP one; the inner passes both on, named, to pvcd.
        cmd = ["systemd-socket-activate", "--datagram", "-l", f"127.0.0.1:{udp_port}",
               "--fdname=udp",
               "systemd-socket-activate", "-l", f"127.0.0.1:{http_port}", "--fdname=udp:http",
               ARGS.pvcd, "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--admin",
               "127.0.0.1:0", "--data-dir", os.path.join(data, "db"), "--flush-interval", "100ms",
               "--timezone", "UTC"]
        with Daemon(cmd, log_dir=data) as d:
            time.sleep(0.3)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            # Sent before pvcd runs: the socket is systemd's, so the datagram waits for it.
            udp.sendto(b"sa queued 3\n", ("127.0.0.1", udp_port))
            self.assertEqual(d.address("http"), f"127.0.0.1:{http_port}")
            self.assertEqual(d.address("udp"), f"127.0.0.1:{udp_port}")
            self.assertIn("transport=http address=127.0.0.1:%d from=systemd" % http_port, d.log())
            for _ in range(10):
                self.assertEqual(http_get(f"http://127.0.0.1:{http_port}/hit?s=sa&a=web")[0], 204)
            for _ in range(5):
                udp.sendto(b"sa line\n", ("127.0.0.1", udp_port))
            wait_for(lambda: views(f"127.0.0.1:{http_port}", "sa")["total"] == 18, 10,
                     "18 views")
            v = views(f"127.0.0.1:{http_port}", "sa", "web", "line", "queued")
            self.assertEqual(v["articles"]["web"]["total"], 10)
            self.assertEqual(v["articles"]["line"]["total"], 5)
            self.assertEqual(v["articles"]["queued"]["total"], 3)
            # Only pvcd (the exec'd activator) holds the sockets: SIGTERM reaches it.
            self.assertEqual(d.stop(), 0)
        shutil.rmtree(data, ignore_errors=True)


class Notify(unittest.TestCase):
    def test_ready_watchdog_stopping(self):
        tmp = tempfile.mkdtemp(prefix="pvc-notify-")
        path = os.path.join(tmp, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(10)
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
        cmd = [ARGS.pvcd, "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--admin",
               "127.0.0.1:0", "--data-dir", os.path.join(tmp, "db"), "--timezone", "UTC"]
        try:
            with Daemon(cmd, env=env, log_dir=tmp) as d:
                first = sock.recv(4096).decode()
                self.assertIn("READY=1", first)
                # READY=1 promises that pvcd serves: it must answer right now.
                http = d.address("http", timeout=1)
                self.assertEqual(http_get(f"http://{http}/healthz", timeout=2)[0], 200)
                # WATCHDOG=1 every WATCHDOG_USEC/2 (200 ms): at least 5 in 2 s.
                watchdogs, started = 0, time.time()
                while time.time() - started < 2.0:
                    msg = sock.recv(4096).decode()
                    watchdogs += msg.count("WATCHDOG=1")
                self.assertGreaterEqual(watchdogs, 5)
                self.assertLessEqual(watchdogs, 15)
                d.proc.send_signal(signal.SIGTERM)
                stopping = wait_for(lambda: "STOPPING=1" in sock.recv(4096).decode(), 10,
                                    "STOPPING=1")
                self.assertTrue(stopping)
                self.assertEqual(d.proc.wait(15), 0)
        finally:
            sock.close()
            shutil.rmtree(tmp, ignore_errors=True)


class Reload(unittest.TestCase):
    def test_sighup_changes_log_level_without_losing_counts(self):
        tmp = tempfile.mkdtemp(prefix="pvc-hup-")
        conf = os.path.join(tmp, "pvcd.toml")
        with open(conf, "w") as f:
            f.write('log_level = "info"\nflush_interval = "100ms"\n')
        cmd = [ARGS.pvcd, "--config", conf, "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0",
               "--admin", "127.0.0.1:0", "--data-dir", os.path.join(tmp, "db"), "--timezone",
               "UTC"]
        try:
            with Daemon(cmd, log_dir=tmp) as d:
                http = d.address("http")
                for _ in range(50):
                    http_get(f"http://{http}/hit?s=hup&a=one")
                wait_for(lambda: views(http, "hup")["total"] == 50, 10, "50 views")
                self.assertNotIn("level=debug", d.log())
                with open(conf, "w") as f:
                    f.write('log_level = "debug"\nflush_interval = "5s"\n')
                d.proc.send_signal(signal.SIGHUP)
                wait_for(lambda: "event=reloaded" in d.log(), 10, "event=reloaded")
                self.assertIn("event=reload key=log_level", d.log())
                self.assertIn("event=reload_ignored key=flush_interval reason=restart_required",
                              d.log())
                for _ in range(50):
                    http_get(f"http://{http}/hit?s=hup&a=one")
                # Debug lines now appear (each flush logs one).
                wait_for(lambda: "level=debug event=flush" in d.log(), 10, "a debug flush line")
                wait_for(lambda: views(http, "hup")["total"] == 100, 10, "100 views")
                self.assertEqual(d.stop(), 0)
                self.assertEqual(d.proc.returncode, 0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class DebianPackage(unittest.TestCase):
    def test_deb_builds_is_lintian_clean_installs_and_runs(self):
        out = tempfile.mkdtemp(prefix="pvc-deb-")
        try:
            r = subprocess.run(["cpack", "-G", "DEB", "-B", out, "--config",
                                os.path.join(ARGS.build_dir, "CPackConfig.cmake")],
                               capture_output=True, text=True, cwd=ARGS.build_dir)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            debs = glob.glob(os.path.join(out, "pvcd_*.deb"))
            self.assertEqual(len(debs), 1, os.listdir(out))
            deb = debs[0]
            info = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True,
                                  text=True).stdout
            for lib in ("librocksdb", "libprometheus-cpp-core", "libssl3", "libc6"):
                self.assertIn(lib, info, "shlibdeps should list the shared libraries")
            lint = subprocess.run(["lintian", "--no-tag-display-limit", deb], capture_output=True,
                                  text=True)
            errors = [l for l in lint.stdout.splitlines() if l.startswith("E:")]
            self.assertEqual(errors, [], lint.stdout)
            # Install into a scratch root with dpkg itself, then run what it installed.
            root = os.path.join(out, "root")
            os.makedirs(os.path.join(root, "var/lib/dpkg/info"))
            os.makedirs(os.path.join(root, "var/lib/dpkg/updates"))
            open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
            r = subprocess.run(["dpkg", f"--root={root}", "--force-depends",
                                "--force-script-chrootless", "--force-not-root", "-i", deb],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            status = subprocess.run(["dpkg", f"--root={root}", "-s", "pvcd"], capture_output=True,
                                    text=True).stdout
            self.assertIn("Status: install ok installed", status)
            for path in ("usr/bin/pvcd", "usr/bin/pvctl", "usr/lib/systemd/system/pvcd.service",
                         "usr/lib/systemd/system/pvcd.socket", "etc/pvcd/pvcd.toml"):
                self.assertTrue(os.path.exists(os.path.join(root, path)), path)
            version = subprocess.run([os.path.join(root, "usr/bin/pvcd"), "--version"],
                                     capture_output=True, text=True)
            self.assertEqual(version.returncode, 0)
            self.assertRegex(version.stdout, r"^pvcd \d+\.\d+\.\d+")
            # The installed example configuration is valid as shipped.
            check = subprocess.run([os.path.join(root, "usr/bin/pvcd"), "--config",
                                    os.path.join(root, "etc/pvcd/pvcd.toml"), "--check-config"],
                                   capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, check.stderr)
        finally:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pvcd", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--build-dir", required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.pvcd = os.path.abspath(ARGS.pvcd)
    ARGS.source_dir = os.path.abspath(ARGS.source_dir)
    ARGS.build_dir = os.path.abspath(ARGS.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
