"""Where a suite's runs execute: `local` (this process, the models one after another) or `ray` (one Ray
task per model on any node of a Ray cluster). Either way every (task, model) pair is the ordinary
resumable `runner.run` under the same results root, so the two give the same run directories and
summaries.

A model's runs are one stream of events, the same on both executors: ("start", j) before its j-th
task and ("row", j, row) after it. On Ray that stream is a streaming generator task: the driver sees
each event as it happens (the suite's progress). When a worker dies, Ray retries the task (max_retries)
and replays the stream, keeping the events already delivered (it counts them by position: each model
always yields two per task); the retried runs resume from their run directories (a finished run is
reused, a partial one computes only its missing samples, no record twice).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from .backends import resolve_backend
from .errors import EvalkitError
from .runner import EnginePool, run

if TYPE_CHECKING:
    from .suite import SuiteModel, SuiteTask

EXECUTORS = ("local", "ray")
RAY_MAX_RETRIES = 3  # Ray's default for tasks, pinned: a cluster-wide default must not turn retries off
# what a worker resolves as the driver does (task directories, model and response caches, offline hubs)
# and torch's thread count: float sums over other thread counts differ in the last bits (a Ray task of one CPU
# gets OMP_NUM_THREADS=1 from Ray where the driver sets none)
_FORWARDED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "OMP_NUM_THREADS")


def model_runs(model: SuiteModel, tasks: Sequence[SuiteTask], settings: dict[str, Any], pool: EnginePool) -> Iterator[tuple]:
    """Every task of one model, as events; a pair that fails is a `failed` row and does not stop the others.
    `settings`: run_suite's backend, limit, seed, out, overrides, backend_options, cache, quiet, include."""
    s = settings
    mb = resolve_backend(model.backend or s["backend"])  # `auto` resolved where the runs happen; rows say which engine ran
    for j, t in enumerate(tasks):
        yield ("start", j)
        t0 = time.perf_counter()
        row = {"task": t.task, "model": model.model, "backend": mb}
        try:
            r = run(t.task, model.model, mb, limit=t.limit if t.limit is not None else s["limit"], seed=s["seed"],
                    overrides={**t.overrides, **s["overrides"]}, backend_options={**model.options, **s["backend_options"]},
                    cache=s["cache"], quiet=s["quiet"], include=s["include"], engines=pool, results_root=s["out"])
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001 -- one failing pair must not stop the others; its error is reported
            pool.close()  # an engine that raised may be in a bad state: the next pair loads afresh
            yield ("row", j, {**row, "status": "failed", "seconds": round(time.perf_counter() - t0, 2), "error": _message(e)})
            continue
        summary = r.summary
        pm = summary.get("primary_metric")
        metric = (summary.get("metrics") or {}).get(pm) or {}
        yield ("row", j, {**row, "task": summary["task"], "model": summary["model"], "status": "reused" if r.reused else "complete",
                          "primary_metric": pm, "value": metric.get("value"), "ci_low": metric.get("ci_low"),
                          "ci_high": metric.get("ci_high"), "n": metric.get("n"), "seconds": round(time.perf_counter() - t0, 2),
                          "run_id": summary.get("run_id"), "out": str(r.out), "error": None})


def _message(e: BaseException) -> str:
    return str(e) if isinstance(e, EvalkitError) else f"{type(e).__name__}: {e}"


def execute(executor: str, models: Sequence[SuiteModel], tasks: Sequence[SuiteTask], settings: dict[str, Any], *,
            on_pair=None, ray_address: str | None = None) -> tuple[list[dict], int]:
    """Run every (task, model) pair; returns one row per pair in the suite's order (models outer) and the
    number of engines loaded. `on_pair(i, n, task, model)` as each pair starts, i = pairs done so far."""
    if executor not in EXECUTORS:
        raise EvalkitError(f"--executor {executor}: expected one of {', '.join(EXECUTORS)}")
    n, rows, loads = len(models) * len(tasks), {}, 0
    events = _ray(models, tasks, settings, ray_address) if executor == "ray" else _local(models, tasks, settings)
    for mi, ev in events:
        if ev[0] == "start" and on_pair:
            on_pair(len(rows), n, tasks[ev[1]].task, models[mi].model)
        elif ev[0] == "row":
            rows[mi, ev[1]] = ev[2]
        elif ev[0] == "loads":
            loads += ev[1]
        elif ev[0] == "lost":  # a Ray task that failed for good: its pairs without a row fail with its error
            m = models[mi]
            for j, t in enumerate(tasks):
                rows.setdefault((mi, j), {"task": t.task, "model": m.model, "backend": m.backend or settings["backend"],
                                          "status": "failed", "seconds": None, "error": ev[1]})
    return [rows[mi, j] for mi in range(len(models)) for j in range(len(tasks))], loads


