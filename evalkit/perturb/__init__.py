"""Intent-preserving prompt variants, built into prompt sets for POSIX.

A prompt set for one sample and one perturbation type is the original prompt followed by N-1
variants of that type. Every random choice comes from rng(seed, task, sample id, "type:k:attempt"),
so a sample's variants do not depend on which other samples or types are run, and every model sees
identical prompts. Each variant records its type and the parameters that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from ..seeding import rng as derived_rng
from .text import ROBUSTNESS_EDITS, add_typos

PERTURBATIONS = ("spelling", "template", "paraphrase", "robustness", "mixed", "user")
_MIXABLE = ("spelling", "template", "paraphrase", "robustness")
_MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Variant:
    type: str  # "original" or a perturbation type
    prompt: str
    params: dict = field(default_factory=dict, compare=False)


@lru_cache(maxsize=None)
def templates(input_type: str) -> tuple[dict, ...]:
    data = yaml.safe_load((Path(__file__).parent.parent / "assets" / "prompt_templates.yaml").read_text())
    return tuple(data[input_type])


def labels(n: int) -> list[str]:
    return [chr(ord("A") + k) for k in range(n)]


class PromptBuilder:
    """Renders a sample (an MCQ question with options, or an open-ended instruction) with a template,
    and builds its prompt sets."""

    def __init__(self, input_type: str, task: str, seed: int, typo_rate: float = 0.1):
        self.input_type = input_type
        self.field = "question" if input_type == "mcq" else "instruction"
        self.templates = templates(input_type)
        self.task, self.seed, self.typo_rate = task, seed, typo_rate

    def render(self, sample: dict, template: dict, text: str | None = None) -> str:
        out = template["text"].replace("{" + self.field + "}", sample[self.field] if text is None else text)
        if "{options}" in out:
            fmt = template["option_format"]
            opts = "\n".join(fmt.replace("{label}", l).replace("{text}", o) for l, o in zip(labels(len(sample["options"])), sample["options"]))
            out = out.replace("{options}", opts)
        return out

    def original(self, sample: dict) -> Variant:
        return Variant("original", self.render(sample, self.templates[0]), {"template": self.templates[0]["id"]})

    def _rng(self, sample: dict, tag: str) -> np.random.Generator:
        return derived_rng(self.seed, self.task, str(sample["id"]), tag)

    def _one(self, ptype: str, sample: dict, r: np.random.Generator, used: set) -> Variant | None:
        text = sample[self.field]
        if ptype == "spelling":
            new, edits = add_typos(text, self.typo_rate, r)
            return Variant(ptype, self.render(sample, self.templates[0], new), {"rate": self.typo_rate, "edits": edits})
        if ptype == "robustness":
            names = [n for n in ROBUSTNESS_EDITS if r.random() < 0.5] or [list(ROBUSTNESS_EDITS)[int(r.integers(0, len(ROBUSTNESS_EDITS)))]]
            for name in names:  # HELM mild_mix order: lowercase, contraction, whitespace, filler
                text = ROBUSTNESS_EDITS[name](text, r)
            return Variant(ptype, self.render(sample, self.templates[0], text), {"edits": names})
        if ptype == "template":
            pool = [t for t in self.templates[1:] if t["id"] not in used]
            if not pool:
                return None
            t = pool[int(r.integers(0, len(pool)))]
            used.add(t["id"])
            return Variant(ptype, self.render(sample, t), {"template": t["id"]})
        if ptype == "paraphrase":
            pool = [k for k in range(len(sample.get("paraphrases") or [])) if ("p", k) not in used]
            if not pool:
                return None
            k = pool[int(r.integers(0, len(pool)))]
            used.add(("p", k))
            source = (sample.get("paraphrase_sources") or ["shipped"] * len(sample["paraphrases"]))[k]
            return Variant(ptype, self.render(sample, self.templates[0], sample["paraphrases"][k]), {"paraphrase": k, "source": source})
        raise ValueError(f"unknown perturbation {ptype!r}")

    def prompt_set(self, sample: dict, ptype: str, n: int) -> list[Variant]:
        """The original plus up to n-1 distinct variants of `ptype` (fewer when a finite pool, such
        as a sample's paraphrases, runs out). `user`: the sample's own `variants` list, as given."""
        if ptype == "user":
            return [Variant("user", p, {"index": k}) for k, p in enumerate(dict.fromkeys(sample.get("variants") or []))]
        out = [self.original(sample)]
        seen, used = {out[0].prompt}, set()
        for k in range(1, n):
            for attempt in range(_MAX_ATTEMPTS):
                r = self._rng(sample, f"{ptype}:{k}:{attempt}")
                kind = ptype
                if ptype == "mixed":
                    kind = _MIXABLE[int(r.integers(0, len(_MIXABLE)))]
                v = self._one(kind, sample, r, used)
                if v is not None and v.prompt not in seen:
                    params = {**v.params, "seed_tag": f"{ptype}:{k}:{attempt}"} | ({"drawn": kind} if ptype == "mixed" else {})
                    out.append(Variant(ptype, v.prompt, params))
                    seen.add(v.prompt)
                    break
        return out
