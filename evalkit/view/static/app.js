// evalkit view: a single page over the server's JSON endpoints. Every value is put in the page as text
// (never as markup), so a model's output or a player's name cannot inject anything.
"use strict";

const app = document.getElementById("app");
const PAGE_SIZES = [10, 20, 50, 100];

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const show = (...children) => app.replaceChildren(h("div", { class: "view" }, children));

async function api(path) {
  const r = await fetch(path);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function fmt(x) {
  if (x === null || x === undefined) return "—";
  if (typeof x === "boolean") return String(x);
  if (typeof x !== "number") return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(1) : a >= 1 ? x.toFixed(3) : x.toPrecision(4).replace(/(\.\d*?)0+$/, "$1");
}
const ci = (m) => (m && m.ci_low !== null && m.ci_low !== undefined ? `[${fmt(m.ci_low)}, ${fmt(m.ci_high)}]` : "");
const dirOf = (name, m, info) => {
  const hib = m && m.higher_is_better !== undefined ? m.higher_is_better : info && info[name] ? info[name].higher_is_better : null;
  return hib === true ? h("span", { class: "up", title: "higher is better" }, "↑")
    : hib === false ? h("span", { class: "down", title: "lower is better" }, "↓") : h("span", { class: "muted", title: "no direction" }, "·");
};
const status = (s) => h("span", { class: `status ${s}` }, s);
const runLink = (r) => h("a", { href: `#/run/${encodeURIComponent(r.run_id)}` }, r.task);

function setNav(which) {
  for (const id of ["nav-runs", "nav-leaderboard"]) document.getElementById(id).classList.toggle("active", id === `nav-${which}`);
}

// ------------------------------------------------------------------------------------------ runs table
const runsState = { filters: { task: "", kind: "", model: "", status: "", q: "" }, sort: { key: "task", dir: 1 }, selected: new Set() };
const RUN_COLS = [
  ["task", "task"], ["kind", "kind"], ["model", "model"], ["backend", "backend"], ["status", "status"],
  ["headline", "headline metric"], ["n_samples", "n"], ["ended", "ended"], ["run_id", "run id"],
];

async function viewRuns() {
  setNav("runs");
  const runs = await api("/api/runs");
  const st = runsState;
  const select = (key) => {
    const values = [...new Set(runs.map((r) => r[key]).filter((v) => v !== null && v !== undefined))].sort();
    return h("label", {}, key, h("select", { id: `filter-${key}`, onchange: (e) => { st.filters[key] = e.target.value; draw(); } },
      h("option", { value: "" }, "all"), values.map((v) => h("option", { value: v, selected: st.filters[key] === String(v) }, v))));
  };
  const count = h("span", { id: "runs-count", class: "muted" });
  const compareBtn = h("button", { id: "compare", disabled: true, onclick: () => {
    const [a, b] = [...st.selected];
    location.hash = `#/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}`;
  } }, "Compare the two selected runs");
  const tbody = h("tbody");
  const head = h("tr", {}, h("th", {}, ""), RUN_COLS.map(([key, label]) => h("th", {
    class: "sortable", dataset: { key },
    onclick: () => { st.sort = { key, dir: st.sort.key === key ? -st.sort.dir : 1 }; draw(); },
  }, label)));
  const sortValue = (r, key) => (key === "headline" ? (r.headline ? r.headline.value : null) : r[key]);

  function draw() {
    const f = st.filters, q = f.q.toLowerCase();
    const shown = runs.filter((r) => ["task", "kind", "model", "status"].every((k) => !f[k] || String(r[k]) === f[k])
      && (!q || JSON.stringify(r).toLowerCase().includes(q)));
    shown.sort((a, b) => {
      const x = sortValue(a, st.sort.key), y = sortValue(b, st.sort.key);
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * st.sort.dir;
    });
    for (const th of head.querySelectorAll("th.sortable")) {
      th.classList.toggle("sorted-asc", th.dataset.key === st.sort.key && st.sort.dir === 1);
      th.classList.toggle("sorted-desc", th.dataset.key === st.sort.key && st.sort.dir === -1);
    }
    tbody.replaceChildren(...shown.map((r) => h("tr", { dataset: { runId: r.run_id } },
      h("td", {}, h("input", { type: "checkbox", checked: st.selected.has(r.run_id), "aria-label": `select ${r.run_id}`, onchange: (e) => {
        e.target.checked ? st.selected.add(r.run_id) : st.selected.delete(r.run_id);
        updateCompare();
      } })),
      h("td", {}, runLink(r)), h("td", {}, r.kind), h("td", {}, r.model || "—"), h("td", {}, r.backend || "—"),
      h("td", {}, status(r.status)),
      h("td", { class: "num" }, r.headline && r.headline.metric ? `${r.headline.metric} ${fmt(r.headline.value)} ${ci(r.headline)}` : ""),
      h("td", { class: "num" }, fmt(r.n_samples)), h("td", {}, r.ended || ""), h("td", {}, h("code", {}, r.run_id)))));
    count.textContent = `${shown.length} of ${runs.length} runs`;
  }
  function updateCompare() {
    const sel = runs.filter((r) => st.selected.has(r.run_id));
    compareBtn.disabled = !(sel.length === 2 && sel[0].task === sel[1].task);
    compareBtn.title = sel.length === 2 && sel[0].task !== sel[1].task ? "the two runs are of different tasks" : "";
  }
  show(
    h("h2", {}, "Runs"),
    h("div", { class: "filters" }, select("task"), select("kind"), select("model"), select("status"),
      h("label", {}, "search", h("input", { id: "filter-q", type: "search", value: st.filters.q, oninput: (e) => { st.filters.q = e.target.value; draw(); } })),
      count, compareBtn),
    h("div", { class: "scroll" }, h("table", { id: "runs" }, h("thead", {}, head), tbody)));
  draw();
  updateCompare();
}

// ------------------------------------------------------------------------------------------ one run
function metricsTable(metrics, info, id) {
  return h("div", { class: "scroll" }, h("table", { id, class: "metrics" },
    h("thead", {}, h("tr", {}, ["metric", "", "value", "95% CI", "stderr", "n", "unit"].map((c) => h("th", {}, c)))),
    h("tbody", {}, Object.entries(metrics || {}).map(([name, m]) => h("tr", {},
      h("td", {}, name), h("td", {}, dirOf(name, m, info)), h("td", { class: "num" }, m.value === null ? "undefined" : fmt(m.value)),
      h("td", { class: "num" }, ci(m)), h("td", { class: "num" }, m.stderr === undefined ? "" : fmt(m.stderr)),
      h("td", { class: "num" }, m.n === undefined ? "" : fmt(m.n)),
      h("td", {}, m.unit || (info && info[name] && info[name].unit) || ""))))));
}

function breakdownTables(breakdown, info) {
  return Object.entries(breakdown || {}).map(([axis, levels]) => {
    const names = [...new Set(Object.values(levels).flatMap((ms) => Object.keys(ms || {})))];
    return [h("h3", {}, `by ${axis}`), h("div", { class: "scroll" }, h("table", { class: "breakdown", dataset: { axis } },
      h("thead", {}, h("tr", {}, h("th", {}, axis), names.map((n) => h("th", {}, n, " ", dirOf(n, null, info))))),
      h("tbody", {}, Object.entries(levels).map(([level, ms]) => h("tr", {}, h("td", {}, level),
        names.map((n) => { const m = (ms || {})[n]; return h("td", { class: "num", title: m ? ci(m) : "" }, m ? fmt(m.value) : ""); }))))))];
  });
}

const isMessages = (v) => Array.isArray(v) && v.length > 0 && v.every((m) => Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "string");
const isLong = (v) => typeof v === "string" && (v.length > 60 || v.includes("\n"));

function fieldValue(v) {
  if (isMessages(v)) return v.map(([role, text]) => h("div", { class: `msg ${role}` }, h("div", { class: "role" }, role), h("pre", {}, text)));
  if (isLong(v)) return h("pre", {}, v);
  if (Array.isArray(v) && v.some(isLong)) return h("ol", {}, v.map((x) => h("li", {}, typeof x === "string" ? h("pre", {}, x) : h("pre", {}, JSON.stringify(x)))));
  if (Array.isArray(v)) return h("code", {}, JSON.stringify(v));
  if (v !== null && typeof v === "object") return h("pre", {}, JSON.stringify(v, null, 1));
  return fmt(v);
}
const recordKey = (r) => ("variant" in r ? `${r.id}::${r.variant}` : String(r.id));
// short scalar fields (scores, verdicts, predictions) are shown on the record's summary line
const chips = (r, differ) => Object.entries(r).filter(([k, v]) => !["id", "variant"].includes(k)
  && (typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= 24)))
  .slice(0, 8).map(([k, v]) => h("span", { class: differ && differ.includes(k) ? "chip diff" : "chip" }, `${k} ${fmt(v)}`));

