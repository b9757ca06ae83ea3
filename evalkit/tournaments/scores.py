"""Model x benchmark score tables for tournaments: loading, round selection, normalisation.

Sources (any mix; each cell must come from exactly one file):
- a CSV with a `model` column and one column per benchmark (empty / NA / nan cells are missing;
  lines starting with `#` are comments);
- evalkit run directories (or their summary.json / a parent directory / a glob): benchmark = the
  run's task, score = its `metric` (default: the summary's first metric);
- lm-eval `results_*.json` files (or directories holding them), read by evalkit.results.read_lm_eval:
  benchmark = each key of `results`, score = `results[task]["<metric>,<filter>"]` (default: the
  task's first metric, which lm-eval writes first: its first `metric_list` entry under its first
  filter; `acc_norm` means `acc_norm,none`).
`metric` may name one per benchmark (`--metric gsm8k=exact_match,strict-match`). Models are labelled by
name (evalkit.models.display_name: a checkpoint path by its registry name or folder name). Each
benchmark's direction is its metric's (the file's `higher_is_better`, else evalkit.metrics; a CSV
column is higher-is-better): a lower-is-better one plays negated, one without a direction is refused.

A missing cell is only an error when a round uses that benchmark; the error names the file and
field. Normalisation is per benchmark across the models of the table:
  none   raw scores (the paper: a match compares the mean raw score over the round's group);
  zscore (x - mean) / sd (population sd; a constant column becomes 0);
  minmax (x - min) / (max - min) (a constant column becomes 0);
  rank   average rank among the models, scaled to [0, 1] (ties share a rank).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import EvalkitError, did_you_mean
from ..readers import parse_yaml
from ..store import expand, read_json, run_dirs

NORMALIZATIONS = ("none", "zscore", "minmax", "rank")
_MISSING = {"", "na", "nan", "n/a", "none", "null"}


class _Cells:
    """Collects (model, benchmark) -> score with the file each came from, and why a cell is empty;
    per benchmark the metric that scores it and its direction (one for every model)."""

    def __init__(self):
        self.value: dict[tuple[str, str], float] = {}
        self.where: dict[tuple[str, str], str] = {}
        self.missing: dict[tuple[str, str], str] = {}
        self.models: dict[str, str] = {}  # label -> first file that has it
        self.raw: dict[str, set[str]] = {}  # label -> the names the files give it (a path, a registry name)
        self.benchmarks: dict[str, str] = {}
        self.metric: dict[str, tuple[str | None, bool | None, str]] = {}  # benchmark -> (metric, higher_is_better, file)
        self.sources: list[str] = []

    def add(self, model: str, bench: str, value: float | None, where: str, why: str = "", *,
            metric: str | None = None, higher_is_better: bool | None = True, raw: str | None = None) -> None:
        self.models.setdefault(model, where)
        self.raw.setdefault(model, set()).add(raw or model)
        self.benchmarks.setdefault(bench, where)
        cell = (model, bench)
        if cell in self.value or cell in self.missing:
            other = self.where[cell]
            names = f" ({', '.join(sorted(self.raw[model]))})" if len(self.raw[model]) > 1 else ""
            raise EvalkitError(f"{where}: model '{model}'{names} on benchmark '{bench}' is also given by {other}; pass only one of them")
        self.where[cell] = where
        if value is None:
            self.missing[cell] = why or f"{where}: field '{bench}': no score for model '{model}'"
            return
        self.value[cell] = value
        old = self.metric.get(bench)
        if old is None or (old[0] is None and metric is not None):  # a CSV column names no metric: the file's does
            self.metric[bench] = (metric, higher_is_better, where)
        elif metric is not None and old[0] != metric:  # one benchmark, two metrics: no common scale
            raise EvalkitError(f"{where}: benchmark '{bench}' is scored by '{metric}' here but by '{old[0]}' in {old[2]}; "
                               f"choose one with --metric {bench}=METRIC")

    def frame(self) -> pd.DataFrame:
        models, benches = list(self.models), list(self.benchmarks)
        data = np.full((len(models), len(benches)), np.nan)
        mi, bi = {m: k for k, m in enumerate(models)}, {b: k for k, b in enumerate(benches)}
        for (m, b), v in self.value.items():
            data[mi[m], bi[b]] = v
        df = pd.DataFrame(data, index=pd.Index(models, name="model"), columns=benches)
        df.attrs["sources"] = list(self.sources)
        df.attrs["missing"] = {f"{m}\x1f{b}": why for (m, b), why in self.missing.items()}
        df.attrs["model_source"] = dict(self.models)
        df.attrs["benchmark_source"] = dict(self.benchmarks)
        df.attrs["metric"] = {b: m for b, (m, _, _) in self.metric.items()}
        df.attrs["higher_is_better"] = {b: h for b, (_, h, _) in self.metric.items()}
        return df

    def label(self) -> str:
        src = self.sources
        return ", ".join(src[:3]) + (f" and {len(src) - 3} more" if len(src) > 3 else "") if src else "scores"


def _number(raw, where: str) -> float | None:
    """float, None for a missing marker; EvalkitError for anything else."""
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in _MISSING):
        return None
    if isinstance(raw, bool):
        raise EvalkitError(f"{where}: not a number: {raw!r}")
    try:
        v = float(raw)
    except (TypeError, ValueError):
        raise EvalkitError(f"{where}: not a number: {raw!r}") from None
    if math.isnan(v):
        return None
    if not math.isfinite(v):
        raise EvalkitError(f"{where}: not a finite number: {raw!r}")
    return v


# ----------------------------------------------------------------------------- readers


def _read_csv(path: Path, cells: _Cells) -> None:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise EvalkitError(f"{path}: cannot read CSV: {e}") from None
    if not rows:
        raise EvalkitError(f"{path}: empty CSV")
    header = [h.strip() for h in rows[0][1]]
    if "model" not in header:
        raise EvalkitError(f"{path}: field 'model': missing column (the header has: {', '.join(header)})")
    dup = [h for h in header if header.count(h) > 1]
    if dup:
        raise EvalkitError(f"{path}: field '{dup[0]}': duplicate column")
    seen: dict[str, int] = {}
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise EvalkitError(f"{path}:{line}: expected {len(header)} fields, got {len(row)}")
        rec = dict(zip(header, (c.strip() for c in row)))
        model = rec.pop("model")
        if not model:
            raise EvalkitError(f"{path}:{line}: field 'model': empty")
        if model in seen:
            raise EvalkitError(f"{path}:{line}: field 'model': '{model}' already on line {seen[model]}")
        seen[model] = line
        for h, raw in rec.items():
            where = f"{path}:{line}: field '{h}'"
            cells.add(model, h, _number(raw, where), f"{path}:{line}", f"{where}: no score for model '{model}'")


def _metric_for(metric, bench: str) -> str | None:
    """The metric asked for on one benchmark: `metric` is None, one name for every benchmark, or a mapping
    {benchmark: name} where the key None gives the rest."""
    if isinstance(metric, Mapping):
        return metric.get(bench, metric.get(None))
    return metric


def _read_lm_eval(path: Path, doc: dict, metric, cells: _Cells) -> None:
    from ..models import display_name
    from ..results import read_lm_eval

    res = read_lm_eval(path, doc)
    model = display_name(res.model)
    for task, metrics in res.tasks.items():
        want = _metric_for(metric, task)
        if want is None:  # the task's first metric_list entry: lm-eval writes it first (first filter)
            if not metrics:
                cells.add(model, task, None, str(path), f"{path}: field 'results.{task}': no metrics", raw=res.model)
                continue
            m = metrics[0]
        else:
            key = want if "," in want else f"{want},none"
            m = next((x for x in metrics if x.key == key), None)
            if m is None:
                have = ", ".join(x.key for x in metrics) or "no metrics"
                why = f"{path}: field 'results.{task}.{key}': missing (has: {have}); choose one with --metric {task}=METRIC"
                cells.add(model, task, None, str(path), why, raw=res.model)
                continue
        cells.add(model, task, m.value, str(path), f"{path}: field 'results.{task}.{m.key}': N/A for model '{model}'",
                  metric=m.metric if m.filter == "none" else m.key, higher_is_better=m.higher_is_better, raw=res.model)


def _read_evalkit_run(run_dir: Path, metric, cells: _Cells) -> None:
    from ..metrics import metric_info
    from ..models import display_name
    from ..results import load_summaries

    path = run_dir / "summary.json"
    if not path.exists():
        return  # unfinished run: nothing to score
    rows = load_summaries(run_dir)
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise EvalkitError(f"{path}:{e.lineno}: malformed JSON") from None
    if not doc.get("task") or not doc.get("model"):
        raise EvalkitError(f"{path}: field 'task'/'model': missing")
    top = rows[rows["axis"].isna()] if len(rows) else rows
    if not len(top):
        raise EvalkitError(f"{path}: field 'metrics': empty")
    task, model = str(doc["task"]), str(doc["model"])
    want = _metric_for(metric, task)
    name = want if want is not None else str(top.iloc[0]["metric"])
    hit = top[top["metric"] == name]
    label = display_name(model)
    if not len(hit):
        why = f"{path}: field 'metrics.{name}': missing (has: {', '.join(map(str, top['metric']))}); choose one with --metric {task}=METRIC"
        cells.add(label, task, None, str(path), why, raw=model)
        return
    m = doc["metrics"].get(name) or {}
    hib = m.get("higher_is_better") if "higher_is_better" in m else metric_info(name).higher_is_better
    cells.add(label, task, _number(hit.iloc[0]["value"], f"{path}: field 'metrics.{name}.value'"), str(path),
              f"{path}: field 'metrics.{name}.value': undefined (null) for model '{model}'",
              metric=name, higher_is_better=hib, raw=model)


def load_scores(paths: str | Path | Sequence[str | Path], metric: str | Mapping[str | None, str] | None = None) -> pd.DataFrame:
    """Model x benchmark table (index `model`: each model's display name, one float column per benchmark; NaN = missing).

    `paths`: CSV files, evalkit run directories / summary.json files, lm-eval results_*.json files,
    directories holding evalkit runs or lm-eval results (searched recursively), or globs. `metric`: None
    (each benchmark's default), one metric for every benchmark, or {benchmark: metric} (the key None: the
    rest; see parse_metrics). `df.attrs["sources"]` lists the files read, `df.attrs["missing"]` says, per
    empty cell, which file and field lacked it, `df.attrs["metric"]` / `["higher_is_better"]` give each
    benchmark's metric and direction."""
    from ..results import is_lm_eval

    cells = _Cells()
    for p in expand(paths):
        if p.is_dir():
            runs = run_dirs(p)
            lm = sorted(p.rglob("results_*.json"))
            if not runs and not lm:
                raise EvalkitError(f"{p}: no evalkit runs (manifest.json) or lm-eval results_*.json files found (pass a CSV by its path)")
            for d in runs:
                cells.sources.append(str(d / "summary.json"))
                _read_evalkit_run(d, metric, cells)
            for f in lm:
                cells.sources.append(str(f))
                _read_lm_eval(f, read_json(f), metric, cells)
        elif p.suffix.lower() in (".csv", ".tsv"):
            cells.sources.append(str(p))
            _read_csv(p, cells)
        elif p.suffix.lower() == ".json":
            doc = read_json(p)
            cells.sources.append(str(p))
            if is_lm_eval(doc):
                _read_lm_eval(p, doc, metric, cells)
            elif isinstance(doc, dict) and str(doc.get("schema", "")).startswith("evalkit.summary"):
                if not (p.parent / "manifest.json").exists():
                    raise EvalkitError(f"{p}: no manifest.json next to this evalkit summary; pass the run directory")
                _read_evalkit_run(p.parent, metric, cells)
            else:
                raise EvalkitError(f"{p}: not an lm-eval results file (fields 'results' and 'config') nor an evalkit summary.json")
        else:
            raise EvalkitError(f"{p}: unknown score file type (expected .csv, lm-eval results_*.json, evalkit summary.json or a directory)")
    if len(cells.models) < 2:
        raise EvalkitError(f"{cells.label()}: need scores for at least 2 models, found {len(cells.models)}")
    for bench in metric if isinstance(metric, Mapping) else ():
        if bench is not None and bench not in cells.benchmarks:
            raise EvalkitError(f"--metric {bench}={metric[bench]}: {did_you_mean('benchmark', bench, cells.benchmarks)}")
    return cells.frame()


def parse_metrics(values: Sequence[str] | None) -> str | dict[str | None, str] | None:
    """`--metric` values: `BENCHMARK=METRIC[,FILTER]` (repeatable) and at most one bare `METRIC[,FILTER]`
    for the benchmarks not named -> what load_scores takes."""
    out: dict[str | None, str] = {}
    for v in values or ():
        bench, eq, name = v.partition("=") if "=" in v else (None, "", v)
        bench = bench.strip() if bench is not None else None
        if not name.strip() or (eq and not bench):
            raise EvalkitError(f"--metric {v}: expected METRIC or BENCHMARK=METRIC (e.g. gsm8k=exact_match,strict-match)")
        if bench in out:
            what = f"benchmark '{bench}'" if bench else "every benchmark"
            raise EvalkitError(f"--metric {v}: a metric for {what} is already given ({out[bench]})")
        out[bench] = name.strip()
    if not out:
        return None
    return out[None] if list(out) == [None] else out


# ----------------------------------------------------------------------------- rounds


def load_rounds(path: str | Path) -> list[list[str]]:
    """ROUNDS YAML: a list of rounds, each a list of benchmark names (a bare name = a one-benchmark
    round); a mapping with a `rounds` key holding that list is accepted too."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise EvalkitError(f"{path}: no such rounds file") from None
    doc = parse_yaml(text, path)
    if isinstance(doc, dict):
        if "rounds" not in doc:
            raise EvalkitError(f"{path}: field 'rounds': missing (expected a list of rounds, each a list of benchmark names)")
        doc = doc["rounds"]
    if not isinstance(doc, list) or not doc:
        raise EvalkitError(f"{path}: field 'rounds': expected a non-empty list of rounds, each a list of benchmark names")
    rounds = []
    for r, g in enumerate(doc):
        g = [g] if isinstance(g, (str, int, float)) and not isinstance(g, bool) else g
        if not isinstance(g, list) or not g or not all(isinstance(b, (str, int, float)) and not isinstance(b, bool) for b in g):
            raise EvalkitError(f"{path}: field 'rounds[{r}]': expected a non-empty list of benchmark names, got {g!r}")
        rounds.append([str(b) for b in g])
    return rounds


def normalize(df: pd.DataFrame, how: str = "none") -> pd.DataFrame:
    """Per-benchmark normalisation across models (see the module docstring)."""
    if how not in NORMALIZATIONS:
        raise EvalkitError(f"--normalize: unknown normalisation '{how}'; known: {', '.join(NORMALIZATIONS)}")
    if how == "none":
        return df.copy()
    if how == "zscore":
        sd = df.std(axis=0, ddof=0)
        return (df - df.mean(axis=0)) / sd.where(sd > 0, np.inf)
    if how == "minmax":
        span = df.max(axis=0) - df.min(axis=0)
        return (df - df.min(axis=0)) / span.where(span > 0, np.inf)
    n = df.notna().sum(axis=0)
    return (df.rank(axis=0, method="average") - 1) / (n - 1).where(n > 1, np.inf)


def select(df: pd.DataFrame, rounds: Sequence[Sequence[str]], *, normalize_how: str = "none",
           rounds_file: str | Path = "rounds") -> tuple[np.ndarray, list[list[int]], list[str], list[str]]:
    """Scores for the benchmarks the rounds use: (matrix [models, benchmarks], rounds as column
    indices, model names, benchmark names). Unknown names and missing cells raise EvalkitError."""
    known = [str(c) for c in df.columns]
    used: list[str] = []
    for r, g in enumerate(rounds):
        for b in g:
            if b not in known:
                raise EvalkitError(f"{rounds_file}: field 'rounds[{r}]': {did_you_mean('benchmark', b, known)}")
            if b not in used:
                used.append(b)
    sub = df[used]
    missing = df.attrs.get("missing", {})
    for b in used:
        for m in sub.index[sub[b].isna()]:
            why = missing.get(f"{m}\x1f{b}")
            if why is None:  # the model and the benchmark come from different files
                where_b = df.attrs.get("benchmark_source", {}).get(b, "scores")
                where_m = df.attrs.get("model_source", {}).get(m, "another file")
                why = f"{where_b}: field '{b}': no score for model '{m}' (the model comes from {where_m})"
            raise EvalkitError(why)
    hib = df.attrs.get("higher_is_better", {})
    for b in used:
        if b in hib and hib[b] is None:
            where = df.attrs.get("benchmark_source", {}).get(b, "scores")
            raise EvalkitError(f"{where}: field '{b}': metric '{df.attrs['metric'][b]}' has no direction (a count or a diagnostic, "
                               f"evalkit.metrics); choose a score with --metric {b}=METRIC")
    # a lower-is-better metric (POSIX, perplexity) plays negated: the better model has the higher score
    sub = sub * [(-1.0 if hib.get(b) is False else 1.0) for b in used]
    sub = normalize(sub, normalize_how)
    col = {b: k for k, b in enumerate(used)}
    return sub.to_numpy(dtype=float), [[col[b] for b in g] for g in rounds], [str(m) for m in sub.index], used
