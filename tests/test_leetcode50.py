"""The shipped LeetCode-style problem set: schema, references against their own tests, lexical flips
that really separate the two tasks, jargon variants, and a rebuild that reproduces the file."""

from __future__ import annotations

import ast
import copy
import importlib.util
import itertools
import json
import re
import sys
from pathlib import Path

import pytest

from evalkit.code.mutations import jargon_dictionary, replace_word, signature_names

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tasks" / "data" / "leetcode50.jsonl"
ROW_KEYS = {"task_id", "title", "statement", "entry_point", "signature", "reference", "visible_tests", "tests", "flip", "jargon"}
FLIP_KEYS = {"from", "to", "statement", "reference", "visible_tests", "tests"}
ROWS = [json.loads(line) for line in DATA.read_text().splitlines()]
FLIPPED = [r for r in ROWS if r["flip"]]


def ids(rows):
    return [r["task_id"].split("/")[1] for r in rows]


def load(src: str, name: str):
    ns: dict = {}
    exec(compile(src, "<reference>", "exec"), ns)  # project-written reference, not model output
    return ns[name]


def call(fn, args):
    return fn(*copy.deepcopy(args))


def plain_json(x) -> bool:
    if x is None or isinstance(x, (bool, int, str)):
        return True
    if isinstance(x, list):
        return all(plain_json(v) for v in x)
    return False


def test_size_and_coverage():
    assert len(ROWS) >= 50
    assert len(FLIPPED) >= 40
    assert len({r["task_id"] for r in ROWS}) == len(ROWS)
    assert sum(len(r["jargon"]) for r in ROWS) >= len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=ids(ROWS))
def test_schema(row):
    assert set(row) == ROW_KEYS
    slug = row["task_id"].removeprefix("leetcode50/")
    assert row["task_id"] == f"leetcode50/{slug}" and re.fullmatch(r"[a-z0-9_]+", slug)
    assert isinstance(row["title"], str) and row["title"]
    name, params = signature_names(row["signature"])
    assert name == row["entry_point"] and row["signature"].startswith("def ") and row["signature"].endswith(":")
    st = row["statement"]
    assert "Constraints:" in st and "def " not in st and "```" not in st
    # identifiers are written as `code`: the mutations protect and rename them there
    bare = re.sub(r"`[^`]*`", "", st)
    for ident in (name, *params):
        assert not re.search(rf"(?<![\w-]){re.escape(ident)}(?![\w-])", bare), f"bare identifier {ident!r}"
    assert 2 <= len(row["visible_tests"]) <= 3 and len(row["tests"]) >= 8
    for t in row["visible_tests"] + row["tests"]:
        assert set(t) == {"args", "expected"} and isinstance(t["args"], list) and len(t["args"]) == len(params)
        assert plain_json(t["args"]) and plain_json(t["expected"])
    vis = {json.dumps(t["args"]) for t in row["visible_tests"]}
    assert not vis & {json.dumps(t["args"]) for t in row["tests"]}, "a hidden test is also visible"
    # standard library only
    for node in ast.walk(ast.parse(row["reference"])):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            assert all(m.split(".")[0] in sys.stdlib_module_names for m in mods)


@pytest.mark.parametrize("row", ROWS, ids=ids(ROWS))
def test_reference_passes_its_tests(row):
    fn = load(row["reference"], row["entry_point"])
    for t in row["visible_tests"] + row["tests"]:
        assert call(fn, t["args"]) == t["expected"], t


@pytest.mark.parametrize("row", FLIPPED, ids=ids(FLIPPED))
def test_flip_separates_the_tasks(row):
    f = row["flip"]
    assert set(f) == FLIP_KEYS
    assert 2 <= len(f["visible_tests"]) <= 3 and len(f["tests"]) >= 8
    # the flipped statement is the original with the pivotal word swapped, nothing else
    assert f["from"] != f["to"] and replace_word(row["statement"], f["from"], f["to"])[0] == f["statement"]
    ref = load(row["reference"], row["entry_point"])
    fref = load(f["reference"], row["entry_point"])
    for t in f["visible_tests"] + f["tests"]:
        assert plain_json(t["args"]) and plain_json(t["expected"])
        assert call(fref, t["args"]) == t["expected"]
        # inputs where both tasks give the same answer were removed
        assert call(ref, t["args"]) != t["expected"], t
    fails_original = sum(call(fref, t["args"]) != t["expected"] for t in row["tests"])
    assert fails_original >= 1
    assert fails_original >= len(row["tests"]) // 2  # most original hidden tests tell the tasks apart


