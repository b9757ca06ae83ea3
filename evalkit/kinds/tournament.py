"""A pairwise tournament between variants of the run's model, judged by an LLM, ranked by Bradley–Terry.

Players are what the harness can make from one model: raw vs chat prompting, a system prompt,
a sampling temperature, a LoRA adapter (a peft directory, or the best trial of each method of a finished
`evalkit sweep`, which puts preference-tuned policies in the same ranking as the prompting variants).
Stage 1 generates every player's response to every prompt; then each round
pairs players (Swiss: by standing, no rematches, `⌈log₂ M⌉ + extra_rounds` rounds; or a full round
robin) and the judge compares their responses on `prompts_per_match` prompts per match (both slot
orders by default). The judge is the run's model itself unless `judge_model` names another (on the same
backend): a self-judged tournament measures what that judge prefers, which the judge task quantifies
separately.
"""

from __future__ import annotations

import itertools
import json
from contextlib import ExitStack
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..errors import EvalkitError
from ..judging import (LABELS, Combine, JudgePair, Protocol, VerdictMode, combine_games, game_request, label_requests,
                       load_template, orders, read_game, read_label_game)
from ..metrics import mean_metric
from ..requests import GenerateRequest, GenerationConfig
from ..seeding import rng
from ..context import RunContext
from ..kind import TaskConfig, TaskKind
from ..tournaments.live_swiss import Standings, n_rounds, pair_round
from ..tournaments.ratings import bradley_terry, win_rate


