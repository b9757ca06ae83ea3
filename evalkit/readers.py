"""Readers for the files users write: YAML (task, suite, sweep, bench files) and JSONL (data, records).
Every failure is one EvalkitError line naming the file (and line, and field where there is one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import yaml
from pydantic import BaseModel, ValidationError

from .errors import EvalkitError


class _YAMLLoader(yaml.SafeLoader):
    """Safe YAML that tolerates lm-eval's `!function module.fn` tags (lm-eval resolves them itself)."""


_YAMLLoader.add_constructor("!function", lambda loader, node: "!function " + loader.construct_scalar(node))


def read_yaml(text: str):
    return yaml.load(text, Loader=_YAMLLoader)


def read_text(data: bytes, where) -> str:
    """UTF-8 text, or an EvalkitError naming `where` (a file, file:line) and the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise EvalkitError(f"{where}: not UTF-8 text (byte {e.start}: {data[e.start:e.start + 1]!r}); save it as UTF-8") from None


def load_yaml_mapping(path, what: str, label: str | None = None) -> dict:
    """A YAML file that must hold a mapping (a sweep config, a bench space, a suite): a missing file,
    non-UTF-8 text, malformed YAML or another type is one EvalkitError line naming the file."""
    p = Path(path)
    if not p.is_file():
        raise EvalkitError(f"{label or p}: {what} not found")
    doc = parse_yaml(read_text(p.read_bytes(), p), p)
    if not isinstance(doc, dict):
        raise EvalkitError(f"{p}: expected a mapping ({what}), got {type(doc).__name__}")
    return doc


def parse_yaml(text: str, path) -> Any:
    """read_yaml, with malformed YAML as an EvalkitError naming the file and line."""
    try:
        return read_yaml(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise EvalkitError(f"{path}{f':{mark.line + 1}' if mark else ''}: malformed YAML: {getattr(e, 'problem', e)}") from None


def validate(model: type[BaseModel], doc: dict, where: str):
    try:
        return model.model_validate(doc)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "?"
        raise EvalkitError(f"{where}: field '{field}': {err['msg']}") from None


def iter_jsonl(path: str | Path) -> Iterator[tuple[str, int, dict]]:
    """(where = "file:line", line number, object) for each non-blank line; a line that is not a JSON
    object is an EvalkitError naming file:line."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            where = f"{path}:{lineno}"
            line = read_text(raw, where)
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as e:
                raise EvalkitError(f"{where}: invalid JSON: {e.msg}") from None
            if not isinstance(doc, dict):
                raise EvalkitError(f"{where}: expected a JSON object")
            yield where, lineno, doc


def read_jsonl(path: Path, sample_model: type[BaseModel] | None = None) -> list[dict]:
    rows = []
    for where, _, row in iter_jsonl(path):
        if sample_model is not None:
            row = validate(sample_model, row, where).model_dump()
        rows.append(row)
    ids = [str(r.get("id")) for r in rows]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise EvalkitError(f"{path}: field 'id': duplicate id '{dup}'")
    return rows
