"""Competitive Swiss-System Dynamics: exact enumeration, the algorithm's invariants, seeds, loaders, CLI."""

import json
import subprocess
import sys
from fractions import Fraction
from itertools import combinations, permutations, product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import EVALKIT, REPO
from evalkit.errors import EvalkitError
from evalkit.tournaments.csd import _rng, csd_summary, play, simulate, simulate_loop, win_table
from evalkit.tournaments.scores import load_rounds, load_scores, normalize, select


def exact_expected(scores, rounds, T, tiebreak):
    """E[S_m] by enumerating every shuffle of every bucket (and every tied cut for `random`),
    written straight from the authors' swiss.py, with exact fractions."""
    M = len(scores)
    means = [[sum(scores[m][b] for b in g) / len(g) for m in range(M)] for g in rounds]
    total = [Fraction(0)] * M

    def cuts(remaining, S):
        if T == 0:
            return [((), Fraction(1))]
        k = min(T, len(remaining))
        order = sorted(remaining, key=lambda x: S[x])  # stable: lowest index first among ties
        if tiebreak == "index":
            return [(tuple(order[:k]), Fraction(1))]
        level = S[order[k - 1]]
        below = [m for m in remaining if S[m] < level]
        tied = [m for m in remaining if S[m] == level]
        options = list(combinations(tied, k - len(below)))
        return [(tuple(below) + c, Fraction(1, len(options))) for c in options]

    def rec(r, S, remaining, p):
        if r == len(rounds) or len(remaining) <= 1:
            for m in range(M):
                total[m] += p * S[m]
            return
        groups = {}
        for m in sorted(remaining, key=lambda x: S[x], reverse=True):
            groups.setdefault(S[m], []).append(m)
        shuffles = [list(permutations(g)) for g in groups.values()]
        n = 1
        for s in shuffles:
            n *= len(s)
        for combo in product(*shuffles):
            S2 = list(S)
            for group in combo:
                for i in range(0, len(group) - 1, 2):
                    a, b = group[i], group[i + 1]
                    S2[a if means[r][a] > means[r][b] else b] += 1
            for out, q in cuts(remaining, S2):
                rec(r + 1, S2, [m for m in remaining if m not in out], p * q / n)

    rec(0, [0] * M, list(range(M)), Fraction(1))
    return np.array([float(x) for x in total])


# 4 models; round 2 is an exact tie for everyone (pure coin flips), rounds 1 and 3 reorder them.
TOY = [
    [0.9, 0.2, 0.5, 0.5, 0.1],
    [0.6, 0.8, 0.5, 0.4, 0.3],
    [0.3, 0.7, 0.5, 0.9, 0.2],
    [0.1, 0.1, 0.5, 0.2, 0.9],
]
TOY_ROUNDS = [[0], [1, 2], [2], [3, 4]]


def within(est, se, exact, k=5.0):
    return np.all(np.abs(est - exact) <= k * se + 1e-9), np.max(np.abs(est - exact) / np.maximum(se, 1e-12))


@pytest.mark.parametrize("tiebreak", ["index", "random"])
def test_vectorised_matches_exact_enumeration(tiebreak):
    res = simulate(TOY, TOY_ROUNDS, n_runs=20_000, elims=(0, 1, 2), tiebreak=tiebreak, seed=3)
    for T in (0, 1, 2):
        exact = exact_expected(TOY, TOY_ROUNDS, T, tiebreak)
        ok, z = within(res.E_S[T], res.mc_stderr[T], exact)
        assert ok, (T, res.E_S[T], exact, z)


def test_row_scan_fallback_matches_exact_enumeration(monkeypatch):
    # without np.bitwise_count (numpy < 2, or more than 62 rounds) the bucket-rank parity comes from a row scan
    monkeypatch.delattr(np, "bitwise_count")
    res = simulate(TOY, TOY_ROUNDS, n_runs=20_000, elims=(0, 1), tiebreak="random", seed=4)
    for T in (0, 1):
        ok, z = within(res.E_S[T], res.mc_stderr[T], exact_expected(TOY, TOY_ROUNDS, T, "random"))
        assert ok, (T, z)


