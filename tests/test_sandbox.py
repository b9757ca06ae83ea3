"""The sandbox: codec, strict comparison, verdicts, and a suite of hostile programs that must be
contained with the right verdict (bubblewrap isolation; `make install-dev` installs bubblewrap)."""

import math
import os
import socket
import time
import uuid
import warnings

import pytest

from evalkit.errors import EvalkitError
from evalkit.sandbox import ExecResult, Job, Limits, Sandbox, SandboxWarning, decode, encode, same
from evalkit.sandbox._child import Unserialisable, dumps
from evalkit.sandbox.compare import short_repr

SECRET = "evalkit-fake-secret-" + uuid.uuid4().hex
ANSWER = "ANSWER-" + uuid.uuid4().hex


# ---- codec and comparison ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**53, 2**53 + 1, -(2**80), 10**5000, 0.1, -0.0, 1e308, 5e-324,
    float("inf"), float("-inf"), "", "héllo\n\"\\", "\ud800", b"\x00\xff", 1 + 2j,
    [1, [2, (3, 4)]], (1,), (), {1, 2}, frozenset({"a"}), {"a": 1, 2: [3], (1, 2): None, True: "t"},
    [{"x": {(1, "a"): frozenset({(2, 3)})}}],
], ids=lambda v: type(v).__name__)
def test_codec_round_trips_exact_types(value):
    import json

    text = dumps(encode(value))
    back = decode(json.loads(text))
    assert type(back) is type(value)
    assert back == value or (isinstance(value, float) and math.isnan(value))
    assert same(value, back)
    if isinstance(value, dict):  # key types survive (1 and True stay distinct)
        assert [type(k) for k in back] == [type(k) for k in value]


def test_codec_nan_and_plain_json_objects():
    import json

    assert math.isnan(decode(json.loads(dumps(encode(float("nan"))))))
    assert decode({"a": [1, {"$tuple": [2]}]}) == {"a": [1, (2,)]}  # problem files may write plain dicts


@pytest.mark.parametrize("value", [
    type("E", (), {"__eq__": lambda s, o: True})(), type("I", (int,), {})(3), type("S", (str,), {})("x"),
    iter([1]), object(), [1, object()],
], ids=lambda v: type(v).__name__)
def test_codec_refuses_anything_but_exact_builtin_types(value):
    with pytest.raises(Unserialisable):
        encode(value)


def test_codec_refuses_deep_nesting():
    v = []
    for _ in range(200):
        v = [v]
    with pytest.raises(Unserialisable):
        encode(v)


@pytest.mark.parametrize("expected,actual,ok", [
    (True, True, True), (True, 1, False), (1, True, False), (0, False, False),
    (3, 3, True), (3, 3.0, False), (3.0, 3, True), (0.1 + 0.2, 0.3, True), (1.0, 1.0 + 2e-6, False),
    (1e12, 1e12 + 1e-4, True), (float("nan"), float("nan"), True), (float("inf"), 1e308, False),
    ([1, 2], (1, 2), False), ((1, 2), (1, 2), True), ([1, [2.0]], [1, [2.0000000001]], True),
    ({1: "a"}, {True: "a"}, False), ({"a": 1}, {"a": 1}, True), ({"a": 1}, {"a": 1, "b": 2}, False),
    ({1, 2}, {2, 1}, True), ({1, 2}, frozenset({1, 2}), False), ({1}, {True}, False),
    ("a", b"a", False), (None, None, True), (None, 0, False), (1 + 1j, 1 + 1j, True), (1.5, 2**2000, False),
])
def test_same_strict_rules(expected, actual, ok):
    assert same(expected, actual) is ok


def test_short_repr_truncates_in_the_middle():
    r = short_repr("x" * 5000, 100)
    assert len(r) < 140 and r.startswith("'xxx") and r.endswith("xx'") and "chars" in r


def test_limits_time_limit_rule_and_validation():
    lim = Limits(time_floor=2.0, time_factor=5.0)
    assert lim.time_limit(None) == 2.0
    assert lim.time_limit(0.1) == 2.0
    assert lim.time_limit(1.0) == 5.0
    with pytest.raises(EvalkitError, match="isolation"):
        Limits(isolation="docker")
    with pytest.raises(EvalkitError, match="memory_bytes"):
        Limits(memory_bytes=0)


# ---- verdicts and details ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox():
    return Sandbox(Limits(time_floor=2.0))


DOUBLE = [{"args": [1], "expected": 2}, {"args": [2], "expected": 4}, {"args": [3], "expected": 6}]


