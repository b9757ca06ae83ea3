"""The kernel's task types: a task's config (the YAML, validated), its spec (config + where it lives +
content hash) and the TaskKind base class every kind (built-in or from another package) subclasses."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from .context import RunContext
from .presentation import Presentation
from .readers import read_jsonl


class TaskConfig(BaseModel):
    """Fields every task YAML has; each kind extends it. Unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    kind: str
    description: str = ""
    data: str
    prompt_format: Literal["raw", "chat"] = "raw"
    system_prompt: str | None = None

    def framed(self, text: str):
        """The user text as this task presents it: chat messages (system prompt first) for
        `chat`, else raw text with the system prompt as a leading paragraph."""
        if self.prompt_format == "chat":
            return ((("system", self.system_prompt),) if self.system_prompt else ()) + (("user", text),)
        return self.system_prompt + "\n\n" + text if self.system_prompt else text


@dataclass(frozen=True)
class TaskSpec:
    name: str
    path: Path  # the YAML file
    config: TaskConfig
    content_hash: str  # YAML (after overrides) + data file

    @property
    def data_path(self) -> Path:
        return (self.path.parent / self.config.data).resolve()


class TaskKind(Presentation, ABC):
    # what `evalkit report` shows for a run (title, about, figures, plot, report_section): evalkit/presentation.py
    Config: ClassVar[type[TaskConfig]] = TaskConfig
    Sample: ClassVar[type | None] = None  # pydantic model that validates each data row
    # data sets loaded by name instead of a file next to the YAML: name -> fingerprint of the content
    named_data: ClassVar[dict[str, Callable[[], str]]] = {}
    uses_model: ClassVar[bool] = True  # False: the runner loads no model or backend (ctx.backend is None)
    # the metric that stands for the run (summary.primary_metric, the leaderboard's column); None for a kind
    # whose result is a ranking of its own (`entries`), not a score of the model
    primary_metric: ClassVar[str | None] = None

    def __init__(self, spec: TaskSpec, seed: int = 0):
        self.spec = spec
        self.config = spec.config
        self.seed = seed  # the run seed: bootstrap resampling and any other randomness derive from it

    def samples(self) -> list[dict]:
        return read_jsonl(self.spec.data_path, self.Sample)

    @abstractmethod
    def run(self, samples: list[dict], ctx: RunContext) -> None:
        """Send the unfinished samples' requests through ctx.stage(...), writing one record per finished unit."""

    @abstractmethod
    def summarize(self, records: list[dict]) -> dict:
        """{"metrics": {...}, "breakdown": {...}} from all records of the run."""

    @classmethod
    def sample_scores(cls, summary: dict, records: list[dict]) -> dict[str, float] | None:
        """Per-sample values whose mean is the summary's primary metric, by sample key: what the leaderboard's
        paired bootstrap resamples (the same keys for every model). None where the primary metric is not a
        mean over samples (the leaderboard then falls back to the summary's own interval)."""
        return None

    @classmethod
    def variant_scores(cls, summary: dict) -> dict | None:
        """The primary score under each intent-preserving prompt variant (perturbation, format, mutation):
        {"metric", "default", "variants": {name: value}}, for the leaderboard's rank-stability block. None
        where the kind has no variants."""
        return None

    def models(self) -> dict[str, str]:
        """Other models the kind runs on the run's backend, by role (e.g. {"judge": name}); their weights
        join the run identity and `ctx.model(role)` serves each."""
        return {}

    def adapters(self) -> dict[str, Path]:
        """LoRA adapters (peft directories) the kind runs besides the model itself, by name; their hashes
        join the run identity and `ctx.adapter(name)` serves each."""
        return {}

    def write_artifacts(self, out: Path, summary: dict, records: list[dict]) -> None:
        """Files next to summary.json: the kind's plots (`plot`) unless the kind writes more."""
        self.plot(summary, records, out)
