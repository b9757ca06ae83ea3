"""HTML primitives of the report: escaping and number formatting, the page's id and figure bookkeeping,
and the tables every section is built from (key/value, metrics, breakdowns, grids, rankings). A kind's
report section (`report_section`) builds its HTML from these.

Every piece of text that comes from a result file goes through `esc` (model names, outputs and format
strings can hold markup).
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from typing import Any, Iterable

# the fields every summary has; the rest are a kind's own (shown by the generic section)
STD_KEYS = {"schema", "task", "kind", "model", "backend", "run_id", "seed", "n_samples", "metrics", "breakdown"}


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


def compact(v: Any, limit: int = 240) -> str:
    if isinstance(v, (dict, list)):
        s = json.dumps(v, ensure_ascii=False, sort_keys=False)
    else:
        s = fmt(v)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def duration(start: Any, end: Any) -> str:
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

    def figure(self, owner_id: str, img, caption: str, context: str) -> str:
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


def ci(m: dict) -> str:
    lo, hi = m.get("ci_low"), m.get("ci_high")
    return f"[{fmt(lo)}, {fmt(hi)}]" if lo is not None and hi is not None else ""


def value_cell(m: dict) -> str:
    v = m.get("value")
    return f'<td class="num">{esc(fmt(v))}</td>' if v is not None else '<td class="num muted">undefined</td>'


def extras(m: dict) -> str:
    return ", ".join(f"{k}={compact(v, 60)}" for k, v in m.items() if k not in ("value", "stderr", "ci_low", "ci_high", "n"))


def metrics_table(metrics: dict, cls: str = "metrics") -> str:
    if not metrics:
        return '<p class="muted">no metrics</p>'
    notes = any(extras(m) for m in metrics.values())
    out = [
        f'<div class="scroll"><table class="{cls}"><thead><tr><th>metric</th><th>value</th><th>stderr</th><th>95% CI</th><th>n</th>'
        + ("<th>other</th>" if notes else "")
        + "</tr></thead><tbody>"
    ]
    for name, m in metrics.items():
        out.append(
            f'<tr><th>{esc(name)}</th>{value_cell(m)}<td class="num">{esc(fmt(m.get("stderr")))}</td>'
            f'<td class="num">{esc(ci(m))}</td><td class="num">{esc(fmt(m.get("n")))}</td>'
            + (f"<td>{esc(extras(m))}</td>" if notes else "")
            + "</tr>"
        )
    out.append("</tbody></table></div>")
    return "".join(out)


def wide_cell(m: dict) -> str:
    if not m:
        return "<td></td>"
    sub = " · ".join(
        x
        for x in (
            ci(m),
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
        if len(names) <= 10 and not any(extras(m) for ms in levels.values() for m in ms.values()):
            rows = "".join(
                f"<tr><th>{esc(level)}</th>" + "".join(wide_cell(ms.get(n) or {}) for n in names) + "</tr>"
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
        notes = any(extras(m) for ms in levels.values() for m in ms.values())
        rows = []
        for level, ms in levels.items():
            items = list(ms.items()) or [("", {})]
            for i, (name, m) in enumerate(items):
                head = f'<th rowspan="{len(items)}">{esc(level)}</th>' if i == 0 else ""
                rows.append(
                    f"<tr>{head}<td>{esc(name)}</td>{value_cell(m) if m else '<td></td>'}"
                    f'<td class="num">{esc(fmt(m.get("stderr")))}</td><td class="num">{esc(ci(m))}</td>'
                    f'<td class="num">{esc(fmt(m.get("n")))}</td>' + (f"<td>{esc(extras(m))}</td>" if notes else "") + "</tr>"
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


def entries_table(entries: list[dict], score_name: str = "score") -> str:
    """A ranking's entries: rank, rank upper bound, model, score with its 95% CI, battle counts."""
    keys = ["rank", "rank_ub"]
    head = ["rank", "rank (UB)", "model", score_name, "95% CI"]
    counts = [k for k in ("n_battles", "wins", "losses", "ties") if any(k in e for e in entries)]
    extra = [k for k in ("win_rate",) if any(k in e for e in entries)]
    head += [{"n_battles": "battles"}.get(k, k) for k in counts] + [k.replace("_", " ") for k in extra]
    rows = []
    for e in entries:
        rows.append(
            [esc(fmt(e.get(k))) for k in keys]
            + [esc(e.get("model")), esc(fmt(e.get("score"))), esc(ci(e))]
            + [esc(fmt(e.get(k))) for k in counts]
            + [esc(fmt(e.get(k))) for k in extra]
        )
    return grid_table(head, rows, numeric={0, 1, *range(3, len(head))})


def badge(status: Any) -> str:
    return f'<span class="badge {esc(status)}">{esc(status)}</span>'


def extras_table(doc: dict) -> str:
    """A summary's own fields (beyond the ones every summary has) as a key/value table: the section of a
    kind that defines none."""
    return kv_table([(key, esc(compact(v))) for key, v in doc.items() if key not in STD_KEYS])
