#!/usr/bin/env node
// The widget in a real browser. A page served on loopback embeds the tag
// exactly as README.md shows it (only the host is this test's pvcd); Debian's
// headless Chromium, driven by playwright-core, loads it. Checks:
//   - the view is counted once (one /hit request, +1 on the site and article)
//   - the box shows the numbers of the /api/v1/widget answer the page got,
//     with Vietnamese labels and digit grouping (86.037.575)
//   - data-lang="en" gives English labels and grouping (86,037,575)
//   - headless Chromium's own User-Agent is on the bot list: not counted
// Screenshots of both boxes are kept in --artifacts (widget-vi.png, widget-en.png).
//
//   node widget_test.js --pvcd PATH --readme README.md --modules node_modules
//                       --chromium /usr/bin/chromium --artifacts DIR
"use strict";
const assert = require("assert");
const child_process = require("child_process");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const k of ["pvcd", "readme", "modules", "chromium", "artifacts"]) {
  if (!args[k]) {
    console.error(`usage: widget_test.js --${k} ... (missing)`);
    process.exit(2);
  }
}
const { chromium } = require(path.join(args.modules, "playwright-core"));

const SITE = "baochinhphu";
// A desktop Chrome; headless Chromium's own User-Agent says HeadlessChrome,
// which the bot list refuses (checked at the end).
const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
const LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const deadline = setTimeout(() => {
  console.error("FAIL: the browser test took longer than 60 s");
  cleanup().finally(() => process.exit(1));
}, 60_000);

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

async function counts(ports, article) {
  const r = await request(ports.admin, "GET",
    `/api/v1/widget?s=${SITE}&a=${encodeURIComponent(article)}`);
  assert.strictEqual(r.status, 200, r.body);
  return JSON.parse(r.body);
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

// The tag exactly as the README shows it.
function readmeTag() {
  const text = fs.readFileSync(args.readme, "utf8");
  const m = text.match(/<script async src="(https:\/\/[^"/]+)\/widget\.js"[^>]*><\/script>/);
  if (!m) throw new Error("README.md shows no widget tag");
  return { tag: m[0], origin: m[1] };
}

function group(n, sep) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

