"""The sandboxed side: a value codec and the bootstrap that runs one candidate program.

This file has two uses. The parent imports it for `encode`/`decode`, and sends its source
verbatim to the child as `python -I [-S] -c <source> <fd>`, where `__name__ == "__main__"` runs
`_main`. So it imports only the standard library and never evalkit; the child side avoids even
`json` (whose import costs more than the interpreter's own start-up) and writes JSON itself.

Parent -> child (trusted data: program, entry point, test inputs, limits): `marshal`, built into
the interpreter and able to carry exactly the value types below.

Child -> parent (untrusted): JSON lines with type tags, never pickle or marshal (loading either
from a hostile writer can run code or crash the reader). JSON arrays are lists;
every JSON object is a tag with exactly one key: {"$tuple": [...]}, {"$set": [...]},
{"$frozenset": [...]}, {"$dict": [[k, v], ...]} (keys keep their type), {"$bytes": hex},
{"$float": "nan" | "inf" | "-inf"}, {"$int": hex} (beyond 2**53, which also sidesteps Python's
int-to-decimal digit cap), {"$complex": [re, im]}. `decode` also accepts a plain JSON object
(a dict with string keys) so problem files can write dicts naturally.

Only values of these exact builtin types encode (`type(x) is int`, not isinstance), so an
object with a forged `__eq__`, or a subclass of int/str, is refused as unserialisable.

Everything in the child is untrusted once the candidate has run: the candidate can rewrite this
code's state, forge messages or exit. That is fine, because the child only reports outputs; the
expected outputs never enter it and the verdict is computed in the parent.
"""

import marshal
import math
import os
import sys

try:
    from _json import encode_basestring_ascii as _json_str
except ImportError:  # interpreters built without the C accelerator
    from json.encoder import py_encode_basestring_ascii as _json_str

TAGS = ("$tuple", "$set", "$frozenset", "$dict", "$bytes", "$float", "$int", "$complex")
_BIG = 1 << 53
_MAX_DEPTH = 100


class Unserialisable(TypeError):
    pass


def encode(x, _depth=0):
    """Python value -> JSON-able value with type tags (exact builtin types only)."""
    if _depth > _MAX_DEPTH:
        raise Unserialisable("value nested deeper than %d levels" % _MAX_DEPTH)
    t = type(x)
    if x is None or t is bool or t is str:
        return x
    if t is int:
        return x if -_BIG <= x <= _BIG else {"$int": hex(x)}
    if t is float:
        if math.isfinite(x):
            return x
        return {"$float": "nan" if x != x else ("inf" if x > 0 else "-inf")}
    d = _depth + 1
    if t is list:
        return [encode(v, d) for v in x]
    if t is tuple:
        return {"$tuple": [encode(v, d) for v in x]}
    if t is set:
        return {"$set": [encode(v, d) for v in x]}
    if t is frozenset:
        return {"$frozenset": [encode(v, d) for v in x]}
    if t is dict:
        return {"$dict": [[encode(k, d), encode(v, d)] for k, v in x.items()]}
    if t is bytes:
        return {"$bytes": x.hex()}
    if t is complex:
        return {"$complex": [encode(x.real, d), encode(x.imag, d)]}
    try:
        name = "%s.%s" % (t.__module__, t.__qualname__)
    except Exception:
        name = "?"
    raise Unserialisable("cannot serialise a value of type %s" % name)


_FLOATS = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


def decode(v):
    """Inverse of `encode`. Raises ValueError/TypeError on malformed input."""
    t = type(v)
    if t is list:
        return [decode(x) for x in v]
    if t is dict:
        if len(v) == 1:
            ((tag, inner),) = v.items()
            if tag in TAGS:
                return _untag(tag, inner)
        return {k: decode(x) for k, x in v.items()}
    if v is None or t in (bool, int, float, str):
        return v
    raise TypeError("not a JSON value: %r" % (t,))


def _untag(tag, inner):
    if tag == "$float":
        return _FLOATS[inner]
    if tag == "$int":
        if type(inner) is not str:
            raise ValueError("$int needs a hex string")
        return int(inner, 16)
    if tag == "$bytes":
        if type(inner) is not str:
            raise ValueError("$bytes needs a hex string")
        return bytes.fromhex(inner)
    if type(inner) is not list:
        raise ValueError("%s needs a list" % tag)
    if tag == "$tuple":
        return tuple(decode(x) for x in inner)
    if tag == "$set":
        return set(decode(x) for x in inner)
    if tag == "$frozenset":
        return frozenset(decode(x) for x in inner)
    if tag == "$dict":
        out = {}
        for pair in inner:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("$dict needs [key, value] pairs")
            out[decode(pair[0])] = decode(pair[1])
        return out
    if tag == "$complex":
        re, im = (decode(x) for x in inner)
        return complex(re, im)
    raise ValueError("unknown tag " + tag)


