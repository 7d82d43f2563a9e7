"""Project and branch of a file, by wakatime-cli's rules, so editor plugins and the daemon agree.

In order: the nearest `.wakatime-project` above the file; `[[projects.map]]` folders (the deepest
wins); `~/.wakatime.cfg` `[projectmap]` regexes (first in config order wins); the git checkout
(a linked worktree counts as its main repository, a submodule as itself); mercurial; and with
none of these, the first folder below the watched root that holds the file.

As in wakatime-cli, a git checkout anywhere above the file wins over mercurial, and the rules
before the version-control ones take the branch from it unless `.wakatime-project` names one.

Caching: facts found on disk are kept per folder (each folder's facts built from its parent's,
so sibling folders cost one look at their own entries), and results per file; both are bounded
LRUs. `invalidate()` drops what a changed `.git`, `HEAD`, `.hg/branch` or `.wakatime-project`
affects. A warm `detect()` is one dict lookup under a lock; nothing touches the disk.
"""

# os.path on plain strings, not pathlib: the folder walk and the cache keys are strings, and
# os.path's string functions cost a fraction of building Path objects on every step.

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from hackatimed.config.load import ProjectMapping
from hackatimed.detect import vcs
from hackatimed.detect.content import MAX_LINES_BYTES
from hackatimed.detect.git_repos import GitRepos
from hackatimed.detect.vcs import GitCheckout, HgCheckout
from hackatimed.lru import Lru

log = logging.getLogger(__name__)

WAKATIME_PROJECT_FILE = ".wakatime-project"
# A HEAD version is the baseline of a first diff, which content.py takes up to this size.
_MAX_BLOB_BYTES = MAX_LINES_BYTES
# wakatime-cli's `.wakatime-project` may say `{project}`: the name version control would give.
_PROJECT_PLACEHOLDER = "{project}"
# `{0}`, `{}` and the `{{`/`}}` escapes of a `[projectmap]` name; nothing else (no attributes).
_NAME_FIELD = re.compile(r"\{\{|\}\}|\{(\d*)\}|[{}]")


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    project: str | None
    branch: str | None
    root: Path | None  # the project's root folder
    project_root_count: int | None  # slashes in the root folder's path with a trailing slash
    rule: str  # what decided the project, for `hackatimed explain`
    vcs_root: Path | None = None  # git work tree root, when the file is in one
    branch_rule: str | None = None  # what decided the branch, for `hackatimed explain`
    # Named after a folder only (no .wakatime-project, map or repository): what wakatime-cli
    # calls an unknown project, for `privacy.exclude_unknown_project`.
    from_folder: bool = False
    # Found by a `.wakatime-project` file, for `include_only_with_project_file`.
    from_project_file: bool = False


@dataclass(frozen=True, slots=True)
class _WakaProject:
    folder: str
    name: str  # may hold the `{project}` placeholder
    branch: str | None


@dataclass(frozen=True, slots=True)
class _Facts:
    """The nearest markers at or above one folder."""

    waka: _WakaProject | None = None
    git: GitCheckout | None = None
    hg: HgCheckout | None = None


_NO_FACTS = _Facts()


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    name: str


