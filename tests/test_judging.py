"""Pairwise judging: strict parsers, both-order protocol, judge-quality metrics, data loaders, and
the judge / tournament kinds end to end (with tiny-random through the CLI, and with a scripted
judge whose preferences are known)."""

import json
import math
import re
import subprocess

import numpy as np
import pytest

from conftest import EVALKIT
from evalkit.errors import EvalkitError
from evalkit.judging import (Game, JudgePair, combine_games, game_request, load_template, orders, parse_arena_hard,
                             parse_mt_bench, parse_pandalm, read_game)
from evalkit.judging.data import load_pairs
from evalkit.judging.quality import cohen_kappa, confusion, judge_quality, macro_prf
from evalkit.requests import Generation, GenerationConfig


# ------------------------------------------------------------------ parsers


@pytest.mark.parametrize("text,expected", [
    ("1\n### Reason: more accurate", ("A", 1)),
    ("2", ("B", 1)),
    ("Tie\n### Reason: same", ("tie", 0)),
    ("  \n\ntie", ("tie", 0)),
    ("### Evaluation:\n2\n### Reason: x", ("B", 1)),
    ("<s>1</s>", ("A", 1)),
    ("Response 1 is better", (None, 0)),   # PandaLM's own parser would call this a Tie
    ("3", (None, 0)),
    ("", (None, 0)),
])
def test_parse_pandalm(text, expected):
    assert parse_pandalm(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("A is more helpful. [[A]]", ("A", 1)),
    ("[[B]]", ("B", 1)),
    ("Both fine. [[C]]", ("tie", 0)),
    ("I'd say [[A]]... no wait, [[B]]", (None, 0)),  # two different verdicts: unparsed, not the first found
    ("[[A]] and again [[A]]", ("A", 1)),
    ("A is better", (None, 0)),
    ("[A]", (None, 0)),
])
def test_parse_mt_bench(text, expected):
    assert parse_mt_bench(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("My final verdict is tie: [[A=B]]", ("tie", 0)),
    ("[[A>>B]]", ("A", 2)),
    ("[[A>B]]", ("A", 1)),
    ("[[B>A]]", ("B", 1)),
    ("[[B>>A]]", ("B", 2)),
    ("first [[A>B]] then final [[B>>A]]", ("B", 2)),  # Arena-Hard takes the last label
    ("[[A>>>B]]", (None, 0)),
    ("A is better", (None, 0)),
])
def test_parse_arena_hard(text, expected):
    assert parse_arena_hard(text) == expected


def test_swapped_game_maps_back_to_pair_orientation():
    tpl = load_template("mt_bench")
    assert read_game(tpl, "AB", "[[A]]").verdict == "A"
    assert read_game(tpl, "BA", "[[A]]").verdict == "B"  # slot A held response_b
    assert read_game(tpl, "BA", "[[C]]").verdict == "tie"
    assert read_game(tpl, "BA", "garbage").verdict is None


def test_game_request_swaps_the_responses():
    tpl = load_template("pandalm")
    pair = JudgePair("Say hi.", "RESP-ONE", "RESP-TWO", input="context here")
    cfg = GenerationConfig(max_tokens=8)
    ab = game_request(tpl, pair, "AB", cfg, "raw").prompt
    ba = game_request(tpl, pair, "BA", cfg, "raw").prompt
    assert ab.index("RESP-ONE") < ab.index("RESP-TWO") and ba.index("RESP-TWO") < ba.index("RESP-ONE")
    assert "### Input:\ncontext here" in ab and "with an Input" in ab
    chat = game_request(load_template("mt_bench"), pair, "AB", cfg, "chat")
    assert chat.messages[0][0] == "system" and "[[C]]" in chat.messages[0][1]


