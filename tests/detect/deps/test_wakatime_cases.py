"""The cases of wakatime-cli's pkg/deps tests, one table per language, with inputs written here
(its testdata files are not copied): each input exercises what the matching wakatime-cli test
file exercises, and the expected list follows the rule its assertion shows."""

from __future__ import annotations

import pytest

from hackatimed.detect.deps import parse_dependencies

Case = tuple[str, str, tuple[str, ...]]

PYTHON: list[Case] = [
    (
        "every import form",
        "from __future__ import annotations\nimport os, sys\nimport alpha, beta\n"
        "import gamma.delta.epsilon\nfrom project import *\nfrom zeta import a, b\n"
        "import eta as e\nfrom . import near\nfrom .sibling import x\nfrom ..parent import y\n"
        "from theta.lexers import Z\nfrom iota import (\n    a as b,\n    c as d,\n)\n"
        "try:\n    from kappa import K\nexcept ImportError:\n    from unittest.mock import K\n",
        ("alpha", "beta", "gamma", "project", "zeta", "eta", "theta", "iota", "kappa", "unittest"),
    ),
    ("the standard library is sent", "import json\nimport logging.handlers\n", ("json", "logging")),
    ("only the name before `as`", "import lam as l, mu\n", ("lam",)),
    ("docstrings and comments", '"""\nimport fake\n"""\n# import no\nimport yes\n', ("yes",)),
]

GO: list[Case] = [
    (
        "every import form",
        'package main\nimport "fmt"\nimport "archive/zip"\nimport "github.com/a/b/c"\n'
        'import (\n\t"log"\n\t"os"\n)\nimport renamed "original"\nimport . "dotted"\n'
        'import _ "blank"\nimport (\n\t"bare"\n\t_ "image/png"\n\t. "math/rand"\n)\n',
        (
            "archive/zip",
            "github.com/a/b/c",
            "log",
            "os",
            "original",
            "dotted",
            "blank",
            "bare",
            "image/png",
            "math/rand",
        ),
    ),
    ("duplicates once", 'import (\n\t"fmt"\n\t"os"\n\t"os"\n)\n', ("os",)),
]

JAVASCRIPT: list[Case] = [
    (
        "every import form",
        "import A from './alpha';\nimport { b, c } from '../../dir/bravo';\n"
        "import d from './dir/charlie.js';\nimport e from 'delta';\n"
        "import {\n  f,\n  g,\n} from './echo';\nimport * from '/abs/foxtrot';\n"
        "import * as h from 'golf';\nimport {i as j} from from 'hotel.jsx';\n"
        "import 'india.js';\nimport k, * as l from '/abs/juliett.js';\n"
        "import m, {n, o} from 'kilo';\nconst x = require('not-sent');\n"
        "export { y } from 'not-either';\n",
        (
            "alpha",
            "bravo",
            "charlie",
            "delta",
            "echo",
            "foxtrot",
            "golf",
            "hotel",
            "india",
            "juliett",
            "kilo",
        ),
    ),
    ("no semicolons", "import A from './alpha'\nimport 'bravo.ts'\n", ("alpha", "bravo")),
    ("last path segment", "import Head from 'next/head';\nimport x from '~/a/b';\n", ("head", "b")),
]

