"""Reading results back as pandas DataFrames (notebooks, reports, leaderboards)."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import pandas as pd

from .errors import EvalkitError


def _run_dirs(paths) -> list[Path]:
    """Run directories (holding manifest.json) under each path or glob."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    dirs: set[Path] = set()
    for p in paths:
        for hit in glob.glob(str(p), recursive=True) or [str(p)]:
            hp = Path(hit)
            if hp.is_file():
                hp = hp.parent
            if not hp.exists():
                raise EvalkitError(f"{hp}: no such results path")
            dirs.update(m.parent for m in ([hp / "manifest.json"] if (hp / "manifest.json").exists() else hp.rglob("manifest.json")))
    return sorted(dirs)


def load_results(paths) -> pd.DataFrame:
    """One row per record, with the run's task, model, backend and run id in front."""
    frames = []
    for d in _run_dirs(paths):
        manifest = json.loads((d / "manifest.json").read_text())
        rec = d / "records.jsonl"
        rows = [json.loads(line) for line in rec.read_text().splitlines() if line.strip()] if rec.exists() else []
        df = pd.DataFrame(rows)
        for col, val in reversed(
            [("task", manifest["task"]["name"]), ("model", manifest["model"]["name"]),
             ("backend", manifest["backend"]["backend"]), ("run_id", manifest["run_id"])]
        ):
            df.insert(0, col, val)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_summaries(paths) -> pd.DataFrame:
    """One row per run x metric (breakdown levels as rows with axis/level set)."""
    rows = []
    for d in _run_dirs(paths):
        s = d / "summary.json"
        if not s.exists():
            continue
        summary = json.loads(s.read_text())
        base = {k: summary.get(k) for k in ("task", "kind", "model", "backend", "run_id")}
        for name, m in summary.get("metrics", {}).items():
            rows.append({**base, "axis": None, "level": None, "metric": name, **m})
        for axis, levels in summary.get("breakdown", {}).items():
            for level, metrics in levels.items():
                for name, m in metrics.items():
                    rows.append({**base, "axis": axis, "level": level, "metric": name, **m})
    return pd.DataFrame(rows)
