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
        }

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