C_FAMILY: list[tuple[str, str, str, tuple[str, ...]]] = [
    (
        "C",
        "stdio and friends out, math in",
        "#include <stdio.h>\n#include <math.h>\n#include <openssl/rand.h>\n",
        ("math", "openssl"),
    ),
    ("C", "no #import in C", '#import "x.h"\n#include "y.h"\n', ("y",)),
    (
        "C++",
        "iostream out",
        '#include <iostream>\n#include <boost/x.h>\n#include "mine.h"\n',
        ("boost", "mine"),
    ),
    (
        "Objective-C",
        "#import only, quotes of all kinds",
        "#import \"FirstController.h\"\n#import 'SecondController.h'\n#import <Kit.h>\n"
        "#import <Promises/Promise.h>\n#include <no.h>\n",
        ("FirstController", "SecondController", "Kit", "Promises"),
    ),
    ("Objective-C", "Foundation is sent", "#import <Foundation/Foundation.h>\n", ("Foundation",)),
    (
        "C#",
        "first segment, System and Microsoft out",
        "using System;\nusing System.IO;\nusing Microsoft.Win32;\nusing Waka.Forms;\n"
        "using static Maths.Foo;\nusing Task = Tasks.Threading.Task;\n",
        ("Waka", "Maths", "Tasks"),
    ),
    (
        "VB.NET",
        "first segment, aliases",
        "Imports System\nImports System.Net\nImports Microsoft.Win32\nImports Waka.Forms\n"
        "Imports m = Maths.Foo\n' Imports Commented\n",
        ("Waka", "Maths"),
    ),
    (
        "Java",
        "domains dropped, two segments",
        "import java.io.*;\nimport static java.lang.Math.*;\n"
        "import static com.alpha.bravo.charlie.delta;\nimport javax.servlet.*;\n"
        "import org.echo.foxtrot.gui.Panel;\nimport com.golf.*;\n"
        "import package com.hotel.india;\nimport namespace net.juliett.kilo;\n",
        ("alpha.bravo", "echo.foxtrot", "golf", "hotel.india", "juliett.kilo"),
    ),
    (
        "Kotlin",
        "two segments, java. out",
        "package x\nimport java.io.*\nimport alpha.time.Clock\nimport bravo.charlie.d.E\n"
        "import delta.io.*\nimport echo.Foxtrot as Golf\nimport h\nimport kotlin.math.abs\n",
        ("alpha.time", "bravo.charlie", "delta.io", "echo.Foxtrot", "h", "kotlin.math"),
    ),
    (
        "Scala",
        "selectors and wildcards trimmed",
        "package p\nimport com.alpha.Some\nimport com.bravo.x.{A, B}\nimport com.charlie.{D => E}\n"
        "import __root__.golf._\nimport com.hotel.india._\nimport juliett.kilo\n",
        ("com.alpha.Some", "com.bravo.x", "com.charlie", "golf", "com.hotel.india", "juliett.kilo"),
    ),
    (
        "Swift",
        "Foundation out, Swift in",
        "import Foundation\nimport Swift\nimport UIKit\nimport struct Kit.Color\n",
        ("Swift", "UIKit"),
    ),
    (
        "Haxe",
        "first segment, haxe out",
        "import alpha.ds.Map;\nimport bravo.macro.*;\nimport Math.random;\n"
        "import charlie.fromCharCode in f;\nimport haxe.ds.StringMap;\n",
        ("alpha", "bravo", "Math", "charlie"),
    ),
    (
        "Rust",
        "extern crates; an alias is no crate",
        "extern crate proc_macro;\nextern crate phrases as sayings;\n#[macro_use]\n"
        'extern crate quote;\nuse sayings::japanese;\nextern "C" { fn f(); }\n',
        ("proc_macro", "phrases", "quote"),
    ),
    (
        "PHP",
        "use clauses and include paths",
        "<?php\nnamespace My\\Space;\nuse Interop\\Container\\C;\nrequire_once $x . '.php';\n"
        "require 'Locator.php';\nrequire \"LocatorTwo.php\";\nuse One\\Name as Other;\n"
        "use ArrayObject;\nuse function Three\\f;\nuse function Four\\g as h;\n"
        "use const Six\\C;\nuse Seven\\A as B, Eight\\C;\nuse App\\Models\\User;\n",
        (
            "Interop",
            "'Locator.php'",
            "'LocatorTwo.php'",
            "One",
            "ArrayObject",
            "Three",
            "Four",
            "Seven",
            "Eight",
        ),
    ),
    (
        "Elm",
        "first segment, duplicates once",
        "module Main exposing (..)\nimport Color exposing (Color)\nimport Dict\n"
        "import FontAwesome as FA\nimport Html exposing (..)\nimport Html.Attributes\n"
        "-- import Commented\n",
        ("Color", "Dict", "FontAwesome", "Html"),
    ),
    (
        "Haskell",
        "qualified too, first segment",
        "{-# LANGUAGE OverloadedStrings #-}\nmodule M where\nimport Control.Monad (forM)\n"
        "import qualified Data.Map as M\nimport qualified Network.Socket as S\n"
        "{- import Hidden -}\n",
        ("Control", "Data", "Network"),
    ),
    (
        "HTML",
        "script sources as written, quotes and all",
        '<html><head><script src="app.js"></script></head>\n<body>\n'
        '<script src="../lib/x.js"></script>\n<script src="https://cdn.example/y.js"></script>\n'
        '<!-- <script src="commented.js"></script> -->\n<img src="not-a-script.png">\n'
        '<script src="two\n lines"></script>\n',
        ('"app.js"', '"../lib/x.js"', '"https://cdn.example/y.js"', '"two\n lines"'),
    ),
    (
        "HTML",
        "template placeholders cut",
        '{% block js %}<script src="{{ STATIC_URL }}libs/z.js"></script>{% endblock %}\n'
        '<missingquote class="x>{{y}}</p>\n<>\n<danglingattr="q">\n',
        ('"libs/z.js"',),
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), PYTHON, ids=[c[0] for c in PYTHON])
def test_python(name: str, text: str, expected: tuple[str, ...]) -> None:
    assert parse_dependencies("Python", text) == expected


