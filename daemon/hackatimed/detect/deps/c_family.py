"""The languages of braces and semicolons: C, C++, Objective-C, C#, VB.NET, Java, Kotlin, Scala,
Swift and Haxe, each named as wakatime-cli's pkg/deps names it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from hackatimed.detect.deps.scrub import VB, C, scrub

# --- C, C++: `#include` only (wakatime-cli's C lexer sees no `#import`) ----------------------
_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include\w*[ \t]*([<"][^>"\n]*[>"]?)', re.M)
_C_EXCLUDE = re.compile(r"(?i)^(?:stdio\.h|stdlib\.h|string\.h|time\.h)$")
_CPP_EXCLUDE = re.compile(r"(?i)^(?:stdio\.h|iostream|stdlib\.h|string\.h|time\.h)$")


def _includes(text: str, exclude: re.Pattern[str]) -> Iterator[str]:
    for m in _INCLUDE.finditer(scrub(C, text)):
        # The first path part: <openssl/rand.h> is openssl; "wakatime.h" is wakatime.
        name = m[1].strip('"<> ').split("/")[0].strip()
        if name and not exclude.match(name):
            yield name.removesuffix(".h")


def c(text: str) -> Iterator[str]:
    return _includes(text, _C_EXCLUDE)


def cpp(text: str) -> Iterator[str]:
    return _includes(text, _CPP_EXCLUDE)


# --- Objective-C: `#import` only, and nothing left out (Foundation included) -----------------
_OBJC = re.compile(r"^[ \t]*#import[ \t]+([^\n]*)", re.M)


def objective_c(text: str) -> Iterator[str]:
    for m in _OBJC.finditer(scrub(C, text)):
        name = m[1].strip().strip("\"' ").lstrip("< ").rstrip("> ").split("/")[0]
        yield name.removesuffix(".h").removesuffix(".m").strip()


# --- C#, VB.NET: the first namespace segment, System and Microsoft left out ------------------
_CSHARP = re.compile(
    r"^[ \t]*(?:global[ \t]+)?using[ \t]+(?:static[ \t]+)?(?:\w+[ \t]*=[ \t]*)?([\w.]+)[ \t]*;",
    re.M,
)
# Case-sensitive as in wakatime-cli, which compares the keyword token with "Imports".
_VBNET = re.compile(r"^[ \t]*Imports[ \t]+(?:\w+[ \t]*=[ \t]*)?([\w.]+)", re.M)
_DOTNET_EXCLUDE = re.compile(r"(?i)^(?:system|microsoft)$")


def _dotnet(pattern: re.Pattern[str], text: str) -> Iterator[str]:
    for m in pattern.finditer(text):
        name = m[1].split(".")[0].strip()
        if name and not _DOTNET_EXCLUDE.match(name):
            yield name


def csharp(text: str) -> Iterator[str]:
    return _dotnet(_CSHARP, scrub(C, text))


def vbnet(text: str) -> Iterator[str]:
    return _dotnet(_VBNET, scrub(VB, text))


# --- Java: two segments after a three-letter top-level domain --------------------------------
_JAVA = re.compile(
    r"^[ \t]*import[ \t]+(?:static[ \t]+)?(?:(?:package|namespace)[ \t]+)?([\w.]+?(?:\.\*)?)"
    r"[ \t]*;",
    re.M,
)
_JAVA_EXCLUDE = re.compile(r"(?i)^(?:java\.|javax\.)")


def java(text: str) -> Iterator[str]:
    for m in _JAVA.finditer(scrub(C, text)):
        parts = m[1].split(".")
        if len(parts) > 1:
            if len(parts[0]) == 3:
                parts = parts[1:]  # com., org., net.: a domain says nothing
            if parts[-1] == "*":
                parts = parts[:-1]
        name = ".".join(parts[:2])
        if name.strip() and not _JAVA_EXCLUDE.match(name):
            yield name


# --- Kotlin: the first two segments, java. left out (kotlin. and javax. are kept) ------------
_KOTLIN = re.compile(r"^[ \t]*import[ \t]+([\w.]+?(?:\.\*)?)(?=[ \t;]|$)", re.M)
_KOTLIN_EXCLUDE = re.compile(r"(?i)^java\.")


def kotlin(text: str) -> Iterator[str]:
    for m in _KOTLIN.finditer(scrub(C, text)):
        parts = m[1].split(".")
        if parts[-1] == "*":
            parts = parts[:-1]
        name = ".".join(parts[:2]).strip()
        if name and not _KOTLIN_EXCLUDE.match(name):
            yield name


# --- Scala: the whole path before any selector, _root_ and wildcards trimmed -----------------
_SCALA = re.compile(r"^[ \t]*import[ \t]+([\w$.]+)", re.M)


def scala(text: str) -> Iterator[str]:
    for m in _SCALA.finditer(scrub(C, text)):
        # com.bravo.something.{User} is com.bravo.something; __root__.golf._ is golf.
        yield m[1].strip().removeprefix("__root__").strip("_. ")


# --- Swift: the module; `import struct X.Y` is no module import to wakatime-cli --------------
_SWIFT = re.compile(
    r"^[ \t]*(?:@\w+(?:\([^)\n]*\))?[ \t]+)*import[ \t]+"
    r"(?:(?P<kind>typealias|struct|class|enum|protocol|let|var|func)[ \t]+)?(?P<name>\w+)",
    re.M,
)
_SWIFT_EXCLUDE = re.compile(r"(?i)^foundation$")


def swift(text: str) -> Iterator[str]:
    for m in _SWIFT.finditer(scrub(C, text)):
        if m["kind"] is None and not _SWIFT_EXCLUDE.match(m["name"]):
            yield m["name"]


# --- Haxe: the first segment, haxe itself left out -------------------------------------------
_HAXE = re.compile(r"^[ \t]*import[ \t]+(\w+)", re.M)
_HAXE_EXCLUDE = re.compile(r"(?i)^haxe$")


def haxe(text: str) -> Iterator[str]:
    for m in _HAXE.finditer(scrub(C, text)):
        if not _HAXE_EXCLUDE.match(m[1]):
            yield m[1]
