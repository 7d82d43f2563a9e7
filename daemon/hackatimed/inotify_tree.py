"""Linux: watchdog's inotify observer, taught to leave ignored folders unwatched.

watchdog (7.x) places an inotify watch on every folder below a recursive root and filters events
afterwards, so one project with a big `node_modules` can use up a laptop's whole watch limit
(8,192 on many distributions). Here the watch group asks a `FolderPolicy` before it watches or
walks into a folder: ignored folders get no watch, and `.git` gets a watch on itself (HEAD: the
branch) and on the few folders below it that hold other checkouts' HEADs, not on `objects/`.

The subclasses override watchdog internals that are not a public API: `InotifyWatchGroup`'s walk,
overflow and bookkeeping methods and `InotifyEmitter.on_thread_start`. `internals_supported()`
checks that they are still there, the watcher falls back to plain recursive watches when they are
not, and tests/test_watcher.py fails loudly on a watchdog that changed them.

Overflow of the kernel queue: watchdog 7.1 removes and re-adds every watch, which floods the queue
again on a big tree (FIELD_NOTES.md). Here the watches are reconciled in place (only folders that
appeared are added, only gone ones removed) and the watcher is told, so it can rescan what changed.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from watchdog.events import DirCreatedEvent, DirDeletedEvent, DirMovedEvent
from watchdog.observers.api import DEFAULT_EMITTER_TIMEOUT, DEFAULT_OBSERVER_TIMEOUT, BaseObserver
from watchdog.observers.inotify import InotifyEmitter, InotifyWatchGroup
from watchdog.observers.inotify_c import (
    InotifyConstants,
    InotifyEvent,
    InotifyFD,
    Mask,
    WatchDescriptor,
)
from watchdog.observers.inotify_move_event_grouper import (
    GroupedInotifyEvent,
    InotifyMoveEventGrouper,
    PathedInotifyEvent,
)

log = logging.getLogger(__name__)

_LIMIT_ERRORS = frozenset({errno.ENOSPC, errno.EMFILE})


class Verdict(Enum):
    """How a folder is watched."""

    TREE = "tree"  # watched, and so is every folder below it that is not ignored
    GITDIR = "gitdir"  # a git folder: watched (HEAD), and below it only info/, worktrees/, modules/
    LEAF = "leaf"  # watched, nothing below it
    WORKTREES = "worktrees"  # .git/worktrees: each linked worktree's folder holds its HEAD
    MODULES = "modules"  # .git/modules: submodules' git folders, possibly nested in folders
    SKIP = "skip"  # not watched, nor anything below it


class FolderPolicy(Protocol):
    """What a watch group asks and tells; called on watchdog's threads."""

    def ignores_dir(self, path: str) -> bool: ...

    def limit_hit(self, root: bytes, exc: OSError) -> None: ...

    def root_failed(self, root: bytes, exc: OSError) -> None: ...

    def overflowed(self, group: PrunedWatchGroup) -> None: ...

    def register(self, group: PrunedWatchGroup, *, active: bool) -> None: ...


def child_verdict(policy: FolderPolicy, parent: Verdict, path: bytes, name: bytes) -> Verdict:
    if parent is Verdict.TREE:
        if name == b".git":
            return Verdict.GITDIR
        if name == b".hg":  # `.hg/branch` names the branch
            return Verdict.LEAF
        return Verdict.SKIP if policy.ignores_dir(os.fsdecode(path)) else Verdict.TREE
    if parent is Verdict.GITDIR:
        return _GITDIR_CHILDREN.get(name, Verdict.SKIP)
    if parent is Verdict.WORKTREES:
        return Verdict.LEAF
    if parent is Verdict.MODULES:
        return Verdict.GITDIR if os.path.isfile(os.path.join(path, b"HEAD")) else Verdict.MODULES
    return Verdict.SKIP