@pytest.mark.parametrize("tiebreak", ["index", "random"])
def test_loop_reference_matches_exact_enumeration(tiebreak):
    res = simulate_loop(TOY, TOY_ROUNDS, n_runs=4_000, elims=(0, 2), tiebreak=tiebreak, seed=1, mean_per_match=False)
    for T in (0, 2):
        ok, z = within(res.E_S[T], res.mc_stderr[T], exact_expected(TOY, TOY_ROUNDS, T, tiebreak))
        assert ok, (T, z)


def test_hand_computed_total_order():
    # A > B > C > D on every benchmark, 2 rounds: A always wins twice; B and C always end on 1
    # (round-1 winners other than A meet A; the loser of A meets the other loser and beats it); D on 0.
    scores = [[4, 4], [3, 3], [2, 2], [1, 1]]
    res = simulate(scores, [[0], [1]], n_runs=5_000, elims=(0,), seed=0)
    assert res.E_S[0].tolist() == [2.0, 1.0, 1.0, 0.0] and res.mc_stderr[0].tolist() == [0.0] * 4
    assert exact_expected(scores, [[0], [1]], 0, "index").tolist() == [2.0, 1.0, 1.0, 0.0]


def test_exact_tie_is_a_coin_flip():
    res = simulate([[0.5], [0.5]], [[0]], n_runs=20_000, elims=(0,), seed=5)
    assert np.all(np.abs(res.E_S[0] - 0.5) < 5 * res.mc_stderr[0])


def test_vectorised_matches_loop_on_odd_table_with_ties():
    rng = np.random.default_rng(11)
    scores = rng.integers(0, 4, size=(7, 6)).astype(float)  # small integers: many exact ties
    scores[3] = scores[5]  # two identical models
    rounds = [[0, 1], [2], [3, 4, 5], [1, 3]]
    vec = simulate(scores, rounds, n_runs=20_000, elims=(0, 1, 2), tiebreak="index", seed=2)
    loop = simulate_loop(scores, rounds, n_runs=3_000, elims=(0, 1, 2), tiebreak="index", seed=2)
    for T in (0, 1, 2):
        z = np.abs(vec.E_S[T] - loop.E_S[T]) / np.sqrt(vec.mc_stderr[T] ** 2 + loop.mc_stderr[T] ** 2 + 1e-18)
        assert np.all(z < 5), (T, z)


def _record(scores, rounds, T, tiebreak, n=3_000, seed=0):
    return play(win_table(np.asarray(scores, float), rounds), n, T, tiebreak, _rng(seed, T), record=True)


def test_points_equal_matches_and_dominant_model_wins_every_round():
    rng = np.random.default_rng(4)
    scores = rng.random((8, 5))
    scores[6] = 2.0  # beats everyone on every benchmark
    rounds = [[0], [1, 2], [3, 4]]  # 8 models, 3 rounds: the top bucket never has an odd size, so no bye
    for T in (0, 2):
        t = _record(scores, rounds, T, "random")
        assert np.array_equal(t.points.sum(axis=1), t.matches)  # one point per match played
        assert np.all(t.points[:, 6] == len(rounds))
        assert np.array_equal(t.points, t.history[-1])
    # odd M: the odd one out of a bucket gets a zero-point bye, even the dominant model
    scores9 = np.vstack([scores, rng.random((1, 5))])
    t = _record(scores9, rounds, 0, "random", n=9_000)
    assert np.all(t.history[1].sum(axis=1) == 4)  # round 1: one bucket of 9 -> 4 matches, 1 bye
    bye_share = np.mean(t.history[1][:, 6] == 0)
    assert abs(bye_share - 1 / 9) < 5 * np.sqrt((1 / 9) * (8 / 9) / 9_000)
    assert np.array_equal(t.points.sum(axis=1), t.matches)


