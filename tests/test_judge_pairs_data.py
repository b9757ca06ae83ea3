"""Validates tasks/data/judge_pairs.jsonl, the project's labelled pairwise-judging set.

Checks the schema, the A/B and padded-slot balance, that each instruction-following row's constraint is
met by the labelled response and broken by the other (independent rule checkers below), that the
Python code-output rows agree with actually running the code, and that verbosity ties really carry the
same content with only filler added."""

from __future__ import annotations

import contextlib
import csv
import difflib
import importlib.util
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tasks" / "data" / "judge_pairs.jsonl"
BUILDER = ROOT / "tasks" / "data" / "build_judge_pairs.py"
FAMILIES = ("correctness", "instruction_following", "verbosity_tie")
REQUIRED = {"id", "family", "instruction", "input", "response_a", "response_b", "label", "note"}


def _load_rows() -> list[dict]:
    with DATA.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


ROWS = _load_rows()


def _rows(family: str) -> list[dict]:
    return [r for r in ROWS if r["family"] == family]


def _good_bad(row: dict) -> tuple[str, str]:
    return (row["response_a"], row["response_b"]) if row["label"] == "A" else (row["response_b"], row["response_a"])


# ---------------------------------------------------------------- constraint checkers (independent of the builder)
def _list_items(text: str) -> list[str]:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    raw = lines if len(lines) > 1 else text.split(",")
    items = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", x).strip().rstrip(".") for x in raw]
    return [x for x in items if x]


def _json_type_ok(value, kind: str) -> bool:
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    raise ValueError(f"unknown json type {kind!r}")


def _json_object(text: str, c: dict) -> bool:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return False
    if not isinstance(obj, dict) or set(obj) != set(c["keys"]):
        return False
    return all(_json_type_ok(obj[k], t) for k, t in c.get("types", {}).items())


def _json_array(text: str, c: dict) -> bool:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return False
    return isinstance(obj, list) and len(obj) == c["n"]


def _bullets(text: str, c: dict) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    bullets = [ln for ln in lines if re.match(r"\s*[-*•]\s+\S", ln)]
    return len(bullets) == c["n"] == len(lines)


def _numbered(text: str, c: dict) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    nums = [int(m.group(1)) for ln in lines if (m := re.match(r"\s*(\d+)[.)]\s+\S", ln))]
    return len(lines) == len(nums) and nums == list(range(1, c["n"] + 1))


def _csv(text: str, c: dict) -> bool:
    rows = list(csv.reader(text.strip().splitlines()))
    return bool(rows) and rows[0] == c["header"] and len(rows) - 1 == c["rows"] and all(len(r) == len(c["header"]) for r in rows)


def _word_re(word: str) -> str:
    return r"\b" + re.escape(word) + r"\b"


CHECKS = {
    "lowercase": lambda t, c: any(ch.isalpha() for ch in t) and t == t.lower(),
    "uppercase": lambda t, c: any(ch.isalpha() for ch in t) and t == t.upper(),
    "max_words": lambda t, c: len(t.split()) <= c["n"],
    "min_words": lambda t, c: len(t.split()) >= c["n"],
    "max_chars": lambda t, c: len(t) <= c["n"],
    "bullet_count": _bullets,
    "numbered_count": _numbered,
    "json_object": _json_object,
    "json_array": _json_array,
    # word boundary after the prefix, so "Not necessarily" does not count as starting with "No"
    "starts_with": lambda t, c: any(re.match(re.escape(p) + r"(?!\w)", t.lstrip()) for p in c["prefixes"]),
    "ends_with": lambda t, c: t.rstrip().endswith(c["suffix"]),
    "include_words": lambda t, c: all(re.search(_word_re(w), t, re.IGNORECASE) for w in c["words"]),
    "exclude_words": lambda t, c: not any(re.search(_word_re(w), t, re.IGNORECASE) for w in c["words"]),
    "no_char": lambda t, c: c["char"] not in t,
    "alphabetical": lambda t, c: len(_list_items(t)) >= 3 and _list_items(t) == sorted(_list_items(t), key=str.casefold),
    "sentence_count": lambda t, c: len([s for s in re.split(r"(?<=[.!?])\s+", t.strip()) if s]) == c["n"],
    "paragraph_count": lambda t, c: len([p for p in re.split(r"\n\s*\n", t.strip()) if p.strip()]) == c["n"],
    "wrapped_in": lambda t, c: len(t.strip()) > 2 and t.strip()[0] == c["char"] == t.strip()[-1],
    "regex_search": lambda t, c: re.search(c["pattern"], t) is not None,
    "regex_fullmatch": lambda t, c: re.fullmatch(c["pattern"], t.strip()) is not None,
    "regex_min_count": lambda t, c: len(re.findall(c["pattern"], t)) >= c["n"],
    "word_min_count": lambda t, c: len(re.findall(_word_re(c["word"]), t, re.IGNORECASE)) >= c["n"],
    "csv": _csv,
    "separated_parts": lambda t, c: len([p for p in re.split(r"\n[ \t]*" + re.escape(c["sep"]) + r"[ \t]*\n", t.strip())
                                         if p.strip()]) == c["n"] and c["sep"] in t,
}


