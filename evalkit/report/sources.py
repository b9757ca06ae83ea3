"""Finding and checking the stored result files a report is built from.

A source is one JSON document: an evalkit run's `summary.json` (any kind, `evalkit swiss` and
`evalkit sweep` included), an `evalkit rank` `ranking.json`, an `evalkit bench` `bench.json`, an `evalkit.leaderboard/v1` or `/v2` file, or the
`manifest.json` of a run that never wrote a summary (running or failed), or an lm-eval `results_*.json`
(one source per task, kind 'lm_eval', read by evalkit.results.read_lm_eval into a summary's shape). Directories
are searched recursively; globs are expanded. Anything malformed is an EvalkitError that names the file and field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EvalkitError
from ..store import find_files, read_json

SUMMARY = "evalkit.summary/v1"
RANKING = "evalkit.ranking/v1"
LEADERBOARDS = ("evalkit.leaderboard/v1", "evalkit.leaderboard/v2")  # v1 files still load
MANIFESTS = ("evalkit.manifest/v1", "evalkit.sweep-manifest/v1")
BENCH = "evalkit.bench/v1"  # `evalkit bench`: bench.json
_MISSING = object()


@dataclass
class Source:
    """One result document. `kind` is the summary's kind ('posix', 'csd', 'sweep', ...), or
    'ranking', 'leaderboard', 'incomplete' (a manifest without a summary)."""

    kind: str
    path: Path
    doc: dict
    manifest: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def dir(self) -> Path:
        return self.path.parent

    @property
    def task(self) -> str:
        if self.kind == "incomplete":
            task = self.doc.get("task")
            return str(task.get("name") if isinstance(task, dict) else task or self.doc.get("sweep") or self.dir.name)
        return str(self.doc.get("task") or self.dir.name)

    @property
    def model(self) -> str | None:
        if self.kind == "incomplete":
            m = self.doc.get("model")
            return str(m.get("name") if isinstance(m, dict) else m) if m else None
        m = self.doc.get("model")
        return None if m is None else str(m)

    @property
    def backend(self) -> str | None:
        b = self.doc.get("backend")
        if isinstance(b, dict):  # a manifest: the backend's identity
            b = b.get("backend")
        return None if b is None else str(b)

    def get(self, dotted: str, types: type | tuple[type, ...] | None = None, default: Any = _MISSING) -> Any:
        """The field at a dotted path; a missing field returns `default` or, with none given, is an
        error naming this file and the field; a present field of the wrong type always is."""
        cur: Any = self.doc
        for part in dotted.split("."):
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
                cur = cur[int(part)]
            else:
                if default is not _MISSING:
                    return default
                raise EvalkitError(f"{self.path}: field '{dotted}': missing")
        if types is not None and cur is not None and not isinstance(cur, types):
            want = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
            raise EvalkitError(f"{self.path}: field '{dotted}': expected {want}, got {type(cur).__name__}")
        return cur


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check_metric(path: Path, where: str, m: Any) -> None:
    """A metric is {"value": number|null, "stderr"?, "ci_low"?, "ci_high"?, "n"?} (numbers or null)."""
    if not isinstance(m, dict):
        raise EvalkitError(f"{path}: field '{where}': expected an object with a 'value'")
    if "value" not in m:
        raise EvalkitError(f"{path}: field '{where}.value': missing")
    for key in ("value", "stderr", "ci_low", "ci_high", "n"):
        v = m.get(key)
        if v is not None and not _is_num(v):
            raise EvalkitError(f"{path}: field '{where}.{key}': expected a number or null, got {type(v).__name__}")
        if isinstance(v, float) and not math.isfinite(v):
            raise EvalkitError(f"{path}: field '{where}.{key}': not a finite number")


def _check_summary(path: Path, doc: dict) -> None:
    metrics = doc.get("metrics")
    if not isinstance(metrics, dict):
        raise EvalkitError(f"{path}: field 'metrics': expected an object of metrics")
    for name, m in metrics.items():
        check_metric(path, f"metrics.{name}", m)
    breakdown = doc.get("breakdown", {})
    if not isinstance(breakdown, dict):
        raise EvalkitError(f"{path}: field 'breakdown': expected an object {{axis: {{level: {{metric: ...}}}}}}")
    for axis, levels in breakdown.items():
        if not isinstance(levels, dict):
            raise EvalkitError(f"{path}: field 'breakdown.{axis}': expected an object of levels")
        for level, ms in levels.items():
            if not isinstance(ms, dict):
                raise EvalkitError(f"{path}: field 'breakdown.{axis}.{level}': expected an object of metrics")
            for name, m in ms.items():
                check_metric(path, f"breakdown.{axis}.{level}.{name}", m)
    for key in ("task", "kind", "model", "backend"):
        if doc.get(key) is not None and not isinstance(doc[key], str):
            raise EvalkitError(f"{path}: field '{key}': expected a string, got {type(doc[key]).__name__}")


def _check_entries(path: Path, doc: dict, required=("model", "score")) -> None:
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise EvalkitError(f"{path}: field 'entries': expected a list")
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise EvalkitError(f"{path}: field 'entries.{i}': expected an object")
        for key in required:
            if key not in e:
                raise EvalkitError(f"{path}: field 'entries.{i}.{key}': missing")
        if not isinstance(e["model"], str):
            raise EvalkitError(f"{path}: field 'entries.{i}.model': expected a string")
        for key in ("score", "ci_low", "ci_high"):
            if e.get(key) is not None and not _is_num(e[key]):
                raise EvalkitError(f"{path}: field 'entries.{i}.{key}': expected a number or null")


def _check_csd(path: Path, doc: dict) -> None:
    _check_entries(path, doc, required=("model", "E_S"))
    for i, e in enumerate(doc["entries"]):
        for key in ("E_S", "mc_stderr"):
            d = e.get(key, {})
            if not isinstance(d, dict) or not all(_is_num(v) for v in d.values()):
                raise EvalkitError(f"{path}: field 'entries.{i}.{key}': expected an object of numbers by elimination setting")
        if e.get("fsa_drop") is not None and not _is_num(e["fsa_drop"]):
            raise EvalkitError(f"{path}: field 'entries.{i}.fsa_drop': expected a number or null")


def lm_eval_sources(path: Path, doc: dict) -> list[Source]:
    """An lm-eval results file as one summary-shaped source per task: its metrics named as in its
    `metric_list`, the first filter's under the bare name, every filter's under `breakdown.filter`
    (as evalkit's own lm-eval runs write them)."""
    from ..models import display_name
    from ..results import read_lm_eval

    res = read_lm_eval(path, doc)
    cfg = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    out = []
    for task, metrics in res.tasks.items():
        first = metrics[0].filter if metrics else "none"
        by_filter: dict[str, dict] = {}
        for m in metrics:
            by_filter.setdefault(m.filter, {})[m.metric] = {"value": m.value, "stderr": m.stderr, "n": res.n[task],
                                                            "higher_is_better": m.higher_is_better}
        summary = {
            "task": task, "kind": "lm_eval", "model": display_name(res.model), "backend": cfg.get("model"),
            "n_samples": res.n[task], "metrics": by_filter.get(first, {}),
            "breakdown": {"filter": by_filter} if len(by_filter) > 1 else {},
            "lm_eval_model": res.model, "model_args": cfg.get("model_args"),
            "n_shot": (doc.get("n-shot") or {}).get(task) if isinstance(doc.get("n-shot"), dict) else None,
            "lm_eval_version": doc.get("lm_eval_version"),
        }
        out.append(Source("lm_eval", path, {k: v for k, v in summary.items() if v is not None}))
    return out


def _manifest(path: Path) -> dict | None:
    m = path.parent / "manifest.json"
    if not m.is_file():
        return None
    doc = read_json(m)
    if not isinstance(doc, dict):
        raise EvalkitError(f"{m}: expected a JSON object")
    return doc


def classify(path: Path, doc: Any = _MISSING) -> Source:
    """The source a JSON file holds (by its `schema`), checked (`doc`: the file's JSON, when already read)."""
    doc = read_json(path) if doc is _MISSING else doc
    if not isinstance(doc, dict):
        raise EvalkitError(f"{path}: expected a JSON object")
    schema = doc.get("schema")
    if schema == SUMMARY:
        _check_summary(path, doc)
        kind = doc.get("kind")
        if kind is None:  # `evalkit code-exec` writes a kind-less summary
            kind = "code_exec" if "verdicts" in doc else "summary"
        if kind == "csd":
            _check_csd(path, doc)
        elif kind == "tournament" and doc.get("entries"):
            _check_entries(path, doc)
        return Source(str(kind), path, doc, _manifest(path))
    if schema == RANKING:
        _check_entries(path, doc)
        return Source("ranking", path, doc)
    if schema in LEADERBOARDS:
        _check_entries(path, doc, required=("model", "rank", "score"))
        if not isinstance(doc.get("per_benchmark", {}), dict):
            raise EvalkitError(f"{path}: field 'per_benchmark': expected an object")
        return Source("leaderboard", path, doc)
    if schema == BENCH:
        from ..bench.study import check_bench

        check_bench(path, doc)
        return Source("bench", path, doc)
    if schema in MANIFESTS:
        summary = path.parent / "summary.json"
        if summary.is_file():
            return classify(summary)
        return Source("incomplete", path, doc, doc)
    got = f"'{schema}'" if schema is not None else "none"
    raise EvalkitError(f"{path}: field 'schema': {got}; expected an evalkit summary, ranking, leaderboard or manifest")


def _schema(path: Path):
    doc = read_json(path)
    return doc.get("schema") if isinstance(doc, dict) else None


def discover(paths) -> list[Source]:
    """Every source under the given files, directories and globs, each once."""
    from ..results import is_lm_eval

    def ours(f: Path) -> bool:
        name = f.name
        if name in ("summary.json", "ranking.json", "bench.json"):
            return True
        if name.startswith("results_"):  # lm-eval's, by content
            return is_lm_eval(read_json(f))
        if name == "manifest.json":  # a run that never finished: no summary beside it
            return not (f.parent / "summary.json").exists() and _schema(f) in MANIFESTS
        return _schema(f) in LEADERBOARDS  # *leaderboard*.json by name only: kept when the content says it is ours

    files = find_files(paths, ("summary.json", "ranking.json", "bench.json", "results_*.json", "*leaderboard*.json",
                               "manifest.json"), keep=ours)
    sources, seen = [], set()
    for f in files:
        doc = read_json(f)
        for src in lm_eval_sources(f, doc) if is_lm_eval(doc) else [classify(f, doc)]:
            key = (src.path.resolve(), src.task if src.kind == "lm_eval" else "")
            if key not in seen:
                seen.add(key)
                sources.append(src)
    if not sources:
        raise EvalkitError(f"{' '.join(map(str, paths))}: no summary.json, ranking.json, leaderboard JSON or run manifest found")
    return sources
