"""Errors users can act on. The CLI prints them as one line and exits 2."""

from __future__ import annotations

import difflib
from typing import Iterable


class EvalkitError(Exception):
    """Bad input: an unknown name, a malformed file or field. Exit code 2, no traceback."""


def did_you_mean(kind: str, name: str, known: Iterable[str]) -> EvalkitError:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(known)}"
    return EvalkitError(f"unknown {kind} '{name}'{hint}")


def make_dir(path, label: str):
    """mkdir -p `path`; a file in the way or a refused mkdir is one EvalkitError line starting with `label`."""
    from pathlib import Path

    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise EvalkitError(f"{label}: not a directory (a file is in the way)") from None
    except OSError as e:
        raise EvalkitError(f"{label}: cannot create it: {e.strerror}") from None
    return path
