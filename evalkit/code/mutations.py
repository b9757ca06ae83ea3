"""Seeded, recorded mutations of a coding problem's statement and prompt.

Families (the research note, `shared/research/code_robustness.md`):
- "Small Edits, Big Consequences" (arXiv 2507.15868): progressive underspecification (delete 10% of the
  words per step), lexical flip of a pivotal word (max -> min; changes the task), jargon inflation.
- ReCode (arXiv 2212.10264): function-name renaming (incl. the anchor masking the paper suggests),
  docstring typos (ButterFingers-like), paraphrase, code-format changes of the prompt.

Every mutation is an object registered by name in `evalkit.registry.MUTATIONS` (the classes at the end;
other packages add theirs through the entry point group `evalkit.mutations`) and a pure function of its
inputs and a `numpy.random.Generator`; `mutate` builds that generator with
`evalkit.seeding.rng(seed, task_id, mutation name, ...)`, so a problem's variant never depends on which
other problems, mutations or levels are run, or exist. Each returns the mutated text plus a record of
what changed. Problems are duck-typed: a `Problem` dataclass (attribute access) or the raw JSONL dict,
with the fields task_id, statement, signature, entry_point, reference, visible_tests, tests, flip,
jargon, and optionally prompt (a HumanEval prompt: what precedes its `def`, imports and helpers, is
kept in front of every mutated prompt).

Identifiers (the entry point, the parameters) are written in `backticks` in our statements; the edits
treat backticked spans, "quoted" strings and doctest examples as code and leave them alone (typos,
jargon, paraphrase, underspecification), underspecification never deletes a word that mentions a
signature identifier, and renamings rewrite them consistently in signature, statement and prompt.
Every prompt is `build_prompt(signature, statement)`: the def line with the statement as docstring.
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np
import yaml
from pydantic_core import PydanticCustomError

from ..errors import EvalkitError
from ..perturb.text import add_typos, sub_outside
from ..registry import MUTATIONS, register_mutation
from ..seeding import rng as derived_rng

_CODE_SPAN = re.compile(r"`[^`]*`|\"[^\"\n]*\"")
# a doctest example (HumanEval docstrings): the `>>>` line, `...` continuations, and the expected
# output lines up to a blank line or the next `>>>`
_DOCTEST = re.compile(r"(?m)^[ \t]*>>>.*(?:\n[ \t]*\.\.\..*)*(?:\n(?![ \t]*>>>)[ \t]*\S.*)*")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _code_spans(text: str) -> list[tuple[int, int]]:
    """`backtick` spans, "quoted" strings and doctest examples: code, never edited as prose."""
    return sorted([m.span() for m in _CODE_SPAN.finditer(text)] + [m.span() for m in _DOCTEST.finditer(text)])


def _sub_outside_code(pattern: re.Pattern, repl: Callable[[re.Match], str], text: str) -> str:
    return sub_outside(pattern, repl, text, _code_spans(text))


def _sub_inside_code(pattern: re.Pattern, repl: Callable[[re.Match], str], text: str) -> str:
    """Rewrite identifiers only inside `backtick` spans and doctest examples (where statements name them)."""
    text = re.sub(r"`[^`]*`", lambda m: pattern.sub(repl, m.group(0)), text)
    return _DOCTEST.sub(lambda m: pattern.sub(repl, m.group(0)), text)


def _mask_code(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Replace doctest examples by NUL-delimited placeholders (no letters, no spaces) so that prose
    edits that know nothing of doctests leave them alone; returns the pieces to put back."""
    pieces, out, last, at = [], [], 0, 0  # pieces: (position in the masked text, token length, original)
    for k, m in enumerate(_DOCTEST.finditer(text)):
        token = f"\x00{k}\x00"
        at += m.start() - last
        out += [text[last : m.start()], token]
        pieces.append((at, len(token), m.group(0)))
        at += len(token)
        last = m.end()
    return "".join(out) + text[last:], pieces


def _unmask(text: str, pieces: list[tuple[int, int, str]]) -> str:
    for k, (_, _, original) in enumerate(pieces):
        text = text.replace(f"\x00{k}\x00", original, 1)
    return text


def match_case(src: str, dst: str) -> str:
    if len(src) > 1 and src.isupper():
        return dst.upper()
    if src[:1].isupper():
        return dst[:1].upper() + dst[1:]
    return dst


