"""POSIX cost, side by side in one run on the same prompt sets and model:

- evalkit: greedy responses, then the N^2 scores with each prompt's KV cache shared by its N responses;
- unshared: the same responses scored the straightforward way, every (x_i, y_j) as a full sequence
  in right-padded batches (what POSIX's reference code does);
- peer: the PyPI `prompt-sensitivity-index` package (batched mode), when it is installed. It also
  computes a different number (transposed index, /max_new_tokens): its value is shown, not compared.

Prompt sets: mcq.jsonl questions x `template` perturbation, N=5, chat-rendered; max_tokens is a
quarter of the mean prompt length, so prompts are ~4x longer than responses.

    python scripts/bench_posix.py [--model smollm2-135m-instruct] [--sets 12] [--out results/bench_posix.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent


def unshared_scores(backend, pairs: list[tuple[list[int], list[int]]], batch: int) -> tuple[list[float], int]:
    """log P(y | x) for every (x, y) by forwarding x + y whole, right-padded batches."""
    import torch

    F = torch.nn.functional
    out, forwarded = [], 0
    with torch.inference_mode():
        for k in range(0, len(pairs), batch):
            chunk = pairs[k : k + batch]
            seqs = [x + y for x, y in chunk]
            width = max(map(len, seqs))
            ids = torch.full((len(seqs), width), backend.tok.pad_id)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for r, s in enumerate(seqs):
                ids[r, : len(s)] = torch.tensor(s)
                mask[r, : len(s)] = 1
            logp = F.log_softmax(backend.hf(input_ids=ids, attention_mask=mask).logits.float(), dim=-1)
            forwarded += sum(map(len, seqs))
            for r, (x, y) in enumerate(chunk):
                pos = torch.arange(len(x) - 1, len(x) + len(y) - 1)
                out.append(float(logp[r, pos, torch.tensor(y)].sum()))
    return out, forwarded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--sets", type=int, default=12)
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16, help="batch size of the unshared baseline and the peer")
    ap.add_argument("--out", default="results/bench_posix.json")
    args = ap.parse_args()

    import numpy as np

    from evalkit.backends.hf import HFBackend
    from evalkit.models import resolve_model
    from evalkit.perturb import PromptBuilder
    from evalkit.requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest
    from evalkit.sensitivity import psi

    spec = resolve_model(args.model)
    rows = [json.loads(x) for x in (REPO / "tasks/data/mcq.jsonl").read_text().splitlines() if x.strip()]
    rows = [r for r in rows if r["category"] != "reading_comprehension"][: args.sets]
    builder = PromptBuilder("mcq", "bench_posix", seed=0)
    backend = HFBackend(spec)
    # Chat-rendered prompts passed as plain text (the peer has no chat templating): the instruct
    # model then answers instead of stopping at once, so responses have their full length.
    sets = [[backend.render_chat((("user", v.prompt),)) for v in builder.prompt_set(r, "template", args.n)] for r in rows]
    prompt_ids = [[backend.tok.encode(p) for p in s] for s in sets]
    mean_x = float(np.mean([len(x) for s in prompt_ids for x in s]))
    max_tokens = max(1, round(mean_x / 4))

    backend.loglikelihood([LoglikelihoodRequest(context=sets[0][0], continuation_ids=(1, 2, 3))])  # warm-up, untimed
    unshared_scores(backend, [(prompt_ids[0][0], [1, 2, 3])], 1)
    t0 = time.perf_counter()
    gens = backend.generate([GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=max_tokens)) for s in sets for p in s])
    t_gen = time.perf_counter() - t0
    ys, k = [], 0
    for s in sets:
        ys.append([list(gens[k + j].token_ids[0]) or [backend.tok.prefix_token_id] for j in range(len(s))])
        k += len(s)

    reqs, shape = [], []
    for s, y in zip(sets, ys):
        shape.append(len(s))
        reqs += [LoglikelihoodRequest(context=s[i], continuation_ids=tuple(y[j])) for i in range(len(s)) for j in range(len(s))]
    t0 = time.perf_counter()
    shared = backend.loglikelihood(reqs)
    t_shared = time.perf_counter() - t0
    fwd_shared = sum(sum(map(len, xs)) + len(xs) * sum(len(t) - 1 for t in y) for xs, y in zip(prompt_ids, ys))

    pairs = [(xs[i], y[j]) for xs, y in zip(prompt_ids, ys) for i in range(len(xs)) for j in range(len(xs))]
    t0 = time.perf_counter()
    flat, fwd_unshared = unshared_scores(backend, pairs, args.batch)
    t_unshared = time.perf_counter() - t0

    def posix_of(scores):
        vals, k = [], 0
        for n, y in zip(shape, ys):
            m = np.array(scores[k : k + n * n]).reshape(n, n)
            vals.append(psi(m, [len(t) for t in y]))
            k += n * n
        return float(np.mean(vals))

    posix_shared, posix_unshared = posix_of([r.logprob for r in shared]), posix_of(flat)
    max_diff = max(abs(a.logprob - b) for a, b in zip(shared, flat))
    backend.close()

    peer = {"installed": False}
    try:
        from prompt_sensitivity_index.posix import PosixConfig, get_prompt_sensitivity
        from prompt_sensitivity_index.models import HFModel

        model = HFModel(spec.path)
        t0 = time.perf_counter()
        value, _ = get_prompt_sensitivity(model, sets, PosixConfig(max_new_tokens=max_tokens, batched=True, batch_size=args.batch))
        peer = {"installed": True, "total_s": time.perf_counter() - t0, "posix_as_it_computes": value}
    except ImportError as e:
        peer["note"] = str(e)

    report = {
        "model": spec.name, "sets": len(sets), "n": args.n, "mean_prompt_tokens": mean_x, "max_tokens": max_tokens,
        "generation_s": t_gen,
        "evalkit": {"score_s": t_shared, "total_s": t_gen + t_shared, "forwarded_tokens": fwd_shared, "posix": posix_shared},
        "unshared": {"score_s": t_unshared, "total_s": t_gen + t_unshared, "forwarded_tokens": fwd_unshared, "posix": posix_unshared},
        "speedup_scoring": t_unshared / t_shared, "speedup_total": (t_gen + t_unshared) / (t_gen + t_shared),
        "forwarded_ratio": fwd_unshared / fwd_shared, "max_abs_score_diff": max_diff, "peer": peer,
    }
    if peer.get("installed"):
        report["speedup_vs_peer_total"] = peer["total_s"] / (t_gen + t_shared)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"{spec.name}: {len(sets)} sets x N={args.n}, prompts {mean_x:.0f} tokens, responses <= {max_tokens} tokens")
    print(f"{'':34} {'score s':>9} {'total s':>9} {'fwd tokens':>11} {'POSIX':>8}")
    print(f"{'evalkit (shared prompt KV)':34} {t_shared:9.2f} {t_gen + t_shared:9.2f} {fwd_shared:11d} {posix_shared:8.4f}")
    print(f"{'unshared N^2 baseline':34} {t_unshared:9.2f} {t_gen + t_unshared:9.2f} {fwd_unshared:11d} {posix_unshared:8.4f}")
    if peer.get("installed"):
        print(f"{'prompt-sensitivity-index (PyPI)':34} {'':>9} {peer['total_s']:9.2f} {'':>11} {peer['posix_as_it_computes']:8.4f}*")
    print(f"ratios: scoring {report['speedup_scoring']:.2f}x, total {report['speedup_total']:.2f}x, forwarded tokens "
          f"{report['forwarded_ratio']:.2f}x" + (f", vs peer total {report['speedup_vs_peer_total']:.2f}x" if peer.get("installed") else ""))
    print(f"max |shared - unshared| score: {max_diff:.2e} nats" + ("; *peer: transposed index, /max_new_tokens" if peer.get("installed") else ""))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
