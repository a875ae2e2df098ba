"""Run untrusted, model-written Python in a confined child process.

    $ echo 'print(sum(range(10)))' | python -m lumos.tools.sandbox --timeout_s 5
    {"ok": true, "stdout": "45\\n", "error": ""}

``run_python(code, timeout_s=..., memory_mb=...)`` is the Python API (returns ``SandboxResult``);
the ``Code`` tools and the sympy worker of the maths tools run through it. The main process never
``exec``s or ``eval``s model-written text.

How it runs (details, guarantees and limits: ``docs/sandbox.md``). The caller starts
``unshare --net --mount --pid --ipc --fork --kill-child`` with ``python -I _sandbox_child.py``, which
is PID 1 of the new pid namespace: a **trusted supervisor** that builds the file-system view, forks
the **worker** that runs the code, reads the worker's stdout/stderr through pipes (first MiB of each
kept), kills it at the wall-clock limit, prints the one JSON result line and exits, which makes the
kernel kill every process left in the namespace. The worker holds no descriptor but /dev/null and
its two output pipes, so it can neither forge the result nor flood the caller.

* **Scrubbed environment**: only PATH, HOME/TMPDIR (= the sandbox directory), LANG and thread-count
  variables are passed; nothing of the parent's environment (API keys, tokens) reaches the code.
* **Namespaces** (``isolation="namespaces"`` as root, ``"userns"`` otherwise, chosen automatically
  when ``unshare`` works): network (no interface up: no network, not even 127.0.0.1; abstract unix
  sockets are per namespace), pid (own /proc; every process dies with the supervisor), IPC (SysV
  shared memory, semaphores and POSIX queues vanish with the run), mount: every existing mount
  read-only, fresh size-limited tmpfs over /tmp, /var/tmp, /dev/shm, /run (and /var/run) and the
  parent's HOME (interpreter paths under HOME re-exposed read-only), an empty file bound over every
  other host unix socket (``/proc/net/unix``), and the code runs in ``/tmp/lumos-sandbox``.
* **Privileges**: ``PR_SET_NO_NEW_PRIVS``; as root the worker becomes ``nobody``, in a user namespace
  it drops every capability; the supervisor is non-dumpable (its /proc/<pid>/fd is closed to the code).
* **seccomp** (x86_64, aarch64): ``socket()`` only for AF_INET/AF_INET6 (useless in the empty network
  namespace; refused too without namespaces), so no unix, netlink, packet or vsock socket; no
  io_uring; no other syscall ABI.
* **Resource limits**: RLIMIT_AS (``memory_mb``), RLIMIT_CPU (``timeout_s``, SIGKILL one second later),
  the supervisor's wall-clock kill (``timeout_s`` + 0.5 s) and the caller's (``timeout_s`` + ``GRACE_S``),
  RLIMIT_FSIZE, RLIMIT_NPROC = 1 (no fork), RLIMIT_NOFILE, RLIMIT_MSGQUEUE = 0, no core files; tmpfs
  sizes bound disk use.
* **Python guards** with readable errors (``socket``, ``subprocess``, ``os.fork/exec*/kill``, writes
  outside the sandbox directory): bypassable (``posix``, ``ctypes``); the points above are the fence.

Where ``unshare`` is unusable (containers without CAP_SYS_ADMIN and user namespaces), ``auto``
**degrades** to ``isolation="none"`` with a logged warning and ``SandboxResult.isolation == "none"``:
the supervisor still reports, enforces the time limit (as a child subreaper it kills the descendants
it can find), and the worker keeps the limits, seccomp (no socket at all) and guards, but it sees the
host's file system with the user's rights and the host's IPC. Ask for ``namespaces``/``userns``
(argument or ``$LUMOS_SANDBOX_ISOLATION``) to fail closed instead (``RuntimeError``). Start-up cost:
about 0.07 s per run (``python -m lumos.tools.measure``).

Exercise: ``pytest tests/tools/test_sandbox.py tests/tools/test_sandbox_escapes.py``.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger(__name__)

Isolation = Literal["auto", "namespaces", "userns", "none"]
ISOLATIONS: tuple[str, ...] = ("auto", "namespaces", "userns", "none")
CHILD = Path(__file__).with_name("_sandbox_child.py")
NS_WORKDIR = "/tmp/lumos-sandbox"
_MASKED = ("/var/tmp", "/dev/shm", "/run", "/var/run", "/run/lock")
_NS_FLAGS = ["--net", "--mount", "--pid", "--ipc", "--fork", "--kill-child", "--mount-proc"]
GRACE_S = 2.0
"""The caller waits at most ``timeout_s + GRACE_S`` for a run (start-up, the supervisor's kill and report)."""
_MAX_HIDDEN_SOCKETS = 10_000


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one ``run_python`` call. ``to_json()`` is what the CLI prints."""

    ok: bool
    stdout: str
    error: str
    stderr: str = ""
    timed_out: bool = False
    isolation: str = "none"
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "stdout": self.stdout, "error": self.error}


@dataclass(frozen=True)
class SandboxLimits:
    """Budgets of one sandboxed process."""

    timeout_s: float = 10.0
    memory_mb: int = 512
    file_mb: int = 16
    tmpfs_mb: int = 64
    nproc: int = 1

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.memory_mb < 64 or self.file_mb < 1 or self.tmpfs_mb < 1 or self.nproc < 1:
            raise ValueError(f"sandbox limits out of range (timeout_s > 0, memory_mb >= 64, ...): {self}")


def _nobody() -> tuple[int, int]:
    try:
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 65534, 65534


def _probe(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _works(mode: str) -> bool:
    """Run a trivial program in ``mode``; True when the whole bootstrap (mounts, limits) succeeds."""
    result = _run_in(mode, "print('ok')", SandboxLimits(timeout_s=30.0))
    if not result.ok:
        logger.warning("sandbox mode %r is unusable here: %s", mode, result.error)
    return result.ok and result.stdout == "ok\n"


@functools.lru_cache(maxsize=1)
def available_isolation() -> str:
    """The strongest mode this machine supports: ``namespaces`` (root), ``userns`` or ``none``.

    Probed once per process by running a trivial program in each candidate mode.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        return "none"
    if os.geteuid() == 0 and _probe([unshare, *_NS_FLAGS, "true"]) and _works("namespaces"):
        return "namespaces"
    return "userns" if userns_available() else "none"


@functools.lru_cache(maxsize=1)
def userns_available() -> bool:
    """True when the non-root namespace mode (``unshare --user --map-root-user``) works here."""
    unshare = shutil.which("unshare")
    return unshare is not None and _probe([unshare, "--user", "--map-root-user", *_NS_FLAGS, "true"]) and _works("userns")


def resolve_isolation(isolation: str = "auto") -> str:
    """``auto`` -> ``$LUMOS_SANDBOX_ISOLATION`` or the strongest available mode. Unknown names raise."""
    if isolation not in ISOLATIONS:
        raise ValueError(f"unknown sandbox isolation {isolation!r}; choose one of {list(ISOLATIONS)}")
    if isolation == "auto":
        isolation = os.environ.get("LUMOS_SANDBOX_ISOLATION", "auto")
        if isolation not in ISOLATIONS:
            raise ValueError(f"LUMOS_SANDBOX_ISOLATION={isolation!r}; choose one of {list(ISOLATIONS)}")
    if isolation == "auto":
        mode = available_isolation()
        if mode == "none":
            _warn_degraded()
        return mode
    if isolation == "userns" and not userns_available():
        raise RuntimeError("sandbox isolation 'userns' requested but unprivileged user namespaces do not work here")
    if isolation == "namespaces" and available_isolation() != "namespaces":
        raise RuntimeError("sandbox isolation 'namespaces' needs root and a working unshare; use 'userns' or 'auto'")
    return isolation


def _world_readable_python() -> bool:
    """True when ``nobody`` can reach the interpreter and its libraries (every ancestor o+x)."""
    for top in {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}:
        path = Path(top)
        for p in (path, *path.parents):
            try:
                if not p.stat().st_mode & 0o001:
                    return False
            except OSError:
                return False
    return True


@functools.lru_cache(maxsize=1)
def _warn_degraded() -> None:
    logger.warning("no namespace isolation here (unshare unusable): the sandbox runs code with resource limits, "
                   "a seccomp filter and the Python guards only (docs/sandbox.md); set "
                   "LUMOS_SANDBOX_ISOLATION=namespaces or userns to refuse to run instead")  # fmt: skip


@functools.lru_cache(maxsize=1)
def _warn_root_without_drop() -> None:
    logger.warning("sandbox isolation 'none' as root and the interpreter is not readable by nobody: "
                   "untrusted code runs as root behind the Python guards only")  # fmt: skip


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _mask_and_keep(extra_keep: list[str]) -> tuple[list[str], list[str]]:
    home = os.path.realpath(str(Path.home()))
    masks = ["/tmp"]  # the child always covers /tmp
    for p in _MASKED:
        real = os.path.realpath(p)
        if os.path.isdir(real) and real not in masks:
            masks.append(real)
    if home not in ("/", "/tmp") and os.path.isdir(home) and home not in masks:
        masks.append(home)
    candidates = {
        os.path.realpath(p)
        for p in (sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)), *extra_keep)
    }
    keep = sorted(c for c in candidates if any(_under(c, m) and c != m for m in masks))
    keep = [k for k in keep if not any(k != o and _under(k, o) for o in keep)]
    # a keep path that *is* a masked directory (or contains it) means that directory must stay visible
    masks = [m for m in masks if not any(_under(m, c) for c in candidates)]
    return masks, keep