def replace_word(text: str, old: str, new: str, outside_code: bool = True) -> tuple[str, int]:
    """Whole-word, case-preserving replacement of `old` (may be several words) by `new`."""
    pat = re.compile(r"(?<![\w-])" + r"\s+".join(re.escape(w) for w in old.split()) + r"(?![\w-])", re.IGNORECASE)
    n = 0

    def repl(m: re.Match) -> str:
        nonlocal n
        n += 1
        got, words = m.group(0), new.split(" ")
        seps = re.findall(r"\s+", got)
        if len(seps) == len(words) - 1:  # keep the line breaks of a multi-word match ("at\nleast")
            new_text = "".join(w + s for w, s in zip(words, seps + [""]))
        else:
            new_text = new
        return match_case(got, new_text)

    out = _sub_outside_code(pat, repl, text) if outside_code else pat.sub(repl, text)
    return out, n


# ---------------------------------------------------------------- signature and prompt


def signature_names(signature: str) -> tuple[str, list[str]]:
    """(function name, parameter names) of a `def ...:` line."""
    try:
        fn = ast.parse(signature.strip() + "\n    pass\n").body[0]
    except SyntaxError as e:
        raise EvalkitError(f"signature {signature!r}: not a Python def line ({e.msg})") from None
    if not isinstance(fn, ast.FunctionDef):
        raise EvalkitError(f"signature {signature!r}: not a Python def line")
    a = fn.args
    return fn.name, [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]


def _split_signature(signature: str) -> tuple[str, list[str], str]:
    """('def name(', ['p: T = d', ...], ') -> R:'): the text between the parentheses split at commas
    outside brackets and strings."""
    src = " ".join(signature.split())
    signature_names(src)  # a def line, or an error naming it
    open_at = src.index("(")
    close_at = _matching_paren(src, open_at)
    params, depth, quote, start = [], 0, "", open_at + 1
    for i in range(open_at + 1, close_at):
        c = src[i]
        if quote:
            quote = "" if c == quote and src[i - 1] != "\\" else quote
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            params.append(src[start:i].strip())
            start = i + 1
    if src[start:close_at].strip():
        params.append(src[start:close_at].strip())
    return src[: open_at + 1], params, src[close_at:]


def _matching_paren(src: str, open_at: int) -> int:
    depth, quote = 0, ""
    for i in range(open_at, len(src)):
        c = src[i]
        if quote:
            quote = "" if c == quote and src[i - 1] != "\\" else quote
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
    raise EvalkitError(f"signature {src!r}: unbalanced parentheses")


def build_prompt(signature: str, statement: str) -> str:
    """HumanEval-style prompt: the signature and the statement as its docstring (line breaks kept,
    so doctest examples survive), ready for completion."""
    body = statement.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip("\n")
    lines = [signature.strip(), '    """'] + [("    " + ln).rstrip() for ln in body.split("\n")] + ['    """', ""]
    return "\n".join(lines)


def _prefix(problem: Any) -> str:
    """Whatever a problem's own prompt has before the entry point's `def` (HumanEval's imports and
    helper functions); kept in front of every mutated prompt. Empty for leetcode50."""
    prompt, entry = _get(problem, "prompt"), _get(problem, "entry_point")
    m = re.search(rf"(?m)^def\s+{re.escape(entry)}\b", prompt or "")
    return prompt[: m.start()] if m else ""


def _rename_identifiers(signature: str, statement: str, mapping: dict[str, str]) -> tuple[str, str]:
    """Apply {old: new} to the def line (only where the parser puts the function and parameter
    names, never in annotations) and, in the statement, inside `code` spans and doctest examples,
    plus calls `old(` of a renamed function anywhere (HumanEval's "f(x) ==> y" examples)."""
    if not mapping:
        return signature, statement
    src = signature.strip()
    fn = ast.parse(src + "\n    pass\n").body[0]
    line_start = [0] + [i + 1 for i, c in enumerate(src) if c == "\n"]
    edits = []  # (start, end, new)
    if fn.name in mapping:
        m = re.search(r"def\s+(" + re.escape(fn.name) + r")\b", src)
        edits.append((m.start(1), m.end(1), mapping[fn.name]))
    for p in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs:
        if p.arg in mapping:
            at = line_start[p.lineno - 1] + p.col_offset
            edits.append((at, at + len(p.arg), mapping[p.arg]))
    for a, b, new in sorted(edits, reverse=True):
        src = src[:a] + new + src[b:]
    pat = re.compile(r"\b(" + "|".join(re.escape(k) for k in mapping) + r")\b")
    statement = _sub_inside_code(pat, lambda m: mapping[m.group(0)], statement)
    # in prose: calls `f(` of the function, and names no English word could be (snake_case, digits,
    # camelCase: HumanEval's "find_zero returns ..."); a plain word such as `median` stays prose
    alts = [rf"\b{re.escape(k)}\b" for k in mapping if re.search(r"_|\d|[a-z][A-Z]", k)]
    alts += [rf"\b{re.escape(fn.name)}(?=\()"] if fn.name in mapping else []
    if alts:
        statement = _sub_outside_code(re.compile("|".join(alts)), lambda m: mapping[m.group(0)], statement)
    return src, statement


