"""How far a judge can be trusted, measured on labelled pairs (gold in {A, B, tie}).

Conventions (documented because the peers differ):
- `accuracy` counts an unparsed verdict as wrong (n = every pair); the `agreement_*` metrics follow
  FastChat and drop pairs whose judgment failed (n = parsed pairs), `agreement_without_tie` also drops
  pairs where the gold or the verdict is a tie.
- Macro precision/recall/F1 are sklearn's `average="macro"` (the mean of per-class F1, PandaLM's
  metric) over the classes present in gold or predictions; an unparsed verdict is a miss for the
  gold class's recall and is not a class of its own.
- Cohen's kappa treats "unparsed" as a fourth judge category, so it agrees with `accuracy` on n.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..metrics import mean_metric, percentile_interval, resamples

CLASSES = ("A", "B", "tie")
_CODE = {"A": 0, "B": 1, "tie": 2, None: 3}


def _codes(labels: Sequence[str | None]) -> np.ndarray:
    return np.array([_CODE[x] for x in labels], dtype=np.int64)


def confusion(gold: Sequence[str], pred: Sequence[str | None]) -> np.ndarray:
    """4×4 counts, rows gold (A, B, tie, -), columns verdict (A, B, tie, unparsed)."""
    m = np.zeros((4, 4), dtype=np.int64)
    np.add.at(m, (_codes(gold), _codes(pred)), 1)
    return m


def macro_prf(m: np.ndarray) -> tuple[float, float, float]:
    present = [c for c in range(3) if m[c, :].sum() + m[:, c].sum() > 0]
    if not present:
        return float("nan"), float("nan"), float("nan")
    p, r, f = [], [], []
    for c in present:
        tp, pp, ap = m[c, c], m[:, c].sum(), m[c, :].sum()
        pc = tp / pp if pp else 0.0
        rc = tp / ap if ap else 0.0
        p.append(pc)
        r.append(rc)
        f.append(2 * pc * rc / (pc + rc) if pc + rc else 0.0)
    return float(np.mean(p)), float(np.mean(r)), float(np.mean(f))


def cohen_kappa(m: np.ndarray) -> float:
    n = m.sum()
    if n == 0:
        return float("nan")
    po = np.trace(m) / n
    pe = float((m.sum(axis=1) / n) @ (m.sum(axis=0) / n))
    return float((po - pe) / (1 - pe)) if pe < 1 else float("nan")


def _bootstrap(gold: np.ndarray, pred: np.ndarray, stat, n_boot: int, seed: int) -> tuple[float, float]:
    """Percentile CI of stat(confusion) over pairs resampled with replacement."""
    n = len(gold)
    if n < 2:
        return float("nan"), float("nan")
    idx = resamples(n, n_boot, seed)
    flat = (np.arange(n_boot)[:, None] * 16 + gold[idx] * 4 + pred[idx]).ravel()
    mats = np.bincount(flat, minlength=n_boot * 16).reshape(n_boot, 4, 4)
    return percentile_interval([stat(mm) for mm in mats])


def judge_quality(gold: Sequence[str], pred: Sequence[str | None], consistent: Sequence[bool | None] = (),
                  n_games: int | None = None, n_unparsed_games: int | None = None, n_boot: int = 2000, seed: int = 0) -> dict:
    """The judge metrics of DESIGN.md §3, each {"value", ..., "n"}."""
    g, p = _codes(gold), _codes(pred)
    m = confusion(gold, pred)
    n = len(g)
    metrics = {"accuracy": mean_metric((g == p).astype(float), proportion=True)}
    prf = macro_prf(m)
    for i, name in enumerate(("macro_precision", "macro_recall", "macro_f1")):
        lo, hi = _bootstrap(g, p, lambda mm, i=i: macro_prf(mm)[i], n_boot, seed)
        metrics[name] = {"value": prf[i], "ci_low": lo, "ci_high": hi, "n": n}
    lo, hi = _bootstrap(g, p, cohen_kappa, n_boot, seed)
    metrics["cohen_kappa"] = {"value": cohen_kappa(m), "ci_low": lo, "ci_high": hi, "n": n}
    cons = [float(c) for c in consistent if c is not None]
    metrics["position_consistency"] = mean_metric(cons, proportion=True)
    if n_games is not None:
        metrics["parse_failure_rate"] = mean_metric([1.0] * n_unparsed_games + [0.0] * (n_games - n_unparsed_games), proportion=True)
    parsed = p != 3
    metrics["agreement_with_tie"] = mean_metric((g[parsed] == p[parsed]).astype(float), proportion=True)
    no_tie = parsed & (g != 2) & (p != 2)
    metrics["agreement_without_tie"] = mean_metric((g[no_tie] == p[no_tie]).astype(float), proportion=True)
    return metrics