@pytest.mark.parametrize(("name", "text", "expected"), GO, ids=[c[0] for c in GO])
def test_go(name: str, text: str, expected: tuple[str, ...]) -> None:
    assert parse_dependencies("Go", text) == expected


@pytest.mark.parametrize("language", ["JavaScript", "TypeScript", "JSX", "TSX"])
@pytest.mark.parametrize(("name", "text", "expected"), JAVASCRIPT, ids=[c[0] for c in JAVASCRIPT])
def test_javascript(language: str, name: str, text: str, expected: tuple[str, ...]) -> None:
    assert parse_dependencies(language, text) == expected


@pytest.mark.parametrize(
    ("language", "name", "text", "expected"), C_FAMILY, ids=[f"{c[0]}: {c[1]}" for c in C_FAMILY]
)
def test_other_languages(language: str, name: str, text: str, expected: tuple[str, ...]) -> None:
    assert parse_dependencies(language, text) == expected


MANIFEST = (
    '{\n  "name": "x",\n  "dependencies": {\n    "left-pad": "^1.0.0",\n'
    '    "@scope/pkg": "~2",\n    "": "latest"\n  },\n  "scripts": {"build": "tsc"},\n'
    '  "devDependencies" : {\n    "tester": "^3"\n  }\n}\n'
)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("package.json", ("npm", "left-pad", "@scope/pkg", "tester")),
        ("bower.json", ("bower", "left-pad", "@scope/pkg", "tester")),
        ("component.json", ("bower", "left-pad", "@scope/pkg", "tester")),
        ("other.json", ("left-pad", "@scope/pkg", "tester")),
    ],
)
def test_json_manifests(filename: str, expected: tuple[str, ...]) -> None:
    assert parse_dependencies("JSON", MANIFEST, filename=filename) == expected


@pytest.mark.parametrize(
    ("language", "filename", "expected"),
    [
        (None, "Gruntfile", ("grunt",)),
        ("Markdown", "bower.json", ("bower",)),
        ("Text", "my-Gruntfile-notes.txt", ("grunt",)),
        ("Markdown", "README.md", ()),
        (None, "", ()),
    ],
)
def test_the_file_name_rule_for_every_other_language(
    language: str | None, filename: str, expected: tuple[str, ...]
) -> None:
    assert parse_dependencies(language, "import os\n", filename=filename) == expected