@pytest.mark.parametrize("tiebreak", ["index", "random"])
def test_elimination_rules(tiebreak):
    rng = np.random.default_rng(8)
    scores = rng.integers(0, 3, size=(8, 4)).astype(float)
    rounds = [[0], [1], [2, 3], [0, 2], [1, 3]]
    T = 2
    t = _record(scores, rounds, T, tiebreak, n=2_000)
    alive, hist = t.alive, t.history
    M = scores.shape[0]
    for r in range(len(rounds)):
        n_alive = max(M - T * (r + 1), 0)
        assert np.all(alive[r + 1].sum(axis=1) == n_alive)  # T fewer after every round
        gone = alive[r] & ~alive[r + 1]
        # eliminated models are among the lowest: no survivor has a lower S
        low_surv = np.where(alive[r + 1], hist[r + 1], 10**6).min(axis=1)
        high_gone = np.where(gone, hist[r + 1], -1).max(axis=1)
        assert np.all((high_gone <= low_surv) | (high_gone < 0))
    # eliminated models stop scoring
    for r in range(1, len(rounds) + 1):
        dead = ~alive[r]
        assert np.array_equal(hist[-1][dead], hist[r][dead])
    if tiebreak == "index":
        for run in range(200):  # the authors' cut: stable sort of the remaining (index order) by S
            remaining = list(range(M))
            for r in range(len(rounds)):
                S = hist[r + 1][run]
                cut = sorted(remaining, key=lambda x: S[x])[:T]
                remaining = [m for m in remaining if m not in cut]
                assert sorted(remaining) == np.flatnonzero(alive[r + 1][run]).tolist()


def test_random_vs_index_tiebreak_at_the_cut():
    # strict order 0 > 1 > 2 > 3: after round 1 the two losers tie on S = 0 and one is cut.
    scores = [[4.0], [3.0], [2.0], [1.0]]
    rounds = [[0], [0]]
    for tiebreak, expect in (("index", 1.0), ("random", 0.5)):
        t = _record(scores, rounds, 1, tiebreak, n=8_000, seed=9)
        losers = (t.history[1] == 0)
        gone = t.alive[0] & ~t.alive[1]
        lower_loser = np.argmax(losers, axis=1)  # lowest index among the two losers
        share = np.mean(gone[np.arange(len(gone)), lower_loser])
        assert abs(share - expect) < 5 * np.sqrt(0.25 / len(gone)) + 1e-12, (tiebreak, share)


def test_seeds():
    rng = np.random.default_rng(0)
    scores, rounds = rng.random((11, 6)), [[0, 1], [2], [3, 4], [5]]
    a = simulate(scores, rounds, n_runs=5_000, seed=7)
    b = simulate(scores, rounds, n_runs=5_000, seed=7)
    c = simulate(scores, rounds, n_runs=5_000, seed=8)
    assert all(np.array_equal(a.E_S[T], b.E_S[T]) for T in (0, 1, 2))
    assert not np.array_equal(a.E_S[0], c.E_S[0])
    # one setting alone draws the same as within the set (each T has its own derived stream)
    assert np.array_equal(simulate(scores, rounds, n_runs=5_000, elims=(2,), seed=7).E_S[2], a.E_S[2])


def test_summary_shape():
    res = simulate(TOY, TOY_ROUNDS, n_runs=1_000, seed=0)
    s = csd_summary(res, ["a", "b", "c", "d"], [["x"], ["y", "z"], ["z"], ["u", "v"]], task="toy")
    assert s["kind"] == "csd" and s["schema"] == "evalkit.summary/v1" and s["n_runs"] == 1_000
    e = s["entries"][0]
    assert set(e["E_S"]) == {"0", "1", "2"} == set(e["mc_stderr"])
    assert e["fsa_drop"] == pytest.approx(e["E_S"]["2"] - e["E_S"]["0"])
    assert [x["E_S"]["2"] for x in s["entries"]] == sorted((x["E_S"]["2"] for x in s["entries"]), reverse=True)
    assert s["metrics"]["n_models"]["value"] == 4 and s["metrics"]["n_rounds"]["value"] == 4
    assert s["breakdown"]["model"][e["model"]]["E_S_T0"]["value"] == e["E_S"]["0"]


def test_bad_simulate_arguments():
    with pytest.raises(EvalkitError, match="tiebreak"):
        simulate(TOY, TOY_ROUNDS, tiebreak="coin")
    with pytest.raises(EvalkitError, match=r"rounds\[1\]: benchmark index"):
        simulate(TOY, [[0], [7]])


