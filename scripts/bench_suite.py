"""A suite in one command against the same (task, model) pairs as separate `evalkit run` commands, end
to end, in the same run: the one-command suite loads each model once for all of its tasks (and pays
evalkit's start-up once); separate commands load the model again for every pair.

Workload: 3 tasks (mcq, posix_mcq, formatspread_mcq at small limits) x 2 models (default:
smollm2-135m-instruct and tiny-random), hf backend, --no-cache on both sides so both compute every
request, each side into its own fresh results root. Wall time of whole commands (processes started
here, as a user runs them); the ratio is separate / suite. Both sides' summaries are compared (they
must be identical: the same runs, the same seeds).

    python scripts/bench_suite.py [-m MODEL -m MODEL] [--out results/bench/suite.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EVALKIT = str(Path(sys.executable).parent / "evalkit")
TASKS = [("mcq", 40, {}), ("posix_mcq", 2, {}), ("formatspread_mcq", 20, {"n_formats": 4})]  # (task, limit, overrides)


def cli_args(limit: int, overrides: dict) -> list[str]:
    return ["--limit", str(limit), *(x for k, v in overrides.items() for x in ("-T", f"{k}={v}"))]


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stderr[-2000:]}")
    return time.perf_counter() - t


def summaries(root: Path) -> dict:
    return {str(p.parent.relative_to(root)): json.loads(p.read_text())["metrics"] for p in sorted(root.rglob("summary.json"))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", action="append", default=None)
    ap.add_argument("--out", default=str(REPO / "results" / "bench" / "suite.json"))
    a = ap.parse_args()
    models = a.model or ["smollm2-135m-instruct", "tiny-random"]
    work = Path(tempfile.mkdtemp(prefix="bench_suite_"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        # the suite file: the same tasks, limits and overrides as the separate commands
        lines = ["suite: bench", "tasks:", *(f"  - {{task: {t}, limit: {n}, overrides: {json.dumps(o)}}}" for t, n, o in TASKS),
                 "models:", *(f"  - {m}" for m in models)]
        (work / "suite.yaml").write_text("\n".join(lines) + "\n")
        for m in models:  # convert / build each model once, outside both timings
            subprocess.run([EVALKIT, "run", "mcq", "-m", m, "--limit", "1", "-o", str(work / "warm" / m.replace("/", "_")), "-q",
                            "--no-cache"], check=True, capture_output=True)
        separate = sum(timed([EVALKIT, "run", task, "-m", m, *cli_args(n, o), "-o", str(work / "separate" / task / m.replace("/", "_")),
                              "-q", "--no-cache"]) for m in models for task, n, o in TASKS)
        suite = timed([EVALKIT, "run", str(work / "suite.yaml"), "-o", str(work / "suite"), "-q", "--no-cache"])
        a_s = {k.rsplit("/", 1)[0]: v for k, v in summaries(work / "suite").items()}
        b_s = summaries(work / "separate")
        same = sorted(a_s) == sorted(b_s) and all(a_s[k] == b_s[k] for k in a_s)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc = {"bench": "suite", "pairs": len(models) * len(TASKS), "models": models, "tasks": [t for t, _, _ in TASKS],
           "separate_commands_s": round(separate, 2), "one_suite_command_s": round(suite, 2), "ratio": round(separate / suite, 2),
           "identical_summaries": same, "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    print(f"{'pairs':<28}{doc['pairs']}\n{'separate evalkit run (s)':<28}{separate:.1f}\n{'one suite command (s)':<28}{suite:.1f}\n"
          f"{'ratio (separate / suite)':<28}{doc['ratio']:.2f}x\n{'identical summaries':<28}{same}")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
