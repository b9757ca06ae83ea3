"""Code robustness under prompt mutations: generate for every (problem, mutation, level, variant),
execute every sample in the sandbox, and score it.

- nominal pass@k (unbiased estimator, n samples per prompt, n >= k enforced);
- meaning-preserving mutations (jargon, rename, typo, paraphrase, format): ReCode's robust pass /
  drop / relative @k, worst case over all their variants with sampling slots paired;
- the lexical flip: every sample runs against both oracles (original and flipped tests) and is
  `adapted` / `reused` / `broken` / `indistinguishable`;
- progressive underspecification: pass rate on the original tests vs the fraction of words deleted.
"""

from __future__ import annotations

from typing import Literal

from collections import defaultdict
from dataclasses import replace

import numpy as np
from pydantic import Field, field_validator, model_validator

from ..code.generation import code_request, extract_program
from ..code.mutations import MUTATIONS, applicable, check_mutations, mutate, nominal, preserving
from ..code.execute import reference_times
from ..code.problems import humaneval_fingerprint, load_problems
from ..code.passk import pass_at_k
from ..code.robust import OUTCOMES, robust_counts, robust_drop, robust_metrics, two_oracle
from ..metrics import mean_metric
from ..requests import GenerationConfig
from ..sandbox import Job, Limits, Sandbox
from ..context import RunContext
from ..kind import TaskConfig, TaskKind

class CodeMutationsConfig(TaskConfig):
    prompt_format: str = "chat"
    mutations: dict[str, list[int]] = Field(default_factory=lambda: {
        "underspec": [1, 3, 5, 7, 9], "flip": [0], "jargon": [1], "rename": [0], "typo": [2], "paraphrase": [0], "format": [0]})
    variants: int = 1  # s seeded variants per (mutation, level), ReCode's s
    n: int = 1  # samples per prompt
    k: list[int] = Field(default_factory=lambda: [1])
    temperature: float = 0.0
    max_tokens: int = 384
    time_floor: float = 3.0
    time_factor: float = 4.0
    isolation: Literal["bwrap", "unshare", "none"] = "bwrap"  # weaker sandboxes only when asked for (-T isolation=...)

    _registered = field_validator("mutations")(check_mutations)  # names in evalkit.registry.MUTATIONS, their levels

    @model_validator(mode="after")
    def _check(self):
        if any(k > self.n for k in self.k):
            raise ValueError(f"pass@k needs n >= k: n={self.n}, k={self.k}")
        if self.n > 1 and self.temperature == 0:
            raise ValueError("n > 1 samples need temperature > 0 (greedy samples are identical)")
        return self


def _variant_key(mp) -> str:
    return "nominal" if mp.mutation == "none" else f"{mp.mutation}/L{mp.level}/v{mp.variant}"