def test_combine_rules():
    g = lambda o, v: Game(o, "", v)  # noqa: E731
    agree = combine_games([g("AB", "A"), g("BA", "A")], "conservative")
    assert (agree.winner, agree.score, agree.consistent) == ("A", 1.0, True)
    flip = combine_games([g("AB", "A"), g("BA", "B")], "conservative")  # position bias: each order picks slot A
    assert (flip.winner, flip.score, flip.consistent) == ("tie", 0.5, False)
    assert combine_games([g("AB", "A"), g("BA", None)], "conservative").winner is None
    avg = combine_games([g("AB", "A"), g("BA", "tie")], "average")
    assert (avg.winner, avg.score) == ("A", 0.75)
    assert combine_games([g("AB", None), g("BA", "B")], "average").winner == "B"
    assert combine_games([g("AB", None), g("BA", None)], "average").winner is None
    assert combine_games([g("AB", "B"), g("BA", "A")], "average").winner == "tie"
    # FastChat's rule, as the docs now say: a decisive game against a tie is a tie (PandaLM's paper keeps the first)
    assert combine_games([g("AB", "A"), g("BA", "tie")], "conservative").winner == "tie"


def test_orders_protocols_are_seeded():
    assert orders("both", 0, "x") == ("AB", "BA") and orders("fixed", 0, "x") == ("AB",)
    picks = [orders("random", 3, f"p{i}")[0] for i in range(200)]
    assert picks == [orders("random", 3, f"p{i}")[0] for i in range(200)]
    assert 70 < picks.count("BA") < 130
    with pytest.raises(EvalkitError):
        orders("sometimes", 0, "x")


# ------------------------------------------------------------------ judge-quality metrics


def test_quality_metrics_on_a_hand_computed_confusion_matrix():
    # gold   A A A A B B B T T T
    # judge  A A B - B B A T A B       (- = unparsed)
    gold = list("AAAABBB") + ["tie"] * 3
    pred = ["A", "A", "B", None, "B", "B", "A", "tie", "A", "B"]
    m = confusion(gold, pred)
    assert m[:3].tolist() == [[2, 1, 0, 1], [1, 2, 0, 0], [1, 1, 1, 0]]
    # per class: A P=2/4 R=2/4 F=.5; B P=2/4 R=2/3 F=4/7; tie P=1/1 R=1/3 F=.5
    p, r, f = macro_prf(m)
    assert p == pytest.approx((0.5 + 0.5 + 1) / 3)
    assert r == pytest.approx((0.5 + 2 / 3 + 1 / 3) / 3)
    assert f == pytest.approx((0.5 + 4 / 7 + 0.5) / 3)
    # kappa: po = 5/10; pe = sum_c gold_c * pred_c = .4*.4 + .3*.4 + .3*.1 (unparsed has no gold mass)
    pe = 0.4 * 0.4 + 0.3 * 0.4 + 0.3 * 0.1
    assert cohen_kappa(m) == pytest.approx((0.5 - pe) / (1 - pe))
    q = judge_quality(gold, pred, consistent=[True, False, None, True], n_games=20, n_unparsed_games=3)
    assert q["accuracy"]["value"] == 0.5 and q["accuracy"]["n"] == 10
    assert q["agreement_with_tie"]["value"] == pytest.approx(5 / 9) and q["agreement_with_tie"]["n"] == 9
    # without ties: drop gold ties and tie verdicts -> pairs (A,A)(A,A)(A,B)(B,B)(B,B)(B,A): 4/6
    assert q["agreement_without_tie"]["value"] == pytest.approx(4 / 6) and q["agreement_without_tie"]["n"] == 6
    assert q["position_consistency"]["value"] == pytest.approx(2 / 3) and q["position_consistency"]["n"] == 3
    assert q["parse_failure_rate"]["value"] == pytest.approx(0.15)
    assert q["macro_f1"]["ci_low"] <= q["macro_f1"]["value"] <= q["macro_f1"]["ci_high"]


def test_quality_agrees_with_sklearn():
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    gold = list(rng.choice(["A", "B", "tie"], 300))
    pred = [g if rng.random() < 0.6 else rng.choice(["A", "B", "tie"]) for g in gold]
    m = confusion(gold, pred)
    assert macro_prf(m)[2] == pytest.approx(sklearn.f1_score(gold, pred, average="macro"))
    assert macro_prf(m)[0] == pytest.approx(sklearn.precision_score(gold, pred, average="macro"))
    assert cohen_kappa(m) == pytest.approx(sklearn.cohen_kappa_score(gold, pred))