async function main() {
  fs.mkdirSync(args.artifacts, { recursive: true });
  const ports = await startPvcd();
  const pvcdOrigin = `http://127.0.0.1:${ports.http}`;

  // Counts large enough to need grouping: 1.234.567 views before the page loads.
  for (const n of [1000000, 234567]) {
    const r = await request(ports.admin, "POST", `/admin/v1/hit?s=${SITE}&a=/seed&n=${n}`);
    assert.strictEqual(r.status, 204, r.body);
  }
  await waitFor("the seed views", async () => (await counts(ports, "/seed")).total === 1234567);

  const { tag, origin } = readmeTag();
  const article = (tag.match(/data-article="([^"]*)"/) || [])[1];
  assert.ok(article, "the README tag names an article");
  const pageTag = (t) => t.replace(origin, pvcdOrigin);
  const enTag = pageTag(tag).replace(/data-article="[^"]*"/, 'data-article="/en/budget"')
    .replace("></script>", ' data-lang="en"></script>');
  const botTag = pageTag(tag).replace(/data-article="[^"]*"/, 'data-article="/bot-check"');
  const page = (lang, t) => `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<title>Cổng thông tin</title></head>
<body style="margin:0;font-family:Arial,sans-serif;background:#fff">
<footer style="padding:16px;background:#f0f0f0;border-top:3px solid #a00">
<p style="margin:0 0 8px">Cổng Thông tin điện tử — bản thử nghiệm</p>
${t}
</footer></body></html>`;
  const pages = {
    "/vi.html": page("vi", pageTag(tag)),
    "/en.html": page("en", enTag),
    "/bot.html": page("vi", botTag),
  };
  pageServer = http.createServer((req, res) => {
    const body = pages[req.url];
    res.writeHead(body ? 200 : 404, { "Content-Type": "text/html; charset=utf-8",
                                      "Referrer-Policy": "no-referrer" });
    res.end(body || "not found");
  });
  await new Promise((r) => pageServer.listen(0, "127.0.0.1", r));
  const pageOrigin = `http://127.0.0.1:${pageServer.address().port}`;

  const profile = fs.mkdtempSync(path.join(tmp, "profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium, headless: true, args: LAUNCH_FLAGS, userAgent: DESKTOP_UA,
    viewport: { width: 520, height: 300 } });
  browsers.push(context);

  async function load(file, lang) {
    const p = await context.newPage();
    const hits = [];
    p.on("request", (r) => { if (new URL(r.url()).pathname.startsWith("/hit")) hits.push(r.url()); });
    const answer = p.waitForResponse((r) => r.url().startsWith(`${pvcdOrigin}/api/v1/widget?`));
    await p.goto(pageOrigin + file);
    const data = await (await answer).json();
    await p.waitForSelector('.pvc-widget[data-loaded="true"]', { timeout: 10_000 });
    const lines = await p.$$eval(".pvc-widget .pvc-line", (els) => els.map((e) => e.textContent));
    const title = await p.textContent(".pvc-widget .pvc-title");
    await p.locator("footer").screenshot({ path: path.join(args.artifacts, `widget-${lang}.png`) });
    return { p, hits, data, lines, title };
  }

  const vi = await load("/vi.html", "vi");
  await check("the Vietnamese box shows the /api/v1/widget numbers with its labels", () => {
    const d = vi.data;
    assert.strictEqual(d.site, SITE);
    assert.strictEqual(vi.title, "Lượt truy cập");
    assert.deepStrictEqual(vi.lines, [
      `Đang truy cập: ${group(d.online, ".")}`,
      `Hôm nay: ${group(d.today, ".")}`,
      `Hôm qua: ${group(d.yesterday, ".")}`,
      `Tháng này: ${group(d.this_month, ".")}`,
      `Tất cả: ${group(d.total, ".")}`,
      `Lượt xem bài này: ${group(d.article.total, ".")}`,
    ]);
    assert.match(vi.lines[4], /^Tất cả: 1\.234\.56[78]$/);
  });
  await check("the page's view is counted once", async () => {
    assert.strictEqual(vi.hits.length, 1, `one beacon, got ${vi.hits}`);
    const after = await waitFor("the view to be flushed", async () => {
      const c = await counts(ports, article);
      return c.article.total >= 1 ? c : null;
    });
    await new Promise((r) => setTimeout(r, 400));  // four flush intervals: nothing more arrives
    const settled = await counts(ports, article);
    assert.strictEqual(settled.article.total, 1);
    assert.strictEqual(settled.total, 1234568);
    assert.strictEqual(after.article.id, article);
    const visitors = JSON.parse((await request(ports.admin, "GET", `/api/v1/visitors?s=${SITE}`)).body);
    assert.strictEqual(visitors.today, 1, "one distinct visitor");
    assert.strictEqual(visitors.online, 1, "online now");
  });

  const en = await load("/en.html", "en");
  await check('data-lang="en" switches labels and grouping', () => {
    const d = en.data;
    assert.strictEqual(en.title, "Visitors");
    assert.deepStrictEqual(en.lines, [
      `Online now: ${group(d.online, ",")}`,
      `Today: ${group(d.today, ",")}`,
      `Yesterday: ${group(d.yesterday, ",")}`,
      `This month: ${group(d.this_month, ",")}`,
      `Total: ${group(d.total, ",")}`,
      `This article: ${group(d.article.total, ",")}`,
    ]);
    assert.match(en.lines[4], /^Total: 1,234,56[89]$/);
    assert.strictEqual(en.hits.length, 1);
  });
  await check("the English page's view is counted once too", async () => {
    await waitFor("the second view", async () => (await counts(ports, "/en/budget")).article.total === 1);
    await new Promise((r) => setTimeout(r, 400));
    const c = await counts(ports, "/en/budget");
    assert.strictEqual(c.article.total, 1);
    assert.strictEqual(c.total, 1234569);
  });

  await check("headless Chromium's own User-Agent is refused as a bot", async () => {
    const headless = await chromium.launch({ executablePath: args.chromium, headless: true, args: LAUNCH_FLAGS });
    browsers.push(headless);
    const p = await headless.newPage();
    const beacon = p.waitForRequest((r) => new URL(r.url()).pathname === "/hit");
    const answer = p.waitForResponse((r) => r.url().startsWith(`${pvcdOrigin}/api/v1/widget?`));
    await p.goto(pageOrigin + "/bot.html");
    await beacon;
    await answer;
    await waitFor("the bot refusal", async () => {
      const m = (await request(ports.admin, "GET", "/metrics")).body;
      return /pvcd_hits_rejected_total\{reason="bot",transport="http"\} 1\b/.test(m);
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.strictEqual((await counts(ports, "/bot-check")).article.total, 0);
  });
}

main()
  .then(async () => {
    clearTimeout(deadline);
    await cleanup();
    console.log(`${passed} passed, 0 failed`);
    console.log(`screenshots: ${path.join(args.artifacts, "widget-vi.png")} ${path.join(args.artifacts, "widget-en.png")}`);
  })
  .catch(async (e) => {
    clearTimeout(deadline);
    console.error("FAIL:", e && e.stack ? e.stack : e);
    await cleanup();
    console.log(`${passed} passed, 1 failed`);
    process.exit(1);
  });
