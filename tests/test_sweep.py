"""`evalkit sweep` end to end on tiny-random: a 4-trial grid through the real CLI, killed (SIGKILL)
after its first trial and resumed; plus the robustness statistics and the trial-recovery rules."""

import csv
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EVALKIT, REPO

pytest.importorskip("trl")
pytest.importorskip("optuna")


def _events(out: Path) -> list[dict]:
    p = out / "events.jsonl"
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()] if p.exists() else []


def test_grid_sweep_resumes_after_kill_without_redoing_finished_trials(tmp_path):
    import optuna
    from optuna.trial import TrialState

    cfg = tmp_path / "tiny_ci.yaml"
    shutil.copy(REPO / "tasks" / "sweeps" / "tiny_ci.yaml", cfg)
    (tmp_path / "data").mkdir()
    cfg.write_text(cfg.read_text().replace("../data/preferences.jsonl", str(REPO / "tasks" / "data" / "preferences.jsonl")))
    out = tmp_path / "out"
    cmd = [EVALKIT, "sweep", str(cfg), "-o", str(out), "-q"]

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        # the second trial has started, so the first one finished: kill mid-trial
        if sum(e["event"] == "trial_start" for e in _events(out)) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, proc.stderr.read()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _events(out)
    finished = {e["unit"] for e in before if e["event"] == "trial_done"}
    assert "dpo/t000" in finished and len(finished) == 1
    first_metrics = (out / "trials" / "dpo" / "t000" / "seed0" / "metrics.json").stat().st_mtime_ns

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(out / "optuna.journal")))
    states = [t.state for t in optuna.load_study(study_name="tiny-ci/dpo", storage=storage).get_trials()]
    assert states == [TrialState.COMPLETE, TrialState.RUNNING]  # the killed trial is left RUNNING

    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr

    trials = optuna.load_study(study_name="tiny-ci/dpo", storage=storage).get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert len(complete) == 4
    assert {(t.params["beta"], t.params["learning_rate"]) for t in complete} == {(0.1, 0.01), (0.1, 0.1), (0.5, 0.01), (0.5, 0.1)}
    # the interrupted trial was failed and retried once with its own parameters
    assert len(failed) == 1 and "interrupted" in failed[0].user_attrs["error"]
    retry = [t for t in complete if t.system_attrs.get("failed_trial") == failed[0].number]
    assert len(retry) == 1 and retry[0].params == failed[0].params
    # finished work was not redone: one training of the first trial, its metrics file untouched
    after = _events(out)
    assert sum(e["event"] == "train_start" and e["unit"] == "dpo/t000" for e in after) == 1
    assert sum(e["event"] == "trial_done" for e in after) == 4
    assert (out / "trials" / "dpo" / "t000" / "seed0" / "metrics.json").stat().st_mtime_ns == first_metrics

    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "sweep" and summary["status"] == "complete" and summary["score"] == "reward"
    dpo = summary["breakdown"]["method"]["dpo"]
    assert {"mean", "median", "iqr", "best", "worst"} <= set(dpo) and dpo["n_trials"]["value"] == 4
    scores = [summary["breakdown"]["trial"][k]["score"]["value"] for k in summary["breakdown"]["trial"]]
    assert len(scores) == 4 and dpo["best"]["value"] == max(scores) and dpo["worst"]["value"] == min(scores)
    for k, m in summary["breakdown"]["trial"].items():
        assert {"win_rate_vs_sft", "kl_to_sft", "mean_length", "reward"} <= set(m), k
        assert m["kl_to_sft"]["n"] == 3 * 2  # 3 prompts x 2 samples
        assert 1 <= m["mean_length"]["value"] <= 8
    # the best configuration ran on both test seeds, pooled into one score with a prompt-clustered interval
    best = summary["best"]["dpo"]
    assert best["test_seeds"] == [100, 101] and sorted(best["test_by_seed"]) == ["100", "101"]
    assert best["test_score"]["n_seeds"] == 2 and best["test_score"]["n"] == 2 * 3
    assert best["params"] == {"beta": best["params"]["beta"], "learning_rate": best["params"]["learning_rate"]}
    assert dpo["test_score"] == best["test_score"]
    rows = list(csv.DictReader(open(out / "trials.csv")))
    assert len(rows) == 4 and {"param_beta", "param_learning_rate", "kl_to_sft", "win_rate_vs_sft", "judge_parse_failure_rate"} <= set(rows[0])
    for p in ("score_vs_kl.png", "score_vs_length.png", "score_distribution.png", "score_vs_hparams.png"):
        assert (out / "plots" / p).read_bytes()[:4] == b"\x89PNG"
    for d in (out / "trials" / "dpo").iterdir():
        unit = d / "seed0"
        assert (unit / "adapter" / "adapter_model.safetensors").exists() and (unit / "train_log.jsonl").read_text()
        assert len((unit / "records.jsonl").read_text().splitlines()) == 3

    # a third run finds everything done: no training, same summary
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert sum(e["event"] == "train_start" for e in _events(out)) == sum(e["event"] == "train_start" for e in after)

    # the HTML report reads the real sweep directory: its section with the sweep's own stored plots
    report = tmp_path / "report.html"
    r = subprocess.run([EVALKIT, "report", str(out), "-o", str(report)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    html = report.read_text()
    assert '<section id="task-tiny-ci" data-kind="sweep"' in html
    for p in ("score_vs_kl", "score_vs_length", "score_distribution"):
        assert f'data-plot="{p}" data-origin="stored"' in html, p

    # the quickstart suite with --sweep: each method's best adapter plays in the tournament of prompting
    # variants of the same model, and the sweep's section joins the report
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "quickstart.py"), "-m", "tiny-random", "--size", "tiny",
                        "-o", "qs", "--sweep", str(out)], capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    tour = tmp_path / "qs" / "tournament_sweep" / "tiny-random"
    assert "dpo-best" in {e["model"] for e in json.loads((tour / "summary.json").read_text())["entries"]}
    assert "dpo-best" in {e["model"] for e in json.loads((tmp_path / "qs" / "leaderboard.json").read_text())["rankings"][0]["entries"]}
    html = (tmp_path / "qs" / "report.html").read_text()
    assert '<section id="task-tiny-ci" data-kind="sweep"' in html and '<section id="task-tournament_sweep"' in html
    adapter = json.loads((tour / "manifest.json").read_text())["adapters"]["dpo-best"]["path"]
    trial_dir = next(t["dir"] for t in summary["trials"] if t["method"] == "dpo" and t["trial"] == best["trial"])
    assert adapter == str(out / "trials" / "dpo" / Path(trial_dir).name / "seed0" / "adapter")


