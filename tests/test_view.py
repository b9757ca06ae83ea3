"""`evalkit view`: the JSON endpoints over real tiny-random runs, nothing outside the results served
(path traversal, other hosts, writes), and the page end to end in headless Chromium: it loads, a filter
narrows the runs table, a run opens, its records page, two runs compare, the leaderboard shows."""

import http.client
import json
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import EVALKIT
from test_report import Chromium, needs_chromium


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    from evalkit import run

    res = tmp_path_factory.mktemp("view") / "results"
    raw = run("mcq", "tiny-random", limit=25, out=res / "mcq_raw", cache=False)
    chat = run("mcq", "tiny-random", limit=25, out=res / "mcq_chat", cache=False, overrides={"prompt_format": "chat"})
    run("posix_mcq", "tiny-random", limit=2, out=res / "posix", cache=False,
        overrides={"perturbations": ["spelling", "template"], "n_variants": 2, "max_tokens": 4})
    failed = res / "mcq_failed"  # a run that died before its summary: listed, with its status
    failed.mkdir()
    man = json.loads((raw.out / "manifest.json").read_text())
    (failed / "manifest.json").write_text(json.dumps({**man, "run_id": "deadbeef0000", "status": "failed", "error": "KeyboardInterrupt: "}))
    battles = res / "battles.jsonl"
    battles.write_text("".join(json.dumps({"model_a": a, "model_b": b, "winner": w}) + "\n" for a, b, w in
                               [("alpha", "beta", "model_a"), ("alpha", "beta", "model_a"), ("beta", "alpha", "tie"), ("alpha", "beta", "model_b")]))
    r = subprocess.run([EVALKIT, "rank", str(battles), "--n-boot", "10", "-o", str(res / "ranking")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return {"root": res, "raw": raw.summary["run_id"], "chat": chat.summary["run_id"]}


@pytest.fixture(scope="module")
def server(results):
    from evalkit.view import make_server

    srv = make_server([str(results["root"])], port=0)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def get(server, path, host=None, method="GET"):
    """(status, body) for a raw request path, sent as it is (no client-side normalisation)."""
    c = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    c.putrequest(method, path, skip_host=True)
    c.putheader("Host", host or f"127.0.0.1:{server.server_port}")
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def get_json(server, path):
    status, body = get(server, path)
    assert status == 200, body
    return json.loads(body)


def test_api_runs_summary_records_compare_leaderboard(server, results):
    runs = {r["run_id"]: r for r in get_json(server, "/api/runs")}
    raw, chat = results["raw"], results["chat"]
    assert {raw, chat, "deadbeef0000"} <= set(runs) and len(runs) == 5  # + posix + the ranking
    for r in runs.values():
        assert {"run_id", "task", "kind", "model", "status", "path"} <= set(r)
    assert runs[raw]["task"] == "mcq" and runs[raw]["kind"] == "mcq" and runs[raw]["model"] == "tiny-random"
    assert runs[raw]["status"] == "complete" and runs["deadbeef0000"]["status"] == "failed"
    assert {r["kind"] for r in runs.values()} == {"mcq", "posix", "ranking"}
    assert Path(runs[raw]["path"]) == (results["root"] / "mcq_raw").resolve()

    summary = get_json(server, f"/api/runs/{raw}/summary")
    assert summary == json.loads((results["root"] / "mcq_raw" / "summary.json").read_text())
    assert get(server, "/api/runs/deadbeef0000/summary")[0] == 404
    detail = get_json(server, f"/api/runs/{raw}")
    assert detail["n_records"] == 25 and detail["metric_info"]["acc"]["higher_is_better"] is True

    lines = [json.loads(x) for x in (results["root"] / "mcq_raw" / "records.jsonl").read_text().splitlines()]
    page = get_json(server, f"/api/runs/{raw}/records?offset=20&limit=10")
    assert page["total"] == 25 and page["records"] == lines[20:25]
    assert get_json(server, f"/api/runs/{raw}/records?offset=3&limit=2")["records"] == lines[3:5]
    for bad in ("offset=-1", "limit=0", "limit=100000", "offset=x"):
        status, body = get(server, f"/api/runs/{raw}/records?{bad}")
        assert status == 400 and "error" in json.loads(body)
    assert get(server, "/api/runs/nosuchrun/records")[0] == 404

    cmp = get_json(server, f"/api/compare?a={raw}&b={chat}&limit=50")
    other = {str(r["id"]): r for r in (json.loads(x) for x in (results["root"] / "mcq_chat" / "records.jsonl").read_text().splitlines())}
    differ = [r for r in lines if r != other[str(r["id"])]]
    assert cmp["shared"] == 25 and cmp["n_differ"] == len(differ) > 0
    row = next(x for x in cmp["rows"] if x["differ"])
    assert "prompt" in row["differ"] and "id" not in row["differ"]  # raw vs chat prompts differ; the sample is the same
    only = get_json(server, f"/api/compare?a={raw}&b={chat}&only_diff=1&limit=500")
    assert only["total"] == len(differ) and all(x["differ"] for x in only["rows"])
    posix = next(r for r in runs.values() if r["kind"] == "posix")["run_id"]
    assert get(server, f"/api/compare?a={raw}&b={posix}")[0] == 400  # different tasks

    (board,) = get_json(server, "/api/leaderboards")
    models = {e["model"] for e in board["board"]["entries"]}
    assert board["built"] and models and models <= {"alpha", "beta", "tiny-random"}  # built from these results
    ranking = next(r for r in runs.values() if r["kind"] == "ranking")["run_id"]
    assert get_json(server, f"/api/runs/{ranking}")["plots"] == ["ratings.png"]
    status, png = get(server, f"/api/runs/{ranking}/files/ratings.png")
    assert status == 200 and png.startswith(b"\x89PNG")


def test_nothing_outside_the_results_is_served(server, results):
    raw = results["raw"]
    ranking = next(r for r in get_json(server, "/api/runs") if r["kind"] == "ranking")["run_id"]
    secret = results["root"].parent / "secret.txt"
    secret.write_text("TOP SECRET")
    for path in [
        "/static/../../../../etc/passwd", "/static/..%2F..%2F..%2Fetc%2Fpasswd", "/static/%2e%2e/%2e%2e/secret.txt",
        "/../secret.txt", "/..%2fsecret.txt", "//etc/passwd", "/etc/passwd", "/static/", "/static/server.py",
        "/static/%2Fetc%2Fpasswd", f"/api/runs/{ranking}/files/../../secret.txt", f"/api/runs/{ranking}/files/..%2F..%2Fsecret.txt",
        f"/api/runs/{ranking}/files/ranking.json",  # in the run directory, but not one of its plots
        f"/api/runs/{raw}/files/records.jsonl", f"/api/runs/{raw}/files/%2Fetc%2Fpasswd",
        "/api/runs/..%2F..%2Fsecret.txt/summary", "/api/runs/../../secret.txt", "/api/../static/app.js",
    ]:
        status, body = get(server, path)
        assert status == 404, (path, status)
        assert b"SECRET" not in body and b"root:" not in body and b'"run_id"' not in body
    assert get(server, "/static/app.js")[0] == 200 and get(server, "/")[0] == 200
    assert get(server, "/api/runs", host="evil.example:80")[0] == 403  # DNS rebinding
    assert get(server, "/api/runs", host=f"localhost:{server.server_port}")[0] == 200
    assert get(server, "/api/runs", method="POST")[0] == 405
    assert server.server_address[0] == "127.0.0.1"


def test_cli_view_serves_and_bad_input_is_one_line(results, tmp_path):
    r = subprocess.run([EVALKIT, "view", str(tmp_path / "nothing")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such results path" in r.stderr
    p = subprocess.Popen([EVALKIT, "view", str(results["root"]), "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("evalkit view: http://127.0.0.1:") and "(5 runs" in line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/api/runs")
        assert len(json.loads(c.getresponse().read())) == 5
        busy = subprocess.run([EVALKIT, "view", str(results["root"]), "--port", str(port)], capture_output=True, text=True)
        assert busy.returncode == 2 and busy.stderr.count("\n") == 1 and f"--port {port}: cannot listen" in busy.stderr
    finally:
        p.terminate()
        p.wait(timeout=30)


WAIT = """new Promise((resolve, reject) => {
  const t0 = Date.now();
  const tick = () => { let v; try { v = (%s); } catch (e) { v = null; }
    if (v) resolve(v); else if (Date.now() - t0 > 20000) reject(new Error("timed out waiting for: %s")); else setTimeout(tick, 50); };
  tick(); })"""


@needs_chromium
def test_page_in_headless_chromium(server, results, tmp_path):
    browser = Chromium(timeout=120)
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=sid)

        def js(expr):
            res = browser.call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True}, sid)
            assert "exceptionDetails" not in res, res["exceptionDetails"]
            return res["result"].get("value")

        def wait(cond):
            return js(WAIT % (cond, cond.replace('"', "'")))

        mark = len(browser.events)
        browser.call("Page.navigate", {"url": server.url}, sid)
        browser.wait_for("Page.loadEventFired", since=mark)
        assert wait("document.querySelectorAll('#runs tbody tr').length") == 5
        # a filter narrows the table: task = mcq leaves the two mcq runs and the failed one
        js("const s = document.getElementById('filter-task'); s.value = 'mcq'; s.dispatchEvent(new Event('change')); 1")
        assert js("document.querySelectorAll('#runs tbody tr').length") == 3
        assert js("document.getElementById('runs-count').textContent") == "3 of 5 runs"
        js("const s2 = document.getElementById('filter-status'); s2.value = 'failed'; s2.dispatchEvent(new Event('change')); 1")
        assert js("[...document.querySelectorAll('#runs tbody tr')].map(r => r.dataset.runId)") == ["deadbeef0000"]
        js("const s3 = document.getElementById('filter-status'); s3.value = ''; s3.dispatchEvent(new Event('change')); 1")
        # sorting by the headline metric, descending: the better mcq run first
        js("document.querySelector('th[data-key=headline]').click(); document.querySelector('th[data-key=headline]').click(); 1")
        order = js("[...document.querySelectorAll('#runs tbody tr')].map(r => r.dataset.runId)")
        raw_acc = json.loads((results["root"] / "mcq_raw" / "summary.json").read_text())["metrics"]["acc"]["value"]
        chat_acc = json.loads((results["root"] / "mcq_chat" / "summary.json").read_text())["metrics"]["acc"]["value"]
        assert order[:2] == ([results["raw"], results["chat"]] if raw_acc >= chat_acc else [results["chat"], results["raw"]])
        assert order[-1] == "deadbeef0000"  # no value: last

        # a run opens: metrics with directions, then records page by page
        js(f"document.querySelector('tr[data-run-id=\"{results['raw']}\"] a').click(); 1")
        assert wait("document.querySelectorAll('#record-list details.record').length") == 20
        assert "mcq · tiny-random" in js("document.getElementById('run-title').textContent")
        metrics = js("[...document.querySelectorAll('#metrics tbody tr')].map(r => [...r.cells].map(c => c.textContent))")
        acc = next(m for m in metrics if m[0] == "acc")
        assert acc[1] == "↑" and float(acc[2]) == pytest.approx(raw_acc, abs=1e-3)
        assert js("document.getElementById('rec-page').textContent") == "1–20 of 25"
        first = js("document.querySelector('#record-list details.record').dataset.key")
        js("document.getElementById('rec-next').click(); 1")
        assert wait("document.getElementById('rec-page') && document.getElementById('rec-page').textContent === '21–25 of 25' "
                    "&& document.querySelectorAll('#record-list details.record').length") == 5
        lines = [json.loads(x) for x in (results["root"] / "mcq_raw" / "records.jsonl").read_text().splitlines()]
        assert js("[...document.querySelectorAll('#record-list details.record')].map(d => d.dataset.key)") == [str(r["id"]) for r in lines[20:]]
        assert first == str(lines[0]["id"])
        text = js("document.querySelector('#record-list details.record').innerText")
        assert lines[20]["prompt"].splitlines()[0] in js("document.querySelector('#record-list details.record').textContent")
        assert "acc" in text

        # two runs side by side; then the leaderboard
        js(f"location.hash = '#/compare/{results['raw']}/{results['chat']}'; 1")
        stats = wait("document.getElementById('compare-stats') && document.getElementById('compare-stats').textContent")
        assert stats.startswith("25 shared samples")
        js("document.getElementById('only-diff').click(); 1")
        assert wait("document.getElementById('only-diff') && document.getElementById('only-diff').checked "
                    "&& [...document.querySelectorAll('#compare-list details.record')].every(d => d.dataset.differ !== '0')")
        js("location.hash = '#/leaderboard'; 1")
        (board,) = get_json(server, "/api/leaderboards")
        assert wait("document.querySelectorAll('.board table.entries tbody tr').length") == len(board["board"]["entries"])
        shot = browser.call("Page.captureScreenshot", {"format": "png"}, sid)
        assert len(shot["data"]) > 1000

        ev = browser.events
        errors = [e for e in ev if e.get("method") == "Runtime.exceptionThrown"]
        errors += [e for e in ev if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")]
        errors += [e for e in ev if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"]
        assert not errors, errors
        urls = [e["params"]["request"]["url"] for e in ev if e.get("method") == "Network.requestWillBeSent"]
        assert urls and all(u.startswith(server.url) for u in urls), urls  # nothing fetched from anywhere else
    finally:
        browser.close()
