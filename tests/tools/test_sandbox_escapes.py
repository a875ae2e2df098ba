"""The sandbox holds against variants of the escapes an outside probe found.

* lifetime: ``setsid`` + ignored signals, a double-fork daemon, a fork loop with ``setpgid``: every
  process the code creates is gone when ``run_python`` returns, and it returns within the limit plus
  the grace (``GRACE_S``);
* IPC: SysV shared memory, ``/dev/shm`` files and POSIX message queues neither persist on the host
  nor pass from one run to the next, nor reach the host's own;
* the result channel: writing a forged result to every descriptor 3..255, to ``/proc/self/fd/*``, to
  the supervisor's and the launcher's ``/proc/<pid>/fd/*``, or flooding them changes nothing: the result
  is made by the supervisor from capped stdout/stderr and the exit status, and the caller's memory
  stays small;
* unix sockets: a listening socket the test creates (stream or datagram) in a world-writable directory
  (several places, masked or not) and an abstract socket are unreachable, through ``_socket`` or libc.

Every check is made from the host's side. Processes are recognised by a unique ``comm`` name the code
sets with ``prctl(PR_SET_NAME)``.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from lumos.tools.sandbox import GRACE_S, SandboxLimits, available_isolation, run_python, userns_available

REPO = Path(__file__).resolve().parents[2]
STRONG = available_isolation() != "none"
strong_only = pytest.mark.skipif(not STRONG, reason="no namespace isolation on this machine (unshare unusable)")
NS_MODES = (["auto"] if STRONG else []) + (["userns"] if userns_available() and available_isolation() != "userns" else [])
ALL_MODES = [*NS_MODES, "none"]

PRELUDE = """
import ctypes, os, posix, signal, time, _socket
libc = ctypes.CDLL(None, use_errno=True)
def name_me(tag):
    libc.prctl(15, tag.encode(), 0, 0, 0)  # PR_SET_NAME: the host finds us by this
