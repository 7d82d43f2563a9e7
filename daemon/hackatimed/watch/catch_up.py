"""Catching up at start: saves made while no daemon ran (a crash and its restart, a restart
for an upgrade) are picked up once.

The last daemon published `caught_up_to` (status.py): every change it saw before that wall
time was queued or judged. Files in the watched folders whose modification time is later are
handed to the pipeline as changes stamped with that time, so the same rules as for live edits
decide (ignores, storms, the rate limit), and the heartbeat's time is the save's.

Bounded three ways, because a gap is not a night away and a checkout is not work: nothing
older than `MAX_GAP_SECONDS` before now; at most `MAX_FILES` files (the newest); at most
`WALK_SECONDS` of walking.
"""

from __future__ import annotations

import heapq
import math
import os
import time
from collections.abc import Iterable
from pathlib import Path

from hackatimed.watch.changes import ChangeKind, FileChange

MAX_GAP_SECONDS = 300.0  # a crash-restart gap, or a restart; a night away is not caught up
MAX_FILES = 200  # more files than that changed in a gap is a checkout or a build, not edits
WALK_SECONDS = 5.0


def catch_up_since(
    last: float | None, *, now: float, max_gap: float = MAX_GAP_SECONDS
) -> float | None:
    """From when to catch up: the last daemon's `caught_up_to`, but never more than `max_gap`
    ago. None when there was no last daemon (a first start) or nothing to catch up."""
    if last is None or last <= 0:
        return None
    since = max(last, now - max_gap)
    return since if since < now else None


def recent_files(
    folders: Iterable[str],
    *,
    since: float,
    until: float,
    max_files: int = MAX_FILES,
    walk_seconds: float = WALK_SECONDS,
) -> tuple[list[FileChange], bool]:
    """Files directly in `folders` modified after `since` and not after `until`: the newest
    `max_files`, oldest first, each a change stamped with its modification time; and whether
    the walk went through every folder within `walk_seconds`."""
    deadline = time.monotonic() + walk_seconds
    newest: list[tuple[float, str]] = []  # a heap: the oldest of the newest on top
    for folder in folders:
        if time.monotonic() > deadline:
            return _changes(newest), False
        # Strictly after `since`: a change at that very time was seen by the last daemon.
        for mtime, path in modified_in(folder, math.nextafter(since, math.inf), until):
            if len(newest) < max_files:
                heapq.heappush(newest, (mtime, path))
            elif mtime > newest[0][0]:
                heapq.heapreplace(newest, (mtime, path))
    return _changes(newest), True


def modified_in(folder: str, since: float, until: float = math.inf) -> list[tuple[float, str]]:
    """(modification time, path) of the files directly in `folder` modified at or after
    `since` and not after `until`; symlinks and folders left out, a folder gone is empty."""
    found = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    mtime = entry.stat(follow_symlinks=False).st_mtime
                except OSError:
                    continue
                if since <= mtime <= until:
                    found.append((mtime, entry.path))
    except OSError:
        pass  # gone or unreadable since it was watched: nothing to find there
    return found


def _changes(newest: list[tuple[float, str]]) -> list[FileChange]:
    return [FileChange(Path(path), ChangeKind.MODIFIED, mtime) for mtime, path in sorted(newest)]
