"""End-to-end runs through the Python API and the CLI: files, resume after SIGKILL, determinism."""

import json
import os
import signal
import subprocess
import time

import pytest

import evalkit
from conftest import EVALKIT


def _records(out):
    return [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]


def test_mcq_run_writes_manifest_records_summary(tmp_path, tiny):
    run = evalkit.run("mcq", "tiny-random", limit=12, out=tmp_path / "run")
    manifest = json.loads((run.out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["model"]["weights_hash"] == tiny.weights_hash
    assert manifest["backend"]["backend"] == "hf" and manifest["backend"]["dtype"] == "float32"
    assert manifest["task"]["content_hash"].startswith("sha256:") and manifest["packages"]["torch"]
    summary = json.loads((run.out / "summary.json").read_text())
    assert summary["schema"] == "evalkit.summary/v1" and summary["n_samples"] == 12
    acc = summary["metrics"]["acc"]
    assert set(acc) == {"value", "stderr", "ci_low", "ci_high", "n", "higher_is_better", "unit"} and acc["n"] == 12
    assert summary["primary_metric"] == "acc" and acc["higher_is_better"] is True and acc["unit"] == "proportion"
    assert acc["ci_low"] <= acc["value"] <= acc["ci_high"]
    assert not any("," in k for k in summary["metrics"])
    recs = _records(run.out)
    assert len(recs) == 12 and len({r["id"] for r in recs}) == 12
    r = recs[0]
    assert r["prompt"].startswith("Question: ") and len(r["loglikelihoods"]) == len(r["continuations"]) == 4
    assert r["acc"] == float(max(range(4), key=lambda k: r["loglikelihoods"][k]) == r["gold"])
    # The stored numbers re-derive the score: acc is the mean of per-record correctness.
    assert acc["value"] == pytest.approx(sum(x["acc"] for x in recs) / 12)
    assert sum(summary["breakdown"]["category"][c]["acc"]["n"] for c in summary["breakdown"]["category"]) == 12
    df = evalkit.load_results(run.out)
    assert len(df) == 12 and {"task", "model", "loglikelihoods"} <= set(df.columns)
    sm = evalkit.load_summaries(tmp_path)
    assert set(sm[sm.axis.isna()].metric) == {"acc", "acc_norm"}


def test_same_seed_same_records_and_reuse(tmp_path):
    a = evalkit.run("mcq", "tiny-random", limit=8, out=tmp_path / "a", cache=False)
    b = evalkit.run("mcq", "tiny-random", limit=8, out=tmp_path / "b", cache=False)
    assert _records(a.out) == _records(b.out) and a.summary["metrics"] == b.summary["metrics"]
    mtime = (a.out / "records.jsonl").stat().st_mtime_ns
    again = evalkit.run("mcq", "tiny-random", limit=8, out=tmp_path / "a", cache=False)  # complete: reused as is
    assert again.summary == a.summary and (a.out / "records.jsonl").stat().st_mtime_ns == mtime


def test_cache_serves_the_same_model_only(tmp_path):
    first = evalkit.run("mcq", "tiny-random", limit=5, out=tmp_path / "one")
    second = evalkit.run("mcq", "tiny-random", limit=5, out=tmp_path / "two", backend_options={"batch_tokens": 100})
    assert json.loads((second.out / "manifest.json").read_text())["cache_hits"] == 20
    from evalkit.models import _build_tiny_random

    other = tmp_path / "other-model"
    other.mkdir()
    _build_tiny_random(other, seed=99)
    third = evalkit.run("mcq", str(other), limit=5, out=tmp_path / "three")
    assert json.loads((third.out / "manifest.json").read_text())["cache_hits"] == 0
    assert [r["loglikelihoods"] for r in _records(third.out)] != [r["loglikelihoods"] for r in _records(first.out)]


def test_torn_last_line_is_dropped_on_resume(tmp_path):
    out = tmp_path / "torn"
    full = evalkit.run("mcq", "tiny-random", limit=6, out=out, cache=False)
    lines = (out / "records.jsonl").read_text().splitlines(keepends=True)
    (out / "records.jsonl").write_text("".join(lines[:3]) + lines[3][:25])  # killed mid-write
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    resumed = evalkit.run("mcq", "tiny-random", limit=6, out=out, cache=False)
    assert resumed.summary == full.summary
    assert sorted(r["id"] for r in _records(out)) == sorted(r["id"] for r in _records(full.out))


def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    cmd = [EVALKIT, "run", "mcq", "-m", "tiny-random", "--no-cache", "-q", "-B", "batch_tokens=1"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(cmd + ["-o", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = killed / "records.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if records.exists() and records.read_bytes().count(b"\n") >= 10:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert json.loads((killed / "manifest.json").read_text())["status"] == "running"
    n_before = len(_records(killed))
    assert 10 <= n_before < 160
    subprocess.run(cmd + ["-o", str(killed)], check=True, capture_output=True)
    subprocess.run(cmd + ["-o", str(tmp_path / "clean")], check=True, capture_output=True)
    resumed, clean = _records(killed), _records(tmp_path / "clean")
    assert len(resumed) == 160 and len({r["id"] for r in resumed}) == 160
    assert sorted(resumed, key=lambda r: r["id"]) == sorted(clean, key=lambda r: r["id"])
    s1, s2 = (json.loads((d / "summary.json").read_text()) for d in (killed, tmp_path / "clean"))
    assert s1 == s2


def _reopen(out):
    """Make a finished run look interrupted, so the next call resumes it."""
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))


def test_duplicate_records_are_never_double_counted(tmp_path):
    out = tmp_path / "dup"
    full = evalkit.run("mcq", "tiny-random", limit=6, out=out, cache=False)
    text = (out / "records.jsonl").read_text()
    lines = text.splitlines(keepends=True)
    wrong = json.loads(lines[0]) | {"acc": 1 - json.loads(lines[0])["acc"]}  # a later copy must not win either
    (out / "records.jsonl").write_text(text + "".join(lines[:4]) + json.dumps(wrong) + "\n")  # two runs wrote here
    _reopen(out)
    resumed = evalkit.run("mcq", "tiny-random", limit=6, out=out, cache=False)
    assert resumed.summary == full.summary and resumed.summary["metrics"]["acc"]["n"] == 6


def test_corrupt_middle_line_is_one_error_and_nothing_is_lost(tmp_path):
    out = tmp_path / "bad"
    evalkit.run("mcq", "tiny-random", limit=6, out=out, cache=False)
    lines = (out / "records.jsonl").read_text().splitlines(keepends=True)
    damaged = "".join(lines[:2]) + '{"id": "q3", "acc": 1\n' + "".join(lines[3:])
    (out / "records.jsonl").write_text(damaged)
    _reopen(out)
    with pytest.raises(evalkit.EvalkitError, match=r"records.jsonl:3: not a record"):
        evalkit.run("mcq", "tiny-random", limit=6, out=out, cache=False)
    assert (out / "records.jsonl").read_text() == damaged
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"


def test_a_second_run_into_a_locked_directory_refuses(tmp_path):
    out = tmp_path / "locked"
    out.mkdir()
    holder = subprocess.Popen(
        [os.sys.executable, "-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'a+')\nfcntl.lockf(f, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\ntime.sleep(600)\n", str(out / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(evalkit.EvalkitError, match="another evalkit run is writing to this directory"):
            evalkit.run("mcq", "tiny-random", limit=2, out=out, cache=False)
        assert not (out / "records.jsonl").exists()
    finally:
        holder.kill()
        holder.wait()
    assert evalkit.run("mcq", "tiny-random", limit=2, out=out, cache=False).summary["n_samples"] == 2  # released
