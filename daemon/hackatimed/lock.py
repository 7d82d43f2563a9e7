"""One daemon per queue: an exclusive `flock` on a file in the data directory.

The kernel drops the lock when its holder dies, however it dies (kill -9, a crash, a power cut),
so there is never a stale lock to clean up. The holder writes its pid into the file, so another
process can name it; whether the lock is held, not whether that pid is alive, says if a daemon
runs (a pid may have been given to another process since).
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = "daemon.lock"


@dataclass(frozen=True, slots=True)
class Holder:
    """The daemon that holds the lock: its pid, or None when it has not written it yet."""

    pid: int | None


class AlreadyRunning(Exception):
    def __init__(self, holder: Holder) -> None:
        super().__init__(f"the lock is held by pid {holder.pid}")
        self.holder = holder


class DaemonLock:
    """Held for the daemon's whole life; `release()` (or the process's end) lets it go."""

    __slots__ = ("_fd", "path")

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = None


def acquire(data_dir: Path) -> DaemonLock:
    """Take the lock of `data_dir`, or raise AlreadyRunning naming the holder."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / LOCK_FILE
    # O_CLOEXEC: a child the daemon starts (git, an idle helper) must not inherit the lock.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise AlreadyRunning(Holder(_read_pid(path))) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return DaemonLock(path, fd)


def holder(data_dir: Path) -> Holder | None:
    """The daemon holding the lock of `data_dir`, or None when no process holds it.

    Takes a shared lock for an instant to find out, and creates nothing.
    """
    path = data_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return Holder(_read_pid(path))
    finally:
        os.close(fd)  # also drops the shared lock, when it was taken
    return None


def lock_file_exists(data_dir: Path) -> bool:
    """Whether a daemon of this version ever ran here (older ones left no lock file)."""
    return (data_dir / LOCK_FILE).exists()


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None