def deaf():
    for s in (signal.SIGALRM, signal.SIGXCPU, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(s, signal.SIG_IGN)
"""


def run(code: str, *, timeout_s: float = 2.0, nproc: int = 1, isolation: str = "auto"):
    limits = SandboxLimits(timeout_s=timeout_s, memory_mb=256, nproc=nproc)
    return run_python(PRELUDE + textwrap.dedent(code), limits=limits, isolation=isolation)


def processes_named(tag: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == tag:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def survivors(tag: str) -> list[int]:
    """Processes named ``tag`` still alive a moment after the run (then killed, so a failure leaves nothing)."""
    time.sleep(0.3)
    alive = processes_named(tag)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return alive


def new_tag() -> str:
    return "lz" + uuid.uuid4().hex[:10]


# ------------------------------------------------------------------------------------------------
# Lifetime: every process dies at the limit, the caller never waits much longer
# ------------------------------------------------------------------------------------------------
LIFETIME_ATTACKS = {
    "setsid_ignore_sleep": """
        name_me(TAG)
        os.setsid()
        deaf()
        time.sleep(30)
        """,
    "setsid_blocked_signals_select": """
        import select
        name_me(TAG)
        os.setsid()
        signal.pthread_sigmask(signal.SIG_BLOCK, range(1, signal.NSIG))
        select.select([], [], [], 30)
        """,
    "double_fork_daemon": """
        if posix.fork() == 0:
            os.setsid()
            if posix.fork() == 0:
                name_me(TAG)
                deaf()
                time.sleep(30)
            os._exit(0)
        time.sleep(0.3)
        print("parent done")
        """,
    "fork_loop_setpgid": """
        for _ in range(6):
            if posix.fork() == 0:
                os.setpgid(0, 0)
                name_me(TAG)
                deaf()
                time.sleep(30)
                os._exit(0)
        name_me(TAG)
        deaf()
        time.sleep(30)
        """,
}


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("attack", sorted(LIFETIME_ATTACKS))
def test_every_process_dies_at_the_limit(attack, mode):
    tag = new_tag()
    start = time.monotonic()
    r = run(f"TAG = {tag!r}\n" + textwrap.dedent(LIFETIME_ATTACKS[attack]), timeout_s=2.0, nproc=16, isolation=mode)
    elapsed = time.monotonic() - start
    left = survivors(tag)
    assert left == [], f"{len(left)} process(es) of the code outlived the run ({attack}, {mode})"
    assert elapsed < 2.0 + GRACE_S + 0.5, f"the caller waited {elapsed:.1f} s"
    if attack == "double_fork_daemon":
        assert r.ok and r.stdout == "parent done\n", r
    else:
        assert not r.ok and r.timed_out, r


# ------------------------------------------------------------------------------------------------
# IPC: own namespace, nothing persists or is shared
# ------------------------------------------------------------------------------------------------
IPC_CREAT, IPC_RMID = 0o1000, 0
_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p
_librt = ctypes.CDLL("librt.so.1", use_errno=True)


def host_shm_keys() -> set[int]:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(line.split()[0]) for line in lines}


SHM_WRITE = """
import ctypes
libc.shmat.restype = ctypes.c_void_p
ids = []
for k in range(10):
    shmid = libc.shmget(KEY + k, 32 << 20, 0o1000 | 0o666)
    addr = libc.shmat(shmid, None, 0)
    if shmid >= 0 and addr not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(addr, TOKEN, len(TOKEN))
        ids.append(shmid)
print("created", len(ids))
"""
SHM_READ = """
import ctypes
libc.shmat.restype = ctypes.c_void_p
for k in range(10):
    shmid = libc.shmget(KEY + k, 0, 0)
    if shmid >= 0:
        addr = libc.shmat(shmid, None, 0)
        print("found", ctypes.string_at(addr, len(TOKEN)) if addr not in (None, ctypes.c_void_p(-1).value) else b"")
print("read done")
"""


@strong_only
@pytest.mark.parametrize("mode", NS_MODES)
def test_sysv_shared_memory_neither_persists_nor_is_shared(mode):
    key = int.from_bytes(os.urandom(3), "big") << 4
    token = os.urandom(8).hex().encode()
    r = run(f"KEY, TOKEN = {key}, {token!r}\n" + SHM_WRITE, isolation=mode)
    try:
        assert r.ok and r.stdout.startswith("created"), r
        assert not {key + k for k in range(10)} & host_shm_keys(), "segments of the run stayed on the host"
        r2 = run(f"KEY, TOKEN = {key}, {token!r}\n" + SHM_READ, isolation=mode)
        assert r2.ok and "found" not in r2.stdout, r2
        # and the host's own segment is invisible
        shmid = _libc.shmget(key + 100, 4096, IPC_CREAT | 0o666)
        assert shmid >= 0
        try:
            r3 = run(f"KEY, TOKEN = {key + 100 - 0}, {token!r}\n" + SHM_READ.replace("range(10)", "range(1)"), isolation=mode)
            assert r3.ok and "found" not in r3.stdout, r3
        finally:
            _libc.shmctl(shmid, IPC_RMID, None)
    finally:
        for k in range(10):  # on a failing (unconfined) run, leave nothing behind
            leftover = _libc.shmget(key + k, 0, 0)
            if leftover >= 0:
                _libc.shmctl(leftover, IPC_RMID, None)


@strong_only
@pytest.mark.parametrize("mode", NS_MODES)
def test_posix_message_queues_and_dev_shm_stay_inside(mode):
    name = f"/lz{uuid.uuid4().hex[:12]}"
    host_q = f"/lzhost{uuid.uuid4().hex[:8]}"
    O_CREAT, O_RDWR, O_RDONLY = os.O_CREAT, os.O_RDWR, os.O_RDONLY
    qd = _librt.mq_open(host_q.encode(), O_CREAT | O_RDWR, 0o666, None)
    assert qd >= 0, os.strerror(ctypes.get_errno())
    try:
        code = f"""
            rt = ctypes.CDLL("librt.so.1", use_errno=True)
            q = rt.mq_open({name!r}.encode(), {O_CREAT | O_RDWR}, 0o666, None)
            print("queue", q >= 0 and rt.mq_send(q, b"secret", 6, 0) == 0)
            print("host queue", rt.mq_open({host_q!r}.encode(), {O_RDONLY}) >= 0)
            try:
                with open("/dev/shm/{name[1:]}", "w") as f:
                    f.write("x")
                print("dev shm written")
            except OSError as e:
                print("dev shm refused", e.errno)
            """
        r = run(code, isolation=mode)
        assert r.ok, r
        assert "host queue False" in r.stdout, r.stdout
        mine = _librt.mq_open(name.encode(), O_RDONLY)
        if mine >= 0:
            _librt.mq_close(mine)
            _librt.mq_unlink(name.encode())
        assert mine < 0, "the run's message queue reached the host"
        assert not Path(f"/dev/shm/{name[1:]}").exists()
        r2 = run(f"""
            rt = ctypes.CDLL("librt.so.1", use_errno=True)
            print("queue again", rt.mq_open({name!r}.encode(), {O_RDONLY}) >= 0)
            print("dev shm again", os.path.exists("/dev/shm/{name[1:]}"))
            """, isolation=mode)  # fmt: skip
        assert r2.ok and "queue again False" in r2.stdout and "dev shm again False" in r2.stdout, r2
    finally:
        _librt.mq_close(qd)
        _librt.mq_unlink(host_q.encode())


# ------------------------------------------------------------------------------------------------
# The result channel: nothing but capped stdout/stderr reaches the caller
# ------------------------------------------------------------------------------------------------
FORGE = """
import glob, json
forged = (json.dumps({"ok": True, "stdout": "FORGED", "error": "", "stderr": "", "timed_out": False}) + "\\n").encode()
hits = []
for fd in range(3, 256):
    try:
        os.write(fd, forged)
        hits.append(fd)
    except OSError:
        pass
own = {f"/proc/self/fd/{fd}" for fd in (0, 1, 2)}  # its own stdin/stdout/stderr: its output, by design
paths = glob.glob("/proc/self/fd/*") + glob.glob("/proc/1/fd/*") + glob.glob(f"/proc/{os.getppid()}/fd/*")
for path in sorted(set(paths) - own):
    try:
        fd = posix.open(path, os.O_WRONLY)
        posix.write(fd, forged)
        hits.append(path)
    except OSError:
        pass
print("real", flush=True)
os._exit(EXIT)  # no genuine report follows the forged one
"""


@pytest.mark.parametrize("mode", ALL_MODES)
def test_a_forged_result_is_ignored(mode):
    r = run("EXIT = 0\n" + FORGE, isolation=mode)
    assert r.ok and r.stdout == "real\n", r


def test_a_forged_result_cannot_claim_success():
    r = run("EXIT = 7\n" + FORGE)
    assert not r.ok and r.stdout == "real\n" and "exited with status 7" in r.error, r


# The peak resident memory of this process image (VmHWM; ru_maxrss would carry over the forking parent's peak).
PEAK_RSS_KB = "int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
FLOOD = """
chunk = b"x" * (1 << 20)
for fd in [1, 2] + list(range(3, 64)):
    try:
        os.write(fd, b"")
    except OSError:
        continue
    for _ in range(200):
        try:
            os.write(fd, chunk)
        except OSError:
            break
print("flooded")
"""


@pytest.mark.parametrize("mode", ALL_MODES)
def test_flooding_every_descriptor_keeps_the_caller_small(mode):
    probe = textwrap.dedent(f"""
        import json
        from lumos.tools.sandbox import SandboxLimits, run_python
        r = run_python({(PRELUDE + FLOOD)!r}, limits=SandboxLimits(timeout_s=20, memory_mb=256), isolation={mode!r})
        print(json.dumps({{"maxrss_kb": {PEAK_RSS_KB},
                          "stdout": len(r.stdout), "stderr": len(r.stderr), "ok": r.ok, "error": r.error[:200]}}))
        """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    assert stats["maxrss_kb"] < 250 * 1024, stats  # 400 MB written; the caller holds at most ~2 MB of it
    assert stats["stdout"] <= (1 << 20) + 100 and stats["stderr"] <= (1 << 20) + 100, stats


# ------------------------------------------------------------------------------------------------
# Unix sockets of the host
# ------------------------------------------------------------------------------------------------
class _Listener:
    """A unix socket (stream or datagram, path or abstract) that records every contact."""

    def __init__(self, address: str | bytes, kind: int) -> None:
        self.sock = socket.socket(socket.AF_UNIX, kind)
        self.sock.bind(address)
        if isinstance(address, str):
            os.chmod(address, 0o777)
        self.kind = kind
        self.contacts: list[bytes] = []
        self.sock.settimeout(0.1)
        if kind == socket.SOCK_STREAM:
            self.sock.listen(5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.kind == socket.SOCK_STREAM:
                    conn, _ = self.sock.accept()
                    self.contacts.append(b"connect")
                    try:
                        conn.sendall(b"host-reply")
                    finally:
                        conn.close()
                else:
                    self.contacts.append(self.sock.recv(100))
            except OSError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def _socket_dirs() -> list[Path]:
    bases = [REPO, Path("/run"), Path("/var/tmp"), Path("/dev/shm"), Path(tempfile.gettempdir())]
    return [b for b in bases if b.is_dir() and os.access(b, os.W_OK)]


SOCKET_ATTACK = """
import ctypes, struct
def via_socket(kind, address):
    try:
        s = _socket.socket(_socket.AF_UNIX, kind)
    except OSError as e:
        return f"socket refused {e.errno}"
    try:
        s.settimeout(2)
        if kind == _socket.SOCK_STREAM:
            s.connect(address)
            return "CONNECTED " + s.recv(100).decode()
        s.sendto(b"leak", address)
        return "SENT"
    except OSError as e:
        return f"refused {e.errno}"
def via_libc(address):
    fd = libc.socket(1, 1, 0)
    if fd < 0:
        return f"libc socket refused {ctypes.get_errno()}"
    raw = address.encode() if isinstance(address, str) else address
    sa = struct.pack("H", 1) + raw
    buf = ctypes.create_string_buffer(sa, len(sa))
    return "CONNECTED" if libc.connect(fd, buf, len(sa)) == 0 else f"libc refused {ctypes.get_errno()}"
for label, kind, address in TARGETS:
    print(label, via_socket(kind, address), via_libc(address) if kind == _socket.SOCK_STREAM else "")
"""


@pytest.mark.parametrize("mode", ALL_MODES)
def test_host_unix_sockets_are_unreachable(mode):
    listeners, targets, dirs = [], [], []
    try:
        for base in _socket_dirs():
            d = Path(tempfile.mkdtemp(prefix=".lz-sock-", dir=base))
            d.chmod(0o777)
            dirs.append(d)
            for kind, label in ((socket.SOCK_STREAM, "stream"), (socket.SOCK_DGRAM, "dgram")):
                path = str(d / f"{label}.sock")
                listeners.append(_Listener(path, kind))
                targets.append((f"{base}:{label}", int(kind), path))
        abstract = b"\0lz-abstract-" + uuid.uuid4().hex.encode()
        listeners.append(_Listener(abstract, socket.SOCK_STREAM))
        targets.append(("abstract", int(socket.SOCK_STREAM), abstract))
        # the host itself can reach them all
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(abstract)
        probe.close()
        r = run(f"TARGETS = {targets!r}\n" + SOCKET_ATTACK, timeout_s=10.0, isolation=mode)
        time.sleep(0.3)
        assert r.ok, r
        assert "CONNECTED" not in r.stdout and "SENT" not in r.stdout and "host-reply" not in r.stdout, r.stdout
        assert len(r.stdout.splitlines()) == len(targets), r.stdout
        contacts = [c for listener in listeners for c in listener.contacts]
        assert contacts == [b"connect"], contacts  # only the host's own probe
    finally:
        for listener in listeners:
            listener.close()
        for d in dirs:
            for p in d.iterdir():
                p.unlink()
            d.rmdir()


def test_caller_rss_baseline_is_small():
    """Guards the flood test's threshold: a plain run in a fresh interpreter stays far below it."""
    probe = f"from lumos.tools.sandbox import run_python; run_python('print(1)'); print({PEAK_RSS_KB})"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert 0 < int(out.stdout.split()[-1]) < 120 * 1024


def test_without_namespaces_no_socket_can_be_created(listening_port):
    """``none`` mode has no network namespace: the seccomp filter refuses every socket family."""
    port, _, accepted = listening_port
    code = f"""
        for family in (_socket.AF_INET, _socket.AF_INET6, _socket.AF_UNIX, _socket.AF_NETLINK):
            try:
                s = _socket.socket(family, _socket.SOCK_STREAM if family != _socket.AF_NETLINK else _socket.SOCK_RAW)
            except OSError as e:
                print("refused", e.errno)
                continue
            try:
                s.settimeout(2)
                s.connect(("127.0.0.1", {port}))
                print("CONNECTED")
            except OSError as e:
                print("created but failed", e.errno)
        a, b = _socket.socketpair()
        a.send(b"x")
        print("socketpair", b.recv(1))
        """
    r = run(code, isolation="none")
    assert r.ok, r
    assert r.stdout.count("refused 1\n") == 4 and "socketpair b'x'" in r.stdout, r.stdout
    assert accepted == []


def test_auto_degrades_with_a_warning_and_explicit_modes_fail_closed(monkeypatch, caplog):
    from lumos.tools import sandbox

    monkeypatch.setattr(sandbox, "available_isolation", lambda: "none")
    monkeypatch.setattr(sandbox, "userns_available", lambda: False)
    monkeypatch.delenv("LUMOS_SANDBOX_ISOLATION", raising=False)
    sandbox._warn_degraded.cache_clear()
    with caplog.at_level("WARNING", logger="lumos.tools.sandbox"):
        assert sandbox.resolve_isolation("auto") == "none"
    assert "no namespace isolation here" in caplog.text
    for mode in ("namespaces", "userns"):
        monkeypatch.setenv("LUMOS_SANDBOX_ISOLATION", mode)
        with pytest.raises(RuntimeError, match=mode):
            sandbox.resolve_isolation("auto")
