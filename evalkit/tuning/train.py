"""One training run of a preference-tuning trial with TRL: DPO / LN-DPO / IPO through `DPOTrainer`
(`loss_type` sigmoid / sigmoid_norm / ipo), SimPO through TRL's `CPOTrainer` (`loss_type="simpo"`,
`cpo_alpha=0`), with a peft LoRA adapter by default.

With LoRA the reference policy is the base model with the adapter disabled (TRL does this when it
gets a `peft_config` and no `ref_model`): no second copy of the weights. Without LoRA (full
fine-tuning) TRL loads the reference from the model's directory.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..store import write_json
from .config import LoRASpec, TrainingSpec

# What each loss is in TRL: (trainer family, TRL loss_type). research/preference_sweeps.md §2 has the formulas.
TRL_LOSS = {"dpo": ("dpo", "sigmoid"), "ln_dpo": ("dpo", "sigmoid_norm"), "ipo": ("dpo", "ipo"), "simpo": ("cpo", "simpo")}
TRAINER_KEYS = ("rewards/margins", "rewards/accuracies", "rewards/chosen", "rewards/rejected", "logps/chosen", "logps/rejected")


@dataclass
class TrainResult:
    adapter_dir: Path  # the LoRA adapter (or, without LoRA, the full checkpoint)
    log_history: list[dict]
    seconds: float  # trainer.train() wall time
    metrics: dict[str, float] = field(default_factory=dict)  # the trainer's logged margins/accuracies, summarised


def preference_dataset(rows: Sequence[dict], prompt_format: str):
    """Rows {prompt, chosen, rejected} as a TRL preference dataset: conversational (TRL applies the
    model's chat template, as evaluation does) or standard strings."""
    from datasets import Dataset

    if prompt_format == "chat":
        data = [{"prompt": [{"role": "user", "content": r["prompt"]}],
                 "chosen": [{"role": "assistant", "content": r["chosen"]}],
                 "rejected": [{"role": "assistant", "content": r["rejected"]}]} for r in rows]
    else:
        data = [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in rows]
    return Dataset.from_list(data)


def torch_dtype(name: str):
    import torch

    if name == "auto":
        name = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"
    return getattr(torch, name)


def trainer_args(loss: str, params: dict[str, Any], training: TrainingSpec, out_dir: Path, seed: int, dtype):
    """The TRL config of one run: DPOConfig or CPOConfig with the loss's hyperparameters."""
    import torch

    family, loss_type = TRL_LOSS[loss]
    on_gpu = torch.cuda.is_available()
    common = dict(
        output_dir=str(out_dir),
        per_device_train_batch_size=training.batch_size,
        gradient_accumulation_steps=training.grad_accum,
        num_train_epochs=float(params.get("epochs", training.epochs)),
        max_steps=int(params.get("max_steps", training.max_steps or -1)),
        learning_rate=float(params["learning_rate"]),
        lr_scheduler_type=training.lr_scheduler,
        warmup_steps=training.warmup,
        max_length=training.max_length,
        seed=seed,
        data_seed=seed,
        use_cpu=not on_gpu,
        # TRL defaults to bf16 and gradient checkpointing; pin what the config says (float32 on CPU:
        # some CPUs lack a bf16 backward).
        bf16=dtype == torch.bfloat16,
        fp16=dtype == torch.float16,
        gradient_checkpointing=False,
        report_to="none",
        save_strategy="no",
        logging_steps=training.logging_steps,
        disable_tqdm=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    if family == "dpo":
        from trl import DPOConfig

        beta = params["tau"] if loss == "ipo" else params["beta"]
        return DPOConfig(loss_type=[loss_type], beta=float(beta), **common)
    from trl.experimental.cpo import CPOConfig

    # cpo_alpha=0 drops CPO's NLL term: pure SimPO, -log σ(β/|y_w| log π(y_w) - β/|y_l| log π(y_l) - γ).
    return CPOConfig(loss_type=loss_type, cpo_alpha=0.0, beta=float(params["beta"]), simpo_gamma=float(params["gamma"]), **common)


def build_trainer(loss: str, model, tokenizer, dataset, args, lora: LoRASpec | None, callbacks=()):
    """A TRL trainer for one loss; `model` is a loaded causal LM (or a path)."""
    peft_config = None
    if lora is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                 target_modules=lora.target_modules, task_type="CAUSAL_LM")
    family = TRL_LOSS[loss][0]
    if family == "dpo":
        from trl import DPOTrainer

        cls = DPOTrainer
    else:
        from trl.experimental.cpo import CPOTrainer

        cls = CPOTrainer
    return cls(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config,
               callbacks=list(callbacks))


def _log_writer(path: Path):
    from transformers import TrainerCallback

    class LogWriter(TrainerCallback):
        """Streams every trainer log line to train_log.jsonl as it happens."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs:
                with open(path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"step": state.global_step, **logs}) + "\n")

    return LogWriter()


def summarise_log(history: list[dict]) -> dict[str, float]:
    """The trainer's own reward metrics: the last logged value and the mean over all logged steps.
    TRL logs rewards/* = β·(summed log-ratio) for every DPO loss type (also sigmoid_norm and ipo),
    and β·(mean log-prob) for SimPO, so they are comparable within a loss, not across losses."""
    out: dict[str, float] = {}
    steps = [h for h in history if "rewards/margins" in h]
    for key in TRAINER_KEYS:
        vals = [float(h[key]) for h in steps if key in h]
        if vals:
            name = "train_" + key.replace("/", "_")
            out[name] = vals[-1]
            out[name + "_mean"] = sum(vals) / len(vals)
    final = [h for h in history if "train_loss" in h]
    if final:
        out["train_loss"] = float(final[-1]["train_loss"])
    return out


def train(model_path: str, loss: str, params: dict[str, Any], rows: Sequence[dict], out_dir: Path, seed: int,
          training: TrainingSpec, lora: LoRASpec | None, prompt_format: str = "chat") -> TrainResult:
    """Train one adapter; writes out_dir/{adapter/, train_log.jsonl, train.json} and returns the result.
    A finished run (train.json present) is read back, not redone."""
    out_dir.mkdir(parents=True, exist_ok=True)
    done = out_dir / "train.json"
    adapter_dir = out_dir / "adapter"
    if done.exists():
        d = json.loads(done.read_text())
        return TrainResult(adapter_dir, d["log_history"], d["seconds"], d["metrics"])
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    datasets.disable_progress_bars()
    set_seed(seed)  # python random, numpy and torch: LoRA init and data order follow the seed
    dtype = torch_dtype(training.dtype)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype)
    log_path = out_dir / "train_log.jsonl"
    log_path.unlink(missing_ok=True)  # a run killed mid-training starts over
    args = trainer_args(loss, params, training, out_dir / "trainer", seed, dtype)
    trainer = build_trainer(loss, model, tokenizer, preference_dataset(rows, prompt_format), args, lora, [_log_writer(log_path)])
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for cb in (PrinterCallback, ProgressCallback):  # logs go to train_log.jsonl, not stdout
        trainer.remove_callback(cb)
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    trainer.save_model(str(adapter_dir))
    history = [dict(h) for h in trainer.state.log_history]
    result = TrainResult(adapter_dir, history, seconds, summarise_log(history))
    write_json(done, {"log_history": history, "seconds": seconds, "metrics": result.metrics,
                      "loss": loss, "params": params, "seed": seed})
    return result  # accelerate's free_memory (end of train()) already ran gc; the trainer goes out of scope here
