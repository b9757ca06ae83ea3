"""Typed, immutable requests and results exchanged with backends."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Literal, Sequence

Message = tuple[tuple[str, str], ...]  # ((role, content), ...): hashable chat messages
PromptFormat = Literal["raw", "chat"]


@dataclass(frozen=True)
class GenerationConfig:
    """The one set of sampling settings. temperature 0 means greedy decoding."""

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self):
        if self.max_tokens < 1 or self.n < 1:
            raise ValueError("max_tokens and n must be >= 1")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError("temperature must be >= 0 and top_p in (0, 1]")
        object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


@dataclass(frozen=True)
class GenerateRequest:
    """Either a raw `prompt` or chat `messages` (rendered with the model's chat template)."""

    prompt: str | None = None
    messages: Message | None = None
    config: GenerationConfig = field(default_factory=GenerationConfig)

    def __post_init__(self):
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("GenerateRequest needs exactly one of prompt or messages")
        if self.messages is not None:
            object.__setattr__(self, "messages", tuple((str(r), str(c)) for r, c in self.messages))


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """log P(continuation | context). Word-boundary spaces belong to the continuation.

    With `continuation_ids`, those exact token ids are scored after the context, tokenised (or,
    with `messages`, chat-rendered) exactly as a generation prompt: this scores a model's own
    response without re-tokenising it (POSIX). With `context_ids` too, the context is those token ids
    as given (lm-eval's rolling windows for loglikelihood_rolling).
    """

    context: str = ""
    continuation: str = ""
    messages: Message | None = None
    continuation_ids: tuple[int, ...] | None = None
    context_ids: tuple[int, ...] | None = None

    def __post_init__(self):
        if self.messages is not None:
            object.__setattr__(self, "messages", tuple((str(r), str(c)) for r, c in self.messages))
            if self.continuation_ids is None:
                raise ValueError("chat messages as a context need continuation_ids")
        if self.continuation_ids is not None:
            object.__setattr__(self, "continuation_ids", tuple(int(t) for t in self.continuation_ids))
        if self.context_ids is not None:
            if self.continuation_ids is None or self.context or self.messages is not None:
                raise ValueError("context_ids go with continuation_ids, without a text context or messages")
            object.__setattr__(self, "context_ids", tuple(int(t) for t in self.context_ids))


@dataclass(frozen=True)
class Generation:
    texts: tuple[str, ...]  # one per sample (config.n)
    token_ids: tuple[tuple[int, ...], ...]
    prompt_tokens: int
    finish_reasons: tuple[str, ...]  # "stop" (EOS or stop string) or "length"
    # Per sample: log P of each id in token_ids under the model's raw distribution, then of the EOS the
    # sample ended at (ended_eos says which; None: it ended otherwise). None where the backend does not
    # compute them, or the prompt was cut to fit (they would be of another prompt). Not part of equality:
    # two runs' last float bits may differ where their texts agree.
    logprobs: tuple[tuple[float, ...], ...] | None = field(default=None, compare=False)
    ended_eos: tuple[int | None, ...] | None = field(default=None, compare=False)

    def scored_logprob(self, sample: int, ids: Sequence[int]) -> float | None:
        """log P(ids | prompt) from the generation itself, when ids are this sample's tokens (optionally
        followed by the EOS it ended at) and the log-probs were kept; else None (score them instead)."""
        if self.logprobs is None:
            return None
        own, lps = self.token_ids[sample], self.logprobs[sample]
        if tuple(ids) == own:
            return float(sum(lps[: len(own)]))
        if self.ended_eos is not None and tuple(ids) == own + (self.ended_eos[sample],) and len(lps) > len(own):
            return float(sum(lps))
        return None


@dataclass(frozen=True)
class LoglikelihoodResult:
    logprob: float  # summed over continuation tokens
    n_tokens: int
    is_greedy: bool


Request = GenerateRequest | LoglikelihoodRequest
Result = Generation | LoglikelihoodResult


def to_dict(obj) -> dict:
    return dataclasses.asdict(obj)


def request_key(req: Request) -> str:
    """Canonical JSON of a request: part of the response-cache key. An unset context_ids (added later) is
    left out, so the keys of every other request stay what they were."""
    d = to_dict(req)
    if d.get("context_ids", 0) is None:
        del d["context_ids"]
    return json.dumps({"type": type(req).__name__, **d}, sort_keys=True, ensure_ascii=False)


def result_from_dict(kind: str, d: dict) -> Result:
    if kind == "GenerateRequest":
        return Generation(
            texts=tuple(d["texts"]),
            token_ids=tuple(tuple(t) for t in d["token_ids"]),
            prompt_tokens=d["prompt_tokens"],
            finish_reasons=tuple(d["finish_reasons"]),
            logprobs=None if d.get("logprobs") is None else tuple(tuple(x) for x in d["logprobs"]),
            ended_eos=None if d.get("ended_eos") is None else tuple(d["ended_eos"]),
        )
    return LoglikelihoodResult(**d)
