"""Which window has the keyboard: the presence signal that names the editor.

A file watcher sees nothing of someone typing in VS Code, gedit or Sublime before their first
save: those editors write nothing until then. The idle source says someone is at the machine,
not what they are doing. The focused window says both, where the desktop tells it (X11's
`_NET_ACTIVE_WINDOW`): its process (is it an editor?) and its title (which file?).

Only the title and the process id are read; neither is logged nor sent anywhere. What becomes of
them is at most a file path under a watched root (`focus_resolve.FocusResolver`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, Protocol

from hackatimed.activity.session_env import x11_display
from hackatimed.activity.window import WindowFocus

log = logging.getLogger(__name__)


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


def focused_file(
    source: FocusSource, resolve: Callable[[WindowFocus], Path | None]
) -> Callable[[float], Path | None]:
    """A presence signal (`presence.Signal`): the file of the editor window in focus."""

    def signal(_since: float) -> Path | None:
        focus = source.focused()
        return None if focus is None else resolve(focus)

    return signal


def choose_focus_source(
    mode: Literal["auto", "off"], *, env: Mapping[str, str], platform: str = sys.platform
) -> FocusSource | None:
    """The focused-window source of this desktop, or None where there is none we can read.

    X11 only: under Wayland, Xwayland knows only X11 windows, and neither GNOME nor KDE tells
    other programs which window is active; macOS and Windows are not done yet.
    """
    if mode == "off" or platform in ("darwin", "win32", "cygwin"):
        return None
    display = x11_display(env)
    if display is None:
        return None
    from hackatimed.activity.focus_x11 import X11FocusSource

    try:
        return X11FocusSource.load(display)
    except Exception as e:  # a broken library must not stop the daemon
        log.debug("focus source probe failed: %r", e)
        return None
