"""Competitive Swiss-System Dynamics as a task: a score table and ordered rounds in a task YAML.

The same simulation as `evalkit swiss` (evalkit/tournaments/csd.py), run through the runner so it
gets a manifest, records (one per model) and a resumable run directory. No model is loaded.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..context import RunContext
from ..kind import TaskConfig, TaskKind
from ..tournaments.csd import TIEBREAKS, CSDResult, csd_summary, plot_fsa, simulate
from ..tournaments.scores import NORMALIZATIONS, load_scores, select


class CSDConfig(TaskConfig):
    # data: the score table (CSV with a `model` column, or an lm-eval results_*.json)
    rounds: list[list[str]] = Field(min_length=1)  # benchmark groups, in play order
    n_runs: int = Field(100_000, ge=2)
    elims: list[int] = Field(default_factory=lambda: [0, 1, 2])
    tiebreak: str = "random"  # random (the paper) | index (the authors' code)
    normalize: str = "none"
    metric: str | None = None

    def model_post_init(self, _):
        if self.tiebreak not in TIEBREAKS:
            raise ValueError(f"tiebreak must be one of {', '.join(TIEBREAKS)}")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {', '.join(NORMALIZATIONS)}")


class CSDKind(TaskKind):
    Config = CSDConfig
    uses_model = False

    def _table(self):
        return load_scores([self.spec.data_path], metric=self.config.metric)

    def samples(self) -> list[dict]:
        return [{"id": str(m)} for m in self._table().index]

    def run(self, samples, ctx: RunContext) -> None:
        c = self.config
        if all(s["id"] in ctx.done for s in samples):
            return
        table = self._table().loc[[s["id"] for s in samples]]
        matrix, idx, models, _ = select(table, c.rounds, normalize_how=c.normalize, rounds_file=str(self.spec.path))
        res = simulate(matrix, idx, n_runs=c.n_runs, elims=c.elims, tiebreak=c.tiebreak, seed=self.seed)
        for i, m in enumerate(models):
            ctx.write({"id": m, "E_S": {str(t): float(res.E_S[t][i]) for t in res.elims},
                       "mc_stderr": {str(t): float(res.mc_stderr[t][i]) for t in res.elims},
                       "matches_per_run": {str(t): float(res.n_matches[t]) for t in res.elims}})

    def summarize(self, records: list[dict]) -> dict:
        """`evalkit swiss`'s summary (csd_summary), from the per-model records."""
        c = self.config
        elims = tuple(int(t) for t in c.elims)
        per_t = lambda field: {t: np.array([r[field][str(t)] for r in records]) for t in elims}  # noqa: E731
        result = CSDResult(elims, per_t("E_S"), per_t("mc_stderr"), c.n_runs, c.tiebreak, self.seed,
                           {t: records[0]["matches_per_run"][str(t)] for t in elims} if records else {})
        summary = csd_summary(result, [r["id"] for r in records], c.rounds, normalize=c.normalize,
                              sources=[str(self.spec.data_path)])
        # the runner writes the run's own identity fields
        return {k: v for k, v in summary.items() if k not in ("schema", "task", "kind", "n_samples", "seed")}

    # --- presentation (evalkit report): also of `evalkit swiss`'s summary -----------------------------
    title = "Competitive Swiss-System Dynamics"
    about = ("Expected Swiss-round score E[S] per model over Monte Carlo tournaments, at each elimination setting T, and the "
             "failure-sensitivity drop E[S]|T=max − E[S]|T=0.")
    figures = (
        ("expected_scores", "expected Swiss score E[S] per model at each elimination setting T (±1.96 Monte Carlo s.e.)"),
        ("fsa_scatter", "failure-sensitivity analysis: base E[S] at T=0 against its drop at the strictest T"),
    )
    report_order = 80
    expects_manifest = False  # `evalkit swiss` writes none
    ranks_models = True

    @staticmethod
    def plot(summary, records, out) -> None:
        plot_fsa(summary, out)

    @classmethod
    def report_section(cls, src) -> str:
        """The simulation's settings and E[S] per model at each T (± 1.96 Monte Carlo s.e.), with the FSA drop."""
        from ..report.html import esc, fmt, grid_table, kv_table

        d = src.doc
        keys = [str(t) for t in src.get("elims", list, [])] or (list(d["entries"][0]["E_S"]) if d["entries"] else [])
        out = kv_table([
            ("Monte Carlo runs", esc(fmt(d.get("n_runs")))), ("elimination settings T", esc(", ".join(keys))),
            ("seed", esc(fmt(d.get("seed")))), ("tiebreak", esc(d.get("tiebreak"))), ("normalize", esc(d.get("normalize"))),
            ("rounds", esc(" → ".join("[" + ", ".join(map(str, r)) + "]" for r in (d.get("rounds") or [])))),
            ("score sources", esc(", ".join(map(str, d.get("sources") or [])))),
        ])
        rows = []
        for pos, e in enumerate(d["entries"], 1):
            cells = []
            for t in keys:
                v, se = e["E_S"].get(t), (e.get("mc_stderr") or {}).get(t)
                cells.append(esc(f"{fmt(v)} ± {1.96 * se:.2g}" if v is not None and se is not None else fmt(v)))
            fd = e.get("fsa_drop")
            rows.append([str(pos), esc(e["model"]), *cells, esc("" if fd is None else f"{fd:+.4g}")])
        return out + "<h4>expected Swiss score per model (± 1.96 Monte Carlo s.e.)</h4>" + grid_table(
            ["#", "model", *(f"E[S] T={t}" for t in keys), "FSA drop"], rows, numeric={0, *range(2, len(keys) + 3)})

    @classmethod
    def headline(cls, src):
        """The top model's E[S] at the strictest elimination setting."""
        entries = src.doc.get("entries")
        if not entries:
            return super().headline(src)
        top = entries[0]
        t = max(top["E_S"], key=int)
        se = (top.get("mc_stderr") or {}).get(t)
        v = top["E_S"][t]
        ci = {"ci_low": v - 1.96 * se, "ci_high": v + 1.96 * se} if se is not None else {}
        return f"top E[S] at T={t}: {top['model']}", {"value": v, **ci, "n": src.doc.get("n_runs")}
