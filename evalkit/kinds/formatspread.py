"""FormatSpread task kind: accuracy of one model across many plausible prompt formats.

Formats are sampled from the grammar (seeded, saved to OUT/formats.json and reused on resume or
by `formats_file`, so every model sees identical formats and examples), then searched exhaustively
or with the Thompson-sampling bandit. One record per (example, format) evaluation.
"""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from ..errors import EvalkitError
from ..formatspread import ATTRIBUTES, Format, atomic_neighbours, prefix_match, sample_formats, thompson_search
from ..metrics import mean_metric
from ..requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest
from ..sensitivity import bootstrap_ci, spread_interval
from ..store import write_json
from .mcq import MCQSample
from ..context import RunContext
from ..fewshot import FewShot, FewShotConfig
from ..kind import TaskKind


class FormatSpreadConfig(FewShotConfig):
    # (an lm-eval task YAML gets its format spread from the lm_eval kind: -T lens=formatspread, kinds/lmeval.py)
    answer: Literal["label", "text"] = "label"  # score the option's label (FormatSpread) or its text (lm-eval style)
    n_formats: int = Field(20, ge=2, le=2000)
    formats_file: str | None = None  # a formats.json from an earlier run: the same formats for another model
    scoring: Literal["loglikelihood", "generate"] = "loglikelihood"
    length_normalize: bool = False  # loglikelihood: divide by the label's length in characters
    search: Literal["exhaustive", "thompson"] = "exhaustive"
    budget: float = Field(0.25, gt=0, le=1)  # thompson: every example evaluation (finalists too), as a fraction of exhaustive
    batch: int = Field(20, ge=1)
    min_pulls: int = Field(2, ge=1)
    finalists: int = Field(3, ge=1)  # thompson: arms per side re-scored on every example before choosing (within budget)
    atomic: bool = False  # add, per format, a partner differing in one attribute: per-attribute effects
    instruction: str = ""  # may name the labels: {labels}, {label_1}, ...
    max_tokens: int = Field(8, ge=1)  # generate
    bootstrap: int = Field(1000, ge=100)


