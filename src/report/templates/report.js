/* The list of the morning report: filters, search, cluster groups,
   pages of rows, expandable rows with highlighted words and the score
   ledger. A URL fragment such as #check=class:城建拆迁;tier:红 applies
   filters on load; with "check" the result and any script error are
   written into #check-result for tests. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var rows = DATA.rows;
  var strs = DATA.strs;
  var TIERS = DATA.tiers;
  var PAGE = DATA.page || 100;
  var TIER_CSS = ["t-red", "t-orange", "t-yellow", "t-blue", "t-none"];
  var COLS = 9;
  var state = { tier: "", cls: "", loc: "", signal: "", cluster: "", q: "", group: true, page: 0 };
  var opened = {};
  var hay = null;
  var last = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function counted(values) {
    var n = {};
    values.forEach(function (v) { if (v) { n[v] = (n[v] || 0) + 1; } });
    return Object.keys(n).sort(function (a, b) { return n[b] - n[a] || (a < b ? -1 : a > b ? 1 : 0); })
      .map(function (k) { return [k, n[k]]; });
  }

  function fill(select, pairs, label) {
    pairs.forEach(function (p) {
      var o = el("option", null, (label ? label(p[0]) : p[0]) + "（" + p[1] + "）");
      o.value = p[0];
      select.appendChild(o);
    });
  }

  function setUp() {
    var tierCounts = TIERS.map(function () { return 0; });
    rows.forEach(function (r) { tierCounts[r.t] += 1; });
    fill($("f-tier"), TIERS.map(function (t, i) { return [t, tierCounts[i]]; }).filter(function (p) { return p[1] > 0; }));
    fill($("f-class"), counted(rows.map(function (r) { return r.k; })));
    var signals = [];
    rows.forEach(function (r) { r.s.forEach(function (s) { signals.push(s); }); });
    fill($("f-signal"), counted(signals));
    var sizes = {};
    rows.forEach(function (r) { if (r.u) { sizes[r.u] = r.uk + "，共 " + r.us + " 件"; } });
    fill($("f-cluster"), counted(rows.map(function (r) { return r.u; })), function (u) { return u + " " + sizes[u]; });
    var locs = $("locs");
    counted(rows.map(function (r) { return r.l; })).forEach(function (p) {
      var o = el("option");
      o.value = p[0];
      locs.appendChild(o);
    });
    $("f-group").checked = state.group;
    [["f-tier", "tier"], ["f-class", "cls"], ["f-signal", "signal"], ["f-cluster", "cluster"]].forEach(function (p) {
      $(p[0]).addEventListener("change", function (e) { state[p[1]] = e.target.value; state.page = 0; render(); });
    });
    var timer = null;
    function typed(key) {
      return function (e) {
        var v = e.target.value.trim();
        clearTimeout(timer);
        timer = setTimeout(function () { state[key] = v; state.page = 0; render(); }, 150);
      };
    }
    $("f-loc").addEventListener("input", typed("loc"));
    $("f-q").addEventListener("input", typed("q"));
    $("f-group").addEventListener("change", function (e) { state.group = e.target.checked; state.page = 0; render(); });
    $("f-reset").addEventListener("click", function () {
      state = { tier: "", cls: "", loc: "", signal: "", cluster: "", q: "", group: state.group, page: 0 };
      showState();
      render();
    });
    $("p-prev").addEventListener("click", function () { state.page -= 1; render(); });
    $("p-next").addEventListener("click", function () { state.page += 1; render(); });
  }

  function showState() {
    $("f-tier").value = state.tier;
    $("f-class").value = state.cls;
    $("f-signal").value = state.signal;
    $("f-cluster").value = state.cluster;
    $("f-loc").value = state.loc;
    $("f-q").value = state.q;
    $("f-group").checked = state.group;
  }

  function haystack(i) {
    if (hay === null) { hay = new Array(rows.length); }
    if (hay[i] === undefined) {
      var r = rows[i];
      hay[i] = [r.i, r.n, r.l, r.k, r.x || "", r.p.join(" "), r.s.join(" ")].join("\n").toLowerCase();
    }
    return hay[i];
  }

  function matches(r, i, q) {
    if (state.tier && TIERS[r.t] !== state.tier) { return false; }
    if (state.cls && r.k !== state.cls) { return false; }
    if (state.loc && r.l.indexOf(state.loc) < 0) { return false; }
    if (state.signal && r.s.indexOf(state.signal) < 0) { return false; }
    if (state.cluster === "*" && !r.u) { return false; }
    if (state.cluster && state.cluster !== "*" && r.u !== state.cluster) { return false; }
    if (q && haystack(i).indexOf(q) < 0) { return false; }
    return true;
  }

  function filtered() {
    var q = state.q.toLowerCase();
    var out = [];
    for (var i = 0; i < rows.length; i += 1) {
      if (matches(rows[i], i, q)) { out.push(i); }
    }
    return out;
  }

  /* Entries of the list: a cluster's members follow its header, placed
     where its highest-ranked member would be. */
  function entries(idx) {
    if (!state.group) { return idx.map(function (i) { return { row: i }; }); }
    var members = {};
    idx.forEach(function (i) {
      var u = rows[i].u;
      if (u) { (members[u] = members[u] || []).push(i); }
    });
    var out = [];
    var done = {};
    idx.forEach(function (i) {
      var u = rows[i].u;
      if (!u) { out.push({ row: i }); return; }
      if (done[u]) { return; }
      done[u] = true;
      out.push({ group: u, first: i, n: members[u].length });
      members[u].forEach(function (m) { out.push({ row: m, member: true }); });
    });
    return out;
  }

  function highlighted(text, spans, field) {
    var chars = Array.from(text);
    var marks = spans.filter(function (h) { return h[0] === field && h[1] < h[2] && h[2] <= chars.length; })
      .map(function (h) { return [h[1], h[2]]; })
      .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    var merged = [];
    marks.forEach(function (m) {
      var top = merged[merged.length - 1];
      if (top && m[0] <= top[1]) { top[1] = Math.max(top[1], m[1]); } else { merged.push([m[0], m[1]]); }
    });
    var frag = document.createDocumentFragment();
    var at = 0;
    merged.forEach(function (m) {
      if (m[0] > at) { frag.appendChild(document.createTextNode(chars.slice(at, m[0]).join(""))); }
      frag.appendChild(el("mark", null, chars.slice(m[0], m[1]).join("")));
      at = m[1];
    });
    if (at < chars.length) { frag.appendChild(document.createTextNode(chars.slice(at).join(""))); }
    return frag;
  }

  function table(head, body, cls) {
    var t = el("table", cls);
    var tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    var thead = el("thead");
    thead.appendChild(tr);
    t.appendChild(thead);
    var tb = el("tbody");
    body.forEach(function (cells) {
      var row = el("tr");
      cells.forEach(function (c) {
        var td = el("td", typeof c === "number" ? "points" : null, typeof c === "number" ? fmt(c) : c);
        row.appendChild(td);
      });
      tb.appendChild(row);
    });
    t.appendChild(tb);
    return t;
  }

  function fmt(n) { return (Math.round(n * 10) / 10).toString(); }

  function line(label, value) {
    var p = el("p", "sub");
    p.appendChild(el("b", null, label + "："));
    p.appendChild(document.createTextNode(value));
    return p;
  }

  function detail(r) {
    var tr = el("tr", "detail");
    var td = el("td");
    td.colSpan = COLS;
    if (r.c) { td.appendChild(el("p", "crisis", "危机：" + r.cr)); }
    var facts = [];
    if (r.p.length) { facts.push("信访人 " + r.p.join("、")); }
    if (r.ch) { facts.push("渠道 " + r.ch); }
    if (r.f) { facts.push("类别族 " + r.f); }
    if (r.sc.length) { facts.push("次类别 " + r.sc.join("、")); }
    if (facts.length) { td.appendChild(el("p", "sub", facts.join("；"))); }
    if (r.pe.length) { td.appendChild(line("敏感期", r.pe.join("；"))); }
    if (r.sv.length) { td.appendChild(line("督办", r.sv.join("；"))); }
    td.appendChild(line("建议去向", strs[r.ro] || ""));
    if (r.n) {
      var title = el("p", "text");
      title.appendChild(el("b", null, "标题："));
      title.appendChild(highlighted(r.n, r.h, 0));
      td.appendChild(title);
    }
    var text = el("div", "text");
    if (r.x === null || r.x === undefined) {
      text.textContent = "（原文不可用：输入文件已不在原处）";
    } else {
      text.appendChild(highlighted(r.x, r.h, 1));
    }
    td.appendChild(text);
    if (r.e.length) {
      td.appendChild(el("b", null, "命中依据"));
      td.appendChild(table(["规则", "类别或信号", "分", "命中的词"], r.e.map(function (e) { return [e[0], e[1], e[2], e[3]]; })));
    }
    td.appendChild(el("b", null, "得分明细（合计 " + r.r + " 分）"));
    td.appendChild(table(["来源", "项目", "计入", "分", "说明"], r.g.map(function (g) {
      return [g[0], strs[g[1]], g[2], g[3], strs[g[4]]];
    }), "ledger"));
    tr.appendChild(td);
    return tr;
  }

  function caseRow(i, member) {
    var r = rows[i];
    var tr = el("tr", "case" + (member ? " member" : "") + (opened[r.i] ? " open" : ""));
    tr.dataset.id = r.i;
    tr.dataset.tier = TIERS[r.t];
    tr.dataset.cls = r.k;
    var tier = el("td", "tier " + TIER_CSS[r.t], TIERS[r.t] + (r.c ? " 危机" : ""));
    tr.appendChild(tier);
    [r.r, r.i, r.d, r.k, r.l, r.n, r.s.join("、"), r.u ? r.u + "（" + r.us + "）" : ""].forEach(function (v, k) {
      tr.appendChild(el("td", k === 1 ? "id" : "cls-" + k, v));
    });
    tr.title = "点击展开原文和得分明细";
    tr.addEventListener("click", function () {
      if (opened[r.i]) {
        delete opened[r.i];
        tr.classList.remove("open");
        if (tr.nextSibling && tr.nextSibling.className === "detail") { tr.parentNode.removeChild(tr.nextSibling); }
      } else {
        opened[r.i] = true;
        tr.classList.add("open");
        tr.parentNode.insertBefore(detail(r), tr.nextSibling);
      }
    });
    return tr;
  }

  function render() {
    var started = Date.now();
    var idx = filtered();
    var list = entries(idx);
    var pages = Math.max(1, Math.ceil(list.length / PAGE));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    var body = $("case-rows");
    var frag = document.createDocumentFragment();
    var from = state.page * PAGE;
    list.slice(from, from + PAGE).forEach(function (en) {
      if (en.group !== undefined) {
        var g = rows[en.first];
        var tr = el("tr", "group");
        var td = el("td", null, "聚类 " + en.group + "：" + g.uk + "，共 " + g.us + " 件（含历史库），本次筛选出 " + en.n + " 件");
        td.colSpan = COLS;
        tr.appendChild(td);
        frag.appendChild(tr);
        return;
      }
      frag.appendChild(caseRow(en.row, en.member));
      if (opened[rows[en.row].i]) { frag.appendChild(detail(rows[en.row])); }
    });
    body.textContent = "";
    body.appendChild(frag);
    $("list-status").textContent = "筛选出 " + idx.length + " 件（共 " + rows.length + " 件）；按风险排序，危机案件在前；点击一行展开原文和得分明细。";
    $("p-info").textContent = "第 " + (state.page + 1) + " 页，共 " + pages + " 页";
    $("p-prev").disabled = state.page === 0;
    $("p-next").disabled = state.page >= pages - 1;
    var classes = {};
    var tiers = {};
    idx.forEach(function (i) { classes[rows[i].k] = true; tiers[TIERS[rows[i].t]] = (tiers[TIERS[rows[i].t]] || 0) + 1; });
    last = { shown: idx.length, rendered: body.querySelectorAll("tr.case").length, classes: Object.keys(classes), tiers: tiers, pages: pages, ms: Date.now() - started };
  }

  /* #check=key:value;key:value or #filter=… (keys: tier, class, loc,
     signal, cluster, q, group, open, page, and view:list to show the
     list alone). */
  function fromHash() {
    var h = decodeURIComponent(location.hash.replace(/^#/, ""));
    var m = h.match(/^(check|filter)=(.*)$/);
    if (!m) { return null; }
    var keys = { tier: "tier", "class": "cls", loc: "loc", signal: "signal", cluster: "cluster", q: "q" };
    m[2].split(";").forEach(function (pair) {
      var at = pair.indexOf(":");
      if (at < 0) { return; }
      var k = pair.slice(0, at);
      var v = pair.slice(at + 1);
      if (keys[k]) { state[keys[k]] = v; }
      if (k === "group") { state.group = v !== "0"; }
      if (k === "open") { v.split(",").forEach(function (id) { opened[id] = true; }); }
      if (k === "page") { state.page = (parseInt(v, 10) || 1) - 1; }
      if (k === "view") { document.body.setAttribute("data-view", v); }
    });
    return m[1];
  }

  function report(mode) {
    if (mode !== "check") { return; }
    var onPage = {};
    Array.prototype.forEach.call(document.querySelectorAll(".tier-count"), function (e) {
      onPage[e.dataset.tier] = parseInt(e.textContent, 10);
    });
    var all = {};
    rows.forEach(function (r) { all[TIERS[r.t]] = (all[TIERS[r.t]] || 0) + 1; });
    var out = $("check-result");
    out.textContent = JSON.stringify({
      errors: window.reportErrors || [],
      total: rows.length,
      tierCounts: all,
      tierCountsOnPage: onPage,
      shown: last ? last.shown : -1,
      rendered: last ? last.rendered : -1,
      classes: last ? last.classes : [],
      tiers: last ? last.tiers : {},
      rowClasses: Array.prototype.map.call(document.querySelectorAll("#case-rows tr.case"), function (e) { return e.dataset.cls; }),
      marks: document.querySelectorAll("#case-rows mark").length,
      ms: last ? last.ms : -1
    });
  }

  try {
    setUp();
    var mode = fromHash();
    showState();
    render();
    report(mode);
    window.addEventListener("hashchange", function () {
      var m = fromHash();
      showState();
      render();
      report(m);
    });
  } catch (e) {
    (window.reportErrors = window.reportErrors || []).push(String(e && e.stack ? e.stack : e));
    var out = $("check-result");
    if (out) { out.textContent = JSON.stringify({ errors: window.reportErrors }); }
    throw e;
  }
})();
