"""The report's page: the header, the contents, the leaderboard (leaderboard.py), an overview of the runs,
one section per task (its runs as articles) and the sources. It knows no kind: a run's title, about,
plots and section come from its kind's presentation (evalkit/presentation.py; documents.py for the
ones that are no task kind's run), its tables from the HTML primitives (html.py).

Every piece of text that comes from a result file goes through `esc` (model names, outputs and format
strings can hold markup). Sections carry stable ids (`task-<task>`, `leaderboard`, `overview`) and a
`data-kind`; figures carry `data-plot` (the PNG's stem) and every image an `alt`.
"""

from __future__ import annotations

import json
from collections import defaultdict

from ..version import __version__
from . import plots
from .documents import presentation, title
from .html import Page, badge, breakdown_tables, ci, compact, duration, esc, fmt, grid_table, kv_table, metrics_table, short_hash, slug
from .leaderboard import leaderboard_inputs, leaderboard_section
from .sources import Source
from .style import CSS

# -------------------------------------------------------------------- manifests


def _git_cell(revision: str | None) -> str:
    return f"<code>{esc(revision)}</code>" if revision else '<span class="muted">unknown</span>'


def manifest_rows(man: dict) -> list[tuple[str, str]]:
    schema = man.get("schema")
    if schema == "evalkit.manifest/v1":
        task, model, be = man.get("task") or {}, man.get("model") or {}, man.get("backend") or {}
        status = man.get("status")
        pk = man.get("packages") or {}
        toks = man.get("tokens_processed") or {}
        return [
            ("status", f'<span class="badge {esc(status)}">{esc(status)}</span>' if status else ""),
            ("run id", f"<code>{esc(man.get('run_id'))}</code>" if man.get("run_id") else ""),
            ("model", esc(model.get("name"))),
            ("weights hash", short_hash(model.get("weights_hash"))),
            ("model path", esc(model.get("path"))),
            ("model source", esc(model.get("source"))),
            ("backend", esc(" ".join(str(x) for x in (be.get("backend"), be.get("backend_version")) if x))),
            ("dtype", esc(be.get("dtype"))),
            ("backend options", esc(compact(be.get("options"))) if be.get("options") else ""),
            ("chat template", short_hash(be.get("chat_template_hash"))),
            ("task", esc(f"{task.get('name', '')} ({task.get('kind', '')})")),
            ("task hash", short_hash(task.get("content_hash"))),
            ("seed", esc(fmt(man.get("seed")))),
            (
                "samples",
                esc(fmt(man.get("n_samples"))) + (esc(f" (limit {man['limit']})") if man.get("limit") is not None else ""),
            ),
            ("evalkit", esc(man.get("evalkit_version"))),
            ("git revision", _git_cell(man.get("git_revision"))),
            ("started", esc(man.get("started"))),
            ("ended", esc(man.get("ended"))),
            ("wall time", esc(duration(man.get("started"), man.get("ended")))),
            ("tokens", esc(", ".join(f"{k} {fmt(v)}" for k, v in toks.items()))),
            ("cache hits", esc(fmt(man.get("cache_hits")))),
            ("packages", esc(" · ".join(f"{k} {v}" for k, v in pk.items()))),
            ("error", f'<span class="note">{esc(man.get("error"))}</span>' if man.get("error") else ""),
        ]
    if schema == "evalkit.sweep-manifest/v1":
        status = man.get("status")
        end = man.get("finished") or man.get("updated")
        return [
            ("status", f'<span class="badge {esc(status)}">{esc(status)}</span>' if status else ""),
            ("sweep", esc(man.get("sweep"))),
            ("model", esc(man.get("model"))),
            ("weights hash", short_hash(man.get("weights_hash"))),
            ("model path", esc(man.get("model_path"))),
            ("score", esc(man.get("score"))),
            ("config", esc(man.get("config"))),
            ("config hash", short_hash(man.get("config_hash"))),
            ("data", esc(man.get("data"))),
            ("studies", esc(", ".join(map(str, man.get("studies") or [])))),
            ("storage", esc(man.get("storage"))),
            ("git revision", _git_cell(man.get("git_revision"))),
            ("started", esc(man.get("started"))),
            ("finished", esc(end)),
            ("wall time", esc(duration(man.get("started"), end))),
            ("packages", esc(" · ".join(f"{k} {v}" for k, v in (man.get("versions") or {}).items()))),
        ]
    # another manifest: its scalar fields and one level of nesting
    rows = []
    for k, v in man.items():
        if isinstance(v, dict):
            rows += [(f"{k}.{k2}", esc(compact(v2))) for k2, v2 in v.items() if not isinstance(v2, (dict, list))]
        else:
            rows.append((k, esc(compact(v))))
    return rows


# what a manifest says of the model, backend and environment rather than of the run: shown once per model
_MODEL_ROWS = {"model", "weights hash", "model path", "model source", "backend", "dtype", "backend options", "chat template",
               "evalkit", "git revision", "packages"}


