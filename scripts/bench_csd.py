"""Competitive Swiss-System Dynamics cost: evalkit's vectorised simulation against the
straightforward per-run Python loop (the shape of the authors' swiss.py), in the same run.

Workload (the paper's): 29 models, 43 benchmark columns in 12 rounds (groups of 5,3,2,5,6,4,4,3,3,4,1,3
benchmarks, as in the authors' `datasets_selection`), N = 100,000 runs, T in {0, 1, 2}. The score
table is random (seeded), not the paper's (its CSV is not published).

The loop is timed on a subset of runs (--loop-runs, default 2,000) and scaled linearly to N: its cost
per run is constant (every run does the same rounds). Two loops are timed: `authors` recomputes
np.mean over the round's benchmarks for each match as swiss.py does; `lookup` reads precomputed
means (a faster loop, for a fairer ratio). The vectorised time is the best of --repeat runs. The
E[S] of both are compared (largest |z| over models and T) as a sanity check.

    python scripts/bench_csd.py [--n 100000] [--loop-runs 2000] [--repeat 3] [--out results/bench/csd.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from evalkit.tournaments.csd import simulate, simulate_loop  # noqa: E402

GROUP_SIZES = [5, 3, 2, 5, 6, 4, 4, 3, 3, 4, 1, 3]  # len(g) of the authors' datasets_selection: 43 columns


def workload(seed: int = 0):
    rng = np.random.default_rng(seed)
    n_cols = sum(GROUP_SIZES)
    # benchmark difficulty and model strength, so that the table has structure (and no exact ties)
    scores = np.clip(rng.normal(0.6, 0.12, size=(29, 1)) + rng.normal(0.0, 0.1, size=(1, n_cols)) + rng.normal(0, 0.08, (29, n_cols)), 0, 1)
    cols = rng.permutation(n_cols)
    rounds, k = [], 0
    for g in GROUP_SIZES:
        rounds.append(sorted(cols[k : k + g].tolist()))
        k += g
    return scores, rounds


def _load():
    """1-minute load average (the machine may be shared: compare wall with CPU seconds)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--loop-runs", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tiebreak", default="random", choices=["random", "index"])
    ap.add_argument("--out", default=str(REPO / "results" / "bench" / "csd.json"))
    args = ap.parse_args()
    scores, rounds = workload()
    elims = (0, 1, 2)
    load_before = _load()

    simulate(scores, rounds, n_runs=2_000, elims=elims, tiebreak=args.tiebreak)  # warm-up (imports, allocator)
    vec_times, vec_cpu, per_T = [], [], {}
    for rep in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        vec = simulate(scores, rounds, n_runs=args.n, elims=elims, tiebreak=args.tiebreak, seed=rep)
        vec_times.append(time.perf_counter() - t0)
        vec_cpu.append(time.process_time() - c0)
    for T in elims:  # per-T split (one more run each)
        t0 = time.perf_counter()
        simulate(scores, rounds, n_runs=args.n, elims=(T,), tiebreak=args.tiebreak, seed=0)
        per_T[T] = time.perf_counter() - t0
    vec_best = min(vec_times)

    loops = {}
    for name, per_match in (("authors", True), ("lookup", False)):
        t0 = time.perf_counter()
        loop = simulate_loop(scores, rounds, n_runs=args.loop_runs, elims=elims, tiebreak=args.tiebreak, seed=0, mean_per_match=per_match)
        dt = time.perf_counter() - t0
        z = max(float(np.max(np.abs(vec.E_S[T] - loop.E_S[T]) / np.sqrt(vec.mc_stderr[T] ** 2 + loop.mc_stderr[T] ** 2 + 1e-18)))
                for T in elims)
        loops[name] = {"runs_timed": args.loop_runs, "seconds_timed": dt, "seconds_scaled_to_n": dt * args.n / args.loop_runs,
                       "speedup_vs_vectorised_best": dt * args.n / args.loop_runs / vec_best, "max_abs_z_vs_vectorised": z}

    doc = {
        "bench": "csd",
        "workload": {"models": scores.shape[0], "benchmark_columns": scores.shape[1], "rounds": len(rounds),
                     "group_sizes": GROUP_SIZES, "n_runs": args.n, "elims": list(elims), "tiebreak": args.tiebreak},
        "vectorised": {"seconds_all_T": vec_times, "seconds_best": vec_best, "seconds_median": statistics.median(vec_times),
                       "cpu_seconds_all_T": vec_cpu, "load_average_before": load_before, "load_average_after": _load(),
                       "seconds_per_T": {str(k): v for k, v in per_T.items()}, "runs_per_second": args.n * len(elims) / vec_best},
        "loop": loops,
        "loop_note": f"the loops ran {args.loop_runs} runs per T; their time is scaled linearly to {args.n} runs",
        "machine": {"cpus": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
                    "platform": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
                    "processor": platform.processor()},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")

    w = doc["workload"]
    print(f"CSD: {w['models']} models, {w['benchmark_columns']} benchmarks in {w['rounds']} rounds, N={args.n:,}, T in {{0,1,2}}, "
          f"tiebreak {args.tiebreak}, {doc['machine']['affinity']} CPUs")
    print(f"{'implementation':<34}{'seconds (all 3 T)':>20}{'x vectorised':>14}")
    print(f"{'vectorised (best of ' + str(args.repeat) + ')':<34}{vec_best:>20.3f}{1.0:>14.1f}")
    print(f"{'  median':<34}{statistics.median(vec_times):>20.3f}")
    print(f"{'  CPU seconds (process), best':<34}{min(vec_cpu):>20.3f}   (load average {load_before:.1f} before, {_load():.1f} after)")
    print(f"{'  per T: ' + ', '.join(f'T={k} {v:.2f}s' for k, v in per_T.items()):<34}")
    for name, d in loops.items():
        label = f"loop, {name} (scaled from {args.loop_runs:,})"
        print(f"{label:<34}{d['seconds_scaled_to_n']:>20.1f}{d['speedup_vs_vectorised_best']:>14.0f}   (max |z| of E[S] vs vectorised: {d['max_abs_z_vs_vectorised']:.2f})")
    print(f"loop times: {args.loop_runs:,} runs per T measured, scaled linearly to {args.n:,}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
