"""The focused window, as a value: what a focus source reads and the resolver turns into a file.

Below `focus` (the sources and the choice among them) and `focus_x11` (one source, which `focus`
loads), so that neither of those imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WindowFocus:
    """The window that has the keyboard: its title, and its process when the window says."""

    title: str
    pid: int | None
