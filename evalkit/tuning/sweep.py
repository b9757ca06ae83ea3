"""`evalkit sweep CONFIG`: preference-tuning hyperparameter sweeps as Optuna studies.

One study per method (`<name>/<method>`) in a file-based `JournalStorage` under the output directory,
or in any Optuna storage URL (`--storage postgresql://...`) so several machines run trials of one
study. A trial trains (TRL + peft LoRA) and evaluates on every tuning seed; its value is the mean
score over them. Resuming: finished trials are never redone; a trial whose process is gone
(RUNNING in the storage, its worker dead on this host) or that raised is failed and re-queued with
the same parameters (Optuna's retry pattern: `failed_trial`/`retry_history` system attributes) and
reuses whatever that trial had already finished on disk. RDB storages also get Optuna's heartbeat,
which does the same for workers on other hosts. After all tuning trials, each method's best
configuration is trained and evaluated on the test seeds (a `<name>/<method>/test` study).

OUT/ holds manifest.json, optuna.journal, events.jsonl, sft/, trials/<method>/tNNN/seed<S>/ (adapter/,
train_log.jsonl, train.json, records.jsonl, metrics.json), test/<method>/<config>/seed<S>/,
trials.csv, summary.json and plots/.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import EvalkitError
from ..seeding import derive_seed
from ..readers import iter_jsonl
from .config import Range, ResolvedMethod, Sweep, load_sweep
from .report import clustered_mean, grid_stats, plots

SUMMARY_SCHEMA = "evalkit.summary/v1"
_TUNE_PACKAGES = ("trl", "peft", "optuna", "datasets")


@dataclass(frozen=True)
class SweepResult:
    out: Path
    summary: dict


def default_out(sweep: Sweep) -> Path:
    from ..store import safe_name

    return Path("results") / "sweep" / safe_name(sweep.name) / safe_name(sweep.config.model) / sweep.config_hash[7:15]


def make_storage(spec: str | None, out: Path):
    """`None`: OUT/optuna.journal; a URL with '://': an Optuna RDB storage (with heartbeat, so trials of
    dead workers on any host are retried); anything else: the path of a journal file."""
    from optuna.storages import JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
    from optuna.storages.journal import JournalFileBackend

    if spec and "://" in spec:
        import warnings

        from optuna.exceptions import ExperimentalWarning
        from sqlalchemy.exc import IntegrityError, ProgrammingError

        try:
            for attempt in range(5):
                try:
                    with warnings.catch_warnings():  # the heartbeat API is marked experimental (stable since Optuna 2.8)
                        warnings.simplefilter("ignore", ExperimentalWarning)
                        return RDBStorage(url=spec, heartbeat_interval=60, grace_period=300,
                                          heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3))
                except (IntegrityError, ProgrammingError) as e:
                    # workers started at once on a fresh database all create Optuna's tables: one wins, the others
                    # fail (PostgreSQL: duplicate pg_type entries, or "relation ... already exists") and find the
                    # tables there on a retry
                    if attempt == 4 or (isinstance(e, ProgrammingError) and "already exists" not in str(e)):
                        raise
                    time.sleep(0.5 * (attempt + 1))
        except Exception as e:  # bad URL, missing driver, unreachable server
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            if "DB access module" in reason and spec.startswith(("postgresql://", "postgresql+psycopg://")):  # SQLAlchemy 2.1 opens it with psycopg
                reason += " (PostgreSQL: pip install 'evalkit[tune]', which brings psycopg)"
            raise EvalkitError(f"--storage '{shown_storage(spec)}': {reason}") from None
    path = Path(spec) if spec else out / "optuna.journal"
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


def shown_storage(spec: str) -> str:
    """A storage URL as it may be printed or written to a manifest: its password masked."""
    if "://" not in spec:
        return spec
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(spec).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL SQLAlchemy can read: its own error says so; mask what follows "user:"
        import re

        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", spec)


# ------------------------------------------------------------------------------------------- workers


def _worker() -> dict:
    import psutil

    return {"host": socket.gethostname(), "pid": os.getpid(), "started": psutil.Process().create_time()}


def _alive(worker: dict | None) -> bool | None:
    """Whether the process that ran a trial still exists; None when it ran on another host."""
    if not worker or worker.get("host") != socket.gethostname():
        return None
    import psutil

    try:
        return abs(psutil.Process(worker["pid"]).create_time() - worker["started"]) < 1e-3
    except (psutil.NoSuchProcess, psutil.AccessDenied, KeyError):
        return False


def recover(study) -> list[int]:
    """Fail and re-queue trials that were interrupted (RUNNING, worker gone) or raised (FAIL with an
    `error`); each is retried once per failure. Returns the numbers of the re-queued trials."""
    import warnings

    import optuna
    from optuna.trial import TrialState

    # an RDB storage's heartbeat: a trial of a dead worker on another host, silent past the grace period, is
    # failed and re-queued by Optuna's callback (once, whichever worker gets there first); Optuna does this only
    # before it starts a trial, and a study with none left to start would keep it RUNNING
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    trials = study.get_trials(deepcopy=False)
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    requeued = []
    for t in trials:
        interrupted = t.state == TrialState.RUNNING and _alive(t.user_attrs.get("worker")) is False
        crashed = t.state == TrialState.FAIL and "error" in t.user_attrs
        if not (interrupted or crashed) or t.number in retried:
            continue
        if interrupted:
            study._storage.set_trial_user_attr(t._trial_id, "error", "interrupted: its worker process is gone")
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        system = {**t.system_attrs, "failed_trial": t.system_attrs.get("failed_trial", t.number)}
        system["retry_history"] = [*t.system_attrs.get("retry_history", []), t.number]
        user = {k: v for k, v in t.user_attrs.items() if k not in ("error", "worker")}
        study.add_trial(optuna.trial.create_trial(state=TrialState.WAITING, params=t.params, distributions=t.distributions,
                                                  user_attrs=user, system_attrs=system))
        requeued.append(t.number)
    return requeued


def _counts(trials) -> dict[str, int]:
    from optuna.trial import TrialState

    c = {"done": 0, "running": 0, "waiting": 0}
    for t in trials:
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED) or (t.state == TrialState.FAIL and t.user_attrs.get("score_undefined")):
            c["done"] += 1
        elif t.state == TrialState.RUNNING:
            c["running"] += 1
        elif t.state == TrialState.WAITING:
            c["waiting"] += 1
    return c


# ------------------------------------------------------------------------------------------- the sweep


def _system_attrs(trial) -> dict:
    return trial.storage.get_trial_system_attrs(trial._trial_id)


def _suggest(trial, method: ResolvedMethod) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for k, v in method.space.items():
        if isinstance(v, list):
            params[k] = trial.suggest_categorical(k, v)
        elif isinstance(v, Range):
            if k == "max_steps":
                params[k] = trial.suggest_int(k, int(v.low), int(v.high), log=v.log)
            else:
                params[k] = trial.suggest_float(k, v.low, v.high, log=v.log)
        else:
            params[k] = v
    return params


def _combine(per_seed: list[dict]) -> dict[str, dict]:
    """Per-seed metric dicts -> one: mean of the values; with several seeds the stderr of the mean of
    independent estimates, sqrt(Σ se²)/k."""
    if len(per_seed) == 1:
        return per_seed[0]
    out = {}
    for name in dict.fromkeys(k for m in per_seed for k in m):
        ms = [m[name] for m in per_seed if name in m and m[name].get("value") is not None and math.isfinite(m[name]["value"])]
        if not ms:
            out[name] = {"value": float("nan"), "n": 0}
            continue
        d = {"value": float(np.mean([m["value"] for m in ms])), "n": int(sum(m.get("n", 0) for m in ms))}
        if len(ms) == len(per_seed) and all(m.get("stderr") is not None for m in ms):
            d["stderr"] = float(math.sqrt(sum(m["stderr"] ** 2 for m in ms)) / len(ms))
        out[name] = d
    return out


class SweepRunner:
    def __init__(self, sweep: Sweep, out: Path, storage, cache: bool = True, quiet: bool = True):
        from ..models import resolve_model
        from .checkers import load_preferences

        self.sweep, self.cfg, self.out, self.storage, self.quiet = sweep, sweep.config, out, storage, quiet
        self.base = resolve_model(self.cfg.model)
        rows = load_preferences(str(sweep.data_path))
        train_rows = [r for r in rows if r.get("split") == self.cfg.data.train_split]
        # n_train: a fixed seeded subset (the file is grouped by family; its head would be one family)
        train_rows.sort(key=lambda r: derive_seed(0, "sweep-train", str(r["id"])))
        self.train_rows = train_rows[: self.cfg.data.n_train]
        if not self.train_rows:
            raise EvalkitError(f"{sweep.path}: field 'data.train_split': no rows with split '{self.cfg.data.train_split}' in {sweep.data_path}")
        from .evaluate import select_heldout

        self.heldout = select_heldout(rows, self.cfg.data.eval_splits, self.cfg.eval.n_prompts)
        if self.cfg.eval.enabled and not self.heldout:
            raise EvalkitError(f"{sweep.path}: field 'data.eval_splits': no rows with split in {self.cfg.data.eval_splits} in {sweep.data_path}")
        self._cache = cache
        self._eval = None  # built on first use: SFT backend, judge backend, SFT references

    # --- bookkeeping ---
    def event(self, kind: str, **info) -> None:
        with open(self.out / "events.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"event": kind, "time": time.time(), "pid": os.getpid(), **info}) + "\n")

    def log(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)

    # --- evaluation context ---
    def _response_cache(self):
        if not self._cache:
            return None
        from ..cache import ResponseCache, cache_path

        return ResponseCache(cache_path(True))

    def eval_context(self) -> dict:
        if self._eval is None:
            from ..backends import CachedBackend, backend_class
            from ..models import resolve_model
            from .evaluate import EvalSettings, make_sft_backend

            e = self.cfg.eval
            cache = self._response_cache()
            sft = CachedBackend(make_sft_backend(e.backend, self.base, dict(e.backend_options),
                                                 self.cfg.lora.r if self.cfg.lora else None), cache)
            if self.cfg.data.prompt_format == "chat" and not sft.chat_template:
                raise EvalkitError(f"{self.sweep.path}: field 'data.prompt_format': model '{self.cfg.model}' has no chat template; use raw")
            judge = None
            if e.judge.enabled:
                jm, jb = e.judge.model or self.cfg.model, e.judge.backend or e.backend
                same = jm == self.cfg.model and jb == e.backend and not e.judge.backend_options
                judge = sft if same else CachedBackend(
                    backend_class(jb)(resolve_model(jm, remote=jb == "openai"), **e.judge.backend_options), cache)
            settings = EvalSettings(self.cfg.data.prompt_format, e.max_new_tokens, e.temperature, e.kl_samples,
                                    e.kl_max_new_tokens or e.max_new_tokens, e.judge, e.score)
            self._eval = {"sft": sft, "judge": judge, "cache": cache, "settings": settings, "refs": {}}
        return self._eval

    def sft_ref(self, seed: int):
        from .evaluate import sft_reference

        ctx = self.eval_context()
        key = seed if ctx["settings"].temperature > 0 else "greedy"
        if key not in ctx["refs"]:
            ctx["refs"][key] = sft_reference(ctx["sft"], self.heldout, ctx["settings"], seed, self.out / "sft" / str(key))
        return ctx["refs"][key]

    # --- one (configuration, seed) ---
    def run_unit(self, method: ResolvedMethod, params: dict, seed: int, d: Path, label: str) -> dict:
        """Train + evaluate one configuration on one seed in directory d; a finished unit is read back."""
        done = d / "metrics.json"
        if done.exists():
            return json.loads(done.read_text())
        from ..backends import CachedBackend
        from .evaluate import evaluate_policy, make_policy_backend
        from .train import train

        t0 = time.perf_counter()
        # a unit killed after training keeps its adapter (train.json): only the evaluation is redone
        self.event("train_reused" if (d / "train.json").exists() else "train_start", unit=label, seed=seed)
        tr = train(self.base.path, method.loss, params, self.train_rows, d, derive_seed(seed, "sweep", "train"),
                   self.cfg.training, self.cfg.lora, self.cfg.data.prompt_format)
        self.event("train_done", unit=label, seed=seed, seconds=tr.seconds)
        metrics: dict[str, Any] = {}
        per_prompt: dict[str, float | None] = {}
        if self.cfg.eval.enabled:
            ctx = self.eval_context()
            ref = self.sft_ref(seed)
            e = self.cfg.eval
            policy = CachedBackend(make_policy_backend(e.backend, self.base, ctx["sft"].backend, tr.adapter_dir,
                                                       self.cfg.lora is not None, dict(e.backend_options),
                                                       lora_id=derive_seed(seed, "lora", label) % (1 << 30) + 1), ctx["cache"])
            try:
                metrics = evaluate_policy(policy, ctx["sft"], ctx["judge"], self.heldout, ref, ctx["settings"], seed, d)
            finally:
                policy.close()
            per_prompt = self._per_prompt(d / "records.jsonl")
        metrics.update({k: {"value": v, "n": 1} for k, v in tr.metrics.items()})
        metrics["train_seconds"] = {"value": tr.seconds, "n": 1}
        metrics["unit_seconds"] = {"value": time.perf_counter() - t0, "n": 1}
        metrics["score"] = dict(metrics.get(self.sweep.score, {"value": float("nan"), "n": 0}))
        from ..store import finite, write_json

        payload = finite({**metrics, "_per_prompt": per_prompt})
        write_json(done, payload)
        self.event("unit_done", unit=label, seed=seed)
        return payload

    def _per_prompt(self, records: Path) -> dict[str, float | None]:
        """Each held-out prompt's outcome under the score (judge share or reward)."""
        out, score = {}, self.sweep.score
        for _, _, r in iter_jsonl(records):
            out[str(r["id"])] = ((r.get("judge") or {}).get("score") if score == "win_rate_vs_sft" else
                                 (r.get("pref") or {}).get("correct") if score == "pref_accuracy" else r.get("reward"))
        return out

    # --- objectives ---
    def _record(self, trial, params: dict, per_seed: dict[int, dict], d: Path, swept: list[str]) -> float:
        metrics = _combine([{k: v for k, v in m.items() if not k.startswith("_")} for m in per_seed.values()])
        value = metrics["score"]["value"]
        value = float("nan") if value is None else float(value)
        trial.set_user_attr("params", params)
        trial.set_user_attr("swept", swept)
        trial.set_user_attr("dir", str(d))
        trial.set_user_attr("metrics", metrics)
        trial.set_user_attr("per_prompt", {str(s): m.get("_per_prompt", {}) for s, m in per_seed.items()})
        (d / "trial.json").write_text(json.dumps({"trial": trial.number, "params": params, "value": value,
                                                  "metrics": metrics}, indent=1, default=str))
        if not math.isfinite(value):
            trial.set_user_attr("score_undefined", True)  # FAIL in Optuna (it takes no NaN), counted as finished
        return value

    def _guard(self, fn: Callable):
        def objective(trial):
            trial.set_user_attr("worker", _worker())
            try:
                return fn(trial)
            except BaseException as e:  # also KeyboardInterrupt: the trial is re-queued on the next run
                trial.set_user_attr("error", repr(e)[:1000])
                raise

        return objective

    def tuning_objective(self, method: ResolvedMethod):
        def fn(trial):
            params = _suggest(trial, method)
            orig = _system_attrs(trial).get("failed_trial", trial.number)
            d = self.out / "trials" / method.name / f"t{orig:03d}"
            label = f"{method.name}/t{orig:03d}"
            self.event("trial_start", method=method.name, trial=trial.number, unit=label, params=params)
            self.log(f"[{method.name}] trial {trial.number}: {params}")
            per_seed = {s: self.run_unit(method, params, s, d / f"seed{s}", label) for s in self.cfg.seeds.tuning}
            value = self._record(trial, params, per_seed, d, [k for k, v in method.space.items() if not isinstance(v, (int, float))])
            self.event("trial_done", method=method.name, trial=trial.number, unit=label, value=value)
            self.log(f"[{method.name}] trial {trial.number}: {self.sweep.score} = "
                     + (f"{value:.4f}" if math.isfinite(value) else "undefined (e.g. no judge verdict parsed)"))
            return value

        return self._guard(fn)

    def test_objective(self, method: ResolvedMethod):
        import optuna

        def fn(trial):
            fixed = _system_attrs(trial).get("fixed_params") or trial.params
            if "test_seed" not in fixed:
                raise optuna.TrialPruned("not an enqueued test run")
            # Point distributions: a categorical's choices must not change within a study, and every test run
            # (other seeds, a later best configuration) pins other values
            params = {k: trial.suggest_int(k, int(v), int(v)) if k == "test_seed" else trial.suggest_float(k, float(v), float(v))
                      for k, v in fixed.items()}
            seed = int(params.pop("test_seed"))
            key = trial.user_attrs["config_key"]
            d = self.out / "test" / method.name / key
            label = f"{method.name}/test/{key}"
            self.event("test_start", method=method.name, seed=seed, unit=label)
            per_seed = {seed: self.run_unit(method, params, seed, d / f"seed{seed}", label)}
            return self._record(trial, params, per_seed, d / f"seed{seed}", [])

        return self._guard(fn)

    # --- driving ---
    def _study(self, name: str, sampler=None):
        import optuna

        return optuna.create_study(study_name=name, storage=self.storage, sampler=sampler, direction="maximize", load_if_exists=True)

    def _sampler(self, method: ResolvedMethod, n_existing: int):
        import optuna

        s = self.cfg.sampler
        # A resumed study must not replay the sampler's first draws: the seed depends on the history length.
        seed = derive_seed(s.seed, self.sweep.name, method.name, n_existing)
        if s.type == "grid":
            return optuna.samplers.GridSampler(method.grid(), seed=s.seed)
        if s.type == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=s.n_startup_trials)

    def tune(self, method: ResolvedMethod) -> dict[str, int]:
        name = f"{self.sweep.name}/{method.name}"
        probe = self._study(name)
        requeued = recover(probe)
        if requeued:
            self.log(f"[{method.name}] re-queued interrupted trials {requeued}")
            self.event("requeued", method=method.name, trials=requeued)
        study = self._study(name, self._sampler(method, len(probe.get_trials(deepcopy=False))))
        objective = self.tuning_objective(method)
        while True:
            c = _counts(study.get_trials(deepcopy=False))
            if c["waiting"] == 0 and c["done"] + c["running"] >= method.n_trials:
                return c
            study.optimize(objective, n_trials=1)

    def best(self, method: ResolvedMethod):
        from optuna.trial import TrialState

        study = self._study(f"{self.sweep.name}/{method.name}")
        done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
        return max(done, key=lambda t: (t.value, -t.number)) if done else None

    def test(self, method: ResolvedMethod) -> None:
        best = self.best(method)
        if best is None or not self.cfg.seeds.test:
            return
        params = best.user_attrs["params"]
        key = "c" + hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
        import optuna

        # every test run is enqueued with all its parameters: the sampler never draws
        study = self._study(f"{self.sweep.name}/{method.name}/test", optuna.samplers.RandomSampler(seed=0))
        requeued = recover(study)
        if requeued:
            self.event("requeued", method=method.name, phase="test", trials=requeued)
        for s in self.cfg.seeds.test:
            study.enqueue_trial({**params, "test_seed": s}, user_attrs={"config_key": key, "best_trial": best.number},
                                skip_if_exists=True)
        objective = self.test_objective(method)
        from optuna.trial import TrialState

        while any(t.state == TrialState.WAITING for t in study.get_trials(deepcopy=False)):
            study.optimize(objective, n_trials=1)

    def run(self) -> bool:
        """All tuning trials, then the test seeds. True when every study is complete."""
        for m in self.sweep.methods:
            self.tune(m)
        # counted again now: another worker may still be finishing a trial of a method tuned earlier
        counts = [_counts(self._study(f"{self.sweep.name}/{m.name}").get_trials(deepcopy=False)) for m in self.sweep.methods]
        if any(c["running"] or c["waiting"] for c in counts):
            self.log("other workers still run trials: test seeds and the final summary come from the last worker")
            return False
        for m in self.sweep.methods:
            self.test(m)
        return True

    def close(self) -> None:
        if self._eval is not None:
            for b in {id(b): b for b in (self._eval["judge"], self._eval["sft"]) if b is not None}.values():
                b.close()


