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

    def write_artifacts(self, out, summary, records) -> None:
        plot_fsa(summary, out)
