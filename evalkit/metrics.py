"""Aggregates in the summary schema: {"value", "stderr", "ci_low", "ci_high", "n"}."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from .registry import METRICS

Z95 = 1.959963984540054


def mean_metric(values: Sequence[float], proportion: bool = False) -> dict:
    """Mean with its standard error (sample std, ddof=1, as lm-eval reports) and a 95% interval.

    For a proportion (0/1 values) the interval is Wilson's score interval (sane at p near 0 or 1
    and small n); otherwise the normal interval mean +- 1.96 se.
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n == 0:
        return {"value": float("nan"), "n": 0}
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    if proportion:
        if not np.isin(x, (0.0, 1.0)).all():
            raise ValueError("a proportion needs 0/1 values")
        lo, hi = wilson(mean, n)
    else:
        lo, hi = mean - Z95 * se, mean + Z95 * se
    return {"value": mean, "stderr": se, "ci_low": lo, "ci_high": hi, "n": n}


# ---------------------------------------------------------------- the bootstrap
# Every bootstrap in evalkit draws its resamples here and reads its interval here. Not scipy.stats.bootstrap:
# several statistics share one draw (the leaderboard's paired bootstrap scores every model on the same
# resampled samples; a judge's confusion matrices come from one bincount over all replicates), and a
# replicate where a statistic is undefined (0/0) is dropped, which scipy's percentile method does not do.


def resamples(n: int, n_boot: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """(n_boot, n) row indices drawn with replacement, from a seed or from a generator already in use."""
    g = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return g.integers(0, n, size=(n_boot, n))


def percentile_interval(stats, axis: int = 0) -> tuple:
    """The percentile 95% interval (2.5th and 97.5th percentiles) of bootstrap replicates along `axis`,
    undefined (NaN) replicates left out; NaN where none is defined."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all replicates undefined: NaN, said by the caller
        lo, hi = np.nanpercentile(np.asarray(stats, dtype=float), [2.5, 97.5], axis=axis)
    return (float(lo), float(hi)) if np.ndim(lo) == 0 else (lo, hi)


def wilson(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


# ---------------------------------------------------------------- metric metadata
# Every metric a kind writes has a direction (True: higher is better, False: lower is better, None: a
# count or diagnostic that ranks nothing) and a unit. Rankings (the leaderboard, CSD) read the direction
# from here, never from a guess; a plugin metric is declared with register_metric.


@dataclass(frozen=True)
class MetricInfo:
    higher_is_better: bool | None
    unit: str


def register_metric(name: str, higher_is_better: bool | None, unit: str) -> None:
    """Declare a metric's direction and unit. `name` may hold `{k}` for a family (pass@{k} matches pass@1,
    pass@10). Another package declares its metrics as `evalkit.metrics` entry points naming a MetricInfo."""
    METRICS.register(name, MetricInfo(higher_is_better, unit))


@lru_cache(maxsize=None)
def _family(name: str) -> re.Pattern:
    return re.compile(re.escape(name).replace(re.escape("{k}"), r"\d+") + "$")


def metric_info(name: str) -> MetricInfo:
    """The declared direction and unit; lm-eval's `metric,filter` names resolve by their metric part.
    Undeclared names: direction None (never ranked), unit None."""
    base = name.partition(",")[0]
    if base in METRICS:
        return METRICS.get(base)
    for family in METRICS.names():
        if "{k}" in family and _family(family).match(base):
            return METRICS.get(family)
    return MetricInfo(None, None)


def annotate(metrics: dict) -> dict:
    """The same metrics, each with its `higher_is_better` and `unit` (what summary.json carries)."""
    out = {}
    for name, m in metrics.items():
        info = metric_info(name)
        out[name] = {**m, "higher_is_better": info.higher_is_better, "unit": info.unit} if isinstance(m, dict) and "value" in m else m
    return out


for _names, _hib, _unit in [
    # accuracies and rates of good outcomes
    (("acc", "acc_norm", "accuracy", "accuracy_mean", "accuracy_worst", "acc_min", "acc_max", "acc_mean", "acc_default",
      "macro_precision", "macro_recall", "macro_f1", "position_consistency", "agreement_with_tie", "agreement_without_tie",
      "solved_rate", "adapted", "win_rate", "win_rate_vs_sft", "exact_match", "f1", "mcc", "bleu", "rouge1", "rougeL"),
     True, "proportion"),
    (("pass@{k}", "robust_pass@{k}"), True, "proportion"),
    (("cohen_kappa",), True, "kappa"),
    (("cps",), True, "proportion"),
    (("bt_rating", "elo_rating"), True, "rating"),
    (("E_S",), True, "expected score"),
    (("reward",), True, "reward"),
    # sensitivity, drops, failures: lower is better
    (("posix",), False, "index"),
    (("accuracy_spread", "spread", "pdr", "pss", "parse_failure_rate", "reused", "broken", "visible_pass_hidden_fail",
      "robust_drop@{k}", "robust_relative@{k}", "fsa_drop"), False, "proportion"),
    (("tokens_per_solved",), False, "tokens"),
    (("perplexity", "word_perplexity", "byte_perplexity"), False, "perplexity"),
    (("bits_per_byte",), False, "bits"),
    # counts and diagnostics: no direction
    (("n_prompt_sets", "n_formats", "n_evaluations", "judge_calls", "forwarded_tokens_shared", "forwarded_tokens_unshared",
      "n_models", "n_rounds", "n_runs", "matches_per_run_T{k}", "n_trials"), None, "count"),
    (("mean_turns",), None, "turns"),
    (("indistinguishable", "resample_baseline_pass"), None, "proportion"),
    (("kl_to_sft",), None, "nats"),
    (("mean_length",), None, "tokens"),
]:
    for _n in _names:
        register_metric(_n, _hib, _unit)