# ------------------------------------------------------------------------------------------- report


def collect(sweep: Sweep, storage) -> dict:
    """Every finished trial and test run of the sweep, read from the storage."""
    import optuna
    from optuna.trial import TrialState

    names = set(optuna.get_all_study_names(storage))
    trials, tests = [], {}
    for m in sweep.methods:
        name = f"{sweep.name}/{m.name}"
        if name in names:
            for t in optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False):
                if t.state == TrialState.COMPLETE or (t.state == TrialState.FAIL and t.user_attrs.get("score_undefined")):
                    trials.append({"method": m.name, "loss": m.loss, "trial": t.number, "state": t.state.name,
                                   "value": t.value if t.state == TrialState.COMPLETE else None, "params": t.user_attrs["params"],
                                   "swept": t.user_attrs.get("swept", []), "metrics": t.user_attrs["metrics"],
                                   "per_prompt": t.user_attrs.get("per_prompt", {}), "dir": t.user_attrs.get("dir"),
                                   "host": (t.user_attrs.get("worker") or {}).get("host")})
        tname = name + "/test"
        if tname in names:
            tests[m.name] = [t for t in optuna.load_study(study_name=tname, storage=storage).get_trials(deepcopy=False)
                             if t.state == TrialState.COMPLETE or (t.state == TrialState.FAIL and t.user_attrs.get("score_undefined"))]
    return {"trials": trials, "tests": tests}


