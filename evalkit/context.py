"""What a task kind sees of a run: RunContext (stages of requests through the cached backend, records
out) and the append-only RecordWriter behind it."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .backends import CachedBackend, with_adapter
from .models import ModelSpec
from .progress import Progress
from .requests import Generation, Request, Result
from .store import finite, read_records, record_key


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
        record = finite(record)  # what is kept in memory is exactly what a resumed run reads back
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


