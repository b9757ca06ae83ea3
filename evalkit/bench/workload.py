"""What `evalkit bench` sends: synthetic prompts of stated lengths, or the requests a task sends.

- `generate`: N greedy generations of up to T tokens from prompts of about L tokens (windows of the
  shipped corpus, each at its own seeded offset).
- `loglikelihood`: N contexts of about L tokens, each scored with K continuations of about T tokens
  (the shape of multiple choice: continuations share their context).
- a task name or YAML: the requests of the task's first stage (later stages depend on the model's
  answers), for its first N samples.

Token counts are the backend's own tokenisation (`Tokenization`, shared by hf and vllm).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ..errors import EvalkitError
from ..requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest, Request
from ..seeding import derive_seed


@dataclass(frozen=True)
class Workload:
    name: str  # generate | loglikelihood | the task's name
    method: str  # the backend method: generate | loglikelihood
    requests: tuple[Request, ...]
    prompt_tokens: tuple[int, ...]  # per request: the prompt (generate) or context + continuation (loglikelihood)
    spec: dict  # what built it, for bench.json and the study identity

    def describe(self) -> dict:
        n = self.prompt_tokens
        return {**self.spec, "method": self.method, "n_requests": len(self.requests),
                "request_tokens": {"total": sum(n), "mean": sum(n) / len(n), "min": min(n), "max": max(n)}}


def _windows(tok, n: int, length: int, seed: int, label: str) -> list[str]:
    base = tok.tokenizer.encode(files("evalkit").joinpath("assets/tiny_corpus.txt").read_text(), add_special_tokens=False)
    ids = base * -(-(length + len(base)) // len(base))  # a window may wrap around the corpus
    out = []
    for i in range(n):
        off = derive_seed(seed, "bench", label, i) % len(base)
        out.append(tok.tokenizer.decode(ids[off : off + length], skip_special_tokens=True))
    return out


def _task_requests(task: str, tok, limit: int, seed: int) -> tuple[str, list[Request], dict]:
    """The task's first stage, captured: its kind runs against a context whose `stage` records the
    requests and stops the run."""
    from ..kinds import kind_class
    from ..context import RecordWriter, RunContext
    from ..tasks import load_task

    spec = load_task(task)
    kind = kind_class(spec.config.kind)(spec, seed)
    if not kind.uses_model:
        raise EvalkitError(f"--workload {task}: a '{spec.config.kind}' task sends no requests to a model")
    samples = kind.samples()[:limit]

    class Frontend:  # what kinds ask of the backend before they send anything
        name, scores_token_ids, chat_template = "bench", True, tok.chat_template
        render_chat = staticmethod(tok.render_chat)

    class Captured(Exception):
        pass

    seen: dict = {}

    def stage(label, method, units, on_unit_done, backend=None):
        reqs = [r for _, rs in units for r in rs]
        if reqs:
            seen.update(method=method, requests=list(dict.fromkeys(reqs)), stage=label)  # sent once each (CachedBackend)
            raise Captured

    with tempfile.TemporaryDirectory() as d:
        writer = RecordWriter(Path(d) / "records.jsonl")
        ctx = RunContext(spec.name, Frontend(), writer, None, {})  # no progress: nothing is computed
        ctx.stage = stage
        try:
            kind.run(samples, ctx)
        except Captured:
            pass
        finally:
            writer.close()
    if not seen:
        raise EvalkitError(f"--workload {task}: the task sent no requests")
    return seen["method"], seen["requests"], {"task": spec.name, "task_hash": spec.content_hash, "stage": seen["stage"],
                                              "samples": len(samples)}


def build_workload(workload: str, tok, prompts: int, prompt_tokens: int, max_tokens: int, choices: int,
                   seed: int = 0) -> Workload:
    if min(prompts, prompt_tokens, max_tokens, choices) < 1:
        raise EvalkitError("--prompts, --prompt-tokens, --max-tokens and --choices must be >= 1")
    if workload == "generate":
        texts = _windows(tok, prompts, prompt_tokens, seed, "prompt")
        reqs = [GenerateRequest(prompt=t, config=GenerationConfig(max_tokens=max_tokens)) for t in texts]
        spec = {"type": "generate", "prompts": prompts, "prompt_tokens": prompt_tokens, "max_tokens": max_tokens}
        method = "generate"
    elif workload == "loglikelihood":
        ctxs = _windows(tok, prompts, prompt_tokens, seed, "context")
        conts = _windows(tok, prompts * choices, max_tokens, seed, "continuation")
        reqs = [LoglikelihoodRequest(c, " " + conts[i * choices + k].strip()) for i, c in enumerate(ctxs) for k in range(choices)]
        spec = {"type": "loglikelihood", "prompts": prompts, "prompt_tokens": prompt_tokens, "continuation_tokens": max_tokens,
                "choices": choices}
        method = "loglikelihood"
    else:
        method, reqs, spec = _task_requests(workload, tok, prompts, seed)
        spec = {"type": "task", **spec}
    if method == "generate":
        counts = [len(tok.prompt_ids(r)) for r in reqs]
    else:
        counts = [sum(map(len, tok.request_ids(r))) for r in reqs]
    name = spec.get("task", workload)
    return Workload(name, method, tuple(reqs), tuple(counts), {**spec, "seed": seed})
