"""Multiple-choice accuracy by ranking option log-likelihoods (lm-eval's `multiple_choice`)."""

from __future__ import annotations

from collections import defaultdict

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
