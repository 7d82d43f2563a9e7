"""Dependencies named by a file's imports, the way wakatime-cli's pkg/deps names them.

Every parser reads text only (regexes and ``str.find``; nothing is imported or run). Each pattern
is anchored at a line start or at a keyword, and every multi-line scan resumes where the last one
stopped, so the work is linear in the text: junk cannot make a regex backtrack for long.

What follows wakatime-cli, and where this differs on purpose:

- Names: Python, C# and PHP keep the first dotted / backslashed segment; Go the whole import
  path; Java the first two segments after dropping a three-letter top-level domain
  (``com.google.common.collect`` gives ``google.common``); Kotlin the first two segments; C-family
  headers the first path part without ``.h``; Swift the module. JavaScript and TypeScript keep
  the npm package (``@scope/name``, or the first segment), where wakatime-cli keeps the last
  path segment and so reports ``head`` for ``next/head`` and ``Footer`` for ``./Footer``.
- Left out as standard-library noise: wakatime-cli's own filters (Python ``os``, ``sys``,
  ``__x__``; Go ``fmt``; Java ``java.``/``javax.``; Kotlin ``java.``; C ``stdio.h`` and friends;
  C++ also ``iostream``; C# ``System``/``Microsoft``; Swift ``Foundation``; PHP ``App``), widened
  to the whole standard library where the language defines it: every module of Python's
  ``sys.stdlib_module_names``, Go paths whose first element has no dot (the go tool's rule for
  the standard library), Rust's ``std``/``core``/``alloc``, the C, C++ and common POSIX headers,
  Node's built-in modules, Ruby's default libraries, Kotlin's ``kotlin.`` packages.
- Left out as local files: relative imports (Python ``from .x``, JavaScript ``./x``, Rust
  ``crate::``/``self::``/``super::`` and modules declared in the same file, Ruby
  ``require_relative``, PHP ``include``/``require`` of paths).
- Rust reads ``use`` paths as well as ``extern crate`` (wakatime-cli reads only the latter, rare
  since the 2018 edition); Ruby, which wakatime-cli does not parse, reads ``require`` and ``gem``.

Like wakatime-cli, a name longer than ``max_len`` is dropped (not cut), duplicates are dropped,
and at most ``max_deps`` names are kept, in the order the file names them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator

# wakatime-cli reads at most the first 5 MB of a file for dependencies.
MAX_TEXT_CHARS = 5 * 1024 * 1024

Parser = Callable[[str], Iterator[str]]

# --- scrubbing: comments (and Python docstrings) out, strings kept ----------------------------
# Every alternative ends at its closer or gives up at the line end / text end, never fails after
# a long scan, so the scrub is one linear pass.
_DQ = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?'
_SQ = r"'[^'\\\n]*(?:\\.[^'\\\n]*)*'?"
_BQ = r"`[^`\\]*(?:\\.[^`\\]*)*`?"
_BLOCK = r"/\*.*?(?:\*/|\Z)"
_C_SCRUB = re.compile(rf"(?P<keep>{_DQ}|{_SQ})|(?P<drop>//[^\n]*|{_BLOCK})", re.S)
# Rust: ' also starts lifetimes, so only "..." strings are kept whole.
_RUST_SCRUB = re.compile(rf"(?P<keep>{_DQ})|(?P<drop>//[^\n]*|{_BLOCK})", re.S)
_JS_SCRUB = re.compile(rf"(?P<keep>{_DQ}|{_SQ}|{_BQ})|(?P<drop>//[^\n]*|{_BLOCK})", re.S)
_GO_SCRUB = re.compile(rf"(?P<keep>{_DQ}|`[^`]*`?)|(?P<drop>//[^\n]*|{_BLOCK})", re.S)
_PHP_SCRUB = re.compile(rf"(?P<keep>{_DQ}|{_SQ})|(?P<drop>(?://|#)[^\n]*|{_BLOCK})", re.S)
_HASH_SCRUB = re.compile(
    rf'(?P<drop>"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)'
    rf"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)|#[^\n]*)|(?P<keep>{_DQ}|{_SQ})",
    re.S,
)


def _scrub(pattern: re.Pattern[str], text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        if m.lastgroup == "keep":
            return m.group()
        return "\n" * m.group().count("\n") or " "

    return pattern.sub(replace, text)


def _words(blob: str) -> frozenset[str]:
    return frozenset(blob.split())


# --- Python ---------------------------------------------------------------------------------
_PY = re.compile(
    r"(?:^|;)[ \t]*(?:from[ \t]+(?P<from>[\w.]+)[ \t]+import\b|import[ \t]+(?P<imp>[^\n;#]*))",
    re.M,
)
_PY_NOISE = re.compile(r"(?i)^(?:os|sys|__[a-z]+__)$")
_PY_STDLIB = frozenset(sys.stdlib_module_names)


def _python(text: str) -> Iterator[str]:
    for m in _PY.finditer(_scrub(_HASH_SCRUB, text)):
        modules = [m["from"]] if m["from"] is not None else m["imp"].split(",")
        for module in modules:
            words = module.split()
            name = words[0].split(".")[0] if words else ""
            if name and not _PY_NOISE.match(name) and name not in _PY_STDLIB:
                yield name


# --- Go ---------------------------------------------------------------------------------------
_GO = re.compile(
    r"^[ \t]*import[ \t]*(?:(?P<block>\()|(?:[\w.]+[ \t]+)?[\"`](?P<one>[^\"`\n]*)[\"`])", re.M
)
_GO_SPEC = re.compile(r"[\"`]([^\"`\n]*)[\"`]")


def _go(text: str) -> Iterator[str]:
    text = _scrub(_GO_SCRUB, text)
    pos = 0
    while m := _GO.search(text, pos):
        if m["block"] is None:
            paths, pos = [m["one"]], m.end()
        else:
            close = text.find(")", m.end())
            end = len(text) if close < 0 else close
            paths, pos = _GO_SPEC.findall(text, m.end(), end), end
        for path in paths:
            # No dot in the first element: the standard library (or this module's own packages).
            if "." in path.split("/")[0]:
                yield path


# --- JavaScript / TypeScript ------------------------------------------------------------------
_JS_STATEMENT = re.compile(r"^[ \t]*(?P<kw>import|export)\b", re.M)
_JS_STOP = re.compile(r"[;'\"`]")
_JS_STRING = re.compile(r"(['\"])([^'\"\n]{1,500})\1")
_JS_CALL = re.compile(r"(?<![\w$.])(?:require|import)[ \t]*\([ \t]*(['\"])([^'\"\n]{1,500})\1")
_JS_FROM = re.compile(r"(?:^|[\s}*])from\s*\Z")
_NPM_NAME = re.compile(r"(?:@[\w.~-]+/)?[\w.~-]+")
_NODE_BUILTINS = _words(
    """assert async_hooks buffer child_process cluster console constants crypto dgram
    diagnostics_channel dns domain events fs http http2 https inspector module net os path
    perf_hooks process punycode querystring readline repl stream string_decoder sys test timers
    tls trace_events tty url util v8 vm wasi worker_threads zlib"""
)


def _javascript(text: str) -> Iterator[str]:
    text = _scrub(_JS_SCRUB, text)
    found = [(m.start(), m[2]) for m in _JS_CALL.finditer(text)]
    stop = -1
    for m in _JS_STATEMENT.finditer(text):
        # The first quote or ";" after the keyword. A keyword before the last one found shares
        # it, so the text is searched once, however many keywords junk holds.
        if stop < m.end():
            found_stop = _JS_STOP.search(text, m.end())
            stop = found_stop.start() if found_stop else len(text)
        if stop == len(text) or text[stop] not in "'\"":
            continue
        string = _JS_STRING.match(text, stop)
        if string and _js_clause_ok(text, m.end(), stop, m["kw"]):
            found.append((m.start(), string[2]))
    for _, spec in sorted(found):
        package = _npm_package(spec)
        if package:
            yield package


def _js_clause_ok(text: str, start: int, end: int, keyword: str) -> bool:
    """`import 'x'`, or `import|export ... from 'x'`: only the clause's ends are looked at."""
    if keyword == "import" and end - start <= 80 and not text[start:end].strip():
        return True
    return bool(_JS_FROM.search(text[max(start, end - 80) : end]))


