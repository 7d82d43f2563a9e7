"""The privacy switches and what they take out of a heartbeat.

Configuration (`config.values.PrivacyConfig`, `~/.wakatime.cfg`) holds the rules and detection
applies them, so they live below both, beside the heartbeat value they apply to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any

from hackatimed.heartbeat import Heartbeat

# A hide switch: on or off for everything, or regexes (as in ~/.wakatime.cfg) of what to hide.
Hide = bool | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrivacyRules:
    """`hide_file_names` patterns are matched against the file's path, `hide_project_names`
    against the project's name and `hide_branch_names` against the branch's, case-insensitively,
    as wakatime-cli matches them."""

    hide_file_names: Hide = False
    hide_project_names: Hide = False
    hide_branch_names: Hide = False
    hide_dependencies: bool = False


def _extension(path: str) -> str:
    """From the last dot of the file's name, as Go's filepath.Ext: `.env` for `.env`."""
    name = PurePath(path).name
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def hides(rule: Hide, subject: str | None) -> bool:
    """Whether `rule` hides `subject`; `True` hides even what is not there."""
    if isinstance(rule, bool):
        return rule
    return subject is not None and any(re.search(p, subject, re.IGNORECASE) for p in rule)


def apply_privacy(hb: Heartbeat, rules: PrivacyRules) -> Heartbeat:
    """Remove what the privacy switches hide, as wakatime-cli's sanitizer does.

    A hidden file name becomes `HIDDEN.<ext>`; with it go the fields that describe the file and
    where it lives (lines, lineno, cursorpos, dependencies, project_root_count) and the branch.
    A hidden project name drops the project and the same descriptive fields and branch: unlike
    wakatime-cli we write no random name into the person's `.wakatime-project`. With branch
    patterns, a file or project hidden keeps a branch that none of them matches, as there.
    """
    changes: dict[str, Any] = {}
    hide_file = hides(rules.hide_file_names, hb.entity)
    hide_project = hides(rules.hide_project_names, hb.project)
    hide_branch = hides(rules.hide_branch_names, hb.branch)
    if hide_file or hide_project:
        changes.update(
            lines=None,
            lineno=None,
            cursorpos=None,
            dependencies=None,
            project_root_count=None,
        )
        if rules.hide_branch_names in ((), False) or hide_branch:
            changes["branch"] = None
    if hide_file:
        changes["entity"] = f"HIDDEN{_extension(hb.entity)}"
    if hide_project:
        changes["project"] = None
    if hide_branch:
        changes["branch"] = None
    if rules.hide_dependencies:
        changes["dependencies"] = None
    return replace(hb, **changes) if changes else hb
