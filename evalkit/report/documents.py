"""Presentations of the result documents that are no task kind's run: `evalkit rank`'s ranking.json,
`evalkit sweep`'s summary, `evalkit bench`'s bench.json, `evalkit code-exec`'s summary and the manifest of
a run that never wrote a summary. A task kind's own presentation is on its class (evalkit/presentation.py);
`presentation(kind)` finds either."""

from __future__ import annotations

from ..errors import EvalkitError
from ..presentation import Presentation, top_entry
from .html import badge, ci, compact, entries_table, esc, fmt, grid_table, kv_table, metrics_table


def _ranking_method(summary: dict) -> dict:
    m = summary.get("method")
    return m if isinstance(m, dict) else {}


class Ranking(Presentation):
    title = "ranking"
    about = "Models ranked from pairwise judgments (`evalkit rank`), with 95% CIs and rank upper bounds."
    figures = (("ratings", "ratings with 95% CIs"),)
    report_order = 70
    expects_manifest = False
    ranks_models = True

    @staticmethod
    def plot(summary, records, out):
        from ..tournaments.plots import ratings_plot

        m = _ranking_method(summary)
        title = f"{m.get('type', 'bt')} ranking (95% CI), {summary.get('n_battles', '?')} battles"
        xlabel = "rating" if m.get("type", "bt") in ("bt", "elo") else "win rate"
        ratings_plot(summary["entries"], out / "ratings.png", title, xlabel=xlabel)

    @classmethod
    def report_section(cls, src):
        d, m = src.doc, src.get("method", dict, {}) or {}
        return kv_table(
            [("battles", esc(fmt(d.get("n_battles"))))]
            + [(f"method {key}", esc(compact(v))) for key, v in m.items()]
            + [("judgments", esc(", ".join(map(str, d.get("sources") or []))))]
        ) + entries_table(d["entries"])

    @classmethod
    def headline(cls, src):
        return top_entry(src) or super().headline(src)


class Sweep(Presentation):
    title = "preference-tuning sweep"
    about = ("A preference-tuning hyperparameter sweep: each method's score over the whole grid, not only at its best "
             "configuration, and the best configuration re-run on held-out seeds.")
    figures = (
        ("score_vs_kl", "score vs KL(π‖π_SFT) per trial"),
        ("score_vs_length", "score vs mean response length per trial"),
        ("score_distribution", "score distribution over the grid, per method"),
        ("score_vs_hparams", "score vs each swept hyperparameter"),
    )
    figure_dir = "plots"
    report_order = 90
    primary_metric = "best"

    @staticmethod
    def plot(summary, records, out):
        """Score vs KL / vs length / distribution from the summary's per-trial breakdown (keys
        '<method>/tNNN', as `evalkit sweep` writes them)."""
        from ..tuning.report import plots

        params = {
            f"{t.get('method')}/t{int(t.get('trial', 0)):03d}": t.get("params") or {}
            for t in summary.get("trials") or []
            if isinstance(t, dict)
        }
        trials = [
            {"method": key.split("/", 1)[0], "metrics": metrics, "params": params.get(key, {}), "swept": []}
            for key, metrics in ((summary.get("breakdown") or {}).get("trial") or {}).items()
        ]
        if trials:
            plots(trials, str(summary.get("score", "score")), out)

    @classmethod
    def report_section(cls, src):
        d = src.doc
        out = [kv_table([("status", badge(d.get("status"))), ("score", esc(d.get("score"))),
                         ("trials", esc(fmt(len(d.get("trials") or [])))), ("evaluation prompts", esc(fmt(d.get("n_samples"))))])]
        best = src.get("best", dict, {}) or {}
        if best:
            rows = []
            for method, b in best.items():
                t = (b or {}).get("test_score") or {}
                rows.append([esc(method), esc(fmt(b.get("trial"))), f"<code>{esc(compact(b.get('params')))}</code>",
                             esc(fmt(b.get("tuning_score"))), esc(fmt(t.get("value"))), esc(ci(t)), esc(fmt(t.get("n"))),
                             esc(", ".join(map(str, b.get("test_seeds") or [])))])
            out.append("<h4>best configuration per method, re-run on the test seeds</h4>" + grid_table(
                ["method", "trial", "params", "tuning score", "test score", "95% CI", "n", "test seeds"], rows, {1, 3, 4, 5, 6}))
        for name, ms in (src.get("sft", dict, {}) or {}).items():
            if isinstance(ms, dict) and ms and all(isinstance(m, dict) and "value" in m for m in ms.values()):
                out.append(f"<h4>SFT reference: {esc(name)}</h4>" + metrics_table(ms))
        return "".join(out)


class Bench(Presentation):
    title = "backend throughput"
    about = ("Throughput of a backend over a space of its inference options (`evalkit bench`): every measured point with the "
             "spread over its repeats, the defaults, the best point as -B flags and its ratio to the defaults.")

    @classmethod
    def report_section(cls, src):
        """Per backend, the defaults, the best point (with its -B flags) and the other points, tokens/s as mean ±
        sd over the repeats; the ratio to the defaults; fANOVA importances."""
        d, out = src.doc, []
        w = d.get("workload") or {}
        out.append(kv_table([("workload", esc(compact({k: v for k, v in w.items() if k != "request_tokens"}))),
                             ("request tokens", esc(compact(w.get("request_tokens")))),
                             ("settings", esc(compact(d.get("settings")))), ("machine", esc(compact(d.get("machine"))))]))

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
                             f"<code>{esc(compact((t or {}).get('params')))}</code>" if res else esc((t or {}).get("error"))])
            r = (bd.get("ratio_to_default") or {}).get("tokens_per_s")
            head = f"<h4>{esc(b)} {esc(bd.get('backend_version') or '')}: tokens/s per point (mean ± sd over repeats)</h4>"
            facts = [("best", f"<code>{esc(best.get('cli'))}</code>" if best else "none")]
            if r:
                facts.append(("best / default tokens/s",
                              esc(f"{fmt(r['value'])} ± {fmt(r['stderr'])} (range {fmt(r['low'])}–{fmt(r['high'])})")))
            imp = (bd.get("importance") or {}).get("values") or {}
            facts.append(("importance (fANOVA)",
                          esc(", ".join(f"{k} {v:.2f}" for k, v in imp.items()) or (bd.get("importance") or {}).get("note"))))
            out.append(head + kv_table(facts) + grid_table(["point", "tokens/s", "requests/s", "latency p50 s", "n", "params"],
                                                          rows, {1, 2, 3, 4}))
        return "".join(out)


class CodeExec(Presentation):
    title = "code execution"


class Unfinished(Presentation):
    title = "unfinished run"


DOCUMENTS: dict[str, type[Presentation]] = {
    "ranking": Ranking, "sweep": Sweep, "bench": Bench, "code_exec": CodeExec,
    "incomplete": Unfinished,
}


def presentation(kind: str) -> type[Presentation]:
    """How the report shows a document of this kind: the registered task kind's class, else the report's
    own document types above, else the defaults (a kind whose package is not installed here)."""
    from ..registry import KINDS

    if kind in KINDS:
        try:
            return KINDS.get(kind)
        except EvalkitError:  # registered but not importable here: shown with the defaults
            pass
    return DOCUMENTS.get(kind, Presentation)


def title(kind: str) -> str:
    return presentation(kind).title or kind


__all__ = ["DOCUMENTS", "presentation", "title"]
