"""Runs one task for one model: manifest, streamed records, resume, summary, progress."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backends import CachedBackend, backend_class, lora_engine_options, resolve_backend
from .cache import ResponseCache, cache_path
from .context import RecordWriter, RunContext
from .errors import EvalkitError
from .kinds import kind_class
from .metrics import annotate
from .models import DEFAULT_MODEL, ModelSpec, adapter_hash, needs_build, resolve_model, weights_hash
from .progress import Progress
from .store import Manifest, Summary, finite, lock_run_dir, make_run_dir, now, provenance, record_key, safe_name, write_json
from .tasks import load_task

SUMMARY_SCHEMA = "evalkit.summary/v1"


@dataclass(frozen=True)
class Run:
    out: Path
    summary: Summary
    reused: bool = False  # True: the run was complete already and nothing was computed

    def records(self):
        from .results import load_results

        return load_results(self.out)

    def metrics(self):
        from .results import load_summaries

        return load_summaries(self.out)


class EnginePool:
    """Backend engines kept open across runs, so a suite loads each model once for all of its tasks. It
    holds one engine at a time: asking for another model (or other engine options) closes the previous
    one first, so one model is in memory."""

    def __init__(self):
        self._key: tuple | None = None
        self._engine = None
        self.loads = 0  # engines started, for the suite benchmark and tests

    def get(self, bcls, mspec: ModelSpec, options: dict):
        key = (bcls.__module__, bcls.__qualname__, mspec.path, mspec.weights_hash, json.dumps(options, sort_keys=True, default=str))
        if key != self._key:
            self.close()
            self._engine = bcls(mspec, **options)
            self._key = key
            self.loads += 1
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            engine, self._engine, self._key = self._engine, None, None
            engine.close()


def _check_adapter_base(adapter: Path, model: ModelSpec) -> None:
    """An adapter trained on another checkpoint would load silently on a model of the same shape: where
    its recorded base is a local checkpoint, its weights must be the run's."""
    base = json.loads((adapter / "adapter_config.json").read_text()).get("base_model_name_or_path")
    if base and Path(base).is_dir() and model.weights_hash and Path(base).resolve() != Path(model.path).resolve():
        try:
            same = weights_hash(Path(base)) == model.weights_hash
        except EvalkitError:
            return
        if not same:
            raise EvalkitError(f"{adapter}/adapter_config.json: field 'base_model_name_or_path': {base} is not "
                               f"the run's model ({model.name})")


