"""The quickstart suite: everything evalkit measures, on one model, then a leaderboard and a report.

    python scripts/quickstart.py                         # smollm2-135m-instruct, small sizes, CPU (make demo)
    python scripts/quickstart.py --full                  # full sizes; vllm when a GPU and vllm are present
    python scripts/quickstart.py -m tiny-random --size tiny -o /tmp/qs   # seconds: what CI runs

Steps (each an ordinary evalkit run, resumable: rerunning skips finished work):
 1. the shipped suite tasks/suites/demo.yaml (MCQ accuracy, POSIX, FormatSpread) on the model and on
    tiny-random (the chance floor), each model loaded once; then POSIX on open instructions;
 2. MCQ accuracy of four prompting variants of the model (raw, chat, two system prompts), whose
    per-category accuracies form a variant x benchmark score table, ranked by CSD (Swiss rounds);
 3. code mutations and a short code-agent run on leetcode50, in the sandbox;
 4. judge quality of the model on the labelled judge pairs (label log-likelihood, both orders);
 5. a Swiss tournament between the variants, judged by the model, ranked by Bradley–Terry; with
    --sweep DIR (a finished `evalkit sweep` of the same model) the best adapter of each tuning method
    plays too, and the sweep's section joins the report;
 6. the leaderboard JSON (models ranked over the suite's benchmarks, with the ranking's stability under
    prompt variants and its warnings, printed) and the self-contained HTML report.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import evalkit

VARIANTS = {  # the tournament's players and the CSD table's rows: what one model can be made into
    "raw": {"prompt_format": "raw"},
    "chat": {"prompt_format": "chat"},
    "concise": {"prompt_format": "chat", "system_prompt": "Answer in one or two short sentences."},
    "expert": {"prompt_format": "chat", "system_prompt": "You are a world-class expert. Answer carefully and precisely."},
}
CATEGORY_ORDER = ["general_knowledge", "units", "arithmetic", "reading_comprehension", "common_sense"]  # CSD rounds, easy to hard

SIZES = {
    # name: limits per step (None = the whole data set); mcq = questions per category
    "tiny": dict(suite_mcq=8, posix_mcq=2, posix_ins=2, fs=4, fs_formats=3, mcq=4, code=2, code_tokens=24, agent=2, agent_turns=2,
                 judge=4, tour=3, tour_tokens=8, csd_runs=2000),
    "small": dict(suite_mcq=None, posix_mcq=8, posix_ins=4, fs=40, fs_formats=10, mcq=12, code=4, code_tokens=160, agent=3, agent_turns=2,
                  judge=32, tour=8, tour_tokens=48, csd_runs=100_000),
    "full": dict(suite_mcq=None, posix_mcq=None, posix_ins=None, fs=None, fs_formats=20, mcq=None, code=None, code_tokens=384, agent=None,
                 agent_turns=3, judge=None, tour=None, tour_tokens=128, csd_runs=100_000),
}


def balanced_subset(per_category: int | None, where: Path) -> Path | None:
    """The first `per_category` questions of each MCQ category (the data file is sorted by category,
    so --limit would keep one category only); None for all of them."""
    if per_category is None:
        return None
    from evalkit.tasks import find_tasks, load_task

    rows = [json.loads(x) for x in load_task(str(find_tasks()["mcq"])).data_path.read_text().splitlines() if x.strip()]
    counts: dict[str, int] = {}
    out = []
    for r in rows:
        if counts.get(r["category"], 0) < per_category:
            counts[r["category"]] = counts.get(r["category"], 0) + 1
            out.append(r)
    where.mkdir(parents=True, exist_ok=True)
    path = (where / f"mcq_{per_category}_per_category.jsonl").resolve()
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out))
    return path


def vllm_on_gpu() -> bool:
    import importlib.util

    from evalkit.backends.vllm import on_gpu

    return importlib.util.find_spec("vllm") is not None and on_gpu()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", default=evalkit.DEFAULT_MODEL)
    ap.add_argument("--size", choices=list(SIZES), default="small")
    ap.add_argument("--full", action="store_true", help="same as --size full (and vllm when a GPU is present)")
    ap.add_argument("-b", "--backend", default=None, help="hf | vllm | openai (default: hf; vllm with --full on a GPU)")
    ap.add_argument("-o", "--out", default="results")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sweep", default=None, help="a finished `evalkit sweep` directory of the same model: its best adapters play")
    a = ap.parse_args()
    size = "full" if a.full else a.size
    L = SIZES[size]
    backend = a.backend or ("vllm" if size == "full" and vllm_on_gpu() else "hf")
    out = Path(a.out)
    tag = Path(a.model).name
    t0 = time.perf_counter()
    timings = {}

    def step(name, task, limit=None, overrides=None, dest=None):
        t = time.perf_counter()
        print(f"[{time.perf_counter() - t0:6.0f}s] {name}", flush=True)
        r = evalkit.run(task, a.model, backend, limit=limit, seed=a.seed, overrides=overrides or {},
                        out=out / (dest or task) / tag, quiet=True)
        timings[name] = round(time.perf_counter() - t, 1)
        return r

    # 1. the suite: several checkpoints, the same tasks, each model loaded once; then prompt sensitivity on open instructions
    from evalkit.suite import find_suite, load_suite, run_suite

    suite = load_suite(find_suite("demo"))
    sized = {"mcq": dict(limit=L["suite_mcq"]), "posix_mcq": dict(limit=L["posix_mcq"]),
             "formatspread_mcq": dict(limit=L["fs"], overrides={"n_formats": L["fs_formats"]})}
    models = list(dict.fromkeys([a.model, *(m.model for m in suite.models if m.model != evalkit.DEFAULT_MODEL)]))
    t = time.perf_counter()
    print(f"[{time.perf_counter() - t0:6.0f}s] suite {suite.suite}: {', '.join(x.task for x in suite.tasks)} x {', '.join(models)}",
          flush=True)
    runs = run_suite([x.model_copy(update=sized.get(x.task, {})) for x in suite.tasks], models, backend=backend, seed=a.seed,
                     out=out, quiet=True, on_pair=lambda i, n, task, model: print(f"         {i + 1}/{n} {task} · {model}", flush=True))
    timings["suite"] = round(time.perf_counter() - t, 1)
    if (runs["status"] == "failed").any():
        print(runs[runs["status"] == "failed"][["task", "model", "error"]].to_string(index=False), file=sys.stderr)
        return 1
    step("POSIX on open instructions", "posix_instructions", L["posix_ins"])

    # 2. prompting variants on MCQ -> score table -> CSD
    table = {}
    subset = balanced_subset(L["mcq"], out / "mcq_variants")
    for v, over in VARIANTS.items():
        mcq = {"task": f"mcq_{v}", **over, **({"data": str(subset)} if subset else {})}
        r = step(f"MCQ, variant {v}", "mcq", None, mcq, dest=f"mcq_variants/{v}")
        cats = r.summary["breakdown"]["category"]
        table[f"{tag}:{v}"] = {c: cats[c]["acc"]["value"] for c in CATEGORY_ORDER if c in cats}
    benches = [c for c in CATEGORY_ORDER if all(c in row for row in table.values())]
    csd_dir = out / "csd" / tag
    csd_dir.mkdir(parents=True, exist_ok=True)
    with open(csd_dir / "scores.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", *benches])
        for m, row in table.items():
            w.writerow([m, *(f"{row[b]:.6f}" for b in benches)])
    (csd_dir / "csd_variants.yaml").write_text("".join(f"- [{b}]\n" for b in benches))
    from evalkit.tournaments.csd import run_swiss

    t = time.perf_counter()
    print(f"[{time.perf_counter() - t0:6.0f}s] CSD over the variant x category table", flush=True)
    run_swiss([csd_dir / "scores.csv"], csd_dir / "csd_variants.yaml", n_runs=L["csd_runs"], seed=a.seed, out=csd_dir)
    timings["CSD"] = round(time.perf_counter() - t, 1)

    # 3. code robustness and the code agent
    step("code mutations (leetcode50)", "code_mutations", L["code"],
         {"mutations": {"underspec": [5, 9], "flip": [0], "rename": [0], "typo": [2]}, "max_tokens": L["code_tokens"]})
    step("code agent (leetcode50)", "code_agent", L["agent"],
         {"max_turns": L["agent_turns"], "max_tokens": L["code_tokens"], "max_episode_tokens": L["agent_turns"] * L["code_tokens"]})

    # 4. judge quality, 5. the tournament
    step("judge quality (judge_pairs)", "judge_pairs", L["judge"], {"verdict": "logprob", "combine": "average"})
    players = [{"name": v, **over} for v, over in VARIANTS.items()] + [{"name": "chat-t0.8", "temperature": 0.8}]
    tour = {"players": players, "max_tokens": L["tour_tokens"], "prompts_per_match": 4}
    if a.sweep:  # another task name: the tournament without the adapters stays as it was
        tour.update(task="tournament_sweep", sweep=str(Path(a.sweep).resolve()))
    step("Swiss tournament of the variants" + (" and the sweep's adapters" if a.sweep else ""), "tournament_variants", L["tour"],
         tour, dest=tour.get("task"))

    # 6. leaderboard and report, from the files only
    from evalkit.leaderboard import build_leaderboard
    from evalkit.report import write_report

    from evalkit.leaderboard import print_leaderboard

    board = build_leaderboard([out / ("tournament_sweep" if a.sweep else "tournament_variants") / tag,
                               *sorted(p for p in out.iterdir() if p.is_dir())])
    (out / "leaderboard.json").write_text(json.dumps(board, indent=2, ensure_ascii=False) + "\n")
    print_leaderboard(board)
    report = write_report([out, *([Path(a.sweep)] if a.sweep else [])], out / "report.html", title=f"evalkit quickstart · {a.model}")
    timings["total"] = round(time.perf_counter() - t0, 1)
    (out / "quickstart_timings.json").write_text(json.dumps({"model": a.model, "size": size, "backend": backend, **timings}, indent=2))
    print(f"[{timings['total']:6.0f}s] done")
    print(f"leaderboard: {out / 'leaderboard.json'}")
    print(f"report: {report}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except evalkit.EvalkitError as e:  # bad input (e.g. another run already in a step's directory): one line
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
