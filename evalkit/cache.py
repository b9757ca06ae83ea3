"""Response cache: SQLite in WAL mode, one row per (backend identity, request).

The key hashes the full backend identity (model name, path and weights hash, backend and its
version, dtype, chat-template hash) together with the canonical request (sampling settings and
seed included), so two models can never share an entry (lm-eval's cache can: lm-eval #2715).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Sequence

from .requests import Request, Result, request_key, result_from_dict, to_dict


def cache_path(cache: bool | str | Path = True) -> Path:
    """The response cache file: True for the user's ($EVALKIT_RESPONSE_CACHE, else <cache dir>/responses.sqlite),
    a path for another file."""
    if cache is True:
        from .models import cache_dir

        return Path(os.environ.get("EVALKIT_RESPONSE_CACHE") or cache_dir() / "responses.sqlite")
    return Path(cache)


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, kind TEXT NOT NULL, value TEXT NOT NULL)")

    @staticmethod
    def key(identity: dict, req: Request) -> str:
        payload = json.dumps(identity, sort_keys=True) + "\n" + request_key(req)
        return hashlib.sha256(payload.encode()).hexdigest()

    def get_many(self, identity: dict, requests: Sequence[Request]) -> list[Result | None]:
        keys = [self.key(identity, r) for r in requests]
        found: dict[str, tuple[str, str]] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                q = f"SELECT key, kind, value FROM responses WHERE key IN ({','.join('?' * len(chunk))})"
                found.update({k: (kind, v) for k, kind, v in self._db.execute(q, chunk)})
        return [result_from_dict(*_decode(found[k])) if k in found else None for k in keys]

    def put(self, identity: dict, req: Request, result: Result) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?)",
                (self.key(identity, req), type(req).__name__, json.dumps(to_dict(result))),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        self._db.close()


def _decode(row: tuple[str, str]) -> tuple[str, dict]:
    return row[0], json.loads(row[1])
