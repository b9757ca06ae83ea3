"""The leaderboard JSON (`evalkit.leaderboard/v2`): a pure function of stored result files.

Sources (files, directories searched recursively, or globs):
- evalkit `summary.json` of a model's run: one benchmark per task, valued by the run's primary metric
  (`summary.primary_metric`) with its direction (`higher_is_better`, evalkit.metrics);
- lm-eval `results_*.json` files: one benchmark per task, valued by the first metric every model reports
  (direction from the file's own `higher_is_better`);
- rankings (a `tournament` run, `evalkit rank`'s `ranking.json`, an `evalkit swiss` CSD summary): kept as
  given under `rankings`; with no benchmark at all, the first one makes `entries` (as v1 did).

Models are ranked by their mean win rate over the benchmarks (per benchmark, the share of other models
they beat, ties half; HELM's aggregate), which compares a lower-is-better POSIX with a higher-is-better
accuracy without ever averaging the two. Its 95% CI comes from a paired bootstrap: each benchmark's
samples are resampled once per replicate and the same draw scores every model (the kinds give per-sample
scores, `TaskKind.sample_scores`); a benchmark known only by value and stderr (lm-eval files) draws
normally around its value instead, one without either stays fixed. `stability` recomputes the ranking
under each intent-preserving prompt variant (POSIX perturbations, FormatSpread formats, code mutations).
One checkpoint is one model whichever file names it: matched by weights hash where known, else by path.
`created` is the latest end time recorded in the sources, so the same files always give the same bytes.
"""


from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np

from .version import __version__
from .errors import EvalkitError
from .metrics import Z95, metric_info, percentile_interval, resamples
from .seeding import rng
from .store import find_files, read_json

SCHEMA = "evalkit.leaderboard/v2"
SCHEMA_V1 = "evalkit.leaderboard/v1"
N_BOOT = 1000
MIN_SAMPLES = 30  # fewer samples behind a rank than this: a warning
JUDGE_KEYS = ("accuracy", "macro_f1", "cohen_kappa", "position_consistency", "agreement_with_tie", "agreement_without_tie",
              "parse_failure_rate")


def schema(version: int = 2) -> dict:
    """The leaderboard's JSON Schema (v2, what export writes; v1 for older files)."""
    return json.loads(files("evalkit").joinpath(f"schemas/leaderboard.v{version}.json").read_text())


def _read(path: Path) -> dict:
    return read_json(path, "a result file")


def _ended(path: Path) -> str | None:
    manifest = path.parent / "manifest.json"
    if manifest.exists():
        try:
            return json.loads(manifest.read_text()).get("ended")
        except json.JSONDecodeError:
            return None
    return None


