"""Comments out, strings kept: what every parser reads instead of the raw text.

wakatime-cli tokenises with chroma, so an import inside a comment or a docstring is no import.
These patterns do the same job in one linear pass: every alternative ends at its closer or gives
up at the line end / text end, so junk cannot make a regex backtrack for long. A comment becomes
its newlines (or one space), so line-anchored patterns still see the lines they saw.
"""

from __future__ import annotations

import re

_DQ = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?'
_SQ = r"'[^'\\\n]*(?:\\.[^'\\\n]*)*'?"
_BQ = r"`[^`\\]*(?:\\.[^`\\]*)*`?"
_BLOCK = r"/\*.*?(?:\*/|\Z)"

C = re.compile(rf"(?P<keep>{_DQ}|{_SQ})|(?P<drop>//[^\n]*|{_BLOCK})", re.S)
# Rust: ' also starts lifetimes, so only "..." strings are kept whole.
RUST = re.compile(rf"(?P<keep>{_DQ})|(?P<drop>//[^\n]*|{_BLOCK})", re.S)
JS = re.compile(rf"(?P<keep>{_DQ}|{_SQ}|{_BQ})|(?P<drop>//[^\n]*|{_BLOCK})", re.S)
GO = re.compile(rf"(?P<keep>{_DQ}|`[^`]*`?)|(?P<drop>//[^\n]*|{_BLOCK})", re.S)
PHP = re.compile(rf"(?P<keep>{_DQ}|{_SQ})|(?P<drop>(?://|#)[^\n]*|{_BLOCK})", re.S)
# Python docstrings count as comments: an `import` in an example is not one.
HASH = re.compile(
    rf'(?P<drop>"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)'
    rf"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)|#[^\n]*)|(?P<keep>{_DQ}|{_SQ})",
    re.S,
)
# Haskell and Elm: {- -} blocks (nesting not followed) and -- to the line end.
HASKELL = re.compile(rf"(?P<keep>{_DQ})|(?P<drop>\{{-.*?(?:-\}}|\Z)|--[^\n]*)", re.S)
# VB.NET: ' to the line end; "" inside a string is a quote.
VB = re.compile(r'(?P<keep>"[^"\n]*(?:""[^"\n]*)*"?)|(?P<drop>\'[^\n]*)')
HTML = re.compile(r"(?P<drop><!--.*?(?:-->|\Z))", re.S)


def scrub(pattern: re.Pattern[str], text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        if m.lastgroup == "keep":
            return m.group()
        return "\n" * m.group().count("\n") or " "

    return pattern.sub(replace, text)
