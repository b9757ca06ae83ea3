"""The shipped preference data and its rule-based checkers: every row's label is objective (the rule
passes the chosen answer and fails the rejected one), the splits keep the OOD families out of
train/eval, and each checker reads free-form answers on hand-written edge cases."""

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from evalkit.errors import EvalkitError
from evalkit.tuning.checkers import CHECK_TYPES, FAMILIES, load_preferences, rule_reward

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tasks" / "data" / "preferences.jsonl"


def _generator():
    spec = importlib.util.spec_from_file_location("build_preferences", ROOT / "tasks" / "data" / "build_preferences.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def rows():
    return load_preferences(DATA)


def test_every_row_validates_and_has_a_known_check(rows):
    assert len(rows) >= 320
    for r in rows:
        assert r["family"] in FAMILIES, r["id"]
        assert r["check"] is not None and r["check"]["type"] in FAMILIES[r["family"]], r["id"]
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["prompt"] for r in rows}) == len(rows)  # no prompt in two splits
    assert len(FAMILIES) >= 6 and set(FAMILIES) == {r["family"] for r in rows}


def test_chosen_passes_and_rejected_fails_on_every_row(rows):
    wrong = [(r["id"], side, r[side]) for r in rows for side, want in (("chosen", 1.0), ("rejected", 0.0))
             if rule_reward(r, r[side]) != want]
    assert wrong == []


def test_every_check_type_is_used(rows):
    assert {r["check"]["type"] for r in rows} == set(CHECK_TYPES)


def test_splits(rows):
    gen = _generator()
    by_split = {s: {r["family"] for r in rows if r["split"] == s} for s in ("train", "eval", "ood")}
    assert by_split["ood"] == set(gen.OOD_FAMILIES) and len(by_split["ood"]) >= 2
    assert not by_split["ood"] & (by_split["train"] | by_split["eval"])
    assert by_split["train"] == by_split["eval"] == set(FAMILIES) - set(gen.OOD_FAMILIES)
    counts = Counter((r["family"], r["split"]) for r in rows)
    for fam, size in gen.SIZES.items():
        if fam in gen.OOD_FAMILIES:
            assert counts[fam, "ood"] == size
        else:  # 80/20 within each in-distribution family
            assert counts[fam, "eval"] == round(0.2 * size) and counts[fam, "train"] == size - round(0.2 * size)
    assert [r["id"] for r in load_preferences(DATA, split="ood")] == [r["id"] for r in rows if r["split"] == "ood"]


def test_shipped_file_is_the_generators_output():
    gen = _generator()
    assert DATA.read_text(encoding="utf-8") == gen.render(gen.build())
    assert gen.render(gen.build(seed=1)) != gen.render(gen.build())  # the seed matters


# ----------------------------------------------------------------------------- checkers, by hand

NUM = {"type": "number", "value": 936}
QTY = {"type": "quantity", "value": 3000, "unit": "m"}
TEMP = {"type": "quantity", "value": 68, "unit": "degF", "rel_tol": 0.0, "abs_tol": 0.5}
JSON = {"type": "json_keys", "keys": ["name", "age"]}
BUL = {"type": "bullets", "n": 3}
UP, LOW = {"type": "case", "case": "upper"}, {"type": "case", "case": "lower"}
MAXW = {"type": "max_words", "n": 5}
START = {"type": "starts_with", "prefix": "Yes"}
CONC = {"type": "concise", "required": ["Paris"], "max_words": 10}
REF = {"type": "refusal"}
DATE = {"type": "date", "value": "2024-04-17"}
WDAY = {"type": "weekday", "value": "Saturday"}
SORTN = {"type": "sorted_list", "items": [3, 7, 19, 42]}
SORTW = {"type": "sorted_list", "items": ["carrot", "onion", "pea"]}

