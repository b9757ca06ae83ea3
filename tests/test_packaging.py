"""A non-editable install works outside the checkout: the wheel carries the built-in tasks (with their
data, sweeps and suites) and the judge templates; `evalkit tasks`, `evalkit run mcq` and `--version` work
from another directory, from the installed package alone."""

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
import evalkit


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # --no-build-isolation: the venv's setuptools builds it (no download); build/ is the scratch dir
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(REPO)],
                   check=True, capture_output=True, text=True, cwd=out)
    (whl,) = out.glob("evalkit-*.whl")
    return whl


def test_wheel_ships_builtin_tasks_judges_and_assets(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for src in ("tasks", "judges"):
        for f in (REPO / src).rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts and not f.name.startswith("."):
                assert f"evalkit/_builtin/{f.relative_to(REPO)}" in names, f"{f.relative_to(REPO)} is not in the wheel"
    assert any(n.startswith("evalkit/_builtin/tasks/suites/") for n in names)  # the shipped suites
    for f in ("evalkit/assets/tiny_corpus.txt", "evalkit/schemas/leaderboard.v1.json", "evalkit/view/static/index.html",
              "evalkit/view/static/app.js", "evalkit/view/static/style.css"):
        assert f in names
    assert f"evalkit-{evalkit.__version__}.dist-info/METADATA" in names


def test_installed_wheel_runs_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # Dependencies come from this venv's site-packages, appended after the new venv's own (a path in a
    # .pth file: the editable install's own .pth hook there is not run, so the wheel's evalkit is the one found)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, text=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("EVALKIT_TASKS", "PYTHONPATH")}
    evalkit_bin = str(venv / "bin" / "evalkit")

    def sh(*args):
        r = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]
        return r.stdout

    where = sh(str(py), "-c", "import evalkit, evalkit.tasks as t, evalkit.judging as j; "
                              "print(evalkit.__file__); print(t.builtin_dir('tasks')); print(j.judges_dir())").split()
    assert all(w.startswith(str(venv)) for w in where), where
    assert sh(evalkit_bin, "--version").strip() == f"evalkit {evalkit.__version__}"
    import json

    listed = {r["task"]: r for r in json.loads(sh(evalkit_bin, "tasks", "--json"))}
    assert {"mcq", "posix_mcq", "judge_pairs", "code_agent"} <= set(listed)
    assert listed["mcq"]["path"].startswith(str(site))
    assert sh(str(py), "-c", "from evalkit.judging import load_template; print(load_template('pandalm').id)").strip()
    s = json.loads(sh(evalkit_bin, "run", "mcq", "-m", "tiny-random", "--limit", "3", "--json"))
    assert s["task"] == "mcq" and s["n_samples"] == 3 and (work / "results" / "mcq").is_dir()