class Player(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    prompt_format: Literal["raw", "chat"] = "chat"
    system_prompt: str | None = None
    temperature: float = 0.0
    adapter: str | None = None  # a peft LoRA adapter directory (relative paths: from the working directory)


class TournamentConfig(TaskConfig):
    players: list[Player] = Field(min_length=2)
    sweep: str | None = None  # a finished `evalkit sweep` directory: adds `<method>-best` players (chat prompting)
    pairing: Literal["swiss", "round_robin"] = "swiss"
    extra_rounds: int = 1
    prompts_per_match: int = 8
    max_tokens: int = 128
    judge_template: str = "pandalm"
    judge_protocol: Protocol = "both"
    judge_combine: Combine = "conservative"
    judge_max_tokens: int = 64
    judge_verdict: VerdictMode = "generate"  # or "logprob": the most likely verdict label, soft scores
    judge_prompt_format: Literal["raw", "chat"] = "chat"
    judge_model: str | None = None  # a model name or checkpoint for the judge; default: the run's model
    n_boot: int = 200


class PromptSample(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    instruction: str
    input: str = ""


class TournamentKind(TaskKind):
    Config = TournamentConfig
    Sample = PromptSample

    def __init__(self, spec, seed: int = 0):
        super().__init__(spec, seed)
        self.players = list(self.config.players) + (sweep_players(Path(self.config.sweep), spec.path) if self.config.sweep else [])
        names = [p.name for p in self.players]
        if len(set(names)) != len(names):
            raise EvalkitError(f"{spec.path}: field 'players': duplicate player name")
        for p in self.players:
            if p.adapter and not (Path(p.adapter) / "adapter_config.json").is_file():
                raise EvalkitError(f"{spec.path}: field 'players' ({p.name}): adapter: not a peft adapter directory: {p.adapter}")
        try:
            self.template = load_template(self.config.judge_template)
        except EvalkitError as e:  # name the task file: the template's own error does not
            raise EvalkitError(f"{spec.path}: field 'judge_template': {e}") from None

    def adapters(self) -> dict[str, Path]:
        return {p.name: Path(p.adapter).resolve() for p in self.players if p.adapter}

    def models(self) -> dict[str, str]:
        return {"judge": self.config.judge_model} if self.config.judge_model else {}

    def _response_request(self, p: Player, s: dict) -> GenerateRequest:
        text = s["instruction"] + (f"\n\n{s['input']}" if s.get("input") else "")
        cfg = GenerationConfig(max_tokens=self.config.max_tokens, temperature=p.temperature,
                               seed=int(rng(self.seed, self.spec.name, s["id"], p.name).integers(2**31)))
        if p.prompt_format == "chat":
            msgs = ((("system", p.system_prompt),) if p.system_prompt else ()) + (("user", text),)
            return GenerateRequest(messages=msgs, config=cfg)
        return GenerateRequest(prompt=(p.system_prompt + "\n\n" if p.system_prompt else "") + text, config=cfg)

    def run(self, samples, ctx: RunContext) -> None:
        c = self.config
        # stage 1: every player's response to every prompt; one stage for the model itself, one per adapter
        def write(u, res):
            ctx.write({"id": str(u[1]["id"]), "variant": f"response/{u[0].name}", "type": "response", "player": u[0].name,
                       "response": res[0].texts[0], "n_tokens": len(res[0].token_ids[0]), "finish_reason": res[0].finish_reasons[0]})

        for adapter in [None, *self.adapters()]:
            units = [((p, s), [self._response_request(p, s)]) for p in self.players for s in samples
                     if (p.name if p.adapter else None) == adapter and f"{s['id']}::response/{p.name}" not in ctx.done]
            if not units:
                continue
            if adapter is None:
                ctx.stage("responses", "generate", units, write)
            else:
                with ctx.adapter(adapter) as backend:
                    ctx.stage(f"responses · {adapter}", "generate", units, write, backend=backend)
        responses = {(r["player"], r["id"]): r["response"] for r in ctx.records if r.get("type") == "response"}

        names = [p.name for p in self.players]
        st = Standings(names)
        rounds = n_rounds(len(names), c.extra_rounds) if c.pairing == "swiss" else 1
        with ExitStack() as stack:
            judge = None

            def judge_backend():  # another judge model is loaded once, and only if a battle is left to judge
                nonlocal judge
                if judge is None:
                    judge = stack.enter_context(ctx.model("judge")) if c.judge_model else ctx.backend
                return judge

            for r in range(rounds):
                self._round(r, rounds, samples, responses, st, judge_backend, ctx)
        self.standings = st

    def _round(self, r, rounds, samples, responses, st, judge_backend, ctx: RunContext) -> None:
        """Pair by standing, judge every match's prompts (one stage), then record the results in `st`."""
        c, names = self.config, [p.name for p in self.players]
        judge_cfg = GenerationConfig(max_tokens=c.judge_max_tokens, temperature=0.0, seed=self.seed)
        if c.pairing == "swiss":
            pairs, bye = pair_round(st)
        else:
            pairs, bye = list(itertools.combinations(names, 2)), None
        units = []
        for a, b in pairs:
            k = min(c.prompts_per_match, len(samples))
            chosen = rng(self.seed, self.spec.name, f"round{r}", f"{a}|{b}").choice(len(samples), k, replace=False)
            for i in sorted(chosen):
                s = samples[i]
                variant = f"battle/r{r}/{a}/{b}"
                if f"{s['id']}::{variant}" in ctx.done:
                    continue
                pair = JudgePair(s["instruction"], responses[(a, s["id"])], responses[(b, s["id"])], s.get("input", ""),
                                 f"{s['id']}/{a}/{b}")
                os_ = orders(c.judge_protocol, self.seed, pair.id)
                if c.judge_verdict == "logprob":
                    reqs = [q for o in os_ for q in label_requests(self.template, pair, o, c.judge_prompt_format,
                                                                    judge_backend().render_chat)]
                else:
                    reqs = [game_request(self.template, pair, o, judge_cfg, c.judge_prompt_format) for o in os_]
                units.append(((s, variant, r, a, b, pair, os_), reqs))
        method = "loglikelihood" if c.judge_verdict == "logprob" else "generate"
        ctx.stage(f"round {r + 1}/{rounds}", method, units, lambda u, res: self._write_battle(ctx, u, res),
                  backend=judge_backend() if units else None)
        # standings from this round's battles (recomputed from records, so a resumed run pairs identically)
        mine = [x for x in ctx.records if x.get("type") == "battle" and x["round"] == r]
        for a, b in pairs:
            battles = [x for x in mine if x["model_a"] == a and x["model_b"] == b and x["score"] is not None]
            pa = sum(x["score"] for x in battles)
            pb = len(battles) - pa
            st.record(a, b, *((1.0, 0.0) if pa > pb else (0.0, 1.0) if pb > pa else (0.5, 0.5)))
            if c.judge_protocol == "fixed":  # one order: balance who sits in slot A, like chess colours
                st.slot_a[a] += 1
        if bye is not None:
            st.give_bye(bye)

    def _write_battle(self, ctx: RunContext, unit, results) -> None:
        s, variant, r, a, b, pair, os_ = unit
        if self.config.judge_verdict == "logprob":
            n = len(LABELS[self.template.format])
            games = [read_label_game(self.template, o, [x.logprob for x in results[k * n:(k + 1) * n]],
                                     [x.n_tokens for x in results[k * n:(k + 1) * n]]) for k, o in enumerate(os_)]
        else:
            games = [read_game(self.template, o, g.texts[0]) for o, g in zip(os_, results)]
        v = combine_games(games, self.config.judge_combine)
        ctx.write({
            "id": str(s["id"]), "variant": variant, "type": "battle", "round": r, "model_a": a, "model_b": b,
            "winner": {"A": "model_a", "B": "model_b", "tie": "tie", None: None}[v.winner], "score": v.score,
            "consistent": v.consistent, "len_a": len(pair.response_a), "len_b": len(pair.response_b),
            "games": [{"order": g.order, "verdict": g.verdict, "p_a": g.p_a, "output": g.raw} for g in games],
        })

    def summarize(self, records: list[dict]) -> dict:
        battles = [r for r in records if r.get("type") == "battle"]
        games = [g for r in battles for g in r["games"]]
        # BT and the win rate take each battle's `score` (A's share: the judge's combined soft preference
        # under `average` with logprob verdicts), so a 0.51 coin flip is nearly a tie, not a full win
        decided = pd.DataFrame([r for r in battles if r["winner"] is not None], columns=["model_a", "model_b", "winner", "score"])
        # which slot the judge picked in each decisive game (verdicts are stored with the swap undone)
        slots = [float((g["verdict"] == "A") == (g["order"] == "AB")) for g in games if g["verdict"] in ("A", "B")]
        metrics = {
            "judge_calls": {"value": len(games), "n": len(games)},
            "parse_failure_rate": mean_metric([float(g["verdict"] is None) for g in games], proportion=True),
            "position_consistency": mean_metric([float(r["consistent"]) for r in battles if r["consistent"] is not None], proportion=True),
            "slot_a_rate": mean_metric(slots, proportion=True),  # decisive games won by whoever sat in slot A
        }
        entries, breakdown, method = [], {}, {}
        if len(decided) and len(set(decided["model_a"]) | set(decided["model_b"])) >= 2:
            bt = bradley_terry(decided, n_boot=self.config.n_boot, seed=self.seed)
            method = bt.attrs["method"]
            wr = win_rate(decided, seed=self.seed).set_index("model")
            for row in bt.itertuples():
                entries.append({"model": row.model, "rank": int(row.rank), "rank_ub": int(row.rank_ub), "score": row.score,
                                "ci_low": row.ci_low, "ci_high": row.ci_high, "n_battles": int(row.n_battles),
                                "wins": int(row.wins), "losses": int(row.losses), "ties": int(row.ties),
                                "win_rate": float(wr.loc[row.model, "score"]), "degenerate_resamples": row.degenerate_resamples})
            breakdown["player"] = {e["model"]: {
                "bt_rating": {"value": e["score"], "ci_low": e["ci_low"], "ci_high": e["ci_high"], "n": e["n_battles"]},
                "win_rate": {"value": e["win_rate"], "ci_low": float(wr.loc[e["model"], "ci_low"]),
                             "ci_high": float(wr.loc[e["model"], "ci_high"]), "n": e["n_battles"]}} for e in entries}
        judge = {"model": self.config.judge_model or "self", "prompt_id": self.template.id, "prompt_sha": self.template.sha256,
                 "position_protocol": self.config.judge_protocol, "tie_rule": self.config.judge_combine,
                 "verdict": self.config.judge_verdict, "position_consistency": metrics["position_consistency"]["value"]}
        warning = position_lock_warning(slots)
        if warning:
            judge["warning"] = warning
        return {"metrics": metrics, "breakdown": breakdown, "entries": entries,
                "method": {"type": "bt", "n_bootstrap": self.config.n_boot, "seed": self.seed, "pairing": self.config.pairing,
                           "outcome": "soft (each battle's combined judge preference)", **method},
                "judge": judge}

    # --- presentation (evalkit report) -----------------------------------------------------------
    title = "tournament"
    about = ("Variants of one model in a pairwise tournament judged by an LLM, rated by Bradley–Terry (weak prior, 95% "
             "posterior CIs) on soft judge outcomes.")
    figures = (("ratings", "Bradley–Terry ratings with 95% CIs"),)
    report_order = 60

    @classmethod
    def report_section(cls, src) -> str:
        from ..report.html import compact, entries_table, esc, kv_table, short_hash

        m, j = src.get("method", dict, {}) or {}, src.get("judge", dict, {}) or {}
        out = kv_table([(f"method {key}", esc(compact(v))) for key, v in m.items()]
                       + [(f"judge {key}", esc(compact(v)) if key != "prompt_sha" else short_hash(v)) for key, v in j.items()])
        entries = src.doc.get("entries")
        return out + ("<h4>Bradley–Terry ratings</h4>" + entries_table(entries, "BT rating") if entries else "")

    @classmethod
    def headline(cls, src):
        """The top of the ratings; a tournament without them, its judge's position consistency."""
        from ..presentation import top_entry

        metrics = src.doc.get("metrics") or {}
        name = "position_consistency" if "position_consistency" in metrics else next(iter(metrics), "")
        return top_entry(src) or (name, metrics.get(name) or {})

    @staticmethod
    def plot(summary, records, out) -> None:
        if summary.get("entries"):
            from ..tournaments.plots import ratings_plot

            ratings_plot(summary["entries"], out / "ratings.png", f"{summary['task']} · Bradley–Terry (95% CI)")


def position_lock_warning(slots: list[float], share: float = 0.9, min_games: int = 10) -> str | None:
    """A judge that gives (almost) every decisive game to the same slot is judging positions, not
    responses: its ranking is noise. `slots`: 1.0 where slot A won, 0.0 where slot B did."""
    if len(slots) < min_games:
        return None
    a = sum(slots) / len(slots)
    if max(a, 1 - a) < share:
        return None
    slot = "A (first)" if a >= 0.5 else "B (second)"
    return (f"position-locked judge: slot {slot} won {max(a, 1 - a):.0%} of {len(slots)} decisive games; "
            "the ranking reflects slot order, not the responses")


def sweep_players(sweep: Path, where: Path) -> list[Player]:
    """One player per method of a finished sweep: the adapter of its best tuning trial (lowest tuning seed)."""
    try:
        summary = json.loads((sweep / "summary.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise EvalkitError(f"{where}: field 'sweep': {sweep}/summary.json: {type(e).__name__}: {e}") from None
    if summary.get("kind") != "sweep":
        raise EvalkitError(f"{where}: field 'sweep': {sweep} is not an `evalkit sweep` directory")
    players = []
    for method, best in (summary.get("best") or {}).items():
        trial = next(t for t in summary["trials"] if t["method"] == method and t["trial"] == best["trial"])
        found = sorted((sweep / "trials" / method / Path(trial["dir"]).name).glob("seed*/adapter"),
                       key=lambda a: int(a.parent.name[4:]))
        if not found:
            raise EvalkitError(f"{where}: field 'sweep': no adapter saved for {method} trial {best['trial']} in {sweep}")
        players.append(Player(name=f"{method}-best", adapter=str(found[0])))
    if not players:
        raise EvalkitError(f"{where}: field 'sweep': {sweep} has no finished trial with a defined score")
    return players
