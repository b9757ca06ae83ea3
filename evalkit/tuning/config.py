"""Sweep configuration: the YAML file of `evalkit sweep CONFIG`, validated with pydantic.

A bad file or field is an EvalkitError naming the file and the dotted field (CLI exit 2).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import EvalkitError

# Each loss and the TRL hyperparameters it is swept over (besides the common ones). The defaults are the
# centre of the literature grids in research/preference_sweeps.md §3 (LN-DPO needs a much larger β than DPO:
# per-token log-ratios are small).
LOSSES: dict[str, dict[str, float]] = {
    "dpo": {"beta": 0.1},  # TRL DPOTrainer loss_type="sigmoid"
    "ln_dpo": {"beta": 2.5},  # TRL DPOTrainer loss_type="sigmoid_norm" (length-normalised DPO)
    "ipo": {"tau": 0.1},  # TRL DPOTrainer loss_type="ipo" with beta = τ
    "simpo": {"beta": 2.0, "gamma": 1.0},  # TRL CPOTrainer loss_type="simpo", cpo_alpha=0, simpo_gamma = γ
}
COMMON = ("learning_rate", "epochs", "max_steps")
SCORES = ("win_rate_vs_sft", "reward", "pref_accuracy")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """A continuous (or integer) range, for the random and TPE samplers."""

    low: float
    high: float
    log: bool = False

    @model_validator(mode="after")
    def _check(self):
        if not self.low < self.high:
            raise ValueError("needs low < high")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


Param = Union[float, list[float], Range]  # fixed value | grid/categorical values | range


class MethodSpec(_Strict):
    loss: Literal["dpo", "ln_dpo", "ipo", "simpo"] | None = None  # default: the method's name
    space: dict[str, Param] = Field(default_factory=dict)
    n_trials: int | None = Field(default=None, ge=1)

    @field_validator("space")
    @classmethod
    def _values(cls, v):
        for k, p in v.items():
            if isinstance(p, list) and not p:
                raise ValueError(f"'{k}': empty list of values")
        return v


class LoRASpec(_Strict):
    r: int = Field(8, ge=1)
    alpha: float = Field(16, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: Union[str, list[str]] = "all-linear"


class DataSpec(_Strict):
    path: str
    train_split: str = "train"
    eval_splits: list[str] = Field(default_factory=lambda: ["eval"])
    n_train: int | None = Field(default=None, ge=1)
    prompt_format: Literal["chat", "raw"] = "chat"


class TrainingSpec(_Strict):
    batch_size: int = Field(2, ge=1)
    grad_accum: int = Field(1, ge=1)
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(default=None, ge=1)  # overrides epochs
    learning_rate: float = Field(5e-5, gt=0)
    lr_scheduler: str = "linear"
    warmup: float = Field(0.0, ge=0)  # < 1: a fraction of the steps; >= 1: a number of steps
    max_length: int = Field(512, ge=8)
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"  # auto: float32 on CPU, bf16 on GPU
    logging_steps: int = Field(1, ge=1)


class JudgeSpec(_Strict):
    enabled: bool = True
    model: str | None = None  # default: the policy's base (SFT) model
    backend: Literal["hf", "vllm", "openai"] | None = None  # default: eval.backend
    backend_options: dict[str, Any] = Field(default_factory=dict)  # e.g. base_url for openai
    prompt_format: Literal["auto", "chat", "raw"] = "auto"  # auto: chat when the judge has a chat template (or is a server)
    template: str = "mt_bench"
    protocol: Literal["both", "random", "fixed"] = "both"
    combine: Literal["conservative", "average"] = "conservative"
    # "logprob": the judge's most likely verdict label (never unparsed; with combine "average" the two
    # slot orders' soft preferences are averaged, cancelling a constant slot bias): for small judges
    verdict: Literal["generate", "logprob"] = "generate"
    max_tokens: int = Field(256, ge=1)
    # Identical policy and SFT responses are a tie without a judge call (a conservative two-order
    # judge can only say tie or fail to parse on them).
    skip_identical: bool = True


class EvalSpec(_Strict):
    enabled: bool = True  # false: train and save adapters only (benchmarks); every score is undefined
    n_prompts: int = Field(16, ge=1)
    max_new_tokens: int = Field(128, ge=1)
    temperature: float = Field(0.0, ge=0)
    backend: Literal["hf", "vllm"] = "hf"
    backend_options: dict[str, Any] = Field(default_factory=dict)
    kl_samples: int = Field(2, ge=0)  # policy samples per prompt for KL(π‖π_SFT); 0: no KL
    kl_max_new_tokens: int | None = Field(default=None, ge=1)
    # win_rate_vs_sft: the judge; reward: the data's rule checker; pref_accuracy: the implicit reward
    # log π/π_SFT ranks the held-out pair's chosen response above its rejected one (evaluate.py)
    score: Literal["win_rate_vs_sft", "reward", "pref_accuracy"] = "win_rate_vs_sft"
    judge: JudgeSpec = Field(default_factory=JudgeSpec)

    @model_validator(mode="after")
    def _score_needs_judge(self):
        if self.score == "win_rate_vs_sft" and not self.judge.enabled:
            raise ValueError("score 'win_rate_vs_sft' needs judge.enabled: true (or use score: reward)")
        return self


class SamplerSpec(_Strict):
    type: Literal["grid", "random", "tpe"] = "grid"
    seed: int = 0
    n_startup_trials: int = Field(4, ge=1)  # TPE only


class SeedSpec(_Strict):
    tuning: list[int] = Field(default_factory=lambda: [0], min_length=1)
    test: list[int] = Field(default_factory=lambda: [100, 101, 102])

    @model_validator(mode="after")
    def _disjoint(self):
        if set(self.tuning) & set(self.test):
            raise ValueError(f"tuning and test seeds must be disjoint, both have {sorted(set(self.tuning) & set(self.test))}")
        return self


class SweepConfig(_Strict):
    name: str | None = None  # default: the file's stem
    model: str
    lora: LoRASpec | None = Field(default_factory=LoRASpec)  # null: full fine-tuning (TRL loads the reference copy)
    data: DataSpec
    methods: dict[str, MethodSpec] = Field(min_length=1)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    sampler: SamplerSpec = Field(default_factory=SamplerSpec)
    seeds: SeedSpec = Field(default_factory=SeedSpec)
    eval: EvalSpec = Field(default_factory=EvalSpec)


class ResolvedMethod(BaseModel):
    """A method with its loss, search space (hyperparameter -> fixed | values | Range) and trial budget."""

    model_config = ConfigDict(frozen=True)
    name: str
    loss: str
    space: dict[str, Any]
    n_trials: int

    def fixed(self) -> dict[str, float]:
        return {k: v for k, v in self.space.items() if isinstance(v, (int, float))}

    def grid(self) -> dict[str, list[float]]:
        """Optuna GridSampler search space: every swept value list (fixed values are not suggested)."""
        return {k: list(v) for k, v in self.space.items() if isinstance(v, list)}


class Sweep(BaseModel):
    """A loaded sweep: the validated config plus everything derived from the file."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    path: Path
    name: str
    config: SweepConfig
    data_path: Path
    methods: list[ResolvedMethod]
    config_hash: str

    @property
    def score(self) -> str:
        return self.config.eval.score


