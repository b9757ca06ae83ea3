"""Searching a bank of formats for the best and the worst one.

`thompson_search` is FormatSpread's bandit (format_evaluation.py) with its weaknesses fixed:
- the Beta prior is centred on the default format's accuracy p0, clipped to [0.02, 0.98], so a
  perfect (or useless) default format no longer divides by zero;
- the best / worst arm is not the raw empirical leader of an arm seen once (a winner's-curse
  pick): among arms pulled at least `min_pulls` times, the `finalists` with the highest (lowest)
  posterior median are re-scored on every example, and the best (worst) full accuracy wins;
- the budget bounds every example evaluation, the default format's full evaluation and the
  finalists' re-scoring included (`n_evaluations <= budget`): a pull is made only while the current
  leader of each side could still be re-scored afterwards; the other finalists are re-scored, most
  extreme first, as far as the budget goes (the default format, always fully evaluated, is the
  fallback).
  The reference fixes its step count first and re-scores on top, 1.5x its budget on average;
- max and min pulls alternate (the reference runs a max phase, then a min phase, of fixed lengths),
  since the number of pulls the budget allows is only known as the search goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy.stats import beta as beta_dist

Evaluate = Callable[[int, Sequence[int]], Sequence[float]]  # (arm, example indices) -> 0/1 outcomes


@dataclass
class SearchResult:
    best: int
    worst: int
    outcomes: dict[int, dict[int, float]]  # arm -> example -> 0/1, everything evaluated
    n_evaluations: int
    pulls: list[tuple[str, int]] = field(default_factory=list)  # (phase, arm) in order

    def accuracy(self, arm: int) -> float:
        v = list(self.outcomes.get(arm, {}).values())
        return float(np.mean(v)) if v else float("nan")


class _Bank:
    """Outcomes seen so far; every arm walks the same shuffled example order, a batch per pull."""

    def __init__(self, n_arms: int, n_examples: int, evaluate: Evaluate, order: np.ndarray):
        self.evaluate, self.order, self.n = evaluate, order, n_examples
        self.outcomes: dict[int, dict[int, float]] = {}
        self.succ = np.zeros(n_arms)
        self.count = np.zeros(n_arms, dtype=int)
        self.pos = np.zeros(n_arms, dtype=int)  # next position in `order` for a pull
        self.calls = 0

    def run(self, arm: int, examples) -> None:
        seen = self.outcomes.setdefault(arm, {})
        todo = [int(e) for e in examples if int(e) not in seen]
        if todo:
            self.calls += len(todo)
            for e, y in zip(todo, self.evaluate(arm, todo)):
                seen[e] = float(y)
                self.succ[arm] += float(y)
                self.count[arm] += 1

    def pull(self, arm: int, batch: int) -> None:
        idx = self.order[self.pos[arm] : self.pos[arm] + batch]
        self.pos[arm] += len(idx)
        self.run(arm, idx)


def thompson_search(
    n_arms: int,
    n_examples: int,
    evaluate: Evaluate,
    budget: int,
    batch: int = 20,
    default_arm: int = 0,
    min_pulls: int = 2,
    finalists: int = 3,
    prior_strength: float = 5.0,
    seed: int = 0,
) -> SearchResult:
    if budget < n_examples:
        raise ValueError(f"budget {budget} is below one full evaluation of the default format ({n_examples})")
    rng = np.random.default_rng(seed)
    bank = _Bank(n_arms, n_examples, evaluate, rng.permutation(n_examples))
    bank.run(default_arm, range(n_examples))
    p0 = float(np.clip(bank.succ[default_arm] / n_examples, 0.02, 0.98))
    b0 = prior_strength
    a0 = max(1.1, p0 / (1 - p0) * b0)  # prior mean a0/(a0+b0) = p0, as the reference, but never 1/0
    arms = np.array([a for a in range(n_arms) if a != default_arm])

    def candidates(final: bool = False) -> tuple[list[int], list[int]]:
        """(top, bottom): by posterior median among arms pulled min_pulls times (at the end, failing
        those, among all pulled arms), most extreme first."""
        pulled = [int(a) for a in arms if bank.count[a] >= min_pulls * batch]
        if final and not pulled:
            pulled = [int(a) for a in arms if bank.count[a]]
        cands = np.array([default_arm] + pulled)
        med = beta_dist.median(a0 + bank.succ[cands], b0 + bank.count[cands] - bank.succ[cands])
        ranked = [int(a) for a in cands[np.argsort(med, kind="stable")]]
        return ranked[::-1][:finalists], ranked[:finalists]

    def rescore_cost(top, bottom) -> int:  # what re-scoring the current leader of each side would cost
        return int(sum(n_examples - bank.count[a] for a in {top[0], bottom[0]}))

    pulls = []
    while bank.calls + batch + rescore_cost(*candidates()) <= budget:
        live = arms[bank.pos[arms] < n_examples]
        if not len(live):
            break
        phase, pick = ("max", np.argmax) if len(pulls) % 2 == 0 else ("min", np.argmin)
        theta = rng.beta(a0 + bank.succ[live], b0 + bank.count[live] - bank.succ[live])
        arm = int(live[pick(theta)])
        bank.pull(arm, batch)
        pulls.append((phase, arm))

    top, bottom = candidates(final=True)
    for arm in dict.fromkeys(a for pair in zip(top, bottom) for a in pair):  # alternate sides, most extreme first
        if bank.calls + n_examples - bank.count[arm] <= budget:
            bank.run(arm, range(n_examples))  # re-score the finalist on every example
    full = lambda a: bank.succ[a] / n_examples  # noqa: E731
    done = lambda side: [a for a in side if bank.count[a] == n_examples] or [default_arm]  # noqa: E731
    best, worst = max(done(top), key=full), min(done(bottom), key=full)
    return SearchResult(best, worst, bank.outcomes, bank.calls, pulls)