def _v(m) -> float | None:
    v = m.get("value") if isinstance(m, dict) else m
    return None if v is None or not math.isfinite(float(v)) else float(v)


def build_summary(sweep: Sweep, storage, out: Path, complete: bool) -> dict:
    import pandas as pd

    data = collect(sweep, storage)
    trials = data["trials"]
    score = sweep.score
    breakdown: dict[str, dict] = {"method": {}, "trial": {}}
    best_block = {}
    for m in sweep.methods:
        mine = [t for t in trials if t["method"] == m.name]
        stats = grid_stats([_v(t["metrics"].get("score", {})) for t in mine])
        stats["n_trials"] = {"value": float(len(mine)), "n": len(mine)}
        if score == "win_rate_vs_sft":
            beats = [v for v in (_v(t["metrics"].get("score", {})) for t in mine) if v is not None]
            stats["p_beats_sft"] = {"value": float(np.mean([v > 0.5 for v in beats])) if beats else float("nan"), "n": len(beats)}
        finite = [t for t in mine if t["value"] is not None]
        if finite:
            b = max(finite, key=lambda t: (t["value"], -t["trial"]))
            key = "c" + hashlib.sha256(json.dumps(b["params"], sort_keys=True).encode()).hexdigest()[:10]
            runs = [t for t in data["tests"].get(m.name, []) if t.user_attrs.get("config_key") == key]
            seeds = {str(t.params.get("test_seed")): t.user_attrs["metrics"] for t in runs}
            keys = ("score", "win_rate_vs_sft", "reward", "pref_accuracy", "kl_to_sft", "mean_length")
            per_seed = [next(iter(t.user_attrs.get("per_prompt", {}).values()), {}) for t in runs]
            test_score = clustered_mean(per_seed) if runs else {"value": float("nan"), "n": 0}
            stats["test_score"] = test_score
            best_block[m.name] = {"trial": b["trial"], "params": b["params"], "tuning_score": b["value"],
                                  "test_seeds": sweep.config.seeds.test, "test_score": test_score,
                                  "test_by_seed": {s: {k: mm[k] for k in keys if k in mm} for s, mm in seeds.items()}}
        breakdown["method"][m.name] = stats
    for t in trials:
        mm = t["metrics"]
        breakdown["trial"][f"{t['method']}/t{t['trial']:03d}"] = {
            k: v for k, v in mm.items()
            if k in ("score", "win_rate_vs_sft", "kl_to_sft", "kl_to_sft_per_token", "mean_length", "reward", "judge_parse_failure_rate",
                     "frac_truncated", "pref_accuracy", "pref_margin", "train_rewards_margins", "train_rewards_accuracies")
            or k.startswith(("reward_", "win_rate_vs_sft_", "pref_accuracy_"))}
    # nothing to plot without a single defined score (e.g. eval.enabled: false)
    plot_files = plots(trials, score, out / "plots") if any(_v(t["metrics"].get("score", {})) is not None for t in trials) else []
    rows = []
    for t in trials:
        row = {"method": t["method"], "loss": t["loss"], "trial": t["trial"], "state": t["state"], "score": _v(t["metrics"].get("score", {}))}
        row.update({f"param_{k}": v for k, v in t["params"].items()})
        for k, mv in t["metrics"].items():
            if isinstance(mv, dict):
                row[k] = mv.get("value")
                if mv.get("stderr") is not None and k in ("win_rate_vs_sft", "kl_to_sft", "kl_to_sft_per_token", "mean_length", "reward",
                                                          "pref_accuracy"):
                    row[k + "_stderr"] = mv["stderr"]
                if k in ("win_rate_vs_sft", "reward", "pref_accuracy"):
                    row[k + "_n"] = mv.get("n")
        row["dir"], row["host"] = t["dir"], t["host"]
        rows.append(row)
    pd.DataFrame(rows).to_csv(out / "trials.csv", index=False)
    sft = {}
    for p in sorted((out / "sft").glob("*/metrics.json")):
        sft[p.parent.name] = json.loads(p.read_text())
    return {
        "schema": SUMMARY_SCHEMA, "task": sweep.name, "kind": "sweep", "model": sweep.config.model,
        "backend": sweep.config.eval.backend, "n_samples": sweep.config.eval.n_prompts, "score": score,
        "status": "complete" if complete else "partial",
        "metrics": grid_stats([_v(t["metrics"].get("score", {})) for t in trials]),
        "breakdown": breakdown,
        "best": best_block,
        "sft": sft,
        "trials": [{k: t[k] for k in ("method", "loss", "trial", "state", "value", "params", "dir")} for t in trials],
        "plots": [f"plots/{p}" for p in plot_files],
    }


