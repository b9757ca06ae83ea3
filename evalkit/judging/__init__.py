"""Pairwise LLM judging: templates, strict verdict parsers, and position-bias control.

A pair is judged in one or both slot orders (`protocol`); each judge call is a *game* whose verdict
is mapped back to the pair's own orientation (A = `response_a`). The games of a pair are combined
by `combine`: `conservative` (FastChat's rule: the pair's verdict is the games' common verdict, and
any disagreement after undoing the swap, a tie in one game included, is a tie) or `average` (Arena-Hard
/ JudgeBench: both games count, a tie is half). PandaLM's paper protocol differs from `conservative` in
one case: a decisive game against a tie keeps the first game's verdict there ("1" then "Tie" is 1),
a tie here. A verdict that does not parse
is `None`, never a silent tie (PandaLM's own parser maps garbage to Tie; that hides judge failures).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from ..errors import EvalkitError, did_you_mean
from ..readers import parse_yaml
from ..tasks import builtin_dir
from ..requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest
from ..seeding import derive_seed

Verdict = Literal["A", "B", "tie"]
Protocol = Literal["both", "random", "fixed"]
Combine = Literal["conservative", "average"]
VerdictMode = Literal["generate", "logprob"]
FORMATS = ("pandalm", "mt_bench", "arena_hard")
SCORE = {"A": 1.0, "tie": 0.5, "B": 0.0}  # A's share of a game
_FLIP = {"A": "B", "B": "A", "tie": "tie", None: None}


@dataclass(frozen=True)
class JudgeTemplate:
    id: str
    format: str
    prompt: str
    system: str | None
    sha256: str
    path: str

    def render(self, instruction: str, response_a: str, response_b: str, input: str = "") -> str:
        return self.prompt.format(
            instruction=instruction,
            input_block=f"\n### Input:\n{input}\n" if input and self.format == "pandalm" else (f"\n\n{input}" if input else ""),
            input_clause=" with an Input that provides further context" if input else "",
            response_a=response_a,
            response_b=response_b,
        )


def judges_dir() -> Path:
    return builtin_dir("judges")


def load_template(name_or_path: str) -> JudgeTemplate:
    """A template by id (a file in judges/) or by path."""
    path = Path(name_or_path)
    if not path.is_file():
        known = {p.stem: p for p in sorted(judges_dir().glob("*.yaml"))}
        if name_or_path not in known:
            raise did_you_mean("judge template", name_or_path, known)
        path = known[name_or_path]
    raw = path.read_bytes()
    doc = parse_yaml(raw.decode("utf-8"), path)
    if not isinstance(doc, dict):
        raise EvalkitError(f"{path}: expected a mapping with id, format, prompt")
    for key in ("id", "format", "prompt"):
        if not isinstance(doc.get(key), str):
            raise EvalkitError(f"{path}: field '{key}': required string")
    if doc["format"] not in FORMATS:
        raise EvalkitError(f"{path}: field 'format': must be one of {', '.join(FORMATS)}, got '{doc['format']}'")
    try:
        JudgeTemplate(doc["id"], doc["format"], doc["prompt"], None, "", "").render("i", "a", "b", "x")
    except (KeyError, IndexError, ValueError) as e:
        raise EvalkitError(f"{path}: field 'prompt': unknown placeholder {e}") from None
    return JudgeTemplate(doc["id"], doc["format"], doc["prompt"], doc.get("system"), hashlib.sha256(raw).hexdigest(), str(path))


# ---------------------------------------------------------------- strict parsers: text -> (verdict, strength)

_PANDALM_SPECIAL = re.compile(r"<s>|</s>|\[PAD\]|<\|endoftext\|>|<unk>")
_MT = re.compile(r"\[\[([ABC])\]\]")
_ARENA = re.compile(r"\[\[([AB<>=]+)\]\]")
_ARENA_LABELS = {
    "A>>B": ("A", 2), "A>B": ("A", 1), "A=B": ("tie", 0), "B>A": ("B", 1), "B>>A": ("B", 2),
    "B<<A": ("A", 2), "B<A": ("A", 1), "B=A": ("tie", 0), "A<B": ("B", 1), "A<<B": ("B", 2),
}


def parse_pandalm(text: str) -> tuple[Verdict | None, int]:
    """The first non-empty line must be exactly `1`, `2` or `Tie` (PandaLM's output format)."""
    text = _PANDALM_SPECIAL.sub("", text)
    if "### Evaluation:" in text:
        text = text.split("### Evaluation:", 1)[1]
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    verdict = {"1": "A", "2": "B", "tie": "tie"}.get(first.lower())
    return verdict, int(verdict in ("A", "B"))


def parse_mt_bench(text: str) -> tuple[Verdict | None, int]:
    """Exactly one distinct `[[A]]`/`[[B]]`/`[[C]]` label. FastChat takes the first of A, B, C found
    by substring search; a judge output that names two different verdicts is unparsed here."""
    labels = set(_MT.findall(text))
    if len(labels) != 1:
        return None, 0
    verdict = {"A": "A", "B": "B", "C": "tie"}[labels.pop()]
    return verdict, int(verdict != "tie")


def parse_arena_hard(text: str) -> tuple[Verdict | None, int]:
    """The last `[[...]]` label, as Arena-Hard's regex does; strength 2 for `>>` (weighted 3x there)."""
    found = _ARENA.findall(text)
    if not found or found[-1] not in _ARENA_LABELS:
        return None, 0
    return _ARENA_LABELS[found[-1]]


PARSERS = {"pandalm": parse_pandalm, "mt_bench": parse_mt_bench, "arena_hard": parse_arena_hard}

# The closed verdict set of each format, for judging by label log-likelihood (`verdict="logprob"`):
# the judge's answer is the label it finds most likely right after the prompt, as AlpacaEval's
# logprob-weighted annotators read a single verdict token. Small models that cannot hold the output
# format can still be measured this way; nothing is ever unparsed. Labels are scored per token (the
# mean token log-prob), so "Tie", two tokens in most vocabularies, is not handicapped against the
# one-token "1" and "2" by an extra factor below 1 (summed, a judge put ties at near-zero recall by
# construction). First-token scoring would need the backends' token-level log-probs and fails where
# the labels share their first token ("[[A]]", "[[B]]").
LABELS = {
    "pandalm": {"1": ("A", 1), "2": ("B", 1), "Tie": ("tie", 0)},
    "mt_bench": {"[[A]]": ("A", 1), "[[B]]": ("B", 1), "[[C]]": ("tie", 0)},
    "arena_hard": {"[[A>>B]]": ("A", 2), "[[A>B]]": ("A", 1), "[[A=B]]": ("tie", 0), "[[B>A]]": ("B", 1), "[[B>>A]]": ("B", 2)},
}


# ---------------------------------------------------------------- pairs, games, verdicts


@dataclass(frozen=True)
class JudgePair:
    instruction: str
    response_a: str
    response_b: str
    input: str = ""
    id: str = ""


@dataclass(frozen=True)
class Game:
    order: Literal["AB", "BA"]  # BA: response_b sat in slot A
    raw: str
    verdict: Verdict | None  # in the pair's orientation (the swap undone)
    strength: int = 0
    p_a: float | None = None  # logprob verdicts: P(A wins) + P(tie)/2 from the label distribution

    @property
    def score(self) -> float | None:
        """A's share of this game: the soft preference when known, else 1 / 0.5 / 0."""
        return self.p_a if self.p_a is not None else SCORE.get(self.verdict)


@dataclass
class PairVerdict:
    winner: Verdict | None  # None: no game parsed (or, conservatively, one of two did not)
    score: float | None  # A's share in [0, 1]
    games: list[Game] = field(default_factory=list)

    @property
    def consistent(self) -> bool | None:
        """Both orders parsed and agree (position consistency); None unless two games parsed."""
        v = [g.verdict for g in self.games if g.verdict is not None]
        return v[0] == v[1] if len(self.games) == 2 and len(v) == 2 else None


def orders(protocol: Protocol, seed: int, pair_key: str) -> tuple[str, ...]:
    if protocol == "both":
        return ("AB", "BA")
    if protocol == "fixed":
        return ("AB",)
    if protocol == "random":
        return ("AB",) if derive_seed(seed, "judge-order", pair_key) % 2 == 0 else ("BA",)
    raise EvalkitError(f"protocol: must be both, random or fixed, got '{protocol}'")


def game_request(template: JudgeTemplate, pair: JudgePair, order: str, config: GenerationConfig,
                 prompt_format: str = "chat") -> GenerateRequest:
    a, b = (pair.response_a, pair.response_b) if order == "AB" else (pair.response_b, pair.response_a)
    text = template.render(pair.instruction, a, b, pair.input)
    if prompt_format == "chat":
        msgs = ((("system", template.system),) if template.system else ()) + (("user", text),)
        return GenerateRequest(messages=msgs, config=config)
    return GenerateRequest(prompt=(template.system + "\n\n" + text) if template.system else text, config=config)


def read_game(template: JudgeTemplate, order: str, text: str) -> Game:
    verdict, strength = PARSERS[template.format](text)
    return Game(order, text, verdict if order == "AB" else _FLIP[verdict], strength)


def label_requests(template: JudgeTemplate, pair: JudgePair, order: str, prompt_format: str, render_chat) -> list[LoglikelihoodRequest]:
    """One log-likelihood request per verdict label, all sharing the judge prompt as context
    (so backends forward it once). `render_chat`: the backend's chat renderer."""
    req = game_request(template, pair, order, GenerationConfig(max_tokens=1), prompt_format)
    context = render_chat(req.messages) if req.messages is not None else req.prompt + "\n"
    return [LoglikelihoodRequest(context, label) for label in LABELS[template.format]]


def read_label_game(template: JudgeTemplate, order: str, logprobs: Sequence[float], n_tokens: Sequence[int] | None = None) -> Game:
    """The label with the highest mean token log-prob (summed log-prob / `n_tokens`) is the verdict;
    the softmax of those scores over the closed set gives the soft preference P(slot A wins) + P(tie)/2,
    mapped to the pair's orientation. Without `n_tokens` every label counts as one token."""
    labels = list(LABELS[template.format])
    lp = np.asarray(logprobs, dtype=float) / np.maximum(np.asarray(n_tokens if n_tokens is not None else [1] * len(labels)), 1)
    probs = np.exp(lp - lp.max())
    probs /= probs.sum()
    verdict, strength = LABELS[template.format][labels[int(np.argmax(lp))]]
    p_slot_a = float(sum(p * SCORE[LABELS[template.format][lab][0]] for lab, p in zip(labels, probs)))
    raw = " ".join(f"{lab}:{x:.4f}" for lab, x in zip(labels, lp))
    return Game(order, raw, verdict if order == "AB" else _FLIP[verdict], strength, p_slot_a if order == "AB" else 1 - p_slot_a)


def combine_games(games: Sequence[Game], rule: Combine = "conservative") -> PairVerdict:
    parsed = [g.verdict for g in games if g.verdict is not None]
    if rule == "conservative":
        if not parsed or len(parsed) < len(games):
            return PairVerdict(None, None, list(games))
        winner = parsed[0] if len(set(parsed)) == 1 else "tie"
        return PairVerdict(winner, SCORE[winner], list(games))
    if rule == "average":
        # with soft (logprob) preferences, averaging the two orders cancels a constant slot bias
        scores = [g.score for g in games if g.verdict is not None]
        if not scores:
            return PairVerdict(None, None, list(games))
        score = sum(scores) / len(scores)
        return PairVerdict("A" if score > 0.5 else "B" if score < 0.5 else "tie", score, list(games))
    raise EvalkitError(f"combine: must be conservative or average, got '{rule}'")


def judge_pairs(backend, pairs: Sequence[JudgePair], template: str | JudgeTemplate = "mt_bench", protocol: Protocol = "both",
                combine: Combine = "conservative", seed: int = 0, max_tokens: int = 512,
                prompt_format: str = "chat", verdict: VerdictMode = "generate") -> list[PairVerdict]:
    """Judge every pair with `backend` (any evalkit backend) in one bulk call: greedy generation
    parsed strictly, or (verdict="logprob") the most likely verdict label."""
    tpl = template if isinstance(template, JudgeTemplate) else load_template(template)
    plan = [(i, o) for i, p in enumerate(pairs) for o in orders(protocol, seed, p.id or str(i))]
    games: list[list[Game]] = [[] for _ in pairs]
    if verdict == "logprob":
        n = len(LABELS[tpl.format])
        reqs = [r for i, o in plan for r in label_requests(tpl, pairs[i], o, prompt_format, backend.render_chat)]
        lls = backend.loglikelihood(reqs)
        for g, (i, o) in enumerate(plan):
            rs = lls[g * n:(g + 1) * n]
            games[i].append(read_label_game(tpl, o, [r.logprob for r in rs], [r.n_tokens for r in rs]))
    else:
        config = GenerationConfig(max_tokens=max_tokens, temperature=0.0, seed=seed)
        gens = backend.generate([game_request(tpl, pairs[i], o, config, prompt_format) for i, o in plan])
        for (i, o), g in zip(plan, gens):
            games[i].append(read_game(tpl, o, g.texts[0]))
    return [combine_games(gs, combine) for gs in games]


__all__ = ["JudgePair", "JudgeTemplate", "PairVerdict", "Game", "judge_pairs", "load_template", "combine_games",
           "read_game", "game_request", "orders", "label_requests", "read_label_game", "PARSERS", "LABELS", "SCORE"]
