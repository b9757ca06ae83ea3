"""evalkit: LLM evaluation that says how far a score can be trusted."""

from .version import __version__  # noqa: E402,F401

from .errors import EvalkitError  # noqa: E402
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
    "DEFAULT_MODEL",
    "EvalkitError",
    "Generation",
    "GenerateRequest",
    "GenerationConfig",
    "LoglikelihoodRequest",
    "LoglikelihoodResult",
    "Run",
    "load_results",
    "load_summaries",
    "resolve_model",
    "run",
    "run_suite",
]
