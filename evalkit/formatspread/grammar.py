"""FormatSpread's prompt-format grammar for multiple-choice inputs (Sclar et al. 2024).

A format assigns one value to each attribute below; the value sets and validity rules are the
reference implementation's (msclar/formatspread, grammar_definition.py). The prompt is

    <Question descriptor><sep><question><space><Options descriptor><sep><options><space><Answer descriptor><sep>

with the field separator and the descriptor casing shared by all three fields (the grammar's
"shared property" constraint), options rendered as <wrapper(number(k))><option sep><text> joined
by the option space. The labels (numbers) are re-rendered with the format, and so is any
instruction text that mentions them ({labels}, {label_1}, ...), so the gold label stays right.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass

import numpy as np

SEPARATORS = ("", "::: ", ":: ", ": ", " \n\t", "\n    ", " : ", " - ", " ", "\n ", "\n\t", ":", "::", "- ", "\t")
# The reference lists ' -- ' twice; the duplicate is dropped so sampling stays uniform over distinct values.
SPACES = ("", " ", "\n", " \n", " -- ", "  ", "; \n", " || ", " <sep> ", ", ", " \n ", " , ", "\n ", ". ", " ,  ")
TEXT_OPTION_SEPARATORS = ("", " ", "  ", "\t")
CASINGS = ("identity", "title", "upper", "lower")
WRAPPERS = ("(x)", "x.", "x)", "x )", "[x]", "<x>")
NUMBERINGS = ("arabic", "upper_letter", "lower_letter", "roman_glyph", "lower_roman", "upper_roman")

ATTRIBUTES: dict[str, tuple] = {
    "field_separator": SEPARATORS,
    "field_space": SPACES,
    "casing": CASINGS,
    "option_wrapper": WRAPPERS,
    "option_numbering": NUMBERINGS,
    "option_separator": TEXT_OPTION_SEPARATORS,
    "option_space": SPACES,
}
DEFAULT = {
    "field_separator": ": ",
    "field_space": "\n",
    "casing": "identity",
    "option_wrapper": "x.",
    "option_numbering": "upper_letter",
    "option_separator": " ",
    "option_space": "\n",
}
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv"]
_ROMAN_GLYPHS = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ"


def number(k: int, style: str) -> str:
    """The label of option k (0-based) in a numbering style."""
    if style == "arabic":
        return str(k + 1)
    if style == "upper_letter":
        return chr(ord("A") + k)
    if style == "lower_letter":
        return chr(ord("a") + k)
    if style == "roman_glyph":
        if k >= len(_ROMAN_GLYPHS):
            raise ValueError("Unicode roman numeral glyphs stop at 12")
        return _ROMAN_GLYPHS[k]
    if style == "lower_roman":
        return _ROMAN[k]
    if style == "upper_roman":
        return _ROMAN[k].upper()
    raise ValueError(f"unknown numbering {style!r}")


def case(text: str, casing: str) -> str:
    return {"identity": text, "title": text.title(), "upper": text.upper(), "lower": text.lower()}[casing]


@dataclass(frozen=True)
class Format:
    values: tuple[tuple[str, str], ...]  # (attribute, value) in ATTRIBUTES order

    @classmethod
    def of(cls, **values) -> "Format":
        full = {**DEFAULT, **values}
        return cls(tuple((a, full[a]) for a in ATTRIBUTES))

    def __getitem__(self, attr: str) -> str:
        return dict(self.values)[attr]

    @property
    def id(self) -> str:
        return "fmt-" + hashlib.sha256(json.dumps(self.values).encode()).hexdigest()[:10]

    def to_dict(self) -> dict:
        return dict(self.values)

    def differs_in(self, other: "Format") -> list[str]:
        return [a for (a, v), (_, w) in zip(self.values, other.values) if v != w]

    def labels(self, n: int) -> list[str]:
        return [number(k, self["option_numbering"]) for k in range(n)]

    def render(self, question: str, options: list[str], instruction: str = "",
               descriptors: tuple[str, str, str] = ("Question", "Options", "Answer")) -> str:
        sep, space, casing = self["field_separator"], self["field_space"], self["casing"]
        labels = self.labels(len(options))
        wrap = self["option_wrapper"]
        opts = self["option_space"].join(wrap.replace("x", l) + self["option_separator"] + o for l, o in zip(labels, options))
        q, o, a = (case(d, casing) for d in descriptors)
        # no options (an open question, e.g. an lm-eval generate_until task): no options field
        body = space.join([f"{q}{sep}{question}"] + ([f"{o}{sep}{opts}"] if options else []) + [f"{a}{sep}"])
        return (render_instruction(instruction, labels) + "\n\n" + body) if instruction else body


def render_instruction(text: str, labels: list[str]) -> str:
    """Instruction text that names the labels follows the format's numbering: {labels} -> "A, B, C or D",
    {label_1} -> the first label."""
    if not labels:
        return text
    listed = ", ".join(labels[:-1]) + " or " + labels[-1] if len(labels) > 1 else labels[0]
    out = text.replace("{labels}", listed)
    for k, l in enumerate(labels, 1):
        out = out.replace("{label_%d}" % k, l)
    return out


def is_valid(f: Format) -> bool:
    """The reference's sanity checks, applied to this grammar."""
    sep, space, opt_space = f["field_separator"], f["field_space"], f["option_space"]
    if sep == "":  # a descriptor needs a separator before its text
        return False
    if space == "":  # '' only after text-less descriptors; every field here has text
        return False
    if "\n" not in space and "\n" in sep:  # a newline inside a field needs newlines between fields
        return False
    if "\n" in sep and "\n" not in opt_space:  # the enumeration's separator has a newline: so must its items
        return False
    if opt_space == "":  # options must not run together
        return False
    return True


