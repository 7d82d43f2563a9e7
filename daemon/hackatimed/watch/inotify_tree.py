"""Linux: which folders of a root hold an inotify watch, kept right as the tree changes.

watchdog places an inotify watch on every folder below a recursive root and filters events
afterwards, so one project with a big `node_modules` can use up a laptop's whole watch limit
(8,192 on many distributions). Here a root's `PrunedWatchGroup` asks a `FolderPolicy` before it
watches or walks into a folder: ignored folders get no watch, and `.git` gets a watch on itself
(HEAD: the branch) and on the few folders below it that hold other checkouts' HEADs, not on
`objects/`. It turns the kernel's events into watchdog's event classes; inotify_emitter.py runs
it as a watchdog emitter.

It stands on public ground only, so that no watchdog release can quietly undo it: watchdog's
documented event classes and observer API, and the kernel's inotify calls through
`inotify_simple`, a literal binding of them. The version before subclassed watchdog's private
inotify classes, and watchdog 7.1.1 changed those in a patch release.

Overflow of the kernel queue: watchdog removes and re-adds every watch, which floods the queue
again on a big tree (FIELD_NOTES.md). Here the watches are reconciled in place (only folders that
appeared are added, only gone ones removed) once the queue has gone quiet, and the policy is told
so the watcher can rescan what changed. The mask asks for no open or access events, so the walk
itself puts nothing in the queue.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, Protocol

from inotify_simple import flags
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
)

log = logging.getLogger(__name__)

_LIMIT_ERRORS = frozenset({errno.ENOSPC, errno.EMFILE})

# Not IN_ATTRIB: chmod and touch are no edits, and a checkout would fill the queue with them.
# Not IN_OPEN or IN_ACCESS: reading a file is no edit, and our own walks would flood the queue.
WATCH_MASK = (
    flags.CREATE
    | flags.DELETE
    | flags.MODIFY
    | flags.CLOSE_WRITE
    | flags.MOVED_FROM
    | flags.MOVED_TO
    | flags.DELETE_SELF
    | flags.MOVE_SELF
    | flags.ONLYDIR
    | flags.DONT_FOLLOW
    | flags.EXCL_UNLINK
)
_SELF_GONE = flags.DELETE_SELF | flags.MOVE_SELF | flags.UNMOUNT

# After an overflow, wait for this long a pause in the events before reconciling, so a storm
# that overflows again and again is reconciled once, not once per overflow...
QUIET_SECONDS = 0.25
# ...but no longer than this, so a storm that never pauses is still reconciled.
RECONCILE_AT_LEAST_EVERY = 2.0


class Verdict(Enum):
    """How a folder is watched."""

    TREE = "tree"  # watched, and so is every folder below it that is not ignored
    GITDIR = "gitdir"  # a git folder: watched (HEAD), and below it only info/, worktrees/, modules/
    LEAF = "leaf"  # watched, nothing below it
    WORKTREES = "worktrees"  # .git/worktrees: each linked worktree's folder holds its HEAD
    MODULES = "modules"  # .git/modules: submodules' git folders, possibly nested in folders
    SKIP = "skip"  # not watched, nor anything below it


class FolderPolicy(Protocol):
    """What a watch group asks and tells; called on the emitters' threads."""

    def ignores_dir(self, path: str) -> bool: ...

    def limit_hit(self, root: str, exc: OSError) -> None: ...

    def root_failed(self, root: str, exc: OSError) -> None: ...

    def overflowed(self, group: PrunedWatchGroup, lost_after: float | None) -> None: ...

    def register(self, group: PrunedWatchGroup, *, active: bool) -> None: ...


def child_verdict(policy: FolderPolicy, parent: Verdict, path: str, name: str) -> Verdict:
    if parent is Verdict.TREE:
        if name == ".git":
            return Verdict.GITDIR
        if name == ".hg":  # `.hg/branch` names the branch
            return Verdict.LEAF
        return Verdict.SKIP if policy.ignores_dir(path) else Verdict.TREE
    if parent is Verdict.GITDIR:
        return _GITDIR_CHILDREN.get(name, Verdict.SKIP)
    if parent is Verdict.WORKTREES:
        return Verdict.LEAF
    if parent is Verdict.MODULES:
        return Verdict.GITDIR if os.path.isfile(os.path.join(path, "HEAD")) else Verdict.MODULES
    return Verdict.SKIP


_GITDIR_CHILDREN = {
    "info": Verdict.LEAF,  # info/exclude: ignore rules
    "worktrees": Verdict.WORKTREES,
    "modules": Verdict.MODULES,
}