def manifest_block(page: Page, aid: str, man: dict) -> str:
    """The first run of a model (same weights, backend and environment) shows its whole manifest; later
    runs show only what is their own (collapsed) and point to it."""
    rows = manifest_rows(man)
    shared = [(k, v) for k, v in rows if k in _MODEL_ROWS]
    key = json.dumps([v for _, v in shared])
    first = page.models_seen.setdefault(key, aid)
    if first == aid or not shared:
        return f'<details class="manifest" open><summary>manifest</summary>{kv_table(rows)}</details>'
    own = [(k, v) for k, v in rows if k not in _MODEL_ROWS]
    opened = " open" if man.get("status") not in ("complete", None) else ""  # a failed or unfinished run shows why
    return (f'<details class="manifest"{opened}><summary>manifest (model, backend and environment as in '
            f'<a href="#{esc(first)}">its first run</a>)</summary>{kv_table(own)}</details>')


# -------------------------------------------------------------------- runs


def _stored_and_drawn(src: Source) -> tuple[list[tuple[plots.Image, str]], list[str]]:
    """The run's plots: the PNGs its kind's `plot` wrote, missing ones drawn again, other PNGs found beside."""
    pres = presentation(src.kind)
    expected = pres.figures
    where = src.dir / pres.figure_dir if pres.figure_dir else src.dir
    found = {name: plots.read_png(where / f"{name}.png") for name, _ in expected}
    notes = [
        f"{where / name}.png is not a valid PNG: not shown"
        for name, _ in expected
        if (where / f"{name}.png").exists() and found[name] is None
    ]
    if any(img is None for img in found.values()):
        try:
            drawn = plots.redraw(src, pres.plot, f"the {src.kind} plots")
        except plots.DrawError as e:  # shown where the plot would be; the rest of the report stands
            drawn = {}
            notes.append(str(e))
        for name in found:
            if found[name] is None and name in drawn:
                found[name] = drawn[name]
    out = [(found[name], caption) for name, caption in expected if found[name] is not None]
    known = {f"{name}.png" for name, _ in expected}
    for d in [src.dir] + ([where] if where != src.dir else []):
        for p in sorted(d.glob("*.png")):
            if p.name not in known or d != where:
                img = plots.read_png(p)
                if img is not None:
                    out.append((img, f"{p.name}"))
    return out, notes


def run_article(page: Page, src: Source) -> str:
    pres = presentation(src.kind)
    model = src.model or ("" if pres.ranks_models else "(no model)")
    aid = page.anchors[id(src)] = page.uid(f"run-{src.task}--{model or src.kind}")
    heading = esc(model) if model else esc(title(src.kind))
    meta = [
        x for x in (src.backend, f"run {src.doc['run_id']}" if src.doc.get("run_id") and src.kind != "incomplete" else None) if x
    ]
    parts = [
        f'<article class="run" id="{aid}" data-kind="{esc(src.kind)}" data-task="{esc(src.task)}" '
        f'data-model="{esc(src.model or "")}">',
        f'<h3>{heading} <span class="muted">{esc(" · ".join(map(str, meta)))}</span></h3>',
        f'<p class="src">{esc(src.path)}</p>',
    ]
    if src.manifest:
        parts.append(manifest_block(page, aid, src.manifest))
    elif pres.expects_manifest:
        parts.append('<p class="muted">No manifest.json beside this file.</p>')
    if src.kind == "incomplete":
        parts.append(
            '<p class="note">This run has no summary.json (it is still running, failed or was killed); '
            "run the same command again to resume it.</p></article>"
        )
        return "".join(parts)
    if "metrics" in src.doc:
        parts.append("<h4>metrics</h4>" + metrics_table(src.doc["metrics"] or {}))
    figs, notes = _stored_and_drawn(src)
    context = f"{src.task} · {src.model}" if src.model else src.task
    figures = [page.figure(aid, img, caption, context) for img, caption in figs]
    parts += [f'<p class="note" data-note="plot">{esc(n)}</p>' for n in notes]
    if figures:
        parts.append('<div class="figs">' + "".join(figures) + "</div>")
    parts.append(pres.report_section(src))
    if src.doc.get("breakdown"):
        parts.append("<h4>breakdowns</h4>" + breakdown_tables(src.doc["breakdown"]))
    parts.append("</article>")
    return "".join(parts)


def task_section(page: Page, kind: str, task: str, srcs: list[Source]) -> tuple[str, str, str]:
    """(id, nav label, html)."""
    sid = page.uid(f"task-{task}")
    label = f"{task} ({title(kind)})"
    about = presentation(kind).about
    body = [
        f'<section id="{sid}" data-kind="{esc(kind)}" data-task="{esc(task)}"><h2>{esc(task)} '
        f'<span class="badge">{esc(title(kind))}</span></h2>'
    ]
    if about:
        body.append(f'<p class="about">{esc(about)}</p>')
    if len(srcs) > 1 and all(s.kind != "incomplete" and not presentation(s.kind).ranks_models for s in srcs):
        body.append(comparison_table(srcs))
    body += [run_article(page, s) for s in srcs]
    body.append("</section>")
    return sid, label, "".join(body)


