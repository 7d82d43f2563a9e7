"""Where a folder stands, for the built-in ignores: a name like `build` says what a folder is only
inside a project, and a person's include pattern that names the folder says otherwise."""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Sequence

# What marks the top of a project, as the project detection reads it.
_PROJECT_MARKERS = (".git", ".hg", ".wakatime-project")


def is_project_top(folder: str) -> bool:
    """A repository's (or a .wakatime-project's) top folder: a project, whatever its name."""
    return any(os.path.lexists(os.path.join(folder, marker)) for marker in _PROJECT_MARKERS)


def tracked_at_repository_top(folder: str) -> bool:
    """Whether `folder` stands at the top of a git repository that tracks files in it: then it
    is the project's own code (coverage.py's `coverage/`), whatever its name says.

    One `git ls-files` per such folder, asked only for build-output names directly below a
    repository's top: a few at start-up, cached with the folder's verdict.
    """
    top, name = os.path.split(folder)
    if not os.path.lexists(os.path.join(top, ".git")):
        return False
    try:
        found = subprocess.run(
            ["git", "-C", top, "ls-files", "-z", "--", name + "/"],
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and bool(found.stdout)


def include_names_folder(patterns: Sequence[str], rel: str) -> bool:
    """Whether a `watch.include` pattern reaches into the folder at `rel` (relative to its root,
    `/`-separated) by naming it: `build/**`, `/build/`, `**/build/*.py`, `app/build`.

    A pattern that names no folder (`*.py`) includes files wherever the folders around them are
    watched, and so brings back no built-in ignore: node_modules stays out for an include of
    `*.js`. The folder's own component must be named by more than a bare wildcard.
    """
    parts = rel.replace(os.sep, "/").strip("/").split("/")
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        body = pattern.strip().rstrip("/")
        # gitignore: a pattern with no slash but at its end matches at any depth.
        floating = "/" not in body
        comps = [c for c in body.strip("/").split("/") if c]
        if comps[:1] == ["**"]:
            comps, floating = comps[1:], True
        if _names(comps, parts, floating):
            return True
    return False


def _names(comps: list[str], parts: list[str], floating: bool) -> bool:
    starts = range(len(parts)) if floating else range(1)
    for start in starts:
        tail = parts[start:]
        if len(comps) < len(tail):
            continue
        if all(fnmatch.fnmatchcase(p, c) for p, c in zip(tail, comps, strict=False)) and (
            comps[len(tail) - 1].strip("*") != ""
        ):
            return True
    return False