def _num(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None




def _entries_from_ranking(path: Path, doc: dict) -> tuple[list[dict], dict]:
    kind = doc.get("kind")
    if kind == "csd":  # evalkit swiss: rank by E[S] at the strictest elimination setting
        keys = sorted(doc["entries"][0]["E_S"], key=int) if doc.get("entries") else []
        if not keys:
            raise EvalkitError(f"{path}: field 'entries': a CSD summary without entries")
        top = keys[-1]
        rows = []
        for e in doc["entries"]:
            es, se = e["E_S"][top], (e.get("mc_stderr") or {}).get(top) or 0.0
            rows.append({"model": e["model"], "score": es, "ci_low": es - 1.96 * se, "ci_high": es + 1.96 * se,
                         "extras": {**{f"E_S_T{k}": e["E_S"][k] for k in keys}, "fsa_drop": e.get("fsa_drop")}})
        method = {"type": "swiss_csd", "params": {"elim": [int(k) for k in keys], "n_runs": doc.get("n_runs"),
                  "rounds": doc.get("rounds"), "tiebreak": doc.get("tiebreak")}, "seed": doc.get("seed")}
        return _ranked(rows), method
    entries = doc.get("entries")
    if not isinstance(entries, list) or not entries:
        raise EvalkitError(f"{path}: field 'entries': no ranked entries")
    rows = []
    for i, e in enumerate(entries):
        for key in ("model", "score"):
            if key not in e:
                raise EvalkitError(f"{path}: field 'entries.{i}.{key}': required")
        extras = {k: v for k, v in e.items() if k not in ("model", "rank", "rank_ub", "score", "ci_low", "ci_high", "n_battles",
                                                          "wins", "losses", "ties")}
        rows.append({**{k: e.get(k) for k in ("model", "score", "ci_low", "ci_high", "n_battles", "wins", "losses", "ties")},
                     "extras": extras})
    m = doc.get("method") or {}
    method = {"type": m.get("type", "bt"), "params": {k: v for k, v in m.items() if k not in ("type", "seed", "n_bootstrap")},
              "seed": m.get("seed", doc.get("seed")), "n_bootstrap": m.get("n_bootstrap")}
    return _ranked(rows), method


def _ranked(rows: list[dict]) -> list[dict]:
    rows = sorted(rows, key=lambda r: (-r["score"], r["model"]))
    for r in rows:
        r["rank"] = 1 + sum(o["score"] > r["score"] for o in rows)
        if r.get("ci_low") is not None and r.get("ci_high") is not None:
            r["rank_ub"] = 1 + sum(o.get("ci_low") is not None and o["ci_low"] > r["ci_high"] for o in rows)
        else:
            r["rank_ub"] = r["rank"]
        r["ci_level"] = 0.95 if r.get("ci_low") is not None else None
    return rows


@dataclass
class _Result:
    """One model's value on one benchmark (a run's primary metric, or an lm-eval task's metric)."""

    task: str
    model: str  # the model's identity key (see _Models)
    metric: str
    higher_is_better: bool | None
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    stderr: float | None = None
    n: int | None = None
    samples: dict[str, float] | None = None  # per-sample scores whose mean is `value` (paired bootstrap)
    variants: dict | None = None  # TaskKind.variant_scores (stability)
    kind: str | None = None
    metrics: dict = field(default_factory=dict)  # the run's other metrics (per-model stability columns)
    ended: str | None = None
    path: Path | None = None


class _Models:
    """One checkpoint is one model whichever file names it: identities (name, resolved path, weights
    hash) are merged when their weights hash, or else their path, matches; the display name is
    evalkit's name where an evalkit run knows the model."""

    def __init__(self):
        self.groups: list[dict] = []

    def key(self, name: str, path: str | None = None, weights: str | None = None, evalkit: bool = True) -> int:
        path = str(Path(path).resolve()) if path and Path(path).exists() else None
        for i, g in enumerate(self.groups):
            if (weights and weights in g["weights"]) or (path and path in g["paths"]) or (not weights and not path and name in g["names"]):
                break
        else:
            self.groups.append({"names": [], "paths": set(), "weights": set(), "display": None})
            i = len(self.groups) - 1
        g = self.groups[i]
        g["names"] += [name] if name not in g["names"] else []
        g["paths"] |= {path} if path else set()
        g["weights"] |= {weights} if weights else set()
        if evalkit and g["display"] is None:
            g["display"] = name
        return i

    def name(self, key: int) -> str:
        from .models import display_name

        g = self.groups[key]
        return g["display"] or display_name(g["names"][0])  # a path named only by lm-eval: its folder name, the path an alias

    def aliases(self, key: int) -> list[str]:
        return [n for n in self.groups[key]["names"] if n != self.name(key)]


def _lm_eval_results(path: Path, doc: dict, models: _Models) -> list[_Result]:
    """One candidate result per (task, metric) of an lm-eval file (evalkit.results.read_lm_eval), metrics
    in the file's order; the leaderboard keeps, per task, the first metric every model reports."""
    from .models import weights_hash
    from .results import read_lm_eval

    res = read_lm_eval(path, doc)
    weights = None
    if res.local:
        try:
            weights = weights_hash(Path(res.local))
        except EvalkitError:
            pass
    key = models.key(res.model, res.local, weights, evalkit=False)
    return [_Result(task, key, m.metric if m.filter == "none" else m.key, m.higher_is_better, m.value, stderr=m.stderr,
                    n=res.n[task], path=path)
            for task, metrics in res.tasks.items() for m in metrics if m.value is not None]


def _evalkit_result(path: Path, doc: dict, models: _Models) -> _Result:
    from .kinds import kind_class

    model, task = doc.get("model"), doc.get("task")
    if not model or not task:
        raise EvalkitError(f"{path}: field 'model': a summary needs model and task")
    manifest = {}
    if (path.parent / "manifest.json").exists():
        try:
            manifest = json.loads((path.parent / "manifest.json").read_text()).get("model") or {}
        except json.JSONDecodeError:
            pass
    manifest = manifest if isinstance(manifest, dict) else {}
    key = models.key(model, manifest.get("path"), manifest.get("weights_hash"))
    metrics = doc.get("metrics") or {}
    try:
        kind = kind_class(doc.get("kind", ""))
    except EvalkitError:  # a plugin kind that is not installed here: its summary still has metrics
        kind = None
    primary = doc.get("primary_metric") or (kind.primary_metric if kind and isinstance(kind.primary_metric, str) else None)
    if primary not in metrics:
        primary = next(iter(metrics), None)
    m = metrics.get(primary) or {}
    hib = m["higher_is_better"] if "higher_is_better" in m else metric_info(primary or "").higher_is_better
    samples = variants = None
    if kind is not None and primary == doc.get("primary_metric", primary):
        records = path.parent / "records.jsonl"
        if records.exists():
            from .readers import iter_jsonl

            recs = {}  # by key, last wins: a directory with duplicated lines is never double counted
            for _, _, r in iter_jsonl(records):
                recs[f"{r.get('id')}::{r.get('variant', '')}"] = r
            try:
                samples = kind.sample_scores({**doc, "primary_metric": primary}, list(recs.values()))
            except (KeyError, TypeError, ValueError):
                samples = None  # records of another evalkit version: the summary's own interval stands
        variants = kind.variant_scores(doc)
    return _Result(task, key, primary or "", hib, _num(m.get("value")), _num(m.get("ci_low")), _num(m.get("ci_high")),
                   _num(m.get("stderr")), m.get("n"), samples, variants, doc.get("kind"), metrics, _ended(path), path)


def _pick(results: list[_Result], warnings: list[str]) -> dict[str, dict[int, _Result]]:
    """Per task one metric (the one most models report; first in file order on a tie) and per model one
    result (the largest n, then the latest); what is left out is said in a warning."""
    by_task: dict[str, list[_Result]] = {}
    for r in results:
        by_task.setdefault(r.task, []).append(r)
    out = {}
    for task, rs in by_task.items():
        order = list(dict.fromkeys(r.metric for r in rs))
        count = {m: len({r.model for r in rs if r.metric == m}) for m in order}
        metric = max(order, key=lambda m: (count[m], -order.index(m)))
        chosen: dict[int, _Result] = {}
        for r in rs:
            if r.metric != metric:
                continue
            old = chosen.get(r.model)
            if old is not None:
                keep = max((old, r), key=lambda x: (x.n or 0, x.ended or ""))
                warnings.append(f"{task}: two results for one model ({old.path}, {r.path}); using {keep.path} (n={keep.n})")
                r = keep
            chosen[r.model] = r
        missing = {r.model for r in rs} - set(chosen)
        if missing:
            warnings.append(f"{task}: {len(missing)} model(s) report no '{metric}'; the column leaves them out")
        out[task] = chosen
    return out


def _benchmark_draws(task: str, rs: dict[int, _Result], keys: list[int], n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, models) bootstrap replicates of each model's value on one benchmark. Models with
    per-sample scores are resampled together: one draw of the shared samples per replicate, applied to
    every model (paired); others draw normally from their stderr (or, without one, from their 95% CI's
    half-width / 1.96: conservative where that interval is, e.g. FormatSpread's simultaneous band), and
    stay fixed with neither."""
    g = rng(seed, "leaderboard", task)
    out = np.empty((n_boot, len(keys)))
    with_samples = [k for k in keys if rs[k].samples]
    if with_samples:
        common = sorted(set.intersection(*(set(rs[k].samples) for k in with_samples)))
        if common:
            S = np.array([[rs[k].samples[s] for s in common] for k in with_samples])  # (models, samples)
            idx = resamples(len(common), n_boot, g)
            draws = S[:, idx].mean(axis=2).T
            for j, k in enumerate(with_samples):
                out[:, keys.index(k)] = draws[:, j]
        else:
            with_samples = []
    for i, k in enumerate(keys):
        if k in with_samples:
            continue
        r = rs[k]
        se = r.stderr or ((r.ci_high - r.ci_low) / (2 * Z95) if r.ci_low is not None and r.ci_high is not None else None)
        out[:, i] = r.value + (se * g.standard_normal(n_boot) if se else 0.0)
    return out


def _win_rates(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """(..., models) values -> (..., models) share of the other models each one beats (ties half)."""
    v = values if higher_is_better else -values
    beats = (v[..., :, None] > v[..., None, :]) + 0.5 * (v[..., :, None] == v[..., None, :])
    m = v.shape[-1]
    return (beats.sum(-1) - 0.5) / (m - 1)  # the diagonal is a tie with itself: remove its 0.5


def _aggregate(benches: dict[str, dict[int, _Result]], keys: list[int], n_boot: int, seed: int) -> tuple[dict, list[str]]:
    """Mean win rate over the ranked benchmarks (a direction and two or more models with values), with
    percentile 95% CIs from the paired bootstrap."""
    ranked = [t for t, rs in benches.items()
              if rs and next(iter(rs.values())).higher_is_better is not None and sum(r.value is not None for r in rs.values()) >= 2]
    total, count = np.zeros(len(keys)), np.zeros(len(keys))
    boot_total, boot_count = np.zeros((n_boot, len(keys))), np.zeros(len(keys))
    for t in ranked:
        rs = {k: r for k, r in benches[t].items() if r.value is not None}
        ks = sorted(rs)
        cols = [keys.index(k) for k in ks]
        hib = rs[ks[0]].higher_is_better
        total[cols] += _win_rates(np.array([rs[k].value for k in ks]), hib)
        count[cols] += 1
        boot_total[:, cols] += _win_rates(_benchmark_draws(t, rs, ks, n_boot, seed), hib)
        boot_count[cols] += 1
    scores = {}
    for i, k in enumerate(keys):
        if count[i]:
            reps = boot_total[:, i] / boot_count[i]
            scores[k] = (float(total[i] / count[i]), *percentile_interval(reps), int(count[i]))
    return scores, ranked


def _stability(benches: dict[str, dict[int, _Result]], models: _Models) -> dict:
    """Rank stability per task with variants, and each model's sensitivity columns."""
    from scipy.stats import kendalltau

    tasks = {}
    for t, rs in sorted(benches.items()):
        vs = {k: r.variants for k, r in rs.items() if r.variants and r.variants.get("default") is not None}
        if len(vs) < 2:
            continue
        names = sorted(set.intersection(*(set(v["variants"]) for v in vs.values())))
        if not names:
            continue
        ks = sorted(vs)
        metric = vs[ks[0]]["metric"]
        sign = -1.0 if metric_info(metric).higher_is_better is False else 1.0
        default = sign * np.array([vs[k]["default"] for k in ks], dtype=float)
        V = sign * np.array([[vs[k]["variants"][n] for k in ks] for n in names], dtype=float)  # (variants, models)
        taus = np.array([kendalltau(default, row).statistic if np.ptp(row) and np.ptp(default) else np.nan for row in V])
        finite = taus[np.isfinite(taus)]
        flips = []
        for i in range(len(ks)):
            for j in range(i + 1, len(ks)):
                d = np.sign(default[i] - default[j])
                share = float(np.mean(np.sign(V[:, i] - V[:, j]) == -d)) if d else None
                flips.append({"a": models.name(ks[i]), "b": models.name(ks[j]), "flip_share": share})
        tops = [i for i in range(len(ks)) if default[i] == default.max()]
        tasks[t] = {
            "kind": rs[ks[0]].kind, "metric": metric, "higher_is_better": sign > 0, "n_variants": len(names),
            "n_models": len(ks), "default_ranking": [models.name(ks[i]) for i in np.argsort(-default, kind="stable")],
            "top_model": [models.name(ks[i]) for i in tops],
            # Kendall's tau-b between the default-prompt ranking and each variant's; undefined where either is all ties
            "kendall_tau_mean": float(finite.mean()) if finite.size else None,
            "kendall_tau_min": float(finite.min()) if finite.size else None,
            "n_tau_undefined": int(np.isnan(taus).sum()),
            # share of variants in which a pair's order strictly reverses (ties are no flip; a pair tied by default has none)
            "pair_flips": flips,
            # share of variants under which a default top model is still (jointly) on top
            "top_retention": float(np.mean([any(row[i] == row.max() for i in tops) for row in V])),
        }
    per_model: dict[str, dict] = {}
    for t, rs in benches.items():
        for k, r in rs.items():
            cols = per_model.setdefault(models.name(k), {"posix": {}, "format_spread": {}, "worst_case_accuracy": {}})
            val = lambda name: _num((r.metrics.get(name) or {}).get("value"))  # noqa: E731
            if r.kind == "posix" and val("posix") is not None:
                cols["posix"][t] = val("posix")
            if r.kind == "formatspread" and val("spread") is not None:
                cols["format_spread"][t] = val("spread")
            for name in ("acc_min", "accuracy_worst"):  # worst format / worst variant per instance (HELM)
                if val(name) is not None:
                    cols["worst_case_accuracy"][t] = val(name)
    return {"tasks": tasks, "per_model": {m: c for m, c in sorted(per_model.items()) if any(c.values())}}


def _ranking_entry(path: Path, doc: dict) -> dict:
    entries, method = _entries_from_ranking(path, doc)
    pc = ((doc.get("metrics") or {}).get("position_consistency") or {}).get("value")
    degenerate = doc.get("degenerate_resamples", (doc.get("method") or {}).get("degenerate_resamples"))
    return {"source": str(path), "kind": doc.get("kind"), "task": doc.get("task"), "method": method, "judge": doc.get("judge"),
            "position_consistency": _num(pc), "degenerate_resamples": _num(degenerate), "entries": [_entry(e) for e in entries]}


def _entry(e: dict) -> dict:
    battles = {k: e[k] for k in ("n_battles", "wins", "losses", "ties") if e.get(k) is not None}  # rankings from battles only
    return {k: e.get(k) for k in ("model", "rank", "rank_ub", "score", "ci_low", "ci_high", "ci_level")} | battles | {
        "extras": e.get("extras") or {}}


def _warnings(entries: list[dict], benches: dict, ranked: list[str], rankings: list[dict], judge_quality: dict | None,
              models: _Models) -> list[str]:
    out = []
    if judge_quality is not None:
        kappa, pc = judge_quality.get("cohen_kappa"), judge_quality.get("position_consistency")
        if (kappa is not None and kappa <= 0) or (pc is not None and pc < 0.5):
            out.append(f"the judge is no better than chance (kappa {_fmt(kappa)}, position consistency {_fmt(pc)}): rankings it "
                       "judges separate nothing")
    for r in rankings:
        pc, dg, es = r["position_consistency"], r["degenerate_resamples"], r["entries"]
        name = r["task"] or r["source"]
        if pc is not None and pc < 0.5:
            out.append(f"ranking {name}: its judge kept its verdict in only {pc:.0%} of swapped orders (position-locked): "
                       "the ranking is the judge's slot preference")
        if dg:
            out.append(f"ranking {name}: {dg:.0%} of bootstrap resamples had no finite estimate (degenerate); its CIs lean on the prior")
        if len(es) > 1 and len({e["rank_ub"] for e in es}) == 1:
            out.append(f"ranking {name}: no pair of players is separated (every rank upper bound is {es[0]['rank_ub']})")
    scored = [e for e in entries if e["score"] is not None]
    if len(scored) > 1 and len({e["rank_ub"] for e in scored}) == 1:
        out.append(f"no pair of models is separated: every rank upper bound is {scored[0]['rank_ub']} (95% CIs overlap)")
    for t in ranked:
        small = {models.name(k): r.n for k, r in benches[t].items() if r.n is not None and r.n < MIN_SAMPLES}
        if small:
            out.append(f"{t}: fewer than {MIN_SAMPLES} samples behind the rank (" + ", ".join(f"{m} n={n}" for m, n in small.items()) + ")")
        sets = [frozenset(r.samples) for r in benches[t].values() if r.samples]
        if len(set(sets)) > 1:
            out.append(f"{t}: the models were scored on different samples; the paired bootstrap uses the "
                       f"{len(frozenset.intersection(*sets))} they share")
    return out


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def build_leaderboard(paths, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    from .results import is_lm_eval

    models = _Models()
    results: list[_Result] = []
    rankings: list[dict] = []
    judge, judge_quality = None, None
    ended: list[str] = []
    sources = find_files(paths, ("summary.json", "ranking.json", "results_*.json"))
    if not sources:
        raise EvalkitError(f"{' '.join(map(str, paths))}: no summary.json, ranking.json or results_*.json found")
    for path in sources:
        doc = _read(path)
        if is_lm_eval(doc):
            results += _lm_eval_results(path, doc, models)
            if isinstance(doc.get("date"), (int, float)):
                from datetime import datetime, timezone

                ended.append(datetime.fromtimestamp(doc["date"], timezone.utc).isoformat(timespec="seconds"))
            continue
        if doc.get("schema") not in ("evalkit.summary/v1", "evalkit.ranking/v1"):
            raise EvalkitError(f"{path}: field 'schema': not an evalkit summary, ranking or lm-eval results file")
        if (e := _ended(path)) is not None:
            ended.append(e)
        kind = doc.get("kind")
        if kind in ("tournament", "csd", "ranking") or doc.get("schema") == "evalkit.ranking/v1":
            rankings.append(_ranking_entry(path, doc))
            judge = judge or doc.get("judge")
            continue
        if kind == "sweep":  # a tuning sweep ranks its own trials (its report section), not the model
            continue
        results.append(_evalkit_result(path, doc, models))
        if kind == "judge" and judge_quality is None:
            judge_quality = {k: doc["metrics"].get(k, {}).get("value") for k in JUDGE_KEYS}
            judge = judge or {"model": doc.get("model"), "prompt_id": doc.get("judge", {}).get("template"),
                              "prompt_sha": doc.get("judge", {}).get("template_sha256"),
                              "position_protocol": doc.get("judge", {}).get("position_protocol"),
                              "tie_rule": doc.get("judge", {}).get("combine")}
    warnings: list[str] = []
    benches = _pick(results, warnings)
    keys = sorted({k for rs in benches.values() for k in rs}, key=models.name)
    benchmarks = [{"name": t, "metric": next(iter(rs.values())).metric, "higher_is_better": next(iter(rs.values())).higher_is_better,
                   "kind": next(iter(rs.values())).kind, "n_models": len(rs)} for t, rs in sorted(benches.items()) if rs]
    if keys:
        scores, ranked = _aggregate(benches, keys, n_boot, seed)
        rows = [{"model": models.name(k), "score": scores[k][0], "ci_low": scores[k][1], "ci_high": scores[k][2],
                 "extras": {"n_benchmarks_ranked": scores[k][3]}, "key": k} for k in keys if k in scores]
        entries = _ranked(rows) + [{"model": models.name(k), "rank": len(rows) + 1, "rank_ub": len(rows) + 1, "score": None,
                                    "ci_low": None, "ci_high": None, "key": k} for k in keys if k not in scores]
        for e in entries:
            k = e.pop("key")
            e["per_benchmark"] = {t: {"value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": r.n,
                                      **({"stderr": r.stderr} if r.stderr is not None else {})}
                                  for t, rs in sorted(benches.items()) if (r := rs.get(k)) is not None}
            if models.aliases(k):
                e["aliases"] = models.aliases(k)
        method = {"type": "mean_win_rate", "params": {
            "benchmarks": ranked, "aggregate": "mean over benchmarks of the share of other models beaten (ties half)",
            "ci": "percentile 95% CI from a paired bootstrap over each benchmark's samples (the same draw for every model); "
                  "normal draws from the stderr (else the 95% CI's half-width / 1.96) where no per-sample scores are known"}, "seed": seed, "n_bootstrap": n_boot}
    elif rankings:  # rankings only: the first one makes the entries, as in v1
        ranked, entries, method = [], [dict(e, per_benchmark={}) for e in rankings[0]["entries"]], rankings[0]["method"]
    else:
        raise EvalkitError(f"{' '.join(map(str, paths))}: no benchmark or ranking in the results")
    warnings = _warnings(entries, benches, ranked, rankings, judge_quality, models) + warnings
    board = {
        "schema": SCHEMA,
        "created": max(ended) if ended else None,
        "evalkit_version": __version__,
        "method": method,
        "benchmarks": benchmarks,
        "entries": [_entry(e) | {k: e[k] for k in ("per_benchmark", "aliases") if k in e} for e in entries],
        "stability": _stability(benches, models),
        "warnings": warnings,
        "rankings": rankings,
        "judge": judge,
        "judge_quality": judge_quality,
        "sources": [str(p) for p in sources],
    }
    validate_leaderboard(board)
    return board


def validate_leaderboard(board: dict) -> None:
    import jsonschema

    try:
        jsonschema.validate(board, schema(1 if board.get("schema") == SCHEMA_V1 else 2))
    except jsonschema.ValidationError as e:
        where = ".".join(str(x) for x in e.absolute_path) or "(top level)"
        raise EvalkitError(f"leaderboard: field '{where}': {e.message}") from None


def print_leaderboard(board: dict, console=None) -> None:
    """The leaderboard as a terminal table (rank, score with its CI, each benchmark's value with ↑/↓), the
    stability block and the warnings: what `evalkit export leaderboard` and the quickstart print."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    fmt = lambda x: "" if x is None else f"{x:.3f}"  # noqa: E731
    entries = board["entries"]
    # benchmarks are rows and models columns: a suite has many more of the former, and 80 columns stay readable
    table = Table(title=f"leaderboard · {board['method']['type']} · {len(entries)} models")
    table.add_column("", overflow="fold")
    for e in entries:
        table.add_column(e["model"], overflow="fold")
    table.add_row("rank (upper bound)", *(f"{e['rank']} ({e['rank_ub']})" for e in entries))
    table.add_row("score [95% CI]", *(fmt(e.get("score")) + (f" [{fmt(e['ci_low'])}, {fmt(e['ci_high'])}]" if e.get("ci_low") is not None
                                                             else "") for e in entries), end_section=True)
    for b in board.get("benchmarks") or []:
        arrow = {True: "↑", False: "↓"}.get(b["higher_is_better"], "")
        table.add_row(f"{b['name']} {arrow} {b['metric']}",
                      *(fmt((e.get("per_benchmark") or {}).get(b["name"], {}).get("value")) for e in entries))
    console.print(table)
    for task, s in (board.get("stability") or {}).get("tasks", {}).items():
        console.print(f"stability · {task}: {s['n_variants']} variants, Kendall tau mean {fmt(s['kendall_tau_mean']) or 'undefined'} "
                      f"(min {fmt(s['kendall_tau_min']) or 'undefined'}), top model stays on top in {s['top_retention']:.0%}",
                      highlight=False, soft_wrap=True)
    for w in board.get("warnings") or []:
        console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