function recordCard(r) {
  return h("details", { class: "record", dataset: { key: recordKey(r) } },
    h("summary", {}, h("strong", {}, recordKey(r)), chips(r)),
    h("div", { class: "body" }, h("table", { class: "fields" }, h("tbody", {},
      Object.entries(r).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, fieldValue(v))))))));
}

function pager(prefix, total, offset, limit, go) {
  const last = Math.max(0, Math.floor((total - 1) / limit) * limit);
  return h("div", { class: "pager" },
    h("button", { id: `${prefix}-prev`, disabled: offset <= 0, onclick: () => go(Math.max(0, offset - limit), limit) }, "‹ previous"),
    h("span", { id: `${prefix}-page` }, total ? `${offset + 1}–${Math.min(total, offset + limit)} of ${total}` : "none"),
    h("button", { id: `${prefix}-next`, disabled: offset + limit >= total, onclick: () => go(offset + limit, limit) }, "next ›"),
    h("button", { id: `${prefix}-last`, disabled: offset >= last, onclick: () => go(last, limit) }, "last »"),
    h("label", { class: "muted" }, "per page", h("select", { id: `${prefix}-size`, onchange: (e) => go(0, Number(e.target.value)) },
      PAGE_SIZES.map((n) => h("option", { value: n, selected: n === limit }, n)))));
}

