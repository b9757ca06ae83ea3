"""HTML for the report: one section per task (runs of it as articles), the leaderboard, an overview.

Every piece of text that comes from a result file goes through `esc` (model names, outputs and format
strings can hold markup). Sections carry stable ids (`task-<task>`, `leaderboard`, `overview`) and a
`data-kind`; figures carry `data-plot` (the PNG's stem) and every image an `alt`.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from ..version import __version__
from . import plots
from .sources import Source
from .style import CSS

KIND_ORDER = ["posix", "formatspread", "code_mutations", "code_agent", "judge", "tournament", "ranking", "csd", "sweep", "mcq",
              "lm_eval"]
KIND_TITLES = {
    "posix": "POSIX prompt sensitivity",
    "formatspread": "FormatSpread",
    "code_mutations": "code mutations",
    "code_agent": "code agent",
    "judge": "judge quality",
    "tournament": "tournament",
    "ranking": "ranking",
    "csd": "Competitive Swiss-System Dynamics",
    "sweep": "preference-tuning sweep",
    "mcq": "multiple choice",
    "lm_eval": "lm-evaluation-harness results",
    "code_exec": "code execution",
    "incomplete": "unfinished run",
    "bench": "backend throughput",
}
KIND_ABOUT = {
    "posix": "How much the log-probability of a model's own responses moves across intent-preserving rewrites of a prompt "
    "(POSIX, nats per token; 0 = insensitive), by perturbation type, with bootstrap CIs.",
    "formatspread": "Accuracy of the same questions under many semantically equivalent prompt formats: the spread between the "
    "best and the worst format, and how each format attribute moves accuracy.",
    "code_mutations": "Code generation under edits of the problem statement: meaning-preserving ones (robust pass@k) and "
    "meaning-changing ones (did the model adapt, reuse the memorised solution, or break).",
    "code_agent": "A code agent that sees failing-test feedback: pass@1 on hidden tests after each turn, against fresh samples "
    "with the same budget and no feedback.",
    "judge": "The model as a pairwise judge on labelled pairs, both slot orders: agreement with the labels and with itself.",
    "tournament": "Variants of one model in a pairwise tournament judged by an LLM, rated by Bradley–Terry (weak prior, 95% posterior CIs) on soft judge outcomes.",
    "ranking": "Models ranked from pairwise judgments (`evalkit rank`), with 95% CIs and rank upper bounds.",
    "csd": "Expected Swiss-round score E[S] per model over Monte Carlo tournaments, at each elimination setting T, and the "
    "failure-sensitivity drop E[S]|T=max − E[S]|T=0.",
    "sweep": "A preference-tuning hyperparameter sweep: each method's score over the whole grid, not only at its best "
    "configuration, and the best configuration re-run on held-out seeds.",
    "mcq": "Multiple-choice accuracy by option log-likelihood.",
    "lm_eval": "A task's metrics as an lm-evaluation-harness results file reports them (the first filter's under the metric's "
    "name, every filter's in the breakdown; ± lm-eval's stderr).",
    "bench": "Throughput of a backend over a space of its inference options (`evalkit bench`): every measured point with the "
    "spread over its repeats, the defaults, the best point as -B flags and its ratio to the defaults.",
}
# the metric the overview shows for a run of each kind
PRIMARY = {
    "posix": "posix",
    "formatspread": "spread",
    "code_mutations": "pass@1",
    "code_agent": "solved_rate",
    "judge": "accuracy",
    "mcq": "acc",
    "sweep": "best",
    "tournament": "position_consistency",
}
# PNGs each kind writes, with what they show
STORED = {
    "posix": [("posix_by_perturbation", "POSIX by perturbation type (95% bootstrap CI)")],
    "formatspread": [
        ("formatspread", "accuracy per prompt format, sorted (95% CI), and the accuracy effect of each format attribute")
    ],
    "code_mutations": [
        (
            "code_mutations",
            "progressive underspecification curve (pass@1 as statement words are deleted) and "
            "adapted / reused / broken / indistinguishable rates on lexical flips",
        )
    ],
    "code_agent": [("agent_turns", "agent pass@1 on hidden tests by turn, and the equal-budget resampling baseline")],
    "judge": [("confusion", "judge confusion matrix: gold label × verdict")],
    "tournament": [("ratings", "Bradley–Terry ratings with 95% CIs")],
    "ranking": [("ratings", "ratings with 95% CIs")],
    "csd": [
        ("expected_scores", "expected Swiss score E[S] per model at each elimination setting T (±1.96 Monte Carlo s.e.)"),
        ("fsa_scatter", "failure-sensitivity analysis: base E[S] at T=0 against its drop at the strictest T"),
    ],
    "sweep": [
        ("score_vs_kl", "score vs KL(π‖π_SFT) per trial"),
        ("score_vs_length", "score vs mean response length per trial"),
        ("score_distribution", "score distribution over the grid, per method"),
        ("score_vs_hparams", "score vs each swept hyperparameter"),
    ],
}
_STD_KEYS = {"schema", "task", "kind", "model", "backend", "run_id", "seed", "n_samples", "metrics", "breakdown"}


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "x"


def fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if x != x:
            return ""
        if abs(x) < 1e-12:  # float noise around 0 (a Wilson bound of 2.8e-17) reads as 0
            return "0"
        if x.is_integer() and abs(x) < 1e12:
            return str(int(x))
        return f"{x:.4g}"
    return str(x)


def short_hash(h: Any) -> str:
    """'sha256:abcdef…' shortened to 12 hex digits, the full value in the title."""
    if not h:
        return ""
    s = str(h)
    algo, _, digest = s.rpartition(":")
    shown = (algo + ":" if algo else "") + digest[:12] + ("…" if len(digest) > 12 else "")
    return f'<span title="{esc(s)}"><code>{esc(shown)}</code></span>'


def _compact(v: Any, limit: int = 240) -> str:
    if isinstance(v, (dict, list)):
        s = json.dumps(v, ensure_ascii=False, sort_keys=False)
    else:
        s = fmt(v)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _duration(start: Any, end: Any) -> str:
    try:
        secs = (datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds()
    except (TypeError, ValueError):
        return ""
    if secs < 0:
        return ""
    m, s = divmod(int(round(secs)), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s" if m else f"{s} s"


class Page:
    """Collects sections and hands out unique ids."""

    def __init__(self):
        self.ids: set[str] = set()
        self.n_images = 0
        self.anchors: dict[int, str] = {}  # id(source) -> its article's id
        self.models_seen: dict[str, str] = {}  # model + backend + environment -> the article that shows them

    def uid(self, base: str) -> str:
        base = slug(base)
        k, out = 1, base
        while out in self.ids:
            k += 1
            out = f"{base}-{k}"
        self.ids.add(out)
        return out

    # ---------------------------------------------------------------- small pieces

    def figure(self, owner_id: str, img: plots.Image, caption: str, context: str) -> str:
        self.n_images += 1
        fid = self.uid(f"{owner_id}--{img.name}")
        drawn = " Drawn by the report from the stored results." if img.origin == "drawn" else ""
        return (
            f'<figure id="{fid}" data-plot="{esc(img.name)}" data-origin="{img.origin}">'
            f'<img src="{img.data_uri}" alt="{esc(caption + " — " + context)}" width="{img.width}" height="{img.height}">'
            f"<figcaption>{esc(caption)}.{esc(drawn)}</figcaption></figure>"
        )


def kv_table(rows: Iterable[tuple[str, str]], cols: int = 2) -> str:
    """Key/value pairs, `cols` pairs per row; values are HTML already."""
    rows = [r for r in rows if r[1] not in (None, "")]
    if not rows:
        return ""
    out = ['<div class="scroll"><table class="kv"><tbody>']
    for i in range(0, len(rows), cols):
        out.append("<tr>" + "".join(f"<th>{esc(k)}</th><td>{v}</td>" for k, v in rows[i : i + cols]) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _ci(m: dict) -> str:
    lo, hi = m.get("ci_low"), m.get("ci_high")
    return f"[{fmt(lo)}, {fmt(hi)}]" if lo is not None and hi is not None else ""


def _value_cell(m: dict) -> str:
    v = m.get("value")
    return f'<td class="num">{esc(fmt(v))}</td>' if v is not None else '<td class="num muted">undefined</td>'


def _extras(m: dict) -> str:
    return ", ".join(f"{k}={_compact(v, 60)}" for k, v in m.items() if k not in ("value", "stderr", "ci_low", "ci_high", "n"))


def metrics_table(metrics: dict, cls: str = "metrics") -> str:
    if not metrics:
        return '<p class="muted">no metrics</p>'
    notes = any(_extras(m) for m in metrics.values())
    out = [
        f'<div class="scroll"><table class="{cls}"><thead><tr><th>metric</th><th>value</th><th>stderr</th><th>95% CI</th><th>n</th>'
        + ("<th>other</th>" if notes else "")
        + "</tr></thead><tbody>"
    ]
    for name, m in metrics.items():
        out.append(
            f'<tr><th>{esc(name)}</th>{_value_cell(m)}<td class="num">{esc(fmt(m.get("stderr")))}</td>'
            f'<td class="num">{esc(_ci(m))}</td><td class="num">{esc(fmt(m.get("n")))}</td>'
            + (f"<td>{esc(_extras(m))}</td>" if notes else "")
            + "</tr>"
        )
    out.append("</tbody></table></div>")
    return "".join(out)


def _wide_cell(m: dict) -> str:
    if not m:
        return "<td></td>"
    sub = " · ".join(
        x
        for x in (
            _ci(m),
            f"se {fmt(m['stderr'])}" if m.get("stderr") is not None else "",
            f"n={fmt(m['n'])}" if m.get("n") is not None else "",
        )
        if x
    )
    v = esc(fmt(m.get("value"))) if m.get("value") is not None else '<span class="muted">undefined</span>'
    return f'<td class="num">{v}' + (f'<br><small class="muted">{esc(sub)}</small>' if sub else "") + "</td>"


def breakdown_tables(breakdown: dict) -> str:
    """One table per axis: levels as rows and metrics as columns (value, then CI, stderr and n below
    it); with many metric names, one row per level x metric instead."""
    out = []
    for axis, levels in breakdown.items():
        if not levels:
            continue
        names = list(dict.fromkeys(n for ms in levels.values() for n in ms))
        if len(names) <= 10 and not any(_extras(m) for ms in levels.values() for m in ms.values()):
            rows = "".join(
                f"<tr><th>{esc(level)}</th>" + "".join(_wide_cell(ms.get(n) or {}) for n in names) + "</tr>"
                for level, ms in levels.items()
            )
            opened = " open" if len(levels) <= 30 else ""
            out.append(
                f'<details class="breakdown" data-axis="{esc(axis)}"{opened}><summary>by {esc(axis)} ({len(levels)} levels)'
                f'</summary><div class="scroll"><table><thead><tr><th>{esc(axis)}</th>'
                + "".join(f"<th>{esc(n)}</th>" for n in names)
                + f"</tr></thead><tbody>{rows}</tbody></table></div></details>"
            )
            continue
        n_rows = sum(max(len(ms), 1) for ms in levels.values())
        notes = any(_extras(m) for ms in levels.values() for m in ms.values())
        rows = []
        for level, ms in levels.items():
            items = list(ms.items()) or [("", {})]
            for i, (name, m) in enumerate(items):
                head = f'<th rowspan="{len(items)}">{esc(level)}</th>' if i == 0 else ""
                rows.append(
                    f"<tr>{head}<td>{esc(name)}</td>{_value_cell(m) if m else '<td></td>'}"
                    f'<td class="num">{esc(fmt(m.get("stderr")))}</td><td class="num">{esc(_ci(m))}</td>'
                    f'<td class="num">{esc(fmt(m.get("n")))}</td>' + (f"<td>{esc(_extras(m))}</td>" if notes else "") + "</tr>"
                )
        opened = " open" if n_rows <= 30 else ""
        out.append(
            f'<details class="breakdown" data-axis="{esc(axis)}"{opened}><summary>by {esc(axis)} ({len(levels)} levels)</summary>'
            f'<div class="scroll"><table><thead><tr><th>{esc(axis)}</th><th>metric</th><th>value</th><th>stderr</th>'
            f"<th>95% CI</th><th>n</th>"
            + ("<th>other</th>" if notes else "")
            + "</tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table></div></details>"
        )
    return "".join(out)


def grid_table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """A plain table; cells are HTML already."""
    out = ['<div class="scroll"><table><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in rows:
        out.append(
            "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r)) + "</tr>"
        )
    out.append("</tbody></table></div>")
    return "".join(out)


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
            ("backend options", esc(_compact(be.get("options"))) if be.get("options") else ""),
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
            ("wall time", esc(_duration(man.get("started"), man.get("ended")))),
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
            ("wall time", esc(_duration(man.get("started"), end))),
            ("packages", esc(" · ".join(f"{k} {v}" for k, v in (man.get("versions") or {}).items()))),
        ]
    # another manifest: its scalar fields and one level of nesting
    rows = []
    for k, v in man.items():
        if isinstance(v, dict):
            rows += [(f"{k}.{k2}", esc(_compact(v2))) for k2, v2 in v.items() if not isinstance(v2, (dict, list))]
        else:
            rows.append((k, esc(_compact(v))))
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


# -------------------------------------------------------------------- runs by kind


def _stored_and_drawn(src: Source) -> tuple[list[tuple[plots.Image, str]], list[str]]:
    """The run's plots: the PNGs the command wrote, missing ones drawn again, other PNGs found beside."""
    expected = STORED.get(src.kind, [])
    where = src.dir / "plots" if src.kind == "sweep" else src.dir
    found = {name: plots.read_png(where / f"{name}.png") for name, _ in expected}
    notes = [
        f"{where / name}.png is not a valid PNG: not shown"
        for name, _ in expected
        if (where / f"{name}.png").exists() and found[name] is None
    ]
    if any(img is None for img in found.values()):
        redraw = {"csd": plots.redraw_csd, "sweep": plots.redraw_sweep}.get(src.kind, plots.redraw_run_plots)
        try:
            if src.kind == "ranking":
                drawn = plots.redraw_ratings(src, src.doc["entries"], _ranking_title(src), _ranking_xlabel(src))
            else:
                drawn = redraw(src)
        except plots.DrawError as e:  # shown where the plot would be; the rest of the report stands
            drawn = {}
            notes.append(str(e))
        for name in found:
            if found[name] is None and name in drawn:
                found[name] = drawn[name]
    out = [(found[name], caption) for name, caption in expected if found[name] is not None]
    known = {f"{name}.png" for name, _ in expected}
    dirs = [src.dir] + ([src.dir / "plots"] if src.kind == "sweep" else [])
    for d in dirs:
        for p in sorted(d.glob("*.png")):
            if p.name not in known or d != where:
                img = plots.read_png(p)
                if img is not None:
                    out.append((img, f"{p.name}"))
    return out, notes


