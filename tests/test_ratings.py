"""Bradley–Terry, Elo, win rate, the length-controlled win rate, and live Swiss pairing."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from evalkit.errors import EvalkitError
from evalkit.tournaments.live_swiss import Standings, kendall_tau, n_rounds, pair_round
from evalkit.tournaments.ratings import LN10, bradley_terry, elo, length_controlled, win_rate


def simulate(beta, n, seed, lengths=None):
    """Battles drawn from a BT model P(i beats j) = σ(ln10 (β_i − β_j)) (no ties)."""
    rng = np.random.default_rng(seed)
    m = len(beta)
    i = rng.integers(0, m, n)
    j = (i + rng.integers(1, m, n)) % m
    p = 1 / (1 + np.exp(-LN10 * (beta[i] - beta[j])))
    win = rng.random(n) < p
    df = pd.DataFrame({"model_a": [f"m{k}" for k in i], "model_b": [f"m{k}" for k in j],
                       "winner": np.where(win, "model_a", "model_b")})
    return df


def test_bt_recovers_known_strengths_and_cis_cover_them():
    beta = np.array([-0.5, -0.2, 0.0, 0.15, 0.55])
    beta -= beta.mean()
    truth = 400 * beta + 1000
    covered, total = 0, 0
    for seed in range(30):
        r = bradley_terry(simulate(beta, 1500, seed), n_boot=100, seed=seed).set_index("model")
        est = r.loc[[f"m{k}" for k in range(5)]]
        if seed == 0:
            assert np.abs(est["score"].to_numpy() - truth).max() < 25
            assert list(r.index) == ["m4", "m3", "m2", "m1", "m0"]
        covered += int(((est["ci_low"] <= truth) & (truth <= est["ci_high"])).sum())
        total += 5
    # nominal 95%; 150 intervals: binomial sd ~1.8 points, and the percentile bootstrap runs a little narrow
    assert 0.85 <= covered / total <= 1.0


def test_bt_point_estimate_and_ci_do_not_depend_on_the_seed():
    # issue 16: the CI is the posterior's normal approximation, so only degenerate_resamples is seeded
    df = simulate(np.array([0.0, 0.3, -0.2]), 400, 1)
    a, b = bradley_terry(df, n_boot=20, seed=1), bradley_terry(df, n_boot=20, seed=2)
    assert np.allclose(a["score"], b["score"]) and np.allclose(a["ci_low"], b["ci_low"])
    assert (a["degenerate_resamples"] == 0).all() and a.attrs["method"]["mle_exists"]


def test_bt_two_models_closed_form_and_ties():
    # 30 wins, 10 losses, 20 ties for x over y: ties are half wins, so p = 40/60 and
    # β_x − β_y = log10(p / (1 − p)); centred ratings are ±200·log10(2)
    df = pd.DataFrame({"model_a": ["x"] * 60, "model_b": ["y"] * 60, "winner": ["model_a"] * 30 + ["model_b"] * 10 + ["tie"] * 20})
    r = bradley_terry(df, n_boot=10, prior=0).set_index("model")  # the plain MLE
    assert r.loc["x", "score"] - r.loc["y", "score"] == pytest.approx(400 * math.log10(2), abs=0.5)
    assert (r.loc["x", "wins"], r.loc["x", "losses"], r.loc["x", "ties"]) == (30, 10, 20)
    # with the default prior (1 virtual tie of each against the pool at β = 0), by symmetry β_x = −β_y = d
    # solves ∂/∂β_x = ln10·(40 − 60·σ(2·ln10·d)) + ln10·(1/2 − σ(ln10·d)) = 0 (x's 40 points in 60 battles)
    sig = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    d = brentq(lambda d: LN10 * (40 - 60 * sig(2 * LN10 * d)) + LN10 * (0.5 - sig(LN10 * d)), 0, 1)
    r = bradley_terry(df, n_boot=10).set_index("model")
    assert r.loc["x", "score"] == pytest.approx(1000 + 400 * d, abs=1e-6)
    assert r.loc["x", "score"] - r.loc["y", "score"] < 400 * math.log10(2)  # shrunk a little towards the pool


def battles(rows):
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])


def test_mle_exists_is_strong_connectivity_of_who_took_points_from_whom():
    ok = battles([("a", "b", "model_a"), ("b", "c", "model_a"), ("c", "a", "model_a")])  # a cycle
    chain = battles([("a", "b", "model_a"), ("b", "c", "model_a"), ("a", "c", "model_a")])  # a never loses
    tie = battles([("a", "b", "model_a"), ("a", "b", "tie")])  # a tie gives b points from a
    assert bradley_terry(ok, n_boot=5).attrs["method"]["mle_exists"]
    assert not bradley_terry(chain, n_boot=5).attrs["method"]["mle_exists"]
    assert bradley_terry(tie, n_boot=5).attrs["method"]["mle_exists"]
    soft = tie.assign(score=[0.9, 1.0])  # soft shares: b took 0.1 of the first battle
    assert bradley_terry(soft.iloc[:1], n_boot=5).attrs["method"]["mle_exists"]
    assert not bradley_terry(soft.iloc[1:], n_boot=5).attrs["method"]["mle_exists"]


def test_separable_battles_get_finite_prior_set_ratings_flagged_degenerate():
    # issue 16: 20 battles where z never wins. Without a prior the MLE is infinite and the old ridge
    # put z anywhere (-627 at l2=1e-6); with the prior z is finite, below x and y, and every resample is flagged
    df = battles([("x", "y", "model_a"), ("y", "x", "model_a"), ("z", "x", "model_b"), ("z", "y", "model_b")] * 5)
    r = bradley_terry(df, n_boot=50).set_index("model")
    assert r["degenerate_resamples"].eq(1.0).all() and not r.attrs["method"]["mle_exists"]
    assert np.isfinite(r[["score", "ci_low", "ci_high"]].to_numpy()).all()
    assert 400 < r.loc["z", "score"] < r.loc["x", "ci_low"] and r.loc["x", "score"] == pytest.approx(r.loc["y", "score"])
    assert r.loc["z", "ci_high"] - r.loc["z", "ci_low"] < 1000  # the [-490, 1049]-style interval is gone
    # the estimate answers to the stated prior, smoothly: more virtual ties, less extreme
    z = [bradley_terry(df, n_boot=5, prior=p).set_index("model").loc["z", "score"] for p in (0.5, 1, 2, 4)]
    assert z == sorted(z) and z[0] > 400 and r.attrs["method"]["prior"].startswith("1 virtual tie")


def test_sparse_battles_report_a_share_of_degenerate_resamples():
    # a player with 3 wins in 12 battles: the data have an MLE, but some resamples lose all 3 wins
    rows = [("p", "q", "model_a")] * 3 + [("p", "q", "model_b")] * 5 + [("q", "r", "model_a"), ("r", "q", "model_a")] * 2
    r = bradley_terry(battles(rows), n_boot=400, seed=0)
    share = r["degenerate_resamples"].iloc[0]
    # P(a multinomial resample of 12 has no p-win or no r-win or no q-beats-r ...) is well inside (0, 1)
    assert r.attrs["method"]["mle_exists"] and 0.05 < share < 0.6
    assert r.attrs["method"]["degenerate_resamples"] == share


def test_soft_outcomes_make_coin_flip_verdicts_near_ties():
    # issue 16: preferences within 0.02 of 0.5 counted as full wins made a player first; as soft
    # outcomes the two are almost level, and a clear preference still separates them
    flips = battles([("empty", "good", "model_a")] * 8).assign(score=0.51)
    hard = bradley_terry(flips.drop(columns="score"), n_boot=5).set_index("model")["score"]
    soft = bradley_terry(flips, n_boot=5).set_index("model")
    assert hard["empty"] - hard["good"] > 300
    assert abs(soft.loc["empty", "score"] - soft.loc["good", "score"]) < 10
    assert soft.loc["empty", "wins"] == 8  # the counts stay those of `winner`
    clear = bradley_terry(flips.assign(score=0.9), n_boot=5).set_index("model")["score"]
    assert clear["empty"] - clear["good"] > 200
    assert win_rate(flips, n_boot=5).set_index("model").loc["empty", "score"] == pytest.approx(0.51)
    with pytest.raises(EvalkitError, match="field 'score'"):
        bradley_terry(flips.assign(score=1.5))


def test_bt_ci_coverage_at_tournament_sizes():
    # issue 16: 95% nominal must give >= 90% on synthetic data (bigger version: scripts/ci_coverage.py)
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("ci_coverage", Path(__file__).parent.parent / "scripts" / "ci_coverage.py")
    sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sim)
    for beta, n in [([-0.3, -0.1, 0.1, 0.3], 24), ([-0.4, 0.0, 0.4], 12)]:
        coverage, degenerate = sim.bt_coverage(beta, n, reps=80, n_boot=20)
        assert coverage >= 0.90, (beta, n, coverage)
        assert degenerate > 0  # these sizes are fragile, and the report says so


def test_rank_ub_shares_ranks_when_cis_overlap():
    df = pd.concat([simulate(np.array([0.0, 0.01, 1.0]), 300, 3)])
    r = bradley_terry(df, n_boot=100).set_index("model")
    assert r.loc["m2", "rank_ub"] == 1
    assert r.loc["m0", "rank_ub"] == r.loc["m1", "rank_ub"] == 2  # indistinguishable pair shares rank 2


def test_elo_matches_fastchat_update_by_hand():
    df = pd.DataFrame({"model_a": ["a", "a", "b"], "model_b": ["b", "b", "a"], "winner": ["model_a", "tie", "model_a"]})
    r = elo(df, n_boot=5).set_index("model")["score"]
    ra, rb = 1000.0, 1000.0
    for x, _, s in [("a", "b", 1.0), ("a", "b", 0.5), ("b", "a", 1.0)]:
        rx, ry = (ra, rb) if x == "a" else (rb, ra)
        e = 1 / (1 + 10 ** ((ry - rx) / 400))
        rx, ry = rx + 4 * (s - e), ry - 4 * (s - e)
        ra, rb = (rx, ry) if x == "a" else (ry, rx)
    assert r["a"] == pytest.approx(ra) and r["b"] == pytest.approx(rb)


def test_win_rate_counts_ties_as_half():
    df = pd.DataFrame({"model_a": ["a", "a", "b", "c"], "model_b": ["b", "c", "c", "a"], "winner": ["model_a", "tie", "model_b", "model_a"]})
    r = win_rate(df, n_boot=50).set_index("model")["score"]
    assert r["a"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert r["c"] == pytest.approx((0.5 + 1 + 1) / 3)


def test_length_controlled_win_rate_removes_a_pure_length_effect():
    # the judge prefers whichever answer is longer; the model is as good as the baseline otherwise
    rng = np.random.default_rng(0)
    n = 600
    len_m = rng.integers(100, 900, n)
    len_b = rng.integers(100, 900, n)
    p = 1 / (1 + np.exp(-2.5 * np.tanh((len_m - len_b) / 300)))
    win = rng.random(n) < p
    verbose = pd.DataFrame({"model_a": "m", "model_b": "base", "winner": np.where(win, "model_a", "model_b"),
                            "len_a": len_m + 300, "len_b": len_b})  # m pads every answer by 300 characters
    win2 = rng.random(n) < 1 / (1 + np.exp(-2.5 * np.tanh((len_m + 300 - len_b) / 300)))
    verbose["winner"] = np.where(win2, "model_a", "model_b")
    r = length_controlled(verbose, "base", n_boot=50).set_index("model")
    assert r.loc["m", "raw_win_rate"] > 0.7  # padding wins raw
    assert abs(r.loc["m", "score"] - 0.5) < 0.08  # LC puts it back near parity
    with pytest.raises(EvalkitError, match="baseline"):
        length_controlled(verbose, "nobody")
    with pytest.raises(EvalkitError, match="len_a"):
        length_controlled(verbose.drop(columns="len_a"), "base")


def test_bad_battles_are_named():
    with pytest.raises(EvalkitError, match="field 'winner'"):
        bradley_terry(pd.DataFrame({"model_a": ["a"], "model_b": ["b"], "winner": ["a"]}))
    with pytest.raises(EvalkitError, match="itself"):
        bradley_terry(pd.DataFrame({"model_a": ["a"], "model_b": ["a"], "winner": ["tie"]}))


# ------------------------------------------------------------------ live Swiss


def play(st, pairs, strength):
    for a, b in pairs:
        if strength[a] >= strength[b]:
            st.record(a, b, 1.0, 0.0)
        else:
            st.record(a, b, 0.0, 1.0)


def test_four_players_three_rounds_complete_the_round_robin():
    names = ["a", "b", "c", "d"]
    st = Standings(names)
    strength = {"a": 4, "b": 3, "c": 2, "d": 1}
    seen = []
    for _ in range(3):
        pairs, bye = pair_round(st)
        assert bye is None and len(pairs) == 2
        seen += [frozenset(p) for p in pairs]
        play(st, pairs, strength)
    assert sorted(map(sorted, seen)) == sorted(map(sorted, (frozenset(p) for p in itertools.combinations(names, 2))))


def test_no_rematch_while_an_alternative_exists_and_byes_only_to_eligible_models():
    rng = np.random.default_rng(0)
    for _ in range(20):
        m = int(rng.integers(5, 12))
        names = [f"x{i}" for i in range(m)]
        strength = dict(zip(names, rng.permutation(m)))
        st = Standings(names)
        played = 0
        for _ in range(n_rounds(m, 1)):
            pairs, bye = pair_round(st)
            players = [x for p in pairs for x in p] + ([bye] if bye else [])
            assert sorted(players) == sorted(names)  # everyone plays or has the bye, once
            if m % 2:
                assert bye is not None
                if len(st.byes) < m:
                    assert bye not in st.byes  # nobody gets a second bye while someone has had none
            # brute force: does a rematch-free perfect pairing of the non-bye players exist?
            rest = [x for x in names if x != bye]
            rematches = sum(frozenset(p) in st.met for p in pairs)
            if rematches:
                assert not _rematch_free_exists(rest, st.met)
            play(st, pairs, strength)
            played += len(pairs) + (bye is not None)
            if bye:
                st.give_bye(bye)
        assert sum(st.points.values()) == played  # a point per match and per bye


def _rematch_free_exists(players, met):
    if not players:
        return True
    a = players[0]
    return any(frozenset((a, b)) not in met and _rematch_free_exists([x for x in players[1:] if x != b], met) for b in players[1:])


def test_bye_scores_as_a_win_and_goes_to_the_lowest_eligible():
    st = Standings(["a", "b", "c"])
    st.points.update({"a": 2, "b": 1, "c": 0})
    _, bye = pair_round(st)
    assert bye == "c"
    st.give_bye("c")
    assert st.points["c"] == 1.0
    st.points.update({"a": 2, "b": 0, "c": 0})
    _, bye = pair_round(st)
    assert bye == "b"  # c already had one


def test_slot_balance_gives_slot_a_to_whoever_had_it_less():
    st = Standings(["a", "b"])
    st.slot_a.update({"a": 3, "b": 1})
    pairs, _ = pair_round(st)
    assert pairs == [("b", "a")]


def test_kendall_tau():
    assert kendall_tau(list("abcd"), list("abcd")) == 1.0
    assert kendall_tau(list("abcd"), list("dcba")) == -1.0
    assert kendall_tau(list("abcd"), list("bacd")) == pytest.approx(1 - 2 / 6)
