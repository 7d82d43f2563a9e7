"""Language detection: which language a saved file counts as, by WakaTime's names and rules.

Order of the rules (the first that answers wins):
1. the config's `[languages]` table: exact file name, then extension (longest first);
2. special file names (`Dockerfile`, `go.mod`, `.bashrc`), exact case first, then any case;
3. file-name patterns (`Dockerfile.*`, `*Spec.hs`);
4. the C family's ambiguous extensions, settled as wakatime-cli settles them: a `.h` is C beside
   `x.c`, Objective-C beside `x.m`, Objective-C++ beside `x.mm`, C++ in a folder of C++ sources, C
   in a folder of C sources; a `.m` is Objective-C beside `x.h`, then by its content, then
   MATLAB in a folder with `.mat` files;
5. the extension (`.rs.in` before `.in`), case-sensitive where case matters (`.C`, `.H`, `.S`);
6. the shebang in the file's first bytes, for files the rules above do not place;
7. unknown: the heartbeat leaves the field out.

Neighbour rules need the folder's listing. Listings are cached per folder in a small LRU, and each
use re-checks the folder's mtime (one stat), so a file added or removed beside the header is seen
without anyone calling `invalidate`.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from hackatimed.detect.languages_data import (
    CANONICAL_LANGUAGES,
    EXTENSIONS,
    EXTENSIONS_CASED,
    FILE_NAME_PREFIXES,
    FILE_NAME_SUFFIXES,
    FILE_NAMES,
    LANGUAGE_ALIASES,
    SHEBANG_INTERPRETERS,
)

_NO_OVERRIDES: Final[Mapping[str, str]] = MappingProxyType({})
_FILE_NAMES_ANY_CASE: Final[dict[str, str]] = {k.lower(): v for k, v in FILE_NAMES.items()}

# wakatime-cli's list of C++ source extensions that make a folder's headers C++.
_CPP_SOURCES: Final[frozenset[str]] = frozenset(
    {".cpp", ".hpp", ".c++", ".h++", ".cc", ".hh", ".cxx", ".hxx", ".cp"}
)
# Extensions whose same-stem siblings the rules ask about; only these stems are kept per folder.
_SIBLING_EXTENSIONS: Final[frozenset[str]] = frozenset({".c", ".m", ".mm", ".h"})
_CONTENT_BYTES: Final = 4096

# Each marker starts with a literal, so each search is a fast scan; one alternation of them all
# would be tried at every position of the head.
_OBJC_MARKERS: Final = tuple(
    re.compile(p)
    for p in (
        r"@interface\b",
        r"@implementation\b",
        r"@protocol\b",
        r"@import\b",
        r"#import\b",
        r'@"',
    )
)
_CPP_MARKERS: Final = tuple(
    re.compile(p)
    for p in (
        r"namespace\s+\w*\s*\{",
        r"template\s*<",
        r"using\s+namespace\b",
        r"std::",
        r"#include\s*<[a-z_]+>",
        r"class\s+\w+\s*[:{]",
    )
)
_MATLAB_MARKERS: Final = re.compile(r"^\s*(%|function\b.*=|end\s*$)", re.MULTILINE)
_ENV_ASSIGNMENT: Final = re.compile(r"^\w+=")
_VERSION_SUFFIX: Final = re.compile(r"[\d.]+$")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """A detected language (None: unknown) and the rule that decided it, for `explain`."""

    name: str | None
    rule: str


UNKNOWN: Final = LanguageGuess(None, "unknown")


@dataclass(frozen=True, slots=True)
class _Folder:
    mtime_ns: int
    extensions: frozenset[str]  # lower-cased
    stems: Mapping[str, frozenset[str]]  # lower-cased extension -> stems, for _SIBLING_EXTENSIONS


class _FolderCache:
    """Bounded LRU of folder listings, revalidated by the folder's mtime on every use."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Path, _Folder] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, folder: Path) -> _Folder | None:
        try:
            mtime_ns = folder.stat().st_mtime_ns
        except OSError:
            return None
        with self._lock:
            cached = self._entries.get(folder)
            if cached is not None and cached.mtime_ns == mtime_ns:
                self._entries.move_to_end(folder)
                return cached
        listing = _scan(folder, mtime_ns)
        if listing is None:
            return None
        with self._lock:
            self._entries[folder] = listing
            self._entries.move_to_end(folder)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return listing

    def invalidate(self, folder: Path | None) -> None:
        with self._lock:
            if folder is None:
                self._entries.clear()
            else:
                self._entries.pop(folder, None)

    def __len__(self) -> int:
        return len(self._entries)