def _ranking_title(src: Source) -> str:
    m = src.get("method", dict, {}) or {}
    return f"{m.get('type', 'bt')} ranking (95% CI), {src.doc.get('n_battles', '?')} battles"


def _ranking_xlabel(src: Source) -> str:
    m = src.get("method", dict, {}) or {}
    return "rating" if m.get("type", "bt") in ("bt", "elo") else "win rate"


def _entries_table(entries: list[dict], score_name: str = "score") -> str:
    keys = ["rank", "rank_ub"]
    head = ["rank", "rank (UB)", "model", score_name, "95% CI"]
    counts = [k for k in ("n_battles", "wins", "losses", "ties") if any(k in e for e in entries)]
    extra = [k for k in ("win_rate",) if any(k in e for e in entries)]
    head += [{"n_battles": "battles"}.get(k, k) for k in counts] + [k.replace("_", " ") for k in extra]
    rows = []
    for e in entries:
        rows.append(
            [esc(fmt(e.get(k))) for k in keys]
            + [esc(e.get("model")), esc(fmt(e.get("score"))), esc(_ci(e))]
            + [esc(fmt(e.get(k))) for k in counts]
            + [esc(fmt(e.get(k))) for k in extra]
        )
    return grid_table(head, rows, numeric={0, 1, *range(3, len(head))})


