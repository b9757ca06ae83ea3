"""Judge quality: the run's model judges labelled pairs (both slot orders by default)."""

from __future__ import annotations

from collections import defaultdict

from ..errors import EvalkitError
from ..judging import (LABELS, Combine, JudgePair, Protocol, VerdictMode, combine_games, game_request, label_requests,
                       load_template, orders, read_game, read_label_game)
from ..judging.data import DataFormat, load_pairs
from ..judging.quality import CLASSES, confusion, judge_quality
from ..requests import GenerationConfig
from ..context import RunContext
from ..kind import TaskConfig, TaskKind


class JudgeConfig(TaskConfig):
    template: str = "mt_bench"  # an id in judges/ or a path
    protocol: Protocol = "both"
    combine: Combine = "conservative"
    max_tokens: int = 512
    verdict: VerdictMode = "generate"  # or "logprob": the most likely verdict label (never unparsed)
    data_format: DataFormat = "auto"


class JudgeKind(TaskKind):
    Config = JudgeConfig
    primary_metric = "accuracy"

    def __init__(self, spec, seed: int = 0):
        super().__init__(spec, seed)
        try:
            self.template = load_template(self.config.template)
        except EvalkitError as e:  # name the task file: the template's own error does not
            raise EvalkitError(f"{spec.path}: field 'template': {e}") from None

    def samples(self) -> list[dict]:
        return load_pairs(self.spec.data_path, self.config.data_format)

    def run(self, samples, ctx: RunContext) -> None:
        c = self.config
        gen = GenerationConfig(max_tokens=c.max_tokens, temperature=0.0, seed=self.seed)
        units = []
        for s in samples:
            if str(s["id"]) in ctx.done:
                continue
            pair = JudgePair(s["instruction"], s["response_a"], s["response_b"], s.get("input", ""), str(s["id"]))
            os_ = orders(c.protocol, self.seed, pair.id)
            if c.verdict == "logprob":
                reqs = [r for o in os_ for r in label_requests(self.template, pair, o, c.prompt_format, ctx.backend.render_chat)]
            else:
                reqs = [game_request(self.template, pair, o, gen, c.prompt_format) for o in os_]
            units.append(((s, os_), reqs))

        def finish(unit, results):
            s, os_ = unit
            if c.verdict == "logprob":
                n = len(LABELS[self.template.format])
                games = [read_label_game(self.template, o, [r.logprob for r in results[k * n:(k + 1) * n]],
                                         [r.n_tokens for r in results[k * n:(k + 1) * n]]) for k, o in enumerate(os_)]
                n_tokens = [0] * len(os_)
            else:
                games = [read_game(self.template, o, g.texts[0]) for o, g in zip(os_, results)]
                n_tokens = [len(r.token_ids[0]) for r in results]
            v = combine_games(games, c.combine)
            ctx.write({
                "id": str(s["id"]),
                "family": s.get("family", ""),
                "label": s["label"],
                "coerced": s.get("coerced", []),  # source fields that were JSON scalars, read as text
                "verdict": v.winner,
                "score": v.score,
                "consistent": v.consistent,
                "games": [{"order": g.order, "verdict": g.verdict, "strength": g.strength, "p_a": g.p_a, "output": g.raw, "n_tokens": t}
                          for g, t in zip(games, n_tokens)],
            })

        ctx.stage("judge", "loglikelihood" if c.verdict == "logprob" else "generate", units, finish)

    def _quality(self, records: list[dict]) -> dict:
        games = [g for r in records for g in r["games"]]
        return judge_quality([r["label"] for r in records], [r["verdict"] for r in records], [r["consistent"] for r in records],
                             n_games=len(games), n_unparsed_games=sum(g["verdict"] is None for g in games), seed=self.seed)

    @classmethod
    def sample_scores(cls, summary, records):
        return {str(r["id"]): float(r["verdict"] == r["label"]) for r in records}

    def summarize(self, records: list[dict]) -> dict:
        by_family = defaultdict(list)
        for r in records:
            by_family[r["family"]].append(r)
        m = confusion([r["label"] for r in records], [r["verdict"] for r in records])
        return {
            "metrics": self._quality(records),
            "breakdown": {"family": {f: self._quality(rs) for f, rs in sorted(by_family.items())}} if len(by_family) > 1 else {},
            "judge": {"template": self.template.id, "template_sha256": self.template.sha256, "format": self.template.format,
                      "position_protocol": self.config.protocol, "combine": self.config.combine, "verdict": self.config.verdict},
            # rows: gold A, B, tie; columns: verdict A, B, tie, unparsed
            "confusion": {"rows": list(CLASSES), "columns": [*CLASSES, "unparsed"], "counts": m[:3].tolist()},
            "data": {"pairs": len(records), "pairs_with_coerced_values": sum(bool(r.get("coerced")) for r in records),
                     "coerced_values": sum(len(r.get("coerced", [])) for r in records)},
        }

    # --- presentation (evalkit report) -----------------------------------------------------------
    title = "judge quality"
    about = "The model as a pairwise judge on labelled pairs, both slot orders: agreement with the labels and with itself."
    figures = (("confusion", "judge confusion matrix: gold label × verdict"),)
    report_order = 50

    @classmethod
    def report_section(cls, src) -> str:
        """The judge's settings and its confusion matrix."""
        from ..report.html import compact, esc, fmt, grid_table, kv_table, short_hash

        j = src.get("judge", dict, {}) or {}
        out = kv_table([(key, esc(compact(v))) for key, v in j.items() if key != "template_sha256"]
                       + [("template sha256", short_hash(j.get("template_sha256")))])
        if src.get("confusion", dict, None):
            cols, rows = src.get("confusion.columns", list), src.get("confusion.rows", list)
            out += "<h4>confusion matrix (rows: gold label, columns: judge verdict)</h4>" + grid_table(
                ["gold \\ verdict", *map(str, cols)],
                [[f"<b>{esc(r)}</b>", *(esc(fmt(c)) for c in row)] for r, row in zip(rows, src.get("confusion.counts", list))],
                numeric=set(range(1, len(cols) + 1)))
        return out

    @staticmethod
    def plot(summary, records, out) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        conf = summary["confusion"]
        fig, ax = plt.subplots(figsize=(4.2, 3.4))
        ax.imshow(conf["counts"], cmap="Blues")
        for i, row in enumerate(conf["counts"]):
            for j, v in enumerate(row):
                ax.text(j, i, str(v), ha="center", va="center")
        ax.set_xticks(range(4), conf["columns"])
        ax.set_yticks(range(3), conf["rows"])
        ax.set_xlabel("judge verdict")
        ax.set_ylabel("gold label")
        ax.set_title(f"{summary['judge']['template']} judge · {summary['model']}", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / "confusion.png", dpi=110)
        plt.close(fig)
