"""Progress you can trust: the moving-average ETA on hand-computed cases (cache hits excluded), setup
phases and stage lines from a real run, the hf backend's within-batch reports, -q silencing the libraries
(and restoring them), and the notebook path."""

import builtins
import logging
import os
import re

import pytest

from evalkit.progress import Progress, Stage, quiet_libraries


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_eta_is_a_moving_average_of_computed_work_only():
    clock = Clock()
    st = Stage(100, clock=clock, window=30.0)
    assert st.eta() is None and st.text().endswith("ETA …")
    for _ in range(40):  # 40 cache hits at once: no throughput yet, no promise
        st.result(5, cached=True)
    assert st.hits == 40 and st.eta() is None
    clock.t += 1
    st.result(7, cached=False)
    assert st.eta() is None  # 1 s of computing: too little to promise anything
    clock.t += 9
    for _ in range(9):  # then 10 computed results over 10 s: 1 request/s, 7 tokens each
        st.result(7, cached=False)
    # 50 left at 10 requests / 10 s = 50 s (the hits' burst would have said 50 / 5 per s = 10 s)
    assert st.eta() == pytest.approx(50.0)
    assert st.rates()[1] == pytest.approx(7.0)  # tok/s over computed tokens only
    assert st.text() == "50/100 · 7 tok/s · 40 cached · ETA 50.0s"
    # a batch in flight counts: half of a 20-request batch done 10 s later
    clock.t += 10
    st.partial(10.0, 300)
    assert st.rates()[0] == pytest.approx(20 / 20) and st.eta() == pytest.approx(40 / 1.0)
    # a stall lowers the rate instead of freezing a stale ETA
    assert st.eta(now=clock.t + 20) == pytest.approx(40 / (20 / 40))
    # old work leaves the window: a slowdown shows within WINDOW seconds
    clock.t += 60
    st.partial(12.0, 340)
    rps, _ = st.rates()
    assert rps == pytest.approx(2 / 60)
    st.finish()
    assert st.text() == "50/100 · 1 tok/s · 40 cached · 1:20"  # 70 computed tokens / 80 s


def test_fully_cached_stage_shows_no_throughput():
    clock = Clock()
    st = Stage(3, clock=clock)
    for _ in range(3):
        st.result(10, cached=True)
    clock.t += 0.5
    st.finish()
    assert st.text() == "3/3 · 3 cached · 0.5s"


def _lines(terminal_output: str) -> list[str]:
    return re.split(r"[\r\n]+", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal_output))


def test_run_shows_phases_and_stages_with_cache_hits(tmp_path, capsys, monkeypatch):
    from evalkit import run

    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: stderr is a terminal (captured here)
    monkeypatch.setenv("COLUMNS", "120")

    run("mcq", "tiny-random", limit=4, out=tmp_path / "a", quiet=False)
    err = capsys.readouterr().err
    for line in ("loading task mcq", "resolving model tiny-random", "loading model tiny-random on hf", "mcq · "):
        assert line in err, err
    assert "✓" in err and "ETA" not in [x for x in _lines(err) if "mcq · " in x][-1]
    run("mcq", "tiny-random", limit=4, out=tmp_path / "b", quiet=False, seed=1)  # same requests: all from the cache
    err = capsys.readouterr().err
    stage = [x for x in _lines(err) if "mcq · " in x][-1]  # the stage line as last drawn
    assert "16/16" in stage and "16 cached" in stage and "tok/s" not in stage, stage
    run("mcq", "tiny-random", limit=4, out=tmp_path / "c", seed=2)  # quiet (the API's default): nothing
    assert capsys.readouterr().err == ""
    monkeypatch.delenv("TTY_COMPATIBLE")
    run("mcq", "tiny-random", limit=4, out=tmp_path / "d", seed=3, quiet=False)  # not a terminal: stderr stays clean
    assert capsys.readouterr().err == ""


def test_hf_reports_progress_within_a_generation_batch(hf_tiny):
    from evalkit.requests import GenerateRequest, GenerationConfig

    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=6, temperature=0.0))
            for p in ("The cat", "A long time ago in a land", "1 2 3")]
    plain = hf_tiny.generate(reqs)
    seen = []
    hf_tiny.on_progress = lambda inflight, toks: seen.append((inflight, toks))
    try:
        watched = hf_tiny.generate(reqs)
    finally:
        hf_tiny.on_progress = None
    assert [g.texts for g in watched] == [g.texts for g in plain]  # watching changes nothing
    steps = seen[:-1]
    assert seen[-1] == (0.0, 0) and len(steps) >= 2
    assert [s[1] for s in steps] == sorted(s[1] for s in steps) and steps[0][1] == 3  # 3 rows, 1 token each
    assert all(0 < s[0] <= 3 for s in steps) and steps[-1][0] == pytest.approx(3 * len(steps) / 6)


def test_quiet_silences_the_libraries_and_restores_them(monkeypatch):
    import datasets

    monkeypatch.delenv("HF_DATASETS_DISABLE_PROGRESS_BARS", raising=False)
    monkeypatch.delenv("TRANSFORMERS_VERBOSITY", raising=False)
    monkeypatch.delenv("VLLM_LOGGING_LEVEL", raising=False)  # a vLLM backend built earlier in this process sets it
    datasets.enable_progress_bars()
    logging.getLogger("transformers").setLevel(logging.WARNING)
    with quiet_libraries():
        assert datasets.are_progress_bars_disabled()
        assert logging.getLogger("transformers").level == logging.ERROR
        assert logging.getLogger("vllm").level == logging.ERROR
        assert os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] == "1" and os.environ["VLLM_LOGGING_LEVEL"] == "ERROR"
    assert not datasets.are_progress_bars_disabled()
    assert logging.getLogger("transformers").level == logging.WARNING
    assert "HF_DATASETS_DISABLE_PROGRESS_BARS" not in os.environ and "TRANSFORMERS_VERBOSITY" not in os.environ


def test_notebook_gets_a_tqdm_bar(tmp_path, capsys, monkeypatch):
    """Inside a Jupyter kernel (IPython's ZMQInteractiveShell) progress goes through tqdm.auto: a widget
    bar where ipywidgets is installed, else tqdm's text bar, which a notebook redraws in place."""
    from evalkit import run

    class ZMQInteractiveShell:
        config = {}

    monkeypatch.setattr(builtins, "get_ipython", lambda: ZMQInteractiveShell(), raising=False)
    assert Progress(quiet=False).notebook and not Progress(quiet=True).notebook
    run("mcq", "tiny-random", limit=3, out=tmp_path / "nb", quiet=False)
    err = capsys.readouterr().err
    assert "loading model tiny-random on hf …" in err and "✓ loading model tiny-random on hf" in err
    assert "mcq · loglikelihood: 100%|" in err and "12/12" in err, err