@pytest.mark.parametrize(
    "text, constraint, ok",
    [
        ("all quiet here.", {"type": "lowercase"}, True),
        ("All quiet here.", {"type": "lowercase"}, False),
        ("1 2 3", {"type": "uppercase"}, False),  # no letters: not "all capitals"
        ("- a\n- b\n- c", {"type": "bullet_count", "n": 3}, True),
        ("- a\n- b\nand c", {"type": "bullet_count", "n": 2}, False),  # a stray prose line
        ("1. a\n2. b", {"type": "numbered_count", "n": 2}, True),
        ("1. a\n3. b", {"type": "numbered_count", "n": 2}, False),
        ('{"a": 1, "b": "x"}', {"type": "json_object", "keys": ["a", "b"], "types": {"a": "number"}}, True),
        ('{"a": true, "b": "x"}', {"type": "json_object", "keys": ["a", "b"], "types": {"a": "number"}}, False),
        ('{"a": 1}', {"type": "json_object", "keys": ["a", "b"]}, False),
        ("Not necessarily.", {"type": "starts_with", "prefixes": ["Yes", "No"]}, False),
        ("No, never.", {"type": "starts_with", "prefixes": ["Yes", "No"]}, True),
        ("Oak, ash, birch", {"type": "alphabetical"}, False),
        ("- ash\n- Birch\n- oak", {"type": "alphabetical"}, True),
        ("One. Two! Three?", {"type": "sentence_count", "n": 3}, True),
        ("It cost 3.5 units. Done.", {"type": "sentence_count", "n": 2}, True),
        ("a\n\nb\n \nc", {"type": "paragraph_count", "n": 3}, True),
        ("a scattered Bluebell", {"type": "word_min_count", "word": "blue", "n": 1}, False),
        ("x\n***\ny", {"type": "separated_parts", "sep": "***", "n": 2}, True),
        ("x *** y", {"type": "separated_parts", "sep": "***", "n": 2}, False),
        ("h,c\n1,2\n3,4", {"type": "csv", "header": ["h", "c"], "rows": 2}, True),
        ("h,c\n1,2,3", {"type": "csv", "header": ["h", "c"], "rows": 1}, False),
    ],
)
def test_checkers_on_hand_cases(text, constraint, ok):
    assert bool(CHECKS[constraint["type"]](text, constraint)) is ok


# ---------------------------------------------------------------- schema and balance
def test_schema_and_unique_ids():
    assert len(ROWS) >= 150
    ids = [r["id"] for r in ROWS]
    assert len(set(ids)) == len(ids)
    for r in ROWS:
        where = f"{r.get('id')}"
        assert REQUIRED <= set(r) <= REQUIRED | {"constraint"}, where
        assert re.fullmatch(r"jp-\d{4}", r["id"]), where
        assert r["family"] in FAMILIES, where
        for k in ("instruction", "response_a", "response_b", "note"):
            assert isinstance(r[k], str) and r[k].strip() == r[k] and r[k], (where, k)
        assert isinstance(r["input"], str), where
        assert r["label"] == ("tie" if r["family"] == "verbosity_tie" else r["label"]) and r["label"] in ("A", "B", "tie"), where
        assert ("constraint" in r) == (r["family"] == "instruction_following"), where
        assert r["response_a"] != r["response_b"], where
        if r["family"] != "instruction_following":  # there, layout alone may be what the constraint is about
            assert " ".join(r["response_a"].split()) != " ".join(r["response_b"].split()), where
        # short, realistic responses (a few sentences or a few lines of code)
        assert max(len(r["response_a"]), len(r["response_b"])) <= 450, where


