"""Git through GitPython: a repository's branch, and files' contents at HEAD from its persistent
`git cat-file --batch`, one process per open repository however many files are asked.

A first save of a tracked file asks for its HEAD version (the baseline of its first diff). One
`git cat-file` spawned per call costs about 2.7 ms; the persistent one answers in 0.24 ms
(FIELD_NOTES.md). The price is a process of about 4 MB kept alive, so repositories are opened
only when needed and closed again: once a repository has been quiet for `idle_seconds`, or when
more than `max_open` are open (the least recently used goes). With nothing open, nothing runs:
no git process and no timer thread.

GitPython is imported when the first repository is met, not with the daemon (25-38 ms and 2.7 MB).
`vcs.git_checkout_at` stands in front of it: only a checkout whose metadata files are small
regular files gets a `Repo` (GitPython reads them whole, and would hang on a FIFO). A git that
hangs on a read is killed after `hung_seconds` by the same timer that closes idle repositories.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hackatimed.detect import vcs
from hackatimed.detect.vcs import GitCheckout

if TYPE_CHECKING:
    from git import Repo

log = logging.getLogger(__name__)

IDLE_SECONDS = 30.0
MAX_OPEN = 8
HUNG_SECONDS = 10.0
_TICK_SECONDS = 5.0


@dataclass(slots=True)
class _Open:
    repo: Repo
    used: float  # monotonic: the end of its last use
    users: int = 0  # calls using it now (or waiting for its lock): never closed meanwhile
    busy_since: float = 0.0  # monotonic: when its users last went from none to some
    lock: threading.Lock = field(default_factory=threading.Lock)


class GitRepos:
    """The open repositories, by their work tree's top folder. Thread-safe."""

    def __init__(
        self,
        *,
        idle_seconds: float = IDLE_SECONDS,
        max_open: int = MAX_OPEN,
        hung_seconds: float = HUNG_SECONDS,
        tick_seconds: float = _TICK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._idle = idle_seconds
        self._max_open = max(1, max_open)
        self._hung = hung_seconds
        self._tick = tick_seconds
        self._clock = clock
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def branch(self, checkout: GitCheckout) -> str | None:
        """The branch HEAD names, by wakatime-cli's rule (`refs/heads/feature/x` is
        `feature/x`); None for a detached HEAD or anything GitPython cannot read."""
        entry = self._acquire(checkout)
        if entry is None:
            return None
        try:
            with entry.lock:
                ref = entry.repo.head.reference.path
        except Exception as exc:  # TypeError: detached; others: garbled or vanished
            log.debug("no branch from %s: %s", checkout.gitdir, exc)
            return None
        finally:
            self._release(entry)
        parts = str(ref).split("/", 2)
        name = parts[2] if len(parts) == 3 and parts[0] == "refs" else ""
        # reftable (git 2.45+) leaves `refs/heads/.invalid` in HEAD: no file names the branch.
        return name if name and name != ".invalid" else None

    def head_blobs(
        self, checkout: GitCheckout, relpaths: Sequence[str], *, max_bytes: int
    ) -> list[bytes | None]:
        """The contents at HEAD of `relpaths` (relative to the work tree's top), each None when
        untracked, not a file, larger than `max_bytes`, or unreadable."""
        out: list[bytes | None] = [None] * len(relpaths)
        if not relpaths:
            return out
        entry = self._acquire(checkout)
        if entry is None:
            return out
        broken = False
        try:
            with entry.lock:
                for i, rel in enumerate(relpaths):
                    # One name per line on cat-file's input: a newline cannot be asked for.
                    if "\n" in rel:
                        continue
                    try:
                        out[i] = _read_blob(entry.repo, rel, max_bytes)
                    except ValueError as exc:
                        # Only cat-file's "<name> missing" answer leaves git in step (untracked,
                        # or no commit yet). Anything else is no answer at all: git died or was
                        # killed, and may not have exited yet, so its liveness cannot tell;
                        # GitPython words that case differently across versions.
                        if "missing" in str(exc):
                            continue
                        broken = True
                        break
                    except _Oversized:
                        broken = True  # its content is still on the pipe: drop the process
                        break
        except Exception as exc:  # a dead or killed git, an unreadable repository
            log.debug("no HEAD versions from %s: %s", checkout.top, exc)
            broken = True
        finally:
            self._release(entry, close=broken)
        return out

    def open_count(self) -> int:
        with self._lock:
            return len(self._open)

    def close_idle(self) -> None:
        """Close the repositories quiet for `idle_seconds`; kill a git hung past `hung_seconds`.
        The timer calls this; tests may too."""
        now = self._clock()
        with self._lock:
            self._timer = None
            idle = [
                top for top, e in self._open.items() if not e.users and now - e.used >= self._idle
            ]
            closing = [self._open.pop(top) for top in idle]
            hung = [e for e in self._open.values() if e.users and now - e.busy_since >= self._hung]
            self._arm()
        for entry in closing:
            _close(entry.repo)
        for entry in hung:
            log.warning("git in %s answered nothing for %.0f s; stopped", entry.repo, self._hung)
            _kill(entry.repo)

    def close(self) -> None:
        """Close every repository now (and stop the timer)."""
        with self._lock:
            closing = list(self._open.values())
            self._open.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        for entry in closing:
            _close(entry.repo)

    # -- the pool ---------------------------------------------------------------------------

    def _acquire(self, checkout: GitCheckout) -> _Open | None:
        with self._lock:
            entry = self._open.get(checkout.top)
            if entry is not None:
                self._use(entry)
                return entry
        repo = _open_repo(checkout)  # outside the lock: it reads files, and may import git
        if repo is None:
            return None
        evicted: list[_Open] = []
        with self._lock:
            entry = self._open.get(checkout.top)
            if entry is None:
                entry = _Open(repo, self._clock())
                self._open[checkout.top] = entry
                evicted = self._evict()
            else:
                evicted = [_Open(repo, 0.0)]  # another thread opened it meanwhile
            self._use(entry)
            self._arm()
        for old in evicted:
            _close(old.repo)
        return entry

    def _use(self, entry: _Open) -> None:
        """Under the lock."""
        if not entry.users:
            entry.busy_since = self._clock()
        entry.users += 1

    def _release(self, entry: _Open, *, close: bool = False) -> None:
        with self._lock:
            entry.users -= 1
            entry.used = self._clock()
            if close:
                for top, e in list(self._open.items()):
                    if e is entry:
                        del self._open[top]
        if close:
            _close(entry.repo)

    def _evict(self) -> list[_Open]:
        """Under the lock: the least recently used idle repositories beyond `max_open`."""
        idle = sorted((e.used, top) for top, e in self._open.items() if not e.users)
        evicted = []
        for _used, top in idle[: max(0, len(self._open) - self._max_open)]:
            evicted.append(self._open.pop(top))
        return evicted

    def _arm(self) -> None:
        """Under the lock: a timer while anything is open, none at rest."""
        if self._timer is None and self._open:
            self._timer = threading.Timer(self._tick, self.close_idle)
            self._timer.daemon = True
            self._timer.start()


class _Oversized(Exception):
    pass


def _read_blob(repo: Repo, rel: str, max_bytes: int) -> bytes | None:
    _sha, kind, size, stream = repo.git.stream_object_data("HEAD:" + rel.replace(os.sep, "/"))
    if size > max_bytes:
        raise _Oversized
    data = stream.read(size)
    del stream  # reads the newline after the content: the next answer starts clean
    # GitPython says str, and hands the header's bytes over as they come.
    is_blob: bool = kind in ("blob", b"blob")
    return data if is_blob else None


def _open_repo(checkout: GitCheckout) -> Repo | None:
    if not vcs.git_metadata_is_small(checkout):
        log.debug("not opening %s: a metadata file is missing, special or too large", checkout)
        return None
    try:
        # Here, not at the top: only a daemon that meets a repository pays for GitPython.
        import git

        return git.Repo(checkout.top)
    except Exception as exc:
        log.debug("GitPython cannot open %s: %s", checkout.top, exc)
        return None


def _close(repo: Repo) -> None:
    try:
        repo.close()  # ends its cat-file processes
    except Exception as exc:
        log.debug("closing %s: %s", repo, exc)


def _kill(repo: Repo) -> None:
    """Unblock a read from a hung git: its process killed, the read sees the pipe end."""
    for cmd in (repo.git.cat_file_all, repo.git.cat_file_header):
        proc = getattr(cmd, "proc", None)
        if proc is not None:
            with contextlib.suppress(OSError):  # already gone
                proc.kill()