def kind_details(src: Source) -> str:
    """Tables for a kind's extras (entries, confusion, formats, ...)."""
    k, d = src.kind, src.doc
    out = []
    if k == "judge":
        j = src.get("judge", dict, {}) or {}
        out.append(
            kv_table(
                [(key, esc(_compact(v))) for key, v in j.items() if key != "template_sha256"]
                + [("template sha256", short_hash(j.get("template_sha256")))]
            )
        )
        conf = src.get("confusion", dict, None)
        if conf:
            cols, rows_ = src.get("confusion.columns", list), src.get("confusion.rows", list)
            counts = src.get("confusion.counts", list)
            out.append("<h4>confusion matrix (rows: gold label, columns: judge verdict)</h4>")
            out.append(
                grid_table(
                    ["gold \\ verdict", *map(str, cols)],
                    [[f"<b>{esc(r)}</b>", *(esc(fmt(c)) for c in row)] for r, row in zip(rows_, counts)],
                    numeric=set(range(1, len(cols) + 1)),
                )
            )
    elif k == "tournament":
        m, j = src.get("method", dict, {}) or {}, src.get("judge", dict, {}) or {}
        out.append(
            kv_table(
                [(f"method {key}", esc(_compact(v))) for key, v in m.items()]
                + [(f"judge {key}", esc(_compact(v)) if key != "prompt_sha" else short_hash(v)) for key, v in j.items()]
            )
        )
        if d.get("entries"):
            out.append("<h4>Bradley–Terry ratings</h4>" + _entries_table(d["entries"], "BT rating"))
    elif k == "ranking":
        m = src.get("method", dict, {}) or {}
        out.append(
            kv_table(
                [("battles", esc(fmt(d.get("n_battles"))))]
                + [(f"method {key}", esc(_compact(v))) for key, v in m.items()]
                + [("judgments", esc(", ".join(map(str, d.get("sources") or []))))]
            )
        )
        out.append(_entries_table(d["entries"]))
    elif k == "csd":
        keys = [str(t) for t in src.get("elims", list, [])] or (list(d["entries"][0]["E_S"]) if d["entries"] else [])
        out.append(
            kv_table(
                [
                    ("Monte Carlo runs", esc(fmt(d.get("n_runs")))),
                    ("elimination settings T", esc(", ".join(keys))),
                    ("seed", esc(fmt(d.get("seed")))),
                    ("tiebreak", esc(d.get("tiebreak"))),
                    ("normalize", esc(d.get("normalize"))),
                    ("rounds", esc(" → ".join("[" + ", ".join(map(str, r)) + "]" for r in (d.get("rounds") or [])))),
                    ("score sources", esc(", ".join(map(str, d.get("sources") or [])))),
                ]
            )
        )
        rows = []
        for pos, e in enumerate(d["entries"], 1):
            cells = []
            for t in keys:
                v, se = e["E_S"].get(t), (e.get("mc_stderr") or {}).get(t)
                cells.append(esc(f"{fmt(v)} ± {1.96 * se:.2g}" if v is not None and se is not None else fmt(v)))
            fd = e.get("fsa_drop")
            rows.append([str(pos), esc(e["model"]), *cells, esc("" if fd is None else f"{fd:+.4g}")])
        out.append(
            "<h4>expected Swiss score per model (± 1.96 Monte Carlo s.e.)</h4>"
            + grid_table(["#", "model", *(f"E[S] T={t}" for t in keys), "FSA drop"], rows, numeric={0, *range(2, len(keys) + 3)})
        )
    elif k == "formatspread":
        formats = src.get("formats", dict, {}) or {}
        best, worst = d.get("best_format"), d.get("worst_format")
        default = next(iter(formats), None)
        picks = [(lab, fid) for lab, fid in (("best", best), ("worst", worst), ("default", default)) if fid in formats]
        if picks:
            accs = src.get("breakdown.format", dict, {}) or {}
            attrs = list(dict.fromkeys(a for _, fid in picks for a in (formats[fid] or {})))
            rows = [
                [
                    f"<b>{esc(lab)}</b>",
                    f"<code>{esc(fid)}</code>",
                    esc(fmt(((accs.get(fid) or {}).get("accuracy") or {}).get("value"))),
                ]
                + [f"<code>{esc(json.dumps((formats[fid] or {}).get(a), ensure_ascii=False))}</code>" for a in attrs]
                for lab, fid in picks
            ]
            out.append(
                "<h4>best, worst and default format</h4>" + grid_table(["", "format", "accuracy", *attrs], rows, numeric={2})
            )
    elif k == "code_agent":
        ex = src.get("exit_status", dict, {}) or {}
        if ex:
            out.append(
                "<h4>how episodes ended</h4>"
                + grid_table(["exit status", "episodes"], [[esc(s), esc(fmt(c))] for s, c in ex.items()], {1})
            )
    elif k == "code_mutations":
        if d.get("isolation"):
            out.append(kv_table([("sandbox isolation", esc(", ".join(map(str, d["isolation"]))))]))
    elif k == "sweep":
        out.append(
            kv_table(
                [
                    ("status", f'<span class="badge {esc(d.get("status"))}">{esc(d.get("status"))}</span>'),
                    ("score", esc(d.get("score"))),
                    ("trials", esc(fmt(len(d.get("trials") or [])))),
                    ("evaluation prompts", esc(fmt(d.get("n_samples")))),
                ]
            )
        )
        best = src.get("best", dict, {}) or {}
        if best:
            rows = []
            for method, b in best.items():
                t = (b or {}).get("test_score") or {}
                rows.append(
                    [
                        esc(method),
                        esc(fmt(b.get("trial"))),
                        f"<code>{esc(_compact(b.get('params')))}</code>",
                        esc(fmt(b.get("tuning_score"))),
                        esc(fmt(t.get("value"))),
                        esc(_ci(t)),
                        esc(fmt(t.get("n"))),
                        esc(", ".join(map(str, b.get("test_seeds") or []))),
                    ]
                )
            out.append(
                "<h4>best configuration per method, re-run on the test seeds</h4>"
                + grid_table(
                    ["method", "trial", "params", "tuning score", "test score", "95% CI", "n", "test seeds"],
                    rows,
                    {1, 3, 4, 5, 6},
                )
            )
        for name, ms in (src.get("sft", dict, {}) or {}).items():
            if isinstance(ms, dict) and ms and all(isinstance(m, dict) and "value" in m for m in ms.values()):
                out.append(f"<h4>SFT reference: {esc(name)}</h4>" + metrics_table(ms))
    elif k == "bench":
        out.append(bench_details(src))
    elif k not in KIND_TITLES or k in ("code_exec", "mcq", "lm_eval"):
        extras = [(key, esc(_compact(v))) for key, v in d.items() if key not in _STD_KEYS]
        out.append(kv_table(extras))
    return "".join(out)