class FormatSpreadKind(TaskKind):
    Config = FormatSpreadConfig
    primary_metric = "spread"  # max - min is no mean over samples: no sample_scores
    Sample = MCQSample

    # --- formats ---------------------------------------------------------------------------------
    def formats(self, out: Path, n_options: int) -> tuple[list[Format], list[tuple[int, int, str]]]:
        c = self.config
        saved = out / "formats.json"
        source = Path(c.formats_file) if c.formats_file else saved if saved.exists() else None
        if c.formats_file and not source.is_file():
            raise EvalkitError(f"{self.spec.path}: field 'formats_file': file not found: {source}")
        if source is not None:
            try:
                doc = json.loads(source.read_text())
                formats = [Format.of(**f) for f in doc["formats"]]
                pairs = [tuple(p) for p in doc.get("atomic_pairs", [])]
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise EvalkitError(f"{source}: field 'formats': not a formats file ({e})") from None
        else:
            formats = sample_formats(c.n_formats, self.seed, n_options)
            pairs = []
            if c.atomic:
                for f, g, attr in atomic_neighbours(formats, self.seed):
                    if g not in formats:
                        formats.append(g)
                    pairs.append((formats.index(f), formats.index(g), attr))
        write_json(saved, {"formats": [f.to_dict() for f in formats], "atomic_pairs": pairs})
        return formats, pairs

    # --- one evaluation --------------------------------------------------------------------------
    def requests(self, f: Format, s: dict, shots: list[dict] = ()):
        """(prompt, answers, requests): answers are what is scored or matched, the option labels of
        this format or the option texts. `shots`: few-shot examples, rendered in the same format with
        their gold answer after the instruction (FormatSpread formats its in-context examples alike)."""
        c = self.config
        prompt = f.render(s["question"], s["options"], c.instruction)
        lead = "" if prompt[-1:].isspace() else " "
        answers = f.labels(len(s["options"])) if c.answer == "label" else list(s["options"])
        if shots:
            body = f.render(s["question"], s["options"])  # the instruction, if any, is what comes before it
            gold = lambda e: (f.labels(len(e["options"])) if c.answer == "label" else e["options"])[e["gold"]]  # noqa: E731
            prompt = (prompt[: len(prompt) - len(body)]
                      + "".join(f.render(e["question"], e["options"]) + lead + gold(e) + c.fewshot_delimiter for e in shots) + body)
        if c.scoring == "generate":
            return prompt, answers, [GenerateRequest(prompt=prompt, config=GenerationConfig(max_tokens=c.max_tokens, stop=("\n\n",)))]
        return prompt, answers, [LoglikelihoodRequest(prompt, lead + a) for a in answers]

    def judge(self, s: dict, labels: list[str], results) -> tuple[dict, float]:
        gold = s["gold"]
        if self.config.scoring == "generate":
            text = results[0].texts[0]
            hits = [k for k, l in enumerate(labels) if prefix_match(text, l)]
            return {"response": text, "pred": hits[0] if hits else None}, float(gold in hits[:1])
        ll = np.array([r.logprob for r in results])
        score = ll / np.array([max(len(l), 1) for l in labels]) if self.config.length_normalize else ll
        pred = int(np.argmax(score))
        return {"loglikelihoods": ll.tolist(), "pred": pred}, float(pred == gold)

    def run(self, samples, ctx: RunContext) -> None:
        c = self.config
        formats, self.pairs = self.formats(ctx.out, max(len(s["options"]) for s in samples))
        self.formats_ = formats
        known = {(r["id"], r["variant"]): r["correct"] for r in ctx.records if "correct" in r}
        fewshot = FewShot(self, "question")
        shots = {s["id"]: fewshot.examples(s) for s in samples}
        method = "generate" if c.scoring == "generate" else "loglikelihood"

        def evaluate(label: str, pairs) -> None:
            """Score (format, example) pairs not yet known in one stage, writing a record each."""
            units = []
            for arm, e in pairs:
                if (str(samples[e]["id"]), formats[arm].id) not in known:
                    prompt, answers, reqs = self.requests(formats[arm], samples[e], shots[samples[e]["id"]])
                    units.append(((arm, e, prompt, answers), reqs))

            def finish(unit, results):
                arm, e, prompt, answers = unit
                s = samples[e]
                detail, correct = self.judge(s, answers, results)
                ctx.write({"id": str(s["id"]), "variant": formats[arm].id, "format": arm, "prompt": prompt,
                           "fewshot": [x["id"] for x in shots[s["id"]]], "gold_label": answers[s["gold"]], **detail, "correct": correct})
                known[(str(s["id"]), formats[arm].id)] = correct

            ctx.stage(label, method, units, finish)

        n = len(samples)
        if c.search == "exhaustive":  # one stage: the backend sees all formats x examples at once
            evaluate("all formats", [(arm, e) for arm in range(len(formats)) for e in range(n)])
            self.search_result = None
        else:

            def pull(arm: int, examples) -> list[float]:
                evaluate(f"format {arm}", [(arm, e) for e in examples])
                return [known[(str(samples[e]["id"]), formats[arm].id)] for e in examples]

            budget = int(c.budget * len(formats) * n)
            if budget < n:
                raise EvalkitError(f"{self.spec.path}: field 'budget': {c.budget} x {len(formats)} formats x {n} examples = {budget} "
                                   f"evaluations is below one full pass of the default format ({n}); raise it to >= {1 / len(formats):.3g}")
            self.search_result = thompson_search(len(formats), n, pull, budget=budget,
                                                 batch=c.batch, min_pulls=c.min_pulls, finalists=c.finalists, seed=self.seed)

    # --- summary ---------------------------------------------------------------------------------
    @classmethod
    def variant_scores(cls, summary):
        """Accuracy under each evaluated format; the default is the task's own format (the first one)."""
        formats = list(summary.get("formats") or {})
        accs = {k: v["accuracy"]["value"] for k, v in (summary.get("breakdown") or {}).get("format", {}).items()}
        if not formats or formats[0] not in accs:
            return None
        return {"metric": "accuracy", "default": accs.pop(formats[0]), "variants": accs}

    def summarize(self, records: list[dict]) -> dict:
        c = self.config
        formats = self.formats_
        ids = sorted({r["id"] for r in records})
        row = {i: k for k, i in enumerate(ids)}
        col = {f.id: k for k, f in enumerate(formats)}
        m = np.full((len(ids), len(formats)), np.nan)  # example x format correctness
        for r in records:
            m[row[r["id"]], col[r["variant"]]] = r["correct"]
        complete = [k for k in range(len(formats)) if not np.isnan(m[:, k]).any()]
        with np.errstate(all="ignore"), warnings.catch_warnings():  # formats the bandit never pulled: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            acc = np.nanmean(m, axis=0)
        if self.search_result is not None:
            best, worst = self.search_result.best, self.search_result.worst
        else:
            best, worst = int(np.argmax(acc)), int(np.argmin(acc))
        n = len(ids)

        def prop(k):  # best, worst and the default format are evaluated on every example
            return mean_metric(m[:, k], proportion=True)

        full = m[:, complete]
        spread = float(acc[best] - acc[worst])
        # a simultaneous band over the fully evaluated formats (all of them when exhaustive; the finalists
        # and the default under Thompson search): valid for max - min and for the pair the search chose
        spread_ci = spread_interval(full, n_boot=c.bootstrap, seed=self.seed, point=spread)
        evaluated = [k for k in range(len(formats)) if not np.isnan(m[:, k]).all()]
        if c.search == "exhaustive":
            mean_ci = bootstrap_ci(full, stat=lambda x: x.mean(), n_boot=c.bootstrap, seed=self.seed)
            acc_mean = {"value": float(np.mean(acc[complete])), "ci_low": mean_ci[0], "ci_high": mean_ci[1], "n": len(complete)}
        else:  # the mean of every sampled format's own estimate (the complete ones are the extremes); their
            # examples differ, so no interval
            acc_mean = {"value": float(np.mean(acc[evaluated])), "n": len(evaluated)}
        metrics = {
            "acc_max": prop(best),
            "acc_min": prop(worst),
            "spread": {"value": spread, "ci_low": spread_ci[0], "ci_high": spread_ci[1], "n": n},
            "acc_mean": acc_mean,
            "acc_default": prop(0),
            "n_formats": {"value": float(len(evaluated)), "n": len(formats)},
            "n_evaluations": {"value": float(len(records)), "n": len(formats) * n},
        }
        breakdown = {
            "format": {f.id: {"accuracy": mean_metric(m[~np.isnan(m[:, k]), k], proportion=True)} for k, f in enumerate(formats) if k in evaluated},
            "attribute": self.attribute_effects(m, acc, complete),
        }
        return {"metrics": metrics, "breakdown": breakdown, "formats": {f.id: f.to_dict() for f in formats},
                "best_format": formats[best].id, "worst_format": formats[worst].id}

    def attribute_effects(self, m, acc, complete) -> dict:
        """Atomic pairs: mean |acc(f) - acc(g)| over the pairs that change one attribute. Otherwise,
        per attribute, the range of mean accuracy across its values over the fully evaluated formats."""
        out = {}
        if self.pairs:
            by_attr = defaultdict(list)
            for a, b, attr in self.pairs:
                if a in complete and b in complete:
                    by_attr[attr].append(abs(acc[a] - acc[b]))
            for attr, diffs in by_attr.items():
                out[attr] = {"effect": mean_metric(diffs)}
            return out
        for attr in ATTRIBUTES:
            groups = defaultdict(list)
            for k in complete:
                groups[self.formats_[k][attr]].append(acc[k])
            means = [np.mean(v) for v in groups.values()]
            if len(means) > 1:
                out[attr] = {"effect": {"value": float(max(means) - min(means)), "n": len(complete)}}
        return out

    # --- presentation (evalkit report) -----------------------------------------------------------
    title = "FormatSpread"
    about = ("Accuracy of the same questions under many semantically equivalent prompt formats: the spread between the "
             "best and the worst format, and how each format attribute moves accuracy.")
    figures = (
        ("formatspread_distribution", "distribution of per-format accuracy: histogram over formats and each format "
         "as a point, best / worst / default marked"),
        ("formatspread", "accuracy per prompt format, sorted (95% CI), and the accuracy effect of each format attribute"),
    )
    report_order = 20

    @staticmethod
    def plot(summary: dict, records: list[dict], out: Path) -> None:
        plot_distribution(summary, out / "formatspread_distribution.png")
        plot_formatspread(summary, out / "formatspread.png")

    @classmethod
    def report_section(cls, src) -> str:
        """The best, the worst and the default format with their accuracies and attributes."""
        from ..report.html import esc, fmt, grid_table

        formats = src.get("formats", dict, {}) or {}
        picks = [(lab, fid) for lab, fid in (("best", src.doc.get("best_format")), ("worst", src.doc.get("worst_format")),
                                             ("default", next(iter(formats), None))) if fid in formats]
        if not picks:
            return ""
        accs = src.get("breakdown.format", dict, {}) or {}
        attrs = list(dict.fromkeys(a for _, fid in picks for a in (formats[fid] or {})))
        rows = [[f"<b>{esc(lab)}</b>", f"<code>{esc(fid)}</code>", esc(fmt(((accs.get(fid) or {}).get("accuracy") or {}).get("value")))]
                + [f"<code>{esc(json.dumps((formats[fid] or {}).get(a), ensure_ascii=False))}</code>" for a in attrs]
                for lab, fid in picks]
        return "<h4>best, worst and default format</h4>" + grid_table(["", "format", "accuracy", *attrs], rows, numeric={2})


