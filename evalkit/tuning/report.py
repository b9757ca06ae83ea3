"""Robustness across the grid: the distribution of a method's score over all its trials (the *PO
analysis lens: methods are similar at their best and differ away from it), the best configuration's
test-seed result with a prompt-clustered bootstrap interval, trials.csv and the plots."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..metrics import percentile_interval, resamples

STATS = ("mean", "median", "iqr", "best", "worst")


def grid_stats(scores: Sequence[float | None]) -> dict[str, dict]:
    """mean, median, iqr (q75 − q25, linear interpolation), best (max), worst (min) of the finite scores,
    each as {"value", "n"}; `n_undefined` counts trials whose score is undefined."""
    x = np.asarray([s for s in scores if s is not None and math.isfinite(s)], dtype=float)
    n = int(x.size)
    out: dict[str, dict] = {}
    if n == 0:
        out = {k: {"value": float("nan"), "n": 0} for k in STATS}
    else:
        q25, q75 = np.percentile(x, [25, 75])
        vals = {"mean": x.mean(), "median": np.median(x), "iqr": q75 - q25, "best": x.max(), "worst": x.min()}
        out = {k: {"value": float(v), "n": n} for k, v in vals.items()}
        if n > 1:
            out["mean"]["stderr"] = float(x.std(ddof=1) / math.sqrt(n))
    out["n_undefined"] = {"value": float(len(scores) - n), "n": len(scores)}
    return out


def clustered_mean(per_seed: Sequence[dict[str, float | None]], n_boot: int = 2000, seed: int = 0) -> dict:
    """Pooled mean of per-prompt outcomes over several seeds, with a bootstrap over prompts (each
    prompt's outcomes across seeds resampled together: they share the prompt). `per_seed` is one
    {prompt id: outcome or None} per seed."""
    ids = sorted({k for d in per_seed for k in d})
    sums = np.array([sum(d[k] for d in per_seed if d.get(k) is not None) for k in ids], dtype=float)
    counts = np.array([sum(1 for d in per_seed if d.get(k) is not None) for k in ids], dtype=float)
    keep = counts > 0
    sums, counts = sums[keep], counts[keep]
    n = int(counts.sum())
    if n == 0:
        return {"value": float("nan"), "n": 0}
    value = float(sums.sum() / n)
    out = {"value": value, "n": n, "n_prompts": int(keep.sum()), "n_seeds": len(per_seed)}
    if len(sums) > 1:
        idx = resamples(len(sums), n_boot, seed)
        boot = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
        lo, hi = percentile_interval(boot)
        out.update(stderr=float(boot.std(ddof=1)), ci_low=lo, ci_high=hi)
    return out


def _value(m: Any) -> float:
    if isinstance(m, dict):
        m = m.get("value")
    return float("nan") if m is None else float(m)


def plots(trials: list[dict], score: str, out: Path) -> list[str]:
    """score vs KL, score vs length, score distribution per method, score vs each method's swept
    hyperparameters; PNG files (matplotlib Agg). Returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    methods = list(dict.fromkeys(t["method"] for t in trials))
    colors = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(methods)}
    written = []

    def scatter(xkey: str, xlabel: str, fname: str):
        fig, ax = plt.subplots(figsize=(6, 4.2))
        for m in methods:
            pts = [(_value(t["metrics"].get(xkey)), _value(t["metrics"].get("score"))) for t in trials if t["method"] == m]
            pts = [(x, y) for x, y in pts if math.isfinite(x) and math.isfinite(y)]
            if pts:
                ax.scatter(*zip(*pts), label=m, color=colors[m], alpha=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(score)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        fig.tight_layout()
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        written.append(fname)

    scatter("kl_to_sft", "KL(π‖π_SFT) per sequence (nats)", "score_vs_kl.png")
    scatter("mean_length", "mean response length (tokens)", "score_vs_length.png")

    fig, ax = plt.subplots(figsize=(6, 4.2))
    data = [[_value(t["metrics"].get("score")) for t in trials if t["method"] == m] for m in methods]
    data = [[v for v in d if math.isfinite(v)] for d in data]
    if any(data):
        ax.boxplot([d if d else [float("nan")] for d in data], showfliers=False)
        ax.set_xticks(range(1, len(methods) + 1), methods)
        for i, d in enumerate(data, 1):
            ax.scatter(np.full(len(d), i) + np.linspace(-0.08, 0.08, len(d)) if d else [], d, color=colors[methods[i - 1]], zorder=3)
    ax.set_ylabel(f"{score} over the grid")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "score_distribution.png", dpi=110)
    plt.close(fig)
    written.append("score_distribution.png")

    swept = [(m, k) for m in methods for k in sorted({k for t in trials if t["method"] == m for k in t.get("swept", [])})]
    if swept:
        fig, axes = plt.subplots(1, len(swept), figsize=(3.6 * len(swept), 3.4), squeeze=False)
        for ax, (m, k) in zip(axes[0], swept):
            pts = sorted((float(t["params"][k]), _value(t["metrics"].get("score"))) for t in trials if t["method"] == m)
            pts = [(x, y) for x, y in pts if math.isfinite(y)]
            if pts:
                ax.scatter(*zip(*pts), color=colors[m])
                if min(x for x, _ in pts) > 0 and max(x for x, _ in pts) / min(x for x, _ in pts) >= 10:
                    ax.set_xscale("log")
            ax.set_title(m, fontsize=9)
            ax.set_xlabel(k)
            ax.set_ylabel(score)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "score_vs_hparams.png", dpi=110)
        plt.close(fig)
        written.append("score_vs_hparams.png")
    return written