def host_socket_paths(masks: list[str]) -> list[str]:
    """Unix socket paths bound in this network namespace (``/proc/net/unix``) outside the masked directories.

    The sandbox binds an empty file over each (abstract sockets need nothing: they belong to a network
    namespace, and the child has its own).
    """
    paths: list[str] = []
    try:
        with open("/proc/net/unix", encoding="utf-8", errors="replace") as f:
            next(f, None)
            for line in f:
                parts = line.rstrip("\n").split(None, 7)
                if len(parts) == 8 and parts[7].startswith("/") and not any(_under(parts[7], m) for m in masks):
                    paths.append(parts[7])
    except OSError:
        return []
    return sorted(set(paths))[:_MAX_HIDDEN_SOCKETS]


def _command(
    mode: str, limits: SandboxLimits, isolation: str, workdir: str, *, module: str = "", sys_path: list[str] | None = None
) -> tuple[list[str], dict[str, str]]:
    namespaces = isolation in ("namespaces", "userns")
    masks, keep = _mask_and_keep(list(sys_path or [])) if namespaces else ([], [])
    drop_to = None
    if os.geteuid() == 0 and (isolation == "namespaces" or (isolation == "none" and _world_readable_python())):
        drop_to = list(_nobody())
    elif os.geteuid() == 0 and isolation == "none":
        _warn_root_without_drop()
    cfg = {
        "mode": mode,
        "module": module,
        "sys_path": list(sys_path or []),
        "namespaces": namespaces,
        "mask_paths": masks,
        "keep_paths": keep,
        "socket_paths": host_socket_paths(masks) if namespaces else [],
        "workdir": workdir,
        "drop_to": drop_to,
        "memory_mb": limits.memory_mb,
        "cpu_s": max(1, math.ceil(limits.timeout_s)),
        "wall_s": float(limits.timeout_s),
        "file_mb": limits.file_mb,
        "tmpfs_mb": limits.tmpfs_mb,
        "nproc": limits.nproc,
    }
    cmd = [sys.executable, "-I", str(CHILD), json.dumps(cfg)]
    if isolation == "namespaces":
        cmd = ["unshare", *_NS_FLAGS, *cmd]
    elif isolation == "userns":
        cmd = ["unshare", "--user", "--map-root-user", *_NS_FLAGS, *cmd]
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return cmd, env


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _kill_and_collect(proc: subprocess.Popen) -> tuple[bytes, bytes]:
    """Kill the launcher's process group (the namespace's init dies with it) and take what is left, without
    waiting more than a moment."""
    _kill_group(proc)
    try:
        return proc.communicate(timeout=1.0)
    except subprocess.TimeoutExpired:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        try:
            proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            logger.warning("sandbox launcher %d did not exit after SIGKILL", proc.pid)
        return b"", b""


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def run_python(
    code: str,
    *,
    timeout_s: float = 10.0,
    memory_mb: int = 512,
    isolation: Isolation = "auto",
    limits: SandboxLimits | None = None,
) -> SandboxResult:
    """Run ``code`` in a confined child process and return what it printed.

    Args:
        code: Python source (untrusted).
        timeout_s: CPU and wall-clock budget of the code in seconds.
        memory_mb: address-space limit of the child.
        isolation: ``auto`` (strongest available), ``namespaces``, ``userns`` or ``none``.
        limits: full limits (overrides ``timeout_s`` and ``memory_mb``).

    Returns:
        ``SandboxResult``; ``ok`` is False when the code raised, exited non-zero, or hit a limit.
        Never raises for anything the code does.
    """
    limits = limits or SandboxLimits(timeout_s=timeout_s, memory_mb=memory_mb)
    return _run_in(resolve_isolation(isolation), code, limits)