def test_verdicts_and_failure_details(sandbox):
    progs = {
        "pass": "def f(x):\n    return 2 * x\n",
        "wrong": "def f(x):\n    return x * 2 if x < 2 else x + 1\n",
        "raises": "def f(x):\n    if x == 2:\n        raise ValueError('boom')\n    return 2 * x\n",
        "syntax": "def f(x)\n    return x\n",
        "missing": "def g(x):\n    return x\n",
        "float": "def f(x):\n    return 2.0 * x\n",
        "loop": "def f(x):\n    while True:\n        pass\n",
    }
    res = dict(zip(progs, sandbox.run_many([Job(p, "f", DOUBLE, 1.0) for p in progs.values()])))
    assert {k: r.verdict for k, r in res.items()} == {
        "pass": "pass", "wrong": "fail", "raises": "error", "syntax": "error", "missing": "error", "float": "fail",
        "loop": "timeout"}
    assert res["pass"].passed and res["pass"].n_passed == 3 and res["pass"].first_failure is None
    ff = res["wrong"].first_failure
    assert (ff["index"], ff["input"], ff["expected"], ff["actual"]) == (1, "[2]", "4", "3")
    assert res["wrong"].n_passed == 1  # fail-fast: the third test never ran
    ff = res["raises"].first_failure
    assert ff["index"] == 1 and "ValueError: boom" in ff["error"] and "raise ValueError('boom')" in ff["error"]
    assert res["syntax"].first_failure["index"] is None and "SyntaxError" in res["syntax"].first_failure["error"]
    assert "does not define 'f'" in res["missing"].first_failure["error"]
    assert res["float"].first_failure["actual"] == "2.0"  # int expected: a float is wrong
    assert res["loop"].first_failure["message"] == "time limit of 1 s exceeded" and res["loop"].time_limit == 1.0
    for r in res.values():
        assert r.isolation == sandbox.isolation and r.n_tests == 3
        assert set(r.to_dict()) >= {"verdict", "passed", "n_tests", "n_passed", "first_failure", "isolation", "time_limit", "duration"}


def test_no_fail_fast_counts_every_test():
    sb = Sandbox(Limits(fail_fast=False))
    r = sb.run("def f(x):\n    return 2 * x if x != 2 else 0\n", "f", DOUBLE)
    assert (r.verdict, r.n_passed, r.first_failure["index"]) == ("fail", 2, 1)


def test_class_entry_point_gets_a_fresh_instance_per_test(sandbox):
    prog = ("class Solution:\n    def __init__(self):\n        self.calls = 0\n"
            "    def twice(self, x):\n        self.calls += 1\n        return 2 * x * self.calls\n")
    assert sandbox.run(prog, "Solution.twice", DOUBLE).verdict == "pass"


def test_output_is_captured_and_checker_decides(sandbox):
    r = sandbox.run("def f(x):\n    print('dbg', x)\n    return -2 * x\n", "f", DOUBLE, checker=lambda a, e, y: abs(y) == e)
    assert r.verdict == "pass" and r.output.startswith("dbg 1\ndbg 2")
    r = sandbox.run("def f(x):\n    return x\n", "f", DOUBLE, checker=lambda a, e, y: 1 / 0)
    assert r.verdict == "fail" and "could not be checked" in r.first_failure["message"]


def test_call_returns_values_and_raises_on_failure(sandbox):
    assert sandbox.call("def f(a, b):\n    return (a, {b})\n", "f", [[1, 2], ["x", "y"]]) == [(1, {2}), ("x", {"y"})]
    with pytest.raises(EvalkitError, match="ZeroDivisionError"):
        sandbox.call("def f(a):\n    return 1 / a\n", "f", [[1], [0]])


def test_run_many_keeps_job_order_and_reports_each(sandbox):
    jobs = [Job(f"def f(x):\n    return {i}\n", "f", [{"args": [0], "expected": 3}]) for i in range(8)]
    seen = []
    res = sandbox.run_many(jobs, workers=4, on_result=lambda i, r: seen.append(i))
    assert [r.verdict for r in res] == ["fail"] * 3 + ["pass"] + ["fail"] * 4
    assert sorted(seen) == list(range(8))
    assert all(isinstance(r, ExecResult) for r in res)


def _sandbox_at(level):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            sb = Sandbox(Limits(isolation=level))
        except EvalkitError as e:  # e.g. no user namespaces for unshare here
            pytest.skip(str(e))
    return sb, [w for w in caught if issubclass(w.category, SandboxWarning)]


