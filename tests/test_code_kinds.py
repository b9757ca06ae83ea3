"""code_mutations and code_agent end to end: ReCode metrics by hand, two oracles, the agent loop,
with scripted models whose behaviour is known, and a tiny-random run through the CLI."""

import json
import re
import subprocess

import numpy as np
import pytest

from conftest import EVALKIT, REPO
from evalkit.code.problems import load_problems
from evalkit.code.robust import robust_counts, robust_drop, robust_metrics, two_oracle
from evalkit.requests import Generation

PROBLEMS = {p.entry_point: p for p in load_problems("leetcode50")}


def test_recode_metrics_by_hand():
    # problem 1: nominal slots pass [1,1,0]; 2 variants: slot 0 passes both, slot 1 fails one, slot 2 passes one
    c1 = robust_counts(np.array([1, 1, 0]), np.array([[1, 0, 1], [1, 1, 0]]))
    assert c1 == {"n": 3, "nominal": 2, "worst": 1, "minus": 1, "plus": 1}
    # problem 2: nothing passes anywhere
    # slot 2 fails nominally and passes under one of the two variants: RC⁺ by the paper (any variant), where
    # ReCode's run_robust.py would count it only if both passed (nominal != worst case): 1 there is 0 here
    reference_plus = int(((np.array([1, 1, 0]) == 0) & np.array([[1, 0, 1], [1, 1, 0]]).all(axis=0)).sum())
    assert c1["plus"] == 1 and reference_plus == 0
    c2 = robust_counts(np.array([0, 0, 0]), np.array([[0, 0, 0], [0, 0, 0]]))
    per = robust_metrics([c1, c2], k=1)
    # pass@1 = c/n per problem: (2/3 + 0)/2; robust pass (1/3 + 0)/2; relative (1/3 + 1/3 + 0)/2
    assert per["pass@1"].mean() == pytest.approx(1 / 3)
    assert per["robust_pass@1"].mean() == pytest.approx(1 / 6)
    assert per["robust_relative@1"].mean() == pytest.approx(1 / 3)
    assert robust_drop(per["pass@1"], per["robust_pass@1"]) == pytest.approx(0.5)
    per2 = robust_metrics([c1], k=2)  # pass@2 with c=2 of 3: 1 - C(1,2)/C(3,2) = 1; worst c=1: 1 - C(2,2)/C(3,2) = 2/3
    assert per2["pass@2"][0] == pytest.approx(1.0) and per2["robust_pass@2"][0] == pytest.approx(2 / 3)
    assert [two_oracle(o, f) for o, f in [(0, 1), (1, 0), (0, 0), (1, 1)]] == ["adapted", "reused", "broken", "indistinguishable"]


class CodeSolver:
    """A scripted code model. `attentive`: solves the task the statement describes (the flipped one
    when the flipped word is there); otherwise it recognises the function and returns the original
    solution whatever the statement says. `fix_after_feedback`: the first answer is wrong and the
    fix comes only after test feedback (the agent loop)."""

    name = "code_solver"
    remote = False
    attentive = True
    fix_after_feedback = False

    def __init__(self, model):
        self.model = model

    def identity(self):
        return {"model": "code_solver", "attentive": self.attentive, "fix": self.fix_after_feedback}

    def render_chat(self, messages, add_generation_prompt=True):
        return "\n".join(c for _, c in messages)

    def _answer(self, req, k):
        msgs = list(req.messages)
        user = msgs[0][1]
        name = re.search(r"def (\w+)\(", user).group(1)
        p = PROBLEMS[name]
        ref = p.reference
        if self.attentive and p.flip and re.search(rf"\b{re.escape(p.flip['to'])}\b", user, re.I) and not re.search(
                rf"\b{re.escape(p.flip['from'])}\b", user, re.I):
            ref = p.flip["reference"]
        if self.fix_after_feedback and len(msgs) == 1:
            return f"```python\ndef {name}(*args):\n    return None\n```"
        return f"Here you go:\n```python\n{ref}\n```"

    def generate(self, requests, on_result=None):
        out = []
        for i, r in enumerate(requests):
            texts = tuple(self._answer(r, k) for k in range(r.config.n))
            g = Generation(texts, tuple((1,) * 5 for _ in texts), 10, ("stop",) * len(texts))
            out.append(g)
            if on_result:
                on_result(i, g)
        return out

    def close(self):
        pass


@pytest.fixture
def solver(register):
    from evalkit.registry import BACKENDS

    register(BACKENDS, "code_solver", CodeSolver)
    return CodeSolver


def _task(tmp_path, kind, **fields):
    import yaml

    doc = {"task": f"{kind}_t", "kind": kind, "data": str(PROBLEMS_PATH), **fields}
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(doc))
    return str(tmp_path / "task.yaml")


PROBLEMS_PATH = REPO / "tasks/data/leetcode50.jsonl"