def _run_in(mode: str, code: str, limits: SandboxLimits) -> SandboxResult:
    start = time.perf_counter()
    tmp = None
    if mode == "none":
        tmp = tempfile.mkdtemp(prefix="lumos-sandbox-")
        workdir = tmp
    else:
        workdir = NS_WORKDIR
    cmd, env = _command("run", limits, mode, workdir)
    timed_out = False
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp or "/",
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(code.encode("utf-8", errors="replace"), timeout=limits.timeout_s + GRACE_S)
        except subprocess.TimeoutExpired:
            # The supervisor enforces the limit itself; this is the fallback if it is stuck (e.g. start-up).
            timed_out = True
            out, err = _kill_and_collect(proc)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - start
    lines = out.decode("utf-8", errors="replace").strip().splitlines()
    payload: dict[str, Any] | None = None
    if lines:
        try:
            payload = json.loads(lines[-1])
        except json.JSONDecodeError:
            payload = None
    if timed_out:
        return SandboxResult(False, "", f"TimeoutError: wall-clock time limit of {limits.timeout_s:g} s exceeded (killed)",
                             timed_out=True, isolation=mode, seconds=seconds)  # fmt: skip
    if not isinstance(payload, dict) or not {"ok", "stdout", "error"} <= payload.keys():
        rc = proc.returncode
        why = f"killed by {_signal_name(rc)}" if rc < 0 else f"exited with status {rc}"
        tail = err.decode("utf-8", errors="replace").strip()[-2000:]
        return SandboxResult(False, "", f"sandbox supervisor {why} without a result" + (f": {tail}" if tail else ""),
                             stderr=tail, isolation=mode, seconds=seconds)  # fmt: skip
    for note in payload.get("notes", []):
        logger.debug("sandbox (%s): %s", mode, note)
    return SandboxResult(
        ok=bool(payload["ok"]),
        stdout=str(payload["stdout"]),
        error=str(payload["error"]),
        stderr=str(payload.get("stderr", "")),
        timed_out=bool(payload.get("timed_out", False)),
        isolation=mode,
        seconds=seconds,
    )


