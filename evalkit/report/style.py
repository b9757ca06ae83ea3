"""The report's inline stylesheet: system fonts only, no url(), nothing fetched."""

CSS = """
:root { --fg: #1d2330; --muted: #5f6b7a; --line: #d9dee5; --bg: #ffffff; --band: #f5f7fa; --accent: #2f5fa7; --bad: #b42318; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 15px;
       color: var(--fg); background: var(--bg); line-height: 1.45; }
body { margin: 0; }
header.top { background: #1f2d45; color: #fff; padding: 18px 28px 14px; }
header.top h1 { margin: 0 0 4px; font-size: 1.55rem; font-weight: 650; }
header.top p { margin: 2px 0; color: #c9d3e3; font-size: 0.9rem; }
nav#contents { padding: 10px 28px; border-bottom: 1px solid var(--line); background: var(--band); font-size: 0.88rem; }
nav#contents ol { margin: 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav#contents a { color: var(--accent); text-decoration: none; }
nav#contents a:hover { text-decoration: underline; }
main { padding: 8px 28px 40px; max-width: 1280px; }
section { margin-top: 26px; border-top: 3px solid var(--accent); padding-top: 6px; }
section > h2 { margin: 4px 0 2px; font-size: 1.3rem; }
section > p.about { margin: 0 0 8px; color: var(--muted); max-width: 60rem; }
article.run { margin: 14px 0 22px; padding: 10px 14px 12px; border: 1px solid var(--line); border-radius: 6px; }
article.run > h3 { margin: 0 0 2px; font-size: 1.08rem; }
h4 { margin: 14px 0 4px; font-size: 0.95rem; color: #33415c; }
.muted, .src { color: var(--muted); }
p.src { margin: 0 0 8px; font-size: 0.8rem; word-break: break-all; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 0.78rem; font-weight: 600; vertical-align: 2px;
         background: #e3ebf7; color: #24446f; }
.badge.failed, .badge.running, .badge.partial { background: #fde8e6; color: var(--bad); }
table { border-collapse: collapse; margin: 4px 0 10px; font-size: 0.86rem; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.kv { font-size: 0.8rem; }
table.kv th { font-weight: 600; white-space: nowrap; }
table.kv td { max-width: 34rem; word-break: break-word; }
.scroll { overflow-x: auto; }
details { margin: 6px 0; }
details > summary { cursor: pointer; color: #33415c; font-weight: 600; font-size: 0.9rem; }
figure { margin: 10px 0 14px; display: inline-block; max-width: 100%; vertical-align: top; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); background: #fff; }
figcaption { font-size: 0.8rem; color: var(--muted); max-width: 46rem; }
.figs { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: flex-start; }
.note { color: var(--bad); font-size: 0.85rem; }
footer { padding: 14px 28px 28px; color: var(--muted); font-size: 0.8rem; border-top: 1px solid var(--line); }
footer ul { margin: 4px 0; padding-left: 18px; word-break: break-all; }
"""
