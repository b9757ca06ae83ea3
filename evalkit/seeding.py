"""Per-sample randomness: every random choice is derived from (seed, task, sample, variant), never
from a shared RNG stream, so subsets, resumes and reorderings see identical draws (HELM's trick)."""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(seed: int, task: str, sample_id: str, variant: str | int = "") -> int:
    digest = hashlib.sha256(f"{seed}\x1f{task}\x1f{sample_id}\x1f{variant}".encode()).digest()
    return int.from_bytes(digest[:4], "little")  # 32 bits: valid for numpy, torch and vLLM seeds


def rng(seed: int, task: str, sample_id: str, variant: str | int = "") -> np.random.Generator:
    return np.random.default_rng(derive_seed(seed, task, sample_id, variant))