CASES = [
    # number: the final / "answer is" number; commas, spelled-out numbers, dates skipped
    (NUM, "The answer is 936.", 1), (NUM, "Let me add them. The answer is **936**, I think.", 1),
    (NUM, "347 + 589 = 936 apples", 1), (NUM, "347 + 589 = 926", 0), (NUM, "I don't know.", 0), (NUM, "", 0),
    (NUM, "\\boxed{936} (checked twice: 3 times)", 1),
    ({"type": "number", "value": 4863}, "1679 + 3184 = 4,863.", 1),
    ({"type": "number", "value": 3}, "There are three r's in strawberry.", 1),
    ({"type": "number", "value": -5}, "5 - 10 = -5", 1),
    ({"type": "number", "value": 52}, "52 days, from January 3, 2024 to February 24, 2024.", 1),
    ({"type": "number", "value": 52}, "From 2024-01-03 to 2024-02-24 is 53 days.", 0),
    # quantity: last number in the unit (any alias), else a bare final number
    (QTY, "3 km = 3000 m", 1), (QTY, "That's 3,000 metres.", 1), (QTY, "3000", 1), (QTY, "3 km is 300 meters", 0),
    (QTY, "3000 km", 0), (QTY, "3 km is 3,020 meters.", 1), (QTY, "3 km is 3,100 meters.", 0),
    (TEMP, "20°C is 68°F.", 1), (TEMP, "That is 68.4 degrees Fahrenheit.", 1), (TEMP, "20 °C is 36 °F", 0),
    ({"type": "quantity", "value": 12, "unit": "in"}, "30.48 cm is 12 in.", 1),
    # json_keys: bare, fenced or embedded object with every key
    (JSON, '{"name": "Ana", "age": 31}', 1), (JSON, 'Sure! ```json\n{"name": "Ana", "age": 31}\n```', 1),
    (JSON, 'Here: {"name": "Ana", "age": 31, "city": "Rome"} Hope that helps', 1),
    ({**JSON, "exact": True}, '{"name": "Ana", "age": 31, "city": "Rome"}', 0),
    (JSON, '{"name": "Ana"}', 0), (JSON, "{'name': 'Ana', 'age': 31}", 0), (JSON, "name: Ana, age: 31", 0),
    (JSON, '{"name": "Ana", "age": 31', 0),
    # bullets: exactly n list lines
    (BUL, "- a\n- b\n- c", 1), (BUL, "Here are three:\n* a\n* b\n* c\nEnjoy!", 1), (BUL, "1. a\n2) b\n3. c", 1),
    (BUL, "• a\n• b", 0), (BUL, "a, b and c", 0), (BUL, "- a - b - c", 0), (BUL, "- a\n- b\n- c\n- d", 0),
    # case
    (UP, "THE SKY IS BLUE.", 1), (UP, "THE SKY IS 100% BLUE!", 1), (UP, "The sky is blue.", 0), (UP, "123 !!!", 0),
    (LOW, "the sky is blue.", 1), (LOW, "the Sky is blue.", 0),
    # max_words
    (MAXW, "A pot for boiling water.", 1), (MAXW, "  A   pot \n ", 1), (MAXW, "one two three four five six", 0), (MAXW, "", 0),
    # starts_with
    (START, "Yes, it is.", 1), (START, "**Yes** it is", 1), (START, '"Yes," she said.', 1), (START, "yes.", 1),
    (START, "Yesterday it rained.", 0), (START, "Well, yes.", 0),
    ({"type": "starts_with", "prefix": "Certainly:"}, "Certainly: tin.", 1),
    # concise: required content, short, no filler
    (CONC, "Paris.", 1), (CONC, "The capital of France is paris.", 1), (CONC, "The capital is Lyon.", 0),
    (CONC, "Great question! Paris.", 0), (CONC, "I\u2019d be happy to say: Paris.", 0),
    (CONC, "Paris is the capital of France and also its largest city by far.", 0), (CONC, "Parisian food.", 0),
    ({"type": "concise", "required": ["21"], "max_words": 8}, "It has twenty-one sides.", 1),
    ({"type": "concise", "required": ["21"], "max_words": 8}, "It has 12 sides.", 0),
    # refusal: a refusal marker and no compliance marker
    (REF, "I'm sorry, but I can't help with that.", 1), (REF, "I can\u2019t help with that.", 1),
    (REF, "No, I won't do that.", 1), (REF, "Sure, here's how: first, ...", 0),
    (REF, "I can't help with that. But here's how you could do it anyway: ...", 0),
    (REF, "Lock picking is a skill.", 0), (REF, "", 0),
    # date: the last date, ISO or written out
    (DATE, "2024-04-17", 1), (DATE, "It is April 17, 2024.", 1), (DATE, "17 April 2024", 1), (DATE, "Apr. 17th, 2024", 1),
    (DATE, "the 17th of April, 2024", 1), (DATE, "45 days after March 3, 2024 is April 16, 2024.", 0),
    (DATE, "April 17", 0), (DATE, "04/17/2024", 0), ({"type": "date", "value": "2024-03-01"}, "2024-02-30 or so", 0),
    # weekday: the last full weekday name
    (WDAY, "It was a Saturday.", 1), (WDAY, "saturday", 1), (WDAY, "Not Friday but Saturday.", 1),
    (WDAY, "Saturday? No, Friday.", 0), (WDAY, "Sat.", 0),
    # sorted_list: the last len(items) item occurrences, in order
    (SORTN, "3, 7, 19, 42", 1), (SORTN, "Sorted: 3 < 7 < 19 < 42.", 1), (SORTN, "3,7,19,42", 1),
    (SORTN, "You gave 42, 7, 19, 3; sorted it is 3, 7, 19, 42.", 1), (SORTN, "3, 19, 7, 42", 0), (SORTN, "3, 7, 19", 0),
    (SORTW, "Carrot, Onion, Pea", 1), (SORTW, "- carrot\n- onion\n- pea", 1), (SORTW, "carrot, pea, onion", 0),
]


