"""Prompt-sensitivity statistics: POSIX (label-free) and the label-based spreads computed from one
instance x variant correctness matrix (HELM worst case, PromptBench PDR, ProSA PSS, CPS)."""

from __future__ import annotations

import warnings

import numpy as np

from .metrics import percentile_interval, resamples


def psi(logprobs, lengths) -> float:
    """POSIX's prompt sensitivity of one prompt set (Chatterjee et al. 2024, eq. 1):

        psi = 1/(N(N-1)) * sum_i sum_j (1/L_{y_j}) |log P(y_j | x_i) - log P(y_j | x_j)|

    `logprobs[i][j]` = log P(y_j | x_i): row = prompt, column = response; `lengths[j]` = L_{y_j},
    the true token length of the greedy response y_j. Two bugs of the reference implementation
    (POSIX commit 8e73401) are not copied: it compares a different response under the same prompt,
    |M[j][i] - M[j][j]| (transposed), and divides by max_new_tokens instead of L_{y_j}.
    An empty response (L = 0: immediate end of sequence with the EOS not scored, `include_eos: false`)
    has no per-token change to measure: its column is left out and the mean is taken over the remaining N(N-1)-style pairs.
    """
    m = np.asarray(logprobs, dtype=float)
    lengths = np.asarray(lengths, dtype=float)
    n = len(lengths)
    if m.shape != (n, n) or n < 2:
        raise ValueError(f"need an N x N matrix with N >= 2, got {m.shape}")
    valid = lengths > 0
    if not valid.any():
        return float("nan")
    terms = np.abs(m - np.diag(m)[None, :]) / np.where(valid, lengths, 1.0)[None, :]
    return float(terms[:, valid].sum() / (n - 1) / valid.sum())


def bootstrap_ci(values, stat=np.mean, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile 95% interval of stat over rows resampled with replacement (vectorised)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    idx = resamples(len(x), n_boot, seed)
    return percentile_interval(np.array([stat(x[i]) for i in idx]) if stat is not np.mean else x[idx].mean(axis=1))


def spread_interval(c, n_boot: int = 2000, seed: int = 0, point: float | None = None) -> tuple[float, float]:
    """95% interval for the true spread max_k p_k - min_k p_k of the columns' accuracies (rows: examples,
    columns: formats or variants, NaN: not evaluated), valid although the two extreme columns are picked
    on the same data.

    The percentile bootstrap of max - min is not: resampling re-selects the extremes, so it sits above
    the point estimate (median 0.15 against 0.075 in the audit). Instead a simultaneous band for every
    paired difference: with e_k = acc*_k - acc_k the resampled deviations (examples resampled jointly,
    so the pairing is kept), q = the 95% quantile of max_k e_k - min_k e_k bounds every
    |(acc_i - acc_j) - (p_i - p_j)| at once, hence the spread of any data-chosen pair and the max - min
    itself lie within `point` ± q (point: the observed max - min unless given), clipped to [0, 1]."""
    x = np.asarray(c, dtype=float)
    if len(x) < 2 or x.shape[1] < 2:
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        acc = np.nanmean(x, axis=0)
        idx = resamples(len(x), n_boot, seed)
        dev = np.stack([np.nanmean(x[i], axis=0) for i in idx]) - acc
        width = dev.max(axis=1) - dev.min(axis=1) if not np.isnan(dev).any() else np.nanmax(dev, axis=1) - np.nanmin(dev, axis=1)
    point = float(np.nanmax(acc) - np.nanmin(acc)) if point is None else float(point)
    q = float(np.nanpercentile(width, 95))
    return max(0.0, point - q), min(1.0, point + q)


def mean_with_bootstrap(values, n_boot: int = 2000, seed: int = 0) -> dict:
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return {"value": float("nan"), "n": 0}
    lo, hi = bootstrap_ci(x, n_boot=n_boot, seed=seed)
    se = float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")
    return {"value": float(x.mean()), "stderr": se, "ci_low": lo, "ci_high": hi, "n": int(len(x))}


# --- label-based: C[instance, variant] in {0, 1}, column 0 = the original prompt, NaN = no such variant ---
def accuracy_mean(c):
    return float(np.nanmean(c))


def accuracy_worst(c):
    """HELM robustness: per instance the worst over the original and all its variants, averaged."""
    return float(np.nanmean(np.nanmin(c, axis=1)))


def variant_accuracies(c):
    return np.nanmean(c, axis=0)


def accuracy_spread(c):
    acc = variant_accuracies(c)
    return float(np.nanmax(acc) - np.nanmin(acc))


def performance_drop_rate(c):
    """PromptBench PDR = 1 - sum M(perturbed) / sum M(original), over the perturbed variants."""
    orig = np.nanmean(c[:, 0])
    return float(1.0 - np.nanmean(c[:, 1:]) / orig) if orig > 0 else float("nan")


def pss_per_instance(c):
    """ProSA: S_i = sum_{p<q} |Y_p - Y_q| / C(|P|, 2) over the instance's variants."""
    out = []
    for row in np.asarray(c, dtype=float):
        y = row[~np.isnan(row)]
        k = len(y)
        out.append(np.abs(y[:, None] - y[None, :]).sum() / 2 / (k * (k - 1) / 2) if k > 1 else np.nan)
    return np.array(out)


def prompt_sensitivity_score(c):
    return float(np.nanmean(pss_per_instance(c)))


def cps(c):
    """Combined Performance Score (Mizrahi et al. 2024): (1 - (MaxP - AvgP)) * MaxP over variants."""
    acc = variant_accuracies(c)
    maxp, avgp = float(np.nanmax(acc)), float(np.nanmean(acc))
    return (1.0 - (maxp - avgp)) * maxp


LABEL_METRICS = {
    "accuracy_mean": accuracy_mean,
    "accuracy_worst": accuracy_worst,
    "accuracy_spread": accuracy_spread,
    "pdr": performance_drop_rate,
    "pss": prompt_sensitivity_score,
    "cps": cps,
}


def label_metrics(c, n_boot: int = 2000, seed: int = 0) -> dict:
    """Each statistic with a bootstrap 95% interval over instances (rows)."""
    c = np.asarray(c, dtype=float)
    idx = resamples(len(c), n_boot, seed) if len(c) > 1 else None
    out = {}
    for name, fn in LABEL_METRICS.items():
        value = fn(c)
        entry = {"value": value, "n": int(len(c))}
        if idx is not None:
            with warnings.catch_warnings():  # resamples where a statistic is undefined (0/0) are dropped
                warnings.simplefilter("ignore", RuntimeWarning)
                boots = np.array([fn(c[i]) for i in idx])
            boots = boots[~np.isnan(boots)]
            if len(boots) and name == "accuracy_spread":  # max - min: the selection-valid interval, not percentiles
                entry["ci_low"], entry["ci_high"] = spread_interval(c, n_boot, seed)
            elif len(boots):
                lo, hi = percentile_interval(boots)
                entry.update(stderr=float(boots.std(ddof=1)), ci_low=lo, ci_high=hi)
        out[name] = entry
    return out


__all__ = ["psi", "bootstrap_ci", "spread_interval", "mean_with_bootstrap", "label_metrics", "LABEL_METRICS"]
