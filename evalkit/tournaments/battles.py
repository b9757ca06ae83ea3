"""Reading pairwise battles: JSONL rows `model_a, model_b, winner` (Chatbot Arena's columns), or the
battle records of evalkit tournament runs (their unparsed verdicts are dropped, as FastChat drops
errored games). An optional `score` (A's share in [0, 1]; tournament records carry the judge's
combined preference) is the battle's soft outcome in the ratings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import EvalkitError
from ..readers import iter_jsonl
from ..store import expand, find_files
from .ratings import check_battles

COLUMNS = ["model_a", "model_b", "winner", "score", "len_a", "len_b"]


def _jsonl_battles(path: Path) -> list[dict]:
    rows = []
    for where, _, row in iter_jsonl(path):
        if row.get("type", "battle") != "battle":
            continue  # a tournament's response records
        if row.get("winner") is None and "games" in row:
            continue  # unparsed verdict
        for key in ("model_a", "model_b", "winner"):
            if key not in row:
                raise EvalkitError(f"{where}: field '{key}': required")
        if row["winner"] not in ("model_a", "model_b", "tie"):
            raise EvalkitError(f"{where}: field 'winner': must be model_a, model_b or tie, got {row['winner']!r}")
        score = row.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1):
            raise EvalkitError(f"{where}: field 'score': must be a number in [0, 1] (A's share of the battle), got {score!r}")
        rows.append({k: row.get(k) for k in COLUMNS})
    return rows


def load_battles(paths) -> pd.DataFrame:
    rows = []
    for p in expand(paths):
        files = find_files(p, ("records.jsonl",))
        if not files:
            raise EvalkitError(f"{p}: no records.jsonl below this directory")
        for f in files:
            rows += _jsonl_battles(f)
    df = pd.DataFrame(rows, columns=COLUMNS)
    return check_battles(df, where=", ".join(map(str, paths)))