# ---------------------------------------------------------------- 1. progressive underspecification

UNDERSPEC_LEVELS = tuple(range(10))  # level k deletes 10*k % of the deletable words


def underspecify(text: str, level: int, rng: np.random.Generator, protect: tuple[str, ...] = ()) -> tuple[str, dict]:
    """Delete round(level/10 * N) of the N deletable words (whitespace-separated tokens not naming a
    protected identifier). One random order of the words is drawn first and level k deletes its first
    words, so with the same generator state the deletions are NESTED across levels: what 20% deletes
    includes what 10% deletes, and the information left decreases monotonically."""
    if level not in UNDERSPEC_LEVELS:
        raise EvalkitError(f"underspec level must be one of 0..9 (10% of the words per step), got {level}")
    tokens = list(re.finditer(r"\S+", text))
    protected = set(protect)
    examples = [m.span() for m in _DOCTEST.finditer(text)]  # doctest examples are code: kept whole

    def keep(t: re.Match) -> bool:
        return bool(set(re.findall(r"\w+", t.group(0))) & protected) or any(a < t.end() and t.start() < b for a, b in examples)

    deletable = [i for i, t in enumerate(tokens) if not keep(t)]
    order = rng.permutation(len(deletable))  # drawn whatever the level: nesting
    n_delete = int(np.floor(level / 10 * len(deletable) + 0.5))
    gone = sorted(deletable[k] for k in order[:n_delete])
    gone_set = set(gone)
    out, seps, last_end = [], [], 0
    for i, t in enumerate(tokens):
        seps.append(text[last_end : t.start()])
        last_end = t.end()
        if i in gone_set:
            continue
        if out:
            sep = "".join(seps)
            if len(seps) > 1:  # words were deleted here: one separator, the strongest break among them,
                # keeping the indentation of the line the next word is on
                indent = seps[-1].rpartition("\n")[2] if "\n" in seps[-1] else ""
                sep = ("\n\n" if "\n\n" in sep else "\n") + indent if "\n" in sep else " "
            out.append(sep)
        seps = []
        out.append(t.group(0))
    return "".join(out), {
        "level": level,
        "fraction": level / 10,
        "n_words": len(tokens),
        "n_deletable": len(deletable),
        "n_deleted": n_delete,
        "deleted": gone,  # token indices in the original text
        "deleted_words": [tokens[i].group(0) for i in gone],
    }


# ---------------------------------------------------------------- 2. lexical flip


def flip(problem: Any) -> tuple[str, dict]:
    """The problem's own flipped statement (a pivotal quantifier or direction word swapped, e.g.
    largest -> smallest); it has its own reference and tests, so this mutation changes the task."""
    f = _get(problem, "flip")
    if not f:
        raise EvalkitError(f"{_get(problem, 'task_id')}: field 'flip': this problem has no lexical flip")
    return _get(f, "statement"), {"from": _get(f, "from"), "to": _get(f, "to")}


# ---------------------------------------------------------------- 3. jargon inflation


def _plural(word: str) -> str:
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


@lru_cache(maxsize=None)
def _jargon_file(path: str) -> dict[str, dict[str, str]]:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise EvalkitError(f"{path}: cannot read jargon dictionary ({e})") from None
    if not isinstance(raw, dict):
        raise EvalkitError(f"{path}: jargon dictionary must map nouns to synonyms")
    out = {}
    for noun, spec in raw.items():
        spec = {"to": spec} if isinstance(spec, str) else spec
        if not isinstance(spec, dict) or not isinstance(spec.get("to"), str):
            raise EvalkitError(f"{path}: field '{noun}': expected a synonym string or a mapping with 'to'")
        to = spec["to"]
        head, _, last = to.rpartition(" ")
        out[str(noun)] = {
            "to": to,
            "plural": spec.get("plural") or _plural(str(noun)),
            "to_plural": spec.get("to_plural") or (head + " " if head else "") + _plural(last),
        }
    return out


JARGON_PATH = Path(__file__).resolve().parent.parent / "assets" / "jargon.yaml"


def jargon_dictionary(path: str | Path | None = None) -> dict[str, dict[str, str]]:
    """noun -> {"to", "plural", "to_plural"} from the shipped `assets/jargon.yaml` (or `path`)."""
    return _jargon_file(str(path or JARGON_PATH))


def _noun_pattern(noun: str, entry: dict) -> re.Pattern:
    forms = sorted({noun, entry["plural"]}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(f) for f in forms) + r")(?![\w-])", re.IGNORECASE)


def jargon_candidates(text: str, dictionary: dict | None = None) -> list[str]:
    """Dictionary nouns that occur in `text` (outside code and quotes), in dictionary order."""
    d = dictionary or jargon_dictionary()
    out, spans = [], _code_spans(text)
    for noun, entry in d.items():
        hits = list(_noun_pattern(noun, entry).finditer(text))
        if any(not any(a < m.end() and m.start() < b for a, b in spans) for m in hits):
            out.append(noun)
    return out


