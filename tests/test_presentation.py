"""Kinds own their presentation (evalkit/presentation.py): the mcq kind's plot (accuracy by category with
Wilson intervals) is written by the run and shown by the report; a plugin kind that defines nothing gets
the generic section (its metrics table and own fields) and no plot."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from test_plugins import _evalkit, plugin_site  # noqa: F401  (plugin_site: the installed demo plugin, a fixture)


def _mcq_task(tmp_path: Path) -> Path:
    """Five questions from evalkit's mcq data over two categories."""
    rows = [json.loads(line) for line in (Path(__file__).parent.parent / "tasks/data/mcq.jsonl").read_text().splitlines()]
    cats = list(dict.fromkeys(r["category"] for r in rows))[:2]
    picked = [r for r in rows if r["category"] == cats[0]][:3] + [r for r in rows if r["category"] == cats[1]][:2]
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(r) + "\n" for r in picked))
    (tmp_path / "q.yaml").write_text("task: q\nkind: mcq\ndata: q.jsonl\n")
    return tmp_path / "q.yaml"


def _errorbars(monkeypatch) -> list:
    """The (x, y, xerr) of every Axes.errorbar call from here on."""
    import matplotlib.axes

    calls, real = [], matplotlib.axes.Axes.errorbar
    monkeypatch.setattr(matplotlib.axes.Axes, "errorbar",
                        lambda self, x, y, *a, **k: calls.append((x, y, k.get("xerr"))) or real(self, x, y, *a, **k))
    return calls


def test_mcq_plot_shows_accuracy_by_category_with_wilson_intervals(monkeypatch, tmp_path):
    from evalkit.kinds.mcq import MCQKind
    from evalkit.metrics import mean_metric

    # hand-computed Wilson 95% intervals: 1 of 2 -> (0.0945, 0.9055); 3 of 4 -> (0.3006, 0.9544)
    summary = {"task": "t", "model": "m", "metrics": {"acc": mean_metric([1, 0, 1, 1, 1, 0], proportion=True)},
               "breakdown": {"category": {"a": {"acc": mean_metric([1, 0], proportion=True)},
                                          "b": {"acc": mean_metric([1, 1, 1, 0], proportion=True)}}}}
    calls = _errorbars(monkeypatch)
    MCQKind.plot(summary, [], tmp_path)
    assert (tmp_path / "mcq_by_category.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (x, _, xerr), = calls
    assert list(x) == [0.5, 0.75]
    assert list(x - xerr[0]) == pytest.approx([0.0945, 0.3006], abs=1e-4)
    assert list(x + xerr[1]) == pytest.approx([0.9055, 0.9544], abs=1e-4)


def test_mcq_run_writes_its_plot_and_the_report_shows_it(monkeypatch, tmp_path):
    from evalkit import run
    from evalkit.metrics import wilson
    from evalkit.report import build_report

    calls = _errorbars(monkeypatch)
    out = run(str(_mcq_task(tmp_path)), "tiny-random", out=tmp_path / "run", cache=False).out
    assert (out / "mcq_by_category.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # next to summary.json
    # the plot's points and intervals are each category's accuracy and Wilson interval over its records
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    by_cat = {}
    for r in records:
        by_cat.setdefault(r["category"], []).append(r["acc"])
    (x, _, xerr), = calls
    for (cat, accs), v, lo, hi in zip(sorted(by_cat.items()), x, xerr[0], xerr[1]):
        p = sum(accs) / len(accs)
        assert v == pytest.approx(p)
        assert (v - lo, v + hi) == pytest.approx(wilson(p, len(accs)), abs=1e-12), cat

    html = build_report([out])
    assert re.search(r'<figure id="[^"]+" data-plot="mcq_by_category" data-origin="stored">', html)
    assert '<p class="about">Multiple-choice accuracy by option log-likelihood.</p>' in html
    (out / "mcq_by_category.png").unlink()  # a run from before the plot existed: the report draws it
    assert 'data-plot="mcq_by_category" data-origin="drawn"' in build_report([out])


def test_a_plugin_kind_that_defines_no_presentation_gets_the_generic_section(plugin_site, tmp_path):  # noqa: F811
    data = tmp_path / "words.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "word": w}) + "\n" for i, w in enumerate(["Apple", "Zebra"])))
    (tmp_path / "echo.yaml").write_text(textwrap.dedent(f"""\
        task: echo
        kind: echo_rate
        data: {data}
        """))
    r = _evalkit(plugin_site, "run", "echo.yaml", "-m", "parrot-1", "-b", "parrot", "-o", "out", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not list((tmp_path / "out").glob("*.png"))  # no plot
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    summary["note"] = "a field of the kind's own"
    (tmp_path / "out" / "summary.json").write_text(json.dumps(summary))
    r = _evalkit(plugin_site, "report", str(tmp_path / "out"), "-o", "with.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    from evalkit.report import build_report

    without = build_report([tmp_path / "out"])  # here the plugin is not installed: the same page
    for html in ((tmp_path / "with.html").read_text(), without):
        sec = re.search(r'<section id="task-echo" data-kind="echo_rate".*?</section>', html, re.S).group(0)
        assert '<span class="badge">echo_rate</span>' in sec and '<p class="about">' not in sec  # its name as title
        assert "<h4>metrics</h4>" in sec and "<th>echoed</th>" in sec  # its metrics table
        assert "<th>note</th><td>a field of the kind&#x27;s own</td>" in sec  # its own summary fields
        assert "<figure" not in sec and 'class="note"' not in sec  # no plot, and none missing
    assert without == (tmp_path / "with.html").read_text()