# ------------------------------------------------------------------ data loaders


def test_loaders_pandalm_judgebench_evalkit(tmp_path):
    panda = tmp_path / "testset-v1.json"
    panda.write_text(json.dumps([
        {"idx": 0, "motivation_app": "x", "cmp_key": "opt-7b_pythia-6.9b", "instruction": "i0", "input": "", "response1": "a",
         "response2": "b", "annotator1": 1, "annotator2": 1, "annotator3": 0},
        {"idx": 1, "cmp_key": "k", "instruction": "i1", "input": "ctx", "response1": "a", "response2": "b",
         "annotator1": 0, "annotator2": 2, "annotator3": 0},
        {"idx": 2, "cmp_key": "k", "instruction": "i2", "input": "", "response1": "a", "response2": "b",
         "annotator1": 0, "annotator2": 1, "annotator3": 2},  # no majority: skipped
    ]))
    rows = load_pairs(panda)
    assert [(r["id"], r["label"]) for r in rows] == [("0", "A"), ("1", "tie")]
    assert all(r["coerced"] == [] for r in rows)
    jb = tmp_path / "judgebench.jsonl"
    jb.write_text("\n".join(json.dumps({"pair_id": f"p{i}", "original_id": "o", "source": "mmlu-pro-law", "question": "q",
                                        "response_model": "gpt-4o", "response_A": "x", "response_B": "y", "label": lab})
                            for i, lab in enumerate(["A>B", "B>A"])))
    assert [r["label"] for r in load_pairs(jb)] == ["A", "B"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "1", "instruction": "i", "response_a": "a", "response_b": "b", "label": "C"}) + "\n")
    with pytest.raises(EvalkitError, match=r"bad.jsonl:1: field 'label'"):
        load_pairs(bad)


# The quirks of PandaLM's released data/testset-v1.json (issue 16: "item 157: field 'response1': Input
# should be a valid string"): responses that are JSON booleans or numbers rather than strings.
PANDALM_QUIRKS = [
    {"idx": 0, "motivation_app": "Grammarly", "cmp_key": "llama-7b_bloom-7b", "instruction": "Is water wet? Answer true or false.",
     "input": "", "response1": True, "response2": "false", "annotator1": 1, "annotator2": 1, "annotator3": 1},
    {"idx": 157, "motivation_app": "Wolfram", "cmp_key": "opt-7b_pythia-6.9b", "instruction": "What is 6 times 7?",
     "input": "", "response1": 42, "response2": 41.5, "annotator1": 1, "annotator2": 1, "annotator3": 0},
    {"idx": 158, "cmp_key": "opt-7b_pythia-6.9b", "instruction": "Name a colour.", "input": "", "response1": "red",
     "response2": False, "annotator1": 0, "annotator2": 0, "annotator3": 2},
]


