"""Backend throughput, side by side in one run on the same requests.

1. Multiple-choice log-likelihood (tasks/data/mcq.jsonl, every option of every question):
   evalkit `hf` vs lm-eval's `HFLM` (requests/s and the ratio), with the max score difference.
2. The raw batched forward pass of the same model over same-sized token blocks: the ceiling, in
   tokens/s, that evalkit's log-likelihood throughput (tokens it had to score per second) is set against.
3. Greedy generation: evalkit `hf` vs `vllm` (generated tokens/s), when vLLM is installed.

    python scripts/bench_backends.py [--model smollm2-135m-instruct] [--out results/bench_backends.json]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def timed(fn, repeat: int = 1):
    """Best-of-N wall seconds and the last output (evalkit.bench.timings keeps every repeat)."""
    from evalkit.bench import timings

    secs, out = timings(fn, repeat)
    return min(secs), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--limit", type=int, default=None, help="questions (default: all 160)")
    ap.add_argument("--lm-eval-batch-size", default="16")
    ap.add_argument("--gen-prompts", type=int, default=32)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=2, help="best of N timings")
    ap.add_argument("--out", default="results/bench_backends.json")
    args = ap.parse_args()

    import torch

    from evalkit.backends.hf import HFBackend
    from evalkit.bench.workload import build_workload
    from evalkit.models import resolve_model
    from evalkit.requests import GenerateRequest, GenerationConfig

    spec = resolve_model(args.model)
    ours = HFBackend(spec)
    # the requests `evalkit run mcq` sends: every option of every question (evalkit bench --workload mcq)
    reqs = list(build_workload("mcq", ours.tok, args.limit or 10**9, 1, 1, 1).requests)
    pairs = [ours.tok.encode_pair(r.context, r.continuation) for r in reqs]
    naive_tokens = sum(len(c) + len(x) - 1 for c, x in pairs)  # what a no-sharing forward feeds per request
    shared_tokens = sum(len(c) for c in {tuple(c) for c, _ in pairs}) + sum(len(x) - 1 for _, x in pairs)

    t_ours, res_ours = timed(lambda: ours.loglikelihood(reqs), args.repeat)

    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    peer = HFLM(pretrained=spec.path, device="cpu", dtype="float32", batch_size=args.lm_eval_batch_size)
    insts = [Instance(request_type="loglikelihood", doc={}, arguments=(r.context, r.continuation), idx=i) for i, r in enumerate(reqs)]
    t_peer, res_peer = timed(lambda: peer.loglikelihood(insts, disable_tqdm=True), args.repeat)
    max_diff = max(abs(a.logprob - b[0]) for a, b in zip(res_ours, res_peer))
    peer = None  # free its copy of the model before the ceiling runs

    # Ceiling: the bare model forward over dense blocks (no padding, no log-softmax, no bookkeeping).
    width = 64
    rows = max(1, ours.batch_tokens // width)
    block = torch.randint(0, ours.hf.config.vocab_size, (rows, width))
    n_blocks = max(1, shared_tokens // (rows * width))

    def raw():
        with torch.inference_mode():
            for _ in range(n_blocks):
                ours.hf(input_ids=block)

    t_raw, _ = timed(raw, args.repeat)
    raw_tps = n_blocks * rows * width / t_raw

    gen = [GenerateRequest(prompt=f"Question: {r.context.splitlines()[0][10:]}\nAnswer:", config=GenerationConfig(max_tokens=args.gen_tokens))
           for r in reqs[:: 4 * max(1, len(reqs) // (4 * args.gen_prompts))][: args.gen_prompts]]
    t_hf_gen, out_hf = timed(lambda: ours.generate(gen), 1)
    hf_gen_tps = sum(len(g.token_ids[0]) for g in out_hf) / t_hf_gen
    ours.close()

    vllm_gen_tps = vllm_note = None
    try:
        from evalkit.backends.vllm import VLLMBackend

        v = VLLMBackend(spec)
        t_v, out_v = timed(lambda: v.generate(gen), 1)
        vllm_gen_tps = sum(len(g.token_ids[0]) for g in out_v) / t_v
        v.close()
    except Exception as e:  # vLLM not installed or no usable device: report it, keep the rest
        vllm_note = f"{type(e).__name__}: {e}"

    report = {
        "model": spec.name,
        "threads": torch.get_num_threads(),
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
        "generation": {
            "prompts": len(gen),
            "max_tokens": args.gen_tokens,
            "hf_tokens_per_s": hf_gen_tps,
            "vllm_tokens_per_s": vllm_gen_tps,
            "vllm_over_hf": vllm_gen_tps / hf_gen_tps if vllm_gen_tps else None,
            "vllm_note": vllm_note,
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    m, c, g = report["mcq"], report["ceiling"], report["generation"]
    print(f"model {spec.name}, {report['threads']} threads")
    print(f"{'workload':44} {'evalkit':>12} {'peer':>12} {'ratio':>7}")
    print(f"{'MC log-likelihood, requests/s (vs lm-eval)':44} {m['evalkit_requests_per_s']:12.1f} {m['lm_eval_requests_per_s']:12.1f} {m['speedup_vs_lm_eval']:7.2f}")
    print(f"{'  scored tokens/s (vs raw forward ceiling)':44} {c['evalkit_scored_tokens_per_s']:12.0f} {c['raw_forward_tokens_per_s']:12.0f} {c['scored_fraction_of_ceiling']:7.2f}")
    print(f"{'  forwarded tokens/s (vs raw forward)':44} {c['evalkit_forwarded_tokens_per_s']:12.0f} {c['raw_forward_tokens_per_s']:12.0f} {c['forwarded_fraction_of_ceiling']:7.2f}")
    vt = f"{g['vllm_tokens_per_s']:12.1f} {g['vllm_over_hf']:7.2f}" if g["vllm_tokens_per_s"] else f"{'n/a':>12}"
    print(f"{'greedy generation tokens/s (hf | vllm)':44} {g['hf_tokens_per_s']:12.1f} {vt}")
    print(f"max |evalkit - lm-eval| log-prob: {m['max_abs_logprob_diff']:.2e} nats; tokens forwarded {shared_tokens} shared vs {naive_tokens} unshared")
    if vllm_note:
        print("vllm:", vllm_note)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
