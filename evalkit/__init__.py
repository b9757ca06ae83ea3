"""evalkit: LLM evaluation that says how far a score can be trusted."""

from .version import __version__  # noqa: E402,F401

from .backends.base import Backend  # noqa: E402
from .context import RunContext  # noqa: E402
from .errors import EvalkitError  # noqa: E402
from .kind import TaskConfig, TaskKind  # noqa: E402
from .metrics import register_metric  # noqa: E402
from .registry import register_backend, register_kind, register_mutation, register_perturbation  # noqa: E402
from .models import DEFAULT_MODEL, resolve_model  # noqa: E402
from .requests import (  # noqa: E402
    Generation,
    GenerateRequest,
    GenerationConfig,
    LoglikelihoodRequest,
    LoglikelihoodResult,
)
from .results import load_results, load_summaries  # noqa: E402
from .runner import Run, run  # noqa: E402
from .suite import run_suite  # noqa: E402

__all__ = [
    "Backend",
    "DEFAULT_MODEL",
    "EvalkitError",
    "Generation",
    "GenerateRequest",
    "GenerationConfig",
    "LoglikelihoodRequest",
    "LoglikelihoodResult",
    "Run",
    "RunContext",
    "TaskConfig",
    "TaskKind",
    "load_results",
    "load_summaries",
    "register_backend",
    "register_kind",
    "register_metric",
    "register_mutation",
    "register_perturbation",
    "resolve_model",
    "run",
    "run_suite",
]
