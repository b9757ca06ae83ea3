"""Ratings from pairwise battles: Bradley–Terry (MLE), Elo, win rate, length-controlled win rate.

A battle is a row `model_a, model_b, winner` with winner in {"model_a", "model_b", "tie"} (Chatbot
Arena's columns); a tie counts half a win for each side everywhere. An optional `score` (A's share in
[0, 1], e.g. a judge's soft preference) is the outcome where given, so a coin-flip verdict (0.51) is
almost a tie rather than a full win; wins/losses/ties stay the counts of `winner`. Optional `len_a`,
`len_b` (response lengths in characters) feed the length-controlled win rate.

Every method returns one row per model with `score`, `ci_low`, `ci_high` (95%: percentile bootstrap,
seeded, except Bradley–Terry's posterior interval, see `bradley_terry`), `rank` (1 = best by score) and `rank_ub` (Chatbot Arena's "rank upper bound": 1 + the number
of models whose lower bound is above this model's upper bound, so models whose CIs overlap share a rank).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import EvalkitError
from ..metrics import percentile_interval, resamples

LN10 = math.log(10)
SCALE, BASE = 400.0, 1000.0  # Elo-style display scale shared by BT and Elo
METHODS = ("bt", "elo", "winrate", "lc")
PRIOR_TIES = 1.0  # BT's weak prior: virtual ties of every player against the pool (see bradley_terry)


def check_battles(battles: pd.DataFrame, where: str = "battles") -> pd.DataFrame:
    for col in ("model_a", "model_b", "winner"):
        if col not in battles.columns:
            raise EvalkitError(f"{where}: field '{col}': required in every battle")
    bad = ~battles["winner"].isin(["model_a", "model_b", "tie"])
    if bad.any():
        raise EvalkitError(f"{where}: field 'winner': must be model_a, model_b or tie, got '{battles['winner'][bad].iloc[0]}'")
    if (battles["model_a"] == battles["model_b"]).any():
        raise EvalkitError(f"{where}: field 'model_b': a model cannot battle itself")
    if battles.empty:
        raise EvalkitError(f"{where}: no battles")
    return battles.reset_index(drop=True)


def _encode(battles: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(models, a, b, y, hard): y is A's share of the battle (`score` where given, else from `winner`),
    hard the 1 / 0.5 / 0 of `winner` (for the win / loss / tie counts)."""
    models = sorted(set(battles["model_a"]) | set(battles["model_b"]))
    index = {m: i for i, m in enumerate(models)}
    a = battles["model_a"].map(index).to_numpy()
    b = battles["model_b"].map(index).to_numpy()
    hard = battles["winner"].map({"model_a": 1.0, "model_b": 0.0, "tie": 0.5}).to_numpy(dtype=float)
    y = hard.copy()
    if "score" in battles.columns:
        soft = pd.to_numeric(battles["score"], errors="coerce").to_numpy(dtype=float)
        if ((soft < 0) | (soft > 1)).any():
            raise EvalkitError("battles: field 'score': must lie in [0, 1] (A's share of the battle)")
        y = np.where(np.isnan(soft), hard, soft)
    return models, a, b, y, hard


def _bt_design(a, b, y, n_models: int, prior: float):
    """Rows of the BT fit, the prior's virtual ties against the pool (index n_models, β = 0) appended:
    design X (±ln10 for A / B; the pool's column dropped), outcomes y, and the prior rows' weights."""
    players = np.arange(n_models)
    a = np.concatenate([a, players])
    b = np.concatenate([b, np.full(n_models, n_models)])
    X = np.zeros((len(a), n_models + 1))
    X[np.arange(len(a)), a] = LN10
    X[np.arange(len(a)), b] -= LN10
    return X[:, :n_models], np.concatenate([y, np.full(n_models, 0.5)]), np.full(n_models, float(prior))


