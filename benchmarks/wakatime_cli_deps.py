"""What wakatime-cli's own tests expect of its dependency parsers, file by file.

Facts read from wakatime-cli's pkg/deps/*_test.go (commit bad54b4, 2024-03-19): for each of its
51 files in pkg/deps/testdata, the language the test gives and the list its assertions expect,
after deps.Detect's filter (duplicates and empty names out). The files themselves are not copied
here: `benchmarks/detection.py --wakatime-cli DIR` reads them from a clone.
A list of None means "1000 names" (TestDetect_MaxDependenciesCountReached asserts only the
length). Where two tests read one file with two languages (bower.json), both are listed.
"""

from __future__ import annotations

# es6.js and typescript.ts hold the same imports, one with semicolons, one without.
_ES6 = ("bravo", "foxtrot", "india", "kilo", "november", "oscar", "quebec", "tango", "uniform")
_ES6 += ("victor", "whiskey")

EXPECTED: tuple[tuple[str, str | None, tuple[str, ...] | None], ...] = (
    ("Gruntfile", None, ("grunt",)),
    (
        "bower.json",
        "JSON",
        (
            "bower",
            "animate.css",
            "bootstrap",
            "bootstrap-daterangepicker",
            "moment",
            "moment-timezone",
        ),
    ),
    ("bower.json", "Markdown", ("bower",)),  # the file-name parser, any other language
    ("bower_empty_dependency.json", "JSON", ("bootstrap",)),
    ("bower_minimal.json", "JSON", ("bootstrap",)),
    ("c.c", "C", ("math", "openssl")),
    ("c_minimal.c", "C", ("openssl",)),
    ("component.json", "JSON", ("bower", "component/emitter", "component/jquery")),
    ("cpp.cpp", "C++", ("openssl", "wakatime")),
    ("cpp_minimal.cpp", "C++", ("wakatime",)),
    ("csharp.cs", "C#", ("WakaTime", "Math", "Fart", "Proper")),
    ("csharp_minimal.cs", "C#", ("WakaTime",)),
    ("elm.elm", "Elm", ("Color", "Dict", "TempFontAwesome", "Html", "Markdown", "String")),
    ("elm_minimal.elm", "Elm", ("Html",)),
    (
        "es6.js",
        "JavaScript",
        _ES6,
    ),
    ("es6_minimal.js", "JavaScript", ("bravo",)),
    (
        "golang.go",
        "Go",
        (
            "compress/gzip",
            "github.com/golang/example/stringutil",
            "log",
            "os",
            "oldname",
            "direct",
            "suppress",
            "foobar",
            "image/gif",
            "math",
        ),
    ),
    ("golang_duplicate.go", "Go", ("os",)),
    ("golang_minimal.go", "Go", ("os", "github.com/wakatime/wakatime-cli/pkg/heartbeat")),
    ("haskell.hs", "Haskell", ("Control", "Data", "Network", "System")),
    ("haskell_minimal.hs", "Haskell", ("Control",)),
    ("haxe.hx", "Haxe", ("alpha", "bravo", "Math", "charlie", "delta")),
    ("haxe_minimal.hx", "Haxe", ("alpha",)),
    (
        "html.html",
        "HTML",
        (
            '"wakatime.js"',
            '"../scripts/wakatime.js"',
            '"https://www.wakatime.com/scripts/my.js"',
            '"this is a\n multiline value"',
        ),
    ),
    ("html_django.html", "HTML", ('"libs/json2.js"',)),
    ("html_minimal.html", "HTML", ('"https://cdn.wakatime.com/app.min.js"',)),
    (
        "html_with_php.html",
        "HTML",
        ('"https://maxcdn.bootstrapcdn.com/bootstrap/3.3.5/js/bootstrap.min.js"',),
    ),
    (
        "java.java",
        "Java",
        (
            "googlecode.javacv",
            "colorfulwolf.webcamapplet",
            "foobar",
            "apackage.something",
            "anamespace.other",
        ),
    ),
    ("java_minimal.java", "Java", ("foobar",)),
    ("kotlin.kt", "Kotlin", ("alpha.time", "bravo.charlie", "delta.io", "echo.Foxtrot", "h")),
    ("kotlin_minimal.kt", "Kotlin", ("alpha.time",)),
    (
        "objective_c.m",
        "Objective-C",
        ("SomeViewController", "OtherViewController", "UIKit", "PromiseKit"),
    ),
    ("objective_c_minimal.m", "Objective-C", ("Foundation",)),
    (
        "package.json",
        "JSON",
        ("npm", "wakatime", "another_dep", "test_framework", "another_dev_dep"),
    ),
    (
        "php.php",
        "PHP",
        (
            "Interop",
            "'ServiceLocator.php'",
            "'ServiceLocatorTwo.php'",
            "FooBarOne",
            "FooBarTwo",
            "ArrayObject",
            "FooBarThree",
            "FooBarFour",
            "FooBarSeven",
            "FooBarEight",
        ),
    ),
    ("php_minimal.php", "PHP", ("Interop", "FooBarOne")),
    (
        "python.py",
        "Python",
        (
            "first",
            "second",
            "django",
            "app",
            "flask",
            "simplejson",
            "jinja",
            "pygments",
            "sqlalchemy",
            "mock",
            "unittest",
        ),
    ),
    ("python_minimal.py", "Python", ("flask", "simplejson")),
    ("python_with_long_import.py", "Python", ("django", "flask", "notlongenough" * 15 + "notlo")),
    ("python_with_many_imports.py", "Python", None),
    ("react.jsx", "JSX", ("react", "react-dom")),
    ("react.tsx", "TSX", ("head", "react", "contants", "Footer", "Nav")),
    ("rust.rs", "Rust", ("proc_macro", "phrases", "syn", "quote")),
    ("rust_minimal.rs", "Rust", ("syn",)),
    (
        "scala.scala",
        "Scala",
        (
            "com.alpha.SomeClass",
            "com.bravo.something",
            "com.charlie",
            "golf",
            "com.hotel.india",
            "juliett.kilo",
        ),
    ),
    ("scala_minimal.scala", "Scala", ("com.alpha.SomeClass",)),
    ("swift.swift", "Swift", ("UIKit", "PromiseKit")),
    ("swift_minimal.swift", "Swift", ("Swift",)),
    (
        "typescript.ts",
        "TypeScript",
        _ES6,
    ),
    ("typescript_minimal.ts", "TypeScript", ("bravo",)),
    ("vbnet.vb", "VB.NET", ("WakaTime", "Math", "Proper")),
    ("vbnet_minimal.vb", "VB.NET", ("WakaTime",)),
)
