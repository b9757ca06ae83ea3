"""lm-eval task YAMLs run natively (parity with lm_eval.simple_evaluate on HFLM) and under the lenses."""

import json
from pathlib import Path

import pytest

import evalkit
from conftest import evalkit_cli

SUBJECTS = ["arithmetic", "geography"]
MC_DOCS = [
    ("What is 2 + 2?", ["3", "4", "5", "22"], 1),
    ("Which planet is closest to the sun?", ["Venus", "Mars", "Mercury", "Earth"], 2),
    ("What is the capital of France?", ["Paris", "Rome", "Berlin", "Madrid"], 0),
    ("How many legs does a spider have?", ["six", "four", "ten", "eight"], 3),
    ("What colour is the sky on a clear day?", ["green", "blue", "red", "black"], 1),
    ("What is 10 minus 3?", ["7", "13", "3", "6"], 0),
    ("Which animal says moo?", ["cat", "dog", "cow", "owl"], 2),
    ("What is frozen water called?", ["steam", "ice", "sand", "salt"], 1),
]
GEN_DOCS = [("Tom has 3 apples and buys 4 more. How many apples does he have?", "3 + 4 = 7.\n#### 7"),
            ("A box holds 5 pens. How many pens are in 2 boxes?", "5 * 2 = 10.\n#### 10"),
            ("Sara had 9 sweets and ate 2. How many are left?", "9 - 2 = 7.\n#### 7"),
            ("What is 6 + 6?", "6 + 6 = 12.\n#### 12"),
            ("There are 4 cars with 4 wheels each. How many wheels?", "4 * 4 = 16.\n#### 16")]