def _npm_package(spec: str) -> str | None:
    if spec.startswith((".", "/", "~", "#", "@/")) or ":" in spec:
        return None  # relative, absolute, aliased, subpath import, URL or node:builtin
    parts = spec.split("/")
    name = "/".join(parts[:2]) if spec.startswith("@") else parts[0]
    if name in _NODE_BUILTINS or not _NPM_NAME.fullmatch(name):
        return None
    return name


# --- Rust -------------------------------------------------------------------------------------
_RUST = re.compile(
    r"^[ \t]*(?:#!?\[[^\]\n]*\][ \t]*)*(?:pub(?:[ \t]*\([^)\n]*\))?[ \t]+)?"
    r"(?:use[ \t]+(?:::)?(?P<use>[A-Za-z_]\w*)|extern[ \t]+crate[ \t]+(?P<crate>[A-Za-z_]\w*)"
    r"|mod[ \t]+(?P<mod>[A-Za-z_]\w*))",
    re.M,
)
_RUST_NOISE = _words("std core alloc proc_macro test crate self super Self")


def _rust(text: str) -> Iterator[str]:
    matches = list(_RUST.finditer(_scrub(_RUST_SCRUB, text)))
    local = {m["mod"] for m in matches if m["mod"]}
    for m in matches:
        name = m["use"] or m["crate"]
        if name and name not in _RUST_NOISE and name not in local:
            yield name


