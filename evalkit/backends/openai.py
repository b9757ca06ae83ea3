"""OpenAI-compatible servers (`vllm serve`, llama.cpp server, hosted APIs).

Generation goes through /v1/completions (raw prompts) or /v1/chat/completions (messages).
Log-likelihood uses /v1/completions with `echo: true, logprobs: 1, max_tokens: 1` (HELM's method):
the server returns per-token prompt log-probs with character offsets, and the tokens that start at
or after the context/continuation boundary are summed. Servers that do not echo prompt log-probs
get a clear error. Requests run on a bounded thread pool with timeouts; connection errors, 408/409/
429/5xx answers and malformed responses (unreadable JSON, fields of the wrong type) are retried with
exponential backoff, or after the server's Retry-After (capped); when the retries run out the error
says it was transient and what was wrong, distinct from a server that lacks a capability. The API key is read from an environment variable named by `api_key_env`
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
_RETRY_AFTER_CAP = 60.0  # seconds: a server asking for longer still gets its retries
_NO_TOKEN_SCORING = (
    "backend 'openai' cannot score given token ids (the API has no token-level scoring); use the hf or vllm backend for this task"
)


class ServerError(Exception):
    """The server answered, but lacks what a log-likelihood or generation needs (not worth a retry)."""


class Malformed(Exception):
    """A response that cannot be read as the API defines it: retried like a transient failure."""


def _retry_after(resp: httpx.Response) -> float | None:
    """Seconds the server asked to wait (Retry-After: seconds or an HTTP date), capped; None if absent."""
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), _RETRY_AFTER_CAP)


def _choices(data) -> list[dict]:
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not all(isinstance(c, dict) for c in choices):
        raise Malformed(f"field 'choices' must be a non-empty list of objects, got {_kind(choices)}")
    return sorted(choices, key=lambda ch: ch.get("index", 0) if isinstance(ch.get("index", 0), int) else 0)


def _kind(v) -> str:
    return f"{type(v).__name__} {str(v)[:60]!r}" if v is not None else "nothing"


def _str(v, field: str) -> str:
    if not isinstance(v, str):
        raise Malformed(f"field '{field}' must be a string, got {_kind(v)}")
    return v


def _numbers(v, field: str, kind=(int, float), none_ok: bool = False) -> list:
    if not isinstance(v, list) or not all((x is None and none_ok) or (isinstance(x, kind) and not isinstance(x, bool)) for x in v):
        raise Malformed(f"field '{field}' must be a list of numbers, got {_kind(v)}")
    return v


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
    def _post(self, path: str, body: dict, parse):
        """parse(response JSON) for a 200 answer; transient failures (connection, 408/409/429/5xx, a
        response `parse` finds malformed) are retried, then an EvalkitError says what went wrong last.
        Other HTTP errors raise ServerError at once."""
        for attempt in range(self.max_retries + 1):
            wait = min(30.0, 0.5 * 2**attempt) * (0.5 + random.random())
            try:
                resp = self.client.post(path, json=body)
            except (httpx.TransportError, httpx.TimeoutException) as e:
                problem = f"{type(e).__name__}: {e}"
            else:
                detail = resp.text.strip().splitlines()[0][:300] if resp.text.strip() else ""
                if resp.status_code == 200:
                    try:
                        return parse(resp.json())
                    except ValueError as e:  # e.g. a body cut short
                        problem = f"malformed response: not JSON ({e})"
                    except Malformed as e:
                        problem = f"malformed response: {e}"
                elif resp.status_code in _RETRY_STATUS:
                    problem = f"HTTP {resp.status_code}: {detail}"
                    asked = _retry_after(resp)
                    wait = wait if asked is None else asked
                else:
                    raise ServerError(f"{self.base_url}{path}: HTTP {resp.status_code}: {detail}")
            if attempt == self.max_retries:
                raise EvalkitError(f"backend 'openai': {self.base_url}{path}: transient failure, gave up after "
                                   f"{attempt + 1} attempts: {problem}")
            time.sleep(wait)
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
        try:
            return self._map(self._generate_one, requests, on_result)
        except ServerError as e:
            raise EvalkitError(f"backend 'openai': the server refused a generation request: {e}") from None

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
        chat = r.messages is not None

        def parse(data) -> Generation:
            choices = _choices(data)
            if chat:
                msgs = [ch.get("message") for ch in choices]
                if not all(isinstance(m, dict) for m in msgs):
                    raise Malformed(f"field 'choices.message' must be an object, got {_kind(msgs[0])}")
                texts = [_str(m.get("content") or "", "choices.message.content") for m in msgs]
            else:
                texts = [_str(ch.get("text"), "choices.text") for ch in choices]
            reasons = ["stop" if ch.get("finish_reason") == "stop" else "length" for ch in choices]
            usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            n_prompt = usage.get("prompt_tokens", 0)
            # Token ids are not part of the OpenAI API: generations from this backend carry none.
            return Generation(tuple(texts), tuple(() for _ in texts), n_prompt if isinstance(n_prompt, int) else 0,
                              tuple(reasons))

        if chat:
            body["messages"] = [{"role": role, "content": content} for role, content in r.messages]
            return self._post("/chat/completions", body, parse)
        return self._post("/completions", body | {"prompt": r.prompt}, parse)

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
        return self._post("/completions", body, lambda data: self._score(data, len(context), len(text)))

    @staticmethod
    def _score(data, n_context: int, n_text: int) -> LoglikelihoodResult:
        """Sum the echoed log-probs of the tokens at or after the context boundary. No echoed log-probs
        at all: a capability the server lacks (ServerError); present but of the wrong types: Malformed."""
        lp = _choices(data)[0].get("logprobs")
        if lp is not None and not isinstance(lp, dict):
            raise Malformed(f"field 'choices.logprobs' must be an object, got {_kind(lp)}")
        if not lp or not lp.get("text_offset") or not lp.get("token_logprobs"):
            raise ServerError("the response has no echoed prompt log-probs (logprobs.text_offset/token_logprobs)")
        offsets = _numbers(lp["text_offset"], "logprobs.text_offset", int)
        values = _numbers(lp["token_logprobs"], "logprobs.token_logprobs", none_ok=True)
        tokens, tops = lp.get("tokens"), lp.get("top_logprobs")
        if len(offsets) < 2 or len(values) != len(offsets):
            raise Malformed(f"logprobs: {len(offsets)} offsets for {len(values)} log-probs")
        if tops and not (isinstance(tops, list) and isinstance(tokens, list) and len(tops) == len(tokens) == len(offsets)
                         and all(t is None or (isinstance(t, dict) and _numbers(list(t.values()), "logprobs.top_logprobs"))
                                 for t in tops)):
            raise Malformed("field 'logprobs.top_logprobs' must be a list of objects, one per token, beside 'tokens'")
        total, n, greedy = 0.0, 0, True
        for k, off in enumerate(offsets):
            if off < n_context:
                continue
            if off >= n_text:
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
