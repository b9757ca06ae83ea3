"""The hf backend's own greedy decoding loop (rows leave the batch when they end) against transformers'
`generate`, the path it replaced: the same tokens, texts and finish reasons."""

import dataclasses

import pytest

from evalkit.requests import GenerateRequest, GenerationConfig

PROMPTS = ["Hello there", "The quick brown fox jumps over the lazy dog and then", "def f(x):", "1 2 3", "Once upon a time, far away"]


@pytest.fixture(scope="module")
def hf(tiny):
    """A backend of its own: the tests below change its EOS ids."""
    from evalkit.backends.hf import HFBackend

    return HFBackend(tiny)


def reference(backend, reqs):
    """What the backend returned before its own loop: transformers' generate over the whole left-padded
    batch (stop strings through its StopStringCriteria), cut by Tokenization.finish."""
    import torch

    out = []
    with torch.inference_mode():
        for r in reqs:
            ids = backend.tok.prompt_ids(r)
            seq = backend._generate([ids], backend._gen_config(r.config, greedy=True))[0]
            out.append(backend.tok.finish(len(ids), [seq] * r.config.n, r.config.stop))
    return out


def batched_reference(backend, prompts, max_tokens):
    import torch

    ids = [backend.tok.encode(p) for p in prompts]
    with torch.inference_mode():
        seqs = backend._generate(ids, backend._gen_config(GenerationConfig(max_tokens=max_tokens), greedy=True))
    return [backend.tok.finish(len(i), [s], ()) for i, s in zip(ids, seqs)]


@pytest.fixture
def early_eos(hf):
    """An EOS id that the model emits a few tokens into one prompt's answer, so that row ends early."""
    full = hf.generate([GenerateRequest(prompt=PROMPTS[1], config=GenerationConfig(max_tokens=12))])[0]
    eos = full.token_ids[0][3]
    old = set(hf.tok.eos_ids)
    hf.tok.eos_ids |= {eos}
    yield eos
    hf.tok.eos_ids = old


def test_greedy_tokens_equal_transformers_generate(hf):
    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=12)) for p in PROMPTS]
    ours = hf.generate(reqs)
    assert ours == batched_reference(hf, PROMPTS, 12)  # one left-padded batch either way
    assert ours == reference(hf, reqs)  # and each prompt alone
    assert all(g.finish_reasons == ("length",) and len(g.token_ids[0]) == 12 for g in ours)


def test_rows_that_end_leave_the_batch_with_the_same_tokens(hf, early_eos):
    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=12)) for p in PROMPTS]
    order = []
    ours = hf.generate(reqs, lambda i, g: order.append(i))
    assert ours == batched_reference(hf, PROMPTS, 12)
    ended = [i for i, g in enumerate(ours) if g.finish_reasons == ("stop",)]
    assert 1 in ended and len(ours[1].token_ids[0]) == 3  # cut before the EOS, as generate's output is
    assert order[0] in ended and sorted(order) == list(range(len(PROMPTS)))  # a row that ends is out first


def test_each_request_keeps_its_own_max_tokens_in_a_shared_batch(hf):
    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=m)) for p, m in zip(PROMPTS, (3, 12, 1, 7, 5))]
    ours = hf.generate(reqs)
    assert [len(g.token_ids[0]) for g in ours] == [3, 12, 1, 7, 5]
    assert ours == reference(hf, reqs)


def test_stop_strings_give_what_transformers_stop_strings_gave(hf):
    full = hf.generate([GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=12)) for p in PROMPTS])
    stops = [(g.texts[0][4:6],) for g in full] + [("never in the text", full[0].texts[0][2:5])]
    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=12, stop=s)) for p, s in zip(PROMPTS + PROMPTS[:1], stops)]
    ours = hf.generate(reqs)
    assert ours == reference(hf, reqs)
    for g, s, f in zip(ours, stops, full + full[:1]):
        cut = min(f.texts[0].find(x) for x in s if x in f.texts[0])
        assert g.texts[0] == f.texts[0][:cut] and g.finish_reasons == ("stop",)
        assert len(g.token_ids[0]) < 12


def test_n_greedy_samples_are_copies(hf):
    g = hf.generate([GenerateRequest(prompt="Hello there", config=GenerationConfig(max_tokens=5, n=3))])[0]
    assert len(g.texts) == 3 and len(set(g.token_ids)) == 1


def test_sampling_keeps_transformers_seeded_samples(hf):
    import torch

    cfg = GenerationConfig(max_tokens=8, temperature=0.9, top_p=0.95, n=3, seed=5)
    ours = hf.generate([GenerateRequest(prompt="Other", config=dataclasses.replace(cfg, seed=1)), GenerateRequest(prompt="Hello", config=cfg)])[1]
    ids = hf.tok.encode("Hello")
    torch.manual_seed(5)
    with torch.inference_mode():
        seqs = hf._generate([ids], hf._gen_config(cfg, greedy=False))
    assert ours == hf.tok.finish(len(ids), seqs, ())


