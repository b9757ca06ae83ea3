"""The `evalkit` command line. Exit codes: 0 success, 1 internal failure, 2 bad input."""

from __future__ import annotations

import json
import sys
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import EvalkitError
from .models import DEFAULT_MODEL
from .registry import BACKENDS

app = typer.Typer(add_completion=False, no_args_is_help=True, help="LLM evaluation that says how far a score can be trusted.")
out = Console()
JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON.")

# typer prints a `<bool>` value placeholder after flags in --help; a flag takes no value
_display_type = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = lambda self, ctx: None if self.is_flag else _display_type(self, ctx)


def _print_version(value: bool) -> None:
    if value:
        from .version import __version__

        print(f"evalkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")):
    pass


@app.command()
def models(as_json: bool = JSON_OPT):
    """List known models (default marked) and where each resolves to."""
    from .models import list_models

    rows = list_models()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("model", "description", "path")
    for r in rows:
        table.add_row(r["name"] + (" (default)" if r["default"] else ""), r["description"], r["path"])
    out.print(table)
    out.print("Also: any local Hugging Face checkpoint directory, or an org/name hub id.")


@app.command()
def tasks(include: Optional[List[str]] = typer.Option(None, "--include", help="Extra task directory."), as_json: bool = JSON_OPT):
    """List task definitions found in tasks/ (and --include directories)."""
    from .tasks import find_tasks, load_task

    rows = []
    for name, path in find_tasks(include).items():
        spec = load_task(str(path))
        rows.append({"task": name, "kind": spec.config.kind, "path": str(path), "description": spec.config.description})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    # names and kinds are never cut: the description wraps, the path below it folds
    from rich.text import Text

    table = Table(show_lines=True)
    table.add_column("task", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("description · path", overflow="fold")
    for r in rows:
        table.add_row(r["task"], r["kind"], Text(r["description"] + "\n") + Text(r["path"], style="dim"))
    out.print(table)


def _backend_options(backend: str, items: list[str] | None) -> dict:
    import inspect
    import typing

    import pydantic

    from .backends import backend_class, resolve_backend
    from .tasks import parse_overrides

    opts = parse_overrides(items, "-B")
    backend = resolve_backend(backend)
    init = backend_class(backend).__init__
    params = inspect.signature(init).parameters
    known = [p for p in params if p not in ("self", "model")]
    hints = typing.get_type_hints(init)
    for k, v in opts.items():
        if k not in known:
            raise EvalkitError(f"-B {k}: unknown option for backend '{backend}'; known: {', '.join(known)}")
        try:  # the option's own annotation decides (int, float, bool, "auto", ...): never a traceback later
            opts[k] = pydantic.TypeAdapter(hints[k]).validate_python(v) if k in hints else v
        except pydantic.ValidationError as e:
            raise EvalkitError(f"-B {k}={v}: {e.errors()[0]['msg']} (backend '{backend}', option type "
                               f"{params[k].annotation})") from None
    return opts


def _metric_table(s: dict) -> Table:
    """A run's metrics: direction arrows (↑ higher is better, ↓ lower), counts as integers."""
    table = Table("metric", "", "value", "stderr", "95% CI", "n", title=f"{s['task']} · {s['model']} · {s['backend']}")
    fmt = lambda x: "" if x is None or x != x else f"{x:.4f}"  # noqa: E731  (None/NaN: undefined)
    for name, m in s["metrics"].items():
        hib, count = m.get("higher_is_better"), m.get("unit") == "count"
        value = m.get("value")
        shown = str(int(value)) if count and isinstance(value, (int, float)) and value == value else fmt(value) or "undefined"
        ci = f"[{fmt(m['ci_low'])}, {fmt(m['ci_high'])}]" if m.get("ci_low") is not None else ""
        arrow = "↑" if hib is True else "↓" if hib is False else ""
        table.add_row(name + (" *" if name == s.get("primary_metric") else ""), arrow, shown, fmt(m.get("stderr")), ci,
                      str(m.get("n", "")))
    return table


@app.command()
def run(
    task: List[str] = typer.Argument(..., help="Task names (see `evalkit tasks`), task YAML paths, or one suite file (tasks/suites/*.yaml)."),
    model: Optional[List[str]] = typer.Option(None, "-m", "--model", help=f"Model name, local checkpoint dir, or hub id (repeatable; default {DEFAULT_MODEL})."),
    backend: Optional[str] = typer.Option(None, "-b", "--backend", help=f"{BACKENDS.help()} | auto (vllm where it is installed and usable, else hf; default hf, or the suite file's)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N samples."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Run seed (default 0, or the suite file's)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="One task and model: the run directory (default results/<task>/<model>/<run-id>). Several, a suite, or --executor ray: the results root (runs under OUT/<task>/<model>/<run-id>)."),
    task_args: Optional[List[str]] = typer.Option(None, "-T", help="Override a task field: key=value (repeatable; every task of a suite)."),
    backend_args: Optional[List[str]] = typer.Option(None, "-B", help="Backend option: key=value (dtype, batch_tokens, ...)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the response cache."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress bars."),
    include: Optional[List[str]] = typer.Option(None, "--include", help="Extra task directory."),
    executor: Optional[str] = typer.Option(None, "--executor", help="local | ray (default local, or the suite file's). ray: each model's runs are one Ray task on a Ray cluster."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="With --executor ray: the cluster (host:port, ray://host:10001 or auto; default $RAY_ADDRESS, else a local cluster started for this run and shut down after)."),
    as_json: bool = JSON_OPT,
):
    """Run tasks for models: each (task, model) pair is one resumable run; re-running the same command runs only what is missing.

    Several tasks or models (or a suite file) run as a suite: each model is loaded once for all of its tasks, a failing pair
    does not stop the others, a table of every pair ends the run and the exit code is 1 if any pair failed."""
    from .backends import resolve_backend
    from .suite import find_suite, load_suite, run_suite
    from .tasks import parse_overrides

    from .kinds.lmeval import group_members

    suite = find_suite(task[0], include) if len(task) == 1 else None
    spec = load_suite(suite) if suite is not None else None
    members = [m for t in task for m in (group_members(t) or [t])]  # an lm-eval group YAML: a suite of its tasks
    executor = executor or (spec.executor if spec else "local")
    if ray_address and executor != "ray":
        raise EvalkitError(f"--ray-address {ray_address}: only used with --executor ray")
    if suite is None and members == list(task) and len(task) == 1 and len(model or []) <= 1 and executor == "local":  # one pair: the run directory is -o
        from .runner import run as run_task

        mb, backend = (model[0] if model else DEFAULT_MODEL), resolve_backend(backend or "hf")
        result = run_task(
            task[0], mb, backend, limit=limit, seed=seed or 0, out=output, overrides=parse_overrides(task_args),
            backend_options=_backend_options(backend, backend_args), cache=not no_cache, quiet=quiet or as_json, include=include,
        )
        s = result.summary
        if as_json:
            print(json.dumps({"out": str(result.out), **s}, indent=2))
            return
        out.print(_metric_table(s))
        out.print(f"results: {result.out}")
        return
    if spec is not None:
        if model:
            raise EvalkitError(f"{suite}: a suite file names its models; -m is not used with it")
        tasks_, models_ = spec.tasks, spec.models
        backend, seed = backend or spec.backend, spec.seed if seed is None else seed  # the command line wins
        for m in models_:
            _backend_options(m.backend or backend, [f"{k}={v}" for k, v in m.options.items()])
        limit = spec.limit if limit is None else limit
        root = output or spec.output or "results"
    else:
        tasks_, models_, root, backend = members, list(model or [DEFAULT_MODEL]), output or "results", backend or "hf"
    backend = resolve_backend(backend)  # `auto` once, so every pair and row names the engine that ran
    err = Console(stderr=True)
    show = not (quiet or as_json)

    def on_pair(i, n, t, m):
        if show:
            err.rule(f"[bold]suite[/] {i}/{n} runs done · now {t} · {m}")

    df = run_suite(tasks_, models_, backend=backend, limit=limit, seed=seed or 0, out=root, overrides=parse_overrides(task_args),
                   backend_options=_backend_options(backend, backend_args), cache=not no_cache, quiet=not show, include=include,
                   on_pair=on_pair, executor=executor, ray_address=ray_address)
    failed = int((df["status"] == "failed").sum())
    if as_json:
        print(df.to_json(orient="records", indent=2))
    else:
        fmt = lambda x: "" if x is None or x != x else f"{x:.4f}"  # noqa: E731  (None/NaN: undefined)
        table = Table(title=f"suite · {len(df)} runs · {failed} failed · {df.attrs.get('engine_loads', 0)} model loads")
        for col in ("task", "model", "status", "metric", "", "value", "95% CI", "n", "s"):
            table.add_column(col, overflow="fold")  # names are never cut
        for r in df.astype(object).where(df.notna(), None).to_dict("records"):
            from .metrics import metric_info

            hib = metric_info(r["primary_metric"]).higher_is_better if r["primary_metric"] else None
            table.add_row(r["task"], r["model"], "[red]failed[/]" if r["status"] == "failed" else r["status"], r["primary_metric"] or "",
                          {True: "↑", False: "↓"}.get(hib, ""), fmt(r["value"]),
                          f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]" if r["ci_low"] is not None else "",
                          "" if r["n"] is None else str(int(r["n"])), "" if r["seconds"] is None else f"{r['seconds']:.1f}")
        out.print(table)
        for r in df[df["status"] == "failed"].itertuples():
            out.print(f"[red]failed[/] {r.task} · {r.model}: {r.error}", markup=True, highlight=False, soft_wrap=True)
        out.print(f"results: {root}")
    if failed:
        raise typer.Exit(1)


@app.command()
def rank(
    judgments: List[str] = typer.Argument(..., help="Battle JSONL files (model_a, model_b, winner[, len_a, len_b]) or tournament run dirs."),
    method: str = typer.Option("bt", "--method", help="bt | elo | winrate | lc"),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Baseline model (lc)."),
    n_boot: int = typer.Option(200, "--n-boot", help="Bootstrap resamples for the CIs (bt: for degenerate_resamples)."),
    seed: int = typer.Option(0, "--seed"),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Directory for ranking.json, ranking.csv, ratings.png."),
    as_json: bool = JSON_OPT,
):
    """Rank models from pairwise judgments, with bootstrap CIs and rank upper bounds."""
    from pathlib import Path

    from .tournaments.battles import load_battles
    from .tournaments.plots import ratings_plot
    from .tournaments.ratings import rank as rank_models

    battles = load_battles(judgments)
    df = rank_models(battles, method, baseline=baseline, n_boot=n_boot, seed=seed)
    doc = {"schema": "evalkit.ranking/v1", "kind": "ranking", "sources": judgments, "n_battles": len(battles),
           "method": {"type": method, "baseline": baseline, "seed": seed, "n_bootstrap": n_boot, **df.attrs.get("method", {})},
           "entries": json.loads(df.to_json(orient="records"))}
    if output:
        outdir = Path(output)
        outdir.mkdir(parents=True, exist_ok=True)
        from .store import write_json

        write_json(outdir / "ranking.json", doc)
        df.to_csv(outdir / "ranking.csv", index=False)
        ratings_plot(doc["entries"], outdir / "ratings.png", f"{method} ranking (95% CI), {len(battles)} battles",
                     xlabel="rating" if method in ("bt", "elo") else "win rate")
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    table = Table("rank", "rank (UB)", "model", "score", "95% CI", "battles", title=f"{method} · {len(battles)} battles")
    for e in doc["entries"]:
        table.add_row(str(e["rank"]), str(e["rank_ub"]), e["model"], f"{e['score']:.4g}", f"[{e['ci_low']:.4g}, {e['ci_high']:.4g}]",
                      str(e["n_battles"]))
    out.print(table)
    if doc["method"].get("degenerate_resamples", 0) > 0:
        out.print(f"note: {doc['method']['degenerate_resamples']:.0%} of resamples have no finite BT maximum; there the prior "
                  f"({doc['method']['prior']}) sets the ratings")
    if output:
        out.print(f"ranking: {Path(output) / 'ranking.json'}")


@app.command()
def sweep(
    config: str = typer.Argument(..., help="Sweep YAML (see tasks/sweeps/)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Sweep directory (default results/sweep/<name>/<model>/<config-hash>)."),
    storage: Optional[str] = typer.Option(None, "--storage", help="Optuna storage: an RDB URL (several machines, one study) or a journal file path (default OUT/optuna.journal)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the response cache."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress lines."),
    as_json: bool = JSON_OPT,
):
    """DPO / LN-DPO / IPO / SimPO hyperparameter sweep (TRL + peft LoRA, Optuna), every trial evaluated. Resumable."""
    import importlib

    for module in ("optuna", "peft", "trl"):  # before any work: a missing one is a one-line error in main()
        importlib.import_module(module)
    from .tuning.sweep import run_sweep

    result = run_sweep(config, output, storage, cache=not no_cache, quiet=quiet or as_json)
    s = result.summary
    if as_json:
        print(json.dumps({"out": str(result.out), **s}, indent=2))
        return
    fmt = lambda x: "" if x is None or x != x else f"{x:.3f}"  # noqa: E731  (None/NaN: undefined)
    table = Table("method", "trials", "mean", "median", "iqr", "best", "worst", "test (best config)", "95% CI",
                  title=f"{s['task']} · {s['model']} · score = {s['score']} · {s['status']}")
    for name, m in s["breakdown"]["method"].items():
        t = m.get("test_score") or {}
        ci = f"[{fmt(t.get('ci_low'))}, {fmt(t.get('ci_high'))}]" if t.get("ci_low") is not None else ""
        table.add_row(name, str(int(m["n_trials"]["value"])), *(fmt(m[k]["value"]) for k in ("mean", "median", "iqr", "best", "worst")),
                      fmt(t.get("value")), ci)
    out.print(table)
    out.print(f"results: {result.out}")


@app.command()
def swiss(
    scores: List[str] = typer.Argument(..., help="A CSV (model column + one column per benchmark), or evalkit run dirs / lm-eval results_*.json files / globs."),
    rounds: str = typer.Option(..., "--rounds", help="YAML list of rounds, each a list of benchmark names (in play order)."),
    n_runs: int = typer.Option(100_000, "--n", help="Monte Carlo runs."),
    elim: str = typer.Option("0,1,2", "--elim", help="Elimination settings T (models cut per round), comma-separated."),
    seed: int = typer.Option(0, "--seed"),
    tiebreak: str = typer.Option("random", "--tiebreak", help="Ties at the elimination cut: random (the paper) | index (the authors' code)."),
    normalize: str = typer.Option("none", "--normalize", help="Per-benchmark scores: none (raw, the paper) | zscore | minmax | rank."),
    metric: Optional[List[str]] = typer.Option(None, "--metric", help="BENCHMARK=METRIC[,FILTER] (repeatable), or one METRIC for the rest (default: each benchmark's first metric)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Output directory (default results/swiss/<rounds file stem>)."),
    as_json: bool = JSON_OPT,
):
    """Competitive Swiss-System Dynamics: expected Swiss-round score per model and its failure sensitivity."""
    from .tournaments.csd import parse_elims, run_swiss
    from .tournaments.scores import parse_metrics

    s, outdir = run_swiss(scores, rounds, n_runs=n_runs, elims=parse_elims(elim), seed=seed, tiebreak=tiebreak,
                          normalize=normalize, metric=parse_metrics(metric), out=output)
    if as_json:
        print(json.dumps({"out": str(outdir), **s}, indent=2))
        return
    # 80 columns: E[S] per T as bare numbers, the Monte Carlo s.e. (the same order for every cell) once below
    keys = [str(t) for t in s["elims"]]
    se = max(e["mc_stderr"][k] for e in s["entries"] for k in keys)
    table = Table(title=f"CSD · {s['task']} · {len(s['rounds'])} rounds · {s['n_runs']:,} runs", title_justify="left",
                  caption=f"E[S] at elimination T (models cut per round), Monte Carlo s.e. <= {se:.3f}; "
                          f"sorted by T={max(s['elims'])}; tiebreak {s['tiebreak']}", caption_justify="left")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("model", overflow="fold", ratio=1)
    for k in keys:
        table.add_column(f"T={k}", justify="right", no_wrap=True)
    table.add_column("FSA drop", justify="right", no_wrap=True)
    for pos, e in enumerate(s["entries"], 1):
        table.add_row(str(pos), e["model"], *(f"{e['E_S'][k]:.3f}" for k in keys), "" if e["fsa_drop"] is None else f"{e['fsa_drop']:+.3f}")
    out.print(table)
    scored = ", ".join(f"{b['name']} {b['metric']}" + ("" if b["higher_is_better"] is not False else " (lower is better)")
                       for b in s.get("benchmarks", []) if b.get("metric"))
    if scored:
        out.print(f"scored by: {scored}")
    out.print(f"results: {outdir}")


@app.command("code-exec")
def code_exec(
    samples: str = typer.Argument(..., help="Samples JSONL: task_id plus completion (appended to the prompt) or solution (full program)."),
    problems: str = typer.Option("humaneval", "--problems", help="humaneval | leetcode50 | a problems JSONL file."),
    k: str = typer.Option("1", "-k", help="pass@k values, comma-separated (each needs >= k samples per problem)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Output directory (default <SAMPLES>_exec/): results.jsonl, summary.json."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Concurrent sandboxed programs (default 2 x CPUs)."),
    isolation: str = typer.Option("bwrap", "--isolation", help="bwrap (needs bubblewrap) | unshare | none: weaker levels only when asked for."),
    as_json: bool = JSON_OPT,
):
    """Score generated programs in the sandbox: per-sample verdicts and pass@k. Resumable."""
    from .code.execute import code_exec as run_code_exec
    from .sandbox import Limits

    try:
        ks = [int(x) for x in k.split(",") if x.strip()]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1:
        raise EvalkitError(f"-k {k}: expected comma-separated positive integers, e.g. 1,10")
    s = run_code_exec(samples, problems, ks, out=output, workers=workers, limits=Limits(isolation=isolation))
    if as_json:
        print(json.dumps(s, indent=2))
        return
    table = Table("metric", "value", "stderr", "problems", title=f"code-exec · {s['problems']} · {s['n_samples']} samples · isolation {s['isolation']}")
    for name, m in s["metrics"].items():
        se = m.get("stderr")
        table.add_row(name, f"{m['value']:.4f}", "" if se is None or se != se else f"{se:.4f}", str(m["n"]))
    out.print(table)
    out.print("verdicts: " + ", ".join(f"{v} {c}" for v, c in s["verdicts"].items()))
    out.print(f"results: {s['out']}")


export_app = typer.Typer(no_args_is_help=True, help="Export stored results.")
app.add_typer(export_app, name="export")


@export_app.command("leaderboard")
def export_leaderboard(
    results: List[str] = typer.Argument(..., help="Result dirs, summary.json / ranking.json / lm-eval results_*.json files, or globs."),
    output: str = typer.Option(..., "-o", "--output", help="Leaderboard JSON file to write."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Print only where the file is."),
):
    """Leaderboard JSON (schema evalkit.leaderboard/v2) built from stored results only: models ranked over benchmarks with CIs,
    the ranking's stability under prompt variants, and warnings."""
    from pathlib import Path

    from .leaderboard import build_leaderboard, print_leaderboard
    from .store import write_json

    board = build_leaderboard(results)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    write_json(Path(output), board)
    if not quiet:
        print_leaderboard(board, out)
    out.print(f"leaderboard: {output} ({len(board['entries'])} models, method {board['method']['type']})")


@app.command()
def report(
    results: List[str] = typer.Argument(..., help="Result dirs (searched recursively), summary.json / ranking.json / leaderboard JSON / lm-eval results_*.json files, or globs."),
    output: str = typer.Option(..., "-o", "--output", help="HTML file to write."),
    title: str = typer.Option("evalkit report", "--title", help="Page title."),
):
    """Self-contained HTML report (inline CSS, images as data URIs, nothing fetched) from stored results only."""
    from .report import write_report

    path = write_report(results, output, title=title)
    text = path.read_text(encoding="utf-8")
    print(f"report: {path} ({text.count('<section ')} sections, {text.count('<img ')} plots)")  # plain: a long path stays one line


@app.command()
def bench(
    model: str = typer.Option(DEFAULT_MODEL, "-m", "--model", help="Model name, local checkpoint dir, or hub id."),
    backend: str = typer.Option("hf", "-b", "--backend", help="hf | vllm | both"),
    workload: str = typer.Option("generate", "--workload", help="generate | loglikelihood (synthetic prompts) | a task name or YAML (its first stage's requests)."),
    trials: int = typer.Option(10, "--trials", help="Points of the space to measure per backend (more: the study resumes and adds)."),
    space: Optional[str] = typer.Option(None, "--space", help="YAML space file: per backend, each option a list of values, a range {low, high, log} or a fixed value (default: the built-in space)."),
    sampler: str = typer.Option("tpe", "--sampler", help="grid | random | tpe"),
    repeats: int = typer.Option(3, "--repeats", help="Timed calls per point (the spread is reported)."),
    warmup: Optional[int] = typer.Option(None, "--warmup", help="Requests of the untimed warm-up call per point (default: all of them, the timed calls' batch shapes)."),
    prompts: int = typer.Option(16, "--prompts", help="Synthetic prompts / contexts, or the task's first N samples."),
    prompt_tokens: int = typer.Option(128, "--prompt-tokens", help="Synthetic prompt / context length in tokens."),
    max_tokens: int = typer.Option(32, "--max-tokens", help="Tokens generated per prompt, or the continuation length (loglikelihood)."),
    choices: int = typer.Option(4, "--choices", help="Continuations per context (loglikelihood)."),
    seed: int = typer.Option(0, "--seed"),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Output directory (default results/bench/<model>/<workload>)."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress lines."),
    as_json: bool = JSON_OPT,
):
    """Backend throughput (tokens/s, requests/s, latency) over a space of inference options, searched with Optuna. Resumable."""
    from .bench import run_bench

    backends = {"both": ["hf", "vllm"], "hf": ["hf"], "vllm": ["vllm"]}.get(backend)
    if backends is None:
        raise EvalkitError(f"-b {backend}: expected hf, vllm or both")
    r = run_bench(model, backends, workload, trials=trials, space=space, sampler=sampler, repeats=repeats, warmup=warmup,
                  prompts=prompts, prompt_tokens=prompt_tokens, max_tokens=max_tokens, choices=choices, seed=seed,
                  out=output, quiet=quiet or as_json)
    if as_json:
        print(json.dumps({"out": str(r.out), **r.doc}, indent=2))
        return
    sd = lambda s: f"{s['mean']:.1f} ± {s['std']:.1f}" if s["std"] is not None else f"{s['mean']:.1f}"  # noqa: E731
    for b, d in r.doc["backends"].items():
        table = Table("point", "tokens/s (mean ± sd)", "requests/s", "n", "params",
                      title=f"{r.doc['model']} · {b} · {r.doc['workload']['type']} · {len(d['trials'])} trials")
        points = [("default", d["default"])] + sorted(((f"trial {t['number']}", t) for t in d["trials"]),
                                                       key=lambda p: -(p[1]["result"] or {}).get("tokens_per_s", {}).get("mean", -1))[:8]
        for label, t in points:
            res = (t or {}).get("result")
            table.add_row(label, sd(res["tokens_per_s"]) if res else "infeasible", sd(res["requests_per_s"]) if res else "",
                          str(res["tokens_per_s"]["n"]) if res else "",
                          (t or {}).get("error") or " ".join(f"{k}={v}" for k, v in (t or {}).get("params", {}).items()))
        out.print(table)
        rr = (d.get("ratio_to_default") or {}).get("tokens_per_s")
        if rr:
            se = f" ± {rr['stderr']:.3f}" if rr["stderr"] is not None else ""
            out.print(f"{b}: best / default tokens/s = {rr['value']:.3f}{se} (range over repeats {rr['low']:.3f}–{rr['high']:.3f})")
        imp = d["importance"].get("values") or {}
        if imp:
            out.print(f"{b}: importance (fANOVA): " + ", ".join(f"{k} {v:.2f}" for k, v in imp.items()))
        if d.get("best"):
            slower = rr is not None and rr["value"] < 1
            print(f"{b} best: {d['best']['cli']}" + ("  (the defaults measured faster)" if slower else ""))  # plain: ready to paste
    print(f"results: {r.out / 'bench.json'}")


@app.command()
def view(
    results: List[str] = typer.Argument(..., help="Result dirs (searched recursively), summary.json / ranking.json / leaderboard JSON / lm-eval results_*.json files, or globs."),
    port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1 (0: any free port)."),
):
    """Browse stored results in a local, read-only web app on 127.0.0.1 (runs, metrics, plots, per-sample records,
    two runs side by side, the leaderboard), with JSON endpoints under /api."""
    from .view import make_server

    server = make_server(results, port)
    n = len(server.catalogue.entries)
    print(f"evalkit view: {server.url} ({n} run{'s' if n != 1 else ''}; read-only; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# optional dependencies by top-level module -> the pyproject extra that installs them
_EXTRAS = {"optuna": "tune", "trl": "tune", "peft": "tune", "datasets": "tune", "psutil": "tune", "psycopg": "tune", "torch": "hf",
           "transformers": "hf", "accelerate": "hf", "safetensors": "hf", "tokenizers": "hf", "vllm": "vllm", "ray": "distributed"}


def main() -> None:
    command = typer.main.get_command(app)
    try:
        code = command.main(args=sys.argv[1:], prog_name="evalkit", standalone_mode=False)
    except EvalkitError as e:
        print(f"evalkit: error: {e}", file=sys.stderr)
        sys.exit(2)
    except typer.TyperException as e:  # bad flags and arguments (typer's own click): one line, exit 2
        if type(e).__name__ == "NoArgsIsHelpError" or not hasattr(e, "format_message"):
            e.show()  # a bare command: its help text, not an error
        else:
            ctx = getattr(e, "ctx", None)
            see = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            print(f"evalkit: error: {e.format_message()}{see}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))
    except ModuleNotFoundError as e:  # an optional dependency of this command: one line, exit 2
        top = (e.name or "").split(".")[0]
        if top not in _EXTRAS:
            raise
        print(f"evalkit: error: this command needs the Python package '{top}': pip install 'evalkit[{_EXTRAS[top]}]'",
              file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("evalkit: interrupted; run the same command again to resume", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