@pytest.mark.parametrize("level", ["unshare", "none"])
def test_weaker_levels_only_when_asked_warn_and_are_recorded(level, monkeypatch):
    from evalkit.sandbox import core

    monkeypatch.setattr(core, "_WARNED", set())
    sb, warned = _sandbox_at(level)
    assert warned and "as asked" in str(warned[0].message)
    r = sb.run("import os\ndef f(x):\n    return [2 * x, os.environ.get('PATH')]\n", "f",
               [{"args": [2], "expected": [4, "/usr/local/bin:/usr/bin:/bin"]}])
    assert r.verdict == "pass" and r.isolation == level


def test_without_bubblewrap_nothing_runs_unless_asked(tmp_path, monkeypatch):
    from evalkit.sandbox import core

    monkeypatch.setattr(core, "_PROBED", {})
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    with pytest.raises(EvalkitError, match=r"bubblewrap is not usable here .*apt-get install bubblewrap.*--isolation unshare\|none"):
        Sandbox()
    assert Limits().isolation == "bwrap"


@pytest.mark.parametrize("level", ["bwrap", "unshare", "none"])
def test_no_process_outlives_its_run(level):
    """A double-forked, setsid'd daemon that execs with an empty environment is killed at the end of
    the run at every level (the PID namespace, or at `none` the supervisor as child subreaper)."""
    sb, _ = _sandbox_at(level)
    marker = "evalkit-daemon-" + uuid.uuid4().hex
    prog = ("import os, time\ndef f():\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n"
            f"            os.execve('/bin/sh', ['sh', '-c', 'while :; do sleep 1; done # {marker}'], {{}})\n"
            "        os._exit(0)\n    time.sleep(0.3)\n    return 1\n")
    for fail_fast_stop in (False, True):  # a finished run, and one the parent stops (wrong answer)
        r = sb.run(prog, "f", [{"args": [], "expected": 2 if fail_fast_stop else 1}, {"args": [], "expected": 1}])
        assert r.verdict == ("fail" if fail_fast_stop else "pass")
        alive = _running(marker)
        for _ in range(50):  # a PID namespace's processes may still be in their exit when the run returns
            if not alive:
                break
            time.sleep(0.1)
            alive = _running(marker)
        for pid in alive:  # never leave one behind, even when the test fails
            os.kill(pid, 9)
        assert not alive, f"{level}: the candidate's daemon outlived the run"


