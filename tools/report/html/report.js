// Draws the report from the compact data embedded in the page (tools/report/html_page_data.hpp:
// strings by index, the tree as columns with alike siblings folded into groups, the costliest
// episodes in full). Only what is shown is built: a closed branch, the "more" of a long list and
// a group's members are built when opened, so that 100,000 processes open in seconds. No network,
// no libraries: the page must work offline and under a Content-Security-Policy that forbids
// every fetch.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#ea580c", "#2563eb", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04",
                   "#4f46e5", "#dc2626", "#0d9488", "#65a30d", "#7c3aed"];
  // More lines than this make the chart unreadable; the rest start hidden in the legend.
  const VISIBLE_SERIES = 12;
  const TREE_OPEN_DEPTH = 3;
  const TREE_MAX_CHILDREN = 40;
  const OTHERS_COLOR = "#94a3b8";

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
  function duration(ns) {
    if (ns === null || ns === undefined) return "—";
    if (ns < 1e6) return (ns / 1e6).toFixed(2) + " ms";
    if (ns < 1e9) return (ns / 1e6).toFixed(1) + " ms";
    return (ns / 1e9).toFixed(2) + " s";
  }
  // "1, 4–9, 12": pid runs from [first, last, first, last, …].
  function pidRanges(flat) {
    const parts = [];
    for (let i = 0; i < flat.length; i += 2) parts.push(flat[i] === flat[i + 1] ? String(flat[i]) : flat[i] + "–" + flat[i + 1]);
    return parts.join(", ");
  }
  // [t, v, t, v, …] → [[t, v], …]
  function pairs(flat) {
    const out = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
    return out;
  }

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
  const S = data.strings;
  const N = data.nodes;
  const nodeCount = N.pid.length;
  const kids = Array.from({ length: nodeCount }, () => []);
  const roots = [];
  for (let i = 0; i < nodeCount; i++) (N.parent[i] < 0 ? roots : kids[N.parent[i]]).push(i);
  const sum = data.summary;
  // The costliest measured episodes, in full; the first ones charted one by one. Short-lived
  // episodes (the child exec'd or exited before its memory was read) were not measured: they
  // are counted, not charted or ranked.
  const ranked = data.episodes;
  ranked.forEach((e, rank) => {
    e.index = rank;
    e.charted = !!e.samples;
    e.color = PALETTE[rank % PALETTE.length];
    e.visible = rank < VISIBLE_SERIES;
  });
  const others = { visible: true, color: OTHERS_COLOR, count: data.chart.others };
  const duration_ns = Math.max(data.trace.duration_ns || 0,
    ...ranked.map(e => e.end !== null ? e.end : (e.samples && e.samples.t.length ? e.samples.t[e.samples.t.length - 1] : e.t)));
  const listeners = [];
  let selected = null;
  let chosenByUser = false;  // the costliest episode is open at first, without dimming the rest

  function select(episode, byUser) {
    selected = episode;
    chosenByUser = byUser !== false;
    for (const f of listeners) f(episode);
  }
  function episodeLabel(e) {
    return "pid " + e.pid + " (" + S[e.name] + ")";
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
    if (t.command_line) document.getElementById("command").textContent = t.command_line;
  }

  function renderCards() {
    const box = document.getElementById("overview");
    const card = (label, value, sub, alert) =>
      el("div", { class: "card" + (alert ? " alert" : ""), "data-card": label },
        el("div", { class: "label", text: label }), el("div", { class: "value", text: value }),
        sub ? el("div", { class: "sub", text: sub }) : null);
    const worst = ranked[0];
    box.append(card("Processes", String(sum.processes), sum.roots > 1 ? sum.roots + " trees" : null));
    const measured = sum.fork_episodes - sum.short_lived;
    const forkSub = (measured ? "largest shared at fork " + bytes(sum.shared_max) : "no fork shared memory") +
      (sum.short_lived ? "; " + sum.short_lived + " short-lived, not measured" : "");
    box.append(card("Fork episodes", String(sum.fork_episodes), forkSub));
    box.append(card("Largest copy", worst ? bytes(worst.peak) : "—",
      worst ? episodeLabel(worst) + ", " + percent(worst.peak, worst.shared) + " of shared" : null, !!worst && worst.peak > 0));
    if (sum.copied_bytes_peak_concurrent !== null) {
      // What the copies took at one moment, not the sum of forks that never overlapped.
      box.append(card("Copied at once", bytes(sum.copied_bytes_peak_concurrent),
        sum.copied_bytes_peak_concurrent_t_ns !== null
          ? "the most at one time, at " + seconds(sum.copied_bytes_peak_concurrent_t_ns) + " (forks alive then, together)"
          : "the most at one time"));
      box.append(card("Copied in all", bytes(sum.copied_bytes_total), "each fork's peak, summed: how much copying happened, not at once"));
    }
    if (sum.tree_pss_peak) box.append(card("Peak tree PSS", bytes(sum.tree_pss_peak[1]), "at " + seconds(sum.tree_pss_peak[0])));
    box.append(card("Duration", seconds(data.trace.duration_ns), data.trace.complete ? null : "trace incomplete", !data.trace.complete));
  }

  // ---- process tree -------------------------------------------------------------------------

  // Built on demand: a branch's children when it is first opened, a long list's rest when its
  // "more" is opened. reveal() builds the way down to a node.
  const lineOf = new Map();   // node → its line, once built
  const built = new Set();    // nodes whose children are built
  const moreOf = new Map();   // node → the <details> holding its children past TREE_MAX_CHILDREN

  function flagSpans(i) {
    const flags = S[N.flags[i]];
    return flags ? flags.split("\n").map(f => el("span", { class: "flag", text: f })) : [];
  }

  function spreadText(s, fmt) {
    if (!s) return "—";
    return s[0] === s[2] ? fmt(s[0]) : fmt(s[1]) + " (" + fmt(s[0]) + "–" + fmt(s[2]) + ")";
  }

  function processLine(i) {
    const ep = N.episode[i] >= 0 ? ranked[N.episode[i]] : null;
    const copied = N.copied[i];
    const cmd = S[N.cmd[i]], name = S[N.name[i]], how = S[N.how[i]];
    const node = el("span", { class: "node" + (ep ? " selectable" : ""), "data-pid": N.pid[i], "data-node": i },
      el("span", { class: "pname", text: name }),
      el("span", { class: "pid", text: String(N.pid[i]) }),
      how && how !== "unknown" ? el("span", { class: "how", text: how }) : null,
      cmd !== name ? el("span", { class: "args", title: cmd, text: cmd }) : null,
      el("span", { class: "life", text: seconds(N.start[i]) + " – " + seconds(N.end[i]) }),
      el("span", { class: "exit " + S[N.exit_class[i]], text: S[N.exit[i]] }),
      copied >= 0 ? el("span", { class: "badge", title: "copy-on-write peak", text: "copied " + bytes(copied) }) : null,
      copied === -2 ? el("span", { class: "badge short", title: "the child exec'd or exited before its memory was read", text: "short-lived" }) : null,
      flagSpans(i));
    if (ep) node.addEventListener("click", ev => { ev.preventDefault(); select(ep); });
    return node;
  }

  // A folded group: one line with the count; its figures (min/median/max) and pids below.
  function groupLine(i) {
    const g = data.groups[N.group[i]];
    const cmd = S[N.cmd[i]], name = S[N.name[i]];
    let badge = null;
    if (g.copied) badge = el("span", { class: "badge", title: "copy-on-write peak of each, the most", text: "copied ≤ " + bytes(g.copied[2]) + " each" });
    else if (g.short_lived) badge = el("span", { class: "badge short", text: g.short_lived === g.count ? "short-lived" : g.short_lived + " short-lived" });
    return el("span", { class: "node group-node", "data-pid": N.pid[i], "data-node": i, "data-count": g.count },
      el("span", { class: "count", text: g.count + "×" }),
      el("span", { class: "pname", text: name }),
      cmd !== name ? el("span", { class: "args", title: "the first: " + cmd, text: cmd }) : null,
      el("span", { class: "life", text: seconds(N.start[i]) + " – " + seconds(N.end[i]) }),
      el("span", { class: "exit " + S[N.exit_class[i]], text: S[N.exit[i]] }),
      badge, flagSpans(i));
  }

  function groupDetail(i) {
    const g = data.groups[N.group[i]];
    const rows = [["Lifetime", g.life, duration], ["Shared at fork", g.shared, bytes], ["Copied peak", g.copied, bytes],
      ["Peak RSS", g.rss, bytes], ["Peak PSS", g.pss, bytes]].filter(r => r[1]);
    return el("div", { class: "group-detail" },
      rows.length ? el("table", { class: "group-figures" },
        el("thead", {}, el("tr", {}, el("th", { text: "Of " + g.count }), el("th", { class: "num", text: "min" }),
          el("th", { class: "num", text: "median" }), el("th", { class: "num", text: "max" }), el("th", { class: "num", text: "of" }))),
        el("tbody", {}, rows.map(([label, s, fmt]) => el("tr", {}, el("td", { text: label }),
          el("td", { class: "num", text: fmt(s[0]) }), el("td", { class: "num", text: fmt(s[1]) }),
          el("td", { class: "num", text: fmt(s[2]) }), el("td", { class: "num", text: String(s[3]) }))))) : null,
      g.short_lived ? el("p", { class: "empty", text: g.short_lived + " short-lived, not measured (exec'd or exited before their memory was read)" }) : null,
      el("p", { class: "pids" }, el("span", { class: "label", text: "pids " }), el("span", { class: "pid-list", text: pidRanges(g.pids) })));
  }

  function branch(i, depth) {
    const li = el("li", { "data-pid": N.pid[i], "data-node": i });
    if (N.group[i] >= 0) {
      const line = groupLine(i);
      lineOf.set(i, line);
      li.className = "group";
      li.dataset.count = data.groups[N.group[i]].count;
      li.append(el("details", { class: "group" }, el("summary", {}, line), groupDetail(i)));
      return li;
    }
    const line = processLine(i);
    lineOf.set(i, line);
    if (!kids[i].length) { li.append(line); return li; }
    const details = el("details", {}, el("summary", {}, line));
    li.append(details);
    const build = () => { if (!built.has(i)) { built.add(i); details.append(childList(i, depth + 1)); } };
    if (depth < TREE_OPEN_DEPTH) { details.open = true; build(); }
    else details.addEventListener("toggle", build);
    return li;
  }

  function childList(i, depth) {
    const list = kids[i];
    const ul = el("ul", {}, list.slice(0, TREE_MAX_CHILDREN).map(c => branch(c, depth)));
    if (list.length > TREE_MAX_CHILDREN) {
      const more = el("details", { class: "more" }, el("summary", { text: (list.length - TREE_MAX_CHILDREN) + " more" }));
      let done = false;
      const build = () => { if (!done) { done = true; more.append(el("ul", {}, list.slice(TREE_MAX_CHILDREN).map(c => branch(c, depth)))); } };
      more.addEventListener("toggle", build);
      more.build = build;
      moreOf.set(i, more);
      ul.append(el("li", {}, more));
    }
    return ul;
  }

  // Builds and opens the branches down to node i; returns its line.
  function reveal(i) {
    const chain = [];
    for (let a = i; a >= 0; a = N.parent[a]) chain.push(a);
    chain.reverse();
    for (let k = 0; k + 1 < chain.length; k++) {
      const line = lineOf.get(chain[k]);
      if (!line) return null;
      const details = line.closest("details");
      if (!built.has(chain[k])) { details.open = true; details.dispatchEvent(new Event("toggle")); }
      details.open = true;
      if (kids[chain[k]].indexOf(chain[k + 1]) >= TREE_MAX_CHILDREN) {
        const more = moreOf.get(chain[k]);
        more.build();
        more.open = true;
      }
    }
    return lineOf.get(i) || null;
  }

  function renderTree() {
    const box = document.getElementById("tree");
    listeners.push(e => {
      for (const n of box.querySelectorAll(".node.selected")) n.classList.remove("selected");
      if (!e || e.node < 0) return;
      const line = reveal(e.node);
      if (line) line.classList.add("selected");
    });
    box.append(el("ul", {}, roots.map(r => branch(r, 0))));
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
    const pts = [[e.t, key === "copied" ? 0 : e.shared]];
    const s = e.samples;
    for (let k = 0; k < s.t.length; k++) pts.push([s.t[k], s[key][k]]);
    const end = e.end !== null ? e.end : duration_ns;
    pts.push([Math.max(end, pts[pts.length - 1][0]), pts[pts.length - 1][1]]);
    return pts;
  }

  // Estimated samples (between exact censuses): [from, to, low, high] of the 95 % interval of
  // the copied figure, until the next sample.
  function episodeBand(e) {
    const band = [];
    const s = e.samples;
    const end = e.end !== null ? e.end : duration_ns;
    for (let k = 0; k < s.t.length; k++) {
      if (s.error[k] < 0) continue;
      const to = k + 1 < s.t.length ? s.t[k + 1] : Math.max(end, s.t[k]);
      band.push([s.t[k], to, Math.max(0, s.copied[k] - s.error[k]), s.copied[k] + s.error[k]]);
    }
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
    let max = 1;
    for (const s of series) for (const p of s.points) if (p[1] > max) max = p[1];
    const yt = byteTicks(max), xt = timeTicks(duration_ns);
    const yMax = yt[yt.length - 1].value, xMax = Math.max(duration_ns, 1);
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
          "data-episode": s.episode && s.episode !== others ? s.episode.index : null });
        r.append(svg("title", { text: s.label + ": estimated, 95 % interval " + bytes(lo) + "–" + bytes(hi) }));
        paths.push({ path: r, s, band: true });
        root.append(r);
      }
      const path = svg("path", { d: stepPath(s.points, x, y), stroke: s.color,
        class: "series " + s.key + (s.dashed ? " shared" : "") + (s.episode === others ? " others" : ""),
        "data-episode": s.episode && s.episode !== others ? s.episode.index : null });
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
    const charted = ranked.filter(e => e.charted);
    const otherLabel = others.count + " other fork" + (others.count === 1 ? "" : "s") + ", together";
    if (!ranked.length) {
      box.append(el("p", { class: "empty", text: data.trace.census_mode && data.trace.census_mode !== "off"
        ? "No fork episodes: nothing in this run forked a copy of its memory (exec-only children share nothing worth measuring)."
        : "No copy-on-write measurements: the trace was recorded without the census (cowtrace run --no-cow)." }));
    } else {
      const copied = charted.map(e => ({ key: "copied", label: episodeLabel(e) + " copied", color: e.color, points: episodeSeries(e, "copied"), band: episodeBand(e), episode: e }));
      const shared = charted.map(e => ({ key: "shared", label: episodeLabel(e) + " still shared", color: e.color, dashed: true, points: episodeSeries(e, "shared"), episode: e }));
      if (others.count) {
        copied.push({ key: "copied", label: otherLabel + " copied", color: OTHERS_COLOR, points: pairs(data.chart.others_copied), episode: others });
        shared.push({ key: "shared", label: otherLabel + " still shared", color: OTHERS_COLOR, dashed: true, points: pairs(data.chart.others_shared), episode: others });
      }
      box.append(drawChart("Copied bytes per fork episode (copies made since the fork, by either side)", copied, "chart-copied"));
      if (charted.some(e => e.samples.error.some(v => v >= 0))) {
        box.append(el("p", { class: "note", text: "Shaded: points estimated from a sample of pages between exact censuses, with their 95 % interval; peaks and final figures are counted page by page." }));
      }
      box.append(drawChart("Bytes still shared per fork episode", shared, "chart-shared"));
    }
    if (data.chart.tree_pss.length) {
      box.append(drawChart("Whole tree PSS (resident memory, shared pages split among sharers)",
        [{ key: "pss", label: "tree PSS", color: "#64748b", points: pairs(data.chart.tree_pss) }], "chart-memory"));
    }
    const legend = document.getElementById("legend");
    const toggle = (b, e) => () => { e.visible = !e.visible; b.classList.toggle("off", !e.visible); refreshCharts(); };
    for (const e of charted) {
      const b = el("button", { type: "button", class: e.visible ? "" : "off", "data-episode": e.index, title: "show or hide; double-click to select" },
        el("span", { class: "swatch", style: "background:" + e.color }), episodeLabel(e) + " · " + bytes(e.peak));
      b.addEventListener("click", toggle(b, e));
      b.addEventListener("dblclick", () => { e.visible = true; b.classList.remove("off"); select(e); });
      legend.append(b);
    }
    if (others.count) {
      // The legend stops at the charted episodes: the rest are one line, their copies summed.
      const b = el("button", { type: "button", class: "others", title: "show or hide" },
        el("span", { class: "swatch", style: "background:" + OTHERS_COLOR }), "and " + others.count + " more: " + otherLabel);
      b.addEventListener("click", toggle(b, others));
      legend.append(b);
    }
    listeners.push(refreshCharts);
    refreshCharts();
  }

  // ---- episodes table with per-region details ------------------------------------------------

  function barCell(part, whole) {
    const w = whole ? Math.min(100, 100 * part / whole) : 0;
    return el("td", { title: percent(part, whole) }, el("div", { class: "bar" }, el("span", { style: "width:" + w.toFixed(1) + "%" })));
  }

  // Region: [name, shared at fork, copied peak, copied final, by parent, by child].
  function regionTable(e) {
    if (!e.regions.length) return el("p", { class: "empty", text: "No per-region figures were recorded for this episode." });
    const rows = e.regions.slice().sort((a, b) => b[2] - a[2] || b[1] - a[1]);
    const split = e.by_parent !== null;
    return el("table", { class: "regions", "data-episode": e.index },
      el("thead", {}, el("tr", {}, el("th", { text: "Region" }), el("th", { class: "num", text: "Shared at fork" }),
        el("th", { class: "num", text: "Copied peak" }), el("th", { class: "num", text: "Copied final" }),
        split ? el("th", { class: "num", text: "By parent" }) : null, split ? el("th", { class: "num", text: "By child" }) : null,
        el("th", { text: "Share copied" }))),
      el("tbody", {}, rows.map(r => el("tr", {},
        el("td", { class: "cmd", title: S[r[0]], text: S[r[0]] }), el("td", { class: "num", text: bytes(r[1]) }),
        el("td", { class: "num", text: bytes(r[2]) }), el("td", { class: "num", text: bytes(r[3]) }),
        split ? el("td", { class: "num", text: bytes(r[4]) }) : null,
        split ? el("td", { class: "num", text: bytes(r[5]) }) : null,
        barCell(r[2], r[1])))));
  }

  // The code that copied (sampled page faults): the largest call paths, each from the first frame
  // past libc's copy primitives (memset, memcpy…), which say nothing of who asked.
  function isCopyPrimitive(frame) {
    return /^_*(mem|wmem|str|wcs|bcopy|bzero|stp)/.test(frame);
  }
  function copyPathTable(e) {
    const a = e.attribution;
    if (a.unavailable) return el("p", { class: "empty", text: "Not known: " + a.unavailable });
    if (!a.paths.length) return el("p", { class: "empty", text: "No sampled fault fell on a copy (one fault in " + a.period + " sampled)." });
    const rows = a.paths.map(([copiedBytes, side, frameIds]) => {
      const stack = frameIds.map(f => S[f]);
      let first = stack.findIndex(f => !isCopyPrimitive(f));
      if (first < 0) first = 0;
      return el("tr", { class: "copy-path" },
        el("td", { class: "num", text: percent(copiedBytes, a.paths_total_bytes) }),
        el("td", { class: "num", text: bytes(copiedBytes) }),
        el("td", { text: side }),
        el("td", { title: stack.join("\n") }, callSiteList(stack.slice(first, first + 4))));
    });
    const more = a.paths_more
      ? el("p", { class: "empty", text: a.paths_more + " smaller call paths not shown (--format json has them all)." }) : null;
    return el("div", {},
      el("p", { text: "From sampled page faults (one in " + a.period + "): the paths account for " +
        (a.coverage === null ? "an unknown share" : Math.round(100 * a.coverage) + " %") + " of the copies." }),
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
    if (!ranked.length) {
      box.append(el("p", { class: "empty", text: sum.fork_episodes
        ? "No measured fork episodes: all " + sum.fork_episodes + " were short-lived (the child exec'd or exited before its memory was read)."
        : "No fork episodes in this trace." }));
      return;
    }
    const cols = 10;
    const body = el("tbody");
    const rows = new Map();
    for (const e of ranked) {
      const cmd = S[e.cmd];
      const split = e.by_parent !== null;
      const row = el("tr", { class: "episode", "data-episode": e.index, "data-pid": e.pid },
        el("td", {}, el("span", { class: "swatch legend", style: "display:inline-block;width:10px;height:10px;border-radius:2px;background:" + (e.charted ? e.color : OTHERS_COLOR) }), " " + e.pid),
        el("td", { class: "cmd", title: cmd, text: cmd }),
        el("td", { class: "num", text: seconds(e.t) }),
        el("td", { class: "num", text: e.end !== null ? seconds(e.end - e.t) : "open" }),
        el("td", { class: "num", text: bytes(e.shared) }),
        el("td", { class: "num", text: bytes(e.peak) }),
        el("td", { class: "num", text: percent(e.peak, e.shared) }),
        el("td", { class: "num", text: split ? bytes(e.by_parent) + " / " + bytes(e.by_child) : "unknown" }),
        el("td", { text: e.end_kind + (e.mode ? " · " + e.mode : "") }),
        barCell(e.peak, e.shared));
      const frames = e.call_site.map(f => S[f]);
      const notes = e.approximations.length ? el("ul", { class: "notes" }, e.approximations.map(a => el("li", { text: a }))) : null;
      const detail = el("tr", { class: "detail", "data-episode": e.index, hidden: true },
        el("td", { colspan: cols }, el("div", { class: "detail-grid" },
          el("div", {}, el("h3", { text: "Regions of pid " + e.pid + "'s fork" }), regionTable(e)),
          el("div", {}, el("h3", { text: "Forked at" }), callSiteList(frames),
            e.retained ? el("p", { text: bytes(e.retained) + " kept alive by the child only (the parent freed them)." }) : null,
            notes),
          e.attribution ? el("div", {}, el("h3", { text: "Copies by code" }), copyPathTable(e)) : null)));
      row.addEventListener("click", () => select(selected === e ? null : e));
      rows.set(e, [row, detail]);
      body.append(row, detail);
    }
    box.append(el("table", { id: "episode-table" },
      el("thead", {}, el("tr", {}, ["Child", "Command", "Forked at", "Lasted", "Shared at fork", "Copied peak", "of shared", "By parent / child", "Ended", "Share copied"]
        .map((h, k) => el("th", { class: k >= 2 && k <= 7 ? "num" : null, text: h })))), body));
    const more = data.episodes_more;
    if (more.count) {
      box.append(el("p", { class: "empty", id: "episodes-more", text: "and " + more.count + " more measured fork episode" + (more.count === 1 ? "" : "s") +
        ", each copied at most " + bytes(more.copied_max) + " (" + bytes(more.copied_total) + " in all): cowtrace report --format json lists them all." }));
    }
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
    const total = data.call_sites.reduce((s, c) => s + c.copied_total, 0);
    box.append(el("table", { id: "callsite-table" },
      el("thead", {}, el("tr", {}, el("th", { text: "Program" }), el("th", { text: "Call site (innermost first)" }), el("th", { text: "Call" }),
        el("th", { class: "num", text: "Forks" }), el("th", { class: "num", text: "Copied (sum of peaks)" }),
        el("th", { class: "num", text: "Largest" }), el("th", { text: "Share of all copies" }))),
      el("tbody", {}, data.call_sites.map(c => el("tr", { class: "callsite" },
        el("td", { class: "cmd", text: c.program }),
        el("td", {}, callSiteList(c.frames.map(f => S[f]).reverse())),
        el("td", { text: c.how }),
        el("td", { class: "num", text: String(c.forks) }),
        el("td", { class: "num", text: c.short_lived === c.forks ? "—" : bytes(c.copied_total) }),
        el("td", { class: "num", text: c.short_lived === c.forks ? "—" : bytes(c.copied_max) }),
        barCell(c.copied_total, total))))));
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
    for (const a of t.approximations) add("Copy-on-write figures are approximate: " + a);
    for (const [tn, severity, text] of t.notes) add(seconds(tn) + ": " + text, severity >= 2);
    if (t.notes_more) add("and " + t.notes_more + " more notes (cowtrace report --format json lists them all).");
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
  // Milliseconds from the start of navigation to a drawn page: what the benchmark reads.
  document.body.dataset.renderMs = String(Math.round(performance.now()));
  if (document.body.dataset.rendered !== "error") document.body.dataset.rendered = "ok";
})();