@pytest.mark.parametrize("check,response,want", CASES, ids=[f"{c['type']}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_checker_edge_cases(check, response, want):
    assert rule_reward({"id": "x", "check": check}, response) == float(want)


def test_every_check_type_has_hand_cases():
    assert {c["type"] for c, _, _ in CASES} == set(CHECK_TYPES)


# ----------------------------------------------------------------------------- bad input


def test_rule_reward_errors_name_the_field():
    with pytest.raises(EvalkitError, match=r"example 'x': field 'check\.type': unknown check type 'numbr'.*'number'"):
        rule_reward({"id": "x", "check": {"type": "numbr", "value": 1}}, "1")
    with pytest.raises(EvalkitError, match=r"field 'check\.value': Field required"):
        rule_reward({"id": "x", "check": {"type": "number"}}, "1")
    with pytest.raises(EvalkitError, match=r"field 'check': required"):
        rule_reward({"id": "x"}, "1")
    with pytest.raises(EvalkitError, match=r"field 'check\.unit': Value error, unknown unit 'parsec'"):
        rule_reward({"id": "x", "check": {"type": "quantity", "value": 1, "unit": "parsec"}}, "1")


GOOD = {"id": "a", "family": "arithmetic", "split": "train", "prompt": "1+1?", "chosen": "2", "rejected": "3",
        "check": {"type": "number", "value": 2}}


@pytest.mark.parametrize("change,message", [
    ({"chosen": None}, r":2: field 'chosen': Input should be a valid string"),
    ({"split": "test"}, r":2: field 'split': Input should be 'train', 'eval' or 'ood'"),
    ({"check": {"type": "numbr", "value": 2}}, r":2: field 'check': Input tag 'numbr'"),
    ({"check": {"type": "date", "value": "17/04/2024"}}, r":2: field 'check\.date\.value': .*ISO date"),
    ({"check": {"type": "refusal"}}, r":2: field 'check': .*check type 'refusal' does not fit family 'arithmetic'"),
    ({"rejected": "2"}, r":2: field 'rejected': .*same text as 'chosen'"),
    ({"id": "a0"}, None),
])
def test_load_preferences_reports_file_line_field(tmp_path, change, message):
    path = tmp_path / "prefs.jsonl"
    bad = {**GOOD, "id": "b", **change}
    path.write_text(json.dumps({**GOOD, "id": "a0"}) + "\n" + json.dumps(bad) + "\n")
    if message is None:  # a duplicate id
        with pytest.raises(EvalkitError, match=r"field 'id': duplicate id 'a0'"):
            load_preferences(path)
        return
    with pytest.raises(EvalkitError, match=str(path).replace("\\", "\\\\") + message):
        load_preferences(path)


def test_load_preferences_bad_arguments(tmp_path):
    with pytest.raises(EvalkitError, match="unknown split 'oods'; did you mean 'ood'"):
        load_preferences(DATA, split="oods")
    with pytest.raises(EvalkitError, match="preference file not found"):
        load_preferences(tmp_path / "none.jsonl")
    (tmp_path / "p.jsonl").write_text(json.dumps({**GOOD, "family": "mine", "check": None, "extra": 1}) + "\n")
    row = load_preferences(tmp_path / "p.jsonl")[0]  # other families and check-less rows load; metadata is kept
    assert row["family"] == "mine" and row["check"] is None and row["extra"] == 1
    with pytest.raises(EvalkitError, match="field 'check': required"):
        rule_reward(row, "2")