def _scan(folder: Path, mtime_ns: int) -> _Folder | None:
    extensions: set[str] = set()
    stems: dict[str, set[str]] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                stem, dot, ext = entry.name.rpartition(".")
                if not dot or not stem:
                    continue
                ext = "." + ext.lower()
                extensions.add(ext)
                if ext in _SIBLING_EXTENSIONS:
                    stems.setdefault(ext, set()).add(stem)
    except OSError:
        return None
    return _Folder(
        mtime_ns,
        frozenset(extensions),
        MappingProxyType({k: frozenset(v) for k, v in stems.items()}),
    )


class LanguageDetector:
    """Detects a file's language from its name, its neighbours and its first bytes.

    Thread-safe: the daemon may call `detect` from worker threads.
    """

    def __init__(
        self,
        *,
        overrides: Mapping[str, str] = _NO_OVERRIDES,
        folder_cache_size: int = 256,
    ) -> None:
        # A known name written in any spelling ("golang", "c++") is sent as WakaTime spells it;
        # anything else is the person's choice and is sent as written.
        self._overrides = {key: canonical_name(value) for key, value in overrides.items()}
        self._override_extensions = {
            key.lower(): value for key, value in self._overrides.items() if key.startswith(".")
        }
        self._folders = _FolderCache(folder_cache_size)

    def detect(self, path: Path, *, head: bytes | None = None) -> LanguageGuess:
        """The language of `path`. `head`: the file's first bytes, or None when not read."""
        name = path.name
        if not name:
            return UNKNOWN
        suffixes = _suffixes(name)
        return (
            self._by_override(name, suffixes)
            or _by_file_name(name)
            or self._by_neighbours(path, suffixes, head)
            or _by_extension(name, suffixes)
            or _by_shebang(head)
            or _by_mode_line(head)
            or UNKNOWN
        )

    def invalidate(self, folder: Path | None = None) -> None:
        """Forget a folder's cached listing (None: all of them)."""
        self._folders.invalidate(folder)

    @property
    def cached_folders(self) -> int:
        return len(self._folders)

    def _by_override(self, name: str, suffixes: list[str]) -> LanguageGuess | None:
        if name in self._overrides:
            return LanguageGuess(self._overrides[name], f"config [languages] {name!r}")
        for suffix in suffixes:
            language = self._override_extensions.get(suffix.lower())
            if language is not None:
                return LanguageGuess(language, f"config [languages] {suffix.lower()!r}")
        return None

    def _by_neighbours(
        self, path: Path, suffixes: list[str], head: bytes | None
    ) -> LanguageGuess | None:
        if not suffixes:
            return None
        ext = suffixes[-1]
        if ext in EXTENSIONS_CASED:
            return None
        ext = ext.lower()
        if ext not in (".h", ".m", ".mm"):
            return None
        stem = path.name[: -len(ext)]
        folder = self._folders.get(path.parent)
        if folder is None:
            return None
        if ext == ".h":
            return _header(stem, folder, head)
        if ext == ".m":
            return _dot_m(stem, folder, head)
        if stem in folder.stems.get(".h", ()):
            return LanguageGuess("Objective-C++", f"'.mm' beside '{stem}.h'")
        return None


def canonical_name(language: str) -> str:
    """WakaTime's spelling of a language name ("golang" -> "Go"); unknown names unchanged."""
    return LANGUAGE_ALIASES.get(_normalise(language), language.strip())


def _normalise(name: str) -> str:
    key = name.strip().lower()
    for old, new in ((" ", ""), ("-", ""), (".", ""), ("/", ""), ("#", "sharp"), ("++", "pp")):
        key = key.replace(old, new)
    return key


def _suffixes(name: str) -> list[str]:
    """Extensions to try, longest first: 'a.rs.in' -> ['.rs.in', '.in']; dotfiles have none."""
    parts = name.lstrip(".").split(".")
    if len(parts) < 2:
        return []
    return ["." + ".".join(parts[i:]) for i in range(max(1, len(parts) - 3), len(parts))]


def _by_file_name(name: str) -> LanguageGuess | None:
    language = FILE_NAMES.get(name) or _FILE_NAMES_ANY_CASE.get(name.lower())
    if language is not None:
        return LanguageGuess(language, f"file name {name!r}")
    for prefix, language in FILE_NAME_PREFIXES.items():
        if name.startswith(prefix):
            return LanguageGuess(language, f"file name pattern '{prefix}*'")
    for suffix, language in FILE_NAME_SUFFIXES.items():
        if name.endswith(suffix):
            return LanguageGuess(language, f"file name pattern '*{suffix}'")
    return None


def _by_extension(name: str, suffixes: list[str]) -> LanguageGuess | None:
    for suffix in suffixes:
        language = EXTENSIONS_CASED.get(suffix) or EXTENSIONS.get(suffix.lower())
        if language is not None:
            return LanguageGuess(language, f"extension {suffix!r}")
    if name.startswith(".") and not suffixes:
        # Dotfiles such as '.babelrc' are named by what would otherwise be their extension.
        language = EXTENSIONS.get(name.lower())
        if language is not None:
            return LanguageGuess(language, f"file name {name!r}")
    return None