def comparison_table(srcs: list[Source]) -> str:
    """Several runs of one task side by side: one row per metric, one column per run."""
    names = list(dict.fromkeys(n for s in srcs for n in (s.doc.get("metrics") or {})))
    head = ["metric", *(f"{s.model} ({s.doc.get('run_id') or s.dir.name})" for s in srcs)]
    rows = []
    for n in names:
        cells = []
        for s in srcs:
            m = (s.doc.get("metrics") or {}).get(n)
            cells.append("" if m is None else esc(fmt(m.get("value")) + (f" {ci(m)}" if ci(m) else "")))
        rows.append([f"<b>{esc(n)}</b>", *cells])
    return "<h4>runs side by side (value [95% CI])</h4>" + grid_table(head, rows, set(range(1, len(head))))


# -------------------------------------------------------------------- overview and page


def headline(src: Source) -> tuple[str, dict]:
    """(label, metric) the overview (and `evalkit view`) shows for a run: its kind's `headline`."""
    return presentation(src.kind).headline(src)


def overview(page: Page, runs: list[Source]) -> str:
    rows = []
    for src in runs:
        name, m = headline(src)
        status = (src.manifest or {}).get("status") or src.doc.get("status") or ("incomplete" if src.kind == "incomplete" else "")
        rows.append(
            [
                f'<a href="#{page.anchors[id(src)]}">{esc(src.task)}</a>',
                esc(title(src.kind)),
                esc(src.model or ""),
                esc(src.backend or ""),
                esc(name or ""),
                esc(fmt(m.get("value"))) if m else "",
                esc(ci(m)) if m else "",
                esc(fmt(m.get("n"))) if m else "",
                badge(status) if status else "",
            ]
        )
    return (
        '<section id="overview" data-kind="overview"><h2>Overview</h2>'
        + grid_table(["task", "kind", "model", "backend", "headline metric", "value", "95% CI", "n", "status"], rows, {5, 6, 7})
        + "</section>"
    )


def _order(src: Source) -> tuple:
    """Sections by their kind's report_order, then kind, task, model; an unfinished run goes with its task."""
    kind = src.kind
    if kind == "incomplete":
        t = src.doc.get("task")
        kind = (t.get("kind") if isinstance(t, dict) else None) or ("sweep" if src.doc.get("sweep") else "incomplete")
    return (presentation(kind).report_order, kind, src.task, src.model or "", str(src.path))


def render(sources: list[Source], boards: list[tuple[Source, bool]], title: str) -> str:
    page = Page()
    page.ids.update({"overview", "contents"})
    runs = sorted((s for s in sources if s.kind != "leaderboard"), key=_order)
    sections, nav = [], []
    for board, built in boards:  # the leaderboard comes first, then the overview of the runs
        sid, label, body = leaderboard_section(page, board, built)
        sections.append(body)
        nav.append((sid, label))
    nav.append(("overview", "Overview"))
    groups: dict[tuple, list[Source]] = defaultdict(list)
    for s in runs:
        o = _order(s)
        groups[(o[0], o[1], o[2])].append(s)
    listed = []
    for (_, kind, task), srcs in groups.items():
        sid, label, body = task_section(page, kind, task, srcs)
        sections.append(body)
        nav.append((sid, label))
        listed += srcs
    models = sorted({s.model for s in runs if s.model})
    ended = [str(s.manifest.get("ended") or s.manifest.get("finished") or "") for s in runs if s.manifest]
    latest = max((e for e in ended if e), default="")
    summary = (
        f"{len(runs)} result file{'s' if len(runs) != 1 else ''} · {len(groups)} task{'s' if len(groups) != 1 else ''} · "
        f"{len(models)} model{'s' if len(models) != 1 else ''}"
        + (f" · latest result {latest}" if latest else "")
        + f" · evalkit {__version__}"
    )
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # nothing may be fetched or run: every image is a data: URI, the stylesheet is inline, there is no script
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
    )
    header = (
        f'<header class="top"><h1>{esc(title)}</h1><p>{esc(summary)}</p>'
        "<p>Built only from stored result files; every number below is read from them, every plot is the PNG the "
        "command wrote or, where none was stored, drawn again from the same summary.</p></header>"
    )
    navhtml = (
        '<nav id="contents"><ol>' + "".join(f'<li><a href="#{esc(i)}">{esc(label)}</a></li>' for i, label in nav) + "</ol></nav>"
    )
    files = [str(s.path) for s in sources] + [str(b.path) for b, built in boards if not built]
    footer = (
        "<footer><p>Sources:</p><ul>" + "".join(f"<li>{esc(f)}</li>" for f in dict.fromkeys(files)) + "</ul>"
        f"<p>{page.n_images} plot{'s' if page.n_images != 1 else ''}.</p></footer>"
    )
    return (
        head + header + navhtml + "<main>" + "".join(sections[:len(boards)]) + overview(page, listed) + "".join(sections[len(boards):])
        + "</main>" + footer + "</body></html>\n"
    )


__all__ = ["render", "headline", "leaderboard_inputs", "esc", "slug", "fmt", "short_hash"]