# ----------------------------------------------------------------------------- loaders


CSV = """# synthetic
model,mmlu,gsm8k,arc
m1,0.5,0.2,0.9
m2,0.6,,0.8
m3,0.7,0.4,0.7
"""


def test_csv_loader_and_select(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(CSV)
    df = load_scores(p)
    assert list(df.index) == ["m1", "m2", "m3"] and list(df.columns) == ["mmlu", "gsm8k", "arc"]
    X, idx, models, benches = select(df, [["arc"], ["mmlu", "arc"]])
    assert benches == ["arc", "mmlu"] and idx == [[0], [1, 0]] and X[:, 1].tolist() == [0.5, 0.6, 0.7]
    with pytest.raises(EvalkitError, match=r"s\.csv:4: field 'gsm8k': no score for model 'm2'"):
        select(df, [["gsm8k"]])
    with pytest.raises(EvalkitError, match=r"r\.yaml: field 'rounds\[1\]': unknown benchmark 'gsm8'; did you mean 'gsm8k'\?"):
        select(df, [["arc"], ["gsm8"]], rounds_file="r.yaml")


@pytest.mark.parametrize(
    "text, expect",
    [
        ("model,a\nm1,0.5\nm2,high\n", r"s\.csv:3: field 'a': not a number: 'high'"),
        ("name,a\nm1,1\nm2,2\n", r"s\.csv: field 'model': missing column"),
        ("model,a\nm1,1\nm1,2\n", r"s\.csv:3: field 'model': 'm1' already on line 2"),
        ("model,a\nm1,1\nm2,2,3\n", r"s\.csv:3: expected 2 fields, got 3"),
        ("model,a\nm1,1\n", r"at least 2 models"),
    ],
)
def test_csv_errors(tmp_path, text, expect):
    p = tmp_path / "s.csv"
    p.write_text(text)
    with pytest.raises(EvalkitError, match=expect):
        load_scores(p)


def _lm_eval_file(path: Path, model_args, tasks: dict, model_name=None):
    doc = {
        "results": {t: {"alias": t, **m} for t, m in tasks.items()},
        "group_subtasks": {t: [] for t in tasks},
        "configs": {t: {"task": t, "num_fewshot": 0} for t in tasks},
        "versions": {t: 1.0 for t in tasks},
        "n-shot": {t: 0 for t in tasks},
        "higher_is_better": {t: {"acc": True, "acc_norm": True} for t in tasks},
        "n-samples": {t: {"original": 100, "effective": 100} for t in tasks},
        "config": {"model": "hf", "model_args": model_args, "batch_size": 1, "batch_sizes": [], "device": "cpu",
                   "use_cache": None, "limit": None, "bootstrap_iters": 100000, "gen_kwargs": None,
                   "random_seed": 0, "numpy_seed": 1234, "torch_seed": 1234, "fewshot_seed": 1234},
        "git_hash": "abc1234", "date": 1735689600.0, "transformers_version": "4.57.0", "lm_eval_version": "0.4.9",
        "task_hashes": {t: "0" * 64 for t in tasks},
        "model_source": "hf", "model_name_sanitized": "x",
        "start_time": 1.0, "end_time": 2.0, "total_evaluation_time_seconds": "1.0",
    }
    if model_name is not None:
        doc["model_name"] = model_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def test_lm_eval_loader(tmp_path):
    _lm_eval_file(tmp_path / "a" / "results_2025-01-01T00-00-00.json", "pretrained=org/model-a,dtype=float32",
                  {"arc_easy": {"acc,none": 0.61, "acc_stderr,none": 0.01, "acc_norm,none": 0.55, "acc_norm_stderr,none": "N/A"},
                   "gsm8k": {"exact_match,strict-match": 0.12, "exact_match_stderr,strict-match": 0.01}})
    _lm_eval_file(tmp_path / "b" / "results_2025-01-02T00-00-00.json", {"pretrained": "ignored"},
                  {"arc_easy": {"acc,none": 0.71, "acc_stderr,none": 0.01, "acc_norm,none": 0.65},
                   "gsm8k": {"exact_match,strict-match": 0.30}}, model_name="org/model-b")
    df = load_scores([tmp_path])  # each task's first metric
    assert df.loc["org/model-a", "arc_easy"] == 0.61 and df.loc["org/model-b", "arc_easy"] == 0.71
    assert df.loc["org/model-a", "gsm8k"] == 0.12 and df.attrs["metric"] == {"arc_easy": "acc", "gsm8k": "exact_match,strict-match"}
    assert load_scores(str(tmp_path / "*" / "results_*.json"), metric="acc_norm").loc["org/model-b", "arc_easy"] == 0.65
    with pytest.raises(EvalkitError, match=r"results_2025-01-01T00-00-00\.json: field 'results\.gsm8k\.acc,none': missing "
                                           r"\(has: exact_match,strict-match\); choose one with --metric gsm8k=METRIC"):
        select(load_scores(tmp_path, metric="acc"), [["gsm8k"]])
    gsm = load_scores(tmp_path, metric="exact_match,strict-match")
    assert gsm.loc["org/model-a", "gsm8k"] == 0.12


def _evalkit_run(root: Path, task: str, model: str, metrics: dict):
    d = root / task / model / "r1"
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps({"run_id": "r1", "task": {"name": task}, "model": {"name": model},
                                                 "backend": {"backend": "hf"}, "status": "complete"}))
    (d / "summary.json").write_text(json.dumps({
        "schema": "evalkit.summary/v1", "task": task, "kind": "mcq", "model": model, "backend": "hf", "run_id": "r1",
        "seed": 0, "n_samples": 10, "metrics": {k: {"value": v, "stderr": 0.1, "n": 10} for k, v in metrics.items()},
        "breakdown": {"category": {"x": {"acc": {"value": 0.0, "n": 1}}}}}))
    return d


