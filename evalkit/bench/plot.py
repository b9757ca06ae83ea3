"""The landscape plot: throughput against the two most influential options (fANOVA order; the space's
first two when there is no importance yet), one point per trial, coloured by mean tokens/s; with one
option, tokens/s against it with the repeats' standard deviation as error bars."""

from __future__ import annotations

from pathlib import Path

from .space import Range, Space


def _axis(values: list, swept) -> tuple[list[float], list | None, bool]:
    """Positions of the values on an axis, category labels (None: numeric), log scale."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric:
        log = swept.log if isinstance(swept, Range) else (min(values) > 0 and max(values) / min(values) >= 10)
        return [float(v) for v in values], None, log
    cats = [v for v in (swept if isinstance(swept, list) else []) if v in values] or list(dict.fromkeys(map(str, values)))
    return [float(cats.index(v)) if v in cats else float(cats.index(str(v))) for v in values], cats, False


def _numeric_ticks(axis, set_scale, log: bool, swept) -> None:
    """Log scale where the values span a decade; listed values as the ticks, written plainly."""
    from matplotlib.ticker import NullLocator

    if log:
        set_scale("log")
    if isinstance(swept, list):
        axis.set_ticks([float(v) for v in swept], [str(v) for v in swept])
        axis.set_minor_locator(NullLocator())


def landscape(doc: dict, space: Space, ranked: list[str], path: Path, title: str) -> bool:
    """Draw it to `path`; False when no trial has a value for the axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = (ranked + [k for k in space.swept if k not in ranked])[:2]
    rows = [t for t in doc["trials"] if all(k in t["params"] for k in axes)]
    if not rows:
        return False
    imp = doc["importance"]["values"]
    label = lambda k: f"{k} (importance {imp[k]:.2f})" if k in imp else k  # noqa: E731
    ok = [t for t in rows if t["state"] == "complete"]
    bad = [t for t in rows if t["state"] != "complete"]
    best = (doc.get("best") or {}).get("number")
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    xs, xcats, xlog = _axis([t["params"][axes[0]] for t in rows], space.swept[axes[0]])
    # points that share a category would hide each other: a small deterministic spread around it
    jit = lambda i, cats: 0.0 if cats is None else 0.12 * ((i % 5) - 2)  # noqa: E731
    if len(axes) == 2:
        ys, ycats, ylog = _axis([t["params"][axes[1]] for t in rows], space.swept[axes[1]])
        pos = {t["number"]: (xs[i] + jit(i, xcats), ys[i] + jit(i + 2, ycats)) for i, t in enumerate(rows)}
        if ok:
            sc = ax.scatter([pos[t["number"]][0] for t in ok], [pos[t["number"]][1] for t in ok],
                            c=[t["result"]["tokens_per_s"]["mean"] for t in ok], cmap="viridis", s=70, edgecolors="k")
            fig.colorbar(sc, ax=ax, label="tokens/s (mean over repeats)")
        if best is not None and best in pos:
            ax.scatter(*pos[best], marker="*", s=320, facecolors="none", edgecolors="red", linewidths=1.5, label="best")
        ax.set_ylabel(label(axes[1]))
        if ycats is not None:
            ax.set_yticks(range(len(ycats)), [str(c) for c in ycats])
        else:
            _numeric_ticks(ax.yaxis, ax.set_yscale, ylog, space.swept[axes[1]])
    else:
        pos = {t["number"]: (xs[i] + jit(i, xcats), 0.0) for i, t in enumerate(rows)}
        for t in ok:
            s = t["result"]["tokens_per_s"]
            pos[t["number"]] = (pos[t["number"]][0], s["mean"])
            ax.errorbar(pos[t["number"]][0], s["mean"], yerr=s["std"] or 0.0, fmt="o", color="tab:blue", capsize=3)
        if best is not None and best in pos:
            ax.scatter(*pos[best], marker="*", s=320, facecolors="none", edgecolors="red", linewidths=1.5, label="best")
        ax.set_ylabel("tokens/s (mean ± sd over repeats)")
    if bad:
        ax.scatter([pos[t["number"]][0] for t in bad], [pos[t["number"]][1] for t in bad], marker="x", c="grey", s=60,
                   label="infeasible")
    ax.set_xlabel(label(axes[0]))
    if xcats is not None:
        ax.set_xticks(range(len(xcats)), [str(c) for c in xcats])
    else:
        _numeric_ticks(ax.xaxis, ax.set_xscale, xlog, space.swept[axes[0]])
    d = (doc.get("default") or {}).get("result")
    ax.set_title(title + (f"\ndefaults: {d['tokens_per_s']['mean']:.1f} tokens/s" if d else ""), fontsize=9)
    if best is not None or bad:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True