def test_pandalm_file_with_scalar_responses_loads_and_counts_coercions(tmp_path):
    panda = tmp_path / "testset-v1.json"
    panda.write_text(json.dumps(PANDALM_QUIRKS))
    rows = load_pairs(panda)
    # the text PandaLM's own f-string prompt shows the judge
    assert [(r["response_a"], r["response_b"]) for r in rows] == [("True", "false"), ("42", "41.5"), ("red", "False")]
    assert [r["coerced"] for r in rows] == [["response1"], ["response1", "response2"], ["response2"]]
    assert [r["label"] for r in rows] == ["A", "A", "tie"]
    (tmp_path / "judge.yaml").write_text(f"task: judge_p\nkind: judge\ndata: {panda}\ntemplate: pandalm\nmax_tokens: 4\n")
    res = subprocess.run([EVALKIT, "run", "judge.yaml", "-m", "tiny-random", "-q", "-o", "out"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    s = json.loads((tmp_path / "out/summary.json").read_text())
    assert s["data"] == {"pairs": 3, "pairs_with_coerced_values": 3, "coerced_values": 4}
    # a value that is no text at all is still a one-line error naming the item and field
    panda.write_text(json.dumps([{**PANDALM_QUIRKS[0], "response1": ["a", "list"]}]))
    with pytest.raises(EvalkitError, match="item 0: field 'response1'"):
        load_pairs(panda)


def test_template_errors(tmp_path):
    with pytest.raises(EvalkitError, match="did you mean"):
        load_template("mt_bnch")
    t = tmp_path / "t.yaml"
    t.write_text("id: x\nformat: mt_bench\nprompt: '{instruction} {nope}'\n")
    with pytest.raises(EvalkitError, match="field 'prompt'"):
        load_template(str(t))
    t.write_text("id: x\nformat: stars\nprompt: '{instruction}'\n")
    with pytest.raises(EvalkitError, match="field 'format'"):
        load_template(str(t))


# ------------------------------------------------------------------ kinds end to end

PAIRS = [
    {"id": "j1", "instruction": "What is 3*4?", "response_a": "12", "response_b": "13", "label": "A", "family": "correctness"},
    {"id": "j2", "instruction": "What is 5+5?", "response_a": "11", "response_b": "10", "label": "B", "family": "correctness"},
    {"id": "j3", "instruction": "Capital of Italy?", "response_a": "Rome.", "response_b": "Rome. I hope this helps!",
     "label": "tie", "family": "verbosity_tie"},
    {"id": "j4", "instruction": "Reply in lowercase.", "response_a": "OK SURE", "response_b": "ok sure", "label": "B",
     "family": "instruction_following"},
]


def _write(tmp_path, name, rows):
    (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_judge_task_cli_on_tiny_random(tmp_path):
    _write(tmp_path, "pairs.jsonl", PAIRS)
    (tmp_path / "judge.yaml").write_text("task: judge_t\nkind: judge\ndata: pairs.jsonl\ntemplate: pandalm\nmax_tokens: 6\n")
    res = subprocess.run([EVALKIT, "run", "judge.yaml", "-m", "tiny-random", "-q", "-o", "out"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    s = json.loads((tmp_path / "out/summary.json").read_text())
    for k in ("accuracy", "macro_f1", "cohen_kappa", "position_consistency", "parse_failure_rate", "agreement_with_tie",
              "agreement_without_tie"):
        assert k in s["metrics"]
    assert s["metrics"]["accuracy"]["n"] == 4
    assert s["judge"]["template"] == "pandalm" and len(s["judge"]["template_sha256"]) == 64
    recs = [json.loads(x) for x in (tmp_path / "out/records.jsonl").read_text().splitlines()]
    assert all(len(r["games"]) == 2 for r in recs) and (tmp_path / "out/confusion.png").exists()
    # a random tiny model does not produce PandaLM verdicts: every failure is counted, none became a tie
    n_unparsed = sum(g["verdict"] is None for r in recs for g in r["games"])
    assert s["metrics"]["parse_failure_rate"]["value"] == pytest.approx(n_unparsed / 8)
    assert all(r["verdict"] is None for r in recs if any(g["verdict"] is None for g in r["games"]))


class ScriptedBackend:
    """A stand-in model with known behaviour: as a player it answers with a length set by the
    system prompt; as a judge it prefers the longer response, with an optional bias for slot A."""

    name = "scripted"
    remote = False
    slot_a_bias = 0.0

    def __init__(self, model):
        self.model = model

    def identity(self):
        return {"model": "scripted", "backend": "scripted", "bias": self.slot_a_bias}

    def _answer(self, req):
        msgs = dict(req.messages or ())
        text = req.prompt if req.prompt is not None else msgs.get("user", "")
        m = re.search(r"### Response 1:\n(.*?)\n\n### Response 2:\n(.*?)\n\n### Evaluation:", text, re.S)
        if m:
            a, b = m.group(1), m.group(2)
            if self.slot_a_bias and len(a) + 1000 * self.slot_a_bias >= len(b):
                return "1"
            return "1" if len(a) > len(b) else "2" if len(b) > len(a) else "Tie"
        words = int(re.search(r"(\d+) words", msgs.get("system", "0 words")).group(1))
        return " ".join(["word"] * words)

    def generate(self, requests, on_result=None):
        out = []
        for i, r in enumerate(requests):
            g = Generation((self._answer(r),), ((1, 2),), 3, ("stop",))
            out.append(g)
            if on_result:
                on_result(i, g)
        return out

    def close(self):
        pass


@pytest.fixture
def scripted(register):
    from evalkit.registry import BACKENDS

    register(BACKENDS, "scripted", ScriptedBackend)
    return ScriptedBackend


def _tournament(tmp_path, players, pairing="swiss", protocol="both", extra=1):
    _write(tmp_path, "prompts.jsonl", [{"id": f"p{i}", "instruction": f"Question {i}?"} for i in range(6)])
    import yaml

    (tmp_path / "tour.yaml").write_text(yaml.safe_dump({
        "task": "tour", "kind": "tournament", "data": "prompts.jsonl", "pairing": pairing, "extra_rounds": extra,
        "prompts_per_match": 3, "judge_protocol": protocol, "n_boot": 100,
        "players": [{"name": n, "system_prompt": f"Use {w} words."} for n, w in players]}))


def test_tournament_ranks_by_the_judges_known_preference(tmp_path, scripted):
    from evalkit import run

    players = [("p1", 1), ("p2", 2), ("p3", 3), ("p4", 5), ("p5", 8)]
    _tournament(tmp_path, players, extra=2)
    r = run("tour.yaml", "tiny-random", "scripted", cache=False, out=tmp_path / "out")
    entries = r.summary["entries"]
    assert [e["model"] for e in entries] == ["p5", "p4", "p3", "p2", "p1"]  # the judge prefers longer answers
    assert r.summary["metrics"]["parse_failure_rate"]["value"] == 0.0
    assert r.summary["metrics"]["position_consistency"]["value"] == 1.0  # an unbiased judge agrees with itself
    recs = [json.loads(x) for x in (tmp_path / "out/records.jsonl").read_text().splitlines()]
    battles = [x for x in recs if x["type"] == "battle"]
    # 5 players: ceil(log2 5) + 2 = 5 rounds of 2 matches (one bye each round), 3 prompts a match
    assert sorted({b["round"] for b in battles}) == [0, 1, 2, 3, 4] and len(battles) == 5 * 2 * 3
    met = [frozenset((b["model_a"], b["model_b"])) for b in battles]
    assert all(met.count(m) == 3 for m in set(met))  # no rematch: each pair met in one match only
    # the round robin would have judged all 10 pairs; Swiss played 10 matches over 5 rounds here
    again = run("tour.yaml", "tiny-random", "scripted", cache=False, out=tmp_path / "out")
    assert again.summary == r.summary  # complete run: reused, nothing redone


def test_tournament_position_bias_shows_as_inconsistency(tmp_path, scripted, monkeypatch):
    from evalkit import run

    monkeypatch.setattr(ScriptedBackend, "slot_a_bias", 1.0)  # always answers "1": pure position bias
    _tournament(tmp_path, [("a", 1), ("b", 4), ("c", 9), ("d", 2)], pairing="round_robin")
    r = run("tour.yaml", "tiny-random", "scripted", cache=False, out=tmp_path / "out")
    assert r.summary["metrics"]["position_consistency"]["value"] == 0.0
    recs = [json.loads(x) for x in (tmp_path / "out/records.jsonl").read_text().splitlines()]
    assert {x["winner"] for x in recs if x["type"] == "battle"} == {"tie"}  # conservative rule: every flip is a tie
    # issue 16: the tournament reports its judge's slot preference next to the ranking and warns
    assert r.summary["metrics"]["slot_a_rate"]["value"] == 1.0 and r.summary["judge"]["position_consistency"] == 0.0
    assert r.summary["judge"]["warning"].startswith("position-locked judge: slot A (first) won 100%")
    assert {e["degenerate_resamples"] for e in r.summary["entries"]} == {r.summary["method"]["degenerate_resamples"]}


def test_rank_and_leaderboard_cli(tmp_path, scripted):
    from evalkit import run

    _tournament(tmp_path, [("p1", 1), ("p2", 3), ("p3", 6), ("p4", 2)])
    run("tour.yaml", "tiny-random", "scripted", cache=False, out=tmp_path / "runs/tour")
    for method in ("bt", "elo", "winrate"):
        res = subprocess.run([EVALKIT, "rank", "runs/tour", "--method", method, "-o", f"rank_{method}", "--json"],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        doc = json.loads(res.stdout)
        assert doc["entries"][0]["model"] == "p3" and (tmp_path / f"rank_{method}/ratings.png").exists()
        if method == "bt":  # issue 16: the prior and the share of resamples without a finite MLE, in ranking.json
            saved = json.loads((tmp_path / "rank_bt/ranking.json").read_text())
            assert 0 <= saved["method"]["degenerate_resamples"] <= 1 and saved["method"]["prior_ties"] == 1.0
            assert all(e["degenerate_resamples"] == saved["method"]["degenerate_resamples"] for e in saved["entries"])
    res = subprocess.run([EVALKIT, "rank", "runs/tour", "--method", "lc", "--baseline", "p1", "--json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([EVALKIT, "rank", "runs/tour", "--method", "lc"], capture_output=True, text=True)
    assert res.returncode == 2 and "--baseline" in res.stderr
    res = subprocess.run([EVALKIT, "rank", "runs/tour", "--method", "trueskil"], capture_output=True, text=True)
    assert res.returncode == 2 and "unknown ranking method 'trueskil'" in res.stderr
    (tmp_path / "bad.jsonl").write_text('{"model_a": "x", "model_b": "y", "winner": "x"}\n')
    res = subprocess.run([EVALKIT, "rank", "bad.jsonl"], capture_output=True, text=True)
    assert res.returncode == 2 and "bad.jsonl:1: field 'winner'" in res.stderr and "Traceback" not in res.stderr


def test_leaderboard_export_is_a_schema_valid_pure_function_of_the_files(tmp_path, scripted):
    import jsonschema

    from evalkit import run
    from evalkit.leaderboard import schema

    _tournament(tmp_path, [("p1", 1), ("p2", 3), ("p3", 6)])
    run("tour.yaml", "tiny-random", "scripted", cache=False, out=tmp_path / "runs/tour")
    _write(tmp_path, "pairs.jsonl", PAIRS)
    (tmp_path / "judge.yaml").write_text("task: judge_t\nkind: judge\ndata: pairs.jsonl\ntemplate: pandalm\n")
    run("judge.yaml", "tiny-random", "scripted", cache=False, out=tmp_path / "runs/judge")
    lm = tmp_path / "lm/results_2026-01-01T00-00-00.json"
    lm.parent.mkdir()
    lm.write_text(json.dumps({"results": {"arc_easy": {"alias": "arc_easy", "acc,none": 0.61, "acc_stderr,none": 0.01,
                                                       "acc_norm,none": 0.58, "acc_norm_stderr,none": "N/A"}},
                              "config": {"model": "hf", "model_args": "pretrained=org/model"}, "model_name": "org/model",
                              "date": 1767225600.0}))
    args = [EVALKIT, "export", "leaderboard", "runs", str(lm), "-o"]
    assert subprocess.run(args + ["lb1.json"], capture_output=True).returncode == 0
    assert subprocess.run(args + ["lb2.json"], capture_output=True).returncode == 0
    assert (tmp_path / "lb1.json").read_bytes() == (tmp_path / "lb2.json").read_bytes()
    board = json.loads((tmp_path / "lb1.json").read_text())
    jsonschema.validate(board, schema())
    # v2: the tournament is kept as a ranking; the judge run and the lm-eval file are benchmarks of two models
    tour = board["rankings"][0]
    assert tour["method"]["type"] == "bt" and [e["model"] for e in tour["entries"]] == ["p3", "p2", "p1"]
    assert all(e["rank_ub"] <= e["rank"] for e in tour["entries"])
    by_model = {e["model"]: e for e in board["entries"]}
    assert by_model["org/model"]["per_benchmark"]["arc_easy"] == {"value": 0.61, "ci_low": None, "ci_high": None, "n": None,
                                                                  "stderr": 0.01}
    assert {b["name"]: (b["metric"], b["higher_is_better"]) for b in board["benchmarks"]}["arc_easy"] == ("acc", True)
    assert board["judge_quality"]["accuracy"] is not None and board["judge"]["prompt_id"] == "pandalm"
    broken = dict(board, entries=[{"model": "x"}])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema())
    (tmp_path / "junk.json").write_text("{not json")
    res = subprocess.run(args[:3] + ["junk.json", "-o", "lb3.json"], capture_output=True, text=True)
    assert res.returncode == 2 and "junk.json: malformed JSON" in res.stderr


def test_logprob_verdicts_and_the_average_rule_cancel_a_constant_slot_bias():
    from evalkit.judging import read_label_game

    tpl = load_template("pandalm")  # labels 1, 2, Tie
    # the judge puts 0.7 on "1" whatever the order, plus a small real preference for response_a
    lp = lambda p1, p2, pt: [math.log(p1), math.log(p2), math.log(pt)]  # noqa: E731
    ab = read_label_game(tpl, "AB", lp(0.72, 0.18, 0.10))   # response_a in slot 1
    ba = read_label_game(tpl, "BA", lp(0.68, 0.22, 0.10))   # response_b in slot 1
    assert (ab.verdict, ba.verdict) == ("A", "B")  # the argmax label follows the slot: pure position bias
    assert combine_games([ab, ba], "conservative").winner == "tie"
    avg = combine_games([ab, ba], "average")
    assert ab.p_a == pytest.approx(0.72 + 0.05) and ba.p_a == pytest.approx(1 - (0.68 + 0.05))
    assert avg.winner == "A" and avg.score == pytest.approx((0.77 + 0.27) / 2)


class _TieJudge:
    """A judge LM that prefers Tie: P(first token) = 1: .3, 2: .3, "T": .4, then P("ie" | "T") = .5 (Tie is
    two tokens). Summed, log P("Tie") = log .2 < log .3 and Tie never wins; per token it does."""

    name = "fake"

    def render_chat(self, messages, add_generation_prompt=True):
        return "\n".join(c for _, c in messages)

    def loglikelihood(self, requests):
        from evalkit.requests import LoglikelihoodResult

        table = {"1": ([0.3], 1), "2": ([0.3], 1), "Tie": ([0.4, 0.5], 2)}
        return [LoglikelihoodResult(sum(map(math.log, table[r.continuation][0])), table[r.continuation][1], False) for r in requests]


def test_logprob_labels_are_scored_per_token_so_a_tie_preferring_judge_gets_ties():
    from evalkit.judging import judge_pairs, read_label_game

    tpl = load_template("pandalm")
    pairs = [JudgePair("q", "x", "y", id="p1"), JudgePair("q", "u", "v", id="p2")]
    verdicts = judge_pairs(_TieJudge(), pairs, tpl, verdict="logprob", combine="conservative", prompt_format="raw")
    assert [v.winner for v in verdicts] == ["tie", "tie"] and all(v.consistent for v in verdicts)
    # per-token scores: 1, 2: log .3; Tie: (log .4 + log .5) / 2 = log sqrt(.2); the soft preference is their softmax
    w = np.array([0.3, 0.3, math.sqrt(0.2)]) / (0.6 + math.sqrt(0.2))
    g = read_label_game(tpl, "AB", [math.log(0.3), math.log(0.3), math.log(0.2)], [1, 1, 2])
    assert g.verdict == "tie" and g.p_a == pytest.approx(w[0] + w[2] / 2)
    assert read_label_game(tpl, "AB", [math.log(0.3), math.log(0.3), math.log(0.2)]).verdict == "A"  # the old, summed reading


def test_judge_task_logprob_mode_never_leaves_a_verdict_unparsed(tmp_path):
    _write(tmp_path, "pairs.jsonl", PAIRS)
    (tmp_path / "judge.yaml").write_text("task: judge_lp\nkind: judge\ndata: pairs.jsonl\ntemplate: mt_bench\nverdict: logprob\n"
                                         "combine: average\n")
    res = subprocess.run([EVALKIT, "run", "judge.yaml", "-m", "tiny-random", "-q", "-o", "out"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    s = json.loads((tmp_path / "out/summary.json").read_text())
    assert s["metrics"]["parse_failure_rate"]["value"] == 0.0 and s["judge"]["verdict"] == "logprob"
    recs = [json.loads(x) for x in (tmp_path / "out/records.jsonl").read_text().splitlines()]
    for r in recs:
        assert all(0 < g["p_a"] < 1 for g in r["games"])
        assert r["score"] == pytest.approx(sum(g["p_a"] for g in r["games"]) / 2)


def test_tournament_logprob_judge_on_tiny_random(tmp_path):
    _write(tmp_path, "prompts.jsonl", [{"id": f"p{i}", "instruction": f"Question {i}?"} for i in range(4)])
    (tmp_path / "tour.yaml").write_text(
        "task: tour_lp\nkind: tournament\ndata: prompts.jsonl\nprompts_per_match: 2\nmax_tokens: 8\njudge_verdict: logprob\n"
        "judge_combine: average\nn_boot: 20\nplayers:\n  - {name: chat}\n  - {name: raw, prompt_format: raw}\n"
        "  - {name: sys, system_prompt: Be brief.}\n")
    res = subprocess.run([EVALKIT, "run", "tour.yaml", "-m", "tiny-random", "-q", "-o", "out"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    s = json.loads((tmp_path / "out/summary.json").read_text())
    assert s["metrics"]["parse_failure_rate"]["value"] == 0.0
    assert sorted(e["model"] for e in s["entries"]) == ["chat", "raw", "sys"] and (tmp_path / "out/ratings.png").exists()


def test_tournament_with_another_judge_model(tmp_path, tiny_perturbed):
    """`judge_model`: the players are the run's model, the verdicts come from another checkpoint (here
    tiny-random with perturbed weights), which is part of the run identity and the manifest."""
    judge_dir = tiny_perturbed

    _write(tmp_path, "prompts.jsonl", [{"id": f"p{i}", "instruction": f"Question {i}?"} for i in range(4)])
    (tmp_path / "tour.yaml").write_text(
        "task: tour_judge\nkind: tournament\ndata: prompts.jsonl\npairing: round_robin\nprompts_per_match: 2\nmax_tokens: 8\njudge_verdict: logprob\n"
        "judge_combine: average\nn_boot: 20\nplayers:\n  - {name: chat}\n  - {name: raw, prompt_format: raw}\n")

    def run(*extra):
        res = subprocess.run([EVALKIT, "run", "tour.yaml", "-m", "tiny-random", "-q", "--json", *extra], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)["out"]
        battles = [json.loads(x) for x in open(f"{out}/records.jsonl") if '"battle"' in x]
        return out, json.loads(open(f"{out}/summary.json").read()), json.loads(open(f"{out}/manifest.json").read()), battles

    self_out, self_summary, _, self_battles = run()
    out, summary, manifest, battles = run("-T", f"judge_model={judge_dir}")
    assert out != self_out and summary["judge"]["model"] == str(judge_dir) and self_summary["judge"]["model"] == "self"
    assert manifest["models"]["judge"]["path"] == str(judge_dir.resolve())
    assert manifest["models"]["judge"]["weights_hash"] != manifest["model"]["weights_hash"]
    # same players and pairs, another judge: other soft verdicts on the same battles
    key = lambda b: (b["id"], b["variant"])  # noqa: E731
    assert sorted(map(key, battles)) == sorted(map(key, self_battles))
    mine = {key(b): [g["p_a"] for g in b["games"]] for b in self_battles}
    assert all(abs(x - y) > 1e-6 for b in battles for x, y in zip((g["p_a"] for g in b["games"]), mine[key(b)]))

    res = subprocess.run([EVALKIT, "run", "tour.yaml", "-m", "tiny-random", "-q", "-T", f"judge_model={tmp_path / 'nope'}"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
