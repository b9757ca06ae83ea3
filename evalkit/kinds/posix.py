"""POSIX: how much intent-preserving prompt changes move the likelihood of a model's own answers.

For each sample and perturbation type a prompt set X = {x_1..x_N} (the original + N-1 variants)
is built; stage 1 generates a greedy response y_i per prompt (kept as token ids); stage 2 scores
every response under every prompt, log P(y_j | x_i), N^2 requests per set. Requests that share a
prompt share its KV cache in the HF backend, so a set forwards about N|x| + N^2|y| tokens instead
of N^2(|x| + |y|); both counts are reported. With gold answers (MCQ) the same responses also give
accuracy per variant and the label-based spreads (sensitivity.py).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import EvalkitError
from ..metrics import mean_metric
from ..perturb import PromptBuilder, check_perturbations, labels, mixable, templates
from ..requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest
from ..sensitivity import label_metrics, mean_with_bootstrap, psi
from ..context import RunContext
from ..fewshot import FewShot, FewShotConfig
from ..kind import TaskKind
from ..readers import read_jsonl

class PosixConfig(FewShotConfig):
    input: Literal["mcq", "instruction"] = "mcq"
    # names in evalkit.registry.PERTURBATIONS (evalkit's own: evalkit/perturb/__init__.py; others: entry points)
    perturbations: list[str] = Field(default_factory=lambda: ["spelling", "template", "paraphrase", "mixed"], min_length=1)
    # the member types `mixed` draws from (default: every registered mixable one); part of the task's content
    # hash, so installing a new perturbation gives mixed runs a new run id instead of resuming into other sets
    mixed: list[str] = Field(default_factory=mixable, min_length=1)
    n_variants: int = Field(5, ge=2, le=32)  # prompts per set, the original included
    typo_rate: float = Field(0.1, gt=0, le=1)  # per editable word
    max_tokens: int = Field(32, ge=1)
    stop: list[str] = Field(default_factory=list)
    # y_j ends with the generated end-of-sequence token, as in the reference implementation, so psi also
    # measures whether the other prompts would have stopped there; false: the response text's tokens only
    include_eos: bool = True
    bootstrap: int = Field(2000, ge=100)
    # Model-written paraphrases on top of the shipped ones: K sampled rewrites per sample from the
    # evaluated model, kept only when MiniLM cosine similarity to the original >= the threshold and
    # every number survives; each check is written to the records.
    generated_paraphrases: int = Field(0, ge=0, le=16)
    paraphrase_min_similarity: float = Field(0.8, ge=0, le=1)
    paraphrase_prompt: str = (
        "Rewrite the following text in different words without changing its meaning. "
        "Reply with the rewritten text only.\n\n{text}"
    )

    _registered = field_validator("perturbations")(check_perturbations)
    _members = field_validator("mixed")(lambda v: check_perturbations(v, members=True))


class _PosixSample(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    category: str = ""
    paraphrases: list[str] = Field(default_factory=list)
    variants: list[str] = Field(default_factory=list)  # user-supplied prompt set (POSIX library input form)


class PosixMCQSample(_PosixSample):
    question: str
    options: list[str] = Field(min_length=2)
    gold: int | None = None

    @model_validator(mode="after")
    def _gold_in_range(self):
        if self.gold is not None and not 0 <= self.gold < len(self.options):
            raise ValueError(f"gold index {self.gold} outside 0..{len(self.options) - 1}")
        return self


class PosixInstructionSample(_PosixSample):
    instruction: str


# A leading option letter, optionally after "Answer:"/"The correct answer is"; a letter followed by a
# lowercase word ("A train") is an article, not a choice.
_LETTER = re.compile(
    r"^\W*(?:(?:the\s+)?(?:correct\s+)?(?:answer|option|choice)(?:\s+is)?\s*[:\-]?\s*)?\(?([A-Z])(?=$|[.):,;\n]|\s+(?![a-z]))", re.I
)


def extract_choice(response: str, options: list[str]) -> int | None:
    """The option a free-text MCQ answer picks: a leading option letter ("B", "(B)", "Answer: B."),
    else the one option whose text the response contains; None when it picks none or several."""
    m = _LETTER.match(response)
    if m and m.group(1).isupper() and m.group(1) in labels(len(options)):
        return labels(len(options)).index(m.group(1))
    low = response.lower()
    hits = [k for k, o in enumerate(options) if o.strip() and re.search(r"(?<!\w)" + re.escape(o.lower().strip()) + r"(?!\w)", low)]
    return hits[0] if len(hits) == 1 else None


class PosixKind(TaskKind):
    Config = PosixConfig
    primary_metric = "posix"

    def __init__(self, spec, seed: int = 0):
        super().__init__(spec, seed)
        if self.config.include_eos and self.config.stop:
            raise EvalkitError(f"{spec.path}: field 'include_eos': a stop-string cut cannot be told from an end of sequence; "
                               "set include_eos: false to use stop strings")

    def samples(self) -> list[dict]:
        model = PosixMCQSample if self.config.input == "mcq" else PosixInstructionSample
        rows = read_jsonl(self.spec.data_path, model)
        if "user" in self.config.perturbations:
            for r in rows:
                if len(set(r["variants"])) < 2:
                    raise EvalkitError(f"{self.spec.data_path}: sample '{r['id']}': field 'variants': perturbation 'user' needs >= 2 distinct prompts")
        return rows

    def prompt_builder(self) -> PromptBuilder:
        """What builds each sample's prompt sets (the lm_eval kind's POSIX lens builds them inside lm-eval's contexts)."""
        c = self.config
        return PromptBuilder(c.input, self.spec.name, self.seed, c.typo_rate, c.mixed)

    def fewshot_examples(self, fewshot: FewShot, s: dict) -> tuple[list[str], tuple[tuple[str, str], ...]]:
        """(ids, (prompt, answer) pairs) of the sample's few-shot examples: each under the original template,
        then its answer, the gold option's letter (mcq) or its `response` (instruction). The same examples,
        unperturbed, lead every prompt of the sample's sets: only the sample's own text varies."""
        key = "gold" if self.config.input == "mcq" else "response"
        builder, examples, pairs = self.prompt_builder(), fewshot.examples(s), []
        for e in examples:
            if e.get(key) is None:
                raise EvalkitError(f"{fewshot.where}: sample '{e['id']}': field '{key}': a few-shot example needs its answer")
            pairs.append((builder.original(e).prompt, labels(len(e["options"]))[e["gold"]] if key == "gold" else str(e[key])))
        return [e["id"] for e in examples], tuple(pairs)

    def _framed(self, prompt: str, shots: tuple[tuple[str, str], ...]):
        c = self.config  # an example's answer follows "Answer:" on its line, an instruction's response on the next
        return c.framed(prompt, shots, " " if templates(c.input)[0]["text"].endswith(":") else "\n")

    def _generate_request(self, prompt: str, shots: tuple[tuple[str, str], ...] = ()) -> GenerateRequest:
        c = self.config
        cfg = GenerationConfig(max_tokens=c.max_tokens, temperature=0.0, stop=tuple(c.stop), seed=self.seed)
        framed = self._framed(prompt, shots)
        return GenerateRequest(messages=framed, config=cfg) if c.prompt_format == "chat" else GenerateRequest(prompt=framed, config=cfg)

    def _score_request(self, prompt: str, response_ids, shots: tuple[tuple[str, str], ...] = ()) -> LoglikelihoodRequest:
        c = self.config
        framed = self._framed(prompt, shots)
        if c.prompt_format == "chat":
            return LoglikelihoodRequest(messages=framed, continuation_ids=response_ids)
        return LoglikelihoodRequest(context=framed, continuation_ids=response_ids)

    def _add_generated_paraphrases(self, samples: list[dict], ctx: RunContext) -> list[dict]:
        """Stage 0: sampled rewrites from the model, checked with MiniLM; returns updated sample copies."""
        from ..embeddings import cosine_similarity
        from ..seeding import derive_seed

        c = self.config
        field = "question" if c.input == "mcq" else "instruction"
        out = {}

        def request(s):
            cfg = GenerationConfig(max_tokens=128, temperature=0.8, top_p=0.95, n=c.generated_paraphrases,
                                   seed=derive_seed(self.seed, self.spec.name, str(s["id"]), "paraphrase-gen"), stop=("\n\n",))
            prompt = c.paraphrase_prompt.replace("{text}", s[field])
            if c.prompt_format == "chat":
                return GenerateRequest(messages=(("user", prompt),), config=cfg)
            return GenerateRequest(prompt=prompt + "\n\nRewritten text:", config=cfg)

        def done(s, results):
            out[s["id"]] = results[0].texts

        ctx.stage("paraphrase", "generate", [(s, [request(s)]) for s in samples], done)
        updated = []
        for s in samples:
            cands = [t.strip().strip('"').strip() for t in out[s["id"]]]
            sims = cosine_similarity([s[field]] * len(cands), cands)
            numbers = set(re.findall(r"\d+(?:\.\d+)?", s[field]))
            checks, kept = [], []
            for text, sim in zip(cands, sims):
                reason = ("empty" if not text else "same as original" if text.lower() == s[field].lower()
                          else "duplicate" if text in kept or text in s["paraphrases"]
                          else "number lost" if not numbers <= set(re.findall(r"\d+(?:\.\d+)?", text))
                          else f"similarity < {c.paraphrase_min_similarity}" if sim < c.paraphrase_min_similarity else None)
                checks.append({"text": text, "similarity": float(sim), "kept": reason is None, "reason": reason})
                if reason is None:
                    kept.append(text)
            shipped = list(s["paraphrases"])
            updated.append({**s, "paraphrases": shipped + kept,
                            "paraphrase_sources": ["shipped"] * len(shipped) + ["model"] * len(kept), "paraphrase_checks": checks})
        return updated

    def run(self, samples, ctx: RunContext) -> None:
        c = self.config
        if not ctx.backend.scores_token_ids:  # say so before generating anything
            raise EvalkitError(f"task kind 'posix' scores the model's own response tokens; backend '{ctx.backend.name}' cannot")
        eos = self._eos_id(ctx.backend) if c.include_eos else None
        builder = self.prompt_builder()
        uses_paraphrases = {"paraphrase", "mixed"} & set(c.perturbations)
        if c.generated_paraphrases and uses_paraphrases:
            pending = [s for s in samples if any(f"{s['id']}::{p}" not in ctx.done for p in uses_paraphrases)]
            done = {s["id"]: s for s in self._add_generated_paraphrases(pending, ctx)} if pending else {}
            samples = [done.get(s["id"], s) for s in samples]
        sets, shots = [], {}  # shots: sample id -> (few-shot ids, pairs)
        fewshot = FewShot(self, builder.field, PosixMCQSample if c.input == "mcq" else PosixInstructionSample)
        for s in samples:
            shots[s["id"]] = self.fewshot_examples(fewshot, s)
            for ptype in c.perturbations:
                if f"{s['id']}::{ptype}" in ctx.done:
                    continue
                variants = builder.prompt_set(s, ptype, c.n_variants)
                if len(variants) < 2:  # e.g. no paraphrases shipped for this sample
                    ctx.write({"id": str(s["id"]), "variant": ptype, "skipped": "fewer than 2 distinct prompts"})
                    continue
                sets.append((s, ptype, variants))

        # Stage 1: one greedy response per prompt (greedy: the seed cannot matter, so it is fixed
        # and identical prompts across sets are one request).
        gens: dict[int, list] = {}
        units = [(u, [self._generate_request(v.prompt, shots[s["id"]][1]) for v in vs]) for u, (s, _, vs) in enumerate(sets)]
        ctx.stage("generate", "generate", units, lambda u, res: gens.__setitem__(u, res))

        # Stage 2: every response under every prompt of its set.
        def scored_ids(g) -> tuple[int, ...]:
            """y_j: the response's ids, plus the EOS it stopped at (no stop strings: "stop" is an EOS)."""
            return tuple(g.token_ids[0]) + ((eos,) if eos is not None and g.finish_reasons[0] == "stop" else ())

        def score_units():
            for u, (s, _, vs) in enumerate(sets):
                ids = [scored_ids(g) for g in gens[u]]
                # log P(y_i | x_i) from the generation itself where the backend kept its log-probs (the same
                # forward pass a score request would make, up to float rounding): those are not scored again
                own = [g.scored_logprob(0, y) if y else None for g, y in zip(gens[u], ids)]
                pairs = [(i, j) for i in range(len(vs)) for j in range(len(vs)) if ids[j] and not (i == j and own[i] is not None)]
                yield (u, pairs, own), [self._score_request(vs[i].prompt, ids[j], shots[s["id"]][1]) for i, j in pairs]

        def finish(unit, results):
            u, pairs, own = unit
            s, ptype, vs = sets[u]
            g = gens[u]
            n = len(vs)
            m = np.zeros((n, n))
            for i, lp in enumerate(own):
                if lp is not None:
                    m[i, i] = lp
            for (i, j), r in zip(pairs, results):
                m[i, j] = r.logprob
            lengths = [len(scored_ids(x)) for x in g]
            record = {
                "id": str(s["id"]),
                "variant": ptype,
                "category": s.get("category", ""),
                "prompts": [v.prompt for v in vs],
                "fewshot": shots[s["id"]][0],  # the examples before every prompt of the set (evalkit/fewshot.py)
                "variant_params": [{"type": v.type, **v.params} for v in vs],
                "prompt_tokens": [x.prompt_tokens for x in g],
                "responses": [x.texts[0] for x in g],
                "response_ids": [list(x.token_ids[0]) for x in g],
                "response_lengths": lengths,  # tokens scored: the response's, plus its EOS with include_eos
                "scored_eos": [len(scored_ids(x)) > len(x.token_ids[0]) for x in g],
                "logprob_matrix": m.tolist(),  # [i][j] = log P(y_j | x_i)
                "diagonal_from_generation": [lp is not None for lp in own],  # [i][i] not scored again
                "psi": psi(m, lengths),
            }
            if "paraphrase_checks" in s and ptype in ("paraphrase", "mixed"):
                record["paraphrase_checks"] = s["paraphrase_checks"]
            if self.config.input == "mcq" and s.get("gold") is not None:
                picks = [extract_choice(x.texts[0], s["options"]) for x in g]
                record.update(gold=s["gold"], predictions=picks, correct=[float(p == s["gold"]) for p in picks])
            ctx.write(record)

        ctx.stage("score", "loglikelihood", list(score_units()), finish)

    @classmethod
    def sample_scores(cls, summary, records):
        return {f"{r['id']}::{r['variant']}": float(r["psi"]) for r in records if r.get("psi") is not None}

    @classmethod
    def variant_scores(cls, summary):
        """Accuracy on the original prompt and under each perturbed variant (tasks with gold answers)."""
        cols = {k: v["accuracy"]["value"] for k, v in (summary.get("breakdown") or {}).get("variant", {}).items()}
        if "original" not in cols:
            return None
        return {"metric": "accuracy", "default": cols.pop("original"), "variants": cols}

    @staticmethod
    def _eos_id(backend) -> int:
        """The end-of-sequence id appended to y_j. Backends do not keep which stop id ended a generation;
        where a checkpoint has several, the tokenizer's own eos_token_id is the one scored."""
        tok = getattr(backend, "tok", None)
        ids = getattr(tok, "eos_ids", None)
        if not ids:
            raise EvalkitError(f"backend '{backend.name}' does not expose its end-of-sequence token; set include_eos: false")
        own = tok.tokenizer.eos_token_id
        return own if own in ids else min(ids)

    def summarize(self, records: list[dict]) -> dict:
        c = self.config
        done = [r for r in records if r.get("psi") is not None]  # skipped sets and all-empty responses have none
        by_type = defaultdict(list)
        for r in done:
            by_type[r["variant"]].append(r)
        metrics = {"posix": mean_with_bootstrap([r["psi"] for r in done], c.bootstrap, self.seed)}
        breakdown: dict = {"perturbation": {}}
        for ptype in c.perturbations:
            rs = by_type.get(ptype, [])
            breakdown["perturbation"][ptype] = {"posix": mean_with_bootstrap([r["psi"] for r in rs], c.bootstrap, self.seed)}
        # shared: each prompt once, each response under every prompt but its own where that came with its generation
        shared = sum(sum(r["prompt_tokens"]) + sum((len(r["prompts"]) - own) * n for n, own in
                                                   zip(r["response_lengths"], r.get("diagonal_from_generation") or [False] * len(r["prompts"])))
                     for r in done)
        unshared = sum(len(r["prompts"]) * (sum(r["prompt_tokens"]) + sum(r["response_lengths"])) for r in done)
        metrics["forwarded_tokens_shared"] = {"value": float(shared), "n": len(done)}
        metrics["forwarded_tokens_unshared"] = {"value": float(unshared), "n": len(done)}
        metrics["n_prompt_sets"] = {"value": float(len(done)), "n": len(done)}
        graded = [r for r in done if "correct" in r]
        if graded:
            pooled, columns = _pooled_matrix(graded)
            metrics.update(label_metrics(pooled, c.bootstrap, self.seed))
            for ptype, rs in by_type.items():
                if any("correct" in r for r in rs):
                    breakdown["perturbation"][ptype].update(label_metrics(_type_matrix(rs), c.bootstrap, self.seed))
            breakdown["variant"] = {col: {"accuracy": mean_metric(pooled[~np.isnan(pooled[:, k]), k], proportion=True)} for k, col in enumerate(columns)}
        return {"metrics": metrics, "breakdown": breakdown, "include_eos": c.include_eos}

    # --- presentation (evalkit report) -----------------------------------------------------------
    title = "POSIX prompt sensitivity"
    about = ("How much the log-probability of a model's own responses moves across intent-preserving rewrites of a prompt "
             "(POSIX, nats per token; 0 = insensitive), by perturbation type, with bootstrap CIs.")
    figures = (("posix_by_perturbation", "POSIX by perturbation type (95% bootstrap CI)"),)
    report_order = 10

    @staticmethod
    def plot(summary: dict, records: list[dict], out: Path) -> None:
        plot_posix(summary, out / "posix_by_perturbation.png")

    @classmethod
    def report_section(cls, src) -> str:
        return ""  # the metrics, the plot and the breakdowns say it all