def test_grid_stats_on_hand_values():
    from evalkit.tuning.report import grid_stats

    s = grid_stats([0.2, 0.8, 0.4, 0.6, None, float("nan")])
    assert s["mean"]["value"] == pytest.approx(0.5) and s["median"]["value"] == pytest.approx(0.5)
    assert s["iqr"]["value"] == pytest.approx(0.65 - 0.35)  # numpy's linear quantiles of 0.2, 0.4, 0.6, 0.8
    assert s["best"]["value"] == 0.8 and s["worst"]["value"] == 0.2 and s["mean"]["n"] == 4
    assert s["n_undefined"]["value"] == 2
    assert math.isnan(grid_stats([None])["best"]["value"])


def test_clustered_mean_pools_seeds_and_resamples_prompts():
    from evalkit.tuning.report import clustered_mean

    per_seed = [{"a": 1.0, "b": 0.0, "c": 0.5}, {"a": 1.0, "b": None, "c": 0.0}]
    m = clustered_mean(per_seed)
    assert m["value"] == pytest.approx(2.5 / 5) and m["n"] == 5 and m["n_prompts"] == 3 and m["n_seeds"] == 2
    assert 0.0 <= m["ci_low"] <= m["value"] <= m["ci_high"] <= 1.0
    assert clustered_mean([{"a": None}])["n"] == 0


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_recover_requeues_dead_and_crashed_trials_once(tmp_path, kind):
    import optuna
    from optuna.trial import TrialState

    from evalkit.tuning.sweep import _worker, make_storage, recover

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # the default journal file, or an RDB URL (what several machines share), through --storage's parser
    storage = make_storage(None if kind == "journal" else f"sqlite:///{tmp_path / 'optuna.db'}", tmp_path)
    assert isinstance(storage, optuna.storages.JournalStorage if kind == "journal" else optuna.storages.RDBStorage)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    dist = {"beta": optuna.distributions.CategoricalDistribution([0.1, 0.5])}
    me = _worker()
    dead = {**me, "pid": 2 ** 22 + 7}  # no such process on this host
    elsewhere = {**me, "host": me["host"] + "-other"}
    study.add_trial(optuna.trial.create_trial(state=TrialState.RUNNING, params={"beta": 0.1}, distributions=dist, user_attrs={"worker": dead}))
    study.add_trial(optuna.trial.create_trial(state=TrialState.RUNNING, params={"beta": 0.5}, distributions=dist, user_attrs={"worker": me}))
    study.add_trial(optuna.trial.create_trial(state=TrialState.RUNNING, params={"beta": 0.5}, distributions=dist, user_attrs={"worker": elsewhere}))
    study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL, params={"beta": 0.5}, distributions=dist, user_attrs={"error": "boom"}))
    study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL, params={"beta": 0.1}, distributions=dist, user_attrs={"score_undefined": True}))
    assert recover(study) == [0, 3]  # the live worker, the other host's and an undefined score are left alone
    trials = study.get_trials()
    assert trials[0].state == TrialState.FAIL and trials[1].state == TrialState.RUNNING
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    assert [(t.params, t.system_attrs["failed_trial"]) for t in waiting] == [({"beta": 0.1}, 0), ({"beta": 0.5}, 3)]
    assert recover(study) == []  # each failure is retried once
