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
    executor: local                # or ray: one Ray task per model (evalkit/executors.py)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Sequence

from pydantic import BaseModel, ConfigDict

from .errors import EvalkitError
from .executors import execute
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
    executor: Literal["local", "ray"] = "local"  # --executor on the command line wins


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
    executor: str = "local",
    ray_address: str | None = None,
):
    """Run every task for every model; returns one row per (task, model) pair as a pandas DataFrame
    (status `complete`, `reused` (finished before, nothing computed) or `failed` with its error).

    `executor`: `local` runs the models one after another in this process, sharing one EnginePool, so
    each is loaded once for all of its tasks; `ray` runs each model's tasks as one Ray task on the cluster
    at `ray_address` (default $RAY_ADDRESS, else a local cluster started for the suite; a Ray already
    initialised in this process is used as it is), with the same rows, run directories and summaries.
    `overrides` / `backend_options` apply to every task / model, on top of their own. `on_pair(i, n,
    task, model)` is called as each pair starts, i = pairs done so far (the CLI's suite progress line).
    """
    import pandas as pd

    tasks, models = [_task(t) for t in tasks], [_model(m) for m in models]
    settings = {"backend": backend, "limit": limit, "seed": seed, "out": out, "overrides": overrides or {},
                "backend_options": backend_options or {}, "cache": cache, "quiet": quiet, "include": include}
    rows, loads = execute(executor, models, tasks, settings, on_pair=on_pair, ray_address=ray_address)
    df = pd.DataFrame(rows, columns=SUITE_COLUMNS)
    df.attrs["engine_loads"] = loads
    return df
