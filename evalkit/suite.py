"""Suites: many tasks x many models in one call. Each (task, model) pair is the ordinary resumable run
(`runner.run`) under OUT/<task>/<model>/<run-id>/; a model is loaded once for all of its tasks; a pair
that fails does not stop the others.

A suite file (`evalkit run tasks/suites/NAME.yaml`):

    suite: demo
    seed: 0
    limit: 20                      # default for every task
    tasks:
      - posix_mcq                  # a task name or a YAML path (relative to the suite file)
      - {task: mcq, limit: 40, overrides: {prompt_format: chat, task: mcq_chat}}
    models:
      - smollm2-135m-instruct
      - {model: tiny-random, backend: hf, options: {dtype: float32}}
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

from pydantic import BaseModel, ConfigDict

from .errors import EvalkitError
from .runner import EnginePool, run
from .readers import load_yaml_mapping, parse_yaml, validate
from .tasks import task_dirs

SUITE_COLUMNS = ["task", "model", "backend", "status", "primary_metric", "value", "ci_low", "ci_high", "n", "seconds", "run_id",
                 "out", "error"]


class SuiteTask(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    overrides: dict[str, Any] = {}
    limit: int | None = None


class SuiteModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    backend: str | None = None  # default: the suite's (or the command's -b)
    options: dict[str, Any] = {}  # backend options, as -B


class SuiteFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: str
    description: str = ""
    tasks: list[str | SuiteTask]
    models: list[str | SuiteModel]
    backend: str = "hf"
    seed: int = 0
    limit: int | None = None
    output: str | None = None  # results root (default results/)


def suite_dirs(include: list[str] | None = None) -> list[Path]:
    """`suites/` under each task directory (the built-in one ships inside the package)."""
    return [d / "suites" for d in task_dirs(include) if (d / "suites").is_dir()]


def find_suite(name_or_path: str, include: list[str] | None = None) -> Path | None:
    """The suite file a `run` argument names (a path, or a name in a suites/ directory), else None."""
    p = Path(name_or_path)
    candidates = [p] if p.suffix in (".yaml", ".yml") else [d / f"{name_or_path}.yaml" for d in suite_dirs(include)]
    for c in candidates:
        if c.is_file():
            doc = parse_yaml(c.read_text(encoding="utf-8", errors="replace"), c)
            if isinstance(doc, dict) and "suite" in doc:
                return c
    return None


def load_suite(path: str | Path) -> SuiteFile:
    path = Path(path)
    suite = validate(SuiteFile, load_yaml_mapping(path, "suite file: suite, tasks and models"), str(path))
    for field in ("tasks", "models"):
        if not getattr(suite, field):
            raise EvalkitError(f"{path}: field '{field}': at least one is needed")
    # task paths are relative to the suite file; names are looked up as usual
    tasks = [_task(t) for t in suite.tasks]
    tasks = [t.model_copy(update={"task": str((path.parent / t.task).resolve())})
             if t.task.endswith((".yaml", ".yml")) and (path.parent / t.task).is_file() else t for t in tasks]
    return suite.model_copy(update={"tasks": tasks, "models": [_model(m) for m in suite.models]})


def _task(t: str | dict | SuiteTask) -> SuiteTask:
    return t if isinstance(t, SuiteTask) else SuiteTask(task=t) if isinstance(t, str) else validate(SuiteTask, t, "suite task")


def _model(m: str | dict | SuiteModel) -> SuiteModel:
    return m if isinstance(m, SuiteModel) else SuiteModel(model=m) if isinstance(m, str) else validate(SuiteModel, m, "suite model")


def run_suite(
    tasks: Sequence[str | dict | SuiteTask],
    models: Sequence[str | dict | SuiteModel],
    *,
    backend: str = "hf",
    limit: int | None = None,
    seed: int = 0,
    out: str | Path = "results",
    overrides: dict[str, Any] | None = None,
    backend_options: dict[str, Any] | None = None,
    cache: bool | str | Path = True,
    quiet: bool = True,
    include: list[str] | None = None,
    on_pair=None,
):
    """Run every task for every model; returns one row per (task, model) pair as a pandas DataFrame
    (status `complete`, `reused` (finished before, nothing computed) or `failed` with its error).

    Models are the outer loop and share one EnginePool, so each is loaded once for all of its tasks.
    `overrides` / `backend_options` apply to every task / model, on top of their own. `on_pair(i, n,
    task, model)` is called before each pair (the CLI's suite progress line).
    """
    import pandas as pd

    tasks, models = [_task(t) for t in tasks], [_model(m) for m in models]
    pairs = [(t, m) for m in models for t in tasks]
    rows = []
    pool = EnginePool()
    try:
        for i, (t, m) in enumerate(pairs):
            mb = m.backend or backend
            if on_pair:
                on_pair(i, len(pairs), t.task, m.model)
            t0 = time.perf_counter()
            row = {"task": t.task, "model": m.model, "backend": mb}
            try:
                r = run(t.task, m.model, mb, limit=t.limit if t.limit is not None else limit, seed=seed,
                        overrides={**t.overrides, **(overrides or {})}, backend_options={**m.options, **(backend_options or {})},
                        cache=cache, quiet=quiet, include=include, engines=pool, results_root=out)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as e:  # noqa: BLE001 -- one failing pair must not stop the others; its error is reported
                pool.close()  # an engine that raised may be in a bad state: the next pair loads afresh
                rows.append({**row, "status": "failed", "seconds": round(time.perf_counter() - t0, 2),
                             "error": f"{type(e).__name__}: {e}" if not isinstance(e, EvalkitError) else str(e)})
                continue
            s = r.summary
            pm = s.get("primary_metric")
            metric = (s.get("metrics") or {}).get(pm) or {}
            rows.append({**row, "task": s["task"], "model": s["model"], "status": "reused" if r.reused else "complete",
                         "primary_metric": pm, "value": metric.get("value"), "ci_low": metric.get("ci_low"),
                         "ci_high": metric.get("ci_high"), "n": metric.get("n"), "seconds": round(time.perf_counter() - t0, 2),
                         "run_id": s.get("run_id"), "out": str(r.out), "error": None})
    finally:
        pool.close()
    df = pd.DataFrame(rows, columns=SUITE_COLUMNS)
    df.attrs["engine_loads"] = pool.loads
    return df
