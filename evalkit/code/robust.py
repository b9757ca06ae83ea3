"""Robustness metrics of code generation under prompt mutations.

ReCode (Wang et al., arXiv 2212.10264; `run_robust.py`): for problem x with s perturbed variants and
n sampling slots per variant, slot j of every variant is paired with slot j of the nominal prompt.
- Robust Pass_s@k  = E_x[pass@k with c = #{j : slot j passes on all s variants}] (worst case)
- Robust Drop_s@k  = (Pass@k_nominal − RP_s@k) / Pass@k_nominal
- Robust Relative_s@k = RC⁻ + RC⁺, each the pass@k estimator applied to the count of slots whose
  outcome changed (−: nominal passes, some variant fails; +: nominal fails, some variant passes), the
  paper's definition: a change in either direction under any of the s perturbations. ReCode's
  `run_robust.py` (`calculate_metric(..., "relative")`) differs in RC⁺: it counts `nominal != worst`,
  with worst = "passes on all s variants", so a failing slot counts only when every variant passes.
  With one variant the two agree.
For a meaning-changing mutation (a lexical flip), a generation is scored by two oracles, the
original tests and the flipped task's tests: `adapted` (flipped only), `reused` (original only),
`broken` (neither), `indistinguishable` (both; the shipped flips remove inputs where the two tasks agree,
so this should be rare and signals weak tests).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .passk import pass_at_k


def robust_counts(nominal: np.ndarray, variants: np.ndarray) -> dict[str, int]:
    """Slot counts of one problem: nominal bool (n,), variants bool (s, n) paired by slot."""
    nominal, variants = np.asarray(nominal, bool), np.atleast_2d(np.asarray(variants, bool))
    if variants.shape[1] != nominal.shape[0]:
        raise ValueError(f"variants have {variants.shape[1]} slots, nominal has {nominal.shape[0]}")
    worst = variants.all(axis=0)
    return {"n": int(nominal.size), "nominal": int(nominal.sum()), "worst": int(worst.sum()),
            "minus": int((nominal & ~worst).sum()), "plus": int((~nominal & variants.any(axis=0)).sum())}


def robust_metrics(counts: Sequence[dict], k: int = 1) -> dict[str, np.ndarray]:
    """Per-problem values of pass@k, RP_s@k and RR_s@k (their means are the ReCode metrics; the
    per-problem values give their standard errors). RD_s@k is a ratio of means: see `robust_drop`."""
    p = lambda key: np.array([pass_at_k(c["n"], c[key], k) for c in counts])  # noqa: E731
    return {f"pass@{k}": p("nominal"), f"robust_pass@{k}": p("worst"), f"robust_relative@{k}": p("minus") + p("plus")}


def robust_drop(nominal_pass: np.ndarray, robust_pass: np.ndarray) -> float:
    """RD_s@k = (Pass@k − RP_s@k) / Pass@k over the same problems (undefined when Pass@k is 0)."""
    base = float(np.mean(nominal_pass))
    return (base - float(np.mean(robust_pass))) / base if base > 0 else float("nan")


OUTCOMES = ("adapted", "reused", "broken", "indistinguishable")


def two_oracle(passes_original: bool, passes_flipped: bool) -> str:
    if passes_flipped and not passes_original:
        return "adapted"
    if passes_original and not passes_flipped:
        return "reused"
    return "indistinguishable" if passes_original else "broken"