def _running(marker: str) -> list[int]:
    """Live (not zombie) processes whose command line holds `marker`."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
            state = open(f"/proc/{pid}/stat", "rb").read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmd and state not in (b"Z", b"X"):
            out.append(int(pid))
    return out


def test_unshare_drops_root_and_hides_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    secret = tmp_path / "cache" / "code" / "answers.json"
    secret.parent.mkdir(parents=True)
    secret.write_text(ANSWER)
    sb, _ = _sandbox_at("unshare")
    prog = ("import os\ndef f(paths):\n    out = []\n    for p in paths:\n        try:\n"
            "            out.append(open(p).read()[:60])\n        except OSError as e:\n            out.append(type(e).__name__)\n"
            "    return [os.getuid() == 0, out]\n")
    r = sb.run(prog, "f", [{"args": [[str(secret), "/etc/shadow", os.path.expanduser("~/.bashrc")]], "expected": None}])
    root, seen = decode_actual(r)
    assert ANSWER not in str(seen) and seen[0] in ("FileNotFoundError", "PermissionError")
    if os.geteuid() == 0:
        assert root is False and seen[1] in ("PermissionError", "FileNotFoundError")
    assert seen[2] in ("FileNotFoundError", "PermissionError")  # the home directory is hidden


def decode_actual(r):
    import ast

    return ast.literal_eval(r.first_failure["actual"])


# ---- hostile programs ------------------------------------------------------------------------------

try:
    BWRAP = Sandbox().isolation == "bwrap"
except EvalkitError:
    BWRAP = False


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Run every hostile program at once (in parallel, next to benign ones) and return the results."""
    if not BWRAP:
        pytest.skip("bubblewrap is not usable here (install it: apt-get install bubblewrap)")
    host = tmp_path_factory.mktemp("host")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    os.environ["EVALKIT_FAKE_SECRET"] = SECRET
    private = f"/tmp/evalkit-private-{uuid.uuid4().hex}"
    one = [{"args": [], "expected": "escaped"}]
    progs = {
        "net_internet": ("import socket\ndef f():\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\n    return 'escaped'\n", one),
        "net_loopback": (f"import socket\ndef f():\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
                         "    s.sendall(b'pwned')\n    return 'escaped'\n", one),
        "write_host": (f"def f():\n    open({str(host / 'escape.txt')!r}, 'w').write('x')\n    return 'escaped'\n", one),
        "write_repo": (f"def f():\n    open({os.path.abspath(__file__) + '.escape'!r}, 'w').write('x')\n    return 'escaped'\n", one),
        "private_tmp": (f"def f():\n    open({private!r}, 'w').write('x')\n    open('rel.txt', 'w').write('y')\n"
                        f"    return open({private!r}).read() + open('rel.txt').read()\n", [{"args": [], "expected": "xy"}]),
        "read_repo": (f"def f():\n    return open({os.path.abspath(__file__)!r}).read()[:7]\n", one),
        "env_secret": ("import os, glob\ndef f():\n    leaked = [os.environ.get('EVALKIT_FAKE_SECRET')]\n"
                       "    for p in glob.glob('/proc/*/environ'):\n        try:\n            leaked.append(open(p, 'rb').read())\n"
                       "        except OSError:\n            pass\n"
                       f"    return 'escaped' if any(x and {SECRET!r}.encode() in (x if isinstance(x, bytes) else x.encode()) for x in leaked) else 'no'\n", one),
        "env_minimal": ("import os\ndef f():\n    return sorted(os.environ)\n",
                        [{"args": [], "expected": ["HOME", "LANG", "LC_ALL", "PATH", "PWD", "TMPDIR"]}]),  # bwrap sets PWD
        "fork_bomb": ("import os\ndef f():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n", one),
        "memory_bomb": ("def f():\n    hog = []\n    while True:\n        hog.append(b'x' * (1 << 24))\n", one),
        "infinite_output": ("import sys\ndef f():\n    while True:\n        sys.stdout.write('spam' * 4096)\n", one),
        "sleep_forever": ("import time\ndef f():\n    time.sleep(10**6)\n", one),
        "always_equal": ("class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\n"
                         "def f():\n    return AlwaysEqual()\n", one),
        "equal_str_subclass": ("class S(str):\n    def __eq__(self, other):\n        return True\ndef f():\n    return S('nope')\n", one),
        "frame_walk": ("import os, sys\ndef f(x):\n    fr = sys._getframe()\n    while fr is not None:\n"
                       "        send = fr.f_locals.get('send')\n        if callable(send):\n"
                       "            for i in range(3):\n                send({'t': 'r', 'i': i, 'v': 'FORGED'})\n"
                       "            send({'t': 'done'})\n            os._exit(0)\n        fr = fr.f_back\n    return None\n",
                       [{"args": [i], "expected": 2 * i} for i in range(3)]),
        # if the harness leaked expected outputs into the child, this would find the answer
        "gc_hunt_expected": ("import gc\ndef f():\n    for o in gc.get_objects():\n        items = o.values() if isinstance(o, dict) else o\n"
                             "        if isinstance(o, (list, tuple, dict)):\n            for v in list(items):\n"
                             "                if isinstance(v, str) and v.startswith('ANSWER-') and len(v) == 39:\n                    return v\n"
                             "    return 'not found'\n", [{"args": [], "expected": ANSWER}]),
        "sys_exit": ("import sys\ndef f():\n    sys.exit(0)\n", one),
        "os_exit": ("import os\ndef f():\n    os._exit(0)\n", one),
        "exit_at_load": ("import os\nos._exit(0)\ndef f():\n    return 'escaped'\n", one),
        # the parent in the sandbox is bwrap's init: as root it belongs to another uid (EPERM), else the
        # kernel drops SIGKILL sent to a PID namespace's init from inside; either way the child carries on
        "ctypes_kill_parent": ("import ctypes, os\ndef f():\n    ctypes.CDLL(None).kill(os.getppid(), 9)\n    return 'alive'\n",
                               [{"args": [], "expected": "alive"}]),
        "ctypes_exit": ("import ctypes\ndef f():\n    ctypes.CDLL(None)._exit(0)\n", one),
        "ctypes_system": (f"import ctypes\ndef f():\n    return ctypes.CDLL(None).system(b'echo x > {host / 'ctypes.txt'}')\n",
                          [{"args": [], "expected": 0}]),
        "reload_os": (f"import importlib, os\ndef f():\n    importlib.reload(os)\n    os.system('touch {host / 'reload.txt'}')\n"
                      f"    return 'escaped' if os.path.exists({str(host / 'reload.txt')!r}) else 'no'\n", one),
        "kill_parent": ("import os\ndef f():\n    try:\n        os.kill(os.getppid(), 9)\n    except OSError:\n        pass\n"
                        "    return 'alive'\n", [{"args": [], "expected": "alive"}]),
        # kill(-1) signals everything this uid may signal except itself and init: nothing at all (ESRCH)
        "kill_everything": ("import os, signal\ndef f():\n    os.kill(-1, signal.SIGKILL)\n    return 'escaped'\n", one),
        "setuid_root": ("import os\ndef f():\n    os.setuid(0)\n    return 'escaped'\n", one),
        # no new namespaces inside (seccomp, and --disable-userns without root): [result, errno] of
        # unshare(CLONE_NEWUSER) and unshare(CLONE_NEWNET); threads and fork still work
        "new_namespaces": ("import ctypes, os, threading\ndef f():\n    libc = ctypes.CDLL(None, use_errno=True)\n"
                           "    out = [libc.unshare(0x10000000), ctypes.get_errno(), libc.unshare(0x40000000), ctypes.get_errno()]\n"
                           "    t = threading.Thread(target=lambda: None)\n    t.start()\n    t.join()\n"
                           "    if os.fork() == 0:\n        os._exit(0)\n    os.wait()\n    return out\n",
                           [{"args": [], "expected": [-1, 1, -1, 1]}]),
        "benign_1": ("def f(x):\n    return 2 * x\n", [{"args": [i], "expected": 2 * i} for i in range(3)]),
        "benign_2": ("import threading\ndef f(x):\n    t = threading.Thread(target=lambda: None)\n    t.start()\n    t.join()\n"
                     "    return 2 * x\n", [{"args": [i], "expected": 2 * i} for i in range(3)]),
    }
    slow = {"memory_bomb": 20.0, "fork_bomb": 2.0, "sleep_forever": 2.0, "net_internet": 10.0, "net_loopback": 10.0}
    sb = Sandbox(Limits(time_floor=5.0))
    try:
        results = sb.run_many([Job(p, "f", t, slow.get(k)) for k, (p, t) in progs.items()])
    finally:
        del os.environ["EVALKIT_FAKE_SECRET"]
    try:
        listener.accept()
        accepted = True
    except BlockingIOError:
        accepted = False
    listener.close()
    return {"res": dict(zip(progs, results)), "host": host, "accepted": accepted, "private": private}


