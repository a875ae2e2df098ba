"""The process side of ``lumos.tools.sandbox``: confine this interpreter, then run untrusted code.

Started by ``lumos.tools.sandbox`` as ``python -I _sandbox_child.py '<config json>'``, usually under
``unshare`` (new network, mount and pid namespaces). Standard library only, and it never imports
``lumos`` before the confinement is in place. Steps, in order:

1. (namespaces) remount every existing mount read-only, put a fresh size-limited tmpfs over the
   world-writable directories (/tmp, /var/tmp, /dev/shm, /run/lock) and over the parent's HOME,
   re-exposing read-only only the paths the interpreter needs (e.g. a pyenv under HOME);
2. create the working directory, ``chdir`` into it;
3. ``PR_SET_NO_NEW_PRIVS`` (no setuid escalation), drop root to ``nobody`` when started as root;
4. resource limits: address space, CPU seconds, file size, processes, open files, no core files;
5. Python-level guards with clear messages (sockets, subprocesses, fork/exec, signals, writes
   outside the working directory) — a courtesy layer; steps 1-4 are what actually confine;
6. ``run`` mode: execute the code read from stdin with stdout/stderr redirected to files, and
   print one JSON line ``{"ok", "stdout", "stderr", "error", "timed_out"}`` on the original stdout.
   ``module`` mode: run a module as ``__main__`` (the sympy worker), stdin/stdout stay the channel.

Exercise: ``pytest tests/tools/test_sandbox.py``.
"""

import builtins
import ctypes
import io
import json
import os
import resource
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import traceback

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
_FLAG_NAMES = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
PR_SET_NO_NEW_PRIVS = 38
_VIRTUAL_FS = ("/proc", "/sys", "/dev")
_OUTPUT_CAP = 1 << 20

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxTimeout(BaseException):
    """Raised in the user's code when the CPU or wall-clock budget is spent."""


