"""Suites on Ray (`evalkit run --executor ray`) against a real local Ray cluster: one Ray task per model,
progress on the driver, a local cluster of its own when no address is given (shut down after), and a
worker killed mid-suite that Ray retries, its runs resuming to the local executor's exact summaries."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import EVALKIT

# Ray's single-machine mode: every Ray server binds to 127.0.0.1 (by default Ray swaps a loopback address for
# the node's own IP, so that other machines can join). Ray reads it on import; only Ray reads it.
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
os.environ.update(LOOPBACK)
ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")


def _env(**extra) -> dict:
    # one torch thread everywhere: a Ray task of one CPU runs torch on one thread (OMP_NUM_THREADS=1), and
    # float sums over other thread counts differ in the last bits
    return {**os.environ, **LOOPBACK, "OMP_NUM_THREADS": "1", **extra}


def _ray_processes(marker: str, procs=None) -> list:
    """Processes (default: our own, descendants of this test process) whose command line holds `marker`."""
    out = []
    for p in psutil.Process().children(recursive=True) if procs is None else procs:
        try:
            if marker in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def test_resources_per_backend():
    from evalkit.executors import ray_resources

    assert ray_resources("vllm", {"tensor_parallel_size": 4, "data_parallel_size": 2}, cluster_gpus=16) == {"num_cpus": 1, "num_gpus": 8}
    assert ray_resources("vllm", {}, cluster_gpus=8) == {"num_cpus": 1, "num_gpus": 1}
    assert ray_resources("hf", {}, cluster_gpus=8) == {"num_cpus": 1, "num_gpus": 1}  # hf runs on cuda where it sees one
    assert ray_resources("hf", {"device": "cpu"}, cluster_gpus=8) == {"num_cpus": 1}
    assert ray_resources("openai", {}, cluster_gpus=8) == {"num_cpus": 1}
    assert ray_resources("vllm", {"tensor_parallel_size": 2}, cluster_gpus=0) == {"num_cpus": 1}  # vLLM's CPU build


def test_cli_starts_a_local_cluster_shows_progress_and_shuts_it_down(tmp_path):
    """No --ray-address: the command starts a Ray cluster of its own and stops it when done; a pair that fails
    is a failed row, the others complete."""
    proc = subprocess.Popen([EVALKIT, "run", "mcq", "nosuch_task", "-m", "tiny-random", "--limit", "2", "--executor", "ray",
                             "-o", "out"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    # its cluster's servers: their session directory is named after the driver's pid
    marker, seen, deadline = f"_{proc.pid}/logs", False, time.time() + 600
    while not seen and proc.poll() is None and time.time() < deadline:
        seen = bool(_ray_processes(marker, psutil.process_iter()))
        time.sleep(0.2)
    stdout, stderr = proc.communicate(timeout=600)
    assert seen, "no Ray cluster of the command's own was seen"
    assert proc.returncode == 1, stderr  # one pair failed
    assert "suite 0/2 runs done · now mcq · tiny-random" in stderr and "suite 1/2 runs done · now nosuch_task" in stderr
    assert "failed nosuch_task · tiny-random: unknown task 'nosuch_task'" in stdout and "Traceback" not in stdout + stderr
    (summary,) = (tmp_path / "out").rglob("summary.json")
    assert json.loads(summary.read_text())["task"] == "mcq"
    assert not _ray_processes(marker, psutil.process_iter()), "the command left its Ray cluster running"


@pytest.fixture(scope="module")
def ray_address():
    """A local Ray cluster for this module, on 127.0.0.1, two CPUs: two models run at once."""
    ctx = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ctx.address_info["gcs_address"]
    finally:
        ray.shutdown()


def _records(root: Path) -> dict[str, dict]:
    """Every run's records under root by run directory, each keyed by id and variant (a duplicate fails)."""
    out = {}
    for p in sorted(root.rglob("records.jsonl")):
        recs = [json.loads(x) for x in p.read_text().splitlines()]
        keyed = {(r["id"], r.get("variant")): r for r in recs}
        assert len(keyed) == len(recs), f"{p}: a record written twice"
        out[str(p.parent.relative_to(root))] = keyed
    return out


