"""Coverage of evalkit's 95% intervals on synthetic data (issue 16): Bradley–Terry ratings from
small tournaments, and the FormatSpread spread. Prints the empirical coverage per setting.

    .venv/bin/python scripts/ci_coverage.py [--reps 400]

tests/test_ratings.py and tests/test_formatspread.py run small versions of the same simulations."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd


def bt_battles(beta: np.ndarray, n: int, rng, tie_rate: float = 0.0) -> pd.DataFrame:
    """n battles between random pairs, P(i beats j) = σ(ln10 (β_i − β_j)); a share of them are ties."""
    from evalkit.tournaments.ratings import LN10

    m = len(beta)
    i = rng.integers(0, m, n)
    j = (i + rng.integers(1, m, n)) % m
    win = rng.random(n) < 1 / (1 + np.exp(-LN10 * (beta[i] - beta[j])))
    winner = np.where(rng.random(n) < tie_rate, "tie", np.where(win, "model_a", "model_b"))
    return pd.DataFrame({"model_a": [f"m{k}" for k in i], "model_b": [f"m{k}" for k in j], "winner": winner})


def bt_coverage(beta, n_battles, reps, n_boot=200, seed=0, **kw) -> tuple[float, float]:
    """(share of 95% intervals that hold the true centred rating, mean degenerate_resamples)."""
    from evalkit.tournaments.ratings import bradley_terry

    beta = np.asarray(beta, float) - np.mean(beta)
    truth = pd.Series(400 * beta + 1000, index=[f"m{k}" for k in range(len(beta))])
    rng = np.random.default_rng(seed)
    hit = tot = 0
    degen = []
    for r in range(reps):
        df = bt_battles(beta, n_battles, rng, **kw)
        if df[["model_a", "model_b"]].stack().nunique() < len(beta):
            continue
        est = bradley_terry(df, n_boot=n_boot, seed=r).set_index("model")
        t = truth[est.index]
        hit += int(((est["ci_low"] <= t) & (t <= est["ci_high"])).sum())
        tot += len(t)
        degen.append(est["degenerate_resamples"].iloc[0])
    return hit / tot, float(np.mean(degen))


def spread_coverage(acc, n_examples, reps, n_boot=500, seed=0) -> float:
    """Share of 95% spread intervals that hold the true spread max(acc) − min(acc)."""
    from evalkit.sensitivity import spread_interval

    acc = np.asarray(acc, float)
    rng = np.random.default_rng(seed)
    hit = 0
    for r in range(reps):
        m = (rng.random((n_examples, len(acc))) < acc).astype(float)
        lo, hi = spread_interval(m, n_boot, seed=r)
        hit += int(lo <= acc.max() - acc.min() <= hi)
    return hit / reps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=400)
    reps = ap.parse_args().reps
    for beta, n in [([0.0, 0.0, 0.0, 0.0], 24), ([-0.3, -0.1, 0.1, 0.3], 24), ([-0.3, -0.1, 0.1, 0.3], 60),
                    ([-0.5, -0.2, 0.0, 0.2, 0.5], 40), ([-0.5, -0.2, 0.0, 0.2, 0.5], 200), ([-0.4, 0.0, 0.4], 12)]:
        cov, degen = bt_coverage(beta, n, reps)
        print(f"BT  beta={beta} battles={n}: coverage {cov:.3f}, mean degenerate_resamples {degen:.2f}")
    for acc, n in [([0.5] * 20, 40), ([0.3, 0.5, 0.5, 0.6, 0.7], 40), (np.linspace(0.3, 0.7, 20), 100), ([0.6] * 10 + [0.4], 60)]:
        print(f"spread acc={np.round(acc, 2).tolist()} examples={n}: coverage {spread_coverage(acc, n, reps):.3f}")


if __name__ == "__main__":
    main()
