"""Multiple-choice accuracy by ranking option log-likelihoods (lm-eval's `multiple_choice`)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..metrics import mean_metric
from ..requests import LoglikelihoodRequest
from ..context import RunContext
from ..fewshot import FewShot, FewShotConfig
from ..kind import TaskKind


class MCQConfig(FewShotConfig):
    template: str = "Question: {question}\nAnswer:"
    target_delimiter: str = " "  # raw format only: put between the prompt and each option


class MCQSample(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    question: str
    options: list[str] = Field(min_length=2)
    gold: int
    category: str = ""

    @field_validator("gold")
    @classmethod
    def _gold_in_range(cls, gold: int, info):
        options = info.data.get("options")
        if options is not None and not 0 <= gold < len(options):
            raise ValueError(f"gold index {gold} outside 0..{len(options) - 1}")
        return gold


class MCQKind(TaskKind):
    Config = MCQConfig
    primary_metric = "acc"
    Sample = MCQSample

    def prompt(self, sample: dict, ctx: RunContext, shots: list[dict] = ()) -> tuple[str, list[str]]:
        """(context, continuations): raw text, or the chat prompt up to the assistant turn; `shots`:
        few-shot examples, each its templated question and gold option (evalkit/fewshot.py)."""
        c = self.config
        framed = c.framed(c.template.format(**sample), tuple((c.template.format(**e), e["options"][e["gold"]]) for e in shots),
                          c.target_delimiter)
        if c.prompt_format == "chat":
            return ctx.backend.render_chat(framed), list(sample["options"])
        return framed, [c.target_delimiter + o for o in sample["options"]]

    def run(self, samples, ctx: RunContext) -> None:
        units, fewshot = [], FewShot(self, "question")
        for s in samples:
            if str(s["id"]) in ctx.done:
                continue
            shots = fewshot.examples(s)
            context, conts = self.prompt(s, ctx, shots)
            units.append(((s, context, conts, [e["id"] for e in shots]), [LoglikelihoodRequest(context, c) for c in conts]))

        def finish(unit, results):
            s, context, conts, shot_ids = unit
            ll = np.array([r.logprob for r in results])
            norm = ll / np.array([max(len(o), 1) for o in s["options"]])  # lm-eval acc_norm: per character
            pred, pred_norm = int(np.argmax(ll)), int(np.argmax(norm))
            ctx.write(
                {
                    "id": str(s["id"]),
                    "category": s.get("category", ""),
                    "prompt": context,
                    "fewshot": shot_ids,
                    "continuations": conts,
                    "gold": s["gold"],
                    "loglikelihoods": ll.tolist(),
                    "n_tokens": [r.n_tokens for r in results],
                    "is_greedy": [r.is_greedy for r in results],
                    "pred": pred,
                    "pred_norm": pred_norm,
                    "acc": float(pred == s["gold"]),
                    "acc_norm": float(pred_norm == s["gold"]),
                }
            )

        ctx.stage("loglikelihood", "loglikelihood", units, finish)

    @classmethod
    def sample_scores(cls, summary, records):
        return {str(r["id"]): float(r["acc"]) for r in records}

    def summarize(self, records: list[dict]) -> dict:
        by_cat = defaultdict(list)
        for r in records:
            by_cat[r["category"]].append(r)
        metrics = lambda rs: {m: mean_metric([r[m] for r in rs], proportion=True) for m in ("acc", "acc_norm")}  # noqa: E731
        return {"metrics": metrics(records), "breakdown": {"category": {c: metrics(rs) for c, rs in sorted(by_cat.items())}}}

    # --- presentation (evalkit report) -----------------------------------------------------------
    title = "multiple choice"
    about = "Multiple-choice accuracy by option log-likelihood."
    figures = (("mcq_by_category", "accuracy by category with 95% Wilson intervals; the dashed line is the overall accuracy, its interval shaded"),)
    report_order = 100

    @staticmethod
    def plot(summary: dict, records: list[dict], out: Path) -> None:
        plot_by_category(summary, out / "mcq_by_category.png")


def plot_by_category(summary: dict, path: Path) -> None:
    """Accuracy per category as a point with its 95% Wilson interval (the summary's breakdown, from
    metrics.mean_metric), categories top to bottom as the breakdown lists them, the overall accuracy and
    its interval as a dashed line and a band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cats = [(c or "(no category)", m["acc"]) for c, m in summary["breakdown"]["category"].items()]
    overall = summary["metrics"]["acc"]
    vals = np.array([m["value"] for _, m in cats], dtype=float)
    # a Wilson bound at p = 0 or 1 can sit a rounding error past the point: clip, matplotlib refuses negative errors
    err = np.clip([vals - [m.get("ci_low", v) for (_, m), v in zip(cats, vals)],
                   [m.get("ci_high", v) for (_, m), v in zip(cats, vals)] - vals], 0, None)
    y = np.arange(len(cats))[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 1.2 + 0.32 * len(cats)))
    if overall.get("ci_low") is not None and overall.get("ci_high") is not None:
        ax.axvspan(overall["ci_low"], overall["ci_high"], color="#dddddd", zorder=0)
    ax.axvline(overall["value"], color="#555", ls="--", lw=1, label=f"overall {overall['value']:.3f} (n={overall.get('n')})")
    ax.errorbar(vals, y, xerr=err, fmt="o", ms=4, capsize=3, color="#4c72b0")
    ax.set_yticks(y, [f"{c} (n={m.get('n')})" for c, m in cats])
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("accuracy (95% Wilson CI)")
    title = f"{summary.get('task')} · {summary.get('model')}: accuracy by category".replace("$", r"\$")  # no mathtext
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
