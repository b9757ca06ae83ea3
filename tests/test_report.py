"""`evalkit report`: built from real tiny-random runs (plus `evalkit swiss` / `evalkit rank` output and a
hand-made sweep summary), checked in headless Chromium over the DevTools protocol: no console errors,
nothing fetched, every expected section and plot there, every image decoded."""

import base64
import csv
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import EVALKIT, REPO
from evalkit.errors import EvalkitError
from evalkit.report import build_report, write_report
from evalkit.report.render import fmt

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (`make install-dev` installs it)"
)
HOSTILE = "<img src=x onerror=alert(1)>"  # a player name that would be markup if the report did not escape it
CSD_HOSTILE = 'ace "<b>bold</b>" & co'


# ----------------------------------------------------------------------------------- headless Chromium


class Chromium:
    """Headless Chromium driven over --remote-debugging-pipe (fd 3: commands in, fd 4: replies out,
    NUL-separated JSON): no websocket library and no port needed."""

    def __init__(self, timeout: float = 60.0):
        self.deadline = time.monotonic() + timeout
        self.profile = tempfile.mkdtemp(prefix="evalkit-chromium-")
        cmd_r, self._cmd_w = os.pipe()
        self._ev_r, ev_w = os.pipe()

        def fds():  # in the child: the pipe ends become fds 3 and 4 (dup first: they may already be 3 or 4)
            a, b = os.dup(cmd_r), os.dup(ev_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-pipe",
                "--window-size=1280,2000",
                "about:blank",
            ],
            preexec_fn=fds,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_r)
        os.close(ev_w)
        self._buf, self._id, self.events = b"", 0, []

    def _next(self) -> dict:
        while b"\0" not in self._buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._ev_r], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._ev_r, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"chromium exited (rc {self.proc.poll()})")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._next()
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def wait_for(self, method: str, since: int = 0) -> dict:
        """The first `method` event among events[since:], reading on until it comes."""
        for m in self.events[since:]:
            if m.get("method") == method:
                return m
        while True:
            m = self._next()
            self.events.append(m)
            if m.get("method") == method:
                return m

    def close(self):
        try:
            self.call("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._cmd_w)
            os.close(self._ev_r)
            shutil.rmtree(self.profile, ignore_errors=True)


PROBE = """JSON.stringify({
  sections: [...document.querySelectorAll('section')].map(s => ({id: s.id, kind: s.dataset.kind, text: s.innerText})),
  images: [...document.images].map(i => ({alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight,
     data: i.src.startsWith('data:image/png;base64,'), plot: i.closest('figure') && i.closest('figure').dataset.plot,
     origin: i.closest('figure') && i.closest('figure').dataset.origin, section: i.closest('section') && i.closest('section').id})),
  scripts: document.scripts.length,
  title: document.title, url: location.href,
})"""


def load_page(path: Path, screenshot: Path | None = None) -> dict:
    """Open a file in headless Chromium; return what the page logged, fetched and holds."""
    browser = Chromium()
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=sid)
        mark = len(browser.events)  # an earlier about:blank load event must not count
        browser.call("Page.navigate", {"url": path.resolve().as_uri()}, sid)
        browser.wait_for("Page.loadEventFired", since=mark)
        dom = json.loads(browser.call("Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, sid)["result"]["value"])
        if screenshot is not None:
            shot = browser.call("Page.captureScreenshot", {"format": "png"}, sid)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        ev = browser.events
        return {
            "dom": dom,
            "console": [
                e["params"]
                for e in ev
                if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "warning", "assert")
            ],
            "exceptions": [e["params"] for e in ev if e.get("method") == "Runtime.exceptionThrown"],
            "log": [
                e["params"]["entry"]
                for e in ev
                if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning")
            ],
            "requests": [e["params"]["request"]["url"] for e in ev if e.get("method") == "Network.requestWillBeSent"],
        }
    finally:
        browser.close()


# ----------------------------------------------------------------------------------- real results


def _sweep(root: Path) -> Path:
    """A hand-made `evalkit sweep` output (training is too slow for this test), shaped like
    evalkit.tuning.sweep.build_summary writes it, without its plots: the report draws them."""
    out = root / "sweep"
    out.mkdir()
    trials, breakdown = [], {}
    rows = [
        ("dpo", 0, {"beta": 0.1}, 0.62, 3.1, 41.0),
        ("dpo", 1, {"beta": 0.5}, 0.55, 1.2, 37.5),
        ("ipo", 0, {"beta": 0.1}, 0.48, 0.8, 35.0),
        ("ipo", 1, {"beta": 1.0}, 0.51, 0.4, 33.0),
    ]
    for method, t, params, score, kl, length in rows:
        trials.append(
            {
                "method": method,
                "loss": method,
                "trial": t,
                "state": "COMPLETE",
                "value": score,
                "params": params,
                "dir": f"trials/{method}/t{t:03d}",
            }
        )
        breakdown[f"{method}/t{t:03d}"] = {
            "score": {"value": score, "n": 6},
            "win_rate_vs_sft": {"value": score, "n": 6},
            "kl_to_sft": {"value": kl, "stderr": 0.1, "n": 6},
            "mean_length": {"value": length, "n": 6},
        }
    by_method = {
        m: {"mean": {"value": sum(r[3] for r in rows if r[0] == m) / 2, "n": 2}, "n_trials": {"value": 2.0, "n": 2}}
        for m in ("dpo", "ipo")
    }
    summary = {
        "schema": "evalkit.summary/v1",
        "task": "tiny-sweep",
        "kind": "sweep",
        "model": "tiny-random",
        "backend": "hf",
        "n_samples": 6,
        "score": "win_rate_vs_sft",
        "status": "complete",
        "metrics": {"mean": {"value": 0.54, "n": 4}, "best": {"value": 0.62, "n": 4}, "worst": {"value": 0.48, "n": 4}},
        "breakdown": {"method": by_method, "trial": breakdown},
        "best": {
            "dpo": {
                "trial": 0,
                "params": {"beta": 0.1},
                "tuning_score": 0.62,
                "test_seeds": [100],
                "test_score": {"value": 0.6, "ci_low": 0.4, "ci_high": 0.8, "n": 6},
            }
        },
        "sft": {},
        "trials": trials,
        "plots": [],
    }
    (out / "summary.json").write_text(json.dumps(summary))
    (out / "manifest.json").write_text(
        json.dumps(
            {
                "schema": "evalkit.sweep-manifest/v1",
                "sweep": "tiny-sweep",
                "model": "tiny-random",
                "score": "win_rate_vs_sft",
                "status": "complete",
                "started": "2026-01-01T00:00:00+00:00",
                "finished": "2026-01-01T00:02:05+00:00",
            }
        )
    )
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Runs on tiny-random (posix, formatspread, judge, code mutations, code agent, tournament), a CSD
    over a score table, a ranking, a sweep summary and a failed run, all under one directory."""
    from typer.testing import CliRunner

    from evalkit import run
    from evalkit.cli import app

    root = tmp_path_factory.mktemp("report")
    res = root / "results"
    over = dict(cache=False)
    run(
        "posix_mcq",
        "tiny-random",
        limit=2,
        out=res / "posix",
        **over,
        overrides={"perturbations": ["spelling", "template", "mixed"], "n_variants": 3, "max_tokens": 4},
    )
    (res / "posix" / "posix_by_perturbation.png").unlink()  # the report must draw it from the breakdown
    run("formatspread_mcq", "tiny-random", limit=8, out=res / "formatspread", **over, overrides={"n_formats": 6})
    run("judge_pairs", "tiny-random", limit=6, out=res / "judge", **over, overrides={"max_tokens": 4})
    run(
        "code_mutations",
        "tiny-random",
        limit=2,
        out=res / "code_mutations",
        **over,
        overrides={"mutations": {"underspec": [5], "flip": [0]}, "max_tokens": 16},
    )
    run("code_agent", "tiny-random", limit=2, out=res / "code_agent", **over, overrides={"max_turns": 2, "max_tokens": 16})
    run(
        "tournament_variants",
        "tiny-random",
        limit=4,
        out=res / "tournament",
        **over,
        overrides={
            "players": [
                {"name": "chat"},
                {"name": "raw", "prompt_format": "raw"},
                {"name": HOSTILE, "system_prompt": "Be brief."},
            ],
            "prompts_per_match": 2,
            "max_tokens": 8,
            "n_boot": 20,
        },
    )
    cli = CliRunner()
    r = cli.invoke(app, ["rank", str(res / "tournament"), "--n-boot", "50", "-o", str(res / "rank")])
    assert r.exit_code == 0, r.output
    rows = [r for r in csv.reader(open(REPO / "tasks/data/csd_demo_scores.csv")) if r and not r[0].startswith("#")]
    with open(root / "scores.csv", "w", newline="") as f:  # one model renamed to markup
        csv.writer(f).writerows([[CSD_HOSTILE if c == "tiny-1b" else c for c in r] for r in rows])
    r = cli.invoke(
        app,
        [
            "swiss",
            str(root / "scores.csv"),
            "--rounds",
            str(REPO / "tasks/data/csd_demo_rounds.yaml"),
            "--n",
            "2000",
            "-o",
            str(res / "swiss"),
        ],
    )
    assert r.exit_code == 0, r.output
    _sweep(res)
    failed = res / "failed"  # a run killed before its summary: shown with its status
    failed.mkdir()
    man = json.loads((res / "judge" / "manifest.json").read_text())
    man.update(status="failed", ended=None, error="RuntimeError: killed <by> test")
    (failed / "manifest.json").write_text(json.dumps(man))
    return res


def _summary(res: Path, name: str) -> dict:
    return json.loads((res / name / "summary.json").read_text())


# ----------------------------------------------------------------------------------- tests


EXPECTED = {  # section id -> (data-kind, plots (data-plot) it must hold)
    "task-posix_mcq": ("posix", {"posix_by_perturbation"}),
    "task-formatspread_mcq": ("formatspread", {"formatspread_distribution", "formatspread"}),
    "task-code_mutations": ("code_mutations", {"code_mutations"}),
    "task-code_agent": ("code_agent", {"agent_turns"}),
    "task-judge_pairs": ("judge", {"confusion"}),
    "task-tournament_variants": ("tournament", {"ratings"}),
    "task-rank": ("ranking", {"ratings"}),
    "task-csd_demo_rounds": ("csd", {"expected_scores", "fsa_scatter"}),
    "task-tiny-sweep": ("sweep", {"score_vs_kl", "score_vs_length", "score_distribution"}),
    "leaderboard": ("leaderboard", {"leaderboard_ratings"}),
}


@needs_chromium
def test_report_loads_cleanly_in_headless_chromium(results, tmp_path):
    out = tmp_path / "site" / "report.html"
    res = subprocess.run([EVALKIT, "report", str(results), "-o", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert f"report: {out}" in res.stdout
    page = load_page(out)
    assert page["console"] == [] and page["exceptions"] == [] and page["log"] == [], page
    # nothing was fetched: the page itself, then data: URIs only
    assert page["requests"][0] == out.resolve().as_uri()
    assert all(u.startswith("data:image/png;base64,") for u in page["requests"][1:]), page["requests"]
    dom = page["dom"]
    assert dom["url"] == out.resolve().as_uri() and dom["scripts"] == 0 and dom["title"] == "evalkit report"
    sections = {s["id"]: s for s in dom["sections"]}
    for sid, (kind, expected_plots) in EXPECTED.items():
        assert sid in sections and sections[sid]["kind"] == kind, (sid, sorted(sections))
        got = {i["plot"] for i in dom["images"] if i["section"] == sid}
        assert expected_plots <= got, (sid, got)
    assert "overview" in sections
    for img in dom["images"]:  # every image decoded, has alt text, and is inline
        assert img["complete"] and img["w"] > 0 and img["h"] > 0 and img["data"] and img["alt"].strip(), img
    origin = {(i["section"], i["plot"]): i["origin"] for i in dom["images"]}
    assert origin[("task-posix_mcq", "posix_by_perturbation")] == "drawn"  # deleted above: drawn from the breakdown
    assert origin[("task-tiny-sweep", "score_vs_kl")] == "drawn" and origin[("task-judge_pairs", "confusion")] == "stored"

    # the numbers are the stored ones
    posix = _summary(results, "posix")["metrics"]["posix"]
    text = sections["task-posix_mcq"]["text"]
    assert fmt(posix["value"]) in text and f"[{fmt(posix['ci_low'])}, {fmt(posix['ci_high'])}]" in text
    man = json.loads((results / "posix" / "manifest.json").read_text())
    assert man["model"]["weights_hash"][:19] in text and man["run_id"] in text and "numpy " + man["packages"]["numpy"] in text
    fs = _summary(results, "formatspread")
    assert fs["best_format"] in sections["task-formatspread_mcq"]["text"]
    csd = _summary(results, "swiss")
    top = csd["entries"][0]
    assert f"{fmt(top['E_S']['2'])} ± {1.96 * top['mc_stderr']['2']:.2g}" in sections["task-csd_demo_rounds"]["text"]
    # markup in result files is shown as text, never run or rendered
    assert HOSTILE in sections["task-tournament_variants"]["text"] and HOSTILE in sections["leaderboard"]["text"]
    assert CSD_HOSTILE in sections["task-csd_demo_rounds"]["text"]
    failed = [s for s in sections.values() if "killed <by> test" in s["text"]]
    assert len(failed) == 1 and failed[0]["id"] == "task-judge_pairs"


def test_report_is_self_contained_deterministic_and_uses_a_given_leaderboard(results, tmp_path):
    from typer.testing import CliRunner

    from evalkit.cli import app

    html = build_report([results])
    assert build_report([results]) == html  # same files, same bytes
    assert "http://" not in html and "https://" not in html
    srcs = re.findall(r"""\b(?:src|href|srcset|action|data)\s*=\s*["']([^"']*)""", html)
    assert srcs and all(s.startswith("data:image/png;base64,") or s.startswith("#") for s in srcs)
    assert "<script" not in html and "<link" not in html and "url(" not in html and "@import" not in html
    for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', html):
        assert base64.b64decode(uri)[:8] == b"\x89PNG\r\n\x1a\n"
    assert html.count('<section id="leaderboard"') == 1 and "built by the report from the inputs" in html

    lb = tmp_path / "lb.json"
    r = CliRunner().invoke(app, ["export", "leaderboard", str(results / "tournament"), str(results / "posix"), "-o", str(lb)])
    assert r.exit_code == 0, r.output
    out = write_report([results / "posix", lb], tmp_path / "r.html")
    given = out.read_text()
    assert given.count('<section id="leaderboard"') == 1 and f'<p class="src">{lb}</p>' in given
    assert 'id="task-posix_mcq"' in given and 'id="task-judge_pairs"' not in given


def test_bad_input_is_a_one_line_error(results, tmp_path):
    def cli(*args):
        r = subprocess.run([EVALKIT, "report", *args], capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("evalkit: error: "), r.stderr
        return r.stderr

    assert "missing: no such results path" in cli("missing", "-o", "r.html")
    bad = tmp_path / "bad"
    shutil.copytree(results / "judge", bad)
    (bad / "summary.json").write_text('{"schema": "evalkit.summary/v1", "metrics": ')
    assert f"{bad / 'summary.json'}: malformed JSON" in cli(str(bad), "-o", "r.html")
    assert not (tmp_path / "r.html").exists()

    def err(doc, name="summary.json") -> str:
        p = tmp_path / "case" / name
        p.parent.mkdir(exist_ok=True)
        p.write_text(json.dumps(doc))
        with pytest.raises(EvalkitError) as e:
            build_report([p])
        return str(e.value)

    good = _summary(results, "judge")
    assert err({**good, "metrics": {"accuracy": {"value": "high"}}}).endswith(
        "field 'metrics.accuracy.value': expected a number or null, got str"
    )
    assert err({**good, "breakdown": {"family": {"x": {"accuracy": 0.5}}}}).endswith(
        "field 'breakdown.family.x.accuracy': expected an object with a 'value'"
    )
    assert err({**good, "schema": "other/v1"}).endswith(
        "field 'schema': 'other/v1'; expected an evalkit summary, ranking, leaderboard or manifest"
    )
    csd = _summary(results, "swiss")
    del csd["entries"][1]["E_S"]
    assert err(csd).endswith("field 'entries.1.E_S': missing")
    # a run without its plot and without the data to draw it again: the rest of the report stands, the
    # gap is said where the plot would be
    posix = _summary(results, "posix")
    del posix["breakdown"]["perturbation"]
    (tmp_path / "case" / "summary.json").write_text(json.dumps(posix))
    html = build_report([tmp_path / "case"])
    note = f"could not draw the posix plots from {tmp_path / 'case' / 'summary.json'}: field &#x27;perturbation&#x27; is missing"
    assert f'<p class="note" data-note="plot">{note}</p>' in html and 'id="task-posix_mcq"' in html
    assert err([1, 2]).endswith("expected a JSON object")
    with pytest.raises(EvalkitError, match="give a path ending in .html"):
        write_report([results / "judge"], tmp_path / "r.pdf")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvalkitError, match="no summary.json, ranking.json, leaderboard JSON or run manifest found"):
        build_report([tmp_path / "empty"])


@needs_chromium
def test_the_browser_check_catches_broken_pages(tmp_path):
    """The harness above fails a page that logs an error, fetches something, or holds a broken image."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>b</title></head><body>'
        '<section id="s"><img alt="bad" src="data:image/png;base64,iVBORw0KGgoAAAA="></section>'
        '<img alt="remote" src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>'
    )
    got = load_page(page)
    assert [c["args"][0]["value"] for c in got["console"]] == ["boom"]
    assert "http://127.0.0.1:9/x.png" in got["requests"]
    assert [i["w"] for i in got["dom"]["images"]] == [0, 0] and got["dom"]["scripts"] == 1


def test_number_formatting_and_png_header():
    from evalkit.report.plots import png_size
    from evalkit.report.render import esc, short_hash

    assert [fmt(x) for x in (None, 3.0, 0.123456, 2.776e-17, 1131.38, float("nan"), True, 7)] == [
        "",
        "3",
        "0.1235",
        "0",
        "1131",
        "",
        "true",
        "7",
    ]
    assert short_hash("sha256:" + "ab" * 32) == f'<span title="sha256:{"ab" * 32}"><code>sha256:abababababab…</code></span>'
    assert esc('<b a="1">&') == "&lt;b a=&quot;1&quot;&gt;&amp;"
    header = (
        b"\x89PNG\r\n\x1a\n"
        + b"\x00\x00\x00\rIHDR"
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
        + b"\x08\x06\x00\x00\x00"
    )
    assert png_size(header + b"\x00" * 8) == (640, 480) and png_size(b"GIF89a" + b"\x00" * 40) is None
