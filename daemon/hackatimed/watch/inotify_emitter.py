"""Linux: the thread that reads one root's inotify descriptor, as a watchdog emitter.

`PrunedInotifyObserver` is a plain watchdog `BaseObserver` whose emitters are `PrunedEmitter`s:
each makes an inotify descriptor (through `inotify_simple`), hands its events to the root's
`PrunedWatchGroup` (inotify_tree.py), and waits with poll() on it and on a pipe that wakes it at
stop. Only watchdog's documented observer API is used, so a watchdog release cannot change it.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable

from inotify_simple import INotify
from watchdog.events import FileSystemEvent
from watchdog.observers.api import (
    DEFAULT_EMITTER_TIMEOUT,
    DEFAULT_OBSERVER_TIMEOUT,
    BaseObserver,
    EventEmitter,
    EventQueue,
    ObservedWatch,
)

from hackatimed.watch.inotify_tree import (
    QUIET_SECONDS,
    FolderPolicy,
    Inotify,
    PrunedWatchGroup,
)

_MOVE_PAIR_WAIT_MS = 10  # the two halves of a rename are queued together; a read may split them


InotifyFactory = Callable[[], Inotify]


class PrunedEmitter(EventEmitter):
    """One root's inotify descriptor and the thread that reads it.

    The first walk happens in `on_thread_start`, which watchdog calls on the thread that
    schedules the watch: when `schedule` returns, the root's folders are watched.
    """

    def __init__(
        self,
        event_queue: EventQueue,
        watch: ObservedWatch,
        *,
        timeout: float = DEFAULT_EMITTER_TIMEOUT,
        event_filter: list[type[FileSystemEvent]] | None = None,
        policy: FolderPolicy,
        inotify_factory: InotifyFactory = INotify,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(event_queue, watch, timeout=timeout, event_filter=event_filter)
        self._policy = policy
        self._inotify_factory = inotify_factory
        self._monotonic = monotonic
        self._group: PrunedWatchGroup | None = None
        self._poller = select.poll()
        self._wake: tuple[int, int] | None = None
        self._closing = threading.Lock()

    def on_thread_start(self) -> None:
        # EMFILE here (fs.inotify.max_user_instances) reaches `schedule`'s caller.
        inotify = self._inotify_factory()
        # A byte in this pipe wakes the reader at stop, instead of waiting out its poll.
        self._wake = os.pipe()
        group = PrunedWatchGroup(
            inotify,
            os.fspath(self.watch.path),
            recursive=self.watch.is_recursive,
            policy=self._policy,
            emit=self.queue_event,
        )
        self._group = group
        self._poller.register(inotify.fileno(), select.POLLIN)
        self._poller.register(self._wake[0], select.POLLIN)
        self._policy.register(group, active=True)  # before the walk: a limit hit counts it
        group.start()

    def on_thread_stop(self) -> None:
        with self._closing:
            if self._wake is not None:
                os.write(self._wake[1], b"x")

    def run(self) -> None:
        try:
            super().run()
        finally:
            self._close()

    def queue_events(self, timeout: float) -> None:
        group = self._group
        if group is None:
            return
        # Short polls while something waits on a pause in the events (an overflow to
        # reconcile, half a rename). Otherwise no timeout at all, not watchdog's `timeout`: a
        # daemon at rest must not wake every second per root, and the wake pipe ends the wait
        # at stop.
        if group.waiting_for_move_pair():
            wait_ms = _MOVE_PAIR_WAIT_MS
        elif group.overflow_pending():
            wait_ms = int(QUIET_SECONDS * 1000)
        else:
            wait_ms = -1
        ready = {fd for fd, _mask in self._poller.poll(wait_ms)}
        if not self.should_keep_running():
            return
        now = self._monotonic()
        if group.fileno() in ready:
            group.handle(group.read(), now)
        elif group.waiting_for_move_pair():
            group.flush_move()
        group.reconcile_if_due(now)
        if group.root_gone:
            self.stop()

    def _close(self) -> None:
        with self._closing:
            if self._wake is None:
                return
            for fd in self._wake:
                os.close(fd)
            self._wake = None
        group = self._group
        if group is not None:
            self._policy.register(group, active=False)
            group.close()


class PrunedInotifyObserver(BaseObserver):
    """An inotify observer whose emitters ask `policy` which folders to watch."""

    def __init__(
        self,
        policy: FolderPolicy,
        *,
        timeout: float = DEFAULT_OBSERVER_TIMEOUT,
        inotify_factory: InotifyFactory = INotify,
    ) -> None:
        super().__init__(
            PrunedEmitter, timeout=timeout, policy=policy, inotify_factory=inotify_factory
        )