# --- Java, Kotlin -----------------------------------------------------------------------------
_JAVA = re.compile(r"^[ \t]*import[ \t]+(?:static[ \t]+)?([\w.]+?(?:\.\*)?)[ \t]*;", re.M)
_KOTLIN = re.compile(r"^[ \t]*import[ \t]+([\w.]+?(?:\.\*)?)(?=[ \t;]|$)", re.M)
_JAVA_NOISE = re.compile(r"(?i)^javax?(?:\.|$)")
_KOTLIN_NOISE = re.compile(r"(?i)^(?:javax?|kotlin)(?:\.|$)")


def _java(text: str) -> Iterator[str]:
    for m in _JAVA.finditer(_scrub(_C_SCRUB, text)):
        parts = m[1].split(".")
        if len(parts) > 1 and len(parts[0]) == 3:
            parts = parts[1:]  # a top-level domain: com., org., net.
        name = ".".join(part for part in parts[:2] if part != "*")
        if name and not _JAVA_NOISE.match(name):
            yield name


def _kotlin(text: str) -> Iterator[str]:
    for m in _KOTLIN.finditer(_scrub(_C_SCRUB, text)):
        name = ".".join(part for part in m[1].split(".")[:2] if part != "*")
        if name and not _KOTLIN_NOISE.match(name):
            yield name


# --- C, C++, Objective-C ----------------------------------------------------------------------
_C = re.compile(
    r"^[ \t]*(?:#[ \t]*(?:include|import|include_next)[ \t]*[<\"](?P<header>[^>\"\n]*)[>\"]"
    r"|@import[ \t]+(?P<module>\w+))",
    re.M,
)
_C_SYSTEM_HEADERS = _words(
    """assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h
    math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbit.h stdbool.h stdckdint.h
    stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h
    wchar.h wctype.h
    sys arpa net netinet aio.h alloca.h dirent.h dlfcn.h endian.h err.h fcntl.h fnmatch.h ftw.h
    getopt.h glob.h grp.h iconv.h ifaddrs.h langinfo.h libgen.h malloc.h memory.h mqueue.h
    netdb.h nl_types.h poll.h pthread.h pwd.h regex.h sched.h search.h semaphore.h spawn.h
    strings.h sysexits.h syslog.h termios.h ulimit.h unistd.h utime.h utmpx.h wordexp.h
    algorithm any array atomic barrier bit bitset charconv chrono codecvt compare complex
    concepts condition_variable coroutine deque exception execution expected filesystem flat_map
    flat_set format forward_list fstream functional future generator initializer_list iomanip
    ios iosfwd iostream istream iterator latch limits list locale map mdspan memory
    memory_resource mutex new numbers numeric optional ostream print queue random ranges ratio
    regex scoped_allocator semaphore set shared_mutex source_location span spanstream sstream
    stack stacktrace stdexcept stdfloat stop_token streambuf string string_view strstream
    syncstream system_error thread tuple type_traits typeindex typeinfo unordered_map
    unordered_set utility valarray variant vector version
    cassert ccomplex cctype cerrno cfenv cfloat cinttypes ciso646 climits clocale cmath csetjmp
    csignal cstdalign cstdarg cstdbool cstddef cstdint cstdio cstdlib cstring ctgmath ctime
    cuchar cwchar cwctype"""
)


def _c_family(text: str) -> Iterator[str]:
    for m in _C.finditer(_scrub(_C_SCRUB, text)):
        if m["module"]:
            yield m["module"]
            continue
        first = m["header"].strip().split("/")[0]
        if first in _C_SYSTEM_HEADERS or first.lower() in _C_SYSTEM_HEADERS:
            continue
        name = first.removesuffix(".h").removesuffix(".m")
        if name not in ("", ".", ".."):
            yield name


# --- C# ---------------------------------------------------------------------------------------
_CSHARP = re.compile(
    r"^[ \t]*(?:global[ \t]+)?using[ \t]+(?:static[ \t]+)?(?:\w+[ \t]*=[ \t]*)?([\w.]+)[ \t]*;",
    re.M,
)
_CSHARP_NOISE = _words("system microsoft")


