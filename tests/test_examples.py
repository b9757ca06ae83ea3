"""The notebook example runs as a script (every cell, in order) on tiny-random."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_notebook_example_runs(tmp_path):
    res = subprocess.run([sys.executable, str(REPO / "examples/notebook_api.py"), "tiny-random"], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "raw: acc =" in res.stdout and "chat: acc =" in res.stdout
    png = Path("results/notebook/mcq_by_category.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
