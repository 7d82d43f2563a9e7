"""Time behind one injectable seam.

`wall()` stamps heartbeats (seconds since the epoch); `monotonic()` measures intervals, so a
laptop waking from sleep or an NTP step does not stretch or shrink a wait.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def wall(self) -> float: ...

    def monotonic(self) -> float: ...


def local_date(wall: float) -> dt.date:
    """The local calendar day of a wall-clock time: what "today" means to a person."""
    return dt.datetime.fromtimestamp(wall).date()


class SystemClock:
    __slots__ = ()

    def wall(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to: for tests and the accuracy benchmark."""

    __slots__ = ("_mono", "_wall")

    def __init__(self, wall: float = 1_767_225_600.0, monotonic: float = 1000.0) -> None:
        self._wall = wall
        self._mono = monotonic

    def wall(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._mono += seconds
