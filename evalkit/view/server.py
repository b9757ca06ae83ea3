"""The read-only results server behind `evalkit view`.

The standard library's ThreadingHTTPServer is enough here (a handful of GET routes on 127.0.0.1, JSON
and a few static files) and adds no dependency to the package. Nothing is served by joining a request
path onto the file system: static assets, runs and each run's plots are looked up by exact name in
tables built at start-up from the given results, so no request can reach any other file.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import EvalkitError
from ..report.sources import Source, discover
from ..store import record_key

STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8",
          "favicon.svg": "image/svg+xml"}
PLOT_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}
MAX_LIMIT = 500  # records per page
RANKED = ("tournament", "csd", "ranking")


class RecordIndex:
    """Byte offsets of the complete lines of a records.jsonl, extended as the file grows (a run still
    going), so a page is a seek and a few reads whatever the file's size."""

    def __init__(self, path: Path):
        self.path, self.offsets, self.scanned = path, [], 0
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        if not self.path.is_file() or self.path.stat().st_size <= self.scanned:
            return
        with open(self.path, "rb") as f:
            f.seek(self.scanned)
            pos = self.scanned
            for line in f:
                if not line.endswith(b"\n"):  # a line still being written
                    break
                if line.strip():
                    self.offsets.append(pos)
                pos += len(line)
        self.scanned = pos

    def page(self, offset: int, limit: int) -> tuple[int, list[dict]]:
        with self._lock:
            self._refresh()
            want = self.offsets[offset : offset + limit]
            total = len(self.offsets)
        out = []
        with open(self.path, "rb") as f:
            for pos in want:
                f.seek(pos)
                out.append(json.loads(f.readline()))
        return total, out

    def all(self) -> list[dict]:
        return self.page(0, 1 << 62)[1]


@dataclass
class Entry:
    """One run, sweep or ranking among the results."""

    run_id: str
    src: Source
    row: dict
    plots: dict[str, Path] = field(default_factory=dict)
    records: RecordIndex | None = None


def _status(src: Source) -> str:
    man = src.manifest if src.manifest is not None else (src.doc if src.kind == "incomplete" else None)
    return str((man or {}).get("status") or ("complete" if src.kind != "incomplete" else "unknown"))


def _kind(src: Source) -> str:
    if src.kind != "incomplete":
        return src.kind
    task = src.doc.get("task")
    if isinstance(task, dict) and task.get("kind"):
        return str(task["kind"])
    return "sweep" if src.doc.get("schema") == "evalkit.sweep-manifest/v1" else "unknown"


