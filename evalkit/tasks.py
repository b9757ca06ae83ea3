"""Finding and loading task definitions: YAML files validated against their kind's config, plus their data files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml

from .errors import EvalkitError, did_you_mean
from .kind import TaskSpec
from .readers import parse_yaml, read_text, read_yaml, validate
from .registry import KINDS


def builtin_dir(name: str) -> Path:
    """The built-in `tasks` or `judges` directory: an installed wheel's copy (setup.py puts it in
    evalkit/_builtin/), else the checkout's top-level directory (an editable install, a source tree)."""
    here = Path(__file__).resolve().parent
    packaged = here / "_builtin" / name
    return packaged if packaged.is_dir() else here.parent / name


def task_dirs(include: list[str] | None = None) -> list[Path]:
    """Where tasks are looked up, first wins: --include, $EVALKIT_TASKS, ./tasks, the built-in tasks."""
    dirs = [Path(p) for p in include or []]
    dirs += [Path(p) for p in os.environ.get("EVALKIT_TASKS", "").split(os.pathsep) if p]
    dirs += [Path.cwd() / "tasks", builtin_dir("tasks")]
    seen, out = set(), []
    for d in dirs:
        if d.is_dir() and d.resolve() not in seen:
            seen.add(d.resolve())
            out.append(d)
    return out


def find_tasks(include: list[str] | None = None) -> dict[str, Path]:
    """Task name -> YAML path, first directory wins."""
    found: dict[str, Path] = {}
    for d in task_dirs(include):
        for p in sorted(d.glob("*.y*ml")):
            try:
                doc = read_yaml(p.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError):  # reported when that task is run by its path
                continue
            if isinstance(doc, dict) and "task" in doc and "kind" in doc:
                found.setdefault(str(doc["task"]), p)
    return found


def parse_overrides(items: list[str] | None, flag: str = "-T") -> dict[str, Any]:
    """key=value items (`flag` names them in errors); each value is read as YAML (12 -> int, [a, b] -> list)."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise EvalkitError(f"{flag} '{item}': expected key=value")
        try:
            out[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError as e:
            raise EvalkitError(f"{flag} '{item}': the value is not valid YAML ({getattr(e, 'problem', None) or e}); "
                               "quote it to pass a string") from None
    return out


def load_task(name_or_path: str, overrides: dict[str, Any] | None = None, include: list[str] | None = None) -> TaskSpec:
    path = Path(name_or_path)
    if not (path.suffix in {".yaml", ".yml"} and path.is_file()):
        if path.suffix in {".yaml", ".yml"}:
            raise EvalkitError(f"{path}: task file not found")
        tasks = find_tasks(include)
        if name_or_path not in tasks:
            raise did_you_mean("task", name_or_path, tasks)
        path = tasks[name_or_path]
    doc = parse_yaml(read_text(path.read_bytes(), path), path)
    if not isinstance(doc, dict):
        raise EvalkitError(f"{path}: expected a mapping of task fields, got {type(doc).__name__}")
    lm_eval = "kind" not in doc and _lm_eval_kind().is_lm_eval(doc)
    if lm_eval:  # an lm-evaluation-harness task YAML: the `lm_eval` kind, which lm-eval itself loads
        doc, overrides = _lm_eval_kind().evalkit_doc(path, overrides or {})
    if "kind" not in doc:
        raise EvalkitError(f"{path}: field 'kind': required")
    doc = {**doc, **(overrides or {})}
    kind = KINDS.get(str(doc["kind"]), where=f"{path}: field 'kind'")
    config = validate(kind.Config, doc, str(path))
    h = hashlib.sha256(json.dumps(config.model_dump(), sort_keys=True).encode())
    if config.data in kind.named_data:  # a data set the kind loads by name (e.g. HumanEval from its package)
        h.update(kind.named_data[config.data]().encode())
    else:
        data = (path.parent / config.data).resolve()
        if not data.is_file():
            raise EvalkitError(f"{path}: field 'data': file not found: {data}")
        h.update(data.read_bytes())
        if lm_eval:  # its includes, data files and hooks
            h.update(_lm_eval_kind().fingerprint(data))
    if getattr(config, "fewshot", None):  # a few-shot examples file (evalkit.fewshot) is task content too
        shots = (path.parent / config.fewshot).resolve()
        if not shots.is_file():
            raise EvalkitError(f"{path}: field 'fewshot': file not found: {shots}")
        h.update(shots.read_bytes())
    return TaskSpec(config.task, path.resolve(), config, "sha256:" + h.hexdigest())


def _lm_eval_kind():
    from .kinds import lmeval  # the kind module (not at import: kinds import this module's callers)

    return lmeval