def bench_details(src: Source) -> str:
    """bench.json: per backend, the defaults, the best point (with its -B flags) and the other points, tokens/s as
    mean ± sd over the repeats; the ratio to the defaults; fANOVA importances."""
    d, out = src.doc, []
    w = d.get("workload") or {}
    out.append(kv_table([("workload", esc(_compact({k: v for k, v in w.items() if k != "request_tokens"}))),
                         ("request tokens", esc(_compact(w.get("request_tokens")))),
                         ("settings", esc(_compact(d.get("settings")))), ("machine", esc(_compact(d.get("machine"))))]))

    def sd(s):
        return "" if not s else esc(f"{fmt(s['mean'])} ± {fmt(s['std'])}" if s.get("std") is not None else fmt(s["mean"]))

    for b, bd in (d.get("backends") or {}).items():
        best = bd.get("best") or {}
        rows = []
        for label, t in [("default", bd.get("default"))] + [(f"trial {t['number']}", t) for t in bd.get("trials") or []]:
            res = (t or {}).get("result") or {}
            tag = " (best)" if t and best and t.get("number") == best.get("number") and label != "default" else ""
            rows.append([esc(label + tag), sd(res.get("tokens_per_s")), sd(res.get("requests_per_s")),
                         sd(res.get("latency_p50_s")), esc(fmt((res.get("tokens_per_s") or {}).get("n"))),
                         f"<code>{esc(_compact((t or {}).get('params')))}</code>" if res else esc((t or {}).get("error"))])
        r = (bd.get("ratio_to_default") or {}).get("tokens_per_s")
        head = f"<h4>{esc(b)} {esc(bd.get('backend_version') or '')}: tokens/s per point (mean ± sd over repeats)</h4>"
        facts = [("best", f"<code>{esc(best.get('cli'))}</code>" if best else "none")]
        if r:
            facts.append(("best / default tokens/s", esc(f"{fmt(r['value'])} ± {fmt(r['stderr'])} (range {fmt(r['low'])}–{fmt(r['high'])})")))
        imp = (bd.get("importance") or {}).get("values") or {}
        facts.append(("importance (fANOVA)", esc(", ".join(f"{k} {v:.2f}" for k, v in imp.items()) or (bd.get("importance") or {}).get("note"))))
        out.append(head + kv_table(facts) + grid_table(["point", "tokens/s", "requests/s", "latency p50 s", "n", "params"],
                                                      rows, {1, 2, 3, 4}))
    return "".join(out)