_GITDIR_CHILDREN = {
    b"info": Verdict.LEAF,  # info/exclude: ignore rules
    b"worktrees": Verdict.WORKTREES,
    b"modules": Verdict.MODULES,
}


@dataclass
class PrunedWatchGroup(InotifyWatchGroup):
    """An `InotifyWatchGroup` that watches only what `policy` lets it."""

    policy: FolderPolicy | None = None
    _verdicts: dict[WatchDescriptor, Verdict] = field(default_factory=dict, init=False)
    _inodes: dict[WatchDescriptor, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.policy is not None:
            self.policy.register(self, active=True)
        super().__post_init__()

    @property
    def watched_count(self) -> int:
        return len(self._active_callbacks_by_watch)

    def watched_folders(self) -> list[bytes]:
        with self._lock:
            return list(self._active_callbacks_by_path)

    def deactivate(self) -> None:
        super().deactivate()
        if self.policy is not None:
            self.policy.register(self, active=False)

    def refresh(self, folder: bytes) -> None:
        """The ignore rules for `folder` changed: unwatch what is now ignored below it, watch
        what no longer is. A folder outside this group's tree is none of its business."""
        with self._lock:
            if not self.is_active or not self.is_recursive or not _within(folder, self.path):
                return
            self._unwatch_ignored_below(folder)
            start = folder
            while start not in self._active_callbacks_by_path and _within(start, self.path):
                start = os.path.dirname(start)
            wd = self._active_callbacks_by_path.get(start)
            if wd is not None:
                self._walk(start, self._verdicts.get(wd, Verdict.TREE))

    # -- watchdog's hooks ------------------------------------------------------------------------

    def on_queue_overflow(self) -> None:
        with self._lock:
            if not self.is_active:
                return
            self._move_event_grouper.discard_pending_events()
            if self.is_recursive:
                log.warning(
                    "the kernel's inotify queue overflowed: re-checking the watches below %s",
                    os.fsdecode(self.path),
                )
                self._drop_stale()
                self._add_all_callbacks(self.path)
        if self.policy is not None:
            self.policy.overflowed(self)

    def _add_all_callbacks(self, path: bytes) -> None:
        verdict = self._verdict_for(path)
        if verdict is Verdict.SKIP or not self._add_callback(path, verdict):
            return
        if self.is_recursive:
            self._walk(path, verdict)

    def _add_callback(  # type: ignore[override]
        self, path: bytes, verdict: Verdict = Verdict.TREE, inode: int | None = None
    ) -> bool:
        """Watch `path`; False when the kernel's limit is reached and walking on is pointless."""
        try:
            inode = inode if inode is not None else os.stat(path, follow_symlinks=False).st_ino
            known = self._active_callbacks_by_path.get(path)
            if known is not None and self._inodes.get(known) == inode:
                return True
            wd = self._inotify_fd.add_callback(path, self.event_mask, self._callback, self._id)
        except OSError as exc:
            if exc.errno in _LIMIT_ERRORS:
                if self.policy is not None:
                    self.policy.limit_hit(self.path, exc)
                return False
            if path == self.path and self.policy is not None:
                self.policy.root_failed(self.path, exc)
            return True  # a folder that vanished or cannot be read: go on with the others
        if wd == -1:
            # watchdog's InotifyFD swallows EACCES and hands back -1: not a watch.
            self._inotify_fd.remove_callbacks([(wd, self._id)])
            return True
        self._active_callbacks_by_path[path] = wd
        self._active_callbacks_by_watch[wd] = path
        self._verdicts[wd] = verdict
        self._inodes[wd] = inode
        return True

    def _recursive_simulate(self, src_path: bytes) -> list[InotifyEvent]:
        # A folder that appeared with content (mkdir -p, a copy, a clone): report what is in it,
        # but only in the folders that are watched.
        events = []
        for folder, wd in self._watched_below(src_path):
            for name, is_dir in _entries(folder):
                if not is_dir:
                    events.append(InotifyEvent(wd, InotifyConstants.IN_CREATE, 0, name))
                elif os.path.join(folder, name) in self._active_callbacks_by_path:
                    mask = Mask(InotifyConstants.IN_CREATE | InotifyConstants.IN_ISDIR)
                    events.append(InotifyEvent(wd, mask, 0, name))
        return events

    def _remove_watch_internally(self, wd: WatchDescriptor) -> None:
        # watchdog's version raises KeyError when an overflow lost the IN_IGNORED it expected.
        self._verdicts.pop(wd, None)
        self._inodes.pop(wd, None)
        path = self._active_callbacks_by_watch.pop(wd, None)
        if path is None:
            return
        other = self._active_callbacks_by_path.pop(path, None)
        if other is not None and other != wd:
            self._active_callbacks_by_path[path] = other

    # -- the pruned walk -----------------------------------------------------------------------

    def _verdict_for(self, path: bytes) -> Verdict:
        if path == self.path or self.policy is None:
            return Verdict.TREE
        parent_wd = self._active_callbacks_by_path.get(os.path.dirname(path))
        parent = Verdict.TREE if parent_wd is None else self._verdicts.get(parent_wd, Verdict.TREE)
        return child_verdict(self.policy, parent, path, os.path.basename(path))

    def _walk(self, top: bytes, verdict: Verdict) -> None:
        stack = [(top, verdict)]
        while stack:
            folder, v = stack.pop()
            if v is Verdict.LEAF:
                continue
            for name, inode in _subfolders(folder):
                child = os.path.join(folder, name)
                cv = child_verdict(self.policy, v, child, name) if self.policy else Verdict.TREE
                if cv is Verdict.SKIP:
                    continue
                if not self._add_callback(child, cv, inode):
                    return
                stack.append((child, cv))

    def _watched_below(self, top: bytes) -> Iterator[tuple[bytes, WatchDescriptor]]:
        for path, wd in list(self._active_callbacks_by_path.items()):
            if _within(path, top):
                yield path, wd

    def _unwatch_ignored_below(self, folder: bytes) -> None:
        if self.policy is None:
            return
        gone: list[bytes] = []
        # Parents before children: a folder below one that goes, goes too.
        for path, _wd in sorted(self._watched_below(folder), key=lambda item: len(item[0])):
            if path == self.path:
                continue
            if any(_within(path, g) for g in gone):
                gone.append(path)
                continue
            parent_wd = self._active_callbacks_by_path.get(os.path.dirname(path))
            parent = self._verdicts.get(parent_wd) if parent_wd is not None else None
            if parent is None:
                continue
            if child_verdict(self.policy, parent, path, os.path.basename(path)) is Verdict.SKIP:
                gone.append(path)
        wds = [self._active_callbacks_by_path[p] for p in gone]
        if wds:
            self._remove_callbacks(wds)

    def _drop_stale(self) -> None:
        """Forget watches whose IN_IGNORED was lost with the overflow."""
        stale = []
        for wd, path in list(self._active_callbacks_by_watch.items()):
            if self._active_callbacks_by_path.get(path) != wd:
                stale.append(wd)
                continue
            try:
                inode = os.stat(path, follow_symlinks=False).st_ino
            except OSError:
                stale.append(wd)
                continue
            if inode != self._inodes.get(wd):
                stale.append(wd)
        if stale:
            self._remove_callbacks(stale)


def _within(path: bytes, folder: bytes) -> bool:
    return path == folder or path.startswith(folder.rstrip(b"/") + b"/")


def _subfolders(folder: bytes) -> list[tuple[bytes, int]]:
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


def _entries(folder: bytes) -> list[tuple[bytes, bool]]:
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


class PrunedEmitter(InotifyEmitter):
    def __init__(
        self,
        event_queue: Any,
        watch: Any,
        *,
        timeout: float = DEFAULT_EMITTER_TIMEOUT,
        event_filter: Any = None,
        inotify_fd: InotifyFD | None = None,
        policy: FolderPolicy,
    ) -> None:
        super().__init__(
            event_queue, watch, timeout=timeout, event_filter=event_filter, inotify_fd=inotify_fd
        )
        self._policy = policy

    def on_thread_start(self) -> None:
        self._inotify = PrunedWatchGroup(
            self._inotify_fd,
            os.fsencode(self.watch.path),
            is_recursive=self.watch.is_recursive,
            event_mask=self.get_event_mask_from_filter(),
            follow_symlink=False,
            policy=self._policy,
        )

    def get_event_mask_from_filter(self) -> Mask:
        # IN_MOVE_SELF too: a root renamed away must be noticed, or its events would keep
        # arriving under the old name. Not IN_ATTRIB, which watchdog adds for modified events:
        # chmod and touch are no edits, and a checkout would fill the kernel queue with them.
        mask = super().get_event_mask_from_filter() | InotifyConstants.IN_MOVE_SELF
        return Mask(mask & ~InotifyConstants.IN_ATTRIB)

    def build_and_queue_event(
        self, event: GroupedInotifyEvent, *, full_events: bool = False
    ) -> None:
        # A folder moved or renamed is not an edit of every file in it: report the folder only,
        # instead of walking the whole tree below it (node_modules included) as watchdog does.
        if isinstance(event, PathedInotifyEvent):
            src = self._decode_path(event.path)
            if event.ev.is_move_self and src == self.watch.path:
                self.queue_event(DirDeletedEvent(src))
                self.stop()
                return
            if event.ev.is_moved_to and event.ev.is_directory:
                self.queue_event(DirCreatedEvent(src))
                return
        else:
            move_from, move_to = event
            if move_from.ev.is_directory:
                src = self._decode_path(move_from.path)
                self.queue_event(DirMovedEvent(src, self._decode_path(move_to.path)))
                return
        super().build_and_queue_event(event, full_events=full_events)


class PrunedInotifyObserver(BaseObserver):
    """An inotify observer whose watch groups ask `policy` which folders to watch."""

    def __init__(
        self,
        policy: FolderPolicy,
        *,
        timeout: float = DEFAULT_OBSERVER_TIMEOUT,
        inotify: InotifyFD | None = None,
    ) -> None:
        self._inotify = inotify if inotify is not None else InotifyFD()
        self._inotify.start()
        super().__init__(PrunedEmitter, timeout=timeout, inotify_fd=self._inotify, policy=policy)

    def fileno(self) -> int:
        """The inotify descriptor: /proc/self/fdinfo/<it> lists the kernel's watches."""
        return self._inotify._inotify_fd

    def on_thread_stop(self) -> None:
        super().on_thread_stop()
        self._inotify.stop()
        self._inotify.join()


_GROUP_METHODS = (
    "_add_all_callbacks",
    "_add_callback",
    "_recursive_simulate",
    "_remove_watch_internally",
    "_remove_callbacks",
    "_activate",
    "on_queue_overflow",
    "on_event",
    "deactivate",
)
_GROUP_FIELDS = (
    "_active_callbacks_by_path",
    "_active_callbacks_by_watch",
    "_lock",
    "_move_event_grouper",
    "_inotify_fd",
    "_id",
    "path",
    "is_recursive",
    "event_mask",
)
_EMITTER_METHODS = ("on_thread_start", "get_event_mask_from_filter", "build_and_queue_event")


def internals_supported() -> bool:
    """Whether the watchdog internals overridden here are still there, as in 7.1."""
    fields = getattr(InotifyWatchGroup, "__dataclass_fields__", {})
    return (
        all(callable(getattr(InotifyWatchGroup, m, None)) for m in _GROUP_METHODS)
        and all(f in fields for f in _GROUP_FIELDS)
        and all(callable(getattr(InotifyEmitter, m, None)) for m in _EMITTER_METHODS)
        and callable(getattr(InotifyMoveEventGrouper, "discard_pending_events", None))
    )
