"""Evaluation of a tuned policy against the SFT (starting) policy on held-out prompts.

Everything goes through evalkit backends (and so through the response cache): the policy is the HF
backend over the base weights plus the trial's peft LoRA adapter; the SFT policy is the same backend
without it. Per trial and seed it measures

- judge win rate vs SFT: the pairwise judge (`evalkit.judging.judge_pairs`) on (policy, SFT) responses,
  both slot orders by default; a pair's outcome is the policy's share (1, ½, 0); unparsed verdicts are
  left out and counted (`judge_parse_failure_rate`);
- rule reward: `evalkit.tuning.checkers.rule_reward` of each held-out row (1/0), and the SFT's for scale;
- held-out preference accuracy: whether the implicit reward log π/π_SFT ranks each held-out pair's chosen
  response above its rejected one (a signal even when the model is too weak to earn rule rewards);
- KL(π‖π_SFT): `kl_samples` policy samples per prompt at temperature 1, scored by teacher forcing under
  both models (`LoglikelihoodRequest.continuation_ids`), per sequence and per token (kl.py);
- response length in tokens: mean (with SE), median, p90, max, share cut at max_new_tokens.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..backends import with_adapter
from ..backends.hf import HFBackend
from ..errors import EvalkitError
from ..metrics import mean_metric
from ..models import ModelSpec, weights_hash
from ..requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest
from ..seeding import derive_seed
from ..store import write_json
from .kl import kl_estimate


def make_sft_backend(kind: str, model: ModelSpec, options: dict, lora_rank: int | None):
    """The SFT (starting) policy; with LoRA trials only on hf (see the error)."""
    if kind == "hf":
        return HFBackend(model, **options)
    from ..backends.vllm import VLLMBackend

    if lora_rank is not None:  # KL and preference accuracy score the policy: see vllm.AdapterView.loglikelihood
        raise EvalkitError("eval.backend 'vllm': LoRA policies are scored by log-likelihood, which vLLM gets wrong "
                           "under LoRA (vllm#16668, #51594); use eval.backend: hf")
    return VLLMBackend(model, **options)


def make_policy_backend(kind: str, base: ModelSpec, sft_backend, adapter_dir: Path, lora: bool, options: dict, lora_id: int):
    """The trained policy: its LoRA adapter merged into a copy of the base (backends.with_adapter), or,
    after full fine-tuning, the saved checkpoint."""
    if not lora:
        spec = ModelSpec(f"{base.name}+{adapter_dir.parent.name}", str(adapter_dir), weights_hash(adapter_dir), "local")
        return HFBackend(spec, **options) if kind == "hf" else make_sft_backend(kind, spec, options, None)
    return with_adapter(sft_backend, adapter_dir, options, lora_id)


# ---------------------------------------------------------------------------------------------- prompts


def select_heldout(rows: Sequence[dict], splits: Sequence[str], n: int) -> list[dict]:
    """n rows of the held-out splits in a fixed seeded order (the same prompts for every trial)."""
    pool = [r for r in rows if r.get("split") in splits]
    pool.sort(key=lambda r: derive_seed(0, "sweep-heldout", str(r["id"])))
    return pool[:n]


def framed(prompt: str, prompt_format: str) -> dict:
    return {"messages": (("user", prompt),)} if prompt_format == "chat" else {"prompt": prompt}


def response_requests(rows: Sequence[dict], prompt_format: str, max_new_tokens: int, temperature: float, seed: int):
    def cfg(row):
        # greedy decoding ignores the seed: keep it fixed so greedy responses are shared across seeds in the cache
        s = derive_seed(seed, "sweep-response", str(row["id"])) if temperature > 0 else 0
        return GenerationConfig(max_tokens=max_new_tokens, temperature=temperature, seed=s)

    return [GenerateRequest(config=cfg(r), **framed(r["prompt"], prompt_format)) for r in rows]


def length_stats(lengths: Sequence[int], truncated: Sequence[bool]) -> dict[str, Any]:
    x = np.asarray(lengths, dtype=float)
    if x.size == 0:
        return {"mean_length": {"value": float("nan"), "n": 0}}
    return {
        "mean_length": mean_metric(x),
        "length_median": {"value": float(np.median(x)), "n": int(x.size)},
        "length_p90": {"value": float(np.percentile(x, 90)), "n": int(x.size)},
        "length_max": {"value": float(x.max()), "n": int(x.size)},
        "frac_truncated": mean_metric([float(t) for t in truncated], proportion=True),
    }


def _reward_fn():
    try:
        from .checkers import rule_reward
    except ImportError as e:
        raise EvalkitError(f"rule reward unavailable: {e}") from None
    return rule_reward


def reward_metric(rows: Sequence[dict], responses: Sequence[str]) -> tuple[dict, list[float | None]]:
    """Mean rule reward over rows that carry a check (Wilson interval for 0/1 rewards)."""
    if not any(r.get("check") for r in rows):
        return {"value": float("nan"), "n": 0}, [None] * len(rows)
    rule_reward = _reward_fn()
    vals = [float(rule_reward(r, t)) if r.get("check") else None for r, t in zip(rows, responses)]
    x = [v for v in vals if v is not None]
    return mean_metric(x, proportion=all(v in (0.0, 1.0) for v in x)), vals


# ---------------------------------------------------------------------------------------------- context


@dataclass
class EvalSettings:
    prompt_format: str
    max_new_tokens: int
    temperature: float
    kl_samples: int
    kl_max_new_tokens: int
    judge: Any  # config.JudgeSpec
    score: str


@dataclass
class SFTReference:
    """The SFT policy's responses and reward for one evaluation seed (computed once per sweep)."""

    texts: list[str]
    lengths: list[int]
    metrics: dict = field(default_factory=dict)


