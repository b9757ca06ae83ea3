"""`evalkit report`: one self-contained HTML file (inline CSS, images as data URIs, no script, nothing
fetched) built only from stored result files: run manifests, a metrics table per task with CIs and
breakdowns, the plots the commands wrote (missing ones drawn again from the summaries), the leaderboard.

    from evalkit.report import build_report, write_report
    html = build_report(["results/"])            # str
    write_report(["results/"], "report.html")    # Path

The same files always give the same bytes (no clock, sorted inputs)."""

from __future__ import annotations

from pathlib import Path

from ..errors import EvalkitError
from .sources import Source, discover

__all__ = ["build_report", "write_report", "discover", "Source"]


def build_report(paths, title: str = "evalkit report") -> str:
    """The report's HTML for result files, directories (searched recursively) or globs. A leaderboard
    JSON among them is shown as given; without one, a leaderboard is built from the runs and rankings
    (`evalkit.leaderboard.build_leaderboard`) when there is a ranking or more than one model."""
    from .leaderboard import leaderboard_inputs
    from .render import render

    sources = discover(paths)
    boards = [(s, False) for s in sources if s.kind == "leaderboard"]
    if not boards:
        inputs = leaderboard_inputs(sources)
        if inputs:
            from ..leaderboard import build_leaderboard

            doc = build_leaderboard(inputs)
            boards = [(Source("leaderboard", Path("leaderboard (built from the inputs)"), doc), True)]
    return render([s for s in sources if s.kind != "leaderboard"], boards, title)


def write_report(paths, out, title: str = "evalkit report") -> Path:
    """build_report(paths) written to `out` (parent directories created); returns the path."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise EvalkitError(f"-o {out}: the report is an HTML file; give a path ending in .html")
    text = build_report(paths, title)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
