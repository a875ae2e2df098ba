"""The process side of ``lumos.tools.sandbox``: a trusted supervisor that confines, forks and reports.

Started by ``lumos.tools.sandbox`` as ``python -I _sandbox_child.py '<config json>'``, usually under
``unshare`` (new network, mount, pid and IPC namespaces), where this process is **PID 1** of the new
pid namespace. Standard library only; it never imports ``lumos``. Two processes:

* the **supervisor** (this process; trusted, never runs model-written text):
  1. (namespaces) remounts every existing mount read-only, puts fresh size-limited tmpfs over the
     world-writable and runtime directories (/tmp, /var/tmp, /dev/shm, /run, /run/lock) and over the
     parent's HOME (re-exposing read-only the paths the interpreter needs), hides every other host
     unix socket the caller listed by binding an empty file over it, and gives /dev/mqueue a fresh
     mqueue instance of the new IPC namespace;
  2. makes itself non-dumpable (no ptrace, no access to its /proc/<pid>/fd);
  3. forks the **worker** with stdout and stderr going to two pipes it reads itself (keeping the
     first ``_OUTPUT_CAP`` bytes, discarding the rest), stdin ``/dev/null`` and every other
     descriptor closed;
  4. waits for the worker, killing it with SIGKILL at the wall-clock limit (plus a short grace);
  5. prints one JSON line ``{"ok", "stdout", "stderr", "error", "timed_out", "notes"}`` on its own
     stdout (the caller's pipe) and exits. Being PID 1, its exit makes the kernel kill every
     process left in the namespace, whatever it did to its session, process group or signals.
     Without namespaces (``none``) it is a child subreaper instead and kills the descendants it can
     find (best effort).
* the **worker** (untrusted): ``PR_SET_NO_NEW_PRIVS``, drops root to ``nobody`` (or drops every
  capability in a user namespace, or as root without a uid change), resource limits, a seccomp filter
  (no sockets except AF_INET / AF_INET6, which have no interface in the empty network namespace, and
  none at all without namespaces; no io_uring; native syscall ABI only), Python-level courtesy
  guards, then runs the code. Its only descriptors are 0 (/dev/null),
  1 and 2 (the pipes to the supervisor). The last line of its stderr carries its own error report,
  which the supervisor takes as the error text; everything else (the caps, the time limit,
  ``timed_out`` on a hard kill) is decided by the supervisor.

``module`` mode (the long-lived sympy worker): the worker keeps stdin/stdout as the caller's
protocol channel; the supervisor only waits for it and exits with it (killing the namespace).

Exercise: ``pytest tests/tools/test_sandbox.py tests/tools/test_sandbox_escapes.py``.
"""

import builtins
import ctypes
import io
import json
import os
import resource
import runpy
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
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
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 4, 22, 38, 36
_VIRTUAL_FS = ("/proc", "/sys", "/dev")
_OUTPUT_CAP = 1 << 20
_TAIL = 1 << 14
_KILL_GRACE_S = 0.5  # the worker's own timer fires first and reports a readable timeout
ERROR_MARKER = "\x00lumos-sandbox-error\x00"
_EXIT_ERROR = 1

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxTimeout(BaseException):
    """Raised in the user's code when the CPU or wall-clock budget is spent."""


# ------------------------------------------------------------------------------------------------
# Supervisor: file system view
# ------------------------------------------------------------------------------------------------
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