def sft_reference(sft, rows: Sequence[dict], s: EvalSettings, seed: int, out: Path | None) -> SFTReference:
    gens = sft.generate(response_requests(rows, s.prompt_format, s.max_new_tokens, s.temperature, seed))
    texts = [g.texts[0] for g in gens]
    lengths = [len(g.token_ids[0]) for g in gens]
    reward, rewards = reward_metric(rows, texts)
    metrics = {"reward": reward, **length_stats(lengths, [g.finish_reasons[0] == "length" for g in gens])}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "responses.jsonl", "w", encoding="utf-8") as f:
            for r, t, n, rw in zip(rows, texts, lengths, rewards):
                f.write(json.dumps({"id": r["id"], "family": r.get("family"), "split": r.get("split"), "response": t,
                                    "n_tokens": n, "reward": rw}, ensure_ascii=False) + "\n")
        write_json(out / "metrics.json", metrics)
    return SFTReference(texts, lengths, metrics)


def _eos_id(backend) -> int | None:
    tok = backend.tok
    eos = tok.tokenizer.eos_token_id
    return eos if eos in tok.eos_ids else (min(tok.eos_ids) if tok.eos_ids else None)


def sample_kl(policy, sft, rows: Sequence[dict], s: EvalSettings, seed: int) -> tuple[dict, list[dict]]:
    """KL(π‖π_SFT) from `kl_samples` policy samples per prompt (temperature 1, top-p 1, no top-k).

    A sample that ended on end-of-sequence is scored with that token (the backends cut it from
    the text): the sequence distribution includes the decision to stop."""
    if s.kl_samples == 0 or not rows:
        return kl_estimate([], [], []), []
    reqs = [GenerateRequest(config=GenerationConfig(max_tokens=s.kl_max_new_tokens, temperature=1.0, top_p=1.0, n=s.kl_samples,
                                                    seed=derive_seed(seed, "sweep-kl", str(r["id"]))),
                            **framed(r["prompt"], s.prompt_format)) for r in rows]
    gens = policy.generate(reqs)
    eos = _eos_id(policy)
    scoring, meta = [], []
    for r, g in zip(rows, gens):
        for ids, reason in zip(g.token_ids, g.finish_reasons):
            cont = tuple(ids) + ((eos,) if reason == "stop" and eos is not None else ())
            if not cont:
                continue
            ctx = framed(r["prompt"], s.prompt_format)
            scoring.append(LoglikelihoodRequest(messages=ctx["messages"], continuation_ids=cont) if "messages" in ctx
                           else LoglikelihoodRequest(context=ctx["prompt"], continuation_ids=cont))
            meta.append({"id": r["id"], "n_tokens": len(cont)})
    lp_pol = policy.loglikelihood(scoring)
    lp_sft = sft.loglikelihood(scoring)
    for m, a, b in zip(meta, lp_pol, lp_sft):
        m.update(logp_policy=a.logprob, logp_sft=b.logprob)
    est = kl_estimate([a.logprob for a in lp_pol], [b.logprob for b in lp_sft], [m["n_tokens"] for m in meta])
    return est, meta