def _header(stem: str, folder: _Folder, head: bytes | None) -> LanguageGuess:
    for sibling, language in ((".c", "C"), (".m", "Objective-C"), (".mm", "Objective-C++")):
        if stem in folder.stems.get(sibling, ()):
            return LanguageGuess(language, f"'.h' beside '{stem}{sibling}'")
    if not _CPP_SOURCES.isdisjoint(folder.extensions):
        return LanguageGuess("C++", "'.h' beside C++ files")
    if ".c" in folder.extensions:
        return LanguageGuess("C", "'.h' beside C files")
    text = _text(head)
    if _has_marker(text, _OBJC_MARKERS):
        return LanguageGuess("Objective-C", "'.h' content (Objective-C)")
    if _has_marker(text, _CPP_MARKERS):
        return LanguageGuess("C++", "'.h' content (C++)")
    if ".m" in folder.extensions or ".mm" in folder.extensions:
        return LanguageGuess("Objective-C", "'.h' beside Objective-C files")
    return LanguageGuess("C", "extension '.h'")


def _dot_m(stem: str, folder: _Folder, head: bytes | None) -> LanguageGuess:
    if stem in folder.stems.get(".h", ()):
        return LanguageGuess("Objective-C", f"'.m' beside '{stem}.h'")
    text = _text(head)
    if _has_marker(text, _OBJC_MARKERS):
        return LanguageGuess("Objective-C", "'.m' content (Objective-C)")
    if _MATLAB_MARKERS.search(text):
        return LanguageGuess("Matlab", "'.m' content (MATLAB)")
    if ".mat" in folder.extensions:
        return LanguageGuess("Matlab", "'.m' beside .mat files")
    if ".h" in folder.extensions:
        return LanguageGuess("Objective-C", "'.m' beside .h files")
    # wakatime-cli's tie-break between its equal-weight lexers picks Objective-C.
    return LanguageGuess("Objective-C", "extension '.m'")


def _has_marker(text: str, markers: tuple[re.Pattern[str], ...]) -> bool:
    return any(marker.search(text) for marker in markers)


def _text(head: bytes | None) -> str:
    return head[:_CONTENT_BYTES].decode("utf-8", "replace") if head else ""


def _by_shebang(head: bytes | None) -> LanguageGuess | None:
    interpreter = shebang_interpreter(head)
    if interpreter is None:
        return None
    language = SHEBANG_INTERPRETERS.get(interpreter)
    if language is None:
        language = SHEBANG_INTERPRETERS.get(_VERSION_SUFFIX.sub("", interpreter))
    if language is None:
        return None
    return LanguageGuess(language, f"shebang {interpreter!r}")


def _by_mode_line(head: bytes | None) -> LanguageGuess | None:
    """An editor's mode line in the first two lines: Emacs `-*- C++ -*-` / `-*- mode: c++ -*-`
    (libstdc++'s extension-less headers), Vim `vim: set ft=python:`. Only a name WakaTime
    knows counts, so a mode like `fundamental` or `conf` is no guess at all."""
    if not head:
        return None
    text = b"\n".join(head.split(b"\n", 2)[:2]).decode("utf-8", "replace")
    found = _EMACS_MODE.search(text) or _VIM_FILETYPE.search(text)
    if found is None:
        return None
    mode = found.group(1).strip()
    language = canonical_name(_EMACS_MODES.get(mode.lower(), mode))
    if language not in CANONICAL_LANGUAGES:
        return None
    return LanguageGuess(language, f"mode line {mode!r}")


_EMACS_MODE: Final = re.compile(r"-\*-\s*(?:.*?\bmode:\s*)?([\w+#.-]+?)\s*(?:;.*?)?-\*-", re.I)
_VIM_FILETYPE: Final = re.compile(r"\b(?:vim?|ex):.*?\b(?:ft|filetype)=([\w+#.-]+)")
# Emacs mode names that are not a language's name or alias.
_EMACS_MODES: Final = {"shell-script": "sh", "cperl": "perl", "js2": "js", "c++-ts": "c++"}


def shebang_interpreter(head: bytes | None) -> str | None:
    """'#!/usr/bin/env -S python3 -u' -> 'python3'; None without a shebang."""
    if not head or not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace")
    words = line.split()
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if program == "env":
        program = _env_program(words[1:]) or ""
    program = program.rsplit("/", 1)[-1].lower()
    return program or None


def _env_program(words: list[str]) -> str | None:
    """The program `env` runs: its first word that is neither an option nor NAME=value."""
    skip_next = False
    for word in words:
        if skip_next:
            skip_next = False
        elif word in ("-u", "--unset", "-C", "--chdir"):
            skip_next = True
        elif word.startswith("-") or _ENV_ASSIGNMENT.match(word):
            continue
        else:
            return word
    return None
