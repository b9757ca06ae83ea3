"""`evalkit bench`: spreads and ratios on hand-computed cases, workloads, the -B round trip, bad spaces
(one line, exit 2), and end to end on tiny-random: bench.json matches its schema, the study resumes
without re-measuring, infeasible points are kept, the report shows it. No timed assertions: only
counts, identities and the arithmetic between stored numbers."""

import json
import math

import jsonschema
import pytest

from conftest import REPO, evalkit_cli
from evalkit import cli
from evalkit.bench import cli_options, measure, ratio, spread
from evalkit.bench.study import schema
from evalkit.bench.workload import build_workload
from evalkit.requests import Generation, LoglikelihoodRequest




def test_spread_and_ratio_by_hand():
    s = spread([1.0, 2.0, 3.0])
    assert (s["mean"], s["std"], s["min"], s["max"], s["n"]) == (2.0, 1.0, 1.0, 3.0, 3)  # sd: sqrt((1 + 0 + 1) / 2)
    assert spread([5.0])["std"] is None
    # best [4, 6]: mean 5, sd sqrt(2), se 1; default [2, 2]: mean 2, se 0 -> r = 2.5, se = 2.5 * (1 / 5) = 0.5
    r = ratio(spread([4.0, 6.0]), spread([2.0, 2.0]))
    assert r["value"] == 2.5 and r["stderr"] == pytest.approx(0.5) and (r["low"], r["high"]) == (2.0, 3.0)
    # both noisy: best [9, 11] (se 1, mean 10), default [4, 6] (se 1, mean 5): r = 2, se = 2 * sqrt(0.1^2 + 0.2^2)
    r = ratio(spread([9.0, 11.0]), spread([4.0, 6.0]))
    assert r["stderr"] == pytest.approx(2 * math.sqrt(0.01 + 0.04)) and (r["low"], r["high"]) == (1.5, 11 / 4)
    assert ratio(spread([3.0]), spread([2.0]))["stderr"] is None


def test_cli_options_parse_back_to_the_same_options():
    opts = {"batch_tokens": 4096, "static_cache": True, "attn_implementation": "sdpa", "max_length": None}
    text = cli_options(opts)
    assert text == "-B batch_tokens=4096 -B static_cache=true -B attn_implementation=sdpa -B max_length=null"
    assert cli._backend_options("hf", text.replace("-B ", "").split()) == opts
    v = {"gpu_memory_utilization": 0.2, "enable_prefix_caching": False, "max_num_seqs": 64}
    assert cli._backend_options("vllm", cli_options(v).replace("-B ", "").split()) == v


def test_workloads(hf_tiny):
    tok = hf_tiny.tok
    g = build_workload("generate", tok, 5, 24, 6, 1)
    assert g.method == "generate" and len(g.requests) == 5 and len(set(g.requests)) == 5
    assert all(r.config.max_tokens == 6 and r.config.greedy for r in g.requests)
    assert all(abs(n - 24) <= 3 for n in g.prompt_tokens)  # corpus windows of 24 tokens, re-tokenised
    ll = build_workload("loglikelihood", tok, 3, 16, 4, 2)
    assert ll.method == "loglikelihood" and len(ll.requests) == 6 and len({r.context for r in ll.requests}) == 3
    # a task: the requests its first stage sends, exactly (mcq: one per option of each question)
    rows = [json.loads(x) for x in (REPO / "tasks/data/mcq.jsonl").read_text().splitlines()[:2]]
    t = build_workload("mcq", tok, 2, 1, 1, 1)
    assert t.method == "loglikelihood" and t.spec["task"] == "mcq"
    assert list(t.requests) == [LoglikelihoodRequest(f"Question: {r['question']}\nAnswer:", " " + o) for r in rows for o in r["options"]]
    assert t.prompt_tokens == tuple(sum(map(len, tok.request_ids(r))) for r in t.requests)
    assert build_workload("generate", tok, 5, 24, 6, 1) == g  # seeded: the same prompts every time


class _Engine:
    """A backend double: known token counts, and it records what it was sent."""

    def __init__(self):
        self.calls, self.resets = [], 0
        self.llm = self

    def reset_prefix_cache(self):
        self.resets += 1

    def generate(self, reqs, on_result=None):
        self.calls.append(len(reqs))
        out = [Generation(("x",), (tuple(range(3 + i)),), 5, ("length",)) for i in range(len(reqs))]
        for i, g in enumerate(out):
            if on_result:
                on_result(i, g)
        return out


