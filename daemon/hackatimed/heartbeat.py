"""The heartbeat value: what detection makes of an edit and delivery sends.

Below both stages, so that neither imports the other: its wire form is delivery's
(`delivery.wire`), and what the privacy switches take out of it is `privacy`'s.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One heartbeat. A field that cannot be known is None and is left off the wire."""

    entity: str
    time: float
    category: str
    is_write: bool
    user_agent: str
    type: str = "file"
    project: str | None = None
    branch: str | None = None
    language: str | None = None
    lines: int | None = None
    lineno: int | None = None
    cursorpos: int | None = None
    line_additions: int | None = None
    line_deletions: int | None = None
    # Lines added plus removed by this save, by an AI agent or by the person (one is set).
    ai_line_changes: int | None = None
    human_line_changes: int | None = None
    project_root_count: int | None = None
    dependencies: tuple[str, ...] | None = None
    machine: str | None = None
    editor: str | None = None
    operating_system: str | None = None