class CodeMutationsKind(TaskKind):
    Config = CodeMutationsConfig
    primary_metric = "pass@1"  # or pass@k for the smallest configured k (the summary names it)
    named_data = {"humaneval": humaneval_fingerprint}

    def _sandbox(self) -> Sandbox:
        c = self.config
        return Sandbox(Limits(time_floor=c.time_floor, time_factor=c.time_factor, isolation=c.isolation))

    def _source(self) -> str:
        return self.config.data if self.config.data in self.named_data else str(self.spec.data_path)

    def samples(self) -> list[dict]:
        return [{"id": p.task_id, "problem": p} for p in load_problems(self._source(), self._sandbox())]

    def prompts(self, problem) -> list:
        c = self.config
        out = [nominal(problem)]
        for name, levels in c.mutations.items():
            if not applicable(problem, name):
                continue
            for level in levels:
                for v in range(c.variants if MUTATIONS[name].seeded else 1):
                    out.append(mutate(problem, name, level, seed=self.seed, variant=v))
        return out

    def run(self, samples, ctx: RunContext) -> None:
        c = self.config
        sandbox = self._sandbox()
        todo = [(s, mp) for s in samples for mp in self.prompts(s["problem"]) if f"{s['id']}::{_variant_key(mp)}" not in ctx.done]
        if not todo:
            return
        # time limit per problem and oracle: max(floor, factor x the reference solution's time);
        # reference_times also fails loudly when a reference does not pass its own tests
        refs = {}
        for s, _ in todo:
            p = s["problem"]
            refs[(s["id"], "original")] = p
            if p.flip:
                refs[(s["id"], "flipped")] = replace(p, task_id=f"{p.task_id} (flipped)", reference=p.flip["reference"],
                                                     tests=p.flip["tests"], checker=None)
        times = reference_times(list(refs.values()), sandbox)
        limit = {key: sandbox.limits.time_limit(times[p.task_id]) for key, p in refs.items()}

        gen = GenerationConfig(max_tokens=c.max_tokens, temperature=c.temperature, n=c.n, seed=self.seed)
        units = [((s, mp), [code_request(mp.prompt, c.prompt_format, gen)]) for s, mp in todo]
        replies: dict = {}
        ctx.stage("generate", "generate", units, lambda u, res: replies.__setitem__((u[0]["id"], _variant_key(u[1])), res[0]))

        jobs, owner = [], []
        for s, mp in todo:
            g = replies[(s["id"], _variant_key(mp))]
            programs = [extract_program(t, mp.prompt, mp.entry_point, c.prompt_format) for t in g.texts]
            # the flip (a mutation scored on the flipped task) by both oracles; everything else by its own task's tests
            oracles = list(mp.oracles) if mp.oracle == "flipped" else [mp.oracle]
            for j, prog in enumerate(programs):
                for oracle in oracles:
                    checker = s["problem"].checker_fn() if oracle == "original" else None
                    jobs.append(Job(prog, mp.entry_point, mp.oracles[oracle], limit[(s["id"], oracle)], checker))
                    owner.append((s["id"], _variant_key(mp), j, oracle))
        by_unit = defaultdict(dict)
        pending = defaultdict(int)
        for o in owner:
            pending[o[:2]] += 1
        info = {(s["id"], _variant_key(mp)): (s, mp) for s, mp in todo}

        def done(i, res):
            key, slot, oracle = owner[i][:2], owner[i][2], owner[i][3]
            by_unit[key][(slot, oracle)] = res
            pending[key] -= 1
            if pending[key] == 0:
                self._write(ctx, *info[key], replies[key], by_unit.pop(key))

        sandbox.run_many(jobs, on_result=done)

    def _write(self, ctx: RunContext, s, mp, gen, results) -> None:
        slots = range(len(gen.texts))
        verdicts = {o: [results[(j, o)].verdict for j in slots] for o in sorted({o for _, o in results})}
        rec = {
            "id": s["id"], "variant": _variant_key(mp), "mutation": mp.mutation, "level": mp.level, "seed_variant": mp.variant,
            "oracle": mp.oracle, "entry_point": mp.entry_point, "statement": mp.statement, "prompt": mp.prompt,
            "mutation_record": mp.record, "completions": list(gen.texts), "n_tokens": [len(t) for t in gen.token_ids],
            "verdicts": verdicts, "passed": [v == "pass" for v in verdicts[mp.oracle]],
            "first_failure": [results[(j, mp.oracle)].first_failure for j in slots],
            "isolation": next(iter(results.values())).isolation, "time_limit": next(iter(results.values())).time_limit,
        }
        if mp.oracle == "flipped":
            rec["outcomes"] = [two_oracle(verdicts["original"][j] == "pass", verdicts["flipped"][j] == "pass") for j in slots]
        ctx.write(rec)

    def __init__(self, spec, seed=0):
        super().__init__(spec, seed)
        self.primary_metric = f"pass@{min(self.config.k)}"

    @classmethod
    def sample_scores(cls, summary, records):
        k = int(summary["primary_metric"].partition("@")[2])
        return {str(r["id"]): pass_at_k(len(r["passed"]), sum(r["passed"]), k) for r in records if r["variant"] == "nominal"}

    @classmethod
    def variant_scores(cls, summary):
        """Nominal pass@k against pass@k under each meaning-preserving mutation (a flip changes the task: not a variant)."""
        metric = summary["primary_metric"]
        muts = (summary.get("breakdown") or {}).get("mutation", {})
        kept = preserving()
        variants = {m: v[metric]["value"] for m, v in muts.items() if m in kept and metric in v}
        if metric not in summary["metrics"] or not variants:
            return None
        return {"metric": metric, "default": summary["metrics"][metric]["value"], "variants": variants}

    def summarize(self, records: list[dict]) -> dict:
        by_id = defaultdict(dict)
        for r in records:
            by_id[r["id"]][r["variant"]] = r
        metrics, breakdown = {}, {"mutation": {}, "underspec_deleted": {}}
        ks = self.config.k
        nominal_rows = [v["nominal"] for v in by_id.values() if "nominal" in v]

        def passk(rows, k):
            vals = [pass_at_k(len(r["passed"]), sum(r["passed"]), k) for r in rows]
            return mean_metric(vals, proportion=all(v in (0.0, 1.0) for v in vals))

        for k in ks:
            metrics[f"pass@{k}"] = passk(nominal_rows, k)
        # robustness: worst case over every meaning-preserving variant, slots paired with nominal
        def robust(families):
            counts = []
            for v in by_id.values():
                vs = [r for key, r in v.items() if r["mutation"] in families]
                if "nominal" in v and vs:
                    counts.append(robust_counts(np.array(v["nominal"]["passed"]), np.array([r["passed"] for r in vs])))
            out = {}
            for k in ks:
                per = robust_metrics(counts, k)
                prop = lambda x: bool(np.isin(x, (0.0, 1.0)).all())  # noqa: E731
                out[f"robust_pass@{k}"] = mean_metric(per[f"robust_pass@{k}"], proportion=prop(per[f"robust_pass@{k}"]))
                out[f"robust_drop@{k}"] = {"value": robust_drop(per[f"pass@{k}"], per[f"robust_pass@{k}"]), "n": len(counts)}
                # RR: the paper's RC⁺ (nominal fails, any variant passes); run_robust.py needs all to pass (robust.py)
                out[f"robust_relative@{k}"] = mean_metric(per[f"robust_relative@{k}"],
                                                          proportion=prop(per[f"robust_relative@{k}"]))
            return out

        present, kept = {r["mutation"] for r in records}, preserving()
        if present & set(kept):
            metrics.update(robust(kept))
        for m in sorted(present - {"none"}):
            rows = [r for r in records if r["mutation"] == m]
            entry = {f"pass@{k}": passk(rows, k) for k in ks}
            if m in kept:
                entry.update(robust((m,)))
            if m == "flip":
                outs = [o for r in rows for o in r["outcomes"]]
                for name in OUTCOMES:
                    entry[name] = mean_metric([float(o == name) for o in outs], proportion=True)
                    metrics[name] = entry[name]
            breakdown["mutation"][m] = entry
        curve = defaultdict(list)
        for r in records:
            if r["mutation"] in ("none", "underspec"):
                curve[10 * r["level"] if r["mutation"] == "underspec" else 0].append(r)
        if len(curve) > 1:
            breakdown["underspec_deleted"] = {f"{pct}%": {f"pass@{k}": passk(rows, k) for k in ks} for pct, rows in sorted(curve.items())}
        else:
            del breakdown["underspec_deleted"]
        isolation = sorted({r["isolation"] for r in records})
        return {"metrics": metrics, "breakdown": breakdown, "isolation": isolation}

    # --- presentation (evalkit report) -----------------------------------------------------------
    title = "code mutations"
    about = ("Code generation under edits of the problem statement: meaning-preserving ones (robust pass@k) and "
             "meaning-changing ones (did the model adapt, reuse the memorised solution, or break).")
    figures = (("code_mutations", "progressive underspecification curve (pass@1 as statement words are deleted) and "
                                  "adapted / reused / broken / indistinguishable rates on lexical flips"),)
    report_order = 30

    @classmethod
    def report_section(cls, src) -> str:
        from ..report.html import esc, kv_table

        isolation = src.doc.get("isolation")
        return kv_table([("sandbox isolation", esc(", ".join(map(str, isolation))))]) if isolation else ""

    @staticmethod
    def plot(summary, records, out) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        bd = summary["breakdown"]
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
        if "underspec_deleted" in bd:
            pts = sorted((int(p[:-1]), v["pass@1"]) for p, v in bd["underspec_deleted"].items())
            x = [p for p, _ in pts]
            y = [v["value"] for _, v in pts]
            lo = [v.get("ci_low", v["value"]) for _, v in pts]
            hi = [v.get("ci_high", v["value"]) for _, v in pts]
            axes[0].plot(x, y, "o-")
            axes[0].fill_between(x, lo, hi, alpha=0.2)
        axes[0].set_xlabel("% of statement words deleted")
        axes[0].set_ylabel("pass@1 (original tests)")
        axes[0].set_title("progressive underspecification", fontsize=9)
        axes[0].set_ylim(-0.02, 1.02)
        flip = bd.get("mutation", {}).get("flip")
        if flip:
            vals = [flip[o]["value"] for o in OUTCOMES]
            axes[1].bar(OUTCOMES, vals, color=["tab:green", "tab:orange", "tab:red", "tab:gray"])
            axes[1].set_ylim(0, 1)
        axes[1].set_title("lexical flip: two oracles", fontsize=9)
        fig.suptitle(f"{summary['task']} · {summary['model']}", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / "code_mutations.png", dpi=110)
        plt.close(fig)
