"""How much of an exhaustive evaluation the Thompson-sampling search needs to recover the spread.

For each budget (a fraction of formats x examples), run the bandit over a bank whose outcomes
are known in full, and compare its spread (best minus worst arm, both re-scored on every
example) with the exhaustive spread (max minus min over all formats). The reported figure is the
smallest budget at which the bandit lands within 2 accuracy points in at least 80% of the
(bank, seed) searches, counting every evaluation it made (the default format's full evaluation
and the finalists' re-scoring included). Finalists per side: 5 for 320 formats, 1 for tiny banks.

- synthetic: formats with known accuracies drawn like the paper's spreads (most formats within a
  few points of each other, a tail of good and bad ones), Bernoulli outcomes;
- smollm2 (with --results): the real example x format correctness matrix of an exhaustive
  `formatspread` run, e.g. `evalkit run formatspread_mcq -m smollm2-135m-instruct -o DIR`.

    python scripts/bench_formatspread.py [--results DIR] [--out results/bench_formatspread.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from evalkit.formatspread import thompson_search

BUDGETS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def synthetic_bank(k: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    acc = np.clip(rng.normal(0.55, 0.015, k) + rng.standard_t(3, k) * 0.01, 0.02, 0.98)
    return (rng.random((k, n)) < acc[:, None]).astype(float)


def budget_needed(banks: list[np.ndarray], seeds: int, batch: int, tol: float = 0.02) -> dict:
    """Over every (bank, seed): the share of searches whose spread is within `tol` of the exhaustive one."""
    k, n = banks[0].shape
    rows = []
    for b in BUDGETS:
        errors, used = [], []
        for bank in banks:
            acc = bank.mean(1)
            exhaustive = float(acc.max() - acc.min())
            for s in range(seeds):
                r = thompson_search(k, n, lambda a, idx, bank=bank: bank[a, list(idx)], budget=int(b * k * n), batch=batch,
                                    finalists=max(1, min(5, k // 64)), seed=s)
                errors.append(abs((acc[r.best] - acc[r.worst]) - exhaustive))
                used.append(r.n_evaluations / (k * n))
        rows.append({"budget": b, "used_fraction": float(np.mean(used)), "within_tol": float(np.mean(np.array(errors) <= tol)),
                     "mean_abs_error": float(np.mean(errors))})
    enough = next((r for r in rows if r["within_tol"] >= 0.8), None)
    spreads = [float(np.ptp(bank.mean(1))) for bank in banks]
    return {"formats": k, "examples": n, "banks": len(banks), "exhaustive_spread": float(np.median(spreads)), "rows": rows,
            "fraction_needed": enough["used_fraction"] if enough else None}


def matrix_from_run(out: Path) -> np.ndarray:
    formats = json.loads((out / "formats.json").read_text())["formats"]
    recs = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    ids = sorted({r["id"] for r in recs})
    m = np.full((len(formats), len(ids)), np.nan)
    for r in recs:
        m[r["format"], ids.index(r["id"])] = r["correct"]
    if np.isnan(m).any():
        raise SystemExit(f"{out}: not an exhaustive run (some format x example pairs are missing)")
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", help="an exhaustive formatspread run directory (e.g. SmolLM2 on formatspread_mcq)")
    ap.add_argument("--formats", type=int, default=320)
    ap.add_argument("--examples", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--banks", type=int, default=5, help="synthetic banks, each drawn afresh")
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--out", default="results/bench_formatspread.json")
    args = ap.parse_args()
    banks = [synthetic_bank(args.formats, args.examples, b) for b in range(args.banks)]
    report = {"synthetic": budget_needed(banks, args.seeds, args.batch)}
    if args.results:
        report["smollm2"] = budget_needed([matrix_from_run(Path(args.results))], args.seeds, max(1, args.batch // 4))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    for name, r in report.items():
        print(f"{name}: {r['banks']} bank(s) of {r['formats']} formats x {r['examples']} examples, "
              f"median exhaustive spread {r['exhaustive_spread']:.3f}")
        print(f"  {'budget':>7} {'used':>6} {'within 2pt':>11} {'mean |err|':>11}")
        for row in r["rows"]:
            print(f"  {row['budget']:7.2f} {row['used_fraction']:6.3f} {row['within_tol']:11.2f} {row['mean_abs_error']:11.4f}")
        need = r["fraction_needed"]
        print(f"  fraction of exhaustive evaluation needed: {need:.3f}" if need is not None else "  not reached within 50%")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
