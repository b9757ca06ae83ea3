"""Aggregates in the summary schema: {"value", "stderr", "ci_low", "ci_high", "n"}."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

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


def wilson(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