def run_article(page: Page, src: Source) -> str:
    model = src.model or ("(no model)" if src.kind not in ("csd", "ranking") else "")
    aid = page.anchors[id(src)] = page.uid(f"run-{src.task}--{model or src.kind}")
    title = esc(model) if model else esc(KIND_TITLES.get(src.kind, src.kind))
    meta = [
        x for x in (src.backend, f"run {src.doc['run_id']}" if src.doc.get("run_id") and src.kind != "incomplete" else None) if x
    ]
    parts = [
        f'<article class="run" id="{aid}" data-kind="{esc(src.kind)}" data-task="{esc(src.task)}" '
        f'data-model="{esc(src.model or "")}">',
        f'<h3>{title} <span class="muted">{esc(" · ".join(map(str, meta)))}</span></h3>',
        f'<p class="src">{esc(src.path)}</p>',
    ]
    if src.manifest:
        parts.append(manifest_block(page, aid, src.manifest))
    elif src.kind not in ("csd", "ranking", "lm_eval"):
        parts.append('<p class="muted">No manifest.json beside this file.</p>')
    if src.kind == "incomplete":
        parts.append(
            '<p class="note">This run has no summary.json (it is still running, failed or was killed); '
            "run the same command again to resume it.</p></article>"
        )
        return "".join(parts)
    if src.kind not in ("ranking",):
        parts.append("<h4>metrics</h4>" + metrics_table(src.doc.get("metrics") or {}))
    figs, notes = _stored_and_drawn(src)
    context = f"{src.task} · {src.model}" if src.model else src.task
    figures = [page.figure(aid, img, caption, context) for img, caption in figs]
    if src.kind == "formatspread":
        img = plots.formatspread_distribution(src)
        if img is not None:
            figures.insert(
                0,
                page.figure(
                    aid,
                    img,
                    "distribution of per-format accuracy: histogram over formats and each format "
                    "as a point, best / worst / default marked",
                    context,
                ),
            )
    parts += [f'<p class="note" data-note="plot">{esc(n)}</p>' for n in notes]
    if figures:
        parts.append('<div class="figs">' + "".join(figures) + "</div>")
    parts.append(kind_details(src))
    if src.doc.get("breakdown"):
        parts.append("<h4>breakdowns</h4>" + breakdown_tables(src.doc["breakdown"]))
    parts.append("</article>")
    return "".join(parts)


