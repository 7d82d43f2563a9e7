"""How many folders the daemon would watch, and how many inotify watches Linux lets it have.

Linux gives each user `fs.inotify.max_user_watches` watches, shared by every program they run
(editors and file sync tools take thousands); the watcher needs one per folder it watches.
`doctor` compares the two before the daemon runs out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hackatimed.config.load import Config
from hackatimed.watch.ignore import IgnoreRules

MAX_USER_WATCHES = "sys/fs/inotify/max_user_watches"


@dataclass(frozen=True, slots=True)
class FolderCount:
    folders: int
    complete: bool  # False: counting stopped at the cap, there are more


def count_folders(config: Config, *, home: Path, cap: int) -> FolderCount:
    """Folders below the roots that are not ignored (the roots included), up to `cap`."""
    watch = config.watch
    rules = IgnoreRules.from_config(watch, home=home)
    count = 0
    seen: set[str] = set()
    for root in watch.roots:
        for _ in _folders(str(root), rules, seen):
            count += 1
            if count > cap:
                return FolderCount(cap, complete=False)
    return FolderCount(count, complete=True)


def _folders(root: str, rules: IgnoreRules, seen: set[str]) -> Iterable[str]:
    """Each watched folder once, depth first; symbolic links are not followed, as the watcher
    does not follow them either. A `.git` folder counts once: the watcher watches it for HEAD
    (the branch) but not what is below it, bar a few folders of linked checkouts."""
    if not os.path.isdir(root):
        return
    stack = [root]
    while stack:
        folder = stack.pop()
        if folder in seen:  # nested roots
            continue
        seen.add(folder)
        yield folder
        try:
            with os.scandir(folder) as entries:
                children = [e for e in entries if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for child in children:
            if child.name == ".git":
                yield child.path
            elif not rules.ignores_dir(Path(child.path)):
                stack.append(child.path)


def max_user_watches(proc: Path) -> int | None:
    try:
        return int((proc / MAX_USER_WATCHES).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def watches_in_use(
    proc: Path,
    *,
    uid: int,
    skip_pids: Sequence[int] = (),
    only_pids: Sequence[int] | None = None,
) -> int:
    """inotify watches held by this user's processes (other users' are not readable, and do not
    count against this user's limit anyway), or by `only_pids` of them."""
    total = 0
    try:
        pids = [
            p
            for p in os.listdir(proc)
            if p.isdigit()
            and int(p) not in skip_pids
            and (only_pids is None or int(p) in only_pids)
        ]
    except OSError:
        return 0
    for pid in pids:
        base = proc / pid
        try:
            if base.stat().st_uid != uid:
                continue
            fds = os.listdir(base / "fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(base / "fd" / fd) != "anon_inode:inotify":
                    continue
                info = (base / "fdinfo" / fd).read_text(encoding="ascii", errors="replace")
            except OSError:
                continue
            total += sum(1 for line in info.splitlines() if line.startswith("inotify wd:"))
    return total
