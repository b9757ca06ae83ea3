"""Monte Carlo KL(π‖π_SFT) from policy samples (research/preference_sweeps.md §4).

For samples y_i ~ π(·|x_i) (temperature 1, no top-p/top-k), both models score the sampled tokens by
teacher forcing; r_i = Σ_t [log π(y_t|x,y_<t) − log π_SFT(y_t|x,y_<t)] is an unbiased estimate of the
sequence-level KL(π‖π_SFT)(x), so the mean of r_i estimates the prompt-averaged sequence KL.

Per token: KL per generated token = E[r] / E[|y|], estimated by the ratio Σr_i / Σ|y_i| with the
delta-method standard error sqrt(Σ(r_i − R·n_i)² / (N(N−1))) / mean(n) (the usual ratio-estimator SE).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..metrics import Z95


def kl_estimate(logp_policy: Sequence[float], logp_ref: Sequence[float], n_tokens: Sequence[int]) -> dict:
    """KL(π‖π_ref) from per-sample summed log-probs of policy samples under both models.

    Returns {"seq": {value, stderr, ci_low, ci_high, n}, "token": {...}}: per sequence (mean of r_i) and
    per token (Σr/Σn). NaN values with n=0 when there are no samples.
    """
    r = np.asarray(logp_policy, dtype=float) - np.asarray(logp_ref, dtype=float)
    n = np.asarray(n_tokens, dtype=float)
    if r.shape != n.shape:
        raise ValueError("logp_policy, logp_ref and n_tokens need the same length")
    N = int(r.size)
    if N == 0:
        empty = {"value": float("nan"), "n": 0}
        return {"seq": dict(empty), "token": dict(empty)}
    seq_mean = float(r.mean())
    seq_se = float(r.std(ddof=1) / math.sqrt(N)) if N > 1 else float("nan")
    total = float(n.sum())
    if total > 0:
        ratio = float(r.sum() / total)
        tok_se = float(math.sqrt(((r - ratio * n) ** 2).sum() / (N * (N - 1))) / n.mean()) if N > 1 else float("nan")
    else:
        ratio, tok_se = float("nan"), float("nan")
    return {
        "seq": {"value": seq_mean, "stderr": seq_se, "ci_low": seq_mean - Z95 * seq_se, "ci_high": seq_mean + Z95 * seq_se, "n": N},
        "token": {"value": ratio, "stderr": tok_se, "ci_low": ratio - Z95 * tok_se, "ci_high": ratio + Z95 * tok_se, "n": N},
    }