async function viewRun(id) {
  setNav("runs");
  const d = await api(`/api/runs/${encodeURIComponent(id)}`);
  const r = d.run, s = d.summary || {}, man = d.manifest || {};
  const records = h("section", { id: "records" });
  async function showRecords(offset, limit) {
    const page = await api(`/api/runs/${encodeURIComponent(id)}/records?offset=${offset}&limit=${limit}`);
    records.replaceChildren(h("h3", {}, `Per-sample records (${page.total})`),
      pager("rec", page.total, page.offset, page.limit, showRecords),
      h("div", { id: "record-list" }, page.records.map(recordCard)));
  }
  const manifestRows = [
    ["path", r.path], ["run id", r.run_id], ["status", r.status], ["started", r.started], ["ended", r.ended],
    ["model path", man.model && man.model.path], ["weights", man.model && man.model.weights_hash],
    ["backend", man.backend && JSON.stringify(man.backend)], ["seed", man.seed], ["limit", man.limit],
    ["evalkit", man.evalkit_version], ["git", man.git_revision], ["error", man.error],
  ].filter(([, v]) => v !== undefined && v !== null);
  show(
    h("p", {}, h("a", { href: "#/" }, "‹ all runs")),
    h("h2", { id: "run-title" }, `${r.task} · ${r.model || "no model"} · ${r.backend || ""} `, status(r.status)),
    h("p", { class: "muted" }, `${r.kind} · ${fmt(r.n_samples)} samples · run ${r.run_id}`),
    d.summary ? [h("h3", {}, "Metrics"), metricsTable(s.metrics, d.metric_info, "metrics"), breakdownTables(s.breakdown, d.metric_info)]
      : h("p", { class: "muted" }, `No summary: the run is ${r.status}.`),
    s.entries ? [h("h3", {}, "Ranking"), entriesTable(s.entries)] : null,
    d.plots.length ? [h("h3", {}, "Plots"), d.plots.map((p) => h("figure", {},
      h("img", { src: `/api/runs/${encodeURIComponent(id)}/files/${encodeURIComponent(p)}`, alt: p }), h("figcaption", {}, p)))] : null,
    h("details", { id: "manifest" }, h("summary", {}, "Manifest"),
      h("table", { class: "fields" }, h("tbody", {}, manifestRows.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, String(v))))))),
    records);
  if (d.n_records) await showRecords(0, 20);
  else records.replaceChildren(h("p", { class: "muted" }, "No per-sample records."));
}

function entriesTable(entries) {
  const cols = [...new Set(entries.flatMap((e) => Object.keys(e)))].filter((k) => !["extras", "E_S", "mc_stderr"].includes(k));
  return h("div", { class: "scroll" }, h("table", { class: "entries" },
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))),
    h("tbody", {}, entries.map((e) => h("tr", {}, cols.map((c) => h("td", { class: typeof e[c] === "number" ? "num" : "" },
      typeof e[c] === "object" && e[c] !== null ? JSON.stringify(e[c]) : fmt(e[c]))))))));
}