def heldout_preferences(policy, sft, rows: Sequence[dict], s: EvalSettings) -> tuple[dict, list[dict | None]]:
    """The DPO implicit reward r(y) = log π(y|x) − log π_SFT(y|x) on each held-out pair (teacher forcing,
    chosen/rejected text + end-of-sequence): `pref_accuracy` = share of pairs with r(chosen) > r(rejected)
    (½ for an exact tie: an unchanged policy scores 0.5), `pref_margin` = mean r(chosen) − r(rejected),
    `pref_margin_per_token` = the same with each side divided by its token count (LN-DPO's form)."""
    idx = [i for i, r in enumerate(rows) if r.get("chosen") and r.get("rejected")]
    if not idx:
        nan = {"value": float("nan"), "n": 0}
        return {"pref_accuracy": dict(nan), "pref_margin": dict(nan), "pref_margin_per_token": dict(nan)}, [None] * len(rows)
    tok, eos = policy.tok.tokenizer, _eos_id(policy)
    reqs = []
    for i in idx:
        ctx = framed(rows[i]["prompt"], s.prompt_format)
        for side in ("chosen", "rejected"):
            ids = tuple(tok.encode(rows[i][side], add_special_tokens=False)) + ((eos,) if eos is not None else ())
            reqs.append(LoglikelihoodRequest(messages=ctx["messages"], continuation_ids=ids) if "messages" in ctx
                        else LoglikelihoodRequest(context=ctx["prompt"], continuation_ids=ids))
    pol, ref = policy.loglikelihood(reqs), sft.loglikelihood(reqs)
    per: list[dict | None] = [None] * len(rows)
    for k, i in enumerate(idx):
        (pw, pl), (rw, rl) = pol[2 * k : 2 * k + 2], ref[2 * k : 2 * k + 2]
        dw, dl = pw.logprob - rw.logprob, pl.logprob - rl.logprob
        margin = dw - dl
        per[i] = {"margin": margin, "margin_per_token": dw / max(pw.n_tokens, 1) - dl / max(pl.n_tokens, 1),
                  "correct": 1.0 if margin > 0 else 0.0 if margin < 0 else 0.5}
    done = [p for p in per if p is not None]
    return {"pref_accuracy": mean_metric([p["correct"] for p in done]), "pref_margin": mean_metric([p["margin"] for p in done]),
            "pref_margin_per_token": mean_metric([p["margin_per_token"] for p in done])}, per


def judge_win_rate(judge, rows: Sequence[dict], policy_texts: Sequence[str], sft_texts: Sequence[str], spec) -> tuple[dict, list[dict]]:
    """Policy (A) vs SFT (B) per prompt; outcome = the policy's share (1 win, ½ tie, 0 loss)."""
    from ..judging import JudgePair, judge_pairs

    outcomes: list[dict] = [{} for _ in rows]
    todo = []
    for i, (a, b) in enumerate(zip(policy_texts, sft_texts)):
        if spec.skip_identical and a == b:
            outcomes[i] = {"score": 0.5, "winner": "tie", "identical": True, "games": []}
        else:
            todo.append(i)
    if todo:
        fmt = spec.prompt_format
        if fmt == "auto":
            fmt = "chat" if judge.chat_template or judge.name == "openai" else "raw"
        pairs = [JudgePair(instruction=rows[i]["prompt"], response_a=policy_texts[i], response_b=sft_texts[i], id=str(rows[i]["id"]))
                 for i in todo]
        verdicts = judge_pairs(judge, pairs, template=spec.template, protocol=spec.protocol, combine=spec.combine, seed=0,
                               max_tokens=spec.max_tokens, prompt_format=fmt, verdict=spec.verdict)
        for i, v in zip(todo, verdicts):
            outcomes[i] = {"score": v.score, "winner": v.winner, "identical": False,
                           "games": [{"order": g.order, "verdict": g.verdict, "raw": g.raw} for g in v.games]}
    scores = [o["score"] for o in outcomes if o["score"] is not None]
    n_judged = len(todo)
    unparsed = sum(1 for o in outcomes if o["score"] is None)
    games = [g for o in outcomes for g in o["games"]]
    metrics = {
        "win_rate_vs_sft": mean_metric(scores),
        "judge_parse_failure_rate": {"value": unparsed / n_judged if n_judged else 0.0, "n": n_judged},
        "judge_game_parse_rate": {"value": (sum(g["verdict"] is not None for g in games) / len(games)) if games else float("nan"),
                                  "n": len(games)},
        "identical_to_sft": {"value": (len(rows) - n_judged) / len(rows) if rows else float("nan"), "n": len(rows)},
    }
    return metrics, outcomes


