"""The backend contract: two batch methods over typed requests, plus the identity that keys the cache."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import Callable, Sequence

from ..models import ModelSpec
from ..requests import Generation, GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult, Message

OnResult = Callable[[int, object], None]  # (index into the request list, result) as soon as it is known


def text_hash(text: str | None) -> str | None:
    return None if text is None else "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class Backend(ABC):
    """Executes whole stages of requests; results come back in request order.

    Implementations sort, batch and share prefixes internally; `on_result` lets the caller stream
    finished results (cache writes, records, progress) before the whole stage is done.
    """

    name: str
    scores_token_ids = True  # can score given continuation token ids (LoglikelihoodRequest.continuation_ids)

    def __init__(self, model: ModelSpec):
        self.model = model

    @abstractmethod
    def generate(self, requests: Sequence[GenerateRequest], on_result: OnResult | None = None) -> list[Generation]: ...

    @abstractmethod
    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], on_result: OnResult | None = None
    ) -> list[LoglikelihoodResult]: ...

    @abstractmethod
    def render_chat(self, messages: Message, add_generation_prompt: bool = True) -> str:
        """The chat prompt as text, exactly as the model will see it."""

    @property
    @abstractmethod
    def chat_template(self) -> str | None: ...

    def identity(self) -> dict:
        """Everything about this backend that can change an output: the response-cache namespace."""
        return {
            "model": self.model.name,
            "model_path": self.model.path,
            "weights_hash": self.model.weights_hash,
            "backend": self.name,
            "backend_version": self.version(),
            "dtype": self.dtype_name(),
            "chat_template_hash": text_hash(self.chat_template),
            **({"output_options": opts} if (opts := self.output_options()) else {}),
        }

    def output_options(self) -> dict:
        """The backend options that change what is computed, as resolved values (e.g. hf's max_length,
        which truncates long inputs): part of the identity, so a run with another value never reuses
        these results. Throughput options (batch sizes, kernels) are not."""
        return {}

    @abstractmethod
    def version(self) -> str: ...

    @abstractmethod
    def dtype_name(self) -> str: ...

    def close(self) -> None:
        """Release engines, threads and memory."""


def trim_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` at the earliest stop string; True when one was found."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def move_boundary_spaces(context: str, continuation: str) -> tuple[str, str]:
    """lm-eval's rule: trailing spaces of the context belong to the continuation (word boundaries
    tokenise with the word that follows)."""
    n_spaces = len(context) - len(context.rstrip())
    return (context[:-n_spaces], context[-n_spaces:] + continuation) if n_spaces else (context, continuation)


class Tokenization:
    """Tokenisation shared by the local backends, following lm-eval's HFLM exactly, so evalkit's
    scores equal lm-eval's and the HF and vLLM backends see identical token ids."""

    def __init__(self, path: str, model_name: str):
        from transformers import AutoTokenizer

        self.tokenizer = tok = AutoTokenizer.from_pretrained(path)
        self.model_name = model_name
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self.prefix_token_id = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        self.eos_ids = {tok.eos_token_id} - {None}

    @property
    def chat_template(self) -> str | None:
        return self.tokenizer.chat_template

    def render_chat(self, messages: Message, add_generation_prompt: bool = True) -> str:
        if not self.chat_template:
            from ..errors import EvalkitError

            raise EvalkitError(f"model '{self.model_name}' has no chat template; use prompt_format: raw")
        msgs = [{"role": r, "content": c} for r, c in messages]
        return self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=add_generation_prompt)

    def encode(self, text: str) -> list[int]:
        bos = self.tokenizer.bos_token
        # A rendered chat prompt already carries its BOS: do not add a second one.
        return self.tokenizer.encode(text, add_special_tokens=not (bos and text.startswith(bos)))

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Trailing context spaces move to the continuation; context + continuation is encoded whole
        and split at the context's length; an empty context is the BOS (else EOS) token."""
        if not context:
            return [self.prefix_token_id], self.encode(continuation)
        context, continuation = move_boundary_spaces(context, continuation)
        whole, ctx = self.encode(context + continuation), self.encode(context)
        return ctx, whole[len(ctx) :]

    def prompt_ids(self, req: GenerateRequest) -> list[int]:
        return self.encode(req.prompt if req.messages is None else self.render_chat(req.messages))

    def request_ids(self, req: LoglikelihoodRequest) -> tuple[list[int], list[int]]:
        """(context ids, continuation ids) of a log-likelihood request."""
        if req.continuation_ids is None:
            return self.encode_pair(req.context, req.continuation)
        if req.context_ids is not None:
            return list(req.context_ids) or [self.prefix_token_id], list(req.continuation_ids)
        ctx = self.encode(req.context if req.messages is None else self.render_chat(req.messages))
        return ctx or [self.prefix_token_id], list(req.continuation_ids)

    def finish(self, prompt_len: int, seqs: Sequence[Sequence[int]], stop: Sequence[str],
               logprobs: Sequence[Sequence[float]] | None = None) -> Generation:
        """Generated ids -> Generation: cut at the first EOS, decode, cut at the first stop string
        (keeping only the ids whose text survives). logprobs: each generated id's, aligned with seqs;
        kept for the surviving ids and the EOS a sample ended at."""
        texts, token_ids, reasons, kept, eos = [], [], [], [], []
        for n, seq in enumerate(seqs):
            end = next((k for k, t in enumerate(seq) if t in self.eos_ids), None)
            ids = list(seq if end is None else seq[:end])
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
            text, stopped = trim_at_stop(text, stop)
            if stopped:
                while ids and not text.startswith(self.tokenizer.decode(ids, skip_special_tokens=True)):
                    ids.pop()
            texts.append(text)
            token_ids.append(tuple(ids))
            reasons.append("stop" if stopped or end is not None else "length")
            ended = seq[end] if end is not None and not stopped else None
            eos.append(ended)
            if logprobs is not None:
                kept.append(tuple(float(x) for x in logprobs[n][: len(ids) + (ended is not None)]))
        return Generation(tuple(texts), tuple(token_ids), prompt_len, tuple(reasons),
                          logprobs=tuple(kept) if logprobs is not None else None, ended_eos=tuple(eos))


class LocalBackend(Backend):
    """A backend that runs the weights in this process (hf, vllm): it tokenises with `Tokenization`
    and renders chat prompts itself."""

    tok: Tokenization
    dtype: str

    def dtype_name(self) -> str:
        return self.dtype

    @property
    def chat_template(self) -> str | None:
        return self.tok.chat_template

    def render_chat(self, messages: Message, add_generation_prompt: bool = True) -> str:
        return self.tok.render_chat(messages, add_generation_prompt)

    def add_eos(self, eos) -> None:
        """Also stop at the checkpoint's configured end-of-sequence id(s)."""
        self.tok.eos_ids |= set(eos if isinstance(eos, list) else [eos]) - {None}