def write_jsonl(path: Path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def write_tasks(d: Path) -> dict[str, Path]:
    """An MMLU-style MC task (2-shot, a description, label choices, through `include:`) and a gsm8k-style
    generate_until task (a `!function` prompt, two filters, custom delimiters), both over local JSON."""
    rows = [{"subject": SUBJECTS[k % 2], "question": q, "choices": c, "answer": a} for k, (q, c, a) in enumerate(MC_DOCS)]
    write_jsonl(d / "mc_train.jsonl", rows[5:])
    write_jsonl(d / "mc_test.jsonl", rows[:5])
    (d / "_mc_template.yaml").write_text("""\
dataset_path: json
dataset_kwargs:
  data_files:
    train: mc_train.jsonl
    test: mc_test.jsonl
test_split: test
fewshot_split: train
output_type: multiple_choice
description: "The following are multiple choice questions (with answers) about {{subject}}.\\n\\n"
doc_to_text: "{{question.strip()}}\\nA. {{choices[0]}}\\nB. {{choices[1]}}\\nC. {{choices[2]}}\\nD. {{choices[3]}}\\nAnswer:"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: answer
num_fewshot: 2
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
""")
    (d / "mc.yaml").write_text("include: _mc_template.yaml\ntask: toy_mmlu\n")
    write_jsonl(d / "gen_train.jsonl", [{"question": "What is 1 + 1?", "answer": "1 + 1 = 2.\n#### 2"},
                                        {"question": "What is 2 + 3?", "answer": "2 + 3 = 5.\n#### 5"}])
    write_jsonl(d / "gen_test.jsonl", [{"question": q, "answer": a} for q, a in GEN_DOCS])
    (d / "gen_utils.py").write_text("def doc_to_text(doc):\n    return 'Question: ' + doc['question'] + '\\nAnswer:'\n")
    (d / "gen.yaml").write_text("""\
task: toy_gsm
dataset_path: json
dataset_kwargs:
  data_files:
    train: gen_train.jsonl
    test: gen_test.jsonl
test_split: test
fewshot_split: train
output_type: generate_until
doc_to_text: !function gen_utils.doc_to_text
doc_to_target: "{{answer}}"
target_delimiter: " "
fewshot_delimiter: "\\n\\n"
num_fewshot: 1
generation_kwargs:
  until: ["Question:", "\\n\\n"]
  max_gen_toks: 12
  do_sample: false
filter_list:
  - name: strict-match
    filter:
      - function: regex
        regex_pattern: "#### (\\\\-?[0-9\\\\.\\\\,]+)"
      - function: take_first
  - name: flexible-extract
    filter:
      - function: regex
        group_select: -1
        regex_pattern: "(-?[$0-9.,]{2,})|(-?[0-9]+)"
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: false
    regexes_to_ignore: [",", "\\\\$", "(?s).*#### ", "\\\\.$"]
""")
    return {"mc": d / "mc.yaml", "gen": d / "gen.yaml"}


def records(run) -> list[dict]:
    return [json.loads(x) for x in (run.out / "records.jsonl").read_text().splitlines()]


def lm_eval_reference(tiny, paths: list[Path], limit=None, **hflm):
    """lm-eval's own run of these YAMLs on HFLM: (results, samples by task)."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    lm = HFLM(pretrained=tiny.path, device="cpu", dtype="float32", batch_size=1, **hflm)
    tm = TaskManager(include_path=str(paths[0].parent), include_defaults=False)
    out = lm_eval.simple_evaluate(model=lm, tasks=[str(p) for p in paths], task_manager=tm, limit=limit, log_samples=True,
                                  bootstrap_iters=0)
    return out["results"], out["samples"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory, tiny):
    """The two tasks, lm-eval's reference run of both, and evalkit's native runs of both."""
    import contextlib

    d = tmp_path_factory.mktemp("lm_eval_tasks")
    paths = write_tasks(d)
    with contextlib.chdir(d):
        results, samples = lm_eval_reference(tiny, [paths["mc"], paths["gen"]])
        runs = {k: evalkit.run(str(p), "tiny-random", out=d / "out" / k, cache=d / "responses.sqlite") for k, p in paths.items()}
    return {"dir": d, "paths": paths, "results": results, "samples": samples, "runs": runs}


def test_mc_task_with_include_description_and_2_shot_matches_lm_eval(toy):
    run, theirs = toy["runs"]["mc"], {s["doc_id"]: s for s in toy["samples"]["toy_mmlu"]}
    s = run.summary
    assert s["kind"] == "lm_eval" and s["task"] == "toy_mmlu" and s["primary_metric"] == "acc" and s["n_samples"] == 5
    ours = {r["doc_id"]: r for r in records(run)}
    assert set(ours) == set(theirs) == set(range(5))
    for i, r in ours.items():
        args = theirs[i]["arguments"]
        assert r["prompt"] == args[0][0]  # lm-eval's exact context: description, 2 shots, the question
        assert r["prompt"].startswith(f"The following are multiple choice questions (with answers) about {SUBJECTS[i % 2]}.\n\n")
        assert r["prompt"].count("\nAnswer:") == 3  # two answered examples and the question
        assert r["loglikelihoods"] == pytest.approx([x[0][0] for x in theirs[i]["resps"]], abs=1e-4)
        assert r["scores"]["none"]["acc"] == theirs[i]["acc"] and r["scores"]["none"]["acc_norm"] == theirs[i]["acc_norm"]
    ref = toy["results"]["toy_mmlu"]
    for m in ("acc", "acc_norm"):
        assert s["metrics"][m]["value"] == pytest.approx(ref[f"{m},none"], abs=1e-12)
        assert s["breakdown"]["filter"]["none"][m]["value"] == s["metrics"][m]["value"]
        assert s["metrics"][m]["higher_is_better"] is True and s["metrics"][m]["n"] == 5
    assert s["lm_eval"]["num_fewshot"] == 2 and s["lm_eval"]["filters"] == ["none"]


def test_generate_until_task_with_two_filters_matches_lm_eval(toy):
    run = toy["runs"]["gen"]
    theirs = {}
    for x in toy["samples"]["toy_gsm"]:
        theirs.setdefault(x["doc_id"], {})[x["filter"]] = x
    s = run.summary
    assert s["primary_metric"] == "exact_match" and s["lm_eval"]["filters"] == ["strict-match", "flexible-extract"]
    ours = {r["doc_id"]: r for r in records(run)}
    assert set(ours) == set(theirs) == set(range(5))
    for i, r in ours.items():
        ref = theirs[i]["strict-match"]
        assert r["prompt"] == ref["arguments"][0][0] and r["prompt"].startswith("Question: What is ")  # the 1-shot example
        assert r["generation"] == ref["resps"][0][0]
        for f in ("strict-match", "flexible-extract"):
            assert r["filtered"][f] == theirs[i][f]["filtered_resps"][0]
            assert r["scores"][f]["exact_match"] == theirs[i][f]["exact_match"]
    ref = toy["results"]["toy_gsm"]
    assert s["metrics"]["exact_match"]["value"] == pytest.approx(ref["exact_match,strict-match"], abs=1e-12)
    for f in ("strict-match", "flexible-extract"):
        assert s["breakdown"]["filter"][f]["exact_match"]["value"] == pytest.approx(ref[f"exact_match,{f}"], abs=1e-12)


def test_loglikelihood_and_rolling_windows_match_lm_eval(tmp_path, tiny):
    """loglikelihood (perplexity, acc) and loglikelihood_rolling with a max_length short enough that every
    document spans several windows."""
    write_jsonl(tmp_path / "lam.jsonl", [{"text": t, "last": w} for t, w in
                                         [("The cat sat on the", "mat"), ("Paris is the capital of", "France"),
                                          ("One, two, three, four,", "five")]])
    common = "dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: lam.jsonl\ntest_split: test\n"
    (tmp_path / "lam.yaml").write_text(common + "task: toy_lambada\noutput_type: loglikelihood\ndoc_to_text: '{{text}}'\n"
                                       "doc_to_target: \"{{' ' + last}}\"\nmetric_list:\n  - metric: perplexity\n  - metric: acc\n")
    (tmp_path / "wiki.yaml").write_text(common + "task: toy_wiki\noutput_type: loglikelihood_rolling\ndoc_to_text: ''\n"
                                        "doc_to_target: \"{{text + ' ' + last + '. ' + text + ' ' + last}}\"\n"
                                        "metric_list:\n  - metric: word_perplexity\n  - metric: byte_perplexity\n  - metric: bits_per_byte\n")
    results, samples = lm_eval_reference(tiny, [tmp_path / "lam.yaml", tmp_path / "wiki.yaml"], max_length=8)
    for name, task, metrics in [("lam", "toy_lambada", ["perplexity", "acc"]),
                                ("wiki", "toy_wiki", ["word_perplexity", "byte_perplexity", "bits_per_byte"])]:
        run = evalkit.run(str(tmp_path / f"{name}.yaml"), "tiny-random", out=tmp_path / name, backend_options={"max_length": 8})
        ours = {r["doc_id"]: r for r in records(run)}
        for x in samples[task]:
            assert ours[x["doc_id"]]["loglikelihoods"][0] == pytest.approx(x["resps"][0][0] if name == "wiki" else x["resps"][0][0][0], abs=1e-4)
        if name == "wiki":
            assert all(r["n_windows"] > 1 for r in ours.values())  # several windows per document
        for m in metrics:
            assert run.summary["metrics"][m]["value"] == pytest.approx(results[task][f"{m},none"], rel=1e-5)
        assert run.summary["metrics"][metrics[0]]["higher_is_better"] is False


def test_limited_run_keeps_lm_eval_s_few_shot_draws_and_a_rerun_is_reused(toy, tmp_path):
    import contextlib

    from evalkit.requests import LoglikelihoodRequest, request_key

    p = toy["paths"]["mc"]
    with contextlib.chdir(p.parent):
        first = evalkit.run(str(p), "tiny-random", limit=2, out=tmp_path / "r", cache=toy["dir"] / "responses.sqlite")
        again = evalkit.run(str(p), "tiny-random", limit=2, out=tmp_path / "r", cache=toy["dir"] / "responses.sqlite")
    assert again.reused and again.summary == first.summary
    assert [r["doc_id"] for r in records(first)] == [0, 1]
    # token-id contexts (rolling windows) are new; every other request keeps its response-cache key
    assert "context_ids" not in request_key(LoglikelihoodRequest("a", " b"))
    # the few-shot draw of doc 1 does not depend on --limit: it is lm-eval's draw for doc 1
    full = {r["doc_id"]: r for r in records(toy["runs"]["mc"])}
    assert [r["prompt"] for r in records(first)] == [full[0]["prompt"], full[1]["prompt"]]


def test_fewshot_overrides_are_lm_eval_s(toy, tmp_path):
    """-T fewshot_seed draws lm-eval's own examples for that seed (its simple_evaluate fewshot_random_seed);
    -T num_fewshot overrides the YAML's."""
    import contextlib

    from lm_eval.tasks import TaskManager

    p = toy["paths"]["mc"]
    with contextlib.chdir(p.parent):
        run = evalkit.run(str(p), "tiny-random", out=tmp_path / "s7", cache=toy["dir"] / "responses.sqlite",
                          overrides={"fewshot_seed": 7})
        zero = evalkit.run(str(p), "tiny-random", limit=2, out=tmp_path / "z", cache=toy["dir"] / "responses.sqlite",
                           overrides={"num_fewshot": 0})
        task = TaskManager(include_path=str(p.parent), include_defaults=False).load([str(p)])["tasks"]["toy_mmlu"]
        task.set_fewshot_seed(seed=7)
        task.build_all_requests(limit=5, rank=0, world_size=1)
    theirs = {i.doc_id: i.args[0] for i in task.instances}
    ours = {r["doc_id"]: r["prompt"] for r in records(run)}
    assert ours == theirs and ours != {r["doc_id"]: r["prompt"] for r in records(toy["runs"]["mc"])}
    assert all(r["prompt"].count("Answer:") == 1 for r in records(zero)) and zero.summary["lm_eval"]["num_fewshot"] == 0


@pytest.mark.parametrize("which", ["mc", "gen"])
def test_perturb_lens(toy, which):
    import contextlib

    p = toy["paths"][which]
    with contextlib.chdir(p.parent):
        run = evalkit.run(str(p), "tiny-random", out=toy["dir"] / f"perturb-{which}", cache=toy["dir"] / "responses.sqlite",
                          overrides={"lens": "perturb", "perturbations": ["spelling", "robustness"], "n_variants": 3})
    s = run.summary
    assert s["lens"] == "perturb" and s["primary_metric"] == "accuracy_worst"
    assert s["task"] == toy["runs"][which].summary["task"] + ":perturb"  # its own benchmark beside the task's
    native = {r["doc_id"]: r for r in records(toy["runs"][which])}
    recs = records(run)
    metric = "acc" if which == "mc" else "exact_match"
    first = "none" if which == "mc" else "strict-match"
    for r in recs:
        own = native[r["doc_id"]]
        if r["variant"] == "original":  # lm-eval's own prompt and scores
            assert r["prompt"] == own["prompt"] and r["scores"] == own["scores"]
        else:  # only the question text moved: the few-shot block before it and lm-eval's template after it are kept
            shots = own["prompt"][: own["prompt"].rindex("Question: " if which == "gen" else "\n\n") ]
            assert r["prompt"] != own["prompt"] and r["prompt"].startswith(shots)
            assert r["prompt"].endswith("\nAnswer:") and r["params"]["type"] in ("spelling", "robustness")
    assert {r["variant"] for r in recs} >= {"original", "spelling:1", "spelling:2"}
    assert set(s["breakdown"]["perturbation"]) == {"spelling", "robustness"}
    assert s["metric"] == metric and all(k in s["metrics"] for k in ("accuracy_mean", "accuracy_worst", "accuracy_spread", "pdr"))
    assert s["metrics"][metric]["value"] == pytest.approx(toy["runs"][which].summary["breakdown"]["filter"][first][metric]["value"])
    assert s["metrics"]["accuracy_worst"]["value"] <= s["metrics"][metric]["value"]


@pytest.mark.parametrize("which", ["mc", "gen"])
def test_formatspread_lens(toy, which):
    import contextlib

    p = toy["paths"][which]
    with contextlib.chdir(p.parent):
        run = evalkit.run(str(p), "tiny-random", out=toy["dir"] / f"fs-{which}", cache=toy["dir"] / "responses.sqlite",
                          overrides={"lens": "formatspread", "n_formats": 3})
    s = run.summary
    assert s["lens"] == "formatspread" and s["primary_metric"] == "spread" and s["metrics"]["n_formats"]["value"] == 3
    assert s["metrics"]["acc_min"]["value"] <= s["metrics"]["acc_default"]["value"] <= s["metrics"]["acc_max"]["value"]
    native = {r["doc_id"]: r for r in records(toy["runs"][which])}
    for r in records(run):
        own = native[r["doc_id"]]
        if r["variant"] == "lm-eval":
            assert r["prompt"] == own["prompt"] and r["scores"] == own["scores"]
            continue
        assert r["prompt"] != own["prompt"]
        if which == "mc":
            q, choices, _ = MC_DOCS[r["doc_id"]]
            assert r["prompt"].startswith(f"The following are multiple choice questions (with answers) about {SUBJECTS[r['doc_id'] % 2]}.\n\n")
            assert r["prompt"].count(q) == 1 and all(r["prompt"].count(c) >= 1 for c in choices)
            assert r["prompt"].count(choices[0] + "\n") <= 1  # the options once, not lm-eval's list plus the format's
            assert len(r["loglikelihoods"]) == 4


@pytest.mark.parametrize("which", ["mc", "gen"])
def test_posix_lens(toy, which):
    import contextlib

    p = toy["paths"][which]
    with contextlib.chdir(p.parent):
        run = evalkit.run(str(p), "tiny-random", out=toy["dir"] / f"posix-{which}", cache=toy["dir"] / "responses.sqlite",
                          overrides={"lens": "posix", "perturbations": ["spelling"], "n_variants": 2, "max_tokens": 4})
    s = run.summary
    assert s["lens"] == "posix" and s["primary_metric"] == "posix" and s["metrics"]["posix"]["value"] >= 0
    native = {r["doc_id"]: r for r in records(toy["runs"][which])}
    for r in records(run):
        assert r["variant"] == "spelling" and len(r["prompts"]) == 2
        assert r["prompts"][0] == native[int(r["id"])]["prompt"]  # the original is lm-eval's own context


def test_group_yaml_runs_as_a_suite(toy, capsys, tmp_path):
    import contextlib
    import shutil

    d = tmp_path / "g"
    shutil.copytree(toy["dir"], d, ignore=shutil.ignore_patterns("out", "*.sqlite", "fs-*", "perturb-*", "posix-*"))
    # a nested group holding a tag, and a member overridden inside the group (run from the group file)
    (d / "gen.yaml").write_text("tag: toy_tag\n" + (d / "gen.yaml").read_text())
    (d / "toy_sub.yaml").write_text("group: toy_sub\ntask:\n  - toy_tag\n")
    (d / "toy_group.yaml").write_text("group: toy_group\ntask:\n  - toy_sub\n  - task: toy_mmlu\n    num_fewshot: 0\n")
    with contextlib.chdir(d):
        code, out, err = evalkit_cli(["run", "toy_group.yaml", "-m", "tiny-random", "--limit", "2", "-o", str(d / "res"), "-q"], capsys)
    assert code == 0, out + err
    summaries = {p.parent.parent.parent.name: json.loads(p.read_text()) for p in (d / "res").glob("*/*/*/summary.json")}
    assert sorted(summaries) == ["toy_gsm", "toy_mmlu"]
    assert summaries["toy_mmlu"]["lm_eval"]["num_fewshot"] == 0  # the group's override of the task's 2 shots


def test_bad_lm_eval_input_is_one_line(toy, tmp_path, capsys):
    p = toy["paths"]["mc"]
    code, _, err = evalkit_cli(["run", str(p), "-m", "tiny-random", "-T", "lens=sideways"], capsys)
    assert code == 2 and "-T lens=sideways: not a lens; one of perturb, formatspread, posix" in err
    (tmp_path / "odd.yaml").write_text("task: odd\ndataset_path: json\noutput_type: ranking\n")
    code, _, err = evalkit_cli(["run", str(tmp_path / "odd.yaml"), "-m", "tiny-random"], capsys)
    assert code == 2 and "odd.yaml: field 'output_type': 'ranking' is not one of" in err
    (tmp_path / "grp.yaml").write_text("group: grp\ntask:\n  - toy_mmlu\n")
    with pytest.raises(evalkit.EvalkitError, match="an lm-eval group runs as a suite of its tasks"):
        evalkit.run(str(tmp_path / "grp.yaml"), "tiny-random")
