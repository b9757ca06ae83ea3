"""Intent-preserving prompt variants, built into prompt sets for POSIX.

A perturbation is an object registered in `evalkit.registry.PERTURBATIONS` (evalkit's own below with
`@register_perturbation("name")`; another package's through the entry point group
`evalkit.perturbations`, e.g. `shout = "my_pkg.perturb:Shout"`). A class is instantiated by the prompt
builder, with the task's options for it where it has any (`Spelling(rate=typo_rate)`). Its core is

    perturb(text, rng) -> (text, params)

the sample's question or instruction edited with random choices drawn from `rng` only, and what the edit
did (recorded with the variant); the builder renders the new text with the default template. A
perturbation that needs more than the text (a pool of templates, the sample's own paraphrases) overrides
`variant(prompt, rng) -> (prompt text, params) | None` instead: it sees the whole `PromptContext` and
returns None when its pool is spent. `mixable` (default true) makes it a default member of `mixed`.

A prompt set for one sample and one perturbation type is the original prompt followed by N-1 variants
of that type. Draw k's attempt a uses rng(seed, task, sample id, "NAME:k:a"), derived from the type's
name, never from its position in a list: a sample's variants do not depend on which other samples or
types exist or are run, and every model sees identical prompts. `mixed` picks each draw's member type by
rendezvous hashing (the member with the highest seeded score for that draw), so adding a type to its
members changes only the mixed prompt sets in which the new type wins a draw; its members are part of
the task config (PosixConfig.mixed) and so of the run id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import yaml
from pydantic_core import PydanticCustomError

from ..errors import EvalkitError
from ..registry import PERTURBATIONS, register_perturbation
from ..seeding import derive_seed
from ..seeding import rng as derived_rng
from .text import ROBUSTNESS_EDITS, add_typos

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


@dataclass
class PromptContext:
    """What a perturbation sees of one draw of a prompt set."""

    sample: dict
    builder: "PromptBuilder"  # the templates, render(), the task, seed and `mixed` members
    used: set  # pool items (template ids, ("p", paraphrase index)) taken by earlier draws of this set
    tag: str  # the draw's seed tag, "NAME:k:attempt"

    @property
    def text(self) -> str:
        """The sample's question (mcq) or instruction: what `perturb(text, rng)` edits."""
        return self.sample[self.builder.field]

    def render(self, text: str | None = None, template: dict | None = None) -> str:
        return self.builder.render(self.sample, template or self.builder.templates[0], text)


class Perturbation:
    """Base class of the built-in perturbations; another package's object needs only `perturb` (or `variant`)."""

    mixable: ClassVar[bool] = True  # a default member of `mixed`

    def perturb(self, text: str, rng: np.random.Generator) -> tuple[str, dict]:
        raise NotImplementedError(f"{type(self).__name__} varies the whole prompt (variant), not a text")

    def variant(self, prompt: PromptContext, rng: np.random.Generator) -> tuple[str, dict] | None:
        new, params = self.perturb(prompt.text, rng)
        return prompt.render(new), params


@register_perturbation("spelling")
class Spelling(Perturbation):
    """Typos (adjacent swap, drop, duplicate, keyboard neighbour) at `rate` per editable word."""

    def __init__(self, rate: float = 0.1):
        self.rate = rate

    def perturb(self, text, rng):
        new, edits = add_typos(text, self.rate, rng)
        return new, {"rate": self.rate, "edits": edits}


@register_perturbation("template")
class Template(Perturbation):
    """Another shipped wording and format of the prompt (a template this set has not used)."""

    def variant(self, prompt, rng):
        pool = [t for t in prompt.builder.templates[1:] if t["id"] not in prompt.used]
        if not pool:
            return None
        t = pool[int(rng.integers(0, len(pool)))]
        prompt.used.add(t["id"])
        return prompt.render(template=t), {"template": t["id"]}


@register_perturbation("paraphrase")
class Paraphrase(Perturbation):
    """One of the sample's own paraphrases (shipped, or model-written and checked) this set has not used."""

    def variant(self, prompt, rng):
        s = prompt.sample
        pool = [k for k in range(len(s.get("paraphrases") or [])) if ("p", k) not in prompt.used]
        if not pool:
            return None
        k = pool[int(rng.integers(0, len(pool)))]
        prompt.used.add(("p", k))
        source = (s.get("paraphrase_sources") or ["shipped"] * len(s["paraphrases"]))[k]
        return prompt.render(s["paraphrases"][k]), {"paraphrase": k, "source": source}


@register_perturbation("robustness")
class Robustness(Perturbation):
    """HELM's mild edits, each with probability 1/2 (at least one): lowercase, contraction, whitespace, filler."""

    def perturb(self, text, rng):
        names = [n for n in ROBUSTNESS_EDITS if rng.random() < 0.5] or [list(ROBUSTNESS_EDITS)[int(rng.integers(0, len(ROBUSTNESS_EDITS)))]]
        for name in names:  # HELM mild_mix order: lowercase, contraction, whitespace, filler
            text = ROBUSTNESS_EDITS[name](text, rng)
        return text, {"edits": names}


