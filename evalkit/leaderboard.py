"""The `evalkit.leaderboard/v1` JSON: a pure function of stored result files.

Sources (files, directories searched recursively, or globs):
- evalkit `summary.json` of any run: its metrics become `per_benchmark[model][task]` in lm-eval's
  `metric,filter` key form (filter `none`); a `judge` run also fills `judge_quality`;
- a ranking: a `tournament` run's summary, `evalkit rank`'s `ranking.json`, or an `evalkit swiss`
  (CSD) summary: the first one given makes `entries` and `method`;
- lm-eval `results_*.json` files, imported as they are into `per_benchmark`.
With no ranking source, entries rank models by their mean primary metric over the benchmarks
(`method.type = "mean"`, no CI). `created` is the latest end time recorded in the sources, so the
same files always give the same bytes.
"""

from __future__ import annotations

import glob
import json
import math
from importlib.resources import files
from pathlib import Path

from . import __version__
from .errors import EvalkitError

SCHEMA = "evalkit.leaderboard/v1"
JUDGE_KEYS = ("accuracy", "macro_f1", "cohen_kappa", "position_consistency", "agreement_with_tie", "agreement_without_tie",
              "parse_failure_rate")


def schema() -> dict:
    return json.loads(files("evalkit").joinpath("schemas/leaderboard.v1.json").read_text())


def _source_files(paths) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        hits = glob.glob(str(p), recursive=True) or [str(p)]
        for hit in hits:
            hp = Path(hit)
            if not hp.exists():
                raise EvalkitError(f"{hp}: no such results path")
            if hp.is_dir():
                out += sorted(f for pat in ("summary.json", "ranking.json", "results_*.json") for f in hp.rglob(pat))
            else:
                out.append(hp)
    return list(dict.fromkeys(out))


