"""lm-evaluation-harness task YAMLs, run natively and under evalkit's sensitivity lenses.

lm-eval itself loads the task (its TaskManager and ConfigurableTask: `include:`, `!function` hooks, Jinja
templates, `process_docs`), builds every document's context (description, few-shot examples drawn by its
own sampler with its seed) and requests, applies the task's filters and scores with its own
`process_results` and aggregation functions. evalkit's backend answers the requests (cached, resumable,
batched), so a run reports the values `lm_eval.simple_evaluate` reports for the same model and data.

Lenses (`-T lens=...`) keep lm-eval's context and scoring and vary the prompt:
- `perturb`: each document's question text under the intent-preserving perturbations (perturb/), the
  task's own metric per variant; mean, worst, spread, PDR, PSS, CPS as the posix kind reports them.
- `formatspread`: the document (and its few-shot examples) re-rendered in sampled formats (formatspread/):
  the task's metric per format; format 0 is lm-eval's own prompt.
- `posix`: the POSIX index (kinds/posix.py) of the model's own answers under the perturbed prompts.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from ..context import RunContext
from ..errors import EvalkitError
from ..kind import TaskConfig, TaskKind, TaskSpec
from ..metrics import mean_metric, metric_info, register_metric
from ..requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest
from ..seeding import derive_seed
from ..sensitivity import bootstrap_ci, label_metrics, spread_interval
from ..perturb import PromptBuilder, Variant, check_perturbations, mixable
from .posix import PosixConfig, PosixKind

LENSES = ("perturb", "formatspread", "posix")
OUTPUT_TYPES = ("multiple_choice", "loglikelihood", "loglikelihood_rolling", "generate_until")
LM_EVAL_KEYS = ("output_type", "include", "group", "dataset_path")  # an evalkit task has `kind` instead
# pool-based perturbations with no pool here: lm-eval's template is the only one, documents carry no paraphrases
NOT_FOR_LENSES = ("template", "paraphrase", "user")
LM_EVAL_FEWSHOT_SEED = 1234  # lm-eval's default fewshot_random_seed (simple_evaluate)


def is_lm_eval(doc: dict) -> bool:
    return "kind" not in doc and any(k in doc for k in LM_EVAL_KEYS)


def _lm_eval():
    try:
        from lm_eval.tasks import TaskManager
        from lm_eval.tasks._yaml_loader import load_yaml
    except ImportError:
        raise EvalkitError("lm-eval task YAMLs need lm-eval: pip install 'evalkit[lmeval]'") from None
    return TaskManager, load_yaml


def _yaml_config(path: Path) -> dict:
    """The YAML as lm-eval reads it, `include:` resolved, `!function` hooks left unresolved."""
    _, load_yaml = _lm_eval()
    try:
        return load_yaml(path, resolve_func=False, recursive=True)
    except Exception as e:  # noqa: BLE001 -- lm-eval raises whatever its loaders raise; one line naming the file
        raise EvalkitError(f"{path}: lm-eval cannot read this task YAML: {type(e).__name__}: {e}") from None


def evalkit_doc(path: Path, overrides: dict) -> tuple[dict, dict]:
    """An lm-eval task (or group) YAML as an evalkit `lm_eval` task: (task fields, the remaining -T
    overrides). `lens` picks the lens; a group YAML needs `task` (the member to run: the CLI runs a
    group as a suite of its members, see group_members)."""
    overrides = dict(overrides)
    lens = overrides.pop("lens", None)
    if lens is not None and lens not in LENSES:
        raise EvalkitError(f"-T lens={lens}: not a lens; one of {', '.join(LENSES)}")
    cfg = _yaml_config(path)
    name = overrides.pop("task", None) if "group" in cfg else None
    if "group" in cfg:
        if not name:
            raise EvalkitError(f"{path}: field 'group': an lm-eval group runs as a suite of its tasks (evalkit run {path.name}); "
                               "-T task=NAME runs one of them")
    else:
        name = cfg.get("task")
        if not isinstance(name, str):
            raise EvalkitError(f"{path}: field 'task': required (the lm-eval task name)")
        otype = cfg.get("output_type", "generate_until")  # lm-eval's default
        if otype not in OUTPUT_TYPES:
            raise EvalkitError(f"{path}: field 'output_type': '{otype}' is not one of {', '.join(OUTPUT_TYPES)}")
    # a lens run is its own benchmark beside the task's own (name:lens), so the two never stand for each other
    out = {"task": f"{name}:{lens}" if lens else str(name), "lm_eval_task": str(name), "kind": "lm_eval", "data": path.name,
           "description": f"lm-eval task {name}" + (f" under the {lens} lens" if lens else "")}
    return ({**out, "lens": lens} if lens else out), overrides


def fingerprint(path: Path) -> bytes:
    """What an lm-eval task's results depend on besides its YAML: the resolved config, its local data files
    (`data_files`, or a local `datasets` directory) and the Python hooks beside it (part of the run's
    content hash)."""
    cfg = _yaml_config(path)
    h = hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode())
    data_files = (cfg.get("dataset_kwargs") or {}).get("data_files") or {}
    named = data_files.values() if isinstance(data_files, dict) else [data_files]
    files = [path.parent / str(x) for v in named for x in ([v] if isinstance(v, str) else v)]
    local = path.parent / str(cfg.get("dataset_path", ""))
    if cfg.get("dataset_path") and local.is_dir():
        files += sorted(p for p in local.rglob("*") if p.is_file())
    for p in files + sorted(path.parent.glob("*.py")):
        if p.is_file():
            h.update(str(p.name).encode() + p.read_bytes())
    return h.hexdigest().encode()


def group_members(arg: str) -> list[dict] | None:
    """An lm-eval group YAML as suite tasks: one {task: YAML path, overrides} per member task, members of
    nested groups and tags included; None when `arg` is not an lm-eval group YAML. A member with its own
    YAML runs from that file; one defined inside the group runs from the group file (-T task=NAME)."""
    path = Path(arg)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return None
    try:
        from ..readers import read_yaml

        doc = read_yaml(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 -- reported when it is loaded as a task
        return None
    if not isinstance(doc, dict) or "kind" in doc or "group" not in doc:
        return None
    TaskManager, _ = _lm_eval()
    from lm_eval.tasks._index import Kind

    with contextlib.chdir(path.parent):
        index = TaskManager(include_path=str(path.parent.resolve()), include_defaults=False).task_index
    out: list[dict] = []

    def walk(gpath: Path, seen: set):
        cfg = _yaml_config(gpath)
        items = cfg.get("task") or []
        for item in items if isinstance(items, list) else [items]:
            name = item if isinstance(item, str) else item.get("task") if isinstance(item, dict) else None
            if not isinstance(name, str):
                raise EvalkitError(f"{gpath}: field 'task': a member without a task name: {item!r}")
            entry = index.get(name)
            if isinstance(item, str) and entry is None:
                raise EvalkitError(f"{gpath}: field 'task': no lm-eval task '{name}' next to the group file")
            if isinstance(item, str) and entry.kind == Kind.TAG:  # every task carrying the tag
                out.extend({"task": str(Path(e.yaml_path).resolve())} for _, e in sorted(index.items())
                           if name in e.tags and e.kind == Kind.TASK and e.yaml_path is not None)
            elif isinstance(item, str) and entry.kind == Kind.GROUP and entry.yaml_path is not None:
                if entry.yaml_path in seen:
                    raise EvalkitError(f"{gpath}: group '{name}' includes itself")
                walk(Path(entry.yaml_path), seen | {entry.yaml_path})
            elif isinstance(item, str) and entry.yaml_path is not None:
                out.append({"task": str(Path(entry.yaml_path).resolve())})
            else:  # defined (or overridden) inside the group: lm-eval builds it from the group file
                out.append({"task": str(gpath.resolve()), "overrides": {"task": name}})

    walk(path, {path.resolve()})
    if not out:
        raise EvalkitError(f"{path}: field 'task': the group has no tasks")
    return out


# --- lm-eval documents ---------------------------------------------------------------------------------
@dataclass
class Doc:
    id: int  # lm-eval's doc_id
    doc: dict
    instances: list  # lm-eval Instances, as its build_all_requests makes them
    shots: list = field(default_factory=list)  # the few-shot documents lm-eval drew for it


class LmEvalTask:
    """One lm-eval task, loaded by lm-eval from the YAML (a task file, or a group file and a member name)."""

    def __init__(self, path: Path, name: str, num_fewshot: int | None = None, fewshot_seed: int = LM_EVAL_FEWSHOT_SEED):
        TaskManager, _ = _lm_eval()
        self.path = path
        try:
            with contextlib.chdir(path.parent):  # lm-eval resolves local data_files against the working directory
                tm = TaskManager(include_path=str(path.parent.resolve()), include_defaults=False)
                group = _yaml_config(path).get("group")  # lm-eval 0.4.13 loads a group by its name, not its file
                tasks = tm.load([str(group) if group else str(path.resolve())])["tasks"]
                if name not in tasks:
                    raise EvalkitError(f"{path}: field 'task': no lm-eval task '{name}' in this file "
                                       f"(it has {', '.join(sorted(tasks)) or 'none'})")
                task = tasks[name]
                self.eval_docs = list(task.eval_docs)
        except EvalkitError:
            raise
        except Exception as e:  # noqa: BLE001 -- lm-eval and datasets raise anything; one line naming the file
            raise EvalkitError(f"{path}: lm-eval cannot load task '{name}': {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
        # as simple_evaluate: an unset num_fewshot is 0; the sampler draws from lm-eval's fewshot seed
        if num_fewshot is not None:
            task.set_config(key="num_fewshot", value=num_fewshot)
        elif task.get_config("num_fewshot") is None:
            task.set_config(key="num_fewshot", value=0)
        self.fewshot_seed = fewshot_seed
        self.task = task
        self.output_type = task.OUTPUT_TYPE
        self.metrics = list(task._metric_fn_list)  # metric_list order
        self.filters = [f.name for f in getattr(task, "_filters", [])] or ["none"]

    def build(self, upto: int) -> list[Doc]:
        """Documents 0..upto-1 with their contexts and requests, built in order from a freshly seeded
        sampler, as lm-eval's build_all_requests does (so each document's few-shot draw is lm-eval's)."""
        t = self.task
        t.set_fewshot_seed(seed=self.fewshot_seed)
        drawn: list = []
        sampler = getattr(t, "sampler", None)
        if sampler is not None:  # record which few-shot documents lm-eval drew for each document
            own = type(sampler).sample.__get__(sampler)

            def recording(*a, **k):
                shots = own(*a, **k)
                drawn.append(list(shots))
                return shots

            sampler.sample = recording
        out = []
        try:
            for doc_id, doc in t.doc_iterator(rank=0, limit=upto, world_size=1):
                drawn.clear()
                ctx = t.fewshot_context(doc, num_fewshot=t.config.num_fewshot or 0, gen_prefix=t.doc_to_prefix(doc))
                inst = t.construct_requests(doc=doc, ctx=ctx, metadata=(t.config["task"], doc_id, t.config.repeats),
                                            apply_chat_template=False, chat_template=None)
                out.append(Doc(doc_id, doc, inst if isinstance(inst, list) else [inst], drawn[0] if drawn else []))
        finally:
            if sampler is not None:
                del sampler.sample
        return out

    def score(self, doc: dict, instances: list) -> dict:
        """{filter: {metric: value}}: the task's filters over these answered instances, then its process_results."""
        for f in getattr(self.task, "_filters", []):
            f.apply(instances)
        if not getattr(self.task, "_filters", None):
            for i in instances:
                i.filtered_resps["none"] = i.resps[0]
        return {k: _plain(self.task.process_results(doc, [i.filtered_resps[k] for i in instances])) for k in self.filters}

    def aggregate(self, values: dict[str, list]) -> dict:
        """{metric: summary entry} over per-document values, with lm-eval's aggregation function per metric
        (mean where it names none, as lm-eval). Means also get evalkit's stderr (ddof=1, = lm-eval's) and
        95% interval; other aggregations (f1, bleu, perplexity, ...) are reported without one."""
        from lm_eval.api.metrics import mean

        aggs = self.task.aggregation()
        out = {}
        for name, items in values.items():
            fn = aggs.get(name, mean)
            value = float(fn(items))
            if fn is mean and all(isinstance(x, (int, float)) for x in items):
                entry = mean_metric(items, proportion=all(x in (0, 1) for x in items))
            else:
                entry = {"n": len(items)}
            out[name] = {**entry, "value": value}
        return out


