"""Swiss-system pairing for live judge tournaments (chess rules, solved as a matching problem).

Each round pairs models with close standings. The absolute rules (FIDE C.04): no rematch while a
rematch-free pairing exists, at most one bye per model (to the lowest-standing eligible model, worth a
win), and A/B slots balanced like colours when pairs are judged in one order only. Greedy pairing
creates avoidable rematches and stranded players (phase-rs #7937); here one maximum-weight matching
(networkx's blossom algorithm, maximum cardinality first) chooses all pairs and the bye together.
This is NOT the CSD simulation of `csd.py` (zero-point bye, rematches allowed): that one reproduces
the LLM Swiss Round paper; this one spends judge calls well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

BYE = "__bye__"
# Integer edge weights whose scales make the criteria lexicographic (exact for up to ~100 models and
# score gaps up to ~10 points): no rematch / no second bye, then the bye to the lowest standing,
# then close standings, then adjacent pairing numbers.
_BASE, _ABSOLUTE, _BYE_RANK, _GAP = 10**18, 10**16, 10**12, 10**4


def n_rounds(n_models: int, extra: int = 1) -> int:
    """⌈log₂ M⌉ rounds single out a winner; `extra` more sharpen the rest of the order."""
    return max(1, math.ceil(math.log2(max(n_models, 2)))) + extra


@dataclass
class Standings:
    models: list[str]
    points: dict[str, float] = field(default_factory=dict)
    met: set[frozenset] = field(default_factory=set)
    byes: set[str] = field(default_factory=set)
    slot_a: dict[str, int] = field(default_factory=dict)  # times judged in slot A (one-order protocols)

    def __post_init__(self):
        for m in self.models:
            self.points.setdefault(m, 0.0)
            self.slot_a.setdefault(m, 0)

    def order(self) -> list[str]:
        """Best first; ties keep the initial order (the pairing numbers)."""
        return sorted(self.models, key=lambda m: (-self.points[m], self.models.index(m)))

    def record(self, a: str, b: str, points_a: float, points_b: float) -> None:
        self.points[a] += points_a
        self.points[b] += points_b
        self.met.add(frozenset((a, b)))

    def give_bye(self, m: str) -> None:
        self.points[m] += 1.0  # a pairing-allocated bye scores as a win
        self.byes.add(m)


def pair_round(st: Standings) -> tuple[list[tuple[str, str]], str | None]:
    """Pairs (slot A first) and the model with the bye (None when M is even)."""
    order = st.order()
    rank = {m: i for i, m in enumerate(order)}
    g = nx.Graph()
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            gap = st.points[a] - st.points[b]
            w = _BASE - _GAP * int(round(4 * gap * gap)) - abs(rank[a] - rank[b])
            if frozenset((a, b)) in st.met:
                w -= _ABSOLUTE
            g.add_edge(a, b, weight=w)
    if len(order) % 2:
        for m in order:
            # the bye goes to the lowest-standing model that has not had one
            w = _BASE - _BYE_RANK * (len(order) - rank[m]) - (_ABSOLUTE if m in st.byes else 0)
            g.add_edge(m, BYE, weight=w)
    matching = nx.max_weight_matching(g, maxcardinality=True)
    pairs, bye = [], None
    for u, v in matching:
        if BYE in (u, v):
            bye = u if v == BYE else v
            continue
        a, b = sorted((u, v), key=rank.get)
        pairs.append(_slots(st, a, b))
    pairs.sort(key=lambda p: min(rank[p[0]], rank[p[1]]))
    return pairs, bye


def _slots(st: Standings, a: str, b: str) -> tuple[str, str]:
    """Slot A to whichever has sat there less (colour balance); the higher-standing one on a tie."""
    return (b, a) if st.slot_a[b] < st.slot_a[a] else (a, b)


def kendall_tau(x: list[str], y: list[str]) -> float:
    """Kendall's τ-a between two orderings of the same items."""
    pos = {m: i for i, m in enumerate(y)}
    r = np.array([pos[m] for m in x])
    n = len(r)
    s = np.sign(r[None, :] - r[:, None])[np.triu_indices(n, 1)]
    return float(s.sum() / (n * (n - 1) / 2))
