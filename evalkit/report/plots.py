"""The report's images: PNGs the commands wrote, checked and inlined as data URIs, and the ones that are
missing drawn again from the stored summaries by the same plotting code that wrote them in the first
place (plus the format-spread distribution, which only the report draws)."""

from __future__ import annotations

import base64
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..readers import iter_jsonl
from .sources import Source

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Image:
    name: str  # file stem: 'posix_by_perturbation', 'fsa_scatter', ...
    png: bytes
    origin: str  # 'stored' (read from the results) or 'drawn' (by the report, from the summary)
    width: int
    height: int

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the IHDR chunk, or None when the bytes are not a PNG."""
    if len(data) < 33 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", data[16:24])
    return (w, h) if w > 0 and h > 0 else None


def read_png(path: Path, name: str | None = None, origin: str = "stored") -> Image | None:
    """The file as an Image; None when it is missing or not a valid PNG (then the caller draws it)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    size = png_size(data)
    if size is None:
        return None
    return Image(name or path.stem, data, origin, *size)


def _records(src: Source) -> list[dict]:
    path = src.dir / "records.jsonl"
    return [doc for _, _, doc in iter_jsonl(path)] if path.is_file() else []


class DrawError(Exception):
    """A missing plot could not be drawn from the stored data; the report says so where it would be."""


def _draw(src: Source, what: str, write) -> dict[str, Image]:
    """Run a writer that saves PNGs into a directory; return the PNGs it wrote, by stem."""
    with tempfile.TemporaryDirectory(prefix="evalkit-report-") as tmp:
        try:
            write(Path(tmp))
        except KeyError as e:
            raise DrawError(f"could not draw {what} from {src.path}: field {e} is missing") from None
        except (TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError) as e:
            raise DrawError(f"could not draw {what} from {src.path}: {type(e).__name__}: {e}") from None
        out = {}
        for p in sorted(Path(tmp).rglob("*.png")):
            img = read_png(p, origin="drawn")
            if img is not None:
                out[img.name] = img
        return out


def redraw_run_plots(src: Source) -> dict[str, Image]:
    """What the run's task kind writes next to summary.json, drawn again by the kind's own
    `write_artifacts` from the stored summary and records (the kinds' plots read only those)."""
    from ..kinds import KINDS, kind_class

    if src.kind not in KINDS:
        return {}
    cls = kind_class(src.kind)
    # write_artifacts(out, summary, records) needs no task spec: call it on a bare instance
    return _draw(src, f"the {src.kind} plots", lambda tmp: cls.write_artifacts(object.__new__(cls), tmp, src.doc, _records(src)))


def redraw_csd(src: Source) -> dict[str, Image]:
    from ..tournaments.csd import plot_fsa

    return _draw(src, "the CSD plots", lambda tmp: plot_fsa(src.doc, tmp))


def redraw_ratings(src: Source, entries: list[dict], title: str, xlabel: str = "rating") -> dict[str, Image]:
    from ..tournaments.plots import ratings_plot

    return _draw(src, "the ratings plot", lambda tmp: ratings_plot(entries, tmp / "ratings.png", title, xlabel=xlabel))


def redraw_sweep(src: Source) -> dict[str, Image]:
    """Score vs KL / vs length / distribution from the summary's per-trial breakdown (keys
    '<method>/tNNN', as `evalkit sweep` writes them)."""
    from ..tuning.report import plots

    params = {
        f"{t.get('method')}/t{int(t.get('trial', 0)):03d}": t.get("params") or {}
        for t in src.get("trials", list, [])
        if isinstance(t, dict)
    }
    trials = [
        {"method": key.split("/", 1)[0], "metrics": metrics, "params": params.get(key, {}), "swept": []}
        for key, metrics in src.get("breakdown.trial", dict, {}).items()
    ]
    if not trials:
        return {}
    return _draw(src, "the sweep plots", lambda tmp: plots(trials, str(src.get("score", str, "score")), tmp))


def formatspread_distribution(src: Source) -> Image | None:
    """Per-format accuracies: a histogram over formats above a strip of the formats themselves, the
    best, worst and default format marked, the mean over fully evaluated formats as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fmts = src.get("breakdown.format", dict, {})
    rows = [
        (fid, m["accuracy"])
        for fid, m in fmts.items()
        if isinstance(m, dict) and isinstance(m.get("accuracy"), dict) and m["accuracy"].get("value") is not None
    ]
    if not rows:
        return None
    ids = [fid for fid, _ in rows]
    acc = np.array([m["value"] for _, m in rows], dtype=float)
    n = np.array([m.get("n") or 0 for _, m in rows])
    best = src.get("best_format", str, None)
    worst = src.get("worst_format", str, None)
    best = best if best in ids else ids[int(np.argmax(acc))]
    worst = worst if worst in ids else ids[int(np.argmin(acc))]
    default = next(iter(src.get("formats", dict, {}) or {}), None)
    full = n == n.max()

    fig, (top, strip) = plt.subplots(2, 1, figsize=(7.5, 3.8), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    bins = np.linspace(0, 1, 21)
    top.hist(acc, bins=bins, color="#8da0cb", edgecolor="white")
    top.set_ylabel("formats")
    mean = src.get("metrics.acc_mean.value", (int, float), None)
    if mean is not None:
        top.axvline(mean, color="#555", ls="--", lw=1, label=f"mean {mean:.3f}")
    spread = src.get("metrics.spread.value", (int, float), None)
    title = f"{src.task} · {src.model}: accuracy over {len(acc)} prompt formats".replace("$", r"\$")  # no mathtext
    top.set_title(title + (f" (spread {spread:.3f})" if spread is not None else ""), fontsize=9)
    # deterministic jitter: formats with the same accuracy fan out vertically
    order = np.lexsort((np.arange(len(acc)), acc))
    y = np.zeros(len(acc))
    for rank, k in enumerate(order):
        y[k] = ((rank % 7) - 3) / 10
    strip.scatter(acc[full], y[full], s=14, color="#4c72b0", label="format")
    if (~full).any():
        strip.scatter(acc[~full], y[~full], s=14, facecolors="none", edgecolors="#4c72b0", label="partly evaluated")
    marks = [(best, "best", "#2ca02c", "^"), (worst, "worst", "#d62728", "v")]
    if default in ids:
        marks.append((default, "default", "#333333", "D"))
    for fid, label, color, marker in marks:
        k = ids.index(fid)
        strip.scatter([acc[k]], [y[k]], s=70, color=color, marker=marker, zorder=3, label=f"{label}: {acc[k]:.3f}")
        if label != "default":
            top.axvline(acc[k], color=color, lw=1.2)
    strip.set_yticks([])
    strip.set_ylim(-0.5, 0.5)
    strip.set_xlim(-0.02, 1.02)
    strip.set_xlabel("accuracy of one prompt format")
    strip.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.55), frameon=False)
    if mean is not None:
        top.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    with tempfile.TemporaryDirectory(prefix="evalkit-report-") as tmp:
        path = Path(tmp) / "formatspread_distribution.png"
        fig.savefig(path, dpi=110, metadata={"Software": None})
        plt.close(fig)
        return read_png(path, origin="drawn")
