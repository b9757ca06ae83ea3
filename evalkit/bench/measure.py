"""Timing one backend configuration on a workload: warm-up excluded, repeats kept, spreads reported.

Per repeat: wall seconds of the one bulk call, requests/s, tokens/s, and for generation the latency
percentiles of the requests. Definitions:
- tokens/s, generation: generated tokens (a greedy request's sample once: backends decode it once) / wall s;
- tokens/s, log-likelihood: context + continuation tokens of every request, as sent / wall s (so a
  backend that shares a context among its continuations shows it as throughput);
- latency: for each request, the time from the start of the call until the backend delivered its
  result (`on_result`): what a run waits before it can write that record. vLLM's offline engine
  delivers a whole stage at once, so its percentiles equal the wall time.
Percentiles are numpy's default (linear interpolation between order statistics).
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np


def spread(values: list[float]) -> dict:
    """mean, sample standard deviation (n - 1; null for one value), min, max, n and the values."""
    v = [float(x) for x in values]
    n = len(v)
    mean = sum(v) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1)) if n > 1 else None
    return {"mean": mean, "std": std, "min": min(v), "max": max(v), "n": n, "values": v}


def ratio(best: dict, default: dict) -> dict:
    """best mean / default mean, with the first-order (delta-method) standard error of a ratio of two
    independent means, r * sqrt((se_b / m_b)^2 + (se_d / m_d)^2) with se = std / sqrt(n), and the
    extreme range over the repeats, [min_b / max_d, max_b / min_d]."""
    mb, md = best["mean"], default["mean"]
    r = mb / md
    se = None
    if best["std"] is not None and default["std"] is not None:
        se = r * math.sqrt((best["std"] / math.sqrt(best["n"]) / mb) ** 2 + (default["std"] / math.sqrt(default["n"]) / md) ** 2)
    return {"value": r, "stderr": se, "low": best["min"] / default["max"], "high": best["max"] / default["min"]}


def timings(fn: Callable[[], object], repeat: int = 1) -> tuple[list[float], object]:
    """Wall seconds of `repeat` calls of fn, and the last call's output."""
    secs, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t)
    return secs, out


def _reset_prefix_cache(engine) -> None:
    # Repeats send the same prompts: with vLLM's prefix cache kept, every repeat after the first would
    # find them cached, which a run (each request sent once) never does.
    llm = getattr(engine, "llm", None)
    if llm is not None and hasattr(llm, "reset_prefix_cache"):
        llm.reset_prefix_cache()


def measure(engine, workload, repeats: int, warmup: int) -> dict:
    """Time `repeats` calls of the workload on a started engine, after a warm-up call on its first
    `warmup` requests (excluded)."""
    fn = getattr(engine, workload.method)
    reqs = list(workload.requests)
    if warmup:
        fn(reqs[:warmup])
    runs = []
    for _ in range(repeats):
        _reset_prefix_cache(engine)
        done: list[float] = []
        t0 = time.perf_counter()
        res = fn(reqs, lambda i, r: done.append(time.perf_counter()))
        wall = time.perf_counter() - t0
        if workload.method == "generate":
            tokens = sum(len(g.token_ids[0]) if r.config.greedy else sum(map(len, g.token_ids)) for r, g in zip(reqs, res))
        else:
            tokens = sum(workload.prompt_tokens)
        run = {"seconds": wall, "tokens_per_s": tokens / wall, "requests_per_s": len(reqs) / wall, "tokens": tokens}
        if workload.method == "generate":
            lat = np.asarray([d - t0 for d in done] if len(done) == len(reqs) else [wall] * len(reqs))
            run.update({f"latency_p{q}_s": float(np.percentile(lat, q)) for q in (50, 90, 99)})
        runs.append(run)
    out = {k: spread([r[k] for r in runs]) for k in runs[0] if k != "tokens"}
    out["tokens"] = spread([r["tokens"] for r in runs])["mean"]
    out["requests"] = len(reqs)
    return out