def _plain(x):
    """JSON-ready: numpy scalars -> Python, tuples -> lists."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x if x is None or isinstance(x, (str, int, float, bool)) else str(x)


def generation_config(gen_kwargs: dict | None, repeats: int, seed: int, where: str) -> GenerationConfig:
    """lm-eval's generation_kwargs as evalkit's one GenerationConfig, normalised by lm-eval itself (max_gen_toks
    and its aliases, until, do_sample / temperature). HFLM's default of 256 new tokens; the backends stop at
    the end-of-sequence token as HFLM does (it adds the EOS text to `until`)."""
    from lm_eval.models.utils import normalize_gen_kwargs

    kw = normalize_gen_kwargs(dict(gen_kwargs or {}), 256)
    until = [u for u in kw.pop("until", []) or [] if u]
    max_tokens = int(kw.pop("max_gen_toks"))
    sample = bool(kw.pop("do_sample", False))
    temperature = float(kw.pop("temperature", 0.0) or 0.0)
    temperature = temperature if sample else 0.0
    top_p = float(kw.pop("top_p", 1.0))
    if kw:
        raise EvalkitError(f"{where}: field 'generation_kwargs': {', '.join(sorted(kw))} not supported "
                           "(evalkit's backends take until, max_gen_toks, do_sample, temperature, top_p)")
    return GenerationConfig(max_tokens=max_tokens, temperature=temperature, top_p=top_p if sample else 1.0, n=max(1, repeats),
                            stop=tuple(until), seed=seed if temperature > 0 else 0)


def question_text(task, doc: dict, choices: list[str]) -> str:
    """The document's own question inside lm-eval's doc_to_text: the longest string field of the document
    that appears in the rendered text and is not a choice ("Question: {{question}}\\nAnswer:" ->
    doc["question"]); the whole rendered text when no field does (a `!function` that rewrites it)."""
    text = task.doc_to_text(doc)
    fields = [v.strip() for v in doc.values() if isinstance(v, str) and v.strip() and v.strip() in text
              and v.strip() not in {c.strip() for c in choices}]
    return max(fields, key=len) if fields else text


def option_texts(doc: dict, text: str, choices: list[str]) -> tuple[list[str], bool]:
    """(option texts, label answers): MMLU-style tasks whose choices are labels (A/B/C/D, 1/2/3/4) with the
    option texts listed inside doc_to_text take the texts from the document field holding them (a list of
    as many strings, all in the text), and are answered by label; other tasks by the choice texts."""
    if all(re.fullmatch(r"\(?([A-Za-z]|\d{1,2})[.)]?", c.strip()) for c in choices):
        for v in doc.values():
            if isinstance(v, list) and len(v) == len(choices) and all(isinstance(x, str) and x.strip() and x.strip() in text for x in v):
                return [x.strip() for x in v], True
    return list(choices), False


# --- the kind --------------------------------------------------------------------------------------------
def _lens_perturbations(names: list[str], members: bool = False) -> list[str]:
    check_perturbations(names, members)
    for n in names:
        if n in NOT_FOR_LENSES:
            raise PydanticCustomError("lens", "{msg}", {"msg": f"perturbation '{n}' has nothing to draw from in an lm-eval "
                                                         "task (its template is kept, its documents have no paraphrases)"})
    return names


class LmEvalConfig(TaskConfig):
    """`data` is the lm-eval YAML (a task file, or a group file holding the member `lm_eval_task`)."""

    lm_eval_task: str  # the task's name in lm-eval (`task` is evalkit's: the same, or NAME:LENS)
    lens: Literal["perturb", "formatspread", "posix"] | None = None
    num_fewshot: int | None = Field(None, ge=0)  # None: the YAML's (as lm-eval, 0 when unset)
    fewshot_seed: int = LM_EVAL_FEWSHOT_SEED  # lm-eval's fewshot_random_seed
    # lenses perturb / posix
    # names in evalkit.registry.PERTURBATIONS that edit the question text
    perturbations: list[str] = Field(default_factory=lambda: ["spelling", "robustness", "mixed"], min_length=1)
    mixed: list[str] = Field(default_factory=lambda: [m for m in mixable() if m not in NOT_FOR_LENSES], min_length=1)
    n_variants: int = Field(5, ge=2, le=32)  # prompts per set, the original included
    typo_rate: float = Field(0.1, gt=0, le=1)
    # lens formatspread
    n_formats: int = Field(10, ge=2, le=2000)
    # lens posix: the answer generated under each prompt (generate_until tasks: their own until / max_gen_toks)
    max_tokens: int = Field(32, ge=1)
    bootstrap: int = Field(1000, ge=100)

    _registered = field_validator("perturbations")(_lens_perturbations)
    _members = field_validator("mixed")(lambda v: _lens_perturbations(v, members=True))


class LmEvalKind(TaskKind):
    Config = LmEvalConfig
    primary_metric = None  # the task's first metric (set once lm-eval has loaded it), or the lens's

    def __init__(self, spec: TaskSpec, seed: int = 0):
        super().__init__(spec, seed)
        c = self.config
        if c.prompt_format != "raw" or c.system_prompt:
            raise EvalkitError(f"{spec.path}: field 'prompt_format': lm-eval tasks run as lm-eval builds them (raw text, "
                               "no chat template or system prompt)")
        self._lm: LmEvalTask | None = None
        self._posix = None
        self._params: dict = {}  # (doc id, variant) -> how the variant was made (type, edits, seed tag)
        self._perturbed: dict = {}  # doc id -> its perturbed prompts

    @property
    def lm(self) -> LmEvalTask:
        if self._lm is None:
            c = self.config
            self._lm = LmEvalTask(self.spec.data_path, c.lm_eval_task, c.num_fewshot, c.fewshot_seed)
            where = f"{self.spec.path}: -T lens={c.lens}"
            if c.lens and self._lm.output_type == "loglikelihood_rolling":
                raise EvalkitError(f"{where}: a loglikelihood_rolling task scores its text itself; it has no prompt to vary")
            if c.lens and getattr(self._lm.task, "multiple_input", False):
                raise EvalkitError(f"{where}: a multiple-input task (its choices are in the context) has no one prompt to vary")
            first = self._lm.metrics[0] if self._lm.metrics else None
            self.primary_metric = {None: first, "perturb": "accuracy_worst", "formatspread": "spread", "posix": "posix"}[c.lens]
            for m, hib in self._lm.task.higher_is_better().items():  # lm-eval's directions for metrics evalkit does not know
                if metric_info(m).higher_is_better is None and isinstance(hib, bool):
                    register_metric(m, hib, "score")
        return self._lm

    def samples(self) -> list[dict]:
        lm = self.lm
        return [{"id": str(i), "doc_id": i} for i in range(len(lm.eval_docs))]

    # --- requests ------------------------------------------------------------------------------------
    def _requests(self, inst, ctx: RunContext) -> list:
        """evalkit requests for one lm-eval Instance."""
        args = inst.args
        if inst.request_type == "loglikelihood":
            return [LoglikelihoodRequest(args[0], args[1])]
        if inst.request_type == "generate_until":
            cfg = generation_config(args[1], inst.repeats or 1, derive_seed(self.seed, self.spec.name, str(inst.doc_id)), str(self.spec.path))
            return [GenerateRequest(prompt=args[0], config=cfg)]
        return self._rolling(args[0], ctx)

    def _rolling(self, text: str, ctx: RunContext) -> list:
        """lm-eval's rolling windows over the text's tokens (HFLM: prefix token, max_length windows, each token
        scored once), one log-likelihood request each on token ids."""
        from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

        tok, max_length = getattr(ctx.backend, "tok", None), getattr(ctx.backend, "max_length", None)
        if tok is None or max_length is None:
            raise EvalkitError(f"{self.spec.path}: field 'output_type': loglikelihood_rolling runs on the hf backend "
                               f"(token windows of its max_length); backend '{ctx.backend.name}' has none")
        windows = map(make_disjoint_window, get_rolling_token_windows(
            token_list=tok.encode(text), prefix_token=tok.prefix_token_id, max_seq_len=max_length, context_len=1))
        return [LoglikelihoodRequest(context_ids=c, continuation_ids=w) for c, w in windows]

    @staticmethod
    def _answer(insts: list, counts: list[int], results: list) -> dict:
        """Put the backend's results (counts[i] of them for insts[i]) into the instances (inst.resps, as lm-eval's
        evaluator does); the record's outputs."""
        k = 0
        out: dict = {}
        for inst, n in zip(insts, counts):
            res = results[k : k + n]
            k += n
            if inst.request_type == "loglikelihood":
                inst.resps = [(res[0].logprob, res[0].is_greedy)] * (inst.repeats or 1)
                out.setdefault("loglikelihoods", []).append(res[0].logprob)
                out.setdefault("is_greedy", []).append(res[0].is_greedy)
            elif inst.request_type == "loglikelihood_rolling":
                inst.resps = [sum(r.logprob for r in res)] * (inst.repeats or 1)
                out.setdefault("loglikelihoods", []).append(inst.resps[0])
                out["n_windows"] = n
            else:
                inst.resps = list(res[0].texts)
                out["generation"] = inst.resps[0] if len(inst.resps) == 1 else inst.resps
        return out

    def evaluate(self, label: str, units: list[tuple[Any, Doc, list]], ctx: RunContext, write) -> None:
        """Answer each unit's instances (unit key, document, lm-eval Instances) in one stage, then filter and
        score them with lm-eval; write(key, doc, instances, outputs, scores) per unit as soon as it is done."""
        lm = self.lm
        method = "generate" if lm.output_type == "generate_until" else "loglikelihood"
        staged = []
        for key, d, insts in units:
            per = [self._requests(inst, ctx) for inst in insts]
            staged.append(((key, d, insts, [len(r) for r in per]), [r for rs in per for r in rs]))

        def done(unit, results):
            key, d, insts, counts = unit
            outputs = self._answer(insts, counts, results)
            scores = lm.score(d.doc, insts)
            if method == "generate":
                outputs["filtered"] = {f: _plain(insts[0].filtered_resps[f]) for f in lm.filters}
            write(key, d, insts, outputs, scores)

        ctx.stage(label, method, staged, done)

    def run(self, samples, ctx: RunContext) -> None:
        lm = self.lm
        wanted = {int(s["doc_id"]) for s in samples}
        docs = [d for d in lm.build(max(wanted) + 1) if d.id in wanted]
        if self.config.lens == "posix":
            return self.posix().run_lm_eval(docs, ctx)
        units = [(variant, d, insts) for d in docs for variant, insts in self.variants(d) if _key(d, variant) not in ctx.done]

        def write(variant, d, insts, outputs, scores):
            ctxs = [i.args[0] for i in insts]
            prompt = ctxs[0] if len(set(ctxs)) == 1 else ctxs
            ctx.write({"id": str(d.id), **({"variant": variant} if variant is not None else {}), "doc_id": d.id,
                       "prompt": prompt, "target": _plain(lm.task.doc_to_target(d.doc)), **outputs, "scores": scores,
                       **({"params": self._params[(d.id, variant)]} if (d.id, variant) in self._params else {})})

        self.evaluate({None: "lm-eval", "perturb": "perturbed prompts", "formatspread": "formats"}[self.config.lens], units, ctx, write)

    # --- lenses: prompt variants ------------------------------------------------------------------
    def variants(self, d: Doc) -> list[tuple[str | None, list]]:
        """(variant, lm-eval Instances) for one document: its own (native: variant None), or per lens the
        perturbed prompts / the formats, with the same continuations and generation settings."""
        lens = self.config.lens
        if lens is None:
            return [(None, d.instances)]
        if lens == "perturb":
            return [(k, _with_context(d.instances, p)) for k, p in self.perturbed(d)]
        return [(k, insts) for k, insts in self.formatted(d)]

    def perturbed(self, d: Doc) -> list[tuple[str, str]]:
        """("original" | "TYPE:k", context) per prompt of each perturbation type's set: the document's
        question text perturbed inside lm-eval's own context (description and few-shot examples kept)."""
        if d.id in self._perturbed:
            return self._perturbed[d.id]
        c, t = self.config, self.lm.task
        context = d.instances[0].args[0]
        text = t.doc_to_text(d.doc)
        choices = [str(x) for x in t.doc_to_choice(d.doc)] if t.config.doc_to_choice else []
        q = question_text(t, d.doc, choices)
        i, j = context.rfind(text), text.find(q)
        if i < 0 or j < 0 or "{instruction}" in context:
            return [("original", context)]  # lm-eval built a context this cannot place the text in: no variants
        template = context[:i] + text[:j] + "{instruction}" + text[j + len(q):] + context[i + len(text):]
        builder = PromptBuilder("instruction", self.spec.name, self.seed, c.typo_rate, c.mixed)
        builder.templates = ({"id": "lm-eval", "text": template},)  # lm-eval's own template, the only one
        sample = {"id": str(d.id), "instruction": q}
        out = [("original", context)]
        for ptype in c.perturbations:
            for k, v in enumerate(builder.prompt_set(sample, ptype, c.n_variants)[1:], 1):
                out.append((f"{ptype}:{k}", v.prompt))
                self._params[(d.id, f"{ptype}:{k}")] = {"type": v.type, **v.params}
        self._perturbed[d.id] = out
        return out

    def formats(self) -> list:
        from ..formatspread import sample_formats

        n_options = 0
        t = self.lm.task
        if t.config.doc_to_choice and self.lm.eval_docs:
            n_options = max(len(t.doc_to_choice(doc)) for doc in self.lm.eval_docs)
        return sample_formats(self.config.n_formats, self.seed, max(n_options, 2))

    def formatted(self, d: Doc) -> list[tuple[str, list]]:
        """("lm-eval" | format id, Instances): format 0 is lm-eval's own prompt; every other format renders
        the description (as the instruction), each few-shot example with its answer and the document,
        options once, and answers by the format's labels where the task answers by label (MMLU)."""
        t = self.lm.task
        out = [("lm-eval", d.instances)]
        description = (t.resolve_field(d.doc, t.config.description) or "").strip()
        delim = t.config.fewshot_delimiter
        for f in self.formats_[1:]:
            shots = "".join(self._render(f, s, answered=True) + delim for s in d.shots)
            prompt, answers = self._render(f, d.doc)
            ctx = (description + "\n\n" if description else "") + shots + prompt
            lead = "" if ctx[-1:].isspace() else " "
            out.append((f.id, _with_context(d.instances, ctx, [lead + a for a in answers])))
        return out

    def _render(self, f, doc: dict, answered: bool = False):
        """One document in format f: its prompt and the answers its choices become (none for generation);
        answered: the prompt followed by its gold answer (a few-shot example)."""
        t = self.lm.task
        choices = [str(x) for x in t.doc_to_choice(doc)] if t.config.doc_to_choice else []
        text = t.doc_to_text(doc)
        options, by_label = option_texts(doc, text, choices) if choices else ([], False)
        prompt = f.render(question_text(t, doc, choices), options)
        answers = f.labels(len(options)) if by_label else options
        if not answered:
            return prompt, answers
        target = t.doc_to_target(doc)
        target = target[0] if isinstance(target, list) else target
        if answers and isinstance(target, int):
            gold = answers[target]
        elif answers and str(target) in choices:
            gold = answers[choices.index(str(target))]
        else:
            gold = str(target)
        return prompt + ("" if prompt[-1:].isspace() else " ") + gold

    def posix(self):
        if self._posix is None:
            c, lm = self.config, self.lm
            stop, max_tokens = [], c.max_tokens
            if lm.output_type == "generate_until":  # the task's own stop strings and length
                g = generation_config(lm.task.config.generation_kwargs, 1, 0, str(self.spec.path))
                stop, max_tokens = list(g.stop), g.max_tokens
            pc = PosixConfig(task=c.task, kind="posix", data=c.data, input="instruction", perturbations=c.perturbations,
                             mixed=c.mixed, n_variants=c.n_variants, typo_rate=c.typo_rate, max_tokens=max_tokens, stop=stop,
                             include_eos=not stop, bootstrap=c.bootstrap)
            self._posix = _LmEvalPosix(TaskSpec(self.spec.name, self.spec.path, pc, self.spec.content_hash), self.seed, self)
        return self._posix

    # --- summary -----------------------------------------------------------------------------------
    def summarize(self, records: list[dict]) -> dict:
        lm, lens = self.lm, self.config.lens
        info = {"lm_eval": {"task": self.config.lm_eval_task, "output_type": lm.output_type, "num_fewshot": lm.task.config.num_fewshot,
                            "fewshot_seed": self.config.fewshot_seed, "metrics": lm.metrics, "filters": lm.filters,
                            "version": _plain((lm.task.config.metadata or {}).get("version"))}}
        if lens == "posix":
            return {**self.posix().summarize(records), **info, "lens": lens}
        if lens is None:
            return {**self._task_metrics(records), **info}
        return {**(self._perturb_summary(records) if lens == "perturb" else self._format_summary(records)), **info, "lens": lens}

    def _task_metrics(self, records: list[dict]) -> dict:
        """The task's metrics: the first filter's under their own names, every filter's in breakdown.filter."""
        by_filter = {}
        for f in self.lm.filters:
            values = defaultdict(list)
            for r in records:
                for m, v in r["scores"].get(f, {}).items():
                    values[m].append(v)
            by_filter[f] = self.lm.aggregate({m: values[m] for m in sorted(values, key=self._metric_order)})
        return {"metrics": by_filter[self.lm.filters[0]], "breakdown": {"filter": by_filter}}

    def _metric_order(self, m: str):
        return (self.lm.metrics.index(m) if m in self.lm.metrics else len(self.lm.metrics), m)

    def _matrix(self, records: list[dict], columns: list[str]) -> np.ndarray:
        """document x variant values of the task's first metric under its first filter (NaN: not evaluated)."""
        metric, f = self.lm.metrics[0], self.lm.filters[0]
        ids = sorted({r["doc_id"] for r in records})
        row, col = {i: k for k, i in enumerate(ids)}, {v: k for k, v in enumerate(columns)}
        m = np.full((len(ids), len(columns)), np.nan)
        for r in records:
            if r["variant"] in col:
                m[row[r["doc_id"]], col[r["variant"]]] = float(r["scores"][f][metric])
        return m

    def _perturb_summary(self, records: list[dict]) -> dict:
        c = self.config
        columns = ["original"] + sorted({r["variant"] for r in records} - {"original"}, key=_variant_order)
        body = self._task_metrics([r for r in records if r["variant"] == "original"])
        metrics = {**body["metrics"], **label_metrics(self._matrix(records, columns), c.bootstrap, self.seed)}
        breakdown = {"filter": body["breakdown"]["filter"], "perturbation": {}}
        for ptype in c.perturbations:
            cols = ["original"] + [v for v in columns if v.startswith(ptype + ":")]
            if len(cols) > 1:
                breakdown["perturbation"][ptype] = label_metrics(self._matrix(records, cols), c.bootstrap, self.seed)
        m = self._matrix(records, columns)
        breakdown["variant"] = {v: {self.lm.metrics[0]: mean_metric(m[~np.isnan(m[:, k]), k])} for k, v in enumerate(columns)}
        return {"metrics": metrics, "breakdown": breakdown, "metric": self.lm.metrics[0]}

    def _format_summary(self, records: list[dict]) -> dict:
        """FormatSpread's statistics (kinds/formatspread.py) over the task's first metric per format."""
        c = self.config
        columns = [f.id for f in self.formats_]
        columns[0] = "lm-eval"
        m = self._matrix(records, columns)
        acc = np.nanmean(m, axis=0)
        best, worst = int(np.nanargmax(acc)), int(np.nanargmin(acc))
        spread = float(acc[best] - acc[worst])
        lo, hi = spread_interval(m, n_boot=c.bootstrap, seed=self.seed, point=spread)
        mlo, mhi = bootstrap_ci(m, stat=lambda x: x.mean(), n_boot=c.bootstrap, seed=self.seed)
        col = lambda k: mean_metric(m[:, k])  # noqa: E731
        metrics = {"acc_max": col(best), "acc_min": col(worst), "spread": {"value": spread, "ci_low": lo, "ci_high": hi, "n": len(m)},
                   "acc_mean": {"value": float(np.mean(acc)), "ci_low": mlo, "ci_high": mhi, "n": len(columns)},
                   "acc_default": col(0), "n_formats": {"value": float(len(columns)), "n": len(columns)},
                   "n_evaluations": {"value": float(len(records)), "n": len(columns) * len(m)}}
        formats = {"lm-eval": {"source": "lm-eval"}} | {f.id: f.to_dict() for f in self.formats_[1:]}
        return {"metrics": metrics, "breakdown": {"format": {v: {"accuracy": col(k)} for k, v in enumerate(columns)}},
                "formats": formats, "best_format": columns[best], "worst_format": columns[worst], "metric": self.lm.metrics[0]}

    @property
    def formats_(self):
        if not hasattr(self, "_formats"):
            self._formats = self.formats()
        return self._formats

    @classmethod
    def sample_scores(cls, summary, records):
        """Per-document values of the primary metric (first filter) where it is a mean over documents."""
        if summary.get("lens") or not records:
            return None
        pm, f = summary.get("primary_metric"), (summary.get("lm_eval") or {}).get("filters", ["none"])[0]
        vals = {r["id"]: (r.get("scores") or {}).get(f, {}).get(pm) for r in records}
        if any(not isinstance(v, (int, float)) for v in vals.values()):
            return None
        m = (summary.get("metrics") or {}).get(pm) or {}
        return {k: float(v) for k, v in vals.items()} if "stderr" in m else None

    @classmethod
    def variant_scores(cls, summary):
        lens, b = summary.get("lens"), summary.get("breakdown") or {}
        if lens == "perturb":
            metric = summary.get("metric")
            cols = {k: v[metric]["value"] for k, v in b.get("variant", {}).items()}
            return {"metric": metric, "default": cols.pop("original"), "variants": cols} if "original" in cols else None
        if lens == "formatspread":
            cols = {k: v["accuracy"]["value"] for k, v in b.get("format", {}).items()}
            return {"metric": summary.get("metric"), "default": cols.pop("lm-eval"), "variants": cols} if "lm-eval" in cols else None
        if lens == "posix":
            return PosixKind.variant_scores(summary)
        return None

    # --- presentation (evalkit report) --------------------------------------------------------------
    title = "lm-eval task"
    about = ("An lm-evaluation-harness task as lm-eval runs it (its prompts, filters and metrics), or under a sensitivity "
             "lens (summary.lens): perturbed questions, prompt formats, POSIX.")
    figures = (("posix_by_perturbation", "POSIX by perturbation type (lens posix, 95% bootstrap CI)"),
               ("formatspread", "the task's metric per prompt format (lens formatspread)"))
    report_order = 110
    expects_manifest = False  # also the presentation of lm-eval's own results files (report/sources.py), which have none

    @staticmethod
    def plot(summary: dict, records: list[dict], out: Path) -> None:
        from .formatspread import plot_formatspread
        from .posix import plot_posix

        if summary.get("lens") == "posix":
            plot_posix(summary, out / "posix_by_perturbation.png")
        elif summary.get("lens") == "formatspread":
            plot_formatspread({**summary, "breakdown": {"attribute": {}, **summary["breakdown"]}}, out / "formatspread.png")

    def write_artifacts(self, out: Path, summary: dict, records: list[dict]) -> None:
        self.plot(summary, records, out)

