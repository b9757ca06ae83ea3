"""Few-shot examples for the kinds that build a prompt from a sample (mcq, posix, formatspread).

`num_fewshot` examples per sample are drawn without replacement from `fewshot` (a JSONL file beside the
task YAML, rows like the task's data) or, without one, from the task's own data. Never the sample itself:
not its id in the task's own data, and in any pool no example with the same question (or instruction) text.
The draw is seeded per (fewshot_seed, task, sample id) through evalkit.seeding, fewshot_seed defaulting
to the run seed, so a subset, a resume or another order sees the same examples and another seed others.
(lm-eval instead draws from one random.Random(fewshot_seed) shared by all docs in turn, so a doc's
examples depend on the docs before it; that is the one difference in how examples are chosen.)
Each example is the kind's own rendering of it followed by its answer; raw prompts join them with
`fewshot_delimiter` before the sample, as lm-eval does; chat prompts make them user/assistant turns.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from .errors import EvalkitError
from .kind import TaskConfig
from .readers import read_jsonl
from .seeding import rng


class FewShotConfig(TaskConfig):
    """A task config whose prompts may carry examples."""

    num_fewshot: int = Field(0, ge=0)
    fewshot_seed: int | None = None  # default: the run seed
    fewshot: str | None = None  # JSONL of examples, relative to the YAML; default: the task's data, less the sample
    fewshot_delimiter: str = "\n\n"  # after each example (raw prompts), as lm-eval's

    def framed(self, text: str, shots: tuple[tuple[str, str], ...] = (), target_delimiter: str = " "):
        """TaskConfig.framed with the examples, (prompt, answer) pairs, before the text: user/assistant
        turns for `chat`; for `raw`, each `prompt + target_delimiter + answer + fewshot_delimiter`."""
        if self.prompt_format == "chat":
            turns = tuple(t for q, a in shots for t in (("user", q), ("assistant", a)))
            base = super().framed(text)
            return base[:-1] + turns + base[-1:]
        return super().framed("".join(q + target_delimiter + a + self.fewshot_delimiter for q, a in shots) + text)


def fewshot_path(spec) -> Path | None:
    """The task's `fewshot` file, resolved against its YAML (None: the task's own data)."""
    return (spec.path.parent / spec.config.fewshot).resolve() if spec.config.fewshot else None


class FewShot:
    """Draws each sample's examples for one run of a kind."""

    def __init__(self, kind, text_field: str, sample_model=None):
        c = kind.config
        self.k, self.field, self.task = c.num_fewshot, text_field, kind.spec.name
        self.seed = kind.seed if c.fewshot_seed is None else c.fewshot_seed
        self.path = fewshot_path(kind.spec)
        self.where = self.path or kind.spec.data_path
        # the whole pool, not the --limit subset: the draws never depend on which samples run
        self.pool = [] if not self.k else kind.samples() if self.path is None else read_jsonl(self.path, sample_model or kind.Sample)

    def examples(self, sample: dict) -> list[dict]:
        if not self.k:
            return []
        own = self.path is None
        cands = [e for e in self.pool if not ((own and str(e["id"]) == str(sample["id"])) or e.get(self.field) == sample.get(self.field))]
        if len(cands) < self.k:
            raise EvalkitError(f"{self.where}: field 'num_fewshot': {self.k} examples for sample '{sample['id']}', "
                               f"but only {len(cands)} other examples to draw from")
        r = rng(self.seed, self.task, str(sample["id"]), "fewshot")
        return [cands[i] for i in r.choice(len(cands), size=self.k, replace=False)]
