"""Sweep cost on this machine, side by side in one process:

A. Overhead of evalkit's sweep machinery (config validation, Optuna study in a journal file, trial
   directories, streamed train logs, adapter saving, summary, trials.csv and plots) over the same
   trainings written as a plain TRL script: the same model, rows, LoRA config, DPOConfig and seed, a
   `beta` grid of --points values, each trained for --steps steps and its adapter saved. Evaluation
   is off on both sides (`eval.enabled: false`), so both do the same work. The two sides alternate
   (--repeats times, order flipped each time). On a shared machine the step times of identical
   trainings swing several-fold, so the headline figure is the extra time evalkit spends outside
   `trainer.train()` (median per side), relative to the plain script's median total; the raw wall and
   CPU ratios are printed too. Target: <= 10%.
B. Trials per hour with the full evaluation: one trial per method of --trial-config (its first grid
   point) with its training and evaluation settings, a fresh response cache, no test seeds; or, with
   --from-sweep OUT, the timings recorded by the tuning trials of a finished sweep.

    python scripts/bench_sweep.py [--model smollm2-135m-instruct] [--points 4] [--steps 8] [--repeats 2]
                                  [--trial-config tasks/sweeps/smollm2_dpo_vs_lndpo.yaml | --from-sweep OUT | --skip-trials]
                                  [--skip-overhead]
                                  [--out results/bench/sweep.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tasks" / "data" / "preferences.jsonl"
BETAS = [0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0]


def train_rows(n: int) -> list[dict]:
    """The rows evalkit trains on for `n_train: n` (same seeded subset, so both sides see the same data)."""
    from evalkit.seeding import derive_seed
    from evalkit.tuning.checkers import load_preferences

    rows = [r for r in load_preferences(DATA) if r["split"] == "train"]
    rows.sort(key=lambda r: derive_seed(0, "sweep-train", str(r["id"])))
    return rows[:n]


def plain_trl(model_path: str, betas: list[float], steps: int, n_train: int, out: Path) -> tuple[float, float, float]:
    """The same trainings as a plain TRL script would run them. Returns (wall, CPU, inside trainer.train()) seconds."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed
    from transformers.trainer_callback import PrinterCallback
    from trl import DPOConfig, DPOTrainer

    from evalkit.seeding import derive_seed

    t0, c0 = time.perf_counter(), time.process_time()
    rows = train_rows(n_train)
    data = Dataset.from_list([{"prompt": [{"role": "user", "content": r["prompt"]}],
                               "chosen": [{"role": "assistant", "content": r["chosen"]}],
                               "rejected": [{"role": "assistant", "content": r["rejected"]}]} for r in rows])
    seed = derive_seed(0, "sweep", "train")
    in_train = 0.0
    for i, beta in enumerate(betas):
        set_seed(seed)
        tok = AutoTokenizer.from_pretrained(model_path)
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
        args = DPOConfig(output_dir=str(out / f"p{i}" / "trainer"), loss_type=["sigmoid"], beta=beta, per_device_train_batch_size=4,
                         max_steps=steps, learning_rate=2e-4, max_length=192, seed=seed, data_seed=seed, use_cpu=True, bf16=False,
                         gradient_checkpointing=False, report_to="none", save_strategy="no", logging_steps=1, disable_tqdm=True,
                         remove_unused_columns=False)
        trainer = DPOTrainer(model=model, args=args, train_dataset=data, processing_class=tok,
                             peft_config=LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"))
        trainer.remove_callback(PrinterCallback)
        t1 = time.perf_counter()
        trainer.train()
        in_train += time.perf_counter() - t1
        trainer.save_model(str(out / f"p{i}" / "adapter"))
    return time.perf_counter() - t0, time.process_time() - c0, in_train


def evalkit_sweep(model: str, betas: list[float], steps: int, n_train: int, out: Path) -> tuple[float, float, float]:
    import yaml

    from evalkit.tuning.sweep import run_sweep

    cfg = {"name": "bench-overhead", "model": model, "lora": {"r": 8, "alpha": 16},
           "data": {"path": str(DATA), "n_train": n_train},
           "training": {"batch_size": 4, "max_steps": steps, "learning_rate": 2e-4, "max_length": 192},
           "methods": {"dpo": {"space": {"beta": betas}}},
           "seeds": {"tuning": [0], "test": []},
           "eval": {"enabled": False, "score": "reward", "judge": {"enabled": False}}}
    out.mkdir(parents=True, exist_ok=True)
    path = out / "sweep.yaml"
    path.write_text(yaml.safe_dump(cfg))
    t0, c0 = time.perf_counter(), time.process_time()
    run_sweep(path, out / "run", cache=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    in_train = sum(json.loads(p.read_text())["seconds"] for p in (out / "run" / "trials").glob("*/t*/seed*/train.json"))
    return wall, cpu, in_train


def trials_per_hour(config: Path, tmp: Path) -> dict:
    """One trial per method of `config` at its first grid point, with the full evaluation."""
    import yaml

    from evalkit.tuning.sweep import run_sweep

    cfg = yaml.safe_load(config.read_text())
    cfg["name"] = "bench-trials"
    cfg["data"]["path"] = str((config.parent / cfg["data"]["path"]).resolve())
    cfg["seeds"]["test"] = []
    for m in cfg["methods"].values():
        m["space"] = {k: (v[:1] if isinstance(v, list) else v) for k, v in (m.get("space") or {}).items()}
        m.pop("n_trials", None)
    path = tmp / "trials.yaml"
    path.write_text(yaml.safe_dump(cfg))
    os.environ["EVALKIT_RESPONSE_CACHE"] = str(tmp / "responses.sqlite")  # nothing cached: real generation
    t0 = time.perf_counter()
    res = run_sweep(path, tmp / "trials-run")
    wall = time.perf_counter() - t0
    units = _units(tmp / "trials-run" / "trials")
    per_trial = statistics.mean(u["unit_seconds"] for u in units)
    return {"config": str(config), "units": units, "sweep_wall_s": wall, "mean_trial_s": per_trial,
            "trials_per_hour": 3600 / per_trial, "status": res.summary["status"]}


def _units(trials_dir: Path) -> list[dict]:
    units = []
    for p in sorted(trials_dir.glob("*/t*/seed*/metrics.json")):
        m = json.loads(p.read_text())
        units.append({"unit": str(p.parent.relative_to(trials_dir)),
                      **{k: m[k]["value"] for k in ("unit_seconds", "train_seconds", "eval_seconds", "reward", "win_rate_vs_sft",
                                                    "judge_parse_failure_rate", "kl_to_sft", "mean_length") if k in m}})
    return units


def sweep_rate(out: Path) -> dict:
    """Part B from an existing sweep's tuning trials (their own timings, on the machine that ran them)."""
    units = _units(out / "trials")
    per_trial = statistics.mean(u["unit_seconds"] for u in units)
    return {"sweep": str(out), "units": units, "mean_trial_s": per_trial, "trials_per_hour": 3600 / per_trial}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--points", type=int, default=4)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--n-train", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--trial-config", default=str(REPO / "tasks" / "sweeps" / "smollm2_dpo_vs_lndpo.yaml"))
    ap.add_argument("--skip-trials", action="store_true", help="Only part A.")
    ap.add_argument("--skip-overhead", action="store_true", help="Only part B.")
    ap.add_argument("--from-sweep", help="Part B from the trials of a finished sweep directory instead of new trials.")
    ap.add_argument("--out", default="results/bench/sweep.json")
    a = ap.parse_args()

    import datasets
    import torch

    from evalkit.models import resolve_model

    datasets.disable_progress_bars()  # as evalkit does: neither side prints per-map progress

    spec = resolve_model(a.model)
    betas = BETAS[: a.points]
    result = {"model": a.model, "points": a.points, "steps": a.steps, "n_train": a.n_train, "threads": torch.get_num_threads(),
              "cpu_count": os.cpu_count(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        tmp = Path(tmp)
        os.environ["EVALKIT_RESPONSE_CACHE"] = str(tmp / "unused.sqlite")
        # warm-up, untimed: first-use costs (lazy imports inside TRL/transformers, torch kernels, the page
        # cache) would otherwise land on whichever side runs first
        if not a.skip_overhead:
            plain_trl(spec.path, betas[:1], 1, a.n_train, tmp / "warmup")
        for r in range(0 if a.skip_overhead else a.repeats):
            order = ["plain", "evalkit"] if r % 2 == 0 else ["evalkit", "plain"]
            for side in order:
                d = tmp / f"{side}{r}"
                fn = plain_trl if side == "plain" else evalkit_sweep
                wall, cpu, in_train = fn(spec.path if side == "plain" else a.model, betas, a.steps, a.n_train, d)
                result["runs"].append({"side": side, "repeat": r, "seconds": wall, "cpu_seconds": cpu, "train_seconds": in_train,
                                       "outside_train_seconds": wall - in_train})
                print(f"repeat {r} {side:8s} wall {wall:8.1f} s  cpu {cpu:8.1f} s  in trainer.train() {in_train:8.1f} s  "
                      f"outside {wall - in_train:6.1f} s  ({a.points} trainings x {a.steps} steps)", flush=True)
        if result["runs"]:
            # Both sides run identical trainer.train() calls, so on a shared machine the noise-robust figure is
            # the difference of the time spent outside trainer.train(), relative to the plain script's total.
            med = {side: {k: statistics.median(x[k] for x in result["runs"] if x["side"] == side)
                          for k in ("seconds", "outside_train_seconds")} for side in ("plain", "evalkit")}
            extra = med["evalkit"]["outside_train_seconds"] - med["plain"]["outside_train_seconds"]
            result["overhead"] = {"outside_train": {"plain_median_s": med["plain"]["outside_train_seconds"],
                                                    "evalkit_median_s": med["evalkit"]["outside_train_seconds"],
                                                    "extra_s": extra, "overhead": extra / med["plain"]["seconds"]}}
            print(f"\nA. overhead of the sweep machinery (time outside trainer.train()): evalkit "
                  f"{med['evalkit']['outside_train_seconds']:.1f} s vs plain {med['plain']['outside_train_seconds']:.1f} s -> "
                  f"{extra:+.1f} s = {100 * extra / med['plain']['seconds']:+.1f}% of the plain script's {med['plain']['seconds']:.1f} s "
                  f"(target <= +10%)")
            for key, label in (("seconds", "wall"), ("cpu_seconds", "cpu")):
                plain = statistics.median(x[key] for x in result["runs"] if x["side"] == "plain")
                ek = statistics.median(x[key] for x in result["runs"] if x["side"] == "evalkit")
                result["overhead"][label] = {"plain_median_s": plain, "evalkit_median_s": ek, "overhead": ek / plain - 1}
                print(f"   raw {label} totals: evalkit {ek:.1f} s vs plain TRL {plain:.1f} s -> "
                      f"{100 * (ek / plain - 1):+.1f}% (noisy on a shared machine)")
        tp = sweep_rate(Path(a.from_sweep)) if a.from_sweep else None if a.skip_trials else trials_per_hour(Path(a.trial_config), tmp)
        if tp is not None:
            result["trials"] = tp
            print("\nB. full trials (train + evaluation):")
            for u in tp["units"]:
                print(f"   {u['unit']:24s} total {u['unit_seconds']:7.1f} s  train {u['train_seconds']:6.1f} s  eval {u['eval_seconds']:6.1f} s")
            print(f"   mean {tp['mean_trial_s']:.1f} s per trial -> {tp['trials_per_hour']:.1f} trials/hour on {os.cpu_count()} CPUs")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {a.out}")


if __name__ == "__main__":
    main()