def _type_matrix(records: list[dict]) -> np.ndarray:
    width = max(len(r["correct"]) for r in records)
    c = np.full((len(records), width), np.nan)
    for k, r in enumerate(records):
        c[k, : len(r["correct"])] = r["correct"]
    return c


def _pooled_matrix(records: list[dict]) -> tuple[np.ndarray, list[str]]:
    """instance x variant correctness over all perturbation types; column 0 = the original prompt
    (the same prompt in every set of an instance)."""
    columns = ["original"]
    for r in records:
        for k in range(1, len(r["correct"])):
            if f"{r['variant']}:{k}" not in columns:
                columns.append(f"{r['variant']}:{k}")
    ids = sorted({r["id"] for r in records})
    row = {i: k for k, i in enumerate(ids)}
    c = np.full((len(ids), len(columns)), np.nan)
    for r in records:
        c[row[r["id"]], 0] = r["correct"][0]
        for k in range(1, len(r["correct"])):
            c[row[r["id"]], columns.index(f"{r['variant']}:{k}")] = r["correct"][k]
    return c, columns


def plot_posix(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [(k, v["posix"]) for k, v in summary["breakdown"]["perturbation"].items() if v["posix"].get("n")]
    fig, ax = plt.subplots(figsize=(1.4 * len(items) + 2, 3.2))
    vals = [m["value"] for _, m in items]
    # an undefined interval (null, e.g. a single prompt set) draws no error bar
    lo = [m["value"] if m.get("ci_low") is None else m["ci_low"] for _, m in items]
    hi = [m["value"] if m.get("ci_high") is None else m["ci_high"] for _, m in items]
    err = np.array([[m["value"] - x for (_, m), x in zip(items, lo)], [x - m["value"] for (_, m), x in zip(items, hi)]])
    ax.bar([k for k, _ in items], vals, yerr=err, capsize=4, color="#4C72B0")
    for x, (_, m) in enumerate(items):
        ax.annotate(f"n={m['n']}", (x, 0), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8, color="white")
    ax.set_ylabel("POSIX (nats / token)")
    ax.set_title(f"{summary['task']} · {summary['model']}: POSIX by perturbation (95% bootstrap CI)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