def sample_formats(k: int, seed: int, max_options: int = 4) -> list[Format]:
    """The default format first, then k-1 valid, unique formats by uniform rejection sampling
    (one independent choice per attribute), or every valid format when there are no more than k."""
    total = int(np.prod([len(v) for v in ATTRIBUTES.values()]))
    valid = lambda f: is_valid(f) and (f["option_numbering"] != "roman_glyph" or max_options <= 12)  # noqa: E731
    out, seen = [Format.of()], {Format.of()}
    if total <= k:
        for combo in itertools.product(*ATTRIBUTES.values()):
            f = Format(tuple(zip(ATTRIBUTES, combo)))
            if valid(f) and f not in seen:
                out.append(f)
                seen.add(f)
        return out
    rng = np.random.default_rng(seed)
    while len(out) < k:
        f = Format(tuple((a, vals[int(rng.integers(0, len(vals)))]) for a, vals in ATTRIBUTES.items()))
        if valid(f) and f not in seen:
            out.append(f)
            seen.add(f)
    return out


def atomic_neighbours(formats: list[Format], seed: int) -> list[tuple[Format, Format, str]]:
    """For each format, a partner that differs in exactly one attribute (attributes taken round-robin),
    for the atomic-change study of which attribute moves accuracy most."""
    rng = np.random.default_rng(seed)
    attrs = list(ATTRIBUTES)
    pairs = []
    for n, f in enumerate(formats):
        for shift in range(len(attrs)):
            attr = attrs[(n + shift) % len(attrs)]
            choices = [v for v in ATTRIBUTES[attr] if v != f[attr]]
            for v in rng.permutation(len(choices)):
                g = Format.of(**{**f.to_dict(), attr: choices[int(v)]})
                if is_valid(g):
                    pairs.append((f, g, attr))
                    break
            else:
                continue
            break
    return pairs


def prefix_match(response: str, label: str) -> bool:
    """FormatSpread's exact prefix matching: lowercased, stripped of ' .,()\\n-><' (plus '[]' for the
    [x] wrapper and tabs), the response must start with the label and the next character must not
    be alphanumeric ("a" is not "article", "i" is not "ii")."""
    text = response.lower().strip(" .,()\n-><[]\t")
    lab = label.lower()
    return text.startswith(lab) and (len(text) == len(lab) or not text[len(lab)].isalnum())
