"""Sandboxed execution of untrusted candidate programs (see `core` for the isolation model)."""

from ._child import decode, encode
from .compare import same
from .core import VERDICTS, Checker, ExecResult, Job, Limits, Sandbox, SandboxError, SandboxWarning, default_workers

__all__ = [
    "VERDICTS", "Checker", "ExecResult", "Job", "Limits", "Sandbox", "SandboxError", "SandboxWarning",
    "decode", "default_workers", "encode", "same",
]
