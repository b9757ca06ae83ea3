"""Task kinds: each turns samples into stages of requests and records into metrics."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar

from ..errors import EvalkitError, did_you_mean
from ..tasks import TaskConfig, TaskSpec, read_jsonl

if TYPE_CHECKING:
    from ..runner import RunContext

KINDS = {
    "mcq": "evalkit.kinds.mcq:MCQKind",
    "posix": "evalkit.kinds.posix:PosixKind",
    "formatspread": "evalkit.kinds.formatspread:FormatSpreadKind",
    "judge": "evalkit.kinds.judge:JudgeKind",
    "tournament": "evalkit.kinds.tournament:TournamentKind",
    "code_mutations": "evalkit.kinds.code_mutations:CodeMutationsKind",
    "code_agent": "evalkit.kinds.code_agent:CodeAgentKind",
    "csd": "evalkit.kinds.csd:CSDKind",
}


def kind_class(name: str, where: str = "") -> type["TaskKind"]:
    if name not in KINDS:
        err = did_you_mean("task kind", name, KINDS)
        raise EvalkitError(f"{where}: {err}" if where else str(err))
    module, cls = KINDS[name].split(":")
    return getattr(importlib.import_module(module), cls)


class TaskKind(ABC):
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
    def run(self, samples: list[dict], ctx: "RunContext") -> None:
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
        """Plots and other files next to summary.json (none by default)."""
