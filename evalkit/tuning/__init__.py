"""Preference-tuning sweeps (DPO / LN-DPO / IPO / SimPO with TRL + peft LoRA, swept with Optuna) and
their data checks. Heavy imports (torch, TRL, peft, Optuna) happen when a sweep runs."""

from .config import Sweep, SweepConfig, load_sweep
from .kl import kl_estimate
from .sweep import SweepResult, run_sweep

__all__ = ["Sweep", "SweepConfig", "SweepResult", "kl_estimate", "load_sweep", "run_sweep"]