def _local(models, tasks, settings) -> Iterator[tuple[int, tuple]]:
    pool = EnginePool()  # one for the suite: each model is loaded once, one model in memory at a time
    try:
        for mi, m in enumerate(models):
            for ev in model_runs(m, tasks, settings, pool):
                yield mi, ev
    finally:
        pool.close()
    yield 0, ("loads", pool.loads)


# ------------------------------------------------------------------------------------------- Ray


def ray_resources(backend: str, options: dict[str, Any], cluster_gpus: float) -> dict[str, float]:
    """What one model's Ray task asks for. vllm: tensor_parallel_size x data_parallel_size GPUs (one node's:
    a task runs on one node); hf: one GPU, since it runs on cuda wherever it sees one, unless device=cpu.
    On a cluster without GPUs (vLLM's CPU build, hf on CPU) and for API backends: one CPU."""
    gpus = 0
    if backend == "vllm":
        gpus = int(options.get("tensor_parallel_size") or 1) * int(options.get("data_parallel_size") or 1)
    elif backend == "hf" and not str(options.get("device") or "cuda").startswith("cpu"):
        gpus = 1
    return {"num_cpus": 1, "num_gpus": gpus} if gpus and cluster_gpus else {"num_cpus": 1}


def ray_model_task(cwd: str, model: SuiteModel, tasks: Sequence[SuiteTask], settings: dict[str, Any]) -> Iterator[tuple]:
    """One model's runs on a Ray worker (a streaming generator task): in the driver's working directory, so
    relative paths (tasks, checkpoints, the results root) mean what they mean on the driver, with an engine
    pool of its own."""
    if not os.path.isdir(cwd):
        import socket

        raise EvalkitError(f"{cwd}: the driver's working directory is not on Ray node {socket.gethostname()}; "
                           "run from a directory every node sees at the same path (a shared file system)")
    os.chdir(cwd)
    pool = EnginePool()
    try:
        yield from model_runs(model, tasks, settings, pool)
    finally:
        pool.close()
    yield ("loads", pool.loads)


def _ray(models, tasks, settings, address: str | None) -> Iterator[tuple[int, tuple]]:
    """One Ray task per model. With no address (nor RAY_ADDRESS) a local cluster is started for the suite
    and shut down after; a Ray already initialised in this process is used as it is. Ray's driver prints
    its own messages (a worker lost, a retry) to stdout: here they go to stderr, and stdout stays the
    suite's result (`--json`)."""
    import contextlib
    import logging
    import sys

    import ray

    with contextlib.redirect_stdout(sys.stderr):
        started = not ray.is_initialized()
        if started:
            address = address or os.environ.get("RAY_ADDRESS") or "local"
            try:
                ray.init(address=address, log_to_driver=not settings["quiet"], logging_level=logging.WARNING,
                         **({"include_dashboard": False} if address == "local" else {}))
            except (ConnectionError, ValueError, RuntimeError) as e:
                raise EvalkitError(f"--ray-address {address}: cannot connect to a Ray cluster "
                                   f"({str(e).strip().splitlines()[0]})") from None
        try:
            cluster_gpus = ray.cluster_resources().get("GPU", 0)
            env = {k: v for k, v in os.environ.items() if k.startswith("EVALKIT_") or k in _FORWARDED_ENV}
            remote = ray.remote(ray_model_task)
            # per-stage bars from many workers would interleave on the driver: its progress is the suite's
            worker_settings = {**settings, "quiet": True}
            streams = {}
            for mi, m in enumerate(models):
                options = {**m.options, **settings["backend_options"]}
                task = remote.options(**ray_resources(m.backend or settings["backend"], options, cluster_gpus),
                                      max_retries=RAY_MAX_RETRIES, runtime_env={"env_vars": env}, name=f"evalkit {m.model}")
                streams[task.remote(os.getcwd(), m, list(tasks), worker_settings)] = mi
            while streams:
                ready, _ = ray.wait(list(streams), num_returns=1)
                for stream in ready:
                    mi = streams[stream]
                    try:
                        ev = ray.get(next(stream))
                    except StopIteration:
                        del streams[stream]
                        continue
                    except ray.exceptions.RayError as e:  # its retries spent, its node gone, or it raised before any run
                        del streams[stream]
                        cause = e.cause if isinstance(e, ray.exceptions.RayTaskError) and e.cause is not None else None
                        yield mi, ("lost", _message(cause) if cause else f"ray: {type(e).__name__}: {str(e).strip().splitlines()[0]}")
                        continue
                    yield mi, ev
        finally:
            if started:
                ray.shutdown()