def test_evalkit_summary_loader(tmp_path):
    _evalkit_run(tmp_path, "mcq", "m1", {"acc": 0.4, "acc_norm": 0.5})
    _evalkit_run(tmp_path, "mcq", "m2", {"acc": 0.6, "acc_norm": 0.3})
    d = _evalkit_run(tmp_path, "posix_mcq", "m1", {"posix": 0.2})
    _evalkit_run(tmp_path, "posix_mcq", "m2", {"posix": 0.1})
    df = load_scores(tmp_path)  # first metric of each summary
    assert df.loc["m2", "mcq"] == 0.6 and df.loc["m1", "posix_mcq"] == 0.2
    assert load_scores(str(tmp_path / "mcq" / "*"), metric="acc_norm").loc["m1", "mcq"] == 0.5
    assert load_scores([d / "summary.json", tmp_path / "posix_mcq" / "m2"]).loc["m2", "posix_mcq"] == 0.1
    with pytest.raises(EvalkitError, match="also given by"):
        load_scores([tmp_path, tmp_path / "mcq"])
    with pytest.raises(EvalkitError, match=r"summary\.json: field 'metrics\.acc_norm': missing \(has: posix\)"):
        select(load_scores(tmp_path, metric="acc_norm"), [["posix_mcq"]])
    csv = tmp_path / "extra.csv"
    csv.write_text("model,arc\nm1,0.3\nm3,0.4\n")
    mixed = load_scores([tmp_path, csv])
    assert mixed.loc["m3", "arc"] == 0.4
    with pytest.raises(EvalkitError, match=r"m1/r1/summary\.json: field 'mcq': no score for model 'm3' \(the model comes from .*extra\.csv:3\)"):
        select(mixed, [["mcq", "arc"]])


def test_rounds_file(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("- [a, b]\n- c\n- [2024]\n")
    assert load_rounds(p) == [["a", "b"], ["c"], ["2024"]]
    p.write_text("rounds:\n  - [a]\n")
    assert load_rounds(p) == [["a"]]
    p.write_text("- [a]\n- []\n")
    with pytest.raises(EvalkitError, match=r"r\.yaml: field 'rounds\[1\]'"):
        load_rounds(p)
    p.write_text("- [a\n")
    with pytest.raises(EvalkitError, match=r"r\.yaml:2: malformed YAML"):
        load_rounds(p)


def test_normalisations():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 1.0, 3.0], "c": [5.0, 5.0, 5.0]}, index=["x", "y", "z"])
    z = normalize(df, "zscore")
    assert z["a"].tolist() == pytest.approx([-1.224744871, 0.0, 1.224744871]) and z["c"].tolist() == [0.0, 0.0, 0.0]
    assert normalize(df, "minmax")["a"].tolist() == [0.0, 0.5, 1.0]
    assert normalize(df, "rank")["b"].tolist() == [0.25, 0.25, 1.0]
    assert normalize(df, "none").equals(df)
    with pytest.raises(EvalkitError, match="unknown normalisation 'z'"):
        normalize(df, "z")