def evaluate_policy(policy, sft, judge, rows: Sequence[dict], sft_ref: SFTReference, s: EvalSettings, seed: int,
                    out: Path) -> dict:
    """All evaluation metrics of one trained policy; writes out/records.jsonl and returns the metrics
    ({name: {"value", "stderr"?, "ci_low"?, "ci_high"?, "n"}})."""
    t0 = time.perf_counter()
    gens = policy.generate(response_requests(rows, s.prompt_format, s.max_new_tokens, s.temperature, seed))
    texts = [g.texts[0] for g in gens]
    lengths = [len(g.token_ids[0]) for g in gens]
    metrics: dict[str, Any] = length_stats(lengths, [g.finish_reasons[0] == "length" for g in gens])
    sft_mean = float(np.mean(sft_ref.lengths)) if sft_ref.lengths else float("nan")
    metrics["length_ratio_to_sft"] = {"value": metrics["mean_length"]["value"] / sft_mean if sft_mean else float("nan"),
                                      "n": len(lengths)}
    metrics["reward"], rewards = reward_metric(rows, texts)
    metrics["reward_sft"] = sft_ref.metrics.get("reward", {"value": float("nan"), "n": 0})
    pref_metrics, prefs = heldout_preferences(policy, sft, rows, s)
    metrics.update(pref_metrics)
    kl, kl_meta = sample_kl(policy, sft, rows, s, seed)
    metrics["kl_to_sft"], metrics["kl_to_sft_per_token"] = kl["seq"], kl["token"]
    outcomes: list[dict] = [{} for _ in rows]
    if s.judge.enabled:
        jm, outcomes = judge_win_rate(judge, rows, texts, sft_ref.texts, s.judge)
        metrics.update(jm)
    else:
        metrics["win_rate_vs_sft"] = {"value": float("nan"), "n": 0}
    splits = sorted({str(r.get("split")) for r in rows})
    if len(splits) > 1:  # in-distribution vs out-of-distribution prompts, separately
        for sp in splits:
            idx = [i for i, r in enumerate(rows) if str(r.get("split")) == sp]
            x = [rewards[i] for i in idx if rewards[i] is not None]
            metrics[f"reward_{sp}"] = mean_metric(x, proportion=all(v in (0.0, 1.0) for v in x))
            metrics[f"pref_accuracy_{sp}"] = mean_metric([prefs[i]["correct"] for i in idx if prefs[i] is not None])
            if s.judge.enabled:
                metrics[f"win_rate_vs_sft_{sp}"] = mean_metric([outcomes[i]["score"] for i in idx if outcomes[i].get("score") is not None])
    metrics["eval_seconds"] = {"value": time.perf_counter() - t0, "n": 1}
    by_id: dict[str, list[dict]] = {}
    for m in kl_meta:
        by_id.setdefault(str(m["id"]), []).append({k: m[k] for k in ("n_tokens", "logp_policy", "logp_sft")})
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "records.jsonl", "w", encoding="utf-8") as f:
        for r, t, n, g, rw, o, st, pf in zip(rows, texts, lengths, gens, rewards, outcomes, sft_ref.texts, prefs):
            f.write(json.dumps({"id": r["id"], "family": r.get("family"), "split": r.get("split"), "prompt": r["prompt"],
                                "response": t, "n_tokens": n, "finish_reason": g.finish_reasons[0], "sft_response": st,
                                "reward": rw, "judge": o, "pref": pf, "kl_samples": by_id.get(str(r["id"]), [])},
                               ensure_ascii=False) + "\n")
    return metrics
