// Draws the report from the JSON embedded in the page (the `cowtrace report --format json` model
// plus call sites and the tree's PSS). No network, no libraries: the page must work offline and
// under a Content-Security-Policy that forbids every fetch.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#ea580c", "#2563eb", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04",
                   "#4f46e5", "#dc2626", "#0d9488", "#65a30d", "#7c3aed"];
  // More lines than this make the chart unreadable; the rest start hidden in the legend.
  const VISIBLE_SERIES = 12;
  const TREE_OPEN_DEPTH = 3;
  const TREE_MAX_CHILDREN = 40;

  function showError(message) {
    const box = document.getElementById("errors");
    box.hidden = false;
    box.textContent = "The report could not be drawn: " + message;
    document.body.dataset.rendered = "error";
  }
  window.addEventListener("error", function (e) { showError(e.message); });

  // ---- small helpers ------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, String(v));
    }
    for (const c of children.flat()) if (c) node.append(c);
    return node;
  }

  const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  function bytes(n) {
    if (n === null || n === undefined) return "—";
    let v = n, i = 0;
    while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i++; }
    return i === 0 ? n + " B" : v.toFixed(1) + " " + UNITS[i];
  }
  function percent(part, whole) {
    if (!whole) return "—";
    const p = 100 * part / whole;
    return (p < 10 ? p.toFixed(1) : p.toFixed(0)) + "%";
  }
  function seconds(ns) {
    if (ns === null || ns === undefined) return "…";
    const s = ns / 1e9;
    return (s < 10 ? s.toFixed(3) : s < 100 ? s.toFixed(2) : s.toFixed(1)) + " s";
  }
  function exitText(p) {
    if (p.flags.includes("still_running")) return ["still running", ""];
    if (!p.exit) return ["end unknown", ""];
    if ("signal" in p.exit) return ["signal " + p.exit.signal + (p.exit.core_dumped ? " (core)" : ""), "bad"];
    return ["exit " + p.exit.code, p.exit.code === 0 ? "ok" : "bad"];
  }
  function frameText(f) { return f.symbol || f.ip; }

  // Tick values for an axis: "nice" steps (1, 2, 5 × 10^k) in the unit the maximum reads best in.
  function niceStep(max, count) {
    const raw = max / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
    return 10 * mag;
  }
  function byteTicks(max) {
    let unit = 1, name = "B";
    for (let i = 1; i < UNITS.length && max >= Math.pow(1024, i); i++) { unit = Math.pow(1024, i); name = UNITS[i]; }
    const top = Math.max(max / unit, 1e-9);
    const step = niceStep(top, 4);
    const ticks = [];
    for (let v = 0; v <= top * 1.0001 + step; v += step) {
      ticks.push({ value: v * unit, label: (Number.isInteger(v) ? v : v.toFixed(1)) + " " + name });
      if (v >= top) break;
    }
    return ticks;
  }
  function timeTicks(maxNs) {
    const top = Math.max(maxNs / 1e9, 1e-6);
    const step = niceStep(top, 6);
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    const ticks = [];
    for (let v = 0; v <= top * 1.0001; v += step) ticks.push({ value: v * 1e9, label: v.toFixed(Math.min(digits, 6)) + " s" });
    return ticks;
  }

  // ---- the model ----------------------------------------------------------------------------

  const data = JSON.parse(document.getElementById("cowtrace-data").textContent);
  const procs = data.processes;
  // Short-lived episodes (the child exec'd or exited before its memory was read) were not
  // measured: they are counted, not charted or ranked.
  const shortLived = data.forks.filter(e => e.census === "short-lived");
  const episodes = data.forks.map((e, i) => Object.assign({ index: i }, e)).filter(e => e.census !== "short-lived");
  const ranked = episodes.slice().sort((a, b) => b.copied_bytes_peak - a.copied_bytes_peak || a.t_ns - b.t_ns);
  ranked.forEach((e, rank) => {
    e.rank = rank;
    e.color = PALETTE[rank % PALETTE.length];
    e.visible = rank < VISIBLE_SERIES;
  });
  const episodeOfChild = new Map(episodes.map(e => [e.child_index, e]));
  const isChild = new Set(procs.flatMap(p => p.children));
  const roots = procs.map((p, i) => i).filter(i => !isChild.has(i));
  const duration = Math.max(data.trace.duration_ns || 0,
    ...procs.map(p => p.end_ns || p.start_ns || 0),
    ...episodes.map(e => e.end_ns || (e.samples.length ? e.samples[e.samples.length - 1].t_ns : e.t_ns)));
  const listeners = [];
  let selected = null;
  let chosenByUser = false;  // the costliest episode is open at first, without dimming the rest

  function select(episode, byUser) {
    selected = episode;
    chosenByUser = byUser !== false;
    for (const f of listeners) f(episode);
  }
  function episodeLabel(e) {
    return "pid " + e.child + " (" + procs[e.child_index].name + ")";
  }

  // ---- header and summary cards -------------------------------------------------------------

  function renderHeader() {
    const t = data.trace;
    const parts = [];
    if (t.host) parts.push(t.host);
    if (t.kernel_release) parts.push("Linux " + t.kernel_release);
    if (t.wall_start_ns) parts.push(new Date(t.wall_start_ns / 1e6).toISOString().replace("T", " ").slice(0, 19) + " UTC");
    parts.push("lasted " + seconds(t.duration_ns));
    parts.push("copy-on-write census: " + (t.census_mode || "off"));
    document.getElementById("meta").textContent = parts.join(" · ");
    if (t.command && t.command.length) document.getElementById("command").textContent = t.command_line;
  }

  function renderCards() {
    const box = document.getElementById("overview");
    const card = (label, value, sub, alert) =>
      el("div", { class: "card" + (alert ? " alert" : ""), "data-card": label },
        el("div", { class: "label", text: label }), el("div", { class: "value", text: value }),
        sub ? el("div", { class: "sub", text: sub }) : null);
    const worst = ranked[0];
    const sharedMax = episodes.reduce((s, e) => Math.max(s, e.shared_bytes_at_fork), 0);
    box.append(card("Processes", String(procs.length), roots.length > 1 ? roots.length + " trees" : null));
    const forkSub = (episodes.length ? "largest shared at fork " + bytes(sharedMax) : "no fork shared memory") +
      (shortLived.length ? "; " + shortLived.length + " short-lived, not measured" : "");
    box.append(card("Fork episodes", String(episodes.length + shortLived.length), forkSub));
    box.append(card("Largest copy", worst ? bytes(worst.copied_bytes_peak) : "—",
      worst ? episodeLabel(worst) + ", " + percent(worst.copied_bytes_peak, worst.shared_bytes_at_fork) + " of shared" : null, !!worst && worst.copied_bytes_peak > 0));
    const sum = data.summary;
    if (sum.copied_bytes_peak_concurrent !== null) {
      // What the copies took at one moment, not the sum of forks that never overlapped.
      box.append(card("Copied at once", bytes(sum.copied_bytes_peak_concurrent),
        sum.copied_bytes_peak_concurrent_t_ns !== null
          ? "the most at one time, at " + seconds(sum.copied_bytes_peak_concurrent_t_ns) + " (forks alive then, together)"
          : "the most at one time"));
      box.append(card("Copied in all", bytes(sum.copied_bytes_total), "each fork's peak, summed: how much copying happened, not at once"));
    }
    if (data.tree_pss.length) {
      const peak = data.tree_pss.reduce((a, b) => (b[1] > a[1] ? b : a));
      box.append(card("Peak tree PSS", bytes(peak[1]), "at " + seconds(peak[0])));
    }
    box.append(card("Duration", seconds(data.trace.duration_ns), data.trace.complete ? null : "trace incomplete", !data.trace.complete));
  }

  // ---- process tree -------------------------------------------------------------------------

  function renderTree() {
    const box = document.getElementById("tree");
    const nodes = new Map();
    listeners.push(e => {
      for (const [, n] of nodes) n.classList.remove("selected");
      if (e && nodes.has(e.child_index)) {
        const n = nodes.get(e.child_index);
        n.classList.add("selected");
        for (let d = n.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
      }
    });
    function line(i) {
      const p = procs[i];
      const [ended, cls] = exitText(p);
      const ep = episodeOfChild.get(i);
      const args = p.command_line !== p.name ? p.command_line : "";
      const node = el("span", { class: "node" + (ep ? " selectable" : ""), "data-pid": p.pid },
        el("span", { class: "pname", text: p.name }),
        el("span", { class: "pid", text: String(p.pid) }),
        p.pid !== data.root_pid && p.how !== "unknown" ? el("span", { class: "how", text: p.how }) : null,
        args ? el("span", { class: "args", title: p.command_line, text: p.command_line }) : null,
        el("span", { class: "life", text: seconds(p.start_ns) + " – " + seconds(p.end_ns) }),
        el("span", { class: "exit " + cls, text: ended }),
        ep ? el("span", { class: "badge", title: "copy-on-write peak", text: "copied " + bytes(ep.copied_bytes_peak) }) : null,
        p.flags.filter(f => f !== "still_running").map(f => el("span", { class: "flag", text: f.replace(/_/g, " ") })));
      if (ep) node.addEventListener("click", ev => { ev.preventDefault(); select(ep); });
      nodes.set(i, node);
      return node;
    }
    function branch(i, depth, seen) {
      const p = procs[i];
      const li = el("li", { "data-pid": p.pid, "data-index": i });
      if (seen.has(i)) return li;  // a damaged trace could loop
      seen.add(i);
      if (!p.children.length) { li.append(line(i)); return li; }
      const kids = p.children;
      const shown = kids.slice(0, TREE_MAX_CHILDREN).map(c => branch(c, depth + 1, seen));
      const list = el("ul", {}, shown);
      if (kids.length > TREE_MAX_CHILDREN) {
        const rest = el("details", {}, el("summary", { text: (kids.length - TREE_MAX_CHILDREN) + " more" }),
          el("ul", {}, kids.slice(TREE_MAX_CHILDREN).map(c => branch(c, depth + 1, seen))));
        list.append(el("li", {}, rest));
      }
      li.append(el("details", { open: depth < TREE_OPEN_DEPTH }, el("summary", {}, line(i)), list));
      return li;
    }
    const seen = new Set();
    box.append(el("ul", {}, roots.map(r => branch(r, 0, seen))));
  }

  // ---- timeline charts ----------------------------------------------------------------------

  const charts = [];

  // A step line through the points, from x(t) and y(v).
  function stepPath(points, x, y) {
    let d = "";
    points.forEach(([t, v], k) => {
      const X = x(t).toFixed(1), Y = y(v).toFixed(1);
      d += k === 0 ? "M" + X + " " + Y : "H" + X + "V" + Y;
    });
    return d;
  }

  function episodeSeries(e, key) {
    const pts = [[e.t_ns, key === "copied_bytes" ? 0 : e.shared_bytes_at_fork]];
    for (const s of e.samples) pts.push([s.t_ns, s[key]]);
    const end = e.end_ns !== null ? e.end_ns : duration;
    pts.push([Math.max(end, pts[pts.length - 1][0]), pts[pts.length - 1][1]]);
    return pts;
  }

  // Estimated samples (between exact censuses): [from, to, low, high] of the 95 % interval of
  // the copied figure, until the next sample.
  function episodeBand(e) {
    const band = [];
    const end = e.end_ns !== null ? e.end_ns : duration;
    e.samples.forEach((s, i) => {
      if (s.exact !== false) return;
      const to = i + 1 < e.samples.length ? e.samples[i + 1].t_ns : Math.max(end, s.t_ns);
      band.push([s.t_ns, to, Math.max(0, s.copied_bytes - s.error_bytes), s.copied_bytes + s.error_bytes]);
    });
    return band;
  }

  function valueAt(points, t) {
    let v = null;
    for (const [pt, pv] of points) { if (pt <= t) v = pv; else break; }
    return v;
  }

  // One chart: title, axes with units, a line per series; series = [{key, label, color, dashed, points, episode}].
  function drawChart(title, series, id) {
    const W = 760, H = 210, L = 70, R = 14, T = 22, B = 30;
    const max = Math.max(1, ...series.flatMap(s => s.points.map(p => p[1])));
    const yt = byteTicks(max), xt = timeTicks(duration);
    const yMax = yt[yt.length - 1].value, xMax = Math.max(duration, 1);
    const x = t => L + (W - L - R) * t / xMax;
    const y = v => H - B - (H - T - B) * v / yMax;
    const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": title, id: id, class: "chart" });
    root.append(svg("text", { x: L, y: 14, class: "chart-title", text: title }));
    const grid = svg("g", { class: "grid" });
    const yAxis = svg("g", { class: "axis y-axis" });
    for (const tk of yt) {
      grid.append(svg("line", { x1: L, x2: W - R, y1: y(tk.value), y2: y(tk.value) }));
      yAxis.append(svg("text", { x: L - 6, y: y(tk.value) + 4, "text-anchor": "end", text: tk.label }));
    }
    const xAxis = svg("g", { class: "axis x-axis" },
      svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B }));
    for (const tk of xt) {
      xAxis.append(svg("line", { x1: x(tk.value), x2: x(tk.value), y1: H - B, y2: H - B + 4 }));
      xAxis.append(svg("text", { x: x(tk.value), y: H - B + 16, "text-anchor": "middle", text: tk.label }));
    }
    root.append(grid, yAxis, xAxis);
    const paths = [];
    for (const s of series) {
      for (const [from, to, lo, hi] of s.band || []) {
        const r = svg("rect", { x: x(from), width: Math.max(0.5, x(to) - x(from)), y: y(hi),
          height: Math.max(0.5, y(lo) - y(hi)), fill: s.color, class: "band",
          "data-episode": s.episode ? s.episode.index : null });
        r.append(svg("title", { text: s.label + ": estimated, 95 % interval " + bytes(lo) + "–" + bytes(hi) }));
        paths.push({ path: r, s, band: true });
        root.append(r);
      }
      const path = svg("path", { d: stepPath(s.points, x, y), stroke: s.color,
        class: "series " + s.key + (s.dashed ? " shared" : ""), "data-episode": s.episode ? s.episode.index : null });
      path.append(svg("title", { text: s.label }));
      paths.push({ path, s });
      root.append(path);
    }
    const cross = svg("line", { class: "crosshair", y1: T, y2: H - B, visibility: "hidden" });
    root.append(cross);
    const tip = document.getElementById("tooltip");
    root.addEventListener("mousemove", ev => {
      const box = root.getBoundingClientRect();
      const px = (ev.clientX - box.left) * W / box.width;
      if (px < L || px > W - R) { cross.setAttribute("visibility", "hidden"); tip.hidden = true; return; }
      const t = (px - L) / (W - L - R) * xMax;
      cross.setAttribute("x1", px); cross.setAttribute("x2", px); cross.setAttribute("visibility", "visible");
      const rows = paths.filter(p => !p.band && (!p.s.episode || p.s.episode.visible))
        .map(p => [p.s, valueAt(p.s.points, t)]).filter(r => r[1] !== null)
        .sort((a, b) => b[1] - a[1]).slice(0, 8);
      tip.replaceChildren(el("div", { text: seconds(t) }),
        rows.map(([s, v]) => el("div", { class: "row" }, el("span", {}, el("span", { class: "swatch", style: "background:" + s.color }), s.label), el("b", { text: bytes(v) }))));
      tip.hidden = rows.length === 0;
      tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - 280) + "px";
      tip.style.top = (ev.clientY + 12) + "px";
    });
    root.addEventListener("mouseleave", () => { cross.setAttribute("visibility", "hidden"); tip.hidden = true; });
    charts.push(paths);
    return root;
  }

  function refreshCharts() {
    for (const paths of charts) {
      for (const { path, s } of paths) {
        if (!s.episode) continue;
        path.style.display = s.episode.visible ? "" : "none";
        path.classList.toggle("faded", chosenByUser && !!selected && selected !== s.episode);
        path.classList.toggle("highlight", chosenByUser && selected === s.episode);
      }
    }
  }

  function renderTimeline() {
    const box = document.getElementById("timeline");
    if (!episodes.length) {
      box.append(el("p", { class: "empty", text: data.trace.census_mode && data.trace.census_mode !== "off"
        ? "No fork episodes: nothing in this run forked a copy of its memory (exec-only children share nothing worth measuring)."
        : "No copy-on-write measurements: the trace was recorded without the census (cowtrace run --no-cow)." }));
    } else {
      const copied = ranked.map(e => ({ key: "copied", label: episodeLabel(e) + " copied", color: e.color, points: episodeSeries(e, "copied_bytes"), band: episodeBand(e), episode: e }));
      const shared = ranked.map(e => ({ key: "shared", label: episodeLabel(e) + " still shared", color: e.color, dashed: true, points: episodeSeries(e, "shared_bytes"), episode: e }));
      box.append(drawChart("Copied bytes per fork episode (copies made since the fork, by either side)", copied, "chart-copied"));
      if (episodes.some(e => e.samples.some(s => s.exact === false))) {
        box.append(el("p", { class: "note", text: "Shaded: points estimated from a sample of pages between exact censuses, with their 95 % interval; peaks and final figures are counted page by page." }));
      }
      box.append(drawChart("Bytes still shared per fork episode", shared, "chart-shared"));
    }
    if (data.tree_pss.length) {
      const pts = data.tree_pss.slice();
      box.append(drawChart("Whole tree PSS (resident memory, shared pages split among sharers)",
        [{ key: "pss", label: "tree PSS", color: "#64748b", points: pts }], "chart-memory"));
    }
    const legend = document.getElementById("legend");
    for (const e of ranked) {
      const b = el("button", { type: "button", class: e.visible ? "" : "off", "data-episode": e.index, title: "show or hide; double-click to select" },
        el("span", { class: "swatch", style: "background:" + e.color }), episodeLabel(e) + " · " + bytes(e.copied_bytes_peak));
      b.addEventListener("click", () => { e.visible = !e.visible; b.classList.toggle("off", !e.visible); refreshCharts(); });
      b.addEventListener("dblclick", () => { e.visible = true; b.classList.remove("off"); select(e); });
      legend.append(b);
    }
    if (ranked.length > VISIBLE_SERIES) legend.append(el("span", { class: "empty", text: (ranked.length - VISIBLE_SERIES) + " smaller episodes hidden: click to show" }));
    listeners.push(refreshCharts);
    refreshCharts();
  }

  // ---- episodes table with per-region details ------------------------------------------------

  function barCell(part, whole) {
    const w = whole ? Math.min(100, 100 * part / whole) : 0;
    return el("td", { title: percent(part, whole) }, el("div", { class: "bar" }, el("span", { style: "width:" + w.toFixed(1) + "%" })));
  }

  function regionTable(e) {
    if (!e.regions.length) return el("p", { class: "empty", text: "No per-region figures were recorded for this episode." });
    const rows = e.regions.slice().sort((a, b) => b.copied_bytes_peak - a.copied_bytes_peak || b.shared_bytes_at_fork - a.shared_bytes_at_fork);
    const split = e.copied_by_parent_bytes !== null;
    return el("table", { class: "regions", "data-episode": e.index },
      el("thead", {}, el("tr", {}, el("th", { text: "Region" }), el("th", { class: "num", text: "Shared at fork" }),
        el("th", { class: "num", text: "Copied peak" }), el("th", { class: "num", text: "Copied final" }),
        split ? el("th", { class: "num", text: "By parent" }) : null, split ? el("th", { class: "num", text: "By child" }) : null,
        el("th", { text: "Share copied" }))),
      el("tbody", {}, rows.map(r => el("tr", {},
        el("td", { class: "cmd", title: r.name, text: r.name }), el("td", { class: "num", text: bytes(r.shared_bytes_at_fork) }),
        el("td", { class: "num", text: bytes(r.copied_bytes_peak) }), el("td", { class: "num", text: bytes(r.copied_bytes_final) }),
        split ? el("td", { class: "num", text: bytes(r.copied_by_parent_bytes) }) : null,
        split ? el("td", { class: "num", text: bytes(r.copied_by_child_bytes) }) : null,
        barCell(r.copied_bytes_peak, r.shared_bytes_at_fork)))));
  }

  // The code that copied (sampled page faults): the largest call paths, each from the first frame
  // past libc's copy primitives (memset, memcpy…), which say nothing of who asked.
  const COPY_PATHS_SHOWN = 10;
  function isCopyPrimitive(frame) {
    return /^_*(mem|wmem|str|wcs|bcopy|bzero|stp)/.test(frame);
  }
  function copyPathTable(e) {
    const s = e.attribution_summary;
    if (!s) return null;
    if (s.unavailable) return el("p", { class: "empty", text: "Not known: " + s.unavailable });
    if (!e.attribution.length) return el("p", { class: "empty", text: "No sampled fault fell on a copy (one fault in " + s.period + " sampled)." });
    const total = e.attribution.reduce((sum, p) => sum + p.copied_bytes, 0);
    const rows = e.attribution.slice(0, COPY_PATHS_SHOWN).map(p => {
      let first = p.stack.findIndex(f => !isCopyPrimitive(f));
      if (first < 0) first = 0;
      return el("tr", { class: "copy-path" },
        el("td", { class: "num", text: percent(p.copied_bytes, total) }),
        el("td", { class: "num", text: bytes(p.copied_bytes) }),
        el("td", { text: p.side }),
        el("td", { title: p.stack.join("\n") }, callSiteList(p.stack.slice(first, first + 4))));
    });
    const more = e.attribution.length > COPY_PATHS_SHOWN
      ? el("p", { class: "empty", text: (e.attribution.length - COPY_PATHS_SHOWN) + " smaller call paths not shown (--format json has them all)." }) : null;
    return el("div", {},
      el("p", { text: "From sampled page faults (one in " + s.period + "): the paths account for " +
        (s.coverage === null ? "an unknown share" : Math.round(100 * s.coverage) + " %") + " of the copies." }),
      el("table", { class: "copy-paths", "data-episode": e.index },
        el("thead", {}, el("tr", {}, el("th", { class: "num", text: "Share" }), el("th", { class: "num", text: "Copied (est.)" }),
          el("th", { text: "Side" }), el("th", { text: "Call path (innermost first)" }))),
        el("tbody", {}, rows)), more);
  }

  function callSiteList(frames) {
    if (!frames.length) return el("p", { class: "empty", text: "No call site was captured (the process was created behind the library's back, or without an unwinder)." });
    // Numbered in the text, not by list markers: a marker wider than the list's indent (10.)
    // is clipped to its last digit.
    return el("ol", { class: "frames" }, frames.map((f, k) =>
      el("li", {}, el("span", { class: "frame-number", text: (k + 1) + "." }), f)));
  }

  function renderEpisodes() {
    const box = document.getElementById("episodes");
    if (!episodes.length) {
      box.append(el("p", { class: "empty", text: "No fork episodes in this trace." }));
      return;
    }
    const cols = 10;
    const body = el("tbody");
    const rows = new Map();
    for (const e of ranked) {
      const p = procs[e.child_index];
      const split = e.copied_by_parent_bytes !== null;
      const row = el("tr", { class: "episode", "data-episode": e.index, "data-pid": e.child },
        el("td", {}, el("span", { class: "swatch legend", style: "display:inline-block;width:10px;height:10px;border-radius:2px;background:" + e.color }), " " + e.child),
        el("td", { class: "cmd", title: p.command_line, text: p.command_line }),
        el("td", { class: "num", text: seconds(e.t_ns) }),
        el("td", { class: "num", text: e.end_ns !== null ? seconds(e.end_ns - e.t_ns) : "open" }),
        el("td", { class: "num", text: bytes(e.shared_bytes_at_fork) }),
        el("td", { class: "num", text: bytes(e.copied_bytes_peak) }),
        el("td", { class: "num", text: percent(e.copied_bytes_peak, e.shared_bytes_at_fork) }),
        el("td", { class: "num", text: split ? bytes(e.copied_by_parent_bytes) + " / " + bytes(e.copied_by_child_bytes) : "unknown" }),
        el("td", { text: e.end + (e.mode ? " · " + e.mode : "") }),
        barCell(e.copied_bytes_peak, e.shared_bytes_at_fork));
      const frames = e.call_site.map(frameText);
      const notes = e.approximations.length ? el("ul", { class: "notes" }, e.approximations.map(a => el("li", { text: a }))) : null;
      const detail = el("tr", { class: "detail", "data-episode": e.index, hidden: true },
        el("td", { colspan: cols }, el("div", { class: "detail-grid" },
          el("div", {}, el("h3", { text: "Regions of pid " + e.child + "'s fork" }), regionTable(e)),
          el("div", {}, el("h3", { text: "Forked at" }), callSiteList(frames),
            e.retained_bytes_final ? el("p", { text: bytes(e.retained_bytes_final) + " kept alive by the child only (the parent freed them)." }) : null,
            notes),
          e.attribution_summary ? el("div", {}, el("h3", { text: "Copies by code" }), copyPathTable(e)) : null)));
      row.addEventListener("click", () => select(selected === e ? null : e));
      rows.set(e, [row, detail]);
      body.append(row, detail);
    }
    box.append(el("table", { id: "episode-table" },
      el("thead", {}, el("tr", {}, ["Child", "Command", "Forked at", "Lasted", "Shared at fork", "Copied peak", "of shared", "By parent / child", "Ended", "Share copied"]
        .map((h, k) => el("th", { class: k >= 2 && k <= 7 ? "num" : null, text: h })))), body));
    listeners.push(e => {
      for (const [ep, [row, detail]] of rows) {
        row.classList.toggle("selected", ep === e);
        detail.hidden = ep !== e;
      }
    });
  }

  // ---- call sites -------------------------------------------------------------------------

  function renderCallSites() {
    const box = document.getElementById("callsites");
    if (!data.call_sites.length) {
      box.append(el("p", { class: "empty", text: "No fork call sites: no fork episode in this trace." }));
      return;
    }
    const total = data.call_sites.reduce((s, c) => s + c.copied_bytes_peak_total, 0);
    box.append(el("table", { id: "callsite-table" },
      el("thead", {}, el("tr", {}, el("th", { text: "Program" }), el("th", { text: "Call site (innermost first)" }), el("th", { text: "Call" }),
        el("th", { class: "num", text: "Forks" }), el("th", { class: "num", text: "Copied (sum of peaks)" }),
        el("th", { class: "num", text: "Largest" }), el("th", { text: "Share of all copies" }))),
      el("tbody", {}, data.call_sites.map(c => el("tr", { class: "callsite" },
        el("td", { class: "cmd", text: c.program }),
        el("td", {}, callSiteList(c.frames.slice().reverse())),
        el("td", { text: c.how }),
        el("td", { class: "num", text: String(c.forks) }),
        el("td", { class: "num", text: bytes(c.copied_bytes_peak_total) }),
        el("td", { class: "num", text: bytes(c.copied_bytes_peak_max) }),
        barCell(c.copied_bytes_peak_total, total))))));
  }

  // ---- trace health ---------------------------------------------------------------------------

  function renderNotes() {
    const t = data.trace;
    const list = document.getElementById("notes");
    const add = (text, warn) => list.append(el("li", { class: warn ? "warn" : null, text }));
    if (!t.complete) add("The trace has no end record: the collector did not finish.", true);
    if (t.reader_error) add("The trace is damaged; this is its valid part: " + t.reader_error, true);
    if (!t.kernel_events) add("Kernel cross-check unavailable: " + (t.kernel_events_note || "not recorded"));
    if (t.kernel_events_lost) add("The kernel dropped process events " + t.kernel_events_lost + " times.", true);
    if (t.dropped_records) add(t.dropped_records + " records were never delivered.", true);
    if (t.rejected_records) add(t.rejected_records + " records were rejected.", true);
    const approx = new Set(episodes.flatMap(e => e.approximations));
    for (const a of approx) add("Copy-on-write figures are approximate: " + a);
    for (const n of t.notes) add(seconds(n.t_ns) + ": " + n.text, n.severity >= 2);
    add("Recorded by cowtrace" + (t.sampling_interval_ns ? ", sampling every " + (t.sampling_interval_ns / 1e6).toFixed(0) + " ms" : "") +
      "; " + t.shim_records + " library records.");
  }

  renderHeader();
  renderCards();
  renderTree();
  renderTimeline();
  renderEpisodes();
  renderCallSites();
  renderNotes();
  if (ranked.length) select(ranked[0], false);
  if (document.body.dataset.rendered !== "error") document.body.dataset.rendered = "ok";
})();
