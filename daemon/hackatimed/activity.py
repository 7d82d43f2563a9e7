"""What counts as activity: bursts of file events become edits.

A save is rarely one event: editors create, write in chunks, close, rename. Events for one file
are gathered until the file has been quiet for `quiet_seconds`, or `max_wait_seconds` after the
first one at the latest, so that a file written continuously (a log, a long save) still yields
an edit instead of being postponed forever as a pure trailing debounce would.

The coalescer owns no timer: the daemon asks `next_due()` and calls `pop_due()`, which makes the
rules testable with a fake clock and no sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hackatimed.changes import ChangeKind, FileChange
from hackatimed.clock import Clock


@dataclass(frozen=True, slots=True)
class Edit:
    """A file that was really worked on: it may become a heartbeat."""

    path: Path
    at: float  # wall-clock seconds of the burst's last event
    is_write: bool


@dataclass(slots=True)
class _Pending:
    first: float  # monotonic
    last: float  # monotonic
    last_wall: float


class Coalescer:
    def __init__(
        self, *, clock: Clock, quiet_seconds: float = 0.5, max_wait_seconds: float = 3.0
    ) -> None:
        self._clock = clock
        self._quiet = quiet_seconds
        self._max_wait = max_wait_seconds
        self._pending: dict[Path, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, change: FileChange) -> None:
        if change.kind is ChangeKind.DELETED:
            # Written and gone within one burst (a temporary file): nothing was saved.
            self._pending.pop(change.path, None)
            return
        now = self._clock.monotonic()
        entry = self._pending.get(change.path)
        if entry is None:
            self._pending[change.path] = _Pending(first=now, last=now, last_wall=change.at)
        else:
            entry.last = now
            entry.last_wall = change.at

    def discard(self, paths: set[Path]) -> None:
        for path in paths:
            self._pending.pop(path, None)

    def next_due(self) -> float | None:
        """The monotonic time at which the next burst closes, or None with nothing pending."""
        if not self._pending:
            return None
        return min(self._due(p) for p in self._pending.values())

    def pop_due(self) -> list[Edit]:
        now = self._clock.monotonic()
        due = [path for path, p in self._pending.items() if self._due(p) <= now]
        edits = []
        for path in due:
            entry = self._pending.pop(path)
            edits.append(Edit(path=path, at=entry.last_wall, is_write=True))
        edits.sort(key=lambda e: e.at)
        return edits

    def pop_all(self) -> list[Edit]:
        """Everything pending, due or not: for shutdown, so no edit is lost."""
        edits = [Edit(path=p, at=e.last_wall, is_write=True) for p, e in self._pending.items()]
        self._pending.clear()
        edits.sort(key=lambda e: e.at)
        return edits

    def _due(self, p: _Pending) -> float:
        return min(p.last + self._quiet, p.first + self._max_wait)