def apply_jargon(text: str, nouns: list[str], dictionary: dict | None = None) -> tuple[str, list[dict]]:
    """Replace every occurrence of each noun (singular and plural, case kept) in ONE pass, so a
    synonym that contains another dictionary noun is never replaced again."""
    d = dictionary or jargon_dictionary()
    if not nouns:
        return text, []
    forms = {}
    for noun in nouns:
        e = d[noun]
        forms[noun.lower()] = (noun, e["to"])
        forms[e["plural"].lower()] = (noun, e["to_plural"])
    alts = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    pat = re.compile(r"(?<![\w-])(" + alts + r")(?![\w-])", re.IGNORECASE)
    counts = dict.fromkeys(nouns, 0)

    def repl(m: re.Match) -> str:
        noun, to = forms[m.group(0).lower()]
        counts[noun] += 1
        return match_case(m.group(0), to)

    out = _sub_outside_code(pat, repl, text)
    return out, [{"from": n, "to": d[n]["to"], "count": counts[n]} for n in nouns]


def jargon_variants(text: str, dictionary: dict | None = None) -> list[dict]:
    """One variant per dictionary noun present: {"from", "to", "statement"} (the shipped `jargon` field)."""
    out = []
    for noun in jargon_candidates(text, dictionary):
        new, rec = apply_jargon(text, [noun], dictionary)
        out.append({"from": noun, "to": rec[0]["to"], "statement": new})
    return out


def inflate_jargon(text: str, rng: np.random.Generator, n: int = 1, dictionary: dict | None = None) -> tuple[str, dict]:
    """Replace `n` distinct dictionary nouns, drawn with `rng` (fewer if fewer occur)."""
    cands = jargon_candidates(text, dictionary)
    if not cands:
        return text, {"replaced": [], "candidates": []}
    pick = sorted(int(i) for i in rng.choice(len(cands), size=min(max(n, 1), len(cands)), replace=False))
    new, rec = apply_jargon(text, [cands[i] for i in pick], dictionary)
    return new, {"replaced": rec, "candidates": cands}


# ---------------------------------------------------------------- 4. function-name renaming

RENAME_MODES = ("mask", "camel", "synonym", "misleading")
NEUTRAL_NAME = "func"
# parts of snake_case names and meaning-keeping substitutes (ReCode's function-name SynonymSub, by table)
NAME_SYNONYMS = {
    "max": ["maximum", "largest"], "min": ["minimum", "smallest"], "largest": ["biggest", "max"],
    "smallest": ["tiniest", "min"], "longest": ["max_length", "lengthiest"], "shortest": ["min_length", "briefest"],
    "count": ["tally", "num"], "sum": ["total"], "find": ["locate", "search"], "first": ["initial", "earliest"],
    "last": ["final", "latest"], "most": ["max"], "least": ["min"], "pair": ["couple", "two"], "word": ["term", "token"],
    "words": ["terms", "tokens"], "path": ["route"], "sort": ["order", "arrange"], "length": ["len", "size"],
    "days": ["periods"], "until": ["till"], "next": ["following"], "common": ["frequent"], "position": ["index", "location"],
    "values": ["items", "elements"], "reverse": ["invert", "flip"], "best": ["optimal", "top"], "is": ["check"],
    "digits": ["numerals"], "remove": ["drop", "delete"], "eval": ["evaluate", "compute"], "gap": ["spacing", "distance"],
    "run": ["streak", "block"], "window": ["span"], "product": ["multiple"], "prime": ["primal"], "order": ["sequence"],
    "merge": ["combine", "join"], "intervals": ["ranges", "segments"], "rotate": ["turn", "spin"], "square": ["matrix"],
    "island": ["landmass"], "cost": ["price", "fee"], "coin": ["money"], "change": ["making"], "profit": ["gain"],
}
# pivotal name parts -> their opposite: a name that now says the opposite of the statement
NAME_OPPOSITES = {
    "max": "min", "min": "max", "maximum": "minimum", "minimum": "maximum", "largest": "smallest",
    "smallest": "largest", "longest": "shortest", "shortest": "longest", "first": "last", "last": "first",
    "earliest": "latest", "latest": "earliest", "most": "least", "least": "most", "greater": "smaller",
    "smaller": "greater", "increasing": "decreasing", "decreasing": "increasing", "even": "odd", "odd": "even",
    "best": "worst", "worst": "best", "warmer": "colder", "colder": "warmer", "top": "bottom", "next": "previous",
    "below": "above", "above": "below", "ascending": "descending", "descending": "ascending",
}