def task_section(page: Page, kind: str, task: str, srcs: list[Source]) -> tuple[str, str, str]:
    """(id, nav label, html)."""
    sid = page.uid(f"task-{task}")
    label = f"{task} ({KIND_TITLES.get(kind, kind)})"
    about = KIND_ABOUT.get(kind, "")
    body = [
        f'<section id="{sid}" data-kind="{esc(kind)}" data-task="{esc(task)}"><h2>{esc(task)} '
        f'<span class="badge">{esc(KIND_TITLES.get(kind, kind))}</span></h2>'
    ]
    if about:
        body.append(f'<p class="about">{esc(about)}</p>')
    if len(srcs) > 1 and all(s.kind not in ("incomplete", "ranking", "csd") for s in srcs):
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
            cells.append("" if m is None else esc(fmt(m.get("value")) + (f" {_ci(m)}" if _ci(m) else "")))
        rows.append([f"<b>{esc(n)}</b>", *cells])
    return "<h4>runs side by side (value [95% CI])</h4>" + grid_table(head, rows, set(range(1, len(head))))


# -------------------------------------------------------------------- leaderboard and overview


def leaderboard_section(page: Page, src: Source, built: bool) -> tuple[str, str, str]:
    sid = page.uid("leaderboard")
    d = src.doc
    m = d.get("method") or {}
    j = d.get("judge") or {}
    origin = (
        "built by the report from the inputs (the same function as <code>evalkit export leaderboard</code>)"
        if built
        else esc(src.path)
    )
    parts = [
        f'<section id="{sid}" data-kind="leaderboard"><h2>Leaderboard <span class="badge">{esc(m.get("type", ""))}</span></h2>',
        f'<p class="src">{origin}</p>',
        kv_table(
            [
                ("method", esc(m.get("type"))),
                ("params", esc(_compact(m.get("params"))) if m.get("params") else ""),
                ("seed", esc(fmt(m.get("seed")))),
                ("bootstrap resamples", esc(fmt(m.get("n_bootstrap")))),
                ("created", esc(d.get("created"))),
                ("evalkit", esc(d.get("evalkit_version"))),
            ]
            + [(f"judge {k}", esc(_compact(v)) if k != "prompt_sha" else short_hash(v)) for k, v in j.items() if v is not None]
        ),
    ]
    entries = d.get("entries") or []
    rows = []
    for e in entries:
        ex = e.get("extras") or {}
        wlt = "/".join(fmt(e.get(k)) for k in ("wins", "losses", "ties")) if e.get("wins") is not None else ""
        rows.append(
            [
                esc(fmt(e.get("rank"))),
                esc(fmt(e.get("rank_ub"))),
                f"<b>{esc(e.get('model'))}</b>",
                esc(fmt(e.get("score"))),
                esc(_ci(e)),
                esc(fmt(e.get("n_battles"))),
                esc(wlt),
                esc(", ".join(f"{k}={_compact(v, 40)}" for k, v in ex.items())),
            ]
        )
    v2 = d.get("schema") == "evalkit.leaderboard/v2"
    if v2:  # first what a reader needs: the warnings and the model x benchmark table, then how it was made
        parts[2:2] = leaderboard_v2_parts(d)
    else:
        parts.append(
            grid_table(["rank", "rank (UB)", "model", "score", "95% CI", "battles", "W/L/T", "extras"], rows, {0, 1, 3, 4, 5})
        )
    with_ci = lambda es: es and all(e.get("ci_low") is not None and e.get("ci_high") is not None for e in es)  # noqa: E731
    plotted, kind = entries, m.get("type", "")
    if not with_ci(entries) and d.get("rankings"):  # one model's benchmarks rank nothing: draw the first ranking kept
        plotted, kind = d["rankings"][0]["entries"], (d["rankings"][0].get("method") or {}).get("type", "")
    if with_ci(plotted):
        try:
            drawn = plots.redraw_ratings(src, plotted, f"leaderboard · {kind} (95% CI)", xlabel="score")
        except plots.DrawError as e:
            drawn = {}
            parts.append(f'<p class="note">{esc(e)}</p>')
        if "ratings" in drawn:
            img = plots.Image(
                "leaderboard_ratings", drawn["ratings"].png, "drawn", drawn["ratings"].width, drawn["ratings"].height
            )
            parts.append(
                '<div class="figs">' + page.figure(sid, img, "leaderboard scores with 95% CIs", "leaderboard") + "</div>"
            )
    per = d.get("per_benchmark") or {}  # v1
    if per:
        tasks = sorted({t for v in per.values() for t in v})
        models = [e["model"] for e in entries if e.get("model") in per] + sorted(
            x for x in per if x not in {e.get("model") for e in entries}
        )

        def primary(row: dict) -> tuple[str, Any, Any]:  # lm-eval key form: 'metric,filter' and 'metric_stderr,filter'
            for key, v in row.items():
                name, _, filt = key.partition(",")
                if not name.endswith("_stderr"):
                    return name, v, row.get(f"{name}_stderr,{filt}")
            return "", None, None

        body = []
        for model in models:
            cells = []
            for t in tasks:
                row = per[model].get(t)
                if row is None:
                    cells.append("")
                    continue
                name, v, se = primary(row)
                cells.append(
                    f'<span title="{esc(name)}">{esc(fmt(v))}</span>'
                    + (f' <span class="muted">± {esc(fmt(se))}</span>' if se is not None else "")
                    + f' <span class="muted">{esc(name)}</span>'
                )
            body.append([f"<b>{esc(model)}</b>", *cells])
        parts.append("<h4>per benchmark (first metric of each; ± stderr)</h4>" + grid_table(["model", *tasks], body))
    jq = d.get("judge_quality")
    if isinstance(jq, dict) and any(v is not None for v in jq.values()):
        parts.append("<h4>judge quality</h4>" + kv_table([(k, esc(fmt(v))) for k, v in jq.items()], cols=4))
    parts.append("</section>")
    return sid, "Leaderboard", "".join(parts)


