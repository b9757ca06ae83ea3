import dataclasses

import pytest

from evalkit.cache import ResponseCache
from evalkit.requests import GenerateRequest, Generation, GenerationConfig, LoglikelihoodRequest, LoglikelihoodResult, request_key


def test_requests_are_immutable_and_validated():
    req = GenerateRequest(prompt="hi", config=GenerationConfig(max_tokens=4, stop=["\n"]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.prompt = "other"
    assert req.config.stop == ("\n",)
    with pytest.raises(ValueError):
        GenerateRequest()
    with pytest.raises(ValueError):
        GenerateRequest(prompt="a", messages=(("user", "b"),))
    with pytest.raises(ValueError):
        GenerationConfig(max_tokens=0)
    with pytest.raises(ValueError):
        GenerationConfig(top_p=0)


def test_request_key_covers_sampling_and_seed():
    a = GenerateRequest(prompt="hi", config=GenerationConfig(seed=1))
    assert request_key(a) == request_key(GenerateRequest(prompt="hi", config=GenerationConfig(seed=1)))
    assert request_key(a) != request_key(GenerateRequest(prompt="hi", config=GenerationConfig(seed=2)))
    assert request_key(a) != request_key(GenerateRequest(prompt="hi", config=GenerationConfig(seed=1, temperature=0.5)))
    assert request_key(LoglikelihoodRequest("a", "b")) != request_key(LoglikelihoodRequest("a ", "b"))


IDENTITY = {"model": "m1", "model_path": "/x", "weights_hash": "sha256:1", "backend": "hf", "backend_version": "5",
            "dtype": "float32", "chat_template_hash": None}


def test_cache_round_trip_and_model_isolation(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    ll = LoglikelihoodRequest("ctx", " cont")
    gen = GenerateRequest(messages=(("user", "hi"),), config=GenerationConfig(max_tokens=3))
    cache.put(IDENTITY, ll, LoglikelihoodResult(-1.5, 2, True))
    cache.put(IDENTITY, gen, Generation(("ok",), ((5, 6),), 7, ("stop",)))
    assert cache.get_many(IDENTITY, [ll, gen]) == [LoglikelihoodResult(-1.5, 2, True), Generation(("ok",), ((5, 6),), 7, ("stop",))]
    # Every part of the identity separates entries: another model, weights, dtype or chat template never hits.
    for field, value in [("model", "m2"), ("weights_hash", "sha256:2"), ("dtype", "bfloat16"), ("chat_template_hash", "sha256:t"),
                         ("backend", "vllm")]:
        assert cache.get_many({**IDENTITY, field: value}, [ll, gen]) == [None, None]
    cache.close()
    reopened = ResponseCache(tmp_path / "c.sqlite")
    assert len(reopened) == 2 and reopened.get_many(IDENTITY, [ll])[0].logprob == -1.5


def test_cached_generation_keeps_its_token_log_probs(tmp_path):
    """A generation's log-probs and the EOS it ended at survive the cache (POSIX reads them on resume);
    an entry written before they existed reads back without them."""
    cache = ResponseCache(tmp_path / "c.sqlite")
    gen = GenerateRequest(prompt="hi", config=GenerationConfig(max_tokens=3))
    cache.put(IDENTITY, gen, Generation(("ok",), ((5, 6),), 7, ("stop",), logprobs=((-0.5, -0.25, -0.125),), ended_eos=(2,)))
    got = cache.get_many(IDENTITY, [gen])[0]
    assert got.logprobs == ((-0.5, -0.25, -0.125),) and got.ended_eos == (2,)
    assert got.scored_logprob(0, (5, 6)) == -0.75 and got.scored_logprob(0, (5, 6, 2)) == -0.875
    assert got.scored_logprob(0, (5, 6, 3)) is None and got.scored_logprob(0, (5,)) is None
    from evalkit.requests import result_from_dict

    old = result_from_dict("GenerateRequest", {"texts": ["ok"], "token_ids": [[5, 6]], "prompt_tokens": 7, "finish_reasons": ["stop"]})
    assert old == Generation(("ok",), ((5, 6),), 7, ("stop",)) and old.scored_logprob(0, (5, 6)) is None


def test_output_changing_backend_options_are_part_of_the_cache_identity(tmp_path):
    """-B max_length=12 truncates every mcq context: a later run without it must not get those scores."""
    import json

    import evalkit

    def run(name, **options):
        r = evalkit.run("mcq", "tiny-random", limit=3, out=tmp_path / name, backend_options=options)
        records = [json.loads(x) for x in (r.out / "records.jsonl").read_text().splitlines()]
        return json.loads((r.out / "manifest.json").read_text()), [x["loglikelihoods"] for x in records]

    short, short_ll = run("short", max_length=12)
    assert short["backend"]["output_options"] == {"max_length": 12} and short["cache_hits"] == 0
    full, full_ll = run("full")
    assert full["cache_hits"] == 0 and full["backend"]["output_options"] == {"max_length": 2048}
    assert full_ll != short_ll
    again, again_ll = run("again", max_length=12)
    assert again["cache_hits"] > 0 and again_ll == short_ll  # the same option does reuse the cache
