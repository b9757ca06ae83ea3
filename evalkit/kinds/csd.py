"""Competitive Swiss-System Dynamics as a task: a score table and ordered rounds in a task YAML.

The same simulation as `evalkit swiss` (evalkit/tournaments/csd.py), run through the runner so it
gets a manifest, records (one per model) and a resumable run directory. No model is loaded.
"""

from __future__ import annotations

from pydantic import Field

from ..tasks import TaskConfig
from ..tournaments.csd import TIEBREAKS, plot_fsa, simulate
from ..tournaments.scores import NORMALIZATIONS, load_scores, select
from . import TaskKind


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

    def run(self, samples, ctx) -> None:
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
        c = self.config
        keys = [str(t) for t in sorted(c.elims)]
        entries, per_model = [], {}
        for r in records:
            drop = r["E_S"][keys[-1]] - r["E_S"][keys[0]] if len(keys) > 1 else None
            entries.append({"model": r["id"], "E_S": r["E_S"], "mc_stderr": r["mc_stderr"], "fsa_drop": drop})
            per_model[r["id"]] = {f"E_S_T{k}": {"value": r["E_S"][k], "stderr": r["mc_stderr"][k], "n": c.n_runs} for k in keys}
            per_model[r["id"]]["fsa_drop"] = {"value": drop, "n": c.n_runs}
        entries.sort(key=lambda e: (-e["E_S"][keys[-1]], e["model"]))
        return {
            "metrics": {"n_models": {"value": len(records), "n": len(records)}, "n_rounds": {"value": len(c.rounds), "n": len(c.rounds)},
                        "n_runs": {"value": c.n_runs, "n": c.n_runs}},
            "breakdown": {"model": per_model},
            "entries": entries, "n_runs": c.n_runs, "elims": [int(k) for k in keys], "rounds": c.rounds,
            "tiebreak": c.tiebreak, "normalize": c.normalize,
        }

    def write_artifacts(self, out, summary, records) -> None:
        plot_fsa(summary, out)