@register_perturbation("mixed")
class Mixed(Perturbation):
    """Each draw one member type (PromptBuilder.mixed), picked by rendezvous hashing: the member whose score
    derive_seed(seed, task, sample id, "mixed:k:attempt>MEMBER") is highest. A new member takes over only
    the draws it scores highest on; the others keep their winner, and the winner draws with this draw's
    own rng, which does not depend on the members either."""

    mixable = False

    def variant(self, prompt, rng):
        b = prompt.builder
        sid = str(prompt.sample["id"])
        name = max(b.mixed, key=lambda m: (derive_seed(b.seed, b.task, sid, f"{prompt.tag}>{m}"), m))
        out = b.variant(name, prompt, rng)
        return None if out is None else (out[0], {**out[1], "drawn": name})


@register_perturbation("user")
class User(Perturbation):
    """The sample's own `variants` list, as given, is the whole prompt set (the POSIX library's input form)."""

    mixable = False

    def prompt_set(self, sample: dict, n: int) -> list[Variant]:
        return [Variant("user", p, {"index": k}) for k, p in enumerate(dict.fromkeys(sample.get("variants") or []))]


def mixable() -> list[str]:
    """The registered perturbations `mixed` draws from by default."""
    return [n for n, p in PERTURBATIONS.items() if getattr(p, "mixable", True)]


def check_perturbations(names: list[str], members: bool = False) -> list[str]:
    """A config's perturbation names, each registered (and mixable for `members`); for a pydantic
    validator, so a typo is one line naming the file and field with the closest known name."""
    for n in names:
        try:
            p = PERTURBATIONS.get(n)
        except EvalkitError as e:
            raise PydanticCustomError("unknown_name", "{msg}", {"msg": str(e)}) from None
        if members and not getattr(p, "mixable", True):
            raise PydanticCustomError("unknown_name", "{msg}", {"msg": f"perturbation '{n}' cannot be a member of mixed"})
    return names


class PromptBuilder:
    """Renders a sample (an MCQ question with options, or an open-ended instruction) with a template,
    and builds its prompt sets. `mixed`: the member types of `mixed` (default: every mixable one)."""

    def __init__(self, input_type: str, task: str, seed: int, typo_rate: float = 0.1, mixed: list[str] | None = None):
        self.input_type = input_type
        self.field = "question" if input_type == "mcq" else "instruction"
        self.templates = templates(input_type)
        self.task, self.seed, self.typo_rate = task, seed, typo_rate
        self.mixed = list(mixed) if mixed is not None else mixable()
        self.options = {"spelling": {"rate": typo_rate}}  # the task's options, by perturbation
        self._objects: dict[str, Any] = {}

    def perturbation(self, name: str):
        """The registered perturbation `name`; a class is instantiated with the task's options for it."""
        if name not in self._objects:
            p = PERTURBATIONS.get(name)
            self._objects[name] = p(**self.options.get(name, {})) if isinstance(p, type) else p
        return self._objects[name]

    def variant(self, name: str, prompt: PromptContext, rng: np.random.Generator) -> tuple[str, dict] | None:
        """One draw of perturbation `name` (its `variant`, else its `perturb` rendered with the default template)."""
        p = self.perturbation(name)
        return p.variant(prompt, rng) if hasattr(p, "variant") else Perturbation.variant(p, prompt, rng)

    def render(self, sample: dict, template: dict, text: str | None = None) -> str:
        out = template["text"].replace("{" + self.field + "}", sample[self.field] if text is None else text)
        if "{options}" in out:
            fmt = template["option_format"]
            opts = "\n".join(fmt.replace("{label}", l).replace("{text}", o) for l, o in zip(labels(len(sample["options"])), sample["options"]))
            out = out.replace("{options}", opts)
        return out

    def original(self, sample: dict) -> Variant:
        return Variant("original", self.render(sample, self.templates[0]), {"template": self.templates[0]["id"]})

    def prompt_set(self, sample: dict, ptype: str, n: int) -> list[Variant]:
        """The original plus up to n-1 distinct variants of `ptype` (fewer when a finite pool, such
        as a sample's paraphrases, runs out), or the perturbation's own `prompt_set` (`user`)."""
        p = self.perturbation(ptype)
        if hasattr(p, "prompt_set"):
            return p.prompt_set(sample, n)
        out = [self.original(sample)]
        seen, used = {out[0].prompt}, set()
        for k in range(1, n):
            for attempt in range(_MAX_ATTEMPTS):
                tag = f"{ptype}:{k}:{attempt}"
                v = self.variant(ptype, PromptContext(sample, self, used, tag), derived_rng(self.seed, self.task, str(sample["id"]), tag))
                if v is not None and v[0] not in seen:
                    out.append(Variant(ptype, v[0], {**v[1], "seed_tag": tag}))
                    seen.add(v[0])
                    break
        return out
