"""What a run shows while it works.

From the first second, a status line per setup phase (loading the task, resolving / converting / loading
the model) with its elapsed time; then one line per stage: requests done / total, tokens/s, cache hits and
an ETA. Throughput and ETA are a moving average over the last WINDOW seconds of computed work only: cache
hits arrive in one burst before anything is computed (CachedBackend serves them first) and would promise
a finish the misses cannot keep, so the average starts after them. A backend that reports progress within
a batch (hf: every decoding step) moves the count between results, so no line sits at 0 while a long batch
runs. A terminal gets rich; a notebook gets tqdm.auto (its widget bar where ipywidgets is installed); a
pipe or a log file gets nothing (stderr stays for the one-line error).
`quiet`: nothing is shown, and the libraries' own bars and logs (datasets' "Generating split" / "Map",
transformers, huggingface_hub, vLLM) are silenced for the run (a library first imported during a quiet
run keeps its bars off: it gives its env switch priority).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque
from contextlib import contextmanager, nullcontext
from typing import Callable

WINDOW = 30.0  # seconds of recent throughput the ETA averages over
MIN_EVIDENCE = 2.0  # seconds of computing before a rate is shown (the first decoding step says little)

_QUIET_ENV = {  # read by each library when it is first imported
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "DATASETS_VERBOSITY": "error",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "VLLM_LOGGING_LEVEL": "ERROR",
}
_LOGGERS = ("datasets", "transformers", "huggingface_hub", "vllm", "lm_eval", "accelerate")
# (module, are its bars off?, turn them off, turn them on): for libraries imported already
_BARS = (
    ("datasets", "are_progress_bars_disabled", "disable_progress_bars", "enable_progress_bars"),
    ("huggingface_hub", "utils.are_progress_bars_disabled", "utils.disable_progress_bars", "utils.enable_progress_bars"),
)


def _attr(module: str, dotted: str):
    obj = sys.modules[module]
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@contextmanager
def quiet_libraries():
    """The libraries' bars and log lines off for the duration; what was on before is on again after."""
    env = {k: os.environ.get(k) for k in _QUIET_ENV}
    for k, v in _QUIET_ENV.items():
        os.environ.setdefault(k, v)
    levels = {n: logging.getLogger(n).level for n in _LOGGERS}
    bars_were_off = {}
    try:
        for n in _LOGGERS:
            logging.getLogger(n).setLevel(logging.ERROR)
        for mod, is_off, off, _ in _BARS:
            if mod in sys.modules and _attr(mod, is_off):
                bars_were_off[mod] = _attr(mod, is_off)()
                _attr(mod, off)()
        yield
    finally:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
        for mod, _, _, on in _BARS:
            # imported before: as they were. (One first imported during a quiet run read the env switch,
            # which these libraries give priority over any later call: its bars stay off.)
            if mod in bars_were_off and not bars_were_off[mod]:
                _attr(mod, on)()


def _in_notebook() -> bool:
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821  (defined inside IPython only)
    except NameError:
        return False
    return type(shell).__name__ == "ZMQInteractiveShell" or "google.colab" in type(shell).__module__


def _duration(s: float) -> str:
    if s < 60:
        return f"{s:.1f}s"
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _count(x: float) -> str:
    return f"{x:.0f}" if x < 1e4 else f"{x / 1e3:.0f}k" if x < 1e6 else f"{x / 1e6:.1f}M"


