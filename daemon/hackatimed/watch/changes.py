"""The value the watcher hands to the rest of the daemon."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class ChangeKind(Enum):
    CREATED = "created"
    MODIFIED = "modified"
    # A file written and closed (inotify IN_CLOSE_WRITE): the surest sign that a save finished.
    CLOSED = "closed"
    # Something was renamed onto this path: how atomic saves (temp file + rename) land.
    MOVED_IN = "moved_in"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class FileChange:
    path: Path
    kind: ChangeKind
    at: float  # wall-clock seconds of the event, which becomes the heartbeat's time