# ------------------------------------------------------------------------------------------- entry


def run_sweep(config: str | Path, out: str | Path | None = None, storage: str | None = None, *, cache: bool = True,
              quiet: bool = True) -> SweepResult:
    """Run (or resume) a sweep; returns the output directory and summary.json's content."""
    import optuna

    from ..store import finite, git_revision, now, package_versions, write_json

    sweep = load_sweep(config)
    out = Path(out) if out else default_out(sweep)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    if manifest and manifest.get("config_hash") != sweep.config_hash:
        raise EvalkitError(f"{out}: holds a sweep of another config ({manifest.get('config')}); use another -o")
    # Optuna reports an undefined score as a failed trial; evalkit logs it itself
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    st = make_storage(storage, out)
    import importlib.metadata as md

    versions = package_versions()
    for p in _TUNE_PACKAGES:
        try:
            versions[p] = md.version(p)
        except md.PackageNotFoundError:
            pass
    manifest = {**(manifest or {}), "schema": "evalkit.sweep-manifest/v1", "sweep": sweep.name, "config": str(sweep.path),
                "config_hash": sweep.config_hash, "data": str(sweep.data_path), "model": sweep.config.model,
                "storage": shown_storage(storage) if storage else str(out / "optuna.journal"), "score": sweep.score,
                "studies": [f"{sweep.name}/{m.name}" for m in sweep.methods], "versions": versions,
                "git_revision": git_revision(), "status": "running", "updated": now()}
    manifest.setdefault("started", now())
    write_json(manifest_path, manifest)
    runner = SweepRunner(sweep, out, st, cache=cache, quiet=quiet)
    manifest["model_path"], manifest["weights_hash"] = runner.base.path, runner.base.weights_hash
    try:
        complete = runner.run()
    except BaseException:
        manifest.update(status="failed", updated=now())
        write_json(manifest_path, manifest)
        raise
    finally:
        runner.close()
    summary = build_summary(sweep, st, out, complete)
    write_json(out / "summary.json", summary)
    manifest.update(status="complete" if complete else "partial", finished=now(), updated=now())
    write_json(manifest_path, manifest)
    return SweepResult(out, finite(summary))