def _camel(name: str) -> str:
    head, *rest = [p for p in name.split("_") if p]
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def new_function_name(name: str, mode: str, rng: np.random.Generator) -> tuple[str, dict]:
    """The entry point's new name for `mode`; the record's `fallbacks` list what was used instead when
    the mode cannot change this name (no opposable part for `misleading`: a synonym; no listed
    synonym: the prefix `compute_`)."""
    parts = name.split("_")
    rec: dict = {"mode": mode}
    if mode == "mask":
        return NEUTRAL_NAME, rec
    if mode == "camel":
        new = _camel(name)
        if new == name:  # a one-part name: CamelCase of it is itself; capitalise instead
            new = name[:1].upper() + name[1:]
        return new, rec
    if mode == "misleading":
        idx = [i for i, p in enumerate(parts) if p in NAME_OPPOSITES]
        if idx:
            i = idx[int(rng.integers(0, len(idx)))]
            parts[i] = NAME_OPPOSITES[parts[i]]
            return "_".join(parts), rec | {"changed_part": i}
        rec["fallbacks"] = ["synonym"]
        mode = "synonym"
    if mode == "synonym":
        idx = [i for i, p in enumerate(parts) if p in NAME_SYNONYMS]
        if not idx:
            rec["fallbacks"] = rec.get("fallbacks", []) + ["prefix"]
            return "compute_" + name, rec
        for i in idx:
            options = NAME_SYNONYMS[parts[i]]
            parts[i] = options[int(rng.integers(0, len(options)))]
        new = "_".join(parts)
        return (new if new != name else "compute_" + name), rec | {"changed_parts": idx}
    raise EvalkitError(f"rename mode must be one of {', '.join(RENAME_MODES)}, got {mode!r}")


def rename_function(signature: str, statement: str, mode: str, rng: np.random.Generator) -> tuple[str, str, dict]:
    """Rename the entry point in the signature and in the statement's `code` spans. The record's
    `mapping` ({old: new}) tells the test harness which name to call."""
    old, params = signature_names(signature)
    new, rec = new_function_name(old, mode, rng)
    if new in params or not new.isidentifier():
        new = new + "_fn"
    sig, stmt = _rename_identifiers(signature, statement, {old: new})
    return sig, stmt, rec | {"mapping": {old: new}}


# ---------------------------------------------------------------- 5. docstring typos

TYPO_LEVELS = (1, 2, 3, 4, 5)
TYPO_RATE_PER_LEVEL = 0.05  # ReCode's ButterFingers default probability is 0.05


def docstring_typos(text: str, rate: float, rng: np.random.Generator) -> tuple[str, dict]:
    """Character-level typos (swap, drop, duplicate, keyboard neighbour) in a `rate` fraction of the
    words; code spans, quoted strings and numbers are protected (evalkit.perturb.text.add_typos, the
    same edit POSIX's spelling perturbation uses)."""
    masked, pieces = _mask_code(text)  # doctest examples stay exact
    new, edits = add_typos(masked, rate, rng)
    for e in edits:  # offsets in the original text: undo the placeholders' length changes before `at`
        e["at"] += sum(len(orig) - n for at, n, orig in pieces if at < e["at"])
    return _unmask(new, pieces), {"rate": rate, "edits": edits}


# ---------------------------------------------------------------- 6. paraphrase

# A deterministic RULE-BASED surface paraphrase, not a model paraphrase or back-translation: a table
# of meaning-keeping word/phrase substitutions plus one clause reordering ("If X, return Y." <->
# "Return Y if X."), each applicable rule used with probability 1/2 (at least one). It changes the
# wording the model conditions on, but not the sentence structure beyond that one reordering.
PARAPHRASE_SUBSTITUTIONS = (
    ("return", "output"), ("given", "provided"), ("largest", "greatest"), ("smallest", "lowest"),
    ("maximum", "highest"), ("minimum", "lowest"), ("exactly", "precisely"), ("every", "each"),
    ("whole", "entire"), ("find", "determine"), ("consider", "look at"), ("contiguous", "consecutive"),
    ("number of", "count of"), ("does not", "doesn't"), ("is not", "isn't"), ("there is no", "no"),
    ("several", "multiple"), ("decide", "determine"), ("build", "construct"),
    ("appears", "shows up"), ("occurs", "appears"), ("different", "distinct"), ("choose", "pick"),
    ("consecutive", "successive"), ("for example", "e.g."), ("lowercase", "lower-case"), ("split", "divide"),
    ("integer", "whole number"), ("integers", "whole numbers"), ("equal", "identical"), ("rearrange", "reorder"),
    ("keep", "retain"), ("entries", "items"), ("non-negative", "nonnegative"), ("empty", "blank"),
    ("contains", "includes"), ("possibly", "perhaps"), ("is given as", "comes as"),
)
_IF_RETURN = re.compile(r"(?<![^\s])If ((?:[^.;,`]|`[^`]*`)+), return ([^.;,]+)\.")
_RETURN_IF = re.compile(r"(?<![^\s])Return ([^.;,]+?) if ([^.;,]+)\.")