def test_static_cache_gives_the_same_greedy_tokens(tiny, hf):
    from evalkit.backends.hf import HFBackend

    static = HFBackend(tiny, static_cache=True)
    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=6)) for p in PROMPTS]
    assert [g.token_ids for g in static.generate(reqs)] == [g.token_ids for g in hf.generate(reqs)]


def test_length_groups_bound_the_padding():
    from evalkit.backends.hf import _length_groups

    rows = [(0, k, [7] * n) for k, n in enumerate([4, 1, 3, 2, 3, 1, 9])]
    groups = [[len(r[2]) for r in g] for g in _length_groups(rows)]
    # one-token rows need no forward and stay apart; 2,3,3 pad to 9 <= 1.25 x 8 tokens; adding 4 would not fit
    assert groups == [[1, 1], [2, 3, 3], [4], [9]]


def test_scores_of_padded_length_groups_equal_scoring_each_alone(hf):
    from evalkit.requests import LoglikelihoodRequest

    conts = [(5, 9), (11, 12, 13), (14, 15, 16), (17, 18, 19, 20), (21,), (30, 31, 32, 33, 34, 35, 36, 37, 38)]
    reqs = [LoglikelihoodRequest(context=ctx, continuation_ids=c) for ctx in ("Hello there", "A longer context, of more tokens") for c in conts]
    together = hf.loglikelihood(reqs)
    old = hf.batch_tokens
    try:
        hf.batch_tokens = 1  # one context per batch, one request at a time
        alone = [hf.loglikelihood([r])[0] for r in reqs]
    finally:
        hf.batch_tokens = old
    for a, b in zip(together, alone):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-4) and a.n_tokens == b.n_tokens and a.is_greedy == b.is_greedy
    assert [r.n_tokens for r in together[: len(conts)]] == [len(c) for c in conts]


def test_out_of_memory_mid_batch_retries_only_unfinished_rows(hf, early_eos, monkeypatch):
    import torch

    reqs = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=12)) for p in PROMPTS]
    expected = hf.generate(reqs)
    forward, calls = hf.hf.forward, []

    def flaky(*args, **kwargs):  # the 6th forward (after row 1 ended at its EOS) runs out of memory, once
        calls.append(1)
        if len(calls) == 6:
            raise torch.OutOfMemoryError("simulated")
        return forward(*args, **kwargs)

    monkeypatch.setattr(hf.hf, "forward", flaky)
    monkeypatch.setattr(hf, "batch_tokens", hf.batch_tokens)
    seen = []
    assert hf.generate(reqs, lambda i, g: seen.append(i)) == expected
    assert sorted(seen) == list(range(len(PROMPTS)))  # each result delivered once


def test_greedy_log_probs_are_the_scores_of_the_generated_tokens(hf, early_eos):
    """Each token's log-prob comes with the generation: summed, log P(response | prompt) as scoring gives
    it (1e-4 nats: the same weights, incremental decoding vs one forward), the EOS a row ended at included."""
    from evalkit.requests import LoglikelihoodRequest

    gens = hf.generate([GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=12)) for p in PROMPTS])
    assert gens[1].ended_eos == (early_eos,) and len(gens[1].logprobs[0]) == len(gens[1].token_ids[0]) + 1
    assert all(g.ended_eos == (None,) and len(g.logprobs[0]) == 12 for g in gens if g.finish_reasons == ("length",))
    for p, g in zip(PROMPTS, gens):
        for ids in {g.token_ids[0], g.token_ids[0] + ((g.ended_eos[0],) if g.ended_eos[0] is not None else ())}:
            [scored] = hf.loglikelihood([LoglikelihoodRequest(context=p, continuation_ids=ids)])
            assert g.scored_logprob(0, ids) == pytest.approx(scored.logprob, abs=1e-4)
    assert gens[0].scored_logprob(0, gens[0].token_ids[0][:-1]) is None  # not the sample's tokens: to be scored


def test_log_probs_follow_a_stop_string_cut_and_are_dropped_for_a_cut_prompt(hf):
    full = hf.generate([GenerateRequest(prompt=PROMPTS[1], config=GenerationConfig(max_tokens=12))])[0]
    cut = hf.generate([GenerateRequest(prompt=PROMPTS[1], config=GenerationConfig(max_tokens=12, stop=(full.texts[0][4:6],)))])[0]
    k = len(cut.token_ids[0])
    assert cut.ended_eos == (None,) and cut.logprobs[0] == pytest.approx(full.logprobs[0][:k], abs=1e-6) and k < 12
    long = GenerateRequest(prompt="the quick brown fox " * hf.max_length, config=GenerationConfig(max_tokens=4))
    g = hf.generate([long])[0]
    assert len(g.token_ids[0]) == 4 and g.logprobs is None  # conditioned on a left-cut prompt: of another prompt
