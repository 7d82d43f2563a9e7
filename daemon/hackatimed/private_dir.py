"""The data folder is private: its file names are file paths, its queue is what you worked on.

The files inside are made 0600 by whoever writes them; the folder itself is made 0700 when
hackatimed starts using it, a new one as it is made, an existing one of ours by a chmod (a
`storage.data_dir` made by hand often is 0755). A folder that is not ours, or that refuses the
chmod (a read-only or foreign file system), is left as it is and said: `doctor` says it too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE = 0o700


def make_private(folder: Path) -> str | None:
    """Create `folder` (and its parents) private, or make it private if it exists and is
    ours. Returns why it could not be made private, or None when it is."""
    if not folder.is_dir():
        folder.mkdir(parents=True, mode=PRIVATE, exist_ok=True)
    problem = privacy_problem(folder)
    if problem is None:
        return None
    try:
        st = folder.stat()
        if st.st_uid != os.getuid():
            return problem + " It belongs to another user, so hackatimed leaves its mode alone."
        folder.chmod(stat.S_IMODE(st.st_mode) & ~0o077 | PRIVATE)
    except OSError as exc:
        return f"{problem} It could not be changed: {exc.strerror or exc}."
    return privacy_problem(folder)


def privacy_problem(folder: Path) -> str | None:
    """What is wrong with `folder` being private, or None: others may not list or enter it."""
    try:
        mode = stat.S_IMODE(folder.stat().st_mode)
    except OSError:
        return None  # not there yet: it is made private when it is made
    if mode & 0o077 == 0:
        return None
    return (
        f"the data folder {folder} is readable by others (mode {mode:04o}): the names of the"
        " files in it, and what the queue holds, are file paths of your projects."
    )