def _space(where: str, name: str, spec: MethodSpec, training: TrainingSpec, sampler: str) -> ResolvedMethod:
    loss = spec.loss or name
    if loss not in LOSSES:
        raise EvalkitError(f"{where}: field 'methods.{name}.loss': unknown loss '{loss}'; known: {', '.join(LOSSES)}")
    known = list(LOSSES[loss]) + list(COMMON)
    space: dict[str, Any] = dict(LOSSES[loss])
    space["learning_rate"] = training.learning_rate
    for k, v in spec.space.items():
        field = f"methods.{name}.space.{k}"
        if k not in known:
            raise EvalkitError(f"{where}: field '{field}': not a hyperparameter of loss '{loss}'; known: {', '.join(known)}")
        if sampler == "grid" and isinstance(v, Range):
            raise EvalkitError(f"{where}: field '{field}': the grid sampler needs a list of values, not a range")
        vals = v if isinstance(v, list) else [v.low, v.high] if isinstance(v, Range) else [v]
        if k in ("epochs", "max_steps") and any(x <= 0 for x in vals):
            raise EvalkitError(f"{where}: field '{field}': must be > 0")
        if k == "max_steps" and any(float(x) != int(x) for x in vals):
            raise EvalkitError(f"{where}: field '{field}': must be whole numbers")
        if k in ("learning_rate", "beta", "tau") and any(x <= 0 for x in vals):
            raise EvalkitError(f"{where}: field '{field}': must be > 0")
        space[k] = list(dict.fromkeys(v)) if isinstance(v, list) else v
    grid_size = math.prod(len(v) for v in space.values() if isinstance(v, list))
    if spec.n_trials is not None:
        n = spec.n_trials
    elif sampler == "grid":
        n = grid_size
    else:
        raise EvalkitError(f"{where}: field 'methods.{name}.n_trials': required with the {sampler} sampler")
    return ResolvedMethod(name=name, loss=loss, space=space, n_trials=n)


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep YAML; relative data paths are relative to the YAML's directory."""
    from ..readers import load_yaml_mapping, validate

    p = Path(path)
    doc = load_yaml_mapping(p, "sweep config")
    cfg: SweepConfig = validate(SweepConfig, doc, str(p))
    data = (p.parent / cfg.data.path).resolve()
    if not data.is_file():
        data = Path(cfg.data.path).resolve()
    if not data.is_file():
        raise EvalkitError(f"{p}: field 'data.path': file not found: {cfg.data.path}")
    methods = [_space(str(p), n, m, cfg.training, cfg.sampler.type) for n, m in cfg.methods.items()]
    h = hashlib.sha256(json.dumps(cfg.model_dump(mode="json"), sort_keys=True).encode())
    h.update(data.read_bytes())
    return Sweep(path=p.resolve(), name=cfg.name or p.stem, config=cfg, data_path=data, methods=methods,
                 config_hash="sha256:" + h.hexdigest())
