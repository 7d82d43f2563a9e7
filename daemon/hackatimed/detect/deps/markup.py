"""Elm, Haskell, HTML script sources, JSON manifests and the file-name rule, as wakatime-cli's
pkg/deps reads them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from hackatimed.detect.deps.scrub import HASKELL, HTML, scrub

# --- Elm, Haskell: the first segment of the module ---------------------------------------------
_ELM = re.compile(r"^import[ \t]+([A-Z][\w.]*)", re.M)
_HASKELL = re.compile(r"^[ \t]*import[ \t]+(?:qualified[ \t]+)?([A-Z][\w.']*)", re.M)


def elm(text: str) -> Iterator[str]:
    for m in _ELM.finditer(scrub(HASKELL, text)):
        yield m[1].split(".")[0]


def haskell(text: str) -> Iterator[str]:
    for m in _HASKELL.finditer(scrub(HASKELL, text)):
        yield m[1].split(".")[0]


# --- HTML: <script src=...>, the value as written, quotes included ---------------------------
# wakatime-cli sends the attribute's token whole: "wakatime.js" with its quotes. Template
# placeholders ({{ STATIC_URL }}) are cut out.
_SCRIPT = re.compile(r"<script(?=[\s/>])")
_ATTRIBUTE = re.compile(
    r"\s*(?:(?P<end>[/>])|(?P<name>[^\s=/>]+)(?:=\s*(?P<value>\"[^\"]*\"?|'[^']*'?|[^\s>]+))?)"
)
_PLACEHOLDER = re.compile(r"\{\{[^}]+\}\}[/\\]?")


def html(text: str) -> Iterator[str]:
    text = scrub(HTML, text)
    pos = 0
    # One pass, as a tokeniser reads it: the next tag is looked for where this one's attributes
    # ended, so a run of unclosed `<script` tags is not scanned again and again.
    while tag := _SCRIPT.search(text, pos):
        pos = tag.end()
        while (m := _ATTRIBUTE.match(text, pos)) and m["end"] is None and m.end() > pos:
            pos = m.end()
            if m["name"] == "src" and m["value"] is not None:
                yield _PLACEHOLDER.sub("", m["value"]).strip()


# --- JSON: the keys of "dependencies" and "devDependencies" ----------------------------------
_JSON_TOKEN = re.compile(r'(?P<str>"[^"\\]*(?:\\.[^"\\]*)*")(?P<key>\s*:)?|(?P<brace>[{}])')
# Exact file names; bower's component.json is bower's too.
_MANIFESTS = {"bower.json": "bower", "component.json": "bower", "package.json": "npm"}


def json_manifest(text: str, filename: str) -> Iterator[str]:
    if filename in _MANIFESTS:
        yield _MANIFESTS[filename]
    level = 0
    in_deps = False
    for m in _JSON_TOKEN.finditer(text):
        if m["brace"] == "{":
            level += 1
        elif m["brace"] == "}":
            level -= 1
            if in_deps and level <= 1:
                in_deps = False
        elif m["key"] is not None:
            key = m["str"].strip("\"'")
            if key in ("dependencies", "devDependencies"):
                in_deps = True
            elif in_deps and level == 2:
                yield m["str"].strip("\"' ")


# --- Any other file: its name ---------------------------------------------------------------
def by_file_name(filename: str) -> Iterator[str]:
    lowered = filename.lower()
    for word in ("bower", "grunt"):
        if word in lowered:
            yield word
