"""Gitignore-style pattern files, parsed once and matched fast.

A `Spec` is one such file (a .gitignore, a repository's info/exclude, or the config's
watch patterns), matched relative to the folder that holds it; git's precedence between files
is `IgnoreRules`' business.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_]\w*>")
# How pathspec's regex for a pattern without a slash begins: "at any depth". Against a bare name
# it can only match empty, so the prefilter drops it.
_ANY_FOLDER = "^(?:.+/)?"


@dataclass(frozen=True, slots=True)
class Spec:
    """One gitignore-style pattern file, matched relative to the folder that holds it.

    pathspec tries its patterns one by one (~0.3 us each; a 60-line .gitignore costs ~15 us a
    path), and most paths match none. So each spec carries a prefilter: the patterns' own regexes
    joined into two alternations, one for patterns without a slash, matched against the entry's
    name alone (as git does: it never looks inside an ignored folder, and our folder verdicts are
    inherited the same way), one for the rest, matched against the relative path. Only a path
    that one of them matches is handed to pathspec for the verdict and the deciding line.
    """

    base_len: int  # len(folder + separator): slicing a path by it makes it relative
    spec: GitIgnoreSpec
    name_filter: re.Pattern[str] | None
    path_filter: re.Pattern[str] | None
    source: str | None

    @classmethod
    def parse(cls, lines: Iterable[str], base: str, source: str | None) -> Spec | None:
        patterns = []
        by_name: list[str] = []
        by_path: list[str] = []
        for line in lines:
            try:
                pattern = GitIgnoreSpecPattern(line)
            except ValueError:
                # Git skips a malformed line; keep a null pattern so indexes stay line numbers.
                pattern = GitIgnoreSpecPattern("#")
            patterns.append(pattern)
            if pattern.include is None or pattern.regex is None:
                continue
            regex = _NAMED_GROUP.sub("(?:", pattern.regex.pattern)
            body = line.strip().removeprefix("!").removesuffix("/")
            if "/" not in body and regex.startswith(_ANY_FOLDER):
                by_name.append(regex.removeprefix(_ANY_FOLDER))
            else:
                by_path.append(regex)
        if not by_name and not by_path:
            return None
        base_len = len(base) if base.endswith(os.sep) else len(base) + 1
        return cls(
            base_len,
            GitIgnoreSpec(patterns),
            _alternation("^(?:" + "|".join(by_name) + ")") if by_name else None,
            _alternation("|".join(by_path)) if by_path else None,
            source,
        )

    def check(self, path: str, *, is_dir: bool) -> tuple[bool, int] | None:
        """(True: ignored / False: re-included by a `!` line, index of the deciding line)."""
        rel = path[self.base_len :]
        if os.sep != "/":
            rel = rel.replace(os.sep, "/")
        if is_dir:
            rel += "/"
        name = rel[rel.rfind("/", 0, len(rel) - 1) + 1 :]
        if not (
            (self.name_filter is not None and self.name_filter.search(name))
            or (self.path_filter is not None and self.path_filter.search(rel))
        ):
            return None
        result = self.spec.check_file(rel)
        if result.include is None or result.index is None:
            return None
        return result.include, result.index

    def pattern_at(self, index: int) -> str:
        return str(self.spec.patterns[index].pattern)


def _alternation(regex: str) -> re.Pattern[str]:
    # pathspec's regexes always combine; should one day one not, match everything and let
    # pathspec decide alone.
    try:
        return re.compile(regex)
    except re.error:
        return re.compile("")


def read_spec(path: str, base: str) -> Spec | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:  # absent (the usual case), unreadable, or a folder
        return None
    return Spec.parse(text.splitlines(), base, path)


def info_exclude_path(repo: str) -> str | None:
    dotgit = os.path.join(repo, ".git")
    if os.path.isdir(dotgit):
        return os.path.join(dotgit, "info", "exclude")
    # A linked worktree or a submodule: `.git` is a file naming the real git folder.
    try:
        with open(dotgit, encoding="utf-8") as f:
            first = f.readline().strip()
    except OSError:
        return None
    if not first.startswith("gitdir:"):
        return None
    gitdir = os.path.normpath(os.path.join(repo, first.removeprefix("gitdir:").strip()))
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as f:
            gitdir = os.path.normpath(os.path.join(gitdir, f.readline().strip()))
    except OSError:
        pass  # a submodule: its git folder is its own common folder
    return os.path.join(gitdir, "info", "exclude")


def git_excludes_file(home: Path) -> Path | None:
    """git's global excludes file: `core.excludesFile` as git itself reads it (system and
    global config, `~` expanded), else its default `~/.config/git/ignore`; None if neither is
    there. git runs with `home` as HOME, outside any repository."""
    try:
        done = subprocess.run(
            ["git", "config", "--path", "--get", "core.excludesFile"],
            cwd=os.path.abspath(os.sep),
            env={**os.environ, "HOME": os.fspath(home)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=5,
        )
        value = done.stdout.strip() if done.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):  # no git: no global excludes either
        return None
    path = Path(value) if value else home / ".config" / "git" / "ignore"
    return path if path.is_absolute() and path.is_file() else None
