"""CLI contract: listings, exit codes, one-line errors naming the file and field."""

import json
import subprocess

import pytest

from conftest import EVALKIT, REPO, evalkit_cli




def test_models_and_tasks_listings(capsys):
    code, out, _ = evalkit_cli(["models", "--json"], capsys)
    rows = json.loads(out)
    assert code == 0 and [r["name"] for r in rows if r["default"]] == ["smollm2-135m-instruct"]
    code, out, _ = evalkit_cli(["tasks", "--json"], capsys)
    assert code == 0 and {"mcq", "mcq_chat"} <= {r["task"] for r in json.loads(out)}


def test_run_prints_summary_json(tmp_path, capsys):
    code, out, _ = evalkit_cli(["run", "mcq", "-m", "tiny-random", "--limit", "3", "--json", "-o", str(tmp_path / "r")], capsys)
    assert code == 0 and json.loads(out)["metrics"]["acc"]["n"] == 3


def _task(tmp_path, text, data=None):
    if data is not None:
        (tmp_path / "data.jsonl").write_text(data)
    p = tmp_path / "t.yaml"
    p.write_text(text)
    return str(p)


GOOD_ROW = '{"id": "q1", "question": "2+2?", "options": ["3", "4"], "gold": 1}\n'


@pytest.mark.parametrize(
    "args_fn, expect",
    [
        (lambda t: ["run", "mcq", "-m", "tiny-randm"], "unknown model 'tiny-randm'; did you mean 'tiny-random'?"),
        (lambda t: ["run", "mqc", "-m", "tiny-random"], "unknown task 'mqc'; did you mean 'mcq'?"),
        (lambda t: ["run", "mcq", "-m", "tiny-random", "-b", "vlm"], "unknown backend 'vlm'; did you mean 'vllm'?"),
        (lambda t: ["run", "mcq", "-m", "tiny-random", "-T", "tempalte=x"], "field 'tempalte': Extra inputs are not permitted"),
        (lambda t: ["run", "mcq", "-m", "tiny-random", "-B", "batch=3"], "-B batch: unknown option for backend 'hf'"),
        (lambda t: ["run", _task(t, "task: x\nkind: mcq\ndata: [unclosed\n"), "-m", "tiny-random"], "t.yaml:4: malformed YAML"),
        (lambda t: ["run", _task(t, "task: x\nkind: mcq\ndata: data.jsonl\ncolour: red\n", GOOD_ROW), "-m", "tiny-random"],
         "t.yaml: field 'colour': Extra inputs are not permitted"),
        (lambda t: ["run", _task(t, "task: x\nkind: mcq\ndata: nowhere.jsonl\n"), "-m", "tiny-random"], "t.yaml: field 'data': file not found"),
        (lambda t: ["run", _task(t, "task: x\nkind: mqc\ndata: data.jsonl\n", GOOD_ROW), "-m", "tiny-random"],
         "t.yaml: field 'kind': unknown task kind 'mqc'"),
        (lambda t: ["run", _task(t, "task: x\nkind: mcq\ndata: data.jsonl\n", GOOD_ROW + "{oops\n"), "-m", "tiny-random"],
         "data.jsonl:2: invalid JSON"),
        (lambda t: ["run", _task(t, "task: x\nkind: mcq\ndata: data.jsonl\n", GOOD_ROW.replace('"gold": 1', '"gold": 5')), "-m", "tiny-random"],
         "data.jsonl:1: field 'gold': Value error, gold index 5 outside 0..1"),
        (lambda t: ["run", _task(t, "task: x\nkind: mcq\ndata: data.jsonl\n", GOOD_ROW.replace('"options"', '"opts"')), "-m", "tiny-random"],
         "data.jsonl:1: field 'options': Field required"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, args_fn, expect):
    code, out, err = evalkit_cli(args_fn(tmp_path), capsys)
    assert code == 2
    assert expect in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_flag_and_console_script(tmp_path):
    proc = subprocess.run([EVALKIT, "run", "mcq", "--limit", "many"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--limit" in proc.stderr
    proc = subprocess.run([EVALKIT, "run", "mcq", "-m", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip() == "evalkit: error: unknown model 'nope'; known: smollm2-135m-instruct, tiny-random"


def test_rerun_into_another_runs_directory_is_refused(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert evalkit_cli(["run", "mcq", "-m", "tiny-random", "--limit", "2", "-q", "-o", out], capsys)[0] == 0
    code, _, err = evalkit_cli(["run", "mcq", "-m", "tiny-random", "--limit", "3", "-q", "-o", out], capsys)
    assert code == 2 and "manifest.json: field 'run_id'" in err