def reorder_clauses(text: str) -> tuple[str, int]:
    """"If X, return Y." -> "Return Y if X." (or, when there is none, the reverse), only where X and Y
    hold no comma, period or semicolon, so that a trailing "..., or -1 if ..." is never split."""
    n = 0

    def to_return_if(m: re.Match) -> str:
        nonlocal n
        n += 1
        return f"Return {m.group(2)} if {m.group(1)}."

    def to_if_return(m: re.Match) -> str:
        nonlocal n
        n += 1
        return f"If {m.group(2)}, return {m.group(1)}."

    def whole_code_spans(pattern: re.Pattern, fn: Callable[[re.Match], str], s: str) -> str:
        # clauses may contain `code`, but must not begin or end inside a code span or quote
        spans = _code_spans(s)

        def sub(m: re.Match) -> str:
            if any(a < m.start() < b or a < m.end() < b for a, b in spans):
                return m.group(0)
            return fn(m)

        return pattern.sub(sub, s)

    out = whole_code_spans(_IF_RETURN, to_return_if, text)
    if n == 0:
        out = whole_code_spans(_RETURN_IF, to_if_return, text)
    return out, n


def paraphrase(text: str, rng: np.random.Generator) -> tuple[str, dict]:
    applicable = [(a, b) for a, b in PARAPHRASE_SUBSTITUTIONS if replace_word(text, a, b)[1]]
    reorder_ok = reorder_clauses(text)[1] > 0
    rules = [("reorder", None)] * reorder_ok + applicable
    if not rules:
        return text, {"applied": []}
    use = rng.random(len(rules)) < 0.5
    if not use.any():
        use[int(rng.integers(0, len(rules)))] = True
    out, applied = text, []
    for (a, b), u in zip(rules, use):
        if not u:
            continue
        if a == "reorder":
            out, n = reorder_clauses(out)
        else:
            out, n = replace_word(out, a, b)
        if n:
            applied.append({"rule": a if b is None else f"{a} -> {b}", "count": n})
    return out, {"applied": applied}


# ---------------------------------------------------------------- 7. code format of the prompt

FORMAT_RECIPES = ("doc2comments", "tab_indent", "split_signature", "blank_lines", "param_rename")
# neutral parameter names for `param_rename` (ReCode VarRenamerRN-style, drawn with the rng)
PARAM_POOL = ("arg", "data", "xs", "inp", "val", "obj", "item", "p", "q", "v", "w", "z", "arr", "seq", "src", "elems")