class Stage:
    """The counters of one stage and its moving-average throughput. `clock` is injectable for tests."""

    def __init__(self, total: int, clock: Callable[[], float] = time.monotonic, window: float = WINDOW):
        self.total, self.clock, self.window = total, clock, window
        self.done = self.hits = self.tokens = 0  # results in, of them from the cache, tokens computed (not cached)
        self.inflight = 0.0  # request-equivalents of the batch now running (a backend's partial report)
        self.inflight_tokens = 0
        self.start = self.base = clock()  # base: when computing began (after the burst of cache hits)
        self.end: float | None = None
        self.points: deque[tuple[float, float, int]] = deque([(self.start, 0.0, 0)])  # (time, computed work, tokens)

    @property
    def computed(self) -> float:
        return self.done - self.hits + self.inflight

    def result(self, n_tokens: int, cached: bool) -> None:
        self.done += 1
        if cached:
            self.hits += 1
            self.base = self.clock()  # the average starts after the hits
            self.points = deque([(self.base, self.computed, self.tokens)])
            return
        self.tokens += n_tokens
        self._mark()

    def partial(self, inflight: float, inflight_tokens: int) -> None:
        self.inflight = min(max(inflight, 0.0), self.total - self.done)
        self.inflight_tokens = inflight_tokens
        self._mark()

    def finish(self) -> None:
        self.end = self.clock()
        self.inflight, self.inflight_tokens = 0.0, 0

    def _mark(self) -> None:
        now = self.clock()
        self.points.append((now, self.computed, self.tokens + self.inflight_tokens))
        while len(self.points) > 2 and self.points[1][0] < now - self.window:
            self.points.popleft()

    def rates(self, now: float | None = None) -> tuple[float | None, float | None]:
        """(requests/s, tokens/s) over the window up to `now` (a stall lowers them); None before any work."""
        now = self.clock() if now is None else now
        (t0, w0, k0), (_, w1, k1) = self.points[0], self.points[-1]
        span = now - t0
        if w1 <= w0 or span <= 0 or now - self.base < MIN_EVIDENCE:
            return None, None
        return (w1 - w0) / span, (k1 - k0) / span

    def eta(self, now: float | None = None) -> float | None:
        rps, _ = self.rates(now)
        left = self.total - self.done - self.inflight
        return None if rps is None else left / rps

    def text(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        parts = [f"{self.done}/{self.total}"]
        if self.end is not None:  # the whole stage's averages
            span = self.end - self.base
            if self.tokens and span > 0:
                parts.append(f"{_count(self.tokens / span)} tok/s")
        else:
            _, tps = self.rates(now)
            if tps is not None:
                parts.append(f"{_count(tps)} tok/s")
        if self.hits:
            parts.append(f"{self.hits} cached")
        if self.end is not None:
            parts.append(_duration(self.end - self.start))
        else:
            eta = self.eta(now)
            parts.append(f"ETA {_duration(eta)}" if eta is not None else "ETA …")
        return " · ".join(parts)


class Progress:
    """The run's status lines. `phase(label)` and `stage(label, total)` are context managers, each
    drawing its own line(s) while it runs and leaving its final line behind; `stage` yields a handle
    with result / partial (None when quiet). Quiet: each silences the libraries for its duration."""

    def __init__(self, quiet: bool):
        from rich.console import Console

        self.quiet = quiet
        self.notebook = not quiet and _in_notebook()
        # lines redraw in place only on a terminal; a log or a pipe gets none (its stderr stays for errors)
        self.terminal = not quiet and not self.notebook and Console(stderr=True).is_terminal

    @staticmethod
    def _rich():
        from rich.console import Console
        from rich.progress import BarColumn, Progress as RichProgress, ProgressColumn, TextColumn
        from rich.table import Column
        from rich.text import Text

        class Stats(ProgressColumn):
            def render(self, task):
                st = task.fields.get("stage")
                if st is not None:
                    return Text(st.text())
                took = _duration(task.elapsed or 0)
                return Text(f"✓ {took}" if task.finished else took)

        # the numbers are never cut: a narrow terminal shortens the label and the bar instead
        return RichProgress(TextColumn("{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1, max_width=40)),
                            BarColumn(bar_width=12), Stats(table_column=Column(no_wrap=True)),
                            console=Console(stderr=True), refresh_per_second=4)

    @contextmanager
    def phase(self, label: str):
        """A setup step (loading the task, resolving / converting / loading a model), with its elapsed time."""
        if self.quiet:
            with quiet_libraries():
                yield
        elif self.notebook:
            t0 = time.monotonic()
            print(f"{label} …", file=sys.stderr, flush=True)
            yield
            print(f"✓ {label} · {_duration(time.monotonic() - t0)}", file=sys.stderr, flush=True)
        elif not self.terminal:
            yield
        else:
            with self._rich() as bars:
                tid = bars.add_task(label, total=None)
                yield
                bars.update(tid, total=1, completed=1)

    @contextmanager
    def stage(self, label: str, total: int):
        if self.quiet or not (self.notebook or self.terminal):
            with quiet_libraries() if self.quiet else nullcontext():
                yield None
            return
        st = Stage(total)
        if self.notebook:
            handle = _NotebookStage(label, st)
            try:
                yield handle
            finally:
                handle.finish()
            return
        with self._rich() as bars:
            handle = _RichStage(bars, bars.add_task(label, total=total, stage=st), st)
            try:
                yield handle
            finally:
                handle.finish()


class _RichStage:
    def __init__(self, bars, tid, st: Stage):
        self.bars, self.tid, self.st = bars, tid, st

    def result(self, n_tokens: int, cached: bool) -> None:
        self.st.result(n_tokens, cached)
        self.bars.update(self.tid, completed=self.st.done + self.st.inflight)

    def partial(self, inflight: float, inflight_tokens: int) -> None:
        self.st.partial(inflight, inflight_tokens)
        self.bars.update(self.tid, completed=self.st.done + self.st.inflight)

    def finish(self) -> None:
        self.st.finish()
        self.bars.update(self.tid, completed=self.st.done)


class _NotebookStage:
    """tqdm.auto: a widget bar in Jupyter with ipywidgets, else a text bar that redraws in place."""

    def __init__(self, label: str, st: Stage):
        from tqdm.auto import tqdm

        self.st, self._last = st, 0.0
        self.bar = tqdm(total=st.total, desc=label, bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}", file=sys.stderr)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= 0.25:
            self._last = now
            self.bar.n = self.st.done + self.st.inflight
            self.bar.set_postfix_str(self.st.text(), refresh=True)

    def result(self, n_tokens: int, cached: bool) -> None:
        self.st.result(n_tokens, cached)
        self._draw()

    def partial(self, inflight: float, inflight_tokens: int) -> None:
        self.st.partial(inflight, inflight_tokens)
        self._draw()

    def finish(self) -> None:
        self.st.finish()
        self._draw(force=True)
        self.bar.close()
