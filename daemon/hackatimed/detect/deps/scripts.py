"""Python, Go, JavaScript/TypeScript, PHP, Rust and Ruby, named as wakatime-cli's pkg/deps names
them: standard-library and relative imports included, each language's own short exclude list
(Python os/sys/__x__, Go fmt, PHP App) the only filter."""

from __future__ import annotations

import re
from collections.abc import Iterator

from hackatimed.detect.deps.scrub import GO, HASH, JS, PHP, RUST, scrub

# --- Python: the first segment of every module; relative imports name none -------------------
_PY = re.compile(
    r"(?:^|;)[ \t]*(?:from[ \t]+(?P<from>[\w.]+)[ \t]+import\b|import[ \t]+(?P<imp>[^\n;#]*))",
    re.M,
)
_PY_EXCLUDE = re.compile(r"(?i)^(?:os|sys|__[a-z]+__)$")
_AS = re.compile(r"[ \t]as\b")


def python(text: str) -> Iterator[str]:
    for m in _PY.finditer(scrub(HASH, text)):
        if m["from"] is not None:
            modules = [m["from"]]
        else:
            # wakatime-cli stops reading the statement at its first `as`:
            # `import a as b, c` names a only.
            modules = _AS.split(m["imp"], maxsplit=1)[0].split(",")
        for module in modules:
            words = module.split()
            # `from . import x` and `from .y import x` give "": left out, as in wakatime-cli.
            name = words[0].split(".")[0].strip() if words else ""
            if name and not _PY_EXCLUDE.match(name):
                yield name


# --- Go: every import path but fmt ---------------------------------------------------------
_GO = re.compile(
    r"^[ \t]*import[ \t]*(?:(?P<block>\()|(?:[\w.]+[ \t]+)?[\"`](?P<one>[^\"`\n]*)[\"`])", re.M
)
_GO_SPEC = re.compile(r"[\"`]([^\"`\n]*)[\"`]")


def go(text: str) -> Iterator[str]:
    text = scrub(GO, text)
    pos = 0
    while m := _GO.search(text, pos):
        if m["block"] is None:
            paths, pos = [m["one"]], m.end()
        else:
            close = text.find(")", m.end())
            end = len(text) if close < 0 else close
            paths, pos = _GO_SPEC.findall(text, m.end(), end), end
        for path in paths:
            if path.strip() != "fmt":
                yield path.strip()


# --- JavaScript, TypeScript, JSX, TSX: the last path segment of what `import` names ---------
# One pass over the tokens that matter: a string, a `;`, a word. After `import`, the first
# string is the dependency unless a `;` or another reserved word comes first (chroma's
# KeywordReserved list, which has `export` and `const` but not `from`); `require()` and
# `export ... from` name none, as in wakatime-cli.
_JS_TOKEN = re.compile(
    r"(?P<str>'[^'\\\n]*(?:\\.[^'\\\n]*)*'|\"[^\"\\\n]*(?:\\.[^\"\\\n]*)*\")"
    r"|`[^`\\]*(?:\\.[^`\\]*)*`?|(?P<semi>;)|(?P<word>[A-Za-z_$][\w$]*)"
)
_JS_RESERVED = frozenset(
    [
        "abstract",
        "async",
        "await",
        "boolean",
        "byte",
        "char",
        "class",
        "const",
        "debugger",
        "double",
        "enum",
        "export",
        "extends",
        "final",
        "float",
        "goto",
        "implements",
        "import",
        "int",
        "interface",
        "long",
        "native",
        "package",
        "private",
        "protected",
        "public",
        "short",
        "static",
        "super",
        "synchronized",
        "throws",
        "transient",
        "volatile",
    ]
)
_JS_EXTENSION = re.compile(r"\.\w{1,4}$")


def javascript(text: str) -> Iterator[str]:
    importing = False
    for m in _JS_TOKEN.finditer(scrub(JS, text)):
        if m["word"] is not None:
            if m["word"] in _JS_RESERVED:
                importing = m["word"] == "import"
        elif m["semi"] is not None:
            importing = False
        elif m["str"] is not None:
            if importing:
                spec = m["str"].strip("\"' ")
                # next/head is head, ./Footer is Footer, tango.jsx is tango.
                name = spec.split("/")[-1].split("\\")[-1]
                yield _JS_EXTENSION.sub("", name)
            importing = False


# --- PHP: `use` namespaces' first segment, included files' paths in single quotes ------------
_PHP_USE = re.compile(r"^[ \t]*use[ \t]+([^;\n]+);", re.M)
_PHP_INCLUDE = re.compile(
    r"(?<![\w$])(?:include_once|include|require_once|require)\b[\s(]*"
    r"(?:(?P<sq>'[^'\\]*(?:\\.[^'\\]*)*')|\"(?P<dq>[^\"$\\{]*))"
)
_PHP_EXCLUDE = re.compile(r"(?i)(?:^app|app\.php)$")


def php(text: str) -> Iterator[str]:
    text = scrub(PHP, text)
    found: list[tuple[int, str]] = []
    for m in _PHP_USE.finditer(text):
        for clause in m[1].split("{")[0].split(","):
            words = clause.split()
            if words and words[0] == "function":
                words = words[1:]
            elif words and words[0] == "const":
                break  # `use const` ends what wakatime-cli reads of the statement
            # \Foo\Bar gives "" in wakatime-cli (split at the backslash): nothing.
            name = words[0].split("\\")[0] if words else ""
            if name and not name.startswith("$"):
                found.append((m.start(), name))
    for m in _PHP_INCLUDE.finditer(text):
        # A double-quoted path is sent in single quotes, as wakatime-cli sends it.
        path = m["sq"] if m["sq"] is not None else f"'{m['dq']}'" if m["dq"] else ""
        if path.strip():
            found.append((m.start(), path.strip()))
    for _, name in sorted(found, key=lambda item: item[0]):
        if not _PHP_EXCLUDE.search(name):
            yield name


# --- Rust: `extern crate` names (an alias is no crate) ---------------------------------------
_RUST = re.compile(r"\bextern[ \t\n]+crate[ \t\n]+([A-Za-z_]\w*)")


def rust(text: str) -> Iterator[str]:
    for m in _RUST.finditer(scrub(RUST, text)):
        yield m[1]


# --- Ruby: not parsed by wakatime-cli; hackatimed reads `require` and `gem` ------------------
_RUBY = re.compile(r"^[ \t]*(?:require|gem)[ \t(]+(['\"])([^'\"\n]+)\1", re.M)


def ruby(text: str) -> Iterator[str]:
    for m in _RUBY.finditer(scrub(HASH, text)):
        spec = m[2].strip()
        name = spec.split("/")[0]
        if name and not spec.startswith((".", "/", "~")):
            yield name