def _arrow(hib: Any) -> str:
    return {True: "↑", False: "↓"}.get(hib, "")


def leaderboard_v2_parts(d: dict) -> list[str]:
    """The warnings, the model x benchmark table (↑/↓, value [95% CI], n), the rank-stability block and
    the rankings kept beside the benchmarks."""
    parts = []
    if d.get("warnings"):
        parts.append('<div class="warnings" data-block="warnings"><h4>warnings</h4><ul>'
                     + "".join(f'<li class="note">{esc(w)}</li>' for w in d["warnings"]) + "</ul></div>")
    benches = d.get("benchmarks") or []
    if benches:
        head = ["rank", "model", "score [95% CI]"] + [f"{b['name']} {_arrow(b['higher_is_better'])} {b['metric']}" for b in benches]
        rows = []
        for e in d.get("entries") or []:
            cells = []
            for b in benches:
                m = (e.get("per_benchmark") or {}).get(b["name"])
                cells.append("" if m is None else esc(fmt(m.get("value"))) + (f' <span class="muted">{esc(_ci(m))}</span>' if _ci(m) else "")
                             + (f' <span class="muted">n={esc(fmt(m.get("n")))}</span>' if m.get("n") is not None else ""))
            score = esc(fmt(e.get("score"))) + (f' <span class="muted">{esc(_ci(e))}</span>' if _ci(e) else "")
            rows.append([esc(f"{e['rank']} (UB {e['rank_ub']})"), f"<b>{esc(e['model'])}</b>", score, *cells])
        parts.append('<h4 data-block="benchmarks">models x benchmarks (each run\'s primary metric; ↑ higher is better, ↓ lower)</h4>'
                     + grid_table(head, rows, set(range(2, len(head)))))
    stab = d.get("stability") or {}
    if stab.get("tasks"):
        rows = []
        for t, x in stab["tasks"].items():
            flips = ", ".join(f"{f['a']} / {f['b']}: " + ("tied by default" if f["flip_share"] is None else fmt(f["flip_share"]))
                              for f in x.get("pair_flips") or [])
            rows.append([esc(t), esc(f"{x['metric']} ({x['n_variants']} variants)"), esc(fmt(x.get("kendall_tau_mean"))),
                         esc(fmt(x.get("kendall_tau_min"))), esc(fmt(x.get("top_retention"))), esc(", ".join(x.get("top_model") or [])),
                         esc(flips)])
        parts.append('<h4 data-block="stability">rank stability under prompt variants</h4>' + grid_table(
            ["task", "ranked by", "Kendall τ mean", "τ min", "top stays top", "default top", "order flips per pair"], rows, {2, 3, 4}))
    if stab.get("per_model"):
        cols = [("posix", "POSIX ↓"), ("format_spread", "format spread ↓"), ("worst_case_accuracy", "worst-case accuracy ↑")]
        rows = [[f"<b>{esc(m)}</b>", *(esc(", ".join(f"{t} {fmt(v)}" for t, v in (c.get(k) or {}).items())) for k, _ in cols)]
                for m, c in stab["per_model"].items()]
        parts.append("<h4>sensitivity per model</h4>" + grid_table(["model", *(label for _, label in cols)], rows))
    for r in d.get("rankings") or []:
        m = r.get("method") or {}
        extra = f" · judge position consistency {fmt(r['position_consistency'])}" if r.get("position_consistency") is not None else ""
        parts.append(f"<h4>ranking: {esc(r.get('task') or r['source'])} ({esc(m.get('type'))}{esc(extra)})</h4>"
                     + _entries_table(r.get("entries") or []))
    return parts


