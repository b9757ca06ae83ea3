"""Reading results back as pandas DataFrames (notebooks, reports, leaderboards)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import EvalkitError
from .store import read_json, read_records, run_dirs


def load_results(paths) -> pd.DataFrame:
    """One row per record, with the run's task, model, backend and run id in front."""
    frames = []
    for d in run_dirs(paths):
        manifest = read_json(d / "manifest.json", "run manifest")
        rec = d / "records.jsonl"
        rows = read_records(rec) if rec.exists() else []  # each record once; a killed run's torn last line skipped
        df = pd.DataFrame(rows)
        for col, val in reversed(
            [("task", manifest["task"]["name"]), ("model", manifest["model"]["name"]),
             ("backend", manifest["backend"]["backend"]), ("run_id", manifest["run_id"])]
        ):
            df.insert(0, col, val)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_summaries(paths) -> pd.DataFrame:
    """One row per run x metric (breakdown levels as rows with axis/level set)."""
    rows = []
    for d in run_dirs(paths):
        s = d / "summary.json"
        if not s.exists():
            continue
        summary = read_json(s, "run summary")
        base = {k: summary.get(k) for k in ("task", "kind", "model", "backend", "run_id")}
        for name, m in summary.get("metrics", {}).items():
            rows.append({**base, "axis": None, "level": None, "metric": name, **m})
        for axis, levels in summary.get("breakdown", {}).items():
            for level, metrics in levels.items():
                for name, m in metrics.items():
                    rows.append({**base, "axis": axis, "level": level, "metric": name, **m})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- lm-eval results files
# The one reader of lm-evaluation-harness `results_*.json` files: the leaderboard, the report and
# `evalkit swiss` all take their models, tasks and metrics from here.

_NA = ("n/a", "na", "nan", "none", "null", "")


@dataclass(frozen=True)
class LmEvalMetric:
    key: str  # as the file writes it: 'acc,none', 'exact_match,strict-match'
    metric: str  # 'acc'
    filter: str  # 'none', 'strict-match'
    value: float | None  # None: lm-eval wrote 'N/A'
    stderr: float | None
    higher_is_better: bool | None  # the file's own `higher_is_better`, else evalkit.metrics.metric_info


@dataclass(frozen=True)
class LmEvalResults:
    path: Path
    model: str  # the model as lm-eval names it (`model_name`, or derived from config.model_args)
    local: str | None  # the local checkpoint directory it names, if any
    tasks: dict[str, list[LmEvalMetric]]  # per task (and group): its first metric_list entry first, then the file's order
    n: dict[str, int | None]  # `n-samples.<task>.effective`


def is_lm_eval(doc) -> bool:
    """An lm-eval results document (not an evalkit one): `results` and no `schema`."""
    return isinstance(doc, dict) and "results" in doc and "schema" not in doc


def _lm_eval_model(doc: dict) -> str | None:
    """`model_name`, else what lm-eval's GeneralConfigTracker derives from config.model_args
    (first of peft=, delta=, pretrained=, model=, path=, engine=), else config.model."""
    if doc.get("model_name"):
        return str(doc["model_name"])
    cfg = doc.get("config") or {}
    args = cfg.get("model_args")
    if isinstance(args, str):
        args = dict(kv.strip().partition("=")[::2] for kv in args.split(",") if "=" in kv)
    for key in ("peft", "delta", "pretrained", "model", "path", "engine"):
        if isinstance(args, dict) and args.get(key):
            return str(args[key]).strip()
    return str(cfg["model"]) if cfg.get("model") else None


def _lm_eval_number(path: Path, field: str, raw) -> float | None:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in _NA):
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise EvalkitError(f"{path}: field '{field}': expected a number or 'N/A', got {raw!r}")
    v = float(raw)
    if v != v:
        return None
    if v in (float("inf"), float("-inf")):
        raise EvalkitError(f"{path}: field '{field}': not a finite number")
    return v


def _first_listed(doc: dict, task) -> str | None:
    """'metric,filter' of the task's first `metric_list` entry under its first filter, from the file's
    `configs` (lm-eval writes the block in process_results' order, which need not be the metric_list's)."""
    cfg = (doc.get("configs") or {}).get(task) if isinstance(doc.get("configs"), dict) else None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("metric_list"), list) or not cfg["metric_list"]:
        return None
    first, filters = cfg["metric_list"][0], cfg.get("filter_list")
    name = filters[0].get("name") if isinstance(filters, list) and filters and isinstance(filters[0], dict) else "none"
    return f"{first.get('metric')},{name}" if isinstance(first, dict) else None


def read_lm_eval(path, doc: dict | None = None) -> LmEvalResults:
    """One lm-eval results file (`doc`: its parsed JSON, when already read). Bad input names the file and field."""
    from .metrics import metric_info

    path = Path(path)
    if doc is None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise EvalkitError(f"{path}: malformed JSON: {e}") from None
        except OSError as e:
            raise EvalkitError(f"{path}: cannot read: {e.strerror}") from None
    if not is_lm_eval(doc):
        raise EvalkitError(f"{path}: not an lm-eval results file (a 'results' field and no 'schema')")
    model = _lm_eval_model(doc)
    if model is None:
        raise EvalkitError(f"{path}: field 'model_name': missing (and no pretrained=/path=/... in config.model_args, no config.model)")
    results = doc["results"]
    if not isinstance(results, dict) or not results:
        raise EvalkitError(f"{path}: field 'results': expected a non-empty mapping of task -> metrics")
    args = (doc.get("config") or {}).get("model_args")
    if isinstance(args, str):
        args = dict(kv.strip().partition("=")[::2] for kv in args.split(",") if "=" in kv)
    local = next((str(p) for p in ((args or {}).get("pretrained") if isinstance(args, dict) else None, model)
                  if isinstance(p, str) and p and Path(p).expanduser().is_dir()), None)
    hib_all = doc.get("higher_is_better") if isinstance(doc.get("higher_is_better"), dict) else {}
    samples = doc.get("n-samples") if isinstance(doc.get("n-samples"), dict) else {}
    tasks, ns = {}, {}
    for task, block in results.items():
        if not isinstance(block, dict):
            raise EvalkitError(f"{path}: field 'results.{task}': expected a mapping of metrics")
        hib = hib_all.get(task) if isinstance(hib_all.get(task), dict) else {}
        metrics = []
        for key, raw in block.items():
            metric, _, filt = key.partition(",")
            if not filt or metric.endswith("_stderr"):
                continue  # 'alias', 'name', and the stderr keys (read with their metric)
            direction = hib.get(metric) if isinstance(hib.get(metric), bool) else metric_info(metric).higher_is_better
            metrics.append(LmEvalMetric(key, metric, filt, _lm_eval_number(path, f"results.{task}.{key}", raw),
                                        _lm_eval_number(path, f"results.{task}.{metric}_stderr,{filt}",
                                                        block.get(f"{metric}_stderr,{filt}")), direction))
        lead = _first_listed(doc, task)  # the task's first metric_list entry under its first filter goes first
        tasks[str(task)] = sorted(metrics, key=lambda m: m.key != lead)  # stable: the rest in the file's order
        n = (samples.get(task) or {}).get("effective") if isinstance(samples.get(task), dict) else None
        ns[str(task)] = n if isinstance(n, int) and not isinstance(n, bool) else None
    return LmEvalResults(path, model, local, tasks, ns)
