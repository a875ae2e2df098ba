"""One writer per output: a lock file beside the output, freed by the kernel when its holder dies.

    with lock_output("data/train/maths/converted/gsm8k_train_converted.json"):
        ...  # a second run on the same output raises LockHeld at once, naming this one

The lock is ``fcntl.flock`` on ``<output>.lock`` (so it is released on exit, on a crash and on
``kill -9``: a stale file never blocks anyone), and the file says who holds it, as one JSON line::

    {"pid": 4242, "host": "node7", "started": "2025-01-02T10:11:12+00:00", "command": "python -m data.prompt_convertion ..."}

The holder removes the file when it releases the lock. Locks are per open file, so two locks on one path
conflict even inside one process. Sharded runs lock each shard's own output file, so shards do not collide.

Exercise: ``pytest tests/utils/test_lock.py``.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import logging
import os
import shlex
import socket
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from lumos.utils.cli import ReportedError

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"
EXIT_LOCKED = 3


@dataclass(frozen=True)
class LockInfo:
    """Who holds a lock (what its file says)."""

    pid: int
    host: str
    started: str
    command: str

    @classmethod
    def current(cls) -> LockInfo:
        argv = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
        started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return cls(pid=os.getpid(), host=socket.gethostname(), started=started, command=shlex.join(argv))

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.started} ({self.command})"


class LockHeld(ReportedError):
    """Another process holds the lock; the message names it (pid, host, start time, command)."""

    exit_code = EXIT_LOCKED

    def __init__(self, target: Path, lock_path: Path, holder: LockInfo | None) -> None:
        who = holder.describe() if holder is not None else "another process (it has not written its details yet)"
        super().__init__(f"{target} is being written by {who}; wait for it to finish or stop it "
                         f"(the lock {lock_path} is freed when that process ends)")  # fmt: skip
        self.target = target
        self.lock_path = lock_path
        self.holder = holder


def read_holder(lock_path: str | Path) -> LockInfo | None:
    """The holder a lock file names (None if the file is missing, empty or not ours)."""
    try:
        data: Any = json.loads(Path(lock_path).read_text(encoding="utf-8"))
        return LockInfo(int(data["pid"]), str(data["host"]), str(data["started"]), str(data["command"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class FileLock:
    """An exclusive, non-blocking lock on ``lock_path`` (created if needed). Context manager.

    Args:
        lock_path: the lock file.
        target: what the lock protects, for messages (default: ``lock_path``).
    """

    def __init__(self, lock_path: str | Path, *, target: str | Path | None = None) -> None:
        self.path = Path(lock_path)
        self.target = Path(target) if target is not None else self.path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> FileLock:
        """Take the lock or raise ``LockHeld`` at once; write this process's details into the file."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this FileLock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise LockHeld(self.target, self.path, read_holder(self.path)) from None
                raise
            # The previous holder may have removed the file between our open and our flock: then we locked
            # an unlinked inode, and must start again on the file that is there now.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        else:
            raise RuntimeError(f"could not take {self.path}: it keeps being replaced")
        info = json.dumps(asdict(LockInfo.current())) + "\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode("utf-8"), 0)
        os.fsync(fd)
        self._fd = fd
        logger.debug("took %s", self.path)
        return self

    def release(self) -> None:
        """Remove the lock file and release the lock (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)  # releases the flock

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)  # type: ignore[arg-type]


def lock_path_for(output: str | Path) -> Path:
    """``<output>.lock``: the lock file guarding ``output`` (a file or a directory)."""
    output = Path(output)
    return output.with_name(output.name + LOCK_SUFFIX)


def lock_output(output: str | Path) -> FileLock:
    """The (not yet taken) lock guarding ``output``; use as ``with lock_output(path): ...``."""
    return FileLock(lock_path_for(output), target=output)