def plot_distribution(summary: dict, path: Path) -> None:
    """Per-format accuracies: a histogram over formats above a strip of the formats themselves, the best,
    worst and default format marked, the mean over fully evaluated formats as a line. Nothing without
    per-format accuracies."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fmts = (summary.get("breakdown") or {}).get("format") or {}
    rows = [
        (fid, m["accuracy"])
        for fid, m in fmts.items()
        if isinstance(m, dict) and isinstance(m.get("accuracy"), dict) and m["accuracy"].get("value") is not None
    ]
    if not rows:
        return
    metric = lambda name: ((summary.get("metrics") or {}).get(name) or {}).get("value")  # noqa: E731
    ids = [fid for fid, _ in rows]
    acc = np.array([m["value"] for _, m in rows], dtype=float)
    n = np.array([m.get("n") or 0 for _, m in rows])
    best, worst = summary.get("best_format"), summary.get("worst_format")
    best = best if best in ids else ids[int(np.argmax(acc))]
    worst = worst if worst in ids else ids[int(np.argmin(acc))]
    default = next(iter(summary.get("formats") or {}), None)
    full = n == n.max()

    fig, (top, strip) = plt.subplots(2, 1, figsize=(7.5, 3.8), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    bins = np.linspace(0, 1, 21)
    top.hist(acc, bins=bins, color="#8da0cb", edgecolor="white")
    top.set_ylabel("formats")
    mean = metric("acc_mean")
    if mean is not None:
        top.axvline(mean, color="#555", ls="--", lw=1, label=f"mean {mean:.3f}")
    spread = metric("spread")
    title = f"{summary.get('task')} · {summary.get('model')}: accuracy over {len(acc)} prompt formats"
    title = title.replace("$", r"\$")  # no mathtext
    top.set_title(title + (f" (spread {spread:.3f})" if spread is not None else ""), fontsize=9)
    # deterministic jitter: formats with the same accuracy fan out vertically
    order = np.lexsort((np.arange(len(acc)), acc))
    y = np.zeros(len(acc))
    for rank, k in enumerate(order):
        y[k] = ((rank % 7) - 3) / 10
    strip.scatter(acc[full], y[full], s=14, color="#4c72b0", label="format")
    if (~full).any():
        strip.scatter(acc[~full], y[~full], s=14, facecolors="none", edgecolors="#4c72b0", label="partly evaluated")
    marks = [(best, "best", "#2ca02c", "^"), (worst, "worst", "#d62728", "v")]
    if default in ids:
        marks.append((default, "default", "#333333", "D"))
    for fid, label, color, marker in marks:
        k = ids.index(fid)
        strip.scatter([acc[k]], [y[k]], s=70, color=color, marker=marker, zorder=3, label=f"{label}: {acc[k]:.3f}")
        if label != "default":
            top.axvline(acc[k], color=color, lw=1.2)
    strip.set_yticks([])
    strip.set_ylim(-0.5, 0.5)
    strip.set_xlim(-0.02, 1.02)
    strip.set_xlabel("accuracy of one prompt format")
    strip.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.55), frameon=False)
    if mean is not None:
        top.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def plot_formatspread(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fmts = sorted(summary["breakdown"]["format"].items(), key=lambda kv: kv[1]["accuracy"]["value"])
    effects = sorted(summary["breakdown"]["attribute"].items(), key=lambda kv: -kv[1]["effect"]["value"])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    vals = np.array([m["accuracy"]["value"] for _, m in fmts])
    lo = np.array([m["accuracy"].get("ci_low", v) for (_, m), v in zip(fmts, vals)])
    hi = np.array([m["accuracy"].get("ci_high", v) for (_, m), v in zip(fmts, vals)])
    # a Wilson bound at p = 0 or 1 can sit a rounding error past the point: clip, matplotlib refuses negative errors
    a1.errorbar(np.arange(len(vals)), vals, yerr=np.clip([vals - lo, hi - vals], 0, None), fmt="o", ms=3, capsize=2)
    a1.set_xlabel("format (sorted by accuracy)")
    a1.set_ylabel("accuracy (95% CI)")
    a1.set_title(f"{summary['task']} · {summary['model']}: spread {summary['metrics']['spread']['value']:.3f}", fontsize=9)
    a2.barh([k for k, _ in effects][::-1], [v["effect"]["value"] for _, v in effects][::-1], color="#DD8452")
    a2.set_xlabel("accuracy effect")
    a2.set_title("per-attribute effect", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