def _bt_fit(a: np.ndarray, b: np.ndarray, y: np.ndarray, w: np.ndarray, n_models: int, prior: float):
    """(β, Hessian) maximising the weighted BT log-likelihood of P(a beats b) = σ(ln10 (β_a − β_b))
    (y = A's share, a tie half a win and half a loss) plus the prior: `prior` virtual ties of every
    player against a pool player fixed at β = 0. The prior keeps β finite when a player won or lost
    everything (no MLE exists there) and is stated, not tuned. prior = 0 is the plain MLE with
    FastChat's near-zero ridge (for parity; on separable data that ridge sets the value).

    `w` is one weight vector, or a matrix of them (one fit per row: the bootstrap). The objective is
    convex, so Newton's method (steps capped at 1 unit of β, i.e. 400 points) solves all rows at once.
    β is not centred; the Hessian is the negative log posterior's at the optimum."""
    X, y, w_prior = _bt_design(a, b, y, n_models, prior)
    W = np.atleast_2d(np.asarray(w, dtype=float))
    ridge = (0.0 if prior > 0 else 1e-6) * W.sum(axis=1)  # FastChat's ridge, per unit weight
    W = np.concatenate([W, np.broadcast_to(w_prior, (len(W), n_models))], axis=1)
    beta = np.zeros((len(W), n_models))
    for _ in range(200):
        p = 1 / (1 + np.exp(-(beta @ X.T)))
        grad = ((W * (y - p)) @ X) - 2 * ridge[:, None] * beta  # ascent direction of the log posterior
        hess = np.einsum("kr,ri,rj->kij", W * p * (1 - p), X, X) + 2 * ridge[:, None, None] * np.eye(n_models)
        step = np.linalg.solve(hess + 1e-12 * np.eye(n_models), grad[..., None])[..., 0]
        step *= np.minimum(1.0, 1.0 / np.maximum(np.abs(step).max(axis=1, keepdims=True), 1e-300))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    p = 1 / (1 + np.exp(-(beta @ X.T)))
    hess = np.einsum("kr,ri,rj->kij", W * p * (1 - p), X, X) + 2 * ridge[:, None, None] * np.eye(n_models)
    return (beta[0], hess[0]) if np.ndim(w) == 1 else (beta, hess)


def mle_exists(a: np.ndarray, b: np.ndarray, y: np.ndarray, w: np.ndarray, n_models: int) -> bool:
    """Whether the BT likelihood alone has a finite maximiser: the graph with an edge i → j whenever i
    took points from j (a win, a tie or a soft share > 0) is strongly connected (Zermelo 1929; Hunter
    2004, Assumption 1). Otherwise some group never loses to the rest and its gap is unbounded."""
    keep = w > 0
    a, b, y = a[keep], b[keep], y[keep]
    src = np.concatenate([a[y > 0], b[y < 1]])
    dst = np.concatenate([b[y > 0], a[y < 1]])
    g = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n_models, n_models))
    return connected_components(g, directed=True, connection="strong")[0] == 1


def _unique(a, b, y, n_models):
    """Battles deduplicated into unique (a, b, outcome) rows with counts (FastChat's compute_bt)."""
    uniq, counts = np.unique(np.column_stack([a, b, y]), axis=0, return_counts=True)
    return uniq[:, 0].astype(np.int64), uniq[:, 1].astype(np.int64), uniq[:, 2], counts.astype(float)


