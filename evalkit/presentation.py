"""How `evalkit report` shows one sort of result document: its title, a one-line about, its plots and its
section. Every TaskKind is a Presentation (override the class attributes and methods below where the kind
has more to show); so are the report's documents that are no task kind's run (rankings, sweeps, bench
files, lm-eval results: evalkit/report/documents.py).

A kind that defines none of it (a plugin kind, say) is shown with its registered name as title, its
metrics table and breakdowns, its summary's own fields as a table, and no plot.

    class MyKind(TaskKind):
        title = "my kind"
        about = "What a run of it measures, in one line."
        figures = (("my_plot", "what my_plot.png shows"),)

        @staticmethod
        def plot(summary, records, out):  # writes out / "my_plot.png"
            ...

        @classmethod
        def report_section(cls, src):  # HTML from evalkit.report.html's tables
            from evalkit.report.html import esc, kv_table
            return kv_table([("judge", esc(src.doc.get("judge")))])
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .report.sources import Source


class Presentation:
    title: ClassVar[str | None] = None  # the section's badge and the overview's kind column; None: the kind's name
    about: ClassVar[str] = ""  # one line under the section's heading
    # the PNGs `plot` writes, (file stem, caption), in the order the report shows them; the report inlines
    # the stored ones and has `plot` draw the missing ones again from the stored summary and records
    figures: ClassVar[tuple[tuple[str, str], ...]] = ()
    figure_dir: ClassVar[str] = ""  # where they are stored, relative to the summary's directory
    report_order: ClassVar[int] = 1000  # sections of kinds with a lower number come first (then by name)
    expects_manifest: ClassVar[bool] = True  # False: the report does not remark a missing manifest.json
    # the document ranks several models (a ranking, a Swiss simulation) rather than scoring one: no side-by-side
    # table of its runs, no '(no model)' in its heading
    ranks_models: ClassVar[bool] = False
    primary_metric: ClassVar[str | None] = None  # the overview's headline metric (TaskKind: also the summary's)

    @staticmethod
    def plot(summary: dict, records: list[dict], out: Path) -> None:
        """Write the PNGs named in `figures` into the directory `out`, from the summary and records alone
        (the run writes them next to summary.json; the report calls this again for one that is missing)."""

    @classmethod
    def report_section(cls, src: Source) -> str:
        """The HTML the report shows for a run of this kind after its metrics and plots (the breakdowns
        follow). `src.doc` is the summary; `src.get("a.b", type, default)` reads a field, a field of the
        wrong type being a one-line error naming the file. Default: the summary's own fields."""
        from .report.html import extras_table

        return extras_table(src.doc)

    @classmethod
    def headline(cls, src: Source) -> tuple[str, dict]:
        """(label, metric) the overview shows for a run: the summary's primary metric (else the kind's,
        else its first metric)."""
        metrics = src.doc.get("metrics") or {}
        name = next((n for n in (src.doc.get("primary_metric"), cls.primary_metric) if n in metrics), next(iter(metrics), ""))
        return name, metrics.get(name) or {}


def top_entry(src: Source) -> tuple[str, dict] | None:
    """The overview's headline for a ranking: its top model's score."""
    entries = src.doc.get("entries")
    if not entries:
        return None
    top = entries[0]
    return f"top: {top['model']}", {"value": top.get("score"), "ci_low": top.get("ci_low"), "ci_high": top.get("ci_high"),
                                    "n": top.get("n_battles")}
