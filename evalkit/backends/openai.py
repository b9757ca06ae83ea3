"""OpenAI-compatible servers (`vllm serve`, llama.cpp server, hosted APIs).

Generation goes through /v1/completions (raw prompts) or /v1/chat/completions (messages).
Log-likelihood uses /v1/completions with `echo: true, logprobs: 1, max_tokens: 1` (HELM's method):
the server returns per-token prompt log-probs with character offsets, and the tokens that start at
or after the context/continuation boundary are summed. Servers that do not echo prompt log-probs
get a clear error. Requests run on a bounded thread pool with timeouts and exponential backoff on
429/5xx/connection errors. The API key is read from an environment variable named by `api_key_env`
and never enters the cache key, the manifest or the records.
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Sequence

import httpx

from ..errors import EvalkitError
from ..models import ModelSpec
from ..requests import Generation, GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult, Message
from .base import Backend, OnResult, move_boundary_spaces

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
_NO_TOKEN_SCORING = (
    "backend 'openai' cannot score given token ids (the API has no token-level scoring); use the hf or vllm backend for this task"
)


class ServerError(Exception):
    """The server answered, but not with what a log-likelihood or generation needs."""


class OpenAIBackend(Backend):
    name = "openai"
    remote = True
    scores_token_ids = False

    def __init__(
        self,
        model: ModelSpec,
        base_url: str | None = None,
        served_model: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 6,
    ):
        super().__init__(model)
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1").rstrip("/")
        self.served_model = served_model or model.path
        self.max_concurrency = max(1, int(max_concurrency))
        self.max_retries = int(max_retries)
        key = os.environ.get(api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def identity(self) -> dict:
        # Of its options only the server and the model it serves change an output (sampling settings
        # travel in each request, so in the request key); concurrency, timeout and retries do not.
        return super().identity() | {"base_url": self.base_url, "served_model": self.served_model}

    def version(self) -> str:
        return "openai-api-v1"

    def dtype_name(self) -> str:
        return "server"

    @property
    def chat_template(self) -> str | None:
        return None  # applied by the server; identified by served_model + base_url

    def render_chat(self, messages: Message, add_generation_prompt: bool = True) -> str:
        raise EvalkitError(
            "backend 'openai' cannot render the chat template locally; use prompt_format: raw for log-likelihood tasks"
        )

    # --- transport -------------------------------------------------------------------------------
    def _post(self, path: str, body: dict) -> dict:
        for attempt in range(self.max_retries + 1):
            try:
                resp = self.client.post(path, json=body)
            except (httpx.TransportError, httpx.TimeoutException) as e:
                if attempt == self.max_retries:
                    raise EvalkitError(f"backend 'openai': {self.base_url}{path}: {type(e).__name__}: {e}") from None
            else:
                if resp.status_code == 200:
                    return resp.json()
                if resp.status_code not in _RETRY_STATUS or attempt == self.max_retries:
                    detail = resp.text.strip().splitlines()[0][:300] if resp.text.strip() else ""
                    raise ServerError(f"{self.base_url}{path}: HTTP {resp.status_code}: {detail}")
            time.sleep(min(30.0, 0.5 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def _map(self, fn, items: Sequence, on_result: OnResult | None) -> list:
        results: list = [None] * len(items)
        with ThreadPoolExecutor(self.max_concurrency) as pool:
            futures = {pool.submit(fn, it): i for i, it in enumerate(items)}
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                if on_result:
                    on_result(i, results[i])
        return results

    # --- generation ------------------------------------------------------------------------------
    def generate(self, requests: Sequence[GenerateRequest], on_result: OnResult | None = None) -> list[Generation]:
        return self._map(self._generate_one, requests, on_result)

    def _generate_one(self, r: GenerateRequest) -> Generation:
        c = r.config
        body = {
            "model": self.served_model,
            "max_tokens": c.max_tokens,
            "temperature": c.temperature,
            "top_p": c.top_p,
            "n": c.n,
            "seed": c.seed,
        }
        if c.stop:
            body["stop"] = list(c.stop)
        if r.messages is not None:
            body["messages"] = [{"role": role, "content": content} for role, content in r.messages]
            data = self._post("/chat/completions", body)
            choices = sorted(data["choices"], key=lambda ch: ch.get("index", 0))
            texts = [ch["message"]["content"] or "" for ch in choices]
        else:
            data = self._post("/completions", body | {"prompt": r.prompt})
            choices = sorted(data["choices"], key=lambda ch: ch.get("index", 0))
            texts = [ch["text"] for ch in choices]
        reasons = ["stop" if ch.get("finish_reason") == "stop" else "length" for ch in choices]
        usage = data.get("usage") or {}
        # Token ids are not part of the OpenAI API: generations from this backend carry none.
        return Generation(tuple(texts), tuple(() for _ in texts), int(usage.get("prompt_tokens", 0)), tuple(reasons))

    # --- log-likelihood --------------------------------------------------------------------------
    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], on_result: OnResult | None = None
    ) -> list[LoglikelihoodResult]:
        for r in requests:
            if r.continuation_ids is not None:
                raise EvalkitError(_NO_TOKEN_SCORING)
            if not r.context:
                raise EvalkitError("backend 'openai': log-likelihood needs a non-empty context (the API has no BOS token)")
        try:
            return self._map(self._loglikelihood_one, requests, on_result)
        except ServerError as e:
            raise EvalkitError(
                f"backend 'openai' cannot score log-likelihoods on this server ({e}); it needs /v1/completions "
                "with echo=true and logprobs (vLLM and llama.cpp servers have it; most hosted chat APIs do not)"
            ) from None

    def _loglikelihood_one(self, r: LoglikelihoodRequest) -> LoglikelihoodResult:
        context, continuation = move_boundary_spaces(r.context, r.continuation)
        text = context + continuation
        body = {"model": self.served_model, "prompt": text, "max_tokens": 1, "temperature": 0.0,
                "echo": True, "logprobs": 1, "seed": 0}
        data = self._post("/completions", body)
        lp = (data.get("choices") or [{}])[0].get("logprobs") or {}
        offsets, tokens, values, tops = (lp.get(k) for k in ("text_offset", "tokens", "token_logprobs", "top_logprobs"))
        if not offsets or not values or len(offsets) < 2:
            raise ServerError("the response has no echoed prompt log-probs (logprobs.text_offset/token_logprobs)")
        total, n, greedy = 0.0, 0, True
        for k, off in enumerate(offsets):
            if off < len(context):
                continue
            if off >= len(text):
                break  # the one generated token
            if values[k] is None:
                raise ServerError(f"no log-prob for prompt token {k}")
            total += values[k]
            n += 1
            top = tops[k] if tops else None
            if top:
                greedy &= max(top.items(), key=lambda kv: kv[1])[0] == tokens[k]
        return LoglikelihoodResult(total, n, greedy)

    def close(self) -> None:
        self.client.close()
