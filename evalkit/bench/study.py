"""`evalkit bench`: the throughput landscape of a backend's inference options, searched with Optuna.

Per backend, one Optuna study over its space (grid, random or TPE) maximising the mean tokens/s over
the repeats, plus a one-trial study of the defaults (the backend with only the space's fixed
options: what a user gets without -B). Both live in a JournalStorage (OUT/optuna.journal), named
after a hash of everything that changes a measurement (model weights, workload, space, sampler,
repeats, warm-up), as `evalkit sweep` does: the same command again skips finished trials, re-queues
an interrupted one (`tuning.sweep.recover`), and a larger --trials adds trials. A point whose engine
refuses its options (e.g. vLLM's max_num_batched_tokens below max_model_len without chunked
prefill) is kept as an infeasible trial.

Importance: Optuna's fANOVA (`FanovaImportanceEvaluator`, a random-forest variance decomposition of
the objective over the space; it needs scikit-learn): the share of the throughput variance each
option explains, which is what the landscape plot's two axes should be. PED-ANOVA (Optuna's default)
measures what it takes to reach the top quantile, which is unstable with a dozen trials.

OUT/bench.json (schema evalkit/schemas/bench.v1.json), OUT/landscape_<backend>.png, OUT/optuna.journal.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from ..errors import EvalkitError
from ..seeding import derive_seed
from .measure import measure, ratio
from .space import Range, Space, load_spaces
from .workload import Workload, build_workload

SCHEMA = "evalkit.bench/v1"
OBJECTIVE = "tokens_per_s"


@dataclass(frozen=True)
class BenchResult:
    out: Path
    doc: dict


def cli_options(options: dict) -> str:
    """Options as `-B key=value` flags that `evalkit run` parses back to the same values (YAML scalars)."""
    def text(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if v is None:
            return "null"
        return json.dumps(v) if isinstance(v, str) and (not v or any(c in v for c in " :#'\"{}[],") or v in ("true", "false", "null")) else str(v)

    return " ".join(f"-B {k}={text(v)}" for k, v in options.items())


def _requirements() -> None:
    try:
        import optuna  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:
        raise EvalkitError(f"evalkit bench needs optuna and scikit-learn ({e.name} is missing): pip install 'evalkit[bench]'") from None


class Bench:
    def __init__(self, model, backend: str, space: Space, workload: Workload, storage, sampler: str, seed: int,
                 repeats: int, warmup: int, quiet: bool):
        self.model, self.backend, self.space, self.workload = model, backend, space, workload
        self.storage, self.sampler_type, self.seed, self.repeats, self.warmup, self.quiet = storage, sampler, seed, repeats, warmup, quiet
        ident = {"model": model.name, "weights_hash": model.weights_hash, "backend": backend, "space": space.as_json(),
                 "workload": workload.spec, "sampler": sampler, "seed": seed, "repeats": repeats, "warmup": warmup}
        self.config_hash = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:12]
        self.name = f"bench/{backend}/{self.config_hash}"

    def log(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)

    # --- one point ---
    def point(self, options: dict) -> dict:
        """Start an engine with these options (not timed), measure, close it."""
        from ..backends import backend_class

        engine = backend_class(self.backend)(self.model, **options)
        try:
            return {**measure(engine, self.workload, self.repeats, self.warmup), "backend_version": engine.version()}
        finally:
            engine.close()

    def _objective(self, params_of):
        from ..tuning.sweep import _worker

        def objective(trial):
            trial.set_user_attr("worker", _worker())
            params = params_of(trial)
            options = {**self.space.fixed, **params}
            trial.set_user_attr("options", options)
            self.log(f"[{self.backend}] trial {trial.number}: {cli_options(params) or '(defaults)'}")
            try:
                result = self.point(options)
            except KeyboardInterrupt:
                trial.set_user_attr("error", "interrupted")  # re-queued by the next run (recover)
                raise
            except Exception as e:  # the engine refused these options: an infeasible point of the landscape
                msg = f"{type(e).__name__}: {' '.join(str(e).split())}"[:400]  # one line: a pydantic error says why on its 2nd
                trial.set_user_attr("infeasible", msg)
                trial.set_user_attr("score_undefined", True)  # FAIL, counted as finished (tuning.sweep._counts)
                self.log(f"[{self.backend}] trial {trial.number}: infeasible: {msg}")
                return float("nan")
            trial.set_user_attr("result", result)
            t = result[OBJECTIVE]
            self.log(f"[{self.backend}] trial {trial.number}: {t['mean']:.1f} tokens/s "
                     f"(sd {t['std'] if t['std'] is not None else float('nan'):.1f}, n={t['n']})")
            return t["mean"]

        return objective

    def _suggest(self, trial) -> dict:
        out = {}
        for k, v in self.space.swept.items():
            if isinstance(v, Range):
                out[k] = (trial.suggest_int(k, int(v.low), int(v.high), log=v.log) if v.integer
                          else trial.suggest_float(k, v.low, v.high, log=v.log))
            else:
                out[k] = trial.suggest_categorical(k, v)
        return out

    def _study(self, name, sampler=None):
        import optuna

        return optuna.create_study(study_name=name, storage=self.storage, sampler=sampler, direction="maximize", load_if_exists=True)

    def _sampler(self, n_existing: int):
        import optuna

        # a resumed study must not replay the sampler's first draws: the seed depends on the history length
        seed = derive_seed(self.seed, "bench", self.backend, n_existing)
        if self.sampler_type == "grid":
            return optuna.samplers.GridSampler(self.space.grid(), seed=self.seed)
        if self.sampler_type == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=4)

    def _drive(self, study, objective, n: int) -> None:
        from ..tuning.sweep import _counts, recover

        requeued = recover(study)
        if requeued:
            self.log(f"[{self.backend}] re-queued interrupted trials {requeued}")
        while True:
            c = _counts(study.get_trials(deepcopy=False))
            if c["waiting"] == 0 and c["done"] + c["running"] >= n:
                return
            study.optimize(objective, n_trials=1)

    def run(self, n_trials: int) -> None:
        default = self._study(self.name + "/default")
        if not default.get_trials(deepcopy=False):
            default.enqueue_trial({})
        self._drive(default, self._objective(lambda t: {}), 1)
        if self.sampler_type == "grid":
            n_trials = min(n_trials, self.space.grid_size())  # the grid sampler stops once every point is done
        probe = self._study(self.name)
        study = self._study(self.name, self._sampler(len(probe.get_trials(deepcopy=False))))
        self._drive(study, self._objective(self._suggest), n_trials)

    # --- results ---
    def summary(self, out: Path) -> dict:
        import optuna
        from optuna.trial import TrialState

        from .plot import landscape

        def finished(name):
            return [t for t in optuna.load_study(study_name=name, storage=self.storage).get_trials(deepcopy=False)
                    if t.state == TrialState.COMPLETE or (t.state == TrialState.FAIL and t.user_attrs.get("infeasible"))]

        def row(t):
            return {"number": t.number, "state": "complete" if t.state == TrialState.COMPLETE else "infeasible",
                    "params": t.params, "options": t.user_attrs.get("options", {}), "result": t.user_attrs.get("result"),
                    "error": t.user_attrs.get("infeasible")}

        d = finished(self.name + "/default")
        default = row(d[0]) if d else None
        trials = [row(t) for t in finished(self.name)]
        done = [t for t in trials if t["state"] == "complete"]
        best = max(done, key=lambda t: (t["result"][OBJECTIVE]["mean"], -t["number"])) if done else None
        doc = {"study": self.name, "config_hash": self.config_hash, "space": self.space.as_json(),
               "backend_version": next((t["result"]["backend_version"] for t in done + ([default] if default else [])
                                        if t and t["result"]), None),
               "default": default, "trials": trials, "best": None, "ratio_to_default": None,
               "importance": self.importance(), "plot": None}
        if best:
            doc["best"] = {**best, "cli": cli_options(best["options"])}
            if default and default["result"]:
                doc["ratio_to_default"] = {k: ratio(best["result"][k], default["result"][k]) for k in (OBJECTIVE, "requests_per_s")}
        if trials:
            name = f"landscape_{self.backend}.png"
            if landscape(doc, self.space, list(doc["importance"]["values"]), out / name,
                         f"{self.model.name} · {self.backend} · {self.workload.name}: tokens/s"):
                doc["plot"] = name
        return doc

    def importance(self) -> dict:
        """fANOVA importance of each swept option for tokens/s over the completed trials (an empty
        mapping, with the reason, when there is too little to decompose)."""
        import optuna
        from optuna.trial import TrialState

        study = optuna.load_study(study_name=self.name, storage=self.storage)
        done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
        varied = [k for k in self.space.swept if len({repr(t.params.get(k)) for t in done}) > 1]
        base = {"method": "fanova", "n_trials": len(done)}
        if len(done) < 2 or not varied:
            return {**base, "values": {}, "note": "needs two completed trials that differ in an option"}
        if len({t.value for t in done}) < 2:
            return {**base, "values": {}, "note": "every trial measured the same throughput"}
        ev = optuna.importance.FanovaImportanceEvaluator(seed=self.seed)
        vals = optuna.importance.get_param_importances(study, evaluator=ev, params=varied)
        return {**base, "values": {k: float(v) for k, v in vals.items()}}


def default_out(model: str, workload: str) -> Path:
    from ..store import safe_name

    return Path("results") / "bench" / safe_name(model) / safe_name(workload)


def run_bench(model: str, backends: list[str], workload: str = "generate", *, trials: int = 10, space: str | None = None,
              sampler: str = "tpe", repeats: int = 3, warmup: int | None = None, prompts: int = 16, prompt_tokens: int = 128,
              max_tokens: int = 32, choices: int = 4, seed: int = 0, out: str | Path | None = None,
              quiet: bool = True) -> BenchResult:
    """Measure (or resume measuring) each backend's landscape; returns OUT and bench.json's content."""
    _requirements()
    import optuna

    from ..backends.base import Tokenization
    from ..backends.vllm import on_gpu
    from ..models import resolve_model
    from ..store import finite, git_revision, now, package_versions, write_json
    from ..tuning.sweep import make_storage

    if sampler not in ("grid", "random", "tpe"):
        raise EvalkitError(f"--sampler {sampler}: expected grid, random or tpe")
    if trials < 1 or repeats < 1:
        raise EvalkitError("--trials and --repeats must be >= 1")
    spaces = load_spaces(space, backends, on_gpu())
    if sampler == "grid":
        for b, s in spaces.items():
            ranges = [k for k, v in s.swept.items() if isinstance(v, Range)]
            if ranges:
                raise EvalkitError(f"{space or 'default space'}: field '{b}.{ranges[0]}': a range cannot be gridded; "
                                   "list its values or use --sampler random or tpe")
    spec = resolve_model(model)
    tok = Tokenization(spec.path, spec.name)
    wl = build_workload(workload, tok, prompts, prompt_tokens, max_tokens, choices, seed)
    # The default warm-up is the whole workload: the same batch shapes as the timed calls. A smaller one left the
    # first point of a process (the defaults) with a cold first repeat (SmolLM2, hf: 7.7 then 47 tokens/s).
    warmup = len(wl.requests) if warmup is None else max(0, warmup)
    out = Path(out) if out else default_out(spec.name, wl.name)
    out.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = make_storage(None, out)
    benches = [Bench(spec, b, spaces[b], wl, storage, sampler, seed, repeats, warmup, quiet) for b in backends]
    for b in benches:
        b.run(trials)
    import torch

    doc = {
        "schema": SCHEMA, "kind": "bench", "model": spec.name, "model_path": spec.path, "weights_hash": spec.weights_hash,
        "objective": OBJECTIVE, "workload": wl.describe(),
        "settings": {"sampler": sampler, "trials": trials, "repeats": repeats, "warmup_requests": warmup, "seed": seed},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "versions": {**package_versions(), "optuna": optuna.__version__}, "git_revision": git_revision(), "created": now(),
        "backends": {b.backend: b.summary(out) for b in benches},
    }
    doc["metrics"] = headline_metrics(doc)
    doc = finite(doc)
    write_json(out / "bench.json", doc)
    return BenchResult(out, doc)


def schema() -> dict:
    from importlib.resources import files

    return json.loads(files("evalkit").joinpath("schemas/bench.v1.json").read_text())


def check_bench(path: Path, doc: dict) -> None:
    """bench.json against its JSON Schema; the first violation is an EvalkitError naming the field."""
    import jsonschema

    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema()).iter_errors(doc))
    if err is not None:
        where = ".".join(map(str, err.absolute_path)) or "(top level)"
        raise EvalkitError(f"{path}: field '{where}': {err.message[:200]}")


def headline_metrics(doc: dict) -> dict:
    """The summary-style metrics the report's tables and overview read: per backend, best and default
    tokens/s (stderr = sd / sqrt(n)) and their ratio."""
    def m(s):
        return {"value": s["mean"], "stderr": None if s["std"] is None else s["std"] / math.sqrt(s["n"]), "n": s["n"]}

    out = {}
    for b, d in doc["backends"].items():
        r = d.get("ratio_to_default")
        if r:
            out[f"{b}_best_over_default"] = {"value": r[OBJECTIVE]["value"], "stderr": r[OBJECTIVE]["stderr"],
                                             "n": d["best"]["result"][OBJECTIVE]["n"]}
        if d.get("best"):
            out[f"{b}_best_{OBJECTIVE}"] = m(d["best"]["result"][OBJECTIVE])
        if d.get("default") and d["default"]["result"]:
            out[f"{b}_default_{OBJECTIVE}"] = m(d["default"]["result"][OBJECTIVE])
    return out
