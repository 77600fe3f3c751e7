#!/usr/bin/env node
// The most read box ("Tin xem nhiều") in a real browser, next to the counter
// box, both tags exactly as README.md shows them (only the host is this
// test's pvcd). Checks:
//   - a page with both boxes sends one beacon and counts one view; a page
//     with only top boxes sends none
//   - the heading, n items in views order, grouped counts (vi "." / en ","),
//     each item's text (its "title" when the answer carries one, else its id)
//   - links: path ids on the page's origin or data-base, other ids after
//     data-base, and no link off that origin or to another scheme
//   - an id that is markup shows as its characters and runs nothing
//   - one /api/v1/top request per box, no cookie; a list pvcd is still
//     computing (503) is asked for once more; a site without views says so
// The screenshot of both boxes is kept in --artifacts (widget-boxes.png).
"use strict";
const assert = require("assert");
const path = require("path");
const { args, check, startPvcd, request, waitFor, readmeTag, group, portalPage, servePages,
  desktopBrowser, run } = require("./harness");

const SITE = "baochinhphu";

// Seeds, most viewed first; each is tried in order and the first id pvcd
// accepts is used.
// Where an id is refused (a build without UTF-8 ids), the next spelling is used.
const SEEDS = [
  { key: "intro", ids: ["/tin-tức/giới-thiệu", "/tin-tuc/gioi-thieu"], views: 1234567,
    title: "Giới thiệu Cổng thông tin điện tử tỉnh Sóc Trăng" },
  { key: "markup", ids: ["/<img src=x onerror=alert(1)>", "/<img/src/onerror=alert(1)>"], views: 23456 },
  { key: "titled_markup", ids: ["/tin-tức/tiêu-đề-lạ"], views: 5000,
    title: "<img src=x onerror=alert(1)> Lễ hội Ok Om Bok" },
  { key: "offsite", ids: ["//evil.example/lua-dao"], views: 3456 },
  { key: "plain", ids: ["bai-viet-so-4"], views: 1200 },
  { key: "budget", ids: ["/2026/11/ngan-sach"], views: 456 },  // the counter tag's article
  { key: "sixth", ids: ["/tin-tức/bài-6", "/tin-tuc/bai-6"], views: 78 },
  { key: "backslash", ids: ["/\\evil.example/lua-dao-2"], views: 9 },
  { key: "eighth", ids: ["/tin-tuc/bai-8"], views: 3 },
];
// Titles are set through the admin API (pvctl title): a Vietnamese one, and
// one with markup in it, which must show as text.

async function seed(ports) {
  const used = {};
  for (const s of SEEDS) {
    for (const id of s.ids) {
      const add = (n) => request(ports.admin, "POST", `/admin/v1/hit?s=${SITE}&a=${encodeURIComponent(id)}&n=${n}`);
      const r = await add(Math.min(s.views, 1000000));  // the admin hit's largest n
      if (r.status === 204) { used[s.key] = id; break; }
      assert.match(r.body, /^bad_article/, `${id}: ${r.status} ${r.body}`);
    }
    assert.ok(used[s.key], `no id of ${s.key} accepted`);
    if (s.views > 1000000) {
      const r = await request(ports.admin, "POST",
        `/admin/v1/hit?s=${SITE}&a=${encodeURIComponent(used[s.key])}&n=${s.views - 1000000}`);
      assert.strictEqual(r.status, 204, r.body);
    }
  }
  for (const s of SEEDS.filter((x) => x.title)) {
    const r = await request(ports.admin, "POST", `/admin/v1/title?s=${SITE}&a=${encodeURIComponent(used[s.key])}` +
      `&title=${encodeURIComponent(s.title)}&reason=browser-test`);
    assert.strictEqual(r.status, 200, `title of ${s.key}: ${r.status} ${r.body}`);
  }
  console.log(`# ids: ${JSON.stringify(Object.values(used))}`);
  const total = SEEDS.reduce((sum, s) => sum + s.views, 0);
  await waitFor("the seeds to be flushed", async () =>
    JSON.parse((await request(ports.admin, "GET", `/api/v1/views?s=${SITE}`)).body).total === total);
  return used;
}

async function views(ports, id) {
  const r = await request(ports.admin, "GET", `/api/v1/views?s=${SITE}&a=${encodeURIComponent(id)}`);
  return JSON.parse(r.body).articles[id].total;
}

// What a top box shows, read from the DOM.
function readBox(box) {
  return box.evaluate((b) => ({
    period: b.getAttribute("data-period"),
    title: (b.querySelector(".pvc-title") || {}).textContent,
    items: Array.from(b.querySelectorAll(".pvc-item"), (li) => {
      const label = li.querySelector(".pvc-label");
      return { tag: label.tagName, text: label.textContent, href: label.getAttribute("href"),
               elements: label.children.length, views: li.querySelector(".pvc-value").textContent };
    }),
    markup: b.querySelectorAll("img, script, svg, iframe").length,
  }));
}

