"""Which window has the keyboard: the presence signal that names the editor.

A file watcher sees nothing of someone typing in VS Code, gedit or Sublime before their first
save: those editors write nothing until then. The idle source says someone is at the machine,
not what they are doing. The focused window says both, where the desktop tells it (X11's
`_NET_ACTIVE_WINDOW`): its process (is it an editor?) and its title (which file?).

Only the title and the process id are read; neither is logged nor sent anywhere. What becomes of
them is at most a file path under a watched root, which `focus_file` resolves.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from hackatimed.clock import Clock
from hackatimed.idle import IdleSource

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WindowFocus:
    """The window that has the keyboard: its title, and its process when the window says."""

    title: str
    pid: int | None


class FocusSource(Protocol):
    name: str  # shown by `status` and `doctor`

    def focused(self) -> WindowFocus | None:
        """The focused window now; None if there is none or it cannot tell."""


class FakeFocusSource:
    """For tests and benchmarks: a focus that is set by hand."""

    def __init__(self, focus: WindowFocus | None = None, *, name: str = "fake") -> None:
        self.name = name
        self.focus = focus
        self.asked = 0

    def focused(self) -> WindowFocus | None:
        self.asked += 1
        return self.focus


@dataclass(frozen=True, slots=True)
class Presence:
    """Someone was at work in `path` at `at` (wall-clock seconds: their last input)."""

    path: Path
    at: float


class FocusPoller:
    """Asks, every `interval_seconds`, whether the person is typing into an editor, and where.

    Only someone with input in the last interval counts: a focused editor in front of an empty
    chair is not work. The idle source is asked first, so nothing more is read while nobody is
    there. The daemon sleeps until `next_due()` and calls `poll()` in a worker thread (the idle
    source and the process table may take milliseconds).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        idle: IdleSource,
        source: FocusSource,
        resolve: Callable[[WindowFocus], Path | None],
        interval_seconds: float = 30.0,
    ) -> None:
        self._clock = clock
        self._idle = idle
        self._source = source
        self._resolve = resolve
        self._interval = interval_seconds
        self._due = clock.monotonic()

    def next_due(self) -> float:
        return self._due

    def poll(self) -> Presence | None:
        self._due = self._clock.monotonic() + self._interval
        idle = self._idle.idle_seconds()
        if idle is None or idle > self._interval:
            return None
        focus = self._source.focused()
        if focus is None:
            return None
        path = self._resolve(focus)
        return None if path is None else Presence(path, self._clock.wall() - max(0.0, idle))


def choose_focus_source(
    mode: Literal["auto", "off"], *, env: Mapping[str, str], platform: str = sys.platform
) -> FocusSource | None:
    """The focused-window source of this desktop, or None where there is none we can read.

    X11 only: under Wayland, Xwayland knows only X11 windows, and neither GNOME nor KDE tells
    other programs which window is active; macOS and Windows are not done yet.
    """
    if mode == "off" or platform in ("darwin", "win32", "cygwin"):
        return None
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
    display = env.get("DISPLAY")
    if not display or wayland:
        return None
    from hackatimed.focus_x11 import X11FocusSource

    try:
        return X11FocusSource.load(display)
    except Exception as e:  # a broken library must not stop the daemon
        log.debug("focus source probe failed: %r", e)
        return None
