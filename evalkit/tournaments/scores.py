"""Model x benchmark score tables for tournaments: loading, round selection, normalisation.

Sources (any mix; each cell must come from exactly one file):
- a CSV with a `model` column and one column per benchmark (empty / NA / nan cells are missing;
  lines starting with `#` are comments);
- evalkit run directories (or their summary.json / a parent directory / a glob): benchmark = the
  run's task, score = `metric` (default: the summary's first metric);
- lm-eval `results_*.json` files (or directories holding them): benchmark = each key of
  `results`, score = `results[task]["<metric>,<filter>"]` (default `acc,none`; `metric="acc_norm"`
  means `acc_norm,none`), model = `model_name`, else the name lm-eval derives from
  `config.model_args` (peft=, delta=, pretrained=, model=, path=, engine=), else `config.model`.

A missing cell is only an error when a round uses that benchmark; the error names the file and
field. Normalisation is per benchmark across the models of the table:
  none   raw scores (the paper: a match compares the mean raw score over the round's group);
  zscore (x - mean) / sd (population sd; a constant column becomes 0);
  minmax (x - min) / (max - min) (a constant column becomes 0);
  rank   average rank among the models, scaled to [0, 1] (ties share a rank).
"""

from __future__ import annotations

import csv
import glob
import json
import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import EvalkitError, did_you_mean
from ..readers import parse_yaml

NORMALIZATIONS = ("none", "zscore", "minmax", "rank")
LM_EVAL_DEFAULT_METRIC = "acc,none"
_MISSING = {"", "na", "nan", "n/a", "none", "null"}


class _Cells:
    """Collects (model, benchmark) -> score with the file each came from, and why a cell is empty."""

    def __init__(self):
        self.value: dict[tuple[str, str], float] = {}
        self.where: dict[tuple[str, str], str] = {}
        self.missing: dict[tuple[str, str], str] = {}
        self.models: dict[str, str] = {}  # name -> first file that has it
        self.benchmarks: dict[str, str] = {}
        self.sources: list[str] = []

    def add(self, model: str, bench: str, value: float | None, where: str, why: str = "") -> None:
        self.models.setdefault(model, where)
        self.benchmarks.setdefault(bench, where)
        cell = (model, bench)
        if cell in self.value or cell in self.missing:
            other = self.where[cell]
            raise EvalkitError(f"{where}: model '{model}' on benchmark '{bench}' is also given by {other}; pass only one of them")
        self.where[cell] = where
        if value is None:
            self.missing[cell] = why or f"{where}: field '{bench}': no score for model '{model}'"
        else:
            self.value[cell] = value

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


def _lm_eval_model(doc: dict) -> str | None:
    """`model_name`, else what lm-eval's GeneralConfigTracker derives from config.model_args
    (first of peft=, delta=, pretrained=, model=, path=, engine=), else config.model."""
    if doc.get("model_name"):
        return str(doc["model_name"])
    cfg = doc.get("config") or {}
    args = cfg.get("model_args")
    for key in ("peft", "delta", "pretrained", "model", "path", "engine"):
        if isinstance(args, dict) and args.get(key):
            return str(args[key])
        if isinstance(args, str):
            for part in args.split(","):
                k, _, v = part.partition("=")
                if k.strip() == key and v.strip():
                    return v.strip()
    return str(cfg["model"]) if cfg.get("model") else None


def _read_lm_eval(path: Path, doc: dict, metric: str | None, cells: _Cells) -> None:
    key = LM_EVAL_DEFAULT_METRIC if metric is None else (metric if "," in metric else f"{metric},none")
    model = _lm_eval_model(doc)
    if model is None:
        raise EvalkitError(f"{path}: field 'model_name': missing (and no pretrained=/path=/... in config.model_args, no config.model)")
    results = doc.get("results")
    if not isinstance(results, dict) or not results:
        raise EvalkitError(f"{path}: field 'results': expected a non-empty mapping of task -> metrics")
    for task, metrics in results.items():
        field = f"results.{task}.{key}"
        if not isinstance(metrics, dict):
            raise EvalkitError(f"{path}: field 'results.{task}': expected a mapping of metrics")
        if key not in metrics:
            have = [k for k in metrics if "," in k and "_stderr" not in k]
            why = f"{path}: field '{field}': missing (has: {', '.join(have) or 'no metrics'}); choose one with --metric"
            cells.add(model, str(task), None, str(path), why)
            continue
        cells.add(model, str(task), _number(metrics[key], f"{path}: field '{field}'"), str(path))


def _read_evalkit_run(run_dir: Path, metric: str | None, cells: _Cells) -> None:
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
    name = metric if metric is not None else str(top.iloc[0]["metric"])
    hit = top[top["metric"] == name]
    task, model = str(doc["task"]), str(doc["model"])
    if not len(hit):
        why = f"{path}: field 'metrics.{name}': missing (has: {', '.join(map(str, top['metric']))}); choose one with --metric"
        cells.add(model, task, None, str(path), why)
        return
    cells.add(model, task, _number(hit.iloc[0]["value"], f"{path}: field 'metrics.{name}.value'"), str(path),
              f"{path}: field 'metrics.{name}.value': undefined (null) for model '{model}'")


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        hits = sorted(glob.glob(str(p), recursive=True)) or [str(p)]
        for h in hits:
            hp = Path(h)
            if not hp.exists():
                raise EvalkitError(f"{hp}: no such file or directory")
            out.append(hp)
    return out


def load_scores(paths: str | Path | Sequence[str | Path], metric: str | None = None) -> pd.DataFrame:
    """Model x benchmark table (index `model`, one float column per benchmark; NaN = missing).

    `paths`: CSV files, evalkit run directories / summary.json files, lm-eval results_*.json files,
    directories holding evalkit runs or lm-eval results (searched recursively), or globs. `df.attrs["sources"]` lists the files read and
    `df.attrs["missing"]` says, per empty cell, which file and field lacked it."""
    from ..results import _run_dirs

    if isinstance(paths, (str, Path)):
        paths = [paths]
    cells = _Cells()
    for p in _expand(paths):
        if p.is_dir():
            runs = _run_dirs(p)
            lm = sorted(p.rglob("results_*.json"))
            if not runs and not lm:
                raise EvalkitError(f"{p}: no evalkit runs (manifest.json) or lm-eval results_*.json files found (pass a CSV by its path)")
            for d in runs:
                cells.sources.append(str(d / "summary.json"))
                _read_evalkit_run(d, metric, cells)
            for f in lm:
                cells.sources.append(str(f))
                _read_lm_eval(f, _json(f), metric, cells)
        elif p.suffix.lower() in (".csv", ".tsv"):
            cells.sources.append(str(p))
            _read_csv(p, cells)
        elif p.suffix.lower() == ".json":
            doc = _json(p)
            cells.sources.append(str(p))
            if isinstance(doc, dict) and "results" in doc and ("config" in doc or "model_name" in doc):
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
    return cells.frame()


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise EvalkitError(f"{path}:{e.lineno}: malformed JSON: {e.msg}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise EvalkitError(f"{path}: cannot read: {e}") from None


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
    sub = normalize(sub, normalize_how)
    col = {b: k for k, b in enumerate(used)}
    return sub.to_numpy(dtype=float), [[col[b] for b in g] for g in rounds], [str(m) for m in sub.index], used
