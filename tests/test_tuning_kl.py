"""The Monte Carlo KL estimator on distributions whose KL is known in closed form, and the
evaluation pipeline's KL through a real backend (a policy against itself: exactly 0)."""

import math

import numpy as np
import pytest

from evalkit.tuning.kl import kl_estimate


def test_categorical_kl_within_its_standard_error():
    p = np.array([0.5, 0.2, 0.2, 0.1])
    q = np.array([0.25, 0.25, 0.25, 0.25])
    true = float((p * np.log(p / q)).sum())  # 0.1220...
    y = np.random.default_rng(0).choice(4, size=20000, p=p)
    est = kl_estimate(np.log(p[y]), np.log(q[y]), np.ones_like(y))
    seq = est["seq"]
    assert seq["n"] == 20000
    assert abs(seq["value"] - true) < 4 * seq["stderr"]
    # the standard error is the sampling sd of log p/q over sqrt(N)
    sd = math.sqrt(float((p * (np.log(p / q) - true) ** 2).sum()))
    assert seq["stderr"] == pytest.approx(sd / math.sqrt(20000), rel=0.05)
    assert est["token"]["value"] == pytest.approx(seq["value"])  # one token per sequence


def test_sequence_and_per_token_kl_of_two_stopping_processes():
    """Each step: stop (EOS) with probability s, else emit a symbol from p (policy) / q, t (reference).
    Per-step distributions P = [s, (1-s)p], Q = [t, (1-t)q]; the sequence KL is KL(P‖Q)·E[steps] =
    KL(P‖Q)/s, and per token (EOS counted) it is KL(P‖Q)."""
    s, t = 0.25, 0.4
    p, q = np.array([0.7, 0.2, 0.1]), np.array([0.3, 0.3, 0.4])
    P, Q = np.concatenate([[s], (1 - s) * p]), np.concatenate([[t], (1 - t) * q])
    step_kl = float((P * np.log(P / Q)).sum())
    rng = np.random.default_rng(1)
    lp, lq, n = [], [], []
    for _ in range(20000):
        a = b = 0.0
        k = 0
        while True:
            k += 1
            tok = rng.choice(4, p=P)
            a, b = a + math.log(P[tok]), b + math.log(Q[tok])
            if tok == 0:
                break
        lp.append(a)
        lq.append(b)
        n.append(k)
    est = kl_estimate(lp, lq, n)
    assert abs(est["seq"]["value"] - step_kl / s) < 4 * est["seq"]["stderr"]
    assert abs(est["token"]["value"] - step_kl) < 4 * est["token"]["stderr"]
    assert est["token"]["stderr"] < 0.02 and est["seq"]["stderr"] < 0.05  # precise enough to mean something


def test_kl_edge_cases():
    empty = kl_estimate([], [], [])
    assert empty["seq"]["n"] == 0 and math.isnan(empty["seq"]["value"])
    one = kl_estimate([-1.0], [-3.0], [4])
    assert one["seq"]["value"] == 2.0 and one["token"]["value"] == 0.5 and math.isnan(one["seq"]["stderr"])
    with pytest.raises(ValueError):
        kl_estimate([0.0], [0.0, 1.0], [1])


def test_sampled_kl_of_a_policy_against_itself_is_zero(hf_tiny):
    from evalkit.tuning.config import JudgeSpec
    from evalkit.tuning.evaluate import EvalSettings, sample_kl

    rows = [{"id": "a", "prompt": "What is 2 + 2?"}, {"id": "b", "prompt": "Name a colour."}]
    s = EvalSettings("chat", 8, 0.0, 3, 8, JudgeSpec(), "reward")
    est, meta = sample_kl(hf_tiny, hf_tiny, rows, s, seed=0)
    assert est["seq"]["n"] == 6 and len(meta) == 6
    assert all(m["logp_policy"] == m["logp_sft"] for m in meta)
    assert est["seq"]["value"] == 0.0
    # samples differ (temperature 1) and each is scored with its end-of-sequence token when it stopped
    assert all(1 <= m["n_tokens"] <= 9 for m in meta)