Emit = Callable[[FileSystemEvent], None]


class Inotify(Protocol):
    """The kernel's inotify calls, as `inotify_simple.INotify` makes them: the test seam."""

    def add_watch(self, path: str, mask: int) -> int: ...

    def rm_watch(self, wd: int) -> None: ...

    def read(self, timeout: int | None = None) -> Iterable[Any]: ...

    def fileno(self) -> int: ...

    def close(self) -> None: ...


class PrunedWatchGroup:
    """The inotify watches of one root (or, not recursive, of one folder): which folder each
    watch descriptor stands for, kept right through renames, deletions and overflows.

    Called on its emitter's thread (events) and on worker threads (`refresh`, `watched_folders`),
    hence the lock.
    """

    def __init__(
        self,
        inotify: Inotify,
        path: str,
        *,
        recursive: bool,
        policy: FolderPolicy,
        emit: Emit,
    ) -> None:
        self.path = path
        self.is_recursive = recursive
        self._inotify = inotify
        self._policy = policy
        self._emit = emit
        self._lock = threading.RLock()
        self._folders: dict[int, str] = {}  # watch descriptor -> folder
        self._wds: dict[str, int] = {}  # folder -> watch descriptor
        self._verdicts: dict[int, Verdict] = {}
        self._inodes: dict[int, int] = {}
        self._moved_from: tuple[int, str, bool] | None = None  # cookie, path, is a folder
        self._overflow_since: float | None = None
        self._lost_after: float | None = None
        # The files of the last few events: after an overflow, their modification times bound
        # when events began to be lost (the kernel queues events in the order of the writes).
        self._recent: deque[str] = deque(maxlen=8)
        self._last_event = 0.0
        self.root_gone = False

    # -- what the watcher asks ----------------------------------------------------------------

    @property
    def watched_count(self) -> int:
        return len(self._folders)

    def watched_folders(self) -> list[str]:
        with self._lock:
            return list(self._wds)

    def fileno(self) -> int:
        """The inotify descriptor: /proc/self/fdinfo/<it> lists the kernel's watches."""
        return self._inotify.fileno()

    def read(self) -> list[Any]:
        return list(self._inotify.read(timeout=0))

    def close(self) -> None:
        with self._lock:
            for wd in list(self._folders):
                self._forget(wd)
            self._inotify.close()

    def start(self) -> None:
        """Watch the root and, when recursive, every folder below it the policy lets through."""
        with self._lock:
            try:
                self._add(self.path, Verdict.TREE)
            except OSError as exc:
                self._refused(self.path, exc, root=True)
                return
            if self.is_recursive:
                self._walk(self.path, Verdict.TREE, report=False)

    def refresh(self, folder: str) -> None:
        """The ignore rules for `folder` changed: unwatch what is now ignored below it, watch
        what no longer is. A folder outside this group's tree is none of its business."""
        with self._lock:
            if self.root_gone or not self.is_recursive or not _within(folder, self.path):
                return
            self._unwatch_ignored_below(folder)
            start = folder
            while start not in self._wds and _within(start, self.path):
                start = os.path.dirname(start)
            wd = self._wds.get(start)
            if wd is not None:
                self._walk(start, self._verdicts[wd], report=False)

    # -- the kernel's events, on the emitter's thread -------------------------------------------

    def handle(self, events: Iterable[Any], now: float) -> None:
        with self._lock:
            for ev in events:
                self._last_event = now
                if ev.mask & flags.Q_OVERFLOW:
                    self._moved_from = None  # its other half may be lost; the rescan will tell
                    if self._overflow_since is None:
                        self._overflow_since = now
                        self._lost_after = _earliest_mtime(self._recent)
                    continue
                folder = self._folders.get(ev.wd)
                if folder is None:
                    continue
                self._handle_one(ev, folder)

    def waiting_for_move_pair(self) -> bool:
        return self._moved_from is not None

    def flush_move(self) -> None:
        """The other half of a rename did not come: it went out of (or came from outside) the
        watched tree."""
        with self._lock:
            self._moved_out()

    def overflow_pending(self) -> bool:
        return self._overflow_since is not None

    def reconcile_if_due(self, now: float) -> bool:
        """After an overflow: once the queue is quiet (or a storm has gone on long enough),
        bring the watches in line with the folders, and tell the policy so it can rescan."""
        since = self._overflow_since
        if since is None:
            return False
        quiet = now - self._last_event >= QUIET_SECONDS
        if not quiet and now - since < RECONCILE_AT_LEAST_EVERY:
            return False
        self._overflow_since = None
        self._reconcile()
        self._policy.overflowed(self, self._lost_after)
        return True

    def _handle_one(self, ev: Any, folder: str) -> None:
        mask = ev.mask
        if mask & flags.IGNORED:
            self._forget(ev.wd)
            return
        if mask & _SELF_GONE:
            # A folder below the root moved or went: its parent's event says so. The root's own
            # event is the only word of it.
            if folder == self.path:
                self._moved_out()
                self.root_gone = True
                self._emit(DirDeletedEvent(self.path))
            return
        path = os.path.join(folder, ev.name)
        is_dir = bool(mask & flags.ISDIR)
        if not is_dir:
            self._recent.append(path)
        if mask & flags.MOVED_TO:
            pending = self._moved_from
            if pending is not None and pending[0] == ev.cookie:
                self._moved_from = None
                self._moved_within(pending[1], path, is_dir)
            else:
                self._moved_out()
                self._moved_in(path, is_dir)
            return
        self._moved_out()
        if mask & flags.MOVED_FROM:
            self._moved_from = (ev.cookie, path, is_dir)
        elif mask & flags.CREATE:
            if is_dir:
                self._emit(DirCreatedEvent(path))
                self._settle(path, report=True)
            else:
                self._emit(FileCreatedEvent(path))
        elif mask & flags.DELETE:
            self._emit(DirDeletedEvent(path) if is_dir else FileDeletedEvent(path))
        elif is_dir:
            return
        elif mask & flags.MODIFY:
            self._emit(FileModifiedEvent(path))
        elif mask & flags.CLOSE_WRITE:
            self._emit(FileClosedEvent(path))

    def _moved_within(self, src: str, dest: str, is_dir: bool) -> None:
        if not is_dir:
            self._emit(FileMovedEvent(src, dest))
            return
        # A folder renamed is not an edit of every file in it: the folder only is reported.
        self._emit(DirMovedEvent(src, dest))
        for path, wd in self._watched_below(src):
            moved = dest + path[len(src) :]
            del self._wds[path]
            self._wds[moved] = wd
            self._folders[wd] = moved
        self._settle(dest, report=False)

    def _moved_out(self) -> None:
        pending, self._moved_from = self._moved_from, None
        if pending is None:
            return
        _cookie, path, is_dir = pending
        if not is_dir:
            self._emit(FileDeletedEvent(path))
            return
        # Its watches would go on reporting it under a path where it no longer is.
        self._unwatch([wd for _p, wd in self._watched_below(path)])
        self._emit(DirDeletedEvent(path))

    def _moved_in(self, path: str, is_dir: bool) -> None:
        if not is_dir:
            self._emit(FileCreatedEvent(path))
            return
        self._emit(DirCreatedEvent(path))
        self._settle(path, report=False)

    # -- the pruned walk -----------------------------------------------------------------------

    def _settle(self, top: str, *, report: bool) -> None:
        """Watch `top` and below as the policy says now; `report` the files found in folders
        watched anew (they may have been written before their folder's watch was in place)."""
        if not self.is_recursive:
            return
        verdict = self._verdict_for(top)
        if verdict is Verdict.SKIP:
            self._unwatch([wd for _p, wd in self._watched_below(top)])
            return
        try:
            fresh = self._add(top, verdict)
        except OSError as exc:
            self._refused(top, exc)
            return
        self._unwatch_ignored_below(top)
        if report and fresh:
            self._report_contents(top)
        self._walk(top, verdict, report=report)

    def _walk(self, top: str, verdict: Verdict, *, report: bool) -> None:
        stack = [(top, verdict)]
        while stack:
            folder, v = stack.pop()
            if v is Verdict.LEAF:
                continue
            for name, inode in _subfolders(folder):
                child = os.path.join(folder, name)
                cv = child_verdict(self._policy, v, child, name)
                if cv is Verdict.SKIP:
                    continue
                try:
                    fresh = self._add(child, cv, inode)
                except OSError as exc:
                    if self._refused(child, exc):
                        return  # the kernel's limit: walking on would only be refused again
                    continue
                if report and fresh:
                    self._report_contents(child)
                stack.append((child, cv))

    def _add(self, path: str, verdict: Verdict, inode: int | None = None) -> bool:
        """Watch `path`; True when it was not watched before."""
        if inode is None:
            inode = os.stat(path, follow_symlinks=False).st_ino
        known = self._wds.get(path)
        if known is not None and self._inodes.get(known) == inode:
            self._verdicts[known] = verdict
            return False
        wd = self._inotify.add_watch(path, WATCH_MASK)
        # The same folder under another name (a rename whose event was lost): one entry.
        old = self._folders.get(wd)
        if old is not None and old != path:
            self._wds.pop(old, None)
        self._folders[wd] = path
        self._wds[path] = wd
        self._verdicts[wd] = verdict
        self._inodes[wd] = inode
        return known is None

    def _refused(self, path: str, exc: OSError, *, root: bool = False) -> bool:
        """A watch the kernel would not place; True when it is the watch limit."""
        if exc.errno in _LIMIT_ERRORS:
            self._policy.limit_hit(self.path, exc)
            return True
        if root:
            self._policy.root_failed(self.path, exc)
        # Otherwise a folder that vanished or cannot be read: go on with the others.
        return False

    def _report_contents(self, folder: str) -> None:
        for name, is_dir in _entries(folder):
            path = os.path.join(folder, name)
            if not is_dir:
                self._emit(FileCreatedEvent(path))
            elif path in self._wds or self._verdict_for(path) is not Verdict.SKIP:
                self._emit(DirCreatedEvent(path))

    def _verdict_for(self, path: str) -> Verdict:
        if path == self.path:
            return Verdict.TREE
        parent_wd = self._wds.get(os.path.dirname(path))
        parent = Verdict.TREE if parent_wd is None else self._verdicts[parent_wd]
        return child_verdict(self._policy, parent, path, os.path.basename(path))

    def _watched_below(self, top: str) -> list[tuple[str, int]]:
        return [(path, wd) for path, wd in self._wds.items() if _within(path, top)]

    def _unwatch_ignored_below(self, folder: str) -> None:
        gone: list[str] = []
        # Parents before children: a folder below one that goes, goes too.
        for path, _wd in sorted(self._watched_below(folder), key=lambda item: len(item[0])):
            if path == self.path or path == folder:
                continue
            if any(_within(path, g) for g in gone):
                gone.append(path)
                continue
            parent_wd = self._wds.get(os.path.dirname(path))
            if parent_wd is None:
                continue
            verdict = child_verdict(
                self._policy, self._verdicts[parent_wd], path, os.path.basename(path)
            )
            if verdict is Verdict.SKIP:
                gone.append(path)
        self._unwatch([self._wds[p] for p in gone])

    def _unwatch(self, wds: list[int]) -> None:
        for wd in wds:
            self._forget(wd)
            with contextlib.suppress(OSError):  # the kernel dropped it already (its folder went)
                self._inotify.rm_watch(wd)

    def _forget(self, wd: int) -> None:
        path = self._folders.pop(wd, None)
        self._verdicts.pop(wd, None)
        self._inodes.pop(wd, None)
        if path is not None and self._wds.get(path) == wd:
            del self._wds[path]

    def _reconcile(self) -> None:
        """Watches whose folder went or moved while events were lost are let go, folders that
        appeared are watched; what is already right costs a stat, not a syscall of inotify's."""
        with self._lock:
            stale = [wd for wd, path in self._folders.items() if _inode(path) != self._inodes[wd]]
            self._unwatch(stale)
            if self.root_gone:
                return
            if not self.is_recursive:
                return
            if self.path not in self._wds:
                if not os.path.isdir(self.path):
                    self.root_gone = True
                    self._emit(DirDeletedEvent(self.path))
                    return
                try:
                    self._add(self.path, Verdict.TREE)
                except OSError as exc:
                    self._refused(self.path, exc, root=True)
                    return
            self._walk(self.path, Verdict.TREE, report=False)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _earliest_mtime(paths: Iterable[str]) -> float | None:
    """The earliest modification time among `paths`; None when none can be read. A file
    written again since its event only makes its time later, so the earliest is kept."""
    times = []
    for path in paths:
        with contextlib.suppress(OSError):
            times.append(os.stat(path, follow_symlinks=False).st_mtime)
    return min(times, default=None)


def _inode(path: str) -> int | None:
    try:
        return os.stat(path, follow_symlinks=False).st_ino
    except OSError:
        return None


def _subfolders(folder: str) -> list[tuple[str, int]]:
    out = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        out.append((entry.name, entry.inode()))
                except OSError:
                    continue
    except OSError:
        pass
    return out


def _entries(folder: str) -> list[tuple[str, bool]]:
    out = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    out.append((entry.name, entry.is_dir(follow_symlinks=False)))
                except OSError:
                    continue
    except OSError:
        pass
    return out
