"""One sweep study shared by several workers through a real PostgreSQL server (Debian's `postgresql`
package), started by the test on 127.0.0.1 in a temporary directory and stopped after: two `evalkit sweep`
workers at once, one killed mid-trial; every grid point is trained and evaluated exactly once."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import EVALKIT, REPO

pytest.importorskip("trl")
pytest.importorskip("optuna")
pytest.importorskip("psycopg")


def _server_bin() -> Path | None:
    """Where initdb and pg_ctl are: Debian keeps them in /usr/lib/postgresql/<version>/bin (its PATH has only
    wrappers); elsewhere on PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    on_path = shutil.which("initdb")
    for d in [*reversed(debian), *([Path(on_path).resolve().parent] if on_path else [])]:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server on 127.0.0.1 (trust authentication, no fsync: a throw-away database); yields its
    host:port. PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user."""
    bindir = _server_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) are not installed: Debian package postgresql "
                    "(make install-dev installs it)")
    # under /tmp, not pytest's tmp_path: the postgres user cannot enter root's 0700 directories
    root = Path(tempfile.mkdtemp(prefix="evalkit-pg-"))
    as_pg = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]

    def pg(*args):
        r = subprocess.run([*as_pg, *map(str, args)], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{args[0]}: {r.stderr or r.stdout}"

    data, port = root / "data", _free_port()
    try:
        pg(bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
        pg(bindir / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "-o",
           f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off", "start")
        try:
            yield f"127.0.0.1:{port}"
        finally:
            pg(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _events(out: Path) -> list[dict]:
    p = out / "events.jsonl"
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()] if p.exists() else []


def test_two_workers_on_one_postgres_study_one_killed_every_trial_once(tmp_path, postgres):
    import optuna
    from optuna.trial import TrialState

    # tiny_ci's 2 x 2 grid; one test seed and no judge keep it short
    cfg = tmp_path / "tiny_ci.yaml"
    text = (REPO / "tasks" / "sweeps" / "tiny_ci.yaml").read_text()
    small = (text.replace("../data/preferences.jsonl", str(REPO / "tasks" / "data" / "preferences.jsonl"))
             .replace("test: [100, 101]", "test: [100]")
             .replace("judge: {template: mt_bench, protocol: both, combine: conservative, max_tokens: 4}", "judge: {enabled: false}"))
    assert small.count("test: [100]") == small.count("judge: {enabled: false}") == 1
    cfg.write_text(small)
    # trust authentication takes any password: it must not reach the manifest
    url = f"postgresql://postgres:s3cret@{postgres}/postgres"

    def worker(name):
        return [EVALKIT, "sweep", str(cfg), "-o", str(tmp_path / name), "--storage", url, "-q"]

    a = subprocess.Popen(worker("a"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    b = subprocess.Popen(worker("b"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while time.time() < deadline and a.poll() is None:
        ea, eb = _events(tmp_path / "a"), _events(tmp_path / "b")
        # both workers have trials of the study, and A is inside one of its tuning trials now
        if any(e["event"] == "trial_start" for e in eb) and ea and ea[-1]["event"] in ("trial_start", "train_start", "train_done"):
            break
        time.sleep(0.05)
    assert a.poll() is None, f"worker A ended before it could be killed: {a.stderr.read()[-2000:]}"
    os.kill(a.pid, signal.SIGKILL)
    a.wait()
    _, err = b.communicate(timeout=600)
    assert b.returncode == 0, err[-3000:]
    # A's worker restarts (as a crashed machine's would): its interrupted trial is re-queued and finished
    r = subprocess.run(worker("a"), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]

    trials = optuna.load_study(study_name="tiny-ci/dpo", storage=url).get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert sorted((t.params["beta"], t.params["learning_rate"]) for t in complete) == [(0.1, 0.01), (0.1, 0.1), (0.5, 0.01), (0.5, 0.1)]
    assert len(failed) == 1 and len(trials) == 5  # A's killed trial, and its one retry
    retry = [t for t in complete if t.system_attrs.get("failed_trial") == failed[0].number]
    assert len(retry) == 1 and retry[0].params == failed[0].params
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    tests = optuna.load_study(study_name="tiny-ci/dpo/test", storage=url).get_trials()
    assert [(t.state, t.params["test_seed"]) for t in tests] == [(TrialState.COMPLETE, 100)]
    # the work itself: each grid point evaluated once, by one of the two workers
    done = [e["unit"] for w in ("a", "b") for e in _events(tmp_path / w) if e["event"] == "trial_done"]
    assert sorted(done) == sorted(set(done)) and len(done) == 4
    assert {w for w in ("a", "b") if any(e["event"] == "trial_done" for e in _events(tmp_path / w))} == {"a", "b"}

    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["breakdown"]["method"]["dpo"]["n_trials"]["value"] == 4
    manifest = (tmp_path / "a" / "manifest.json").read_text()
    assert "s3cret" not in manifest and json.loads(manifest)["storage"] == f"postgresql://postgres:***@{postgres}/postgres"


def test_storage_errors_name_the_url_without_its_password(tmp_path):
    from evalkit.errors import EvalkitError
    from evalkit.tuning.sweep import make_storage

    with pytest.raises(EvalkitError) as e:
        make_storage(f"postgresql://me:s3cret@127.0.0.1:{_free_port()}/db", tmp_path)  # nothing listens there
    assert "s3cret" not in str(e.value) and "--storage 'postgresql://me:***@127.0.0.1:" in str(e.value)
    assert "Connection refused" in str(e.value) and "\n" not in str(e.value)


def test_a_dead_workers_trial_on_another_host_is_requeued_once_by_the_heartbeat(tmp_path, postgres):
    """A worker on another host cannot be checked by its pid: once its trial's heartbeat is older than the
    grace period, the next worker to start fails it and re-queues it with the same parameters, once."""
    import optuna
    from optuna.trial import TrialState

    from evalkit.tuning.sweep import _worker, make_storage, recover

    storage = make_storage(f"postgresql://postgres@{postgres}/postgres", tmp_path)
    study = optuna.create_study(study_name="heartbeat", storage=storage, direction="maximize")
    trial = study.ask({"beta": optuna.distributions.CategoricalDistribution([0.1, 0.5])})
    trial.set_user_attr("worker", {**_worker(), "host": "elsewhere"})
    storage.record_heartbeat(trial._trial_id)  # its worker's last beat
    assert recover(study) == [] and study.get_trials()[0].state == TrialState.RUNNING  # within the grace period
    storage.grace_period = -1  # stands for five silent minutes: any beat is now stale
    recover(study)
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    assert trials[1].params == trials[0].params and trials[1].system_attrs["failed_trial"] == 0
    recover(study)
    assert len(study.get_trials()) == 2  # re-queued once


def _open_storage(barrier, url, results):
    from pathlib import Path

    from evalkit.tuning.sweep import make_storage

    barrier.wait()
    try:
        make_storage(url, Path("."))
        results.put("ok")
    except Exception as e:  # noqa: BLE001 -- reported to the test
        results.put(f"{type(e).__name__}: {e}")


def test_workers_started_at_once_on_a_fresh_database_all_get_the_storage(postgres):
    """Each worker creates Optuna's tables on a fresh database; started at the same moment, all but one
    used to fail with a duplicate-key error from PostgreSQL's catalogue."""
    import multiprocessing

    import psycopg

    ctx = multiprocessing.get_context("fork")
    with psycopg.connect(f"postgresql://postgres@{postgres}/postgres", autocommit=True) as conn:
        for db in ("fresh1", "fresh2"):
            conn.execute(f"CREATE DATABASE {db}")
    results = ctx.Queue()
    for db in ("fresh1", "fresh2"):
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_open_storage, args=(barrier, f"postgresql://postgres@{postgres}/{db}", results)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
    assert sorted(results.get(timeout=10) for _ in range(8)) == ["ok"] * 8
