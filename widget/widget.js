/* pvcd counter widget ("lượt truy cập"). One tag counts the page view and
 * shows the portal's counter box:
 *
 *   <script async src="https://stats.example.gov.vn/widget.js"
 *           data-site="baochinhphu" data-article="/2026/11/ngan-sach"></script>
 *
 * data-site     site id (default "default")
 * data-article  this page's article id (default: location.pathname, decoded)
 * data-lang     "vi" (default) or "en": labels and digit grouping
 * data-target   id of the element to render into (default: right after the tag)
 * data-hide     lines to leave out: online today yesterday month total article title
 * data-count    "false": show the counts without counting a view
 * data-style    "none": no built-in CSS (style .pvc-widget yourself)
 *
 * No cookies, no local storage, no dependencies; the counts are fetched live
 * on every load, so a cached page never shows frozen numbers. The script
 * finds pvcd from its own src, never from the Referer header.
 */
(function () {
  "use strict";
  var tag = document.currentScript;
  if (!tag || !tag.src) return;
  var base = tag.src.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var d = tag.dataset || {};
  var site = d.site || "default";
  // location.pathname comes percent-encoded ("/tin-t%E1%BB%A9c"); the id is
  // the path as the portal wrote it ("/tin-tức"), the one data-article or a
  // UDP line from the server would give. A path that does not decode to a
  // valid id (bad escapes, a space) is kept as it came.
  function pagePath() {
    var p = location.pathname || "/";
    try {
      var decoded = decodeURIComponent(p);
      return /[\s\u0000-\u001f\u007f-\u009f]/.test(decoded) ? p : decoded;
    } catch (e) {
      return p;
    }
  }
  var article = d.article || pagePath();
  var lang = d.lang === "en" ? "en" : "vi";
  var hidden = " " + (d.hide || "").replace(/[,;]/g, " ").toLowerCase() + " ";

  var text = {
    vi: { title: "Lượt truy cập", online: "Đang truy cập", today: "Hôm nay",
          yesterday: "Hôm qua", month: "Tháng này", total: "Tất cả",
          article: "Lượt xem bài này", sep: "." },
    en: { title: "Visitors", online: "Online now", today: "Today",
          yesterday: "Yesterday", month: "This month", total: "Total",
          article: "This article", sep: "," }
  }[lang];

  function enc(v) { return encodeURIComponent(v); }
  var fields = "s=" + enc(site) + "&a=" + enc(article);

  // 1. The view: sendBeacon, else fetch with keepalive, else an image.
  function countView() {
    var url = base + "/hit";
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(url, fields)) return;
    } catch (e) { /* fall through */ }
    try {
      if (window.fetch) {
        fetch(url, { method: "POST", body: fields, keepalive: true, mode: "no-cors",
                     credentials: "omit",
                     headers: { "Content-Type": "text/plain;charset=UTF-8" } });
        return;
      }
    } catch (e) { /* fall through */ }
    new Image(1, 1).src = base + "/hit.gif?" + fields + "&r=" + Math.random().toString(36).slice(2);
  }

  // 2. The box, with placeholders until the counts arrive.
  function group(n) {
    var s = String(Math.max(0, Math.floor(Number(n) || 0)));
    return s.replace(/\B(?=(\d{3})+(?!\d))/g, text.sep);
  }
  function el(name, cls, content) {
    var e = document.createElement(name);
    e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }
  var lines = [
    ["online", "online"], ["today", "today"], ["yesterday", "yesterday"],
    ["month", "this_month"], ["total", "total"], ["article", "article"]
  ];
  var box = el("div", "pvc-widget");
  box.setAttribute("lang", lang);
  box.setAttribute("data-site", site);
  if (hidden.indexOf(" title ") < 0) box.appendChild(el("div", "pvc-title", text.title));
  var list = el("ul", "pvc-lines");
  var values = {};
  for (var i = 0; i < lines.length; i++) {
    var name = lines[i][0];
    if (hidden.indexOf(" " + name + " ") >= 0) continue;
    var li = el("li", "pvc-line pvc-" + name);
    li.appendChild(el("span", "pvc-label", text[name] + ":"));
    li.appendChild(document.createTextNode(" "));
    values[name] = li.appendChild(el("span", "pvc-value", "…"));
    list.appendChild(li);
  }
  box.appendChild(list);

  if (d.style !== "none" && !document.getElementById("pvc-widget-style")) {
    var css = el("style", "");
    css.id = "pvc-widget-style";
    css.textContent =
      ".pvc-widget{display:inline-block;min-width:12em;padding:.5em .9em;border:1px solid #c8c8c8;" +
      "border-radius:4px;background:#fafafa;color:#222;font:14px/1.6 Arial,Helvetica,sans-serif}" +
      ".pvc-widget .pvc-title{font-weight:bold;text-transform:uppercase;font-size:12px;" +
      "color:#a00;border-bottom:1px solid #ddd;margin-bottom:.3em}" +
      ".pvc-widget .pvc-lines{list-style:none;margin:0;padding:0}" +
      ".pvc-widget .pvc-value{font-weight:bold;float:right;margin-left:1em}" +
      ".pvc-widget .pvc-line{clear:both}";
    (document.head || document.documentElement).appendChild(css);
  }
  var target = d.target && document.getElementById(d.target);
  if (target) {
    target.appendChild(box);
  } else if (tag.parentNode) {
    tag.parentNode.insertBefore(box, tag.nextSibling);
  }

  // 3. The counts, live.
  function show(data) {
    var v = {
      online: data.online, today: data.today, yesterday: data.yesterday,
      month: data.this_month, total: data.total,
      article: data.article ? data.article.total : 0
    };
    for (var k in values) {
      if (Object.prototype.hasOwnProperty.call(values, k)) values[k].textContent = group(v[k]);
    }
    box.setAttribute("data-loaded", "true");
  }
  function fail() {
    for (var k in values) {
      if (Object.prototype.hasOwnProperty.call(values, k)) values[k].textContent = "–";
    }
  }
  var countsUrl = base + "/api/v1/widget?" + fields;
  function load() {
    if (window.fetch) {
      fetch(countsUrl, { credentials: "omit", cache: "no-cache" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(show, fail);
      return;
    }
    var x = new XMLHttpRequest();
    x.open("GET", countsUrl);
    x.onload = function () {
      try { if (x.status === 200) return show(JSON.parse(x.responseText)); } catch (e) { /* */ }
      fail();
    };
    x.onerror = fail;
    x.send();
  }

  if (d.count !== "false") countView();
  load();
})();