def _rank_ub(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return 1 + (lo[None, :] > hi[:, None]).sum(axis=1)


def _table(models, score, lo, hi, a, b, y) -> pd.DataFrame:
    n = len(models)
    wins = np.bincount(a, y == 1, n) + np.bincount(b, y == 0, n)
    losses = np.bincount(a, y == 0, n) + np.bincount(b, y == 1, n)
    ties = np.bincount(a, y == 0.5, n) + np.bincount(b, y == 0.5, n)
    df = pd.DataFrame({"model": models, "score": score, "ci_low": lo, "ci_high": hi,
                       "n_battles": (wins + losses + ties).astype(int), "wins": wins.astype(int),
                       "losses": losses.astype(int), "ties": ties.astype(int)})
    df["rank"] = df["score"].rank(ascending=False, method="min").astype(int)
    df["rank_ub"] = _rank_ub(df["ci_low"].to_numpy(), df["ci_high"].to_numpy())
    return df.sort_values(["rank", "model"]).reset_index(drop=True)


def bradley_terry(battles: pd.DataFrame, n_boot: int = 200, seed: int = 0, prior: float = PRIOR_TIES) -> pd.DataFrame:
    """BT ratings (400·β + 1000, centred): the posterior mode under the weak prior of `_bt_fit`.

    The 95% CI is the posterior's normal (Laplace) approximation, mode ± 1.96 sd of each centred
    rating, from the Hessian of the fit. Chatbot Arena takes percentiles of bootstrap refits instead;
    at tournament sizes (a few dozen battles) those ran narrow in simulation (82–94% coverage of a
    nominal 95%, against 94–98% for this interval: scripts/ci_coverage.py), and without a prior a
    resample where someone never won has no finite MLE, so its endpoint was the ridge's choice.
    The bootstrap still measures that fragility: `degenerate_resamples` (a column, and in
    `df.attrs["method"]`) is the share of `n_boot` multinomial resamples of the battles (seeded) whose
    likelihood has no finite maximum. Near 0 the data set the ratings; near 1 the prior does."""
    battles = check_battles(battles)
    models, a, b, y, hard = _encode(battles)
    n = len(models)
    ua, ub, uy, counts = _unique(a, b, y, n)
    beta, hess = _bt_fit(ua, ub, uy, counts, n, prior)
    centre = np.eye(n) - 1.0 / n  # ratings are centred: Var(Cβ) = C H⁻¹ Cᵀ
    sd = np.sqrt(np.clip(np.diag(centre @ np.linalg.pinv(hess) @ centre.T), 0, None))
    beta = centre @ beta
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(int(counts.sum()), counts / counts.sum(), size=n_boot)
    degenerate = float(np.mean([not mle_exists(ua, ub, uy, w, n) for w in weights])) if n_boot else float("nan")
    df = _table(models, SCALE * beta + BASE, SCALE * (beta - 1.96 * sd) + BASE, SCALE * (beta + 1.96 * sd) + BASE, a, b, hard)
    df["degenerate_resamples"] = degenerate
    df.attrs["method"] = {
        "prior": f"{prior:g} virtual tie(s) of every player against the pool (rating {BASE:g})" if prior > 0 else "none (MLE, ridge 1e-6)",
        "prior_ties": prior, "ci": "laplace (posterior normal approximation)", "mle_exists": bool(mle_exists(ua, ub, uy, counts, n)),
        "degenerate_resamples": degenerate}
    return df


def _elo(a, b, y, n_models, k):
    r = np.full(n_models, BASE)
    for i, j, s in zip(a, b, y):
        e = 1 / (1 + 10 ** ((r[j] - r[i]) / SCALE))
        r[i] += k * (s - e)
        r[j] -= k * (s - e)
    return r


def elo(battles: pd.DataFrame, k: float = 4.0, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """Online Elo in the battles' order (FastChat compute_elo: K=4, init 1000). It depends on the order,
    which is why BT is the default; the CI bootstraps battles (resampled with replacement, new order)."""
    battles = check_battles(battles)
    models, a, b, y, hard = _encode(battles)
    boots = np.array([_elo(a[idx], b[idx], y[idx], len(models), k) for idx in resamples(len(a), n_boot, seed)])
    lo, hi = percentile_interval(boots)
    return _table(models, _elo(a, b, y, len(models), k), lo, hi, a, b, hard)


def win_rate(battles: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Share of battle points won, a tie being half (FastChat's win_rate_adjusted), over all opponents."""
    battles = check_battles(battles)
    models, a, b, y, hard = _encode(battles)
    n = len(models)

    def rate(idx):
        pts = np.bincount(a[idx], y[idx], n) + np.bincount(b[idx], 1 - y[idx], n)
        games = np.bincount(a[idx], minlength=n) + np.bincount(b[idx], minlength=n)
        return pts / np.maximum(games, 1)

    boots = np.array([rate(idx) for idx in resamples(len(a), n_boot, seed)])
    lo, hi = percentile_interval(boots)
    return _table(models, rate(np.arange(len(a))), lo, hi, a, b, hard)


def _lc_fit(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Logistic GLM logit P(win) = θ + φ·x on soft targets y ∈ [0, 1] (MLE, tiny ridge for separation)."""

    def f(p):
        d = p[0] + p[1] * x
        q = 1 / (1 + np.exp(-d))
        loss = -(y * -np.logaddexp(0, -d) + (1 - y) * -np.logaddexp(0, d)).sum() + 1e-6 * len(y) * (p @ p)
        g = -(y - q)
        return loss, np.array([g.sum(), (g * x).sum()]) + 2e-6 * len(y) * p

    res = minimize(f, np.zeros(2), jac=True, method="L-BFGS-B", options={"gtol": 1e-10})
    return float(res.x[0]), float(res.x[1])


def _lc(y: np.ndarray, len_m: np.ndarray, len_b: np.ndarray) -> float:
    dlen = len_b - len_m
    sd = dlen.std()
    x = np.tanh(dlen / sd) if sd > 0 else np.zeros_like(dlen)
    return 1 / (1 + math.exp(-_lc_fit(y, x)[0]))


def length_controlled(battles: pd.DataFrame, baseline: str, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """AlpacaEval 2's length-controlled win rate (Dubois et al. 2024) of each model against `baseline`.

    One GLM per model (so adding a model never moves another's score):
    P(m beats b) = σ(θ + φ·tanh(Δlen / std(Δlen))), Δlen = len(baseline) − len(model) in characters;
    LC = σ(θ), the win rate with the length difference set to 0. Differences from AlpacaEval, on purpose:
    no instruction-difficulty term (it needs difficulties pre-fitted on many models' outputs for the
    same instructions), and a plain MLE instead of L1 LogisticRegressionCV with gamed-baseline rows.
    The CI bootstraps that model's battles. `score` is LC in [0, 1]; `raw_win_rate` is beside it."""
    battles = check_battles(battles)
    for col in ("len_a", "len_b"):
        if col not in battles.columns or battles[col].isna().any():
            raise EvalkitError(f"battles: field '{col}': the length-controlled win rate needs response lengths")
    involved = (battles["model_a"] == baseline) | (battles["model_b"] == baseline)
    if not involved.any():
        names = sorted(set(battles["model_a"]) | set(battles["model_b"]))
        raise EvalkitError(f"--baseline: '{baseline}' has no battles; models: {', '.join(names)}")
    rng = np.random.default_rng(seed)
    rows = []
    bt = battles[involved]
    for model in sorted((set(bt["model_a"]) | set(bt["model_b"])) - {baseline}):
        mine = bt[(bt["model_a"] == model) | (bt["model_b"] == model)]
        as_a = (mine["model_a"] == model).to_numpy()
        y = np.where(as_a, mine["winner"].map({"model_a": 1.0, "model_b": 0.0, "tie": 0.5}),
                     mine["winner"].map({"model_a": 0.0, "model_b": 1.0, "tie": 0.5}))
        len_m = np.where(as_a, mine["len_a"], mine["len_b"]).astype(float)
        len_b = np.where(as_a, mine["len_b"], mine["len_a"]).astype(float)
        boots = np.array([_lc(y[idx], len_m[idx], len_b[idx]) for idx in resamples(len(y), n_boot, rng)])
        score, raw = _lc(y, len_m, len_b), float(y.mean())
        lo, hi = percentile_interval(boots)
        rows.append({"model": model, "score": score, "ci_low": lo, "ci_high": hi, "raw_win_rate": raw, "n_battles": len(y),
                     "wins": int((y == 1).sum()), "losses": int((y == 0).sum()), "ties": int((y == 0.5).sum()),
                     # AlpacaEval warns when LC and raw differ this much: the GLM may have failed
                     "lc_warning": abs(score - raw) > max(0.10, 0.25 * raw)})
    df = pd.DataFrame(rows)
    df["rank"] = df["score"].rank(ascending=False, method="min").astype(int)
    df["rank_ub"] = _rank_ub(df["ci_low"].to_numpy(), df["ci_high"].to_numpy())
    return df.sort_values(["rank", "model"]).reset_index(drop=True)


def rank(battles: pd.DataFrame, method: str = "bt", baseline: str | None = None, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    if method == "bt":
        return bradley_terry(battles, n_boot=n_boot, seed=seed)
    if method == "elo":
        return elo(battles, n_boot=n_boot, seed=seed)
    if method == "winrate":
        return win_rate(battles, n_boot=n_boot, seed=seed)
    if method == "lc":
        if baseline is None:
            raise EvalkitError("--baseline: the length-controlled win rate needs a baseline model")
        return length_controlled(battles, baseline, n_boot=n_boot, seed=seed)
    from ..errors import did_you_mean

    raise did_you_mean("ranking method", method, METHODS)


def battles_from_verdicts(pairs: Sequence[tuple[str, str]], winners: Sequence[str | None]) -> pd.DataFrame:
    """(model_a, model_b) + pair verdicts A / B / tie (None: unparsed, dropped as FastChat does)."""
    rows = [{"model_a": a, "model_b": b, "winner": {"A": "model_a", "B": "model_b", "tie": "tie"}[w]}
            for (a, b), w in zip(pairs, winners) if w is not None]
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])