class ProjectDetector:
    def __init__(
        self,
        *,
        roots: Sequence[Path],
        mappings: Sequence[ProjectMapping] = (),
        max_cached: int = 512,
        git_repos: GitRepos | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.git_repos = git_repos or GitRepos()
        # file path as given -> (normalized path, git folder of its checkout, result)
        self._files: Lru[str, tuple[str, str | None, ProjectInfo]] = Lru(max_cached)
        self._folders: Lru[str, _Facts] = Lru(max_cached)
        self._roots: tuple[str, ...] = ()
        folder_maps = [(_norm(m.path), m.name) for m in mappings if m.path is not None and m.name]
        # Deepest first, so the first folder that holds a file is the deepest mapping.
        self._folder_maps = sorted(folder_maps, key=lambda item: len(item[0]), reverse=True)
        compiled = (_compile(m) for m in mappings if m.pattern is not None)
        self._patterns = tuple(p for p in compiled if p is not None)
        self.set_roots(roots)

    def set_roots(self, roots: Sequence[Path]) -> None:
        normalized = sorted({_norm(r) for r in roots}, key=len, reverse=True)
        with self._lock:
            self._roots = tuple(normalized)
            # Only the last-resort rule depends on the roots, but it is decided per file.
            self._files.items.clear()

    def detect(self, path: Path) -> ProjectInfo:
        key = str(path)
        with self._lock:
            cached = self._files.get(key)
            if cached is not None:
                return cached[2]
            file = _norm(path)
            facts = self._facts(os.path.dirname(file))
            info = self._decide(file, facts)
            self._files.put(key, (file, facts.git.gitdir if facts.git else None, info))
            return info

    def invalidate(self, path: Path) -> None:
        """Forget what a change of `path` (a `.git` file or folder entry, `.hg/branch`,
        `.wakatime-project`) may have changed: everything at or below the folders it governs."""
        changed = _norm(path)
        affected = _governed_folders(changed)
        with self._lock:
            # A linked worktree's or a submodule's HEAD lives in another repository's `.git`.
            for facts in self._folders.items.values():
                if facts.git is not None and _is_within(changed, facts.git.gitdir):
                    affected.add(facts.git.top)
            for _, gitdir, info in self._files.items.values():
                if gitdir and info.vcs_root and _is_within(changed, gitdir):
                    affected.add(str(info.vcs_root))
            if not affected:
                return
            for folder in [k for k in self._folders.items if _under_any(k, affected)]:
                del self._folders.items[folder]
            for key in [k for k, e in self._files.items.items() if _under_any(e[0], affected)]:
                del self._files.items[key]

    def head_blob(self, path: Path, *, max_bytes: int = _MAX_BLOB_BYTES) -> bytes | None:
        """The file's content at HEAD in its git checkout; None if untracked, no repo, or error."""
        return self.head_blobs([path], max_bytes=max_bytes)[path]

    def head_blobs(
        self, paths: Sequence[Path], *, max_bytes: int = _MAX_BLOB_BYTES
    ) -> dict[Path, bytes | None]:
        """`head_blob` for several files, each repository's asked in one go from its persistent
        `git cat-file` (git_repos.py)."""
        out: dict[Path, bytes | None] = {}
        by_top: dict[str, tuple[GitCheckout, list[tuple[Path, str]]]] = {}
        for path in paths:
            file = _norm(path)
            with self._lock:
                git = self._facts(os.path.dirname(file)).git
            out[path] = None
            if git is not None:
                files = by_top.setdefault(git.top, (git, []))[1]
                files.append((path, os.path.relpath(file, git.top)))
        for git, files in by_top.values():
            rels = [rel for _path, rel in files]
            blobs = self.git_repos.head_blobs(git, rels, max_bytes=max_bytes)
            out.update(zip((path for path, _rel in files), blobs, strict=True))
        return out

    def _facts(self, folder: str) -> _Facts:
        """The markers at or above `folder`, built downward from the nearest cached ancestor."""
        chain: list[str] = []
        facts = _NO_FACTS
        current = folder
        while True:
            cached = self._folders.get(current)
            if cached is not None:
                facts = cached
                break
            parent = os.path.dirname(current)
            if parent == current:
                break  # the file system's root: wakatime-cli never looks for markers there
            chain.append(current)
            current = parent
        for current in reversed(chain):
            facts = _with_own_markers(current, facts, self.git_repos)
            self._folders.put(current, facts)
        return facts

    def _decide(self, file: str, facts: _Facts) -> ProjectInfo:
        git, hg = facts.git, facts.hg
        vcs_project = git.project if git else os.path.basename(hg.top) if hg else None
        vcs_branch, vcs_branch_rule = _vcs_branch(facts)
        vcs_root = Path(git.top) if git else None

        def chosen(project: str, root: str, rule: str) -> ProjectInfo:
            return ProjectInfo(
                project=project,
                branch=vcs_branch,
                root=Path(root),
                project_root_count=_root_count(file, root),
                rule=rule,
                vcs_root=vcs_root,
                branch_rule=vcs_branch_rule,
            )

        if facts.waka is not None:
            waka = facts.waka
            name = waka.name or os.path.basename(waka.folder)
            if _PROJECT_PLACEHOLDER in name:
                name = name.replace(
                    _PROJECT_PLACEHOLDER, vcs_project or os.path.basename(waka.folder)
                )
            info = chosen(name, waka.folder, f"{WAKATIME_PROJECT_FILE} at {waka.folder}")
            info = replace(info, from_project_file=True)
            if waka.branch:
                branch_rule = f"{WAKATIME_PROJECT_FILE} at {waka.folder}, line 2"
                return replace(info, branch=waka.branch, branch_rule=branch_rule)
            return info
        for folder, name in self._folder_maps:
            if _is_within(file, folder):
                return chosen(name, folder, f"projects.map '{folder}' -> {name}")
        for pattern in self._patterns:
            found = _match_pattern(pattern, file)
            if found is not None:
                name, root = found
                return chosen(name, root, f"projectmap regex '{pattern.regex.pattern}'")
        if git is not None:
            return chosen(git.project, git.top, _git_rule(git))
        if hg is not None:
            return chosen(os.path.basename(hg.top), hg.top, f"mercurial repository {hg.top}")
        return self._fallback(file)

    def _fallback(self, file: str) -> ProjectInfo:
        for root in self._roots:
            if not _is_within(file, root) or file == root:
                continue
            below = os.path.relpath(file, root).split(os.sep)
            if len(below) == 1:
                folder, rule = root, f"root folder {root}"
            else:
                folder, rule = os.path.join(root, below[0]), f"folder below root {root}"
            name = os.path.basename(folder) or None
            count = _root_count(file, folder) if name else None
            return ProjectInfo(name, None, Path(folder), count, rule, from_folder=True)
        return ProjectInfo(None, None, None, None, "no project: not under any watched root")


def _norm(path: Path | str) -> str:
    return os.path.abspath(path)


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _under_any(path: str, folders: set[str]) -> bool:
    return any(_is_within(path, folder) for folder in folders)


def _governed_folders(changed: str) -> set[str]:
    """The folders whose files a change of `changed` may re-decide."""
    folders: set[str] = set()
    parent, name = os.path.split(changed)
    if name in (WAKATIME_PROJECT_FILE, ".git", ".hg"):
        folders.add(parent)
    parts = changed.split(os.sep)
    for i, part in enumerate(parts[:-1]):
        if part in (".git", ".hg"):
            folders.add(os.sep.join(parts[:i]) or os.sep)
            break
    return folders


def _with_own_markers(folder: str, inherited: _Facts, repos: GitRepos) -> _Facts:
    waka = _read_waka_project(folder)
    git = vcs.git_checkout_at(folder)
    if git is not None:
        # vcs found a valid HEAD (a small regular file, in a form git accepts); GitPython
        # reads which branch it names.
        git = replace(git, branch=repos.branch(git))
    hg = vcs.hg_checkout_at(folder)
    if waka is None and git is None and hg is None:
        return inherited  # shared, not copied: most folders hold no markers
    return _Facts(
        waka=waka or inherited.waka,
        git=git or inherited.git,
        hg=hg or inherited.hg,
    )


def _read_waka_project(folder: str) -> _WakaProject | None:
    """Line 1: the project (empty: the folder's name); line 2, when present: the branch."""
    path = os.path.join(folder, WAKATIME_PROJECT_FILE)
    if not os.path.isfile(path):
        return None
    lines = vcs.read_first_lines(path, 2)
    if lines is None:
        return None  # unreadable: as wakatime-cli, as if absent
    name = lines[0] if lines else ""
    branch = lines[1] if len(lines) > 1 and lines[1] else None
    return _WakaProject(folder=folder, name=name, branch=branch)


def _vcs_branch(facts: _Facts) -> tuple[str | None, str | None]:
    if facts.git is not None:
        if facts.git.branch is None:
            return None, f"detached or unreadable HEAD in {facts.git.gitdir}"
        return facts.git.branch, f"git HEAD in {facts.git.gitdir}"
    if facts.hg is not None:
        return facts.hg.branch, f"mercurial branch of {facts.hg.top}"
    return None, None


def _git_rule(git: GitCheckout) -> str:
    if git.kind == "worktree":
        return f"git worktree of {git.main}"
    if git.kind == "submodule":
        return f"git submodule {git.top}"
    return f"git repository {git.top}"


def _root_count(file: str, root: str) -> int | None:
    """wakatime-cli's project_root_count: the slashes in the project folder's path, counted with
    a trailing slash (`/home/u/proj` -> 4), sent only for a file inside that folder."""
    if not _is_within(file, root):
        return None
    count = (root.rstrip("/") + "/").count("/")
    return count or None


def _compile(mapping: ProjectMapping) -> _Pattern | None:
    try:
        # wakatime-cli makes every [projectmap] regex case-insensitive.
        return _Pattern(re.compile(mapping.pattern or "", re.IGNORECASE), mapping.name)
    except re.error as exc:
        log.warning(
            "ignoring [projectmap] pattern %r: not a valid regex (%s)", mapping.pattern, exc
        )
        return None


def _match_pattern(pattern: _Pattern, file: str) -> tuple[str, str] | None:
    """(project name, root folder) when the regex is found anywhere in the path, as wakatime-cli.

    The root is the deepest folder the match covers entirely (`/code/bar(\\d+)/` on
    `/code/bar42/x.c` -> `/code/bar42`), or the file's own folder for a match inside its name.
    """
    match = pattern.regex.search(file)
    if match is None:
        return None
    name = _format_name(pattern.name, match.groups())
    if not name:
        return None
    root = os.path.dirname(file)
    while len(root) > match.end() and os.path.dirname(root) != root:
        root = os.path.dirname(root)
    return name, root


def _format_name(template: str, groups: Sequence[str | None]) -> str | None:
    """Python-format-style `{0}`/`{}` references to the match's groups; None when malformed
    (wakatime-cli then skips that pattern)."""
    out: list[str] = []
    position = 0
    auto = 0
    for field in _NAME_FIELD.finditer(template):
        out.append(template[position : field.start()])
        position = field.end()
        text = field.group(0)
        if text in ("{{", "}}"):
            out.append(text[0])
            continue
        if text in ("{", "}"):
            return None
        index_text = field.group(1)
        index = int(index_text) if index_text else auto
        auto += 1
        if index >= len(groups):
            return None
        out.append(groups[index] or "")
    out.append(template[position:])
    return "".join(out).strip()
