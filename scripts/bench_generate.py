"""Greedy generation: evalkit `hf` against transformers' own batched `generate`, side by side in one run.

Same model, same token ids, same left padding and EOS ids on both sides. transformers gets its best
case: prompts sorted by length and cut into batches of each size in --hf-batch-sizes (the whole
set is one of them); the best of them is the figure evalkit is set against. Configurations are
timed interleaved (round-robin, best of --repeat), so load from other processes hits all of them.
Tokens/s counts the tokens each side returns (cut at EOS); the greedy tokens are compared too.

Workloads: `posix` (bench_posix.py's chat prompt sets: short answers, most end at EOS) and `qa`
(raw "Question: ...\\nAnswer:" prompts from mcq.jsonl that run to max_tokens, as in bench_backends.py).

    python scripts/bench_generate.py [--model smollm2-135m-instruct] [--out results/bench_generate.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def qa_prompts(n: int) -> list[str]:
    rows = [json.loads(x) for x in (Path(__file__).resolve().parent.parent / "tasks/data/mcq.jsonl").read_text().splitlines() if x.strip()]
    step = max(1, len(rows) // n)
    return [f"Question: {r['question']}\nAnswer:" for r in rows[::step][:n]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--workloads", default="posix,qa")
    ap.add_argument("--sets", type=int, default=12, help="posix: prompt sets (x N=5)")
    ap.add_argument("--qa-prompts", type=int, default=32)
    ap.add_argument("--qa-tokens", type=int, default=64)
    ap.add_argument("--hf-batch-sizes", default="8,16,32,0", help="transformers' batch sizes; 0 = all prompts in one batch")
    ap.add_argument("--repeat", type=int, default=2, help="rounds; each configuration's best round counts")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for both sides (default: torch's)")
    ap.add_argument("--out", default="results/bench_generate.json")
    args = ap.parse_args()

    import torch

    from bench_posix import posix_prompt_sets
    from evalkit.backends.hf import HFBackend
    from evalkit.models import resolve_model
    from evalkit.requests import GenerateRequest, GenerationConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    spec = resolve_model(args.model)
    ours = HFBackend(spec)
    workloads = {}
    for w in args.workloads.split(","):
        if w == "posix":
            sets, max_tokens = posix_prompt_sets(ours, args.sets, 5)
            workloads[w] = ([p for s in sets for p in s], max_tokens)
        elif w == "qa":
            workloads[w] = (qa_prompts(args.qa_prompts), args.qa_tokens)
        else:
            raise SystemExit(f"unknown workload {w!r} (posix, qa)")

    def evalkit_run(prompts, max_tokens):
        gens = ours.generate([GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=max_tokens)) for p in prompts])
        return [list(g.token_ids[0]) for g in gens]

    def hf_run(prompts, max_tokens, bs):
        ids = [ours.tok.encode(p) for p in prompts]
        gc = ours._gen_config(GenerationConfig(max_tokens=max_tokens), greedy=True)
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        bs = bs or len(ids)
        out: list = [None] * len(ids)
        with torch.inference_mode():
            for k in range(0, len(order), bs):
                chunk = order[k : k + bs]
                x, m = ours._left_pad([ids[i] for i in chunk])
                seqs = ours.hf.generate(input_ids=x, attention_mask=m, generation_config=gc)[:, x.shape[1] :].tolist()
                for i, s in zip(chunk, seqs):
                    end = next((j for j, t in enumerate(s) if t in ours.tok.eos_ids), len(s))
                    out[i] = s[:end]
        return out

    sizes = [int(b) for b in args.hf_batch_sizes.split(",")]
    report = {"model": spec.name, "threads": torch.get_num_threads(), "loadavg_start": os.getloadavg(),
              "evalkit_batch_tokens": ours.batch_tokens, "workloads": {}}
    for name, (prompts, max_tokens) in workloads.items():
        configs = {"evalkit": lambda: evalkit_run(prompts, max_tokens)}
        for bs in sizes:
            configs[f"transformers bs={bs or len(prompts)}"] = lambda bs=bs: hf_run(prompts, max_tokens, bs)
        for fn in (lambda: evalkit_run(prompts[:8], max_tokens), lambda: hf_run(prompts[:8], max_tokens, 8)):
            fn()  # warm-up, untimed: first-call allocations of both sides
        best: dict[str, float] = {}
        outs: dict[str, list] = {}
        for _ in range(args.repeat):
            for label, fn in configs.items():
                t0 = time.perf_counter()
                outs[label] = fn()
                best[label] = min(best.get(label, float("inf")), time.perf_counter() - t0)
        tokens = {k: sum(map(len, v)) for k, v in outs.items()}
        tps = {k: tokens[k] / best[k] for k in configs}
        top = max((k for k in configs if k != "evalkit"), key=tps.get)
        ref = outs[top]
        report["workloads"][name] = {
            "prompts": len(prompts), "max_tokens": max_tokens, "seconds": best, "tokens": tokens, "tokens_per_s": tps,
            "best_transformers": top, "evalkit_over_best_transformers": tps["evalkit"] / tps[top],
            "rows_with_other_tokens": sum(a != b for a, b in zip(outs["evalkit"], ref)),
        }
    report["loadavg_end"] = os.getloadavg()
    ours.close()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"model {spec.name}, {report['threads']} threads, load {report['loadavg_start'][0]:.1f} -> {report['loadavg_end'][0]:.1f}")
    for name, w in report["workloads"].items():
        print(f"{name}: {w['prompts']} prompts, max_tokens {w['max_tokens']}")
        for k in w["seconds"]:
            print(f"  {k:28} {w['seconds'][k]:8.2f} s {w['tokens'][k]:6d} tokens {w['tokens_per_s'][k]:8.1f} tok/s")
        print(f"  evalkit / best transformers ({w['best_transformers']}): {w['evalkit_over_best_transformers']:.2f}x; "
              f"rows whose tokens differ: {w['rows_with_other_tokens']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
