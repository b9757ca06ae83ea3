import math

import numpy as np
import pytest

from evalkit.metrics import mean_metric, wilson
from evalkit.seeding import derive_seed, rng


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "mcq", "q1", 0) == derive_seed(0, "mcq", "q1", 0)
    seeds = {derive_seed(s, t, i, v) for s in (0, 1) for t in ("a", "b") for i in ("q1", "q2") for v in (0, 1)}
    assert len(seeds) == 16 and all(0 <= x < 2**32 for x in seeds)
    assert rng(0, "a", "q1").integers(1 << 30) == rng(0, "a", "q1").integers(1 << 30)


def test_mean_metric_by_hand():
    m = mean_metric([1, 0, 1, 1], proportion=True)
    assert m["value"] == 0.75 and m["n"] == 4
    assert m["stderr"] == pytest.approx(0.5 / 2)  # sample std 0.5 (ddof=1) / sqrt(4)
    lo, hi = wilson(0.75, 4)
    # Wilson by hand: centre (0.75 + z^2/8) / (1 + z^2/4), half z sqrt(0.75*0.25/4 + z^2/64) / (1 + z^2/4)
    z = 1.959963984540054
    d = 1 + z * z / 4
    assert lo == pytest.approx((0.75 + z * z / 8) / d - z * math.sqrt(0.75 * 0.25 / 4 + z * z / 64) / d)
    assert (m["ci_low"], m["ci_high"]) == (lo, hi) and hi <= 1.0
    assert mean_metric([1, 0, 1, 1])["ci_high"] == pytest.approx(0.75 + z * 0.25)  # not a proportion: normal interval
    c = mean_metric([0.5, 1.5, 2.5])
    assert c["value"] == 1.5 and c["ci_low"] == pytest.approx(1.5 - z * 1 / np.sqrt(3))
