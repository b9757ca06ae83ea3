"""Plots shared by the tournament commands (matplotlib, Agg, PNG)."""

from __future__ import annotations

from pathlib import Path


def ratings_plot(entries: list[dict], path: Path, title: str, xlabel: str = "rating") -> None:
    """Horizontal point-and-interval chart, best at the top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(entries, key=lambda e: e["score"])
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(rows) + 1.2))
    y = range(len(rows))
    ax.errorbar([e["score"] for e in rows], y, xerr=[[e["score"] - e["ci_low"] for e in rows], [e["ci_high"] - e["score"] for e in rows]],
                fmt="o", capsize=3)
    ax.set_yticks(list(y), [e["model"] for e in rows], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