def dumps(v):
    """JSON text of an `encode`d value (or a message made of such values); ASCII only."""
    t = type(v)
    if t is str:
        return _json_str(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return int.__repr__(v)
    if t is float:
        if not math.isfinite(v):
            raise Unserialisable("bare non-finite float")
        return float.__repr__(v)
    if t is list:
        return "[" + ",".join([dumps(x) for x in v]) + "]"
    if t is dict:
        return "{" + ",".join([_json_str(k) + ":" + dumps(x) for k, x in v.items()]) + "}"
    raise Unserialisable("not a JSON value: %r" % (t,))


def resolve_entry(namespace, entry_point):
    """`name` -> the function; `Class.method` -> a factory giving a bound method of a fresh
    instance per call (LeetCode style), so state cannot leak between tests through `self`."""
    parts = entry_point.split(".")
    if parts[0] not in namespace:
        raise NameError("the program does not define %r" % parts[0])
    obj = namespace[parts[0]]
    if len(parts) == 2 and isinstance(obj, type):
        cls, meth = obj, parts[1]
        getattr(cls, meth)  # fail at load time when the method is missing
        return lambda: getattr(cls(), meth)
    for p in parts[1:]:
        obj = getattr(obj, p)
    return lambda: obj


def _descendants(root):
    """Pids of every live descendant of `root`, from /proc (the ppid field of each stat file)."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name, "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), ()):
            out.append(c)
            todo.append(c)
    return out


def _reap(nohang):
    """Reap exited children; False once there are none left."""
    try:
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG if nohang else 0)
            if pid == 0 or not nohang:
                return True
    except ChildProcessError:
        return False


def _kill_tree(deadline_s=10.0):
    """SIGKILL every descendant until none is left. As a child subreaper, this process inherits every
    orphan of its subtree (a double-forked daemon, a setsid'd one), so repeating the walk converges."""
    import time

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        kids = _descendants(os.getpid())
        for pid in kids:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        if not _reap(True) and not kids:
            return
        time.sleep(0.002)


def _supervise(worker, ctl):
    """The trusted half of the child at the level without a PID namespace: wait until the worker exits
    or the parent closes the control pipe, then kill the worker and every process it left behind; exit
    with the worker's status (a signal N as 128 + N, as bwrap and unshare report it)."""
    import select

    status = None
    try:
        pidfd = os.pidfd_open(worker)
    except (AttributeError, OSError):
        pidfd = None
    while status is None:
        ready = select.select([ctl] + ([pidfd] if pidfd is not None else []), [], [], None if pidfd is not None else 0.02)[0]
        pid, st = os.waitpid(worker, os.WNOHANG)
        if pid:
            status = st
        elif ctl in ready:  # the parent is done with this run: end it now
            try:
                os.kill(worker, 9)
            except OSError:
                pass
            status = os.waitpid(worker, 0)[1]
    _kill_tree()
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _main():
    fd = int(sys.argv[1])
    ctl = int(sys.argv[2]) if len(sys.argv) > 2 else None  # given at `none`: supervise
    chunks = []
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    payload = marshal.loads(b"".join(chunks))
    if ctl is None:  # in a PID namespace, which takes every descendant down with it
        _work(fd, payload)
    import ctypes  # no PID namespace: this process must inherit the candidate's orphans to kill them

    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    worker = os.fork()
    if worker == 0:
        try:
            os.close(ctl)
            _work(fd, payload)
        finally:
            os._exit(1)  # never back into the supervisor's code
    os.close(fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):  # the parent sees EOF as soon as the worker (and what it started) is gone
        os.dup2(devnull, std)
    _supervise(worker, ctl)


def _work(fd, payload):
    pid0 = os.getpid()

    def send(obj):
        data = (dumps(obj) + "\n").encode("ascii")
        while data:
            data = data[os.write(fd, data):]

    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)

    import resource

    for name, (soft, hard) in payload["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (soft, hard))
    uid = payload.get("uid")
    if uid is not None:  # started as root: drop to a per-slot uid, so RLIMIT_NPROC applies
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    os.chdir(payload["cwd"])

    limit = payload.get("tb_chars", 4000)
    src = payload["program"]

    def describe(e, skip_frames):
        try:
            import linecache
            import traceback

            linecache.cache["<candidate>"] = (len(src), None, src.splitlines(True), "<candidate>")
            tb = e.__traceback__
            for _ in range(skip_frames):
                tb = tb.tb_next if tb is not None else None
            text = "".join(traceback.format_exception(type(e), e, tb))
        except BaseException:
            text = type(e).__name__
        return text[-limit:]

    def flush():  # the candidate's prints reach the parent before its verdict can stop us
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass

    def report(kind, i, e, skip_frames):
        if os.getpid() != pid0:  # a forked copy of the candidate never reports
            os._exit(0)
        flush()
        name = type(e).__name__
        send({"t": kind, "i": i, "exc": name, "mem": isinstance(e, MemoryError), "tb": describe(e, skip_frames)})

    send({"t": "ready"})
    mod = type(sys)("__candidate__")
    mod.__file__ = "<candidate>"
    sys.modules["__candidate__"] = mod
    try:
        exec(compile(src, "<candidate>", "exec"), mod.__dict__)
        target = resolve_entry(mod.__dict__, payload["entry_point"])
    except BaseException as e:
        report("load", None, e, 1)
        os._exit(0)
    send({"t": "loaded"})
    for i, args in enumerate(payload["inputs"]):
        try:
            out = target()(*args)
        except BaseException as e:
            report("x", i, e, 1)
            continue
        if os.getpid() != pid0:
            os._exit(0)
        flush()
        try:
            send({"t": "r", "i": i, "v": encode(out)})
        except BaseException as e:  # Unserialisable, RecursionError, MemoryError, ...
            send({"t": "u", "i": i, "msg": ("%s: %s" % (type(e).__name__, e))[:limit]})
    flush()
    send({"t": "done"})
    os._exit(0)


if __name__ == "__main__":
    _main()