def _read(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise EvalkitError(f"{path}: malformed JSON: {e}") from None
    if not isinstance(doc, dict):
        raise EvalkitError(f"{path}: expected a JSON object")
    return doc


def _ended(path: Path) -> str | None:
    manifest = path.parent / "manifest.json"
    if manifest.exists():
        try:
            return json.loads(manifest.read_text()).get("ended")
        except json.JSONDecodeError:
            return None
    return None


def _num(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def _lm_eval(path: Path, doc: dict, per_benchmark: dict) -> None:
    cfg = doc.get("config") or {}
    model = doc.get("model_name") or cfg.get("model_args") or cfg.get("model")
    if not isinstance(model, str) or not model:
        raise EvalkitError(f"{path}: field 'model_name': an lm-eval results file needs the model name")
    for task, metrics in (doc.get("results") or {}).items():
        if not isinstance(metrics, dict):
            raise EvalkitError(f"{path}: field 'results.{task}': expected an object of metrics")
        row = {k: v for k, v in metrics.items() if "," in k and _num(v) is not None}
        per_benchmark.setdefault(model, {})[task] = row


def _entries_from_ranking(path: Path, doc: dict) -> tuple[list[dict], dict]:
    kind = doc.get("kind")
    if kind == "csd":  # evalkit swiss: rank by E[S] at the strictest elimination setting
        keys = sorted(doc["entries"][0]["E_S"], key=int) if doc.get("entries") else []
        if not keys:
            raise EvalkitError(f"{path}: field 'entries': a CSD summary without entries")
        top = keys[-1]
        rows = []
        for e in doc["entries"]:
            es, se = e["E_S"][top], (e.get("mc_stderr") or {}).get(top) or 0.0
            rows.append({"model": e["model"], "score": es, "ci_low": es - 1.96 * se, "ci_high": es + 1.96 * se,
                         "extras": {**{f"E_S_T{k}": e["E_S"][k] for k in keys}, "fsa_drop": e.get("fsa_drop")}})
        method = {"type": "swiss_csd", "params": {"elim": [int(k) for k in keys], "n_runs": doc.get("n_runs"),
                  "rounds": doc.get("rounds"), "tiebreak": doc.get("tiebreak")}, "seed": doc.get("seed")}
        return _ranked(rows), method
    entries = doc.get("entries")
    if not isinstance(entries, list) or not entries:
        raise EvalkitError(f"{path}: field 'entries': no ranked entries")
    rows = []
    for i, e in enumerate(entries):
        for key in ("model", "score"):
            if key not in e:
                raise EvalkitError(f"{path}: field 'entries.{i}.{key}': required")
        extras = {k: v for k, v in e.items() if k not in ("model", "rank", "rank_ub", "score", "ci_low", "ci_high", "n_battles",
                                                          "wins", "losses", "ties")}
        rows.append({**{k: e.get(k) for k in ("model", "score", "ci_low", "ci_high", "n_battles", "wins", "losses", "ties")},
                     "extras": extras})
    m = doc.get("method") or {}
    method = {"type": m.get("type", "bt"), "params": {k: v for k, v in m.items() if k not in ("type", "seed", "n_bootstrap")},
              "seed": m.get("seed", doc.get("seed")), "n_bootstrap": m.get("n_bootstrap")}
    return _ranked(rows), method


def _ranked(rows: list[dict]) -> list[dict]:
    rows = sorted(rows, key=lambda r: (-r["score"], r["model"]))
    for r in rows:
        r["rank"] = 1 + sum(o["score"] > r["score"] for o in rows)
        if r.get("ci_low") is not None and r.get("ci_high") is not None:
            r["rank_ub"] = 1 + sum(o.get("ci_low") is not None and o["ci_low"] > r["ci_high"] for o in rows)
        else:
            r["rank_ub"] = r["rank"]
        r["ci_level"] = 0.95 if r.get("ci_low") is not None else None
    return rows


def build_leaderboard(paths) -> dict:
    per_benchmark: dict = {}
    entries, method, judge, judge_quality = None, None, None, None
    ended: list[str] = []
    sources = _source_files(paths)
    if not sources:
        raise EvalkitError(f"{' '.join(map(str, paths))}: no summary.json, ranking.json or results_*.json found")
    for path in sources:
        doc = _read(path)
        if "results" in doc and "schema" not in doc:  # lm-eval
            _lm_eval(path, doc, per_benchmark)
            if isinstance(doc.get("date"), (int, float)):
                from datetime import datetime, timezone

                ended.append(datetime.fromtimestamp(doc["date"], timezone.utc).isoformat(timespec="seconds"))
            continue
        if doc.get("schema") not in ("evalkit.summary/v1", "evalkit.ranking/v1"):
            raise EvalkitError(f"{path}: field 'schema': not an evalkit summary, ranking or lm-eval results file")
        if (e := _ended(path)) is not None:
            ended.append(e)
        kind = doc.get("kind")
        if kind in ("tournament", "csd", "ranking") or doc.get("schema") == "evalkit.ranking/v1":
            if entries is None:
                entries, method = _entries_from_ranking(path, doc)
                judge = doc.get("judge")
            continue
        model, task = doc.get("model"), doc.get("task")
        if not model or not task:
            raise EvalkitError(f"{path}: field 'model': a summary needs model and task")
        row = {}
        for name, m in (doc.get("metrics") or {}).items():
            if _num(m.get("value")) is not None:
                row[f"{name},none"] = m["value"]
                if _num(m.get("stderr")) is not None:
                    row[f"{name}_stderr,none"] = m["stderr"]
        per_benchmark.setdefault(model, {})[task] = row
        if kind == "judge" and judge_quality is None:
            judge_quality = {k: doc["metrics"].get(k, {}).get("value") for k in JUDGE_KEYS}
            judge = judge or {"model": model, "prompt_id": doc.get("judge", {}).get("template"),
                              "prompt_sha": doc.get("judge", {}).get("template_sha256"),
                              "position_protocol": doc.get("judge", {}).get("position_protocol"),
                              "tie_rule": doc.get("judge", {}).get("combine")}
    if entries is None:  # no ranking source: mean primary metric over benchmarks
        rows = []
        for model, tasks in per_benchmark.items():
            vals = [next(iter(v for k, v in m.items() if "_stderr" not in k), None) for m in tasks.values()]
            vals = [v for v in vals if v is not None]
            if vals:
                rows.append({"model": model, "score": sum(vals) / len(vals), "ci_low": None, "ci_high": None,
                             "extras": {"n_benchmarks": len(vals)}})
        entries = _ranked(rows)
        method = {"type": "mean", "params": {"metric": "first metric of each benchmark"}, "seed": None}
    board = {
        "schema": SCHEMA,
        "created": max(ended) if ended else None,
        "evalkit_version": __version__,
        "method": method,
        "judge": judge,
        "entries": [{k: e.get(k) for k in ("model", "rank", "rank_ub", "score", "ci_low", "ci_high", "ci_level", "n_battles",
                                             "wins", "losses", "ties")} | {"extras": e.get("extras") or {}} for e in entries],
        "per_benchmark": per_benchmark,
        "judge_quality": judge_quality,
        "sources": [str(p) for p in sources],
    }
    validate_leaderboard(board)
    return board


def validate_leaderboard(board: dict) -> None:
    import jsonschema

    try:
        jsonschema.validate(board, schema())
    except jsonschema.ValidationError as e:
        where = ".".join(str(x) for x in e.absolute_path) or "(top level)"
        raise EvalkitError(f"leaderboard: field '{where}': {e.message}") from None