def _csharp(text: str) -> Iterator[str]:
    for m in _CSHARP.finditer(_scrub(_C_SCRUB, text)):
        name = m[1].split(".")[0]
        if name and name.lower() not in _CSHARP_NOISE:
            yield name


# --- Ruby -------------------------------------------------------------------------------------
_RUBY = re.compile(r"^[ \t]*(?:require|gem)[ \t(]+(['\"])([^'\"\n]+)\1", re.M)
_RUBY_STDLIB = _words(
    """abbrev base64 benchmark bigdecimal bundler cgi continuation coverage csv date delegate
    digest drb English enumerator erb etc expect fcntl fiber fiddle fileutils find forwardable
    getoptlong io ipaddr irb json logger matrix monitor mutex_m net nkf objspace observer
    open-uri open3 openssl optparse ostruct pathname pp prettyprint prime pstore psych pty racc
    rbconfig rdoc readline reline resolv rinda ripper rubygems securerandom set shellwords
    singleton socket stringio strscan syslog tempfile thread time timeout tmpdir tsort un uri
    weakref win32ole yaml zlib"""
)


def _ruby(text: str) -> Iterator[str]:
    for m in _RUBY.finditer(_scrub(_HASH_SCRUB, text)):
        spec = m[2].strip()
        name = spec.split("/")[0]
        if name and not spec.startswith((".", "/", "~")) and name not in _RUBY_STDLIB:
            yield name


# --- PHP --------------------------------------------------------------------------------------
_PHP = re.compile(r"^[ \t]*use[ \t]+([^;\n]+);", re.M)
_PHP_KIND = re.compile(r"^(?:function|const)\s+")


def _php(text: str) -> Iterator[str]:
    for m in _PHP.finditer(_scrub(_PHP_SCRUB, text)):
        for clause in m[1].split("{")[0].split(","):
            words = _PHP_KIND.sub("", clause.strip()).lstrip("\\").split()
            name = words[0].split("\\")[0] if words else ""
            # wakatime-cli's (?i)(^app|app\.php)$: Laravel's App namespace is the project itself.
            if name and name.lower() != "app" and not name.startswith("$"):
                yield name


# --- Swift ------------------------------------------------------------------------------------
_SWIFT = re.compile(
    r"^[ \t]*(?:@\w+(?:\([^)\n]*\))?[ \t]+)*import[ \t]+"
    r"(?:(?:typealias|struct|class|enum|protocol|let|var|func)[ \t]+)?(\w+)",
    re.M,
)
_SWIFT_NOISE = _words("foundation swift")


def _swift(text: str) -> Iterator[str]:
    for m in _SWIFT.finditer(_scrub(_C_SCRUB, text)):
        if m[1].lower() not in _SWIFT_NOISE:
            yield m[1]


# Keys: WakaTime's canonical language names (pkg/heartbeat/language.go), case-folded.
_PARSERS: dict[str, Parser] = {
    "python": _python,
    "go": _go,
    "golang": _go,
    "javascript": _javascript,
    "typescript": _javascript,
    "jsx": _javascript,
    "tsx": _javascript,
    "vue.js": _javascript,
    "svelte": _javascript,
    "rust": _rust,
    "java": _java,
    "kotlin": _kotlin,
    "c": _c_family,
    "c++": _c_family,
    "cuda": _c_family,
    "arduino": _c_family,
    "objective-c": _c_family,
    "objective-c++": _c_family,
    "c#": _csharp,
    "ruby": _ruby,
    "php": _php,
    "swift": _swift,
}

_UNPRINTABLE = re.compile(r"[\s\x00-\x1f\x7f]")


def has_parser(language: str | None) -> bool:
    """Whether `parse_dependencies` reads anything from a file of `language`: decoding a
    Markdown or JSON file for it would be work for nothing."""
    return language is not None and language.casefold() in _PARSERS


def parse_dependencies(
    language: str | None, text: str, *, max_deps: int = 1000, max_len: int = 200
) -> tuple[str, ...]:
    """The dependencies ``text`` imports, for a file of WakaTime language ``language``."""
    parser = _PARSERS.get(language.casefold()) if language else None
    if parser is None:
        return ()
    seen: dict[str, None] = {}
    for name in parser(text[:MAX_TEXT_CHARS]):
        if len(seen) >= max_deps:
            break
        if len(name) <= max_len and not _UNPRINTABLE.search(name):
            seen.setdefault(name)
    return tuple(seen)