def reformat(signature: str, statement: str, recipe: str, rng: np.random.Generator,
             prefix: str = "") -> tuple[str, str, str, dict]:
    """(signature, statement, prompt, record) for one ReCode "format" recipe. Only `param_rename`
    changes names (parameters in the signature and the statement's code spans, mapping recorded; tests
    pass arguments by position, so they still apply); the others only re-layout the prompt. `prefix`
    (a HumanEval prompt's imports and helpers) goes in front; only `tab_indent` changes it too."""
    rec: dict = {"recipe": recipe}
    if recipe == "param_rename":
        name, params = signature_names(signature)
        taken = set(params) | {name} | set(re.findall(r"\w+", statement))
        pool = [p for p in PARAM_POOL if p not in taken]
        picks = [pool[int(i)] for i in rng.choice(len(pool), size=len(params), replace=False)]
        mapping = dict(zip(params, picks))
        signature, statement = _rename_identifiers(signature, statement, mapping)
        return signature, statement, prefix + build_prompt(signature, statement), rec | {"mapping": mapping}
    lines = build_prompt(signature, statement).split("\n")
    opened = lines.index('    """')  # the docstring's quote lines (build_prompt's layout)
    closed = len(lines) - 1 - lines[::-1].index('    """')
    if recipe == "doc2comments":
        lines = lines[:opened] + [("    # " + ln.strip()).rstrip() for ln in lines[opened + 1 : closed]] + [""]
    elif recipe == "tab_indent":
        def tabs(text: str) -> str:
            return re.sub(r"(?m)^(?: {4})+", lambda m: "\t" * (len(m.group(0)) // 4), text)
        prefix, lines = tabs(prefix), tabs("\n".join(lines)).split("\n")
    elif recipe == "split_signature":
        head, params, tail = _split_signature(signature)
        lines = [head] + ["    " + p + "," for p in params] + [tail] + lines[opened:]
    elif recipe == "blank_lines":
        # ReCode new_line_afterdoc, plus a blank line between the signature and the docstring
        lines = lines[:opened] + [""] + lines[opened:-1] + ["", ""]
    else:
        raise EvalkitError(f"format recipe must be one of {', '.join(FORMAT_RECIPES)}, got {recipe!r}")
    return signature, statement, prefix + "\n".join(lines), rec


# ---------------------------------------------------------------- mutation objects and entry point


class Mutation:
    """A mutation of a coding problem, registered in `evalkit.registry.MUTATIONS` (`@register_mutation("name")`
    here; another package's under the entry point group `evalkit.mutations`). The class is instantiated
    with one of its `levels`; its core is `perturb(text, rng) -> (text, record)` on the problem's
    statement. A mutation that needs more of the problem (its signature, its flip) overrides
    `mutate(problem, rng) -> (signature, statement, prompt or None, record)` instead (None: the prompt is
    `build_prompt(signature, statement)` after the problem's prefix)."""

    meaning_changing: ClassVar[bool] = False  # the task itself changes: score against the mutation's own tests
    removes_information: ClassVar[bool] = False  # information is deleted (underspec at high levels)
    oracle: ClassVar[str] = "original"  # the test suite that scores it: "original", or "flipped" (the problem's flip)
    levels: ClassVar[tuple[int, ...]] = (0,)  # valid `level`s; what a level means is in `level_meaning`
    level_meaning: ClassVar[str] = "ignored"
    seeded: ClassVar[bool] = True  # whether `seed`/`variant` change the output
    nested: ClassVar[bool] = False  # one rng for every level (the level left out of the seed): nested levels

    def __init__(self, level: int = 0):
        self.level = level

    @classmethod
    def applicable(cls, problem: Any) -> bool:
        return True

    def perturb(self, text: str, rng: np.random.Generator) -> tuple[str, dict]:
        raise NotImplementedError(f"{type(self).__name__} mutates the whole problem (mutate), not a text")

    def mutate(self, problem: Any, rng: np.random.Generator) -> tuple[str, str, str | None, dict]:
        statement, rec = self.perturb(_get(problem, "statement"), rng)
        return _get(problem, "signature"), statement, None, rec


@register_mutation("underspec")
class Underspec(Mutation):
    removes_information, levels, level_meaning, nested = True, UNDERSPEC_LEVELS, "10*level % of the words deleted (nested)", True

    def mutate(self, problem, rng):
        signature = _get(problem, "signature")
        name, params = signature_names(signature)
        statement, rec = underspecify(_get(problem, "statement"), self.level, rng, protect=(name, *params))
        return signature, statement, None, rec


@register_mutation("flip")
class Flip(Mutation):
    meaning_changing, oracle, seeded = True, "flipped", False

    @classmethod
    def applicable(cls, problem):
        return bool(_get(problem, "flip"))

    def mutate(self, problem, rng):
        statement, rec = flip(problem)
        return _get(problem, "signature"), statement, None, rec


@register_mutation("jargon")
class Jargon(Mutation):
    levels, level_meaning = (1, 2, 3), "number of distinct nouns replaced"

    @classmethod
    def applicable(cls, problem):
        return bool(jargon_candidates(_get(problem, "statement")))

    def mutate(self, problem, rng):
        if not self.applicable(problem):
            raise EvalkitError(f"{_get(problem, 'task_id')}: field 'statement': no noun from the jargon dictionary occurs")
        return super().mutate(problem, rng)

    def perturb(self, text, rng):
        return inflate_jargon(text, rng, n=self.level)


@register_mutation("rename")
class Rename(Mutation):
    levels, level_meaning = tuple(range(len(RENAME_MODES))), "index into RENAME_MODES"

    def mutate(self, problem, rng):
        signature, statement, rec = rename_function(_get(problem, "signature"), _get(problem, "statement"), RENAME_MODES[self.level], rng)
        return signature, statement, None, rec


@register_mutation("typo")
class Typo(Mutation):
    levels, level_meaning = TYPO_LEVELS, "typo rate = 0.05*level per word"

    def perturb(self, text, rng):
        return docstring_typos(text, TYPO_RATE_PER_LEVEL * self.level, rng)


@register_mutation("paraphrase")
class Paraphrase(Mutation):
    def perturb(self, text, rng):
        return paraphrase(text, rng)


@register_mutation("format")
class Format(Mutation):
    levels, level_meaning = tuple(range(len(FORMAT_RECIPES))), "index into FORMAT_RECIPES"

    def mutate(self, problem, rng):
        signature, statement, prompt, rec = reformat(_get(problem, "signature"), _get(problem, "statement"),
                                                     FORMAT_RECIPES[self.level], rng, _prefix(problem))
        return signature, statement, prompt, rec


def preserving() -> list[str]:
    """The meaning-preserving mutations (neither changing the task nor deleting information): ReCode's robustness."""
    return [n for n, m in MUTATIONS.items() if not m.meaning_changing and not m.removes_information]


def check_mutations(mutations: dict[str, list[int]]) -> dict[str, list[int]]:
    """A config's {mutation: levels}, each registered with those levels; for a pydantic field validator, so a
    typo is one line naming the file and field with the closest known name."""
    for name, levels in mutations.items():
        try:
            m = MUTATIONS.get(name)
        except EvalkitError as e:
            raise PydanticCustomError("unknown_name", "{msg}", {"msg": str(e)}) from None
        bad = [lv for lv in levels if lv not in m.levels]
        if bad:
            raise PydanticCustomError("bad_level", "{msg}", {"msg": f"mutation '{name}': levels {bad} not in {list(m.levels)}"})
    return mutations


@dataclass(frozen=True)
class MutatedProblem:
    task_id: str
    mutation: str  # a MUTATIONS key, or "none"
    level: int
    seed: int
    variant: int
    statement: str
    signature: str
    prompt: str
    entry_point: str  # the name the candidate's program defines and the harness calls
    original_entry_point: str  # the name the reference solution defines
    oracle: str  # "original" or "flipped": which test suite `tests` / `visible_tests` / `reference` are
    visible_tests: list
    tests: list  # hidden tests of the applicable oracle
    reference: str  # reference program for the applicable oracle (defines original_entry_point)
    oracles: dict  # {"original": hidden tests, "flipped": hidden flipped tests (if the problem has a flip)}
    meaning_changing: bool
    record: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def nominal(problem: Any) -> MutatedProblem:
    """The unmutated problem in the same shape as a mutation. Its prompt is rebuilt by the same
    `build_prompt` as every mutation's (for HumanEval: its own prefix, then the signature and the
    docstring re-laid out), so a mutation is always compared with an identically laid-out nominal."""
    return _assemble(problem, "none", 0, 0, 0, _get(problem, "statement"), _get(problem, "signature"), None, "original", {})


def applicable(problem: Any, mutation: str) -> bool:
    return mutation in MUTATIONS and MUTATIONS[mutation].applicable(problem)


def mutation_rng(seed: int, task_id: str, mutation: str, level: int, variant: int) -> np.random.Generator:
    # derived from the mutation's name (never a position in a list), so adding one changes no other draw;
    # a nested mutation (underspec) leaves the level out so that every level draws the same word order
    tag = f"v{variant}" if MUTATIONS[mutation].nested else f"L{level}:v{variant}"
    return derived_rng(seed, task_id, mutation, tag)


def mutate(problem: Any, mutation: str, level: int | None = None, seed: int = 0, variant: int = 0) -> MutatedProblem:
    """Mutate a problem (a `Problem` or its JSONL dict). `level`: see MUTATIONS[m].level_meaning
    (default: the first valid level). `variant` indexes the s seeded variants of one (mutation, level)
    (ReCode's s); all randomness comes from rng(seed, task_id, mutation, level/variant)."""
    cls = MUTATIONS.get(mutation)  # an unknown name: "unknown mutation 'x'; did you mean ...?"
    level = cls.levels[0] if level is None else int(level)
    if level not in cls.levels:
        raise EvalkitError(f"mutation '{mutation}': level must be one of {list(cls.levels)} ({cls.level_meaning}), got {level}")
    r = mutation_rng(seed, _get(problem, "task_id"), mutation, level, variant)
    signature, statement, prompt, rec = cls(level).mutate(problem, r)
    return _assemble(problem, mutation, level, seed, variant, statement, signature, prompt, cls.oracle, rec)


def _tests(obj: Any, name: str) -> list:
    return [dict(t) if isinstance(t, dict) else {"args": _get(t, "args"), "expected": _get(t, "expected")}
            for t in _get(obj, name) or []]


def _assemble(problem, mutation, level, seed, variant, statement, signature, prompt, oracle, rec) -> MutatedProblem:
    f = _get(problem, "flip")
    src = f if oracle == "flipped" else problem
    oracles = {"original": _tests(problem, "tests")} | ({"flipped": _tests(f, "tests")} if f else {})
    entry = signature_names(signature)[0]
    return MutatedProblem(
        task_id=_get(problem, "task_id"), mutation=mutation, level=level, seed=seed, variant=variant,
        statement=statement, signature=signature,
        prompt=prompt if prompt is not None else _prefix(problem) + build_prompt(signature, statement),
        entry_point=entry, original_entry_point=_get(problem, "entry_point"), oracle=oracle,
        visible_tests=_tests(src, "visible_tests"), tests=_tests(src, "tests"), reference=_get(src, "reference"),
        oracles=oracles, meaning_changing=mutation in MUTATIONS and MUTATIONS[mutation].meaning_changing,
        record=rec,
    )
