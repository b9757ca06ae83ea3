"""CLI details a new user meets first: --version, `evalkit tasks` at 80 columns, flags in --help, an
unusable device."""

import json
import os
import re
import subprocess

import pytest

from conftest import EVALKIT
import evalkit


def _cli(*args, columns=80):
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    return subprocess.run([EVALKIT, *args], capture_output=True, text=True, env=env)


def test_version():
    r = _cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"evalkit {evalkit.__version__}"


def test_tasks_table_never_truncates_names_at_80_columns():
    r = _cli("tasks")
    assert r.returncode == 0, r.stderr
    names = [t["task"] for t in json.loads(_cli("tasks", "--json").stdout)]
    assert "code_mutations_humaneval" in names
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    first_cells = {line.split("│")[1].strip() for line in lines if line.count("│") >= 3}
    assert set(names) <= first_cells, set(names) - first_cells  # each name whole, in its own cell
    assert "…" not in r.stdout


def test_boolean_flags_have_no_value_placeholder():
    r = _cli("run", "--help", columns=120)
    assert r.returncode == 0
    for flag in ("--no-cache", "--quiet", "--json", "--help"):
        (line,) = [x for x in r.stdout.splitlines() if re.search(rf"{flag}\b", x)]
        assert "<bool>" not in line, line
    assert "<int>" in r.stdout  # options that take a value keep theirs


def test_unusable_device_is_a_one_line_bad_input_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    r = _cli("run", "mcq", "-m", "tiny-random", "--limit", "1", "-B", "device=cuda")
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("evalkit: error: backend option 'device': 'cuda'"), r.stderr
