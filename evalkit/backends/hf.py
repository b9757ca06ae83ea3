"""Hugging Face transformers backend.

- Log-likelihoods: requests are grouped by context; each distinct context is forwarded once and its
  KV cache is shared by all of its continuations (multiple choice, POSIX's N x N scoring), so the
  forwarded tokens are sum(|context|) + sum(|continuation|) instead of sum(|context| + |continuation|).
- Tokenisation is lm-eval's (base.Tokenization), so scores match HFLM to float precision.
- Batches are length-sorted (longest first: an OOM shows up at once), left-padded with explicit
  position ids, and sized by a token budget that halves on out-of-memory ("auto").
"""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path
from typing import Callable, Literal, Sequence

from ..errors import EvalkitError
from ..models import ModelSpec, adapter_hash
from ..requests import Generation, GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult
from .base import LocalBackend, OnResult, Tokenization, trim_at_stop

_DTYPES = {"float32", "bfloat16", "float16"}


class HFBackend(LocalBackend):
    name = "hf"
    # on_progress(in-flight requests, tokens generated so far) for the generation batch now running, at every
    # decoding step, then (0, 0) when its results are out: set by the runner so a long batch is not a frozen bar
    on_progress: Callable[[float, int], None] | None = None

    def __init__(
        self,
        model: ModelSpec,
        dtype: str = "auto",
        device: str | None = None,
        batch_tokens: int | Literal["auto"] = "auto",
        max_length: int | None = None,
        attn_implementation: str | None = None,
        static_cache: bool = False,
    ):
        # attn_implementation (eager | sdpa | ...; None: transformers' choice) and static_cache (a preallocated
        # KV cache for generation) change kernels and memory layout only, not what is computed: like
        # batch_tokens they are throughput options (`evalkit bench`), outputs equal up to float rounding.
        super().__init__(model)
        import torch
        from transformers import AutoModelForCausalLM
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:  # an unusable device (cuda on a CPU-only torch, a typo) is bad input, not a traceback
            torch.empty(0, device=self.device)
        except (RuntimeError, AssertionError) as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise EvalkitError(f"backend option 'device': '{self.device}' is not usable here ({reason})") from None
        if dtype == "auto":
            dtype = "bfloat16" if self.device.startswith("cuda") and torch.cuda.is_bf16_supported() else "float32"
        if dtype not in _DTYPES:
            raise EvalkitError(f"backend option 'dtype': '{dtype}' is not one of auto, {', '.join(sorted(_DTYPES))}")
        self.dtype = dtype
        try:
            self.tok = Tokenization(model.path, model.name)
            attn = {"attn_implementation": attn_implementation} if attn_implementation else {}
            self.hf = AutoModelForCausalLM.from_pretrained(model.path, dtype=getattr(torch, dtype), **attn)
        except OSError as e:
            raise EvalkitError(f"model '{model.name}': cannot load from {model.path}: {str(e).splitlines()[0]}") from e
        except (ValueError, ImportError) as e:  # an attention implementation this model or machine lacks
            raise EvalkitError(f"backend option 'attn_implementation': {str(e).splitlines()[0]}") from e
        self.static_cache = bool(static_cache)
        self.hf.to(self.device).eval()
        cfg = self.hf.config
        self.max_length = max_length or getattr(cfg, "max_position_embeddings", None) or 2048
        if batch_tokens == "auto":
            batch_tokens = 32768 if self.device.startswith("cuda") else 4096
        self.batch_tokens = int(batch_tokens)
        self.add_eos(self.hf.generation_config.eos_token_id)

    def output_options(self) -> dict:
        return {"max_length": self.max_length}

    def version(self) -> str:
        import transformers

        return transformers.__version__

    # --- batching ---------------------------------------------------------------------------
    def _batches(self, items: list, cost) -> list[list]:
        """Greedy token-budget batching of items already sorted longest-first; cost(batch) -> padded tokens."""
        out, cur = [], []
        for it in items:
            if cur and cost(cur + [it]) > self.batch_tokens:
                out.append(cur)
                cur = []
            cur.append(it)
        if cur:
            out.append(cur)
        return out

    def _run_batches(self, items: list, cost, fn) -> None:
        """Run fn over budgeted batches, halving the budget and retrying a batch on out-of-memory."""
        pending = self._batches(items, cost)
        while pending:
            batch = pending.pop(0)
            try:
                fn(batch)
            except self.torch.OutOfMemoryError:
                if len(batch) == 1:
                    raise
                self.batch_tokens = max(1, self.batch_tokens // 2)
                if self.device.startswith("cuda"):
                    self.torch.cuda.empty_cache()
                pending = self._batches(batch, cost) + pending

    def _left_pad(self, seqs: list[list[int]]):
        torch = self.torch
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.tok.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            if s:
                ids[i, width - len(s) :] = torch.tensor(s)
                mask[i, width - len(s) :] = 1
        return ids.to(self.device), mask.to(self.device)

    # --- log-likelihood -----------------------------------------------------------------------
    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], on_result: OnResult | None = None
    ) -> list[LoglikelihoodResult]:
        results: list[LoglikelihoodResult | None] = [None] * len(requests)
        groups: dict[tuple[int, ...], list[tuple[int, list[int]]]] = defaultdict(list)
        for i, r in enumerate(requests):
            ctx, cont = self.tok.request_ids(r)
            if not cont:
                results[i] = LoglikelihoodResult(0.0, 0, True)
                if on_result:
                    on_result(i, results[i])
                continue
            # Left-truncate as lm-eval does: at most max_length tokens are ever fed to the model.
            keep = max(1, self.max_length + 1 - len(cont))
            groups[tuple(ctx[-keep:])].append((i, cont))
        contexts = sorted(groups.items(), key=lambda kv: -(len(kv[0]) + max(len(c) for _, c in kv[1])))

        def cost(batch):
            rows = sum(len(conts) for _, conts in batch)
            return rows * (len(batch[0][0]) + max(len(c) for _, conts in batch for _, c in conts))

        def run(batch):
            for i, res in self._score_batch(batch):
                results[i] = res
                if on_result:
                    on_result(i, res)

        with self.torch.inference_mode():
            self._run_batches(contexts, cost, run)
        return results  # type: ignore[return-value]

    def _score_batch(self, batch):
        torch = self.torch
        F = torch.nn.functional
        ids, mask = self._left_pad([list(ctx) for ctx, _ in batch])
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        # logits_to_keep=1: the LM head runs on the last context position only (the rest is never scored)
        out = self.hf(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, logits_to_keep=1)
        first = F.log_softmax(out.logits[:, -1, :].float(), dim=-1)  # predicts each continuation's first token
        ctx_len = mask.sum(-1)
        rows = [(b, i, cont) for b, (_, conts) in enumerate(batch) for i, cont in conts]
        # Continuations after their first token reuse their context's KV cache: only they are forwarded, in
        # groups of similar length (a batch mixes lengths 1..10 in MC), so few pad positions are forwarded.
        for group in _length_groups(rows):
            n = max(len(c) for _, _, c in group)
            ctx = torch.tensor([b for b, _, _ in group], device=self.device)
            target = torch.full((len(group), n), self.tok.pad_id, dtype=torch.long, device=self.device)
            valid = torch.zeros((len(group), n), dtype=torch.bool, device=self.device)
            for r, (_, _, c) in enumerate(group):
                target[r, : len(c)] = torch.tensor(c)
                valid[r, : len(c)] = True
            logp = first[ctx].gather(-1, target[:, :1]).squeeze(-1)
            greedy = first[ctx].argmax(-1) == target[:, 0]
            if n > 1:
                out2 = self.hf(
                    input_ids=target[:, :-1],
                    attention_mask=torch.cat([mask[ctx], valid[:, :-1].long()], dim=-1),
                    position_ids=ctx_len[ctx, None] + torch.arange(n - 1, device=self.device)[None, :],
                    past_key_values=_select_rows(out.past_key_values, ctx),
                    use_cache=True,
                )
                rest = F.log_softmax(out2.logits.float(), dim=-1)
                picked = rest.gather(-1, target[:, 1:, None]).squeeze(-1)
                logp = logp + picked.masked_fill(~valid[:, 1:], 0.0).sum(-1)
                greedy &= ((rest.argmax(-1) == target[:, 1:]) | ~valid[:, 1:]).all(-1)
            for (_, i, c), lp, g in zip(group, logp.tolist(), greedy.tolist()):
                yield i, LoglikelihoodResult(lp, len(c), g)

    # --- generation ---------------------------------------------------------------------------
    def generate(self, requests: Sequence[GenerateRequest], on_result: OnResult | None = None) -> list[Generation]:
        results: list[Generation | None] = [None] * len(requests)
        # Left-truncate prompts so prompt + generation fits the model's context window.
        whole = [self.tok.prompt_ids(r) for r in requests]
        prompts = [ids[-max(1, self.max_length - r.config.max_tokens) :] for ids, r in zip(whole, requests)]
        cut = {i for i, (a, b) in enumerate(zip(whole, prompts)) if len(a) != len(b)}  # their log-probs: of another prompt
        greedy = [i for i, r in enumerate(requests) if r.config.greedy]  # the seed cannot matter: one pool
        sampled = [i for i, r in enumerate(requests) if not r.config.greedy]

        def emit(i, gen):
            results[i] = gen
            if on_result:
                on_result(i, gen)

        with self.torch.inference_mode():
            greedy.sort(key=lambda i: -len(prompts[i]))
            cost = lambda b: len(b) * (len(prompts[b[0]]) + max(requests[i].config.max_tokens for i in b))  # noqa: E731
            if self.static_cache:  # transformers' generate with its preallocated cache, per (max_tokens, stop)
                groups = defaultdict(list)
                for i in greedy:
                    groups[(requests[i].config.max_tokens, requests[i].config.stop)].append(i)

                def run(batch):
                    gc = self._gen_config(requests[batch[0]].config, greedy=True)
                    for i, seq in zip(batch, self._generate([prompts[i] for i in batch], gc)):
                        emit(i, self.tok.finish(len(prompts[i]), [seq] * requests[i].config.n, requests[i].config.stop))

                for idx in groups.values():
                    self._run_batches(idx, cost, run)
            else:
                # a batch retried after out-of-memory decodes only the rows it had not finished
                self._run_batches(greedy, cost, lambda b: self._greedy([i for i in b if results[i] is None], prompts, requests, emit, cut))
            for i in sampled:
                # One request at a time, seeded: the samples do not depend on what else is in the batch.
                c = requests[i].config
                self.torch.manual_seed(c.seed)
                seqs = self._generate([prompts[i]], self._gen_config(c, greedy=False))
                emit(i, self.tok.finish(len(prompts[i]), seqs, c.stop))
        return results  # type: ignore[return-value]

    def _greedy(self, batch: list[int], prompts: list[list[int]], requests, emit, cut: set[int]) -> None:
        """Greedy decoding of one batch with our own loop over the model's forward (the same calls as
        transformers' greedy `generate`: left-padded prefill with position ids, then one token per row per
        step on a DynamicCache). Unlike `generate`, a row leaves the batch the step it ends (EOS, a stop
        string in its decoded text, its own max_tokens): its KV rows are dropped and its result is emitted
        at once, so a batch costs the tokens actually generated, not rows x the longest row. Each token's
        log-prob comes along (POSIX then need not score a response under its own prompt again)."""
        from transformers import DynamicCache

        if not batch:
            return
        torch, tok = self.torch, self.tok
        ids, mask = self._left_pad([prompts[i] for i in batch])
        padded = bool((mask == 0).any())  # no padding: no mask at all, as generate does (faster attention)
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.hf.config)
        out = self.hf(input_ids=ids, attention_mask=mask if padded else None, position_ids=pos,
                      past_key_values=cache, use_cache=True, logits_to_keep=1)
        rows, seqs, lps = list(batch), {i: [] for i in batch}, {i: [] for i in batch}
        nxt = mask.sum(-1, keepdim=True)  # each row's next position
        while True:
            logits = out.logits[:, -1, :].float()
            new = logits.argmax(-1)
            lp = logits.gather(-1, new[:, None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)
            keep = []
            for r, (i, t, x) in enumerate(zip(rows, new.tolist(), lp.tolist())):
                seq, c = seqs[i], requests[i].config
                seq.append(t)
                lps[i].append(x)
                # a stop string counts once it is in the decoded text, as Tokenization.finish cuts it
                stopped = bool(c.stop) and trim_at_stop(tok.tokenizer.decode(seq, skip_special_tokens=True), c.stop)[1]
                if t in tok.eos_ids or len(seq) >= c.max_tokens or stopped:
                    emit(i, tok.finish(len(prompts[i]), [seq] * c.n, c.stop, None if i in cut else [lps[i]] * c.n))
                else:
                    keep.append(r)
            if not keep:
                break
            if len(keep) < len(rows):
                sel = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(sel)
                new, mask, nxt, rows = new[sel], mask[sel], nxt[sel], [rows[r] for r in keep]
            if self.on_progress is not None:
                live = sum(len(seqs[i]) / requests[i].config.max_tokens for i in rows)
                self.on_progress(live, sum(len(seqs[i]) for i in rows))
            if padded:
                mask = torch.cat([mask, mask.new_ones((len(rows), 1))], dim=-1)
            out = self.hf(input_ids=new[:, None], attention_mask=mask if padded else None, position_ids=nxt,
                          past_key_values=cache, use_cache=True)
            nxt = nxt + 1
        if self.on_progress is not None:
            self.on_progress(0.0, 0)

    def _gen_config(self, c, greedy: bool):
        from transformers import GenerationConfig as HFGenerationConfig

        # Every field pinned: the checkpoint's generation_config.json must not change our sampling.
        kw = dict(
            max_new_tokens=c.max_tokens,
            do_sample=not greedy,
            num_return_sequences=1 if greedy else c.n,
            eos_token_id=sorted(self.tok.eos_ids),
            pad_token_id=self.tok.pad_id,
            repetition_penalty=1.0,
        )
        if not greedy:
            kw.update(temperature=c.temperature, top_p=c.top_p, top_k=0)
        if c.stop:
            kw["stop_strings"] = list(c.stop)
        if self.static_cache:
            kw["cache_implementation"] = "static"
        return HFGenerationConfig(**kw)

    def _generate(self, seqs: list[list[int]], gc) -> list[list[int]]:
        """transformers' generate: sampled requests (its RNG use, so seeds give the samples they always
        gave) and the static cache."""
        ids, mask = self._left_pad(seqs)
        extra = {"tokenizer": self.tok.tokenizer} if gc.stop_strings else {}
        if self.on_progress is not None:
            extra["stopping_criteria"] = _step_report(self.on_progress, len(seqs), ids.shape[1], gc.max_new_tokens)
        out = self.hf.generate(input_ids=ids, attention_mask=mask, generation_config=gc, **extra)
        if self.on_progress is not None:
            self.on_progress(0.0, 0)
        return out[:, ids.shape[1] :].tolist()

    def close(self) -> None:
        del self.hf


def _length_groups(rows: list, slack: float = 1.25) -> list[list]:
    """Rows (.., .., continuation) sorted by length and cut into groups whose padded width x rows stays
    within `slack` x their real tokens: fewer forward calls than one per length, little padding."""
    out: list[list] = []
    real = 0
    for row in sorted(rows, key=lambda r: len(r[2])):
        n = len(row[2])
        if out and (len(out[-1]) + 1) * n <= slack * (real + n) and (n > 1) == (len(out[-1][0][2]) > 1):
            out[-1].append(row)
            real += n
        else:
            out.append([row])
            real = n
    return out


def _select_rows(cache, rows):
    """A copy of `cache` holding only these batch rows (repeats allowed); `cache` itself stays whole."""
    sub = copy.copy(cache)
    sub.layers = [copy.copy(layer) for layer in cache.layers]
    sub.batch_select_indices(rows)
    return sub


def _step_report(report, rows: int, prompt_width: int, max_new: int):
    """A stopping criterion that never stops anything: it reports each decoding step of a batch (rows x its
    share of max_new_tokens; tokens so far) to `report`."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StepReport(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            steps = input_ids.shape[1] - prompt_width
            report(rows * min(1.0, steps / max(1, max_new)), input_ids.shape[0] * steps)
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([StepReport()])


class LoRAHFBackend(HFBackend):
    """The model with a peft LoRA adapter, merged into this backend's own copy of the weights (the same
    function at the base model's speed; nothing is written to disk). The adapter's hash is part of the
    identity, so cached responses never mix adapters."""

    def __init__(self, model: ModelSpec, adapter: str | Path, **options):
        super().__init__(model, **options)
        try:
            from peft import PeftModel
        except ImportError:
            raise EvalkitError("LoRA adapters need peft: pip install 'evalkit[tune]'") from None
        self.adapter = str(adapter)
        self.adapter_hash = adapter_hash(Path(adapter))
        self.hf = PeftModel.from_pretrained(self.hf, self.adapter).merge_and_unload().eval()

    def identity(self) -> dict:
        return {**super().identity(), "adapter_hash": self.adapter_hash}
