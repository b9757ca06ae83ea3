"""The report's leaderboard section: a given leaderboard JSON (v1 or v2) or one the report builds from the
runs and rankings (`leaderboard_inputs` -> evalkit.leaderboard.build_leaderboard): how it was made, the
warnings, the model x benchmark table, rank stability, the rankings kept beside it and a ratings plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import plots
from .html import Page, ci, compact, entries_table, esc, fmt, grid_table, kv_table, short_hash
from .sources import Source


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
                ("params", esc(compact(m.get("params"))) if m.get("params") else ""),
                ("seed", esc(fmt(m.get("seed")))),
                ("bootstrap resamples", esc(fmt(m.get("n_bootstrap")))),
                ("created", esc(d.get("created"))),
                ("evalkit", esc(d.get("evalkit_version"))),
            ]
            + [(f"judge {k}", esc(compact(v)) if k != "prompt_sha" else short_hash(v)) for k, v in j.items() if v is not None]
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
                esc(ci(e)),
                esc(fmt(e.get("n_battles"))),
                esc(wlt),
                esc(", ".join(f"{k}={compact(v, 40)}" for k, v in ex.items())),
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
                cells.append("" if m is None else esc(fmt(m.get("value"))) + (f' <span class="muted">{esc(ci(m))}</span>' if ci(m) else "")
                             + (f' <span class="muted">n={esc(fmt(m.get("n")))}</span>' if m.get("n") is not None else ""))
            score = esc(fmt(e.get("score"))) + (f' <span class="muted">{esc(ci(e))}</span>' if ci(e) else "")
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
                     + entries_table(r.get("entries") or []))
    return parts


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
