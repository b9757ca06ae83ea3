"""The OpenAI-compatible backend against a scripted HTTP server on 127.0.0.1 (started by each test):
malformed responses are retried and then one line, Retry-After is honoured (capped), transient
failures are reported as such, a server without echoed log-probs as a missing capability."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evalkit.backends import openai as oa
from evalkit.errors import EvalkitError
from evalkit.models import ModelSpec
from evalkit.requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest

GOOD_TEXT = json.dumps({"choices": [{"index": 0, "text": " four", "finish_reason": "stop"}], "usage": {"prompt_tokens": 3}})
# echo of "2+2= four": tokens "2+2=" (offset 0) and " four" (offset 4), then the one generated token
GOOD_LL = json.dumps({"choices": [{"index": 0, "text": "2+2= four.", "logprobs": {
    "text_offset": [0, 4, 9], "tokens": ["2+2=", " four", "."], "token_logprobs": [None, -1.5, -0.1],
    "top_logprobs": [None, {" four": -1.5, " five": -2.0}, {".": -0.1}]}}]})


class Script:
    """Answers POSTs from a list of (status, headers, body) in order; the last one repeats."""

    def __init__(self, answers):
        self.answers, self.requests = list(answers), []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                script.requests.append((self.path, json.loads(self.rfile.read(length))))
                status, headers, body = script.answers.pop(0) if len(script.answers) > 1 else script.answers[0]
                data = body.encode()
                self.send_response(status)
                for k, v in {"content-type": "application/json", "content-length": str(len(data)), **headers}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def backend(self, **kw):
        url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        return oa.OpenAIBackend(ModelSpec("m", "m", "api:m", "api"), base_url=url, max_retries=2, **kw)


@pytest.fixture
def sleeps(monkeypatch):
    """The waits the backend asks for, instead of waiting."""
    asked = []
    monkeypatch.setattr(oa.time, "sleep", asked.append)
    return asked


GEN = GenerateRequest(prompt="2+2=", config=GenerationConfig(max_tokens=4))
LL = LoglikelihoodRequest(context="2+2=", continuation=" four")


def _ok(body):
    return (200, {}, body)


@pytest.mark.parametrize("bad,what", [
    ('{"choices": [{"text": " fo', "malformed response: not JSON (Unterminated string"),  # truncated JSON
    ('{"choices": "four"}', "field 'choices' must be a non-empty list of objects, got str"),
    ('{"choices": ["four"]}', "field 'choices' must be a non-empty list of objects"),
    ('{"choices": [{"text": 4}]}', "field 'choices.text' must be a string, got int"),
    ('[1, 2]', "field 'choices' must be a non-empty list of objects, got nothing"),
])
def test_malformed_generation_is_retried_then_one_line(sleeps, bad, what):
    with Script([_ok(bad), _ok(GOOD_TEXT)]) as srv:  # once malformed, then good: recovered
        assert srv.backend().generate([GEN])[0].texts == (" four",)
        assert len(srv.requests) == 2 and len(sleeps) == 1
    with Script([_ok(bad)]) as srv:  # always malformed: a one-line error after every retry
        with pytest.raises(EvalkitError) as e:
            srv.backend().generate([GEN])
        assert len(srv.requests) == 3 and what in str(e.value) and "transient failure, gave up after 3 attempts" in str(e.value)
        assert "\n" not in str(e.value)


@pytest.mark.parametrize("bad,what", [
    ({"text_offset": ["0", "4", "9"]}, "field 'logprobs.text_offset' must be a list of numbers"),  # string offsets
    ({"token_logprobs": "-1.5"}, "field 'logprobs.token_logprobs' must be a list of numbers"),
    ({"top_logprobs": "x"}, "field 'logprobs.top_logprobs' must be a list of objects"),
    ({"text_offset": [0, 4]}, "logprobs: 2 offsets for 3 log-probs"),
])
def test_malformed_loglikelihood_is_retried_then_one_line(sleeps, bad, what):
    doc = json.loads(GOOD_LL)
    doc["choices"][0]["logprobs"].update(bad)
    with Script([_ok(json.dumps(doc)), _ok(GOOD_LL)]) as srv:
        r = srv.backend().loglikelihood([LL])[0]
        assert (r.logprob, r.n_tokens, r.is_greedy) == (-1.5, 1, True)
    with Script([_ok(json.dumps(doc))]) as srv:
        with pytest.raises(EvalkitError, match="transient failure, gave up after 3 attempts: malformed response") as e:
            srv.backend().loglikelihood([LL])
        assert what in str(e.value) and "cannot score" not in str(e.value)


def test_retry_after_is_honoured_and_capped(sleeps):
    with Script([(429, {"retry-after": "2"}, "{}"), (503, {"retry-after": "100000"}, "{}"), _ok(GOOD_TEXT)]) as srv:
        assert srv.backend().generate([GEN])[0].texts == (" four",)
    assert sleeps == [2.0, oa._RETRY_AFTER_CAP]


@pytest.mark.parametrize("status", [500, 429, 502])
def test_transient_failures_are_not_a_missing_capability(sleeps, status):
    with Script([(status, {}, '{"error": "overloaded"}')]) as srv:
        with pytest.raises(EvalkitError) as e:
            srv.backend().loglikelihood([LL])
    msg = str(e.value)
    assert f"transient failure, gave up after 3 attempts: HTTP {status}" in msg and "cannot score" not in msg
    assert len(sleeps) == 2


def test_no_echoed_logprobs_is_a_missing_capability(sleeps):
    with Script([_ok('{"choices": [{"text": ".", "logprobs": null}]}')]) as srv:
        with pytest.raises(EvalkitError, match="cannot score log-likelihoods on this server"):
            srv.backend().loglikelihood([LL])
        assert len(srv.requests) == 1 and sleeps == []  # nothing to retry
    with Script([(404, {}, '{"error": "no such route"}')]) as srv:
        with pytest.raises(EvalkitError, match="cannot score log-likelihoods .*HTTP 404"):
            srv.backend().loglikelihood([LL])
