"""Reading pairwise battles: JSONL rows `model_a, model_b, winner` (Chatbot Arena's columns), or the
battle records of evalkit tournament runs (their unparsed verdicts are dropped, as FastChat drops
errored games)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import EvalkitError
from .ratings import check_battles

COLUMNS = ["model_a", "model_b", "winner", "len_a", "len_b"]


def _jsonl_battles(path: Path) -> list[dict]:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise EvalkitError(f"{path}:{lineno}: invalid JSON: {e.msg}") from None
        if row.get("type", "battle") != "battle":
            continue  # a tournament's response records
        if row.get("winner") is None and "games" in row:
            continue  # unparsed verdict
        for key in ("model_a", "model_b", "winner"):
            if key not in row:
                raise EvalkitError(f"{path}:{lineno}: field '{key}': required")
        if row["winner"] not in ("model_a", "model_b", "tie"):
            raise EvalkitError(f"{path}:{lineno}: field 'winner': must be model_a, model_b or tie, got {row['winner']!r}")
        rows.append({k: row.get(k) for k in COLUMNS})
    return rows


def load_battles(paths) -> pd.DataFrame:
    rows = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(p.rglob("records.jsonl"))
            if not files:
                raise EvalkitError(f"{p}: no records.jsonl below this directory")
        elif p.is_file():
            files = [p]
        else:
            raise EvalkitError(f"{p}: no such file or directory")
        for f in files:
            rows += _jsonl_battles(f)
    df = pd.DataFrame(rows, columns=COLUMNS)
    return check_battles(df, where=", ".join(map(str, paths)))