def _mount(source, target, fstype, flags, data):
    rc = _libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source!r} -> {target!r} ({fstype}, flags={flags:#x}): {os.strerror(err)}")


def _mounts():
    """(mount point, per-mount flags) of every mount, parents first."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            point = parts[4].encode().decode("unicode_escape")
            flags = 0
            for opt in parts[5].split(","):
                flags |= _FLAG_NAMES.get(opt, 0)
            out.append((point, flags))
    return out


def _under(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


def _confine_filesystem(cfg, notes):
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    for point, flags in _mounts():
        if any(_under(point, v) for v in _VIRTUAL_FS):
            continue
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, None)
        except OSError as e:  # a mount we may not touch (e.g. locked in a user namespace) stays as it was
            notes.append(f"left {point} as is: {e.strerror}")
    size = f"size={int(cfg['tmpfs_mb'])}m"
    # Hold each path to keep by a file descriptor before anything covers it (it may live under /tmp
    # or HOME), then bind it back from /proc/self/fd once the fresh tmpfs mounts are in place.
    held = [(keep, os.open(keep, os.O_PATH | os.O_DIRECTORY)) for keep in cfg["keep_paths"]]
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, size + ",mode=1777")
    for path in cfg["mask_paths"]:
        if os.path.isdir(path) and path != "/tmp":
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, size + ",mode=1777")
    for keep, fd in held:
        os.makedirs(keep, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", keep, None, MS_BIND | MS_REC, None)
        os.close(fd)
        try:
            _mount(None, keep, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, None)
        except OSError as e:
            notes.append(f"kept {keep} writable: {e.strerror}")


def _drop_privileges(uid, gid):
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities():
    """Empty every capability set (user namespaces: the child is "root" there until now)."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")


def _set_limits(cfg):
    mb = 1024 * 1024
    limits = [
        (resource.RLIMIT_AS, cfg["memory_mb"] * mb, cfg["memory_mb"] * mb),
        (resource.RLIMIT_CPU, cfg["cpu_s"], cfg["cpu_s"] + 1),
        (resource.RLIMIT_FSIZE, cfg["file_mb"] * mb, cfg["file_mb"] * mb),
        (resource.RLIMIT_NPROC, cfg["nproc"], cfg["nproc"]),
        (resource.RLIMIT_NOFILE, 256, 256),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    for which, soft, hard in limits:
        resource.setrlimit(which, (soft, hard))


def _blocked(what):
    def refuse(*args, **kwargs):
        raise PermissionError(f"{what} is disabled in the sandbox")

    return refuse


def _install_guards(workdir):
    """Courtesy guards: clear errors for the obvious calls. Bypassable; the OS limits are the real fence."""
    socket.socket = _blocked("network access (socket.socket)")
    socket.create_connection = _blocked("network access (socket.create_connection)")
    socket.socketpair = _blocked("socket.socketpair")
    socket.fromfd = _blocked("socket.fromfd")
    subprocess.Popen = _blocked("starting processes (subprocess)")
    for name in (
        "system", "popen", "fork", "forkpty", "kill", "killpg", "execv", "execve", "execl", "execle", "execlp",
        "execlpe", "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp",
        "spawnvpe", "posix_spawn", "posix_spawnp", "setuid", "setgid", "chroot", "putenv", "unsetenv",
    ):  # fmt: skip
        if hasattr(os, name):
            setattr(os, name, _blocked(f"os.{name}"))

    root = os.path.realpath(workdir)
    allowed_devices = ("/dev/null",)

    def inside(path):
        if isinstance(path, int):
            return True  # an already-open descriptor
        real = os.path.realpath(os.fsdecode(path))
        return _under(real, root) or real in allowed_devices

    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and not inside(file):
            raise PermissionError(f"writing {file!r} is outside the sandbox directory")
        return real_open(file, mode, *args, **kwargs)

    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def guarded_os_open(path, flags, *args, **kwargs):
        if flags & write_flags and not inside(path):
            raise PermissionError(f"writing {path!r} is outside the sandbox directory")
        return real_os_open(path, flags, *args, **kwargs)

    builtins.open = io.open = guarded_open
    os.open = guarded_os_open

    def path_guard(fn, nargs):
        def guarded(*args, **kwargs):
            for p in args[:nargs]:
                if not inside(p):
                    raise PermissionError(f"{fn.__name__}({p!r}) is outside the sandbox directory")
            return fn(*args, **kwargs)

        return guarded

    for name, nargs in (
        ("remove", 1), ("unlink", 1), ("rmdir", 1), ("removedirs", 1), ("mkdir", 1), ("makedirs", 1),
        ("rename", 2), ("replace", 2), ("renames", 2), ("link", 2), ("symlink", 2), ("chmod", 1), ("chown", 1),
        ("lchown", 1), ("truncate", 1), ("utime", 1), ("mkfifo", 1), ("mknod", 1),
    ):  # fmt: skip
        if hasattr(os, name):
            setattr(os, name, path_guard(getattr(os, name), nargs))
    shutil.rmtree = path_guard(shutil.rmtree, 1)
    shutil.move = path_guard(shutil.move, 2)


def _on_timeout(signum, frame):
    raise SandboxTimeout("CPU time limit exceeded" if signum == signal.SIGXCPU else "wall-clock time limit exceeded")


def _read_capped(path):
    try:
        with open(path, "rb") as f:
            data = f.read(_OUTPUT_CAP + 1)
    except OSError:
        return ""
    text = data[:_OUTPUT_CAP].decode("utf-8", errors="replace")
    return text + ("\n[output truncated]" if len(data) > _OUTPUT_CAP else "")


def _run_code(code, cfg, result_fd):
    out_path, err_path = os.path.join(cfg["workdir"], ".stdout"), os.path.join(cfg["workdir"], ".stderr")
    for fd, path in ((1, out_path), (2, err_path)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    sys.stdin = open(os.devnull)
    ok, error, timed_out = True, "", False
    _install_guards(cfg["workdir"])
    signal.signal(signal.SIGXCPU, _on_timeout)
    signal.signal(signal.SIGALRM, _on_timeout)
    signal.setitimer(signal.ITIMER_REAL, cfg["wall_s"])
    try:
        exec(compile(code, "<sandbox>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SandboxTimeout as e:
        ok, error, timed_out = False, f"TimeoutError: {e}", True
    except SystemExit as e:
        if e.code not in (None, 0):
            ok, error = False, f"SystemExit: {e.code}"
    except BaseException as e:  # noqa: BLE001 - the user's code may raise anything; it is reported, not re-raised
        ok = False
        error = "".join(traceback.format_exception_only(type(e), e)).strip()
        tb = traceback.extract_tb(e.__traceback__)
        frames = [f for f in tb if f.filename == "<sandbox>"]
        if frames:
            error += f" (line {frames[-1].lineno})"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    payload = {
        "ok": ok,
        "stdout": _read_capped(out_path),
        "stderr": _read_capped(err_path),
        "error": error,
        "timed_out": timed_out,
    }
    os.write(result_fd, (json.dumps(payload) + "\n").encode())


def main():
    cfg = json.loads(sys.argv[1])
    code = sys.stdin.read() if cfg["mode"] == "run" else None
    notes = []
    if cfg["namespaces"]:
        _confine_filesystem(cfg, notes)
    os.makedirs(cfg["workdir"], mode=0o700, exist_ok=True)
    if cfg["drop_to"] is not None:
        os.chown(cfg["workdir"], cfg["drop_to"][0], cfg["drop_to"][1])
    os.chdir(cfg["workdir"])
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        notes.append("no_new_privs unavailable")
    if cfg["drop_to"] is not None:
        _drop_privileges(*cfg["drop_to"])
    elif cfg["namespaces"]:
        _drop_capabilities()
    sys.dont_write_bytecode = True
    if cfg["mode"] == "module":
        sys.path[:0] = cfg["sys_path"]
        _set_limits(cfg)
        _install_guards(cfg["workdir"])
        signal.signal(signal.SIGXCPU, _on_timeout)
        runpy.run_module(cfg["module"], run_name="__main__", alter_sys=True)
        return
    result_fd = os.dup(1)
    _set_limits(cfg)
    _run_code(code, cfg, result_fd)


if __name__ == "__main__":
    main()
