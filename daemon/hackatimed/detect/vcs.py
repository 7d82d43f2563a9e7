"""What git and mercurial checkouts say about a folder, read straight from their metadata files.

The branch comes from reading `HEAD` ourselves rather than through GitPython: one read of a
file of a few dozen bytes, no subprocess and no `Repo` object, which is what keeps a cold
detection cheap. `head_blob` (a file's content at HEAD) needs a real object lookup: it runs
`git cat-file`, one process for all the files of a repository that it is asked about at once.

Every function here answers None for anything missing, half-written or unreadable: detection
must never raise because of the state of someone's repository.
"""

# os.path on plain strings, as in project.py: this runs for every folder of a cold detection.

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

GitKind = Literal["repository", "worktree", "submodule"]

# Metadata files are tiny; a cap keeps a hostile or corrupt one from costing anything.
_MAX_META_BYTES = 4096
# What `git cat-file` may take before head_blob gives up (a hung git must not stall detection).
_GIT_TIMEOUT_SECONDS = 10.0
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


def head_blob(top: str, relpath: str) -> bytes | None:
    """The content of `relpath` (relative to the work tree `top`) at HEAD, or None.

    None for an untracked file, a repository without commits, a missing git, or any other
    failure. Callers ask once per file, for the baseline of its first diff.
    """
    return head_blobs(top, [relpath])[0]


def head_blobs(top: str, relpaths: Sequence[str]) -> list[bytes | None]:
    """`head_blob` for several files of one work tree: one `git cat-file --batch` process for
    all of them, where one process per file would cost about 2 ms of CPU each.

    A plain subprocess rather than GitPython: its import costs about 100 ms and 2.5 MB on the
    first save, and its time-out starts a watchdog thread per call.
    """
    out: list[bytes | None] = [None] * len(relpaths)
    # One name per line: a name with a newline in it cannot be asked this way.
    asked = [i for i, rel in enumerate(relpaths) if "\n" not in rel]
    if not asked:
        return out
    specs = b"".join(os.fsencode("HEAD:" + relpaths[i].replace(os.sep, "/")) + b"\n" for i in asked)
    try:
        done = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=top,
            input=specs,
            capture_output=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("no HEAD versions from git in %s: %s", top, exc)
        return out
    if done.returncode != 0:
        log.debug("git cat-file failed in %s: %s", top, done.stderr.decode(errors="replace"))
        return out
    for i, blob in zip(asked, _batch_objects(done.stdout, len(asked)), strict=True):
        out[i] = blob
    return out


def _batch_objects(data: bytes, count: int) -> list[bytes | None]:
    """`git cat-file --batch` output: "<id> <type> <size>" and the content for each object
    found, "<name> missing" (or "ambiguous") for each not; None for anything but a blob."""
    found: list[bytes | None] = []
    at = 0
    while len(found) < count:
        end = data.find(b"\n", at)
        if end < 0:
            break
        header = data[at:end].split(b" ")
        at = end + 1
        if len(header) != 3 or not header[2].isdigit():  # missing, ambiguous
            found.append(None)
            continue
        size = int(header[2])
        found.append(data[at : at + size] if header[1] == b"blob" else None)
        at += size + 1  # the content and its newline
    return found + [None] * (count - len(found))
