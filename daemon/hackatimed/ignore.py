"""What is never tracked, and which rule says so.

In order: files outside every watched root; built-in folders (version control, dependencies,
build output, caches) and built-in files (editors' temporaries and backups, OS litter); each
repository's `.gitignore` files and `.git/info/exclude`, with git's precedence; `watch.include`
and `watch.exclude`; then `~/.wakatime.cfg`'s include/exclude regexes. A folder that is ignored
makes everything below it ignored, as in git, so an include can never reach into it: the watcher
places no watch there at all.

Per folder, the verdict and the stack of gitignore specs that apply inside it are cached (bounded),
so a warm file check is a few dict lookups and one prefiltered regex per spec; paths are handled
as strings, not Path objects, for the same reason. Thread-safe: the watcher may ask from
watchdog's thread while the loop asks too.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Literal

from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

log = logging.getLogger(__name__)

IgnoreRule = Literal[
    "outside-roots",
    "builtin-folder",
    "virtualenv",
    "cache-folder",
    "builtin-file",
    "gitignore",
    "watch-exclude",
    "watch-include",
    "exclude-regex",
]


def _kind(kind: str, names: str) -> dict[str, str]:
    return dict.fromkeys(names.split(), kind)


# Folders nobody types code into, and whose churn (installs, builds, IDE state) would be false
# activity. `.idea` is here because JetBrains rewrites workspace.xml on every focus change;
# `.vscode` is not, because people edit settings.json and launch.json by hand and VS Code leaves
# them alone. `vendor` is here: Go's `go mod vendor`, Composer and Bundler fill it with thousands
# of other people's files. `build`, `dist` and `target` go by name alone: a project that keeps
# hand-written code in such a folder loses that time, a rarer harm than watching build output.
_BUILTIN_FOLDERS: dict[str, str] = {
    **_kind("version control", ".git .hg .svn .bzr .jj _darcs .pijul"),
    **_kind(
        "dependencies",
        """node_modules bower_components jspm_packages .pnpm-store .yarn vendor Pods Carthage
        .bundle site-packages .eggs elm-stuff .venv venv __pypackages__ .terraform .dart_tool
        .pub-cache""",
    ),
    **_kind(
        "build output",
        """target dist build out-tsc _build .next .nuxt .output .svelte-kit .angular .expo
        .docusaurus .gradle DerivedData CMakeFiles dist-newstyle .stack-work zig-cache .zig-cache
        zig-out coverage htmlcov .nyc_output""",
    ),
    **_kind(
        "tool cache",
        """__pycache__ .tox .nox .mypy_cache .pytest_cache .ruff_cache .hypothesis
        .ipynb_checkpoints .cache .parcel-cache .turbo .sass-cache .ccls-cache .direnv .devenv
        .history""",
    ),
    **_kind("IDE state", ".idea .vs .fleet"),
}
_BUILTIN_FOLDER_SUFFIXES = {".egg-info": "build output"}
_BUILTIN_FOLDER_PREFIXES = {"cmake-build-": "build output", ".Trash-": "trash"}
_FOLDER_KINDS = {
    **_BUILTIN_FOLDERS,
    **{f"*{suffix}": kind for suffix, kind in _BUILTIN_FOLDER_SUFFIXES.items()},
    **{f"{prefix}*": kind for prefix, kind in _BUILTIN_FOLDER_PREFIXES.items()},
}

# Exact names of OS litter, tools' cache files and VCS metadata.
_BUILTIN_FILES: dict[str, str] = {
    **_kind("OS litter", ".DS_Store Thumbs.db ehthumbs.db desktop.ini .directory"),
    "Icon\r": "OS litter",
    **_kind("tool cache", ".eslintcache .coverage"),
    ".git": "git worktree/submodule pointer",
}

# Editors' temporaries, one named group each: `lastgroup` names the rule that matched.
# Vim probes with `4913`, then 4913+123, 4913+246, ... (checked in `_builtin_file`).
_TEMP_FILES = re.compile(
    r"(?P<vim_swap>.*\.sw[a-px])"
    r"|(?P<vim_probe>\d{4,6})"
    r"|(?P<backup>.+~)"
    r"|(?P<emacs_autosave>#.+#)"
    r"|(?P<emacs_lock>\.#.+)"
    r"|(?P<jetbrains>.+___jb_(?:tmp|old|bak)___)"
    r"|(?P<gedit>\.goutputstream-.+)"
    r"|(?P<libreoffice_lock>\.~lock\..+#)"
    r"|(?P<office_lock>~\$.+)"
    r"|(?P<vscode>.+\.vsctmp)"
    r"|(?P<kate>.+\.kate-swp)"
    r"|(?P<tmp>.+\.(?:tmp|TMP))"
    r"|(?P<sed>sed[A-Za-z0-9]{6})"
    r"|(?P<appledouble>\._.+)",
    re.DOTALL,
)
_TEMP_FILE_LABELS = {
    "vim_swap": "Vim swap file (*.swp)",
    "vim_probe": "Vim write probe (4913)",
    "backup": "editor backup (*~)",
    "emacs_autosave": "Emacs auto-save (#*#)",
    "emacs_lock": "Emacs lock (.#*)",
    "jetbrains": "JetBrains safe-write temporary (*___jb_tmp___)",
    "gedit": "GIO atomic-save temporary (.goutputstream-*)",
    "libreoffice_lock": "LibreOffice lock (.~lock.*#)",
    "office_lock": "Office lock (~$*)",
    "vscode": "VS Code atomic-save temporary (*.vsctmp)",
    "kate": "Kate swap file (*.kate-swp)",
    "tmp": "temporary file (*.tmp)",
    "sed": "sed -i temporary (sedXXXXXX)",
    "appledouble": "macOS AppleDouble file (._*)",
}

_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_]\w*>")
# How pathspec's regex for a pattern without a slash begins: "at any depth". Against a bare name
# it can only match empty, so the prefilter drops it.
_ANY_FOLDER = "^(?:.+/)?"


@dataclass(frozen=True, slots=True)
class IgnoreReason:
    """Why a path is not tracked, for `hackatimed explain`."""

    rule: IgnoreRule
    pattern: str  # the rule's own words: a folder name, a gitignore line, a regex
    path: Path  # what matched: the file itself, or the ignored folder that holds it
    source: Path | None = None  # the file the pattern came from (.gitignore, info/exclude)
    line: int | None = None  # 1-based line of the pattern in `source`

    def describe(self) -> str:
        match self.rule:
            case "outside-roots":
                return f"{self.path} is not under any watched root"
            case "builtin-folder":
                kind = _FOLDER_KINDS.get(self.pattern, "other")
                return f"{self.path}: built-in ignore for {kind} folders ({self.pattern})"
            case "virtualenv":
                return f"{self.path}: a Python virtualenv (it holds pyvenv.cfg)"
            case "cache-folder":
                return f"{self.path}: a cache folder (it holds CACHEDIR.TAG)"
            case "builtin-file":
                return f"{self.path}: built-in ignore ({self.pattern})"
            case "gitignore":
                return f"{self.path}: {self.pattern!r} in {self.source}, line {self.line}"
            case "watch-exclude":
                return f"{self.path}: watch.exclude pattern {self.pattern!r}"
            case "watch-include":
                return f"{self.path}: matches no watch.include pattern"
            case "exclude-regex":
                return f"{self.path}: exclude regex {self.pattern!r} from ~/.wakatime.cfg"


@dataclass(frozen=True, slots=True)
class _Spec:
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
    def parse(cls, lines: Iterable[str], base: str, source: str | None) -> _Spec | None:
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


@dataclass(frozen=True, slots=True)
class _Root:
    path: str
    prefix: str  # path + separator
    exclude: _Spec | None
    include: _Spec | None


class _Folder:
    __slots__ = ("in_repo", "layers", "root", "verdict")

    def __init__(
        self,
        verdict: IgnoreReason | None,
        layers: tuple[_Spec, ...],
        in_repo: bool,
        root: _Root | None,
    ) -> None:
        self.verdict = verdict
        self.layers = layers  # gitignore specs for entries of this folder, deepest first
        self.in_repo = in_repo
        self.root = root


class IgnoreRules:
    def __init__(
        self,
        *,
        roots: Sequence[Path],
        exclude: Sequence[str] = (),
        include: Sequence[str] = (),
        exclude_regex: Sequence[str] = (),
        include_regex: Sequence[str] = (),
        respect_gitignore: bool = True,
        home: Path | None = None,
        max_cached_folders: int = 50_000,
    ) -> None:
        """`home` expands `~` in exclude/include patterns (this module reads no environment)."""
        root_paths = sorted({os.path.abspath(r) for r in roots}, key=len, reverse=True)
        home_str = os.path.abspath(home) if home is not None else None
        self._roots = tuple(
            _Root(
                path=r,
                prefix=r if r.endswith(os.sep) else r + os.sep,
                exclude=_root_spec(exclude, r, root_paths, home_str, "watch.exclude"),
                include=_root_spec(include, r, root_paths, home_str, "watch.include"),
            )
            for r in root_paths
        )
        self._exclude_regex = _compile_regexes(exclude_regex, "exclude")
        self._include_regex = _compile_regexes(include_regex, "include")
        self._respect_gitignore = respect_gitignore
        self._max_cached = max(16, max_cached_folders)
        self._folders: dict[str, _Folder] = {}
        self._info_excludes: dict[str, _Spec | None] = {}  # repo root -> its info/exclude
        self._lock = threading.Lock()

    def ignores_dir(self, path: Path) -> bool:
        """True for a folder never to watch; cheap enough to ask for every folder at start-up."""
        folder = _absolute(path)
        with self._lock:
            return self._folder(folder).verdict is not None

    def folder_reason(self, path: Path) -> IgnoreReason | None:
        folder = _absolute(path)
        with self._lock:
            return self._folder(folder).verdict

    def ignores_file(self, path: Path) -> IgnoreReason | None:
        """None when a change to this file counts; otherwise the rule that rules it out."""
        file = _absolute(path)
        folder, name = os.path.split(file)
        with self._lock:
            rec = self._folder(folder)
        if rec.verdict is not None:
            return rec.verdict
        if (label := _builtin_file(name)) is not None:
            return IgnoreReason("builtin-file", label, Path(file))
        if (hit := _first_gitignore_hit(rec.layers, file, is_dir=False)) is not None:
            return hit
        root = rec.root
        if root is None:  # unreachable: a folder outside the roots has a verdict
            return IgnoreReason("outside-roots", "", Path(file))
        if root.include is not None:
            included = root.include.check(file, is_dir=False)
            if included is None or not included[0]:
                return IgnoreReason("watch-include", "", Path(file))
        elif root.exclude is not None:
            excluded = root.exclude.check(file, is_dir=False)
            if excluded is not None and excluded[0]:
                pattern = root.exclude.pattern_at(excluded[1])
                return IgnoreReason("watch-exclude", pattern, Path(file))
        if any(rx.search(file) for rx in self._include_regex):
            return None
        for rx in self._exclude_regex:
            if rx.search(file):
                return IgnoreReason("exclude-regex", rx.pattern, Path(file))
        return None

    def invalidate(self, path: Path) -> None:
        """A rule file changed: .gitignore, .git/info/exclude, a new .git, pyvenv.cfg, CACHEDIR.TAG.

        Drops the cached verdicts and specs of every folder at or below the one it governs.
        """
        target = os.path.abspath(path)
        parts = target.split(os.sep)
        if ".git" in parts:
            folder = os.sep.join(parts[: parts.index(".git")]) or os.sep
        elif parts[-1] in _RULE_FILES:
            folder = os.path.dirname(target)
        else:
            folder = target
        with self._lock:
            # A linked worktree's info/exclude lives in the main repository's .git folder.
            shared = [r for r, s in self._info_excludes.items() if s and s.source == target]
            for stale in [folder, *shared]:
                self._drop_below(stale)

    # -- the per-folder cache ---------------------------------------------------------------

    def _folder(self, folder: str) -> _Folder:
        rec = self._folders.get(folder)
        if rec is not None:
            return rec
        missing = [folder]
        parent_rec: _Folder | None = None
        while True:
            parent = os.path.dirname(missing[-1])
            if parent == missing[-1]:
                break
            parent_rec = self._folders.get(parent)
            if parent_rec is not None:
                break
            missing.append(parent)
        for path in reversed(missing):
            parent_rec = self._make_folder(path, parent_rec)
            self._remember(path, parent_rec)
        if parent_rec is None:  # unreachable: `missing` is never empty
            raise RuntimeError(folder)
        return parent_rec

    def _remember(self, folder: str, rec: _Folder) -> None:
        if len(self._folders) >= self._max_cached:
            # Drop the oldest half: amortised O(1), and folders asked about lately stay.
            for key in list(islice(self._folders, len(self._folders) // 2)):
                del self._folders[key]
        self._folders[folder] = rec

    def _drop_below(self, folder: str) -> None:
        prefix = folder if folder.endswith(os.sep) else folder + os.sep
        for cache in (self._folders, self._info_excludes):
            for key in [k for k in cache if k == folder or k.startswith(prefix)]:
                del cache[key]

    def _make_folder(self, folder: str, parent: _Folder | None) -> _Folder:
        root = self._root_of(folder)
        in_repo = False
        layers: tuple[_Spec, ...] = ()
        if self._respect_gitignore:
            is_repo_root = os.path.lexists(folder + os.sep + ".git")
            # A repository's root starts afresh: the outer repository's rules stop at a nested one.
            if is_repo_root:
                inherited: tuple[_Spec, ...] | None = self._info_exclude(folder)
            else:
                inherited = parent.layers if parent is not None and parent.in_repo else None
            if inherited is not None:
                in_repo = True
                own = _read_spec(folder + os.sep + ".gitignore", folder)
                layers = (own, *inherited) if own is not None else inherited
        if root is None:
            verdict: IgnoreReason | None = IgnoreReason("outside-roots", "", Path(folder))
        elif folder == root.path:
            verdict = None
        elif parent is not None and parent.verdict is not None:
            verdict = parent.verdict
        else:
            verdict = self._folder_rule(folder, parent, root)
        return _Folder(verdict, layers, in_repo, root)

    def _folder_rule(self, folder: str, parent: _Folder | None, root: _Root) -> IgnoreReason | None:
        name = os.path.basename(folder)
        if name in _BUILTIN_FOLDERS:
            return IgnoreReason("builtin-folder", name, Path(folder))
        for suffix in _BUILTIN_FOLDER_SUFFIXES:
            if name.endswith(suffix):
                return IgnoreReason("builtin-folder", f"*{suffix}", Path(folder))
        for prefix in _BUILTIN_FOLDER_PREFIXES:
            if name.startswith(prefix):
                return IgnoreReason("builtin-folder", f"{prefix}*", Path(folder))
        # Marker files, not names: a virtualenv may be called anything, and Cargo, pytest, mypy
        # and ruff tag their caches by the Cache Directory Tagging convention.
        if os.path.exists(folder + os.sep + "pyvenv.cfg"):
            return IgnoreReason("virtualenv", "pyvenv.cfg", Path(folder))
        if os.path.exists(folder + os.sep + "CACHEDIR.TAG"):
            return IgnoreReason("cache-folder", "CACHEDIR.TAG", Path(folder))
        if parent is not None:
            hit = _first_gitignore_hit(parent.layers, folder, is_dir=True)
            if hit is not None:
                return hit
        if root.exclude is not None:
            excluded = root.exclude.check(folder, is_dir=True)
            if excluded is not None and excluded[0]:
                pattern = root.exclude.pattern_at(excluded[1])
                return IgnoreReason("watch-exclude", pattern, Path(folder))
        return None

    def _root_of(self, folder: str) -> _Root | None:
        for root in self._roots:  # longest first: the innermost root wins
            if folder == root.path or folder.startswith(root.prefix):
                return root
        return None

    def _info_exclude(self, repo: str) -> tuple[_Spec, ...]:
        if repo not in self._info_excludes:
            source = _info_exclude_path(repo)
            self._info_excludes[repo] = _read_spec(source, repo) if source else None
        spec = self._info_excludes[repo]
        return (spec,) if spec is not None else ()


_RULE_FILES = frozenset({".gitignore", "pyvenv.cfg", "CACHEDIR.TAG"})


def is_rule_file(path: Path) -> bool:
    """Whether a change to this path changes the rules: the watcher then calls `invalidate`."""
    return path.name in _RULE_FILES or path.name == ".git" or ".git" in path.parent.parts


def _absolute(path: Path) -> str:
    # A Path's str is already free of doubled and trailing separators; only a relative one needs
    # the (slower) abspath. `..` is not resolved: the watcher hands over what the kernel reports.
    text = os.fspath(path)
    return text if os.path.isabs(text) else os.path.abspath(text)


def _builtin_file(name: str) -> str | None:
    label = _BUILTIN_FILES.get(name)
    if label is not None:
        return label
    m = _TEMP_FILES.fullmatch(name)
    if m is None or m.lastgroup is None:
        return None
    if m.lastgroup == "vim_probe":
        n = int(name)
        if n < 4913 or (n - 4913) % 123:
            return None
    return _TEMP_FILE_LABELS[m.lastgroup]


def _first_gitignore_hit(
    layers: tuple[_Spec, ...], path: str, *, is_dir: bool
) -> IgnoreReason | None:
    # The deepest .gitignore that has an opinion decides; info/exclude comes last.
    for layer in layers:
        hit = layer.check(path, is_dir=is_dir)
        if hit is None:
            continue
        ignored, index = hit
        if not ignored:
            return None
        source = Path(layer.source) if layer.source else None
        return IgnoreReason("gitignore", layer.pattern_at(index), Path(path), source, index + 1)
    return None


def _alternation(regex: str) -> re.Pattern[str]:
    # pathspec's regexes always combine; should one day one not, match everything and let
    # pathspec decide alone.
    try:
        return re.compile(regex)
    except re.error:
        return re.compile("")


def _read_spec(path: str, base: str) -> _Spec | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:  # absent (the usual case), unreadable, or a folder
        return None
    return _Spec.parse(text.splitlines(), base, path)


def _info_exclude_path(repo: str) -> str | None:
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


def _root_spec(
    patterns: Sequence[str], root: str, roots: Sequence[str], home: str | None, key: str
) -> _Spec | None:
    """Patterns relative to `root`; absolute (or `~`) paths apply only to the root holding them."""
    lines = []
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        if body == "~" or body.startswith("~/"):
            if home is None:
                log.warning(
                    "%s pattern %r: no home folder to expand ~ against; skipped", key, pattern
                )
                continue
            body = home + body[1:]
            absolute = True
        else:
            absolute = body.startswith("/") and any(_within(body, r) for r in roots)
        if absolute:
            if not _within(body, root):
                continue  # another root's (or no root's) path
            body = body[len(root.rstrip(os.sep)) :] or "/"
            if body in ("/", "//"):
                body = "/*"  # the root itself: everything in it
        lines.append(("!" if negated else "") + body)
    return _Spec.parse(lines, root, None) if lines else None


def _within(path: str, folder: str) -> bool:
    path, folder = path.rstrip(os.sep), folder.rstrip(os.sep)
    return path == folder or path.startswith(folder + os.sep)


def _compile_regexes(patterns: Sequence[str], key: str) -> tuple[re.Pattern[str], ...]:
    # wakatime-cli makes every one case-insensitive and skips (with a warning) those that fail.
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as e:
            log.warning(
                "~/.wakatime.cfg %s regex %r does not compile (%s); skipped", key, pattern, e
            )
    return tuple(compiled)
