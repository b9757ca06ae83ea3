"""Labelled judge pairs from evalkit JSONL, the PandaLM test-set JSON, or JudgeBench JSONL."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..errors import EvalkitError
from ..readers import iter_jsonl, read_jsonl, validate

DataFormat = Literal["auto", "evalkit", "pandalm", "judgebench"]


class LabelledPair(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    instruction: str
    input: str = ""
    response_a: str
    response_b: str
    label: Literal["A", "B", "tie"]
    family: str = ""


class _PandaLMItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    idx: int
    instruction: str
    input: str = ""
    response1: str
    response2: str
    annotator1: int
    annotator2: int
    annotator3: int
    cmp_key: str = ""


_PANDALM_TEXT = ("instruction", "input", "response1", "response2", "cmp_key")


class _JudgeBenchItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    pair_id: str
    question: str
    response_A: str
    response_B: str
    label: Literal["A>B", "B>A"]
    source: str = ""


def detect_format(path: Path) -> str:
    head = path.read_text(encoding="utf-8")[:4096].lstrip()
    if head.startswith("["):
        return "pandalm"
    return "judgebench" if '"response_A"' in head.split("\n", 1)[0] else "evalkit"


def load_pairs(path: str | Path, fmt: DataFormat = "auto") -> list[dict]:
    """Rows {id, instruction, input, response_a, response_b, label, family}, whatever the source format.

    PandaLM: gold is the majority of the three annotators (0 tie, 1 → A, 2 → B); items without a
    majority are skipped (testset-v1 has none). The released file is loaded as it is: some responses
    are JSON scalars (`true`, numbers), which become the text PandaLM's own prompt builder renders
    (str(): "True", "42"; null: ""); each row lists its coerced fields under `coerced` and the judge
    summary counts them. JudgeBench: labels A>B / B>A, family = source.
    """
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "evalkit":
        return read_jsonl(path, LabelledPair)
    if fmt == "judgebench":
        rows = _read_jsonl_keyed(path, _JudgeBenchItem, "pair_id")
        return [{"id": r["pair_id"], "instruction": r["question"], "input": "", "response_a": r["response_A"],
                 "response_b": r["response_B"], "label": r["label"][0], "family": r["source"].split(":")[0]} for r in rows]
    if fmt == "pandalm":
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise EvalkitError(f"{path}: invalid JSON: {e.msg} (line {e.lineno})") from None
        if not isinstance(items, list):
            raise EvalkitError(f"{path}: expected a JSON list of PandaLM test items")
        out = []
        for k, item in enumerate(items):
            coerced = []
            if isinstance(item, dict):
                item = dict(item)
                for key in _PANDALM_TEXT:
                    v = item.get(key)
                    if v is None and key in item or isinstance(v, (bool, int, float)):
                        item[key] = "" if v is None else str(v)
                        coerced.append(key)
            it = validate(_PandaLMItem, item, f"{path}: item {k}")
            (label, count), = Counter([it.annotator1, it.annotator2, it.annotator3]).most_common(1)
            if count < 2:
                continue
            if label not in (0, 1, 2):
                raise EvalkitError(f"{path}: item {k}: field 'annotator1': labels must be 0, 1 or 2")
            out.append({"id": str(it.idx), "instruction": it.instruction, "input": it.input, "response_a": it.response1,
                        "response_b": it.response2, "label": ("tie", "A", "B")[label], "family": it.cmp_key, "coerced": coerced})
        return out
    raise EvalkitError(f"data_format: must be auto, evalkit, pandalm or judgebench, got '{fmt}'")


def _read_jsonl_keyed(path: Path, model: type[BaseModel], key: str) -> list[dict]:
    rows, seen = [], set()
    for where, _, row in iter_jsonl(path):
        row = validate(model, row, where).model_dump()
        if row[key] in seen:
            raise EvalkitError(f"{where}: field '{key}': duplicate '{row[key]}'")
        seen.add(row[key])
        rows.append(row)
    return rows
