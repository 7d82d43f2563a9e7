"""What git and mercurial checkouts say about a folder, read straight from their metadata files.

Which folder is a checkout's top, of which kind (repository, linked worktree, submodule) and
which project, by wakatime-cli's rules; whether its HEAD is valid. This stands in front of
GitPython (`git_repos.py`, which reads the branch and files at HEAD): a folder gets a `Repo`
only once these checks, which open nothing that is not a small regular file, have passed.

Every function here answers None for anything missing, half-written or unreadable: detection
must never raise because of the state of someone's repository.
"""

# os.path on plain strings, as in project.py: this runs for every folder of a cold detection.

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import Literal

GitKind = Literal["repository", "worktree", "submodule"]

# Metadata files are tiny; a cap keeps a hostile or corrupt one from costing anything.
_MAX_META_BYTES = 4096
# Config files may hold includes and many remotes, but not megabytes.
_MAX_CONFIG_BYTES = 1024 * 1024
_COMMIT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


@dataclass(frozen=True, slots=True)
class GitCheckout:
    """A git work tree whose top folder holds a `.git` folder or `.git` file."""

    top: str  # the work tree's top folder
    gitdir: str  # the folder holding this checkout's HEAD
    kind: GitKind
    project: str
    # For a linked worktree: the main repository (its work tree, or the bare repository itself).
    main: str | None
    branch: str | None  # None: detached HEAD or unreadable


@dataclass(frozen=True, slots=True)
class HgCheckout:
    top: str
    branch: str


def read_first_lines(path: str, count: int) -> list[str] | None:
    """The first `count` lines of a small regular file, stripped; None when it cannot be read.

    Opened non-blocking and checked to be a regular file first: a FIFO left where a metadata
    file should be must not hang the daemon.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, _MAX_META_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if not text:
        return []
    return [line.strip() for line in text.split("\n")[:count]]


def read_head(gitdir: str) -> tuple[bool, str | None]:
    """Whether `<gitdir>/HEAD` is a valid HEAD, and the branch it names (slashes kept).

    `ref: refs/heads/feature/x` gives `feature/x`; a commit id (a detached HEAD) gives no
    branch, nor does reftable's placeholder `refs/heads/.invalid` (git 2.45+, where no file
    names the real HEAD). A missing, empty or garbled HEAD is not a repository's: git itself
    rejects it, and it is what a repository still being written looks like.
    """
    lines = read_first_lines(os.path.join(gitdir, "HEAD"), 1)
    if not lines:
        return False, None
    head = lines[0]
    if not head.startswith("ref:"):
        return _COMMIT_ID.fullmatch(head) is not None, None
    ref = head.removeprefix("ref:").strip()
    if not ref.startswith("refs/"):
        return False, None
    # What follows `refs/<kind>/`, as wakatime-cli: `refs/heads/feature/x` -> `feature/x`.
    parts = ref.split("/", 2)
    branch = parts[2] if len(parts) == 3 else ""
    return True, (branch if branch and branch != ".invalid" else None)


def git_checkout_at(folder: str) -> GitCheckout | None:
    """The git checkout whose top is `folder`, or None when `folder/.git` is absent or broken."""
    dotgit = os.path.join(folder, ".git")
    if os.path.isdir(dotgit):
        return _checkout(folder, dotgit, "repository", os.path.basename(folder), None)
    if not os.path.isfile(dotgit):
        return None
    gitdir = _gitdir_from_file(folder, dotgit)
    if gitdir is None:
        return None
    worktree = _worktree_common_dir(gitdir)
    if worktree is not None:
        main, project = worktree
        return _checkout(folder, gitdir, "worktree", project, main)
    kind: GitKind = "submodule" if _is_module_gitdir(gitdir) else "repository"
    # A submodule counts as itself, under its own folder's name; so does a work tree whose git
    # folder lives elsewhere (`git clone --separate-git-dir`).
    return _checkout(folder, gitdir, kind, os.path.basename(folder), None)


def _checkout(
    top: str, gitdir: str, kind: GitKind, project: str, main: str | None
) -> GitCheckout | None:
    valid, branch = read_head(gitdir)
    if not valid or not project:
        return None
    return GitCheckout(top=top, gitdir=gitdir, kind=kind, project=project, main=main, branch=branch)


def _gitdir_from_file(folder: str, dotgit: str) -> str | None:
    """Where a `.git` file points (`gitdir: <path>`); `_checkout` checks that a HEAD is there."""
    lines = read_first_lines(dotgit, 1)
    if not lines or not lines[0].startswith("gitdir:"):
        return None
    target = lines[0].removeprefix("gitdir:").strip()
    if not target:
        return None
    return os.path.normpath(os.path.join(folder, target))


def _worktree_common_dir(gitdir: str) -> tuple[str, str] | None:
    """For a linked worktree's gitdir (`<common>/worktrees/<name>`): (main, project name).

    The project is the main repository's: its work tree's folder name when the common folder is
    a `.git`, else the bare repository's name without `.git`. A bare repository kept in a hidden
    folder (the `proj/.bare` layout) is named after the folder that holds it.
    """
    if os.path.basename(os.path.dirname(gitdir)) != "worktrees":
        return None
    lines = read_first_lines(os.path.join(gitdir, "commondir"), 1)
    if not lines or not lines[0]:
        return None
    common = os.path.normpath(os.path.join(gitdir, lines[0]))
    name = os.path.basename(common)
    if name == ".git":
        main = os.path.dirname(common)
        return main, os.path.basename(main)
    project = name.removesuffix(".git")
    if not project or project.startswith("."):
        project = os.path.basename(os.path.dirname(common))
    return common, project


def _is_module_gitdir(gitdir: str) -> bool:
    """Whether gitdir lies in a superproject's `modules/` folder (`<super>/.git/modules/...`)."""
    head, tail = os.path.split(gitdir)
    while tail:
        if tail == "modules" and os.path.isfile(os.path.join(head, "HEAD")):
            return True
        head, tail = os.path.split(head)
    return False


def hg_checkout_at(folder: str) -> HgCheckout | None:
    """The mercurial checkout whose top is `folder`; its branch from `.hg/branch`, else default."""
    hgdir = os.path.join(folder, ".hg")
    if not os.path.isdir(hgdir):
        return None
    lines = read_first_lines(os.path.join(hgdir, "branch"), 1)
    return HgCheckout(top=folder, branch=(lines[0] if lines and lines[0] else "default"))


def git_metadata_is_small(checkout: GitCheckout) -> bool:
    """Whether the files GitPython reads whole when it opens `checkout` (the `.git` file, HEAD,
    commondir, the config files) are absent or small regular files: a FIFO there would hang it,
    a huge one cost its size in memory. Checked right before a `Repo` is made for it."""
    gitdir = checkout.gitdir
    small = [os.path.join(gitdir, "HEAD"), os.path.join(gitdir, "commondir")]
    dotgit = os.path.join(checkout.top, ".git")
    if not os.path.isdir(dotgit):
        small.append(dotgit)
    configs = [os.path.join(gitdir, "config")]
    lines = read_first_lines(os.path.join(gitdir, "commondir"), 1)
    if lines and lines[0]:
        configs.append(os.path.join(os.path.normpath(os.path.join(gitdir, lines[0])), "config"))
    return all(_small_or_absent(p, _MAX_META_BYTES) for p in small) and all(
        _small_or_absent(p, _MAX_CONFIG_BYTES) for p in configs
    )


def _small_or_absent(path: str, limit: int) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size <= limit
