"""Language detection: the name table, the C family's neighbour rules, shebangs, overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from hackatimed.detect import languages_data as data
from hackatimed.detect.language import (
    LanguageDetector,
    LanguageGuess,
    canonical_name,
    shebang_interpreter,
)

# From wakatime-cli's own test table (pkg/language/language_test.go) and special cases.
WAKATIME_CLI_CASES: tuple[tuple[str, str | None], ...] = (
    (".htaccess", "Apache Config"),
    ("apache.conf", "Apache Config"),
    ("apache2.conf", "Apache Config"),
    ("file.applescript", "AppleScript"),
    ("file.s", "Assembly"),
    ("file.awk", "Awk"),
    ("file.sh", "Bash"),
    ("file.ksh", "Bash"),
    ("file.bash", "Bash"),
    ("file.ebuild", "Bash"),
    ("file.eclass", "Bash"),
    ("file.exheres-0", "Bash"),
    ("file.exlib", "Bash"),
    ("file.zsh", "Bash"),
    (".bashrc", "Bash"),
    ("bashrc", "Bash"),
    (".bash_history", "Bash"),
    (".bash_xxx", "Bash"),
    ("bash_history", "Bash"),
    ("bash_xxx", "Bash"),
    ("zshrc", "Bash"),
    (".zshrc", "Bash"),
    ("PKGBUILD", "Bash"),
    ("file.c", "C"),
    ("file.cpp", "C++"),
    ("file.cxx", "C++"),
    ("file.cs", "C#"),
    ("file.clj", "Clojure"),
    ("file.cmake", "CMake"),
    ("CMakeLists.txt", "CMake"),
    ("file.coffee", "CoffeeScript"),
    ("file.cfm", "ColdFusion"),
    ("file.cfml", "ColdFusion"),
    ("file.cl", "Common Lisp"),
    ("file.lisp", "Common Lisp"),
    ("crontab", "Crontab"),
    ("file.cr", "Crystal"),
    ("file.css", "CSS"),
    ("file.dart", "Dart"),
    ("file.pas", "Delphi"),
    ("file.dpr", "Delphi"),
    ("Dockerfile", "Docker"),
    ("file.docker", "Docker"),
    ("file.ex", "Elixir"),
    ("file.eex", "Elixir"),
    ("file.exs", "Elixir"),
    ("file.elm", "Elm"),
    ("file.el", "Emacs Lisp"),
    ("file.erl", "Erlang"),
    ("file.hrl", "Erlang"),
    ("file.es", "Erlang"),
    ("file.escript", "Erlang"),
    ("fsharp.fsi", "F#"),
    ("file.f03", "Fortran"),
    ("file.f90", "Fortran"),
    ("file.F03", "Fortran"),
    ("file.F90", "Fortran"),
    ("go.go", "Go"),
    ("file.gs", "Gosu"),
    ("file.gsp", "Gosu"),
    ("file.gsx", "Gosu"),
    ("file.vark", "Gosu"),
    ("file.groovy", "Groovy"),
    ("file.gradle", "Groovy"),
    ("haskell.hs", "Haskell"),
    ("haxe.hx", "Haxe"),
    ("haxe.hxsl", "Haxe"),
    ("html.html", "HTML"),
    ("html.htm", "HTML"),
    ("html.xhtml", "HTML"),
    ("file.ini", "INI"),
    ("file.inf", "INI"),
    ("file.cfg", "INI"),
    ("java.java", "Java"),
    ("es6.js", "JavaScript"),
    ("file.jsm", "JavaScript"),
    ("javascript_module.mjs", "JavaScript"),
    ("bower.json", "JSON"),
    ("file.jsx", "JSX"),
    ("kotlin.kt", "Kotlin"),
    ("file.lasso", "Lasso"),
    ("file.lasso9", "Lasso"),
    ("file.lasso8", "Lasso"),
    ("file.tex", "TeX"),
    ("file.aux", "TeX"),
    ("file.toc", "TeX"),
    ("file.less", "LESS"),
    ("file.liquid", "Liquid"),
    ("file.lua", "Lua"),
    ("file.wlua", "Lua"),
    ("file.mao", "Mako"),
    ("file.md", "Markdown"),
    ("file.markdown", "Markdown"),
    ("file.marko", "Marko"),
    ("file.mo", "Modelica"),
    ("modula2.mod", "Modula-2"),
    ("modula2.def", "Modula-2"),
    ("file.mustache", "Mustache"),
    ("file.lsp", "newLisp"),
    ("file.nl", "newLisp"),
    ("file.kif", "newLisp"),
    ("file.nix", "Nix"),
    ("file.j", "Objective-J"),
    ("file.ml", "OCaml"),
    ("file.mli", "OCaml"),
    ("file.mll", "OCaml"),
    ("file.mly", "OCaml"),
    ("file.pwn", "Pawn"),
    ("perl.pl", "Perl"),
    ("file.php", "PHP"),
    ("file.php3", "PHP"),
    ("file.php4", "PHP"),
    ("file.php5", "PHP"),
    ("file.ps", "PostScript"),
    ("file.eps", "PostScript"),
    ("file.pov", "POVRay"),
    ("file.ps1", "PowerShell"),
    ("file.psm1", "PowerShell"),
    ("file.ecl", "Prolog"),
    ("file.prolog", "Prolog"),
    ("file.pro", "Prolog"),
    ("file.proto", "Protocol Buffer"),
    ("file.pug", "Pug"),
    ("file.jade", "Pug"),
    ("file.pp", "Puppet"),
    ("file.py", "Python"),
    ("file.pyw", "Python"),
    ("file.jy", "Python"),
    ("file.sage", "Python"),
    ("SConstruct", "Python"),
    ("SConscript", "Python"),
    ("file.bzl", "Python"),
    ("BUCK", "Python"),
    ("BUILD", "Python"),
    ("BUILD.bazel", "Python"),
    ("WORKSPACE", "Python"),
    ("file.tac", "Python"),
    ("file.qml", "QML"),
    ("file.qbs", "QML"),
    ("file.re", "Reason"),
    ("file.rei", "Reason"),
    ("file.rst", "reStructuredText"),
    ("file.rest", "reStructuredText"),
    ("file.spec", "RPMSpec"),
    ("file.rb", "Ruby"),
    ("file.rbw", "Ruby"),
    ("Rakefile", "Ruby"),
    ("file.rake", "Ruby"),
    ("file.gemspec", "Ruby"),
    ("file.rbx", "Ruby"),
    ("file.duby", "Ruby"),
    ("Gemfile", "Ruby"),
    (".ruby-version", "Ruby"),
    ("file.rs", "Rust"),
    ("file.rs.in", "Rust"),
    ("file.r", "S"),
    ("file.R", "S"),
    (".Rhistory", "S"),
    (".Rprofile", "S"),
    (".Renviron", "S"),
    ("file.sass", "Sass"),
    ("file.scala", "Scala"),
    ("file.scm", "Scheme"),
    ("file.ss", "Scheme"),
    ("file.scss", "SCSS"),
    ("file.sketch", "Sketch Drawing"),
    ("file.slim", "Slim"),
    ("file.smali", "Smali"),
    ("file.st", "Smalltalk"),
    ("file.sp", "SourcePawn"),
    ("file.sql", "SQL"),
    ("file.sublime-settings", "Sublime Text Config"),
    ("file.svelte", "Svelte"),
    ("file.swift", "Swift"),
    ("file.swg", "SWIG"),
    ("file.i", "SWIG"),
    ("file.sv", "SystemVerilog"),
    ("file.svh", "SystemVerilog"),
    ("file.txt", "Text"),
    ("file.thrift", "Thrift"),
    ("file.toml", "TOML"),
    ("Pipfile", "TOML"),
    ("poetry.lock", "TOML"),
    ("file.twig", "Twig"),
    ("typescript.ts", "TypeScript"),
    ("file.tsx", "TypeScript"),
    ("file.vb", "VB.NET"),
    ("file.vcl", "VCL"),
    ("file.vm", "Velocity"),
    ("file.fhtml", "Velocity"),
    ("file.vim", "VimL"),
    (".vimrc", "VimL"),
    (".exrc", "VimL"),
    (".gvimrc", "VimL"),
    ("_vimrc", "VimL"),
    ("_exrc", "VimL"),
    ("_gvimrc", "VimL"),
    ("vimrc", "VimL"),
    ("gvimrc", "VimL"),
    ("file.vue", "Vue.js"),
    ("file.xaml", "XAML"),
    ("file.xml", "XML"),
    ("file.rss", "XML"),
    ("file.xsd", "XML"),
    ("file.wsdl", "XML"),
    ("file.wsf", "XML"),
    ("file.xpl", "XSLT"),
    ("file.yaml", "YAML"),
    ("file.yml", "YAML"),
    ("file.zig", "Zig"),
    ("FILE.GO", "Go"),
    ("fsharp.fs", "F#"),
    ("go.mod", "Go"),
)

# Common files beyond that table: names, extensions, case, and files that stay unknown.
MORE_CASES: tuple[tuple[str, str | None], ...] = (
    ("Containerfile", "Docker"),
    ("Dockerfile.prod", "Docker"),
    ("app.dockerfile", "Docker"),
    ("Makefile", "Makefile"),
    ("makefile", "Makefile"),
    ("GNUmakefile", "Makefile"),
    ("BSDmakefile", "Makefile"),
    ("Makefile.am", "Makefile"),
    ("rules.mk", "Makefile"),
    ("build.mak", "Makefile"),
    ("go.sum", "Go"),
    ("go.work", "Go"),
    ("Cargo.toml", "TOML"),
    ("Cargo.lock", "TOML"),
    ("pyproject.toml", "TOML"),
    ("package.json", "JSON"),
    ("tsconfig.json", "JSON"),
    ("package-lock.json", "JSON"),
    ("Pipfile.lock", "JSON"),
    ("composer.lock", "JSON"),
    ("requirements.txt", "Text"),
    ("requirements-dev.txt", "Text"),
    (".gitignore", "Ignore List"),
    (".dockerignore", "Ignore List"),
    (".npmignore", "Ignore List"),
    (".gitattributes", "Git Attributes"),
    (".gitconfig", "Git Config"),
    (".gitmodules", "Git Config"),
    (".editorconfig", "EditorConfig"),
    (".profile", "Bash"),
    (".bash_profile", "Bash"),
    (".zprofile", "Bash"),
    (".zshenv", "Bash"),
    (".kshrc", "Bash"),
    ("Podfile", "Ruby"),
    ("Vagrantfile", "Ruby"),
    ("Jenkinsfile", "Groovy"),
    ("Procfile", "Text"),
    ("Gemfile.lock", "Gemfile.lock"),
    ("config.ru", "Ruby"),
    ("meson.build", "Meson"),
    ("nginx.conf", "Nginx configuration file"),
    ("lighttpd.conf", "Lighttpd configuration file"),
    ("sources.list", "Debian Sourcelist"),
    ("xorg.conf", "Xorg"),
    ("todo.txt", "Todotxt"),
    ("Kconfig", "Kconfig"),
    ("Kconfig.debug", "Kconfig"),
    ("FooSpec.hs", "Hspec"),
    ("Main.lhs", "Literate Haskell"),
    ("index.ts", "TypeScript"),
    ("module.mts", "TypeScript"),
    ("module.cts", "TypeScript"),
    ("index.cjs", "JavaScript"),
    ("notebook.ipynb", "Jupyter Notebook"),
    ("settings.jsonc", "JSON with Comments"),
    ("data.json5", "JSON5"),
    ("page.mdx", "MDX"),
    ("page.astro", "Astro"),
    ("views.cshtml", "Razor"),
    ("comp.razor", "Razor"),
    ("main.tf", "Terraform"),
    ("vars.tfvars", "Terraform"),
    ("conf.hcl", "HCL"),
    ("lib.rs", "Rust"),
    ("main.go", "Go"),
    ("main.kts", "Kotlin"),
    ("build.gradle.kts", "Kotlin"),
    ("App.java", "Java"),
    ("Main.scala", "Scala"),
    ("Prog.fsx", "F#"),
    ("Program.vb", "VB.NET"),
    ("app.swift", "Swift"),
    ("header.hpp", "C++"),
    ("header.hh", "C++"),
    ("header.hxx", "C++"),
    ("source.cc", "C++"),
    ("source.c++", "C++"),
    ("legacy.C", "C++"),
    ("legacy.H", "C++"),
    ("start.S", "Assembly"),
    ("boot.asm", "NASM"),
    ("boot.nasm", "NASM"),
    ("kernel.cu", "Cuda"),
    ("shader.hlsl", "HLSL"),
    ("shader.wgsl", "WebGPU Shading Language"),
    ("shader.glsl", "GLSL"),
    ("mod.pyi", "Python"),
    ("ext.pyx", "Cython"),
    ("ext.pxd", "Cython"),
    ("script.jl", "Julia"),
    ("script.lua", "Lua"),
    ("game.gd", "GDScript"),
    ("module.ex", "Elixir"),
    ("server.erl", "Erlang"),
    ("main.nim", "Nimrod"),
    ("main.cr", "Crystal"),
    ("main.d", "D"),
    ("main.zig", "Zig"),
    ("main.odin", "Odin"),
    ("doc.typ", "Typst"),
    ("page.vue", "Vue.js"),
    ("Comp.svelte", "Svelte"),
    ("view.templ", "Templ"),
    ("main.gleam", "Gleam"),
    ("schema.graphql", "GraphQL"),
    ("query.gql", "GraphQL"),
    ("token.sol", "Solidity"),
    ("deploy.ps1", "PowerShell"),
    ("module.psd1", "PowerShell"),
    ("run.bat", "Batchfile"),
    ("run.cmd", "Batchfile"),
    ("config.fish", "Fish"),
    ("login.csh", "Tcsh"),
    ("table.csv", "CSV"),
    ("table.tsv", "TSV"),
    ("image.svg", "SVG"),
    ("Info.plist", "XML Property List"),
    ("app.desktop", "Desktop file"),
    ("unit.service", "systemd"),
    ("app.properties", "Java Properties"),
    ("messages.po", "Gettext Catalog"),
    ("change.diff", "Diff"),
    ("change.patch", "Diff"),
    ("notes.org", "Org"),
    ("guide.adoc", "AsciiDoc"),
    ("refs.bib", "BibTeX"),
    ("style.sty", "TeX"),
    ("model.scad", "OpenSCAD"),
    ("rtl.vhd", "VHDL"),
    ("rtl.v", "Verilog"),
    ("page.haml", "Haml"),
    ("tpl.hbs", "Handlebars"),
    ("tpl.handlebars", "Handlebars"),
    ("tpl.j2", "Django/Jinja"),
    ("tpl.ejs", "EJS"),
    ("tpl.erb", "ERB"),
    ("style.styl", "Stylus"),
    ("mod.wat", "WebAssembly"),
    ("ir.ll", "LLVM"),
    ("prog.cob", "COBOL"),
    ("prog.adb", "Ada"),
    ("prog.ads", "Ada"),
    ("prog.tcl", "Tcl"),
    ("prog.vala", "Vala"),
    ("proof.agda", "Agda"),
    ("proof.lean", "Lean4"),
    ("theory.thy", "Isabelle"),
    ("prog.sml", "Standard ML"),
    ("app.cljs", "ClojureScript"),
    ("app.cljc", "Clojure"),
    ("conf.edn", "Clojure"),
    ("app.rkt", "Racket"),
    ("init.fnl", "Fennel"),
    ("app.hy", "Hy"),
    ("query.sql", "SQL"),
    ("build.ninja", None),
    ("schema.prisma", None),
    ("blob.bin", None),
    ("README", None),
    ("LICENSE", None),
    (".env", None),
)


def _touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_text("", encoding="utf-8")


@pytest.mark.parametrize(("name", "expected"), WAKATIME_CLI_CASES + MORE_CASES)
def test_file_name_table(name: str, expected: str | None) -> None:
    # The folder does not exist: the answer comes from the name alone, as for a path in the table.
    guess = LanguageDetector().detect(Path("/nonexistent/path/to") / name)
    assert guess.name == expected, guess.rule


def test_the_table_is_large_enough() -> None:
    assert len(WAKATIME_CLI_CASES) + len(MORE_CASES) >= 300
    assert len(data.EXTENSIONS) >= 500


_TABLES: Mapping[str, Mapping[str, str]] = {
    "FILE_NAMES": data.FILE_NAMES,
    "FILE_NAME_PREFIXES": data.FILE_NAME_PREFIXES,
    "FILE_NAME_SUFFIXES": data.FILE_NAME_SUFFIXES,
    "EXTENSIONS": data.EXTENSIONS,
    "EXTENSIONS_CASED": data.EXTENSIONS_CASED,
    "SHEBANG_INTERPRETERS": data.SHEBANG_INTERPRETERS,
    "LANGUAGE_ALIASES": data.LANGUAGE_ALIASES,
}


@pytest.mark.parametrize("table", sorted(_TABLES))
def test_every_language_in_the_tables_is_a_canonical_name(table: str) -> None:
    strays = {v for v in _TABLES[table].values() if v not in data.CANONICAL_LANGUAGES}
    assert not strays


def test_the_expected_names_in_this_file_are_canonical_too() -> None:
    expected = {e for _, e in WAKATIME_CLI_CASES + MORE_CASES if e is not None}
    assert expected <= data.CANONICAL_LANGUAGES


@pytest.mark.parametrize(
    "name",
    ["C++", "C#", "Objective-C", "Objective-C++", "JSX", "TypeScript", "Vue.js", "Docker",
     "VimL", "Bash", "Go", "Python", "Markdown", "Makefile", "Matlab", "S", "TeX", "Text"],
)  # fmt: skip
def test_wakatime_spellings_are_in_the_canonical_list(name: str) -> None:
    assert name in data.CANONICAL_LANGUAGES


@pytest.mark.parametrize("table", sorted(_TABLES))
def test_tables_are_sorted_so_they_diff_well(table: str) -> None:
    keys = list(_TABLES[table])
    assert keys == sorted(keys, key=lambda k: (k.lower(), k))


def test_extension_keys_are_lower_case_and_the_cased_ones_differ() -> None:
    assert all(k.startswith(".") and k == k.lower() for k in data.EXTENSIONS)
    for ext, language in data.EXTENSIONS_CASED.items():
        assert ext != ext.lower()
        assert data.EXTENSIONS.get(ext.lower()) != language


# --- the C family: neighbours in the same folder, as wakatime-cli reads them ---------------


@pytest.mark.parametrize(
    ("neighbours", "header", "expected", "rule"),
    [
        (["empty.c"], "empty.h", "C", "'.h' beside 'empty.c'"),
        (["other.c", "more.c"], "empty.h", "C", "'.h' beside C files"),
        (["a.c", "b.cpp"], "cpp.h", "C++", "'.h' beside C++ files"),
        (["a.c", "b.cxx"], "cpp.h", "C++", "'.h' beside C++ files"),
        (["b.cc"], "x.h", "C++", "'.h' beside C++ files"),
        (["b.hpp"], "x.h", "C++", "'.h' beside C++ files"),
        (["objective-c.m"], "objective-c.h", "Objective-C", "'.h' beside 'objective-c.m'"),
        (["objcpp.mm"], "objcpp.h", "Objective-C++", "'.h' beside 'objcpp.mm'"),
        (["view.m", "model.m"], "types.h", "Objective-C", "'.h' beside Objective-C files"),
        (["x.cpp", "x.c"], "x.h", "C", "'.h' beside 'x.c'"),
        ([], "lone.h", "C", "extension '.h'"),
    ],
)  # fmt: skip
def test_header_language_follows_its_neighbours(
    tmp_path: Path, neighbours: list[str], header: str, expected: str, rule: str
) -> None:
    _touch(tmp_path, header, *neighbours)
    assert LanguageDetector().detect(tmp_path / header) == LanguageGuess(expected, rule)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"#import <Foundation/Foundation.h>\n@interface Foo : NSObject\n@end\n", "Objective-C"),
        (b"#pragma once\nnamespace geo {\nstruct Point { int x; };\n}\n", "C++"),
        (b"#pragma once\n#include <vector>\n", "C++"),
        (b"#ifndef POINT_H\n#define POINT_H\nstruct point { int x; };\n#endif\n", "C"),
    ],
)
def test_a_header_alone_is_read_for_its_language(
    tmp_path: Path, head: bytes, expected: str
) -> None:
    (tmp_path / "point.h").write_bytes(head)
    assert LanguageDetector().detect(tmp_path / "point.h", head=head).name == expected


@pytest.mark.parametrize(
    ("neighbours", "head", "expected", "rule"),
    [
        (["empty.h"], b"", "Objective-C", "'.m' beside 'empty.h'"),
        (["data.mat", "objective-c.h"], b"", "Matlab", "'.m' beside .mat files"),
        (["other.h"], b"", "Objective-C", "'.m' beside .h files"),
        ([], b"% solve it\nfunction y = f(x)\n  y = x;\nend\n", "Matlab", "'.m' content (MATLAB)"),
        ([], b"#import \"AppDelegate.h\"\n", "Objective-C", "'.m' content (Objective-C)"),
        (["data.mat"], b"@implementation Foo\n@end\n", "Objective-C", "'.m' content (Objective-C)"),
        ([], b"", "Objective-C", "extension '.m'"),
    ],
)  # fmt: skip
def test_dot_m_is_objective_c_or_matlab(
    tmp_path: Path, neighbours: list[str], head: bytes, expected: str, rule: str
) -> None:
    _touch(tmp_path, "empty.m", *neighbours)
    guess = LanguageDetector().detect(tmp_path / "empty.m", head=head or None)
    assert guess == LanguageGuess(expected, rule)


def test_dot_mm_beside_its_header_and_alone(tmp_path: Path) -> None:
    _touch(tmp_path, "view.mm", "view.h", "alone.mm")
    detector = LanguageDetector()
    assert detector.detect(tmp_path / "view.mm") == LanguageGuess(
        "Objective-C++", "'.mm' beside 'view.h'"
    )
    assert detector.detect(tmp_path / "alone.mm").name == "Objective-C++"


def test_other_files_ignore_c_neighbours(tmp_path: Path) -> None:
    _touch(tmp_path, "see.py", "a.c", "b.cpp", "c.h")
    detector = LanguageDetector()
    assert detector.detect(tmp_path / "see.py").name == "Python"
    assert detector.detect(tmp_path / "style.css").name == "CSS"


def test_upper_case_c_extensions_are_cpp_whatever_the_neighbours(tmp_path: Path) -> None:
    _touch(tmp_path, "legacy.H", "legacy.C", "plain.c")
    detector = LanguageDetector()
    assert detector.detect(tmp_path / "legacy.H") == LanguageGuess("C++", "extension '.H'")
    assert detector.detect(tmp_path / "legacy.C").name == "C++"


def test_a_folder_listing_is_cached_and_revalidated_by_its_mtime(tmp_path: Path) -> None:
    _touch(tmp_path, "x.h", "x.cpp")
    detector = LanguageDetector()
    assert detector.detect(tmp_path / "x.h").name == "C++"
    assert detector.detect(tmp_path / "x.h").name == "C++"
    assert detector.cached_folders == 1

    (tmp_path / "x.cpp").unlink()
    _touch(tmp_path, "x.m")
    # Pin a different mtime: a coarse clock must not make this test pass or fail by luck.
    stat = tmp_path.stat()
    os.utime(tmp_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert detector.detect(tmp_path / "x.h").name == "Objective-C"


def test_invalidate_forgets_a_folder(tmp_path: Path) -> None:
    _touch(tmp_path, "x.h")
    detector = LanguageDetector()
    assert detector.detect(tmp_path / "x.h").name == "C"
    mtime = tmp_path.stat().st_mtime_ns
    _touch(tmp_path, "y.cc")
    # Same mtime as before the new file: only invalidate() can reveal it.
    os.utime(tmp_path, ns=(mtime, mtime))
    assert detector.detect(tmp_path / "x.h").name == "C"
    detector.invalidate(tmp_path)
    assert detector.cached_folders == 0
    assert detector.detect(tmp_path / "x.h").name == "C++"
    detector.invalidate()
    assert detector.cached_folders == 0


def test_the_folder_cache_is_bounded(tmp_path: Path) -> None:
    detector = LanguageDetector(folder_cache_size=2)
    for i in range(5):
        folder = tmp_path / f"d{i}"
        folder.mkdir()
        _touch(folder, "x.h")
        detector.detect(folder / "x.h")
    assert detector.cached_folders == 2


def test_a_vanished_folder_falls_back_to_the_extension(tmp_path: Path) -> None:
    detector = LanguageDetector()
    assert detector.detect(tmp_path / "gone" / "x.h") == LanguageGuess("C", "extension '.h'")
    assert detector.detect(tmp_path / "gone" / "x.m").name == "Objective-C"


# --- shebangs, for files whose name says nothing ------------------------------------------


@pytest.mark.parametrize(
    ("first_line", "expected", "interpreter"),
    [
        ("#!/usr/bin/env python3", "Python", "python3"),
        ("#!/usr/bin/python3.11", "Python", "python3.11"),
        ("#!/usr/bin/env python2", "Python 2", "python2"),
        ("#!/bin/bash", "Bash", "bash"),
        ("#!/bin/sh -e", "Bash", "sh"),
        ("#!/bin/zsh", "Bash", "zsh"),
        ("#!/usr/bin/env fish", "Fish", "fish"),
        ("#!/usr/bin/env node", "JavaScript", "node"),
        ("#!/usr/bin/env -S deno run --allow-net", "JavaScript", "deno"),
        ("#!/usr/bin/env ts-node", "TypeScript", "ts-node"),
        ("#!/usr/bin/ruby -w", "Ruby", "ruby"),
        ("#!/usr/bin/perl -w", "Perl", "perl"),
        ("#!/usr/bin/env php", "PHP", "php"),
        ("#!/usr/bin/env lua5.4", "Lua", "lua5.4"),
        ("#!/usr/bin/env -u HOME LANG=C awk -f", "Awk", "awk"),
        ("#!/usr/bin/env Rscript", "S", "rscript"),
        ("#!/usr/bin/tclsh", "Tcl", "tclsh"),
        ("#!/usr/bin/env pwsh", "PowerShell", "pwsh"),
        ("#! /usr/bin/env elixir", "Elixir", "elixir"),
    ],
)
def test_extensionless_scripts_are_known_by_their_shebang(
    tmp_path: Path, first_line: str, expected: str, interpreter: str
) -> None:
    script = tmp_path / "run"
    script.write_text(first_line + "\necho hi\n", encoding="utf-8")
    with script.open("rb") as f:
        head = f.read(512)
    assert shebang_interpreter(head) == interpreter
    guess = LanguageDetector().detect(script, head=head)
    assert guess == LanguageGuess(expected, f"shebang {interpreter!r}")


@pytest.mark.parametrize(
    "head", [None, b"", b"echo no shebang\n", b"#!\n", b"#!/usr/bin/env\n", b"#!/opt/mystery\n"]
)
def test_no_usable_shebang_is_unknown(tmp_path: Path, head: bytes | None) -> None:
    assert LanguageDetector().detect(tmp_path / "run", head=head) == LanguageGuess(None, "unknown")


def test_the_name_wins_over_the_shebang() -> None:
    detector = LanguageDetector()
    head = b"#!/usr/bin/env python3\n"
    assert detector.detect(Path("notes.txt"), head=head).name == "Text"
    assert detector.detect(Path("Makefile"), head=head).name == "Makefile"


# --- overrides from the config's [languages] ---------------------------------------------


def test_overrides_beat_every_other_rule(tmp_path: Path) -> None:
    _touch(tmp_path, "x.h", "x.cpp", "Dockerfile", "run")
    detector = LanguageDetector(
        overrides={".h": "C", "Dockerfile": "Shell", ".py": "Cython", "run": "Lua"}
    )
    assert detector.detect(tmp_path / "x.h") == LanguageGuess("C", "config [languages] '.h'")
    assert detector.detect(tmp_path / "Dockerfile") == LanguageGuess(
        "Shell", "config [languages] 'Dockerfile'"
    )
    assert detector.detect(tmp_path / "a.py").name == "Cython"
    assert detector.detect(tmp_path / "run", head=b"#!/bin/bash\n").name == "Lua"


def test_override_extensions_match_any_case_and_longest_first() -> None:
    detector = LanguageDetector(overrides={".tmpl": "Go Template", ".blade.php": "Blade"})
    assert detector.detect(Path("page.TMPL")) == LanguageGuess(
        "Go Template", "config [languages] '.tmpl'"
    )
    assert detector.detect(Path("view.blade.php")).name == "Blade"
    assert detector.detect(Path("plain.php")).name == "PHP"


def test_override_names_are_spelt_as_wakatime_spells_them() -> None:
    detector = LanguageDetector(
        overrides={".a": "golang", ".b": "c++", ".c2": "objective-c", ".d": "Just", ".e": "vue"}
    )
    names = {ext: detector.detect(Path("f" + ext)).name for ext in (".a", ".b", ".c2", ".d", ".e")}
    assert names == {".a": "Go", ".b": "C++", ".c2": "Objective-C", ".d": "Just", ".e": "Vue.js"}


@pytest.mark.parametrize(
    ("written", "sent"),
    [("python", "Python"), ("C#", "C#"), ("csharp", "C#"), ("js", "JavaScript"),
     ("bash", "Bash"), ("R", "R"), ("  Rust ", "Rust"), ("Brand New Lang", "Brand New Lang")],
)  # fmt: skip
def test_canonical_name(written: str, sent: str) -> None:
    assert canonical_name(written) == sent


def test_unknown_files_leave_the_language_out() -> None:
    detector = LanguageDetector()
    assert detector.detect(Path("data.zzz")) == LanguageGuess(None, "unknown")
    assert detector.detect(Path("/")) == LanguageGuess(None, "unknown")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"// The  -*- C++ -*- vector header.\n", "C++"),
        (b"# -*- mode: python; coding: utf-8 -*-\nimport os\n", "Python"),
        (b"#!/bin/false\n# -*- mode: ruby -*-\n", "Ruby"),
        (b"# -*- shell-script -*-\n", "Bash"),
        (b"# vim: set ft=python :\n", "Python"),
        (b"# vim: filetype=perl\n", "Perl"),
        (b"# -*- fundamental -*-\n", None),  # not a language: no guess
        (b"just text\n\n -*- C++ -*- on line three\n", None),  # only the first two lines count
    ],
)
def test_an_editors_mode_line_names_the_language_of_an_extensionless_file(
    tmp_path: Path, head: bytes, expected: str | None
) -> None:
    guess = LanguageDetector().detect(tmp_path / "vector", head=head)
    assert guess.name == expected
    if expected:
        assert guess.rule.startswith("mode line")
