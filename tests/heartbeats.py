"""A heartbeat with every field set, for the tests of what is done to one."""

from __future__ import annotations

from hackatimed.heartbeat import Heartbeat


def full() -> Heartbeat:
    return Heartbeat(
        entity="/home/a/code/app/src/main.py",
        time=1_767_225_600.25,
        category="coding",
        is_write=True,
        user_agent="ua",
        project="app",
        branch="feature/x",
        language="Python",
        lines=10,
        lineno=3,
        cursorpos=42,
        line_additions=2,
        line_deletions=1,
        project_root_count=4,
        dependencies=("requests", "numpy"),
        machine="box",
        editor="vim",
        operating_system="linux",
    )