# ----------------------------------------------------------------------------- CLI (the real console script)


DEMO_SCORES = str(REPO / "tasks" / "data" / "csd_demo_scores.csv")
DEMO_ROUNDS = str(REPO / "tasks" / "data" / "csd_demo_rounds.yaml")


def test_cli_swiss_writes_results(tmp_path):
    out = tmp_path / "o"
    proc = subprocess.run([EVALKIT, "swiss", DEMO_SCORES, "--rounds", DEMO_ROUNDS, "--n", "2000", "--seed", "1",
                           "--tiebreak", "index", "--normalize", "minmax", "-o", str(out), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert s["kind"] == "csd" and s["tiebreak"] == "index" and s["normalize"] == "minmax" and len(s["entries"]) == 8
    assert json.loads((out / "summary.json").read_text())["entries"] == s["entries"]
    assert len(pd.read_csv(out / "entries.csv")) == 8
    assert (out / "fsa_scatter.png").stat().st_size > 1000 and (out / "expected_scores.png").stat().st_size > 1000


def test_cli_swiss_bad_input_console_script(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- [instruction]\n- [readng]\n")
    proc = subprocess.run([EVALKIT, "swiss", DEMO_SCORES, "--rounds", str(bad), "--n", "100", "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"evalkit: error: {bad}: field 'rounds[1]': unknown benchmark 'readng'; did you mean 'reading'?"


@pytest.mark.parametrize(
    "extra, expect",
    [
        (["--elim", "0,x"], "--elim: expected distinct non-negative integers"),
        (["--tiebreak", "coin"], "--tiebreak: expected one of random, index, got 'coin'"),
        (["--normalize", "z"], "--normalize: unknown normalisation 'z'"),
        (["--n", "1"], "--n: must be >= 2"),
    ],
)
def test_cli_swiss_bad_options(tmp_path, capsys, extra, expect):
    from evalkit import cli

    sys.argv = ["evalkit", "swiss", DEMO_SCORES, "--rounds", DEMO_ROUNDS, "-o", str(tmp_path / "o"), *extra]
    with pytest.raises(SystemExit) as exc:
        cli.main()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and expect in err and len(err.strip().splitlines()) == 1, err


def test_csd_task_kind_matches_evalkit_swiss_and_feeds_the_leaderboard(tmp_path):
    data = REPO / "tasks/data"
    res = subprocess.run([EVALKIT, "run", "csd_demo", "-T", "n_runs=3000", "-q", "-o", "run"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([EVALKIT, "swiss", str(data / "csd_demo_scores.csv"), "--rounds", str(data / "csd_demo_rounds.yaml"),
                          "--n", "3000", "-o", "swiss"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    kind, cli = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("run", "swiss"))
    assert kind["model"] == "none" and kind["backend"] == "none"
    assert [e["model"] for e in kind["entries"]] == [e["model"] for e in cli["entries"]]
    for a, b in zip(kind["entries"], cli["entries"]):
        assert a["E_S"] == pytest.approx(b["E_S"]) and a["fsa_drop"] == pytest.approx(b["fsa_drop"])
    assert (tmp_path / "run/fsa_scatter.png").exists()
    res = subprocess.run([EVALKIT, "export", "leaderboard", "run", "-o", "lb.json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    board = json.loads((tmp_path / "lb.json").read_text())
    assert board["method"]["type"] == "swiss_csd" and board["entries"][0]["model"] == kind["entries"][0]["model"]
    assert set(board["entries"][0]["extras"]) >= {"E_S_T0", "E_S_T2", "fsa_drop"}