class Catalogue:
    """Everything `evalkit view` serves, found once at start-up (records and summaries are read from
    disk per request, so a run still going shows its latest records)."""

    def __init__(self, paths):
        from ..report.render import headline, leaderboard_inputs

        sources = discover(paths)
        self.entries: dict[str, Entry] = {}
        for src in sources:
            if src.kind == "leaderboard":
                continue
            man = src.manifest if src.manifest is not None else (src.doc if src.kind == "incomplete" else {})
            rid = str(src.doc.get("run_id") or man.get("run_id") or "x" + hashlib.sha256(str(src.path.resolve()).encode()).hexdigest()[:11])
            base, n = rid, 2
            while rid in self.entries:  # the same run copied to two places
                rid, n = f"{base}-{n}", n + 1
            label, metric = headline(src) if src.kind != "incomplete" else ("", {})
            row = {
                "run_id": rid, "task": src.task, "kind": _kind(src), "model": src.model, "status": _status(src),
                "path": str(src.dir.resolve()), "backend": src.backend,
                "n_samples": src.doc.get("n_samples", man.get("n_samples")),
                "started": man.get("started"), "ended": man.get("ended") or man.get("finished"),
                "headline": {"metric": label, "value": metric.get("value"), "ci_low": metric.get("ci_low"),
                             "ci_high": metric.get("ci_high")},
            }
            plots = {p.name: p for p in sorted(src.dir.iterdir()) if p.suffix in PLOT_TYPES and p.is_file()}
            rec = src.dir / "records.jsonl"
            self.entries[rid] = Entry(rid, src, row, plots, RecordIndex(rec) if rec.is_file() else None)
        self.boards = [{"id": f"board{i}", "path": str(s.path.resolve()), "built": False, "board": s.doc}
                       for i, s in enumerate(s for s in sources if s.kind == "leaderboard")]
        if not self.boards:
            inputs = leaderboard_inputs(sources)
            if inputs:
                from ..leaderboard import build_leaderboard

                self.boards = [{"id": "board0", "path": None, "built": True, "board": build_leaderboard(inputs)}]

    def runs(self) -> list[dict]:
        return [e.row for e in self.entries.values()]

    def entry(self, run_id: str) -> Entry:
        if run_id not in self.entries:
            raise KeyError(run_id)
        return self.entries[run_id]

    def detail(self, run_id: str) -> dict:
        """The run's row, manifest, stored summary, plot names and each metric's direction and unit."""
        from ..metrics import metric_info

        e = self.entry(run_id)
        summary = self.summary(run_id)
        names = set((summary or {}).get("metrics") or {})
        for levels in ((summary or {}).get("breakdown") or {}).values():
            for ms in levels.values():
                names |= set(ms)
        info = {n: {"higher_is_better": metric_info(n).higher_is_better, "unit": metric_info(n).unit} for n in sorted(names)}
        return {"run": e.row, "manifest": e.src.manifest, "summary": summary, "plots": list(e.plots),
                "n_records": e.records.page(0, 0)[0] if e.records else 0, "metric_info": info}

    def summary(self, run_id: str) -> dict | None:
        e = self.entry(run_id)
        if e.src.kind == "incomplete":
            return None
        if e.src.kind == "lm_eval":  # one task of an lm-eval results file, in a summary's shape
            return e.src.doc
        try:
            return json.loads(e.src.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return e.src.doc

    def records(self, run_id: str, offset: int, limit: int) -> dict:
        e = self.entry(run_id)
        total, recs = e.records.page(offset, limit) if e.records else (0, [])
        return {"run_id": run_id, "total": total, "offset": offset, "limit": limit, "records": recs}

    def compare(self, a: str, b: str, offset: int, limit: int, only_diff: bool) -> dict:
        """Two runs of one task joined on their samples (id, variant): for each, the fields that differ."""
        ea, eb = self.entry(a), self.entry(b)
        if ea.row["task"] != eb.row["task"]:
            raise ValueError(f"runs {a} and {b} are of different tasks ({ea.row['task']}, {eb.row['task']})")
        ra = {record_key(r): r for r in (ea.records.all() if ea.records else [])}
        rb = {record_key(r): r for r in (eb.records.all() if eb.records else [])}
        rows = []
        for key in [k for k in ra if k in rb]:
            x, y = ra[key], rb[key]
            differ = sorted(f for f in set(x) | set(y) if json.dumps(x.get(f), sort_keys=True) != json.dumps(y.get(f), sort_keys=True))
            rows.append({"key": key, "differ": differ, "a": x, "b": y})
        n_differ = sum(1 for r in rows if r["differ"])
        shown = [r for r in rows if r["differ"]] if only_diff else rows
        return {"a": ea.row, "b": eb.row, "shared": len(rows), "only_a": len(ra) - len(rows), "only_b": len(rb) - len(rows),
                "n_differ": n_differ, "total": len(shown), "offset": offset, "limit": limit, "rows": shown[offset : offset + limit]}


class _Handler(BaseHTTPRequestHandler):
    server: "ViewServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002  (quiet: the terminal shows the URL, not every request)
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        # the page's own script and styles only: nothing is fetched from anywhere else
        self.send_header("Content-Security-Policy", "default-src 'self'; img-src 'self'; object-src 'none'; frame-ancestors 'none'")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj, status: int = 200) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False, allow_nan=False).encode(), "application/json; charset=utf-8")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._json({"error": message}, status.value)

    def do_GET(self):  # noqa: N802
        # The Host must be this server's own address: a page on another site that points a DNS name at
        # 127.0.0.1 (DNS rebinding) cannot read the results.
        host = (self.headers.get("Host") or "").rsplit(":", 1)
        if host[0] not in ("127.0.0.1", "localhost") or (len(host) > 1 and host[1] != str(self.server.server_port)):
            return self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        query = parse_qs(url.query)
        cat = self.server.catalogue
        try:
            if parts in ([""], ["index.html"]):
                return self._static("index.html")
            if len(parts) == 2 and parts[0] == "static":
                return self._static(parts[1])
            if parts[:1] != ["api"]:
                return self._error(HTTPStatus.NOT_FOUND, "not found")
            route = parts[1:]
            if route == ["runs"]:
                return self._json(cat.runs())
            if route == ["leaderboards"]:
                return self._json(cat.boards)
            if route == ["compare"]:
                a, b = (query.get(k, [""])[0] for k in ("a", "b"))
                off, lim = self._paging(query)
                return self._json(cat.compare(a, b, off, lim, query.get("only_diff", ["0"])[0] == "1"))
            if len(route) >= 2 and route[0] == "runs":
                rid, rest = route[1], route[2:]
                if rest == []:
                    return self._json(cat.detail(rid))
                if rest == ["summary"]:
                    s = cat.summary(rid)
                    return self._json(s) if s is not None else self._error(HTTPStatus.NOT_FOUND, f"run {rid} has no summary (status {cat.entry(rid).row['status']})")
                if rest == ["records"]:
                    off, lim = self._paging(query)
                    return self._json(cat.records(rid, off, lim))
                if len(rest) == 2 and rest[0] == "files":
                    plot = cat.entry(rid).plots.get(rest[1])
                    if plot is None:
                        return self._error(HTTPStatus.NOT_FOUND, "no such file in this run")
                    return self._send(200, plot.read_bytes(), PLOT_TYPES[plot.suffix])
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        except KeyError as e:
            return self._error(HTTPStatus.NOT_FOUND, f"no run {e.args[0]!r}")
        except ValueError as e:
            return self._error(HTTPStatus.BAD_REQUEST, str(e))

    do_HEAD = do_GET

    def _static(self, name: str) -> None:
        if name not in STATIC:
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        self._send(200, self.server.assets[name], STATIC[name])

    @staticmethod
    def _paging(query) -> tuple[int, int]:
        try:
            offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["50"])[0])
        except ValueError:
            raise ValueError("offset and limit must be integers") from None
        if offset < 0 or not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"offset must be >= 0 and limit between 1 and {MAX_LIMIT}")
        return offset, limit

    def _method_not_allowed(self):
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, "read-only")

    do_POST = do_PUT = do_DELETE = do_PATCH = _method_not_allowed


class ViewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, catalogue: Catalogue, port: int = 0):
        self.catalogue = catalogue
        self.assets = {name: files("evalkit.view").joinpath("static", name).read_bytes() for name in STATIC}
        try:
            super().__init__(("127.0.0.1", port), _Handler)
        except OSError as e:
            raise EvalkitError(f"--port {port}: cannot listen on 127.0.0.1:{port}: {e.strerror}") from None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/"


def make_server(paths, port: int = 0) -> ViewServer:
    """The server over result files, directories (searched recursively) or globs; port 0: any free port."""
    return ViewServer(Catalogue(paths), port)
