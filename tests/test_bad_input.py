"""Every bad input of the reliability audit (issue 18): exit 2, one line on stderr naming the file and
field (or the flag), no traceback, and nothing computed lost."""

import json
import sys

import pytest

from conftest import REPO
from evalkit import cli

ROW = '{"id": "q1", "question": "2+2?", "options": ["3", "4"], "gold": 1}\n'
TASK = "task: x\nkind: mcq\ndata: data.jsonl\n"


def _task(t, yaml_bytes=TASK.encode(), data=ROW.encode()):
    (t / "data.jsonl").write_bytes(data)
    (t / "t.yaml").write_bytes(yaml_bytes)
    return str(t / "t.yaml")


def _file(t):
    (t / "afile").write_text("keep me")
    return str(t / "afile")


def _samples(t):
    (t / "s.jsonl").write_text('{"task_id": "HumanEval/0", "completion": "    return False\\n"}\n')
    return str(t / "s.jsonl")


def _damaged_run(t):
    out = t / "run"
    sys.argv = ["evalkit", "run", "mcq", "-m", "tiny-random", "--limit", "3", "-q", "-o", str(out)]
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 0
    lines = (out / "records.jsonl").read_text().splitlines(keepends=True)
    (out / "records.jsonl").write_text(lines[0] + '{"id": "q2", "ll\n' + lines[2])
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    return str(out)


MCQ = ["run", "mcq", "-m", "tiny-random", "--limit", "2", "-q"]

# (id, args(tmp_path, monkeypatch) -> argv, expected piece of the one-line error)
CASES = [
    ("data-not-utf8", lambda t, m: ["run", _task(t, data=b'{"id": "q1", "question": "caf\xe9?"}\n'), "-m", "tiny-random", "-q"],
     "data.jsonl:1: not UTF-8 text (byte"),
    ("yaml-not-utf8", lambda t, m: ["run", _task(t, yaml_bytes=TASK.encode() + b"description: caf\xe9\n"), "-m", "tiny-random", "-q"],
     "t.yaml: not UTF-8 text"),
    ("T-bad-yaml", lambda t, m: [*MCQ, "-T", "template=[oops"], "-T 'template=[oops': the value is not valid YAML"),
    ("B-batch-tokens", lambda t, m: [*MCQ, "-B", "batch_tokens=lots"], "-B batch_tokens=lots: Input should be a valid integer"),
    ("B-max-length", lambda t, m: [*MCQ, "-B", "max_length=long"], "-B max_length=long: Input should be a valid integer"),
    ("B-no-value", lambda t, m: [*MCQ, "-B", "dtype"], "-B 'dtype': expected key=value"),
    ("run-o-file", lambda t, m: [*MCQ, "-o", _file(t)], "afile: not a directory (a file is in the way)"),
    ("code-exec-o-file", lambda t, m: ["code-exec", _samples(t), "-o", _file(t)], "afile: not a directory (a file is in the way)"),
    ("cache-dir-file", lambda t, m: (m.setenv("EVALKIT_CACHE_DIR", _file(t)), MCQ)[1], "EVALKIT_CACHE_DIR="),
    ("records-corrupt-middle", lambda t, m: [*MCQ[:5], "3", "-q", "-o", _damaged_run(t)], "records.jsonl:2: not a record"),
    ("sweep-no-optuna", lambda t, m: (m.setitem(sys.modules, "optuna", None), ["sweep", str(REPO / "tasks/sweeps/tiny_ci.yaml")])[1],
     "needs the Python package 'optuna': pip install 'evalkit[tune]'"),
    ("sweep-no-trl", lambda t, m: (m.setitem(sys.modules, "trl", None), ["sweep", str(REPO / "tasks/sweeps/tiny_ci.yaml")])[1],
     "needs the Python package 'trl': pip install 'evalkit[tune]'"),
    ("empty-data", lambda t, m: ["run", _task(t, data=b"\n"), "-m", "tiny-random", "-q"], "t.yaml: field 'data': no samples in data.jsonl"),
    ("workers-0", lambda t, m: ["code-exec", _samples(t), "--workers", "0"], "--workers: must be >= 1, got 0"),
    ("formats-file-missing", lambda t, m: ["run", "formatspread_mcq", "-m", "tiny-random", "--limit", "2", "-q", "-T",
                                           f"formats_file={t / 'nope.json'}"],
     "formatspread_mcq.yaml: field 'formats_file': file not found"),
    ("gold-out-of-range", lambda t, m: ["run", _task(t, data=ROW.replace('"gold": 1', '"gold": 5').encode()), "-m", "tiny-random", "-q"],
     "data.jsonl:1: field 'gold': Value error, gold index 5 outside 0..1"),
    ("judge-template-unknown", lambda t, m: ["run", "judge_pairs", "-m", "tiny-random", "-q", "-T", "template=nope"],
     "judge_pairs.yaml: field 'template': unknown judge template 'nope'"),
    ("limit-ten", lambda t, m: [*MCQ[:4], "--limit", "ten"], "Invalid value for '--limit'"),
    ("seed-x", lambda t, m: [*MCQ, "--seed", "x"], "Invalid value for '--seed'"),
    ("isolation-unknown", lambda t, m: ["code-exec", _samples(t), "--isolation", "docker"], "sandbox isolation 'docker'"),
]


@pytest.mark.parametrize("args,expect", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2(tmp_path, monkeypatch, capsys, args, expect):
    argv = args(tmp_path, monkeypatch)
    capsys.readouterr()
    sys.argv = ["evalkit", *argv]
    with pytest.raises(SystemExit) as exc:
        cli.main()
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert expect in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    if (tmp_path / "afile").exists():
        assert (tmp_path / "afile").read_text() == "keep me"


def test_a_damaged_run_is_kept_and_marked_failed(tmp_path, monkeypatch, capsys):
    out = _damaged_run(tmp_path)
    before = (tmp_path / "run" / "records.jsonl").read_text()
    sys.argv = ["evalkit", *MCQ[:5], "3", "-q", "-o", out]
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 2
    assert (tmp_path / "run" / "records.jsonl").read_text() == before
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["status"] == "failed"
