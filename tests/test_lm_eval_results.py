"""lm-eval results_*.json files as score sources: the one reader, `evalkit report`, `evalkit swiss` with a metric
per benchmark, models labelled by name, the swiss table at 80 columns."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import EVALKIT, evalkit_cli
from evalkit.errors import EvalkitError
from evalkit.models import _named_dir, display_name
from evalkit.results import read_lm_eval
from evalkit.tournaments.scores import load_scores, parse_metrics, select


def lm_eval_file(path: Path, model_args, tasks: dict, model_name=None, hib=None, configs=None) -> Path:
    """A results file in lm-eval 0.4's layout (metric keys 'metric,filter', lm-eval's 'N/A' for a missing stderr)."""
    doc = {
        "results": {t: {"alias": t, **m} for t, m in tasks.items()},
        "configs": {t: {"task": t, "num_fewshot": 0, **(configs or {}).get(t, {})} for t in tasks},
        "n-shot": {t: 0 for t in tasks},
        "higher_is_better": hib if hib is not None else {t: {} for t in tasks},
        "n-samples": {t: {"original": 50, "effective": 40} for t in tasks},
        "config": {"model": "hf", "model_args": model_args, "batch_size": 1},
        "lm_eval_version": "0.4.13", "date": 1767225600.0,
    }
    if model_name is not None:
        doc["model_name"] = model_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def two_models(root: Path) -> tuple[Path, Path]:
    ckpt = root / "ckpts" / "my-ckpt"
    ckpt.mkdir(parents=True)
    a = lm_eval_file(root / "a" / "results_2026-01-01T00-00-00.json", f"pretrained={ckpt},dtype=float32", {
        "arc_easy": {"acc,none": 0.70, "acc_stderr,none": 0.02, "acc_norm,none": 0.40, "acc_norm_stderr,none": "N/A"},
        "gsm8k": {"exact_match,strict-match": 0.10, "exact_match_stderr,strict-match": 0.01,
                  "exact_match,flexible-extract": 0.50, "exact_match_stderr,flexible-extract": 0.02},
        "wikitext": {"word_perplexity,none": 30.0, "word_perplexity_stderr,none": "N/A", "bits_per_byte,none": 0.9},
    }, hib={"arc_easy": {"acc": True, "acc_norm": True}, "wikitext": {"word_perplexity": False, "bits_per_byte": False}})
    b = lm_eval_file(root / "b" / "results_2026-01-02T00-00-00.json", "pretrained=org/model-b", {
        "arc_easy": {"acc,none": 0.60, "acc_norm,none": 0.55},
        "gsm8k": {"exact_match,strict-match": 0.20, "exact_match,flexible-extract": 0.30},
        "wikitext": {"word_perplexity,none": 20.0, "bits_per_byte,none": 0.8},
    })
    return a, b


def test_the_reader(tmp_path):
    a, b = two_models(tmp_path)
    res = read_lm_eval(a)
    assert res.model == str(tmp_path / "ckpts" / "my-ckpt") and res.local == res.model  # derived as lm-eval does: pretrained=
    assert [m.key for m in res.tasks["gsm8k"]] == ["exact_match,strict-match", "exact_match,flexible-extract"]
    norm = res.tasks["arc_easy"][1]
    assert (norm.metric, norm.filter, norm.value, norm.stderr, norm.higher_is_better) == ("acc_norm", "none", 0.40, None, True)
    assert res.tasks["gsm8k"][1].stderr == 0.02 and res.n["gsm8k"] == 40
    ppl = read_lm_eval(b).tasks["wikitext"][0]
    assert ppl.higher_is_better is False  # the file says nothing: evalkit.metrics' direction
    assert read_lm_eval(b).model == "org/model-b" and read_lm_eval(b).local is None
    # the first metric_list entry under the first filter leads, whatever order process_results wrote the block in
    c = lm_eval_file(tmp_path / "c" / "results_3.json", "pretrained=org/c", {
        "arc_easy": {"acc,none": 0.1, "acc_norm,none": 0.2},
        "gsm8k": {"exact_match,flexible-extract": 0.3, "exact_match,strict-match": 0.4}},
        configs={"arc_easy": {"metric_list": [{"metric": "acc_norm", "aggregation": "mean"}, {"metric": "acc"}]},
                 "gsm8k": {"metric_list": [{"metric": "exact_match"}],
                           "filter_list": [{"name": "strict-match", "filter": []}, {"name": "flexible-extract", "filter": []}]}})
    assert [[m.key for m in ms] for ms in read_lm_eval(c).tasks.values()] == [
        ["acc_norm,none", "acc,none"], ["exact_match,strict-match", "exact_match,flexible-extract"]]
    doc = json.loads(b.read_text())
    doc["results"]["gsm8k"]["exact_match,strict-match"] = "high"
    with pytest.raises(EvalkitError, match=r"results_2026-01-02T00-00-00\.json: field 'results\.gsm8k\.exact_match,strict-match': "
                                           r"expected a number or 'N/A', got 'high'"):
        read_lm_eval(b, doc)
    with pytest.raises(EvalkitError, match=r"field 'model_name': missing"):
        read_lm_eval(b, {"results": {"t": {}}, "config": {}})


def test_models_are_labelled_by_name():
    assert display_name("org/model-b") == "org/model-b"  # a hub id
    assert display_name("tiny-random") == "tiny-random"
    assert display_name(str(_named_dir("tiny-random"))) == "tiny-random"  # evalkit's own build of a registry model
    assert display_name("/data/runs/ckpt-7/") == "ckpt-7"


def test_a_metric_per_benchmark_and_its_direction(tmp_path):
    two_models(tmp_path)
    df = load_scores(tmp_path)  # default: each task's first metric (first metric_list entry, first filter)
    assert list(df.index) == ["my-ckpt", "org/model-b"]
    assert df.attrs["metric"] == {"arc_easy": "acc", "gsm8k": "exact_match,strict-match", "wikitext": "word_perplexity"}
    assert df.attrs["higher_is_better"] == {"arc_easy": True, "gsm8k": True, "wikitext": False}
    picked = load_scores(tmp_path, metric=parse_metrics(["arc_easy=acc_norm", "gsm8k=exact_match,flexible-extract"]))
    assert picked.loc["my-ckpt", "arc_easy"] == 0.40 and picked.loc["my-ckpt", "gsm8k"] == 0.50
    assert picked.loc["org/model-b", "wikitext"] == 20.0  # not named: its default
    # lower perplexity wins: the perplexity column plays negated
    m, _, models, _ = select(df, [["wikitext"]])
    assert models == ["my-ckpt", "org/model-b"] and m[:, 0].tolist() == [-30.0, -20.0]
    assert parse_metrics(["acc_norm", "gsm8k=exact_match,strict-match"]) == {None: "acc_norm", "gsm8k": "exact_match,strict-match"}
    assert parse_metrics(["acc_norm"]) == "acc_norm" and parse_metrics([]) is None


@pytest.mark.parametrize("values, expect", [
    (["arc_esy=acc"], r"--metric arc_esy=acc: unknown benchmark 'arc_esy'; did you mean 'arc_easy'\?"),
    (["gsm8k=exact_match", "gsm8k=acc"], r"--metric gsm8k=acc: a metric for benchmark 'gsm8k' is already given \(exact_match\)"),
    (["=acc"], r"--metric =acc: expected METRIC or BENCHMARK=METRIC"),
])
def test_metric_option_errors(tmp_path, values, expect):
    two_models(tmp_path)
    with pytest.raises(EvalkitError, match=expect):
        load_scores(tmp_path, metric=parse_metrics(values))


def test_one_benchmark_two_metrics_or_no_direction_is_refused(tmp_path):
    lm_eval_file(tmp_path / "a" / "results_1.json", "pretrained=org/a", {"t": {"acc,none": 0.5, "n_tokens,none": 9.0}})
    lm_eval_file(tmp_path / "b" / "results_2.json", "pretrained=org/b", {"t": {"acc_norm,none": 0.4, "acc,none": 0.3}})
    with pytest.raises(EvalkitError, match=r"results_2\.json: benchmark 't' is scored by 'acc_norm' here but by 'acc' in .*results_1\.json; "
                                           r"choose one with --metric t=METRIC"):
        load_scores(tmp_path)
    lm_eval_file(tmp_path / "b" / "results_2.json", "pretrained=org/b", {"t": {"n_tokens,none": 7.0}})
    df = load_scores(tmp_path, metric="n_tokens")
    with pytest.raises(EvalkitError, match=r"field 't': metric 'n_tokens' has no direction"):
        select(df, [["t"]])


def test_cli_swiss_over_lm_eval_files_at_80_columns(tmp_path):
    a, b = two_models(tmp_path)
    long_name = "org/a-model-whose-name-is-far-too-long-for-one-line-of-the-table-anyway"
    lm_eval_file(tmp_path / "c" / "results_3.json", f"pretrained={long_name}", {
        "arc_easy": {"acc,none": 0.1, "acc_norm,none": 0.1}, "gsm8k": {"exact_match,strict-match": 0.0},
        "wikitext": {"word_perplexity,none": 90.0}})
    rounds = tmp_path / "rounds.yaml"
    rounds.write_text("- [wikitext]\n")
    args = [EVALKIT, "swiss", str(tmp_path / "a"), str(b), str(tmp_path / "c"), "--rounds", str(rounds), "--n", "400",
            "--elim", "0", "-o", str(tmp_path / "o"), "--metric", "arc_easy=acc_norm", "--metric", "gsm8k=exact_match,flexible-extract"]
    proc = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, proc.stdout
    assert "my-ckpt" in proc.stdout and "ckpts" not in proc.stdout  # the checkpoint's name, not its path
    assert "wikitext word_perplexity (lower is better)" in proc.stdout.replace("\n", " ")
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    # one round, three models, T=0: the lowest perplexity (org/model-b, 20) beats whoever it meets; a bye scores 0.
    # Pairing: a random two of the three play, the third sits out. P(b plays) = 2/3, so E[S_b] = 2/3 exactly.
    es = {e["model"]: e["E_S"]["0"] for e in s["entries"]}
    se = {e["model"]: e["mc_stderr"]["0"] for e in s["entries"]}
    assert abs(es["org/model-b"] - 2 / 3) <= 5 * se["org/model-b"]
    assert abs(es["my-ckpt"] - 1 / 3) <= 5 * se["my-ckpt"] and es[long_name] == 0.0  # my-ckpt (30) beats only the 90
    assert s["benchmarks"] == [{"name": "wikitext", "metric": "word_perplexity", "higher_is_better": False}]


def test_report_accepts_lm_eval_results(tmp_path, capsys):
    from evalkit.report import build_report

    a, b = two_models(tmp_path)
    code, out, err = evalkit_cli(["report", str(tmp_path / "a"), str(b), "-o", str(tmp_path / "r.html")], capsys)
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    for task in ("arc_easy", "gsm8k", "wikitext"):
        assert f'<section id="task-{task}" data-kind="lm_eval"' in html
    assert '<section id="leaderboard"' in html and html.count('data-model="my-ckpt"') == 3
    assert "<th>exact_match</th>" in html and "flexible-extract" in html  # first filter by name, every filter in the breakdown
    # by name, not only as results_*.json, and the same bytes twice
    renamed = tmp_path / "lm.json"
    renamed.write_text(b.read_text())
    assert build_report([renamed]) == build_report([renamed]) and 'data-model="org/model-b"' in build_report([renamed])
    doc = json.loads(b.read_text())
    doc["results"]["arc_easy"]["acc,none"] = [1]
    renamed.write_text(json.dumps(doc))
    code, out, err = evalkit_cli(["report", str(renamed), "-o", str(tmp_path / "r2.html")], capsys)
    assert code == 2 and err.strip().splitlines() == [f"evalkit: error: {renamed}: field 'results.arc_easy.acc,none': "
                                                      "expected a number or 'N/A', got [1]"]