def test_measure_excludes_warmup_and_counts_tokens(hf_tiny):
    wl = build_workload("generate", hf_tiny.tok, 4, 8, 4, 1)
    e = _Engine()
    res = measure(e, wl, repeats=3, warmup=2)
    assert e.calls == [2, 4, 4, 4] and e.resets == 3  # one warm-up call on 2 requests, untimed; the cache reset per repeat
    assert res["tokens"] == 3 + 4 + 5 + 6 and res["requests"] == 4 and res["tokens_per_s"]["n"] == 3
    for tps, rps, sec in zip(res["tokens_per_s"]["values"], res["requests_per_s"]["values"], res["seconds"]["values"]):
        assert tps * sec == pytest.approx(18) and rps * sec == pytest.approx(4)
    assert all(p <= s + 1e-9 for p, s in zip(res["latency_p99_s"]["values"], res["seconds"]["values"]))


def _space(tmp_path, text):
    p = tmp_path / "space.yaml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize(
    "text, extra, expect",
    [
        ("hf:\n  nope: [1, 2]\n", [], "field 'hf.nope': unknown option for backend 'hf'"),
        ("hf:\n  batch_tokens: []\n", [], "field 'hf.batch_tokens': empty list of values"),
        ("hf:\n  static_cache: [yes_please]\n", [], "field 'hf.static_cache': 'yes_please': Input should be a valid boolean"),
        ("hf:\n  batch_tokens: {low: 64, high: 8}\n", [], "field 'hf.batch_tokens': needs low < high"),
        ("hf:\n  batch_tokens: {low: 64, high: 512}\n", ["--sampler", "grid"], "field 'hf.batch_tokens': a range cannot be gridded"),
        ("hf:\n  dtype: float32\n", [], "field 'hf': nothing to search"),
        ("vllm:\n  max_num_seqs: [8]\n", [], "field 'hf': missing"),
        ("tgi:\n  x: [1]\n", [], "field 'tgi': not a benchmarked backend"),
        ("hf: [unclosed\n", [], "malformed YAML"),
    ],
)
def test_bad_space_is_one_line_exit_2(tmp_path, capsys, text, extra, expect):
    path = _space(tmp_path, text)
    code, _, err = evalkit_cli(["bench", "-m", "tiny-random", "--space", path, "-o", str(tmp_path / "b"), *extra], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and expect in err and path in err, err
    assert not (tmp_path / "b").exists()  # refused before any work


def test_bad_flags_exit_2(tmp_path, capsys):
    for args, expect in [(["-b", "tgi"], "-b tgi"), (["--sampler", "bayes"], "--sampler bayes"), (["--workload", "nope"], "unknown task 'nope'")]:
        code, _, err = evalkit_cli(["bench", "-m", "tiny-random", "-o", str(tmp_path / "b"), *args], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and expect in err, err


SPACE = "hf:\n  batch_tokens: [256, 1024]\n  attn_implementation: [sdpa, no_such_attention]\n  max_length: 512\n"


def test_bench_end_to_end_resumes_and_matches_schema(tmp_path, capsys):
    space, out = _space(tmp_path, SPACE), tmp_path / "b"
    args = ["bench", "-m", "tiny-random", "--space", space, "--sampler", "grid", "--repeats", "2", "--prompts", "3",
            "--prompt-tokens", "8", "--max-tokens", "4", "-o", str(out), "-q"]
    code, stdout, err = evalkit_cli([*args, "--trials", "2"], capsys)
    assert code == 0, err
    first = json.loads((out / "bench.json").read_text())
    jsonschema.validate(first, schema())
    hf = first["backends"]["hf"]
    assert len(hf["trials"]) == 2 and hf["default"]["options"] == {"max_length": 512}
    code, stdout, err = evalkit_cli([*args, "--trials", "4"], capsys)  # resumes: two more points, the first two kept
    assert code == 0, err
    doc = json.loads((out / "bench.json").read_text())
    jsonschema.validate(doc, schema())
    hf = doc["backends"]["hf"]
    assert len(hf["trials"]) == 4 and hf["trials"][:2] == first["backends"]["hf"]["trials"]  # not measured again
    assert hf["default"] == first["backends"]["hf"]["default"]
    assert sorted((t["params"]["batch_tokens"], t["params"]["attn_implementation"]) for t in hf["trials"]) == [
        (256, "no_such_attention"), (256, "sdpa"), (1024, "no_such_attention"), (1024, "sdpa")]  # the whole grid, once
    for t in hf["trials"]:
        bad = t["params"]["attn_implementation"] == "no_such_attention"
        assert (t["state"] == "infeasible") == bad and (t["result"] is None) == bad
        assert not bad or "attn_implementation" in t["error"]
        if not bad:
            r = t["result"]
            assert r["tokens_per_s"]["n"] == 2 and r["requests"] == 3
            assert r["tokens_per_s"]["mean"] == pytest.approx(sum(r["tokens_per_s"]["values"]) / 2)
    ok = [t for t in hf["trials"] if t["state"] == "complete"]
    best = max(ok, key=lambda t: t["result"]["tokens_per_s"]["mean"])
    assert hf["best"]["number"] == best["number"] and hf["best"]["options"] == {"max_length": 512, **best["params"]}
    assert cli._backend_options("hf", hf["best"]["cli"].replace("-B ", "").split()) == hf["best"]["options"]
    assert f"hf best: {hf['best']['cli']}" in stdout
    r, b, d = hf["ratio_to_default"]["tokens_per_s"], best["result"]["tokens_per_s"], hf["default"]["result"]["tokens_per_s"]
    assert r["value"] == pytest.approx(b["mean"] / d["mean"]) and r["low"] == pytest.approx(b["min"] / d["max"])
    assert doc["metrics"]["hf_best_over_default"]["value"] == r["value"]
    assert set(hf["importance"]["values"]) <= {"batch_tokens"}  # only batch_tokens varies among completed trials
    assert (out / hf["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, _ = evalkit_cli([*args, "--trials", "4"], capsys)  # nothing left to do: the same file again
    assert code == 0 and json.loads((out / "bench.json").read_text())["backends"]["hf"]["trials"] == hf["trials"]

    from evalkit.report import build_report

    html = build_report([str(out)])
    assert 'data-kind="bench"' in html and "best / default tokens/s" in html and hf["best"]["cli"] in html
    assert "landscape_hf.png" in html


def test_malformed_bench_json_is_one_line_in_the_report(tmp_path):
    from evalkit.errors import EvalkitError
    from evalkit.report import build_report

    (tmp_path / "bench.json").write_text(json.dumps({"schema": "evalkit.bench/v1", "kind": "bench", "model": "m"}))
    with pytest.raises(EvalkitError, match=r"bench.json: field '\(top level\)': 'weights_hash' is a required property"):
        build_report([str(tmp_path)])


@pytest.mark.vllm
def test_bench_vllm_one_point(tmp_path, capsys):
    """One engine start: the defaults are measured; the one trial is refused by vLLM's config check (a batch
    token budget below max_model_len without chunked prefill) before any engine starts, and kept as infeasible."""
    pytest.importorskip("vllm")
    space = _space(tmp_path, "vllm:\n  max_num_batched_tokens: [64]\n  enable_chunked_prefill: [false]\n  max_model_len: 256\n")
    out = tmp_path / "v"
    code, stdout, err = evalkit_cli(["bench", "-m", "tiny-random", "-b", "vllm", "--space", space, "--sampler", "grid", "--trials", "3",
                                     "--repeats", "2", "--prompts", "3", "--prompt-tokens", "8", "--max-tokens", "4", "-o", str(out), "-q"],
                                    capsys)
    assert code == 0, err
    doc = json.loads((out / "bench.json").read_text())
    jsonschema.validate(doc, schema())
    v = doc["backends"]["vllm"]
    assert v["default"]["state"] == "complete" and v["default"]["options"] == {"max_model_len": 256}
    assert v["default"]["result"]["tokens_per_s"]["n"] == 2 and v["default"]["result"]["requests"] == 3
    assert len(v["trials"]) == 1 and v["trials"][0]["state"] == "infeasible" and "max_num_batched_tokens" in v["trials"][0]["error"]
    assert v["best"] is None and v["ratio_to_default"] is None and "best:" not in stdout


def test_bench_loglikelihood_workload_counts_tokens_as_sent(tmp_path):
    from evalkit.bench import run_bench

    r = run_bench("tiny-random", ["hf"], "loglikelihood", trials=1, space=_space(tmp_path, "hf:\n  batch_tokens: [512]\n"),
                  sampler="grid", repeats=1, prompts=2, prompt_tokens=8, max_tokens=2, choices=2, out=tmp_path / "b")
    w, res = r.doc["workload"], r.doc["backends"]["hf"]["trials"][0]["result"]
    assert w["method"] == "loglikelihood" and w["n_requests"] == 4 and res["requests"] == 4
    assert res["tokens"] == w["request_tokens"]["total"] and "latency_p50_s" not in res  # every context + continuation token
    jsonschema.validate(r.doc, schema())
