"""A multi-turn code agent with test feedback, scored once on hidden tests.

Each episode: the model writes the function -> the sandbox runs the VISIBLE tests -> on failure the
first failing test (input, expected, actual, or the traceback; truncated) goes back as the next user
turn -> up to `max_turns` turns or `max_episode_tokens` generated tokens. Every turn's candidate is
also run on the HIDDEN tests, so pass@1 by turn is the hidden pass rate of what the agent would
have submitted after t turns; the model never sees hidden results. The equal-budget baseline
draws `max_turns` fresh samples without feedback and submits the first that passes the visible
tests (Olausson et al., ICLR 2024: self-repair must beat resampling at equal budget).
One stage per turn holds every live episode, so the backend batches across problems.
"""

from __future__ import annotations

from typing import Literal

from ..code.execute import reference_times
from ..code.problems import humaneval_fingerprint, load_problems
from ..code.generation import CHAT_INSTRUCTION, extract_program
from ..errors import EvalkitError
from ..metrics import mean_metric
from ..requests import GenerateRequest, GenerationConfig
from ..sandbox import Job, Limits, Sandbox
from ..context import RunContext
from ..kind import TaskConfig, TaskKind

TERMINAL = ("solved_visible", "max_turns", "token_limit")


class CodeAgentConfig(TaskConfig):
    prompt_format: str = "chat"
    max_turns: int = 3
    max_tokens: int = 384  # per turn
    max_episode_tokens: int = 2048  # generated tokens per episode
    feedback_chars: int = 600
    temperature: float = 0.0
    resample_temperature: float = 0.8
    time_floor: float = 3.0
    time_factor: float = 4.0
    isolation: Literal["bwrap", "unshare", "none"] = "bwrap"  # weaker sandboxes only when asked for (-T isolation=...)


def feedback(ff: dict | None, entry_point: str, limit: int) -> str:
    """The user turn after a failed visible test."""
    if ff is None:
        return ""
    if ff.get("index") is None:
        body = f"Your code did not load: {ff.get('message', '')}\n{ff.get('error') or ''}"
    elif ff.get("actual") is not None:
        body = (f"Your function failed a test.\nCall: {entry_point}(*{ff['input']})\nExpected: {ff['expected']}\n"
                f"Got: {ff['actual']}")
    else:
        body = f"Your function failed a test.\nCall: {entry_point}(*{ff['input']})\n{ff.get('message', '')}\n{ff.get('error') or ''}"
    body = body.strip()
    if len(body) > limit:
        body = body[: limit - 3] + "..."
    return body + "\n\nFix the function and reply with the whole corrected function in one ```python code block."