// The box shows the answer's first n items in its order, each as text.
function assertShows(box, answer, n, sep, hrefOf) {
  assert.strictEqual(box.items.length, Math.min(n, answer.length));
  for (let i = 1; i < answer.length; i++) assert.ok(answer[i - 1].views >= answer[i].views, "views order");
  box.items.forEach((item, i) => {
    const a = answer[i];
    // "title" when pvcd has one for the article (#21 titles), else the id.
    const label = typeof a.title === "string" && a.title ? a.title : a.id;
    assert.strictEqual(item.text, label, `item ${i + 1}`);
    assert.strictEqual(item.elements, 0, `item ${i + 1} is text, not markup`);
    assert.strictEqual(item.views, group(a.views, sep));
    const href = hrefOf(a.id);
    assert.strictEqual(item.href, href, `link of ${a.id}`);
    assert.strictEqual(item.tag, href ? "A" : "SPAN");
  });
  assert.strictEqual(box.markup, 0, "no element made from data");
}

async function main() {
  const ports = await startPvcd();
  const pvcdOrigin = `http://127.0.0.1:${ports.http}`;
  const ids = await seed(ports);
  const order = ["intro", "markup", "titled_markup", "offsite", "plain", "budget", "sixth", "backslash", "eighth"]
    .map((k) => ids[k]);

  const counter = readmeTag();
  const top = readmeTag('data-box="top"');
  const onPvcd = (t) => t.tag.replace(t.origin, pvcdOrigin);
  const readmePeriod = (top.tag.match(/data-period="([^"]*)"/) || [])[1] || "day";
  const readmeN = Number((top.tag.match(/data-n="([^"]*)"/) || [])[1] || 5);
  assert.ok(counter.tag.includes(`data-article="${ids.budget}"`), "the seeds include the counter's article");
  assert.ok(!["month", "all"].includes(readmePeriod), "month and all are left cold for the 503 case");

  const portal = "https://baochinhphu.vn/";
  const pageOrigin = await servePages({
    "/both.html": portalPage("vi", onPvcd(counter) + "\n" + onPvcd(top)),
    "/top-only.html": portalPage("en",
      `<script async src="${pvcdOrigin}/widget.js" data-site="${SITE}" data-box="top" data-lang="en"
        data-period="month" data-n="7" data-base="${portal}"></script>
       <script async src="${pvcdOrigin}/widget.js" data-site="${SITE}" data-box="top"
        data-period="all" data-n="50" data-base="javascript:alert(1)//"></script>
       <script async src="${pvcdOrigin}/widget.js" data-site="xa-moi" data-box="top" data-hide="title"></script>`),
  });

  // The README box's list, computed before the page asks (the first ask is a 503).
  await waitFor("the README box's list", async () => {
    const r = await request(ports.http, "GET", `/api/v1/top?s=${SITE}&period=${readmePeriod}&n=20`);
    return r.status === 200 && JSON.parse(r.body).length === SEEDS.length;
  });

  const context = await desktopBrowser({ width: 760, height: 360 });
  // A cookie of pvcd's origin: a request with credentials would carry it.
  await context.addCookies([{ name: "phien", value: "dang-nhap", url: pvcdOrigin }]);
  async function load(file) {
    const p = await context.newPage();
    const seen = { hits: [], tops: [], dialogs: [] };
    const reading = [];
    p.on("request", (r) => { if (new URL(r.url()).pathname.startsWith("/hit")) seen.hits.push(r.url()); });
    p.on("response", (r) => {
      if (!r.url().startsWith(`${pvcdOrigin}/api/v1/top?`)) return;
      reading.push((async () => {
        const entry = { url: r.url(), status: r.status(), cookie: (await r.request().allHeaders()).cookie };
        if (r.status() === 200) entry.body = await r.json();
        seen.tops.push(entry);
      })());
    });
    p.on("dialog", (dlg) => { seen.dialogs.push(dlg.message()); dlg.dismiss().catch(() => {}); });
    await p.goto(pageOrigin + file);
    await p.waitForFunction(() => {
      const boxes = document.querySelectorAll(".pvc-widget");
      return boxes.length && Array.from(boxes).every((b) => b.getAttribute("data-loaded") === "true");
    }, null, { timeout: 10_000 });
    await Promise.all(reading);
    return { p, seen };
  }

  const both = await load("/both.html");
  const topBox = await readBox(both.p.locator(".pvc-top"));
  await check("the README's top box: heading, n items in views order, grouped counts", () => {
    assert.strictEqual(topBox.title, "Tin xem nhiều");
    assert.strictEqual(topBox.period, readmePeriod);
    assert.strictEqual(both.seen.tops.length, 1, "one /api/v1/top request");
    const answer = both.seen.tops[0].body;
    assert.deepStrictEqual(answer.map((a) => a.id), order.slice(0, readmeN), "the n most viewed, in order");
    assertShows(topBox, answer, readmeN, ".", (id) =>
      id.startsWith("/") && !id.startsWith("//") && !id.startsWith("/\\") ? new URL(id, pageOrigin).href : null);
    assert.strictEqual(topBox.items[0].views, "1.234.567");
  });
  await check("titles: a Vietnamese title shows instead of the id, a title with markup as its characters", () => {
    const byKey = (k) => topBox.items[order.indexOf(ids[k])];
    assert.strictEqual(byKey("intro").text, SEEDS[0].title);
    assert.strictEqual(byKey("titled_markup").text, SEEDS.find((x) => x.key === "titled_markup").title);
    assert.strictEqual(topBox.markup, 0, "no element made from a title");
    assert.deepStrictEqual(both.seen.dialogs, []);
  });
  await check("markup in an id shows as its characters and runs nothing", async () => {
    const shown = both.seen.tops[0].body.find((a) => a.id === ids.markup);
    assert.strictEqual(topBox.items[order.indexOf(ids.markup)].text, shown.title || ids.markup);
    assert.deepStrictEqual(both.seen.dialogs, []);
    // The control: the same id as markup does run here, so the check above can fail.
    await both.p.evaluate((id) => { document.createElement("div").innerHTML = id; }, ids.markup);
    await waitFor("the control's alert", () => both.seen.dialogs.length === 1);
  });
  await check("both boxes on one page: one beacon, one view; no cookie sent to pvcd", async () => {
    assert.strictEqual(both.seen.hits.length, 1, `one beacon, got ${both.seen.hits}`);
    assert.strictEqual(await both.p.locator(".pvc-counter[data-loaded=true]").count(), 1);
    assert.strictEqual(both.seen.tops[0].cookie, undefined);
    // The control: with credentials the cookie does go to pvcd (no-cors: a
    // request that completes, so its sent headers are known).
    const sent = both.p.waitForResponse((r) => r.url() === `${pvcdOrigin}/healthz`);
    await both.p.evaluate((u) => fetch(u, { credentials: "include", mode: "no-cors" }), `${pvcdOrigin}/healthz`);
    assert.match((await (await sent).request().allHeaders()).cookie || "", /phien=dang-nhap/);
    await waitFor("the view", async () => (await views(ports, ids.budget)) === 457);
    await new Promise((r) => setTimeout(r, 400));  // four flush intervals: nothing more arrives
    assert.strictEqual(await views(ports, ids.budget), 457);
  });
  await both.p.locator("footer").screenshot({ path: path.join(args.artifacts, "widget-boxes.png") });

  const only = await load("/top-only.html");
  const [en, noLinks] = await Promise.all(
    [".pvc-top[data-period=month]", ".pvc-top[data-period=all]"].map((s) => readBox(only.p.locator(s))));
  const tops = (period) => only.seen.tops.filter((t) => t.url.includes(`period=${period}`));
  await check('data-lang="en", data-n="7", data-base: English, 7 items, links on the portal', () => {
    assert.strictEqual(en.title, "Most read");
    const answer = tops("month").at(-1).body;
    assert.deepStrictEqual(answer.map((a) => a.id), order.slice(0, 7));
    const paths = [ids.intro, ids.markup, ids.titled_markup, ids.budget, ids.sixth];  // not offsite
    assertShows(en, answer, 7, ",", (id) =>
      id === ids.plain ? portal + id : paths.includes(id) ? new URL(id, portal).href : null);
    assert.ok(!en.items.some((i) => i.href && !i.href.startsWith(portal)), "nothing off the portal");
  });
  await check('data-n="50" falls back to 5; a javascript: data-base makes no link', () => {
    assert.strictEqual(noLinks.items.length, 5);
    assertShows(noLinks, tops("all").at(-1).body, 5, ".", () => null);
  });
  await check("a list still being computed (503) is asked for once more, then shown", () => {
    for (const period of ["month", "all"]) {
      assert.deepStrictEqual(tops(period).map((t) => t.status), [503, 200], period);
      assert.ok(tops(period).every((t) => t.cookie === undefined), "no cookie");
    }
  });
  await check('a site without views says so; data-hide="title" leaves out the heading', async () => {
    const empty = only.p.locator(".pvc-top[data-site=xa-moi]");
    assert.strictEqual(await empty.locator(".pvc-title").count(), 0);
    assert.strictEqual(await empty.locator(".pvc-item").count(), 0);
    assert.strictEqual(await empty.locator(".pvc-lines").textContent(), "Chưa có lượt xem");
  });
  await check("a page with only top boxes sends no beacon", async () => {
    assert.deepStrictEqual(only.seen.hits, []);
    await new Promise((r) => setTimeout(r, 400));
    assert.strictEqual(await views(ports, ids.budget), 457);
  });
}

run(main, ["widget-boxes.png"]);
