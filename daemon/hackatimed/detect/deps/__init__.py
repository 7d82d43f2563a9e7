"""Dependencies named by a file's imports, as wakatime-cli's pkg/deps names them.

The same parsers for the same languages, with the same rules: standard-library and relative
imports are sent (Python's `unittest`, Go's `os`, C's `math`), each language's own short exclude
list is the only filter (Python `os`, `sys`, `__future__`; Go `fmt`; C `stdio.h`, `stdlib.h`,
`string.h`, `time.h`, C++ also `iostream`; Java `java.`/`javax.`; Kotlin `java.`; C# and VB.NET
`System`/`Microsoft`; Swift `Foundation`; PHP `App`; Haxe `haxe`), and names are cut where
wakatime-cli cuts them (JavaScript keeps the last path segment without its extension). A file of
any other language gets the file-name rule: a name holding `bower` or `grunt` names that tool.
One addition: Ruby's `require` and `gem`, which wakatime-cli does not read.

Every parser reads text only (regexes; nothing is imported or run), each pattern anchored at a
line start, a keyword or a token, so the work is linear in the text. Like wakatime-cli, a name
longer than `max_len` or empty is dropped (not cut), duplicates are dropped, and at most
`max_deps` names are kept, in the order the file names them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from hackatimed.detect.deps import c_family, markup, scripts

# wakatime-cli reads the whole file; hackatimed the first 5 MB.
MAX_TEXT_CHARS = 5 * 1024 * 1024

Parser = Callable[[str], Iterator[str]]

# Keys: WakaTime's canonical language names (pkg/heartbeat/language.go), case-folded; the
# languages wakatime-cli's deps.Detect switches on, and Ruby.
_PARSERS: dict[str, Parser] = {
    "c": c_family.c,
    "c++": c_family.cpp,
    "c#": c_family.csharp,
    "elm": markup.elm,
    "go": scripts.go,
    "haskell": markup.haskell,
    "haxe": c_family.haxe,
    "html": markup.html,
    "java": c_family.java,
    "javascript": scripts.javascript,
    "typescript": scripts.javascript,
    "jsx": scripts.javascript,
    "tsx": scripts.javascript,
    "kotlin": c_family.kotlin,
    "objective-c": c_family.objective_c,
    "php": scripts.php,
    "python": scripts.python,
    "rust": scripts.rust,
    "scala": c_family.scala,
    "swift": c_family.swift,
    "vb.net": c_family.vbnet,
    "ruby": scripts.ruby,  # hackatimed's own
}
# Languages of parsers listed per module, for benchmarks/detection.py's per-parser report.
PARSER_NAMES: dict[str, str] = {key: parser.__name__ for key, parser in _PARSERS.items()}
PARSER_NAMES["json"] = "json_manifest"

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def reads_text(language: str | None) -> bool:
    """Whether `parse_dependencies` looks at the text of a file of `language`: for the others
    only the file name counts, and decoding the file would be work for nothing."""
    return language is not None and (
        language.casefold() in _PARSERS or language.casefold() == "json"
    )


def parse_dependencies(
    language: str | None,
    text: str,
    *,
    filename: str = "",
    max_deps: int = 1000,
    max_len: int = 200,
) -> tuple[str, ...]:
    """The dependencies a file named `filename` of WakaTime language `language` imports."""
    key = language.casefold() if language else ""
    text = text[:MAX_TEXT_CHARS]
    parser = _PARSERS.get(key)
    if parser is not None:
        names = parser(text)
    elif key == "json":
        names = markup.json_manifest(text, filename)
    else:
        names = markup.by_file_name(filename)
    seen: dict[str, None] = {}
    for name in names:
        if len(seen) >= max_deps:
            break
        # An HTML src may hold a newline (wakatime-cli sends it); control characters go.
        if name and len(name) <= max_len and not _UNPRINTABLE.search(name):
            seen.setdefault(name)
    return tuple(seen)
