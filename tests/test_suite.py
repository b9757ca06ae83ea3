"""Suites (many tasks x many models in one command) and the v2 leaderboard: ranking direction, the
paired bootstrap, rank stability under prompt variants, one model per checkpoint."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest

from conftest import EVALKIT
from evalkit.leaderboard import build_leaderboard, schema


def _records(root: Path) -> dict[str, list[str]]:
    """records.jsonl lines of every run under root, by run directory relative to root."""
    return {str(p.parent.relative_to(root)): p.read_text().splitlines() for p in sorted(root.rglob("records.jsonl"))}


def test_two_model_suite_end_to_end_resumes_and_reuses(tmp_path, tiny_perturbed):
    from evalkit import run_suite

    tasks = ["mcq", {"task": "formatspread_mcq", "overrides": {"n_formats": 3}}]
    df = run_suite(tasks, ["tiny-random", str(tiny_perturbed)], limit=4, out=tmp_path / "out")
    assert list(df["status"]) == ["complete"] * 4 and df.attrs["engine_loads"] == 2  # one engine per model
    assert {(r.task, Path(r.out).relative_to(tmp_path / "out").parts[:2]) for r in df.itertuples()} == {
        ("mcq", ("mcq", "tiny-random")), ("formatspread_mcq", ("formatspread_mcq", "tiny-random")),
        ("mcq", ("mcq", tiny_perturbed.as_posix().strip("/").replace("/", "_"))),
        ("formatspread_mcq", ("formatspread_mcq", tiny_perturbed.as_posix().strip("/").replace("/", "_")))}
    assert set(df["primary_metric"]) == {"acc", "spread"} and df["n"].tolist() == [4, 4, 4, 4]
    # the same call again: nothing is computed, no model is loaded
    again = run_suite(tasks, ["tiny-random", str(tiny_perturbed)], limit=4, out=tmp_path / "out")
    assert list(again["status"]) == ["reused"] * 4 and again.attrs["engine_loads"] == 0
    assert again["value"].tolist() == df["value"].tolist()

    # the CLI: the same pairs, a status table, exit 0; a failing pair does not stop the others (exit 1)
    res = subprocess.run([EVALKIT, "run", "mcq", "formatspread_mcq", "-m", "tiny-random", "-m", str(tiny_perturbed), "--limit", "4",
                          "-T", "n_formats=3", "-o", str(tmp_path / "cli"), "-q"], capture_output=True, text=True)
    assert res.returncode == 1, res.stderr  # -T n_formats is no field of mcq: its two pairs fail, the others run
    assert res.stdout.count("failed mcq · ") == 2 and "field 'n_formats'" in res.stdout and "Traceback" not in res.stdout + res.stderr
    assert len(list((tmp_path / "cli").rglob("summary.json"))) == 2

    board = build_leaderboard([tmp_path / "out"])
    jsonschema.validate(board, schema())
    assert [b["name"] for b in board["benchmarks"]] == ["formatspread_mcq", "mcq"]
    assert {b["name"]: b["higher_is_better"] for b in board["benchmarks"]} == {"formatspread_mcq": False, "mcq": True}
    assert {e["model"] for e in board["entries"]} == {"tiny-random", str(tiny_perturbed)}
    for e in board["entries"]:
        assert set(e["per_benchmark"]) == {"mcq", "formatspread_mcq"} and e["per_benchmark"]["mcq"]["n"] == 4
    assert any("fewer than 30 samples" in w for w in board["warnings"])
    assert "formatspread_mcq" in board["stability"]["tasks"]


def test_suite_killed_mid_run_resumes_without_duplicates(tmp_path, tiny_perturbed):
    """kill -9 while the second model's runs are in progress, rerun the same command: every pair completes,
    no record is written twice, and the summaries equal an uninterrupted suite's."""
    (tmp_path / "s.yaml").write_text(
        f"suite: killme\nseed: 1\nlimit: 3\ntasks:\n  - posix_mcq\n  - mcq\nmodels:\n  - tiny-random\n  - {tiny_perturbed}\n")
    cmd = [EVALKIT, "run", "s.yaml", "-o", "killed", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:  # wait for the first run of the second model
        recs = [p for p in (tmp_path / "killed").rglob("records.jsonl") if "tiny-perturbed" in str(p)]
        if recs and recs[0].stat().st_size > 0:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the suite finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    clean = subprocess.run([EVALKIT, "run", "s.yaml", "-o", "clean", "-q", "--json"], capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    killed, fresh = _records(tmp_path / "killed"), _records(tmp_path / "clean")
    assert sorted(killed) == sorted(fresh) and len(killed) == 4
    for run_dir, lines in killed.items():
        keys = [(json.loads(x)["id"], json.loads(x).get("variant")) for x in lines]
        assert len(keys) == len(set(keys)), run_dir  # nothing duplicated
        assert sorted(keys) == sorted((json.loads(x)["id"], json.loads(x).get("variant")) for x in fresh[run_dir])  # nothing missing
        a, b = (json.loads((tmp_path / root / run_dir / "summary.json").read_text()) for root in ("killed", "clean"))
        assert a["metrics"] == b["metrics"], run_dir


def test_suite_file_bad_input_is_one_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("suite: bad\ntasks: [mcq]\nmodels: [tiny-random]\nlimt: 3\n")
    res = subprocess.run([EVALKIT, "run", "bad.yaml"], capture_output=True, text=True)
    assert res.returncode == 2 and "bad.yaml: field 'limt'" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    (tmp_path / "empty.yaml").write_text("suite: empty\ntasks: []\nmodels: [tiny-random]\n")
    res = subprocess.run([EVALKIT, "run", "empty.yaml"], capture_output=True, text=True)
    assert res.returncode == 2 and "empty.yaml: field 'tasks'" in res.stderr


# ---------------------------------------------------------------- the leaderboard on hand-made runs


def _run_dir(root: Path, model: str, task: str, kind: str, metric: str, value: float, samples: dict | None = None,
             summary_extra: dict | None = None, path: str | None = None, weights: str | None = None) -> Path:
    """A run directory as evalkit writes it: manifest, records (one per sample) and summary."""
    from evalkit.metrics import annotate

    d = root / task / model.replace("/", "_")
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps({"schema": "evalkit.manifest/v1", "run_id": "x", "status": "complete",
                                                 "model": {"name": model, "path": path, "weights_hash": weights},
                                                 "ended": "2026-12-01T00:00:00+00:00"}))
    if samples is not None:
        (d / "records.jsonl").write_text("".join(json.dumps({"id": k, "acc": v, "category": "c"}) + "\n" for k, v in samples.items()))
    n = len(samples) if samples else 40
    (d / "summary.json").write_text(json.dumps({
        "schema": "evalkit.summary/v1", "task": task, "kind": kind, "model": model, "backend": "hf", "n_samples": n,
        "primary_metric": metric, "metrics": annotate({metric: {"value": value, "n": n}}), "breakdown": {}, **(summary_extra or {})}))
    return d


def test_a_lower_is_better_benchmark_ranks_ascending(tmp_path):
    _run_dir(tmp_path, "calm", "posix_t", "posix", "posix", 0.10)
    _run_dir(tmp_path, "jumpy", "posix_t", "posix", "posix", 0.90)
    _run_dir(tmp_path, "middle", "posix_t", "posix", "posix", 0.50)
    board = build_leaderboard([tmp_path])
    assert board["benchmarks"] == [{"name": "posix_t", "metric": "posix", "higher_is_better": False, "kind": "posix", "n_models": 3}]
    assert [(e["model"], e["rank"], e["score"]) for e in board["entries"]] == [("calm", 1, 1.0), ("middle", 2, 0.5), ("jumpy", 3, 0.0)]
    # with an accuracy beside it, each counts once and neither is averaged into the other
    for m, v in (("calm", 0.2), ("jumpy", 0.8), ("middle", 0.5)):
        _run_dir(tmp_path, m, "mcq_t", "mcq", "acc", v)
    board = build_leaderboard([tmp_path])
    assert {e["model"]: e["score"] for e in board["entries"]} == {"calm": 0.5, "jumpy": 0.5, "middle": 0.5}


def test_the_aggregate_ci_is_a_paired_bootstrap(tmp_path):
    """B answers the same questions right as A, plus one more: in every paired replicate B scores at least
    A, so B's mean win rate never falls below 1/2 (an unpaired bootstrap would let it)."""
    a = {f"q{i}": float(i % 2) for i in range(40)}
    b = dict(a, q0=1.0)
    _run_dir(tmp_path, "A", "mcq_t", "mcq", "acc", sum(a.values()) / 40, a)
    _run_dir(tmp_path, "B", "mcq_t", "mcq", "acc", sum(b.values()) / 40, b)
    board = build_leaderboard([tmp_path], n_boot=400)
    by = {e["model"]: e for e in board["entries"]}
    assert by["B"]["score"] == 1.0 and by["B"]["ci_low"] >= 0.5 and by["A"]["ci_high"] <= 0.5
    assert board["method"]["type"] == "mean_win_rate" and "paired bootstrap" in board["method"]["params"]["ci"]
    assert build_leaderboard([tmp_path], n_boot=400) == board  # seeded: the same files give the same board


def test_stability_numbers_match_a_hand_computed_case(tmp_path):
    """Three models, their default-format accuracy and three other formats:
    f1 keeps the order (tau 1), f2 swaps A and B (tau 1/3), f3 reverses it (tau -1)."""
    accs = {"A": (0.9, {"f1": 0.8, "f2": 0.5, "f3": 0.2}), "B": (0.6, {"f1": 0.7, "f2": 0.6, "f3": 0.4}),
            "C": (0.3, {"f1": 0.2, "f2": 0.1, "f3": 0.6})}
    for m, (default, fmts) in accs.items():
        spread = max([default, *fmts.values()]) - min([default, *fmts.values()])
        breakdown = {"format": {"f0": {"accuracy": {"value": default}}, **{f: {"accuracy": {"value": v}} for f, v in fmts.items()}}}
        _run_dir(tmp_path, m, "fs_t", "formatspread", "spread", spread,
                 summary_extra={"breakdown": breakdown, "formats": {"f0": {}, "f1": {}, "f2": {}, "f3": {}}})
    s = build_leaderboard([tmp_path])["stability"]["tasks"]["fs_t"]
    assert s["n_variants"] == 3 and s["default_ranking"] == ["A", "B", "C"] and s["top_model"] == ["A"]
    assert s["kendall_tau_mean"] == pytest.approx((1 + 1 / 3 - 1) / 3) and s["kendall_tau_min"] == pytest.approx(-1)
    assert {(f["a"], f["b"]): f["flip_share"] for f in s["pair_flips"]} == pytest.approx(
        {("A", "B"): 2 / 3, ("A", "C"): 1 / 3, ("B", "C"): 1 / 3})
    assert s["top_retention"] == pytest.approx(1 / 3)


def test_an_lm_eval_file_and_an_evalkit_run_of_one_checkpoint_are_one_model(tmp_path, tiny):
    from evalkit import run

    run("mcq", "tiny-random", limit=4, out=tmp_path / "runs" / "mcq", cache=False)
    lm = tmp_path / "lm" / "results_2026-12-01T00-00-00.json"
    lm.parent.mkdir()
    lm.write_text(json.dumps({
        "results": {"arc_easy": {"alias": "arc_easy", "acc,none": 0.31, "acc_stderr,none": 0.02, "acc_norm,none": 0.3}},
        "higher_is_better": {"arc_easy": {"acc": True, "acc_norm": True}}, "n-samples": {"arc_easy": {"original": 100, "effective": 100}},
        "config": {"model": "hf", "model_args": f"pretrained={tiny.path},dtype=float32"}, "model_name": str(tiny.path)}))
    board = build_leaderboard([tmp_path / "runs", lm])
    assert [e["model"] for e in board["entries"]] == ["tiny-random"]  # matched by its weights hash, named as evalkit names it
    e = board["entries"][0]
    assert e["aliases"] == [str(tiny.path)] and set(e["per_benchmark"]) == {"mcq", "arc_easy"}
    assert e["per_benchmark"]["arc_easy"] == {"value": 0.31, "ci_low": None, "ci_high": None, "n": 100, "stderr": 0.02}
    assert {b["name"]: b["metric"] for b in board["benchmarks"]} == {"arc_easy": "acc", "mcq": "acc"}


def test_v1_leaderboards_still_load_in_the_report(tmp_path):
    from evalkit.report import build_report

    v1 = {"schema": "evalkit.leaderboard/v1", "created": None, "evalkit_version": "0.1.0", "method": {"type": "mean"},
          "entries": [{"model": "m", "rank": 1, "rank_ub": 1, "score": 0.5, "ci_low": None, "ci_high": None}],
          "per_benchmark": {"m": {"t": {"acc,none": 0.5}}}}
    jsonschema.validate(v1, schema(1))
    (tmp_path / "old_leaderboard.json").write_text(json.dumps(v1))
    html = build_report([tmp_path / "old_leaderboard.json"])
    assert '<section id="leaderboard"' in html and "per benchmark" in html