def _hide_sockets(paths, notes):
    """Bind an empty, unreadable file over each host unix socket still visible (connect() then fails)."""
    blank = "/tmp/.lumos-hidden-socket"
    fd = os.open(blank, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o000)
    os.close(fd)
    hidden = 0
    for path in paths:
        try:
            if not stat.S_ISSOCK(os.lstat(path).st_mode):
                continue
            _mount(blank, path, None, MS_BIND, None)
        except OSError as e:
            notes.append(f"could not hide socket {path}: {e.strerror}")
            continue
        hidden += 1
        try:
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        except OSError:
            pass  # the empty file is unreadable and not a socket either way
    if hidden:
        notes.append(f"hid {hidden} host unix socket(s)")


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
        if os.path.isdir(path) and not os.path.islink(path) and path != "/tmp":
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, size + ",mode=1777")
    for keep, fd in held:
        os.makedirs(keep, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", keep, None, MS_BIND | MS_REC, None)
        os.close(fd)
        try:
            _mount(None, keep, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, None)
        except OSError as e:
            notes.append(f"kept {keep} writable: {e.strerror}")
    if os.path.isdir("/dev/mqueue"):  # the host's POSIX queues by path: replace with this IPC namespace's
        try:
            _mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        except OSError as e:
            _mount("tmpfs", "/dev/mqueue", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=755")
            notes.append(f"/dev/mqueue covered by an empty tmpfs: {e.strerror}")
    _hide_sockets(cfg.get("socket_paths", []), notes)


# ------------------------------------------------------------------------------------------------
# Worker: privileges, limits, seccomp, guards
# ------------------------------------------------------------------------------------------------
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
        (resource.RLIMIT_MSGQUEUE, 0, 0),
    ]
    for which, soft, hard in limits:
        resource.setrlimit(which, (soft, hard))


# Seccomp (classic BPF over struct seccomp_data {int nr; u32 arch; u64 ip; u64 args[6]}).
_ARCHES = {  # machine -> (AUDIT_ARCH_*, __NR_socket, __NR_io_uring_setup, x32 syscall bit or 0)
    "x86_64": (0xC000003E, 41, 425, 0x40000000),
    "aarch64": (0xC00000B7, 198, 425, 0),
}
_SECCOMP_RET_ALLOW, _SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06


def _install_seccomp(notes, allow_inet):
    """socket() only for AF_INET/AF_INET6 (``allow_inet``: in an empty network namespace) or not at all, no
    io_uring, no foreign syscall ABI: refused with EPERM.

    Unix, netlink, packet, vsock ... sockets are refused whatever their address (path or abstract);
    ``socketpair`` stays allowed (an anonymous pair reaches nothing).
    """
    arch = _ARCHES.get(os.uname().machine)
    if arch is None:
        notes.append(f"no seccomp filter on {os.uname().machine}")
        return
    audit, nr_socket, nr_uring, x32 = arch
    deny = _SECCOMP_RET_ERRNO | 1  # EPERM
    prog = [(_LD_W_ABS, 0, 0, 4)]  # arch
    prog.append((_JEQ_K, 1, 0, audit))
    prog.append((_RET_K, 0, 0, deny))
    prog.append((_LD_W_ABS, 0, 0, 0))  # syscall number
    if x32:
        prog.append((_JGE_K, 0, 1, x32))
        prog.append((_RET_K, 0, 0, deny))
    prog.append((_JEQ_K, 0, 1, nr_uring))
    prog.append((_RET_K, 0, 0, deny))
    prog.append((_JEQ_K, 1, 0, nr_socket))
    prog.append((_RET_K, 0, 0, _SECCOMP_RET_ALLOW))
    if allow_inet:
        prog.append((_LD_W_ABS, 0, 0, 16))  # args[0] (low 32 bits): the address family
        prog.append((_JEQ_K, 2, 0, socket.AF_INET))
        prog.append((_JEQ_K, 1, 0, socket.AF_INET6))
        prog.append((_RET_K, 0, 0, deny))
        prog.append((_RET_K, 0, 0, _SECCOMP_RET_ALLOW))
    else:
        prog.append((_RET_K, 0, 0, deny))
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class _Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = _Fprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    if _libc.prctl(PR_SET_SECCOMP, 2, ctypes.byref(fprog), 0, 0) != 0:  # SECCOMP_MODE_FILTER
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter: {os.strerror(err)}")


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


_timeout_raised = False


def _on_timeout(signum, frame):
    """SIGXCPU (CPU limit) or SIGALRM (wall clock): raise ``SandboxTimeout`` once. A later signal (the other
    limit, or SIGXCPU repeated each second) must not raise again while the first is being reported; code that
    swallows the first is ended by the hard limits and the supervisor's kill."""
    global _timeout_raised
    if _timeout_raised:
        return
    _timeout_raised = True
    raise SandboxTimeout("CPU time limit exceeded" if signum == signal.SIGXCPU else "wall-clock time limit exceeded")


def _confine_worker(cfg, notes):
    """Everything between fork and the untrusted code, in the worker (order matters)."""
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        notes.append("no_new_privs unavailable")
    if cfg["drop_to"] is not None:
        _drop_privileges(*cfg["drop_to"])
    elif cfg["namespaces"] or os.geteuid() == 0:
        _drop_capabilities()  # root without a uid change keeps its uid, but no capability (ptrace, mounts, ...)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after setuid, which clears it
    if os.getppid() != cfg["supervisor_pid"]:
        os._exit(_EXIT_ERROR)  # the supervisor died before the line above
    _set_limits(cfg)
    _install_seccomp(notes, allow_inet=cfg["namespaces"])
    sys.dont_write_bytecode = True


def _run_code(code, cfg):
    """The worker's whole life in ``run`` mode; never returns."""
    status, error, timed_out = 0, "", False
    try:
        _install_guards(cfg["workdir"])
        signal.signal(signal.SIGXCPU, _on_timeout)
        signal.signal(signal.SIGALRM, _on_timeout)
        signal.setitimer(signal.ITIMER_REAL, cfg["wall_s"])
        try:
            exec(compile(code, "<sandbox>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except SandboxTimeout as e:
        status, error, timed_out = _EXIT_ERROR, f"TimeoutError: {e}", True
    except SystemExit as e:
        if e.code not in (None, 0):
            status, error = _EXIT_ERROR, f"SystemExit: {e.code}"
    except BaseException as e:  # noqa: BLE001 - the user's code may raise anything; it is reported, not re-raised
        status = _EXIT_ERROR
        error = "".join(traceback.format_exception_only(type(e), e)).strip()
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == "<sandbox>"]
        if frames:
            error += f" (line {frames[-1].lineno})"
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    report = "\n" + ERROR_MARKER + json.dumps({"error": error, "timed_out": timed_out}) + "\n"
    try:
        os.write(2, report.encode())
    except OSError:
        pass
    os._exit(status)


def _start_worker(cfg, code, notes):
    """Fork the worker; return ``(pid, stdout read end, stderr read end)`` (run mode) or ``(pid, None, None)``."""
    pipes = (os.pipe(), os.pipe()) if cfg["mode"] == "run" else None
    pid = os.fork()
    if pid:
        if pipes is not None:
            os.close(pipes[0][1])
            os.close(pipes[1][1])
            return pid, pipes[0][0], pipes[1][0]
        return pid, None, None
    try:
        if pipes is not None:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(pipes[0][1], 1)
            os.dup2(pipes[1][1], 2)
        os.closerange(3, 1 << 20)  # nothing but 0, 1, 2 reaches the untrusted code
        sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
        _confine_worker(cfg, notes)
        if pipes is None:
            sys.path[:0] = cfg["sys_path"]
            _install_guards(cfg["workdir"])
            signal.signal(signal.SIGXCPU, _on_timeout)
            runpy.run_module(cfg["module"], run_name="__main__", alter_sys=True)
            sys.stdout.flush()
            os._exit(0)
        _run_code(code, cfg)
    except BaseException:  # noqa: BLE001 - the worker must never return into the supervisor's code
        try:
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(_EXIT_ERROR)
    os._exit(_EXIT_ERROR)


# ------------------------------------------------------------------------------------------------
# Supervisor: collect, enforce the deadline, report
# ------------------------------------------------------------------------------------------------
class _Capture:
    """The first ``_OUTPUT_CAP`` bytes of a stream and its last ``_TAIL`` bytes; the rest is discarded."""

    def __init__(self):
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data):
        self.total += len(data)
        room = _OUTPUT_CAP + 1 - len(self.head)
        if room > 0:
            self.head += data[:room]
        self.tail += data
        del self.tail[:-_TAIL]


def _read_some(fd, capture):
    try:
        data = os.read(fd, 1 << 16)
    except BlockingIOError:
        return True
    except OSError:
        return False
    if not data:
        return False
    capture.add(data)
    return True


def _supervise(pid, out_fd, err_fd, wall_s):
    """Read the worker's output until it exits or the deadline passes. Returns (status, timed_out, out, err)."""
    out, err = _Capture(), _Capture()
    open_fds = {out_fd: out, err_fd: err}
    for fd in open_fds:
        os.set_blocking(fd, False)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # Linux < 5.3: poll waitpid instead
        pidfd = None
    deadline = time.monotonic() + wall_s + _KILL_GRACE_S
    timed_out, status = False, None
    poller = select.poll()
    for fd in (*open_fds, *([pidfd] if pidfd is not None else [])):
        poller.register(fd, select.POLLIN)
    while status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        wait_ms = max(1, int(left * 1000)) if pidfd is not None else max(1, min(50, int(left * 1000)))
        for fd, _ in poller.poll(wait_ms):
            if fd == pidfd:
                status = os.waitpid(pid, 0)[1]
            elif not _read_some(fd, open_fds[fd]):
                poller.unregister(fd)
        if status is None and pidfd is None:
            reaped, st = os.waitpid(pid, os.WNOHANG)
            status = st if reaped else None
    if status is None:
        status = os.waitpid(pid, 0)[1]
    if pidfd is not None:
        os.close(pidfd)
    for fd, capture in open_fds.items():  # what the worker wrote before it ended (a descendant may write on)
        budget = _OUTPUT_CAP + (1 << 17)
        while budget > 0 and _read_some(fd, capture):
            budget -= 1 << 16
            if not select.select([fd], [], [], 0)[0]:
                break
        os.close(fd)
    return status, timed_out, out, err


def _text(capture):
    data = bytes(capture.head[:_OUTPUT_CAP])
    text = data.decode("utf-8", errors="replace")
    return text + ("\n[output truncated]" if capture.total > _OUTPUT_CAP else "")


def _worker_report(err):
    """The worker's own last-line report, and stderr without it."""
    tail = bytes(err.tail)
    marker = ("\n" + ERROR_MARKER).encode()
    pos = tail.rfind(marker)
    report = None
    if pos >= 0:
        try:
            report = json.loads(tail[pos + len(marker) :].decode("utf-8", errors="replace"))
        except ValueError:
            report = None
    stderr = _text(err)
    if report is not None and isinstance(report, dict):
        cut = stderr.rfind("\n" + ERROR_MARKER)
        if cut >= 0:
            stderr = stderr[:cut]
        return report, stderr
    return None, stderr


def _describe_status(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        why = f"killed by {name}"
        if sig in (signal.SIGKILL, signal.SIGXCPU):
            why += " (CPU or memory limit)"
        return why
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


def _kill_descendants():
    """``none`` mode: SIGKILL every process reparented to this subreaper, until none is left (best effort)."""
    for _ in range(200):
        children = set()
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/children") as f:
                    children.update(int(p) for p in f.read().split())
            except OSError:
                pass
        if not children:
            return
        for child in children:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
        while True:
            try:
                reaped, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if reaped == 0:
                break


def _report(payload):
    os.write(1, (json.dumps(payload) + "\n").encode())


def main():
    cfg = json.loads(sys.argv[1])
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as PID 1, a signal without a handler cannot reach it
    code = sys.stdin.read() if cfg["mode"] == "run" else None
    notes = []
    if cfg["namespaces"]:
        _confine_filesystem(cfg, notes)
    else:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    os.makedirs(cfg["workdir"], mode=0o700, exist_ok=True)
    if cfg["drop_to"] is not None:
        os.chown(cfg["workdir"], cfg["drop_to"][0], cfg["drop_to"][1])
    os.chdir(cfg["workdir"])
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    cfg["supervisor_pid"] = os.getpid()
    if os.uname().machine not in _ARCHES:
        notes.append(f"no seccomp filter on {os.uname().machine}: unix and other sockets are not refused")
    pid, out_fd, err_fd = _start_worker(cfg, code, notes)
    if cfg["mode"] == "module":
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):  # the protocol channel belongs to the worker alone
            os.dup2(null, fd)
        while True:  # reap orphans too (we are their init) until the worker itself ends
            reaped, status = os.wait()
            if reaped == pid:
                break
        if not cfg["namespaces"]:
            _kill_descendants()
        code = os.waitstatus_to_exitcode(status)
        os._exit(code if code >= 0 else 128 - code)
    status, timed_out, out, err = _supervise(pid, out_fd, err_fd, cfg["wall_s"])
    if not cfg["namespaces"]:
        _kill_descendants()
    report, stderr = _worker_report(err)
    exited_ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    if timed_out:
        ok, error = False, f"TimeoutError: wall-clock time limit of {cfg['wall_s']:g} s exceeded (killed)"
    elif exited_ok:
        ok, error = True, ""
    elif report is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == _EXIT_ERROR and report.get("error"):
        ok, error = False, str(report["error"])
        timed_out = bool(report.get("timed_out", False))
    else:
        ok, error = False, f"sandbox process {_describe_status(status)}"
        tail = stderr.strip()[-2000:]
        if tail:
            error += f": {tail}"
    _report({"ok": ok, "stdout": _text(out), "stderr": stderr, "error": error, "timed_out": timed_out, "notes": notes})


if __name__ == "__main__":
    main()
