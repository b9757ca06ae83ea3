"""Evaluation pieces with hand-checkable outcomes: the judge win rate vs SFT in both slot orders
(with a scripted judge), rule rewards, length statistics and the held-out prompt selection."""

import math

import pytest

from evalkit.requests import Generation


class ScriptedJudge:
    """Answers like a judge that always prefers the response containing 'GOOD', wherever it sits;
    prompts with 'garbage' get an unparseable reply."""

    chat_template = "x"

    def __init__(self):
        self.calls = 0

    def generate(self, requests, on_result=None):
        out = []
        for r in requests:
            text = r.messages[-1][1]
            self.calls += 1
            if "garbage" in text:
                reply = "I cannot decide"
            else:
                reply = "[[A]]" if text.find("GOOD") < text.find("bad") else "[[B]]"
            out.append(Generation((reply,), ((1,),), 1, ("stop",)))
        return out


def test_win_rate_vs_sft_in_both_orders():
    from evalkit.tuning.config import JudgeSpec
    from evalkit.tuning.evaluate import judge_win_rate

    rows = [{"id": str(i), "prompt": p} for i, p in enumerate(["q1", "q2", "q3", "garbage q4", "q5"])]
    policy = ["GOOD one", "bad two", "same", "GOOD four", "GOOD five"]
    sft = ["bad one", "GOOD two", "same", "bad four", "bad five"]
    judge = ScriptedJudge()
    m, outcomes = judge_win_rate(judge, rows, policy, sft, JudgeSpec(template="mt_bench", protocol="both"))
    assert judge.calls == 2 * 4  # both orders for every pair except the identical one
    assert [o["score"] for o in outcomes] == [1.0, 0.0, 0.5, None, 1.0]
    assert outcomes[2]["identical"] and outcomes[3]["winner"] is None
    assert m["win_rate_vs_sft"]["value"] == pytest.approx((1 + 0 + 0.5 + 1) / 4) and m["win_rate_vs_sft"]["n"] == 4
    assert m["judge_parse_failure_rate"]["value"] == pytest.approx(1 / 4)  # of the 4 judged pairs
    assert m["identical_to_sft"]["value"] == pytest.approx(1 / 5)


def test_position_biased_judge_gives_ties_under_both_orders():
    from evalkit.tuning.config import JudgeSpec
    from evalkit.tuning.evaluate import judge_win_rate

    class AlwaysA(ScriptedJudge):
        def generate(self, requests, on_result=None):
            return [Generation(("[[A]]",), ((1,),), 1, ("stop",)) for _ in requests]

    rows = [{"id": "1", "prompt": "q"}, {"id": "2", "prompt": "r"}]
    m, _ = judge_win_rate(AlwaysA(), rows, ["x", "y"], ["u", "v"], JudgeSpec())
    assert m["win_rate_vs_sft"]["value"] == 0.5  # conservative: disagreement after the swap is a tie
    m, _ = judge_win_rate(AlwaysA(), rows, ["x", "y"], ["u", "v"], JudgeSpec(protocol="fixed"))
    assert m["win_rate_vs_sft"]["value"] == 1.0  # one order only: the slot bias shows


def test_reward_and_length_statistics():
    from evalkit.tuning.evaluate import length_stats, reward_metric

    rows = [{"id": "a", "family": "arithmetic", "prompt": "2+2?", "check": {"type": "number", "value": 4}},
            {"id": "b", "family": "arithmetic", "prompt": "3+3?", "check": {"type": "number", "value": 6}},
            {"id": "c", "prompt": "free text"}]
    m, vals = reward_metric(rows, ["The answer is 4.", "It is 7.", "whatever"])
    assert vals == [1.0, 0.0, None] and m["value"] == 0.5 and m["n"] == 2
    assert math.isnan(reward_metric([{"id": "x", "prompt": "p"}], ["r"])[0]["value"])
    s = length_stats([2, 4, 6, 8], [False, False, False, True])
    assert s["mean_length"]["value"] == 5 and s["length_median"]["value"] == 5 and s["length_max"]["value"] == 8
    assert s["length_p90"]["value"] == pytest.approx(7.4) and s["frac_truncated"]["value"] == 0.25


def test_heldout_selection_is_fixed_and_split_filtered():
    from evalkit.tuning.evaluate import select_heldout

    rows = [{"id": f"r{i}", "split": ["train", "eval", "ood"][i % 3], "prompt": "p"} for i in range(30)]
    a = select_heldout(rows, ["eval", "ood"], 5)
    assert len(a) == 5 and all(r["split"] in ("eval", "ood") for r in a)
    assert [r["id"] for r in a] == [r["id"] for r in select_heldout(list(reversed(rows)), ["eval", "ood"], 5)]
    assert [r["id"] for r in select_heldout(rows, ["eval", "ood"], 3)] == [r["id"] for r in a[:3]]


def test_heldout_preference_accuracy_from_implicit_rewards(hf_tiny):
    """r(y) = log π(y|x) − log π_SFT(y|x); a policy that adds +1 nat to every chosen response and −0.25
    nats per token to every rejected one ranks each pair correctly by exactly those margins."""
    from evalkit.requests import LoglikelihoodResult
    from evalkit.tuning.config import JudgeSpec
    from evalkit.tuning.evaluate import EvalSettings, heldout_preferences

    class Shifted:
        def __init__(self, base):
            self.base, self.tok = base, base.tok

        def loglikelihood(self, reqs, on_result=None):
            out = self.base.loglikelihood(reqs)
            return [LoglikelihoodResult(r.logprob + (1.0 if k % 2 == 0 else -0.25 * r.n_tokens), r.n_tokens, r.is_greedy)
                    for k, r in enumerate(out)]  # requests alternate chosen, rejected

    rows = [{"id": "a", "prompt": "2+2?", "chosen": "4", "rejected": "5, I think"},
            {"id": "b", "prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Rome."},
            {"id": "c", "prompt": "no pair here"}]
    s = EvalSettings("chat", 8, 0.0, 0, 8, JudgeSpec(), "pref_accuracy")
    same, per = heldout_preferences(hf_tiny, hf_tiny, rows, s)
    assert same["pref_accuracy"]["value"] == 0.5 and same["pref_margin"]["value"] == 0.0 and per[2] is None
    m, per = heldout_preferences(Shifted(hf_tiny), hf_tiny, rows, s)
    assert m["pref_accuracy"]["value"] == 1.0 and m["pref_accuracy"]["n"] == 2
    n_rej = [len(hf_tiny.tok.tokenizer.encode(r["rejected"], add_special_tokens=False)) + 1 for r in rows[:2]]  # + end of sequence
    assert [p["margin"] for p in per[:2]] == pytest.approx([1.0 + 0.25 * n for n in n_rej], abs=1e-9)
    n_cho = [len(hf_tiny.tok.tokenizer.encode(r["chosen"], add_special_tokens=False)) + 1 for r in rows[:2]]
    assert [p["margin_per_token"] for p in per[:2]] == pytest.approx([1.0 / c + 0.25 for c in n_cho], abs=1e-9)
