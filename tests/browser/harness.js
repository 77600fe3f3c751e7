// What the browser tests share: their arguments, a real pvcd on ephemeral
// loopback ports with a temp data dir, a page server, Debian's Chromium
// through playwright-core, and the ok/FAIL reporting that ctest reads.
//
//   node TEST.js --pvcd PATH --readme README.md --modules node_modules
//                --chromium /usr/bin/chromium --artifacts DIR
"use strict";
const child_process = require("child_process");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const k of ["pvcd", "readme", "modules", "chromium", "artifacts"]) {
  if (!args[k]) {
    console.error(`usage: ${path.basename(process.argv[1])} --${k} ... (missing)`);
    process.exit(2);
  }
}
const { chromium } = require(path.join(args.modules, "playwright-core"));

// A desktop Chrome; headless Chromium's own User-Agent says HeadlessChrome,
// which the bot list refuses.
const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
const LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pvc-browser-"));
let daemon = null;
let pageServer = null;
const browsers = [];
let passed = 0;

function check(name, fn) {
  return Promise.resolve().then(fn).then(() => {
    passed++;
    console.log(`ok - ${name}`);
  });
}

async function cleanup() {
  for (const b of browsers) await b.close().catch(() => {});
  if (pageServer) pageServer.close();
  if (daemon && daemon.exitCode === null) {
    daemon.kill("SIGTERM");
    await new Promise((resolve) => {
      const t = setTimeout(() => { daemon.kill("SIGKILL"); resolve(); }, 5000);
      daemon.once("exit", () => { clearTimeout(t); resolve(); });
    });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

// Starts pvcd on ephemeral loopback ports; resolves with its http/admin ports.
function startPvcd() {
  return new Promise((resolve, reject) => {
    daemon = child_process.spawn(args.pvcd, [
      "--data-dir", path.join(tmp, "data"), "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0",
      "--admin", "127.0.0.1:0", "--flush-interval", "100ms", "--threads", "2",
      "--timezone", "Asia/Ho_Chi_Minh"], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    const ports = {};
    const fail = setTimeout(() => reject(new Error("pvcd not ready in 10 s:\n" + log)), 10_000);
    daemon.stderr.on("data", (chunk) => {
      log += chunk;
      for (const m of log.matchAll(/event=listening transport=(\w+) address=127\.0\.0\.1:(\d+)/g)) {
        ports[m[1]] = Number(m[2]);
      }
      if (log.includes("event=ready") && ports.http && ports.admin) {
        clearTimeout(fail);
        resolve(ports);
      }
    });
    daemon.on("exit", (code) => reject(new Error(`pvcd exited (${code}):\n${log}`)));
  });
}

function request(port, method, target) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: target }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function waitFor(what, fn, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The first widget tag in README.md that `pattern` (a RegExp source matched
// inside the tag) picks, with the origin it names.
function readmeTag(pattern = "") {
  const text = fs.readFileSync(args.readme, "utf8");
  const re = new RegExp(`<script async src="(https:\\/\\/[^"/]+)\\/widget\\.js"[^>]*${pattern}[^>]*><\\/script>`);
  const m = text.match(re);
  if (!m) throw new Error(`README.md shows no widget tag matching ${pattern || "anything"}`);
  return { tag: m[0], origin: m[1] };
}

function group(n, sep) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

// A portal page around the tags, served from its own loopback origin.
function portalPage(lang, body) {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<title>Cổng thông tin</title></head>
<body style="margin:0;font-family:Arial,sans-serif;background:#fff">
<footer style="padding:16px;background:#f0f0f0;border-top:3px solid #a00">
<p style="margin:0 0 8px">Cổng Thông tin điện tử — bản thử nghiệm</p>
${body}
</footer></body></html>`;
}

// Serves `pages` (path -> HTML); resolves with the server's origin.
async function servePages(pages) {
  pageServer = http.createServer((req, res) => {
    const body = pages[req.url];
    res.writeHead(body ? 200 : 404, { "Content-Type": "text/html; charset=utf-8",
                                      "Referrer-Policy": "no-referrer" });
    res.end(body || "not found");
  });
  await new Promise((r) => pageServer.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${pageServer.address().port}`;
}

async function desktopBrowser(viewport) {
  const profile = fs.mkdtempSync(path.join(tmp, "profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium, headless: true, args: LAUNCH_FLAGS, userAgent: DESKTOP_UA, viewport });
  browsers.push(context);
  return context;
}

async function headlessBrowser() {
  const b = await chromium.launch({ executablePath: args.chromium, headless: true, args: LAUNCH_FLAGS });
  browsers.push(b);
  return b;
}

// Runs main() under a 60 s deadline; reports and exits like the tests always did.
function run(main, artifacts) {
  const deadline = setTimeout(() => {
    console.error("FAIL: the browser test took longer than 60 s");
    cleanup().finally(() => process.exit(1));
  }, 60_000);
  fs.mkdirSync(args.artifacts, { recursive: true });
  main()
    .then(async () => {
      clearTimeout(deadline);
      await cleanup();
      console.log(`${passed} passed, 0 failed`);
      console.log(`screenshots: ${artifacts.map((a) => path.join(args.artifacts, a)).join(" ")}`);
    })
    .catch(async (e) => {
      clearTimeout(deadline);
      console.error("FAIL:", e && e.stack ? e.stack : e);
      await cleanup();
      console.log(`${passed} passed, 1 failed`);
      process.exit(1);
    });
}

module.exports = {
  args, check, startPvcd, request, waitFor, readmeTag, group, portalPage, servePages,
  desktopBrowser, headlessBrowser, run,
};