def test_worker_killed_mid_suite_is_retried_and_matches_the_local_executor(tmp_path, tiny_perturbed, ray_address):
    assert ray_address.startswith("127.0.0.1:")
    (tmp_path / "s.yaml").write_text(f"suite: raykill\nseed: 1\nlimit: 3\nexecutor: ray\ntasks:\n  - posix_mcq\n  - mcq\n"
                                     f"models:\n  - tiny-random\n  - {tiny_perturbed}\n")
    proc = subprocess.Popen([EVALKIT, "run", "s.yaml", "-o", "ray", "--json", "--ray-address", ray_address],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(EVALKIT_RESPONSE_CACHE=str(tmp_path / "ray.sqlite")))
    victim, deadline = None, time.time() + 600
    while victim is None and time.time() < deadline and proc.poll() is None:
        # the second model's task inside its first run (model loaded, manifest written, stages computing), before
        # any record is out: a run resumed from part of its records batches the rest otherwise, and hf's float32
        # sums then differ in the last bits (the local executor's resume too); resuming records: test_suite.py
        runs = [p.parent for p in (tmp_path / "ray").rglob("manifest.json") if "tiny-perturbed" in str(p)]
        workers = _ray_processes(f"ray::evalkit {tiny_perturbed}")
        if runs and workers:
            records = runs[0] / "records.jsonl"
            assert not records.exists() or records.stat().st_size == 0, "the kill came too late: records are out"
            victim = workers[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait(30)
            assert json.loads((runs[0] / "manifest.json").read_text())["status"] == "running"  # killed mid-run
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=600)
    assert victim is not None, f"the suite finished before a worker could be killed: {stderr[-2000:]}"
    assert proc.returncode == 0, stderr
    assert not victim.is_running()
    rows = json.loads(stdout)  # Ray's own messages (the lost worker) went to stderr
    # one row per pair (Ray replays the retried stream without repeating what it had delivered); the killed run
    # was resumed, not reused
    assert [(r["task"], r["status"]) for r in rows] == [("posix_mcq", "complete"), ("mcq", "complete")] * 2

    import torch

    from evalkit import run_suite

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local = run_suite(["posix_mcq", "mcq"], ["tiny-random", str(tiny_perturbed)], seed=1, limit=3, out=tmp_path / "local",
                          cache=tmp_path / "local.sqlite")
    finally:
        torch.set_num_threads(threads)
    assert local["error"].isna().all(), local["error"].tolist()
    assert [r["run_id"] for r in rows] == local["run_id"].tolist()
    on_ray, here = _records(tmp_path / "ray"), _records(tmp_path / "local")
    assert sorted(on_ray) == sorted(here) and len(here) == 4
    for run_dir in here:
        assert on_ray[run_dir] == here[run_dir], run_dir  # every record, none missing, none twice
        a, b = (json.loads((tmp_path / root / run_dir / "summary.json").read_text()) for root in ("ray", "local"))
        assert a == b, run_dir

    # the same suite again from this process, on the Ray it has initialised (left running): nothing is computed
    again = run_suite(["posix_mcq", "mcq"], ["tiny-random", str(tiny_perturbed)], seed=1, limit=3, out=tmp_path / "ray",
                      executor="ray")
    assert list(again["status"]) == ["reused"] * 4 and again.attrs["engine_loads"] == 0 and ray.is_initialized()
    assert again["value"].tolist() == local["value"].tolist()


def test_executor_bad_input_is_one_line(tmp_path, capsys):
    from conftest import evalkit_cli

    code, _, err = evalkit_cli(["run", "mcq", "-m", "tiny-random", "--executor", "dask"], capsys)
    assert code == 2 and "--executor dask: expected one of local, ray" in err
    code, _, err = evalkit_cli(["run", "mcq", "--ray-address", "127.0.0.1:1"], capsys)
    assert code == 2 and "--ray-address 127.0.0.1:1: only used with --executor ray" in err
    (tmp_path / "s.yaml").write_text("suite: s\ntasks: [mcq]\nmodels: [tiny-random]\nexecutor: dask\n")
    code, _, err = evalkit_cli(["run", "s.yaml"], capsys)
    assert code == 2 and "s.yaml: field 'executor'" in err and len(err.strip().splitlines()) == 1