EXPECTED_VERDICT = {
    "net_internet": "error", "net_loopback": "error", "write_host": "error", "write_repo": "error", "private_tmp": "pass",
    "read_repo": "error", "env_secret": "fail", "env_minimal": "pass", "fork_bomb": "timeout", "memory_bomb": "memory",
    "infinite_output": "error", "sleep_forever": "timeout", "always_equal": "fail", "equal_str_subclass": "fail",
    "frame_walk": "fail", "gc_hunt_expected": "fail", "sys_exit": "error", "os_exit": "error", "exit_at_load": "error",
    "ctypes_exit": "error", "ctypes_system": "fail", "reload_os": "fail", "setuid_root": "error",
    "benign_1": "pass", "benign_2": "pass", "ctypes_kill_parent": "pass", "kill_parent": "pass",
    "kill_everything": "error", "new_namespaces": "pass",
}


@pytest.mark.parametrize("name", sorted(EXPECTED_VERDICT))
def test_hostile_program_is_contained(hostile, name):
    r = hostile["res"][name]
    want = EXPECTED_VERDICT[name]
    assert r.verdict == want, (name, r)
    assert r.isolation == "bwrap"


def test_hostile_details(hostile):
    res, host = hostile["res"], hostile["host"]
    assert not hostile["accepted"], "a sandboxed program reached a loopback port of the host"
    assert not list(host.iterdir()), "a sandboxed program wrote to the host filesystem"
    assert not os.path.exists(os.path.abspath(__file__) + ".escape")
    assert not os.path.exists(hostile["private"]), "the sandbox's /tmp is the host's /tmp"
    assert res["gc_hunt_expected"].first_failure["actual"] == "'not found'"
    assert "Network is unreachable" in res["net_internet"].first_failure["error"]
    assert "FileNotFoundError" in res["read_repo"].first_failure["error"]  # the repository is not mounted
    assert res["env_secret"].first_failure["actual"] == "'no'"
    assert res["frame_walk"].first_failure["actual"] == "'FORGED'"  # the forged outputs were judged, and wrong
    assert "cannot serialise" in res["always_equal"].first_failure["error"]
    assert "output limit" in res["infinite_output"].first_failure["message"]
    assert res["memory_bomb"].first_failure["message"] == "raised MemoryError"
    assert res["ctypes_system"].first_failure["actual"] != "0"
    assert "before reporting" in res["os_exit"].first_failure["message"]
    assert "No such process" in res["kill_everything"].first_failure["error"]
    assert os.getppid() > 1  # and this test process is alive, obviously, with its parent