// ------------------------------------------------------------------------------------------ two runs
async function viewCompare(a, b) {
  setNav("runs");
  const [da, db] = await Promise.all([a, b].map((id) => api(`/api/runs/${encodeURIComponent(id)}`)));
  const st = { onlyDiff: false };
  const list = h("section", { id: "compare-records" });
  const label = (d) => `${d.run.model || ""} · ${d.run.run_id}`;
  async function showRows(offset, limit) {
    const c = await api(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}&offset=${offset}&limit=${limit}&only_diff=${st.onlyDiff ? 1 : 0}`);
    list.replaceChildren(
      h("p", { id: "compare-stats" }, `${c.shared} shared samples, ${c.n_differ} differ`,
        c.only_a || c.only_b ? ` (${c.only_a} only in A, ${c.only_b} only in B)` : ""),
      h("label", {}, h("input", { type: "checkbox", id: "only-diff", checked: st.onlyDiff, onchange: (e) => { st.onlyDiff = e.target.checked; showRows(0, limit); } }), " only samples that differ"),
      pager("cmp", c.total, c.offset, c.limit, showRows),
      h("div", { id: "compare-list" }, c.rows.map((row) => h("details", { class: "record", dataset: { key: row.key, differ: row.differ.length } },
        h("summary", {}, h("strong", {}, row.key), row.differ.length ? h("span", { class: "chip diff" }, `differ: ${row.differ.join(", ")}`) : h("span", { class: "chip" }, "same")),
        h("div", { class: "body" }, h("table", { class: "fields" },
          h("thead", {}, h("tr", {}, h("th", {}, "field"), h("th", {}, `A: ${label(da)}`), h("th", {}, `B: ${label(db)}`))),
          h("tbody", {}, [...new Set([...Object.keys(row.a), ...Object.keys(row.b)])].map((k) => h("tr", { class: row.differ.includes(k) ? "diff" : "" },
            h("td", {}, k), h("td", {}, fieldValue(row.a[k])), h("td", {}, fieldValue(row.b[k])))))))))));
  }
  const names = [...new Set([...Object.keys((da.summary || {}).metrics || {}), ...Object.keys((db.summary || {}).metrics || {})])];
  const mA = (da.summary || {}).metrics || {}, mB = (db.summary || {}).metrics || {};
  show(
    h("p", {}, h("a", { href: "#/" }, "‹ all runs")),
    h("h2", {}, `${da.run.task}: A vs B`),
    h("p", {}, "A: ", runLink(da.run), ` ${label(da)}`, h("br"), "B: ", runLink(db.run), ` ${label(db)}`),
    h("div", { class: "scroll" }, h("table", { id: "compare-metrics" },
      h("thead", {}, h("tr", {}, ["metric", "", "A", "95% CI", "B", "95% CI", "B − A"].map((c) => h("th", {}, c)))),
      h("tbody", {}, names.map((n) => {
        const x = mA[n] || {}, y = mB[n] || {};
        const delta = typeof x.value === "number" && typeof y.value === "number" ? y.value - x.value : null;
        return h("tr", { class: delta ? "diff" : "" }, h("td", {}, n), h("td", {}, dirOf(n, x, da.metric_info)),
          h("td", { class: "num" }, fmt(x.value)), h("td", { class: "num" }, ci(x)),
          h("td", { class: "num" }, fmt(y.value)), h("td", { class: "num" }, ci(y)), h("td", { class: "num" }, delta === null ? "" : fmt(delta)));
      })))),
    h("h3", {}, "Samples side by side"), list);
  await showRows(0, 20);
}

// ------------------------------------------------------------------------------------------ leaderboard
async function viewLeaderboard() {
  setNav("leaderboard");
  const boards = await api("/api/leaderboards");
  if (!boards.length) {
    show(h("h2", {}, "Leaderboard"), h("p", { class: "muted" }, "No leaderboard among the results, and nothing to rank (one model, no ranking)."));
    return;
  }
  show(h("h2", {}, "Leaderboard"), boards.map((b) => {
    const board = b.board, per = board.per_benchmark || {};
    const tasks = [...new Set(Object.values(per).flatMap((t) => Object.keys(t)))].sort();
    const first = (m) => { const k = Object.keys(m || {}).find((x) => !x.includes("_stderr")); return k === undefined ? null : [k, m[k]]; };
    return h("section", { class: "board", dataset: { id: b.id } },
      h("p", { class: "muted" }, b.built ? "built from the runs shown" : b.path, ` · method ${board.method ? board.method.type : "?"}`,
        board.created ? ` · ${board.created}` : ""),
      entriesTable(board.entries || []),
      tasks.length ? [h("h3", {}, "Per benchmark"), h("div", { class: "scroll" }, h("table", { class: "per-benchmark" },
        h("thead", {}, h("tr", {}, h("th", {}, "model"), tasks.map((t) => h("th", {}, t)))),
        h("tbody", {}, Object.entries(per).map(([model, ts]) => h("tr", {}, h("td", {}, model), tasks.map((t) => {
          const f = first(ts[t]);
          return h("td", { class: "num", title: f ? f[0] : "" }, f ? fmt(f[1]) : "");
        }))))))] : null);
  }));
}

// ------------------------------------------------------------------------------------------ routing
async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "run" && parts[1]) await viewRun(parts[1]);
    else if (parts[0] === "compare" && parts[2]) await viewCompare(parts[1], parts[2]);
    else if (parts[0] === "leaderboard") await viewLeaderboard();
    else await viewRuns();
    document.body.dataset.view = parts[0] || "runs";
  } catch (e) {
    show(h("p", { class: "error", id: "error" }, `Error: ${e.message}`));
  }
}
window.addEventListener("hashchange", route);
route();
