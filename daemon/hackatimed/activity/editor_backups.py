"""VS Code's backups of unsaved changes: a sign of typing before any save, on every desktop.

VS Code (and its forks: VSCodium, Cursor, Windsurf) keeps a backup of every file with unsaved
changes, written one second after the typing pauses and deleted when the file is saved, so that
a crash loses nothing. It lives in the product's user-data folder:

    <user data>/Backups/<workspace>/file/<hash>

and starts with one line naming the file: its URI, a space and JSON metadata (or the URI
alone), then a newline, then the unsaved text. Only that first line is read here: which file
is being typed into. A backup changed in the last interval, while the idle source shows input,
is presence in that file (`presence.PresenceSignals`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

# User-data folder names of VS Code and the forks that keep its backup format.
PRODUCTS = (
    "Code",
    "Code - Insiders",
    "Code - OSS",
    "VSCodium",
    "VSCodium - Insiders",
    "Cursor",
    "Windsurf",
)
# Flatpak keeps each app's config under ~/.var/app/<id>/config.
_FLATPAKS = ("com.visualstudio.code", "com.vscodium.codium")
# VS Code gives up on metadata past this length; the URI alone is shorter.
_MAX_PREAMBLE = 10_000
_MAX_WORKSPACES = 64
_MAX_BACKUPS = 256


def backup_folders(
    *, home: Path, env: Mapping[str, str], platform: str = sys.platform
) -> tuple[Path, ...]:
    """Where VS Code and its forks keep backups on this platform, whether there or not."""
    if platform == "darwin":
        bases = [home / "Library" / "Application Support"]
    elif platform in ("win32", "cygwin"):
        appdata = env.get("APPDATA")
        bases = [Path(appdata)] if appdata else [home / "AppData" / "Roaming"]
    else:
        config = env.get("XDG_CONFIG_HOME")
        bases = [Path(config) if config else home / ".config"]
        bases += [home / ".var" / "app" / app / "config" for app in _FLATPAKS]
    return tuple(base / product / "Backups" for base in bases for product in PRODUCTS)


def backed_up_file(backup: Path) -> Path | None:
    """The local file a backup holds unsaved changes of; None for anything else."""
    try:
        with open(backup, "rb") as f:
            head = f.read(_MAX_PREAMBLE + 1)
    except OSError:
        return None
    line, newline, _ = head.partition(b"\n")
    if not newline:
        return None
    uri = line.split(b" ", 1)[0].decode("utf-8", errors="replace")
    parts = urlsplit(uri)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None  # untitled buffers, remote files, network shares
    path = unquote(parts.path)
    if len(path) > 2 and path[0] == "/" and path[2] == ":":  # /c:/Users/... on Windows
        path = path[1:]
    return Path(path) if os.path.isabs(path) else None


class BackupSignal:
    """`signal(since)`: the watched file whose backup changed last, at or after `since` (wall
    clock); None if none did. `accepts` is asked at each call (a reload changes the rules)."""

    def __init__(self, *, folders: Sequence[Path], accepts: Callable[[Path], bool]) -> None:
        self._folders = tuple(folders)
        self._accepts = accepts

    def __call__(self, since: float) -> Path | None:
        recent = sorted(_backups_since(self._folders, since), reverse=True)
        for _, backup in recent:
            path = backed_up_file(backup)
            if path is not None and self._accepts(path):
                return path
        return None


def _backups_since(folders: Sequence[Path], since: float) -> Iterator[tuple[float, Path]]:
    for folder in folders:
        for workspace in _entries(folder, _MAX_WORKSPACES):
            for entry in _entries(Path(workspace.path) / "file", _MAX_BACKUPS):
                try:
                    changed = entry.stat(follow_symlinks=False).st_mtime
                except OSError:
                    continue
                if changed >= since and entry.is_file(follow_symlinks=False):
                    yield changed, Path(entry.path)


def _entries(folder: Path, limit: int) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return [e for _, e in zip(range(limit), it, strict=False)]
    except OSError:  # not there (no such editor), or not readable
        return []