def test_code_mutations_two_oracles_separate_reading_from_reusing(tmp_path, solver, monkeypatch):
    from evalkit import run

    muts = {"underspec": [3, 9], "flip": [0], "typo": [2], "paraphrase": [0], "format": [1]}
    task = _task(tmp_path, "code_mutations", mutations=muts)
    attentive = run(task, "tiny-random", "code_solver", limit=6, cache=False, out=tmp_path / "a").summary
    m = attentive["metrics"]
    assert m["pass@1"]["value"] == 1.0 and m["pass@1"]["n"] == 6
    assert m["robust_pass@1"]["value"] == 1.0 and m["robust_drop@1"]["value"] == 0.0 and m["robust_relative@1"]["value"] == 0.0
    n_flip = m["adapted"]["n"]
    assert n_flip >= 4 and m["adapted"]["value"] == 1.0 and m["reused"]["value"] == 0.0
    assert attentive["breakdown"]["underspec_deleted"]["90%"]["pass@1"]["value"] == 1.0
    assert (tmp_path / "a/code_mutations.png").exists()

    monkeypatch.setattr(CodeSolver, "attentive", False)  # recognises the function, ignores the statement
    lazy = run(task, "tiny-random", "code_solver", limit=6, cache=False, out=tmp_path / "b").summary
    assert lazy["metrics"]["reused"]["value"] == 1.0 and lazy["metrics"]["adapted"]["value"] == 0.0
    assert lazy["breakdown"]["mutation"]["flip"]["pass@1"]["value"] == 0.0  # scored on the flipped task's tests
    recs = [json.loads(x) for x in (tmp_path / "b/records.jsonl").read_text().splitlines()]
    flips = [r for r in recs if r["mutation"] == "flip"]
    assert all(r["verdicts"]["original"] == ["pass"] and r["verdicts"]["flipped"] == ["fail"] for r in flips)
    assert all(r["isolation"] in ("bwrap", "unshare", "none") and r["time_limit"] >= 3.0 for r in recs)


def test_code_agent_feedback_loop_and_equal_budget_baseline(tmp_path, solver, monkeypatch):
    from evalkit import run

    monkeypatch.setattr(CodeSolver, "fix_after_feedback", True)
    task = _task(tmp_path, "code_agent", max_turns=3)
    s = run(task, "tiny-random", "code_solver", limit=4, cache=False, out=tmp_path / "ag").summary
    turns = s["breakdown"]["turn"]
    assert turns["1"]["pass@1"]["value"] == 0.0 and turns["2"]["pass@1"]["value"] == 1.0 and turns["3"]["pass@1"]["value"] == 1.0
    assert s["metrics"]["solved_rate"]["value"] == 1.0 and s["metrics"]["mean_turns"]["value"] == 2.0
    assert s["metrics"]["resample_baseline_pass"]["value"] == 0.0  # fresh samples never see the feedback
    assert s["metrics"]["tokens_per_solved"]["value"] == pytest.approx(2 * 5)  # 2 turns x 5 tokens per solved task
    assert s["exit_status"] == {"solved_visible": 4}
    recs = [json.loads(x) for x in (tmp_path / "ag/records.jsonl").read_text().splitlines()]
    t1 = next(r for r in recs if r.get("turn") == 1)
    assert "Expected:" in t1["feedback"] and "Got: None" in t1["feedback"]
    t2 = next(r for r in recs if r.get("turn") == 2 and r["id"] == t1["id"])
    assert t2["messages"][-1] == ["user", t1["feedback"]] and t2["messages"][-2][0] == "assistant"


def test_code_tasks_run_on_tiny_random_through_the_cli(tmp_path):
    task = _task(tmp_path, "code_mutations", mutations={"underspec": [5], "flip": [0]}, max_tokens=24)
    res = subprocess.run([EVALKIT, "run", task, "-m", "tiny-random", "--limit", "2", "-q", "-o", "cm"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    s = json.loads((tmp_path / "cm/summary.json").read_text())
    assert s["metrics"]["pass@1"]["value"] == 0.0 and s["metrics"]["broken"]["value"] == 1.0  # random weights write no code
    agent = _task(tmp_path, "code_agent", max_turns=2, max_tokens=16)
    res = subprocess.run([EVALKIT, "run", agent, "-m", "tiny-random", "--limit", "2", "-q", "-o", "ag"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    s = json.loads((tmp_path / "ag/summary.json").read_text())
    assert s["metrics"]["mean_turns"]["value"] == 2.0 and s["exit_status"] == {"max_turns": 2}
    bad = _task(tmp_path, "code_mutations", mutations={"flipp": [0]})
    res = subprocess.run([EVALKIT, "run", bad, "-m", "tiny-random", "-q"], capture_output=True, text=True)
    assert res.returncode == 2 and "unknown mutation 'flipp'" in res.stderr
