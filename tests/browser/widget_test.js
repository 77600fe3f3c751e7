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
const path = require("path");
const { args, check, startPvcd, request, waitFor, readmeTag, group, portalPage, servePages,
  desktopBrowser, headlessBrowser, run } = require("./harness");

const SITE = "baochinhphu";

async function counts(ports, article) {
  const r = await request(ports.admin, "GET",
    `/api/v1/widget?s=${SITE}&a=${encodeURIComponent(article)}`);
  assert.strictEqual(r.status, 200, r.body);
  return JSON.parse(r.body);
}

async function main() {
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
  const pageOrigin = await servePages({
    "/vi.html": portalPage("vi", pageTag(tag)),
    "/en.html": portalPage("en", enTag),
    "/bot.html": portalPage("vi", botTag),
  });

  const context = await desktopBrowser({ width: 520, height: 300 });

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
    const headless = await headlessBrowser();
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

run(main, ["widget-vi.png", "widget-en.png"]);