@pytest.mark.parametrize("row", ROWS, ids=ids(ROWS))
def test_jargon_variants(row):
    d = jargon_dictionary()
    assert row["jargon"], "every statement has at least one dictionary noun"
    for v in row["jargon"]:
        assert set(v) == {"from", "to", "statement"} and d[v["from"]]["to"] == v["to"]
        assert v["statement"] != row["statement"]
        bare = re.sub(r"`[^`]*`|\"[^\"\n]*\"", "", v["statement"])
        assert not re.search(rf"(?<![\w-])({re.escape(v['from'])}|{re.escape(d[v['from']]['plural'])})(?![\w-])", bare, re.I)
        # code spans are untouched
        assert re.findall(r"`[^`]*`", v["statement"]) == re.findall(r"`[^`]*`", row["statement"])


def test_jargon_dictionary_shipped():
    d = jargon_dictionary()
    assert len(d) >= 40
    assert d["character"]["to"] == "grapheme" and d["character"]["to_plural"] == "graphemes"
    assert d["index"]["plural"] == "indices" and d["row"]["to_plural"] == "horizontal strata"
    assert d["frequency"]["plural"] == "frequencies"


def test_rebuild_reproduces_the_shipped_file():
    spec = importlib.util.spec_from_file_location("build_leetcode50", REPO / "tasks" / "data" / "build_leetcode50.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.render(mod.build()) == DATA.read_text()


# ------------------------------------------------------------------ independent checks of the expected values

BY_SLUG = {r["task_id"].split("/")[1]: r for r in ROWS}


def test_known_answers():
    """Textbook answers, worked out by hand, for some visible tests."""
    known = {
        ("max_profit", ((7, 1, 5, 3, 6, 4),)): 5,
        ("best_subarray_sum", ((-2, 1, -3, 4, -1, 2, 1, -5, 4),)): 6,
        ("longest_palindrome", ("babad",)): "bab",
        ("longest_palindrome", ("cbbd",)): "bb",
        ("roman_to_int", ("MCMXCIV",)): 1994,
        ("eval_rpn", (("2", "1", "+", "3", "*"),)): 9,
        ("eval_rpn", (("4", "13", "5", "/", "+"),)): 6,
        ("coin_change", ((1, 2, 5), 11)): 3,
        ("longest_increasing", ((10, 9, 2, 5, 3, 7, 101, 18),)): 4,
        ("most_water", ((1, 8, 6, 2, 5, 4, 8, 3, 7),)): 49,
        ("stair_cost", ((1, 100, 1, 1, 1, 100, 1, 1, 100, 1),)): 6,
        ("min_jumps", ((2, 3, 1, 1, 4),)): 2,
        ("remove_digits", ("1432219", 3)): "1219",
        ("remove_digits", ("10200", 1)): "200",
        ("largest_concatenation", ((3, 30, 34, 5, 9),)): "9534330",
        ("first_unique_index", ("loveleetcode",)): 2,
        ("spiral_order", (((1, 2, 3), (4, 5, 6), (7, 8, 9)),)): [1, 2, 3, 6, 9, 8, 7, 4, 5],
        ("rotate_square", (((1, 2), (3, 4)),)): [[3, 1], [4, 2]],
        ("kth_smallest_in_sorted", (((1, 5, 9), (10, 11, 13), (12, 13, 15)), 8)): 13,
        ("largest_prime_factor", (13195,)): 29,
        ("binary_gap", (22,)): 2,
        ("busiest_moment", (((1, 4), (2, 5), (7, 9)),)): 2,
    }

    def lists(x):
        return [lists(v) for v in x] if isinstance(x, tuple) else x

    for (slug, args), want in known.items():
        got = [t["expected"] for t in BY_SLUG[slug]["visible_tests"] if t["args"] == lists(args)]
        assert got == [want], (slug, args, got)
    flip = BY_SLUG["spiral_order"]["flip"]["visible_tests"]
    assert {"args": [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], "expected": [1, 4, 7, 8, 9, 6, 3, 2, 5]} in flip


def _pairs(n):
    return [(i, j) for i in range(len(n)) for j in range(i + 1, len(n))]


def _palindrome(s, rightmost):
    for size in range(len(s), 0, -1):
        found = [s[i : i + size] for i in range(len(s) - size + 1) if s[i : i + size] == s[i : i + size][::-1]]
        if found:
            return found[-1] if rightmost else found[0]
    return ""


def _busiest(m, latest):
    if not m:
        return -1
    times = range(min(s for s, _ in m), max(e for _, e in m))
    load = {t: sum(s <= t < e for s, e in m) for t in times}
    top = [t for t in times if load[t] == max(load.values())]
    return top[-1] if latest else top[0]


def _free_gaps(m, agg):
    if not m:
        return 0
    free = [t for t in range(min(s for s, _ in m), max(e for _, e in m)) if not any(s <= t < e for s, e in m)]
    runs = [len(list(g)) for _, g in itertools.groupby(enumerate(free), key=lambda p: p[1] - p[0])]
    return agg(runs) if runs else 0


def _remove(num, k, agg):
    kept = ["".join(c) for c in itertools.combinations(num, len(num) - k)]
    return str(agg(int(x) if x else 0 for x in kept))


def _coins(cs, amount, agg):
    counts = []

    def go(rest, i, used):
        if rest == 0:
            counts.append(used)
        elif i < len(cs):
            for t in range(rest // cs[i] + 1):
                go(rest - t * cs[i], i + 1, used + t)

    go(amount, 0, 0)
    return agg(counts) if counts else -1


def _jumps(n, agg):
    done = []

    def go(i, k):
        if i == len(n) - 1:
            done.append(k)
        for j in range(i + 1, min(len(n), i + n[i] + 1)):
            go(j, k + 1)

    go(0, 0)
    return agg(done)


def _stairs(fees, agg):
    totals = []

    def go(i, paid):
        if i >= len(fees):
            totals.append(paid)
        else:
            go(i + 1, paid + fees[i])
            go(i + 2, paid + fees[i])

    go(0, 0)
    go(1, 0)
    return agg(totals)


def _spiral(m, ccw):
    out, seen, top, left, bot, right = [], set(), 0, 0, len(m) - 1, len(m[0]) - 1 if m else -1
    while top <= bot and left <= right:
        if ccw:
            ring = [(i, left) for i in range(top, bot + 1)] + [(bot, j) for j in range(left + 1, right + 1)]
            ring += [(i, right) for i in range(bot - 1, top - 1, -1)] + [(top, j) for j in range(right - 1, left, -1)]
        else:
            ring = [(top, j) for j in range(left, right + 1)] + [(i, right) for i in range(top + 1, bot + 1)]
            ring += [(bot, j) for j in range(right - 1, left - 1, -1)] + [(i, left) for i in range(bot - 1, top, -1)]
        for c in ring:
            if c not in seen:
                seen.add(c)
                out.append(m[c[0]][c[1]])
        top, left, bot, right = top + 1, left + 1, bot - 1, right - 1
    return out


def _prod3(n, agg):
    return agg(a * b * c for a, b, c in itertools.combinations(n, 3))


# slug -> (brute force of the original task, brute force of the flipped task): exhaustive search,
# written independently of the references
BRUTE = {
    "product_of_three": (lambda n: _prod3(n, max), lambda n: _prod3(n, min)),
    "longest_palindrome": (lambda s: _palindrome(s, False), lambda s: _palindrome(s, True)),
    "busiest_moment": (lambda m: _busiest(m, False), lambda m: _busiest(m, True)),
    "longest_free_gap": (lambda m: _free_gaps(m, max), lambda m: _free_gaps(m, min)),
    "largest_concatenation": (lambda n: max(("".join(map(str, p)) for p in itertools.permutations(n)), default=""),
                              lambda n: min(("".join(map(str, p)) for p in itertools.permutations(n)), default="")),
    "remove_digits": (lambda s, k: _remove(s, k, min), lambda s, k: _remove(s, k, max)),
    "coin_change": (lambda c, a: _coins(c, a, min), lambda c, a: _coins(c, a, max)),
    "min_jumps": (lambda n: _jumps(n, min), lambda n: _jumps(n, max)),
    "stair_cost": (lambda f: _stairs(f, min), lambda f: _stairs(f, max)),
    "spiral_order": (lambda m: _spiral(m, False), lambda m: _spiral(m, True)),
    "count_k_distinct": (lambda s, k: sum(len(set(s[i:j])) <= k for i in range(len(s)) for j in range(i + 1, len(s) + 1)),
                         lambda s, k: sum(len(set(s[i:j])) >= k for i in range(len(s)) for j in range(i + 1, len(s) + 1))),
    "pair_with_sum": (lambda n, t: next(([i, j] for i, j in _pairs(n) if n[i] + n[j] == t), []),
                      lambda n, t: next(([i, j] for i, j in reversed(_pairs(n)) if n[i] + n[j] == t), [])),
    "count_inversions": (lambda n: sum(n[i] > n[j] for i, j in _pairs(n)), lambda n: sum(n[i] < n[j] for i, j in _pairs(n))),
    "max_profit": (lambda p: max((p[j] - p[i] for i, j in _pairs(p)), default=0),
                   lambda p: min((p[j] - p[i] for i, j in _pairs(p)), default=0)),
}


@pytest.mark.parametrize("slug", sorted(BRUTE))
def test_expected_values_match_brute_force(slug):
    row, (brute, brute_flip) = BY_SLUG[slug], BRUTE[slug]
    for t in row["visible_tests"] + row["tests"]:
        assert brute(*copy.deepcopy(t["args"])) == t["expected"], t
    for t in row["flip"]["visible_tests"] + row["flip"]["tests"]:
        assert brute_flip(*copy.deepcopy(t["args"])) == t["expected"], t