def headline(src: Source) -> tuple[str, dict]:
    """(label, metric) the overview shows for a run: the top of a ranking, else the kind's main metric."""
    entries = src.doc.get("entries") if src.kind in ("tournament", "ranking", "csd") else None
    if entries:
        top = entries[0]
        if src.kind == "csd":
            t = max(top["E_S"], key=int)
            se = (top.get("mc_stderr") or {}).get(t)
            v = top["E_S"][t]
            ci = {"ci_low": v - 1.96 * se, "ci_high": v + 1.96 * se} if se is not None else {}
            return f"top E[S] at T={t}: {top['model']}", {"value": v, **ci, "n": src.doc.get("n_runs")}
        return f"top: {top['model']}", {
            "value": top.get("score"),
            "ci_low": top.get("ci_low"),
            "ci_high": top.get("ci_high"),
            "n": top.get("n_battles"),
        }
    metrics = src.doc.get("metrics") or {}
    name = PRIMARY.get(src.kind) if PRIMARY.get(src.kind) in metrics else next(iter(metrics), "")
    return name, metrics.get(name) or {}


def overview(page: Page, runs: list[Source]) -> str:
    rows = []
    for src in runs:
        name, m = headline(src)
        status = (src.manifest or {}).get("status") or src.doc.get("status") or ("incomplete" if src.kind == "incomplete" else "")
        cls = esc(status)
        rows.append(
            [
                f'<a href="#{page.anchors[id(src)]}">{esc(src.task)}</a>',
                esc(KIND_TITLES.get(src.kind, src.kind)),
                esc(src.model or ""),
                esc(src.backend or ""),
                esc(name or ""),
                esc(fmt(m.get("value"))) if m else "",
                esc(_ci(m)) if m else "",
                esc(fmt(m.get("n"))) if m else "",
                f'<span class="badge {cls}">{esc(status)}</span>' if status else "",
            ]
        )
    return (
        '<section id="overview" data-kind="overview"><h2>Overview</h2>'
        + grid_table(["task", "kind", "model", "backend", "headline metric", "value", "95% CI", "n", "status"], rows, {5, 6, 7})
        + "</section>"
    )


def _order(src: Source) -> tuple:
    kind = src.kind
    if kind == "incomplete":
        t = src.doc.get("task")
        kind = (t.get("kind") if isinstance(t, dict) else None) or ("sweep" if src.doc.get("sweep") else "incomplete")
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return (rank, kind, src.task, src.model or "", str(src.path))


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


def leaderboard_inputs(sources: list[Source]) -> list[Path] | None:
    """The files `build_leaderboard` can rank from: run summaries with a model and a task, and
    rankings. None when there is nothing to rank (no ranking source and fewer than two models)."""
    ranked = [s for s in sources if s.kind in ("tournament", "csd", "ranking") and s.doc.get("entries")]
    runs = [
        s
        for s in sources
        if s.kind not in ("tournament", "csd", "ranking", "leaderboard", "incomplete")
        and s.doc.get("model")
        and s.doc.get("task")
    ]
    if not ranked and len({s.model for s in runs}) < 2:
        return None
    return [s.path for s in sorted(ranked + runs, key=lambda s: str(s.path))]


__all__ = ["render", "leaderboard_inputs", "esc", "slug", "fmt"]
