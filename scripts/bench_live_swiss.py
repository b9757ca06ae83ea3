"""Live Swiss vs round robin for judge tournaments, on simulated models: judge calls and Kendall τ.

Models have Bradley–Terry strengths; a judged battle on one prompt is won with probability
σ(ln10 (β_a − β_b)) (both slot orders: 2 judge calls per battle). The round robin judges every pair
on P prompts; the Swiss tournament (evalkit.tournaments.live_swiss) plays ⌈log₂ M⌉ + k rounds of
M/2 matches on P prompts each; a third arm spends the Swiss budget on random pairs. All rankings are Bradley–Terry fits of the battles played.

    python scripts/bench_live_swiss.py [--models 16 32] [--prompts 8] [--seeds 20]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.tournaments.live_swiss import Standings, kendall_tau, n_rounds, pair_round
from evalkit.tournaments.ratings import LN10, bradley_terry


def battles(pairs, beta, prompts, rng):
    rows = []
    for a, b in pairs:
        p = 1 / (1 + np.exp(-LN10 * (beta[a] - beta[b])))
        wins = rng.random(prompts) < p
        rows += [{"model_a": a, "model_b": b, "winner": "model_a" if w else "model_b"} for w in wins]
    return rows


def ranking(rows):
    return list(bradley_terry(pd.DataFrame(rows), n_boot=1)["model"])


def one(m, prompts, extra, seed):
    rng = np.random.default_rng(seed)
    names = [f"m{i:02d}" for i in range(m)]
    beta = dict(zip(names, rng.normal(0, 0.35, m)))  # Chatbot-Arena-like spread: ~±250 Elo
    truth = sorted(names, key=lambda x: -beta[x])
    rr = battles(itertools.combinations(names, 2), beta, prompts, rng)
    st, sw = Standings(list(rng.permutation(names))), []
    for _ in range(n_rounds(m, extra)):
        pairs, bye = pair_round(st)
        rows = battles(pairs, beta, prompts, rng)
        sw += rows
        for a, b in pairs:
            pa = sum(r["winner"] == "model_a" for r in rows if (r["model_a"], r["model_b"]) == (a, b))
            st.record(a, b, *((1.0, 0.0) if 2 * pa > prompts else (0.0, 1.0) if 2 * pa < prompts else (0.5, 0.5)))
        if bye:
            st.give_bye(bye)
    # same budget, random pairs: is the Swiss pairing itself worth anything?
    all_pairs = list(itertools.combinations(names, 2))
    pick = rng.choice(len(all_pairs), len(sw) // prompts, replace=False)
    rnd = battles([all_pairs[i] for i in pick], beta, prompts, rng)
    r_rr, r_sw, r_rnd = ranking(rr), ranking(sw), ranking(rnd)
    return {"calls_rr": 2 * len(rr), "calls_swiss": 2 * len(sw), "tau_rr_truth": kendall_tau(r_rr, truth),
            "tau_swiss_truth": kendall_tau(r_sw, truth), "tau_swiss_rr": kendall_tau(r_sw, r_rr),
            "tau_random_truth": kendall_tau(r_rnd, truth), "tau_random_rr": kendall_tau(r_rnd, r_rr)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, nargs="+", default=[16, 32])
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--extra", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--out", default="results/bench/live_swiss.json")
    a = ap.parse_args()
    rows = []
    for m in a.models:
        for extra in a.extra:
            runs = pd.DataFrame([one(m, a.prompts, extra, s) for s in range(a.seeds)])
            rows.append({"models": m, "rounds": n_rounds(m, extra), "judge_calls_round_robin": int(runs.calls_rr.mean()),
                         "judge_calls_swiss": int(runs.calls_swiss.mean()),
                         "call_ratio": float(runs.calls_swiss.mean() / runs.calls_rr.mean()),
                         **{f"{k}_mean": float(runs[k].mean()) for k in ("tau_rr_truth", "tau_swiss_truth", "tau_swiss_rr", "tau_random_truth",
                                                                 "tau_random_rr")},
                         "tau_swiss_rr_se": float(runs.tau_swiss_rr.std(ddof=1) / np.sqrt(len(runs))), "n_seeds": a.seeds})
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(df.round(3).to_string(index=False))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"prompts_per_match": a.prompts, "rows": rows}, indent=2) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