def _key(d: Doc, variant) -> str:
    return str(d.id) if variant is None else f"{d.id}::{variant}"


def _variant_order(v: str):
    ptype, _, k = v.partition(":")
    return ptype, int(k) if k.isdigit() else 0


def _with_context(instances: list, context: str, continuations: list[str] | None = None) -> list:
    """Fresh copies of lm-eval Instances with another context, and for log-likelihood requests other
    continuations (by choice index) where given; generation settings kept. The unconditional requests of
    acc_mutual_info (empty context) keep their empty context."""
    out = []
    for inst in instances:
        new = copy.copy(inst)
        new.resps, new.filtered_resps = [], {}
        rest = inst.arguments[1:]
        if continuations and inst.request_type == "loglikelihood":
            rest = (continuations[inst.idx % len(continuations)], *rest[1:])
        new.arguments = (context if inst.arguments[0] else "", *rest)
        out.append(new)
    return out


class _LmEvalPosix(PosixKind):
    """The posix kind over lm-eval documents: each document's question text perturbed inside lm-eval's own
    context (description and few-shot examples kept), the model's greedy answers scored under every prompt."""

    def __init__(self, spec, seed, owner: LmEvalKind):
        super().__init__(spec, seed)
        self.owner = owner

    def run_lm_eval(self, docs: list[Doc], ctx: RunContext) -> None:
        self._docs = {str(d.id): d for d in docs}
        self.run([{"id": str(d.id), "instruction": ""} for d in docs], ctx)

    def prompt_builder(self):
        return _DocPrompts(self)


class _DocPrompts(PromptBuilder):
    """The prompt sets of lm-eval documents (LmEvalKind.perturbed): each document's own context is its one template."""

    def __init__(self, posix: _LmEvalPosix):
        c = posix.owner.config
        super().__init__("instruction", posix.spec.name, posix.seed, c.typo_rate, c.mixed)
        self.posix = posix

    def prompt_set(self, sample: dict, ptype: str, n: int):
        owner = self.posix.owner
        d = self.posix._docs[str(sample["id"])]
        prompts = owner.perturbed(d)
        out = [Variant("original", prompts[0][1], {"template": "lm-eval"})]
        for k, p in prompts[1:]:
            if k.startswith(ptype + ":"):
                out.append(Variant(ptype, p, owner._params.get((d.id, k), {})))
        return out[:n]
