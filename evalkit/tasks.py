"""Task definitions: YAML files validated against their kind's config, plus their data files."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import EvalkitError, did_you_mean


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


class TaskConfig(BaseModel):
    """Fields every task YAML has; each kind extends it. Unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    kind: str
    description: str = ""
    data: str
    prompt_format: Literal["raw", "chat"] = "raw"
    system_prompt: str | None = None

    def framed(self, text: str):
        """The user text as this task presents it: chat messages (system prompt first) for
        `chat`, else raw text with the system prompt as a leading paragraph."""
        if self.prompt_format == "chat":
            return ((("system", self.system_prompt),) if self.system_prompt else ()) + (("user", text),)
        return self.system_prompt + "\n\n" + text if self.system_prompt else text


@dataclass(frozen=True)
class TaskSpec:
    name: str
    path: Path  # the YAML file
    config: TaskConfig
    content_hash: str  # YAML (after overrides) + data file

    @property
    def data_path(self) -> Path:
        return (self.path.parent / self.config.data).resolve()


def builtin_dir(name: str) -> Path:
    """The built-in `tasks` or `judges` directory: an installed wheel's copy (setup.py puts it in
    evalkit/_builtin/), else the checkout's top-level directory (an editable install, a source tree)."""
    here = Path(__file__).resolve().parent
    packaged = here / "_builtin" / name
    return packaged if packaged.is_dir() else here.parent / name


def task_dirs(include: list[str] | None = None) -> list[Path]:
    """Where tasks are looked up, first wins: --include, $EVALKIT_TASKS, ./tasks, the built-in tasks."""
    dirs = [Path(p) for p in include or []]
    dirs += [Path(p) for p in os.environ.get("EVALKIT_TASKS", "").split(os.pathsep) if p]
    dirs += [Path.cwd() / "tasks", builtin_dir("tasks")]
    seen, out = set(), []
    for d in dirs:
        if d.is_dir() and d.resolve() not in seen:
            seen.add(d.resolve())
            out.append(d)
    return out


def find_tasks(include: list[str] | None = None) -> dict[str, Path]:
    """Task name -> YAML path, first directory wins."""
    found: dict[str, Path] = {}
    for d in task_dirs(include):
        for p in sorted(d.glob("*.y*ml")):
            try:
                doc = read_yaml(p.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError):  # reported when that task is run by its path
                continue
            if isinstance(doc, dict) and "task" in doc and "kind" in doc:
                found.setdefault(str(doc["task"]), p)
    return found


def parse_overrides(items: list[str] | None, flag: str = "-T") -> dict[str, Any]:
    """key=value items (`flag` names them in errors); each value is read as YAML (12 -> int, [a, b] -> list)."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise EvalkitError(f"{flag} '{item}': expected key=value")
        try:
            out[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError as e:
            raise EvalkitError(f"{flag} '{item}': the value is not valid YAML ({getattr(e, 'problem', None) or e}); "
                               "quote it to pass a string") from None
    return out


def load_task(name_or_path: str, overrides: dict[str, Any] | None = None, include: list[str] | None = None) -> TaskSpec:
    from .kinds import kind_class

    path = Path(name_or_path)
    if not (path.suffix in {".yaml", ".yml"} and path.is_file()):
        if path.suffix in {".yaml", ".yml"}:
            raise EvalkitError(f"{path}: task file not found")
        tasks = find_tasks(include)
        if name_or_path not in tasks:
            raise did_you_mean("task", name_or_path, tasks)
        path = tasks[name_or_path]
    doc = parse_yaml(read_text(path.read_bytes(), path), path)
    if not isinstance(doc, dict):
        raise EvalkitError(f"{path}: expected a mapping of task fields, got {type(doc).__name__}")
    if "kind" not in doc and "output_type" in doc:
        doc = lm_eval_task(path, doc)
    if "kind" not in doc:
        raise EvalkitError(f"{path}: field 'kind': required")
    doc = {**doc, **(overrides or {})}
    kind = kind_class(str(doc["kind"]), where=f"{path}: field 'kind'")
    config = validate(kind.Config, doc, str(path))
    h = hashlib.sha256(json.dumps(config.model_dump(), sort_keys=True).encode())
    if config.data in kind.named_data:  # a data set the kind loads by name (e.g. HumanEval from its package)
        h.update(kind.named_data[config.data]().encode())
    else:
        data = (path.parent / config.data).resolve()
        if not data.is_file():
            raise EvalkitError(f"{path}: field 'data': file not found: {data}")
        h.update(data.read_bytes())
    return TaskSpec(config.task, path.resolve(), config, "sha256:" + h.hexdigest())


def lm_eval_task(path: Path, doc: dict) -> dict:
    """An lm-evaluation-harness task YAML becomes a `formatspread` task over the same documents,
    loaded by lm-eval itself (kinds/formatspread.py), so its format spread can be measured."""
    if doc.get("output_type") != "multiple_choice":
        raise EvalkitError(f"{path}: field 'output_type': only lm-eval multiple_choice tasks can be imported, got '{doc.get('output_type')}'")
    if "task" not in doc:
        raise EvalkitError(f"{path}: field 'task': required")
    return {"task": str(doc["task"]), "kind": "formatspread", "data": path.name, "source": "lm-eval", "answer": "text",
            "description": f"format spread of the lm-eval task {doc['task']}"}


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