class CodeAgentKind(TaskKind):
    Config = CodeAgentConfig
    primary_metric = "solved_rate"
    named_data = {"humaneval": humaneval_fingerprint}

    def _sandbox(self) -> Sandbox:
        c = self.config
        return Sandbox(Limits(time_floor=c.time_floor, time_factor=c.time_factor, isolation=c.isolation))

    def _source(self) -> str:
        return self.config.data if self.config.data in self.named_data else str(self.spec.data_path)

    def samples(self) -> list[dict]:
        problems = load_problems(self._source(), self._sandbox())
        bad = [p.task_id for p in problems if not p.visible_tests]
        if bad:
            raise EvalkitError(f"{self.spec.data_path}: problem {bad[0]}: field 'visible_tests': the agent needs visible tests")
        return [{"id": p.task_id, "problem": p} for p in problems]

    def run(self, samples, ctx: RunContext) -> None:
        c = self.config
        if c.prompt_format != "chat":
            raise EvalkitError(f"{self.spec.path}: field 'prompt_format': the code agent talks in chat turns")
        sandbox = self._sandbox()
        times = reference_times([s["problem"] for s in samples], sandbox)
        for s in samples:
            s["time_limit"] = sandbox.limits.time_limit(times[s["id"]])

        # live episodes, rebuilt from the records of an earlier attempt
        live = []
        for s in samples:
            turns = sorted((r for r in ctx.records if r["id"] == s["id"] and r.get("type") == "turn"), key=lambda r: r["turn"])
            if turns and turns[-1]["status"] in TERMINAL:
                continue
            if turns:
                last = turns[-1]
                msgs = [tuple(m) for m in last["messages"]] + [("assistant", last["reply"]), ("user", last["feedback"])]
                live.append({"s": s, "turn": last["turn"] + 1, "messages": msgs, "tokens": sum(t["n_tokens"] for t in turns)})
            else:
                p = s["problem"]
                live.append({"s": s, "turn": 1, "tokens": 0,
                             "messages": [("user", f"{CHAT_INSTRUCTION}\n\n```python\n{p.prompt}\n```")]})
        while live:
            turn = min(e["turn"] for e in live)
            batch = [e for e in live if e["turn"] == turn]
            self._turn(ctx, sandbox, batch)
            live = [e for e in live if e.get("status") is None]
        self._resample_baseline(ctx, sandbox, samples)

    def _turn(self, ctx: RunContext, sandbox: Sandbox, batch: list[dict]) -> None:
        c = self.config
        gen = GenerationConfig(max_tokens=c.max_tokens, temperature=c.temperature, seed=self.seed)
        replies = {}
        units = [(i, [GenerateRequest(messages=tuple(e["messages"]), config=gen)]) for i, e in enumerate(batch)]
        ctx.stage(f"turn {batch[0]['turn']}", "generate", units, lambda i, res: replies.__setitem__(i, res[0]))
        jobs = []
        for i, e in enumerate(batch):
            p = e["s"]["problem"]
            e["program"] = extract_program(replies[i].texts[0], p.prompt, p.entry_point, "chat")
            jobs += [Job(e["program"], p.entry_point, p.visible_tests, e["s"]["time_limit"], p.checker_fn()),
                     Job(e["program"], p.entry_point, p.tests, e["s"]["time_limit"], p.checker_fn())]
        results = sandbox.run_many(jobs)
        for i, e in enumerate(batch):
            p, g = e["s"]["problem"], replies[i]
            visible, hidden = results[2 * i], results[2 * i + 1]
            e["tokens"] += len(g.token_ids[0])
            status = ("solved_visible" if visible.passed else "max_turns" if e["turn"] >= c.max_turns
                      else "token_limit" if e["tokens"] >= c.max_episode_tokens else None)
            fb = "" if status else feedback(visible.first_failure, p.entry_point, c.feedback_chars)
            ctx.write({
                "id": p.task_id, "variant": f"turn{e['turn']}", "type": "turn", "turn": e["turn"],
                "messages": [list(m) for m in e["messages"]], "reply": g.texts[0], "program": e["program"],
                "n_tokens": len(g.token_ids[0]), "episode_tokens": e["tokens"], "finish_reason": g.finish_reasons[0],
                "visible": visible.to_dict(), "hidden": hidden.to_dict(), "status": status or "continue", "feedback": fb,
            })
            e["status"] = status
            if status is None:
                e["messages"] = e["messages"] + [("assistant", g.texts[0]), ("user", fb)]
                e["turn"] += 1

    def _resample_baseline(self, ctx: RunContext, sandbox: Sandbox, samples) -> None:
        c = self.config
        todo = [s for s in samples if f"{s['id']}::resample" not in ctx.done]
        if not todo:
            return
        gen = GenerationConfig(max_tokens=c.max_tokens, temperature=c.resample_temperature, n=c.max_turns, seed=self.seed)
        replies = {}
        units = [(s["id"], [GenerateRequest(messages=(("user", f"{CHAT_INSTRUCTION}\n\n```python\n{s['problem'].prompt}\n```"),),
                                            config=gen)]) for s in todo]
        ctx.stage("resample baseline", "generate", units, lambda sid, res: replies.__setitem__(sid, res[0]))
        jobs = []
        for s in todo:
            p = s["problem"]
            for t in replies[s["id"]].texts:
                prog = extract_program(t, p.prompt, p.entry_point, "chat")
                jobs += [Job(prog, p.entry_point, p.visible_tests, s["time_limit"], p.checker_fn()),
                         Job(prog, p.entry_point, p.tests, s["time_limit"], p.checker_fn())]
        results = iter(sandbox.run_many(jobs))
        for s in todo:
            g = replies[s["id"]]
            pairs = [(next(results), next(results)) for _ in g.texts]
            pick = next((j for j, (v, _) in enumerate(pairs) if v.passed), 0)  # first visible pass, else the first sample
            ctx.write({"id": s["id"], "variant": "resample", "type": "resample", "samples": list(g.texts),
                       "n_tokens": sum(map(len, g.token_ids)), "visible_passed": [v.passed for v, _ in pairs],
                       "hidden_passed": [h.passed for _, h in pairs], "submitted": pick, "passed": pairs[pick][1].passed})

    @classmethod
    def sample_scores(cls, summary, records):
        finals: dict[str, dict] = {}
        for r in records:
            if r.get("type") == "turn" and r["turn"] >= finals.get(r["id"], {}).get("turn", 0):
                finals[r["id"]] = r
        return {str(pid): float(f["hidden"]["passed"]) for pid, f in finals.items()}

    def summarize(self, records: list[dict]) -> dict:
        c = self.config
        episodes: dict[str, list[dict]] = {}
        for r in records:
            if r.get("type") == "turn":
                episodes.setdefault(r["id"], []).append(r)
        for turns in episodes.values():
            turns.sort(key=lambda r: r["turn"])
        finals = {pid: turns[-1] for pid, turns in episodes.items()}
        solved = [float(f["hidden"]["passed"]) for f in finals.values()]
        by_turn = {}
        for t in range(1, c.max_turns + 1):
            # the candidate the agent holds after t turns (an episode that stopped earlier keeps its last one)
            vals = [float(next((r for r in reversed(turns) if r["turn"] <= t))["hidden"]["passed"]) for turns in episodes.values()]
            by_turn[str(t)] = {"pass@1": mean_metric(vals, proportion=True)}
        n_solved = int(sum(solved))
        total_tokens = sum(r["n_tokens"] for turns in episodes.values() for r in turns)
        vis = [f for f in finals.values() if f["visible"]["passed"]]
        resample = [float(r["passed"]) for r in records if r.get("type") == "resample"]
        exits = {}
        for f in finals.values():
            exits[f["status"]] = exits.get(f["status"], 0) + 1
        metrics = {
            "pass@1": by_turn["1"]["pass@1"],
            "solved_rate": mean_metric(solved, proportion=True),
            "mean_turns": mean_metric([f["turn"] for f in finals.values()]),
            "tokens_per_solved": {"value": total_tokens / n_solved if n_solved else float("nan"), "n": n_solved},
            "resample_baseline_pass": mean_metric(resample, proportion=True),
            "visible_pass_hidden_fail": mean_metric([float(not f["hidden"]["passed"]) for f in vis], proportion=True),
        }
        return {"metrics": metrics, "breakdown": {"turn": by_turn}, "exit_status": exits}

    # --- presentation (evalkit report) -----------------------------------------------------------
    title = "code agent"
    about = ("A code agent that sees failing-test feedback: pass@1 on hidden tests after each turn, against fresh samples "
             "with the same budget and no feedback.")
    figures = (("agent_turns", "agent pass@1 on hidden tests by turn, and the equal-budget resampling baseline"),)
    report_order = 40

    @classmethod
    def report_section(cls, src) -> str:
        from ..report.html import esc, fmt, grid_table

        ex = src.get("exit_status", dict, {}) or {}
        return ("<h4>how episodes ended</h4>" + grid_table(["exit status", "episodes"], [[esc(s), esc(fmt(c))] for s, c in ex.items()], {1})
                if ex else "")

    @staticmethod
    def plot(summary, records, out) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        turns = sorted(summary["breakdown"]["turn"].items(), key=lambda kv: int(kv[0]))
        x = [int(t) for t, _ in turns]
        y = [v["pass@1"]["value"] for _, v in turns]
        fig, ax = plt.subplots(figsize=(4.6, 3.2))
        ax.plot(x, y, "o-", label="agent with test feedback")
        base = summary["metrics"]["resample_baseline_pass"]["value"]
        if base is not None:
            ax.axhline(base, ls="--", color="gray", label=f"{x[-1]} fresh samples, no feedback")
        ax.set_xlabel("turn")
        ax.set_ylabel("pass@1 on hidden tests")
        ax.set_xticks(x)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7)
        ax.set_title(f"{summary['task']} · {summary['model']}", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / "agent_turns.png", dpi=110)
        plt.close(fig)