def run(
    task: str,
    model: str = DEFAULT_MODEL,
    backend: str = "hf",
    *,
    limit: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    backend_options: dict[str, Any] | None = None,
    cache: bool | str | Path = True,
    quiet: bool = True,
    include: list[str] | None = None,
    engines: EnginePool | None = None,
    results_root: str | Path = "results",
) -> Run:
    """Run one task definition for one model; the same call again resumes or reuses finished work.

    `cache`: True for the user response cache ($EVALKIT_RESPONSE_CACHE, else <cache dir>/responses.sqlite),
    a path for another SQLite file, False for none. `engines`: an EnginePool that outlives this run (a
    suite's: the model stays loaded for the next task); without one the engine is closed at the end.
    `out` is the run directory; without it the run goes to <results_root>/<task>/<model>/<run-id>.
    Returns the run directory and its summary.
    """
    progress = Progress(quiet)  # status lines from the first second
    with progress.phase(f"loading task {task}"):
        spec = load_task(task, overrides, include)
        kind = kind_class(spec.config.kind)(spec, seed)
        samples = kind.samples()
    if not samples:  # a summary over nothing would look like a result
        raise EvalkitError(f"{spec.path}: field 'data': no samples in {spec.config.data}")
    if limit is not None:
        if limit < 1:
            raise EvalkitError(f"--limit: must be >= 1, got {limit}")
        samples = samples[:limit]
    if kind.uses_model:
        backend = resolve_backend(backend)
        bcls = backend_class(backend)
        with progress.phase(f"{'converting (first use, once)' if needs_build(model) else 'resolving'} model {model}"):
            mspec = resolve_model(model, remote=getattr(bcls, "remote", False))
    else:  # e.g. CSD over a score table: no model is loaded
        bcls, mspec, backend = None, ModelSpec("none", "", "", "none"), "none"
    options = dict(backend_options or {})
    identity = {
        "task_hash": spec.content_hash,
        "model": mspec.name,
        "weights_hash": mspec.weights_hash,
        "backend": backend,
        "backend_options": options,
        "seed": seed,
        "limit": limit,
    }
    adapters = kind.adapters() if kind.uses_model else {}
    models = {role: resolve_model(name, remote=getattr(bcls, "remote", False))
              for role, name in (kind.models() if kind.uses_model else {}).items()}
    if models:  # only then, so the ids of other runs stay as they were
        identity["models"] = {role: [m.name, m.weights_hash] for role, m in sorted(models.items())}
    if adapters and backend not in ("hf", "vllm"):
        raise EvalkitError(f"backend '{backend}': LoRA adapters (players {', '.join(sorted(adapters))}) run on the hf or vllm "
                           "backends; for a server, serve each adapter under its own model name")
    if adapters:  # only then, so the ids of runs without adapters stay as they were
        identity["adapters"] = {name: adapter_hash(p) for name, p in sorted(adapters.items())}
        for p in adapters.values():
            _check_adapter_base(p, mspec)
    run_id = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    out = Path(out) if out else Path(results_root) / safe_name(spec.name) / safe_name(mspec.name) / run_id
    make_run_dir(out)
    lock = lock_run_dir(out)  # closed in the finally below (or with this frame)
    manifest_path, summary_path = out / "manifest.json", out / "summary.json"
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text())
        except json.JSONDecodeError:
            raise EvalkitError(f"{manifest_path}: malformed JSON; move the directory away or pick another -o") from None
        if old.get("run_id") != run_id:
            raise EvalkitError(f"{manifest_path}: field 'run_id': {out} holds a different run; pick another -o")
        if old.get("status") == "complete" and summary_path.exists():
            lock.close()
            return Run(out, json.loads(summary_path.read_text()), reused=True)

    if models and backend == "vllm" and "gpu_memory_utilization" not in options:
        from .backends.vllm import on_gpu

        # two engines at once (e.g. the players' and the judge's) share a GPU
        options = {**options, "gpu_memory_utilization": 0.9 / (1 + len(models)) if on_gpu() else 0.2}
    engine_options = {**lora_engine_options(list(adapters.values())), **options} if adapters and backend == "vllm" else options
    pool = engines if engines is not None else EnginePool()
    engine = None
    if bcls:
        with progress.phase(f"loading model {mspec.name} on {backend}"):
            engine = pool.get(bcls, mspec, engine_options)
    rcache = ResponseCache(cache_path(cache)) if cache and engine else None
    cached = CachedBackend(engine, rcache) if engine else None
    manifest: Manifest = {
        "schema": "evalkit.manifest/v1",
        "run_id": run_id,
        "status": "running",
        "task": {"name": spec.name, "kind": spec.config.kind, "path": str(spec.path), "content_hash": spec.content_hash,
                 "config": spec.config.model_dump()},
        "model": {"name": mspec.name, "path": mspec.path, "weights_hash": mspec.weights_hash, "source": mspec.source},
        "backend": (cached.identity if cached else {"backend": "none"}) | {"options": options},
        "seed": seed,
        "seeding": "per-unit seeds = sha256(seed, task, sample id, variant)[:4 bytes]",
        "limit": limit,
        **({"adapters": {n: {"path": str(p), "hash": identity["adapters"][n]} for n, p in sorted(adapters.items())}}
           if adapters else {}),
        **({"models": {role: {"name": m.name, "path": m.path, "weights_hash": m.weights_hash, "source": m.source}
                       for role, m in sorted(models.items())}} if models else {}),
        "n_samples": len(samples),
        "cache": str(rcache.path) if rcache else None,
        **provenance(),
        "started": now(),
        "ended": None,
    }
    write_json(manifest_path, manifest)
    writer = None
    tokens: dict[str, int] = {}
    try:
        writer = RecordWriter(out / "records.jsonl")  # an unreadable records file: the manifest says failed
        ctx = RunContext(spec.name, cached, writer, progress, tokens, options, adapters, models)
        kind.run(samples, ctx)
        ids = {str(s["id"]) for s in samples}
        records = sorted((r for r in writer.records if str(r["id"]) in ids), key=record_key)
        body = kind.summarize(records)
        summary: Summary = {
            "schema": SUMMARY_SCHEMA,
            "task": spec.name,
            "kind": spec.config.kind,
            "model": mspec.name,
            "backend": backend,
            "run_id": run_id,
            "seed": seed,
            "n_samples": len(samples),
            "primary_metric": kind.primary_metric,
            "metrics": annotate(body["metrics"]),
            "breakdown": {axis: {level: annotate(m) if isinstance(m, dict) else m for level, m in levels.items()}
                          for axis, levels in body.get("breakdown", {}).items()},
            **{k: v for k, v in body.items() if k not in ("metrics", "breakdown")},  # kind-specific extras
        }
        summary = finite(summary)
        write_json(summary_path, summary)
        kind.write_artifacts(out, summary, records)
        manifest.update(status="complete", ended=now(), cache_hits=cached.hits if cached else 0, tokens_processed=tokens)
        write_json(manifest_path, manifest)
        return Run(out, summary)
    except BaseException as e:
        manifest.update(status="failed", ended=now(), error=f"{type(e).__name__}: {e}")
        write_json(manifest_path, manifest)
        raise
    finally:
        lock.close()
        if writer:
            writer.close()
        if rcache:
            rcache.close()
        if engines is None:
            pool.close()
