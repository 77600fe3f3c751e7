/* pvcd widget. One tag counts the page view and shows the portal's counter
 * box ("lượt truy cập"):
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
 * With data-box="top" the tag shows the most read box ("Tin xem nhiều")
 * instead, and counts nothing (the page's counter box, if any, counts it):
 *
 * data-period   day (default), week, month or all
 * data-n        how many articles, 1..20 (default 5)
 * data-base     links: path ids resolve against this URL (default: the page's
 *               origin), other ids are appended to it (no link without it)
 * data-site, data-lang, data-target, data-hide (title), data-style as above.
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
          article: "Lượt xem bài này", sep: ".",
          top: "Tin xem nhiều", noViews: "Chưa có lượt xem" },
    en: { title: "Visitors", online: "Online now", today: "Today",
          yesterday: "Yesterday", month: "This month", total: "Total",
          article: "This article", sep: ",",
          top: "Most read", noViews: "No views yet" }
  }[lang];

  function enc(v) { return encodeURIComponent(v); }
  var fields = "s=" + enc(site) + "&a=" + enc(article);

  // The view: sendBeacon, else fetch with keepalive, else an image.
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

  // Shared by both boxes: markup, grouping, style, placement, the fetch.
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
  function newBox(kind) {
    var box = el("div", "pvc-widget pvc-" + kind);
    box.setAttribute("lang", lang);
    box.setAttribute("data-site", site);
    if (hidden.indexOf(" title ") < 0) {
      box.appendChild(el("div", "pvc-title", kind === "top" ? text.top : text.title));
    }
    return box;
  }
  function addStyle() {
    if (d.style === "none" || document.getElementById("pvc-widget-style")) return;
    var css = el("style", "");
    css.id = "pvc-widget-style";
    css.textContent =
      ".pvc-widget{display:inline-block;vertical-align:top;min-width:12em;padding:.5em .9em;" +
      "border:1px solid #c8c8c8;margin:0 .5em .5em 0;" +
      "border-radius:4px;background:#fafafa;color:#222;font:14px/1.6 Arial,Helvetica,sans-serif}" +
      ".pvc-widget .pvc-title{font-weight:bold;text-transform:uppercase;font-size:12px;" +
      "color:#a00;border-bottom:1px solid #ddd;margin-bottom:.3em}" +
      ".pvc-widget .pvc-lines{list-style:none;margin:0;padding:0}" +
      ".pvc-widget .pvc-value{font-weight:bold;float:right;margin-left:1em}" +
      ".pvc-widget .pvc-line{clear:both}" +
      // The top box: numbered lines, a long title wraps beside its count.
      ".pvc-top{max-width:26em}" +
      ".pvc-top .pvc-lines{counter-reset:pvc-rank}" +
      ".pvc-top .pvc-item{display:flex;gap:.4em;padding:.15em 0;border-top:1px dotted #ddd}" +
      ".pvc-top .pvc-item:first-child{border-top:0}" +
      ".pvc-top .pvc-item:before{counter-increment:pvc-rank;content:counter(pvc-rank);" +
      "color:#a00;font-weight:bold;min-width:1.2em}" +
      ".pvc-top .pvc-label{flex:1;color:#124;text-decoration:none}" +
      ".pvc-top a.pvc-label:hover{text-decoration:underline}" +
      ".pvc-top .pvc-value{float:none;font-weight:normal;color:#666}";
    (document.head || document.documentElement).appendChild(css);
  }
  function place(box) {
    var target = d.target && document.getElementById(d.target);
    if (target) {
      target.appendChild(box);
    } else if (tag.parentNode) {
      tag.parentNode.insertBefore(box, tag.nextSibling);
    }
  }
  // One GET, no cookie. retry503: pvcd answers 503 while it computes a most
  // read list nobody asked for in ten minutes, "retry in a second": asked
  // once more then, never again (no polling).
  function getJson(url, show, fail, retry503) {
    function done(status, body) {
      if (status === 503 && retry503) return setTimeout(function () { getJson(url, show, fail); }, 1200);
      if (status !== 200) return fail();
      try { var data = JSON.parse(body); } catch (e) { return fail(); }
      show(data);
    }
    if (window.fetch) {
      fetch(url, { credentials: "omit", cache: "no-cache" })
        .then(function (r) { return r.text().then(function (body) { done(r.status, body); }); })
        .catch(fail);
      return;
    }
    var x = new XMLHttpRequest();
    x.open("GET", url);
    x.onload = function () { done(x.status, x.responseText); };
    x.onerror = fail;
    x.send();
  }

  // The counter box, with placeholders until the counts arrive.
  function counterBox() {
    var lines = [
      ["online", "online"], ["today", "today"], ["yesterday", "yesterday"],
      ["month", "this_month"], ["total", "total"], ["article", "article"]
    ];
    var box = newBox("counter");
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
    addStyle();
    place(box);

    function fill(v) {
      for (var k in values) {
        if (Object.prototype.hasOwnProperty.call(values, k)) values[k].textContent = v(k);
      }
    }
    function show(data) {
      var v = {
        online: data.online, today: data.today, yesterday: data.yesterday,
        month: data.this_month, total: data.total,
        article: data.article ? data.article.total : 0
      };
      fill(function (k) { return group(v[k]); });
      box.setAttribute("data-loaded", "true");
    }
    getJson(base + "/api/v1/widget?" + fields, show, function () { fill(function () { return "–"; }); });
  }

  // An article's link, or null. Ids are data anyone can send with a beacon:
  // only an http(s) URL on the origin it was built on becomes a link, so
  // "//other.host/x", "/\other.host" or a javascript: base never does.
  function articleHref(id) {
    try {
      var home = new URL(d.base || "/", location.href);
      var url = id.charAt(0) === "/" ? new URL(id, home)
              : d.base ? new URL(d.base + id, location.href) : null;
      if (url && /^https?:$/.test(url.protocol) && url.origin === home.origin) return url.href;
    } catch (e) { /* not a URL: text only */ }
    return null;
  }

  // The most read box ("Tin xem nhiều"); it never counts a view.
  function topBox() {
    var period = /^(day|week|month|all)$/.test(d.period || "") ? d.period : "day";
    var n = /^\d+$/.test(d.n || "") && +d.n >= 1 && +d.n <= 20 ? +d.n : 5;
    var box = newBox("top");
    box.setAttribute("data-period", period);
    var list = box.appendChild(el("ol", "pvc-lines"));
    var waiting = list.appendChild(el("li", "pvc-line pvc-waiting", "…"));
    addStyle();
    place(box);

    function show(items) {
      list.removeChild(waiting);
      if (!items.length) list.appendChild(el("li", "pvc-line pvc-empty", text.noViews));
      for (var i = 0; i < items.length && i < n; i++) {
        var id = String(items[i].id);
        // "title" when the article has one, else the id: text either way.
        var label = typeof items[i].title === "string" && items[i].title ? items[i].title : id;
        var href = articleHref(id);
        var li = el("li", "pvc-line pvc-item");
        var name = li.appendChild(el(href ? "a" : "span", "pvc-label", label));
        if (href) name.href = href;
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", "pvc-value", group(items[i].views)));
        list.appendChild(li);
      }
      box.setAttribute("data-loaded", "true");
    }
    function fail() { waiting.textContent = "–"; }
    var url = base + "/api/v1/top?s=" + enc(site) + "&period=" + period + "&n=" + n;
    getJson(url, function (items) { Array.isArray(items) ? show(items) : fail(); }, fail, true);
  }

  if (d.box === "top") {
    topBox();
  } else {
    if (d.count !== "false") countView();
    counterBox();
  }
})();
