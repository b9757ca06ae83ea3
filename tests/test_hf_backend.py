"""The HF backend against lm-eval's HFLM (the peer), and against itself unbatched."""

import pytest

from conftest import LL_PAIRS
from evalkit.backends.hf import HFBackend
from evalkit.requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest


def lm_eval_loglikelihoods(path, pairs):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=path, device="cpu", dtype="float32", batch_size=4)
    insts = [Instance(request_type="loglikelihood", doc={}, arguments=p, idx=i) for i, p in enumerate(pairs)]
    return lm.loglikelihood(insts, disable_tqdm=True)


def test_loglikelihood_matches_lm_eval_hflm(tiny, hf_tiny):
    ours = hf_tiny.loglikelihood([LoglikelihoodRequest(*p) for p in LL_PAIRS])
    theirs = lm_eval_loglikelihoods(tiny.path, LL_PAIRS)
    for o, (lp, greedy) in zip(ours, theirs):
        assert o.logprob == pytest.approx(lp, abs=1e-4)
        assert o.is_greedy == greedy
    assert [o.n_tokens for o in ours][4] >= 1


@pytest.mark.smollm
def test_loglikelihood_matches_lm_eval_hflm_on_smollm(smollm):
    pairs = LL_PAIRS[:5] + [("<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n", "Blue")]
    backend = HFBackend(smollm)
    ours = backend.loglikelihood([LoglikelihoodRequest(*p) for p in pairs])
    theirs = lm_eval_loglikelihoods(smollm.path, pairs)
    for o, (lp, greedy) in zip(ours, theirs):
        assert o.logprob == pytest.approx(lp, abs=1e-4)
        assert o.is_greedy == greedy


def test_shared_context_kv_equals_one_at_a_time(hf_tiny):
    reqs = [LoglikelihoodRequest(*p) for p in LL_PAIRS]
    batched = hf_tiny.loglikelihood(reqs)
    old = hf_tiny.batch_tokens
    try:
        hf_tiny.batch_tokens = 1  # one context per forward: no padding, no sharing across contexts
        single = [hf_tiny.loglikelihood([r])[0] for r in reqs]
    finally:
        hf_tiny.batch_tokens = old
    for a, b in zip(batched, single):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-4) and a.n_tokens == b.n_tokens


def test_on_result_streams_every_result(hf_tiny):
    seen = {}
    out = hf_tiny.loglikelihood([LoglikelihoodRequest(*p) for p in LL_PAIRS], lambda i, r: seen.setdefault(i, r))
    assert [seen[i] for i in range(len(out))] == out


def test_greedy_generation_is_batch_invariant(hf_tiny):
    prompts = ["Hello there", "The quick brown fox jumps over the lazy dog and then", "def f(x):", "1 2 3"]
    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=10)) for p in prompts]
    batched = hf_tiny.generate(reqs)  # left-padded together: position ids must follow the padding
    single = [hf_tiny.generate([r])[0] for r in reqs]
    assert [g.token_ids for g in batched] == [g.token_ids for g in single]
    assert all(len(g.token_ids[0]) == 10 and g.finish_reasons == ("length",) for g in batched)


def test_stop_strings_and_chat_prompts(hf_tiny):
    full = hf_tiny.generate([GenerateRequest(prompt="Hello there", config=GenerationConfig(max_tokens=10))])[0]
    stop = full.texts[0][3:6]
    cut = hf_tiny.generate([GenerateRequest(prompt="Hello there", config=GenerationConfig(max_tokens=10, stop=(stop,)))])[0]
    assert cut.texts[0] == full.texts[0][: full.texts[0].find(stop)] and cut.finish_reasons == ("stop",)
    assert hf_tiny.tok.tokenizer.decode(cut.token_ids[0]).startswith(cut.texts[0][:1])
    chat = hf_tiny.render_chat((("system", "Be brief."), ("user", "hi")))
    assert chat.endswith("<|im_start|>assistant\n") and "Be brief." in chat


def test_sampling_is_seeded_per_request(hf_tiny):
    cfg = lambda seed: GenerationConfig(max_tokens=8, temperature=1.0, n=3, seed=seed)  # noqa: E731
    a = hf_tiny.generate([GenerateRequest(prompt="Hello", config=cfg(1))])[0]
    b = hf_tiny.generate([GenerateRequest(prompt="Other", config=cfg(9)), GenerateRequest(prompt="Hello", config=cfg(1))])[1]
    c = hf_tiny.generate([GenerateRequest(prompt="Hello", config=cfg(2))])[0]
    assert a == b  # same seed, other requests in the stage: same samples
    assert a != c and len(set(a.texts)) > 1
