"""Character- and word-level edits that keep a prompt's intent (spelling errors, HELM robustness
edits), applied only outside protected spans: numbers, code, option letters and quoted strings."""

from __future__ import annotations

import re

import numpy as np

_PROTECTED = re.compile(
    r"`[^`]*`"  # inline code
    r"|\"[^\"\n]*\"|“[^”\n]*”|'[^'\n]{2,}'"  # quoted strings
    r"|\b\w+\([^()\n]*\)"  # calls like f(x)
    r"|(?m:^(?: {4}|\t).*$)"  # indented code lines
    r"|\d+(?:[.,:/]\d+)*%?"  # numbers
    r"|(?m:^\s*\(?[A-Z][.):](?=\s))|\([A-Z]\)|\b[A-Z]\b"  # option letters
)
_WORD = re.compile(r"[A-Za-z]{3,}")
_QWERTY = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours() -> dict[str, str]:
    pos = {c: (r, k) for r, row in enumerate(_QWERTY) for k, c in enumerate(row)}
    out = {}
    for c, (r, k) in pos.items():
        out[c] = "".join(
            d for d, (r2, k2) in pos.items() if d != c and abs(r2 - r) <= 1 and abs(k2 - k) <= 1
        )
    return out


NEIGHBOURS = _neighbours()
TYPO_OPS = ("swap", "drop", "duplicate", "keyboard")


def protected_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _PROTECTED.finditer(text)]


def editable_words(text: str) -> list[tuple[int, int]]:
    spans = protected_spans(text)
    return [m.span() for m in _WORD.finditer(text) if not any(a < m.end() and m.start() < b for a, b in spans)]


def _typo(word: str, op: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(0, len(word) - 1))  # never the last letter alone: every op changes the word
    if op == "swap":
        if word[i] == word[i + 1]:
            op = "drop"
        else:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "drop":
        return word[:i] + word[i + 1 :]
    if op == "duplicate":
        return word[:i] + word[i] + word[i:]
    near = NEIGHBOURS.get(word[i].lower(), "")
    sub = near[int(rng.integers(0, len(near)))] if near else word[i]
    sub = sub.upper() if word[i].isupper() else sub
    return word[:i] + sub + word[i + 1 :] if sub != word[i] else word[:i] + word[i + 1 :]


def add_typos(text: str, rate: float, rng: np.random.Generator) -> tuple[str, list[dict]]:
    """Each editable word (3+ letters, outside protected spans) gets one typo with probability
    `rate`; at least one word always does, so the variant differs from the original."""
    words = editable_words(text)
    if not words:
        return text, []
    hit = rng.random(len(words)) < rate
    if not hit.any():
        hit[int(rng.integers(0, len(words)))] = True
    edits, out, last = [], [], 0
    for (a, b), h in zip(words, hit):
        if not h:
            continue
        op = TYPO_OPS[int(rng.integers(0, len(TYPO_OPS)))]
        new = _typo(text[a:b], op, rng)
        out += [text[last:a], new]
        last = b
        edits.append({"op": op, "at": a, "from": text[a:b], "to": new})
    return "".join(out) + text[last:], edits


CONTRACTIONS = {
    "do not": "don't", "does not": "doesn't", "did not": "didn't", "is not": "isn't", "are not": "aren't",
    "was not": "wasn't", "were not": "weren't", "cannot": "can't", "can not": "can't", "will not": "won't",
    "would not": "wouldn't", "should not": "shouldn't", "could not": "couldn't", "have not": "haven't",
    "has not": "hasn't", "it is": "it's", "that is": "that's", "what is": "what's", "there is": "there's",
    "i am": "I'm", "you are": "you're", "we are": "we're", "they are": "they're", "let us": "let's",
}
EXPANSIONS = {v.lower(): k for k, v in CONTRACTIONS.items() if k != "can not"}
FILLERS = ("uhm", "um", "I think", "probably", "like", "you know", "sort of", "basically")


def sub_outside(pattern: re.Pattern, repl, text: str, spans: list[tuple[int, int]]) -> str:
    """pattern.sub(repl, text) for the matches that overlap none of `spans` (the others stay as they are)."""

    def sub(m):
        if any(a < m.end() and m.start() < b for a, b in spans):
            return m.group(0)
        return repl(m)

    return pattern.sub(sub, text)


def _outside_protected(text: str, pattern: re.Pattern, repl) -> str:
    return sub_outside(pattern, repl, text, protected_spans(text))


def _match_case(src: str, dst: str) -> str:
    return dst[0].upper() + dst[1:] if src[:1].isupper() else dst


def lowercase(text: str, rng=None) -> str:
    return _outside_protected(text, re.compile(r"[A-Za-z]+"), lambda m: m.group(0).lower())


def contract_or_expand(text: str, rng=None) -> str:
    """Contract what can be contracted; if nothing can, expand contractions (HELM contraction/expansion)."""
    pat = re.compile(r"\b(" + "|".join(re.escape(k) for k in CONTRACTIONS) + r")\b", re.IGNORECASE)
    out = _outside_protected(text, pat, lambda m: _match_case(m.group(0), CONTRACTIONS[m.group(0).lower()]))
    if out != text:
        return out
    pat = re.compile(r"\b(" + "|".join(re.escape(k) for k in EXPANSIONS) + r")(?=\W|$)", re.IGNORECASE)
    return _outside_protected(text, pat, lambda m: _match_case(m.group(0), EXPANSIONS[m.group(0).lower()]))


def extra_whitespace(text: str, rng: np.random.Generator) -> str:
    """Each single space between words becomes 1-3 spaces (HELM `space`, max 3)."""
    return _outside_protected(text, re.compile(r"(?<=\S) (?=\S)"), lambda m: " " * int(rng.integers(1, 4)))


def filler_words(text: str, rng: np.random.Generator, p: float = 0.15) -> str:
    """Insert a hedge or filler before a word with probability p (HELM `filler_words`)."""
    return _outside_protected(
        text, re.compile(r"(?<= )([a-z]{3,})\b"),
        lambda m: (FILLERS[int(rng.integers(0, len(FILLERS)))] + " " + m.group(0)) if rng.random() < p else m.group(0),
    )


ROBUSTNESS_EDITS = {"lowercase": lowercase, "contraction": contract_or_expand, "whitespace": extra_whitespace, "filler": filler_words}
