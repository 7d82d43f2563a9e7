"""Presence in a file before it is saved: what the daemon asks, now and then, while someone
types.

A file watcher sees a save; many editors write nothing before it. Signals that name the file
being typed into fill the gap: the focused editor window (`focus.focused_file`), VS Code's
backups of unsaved changes (`editor_backups.BackupSignal`). Each is asked only while the idle
source shows input in the last interval: a focused editor in front of an empty chair is not
work, and nothing more is read while nobody is there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hackatimed.clock import Clock
from hackatimed.idle import IdleSource

# A signal is given the wall-clock time from which a sign counts (the start of the interval)
# and answers the file being worked on, or None.
Signal = Callable[[float], Path | None]


@dataclass(frozen=True, slots=True)
class Presence:
    """Someone was at work in `path` at `at` (wall-clock seconds: their last input)."""

    path: Path
    at: float


class PresencePoller:
    """Asks the signals, in order, every `interval_seconds`, while someone is at the keyboard.

    The daemon sleeps until `next_due()` and calls `poll()` in a worker thread (the idle source,
    the window and the process table may take milliseconds).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        idle: IdleSource,
        signals: Sequence[Signal],
        interval_seconds: float = 30.0,
    ) -> None:
        self._clock = clock
        self._idle = idle
        self._signals = tuple(signals)
        self._interval = interval_seconds
        self._due = clock.monotonic()

    def next_due(self) -> float:
        return self._due

    def poll(self) -> Presence | None:
        self._due = self._clock.monotonic() + self._interval
        idle = self._idle.idle_seconds()
        if idle is None or idle > self._interval:
            return None
        now = self._clock.wall()
        for signal in self._signals:
            path = signal(now - self._interval)
            if path is not None:
                return Presence(path, now - max(0.0, idle))
        return None