def test_file_is_what_the_builder_writes():
    spec = importlib.util.spec_from_file_location("build_judge_pairs", BUILDER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert DATA.read_text(encoding="utf-8") == mod.render(mod.build_rows())


def test_family_sizes_and_label_balance():
    counts = Counter(r["family"] for r in ROWS)
    assert all(counts[f] >= 40 for f in FAMILIES), counts
    assert max(counts.values()) - min(counts.values()) <= 0.15 * len(ROWS)  # roughly equal families
    non_tie = [r for r in ROWS if r["family"] != "verbosity_tie"]
    assert all(r["label"] in ("A", "B") for r in non_tie)
    assert 0.4 <= sum(r["label"] == "A" for r in non_tie) / len(non_tie) <= 0.6
    for fam in ("correctness", "instruction_following"):
        rows = _rows(fam)
        assert 0.4 <= sum(r["label"] == "A" for r in rows) / len(rows) <= 0.6, fam
    ties = _rows("verbosity_tie")
    padded_in_a = sum(len(r["response_a"]) > len(r["response_b"]) for r in ties)
    assert 0.4 <= padded_in_a / len(ties) <= 0.6
    # families interleaved (seeded shuffle), so a prefix of the file still has all three
    assert {r["family"] for r in ROWS[:30]} == set(FAMILIES)


def _norm(s: str) -> str:
    return " ".join(s.casefold().split())


def test_no_near_duplicate_prompts():
    keys = [_norm(r["instruction"] + " || " + r["input"]) for r in ROWS]
    assert len(set(keys)) == len(keys)
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            sm = difflib.SequenceMatcher(None, keys[i], keys[j])
            if sm.real_quick_ratio() > 0.85 and sm.quick_ratio() > 0.85:
                assert sm.ratio() <= 0.85, (ROWS[i]["id"], ROWS[j]["id"])


# ---------------------------------------------------------------- per-family content checks
@pytest.mark.parametrize("row", _rows("instruction_following"), ids=lambda r: r["id"])
def test_instruction_following_constraint_separates_the_pair(row):
    c = row["constraint"]
    assert c["type"] in CHECKS, f"{row['id']}: no checker for constraint type {c['type']!r}"
    good, bad = _good_bad(row)
    assert CHECKS[c["type"]](good, c), f"{row['id']}: the labelled response breaks {c}"
    assert not CHECKS[c["type"]](bad, c), f"{row['id']}: the other response also meets {c}"


def test_instruction_following_uses_many_constraint_types():
    types = Counter(r["constraint"]["type"] for r in _rows("instruction_following"))
    assert len(types) >= 15 and max(types.values()) <= 8, types


CODE_ROWS = [r for r in _rows("correctness") if r["instruction"].startswith("What does this Python")]


@pytest.mark.parametrize("row", CODE_ROWS, ids=lambda r: r["id"])
def test_python_output_rows_match_running_the_code(row):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(row["input"], {})  # fixed, side-effect-free snippets written by the project
    printed = out.getvalue().strip()
    good, bad = _good_bad(row)
    claimed = [re.match(r"It prints (.*?): ", text).group(1) for text in (good, bad)]
    assert claimed[0] == printed and claimed[1] != printed


def test_code_rows_are_present():
    assert len(CODE_ROWS) >= 8


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in re.findall(r"\d+(?:[.,]\d+)*", text)}


def _content_words(text: str) -> set[str]:
    return {w.strip("'-") for w in re.findall(r"[a-z][a-z'-]*", text.casefold()) if len(w.strip("'-")) >= 4}


@pytest.mark.parametrize("row", _rows("verbosity_tie"), ids=lambda r: r["id"])
def test_verbosity_tie_is_same_content_plus_filler(row):
    concise, padded = sorted((row["response_a"], row["response_b"]), key=len)
    # a clear length margin, so a length-biased judge has something to prefer
    assert len(padded) >= 2 * len(concise) and len(padded) - len(concise) >= 80, row["id"]
    # the padded answer keeps every figure and content word of the concise one ...
    assert _numbers(concise) <= _numbers(padded), row["id"]
    assert _content_words(concise.strip("`")) <= _content_words(padded), row["id"]
    # ... and adds no new figure (filler cannot bring new facts with numbers)
    assert _numbers(padded) <= _numbers(concise) | _numbers(row["instruction"]) | _numbers(row["input"]), row["id"]