def spawn_module(module: str, *, limits: SandboxLimits, isolation: Isolation = "auto", stderr: Any = None) -> subprocess.Popen:
    """Start ``python -m module`` confined like ``run_python`` (for long-lived workers such as sympy).

    The child's stdin/stdout are pipes (text, line-buffered) for the caller's protocol; ``timeout_s``
    is its total CPU budget; ``stderr`` is where its stderr goes (default: discarded). The caller
    must kill the process group (``os.killpg(proc.pid, SIGKILL)``) when done.
    """
    mode = resolve_isolation(isolation)
    import lumos

    root = str(Path(lumos.__file__).resolve().parents[1])
    workdir = NS_WORKDIR if mode != "none" else tempfile.mkdtemp(prefix="lumos-worker-")
    cmd, env = _command("module", limits, mode, workdir, module=module, sys_path=[root])
    return subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
        env=env,
        cwd=workdir if mode == "none" else "/",
        start_new_session=True,
        text=True,
        bufsize=1,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout_s", type=float, default=10.0, help="CPU and wall-clock budget (seconds)")
    parser.add_argument("--memory_mb", type=int, default=512, help="address-space limit of the child (MB)")
    parser.add_argument("--isolation", choices=ISOLATIONS, default="auto", help="isolation mode (default: strongest available)")
    args = parser.parse_args(argv)
    result = run_python(sys.stdin.read(), timeout_s=args.timeout_s, memory_mb=args.memory_mb, isolation=args.isolation)
    print(json.dumps(result.to_json()))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
