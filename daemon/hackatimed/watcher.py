"""Watching the roots: watchdog's observer thread only hands events to the event loop.

Everything that decides what an event means happens on the loop, in `activity`; this module
turns raw watchdog events into `FileChange` values, filters out what is never interesting as
early as possible, and keeps roots that vanish and return under watch.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

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
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from hackatimed.changes import ChangeKind, FileChange
from hackatimed.clock import Clock

log = logging.getLogger(__name__)

# Only the events we use. Without this filter watchdog 7.1 also asks inotify for open and
# close-without-write events, its own directory walk floods the kernel queue, and it loops on
# overflow (FIELD_NOTES.md); with it, a tree of 6,600 folders is watched in a fraction of a second.
EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirMovedEvent,
    DirDeletedEvent,
]

ChangeSink = Callable[[FileChange], None]
RootsChanged = Callable[[], None]


class Watcher:
    """Schedules one recursive watch per root and forwards file events to `sink` on `loop`.

    `sink` is called on the event loop's thread, never on watchdog's. Roots that do not exist
    (yet, or any more) are checked for every `root_poll_seconds` and watched when they appear;
    while every root is present there is no timer at all.
    """

    def __init__(
        self,
        *,
        roots: Sequence[Path],
        sink: ChangeSink,
        loop: asyncio.AbstractEventLoop,
        clock: Clock,
        root_poll_seconds: float = 5.0,
        observer_factory: Callable[[], BaseObserver] = Observer,
    ) -> None:
        self._roots = tuple(roots)
        self._sink = sink
        self._loop = loop
        self._clock = clock
        self._root_poll_seconds = root_poll_seconds
        self._observer = observer_factory()
        self._handler = _Handler(self)
        self._watches: dict[Path, ObservedWatch] = {}
        self._poll: asyncio.TimerHandle | None = None
        self.errors: list[str] = []

    @property
    def roots(self) -> tuple[Path, ...]:
        return self._roots

    @property
    def watched_roots(self) -> tuple[Path, ...]:
        return tuple(self._watches)

    def start(self) -> None:
        self._observer.start()
        self._sync_watches()

    def stop(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        self._observer.stop()
        self._observer.join(timeout=5)

    def set_roots(self, roots: Sequence[Path]) -> None:
        """Config reload: unwatch removed roots, watch added ones."""
        self._roots = tuple(roots)
        self._sync_watches()

    def _sync_watches(self) -> None:
        wanted = set(self._roots)
        for root in list(self._watches):
            if root not in wanted or not root.is_dir():
                self._unwatch(root)
        for root in self._roots:
            if root not in self._watches and root.is_dir():
                self._watch(root)
        missing = [r for r in self._roots if r not in self._watches]
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        if missing:
            self._poll = self._loop.call_later(self._root_poll_seconds, self._sync_watches)

    def _watch(self, root: Path) -> None:
        try:
            self._watches[root] = self._observer.schedule(
                self._handler, os.fspath(root), recursive=True, event_filter=EVENT_FILTER
            )
        except OSError as exc:
            message = f"cannot watch {root}: {exc.strerror or exc}"
            log.warning("%s", message)
            self.errors.append(message)
            return
        log.info("watching %s", root)

    def _unwatch(self, root: Path) -> None:
        watch = self._watches.pop(root)
        try:
            self._observer.unschedule(watch)
        except (KeyError, OSError):
            pass  # watchdog already dropped it when the folder went away
        log.info("stopped watching %s", root)

    # Called on watchdog's thread: hand over and return at once.
    def _on_event(self, event: FileSystemEvent) -> None:
        at = self._clock.wall()
        change = _to_change(event, at)
        if change is not None:
            self._loop.call_soon_threadsafe(self._sink, change)
        elif isinstance(event, DirDeletedEvent | DirMovedEvent):
            gone = Path(os.fsdecode(event.src_path))
            if gone in self._watches:
                self._loop.call_soon_threadsafe(self._root_gone, gone)

    def _root_gone(self, root: Path) -> None:
        log.warning("root %s went away; it will be watched again when it comes back", root)
        self._sync_watches()


def _to_change(event: FileSystemEvent, at: float) -> FileChange | None:
    if event.is_directory:
        return None
    if isinstance(event, FileMovedEvent):
        # An atomic save renames a temporary file onto the real one: the edit is the destination's.
        return FileChange(Path(os.fsdecode(event.dest_path)), ChangeKind.MOVED_IN, at)
    kind = _KINDS.get(type(event))
    if kind is None:
        return None
    return FileChange(Path(os.fsdecode(event.src_path)), kind, at)


_KINDS: dict[type[FileSystemEvent], ChangeKind] = {
    FileCreatedEvent: ChangeKind.CREATED,
    FileModifiedEvent: ChangeKind.MODIFIED,
    FileClosedEvent: ChangeKind.CLOSED,
    FileDeletedEvent: ChangeKind.DELETED,
}


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._watcher._on_event(event)
